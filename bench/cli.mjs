#!/usr/bin/env node
// Start-up time of the CLI: `node dist/cli/main.js --help` (and `--version`), whole process, median
// of N spawns interleaved with `node -e 0` (the floor: Node's own start) in the same run. Then what
// the start-up is made of: the import time of each heavy dependency and each command module, each
// in a fresh process (it includes what that module imports in turn).
// Issue 7 target: `tlsprobe --help` under 150 ms. Issue 16 item 2: the bundled CLI (dist/bundle/, the
// package's `bin`) against the unbundled one, bench/lib/startup-ab.mjs.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarize } from './lib/harness.mjs';
import { startupAB } from './lib/startup-ab.mjs';
import { DIST, QUICK, REPO, reporter } from './lib/env.mjs';

const HELP_TARGET_MS = 150;
const RUNS = QUICK ? 5 : 9;
const r = reporter('cli');
const main = join(DIST, 'cli/main.js');

/** Returns the wall-clock ms of one `node ...args` run (exit code checked). */
function timeRun(args) {
  const t0 = process.hrtime.bigint();
  const res = spawnSync(process.execPath, args, {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (res.status !== 0) throw new Error(`node ${args.join(' ')} exited ${res.status}: ${res.stderr}`);
  return ms;
}

/** Runs each command RUNS times, interleaved; returns per-command summaries (ms) and per-run ratios to the first. */
function interleaved(commands) {
  for (const c of commands) timeRun(c.args); // warm the file cache
  const times = commands.map(() => /** @type {number[]} */ ([]));
  for (let i = 0; i < RUNS; i++)
    commands.forEach((c, k) => {
      times[k].push(timeRun(c.args));
    });
  return commands.map((c, k) => ({
    name: c.name,
    ...summarize(times[k]),
    runs: times[k],
    ratioToFirst: summarize(times[k].map((t, i) => t / times[0][i])).median,
  }));
}

const ms = (x) => x * 1e6; // reporter takes ns

const [help, version, yargsOnly, floor] = interleaved([
  { name: 'node dist/cli/main.js --help', args: [main, '--help'] },
  { name: 'node dist/cli/main.js --version', args: [main, '--version'] },
  {
    name: 'one-command yargs CLI --help (the parser alone)',
    args: [join(REPO, 'bench/lib/yargs-minimal.mjs'), '--help'],
  },
  { name: 'node -e 0', args: ['-e', '0'] },
]);
const helpMet = help.median < HELP_TARGET_MS;
r.report({
  id: 'cli/start/help',
  title: `tlsprobe --help start-up, whole process, median of ${RUNS} (wall clock)`,
  ours: { name: help.name, median: ms(help.median), p25: ms(help.p25), p75: ms(help.p75) },
  baselines: [
    { name: floor.name, median: ms(floor.median), ratio: floor.ratioToFirst },
    { name: yargsOnly.name, median: ms(yargsOnly.median), ratio: yargsOnly.ratioToFirst },
    { name: version.name, median: ms(version.median), ratio: version.ratioToFirst },
  ],
  targets: [
    {
      text: `--help under ${HELP_TARGET_MS} ms (median ${help.median.toFixed(0)} ms; Node itself ${floor.median.toFixed(0)} ms)`,
      met: helpMet,
    },
  ],
  notes: [
    `tlsprobe's own share: ${(help.median - floor.median).toFixed(0)} ms over \`node -e 0\` (the top-level help is drawn without loading yargs: src/cli/top-help.ts); a one-command yargs CLI pays ${(yargsOnly.median - floor.median).toFixed(0)} ms for its --help`,
  ],
});

// What the start-up is made of.
const modules = [
  ['yargs, CommonJS build (how tlsprobe loads it)', 'require:yargs/yargs'],
  ['yargs, ESM entry point', 'yargs'],
  ['pkijs (with asn1js)', 'pkijs'],
  ['cli-table3', 'cli-table3'],
  ['dist/cli/run.js (the CLI before parsing)', pathToFileURL(join(DIST, 'cli/run.js')).href],
  ['dist/cli/commands/decode.js', pathToFileURL(join(DIST, 'cli/commands/decode.js')).href],
  ['dist/cli/commands/probe.js', pathToFileURL(join(DIST, 'cli/commands/probe.js')).href],
  ['dist/cli/commands/chain.js', pathToFileURL(join(DIST, 'cli/commands/chain.js')).href],
  ['dist/cli/commands/lab.js', pathToFileURL(join(DIST, 'cli/commands/lab.js')).href],
];
const importRuns = QUICK ? 1 : 2;
const importTimes = modules.map(() => /** @type {number[]} */ ([]));
// Round-robin, so that a burst of load on the machine hits every module alike.
for (let i = 0; i < importRuns; i++) {
  modules.forEach(([, spec], k) => {
    const res = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        spec.startsWith('require:')
          ? `import { createRequire } from 'node:module'; const t = performance.now(); createRequire(${JSON.stringify(pathToFileURL(join(REPO, 'x.js')).href)})(${JSON.stringify(spec.slice(8))}); console.log(performance.now() - t);`
          : `const t = performance.now(); await import(${JSON.stringify(spec)}); console.log(performance.now() - t);`,
      ],
      { cwd: REPO, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    if (res.status === 0) importTimes[k].push(Number(res.stdout.trim()));
  });
}
const costs = modules.flatMap(([name], k) =>
  importTimes[k].length ? [{ name, ms: summarize(importTimes[k]).median }] : [],
);
costs.sort((a, b) => b.ms - a.ms);
r.report({
  id: 'cli/start/imports',
  title: `import time of each module in a fresh process (median of ${importRuns}; includes what it imports)`,
  targets: [],
  notes: costs.map((c) => `${c.ms.toFixed(0).padStart(5)} ms  ${c.name}`),
  imports: costs,
});

// Issue 16 item 2: the bundle against the unbundled CLI, with `node -e 0` in every round.
const ab = await startupAB({ repo: REPO, dist: DIST, rounds: RUNS });
if (ab === null) r.skip('cli/start/bundle', 'bundled CLI against unbundled', `${DIST}/bundle/tlsprobe.js is missing`);
else {
  const line = (name) => /** @type {NonNullable<typeof ab>['lines'][number]} */ (ab.lines.find((l) => l.name === name));
  const floor = line('node -e 0');
  const own = (l) => l.wall.median - floor.wall.median;
  const cpuText = (l) => (l.cpu ? ` ${l.cpu.median.toFixed(0)} ms` : '');
  for (const what of ['--version', '--help', 'probe --json']) {
    const before = line(`unbundled ${what}`);
    const after = line(`bundled ${what}`);
    r.report({
      id: `cli/start/bundle/${what.split(' ')[0].replace(/^-+/, '')}`,
      title: `tlsprobe ${what === 'probe --json' ? 'probe 127.0.0.1:PORT --json (lab endpoint modern)' : what}: bundled against unbundled, whole process, median of ${ab.rounds} interleaved rounds`,
      ours: {
        name: `dist/bundle/tlsprobe.js ${what}`,
        median: ms(after.wall.median),
        p25: ms(after.wall.p25),
        p75: ms(after.wall.p75),
      },
      baselines: [
        {
          name: `dist/cli/main.js ${what}`,
          median: ms(before.wall.median),
          ratio: before.wall.median / after.wall.median,
        },
        { name: floor.name, median: ms(floor.wall.median), ratio: floor.wall.median / after.wall.median },
      ],
      targets: [],
      notes: [
        `own time (whole − node -e 0): bundled ${own(after).toFixed(0)} ms, unbundled ${own(before).toFixed(0)} ms (${(100 * (1 - own(after) / own(before))).toFixed(0)}% less)`,
        `CPU (user+sys): bundled${cpuText(after) || ' n/a'}; unbundled${cpuText(before) || ' n/a'}; node -e 0${cpuText(floor) || ' n/a'}`,
      ],
      ab: { before, after, floor },
    });
  }
  const fc = ab.firstConnect;
  r.report({
    id: 'cli/start/bundle/first-connect',
    title: `probe 127.0.0.1:PORT --json: time from process start to the first connection (median of ${ab.rounds})`,
    ours: {
      name: 'dist/bundle/tlsprobe.js',
      median: ms(fc.bundled.median),
      p25: ms(fc.bundled.p25),
      p75: ms(fc.bundled.p75),
    },
    baselines: [
      { name: 'dist/cli/main.js', median: ms(fc.unbundled.median), ratio: fc.unbundled.median / fc.bundled.median },
    ],
    targets: [],
    notes: [
      `modules loaded before it: bundled ${fc.bundled.esmBeforeConnect} ES + ${fc.bundled.cjsBeforeConnect} CommonJS files; unbundled ${fc.unbundled.esmBeforeConnect} ES + ${fc.unbundled.cjsBeforeConnect} CommonJS`,
    ],
  });
}

r.finish();
