// Holds lab endpoints in a process of its own, so that the servers do not share an event loop (or a
// peak RSS) with the prober being measured. Prints one JSON line, {"endpoints":[{name,host,port}]},
// once everything listens, and runs until its stdin closes or it gets SIGTERM.
// Usage: node bench/lib/lab-host.mjs [--names modern,reset-legacy] [--many N]
//   --names  lab endpoints on 127.0.0.1 (src/lab/lab.ts startLab)
//   --many   N extra endpoints, one per loopback address 127.0.x.y from 127.0.0.2 up (Linux routes all
//            of 127/8 to lo), cycling through the lab behaviours below; same lab chain.
import { lib } from './env.mjs';

const MANY_KINDS = ['modern', 'legacy', 'reset-legacy', 'alert-legacy', 'tls13-only'];

function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const { startLab } = await lib('lab/lab.js');
const { startEndpoint } = await lib('lab/endpoints.js');
const { generateLabPki } = await lib('lab/pki.js');

const names = (arg('--names') ?? 'modern,reset-legacy').split(',').filter(Boolean);
const many = Number(arg('--many') ?? 0);
const pki = await generateLabPki({ keyAlgorithm: 'ecdsa-p256' });
const lab = await startLab({ names, pki });
const endpoints = lab.endpoints.map((e) => ({ name: e.name, host: e.host, port: e.port }));
const extra = [];
for (let i = 0; i < many; i += 50) {
  // 50 at a time: each is a tls.Server with its own secure context.
  const batch = [];
  for (let k = i; k < Math.min(many, i + 50); k++) {
    const n = k + 2; // 127.0.0.2 …
    const host = `127.0.${n >> 8}.${n & 0xff}`;
    const name = MANY_KINDS[k % MANY_KINDS.length];
    batch.push(startEndpoint(name, host, pki).then((run) => ({ run, name, host })));
  }
  extra.push(...(await Promise.all(batch)));
}
for (const { run, name, host } of extra) endpoints.push({ name, host, port: run.port, versions: run.spec.versions });

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await Promise.all([lab.close(), ...extra.map((x) => x.run.close())]);
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.stdin.on('end', shutdown);
process.stdin.resume();
process.stdout.write(`${JSON.stringify({ endpoints, rssKiB: process.resourceUsage().maxRSS })}\n`);
