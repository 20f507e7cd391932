// `tlsprobe capture FILE` (the table, the default view) and `tlsprobe capture FILE --ndjson` against
// tshark, whole process each (issue 15, item 3): the CLI as a user runs it (the package's bin,
// dist/bundle/tlsprobe.js, its output read through a pipe) and
// `tshark -r FILE -Y 'tls.handshake.type==2' -T fields -e tcp.stream -e tls.handshake.ciphersuite`,
// on a capture of TLS handshakes without a key log (100 MB, ~19k connections; 25 MB with --quick;
// 64 connections in flight at once, or with `concurrency` as many as a busy server's capture holds),
// median of interleaved runs (the three rotated each round). The NDJSON and tshark must find the
// same ServerHellos (the same tcp.stream numbers with the same cipher suite), and the table must
// count as many TLS connections as the NDJSON has lines. CPU (user+sys, from /usr/bin/time) is
// reported beside the wall clock: other processes share the machine, and the CPU ratio moves less.
// With `--before-dist DIR` an older build's CLI runs interleaved too (both views), as a baseline.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cachedCapture } from './capture-synth.mjs';
import { DIST, QUICK, REPO } from './env.mjs';
import { summarize } from './harness.mjs';

/** Issue 15's targets: at least this many times tshark's throughput, whole process. */
export const TABLE_TARGET = 15;
export const NDJSON_TARGET = 5;
const TIME = '/usr/bin/time';
const TSHARK_ARGS = [
  '-Y',
  'tls.handshake.type==2',
  '-T',
  'fields',
  '-e',
  'tcp.stream',
  '-e',
  'tls.handshake.ciphersuite',
];

/**
 * Resolves with { wallMs, cpuMs, rssKiB, stdout } of `cmd args`, timed by /usr/bin/time when it is
 * there (cpuMs and rssKiB null without it); rejects when it exits with another code than 0.
 * @returns {Promise<{ wallMs: number, cpuMs: number | null, rssKiB: number | null, stdout: string }>}
 */
export function timed(cmd, args) {
  const hasTime = existsSync(TIME);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(hasTime ? TIME : cmd, hasTime ? ['-f', 'tlsprobe-bench %U %S %M', cmd, ...args] : args, {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = [];
    let stderr = '';
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) return reject(new Error(`${cmd} exited ${code}: ${stderr.slice(0, 600)}`));
      const m = /tlsprobe-bench ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
      resolve({
        wallMs,
        cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1e3 : null,
        rssKiB: m ? Number(m[3]) : null,
        stdout: Buffer.concat(out).toString('utf8'),
      });
    });
  });
}

/** Returns "stream:suite" for every ServerHello (and HelloRetryRequest) on our NDJSON lines, sorted. */
function oursHellos(stdout) {
  const found = [];
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const c = JSON.parse(line).connections[0];
    if (c.helloRetryRequest) found.push(`${c.index}:${c.helloRetryRequest.cipherSuite}`);
    if (c.serverHello) found.push(`${c.index}:${c.cipherSuite}`);
  }
  return found.sort();
}

/** Returns N of the table's summary line "N TLS connections in …", or null. */
function tableConnections(stdout) {
  const m = /^(\d+) TLS connections? in /m.exec(stdout);
  return m ? Number(m[1]) : null;
}

/** Returns "stream:suite" for every frame tshark printed, sorted. */
function tsharkHellos(stdout) {
  const found = [];
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const [stream, suites] = line.split('\t');
    for (const s of suites.split(',')) found.push(`${stream}:${Number.parseInt(s, 16)}`);
  }
  return found.sort();
}

const median = (xs) => summarize(xs).median;

/** The CLI a user runs from `dist`: the bundled bin when the build has one, else tsc's output. */
function cliOf(dist) {
  const bundle = join(dist, 'bundle/tlsprobe.js');
  return existsSync(bundle) ? bundle : join(dist, 'cli/main.js');
}

/**
 * Reports both comparisons through `r` (bench/lib/env.mjs reporter); `beforeDist` adds an older
 * build as a baseline. Sets process.exitCode when the counts differ (a correctness statement).
 * @param {{ report: (e: object) => void }} r
 * @param {{ beforeDist?: string | null, runs?: number, concurrency?: number }} [opts]
 */
