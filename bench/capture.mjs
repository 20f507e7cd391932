#!/usr/bin/env node
// Capture analysis against tshark, whole process each, on the same files:
//   1. throughput on a 100 MB pcapng of real HTTPS conversations recorded against the lab (TLS 1.2
//      and 1.3, RSA and ECDSA chains of three certificates, a Decryption Secrets Block holding the
//      client's key log) repeated as distinct TCP connections (bench/lib/capture-synth.mjs, made once
//      and cached in bench/out/captures/): ours is bench/lib/capture-worker.mjs `facts` (what
//      `tlsprobe capture` reads: openCaptureFile → analyzeCapture, TLS 1.3 handshakes decrypted with
//      the key log, and every server certificate through parseCertificate with subject, issuer,
//      validity, serial, SHA-1 and SHA-256 read), tshark is
//      `tshark -r FILE -Y 'tls.handshake.type==2 || tls.handshake.type==11' -T fields` with the
//      ServerHello and certificate fields (suite, version, certificate lengths, names, serials,
//      validity). Both must find the same number of ServerHellos, Certificate messages and
//      certificates, and the same certificate serial numbers;
//   2. peak RSS at 25, 50 and 100 MB, a fresh process each (ours; tshark's at 25 and 100 MB too when
//      /usr/bin/time is there to measure it);
//   3. the same on a 25 MB capture without the key log (TLS 1.3 certificates are then unreadable to
//      both), and what `tlsprobe capture --json` computes (connectionToJson: JA3/JA4, every
//      certificate, the chain checked with its signatures) on the 25 MB capture.
//   4. `tlsprobe capture` (the table) and `capture --ndjson`, whole process, against tshark
//      extracting two ServerHello fields, in one interleaved run (bench/lib/capture-cli-vs-tshark.mjs;
//      issue 15's 15× and 5× targets), on the default capture (64 connections in flight) and on one
//      of a busy server (20,000 in flight). `--cli-only` runs only this part, `--before-dist DIR`
//      adds an older build's CLI as a baseline.
// Issue 7 target: at least 15× tshark's throughput, memory flat as the file grows.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cachedCapture } from './lib/capture-synth.mjs';
import { DIST, QUICK, REPO, hasTool, reporter } from './lib/env.mjs';
import { summarize } from './lib/harness.mjs';
import { captureCliVersusTshark } from './lib/capture-cli-vs-tshark.mjs';

const THROUGHPUT_TARGET = 15;
/** Connections in flight at once in the second shape of part 4: a busy server's capture (issue 15: held-out shapes). */
const BUSY_IN_FLIGHT = 20000;
/** "Flat": the peak RSS at 100 MB of capture at most this much above the one at 25 MB. */
const FLAT_RSS_GROWTH = 1.2;
const r = reporter('capture');
const TIME = '/usr/bin/time';
const hasTime = existsSync(TIME);

const TSHARK_FIELDS = [
  'tcp.stream',
  'tls.handshake.type',
  'tls.handshake.ciphersuite',
  'tls.handshake.extensions.supported_version',
  'tls.handshake.certificate_length',
  'x509sat.printableString',
  'x509sat.uTF8String',
  'x509af.serialNumber',
  'x509af.utcTime',
  'x509af.generalizedTime',
];
const TSHARK_FILTER = 'tls.handshake.type==2 || tls.handshake.type==11';

/** Resolves with { wallMs, code, stdout, stderr } of one whole-process run. */
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let stderr = '';
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) =>
      resolve({
        wallMs: Number(process.hrtime.bigint() - t0) / 1e6,
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr,
      }),
    );
  });
}

async function ours(mode, file, extra = []) {
  const res = await run(process.execPath, [
    join(REPO, 'bench/lib/capture-worker.mjs'),
    mode,
    file,
    '--dist',
    DIST,
    ...extra,
  ]);
  if (res.code !== 0) throw new Error(`capture-worker ${mode} exited ${res.code}: ${res.stderr.slice(0, 800)}`);
  return { ...JSON.parse(res.stdout.trim().split('\n').pop()), processMs: res.wallMs };
}

