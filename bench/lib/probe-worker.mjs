// One measured probing workload in a fresh process (so that its peak RSS is its own). Reads a plan
// (JSON file), runs it with a fixed number of connections or targets in flight, prints one JSON line:
// { mode, wallMs, items, outcomes: {kind: count}, latencyMs: {p50, p99}, rssKiB, rssIdleKiB }.
// Usage: node bench/lib/probe-worker.mjs MODE PLAN.json CONCURRENCY
//   attempt   plan = [{host, port, version}]: one src/probe/attempt.ts attempt() per item
//   node-tls  same plan: one Node tls.connect handshake per item (OpenSSL client), closed once done
//   tcp       same plan: TCP connect + close only (the floor under any prober)
//   scan      plan = [{host, port}]: src/probe/scan.ts scan() per endpoint (every version, one each)
//   tcp-scan  plan = [{host, port}]: 5 TCP connect + close per endpoint, 5 at a time (scan's floor)
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { lib } from './env.mjs';

const [mode, planPath, concurrencyArg] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planPath, 'utf8'));
const concurrency = Number(concurrencyArg);
const { attempt } = await lib('probe/attempt.js');
const { scan } = await lib('probe/scan.js');
const rssIdleKiB = process.resourceUsage().maxRSS;

const NODE_VERSION = { 'TLS1.0': 'TLSv1', 'TLS1.1': 'TLSv1.1', 'TLS1.2': 'TLSv1.2', 'TLS1.3': 'TLSv1.3' };
const TIMEOUT_MS = 10_000;

function tcpOnce(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(TIMEOUT_MS, () => s.destroy(new Error('timeout')));
    s.once('connect', () => {
      s.end();
      resolve('connected');
    });
    s.once('error', (/** @type {NodeJS.ErrnoException} */ e) => resolve(e.code ?? e.message));
  });
}

function nodeTlsOnce(item) {
  return new Promise((resolve) => {
    const v = NODE_VERSION[item.version];
    const s = tls.connect({
      host: item.host,
      port: item.port,
      minVersion: v,
      maxVersion: v,
      ciphers: 'DEFAULT@SECLEVEL=0',
      rejectUnauthorized: false,
    });
    s.setTimeout(TIMEOUT_MS, () => s.destroy(new Error('timeout')));
    s.once('secureConnect', () => {
      s.end();
      resolve(`handshake ${s.getProtocol()}`);
    });
    s.once('error', (/** @type {NodeJS.ErrnoException} */ e) => resolve(e.code ?? e.message));
  });
}

const run = {
  attempt: async (item) =>
    (await attempt({ host: item.host, address: item.host, port: item.port }, { version: item.version, sni: null }))
      .outcome,
  'node-tls': nodeTlsOnce,
  tcp: (item) => tcpOnce(item.host, item.port),
  scan: async (item) => {
    const res = await scan(item.host, { port: item.port });
    const a = res.addresses[0];
    if (a && item.expect) {
      // The versions the endpoint accepted must be the ones its behaviour is configured to accept.
      const accepted = a.versions.filter((v) => v?.supported).map((v) => v.version);
      if (accepted.join() !== item.expect.join())
        mismatches.push(
          `${item.host}:${item.port} (${item.name}): accepted [${accepted}], configured [${item.expect}]`,
        );
    }
    return a ? a.versions.map((v) => (v ? `${v.version}:${v.outcome}` : 'skipped')).join(' ') : 'dns-error';
  },
  'tcp-scan': async (item) => (await Promise.all([0, 1, 2, 3, 4].map(() => tcpOnce(item.host, item.port)))).join(' '),
}[mode];
if (!run) throw new Error(`unknown mode ${mode}`);

const outcomes = {};
const mismatches = [];
const latencies = [];
let next = 0;
const t0 = performance.now();
async function lane() {
  while (next < plan.length) {
    const item = plan[next++];
    const s = performance.now();
    const outcome = await run(item);
    latencies.push(performance.now() - s);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, plan.length) }, lane));
const wallMs = performance.now() - t0;
latencies.sort((a, b) => a - b);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
process.stdout.write(
  `${JSON.stringify({ mode, wallMs, items: plan.length, outcomes, latencyMs: { p50: q(0.5), p99: q(0.99) }, mismatches, rssKiB: process.resourceUsage().maxRSS, rssIdleKiB })}\n`,
);
