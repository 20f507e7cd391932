// One `tlsprobe capture` command line run in-process (the CLI's own `run`, what dist/cli/main.js
// calls), its output counted and dropped, so that the process's peak RSS and CPU time are the
// command's. Prints one JSON line: { wallMs, cpuMs, rssKiB, code, outBytes, outLines,
// jsonConnections, lastLines }.
// Usage: node bench/lib/cli-worker.mjs [--dist DIR] -- ARG...
import { lib } from './env.mjs';

const args = process.argv.slice(process.argv.indexOf('--') + 1);
const { run } = await lib('cli/run.js');
let outBytes = 0;
let outLines = 0;
/** Lines that open a connection of --json (its `index` member, at its depth). */
let jsonConnections = 0;
const tail = [];
const keep = (t) => {
  outBytes += t.length + 1;
  for (const l of t.split('\n')) {
    outLines++;
    if (l.startsWith('      "index": ')) jsonConnections++;
    tail.push(l);
    if (tail.length > 3) tail.shift();
  }
};
const c0 = process.cpuUsage();
const t0 = performance.now();
const code = await run(args, { out: keep, err: keep, setExitCode: () => {}, isTty: false });
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(c0);
process.stdout.write(
  `${JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1e3, rssKiB: process.resourceUsage().maxRSS, code, outBytes, outLines, jsonConnections, lastLines: tail })}\n`,
);
