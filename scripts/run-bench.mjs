#!/usr/bin/env node
// `npm run bench`: runs the benchmarks in bench/ over the compiled library in dist/ (what `npm ci`
// built; nothing is built here), each file in a fresh node process, and prints every figure with its
// baseline(s) and ratio, then the targets of issues 7 and 16 as met / not met.
//
// Usage: npm run bench -- [--json [FILE]] [--quick] [--only tls,x509,cli,probe,capture,scale,shapes] [--dist DIR] [--profile]
//   --json [FILE]  also write every figure as JSON (default bench/out/bench-<date>.json) and print where
//   --quick        fewer samples, smaller loads: a smoke run (figures less stable)
//   --only LIST    run only these groups (tls, x509, chain, cli, probe, scan, capture, scale, shapes)
//   --dist DIR     the compiled library to measure (default dist/)
//   --profile      instead of the benchmarks: `node --cpu-prof` of the certificate path, the hello
//                  parse, decodeStream, `tlsprobe --help`, the capture analysis (25 MB, with and
//                  without key log) and the version-probe loop; writes .cpuprofile files to
//                  bench/out/profiles/ and prints the functions with the most self time
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usage as sharedUsage } from './lib/usage.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GROUPS = ['tls', 'x509', 'chain', 'cli', 'probe', 'scan', 'capture', 'scale', 'shapes'];

function parseArgs(argv) {
  /** @type {{ json: string | null, quick: boolean, only: string[], dist: string, profile: boolean }} */
  const opts = { json: null, quick: false, only: GROUPS, dist: 'dist', profile: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        opts.json = next;
        i++;
      } else opts.json = join('bench/out', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    } else if (a === '--quick') opts.quick = true;
    else if (a === '--profile') opts.profile = true;
    else if (a === '--only') {
      opts.only = (argv[++i] ?? '').split(',').filter(Boolean);
      const bad = opts.only.filter((g) => !GROUPS.includes(g));
      if (bad.length || !opts.only.length) usage(`--only takes a list of ${GROUPS.join(', ')}`);
    } else if (a === '--dist') opts.dist = argv[++i] ?? usage('--dist takes a directory');
    else if (a === '--help' || a === '-h') usage(null);
    else usage(`unknown option ${a}`);
  }
  return opts;
}

function usage(problem) {
  sharedUsage(import.meta.url, 'run-bench', problem);
}

/** @param {string[]} args @param {Record<string, string>} env @param {'inherit' | 'pipe' | 'ignore' | number} stdout @returns {Promise<number>} */
function run(args, env, stdout = 'inherit') {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO,
      stdio: ['ignore', stdout, 'inherit'],
      env: { ...process.env, ...env },
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function machineInfo() {
  let cpu = 'unknown';
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  let nproc = null;
  try {
    nproc =
      readFileSync('/proc/cpuinfo', 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('processor')).length || null;
  } catch {
    // not Linux
  }
  return { cpu, nproc, node: process.version, platform: `${process.platform} ${process.arch}` };
}

/** Starts bench/lib/lab-host.mjs with `args`; resolves with the child and the endpoints it printed. */
function startLabHost(dist, args) {
  const child = spawn(process.execPath, [join(REPO, 'bench/lib/lab-host.mjs'), ...args], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, TLSPROBE_BENCH_DIST: dist },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve({ child, info: JSON.parse(line) });
    });
    child.once('exit', (code) => reject(new Error(`lab host exited (${code}) before it was ready`)));
  });
}