/** Runs tshark over `file`; returns its wall time, what it found, and its peak RSS when /usr/bin/time is there. */
async function tshark(file) {
  const args = [
    '-r',
    file,
    '-Y',
    TSHARK_FILTER,
    '-T',
    'fields',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
    ...TSHARK_FIELDS.flatMap((f) => ['-e', f]),
  ];
  const res = hasTime ? await run(TIME, ['-f', 'tlsprobe-bench-rss %M', 'tshark', ...args]) : await run('tshark', args);
  if (res.code !== 0) throw new Error(`tshark exited ${res.code}: ${res.stderr.slice(0, 800)}`);
  const found = { serverHellos: 0, certificateMessages: 0, certificates: 0, serials: new Set() };
  const col = (name) => TSHARK_FIELDS.indexOf(name);
  for (const line of res.stdout.split('\n')) {
    if (!line) continue;
    const f = line.split('\t');
    for (const t of (f[col('tls.handshake.type')] ?? '').split(',')) {
      if (t === '2') found.serverHellos++;
      if (t === '11') found.certificateMessages++;
    }
    const lengths = f[col('tls.handshake.certificate_length')];
    if (lengths) found.certificates += lengths.split(',').length;
    for (const s of (f[col('x509af.serialNumber')] ?? '').split(','))
      if (s) found.serials.add(s.replace(/:/g, '').toLowerCase());
  }
  const rss = /tlsprobe-bench-rss (\d+)/.exec(res.stderr);
  return { wallMs: res.wallMs, ...found, serials: [...found.serials].sort(), rssKiB: rss ? Number(rss[1]) : null };
}

function compareCounts(o, t) {
  const same =
    o.serverHellos === t.serverHellos &&
    o.certificateMessages === t.certificateMessages &&
    o.certificates === t.certificates &&
    o.serials.join() === t.serials.join();
  const text = `ServerHellos ${o.serverHellos} / ${t.serverHellos}, Certificate messages ${o.certificateMessages} / ${t.certificateMessages}, certificates ${o.certificates} / ${t.certificates}, distinct serials ${o.serials.length} / ${t.serials.length} (ours / tshark)`;
  return { same, note: same ? `same counts: ${text}` : `COUNTS DIFFER: ${text}` };
}

const mb = (bytes) => bytes / 1e6;
const mbps = (bytes, ms) => mb(bytes) / (ms / 1e3);
const mib = (kib) => `${(kib / 1024).toFixed(0)} MiB`;

function captureNote(cap) {
  return `${(mb(cap.bytes)).toFixed(1)} MB, ${cap.packets} packets, ${cap.conversations} TLS connections (${cap.tls12} TLS 1.2, ${cap.tls13} TLS 1.3)${cap.cached ? ', cached' : `, made in ${(cap.madeInMs / 1e3).toFixed(1)} s`}`;
}

/** Whole-process runs per figure, interleaved with the baseline's (rotated each round). */
const RUNS = 5;

/** Runs each of `cands` (functions returning a run) RUNS times, interleaved; returns the runs per candidate. */
async function interleaved(cands) {
  const out = cands.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < cands.length; k++) {
      const j = (i + k) % cands.length;
      out[j].push(await cands[j]());
    }
  }
  return out;
}

const median = (xs) => summarize(xs).median;

/**
 * One ours-vs-tshark figure on `cap` (ours in `mode`), each side the median of RUNS whole-process
 * runs interleaved with the other's; with `noCache`, also ours without the signature verdict cache.
 * Returns the median runs (by time) of each side.
 */
