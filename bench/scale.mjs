#!/usr/bin/env node
// Scaling of `tlsprobe capture` with the number of connections (issue 15): synthetic captures of
// 10k, 100k and 1M short TLS connections (bench/lib/flow-synth.mjs; --quick: 10k and 50k), each
// command line in a fresh process (bench/lib/cli-worker.mjs): the default table view, --json and
// --ndjson; 3 runs per size and view (1 with --quick), interleaved across the sizes, medians. Targets: time linear in connections (CPU time per connection at the largest size at
// most 1.5× the one at the smallest) and peak RSS flat (at most 1.5× the smallest size's), with the
// outcome counts the capture was built with.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { makeFlowCapture } from './lib/flow-synth.mjs';
import { DIST, QUICK, REPO, reporter } from './lib/env.mjs';
import { summarize } from './lib/harness.mjs';

/** Bumped when flow-synth.mjs's layout changes, so cached captures are made again. */
const FLOW_SYNTH_VERSION = 1;
const LINEAR = 1.5;
const FLAT = 1.5;
const SIZES = QUICK ? [10_000, 50_000] : [10_000, 100_000, 1_000_000];
/**
 * The JSON views decode every certificate and check every chain (~15× the table's work per
 * connection): `--scale-json-max N` stops them at N connections when a run must stay short.
 */
const jsonMaxArg = process.argv.indexOf('--scale-json-max');
const JSON_MAX = jsonMaxArg > 0 ? Number(process.argv[jsonMaxArg + 1]) : Number.POSITIVE_INFINITY;
const MODES = [
  { name: 'table (default view)', args: [], max: Number.POSITIVE_INFINITY },
  { name: '--json', args: ['--json'], max: JSON_MAX },
  { name: '--ndjson', args: ['--ndjson'], max: JSON_MAX },
];
const r = reporter('scale');

function capture(n) {
  const dir = join(REPO, 'bench/out/captures');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `flows-${n}-v${FLOW_SYNTH_VERSION}.pcapng`);
  if (existsSync(path) && existsSync(`${path}.json`))
    return { path, ...JSON.parse(readFileSync(`${path}.json`, 'utf8')) };
  const facts = makeFlowCapture(`${path}.tmp`, n);
  renameSync(`${path}.tmp`, path);
  writeFileSync(`${path}.json`, JSON.stringify(facts));
  return { path, ...facts };
}

function worker(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'bench/lib/cli-worker.mjs'), '--dist', DIST, '--', ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? ''));
      } catch (e) {
        reject(new Error(`cli-worker ${args.join(' ')}: ${out.slice(0, 400)} ${e}`));
      }
    });
  });
}

/** Runs per size and view, interleaved across the sizes (order rotated each round); figures are their medians. */
const ROUNDS = QUICK ? 1 : 3;
const median = (xs) => summarize(xs).median;

/** Each size's runs of `args` in ROUNDS interleaved rounds; the worker's figures as medians, with every run kept. */
async function measured(sized, args) {
  const all = sized.map(() => []);
  for (let round = 0; round < ROUNDS; round++)
    for (let k = 0; k < sized.length; k++) {
      const i = (round + k) % sized.length;
      all[i].push(await worker(['capture', sized[i].path, ...args]));
    }
  return sized.map((cap, i) => {
    const each = all[i];
    const res = { ...each[0] };
    for (const key of ['cpuMs', 'wallMs', 'rssKiB']) res[key] = median(each.map((x) => x[key]));
    return { cap, res, each };
  });
}

const caps = SIZES.map(capture);
for (const mode of MODES) {
  const runs = await measured(
    caps.filter((c) => c.connections <= mode.max),
    mode.args,
  );
  const per = runs.map(({ cap, res }) => res.cpuMs / cap.connections);
  const growth = per[per.length - 1] / per[0];
  const rssGrowth = runs[runs.length - 1].res.rssKiB / runs[0].res.rssKiB;
  // Every run, not only the first, must count what the capture was built with.
  const counted = runs.flatMap(({ cap, each }) =>
    each.map((res) => {
      const e = cap.expected;
      if (mode.args.length === 0) {
        const line = res.lastLines.find((l) => l.startsWith('outcomes:')) ?? '';
        return line === `outcomes: negotiated ${e.negotiated}, alert ${e.alert}, reset ${e.reset}`;
      }
      // --ndjson: a line per connection; --json: an `index` member each.
      return mode.args[0] === '--ndjson' ? res.outLines === cap.connections : res.jsonConnections === cap.connections;
    }),
  );
  r.report({
    id: `scale/${mode.args[0]?.slice(2) ?? 'table'}`,
    title: `tlsprobe capture ${mode.name} on ${runs.map((x) => x.cap.connections.toLocaleString('en-US')).join(' / ')} connections (fresh process each; median of ${ROUNDS} interleaved run${ROUNDS === 1 ? '' : 's'} per size)`,
    targets: [
      { text: `time linear: CPU µs per connection at the largest ≤ ${LINEAR}× the smallest`, met: growth <= LINEAR },
      { text: `memory flat: peak RSS at the largest ≤ ${FLAT}× the smallest`, met: rssGrowth <= FLAT },
      { text: 'the counts the captures were built with', met: counted.every(Boolean) },
    ],
    notes: runs.map(
      ({ cap, res }, i) =>
        `${cap.connections.toLocaleString('en-US').padStart(9)} connections (${(cap.bytes / 1e6).toFixed(0)} MB): CPU ${(res.cpuMs / 1e3).toFixed(2)} s ` +
        `(${(per[i] * 1e3).toFixed(1)} µs per connection), wall ${(res.wallMs / 1e3).toFixed(2)} s, peak RSS ${(res.rssKiB / 1024).toFixed(0)} MiB, ` +
        `output ${(res.outBytes / 1e6).toFixed(1)} MB; runs: CPU ${runs[i].each.map((x) => (x.cpuMs / 1e3).toFixed(2)).join(' ')} s, ` +
        `peak RSS ${runs[i].each.map((x) => (x.rssKiB / 1024).toFixed(0)).join(' ')} MiB`,
    ),
    runs: runs.map(({ cap, res, each }) => ({ connections: cap.connections, bytes: cap.bytes, ...res, each })),
  });
}
r.finish();