async function profile(dist) {
  const { summarizeProfile } = await import('../bench/lib/cpuprofile.mjs');
  const { cachedCapture } = await import('../bench/lib/capture-synth.mjs');
  const dir = join(REPO, 'bench/out/profiles');
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'tlsprobe-bench-profile-'));
  // The version-probe loop of bench/probe.mjs (1,000 attempts, 32 in flight), against a lab in its own process.
  const lab = await startLabHost(dist, ['--names', 'modern,reset-legacy']);
  const versions = ['TLS1.0', 'TLS1.1', 'TLS1.2', 'TLS1.3'];
  const endpoints = ['modern', 'reset-legacy'].map((n) => lab.info.endpoints.find((e) => e.name === n));
  const plan = join(tmp, 'plan.json');
  writeFileSync(
    plan,
    JSON.stringify(
      Array.from({ length: 1000 }, (_, i) => ({
        host: endpoints[i % 2].host,
        port: endpoints[i % 2].port,
        version: versions[(i >> 1) % 4],
      })),
    ),
  );
  const workloads = [
    ['cert', [join(REPO, 'bench/lib/profile-target.mjs'), 'cert', '3']],
    ['hello', [join(REPO, 'bench/lib/profile-target.mjs'), 'hello', '3']],
    ['stream', [join(REPO, 'bench/lib/profile-target.mjs'), 'stream', '3']],
    ['cli-help', [join(dist, 'cli/main.js'), '--help']],
    ['capture', [join(REPO, 'bench/lib/capture-worker.mjs'), 'facts', cachedCapture(25).path, '--dist', dist]],
    [
      'capture-no-keys',
      [join(REPO, 'bench/lib/capture-worker.mjs'), 'facts', cachedCapture(25, { secrets: false }).path, '--dist', dist],
    ],
    ['probe', [join(REPO, 'bench/lib/probe-worker.mjs'), 'attempt', plan, '32', '--dist', dist]],
  ];
  try {
    for (const [w, args] of workloads) {
      const name = `${w}.cpuprofile`;
      const code = await run(
        ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', name, ...args],
        { TLSPROBE_BENCH_DIST: dist },
        'ignore',
      );
      if (code !== 0) throw new Error(`profiling ${w} failed (exit ${code})`);
      const s = summarizeProfile(join(dir, name), 20);
      console.log(
        `\n[profile] ${w}: ${s.totalMs.toFixed(0)} ms sampled, functions by self time (${relative(REPO, join(dir, name))})`,
      );
      for (const t of s.top) console.log(`  ${t.selfPct.toFixed(1).padStart(5)}%  ${t.fn.padEnd(32)} ${t.where}`);
      console.log(`[profile] ${w}: our functions by total time (self + what they call)`);
      for (const t of s.inclusive.slice(0, 20))
        console.log(`  ${t.totalPct.toFixed(1).padStart(5)}%  ${t.fn.padEnd(32)} ${t.where}`);
    }
  } finally {
    lab.child.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  }
}

const opts = parseArgs(process.argv.slice(2));
const dist = resolve(REPO, opts.dist);
if (!existsSync(join(dist, 'cli/main.js'))) {
  console.error(`run-bench: ${dist}/cli/main.js is missing: run \`npm ci\` (or \`npm run build\`) first`);
  process.exit(2);
}
if (!existsSync(join(REPO, 'bench/inputs/messages.json'))) {
  console.error('run-bench: bench/inputs/ is missing: run `node scripts/make-bench-inputs.mjs`');
  process.exit(2);
}

const machine = machineInfo();
console.log(
  `tlsprobe benchmarks — ${machine.cpu}, ${machine.nproc} cores, node ${machine.node}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(
  `measuring ${relative(REPO, dist) || '.'}/; micro-benchmarks are median CPU time per op, ratios = baseline / ours from interleaved samples of the same run`,
);

if (opts.profile) {
  await profile(dist);
  process.exit(0);
}

const started = new Date();
const tmp = mkdtempSync(join(tmpdir(), 'tlsprobe-bench-'));
const results = [];
const failures = [];
try {
  for (const g of opts.only) {
    const out = join(tmp, `${g}.json`);
    const args = [
      '--expose-gc',
      join(REPO, `bench/${g}.mjs`),
      '--results',
      out,
      '--dist',
      dist,
      ...(opts.quick ? ['--quick'] : []),
    ];
    const t0 = performance.now();
    const code = await run(args, {});
    const secs = ((performance.now() - t0) / 1e3).toFixed(1);
    if (code !== 0 || !existsSync(out)) {
      failures.push(`${g} (exit ${code})`);
      console.log(`\n[${g}] FAILED (exit ${code}) after ${secs} s`);
      // A group that measured but found a correctness statement false still wrote its figures.
      if (existsSync(out)) results.push(...JSON.parse(readFileSync(out, 'utf8')));
      continue;
    }
    console.log(`\n[${g}] done in ${secs} s`);
    results.push(...JSON.parse(readFileSync(out, 'utf8')));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

console.log('\n=== targets (issues 7, 15 and 16) ===');
for (const e of results) {
  for (const t of e.targets ?? [])
    console.log(`  ${t.met === null ? 'n/a    ' : t.met ? 'MET    ' : 'NOT MET'}  ${e.id}: ${t.text}`);
  if (e.skipped) console.log(`  SKIPPED  ${e.id}: ${e.skipped}`);
}
const seconds = (Date.now() - started.getTime()) / 1e3;
console.log(
  `\n${results.length} figures in ${seconds.toFixed(0)} s; load at the end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);

if (opts.json) {
  const file = resolve(REPO, opts.json);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ date: started.toISOString(), seconds, machine, loadavgAtEnd: loadavg(), dist: relative(REPO, dist) || '.', quick: opts.quick, groups: opts.only, failures, results }, null, 1)}\n`,
  );
  console.log(`figures written as JSON to ${file}`);
}
if (failures.length) {
  console.error(`run-bench: failed: ${failures.join(', ')}`);
  process.exitCode = 1;
}
