#!/usr/bin/env node
// Probing over loopback, whole-process and in-process:
//   1. one full scan (every version + --ciphers + chain) of `openssl s_server -tls1_2` (default suites)
//      by `tlsprobe probe --ciphers --json`, side by side with `nmap --script ssl-enum-ciphers` and
//      `sslscan` on the same endpoint (skipped, and said so, when a tool is missing); a counting TCP
//      relay in front of s_server tells how many connections each tool opened, and the TLS 1.2 suites
//      each found are compared;
//   2. version probes per second in one process: src/probe/attempt.ts attempt() over a mixed plan
//      (TLS 1.0–1.3 against the lab's modern and reset-legacy endpoints), against Node's own
//      tls.connect handshakes and bare TCP connects over the same plan, same concurrency;
//   3. 1,000 endpoints (one per loopback address 127.0.x.y, five lab behaviours), scan() each (every
//      version), peak RSS of the prober process, against a TCP-connect floor.
// The lab runs in its own process (bench/lib/lab-host.mjs), each workload in a fresh one.
// Issue 7 targets: 4,000 version probes/s in one process against the lab; a full scan at least 5×
// faster than nmap and sslscan (whole process, same endpoint).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { summarize } from './lib/harness.mjs';
import { DIST, QUICK, REPO, hasTool, reporter } from './lib/env.mjs';

const r = reporter('probe');
const PROBES_PER_SECOND_TARGET = 4000;
const SCAN_SPEEDUP_TARGET = 5;
const tmp = mkdtempSync(join(tmpdir(), 'tlsprobe-bench-probe-'));
const children = new Set();
const ms = (x) => x * 1e6; // the reporter takes ns

