// Issue 16 item 2, the bundled CLI against the unbundled one (bench/cli.mjs runs it): `--version`,
// `--help` and a one-endpoint `probe 127.0.0.1:PORT --json` of a lab endpoint (in a process of its
// own), each from dist/cli/main.js (tsc's output: ~50 ES modules and yargs's ~20 CommonJS modules)
// and from dist/bundle/tlsprobe.js (scripts/build-bundle.mjs), with `node -e 0` in the same round;
// rounds interleaved, order rotated from round to round. Per command line: wall-clock median, the
// CPU time of the process (user+sys, from this process's cutime+cstime in /proc/self/stat, in clock
// ticks; Linux only) and, for the probe, when its first connection starts and how many modules it
// loaded before (bench/lib/startup-trace.mjs; module counting in runs of its own, it slows loading).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { summarize } from './harness.mjs';

/** Clock ticks per second of /proc's times (USER_HZ: 100 on every Linux Node supports). */
const USER_HZ = 100;

/** Returns this process's children's CPU time so far in ms (waited-for children only), or null off Linux. */
function childrenCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces) in parentheses: cutime and cstime are 16 and 17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[13]) + Number(f[14])) * 1000) / USER_HZ;
  } catch {
    return null;
  }
}

/** Starts bench/lib/lab-host.mjs (endpoint `modern`); resolves { child, port }. */
function startLab(repo, dist) {
  const child = spawn(process.execPath, [join(repo, 'bench/lib/lab-host.mjs'), '--names', 'modern'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, TLSPROBE_BENCH_DIST: dist },
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{')) resolve({ child, port: JSON.parse(line).endpoints[0].port });
    });
    child.once('exit', (code) => reject(new Error(`lab host exited (${code})`)));
  });
}

/**
 * One run of `node ARGS`: wall ms, CPU ms, stdout, stderr. Throws unless it exits with one of `codes`
 * (the probe exits 1: the lab's root is not among the documented roots, a problem it reports).
 */
function runOnce(repo, args, codes, env = {}) {
  const cpu0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  const res = spawnSync(process.execPath, args, {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    maxBuffer: 64 << 20,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu1 = childrenCpuMs();
  if (!codes.includes(res.status ?? -1))
    throw new Error(`node ${args.join(' ')} exited ${res.status}: ${String(res.stderr).slice(0, 400)}`);
  return { wall, cpu: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0, stdout: res.stdout, stderr: res.stderr };
}

/** Returns the JSON line startup-trace.mjs prints on stderr. */
function traceOf(stderr) {
  const line = stderr.split('\n').find((l) => l.startsWith('{"firstConnectMs"'));
  if (!line) throw new Error(`no start-up trace in: ${stderr.slice(0, 400)}`);
  return JSON.parse(line);
}

/** The versions a probe's JSON says are supported (the runs are checked to find the same). */
function supported(stdout) {
  return JSON.parse(stdout)
    .results[0].versions.filter((v) => v.supported)
    .map((v) => v.version)
    .join(',');
}

/**
 * Measures the A/B; resolves { rounds, lines: [{ name, wall, cpu, ratioToFloor }], firstConnect:
 * { unbundled, bundled } } with summaries in ms, or null when dist has no bundle.
 */
export async function startupAB({ repo, dist, rounds }) {
  const bundle = join(dist, 'bundle/tlsprobe.js');
  const main = join(dist, 'cli/main.js');
  if (!existsSync(bundle)) return null;
  const { child, port } = await startLab(repo, dist);
  try {
    const probe = ['probe', `127.0.0.1:${port}`, '--json'];
    const lines = [
      { name: 'node -e 0', args: ['-e', '0'], codes: [0], probe: false },
      ...[
        ['unbundled', main],
        ['bundled', bundle],
      ].flatMap(([form, file]) => [
        { name: `${form} --version`, args: [file, '--version'], codes: [0], probe: false },
        { name: `${form} --help`, args: [file, '--help'], codes: [0], probe: false },
        { name: `${form} probe --json`, args: [file, ...probe], codes: [0, 1], probe: true },
      ]),
    ];
    const trace = join(repo, 'bench/lib/startup-trace.mjs');
    const traced = [
      { name: 'unbundled', args: ['--import', trace, main, ...probe] },
      { name: 'bundled', args: ['--import', trace, bundle, ...probe] },
    ];
    const wall = lines.map(() => /** @type {number[]} */ ([]));
    const cpu = lines.map(() => /** @type {number[]} */ ([]));
    const first = traced.map(() => /** @type {number[]} */ ([]));
    const counts = traced.map(() => ({ esmBeforeConnect: 0, cjsBeforeConnect: 0 }));
    const found = new Set();
    for (const l of lines) runOnce(repo, l.args, l.codes); // warm the file cache
    for (let i = 0; i < rounds; i++) {
      for (let j = 0; j < lines.length; j++) {
        const k = (i + j) % lines.length;
        const r = runOnce(repo, lines[k].args, lines[k].codes);
        wall[k].push(r.wall);
        if (r.cpu !== null) cpu[k].push(r.cpu);
        if (lines[k].probe) found.add(supported(r.stdout));
      }
      for (let j = 0; j < traced.length; j++) {
        const k = (i + j) % traced.length;
        first[k].push(traceOf(runOnce(repo, traced[k].args, [0, 1]).stderr).firstConnectMs);
      }
    }
    if (found.size !== 1) throw new Error(`the probes disagreed on the versions supported: ${[...found].join(' / ')}`);
    traced.forEach((t, k) => {
      const r = runOnce(repo, t.args, [0, 1], { TLSPROBE_TRACE_MODULES: '1' });
      counts[k] = traceOf(r.stderr);
    });
    return {
      rounds,
      lines: lines.map((l, k) => ({
        name: l.name,
        wall: summarize(wall[k]),
        cpu: cpu[k].length ? summarize(cpu[k]) : null,
        ratioToFloor: summarize(wall[k].map((t, i) => t / wall[0][i])).median,
      })),
      firstConnect: Object.fromEntries(
        traced.map((t, k) => [
          t.name,
          {
            ...summarize(first[k]),
            esmBeforeConnect: counts[k].esmBeforeConnect,
            cjsBeforeConnect: counts[k].cjsBeforeConnect,
          },
        ]),
      ),
    };
  } finally {
    child.stdin.end();
    child.kill('SIGTERM');
  }
}
