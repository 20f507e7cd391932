#!/usr/bin/env node
// `npm run soak`: the load run of issue 8. 10,000 probes with mixed outcomes (resets, FINs, alerts,
// timeouts, malformed and mismatched replies, real TLS 1.0-1.3 handshakes) against the hostile lab
// and the main lab on loopback, in one child process, over the compiled library in dist/ (built
// first when src/ is newer). Checks that every outcome is the expected one, that no socket, server
// or timer is left once the labs are closed, and that the child then exits by itself, promptly; prints
// probes, duration, peak RSS and handles after, and exits non-zero when any check fails.
//
// Usage: npm run soak -- [--probes N] [--concurrency N] [--max-minutes M] [--json FILE]
//   --probes N       probes in all (default 10000)
//   --concurrency N  probes in flight at once (default 40)
//   --max-minutes M  the child is killed and the run fails past this (default 15)
//   --json FILE      also write the report as JSON
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { usage as sharedUsage } from './lib/usage.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** How long the child may take to exit after its report: it has nothing left to do by then. */
const EXIT_GRACE_MS = 2000;

function usage(problem) {
  sharedUsage(import.meta.url, 'soak', problem);
}

/** @type {{ probes: number, concurrency: number, maxMinutes: number, json: string | null, child: boolean }} */
const opts = { probes: 10_000, concurrency: 40, maxMinutes: 15, json: null, child: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const num = (name) => {
    const v = Number(argv[++i]);
    if (!Number.isSafeInteger(v) || v < 1) usage(`${name} takes a positive integer`);
    return v;
  };
  if (a === '--probes') opts.probes = num('--probes');
  else if (a === '--concurrency') opts.concurrency = num('--concurrency');
  else if (a === '--max-minutes') opts.maxMinutes = num('--max-minutes');
  else if (a === '--json') opts.json = argv[++i] ?? usage('--json takes a file name');
  else if (a === '--child') opts.child = true;
  else if (a === '--help' || a === '-h') usage(null);
  else usage(`unknown option ${a}`);
}

if (opts.child) await child();
else await parent();

/** The load itself: runs in its own process so that its exit proves nothing was left running. */
async function child() {
  const { runHostileLoad } = await import(pathToFileURL(join(REPO, 'dist/lab/hostile-load.js')).href);
  const report = await runHostileLoad({
    probes: opts.probes,
    concurrency: opts.concurrency,
    readTimeoutMs: 1500,
    progressEvery: 1000,
    onProgress: (n) => console.log(`soak: ${n} probes done`),
  });
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  console.log(`SOAK-REPORT ${JSON.stringify({ ...report, maxRssBytes })}`);
  // No process.exit(): the process must end by itself once the report is out.
}

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

function ensureBuilt() {
  const built = join(REPO, 'dist/lab/hostile-load.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(REPO, 'src'))) return;
  console.log('soak: dist/ is older than src/: building (tsc -p tsconfig.build.json)');
  const r = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: REPO,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    // tsc still emits on type errors (another change in progress elsewhere); what matters here is
    // that the library was compiled.
    if (!existsSync(built)) {
      console.error('soak: the build failed');
      process.exit(1);
    }
    console.error('soak: tsc reported errors (see above); running on what it emitted');
  }
}

async function parent() {
  ensureBuilt();
  console.log(
    `soak: ${opts.probes} probes, ${opts.concurrency} at a time, loopback only, at most ${opts.maxMinutes} min`,
  );
  const t0 = Date.now();
  let reportAt = null;
  /** @type {any} the child's SOAK-REPORT line, parsed */
  let report = null;
  const proc = spawn(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      '--child',
      '--probes',
      String(opts.probes),
      '--concurrency',
      String(opts.concurrency),
    ],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let buffered = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (text) => {
    buffered += text;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith('SOAK-REPORT ')) {
        reportAt = Date.now();
        report = JSON.parse(line.slice('SOAK-REPORT '.length));
      } else console.log(line);
    }
  });
  const killer = setTimeout(() => {
    console.error(`soak: still running after ${opts.maxMinutes} min: killing the child`);
    proc.kill('SIGKILL');
  }, opts.maxMinutes * 60_000);
  const code = await new Promise((r) => proc.once('exit', (c, s) => r(c ?? (s ? 1 : 0))));
  clearTimeout(killer);
  const exitedAt = Date.now();

  const problems = [];
  if (code !== 0) problems.push(`the child exited with ${code}`);
  if (!report) {
    problems.push('no report from the child');
  } else {
    if (report.probes !== opts.probes) problems.push(`${report.probes} probes ran of ${opts.probes}`);
    if (report.unexpectedCount > 0)
      problems.push(`${report.unexpectedCount} unexpected outcomes, e.g. ${report.unexpected.slice(0, 5).join('; ')}`);
    const leaked = Object.entries(report.handlesAfter).filter(([k, n]) => n > (report.handlesBefore[k] ?? 0));
    if (leaked.length > 0)
      problems.push(`handles left after closing: ${leaked.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  const exitMs = reportAt === null ? null : exitedAt - reportAt;
  if (exitMs !== null && exitMs > EXIT_GRACE_MS)
    problems.push(`the child took ${exitMs} ms to exit after its report (something kept it alive)`);

  if (report) {
    const mib = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    console.log(
      `soak: ${report.probes} probes in ${(report.elapsedMs / 1000).toFixed(1)} s (${((report.probes / report.elapsedMs) * 1000).toFixed(0)}/s), slowest probe ${report.maxProbeMs.toFixed(0)} ms`,
    );
    console.log(
      `soak: outcomes ${Object.entries(report.outcomes)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
    console.log(
      `soak: RSS before ${mib(report.rssBefore)}, peak ${mib(Math.max(report.rssPeak, report.maxRssBytes))}, after ${mib(report.rssAfter)}`,
    );
    console.log(
      `soak: handles before ${JSON.stringify(report.handlesBefore)}, after ${JSON.stringify(report.handlesAfter)}; exited ${exitMs} ms after its report`,
    );
  }
  if (opts.json && report)
    writeFileSync(opts.json, `${JSON.stringify({ ...report, exitMs, wallMs: exitedAt - t0, problems }, null, 2)}\n`);
  if (problems.length > 0) {
    for (const p of problems) console.error(`soak: FAIL: ${p}`);
    process.exitCode = 1;
  } else {
    console.log('soak: OK');
  }
}