async function versus(id, title, cap, mode, targets, { noCache = false } = {}) {
  const cands = [
    () => ours(mode, cap.path),
    () => tshark(cap.path),
    ...(noCache ? [() => ours(mode, cap.path, ['--no-verdict-cache'])] : []),
  ];
  const [os, ts, ns] = await interleaved(cands);
  const oMs = median(os.map((o) => o.processMs));
  const tMs = median(ts.map((t) => t.wallMs));
  const o = os.find((x) => x.processMs === oMs) ?? os[0];
  const t = ts.find((x) => x.wallMs === tMs) ?? ts[0];
  const counts = compareCounts(os[0], ts[0]);
  // A correctness statement the bench makes: it fails when it is false.
  if (!counts.same) process.exitCode = 1;
  const ratio = median(ts.map((x, i) => x.wallMs / os[i].processMs));
  const baselines = [{ name: 'tshark -Y … -T fields (hellos, x509)', median: tMs * 1e6, ratio }];
  const notes = [];
  if (ns) {
    const nMs = median(ns.map((x) => x.processMs));
    baselines.push({
      name: 'ours without the signature verdict cache',
      median: nMs * 1e6,
      ratio: median(ns.map((x, i) => x.processMs / os[i].processMs)),
    });
    notes.push(
      `the process-wide signature verdict cache (src/x509/signature.ts, keyed by certificate and issuer SHA-256) serves the signature checks of the chain checks that run (the run's chain cache, src/x509/chain-cache.ts, makes those one per chain, host and validity span); without it: ${mbps(cap.bytes, nMs).toFixed(1)} MB/s, ${(tMs / nMs).toFixed(2)}× tshark`,
    );
  }
  r.report({
    id,
    title: `${title} (${captureNote(cap)}; whole process, wall clock, median of ${RUNS} interleaved runs)`,
    bytesPerOp: cap.bytes,
    ours: {
      name: mode === 'facts' ? 'analyzeCapture + certificate fields' : 'analyzeCapture + connectionToJson',
      median: oMs * 1e6,
    },
    baselines,
    targets: targets({ ratio, same: counts.same }),
    notes: [
      `ours: ${mbps(cap.bytes, oMs).toFixed(1)} MB/s whole process (median run: ${(o.processMs / 1e3).toFixed(2)} s, of which the analysis ${(o.wallMs / 1e3).toFixed(2)} s wall, ${(o.cpuMs / 1e3).toFixed(2)} s CPU); peak RSS ${mib(o.rssKiB)}`,
      `tshark: ${mbps(cap.bytes, tMs).toFixed(1)} MB/s${t.rssKiB ? `; peak RSS ${mib(t.rssKiB)}` : ''}`,
      counts.note,
      `ours: ${o.negotiated} handshakes complete, ${o.decrypted} decrypted with the key log, ${o.distinctCertificates} distinct certificates (SHA-256)`,
      ...notes,
      `runs (ms): ours ${os.map((x) => x.processMs.toFixed(0)).join(' ')}; tshark ${ts.map((x) => x.wallMs.toFixed(0)).join(' ')}${ns ? `; no cache ${ns.map((x) => x.processMs.toFixed(0)).join(' ')}` : ''}`,
    ],
    workers: { ours: { ...o, serials: o.serials.length }, tshark: { ...t, serials: t.serials.length } },
  });
  return { o, t };
}

if (!hasTool('tshark')) {
  r.skip('capture/vs-tshark', 'capture analysis vs tshark', 'tshark is not installed (apt-get install tshark)');
  r.finish();
  process.exit(0);
}

const beforeArg = process.argv.indexOf('--before-dist');
const beforeDist = beforeArg > 0 ? process.argv[beforeArg + 1] : null;
if (process.argv.includes('--cli-only')) {
  await captureCliVersusTshark(r, { beforeDist });
  await captureCliVersusTshark(r, { beforeDist, concurrency: BUSY_IN_FLIGHT });
  r.finish();
  process.exit();
}

const sizes = QUICK ? [25] : [25, 50, 100];
const caps = Object.fromEntries(sizes.map((s) => [s, cachedCapture(s)]));
const biggest = caps[sizes[sizes.length - 1]];