export async function captureCliVersusTshark(r, { beforeDist = null, runs = QUICK ? 3 : 5, concurrency = 64 } = {}) {
  const cap = cachedCapture(QUICK ? 25 : 100, { secrets: false, concurrency });
  // The default shape (64 connections in flight) keeps its report ids; another names its own.
  const shape = concurrency === 64 ? '' : `-${concurrency}-in-flight`;
  const run =
    (dist, ...view) =>
    () =>
      timed(process.execPath, [cliOf(dist), 'capture', cap.path, ...view]);
  const cands = [
    { name: 'table', go: run(DIST) },
    { name: 'ndjson', go: run(DIST, '--ndjson') },
    { name: 'tshark', go: () => timed('tshark', ['-r', cap.path, ...TSHARK_ARGS]) },
    ...(beforeDist
      ? [
          { name: 'table-before', go: run(beforeDist) },
          { name: 'ndjson-before', go: run(beforeDist, '--ndjson') },
        ]
      : []),
  ];
  /** @type {Record<string, { wallMs: number, cpuMs: number | null, rssKiB: number | null, stdout: string }[]>} */
  const res = Object.fromEntries(cands.map((c) => [c.name, []]));
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < cands.length; k++) {
      const c = cands[(i + k) % cands.length];
      const x = await c.go();
      // Only the first run's output is kept (for the counts): a 40 MB string per run is not needed.
      if (res[c.name].length > 0) x.stdout = '';
      res[c.name].push(x);
    }
  }
  const ours = oursHellos(res.ndjson[0].stdout);
  const theirs = tsharkHellos(res.tshark[0].stdout);
  const same = ours.length === theirs.length && ours.every((x, i) => x === theirs[i]);
  const lines = res.ndjson[0].stdout.split('\n').filter((l) => l !== '').length;
  const tableCount = tableConnections(res.table[0].stdout);
  const tableSame = tableCount === lines;
  if (!same || !tableSame) process.exitCode = 1;
  const wall = (name) => median(res[name].map((x) => x.wallMs));
  const cpu = (name) => (res[name][0].cpuMs === null ? null : median(res[name].map((x) => x.cpuMs)));
  /** Median over rounds of `name`'s figure over `of`'s in the same round. */
  const ratio = (name, of, key) => median(res[name].map((x, i) => x[key] / res[of][i][key]));
  const fmt = (ms) => (ms === null ? 'n/a' : `${(ms / 1e3).toFixed(2)} s`);
  const rss = (name) => (res[name][0].rssKiB ? `${(res[name][0].rssKiB / 1024).toFixed(0)} MiB` : 'n/a');
  const tsharkName = "tshark -Y 'tls.handshake.type==2' -T fields";
  const counts = `ServerHellos: ours ${ours.length}, tshark ${theirs.length}, ${same ? 'the same streams and suites' : 'DIFFERENT'}; TLS connections: table ${tableCount}, NDJSON lines ${lines}${tableSame ? '' : ' (DIFFERENT)'}`;
  for (const [view, target, flag] of [
    ['table', TABLE_TARGET, ''],
    ['ndjson', NDJSON_TARGET, ' --ndjson'],
  ]) {
    const wallRatio = ratio('tshark', view, 'wallMs');
    const cpuRatio = cpu('tshark') === null ? null : ratio('tshark', view, 'cpuMs');
    const before = `${view}-before`;
    const baselines = [{ name: tsharkName, median: wall('tshark') * 1e6, ratio: wallRatio }];
    if (beforeDist)
      baselines.push({
        name: `capture${flag} before (${beforeDist})`,
        median: wall(before) * 1e6,
        ratio: ratio(before, view, 'wallMs'),
      });
    const bytes = view === 'ndjson' ? Buffer.byteLength(res.ndjson[0].stdout) : 0;
    r.report({
      id: `capture/${view}-vs-tshark${shape}`,
      title: `tlsprobe capture${flag} vs tshark, whole process (${(cap.bytes / 1e6).toFixed(0)} MB, ${cap.conversations} TLS connections, ${concurrency} in flight at once, no key log; median of ${runs} interleaved runs)`,
      bytesPerOp: cap.bytes,
      ours: { name: `tlsprobe capture FILE${flag}`, median: wall(view) * 1e6 },
      baselines,
      targets: [
        { text: `throughput ≥ ${target}× tshark's (whole process, wall clock)`, met: wallRatio >= target },
        { text: 'the same ServerHellos as tshark, the same connections in both views', met: same && tableSame },
      ],
      notes: [
        `wall: ours ${fmt(wall(view))}, tshark ${fmt(wall('tshark'))}${beforeDist ? `, before ${fmt(wall(before))}` : ''}; ratio tshark/ours ${wallRatio.toFixed(2)}×`,
        `CPU (user+sys): ours ${fmt(cpu(view))}, tshark ${fmt(cpu('tshark'))}${beforeDist ? `, before ${fmt(cpu(before))}` : ''}${cpuRatio === null ? '' : `; ratio tshark/ours ${cpuRatio.toFixed(2)}×`}`,
        counts,
        ...(view === 'ndjson'
          ? [
              `our NDJSON ${(bytes / 1e6).toFixed(1)} MB (${(bytes / Math.max(1, cap.conversations)).toFixed(0)} bytes per connection)`,
            ]
          : []),
        `peak RSS: ours ${rss(view)}, tshark ${rss('tshark')}`,
        ...[view, 'tshark', ...(beforeDist ? [before] : [])].map(
          (n) => `runs ${n} (wall ms): ${res[n].map((x) => x.wallMs.toFixed(0)).join(' ')}`,
        ),
      ],
    });
  }
}
