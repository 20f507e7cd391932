// `tlsprobe capture FILE --ndjson` against tshark, whole process each (issue 15, item 3): the CLI as a
// user runs it (dist/cli/main.js, its NDJSON read through a pipe) and
// `tshark -r FILE -Y 'tls.handshake.type==2' -T fields -e tcp.stream -e tls.handshake.ciphersuite`,
// on a capture of TLS handshakes without a key log (100 MB, ~19k connections; 25 MB with --quick),
// median of interleaved runs (rotated each round). Both must find the same ServerHellos: the same
// tcp.stream numbers with the same cipher suite. CPU (user+sys, from /usr/bin/time) is reported beside
// the wall clock: other processes share the machine, and the CPU ratio moves less with them.
// With `--before-dist DIR` an older build's CLI runs interleaved too, as a "before" baseline.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cachedCapture } from './capture-synth.mjs';
import { DIST, QUICK, REPO } from './env.mjs';
import { summarize } from './harness.mjs';

/** Issue 15's target: at least this many times tshark's throughput, whole process. */
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

/** Resolves with { wallMs, cpuMs, rssKiB, stdout } of `cmd args`, timed by /usr/bin/time when it is there. */
function timed(cmd, args) {
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

/**
 * Reports the comparison through `r` (bench/lib/env.mjs reporter); `beforeDist` adds an older build
 * as a baseline. Sets process.exitCode when the ServerHellos differ (a correctness statement).
 * @param {{ report: (e: object) => void }} r
 * @param {{ beforeDist?: string | null, runs?: number }} [opts]
 */
export async function ndjsonVersusTshark(r, { beforeDist = null, runs = QUICK ? 3 : 5 } = {}) {
  const cap = cachedCapture(QUICK ? 25 : 100, { secrets: false });
  const cli = (dist) => () => timed(process.execPath, [join(dist, 'cli/main.js'), 'capture', cap.path, '--ndjson']);
  const cands = [
    { name: 'ours', go: cli(DIST) },
    { name: 'tshark', go: () => timed('tshark', ['-r', cap.path, ...TSHARK_ARGS]) },
    ...(beforeDist ? [{ name: 'before', go: cli(beforeDist) }] : []),
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
  const ours = oursHellos(res.ours[0].stdout);
  const theirs = tsharkHellos(res.tshark[0].stdout);
  const same = ours.length === theirs.length && ours.every((x, i) => x === theirs[i]);
  if (!same) process.exitCode = 1;
  const wall = (name) => median(res[name].map((x) => x.wallMs));
  const cpu = (name) => (res[name][0].cpuMs === null ? null : median(res[name].map((x) => x.cpuMs)));
  const ratio = (name, key) => median(res[name].map((x, i) => x[key] / res.ours[i][key]));
  const wallRatio = ratio('tshark', 'wallMs');
  const cpuRatio = cpu('tshark') === null ? null : ratio('tshark', 'cpuMs');
  const oursBytes = res.ours[0].stdout ? Buffer.byteLength(res.ours[0].stdout) : 0;
  const fmt = (ms) => (ms === null ? 'n/a' : `${(ms / 1e3).toFixed(2)} s`);
  const baselines = [
    { name: "tshark -Y 'tls.handshake.type==2' -T fields", median: wall('tshark') * 1e6, ratio: wallRatio },
  ];
  if (beforeDist)
    baselines.push({
      name: `capture --ndjson before (${beforeDist})`,
      median: wall('before') * 1e6,
      ratio: ratio('before', 'wallMs'),
    });
  r.report({
    id: 'capture/ndjson-vs-tshark',
    title: `tlsprobe capture --ndjson vs tshark, whole process (${(cap.bytes / 1e6).toFixed(0)} MB, ${cap.conversations} TLS connections, no key log; median of ${runs} interleaved runs)`,
    bytesPerOp: cap.bytes,
    ours: { name: 'node dist/cli/main.js capture FILE --ndjson', median: wall('ours') * 1e6 },
    baselines,
    targets: [
      { text: `throughput ≥ ${NDJSON_TARGET}× tshark's (whole process, wall clock)`, met: wallRatio >= NDJSON_TARGET },
      { text: 'the same ServerHellos as tshark (tcp.stream and cipher suite)', met: same },
    ],
    notes: [
      `wall: ours ${fmt(wall('ours'))}, tshark ${fmt(wall('tshark'))}${beforeDist ? `, before ${fmt(wall('before'))}` : ''}; ratio tshark/ours ${wallRatio.toFixed(2)}×`,
      `CPU (user+sys): ours ${fmt(cpu('ours'))}, tshark ${fmt(cpu('tshark'))}${beforeDist ? `, before ${fmt(cpu('before'))}` : ''}${cpuRatio === null ? '' : `; ratio tshark/ours ${cpuRatio.toFixed(2)}×`}`,
      `ServerHellos: ours ${ours.length}, tshark ${theirs.length}, ${same ? 'the same streams and suites' : 'DIFFERENT'}; our NDJSON ${(oursBytes / 1e6).toFixed(1)} MB (${(oursBytes / Math.max(1, cap.conversations)).toFixed(0)} bytes per connection)`,
      `peak RSS: ours ${res.ours[0].rssKiB ? `${(res.ours[0].rssKiB / 1024).toFixed(0)} MiB` : 'n/a'}, tshark ${res.tshark[0].rssKiB ? `${(res.tshark[0].rssKiB / 1024).toFixed(0)} MiB` : 'n/a'}`,
      ...Object.entries(res).map(([n, xs]) => `runs ${n} (wall ms): ${xs.map((x) => x.wallMs.toFixed(0)).join(' ')}`),
    ],
  });
}