// 1. Throughput on the largest capture.
const head = await versus(
  'capture/vs-tshark',
  `capture analysis vs tshark: every handshake, certificates and thumbprints, TLS 1.3 decrypted with the capture's key log`,
  biggest,
  'facts',
  ({ ratio, same }) => [
    { text: `throughput ≥ ${THROUGHPUT_TARGET}× tshark's`, met: ratio >= THROUGHPUT_TARGET },
    { text: 'same ServerHello, Certificate and certificate counts as tshark', met: same },
  ],
);

// 2. Peak RSS as the file grows.
const rss = { [sizes[sizes.length - 1]]: { ours: head.o.rssKiB, tshark: head.t.rssKiB, ms: head.o.processMs } };
// tshark on the smallest capture too; not at the sizes in between, to keep the group within its
// time budget. Single runs: these are peak RSS figures, not times.
for (const s of sizes.slice(0, -1)) {
  const o = await ours('facts', caps[s].path);
  rss[s] = { ours: o.rssKiB, tshark: s === sizes[0] ? (await tshark(caps[s].path)).rssKiB : null, ms: o.processMs };
}
const first = rss[sizes[0]].ours;
const last = rss[sizes[sizes.length - 1]].ours;
// Beyond the target's range: whether the growth keeps going or levels off (ours only).
const beyond = QUICK ? null : { mb: 200, cap: cachedCapture(200) };
const beyondRun = beyond ? await ours('facts', beyond.cap.path) : null;
r.report({
  id: 'capture/memory',
  title: `peak RSS of the analysis (facts, as above) as the capture grows: ${sizes.map((s) => `${s} MB`).join(', ')} (fresh process each)`,
  targets:
    sizes.length > 1
      ? [
          {
            text: `memory flat: peak RSS at ${sizes[sizes.length - 1]} MB ≤ ${FLAT_RSS_GROWTH}× the one at ${sizes[0]} MB`,
            met: last <= FLAT_RSS_GROWTH * first,
          },
        ]
      : [],
  notes: [
    ...sizes.map(
      (s) =>
        `${String(s).padStart(3)} MB: ours ${mib(rss[s].ours)}${rss[s].tshark ? `, tshark ${mib(rss[s].tshark)}` : ''}`,
    ),
    ...(beyond && beyondRun
      ? [`${beyond.mb} MB: ours ${mib(beyondRun.rssKiB)} (beyond the target's range, for the trend)`]
      : []),
    hasTime ? 'tshark RSS from /usr/bin/time -f %M' : `tshark RSS not measured: ${TIME} is missing`,
  ],
  rss:
    beyond && beyondRun
      ? { ...rss, [beyond.mb]: { ours: beyondRun.rssKiB, tshark: null, ms: beyondRun.processMs } }
      : rss,
});

// 3. Without the key log, and the CLI's JSON view, on the smallest capture.
await versus(
  'capture/vs-tshark-no-keys',
  'the same without a key log (TLS 1.3 certificates unreadable to both; TLS 1.2 certificates parsed)',
  cachedCapture(sizes[0], { secrets: false }),
  'facts',
  ({ same }) => [{ text: 'same ServerHello, Certificate and certificate counts as tshark', met: same }],
);
await versus(
  'capture/json-view-vs-tshark',
  "what `tlsprobe capture --json` computes (connectionToJson: JA3/JA4, every certificate decoded, chain checked with signatures, through the run's certificate and chain caches)",
  caps[sizes[0]],
  'json',
  ({ same }) => [{ text: 'same ServerHello, Certificate and certificate counts as tshark', met: same }],
  { noCache: true },
);

// 4. The CLI's table and --ndjson, whole process, against tshark (64 and 20,000 connections in flight).
await captureCliVersusTshark(r, { beforeDist });
await captureCliVersusTshark(r, { beforeDist, concurrency: BUSY_IN_FLIGHT });

r.finish();