/** Starts `cmd args` and resolves with the first stdout line matching `re` (and the child). */
function startAndWaitFor(cmd, args, re, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    lines.on('line', (line) => {
      const m = re.exec(line);
      if (m) resolve({ child, match: m });
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited (${code}) before it was ready: ${err}`)));
  });
}

function stop(child) {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}

/** Resolves with { ms, code, stdout } of one whole-process run. */
function timed(cmd, args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      children.delete(child);
      resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, stdout, stderr });
    });
  });
}

/** A TCP relay on 127.0.0.1 to `port` that counts the connections it accepts. */
async function countingRelay(port) {
  let count = 0;
  const server = net.createServer((client) => {
    count++;
    const upstream = net.connect({ host: '127.0.0.1', port });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    take() {
      const n = count;
      count = 0;
      return n;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// --- 1. whole-process scan vs nmap vs sslscan -------------------------------------------------

function oursSuites(stdout) {
  return JSON.parse(stdout).cipherSuiteNames?.['TLS1.2'] ?? [];
}
function nmapSuites(stdout) {
  const out = [];
  let in12 = false;
  for (const line of stdout.split('\n')) {
    if (/^\|\s+TLSv1\.2:/.test(line)) in12 = true;
    else if (/^\|\s+TLSv1\.[013]:|^\|\s+SSLv/.test(line)) in12 = false;
    const m = /^\|\s+(TLS_[A-Z0-9_]+)/.exec(line);
    if (in12 && m) out.push(m[1]);
  }
  return out;
}
function sslscanSuites(stdout) {
  return stdout
    .split('\n')
    .map((l) => /^(?:Accepted|Preferred)\s+TLSv1\.2\s+\d+ bits\s+(\S+)/.exec(l)?.[1])
    .filter(Boolean);
}

async function wholeProcessScan() {
  const title = 'one endpoint, whole process: versions + cipher suites + chain, vs nmap ssl-enum-ciphers and sslscan';
  if (!hasTool('openssl')) return r.skip('probe/whole-process', title, 'openssl is not installed (needed for the s_server endpoint)');
  const key = join(tmp, 'key.pem');
  const cert = join(tmp, 'cert.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=localhost', '-days', '2'], { stdio: 'ignore' });
  if (made.status !== 0) return r.skip('probe/whole-process', title, 'openssl could not make a certificate');
  // -www: answers every connection in turn without reading stdin (it stays open: s_server quits on EOF).
  const { child: server, match } = await startAndWaitFor('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', cert, '-key', key, '-tls1_2', '-www'], /^ACCEPT .*:(\d+)$/);
  const relay = await countingRelay(Number(match[1]));
  const target = `127.0.0.1:${relay.port}`;
  const tools = [
    { name: 'tlsprobe probe --ciphers --json', cmd: process.execPath, args: [join(DIST, 'cli/main.js'), 'probe', target, '--ciphers', '--json'], suites: oursSuites },
    { name: 'nmap --script ssl-enum-ciphers', tool: 'nmap', cmd: 'nmap', args: ['-Pn', '-n', '--script', '+ssl-enum-ciphers', '-p', String(relay.port), '127.0.0.1'], suites: nmapSuites },
    { name: 'sslscan', tool: 'sslscan', cmd: 'sslscan', args: ['--no-colour', target], suites: sslscanSuites },
  ].map((t) => ({ ...t, missing: t.tool !== undefined && !hasTool(t.tool), times: [], connections: [], found: null }));
  const runs = QUICK ? 1 : 5;
  try {
    for (let i = 0; i < runs; i++) {
      for (const t of i % 2 ? [...tools].reverse() : tools) {
        if (t.missing) continue;
        const res = await timed(t.cmd, t.args);
        if (res.code !== 0) throw new Error(`${t.name} exited ${res.code}: ${res.stderr.slice(0, 500)}`);
        t.times.push(res.ms);
        t.connections.push(relay.take());
        t.found ??= t.suites(res.stdout);
      }
    }
  } finally {
    await relay.close();
    await stop(server);
  }
  const [ours, ...others] = tools;
  const oursMs = summarize(ours.times).median;
  const notes = tools.map((t) =>
    t.missing ? `${t.name}: not installed, skipped` : `${t.name}: ${summarize(t.connections).median} connections per run, ${t.found.length} TLS 1.2 suites accepted`,
  );
  const nmap = tools[1];
  if (!nmap.missing) {
    const a = new Set(ours.found);
    const same = nmap.found.length === a.size && nmap.found.every((s) => a.has(s));
    notes.push(same ? 'tlsprobe and nmap found the same TLS 1.2 suites (IANA names)' : `SUITES DIFFER from nmap: ours [${ours.found.join(' ')}], nmap [${nmap.found.join(' ')}]`);
  }
  r.report({
    id: 'probe/whole-process',
    title: `${title}; openssl s_server -tls1_2, default suites, median of ${runs} (wall clock)`,
    ours: { name: ours.name, median: ms(oursMs), p25: ms(summarize(ours.times).p25), p75: ms(summarize(ours.times).p75) },
    baselines: others.map((t) =>
      t.missing ? { name: t.name, skipped: `${t.tool} is not installed` } : { name: t.name, median: ms(summarize(t.times).median), ratio: summarize(t.times.map((x, i) => x / ours.times[i])).median },
    ),
    targets: others.map((t) => ({
      text: `full scan ≥ ${SCAN_SPEEDUP_TARGET}× faster than ${t.tool}`,
      met: t.missing ? null : summarize(t.times.map((x, i) => x / ours.times[i])).median >= SCAN_SPEEDUP_TARGET,
    })),
    notes,
    tools: tools.map((t) => ({ name: t.name, missing: t.missing, timesMs: t.times, connections: t.connections, tls12Suites: t.found })),
  });
}

// --- 2 and 3: lab workloads ---------------------------------------------------------------------

async function startLabHost(args) {
  const { child, match } = await startAndWaitFor(process.execPath, [join(REPO, 'bench/lib/lab-host.mjs'), ...args], /^(\{.*\})$/, {
    env: { ...process.env, TLSPROBE_BENCH_DIST: DIST },
  });
  return { child, info: JSON.parse(match[1]) };
}

async function worker(mode, plan, concurrency) {
  const file = join(tmp, `plan-${mode}.json`);
  writeFileSync(file, JSON.stringify(plan));
  const res = await timed(process.execPath, [join(REPO, 'bench/lib/probe-worker.mjs'), mode, file, String(concurrency), '--dist', DIST]);
  if (res.code !== 0) throw new Error(`probe-worker ${mode} exited ${res.code}: ${res.stderr.slice(0, 800)}`);
  return JSON.parse(res.stdout.trim().split('\n').pop());
}

function tally(outcomes) {
  return Object.entries(outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

async function probesPerSecond() {
  const { child, info } = await startLabHost(['--names', 'modern,reset-legacy']);
  try {
    const modern = info.endpoints.find((e) => e.name === 'modern');
    const reset = info.endpoints.find((e) => e.name === 'reset-legacy');
    const versions = ['TLS1.0', 'TLS1.1', 'TLS1.2', 'TLS1.3'];
    const n = QUICK ? 400 : 2000;
    const concurrency = 32;
    const plan = Array.from({ length: n }, (_, i) => {
      const e = i % 2 ? reset : modern;
      return { host: e.host, port: e.port, version: versions[(i >> 1) % versions.length] };
    });
    const ours = await worker('attempt', plan, concurrency);
    const node = await worker('node-tls', plan, concurrency);
    const tcp = await worker('tcp', plan, concurrency);
    const perProbe = (w) => ms(w.wallMs / w.items);
    r.report({
      id: 'probe/attempts-per-second',
      title: `${n} version probes in one process, ${concurrency} in flight: TLS 1.0–1.3 × lab modern + reset-legacy (wall clock per probe)`,
      ours: { name: 'attempt() (src/probe/attempt.ts)', median: perProbe(ours) },
      baselines: [
        { name: 'Node tls.connect handshake, same plan', median: perProbe(node), ratio: node.wallMs / ours.wallMs },
        { name: 'TCP connect + close only, same plan', median: perProbe(tcp), ratio: tcp.wallMs / ours.wallMs },
      ],
      targets: [{ text: `≥ ${PROBES_PER_SECOND_TARGET} version probes/s (${((ours.items / ours.wallMs) * 1e3).toFixed(0)}/s)`, met: (ours.items / ours.wallMs) * 1e3 >= PROBES_PER_SECOND_TARGET }],
      notes: [
        `ours: ${((ours.items / ours.wallMs) * 1e3).toFixed(0)} probes/s, latency p50 ${ours.latencyMs.p50.toFixed(1)} ms, p99 ${ours.latencyMs.p99.toFixed(1)} ms; peak RSS ${(ours.rssKiB / 1024).toFixed(0)} MiB`,
        `ours outcomes: ${tally(ours.outcomes)}`,
        `node: ${((node.items / node.wallMs) * 1e3).toFixed(0)} handshakes/s; outcomes: ${tally(node.outcomes)}`,
        `tcp: ${((tcp.items / tcp.wallMs) * 1e3).toFixed(0)} connects/s`,
      ],
      workers: { ours, node, tcp },
    });
  } finally {
    await stop(child);
  }
}

async function thousandEndpoints() {
  const count = QUICK ? 200 : 1000;
  const { child, info } = await startLabHost(['--names', 'modern', '--many', String(count)]);
  try {
    const plan = info.endpoints.filter((e) => e.host !== '127.0.0.1').map((e) => ({ host: e.host, port: e.port }));
    const targetsInFlight = 50;
    const ours = await worker('scan', plan, targetsInFlight);
    const floor = await worker('tcp-scan', plan, targetsInFlight);
    const perEndpoint = (w) => ms(w.wallMs / w.items);
    r.report({
      id: 'probe/many-endpoints',
      title: `${plan.length} endpoints (127.0.x.y, 5 lab behaviours), scan() of every version each, ${targetsInFlight} targets in flight (wall clock per endpoint)`,
      ours: { name: 'scan() (src/probe/scan.ts)', median: perEndpoint(ours) },
      baselines: [{ name: '5 TCP connects per endpoint (the floor)', median: perEndpoint(floor), ratio: floor.wallMs / ours.wallMs }],
      targets: [],
      notes: [
        `ours: ${(ours.wallMs / 1e3).toFixed(1)} s for ${plan.length} endpoints (${((plan.length * 5 * 1e3) / ours.wallMs).toFixed(0)} connections/s); peak RSS ${(ours.rssKiB / 1024).toFixed(0)} MiB (after imports, before scanning: ${(ours.rssIdleKiB / 1024).toFixed(0)} MiB)`,
        `floor: peak RSS ${(floor.rssKiB / 1024).toFixed(0)} MiB`,
        `lab host: ${count} servers in a separate process, ${(info.rssKiB / 1024).toFixed(0)} MiB at start`,
        `outcomes per endpoint: ${tally(ours.outcomes)}`,
      ],
      peakRssKiB: ours.rssKiB,
      workers: { ours, floor },
    });
  } finally {
    await stop(child);
  }
}

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
try {
  if (!only || only === 'scan') await wholeProcessScan();
  if (!only || only === 'rate') await probesPerSecond();
  if (!only || only === 'many') await thousandEndpoints();
} finally {
  await Promise.all([...children].map(stop));
  rmSync(tmp, { recursive: true, force: true });
}
r.finish();
