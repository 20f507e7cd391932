// Timing harness for the micro-benchmarks: runs "ours" and its baselines interleaved, sample by
// sample, and returns medians and per-sample ratios, so that a noisy machine (2 shared cores) slows
// both sides of a ratio alike. No timing is ever asserted: targets are reported as met / not met.

/** Sink for results, so V8 cannot drop the work being timed. */
let sink = 0;

/** Returns the nanoseconds taken by `n` calls of `fn`. */
function timeLoop(fn, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink = (sink + fn()) | 0;
  return Number(process.hrtime.bigint() - t0);
}

/**
 * `gc()` when node runs with --expose-gc (run-bench.mjs passes it), called once before each
 * comparison so that garbage left by the previous one is not collected during this one. Not before
 * each sample: forced full GCs age the code of the candidates that are not running, and V8 then
 * flushes it (measured: 3–25× slower samples).
 */
const collect = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};

/**
 * Returns [wall ns, CPU ns] of one sample of `n` calls. CPU time (user + system of the whole process,
 * GC threads included) leaves out the time other processes held the cores, so on a shared machine it
 * is the steadier measure of our own cost.
 */
function sample(fn, n) {
  const c0 = process.cpuUsage();
  const wall = timeLoop(fn, n);
  const c = process.cpuUsage(c0);
  return [wall, (c.user + c.system) * 1e3];
}

/** Returns the iteration count that makes one sample last about `sampleNs`. */
function calibrate(fn, sampleNs) {
  let n = 1;
  for (;;) {
    const t = timeLoop(fn, n);
    if (t >= sampleNs / 4 || n >= 1 << 26) return Math.max(1, Math.round((n * sampleNs) / Math.max(t, 1)));
    n *= 2;
  }
}

function quantile(sorted, q) {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/** Returns { median, p25, p75, min } of `xs`. */
export function summarize(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75), min: s[0] };
}

/** Default sampling: 15 samples of ~8 ms per candidate, after 100 ms of warm-up. */
export const DEFAULT_SAMPLING = { samples: 15, sampleMs: 8, warmupMs: 100 };

/**
 * Returns timings (ns per call) of each candidate, the first being ours. Every fn must return a
 * number (folded into a sink). Samples are interleaved (A B C, B C A, …). The figures are CPU time
 * (`median`, `p25`, `p75`, `min`), with the wall-clock median in `wall`: on a shared machine the
 * wall clock also counts the time other processes held the cores. Each baseline's `ratio` is the
 * median over samples of baseline/ours CPU time, so > 1 means ours is faster.
 */
export function compare(candidates, sampling = DEFAULT_SAMPLING) {
  const { samples, sampleMs, warmupMs } = { ...DEFAULT_SAMPLING, ...sampling };
  const sampleNs = sampleMs * 1e6;
  collect();
  const iters = candidates.map((c) => {
    const end = performance.now() + warmupMs;
    while (performance.now() < end) timeLoop(c.fn, 16);
    return calibrate(c.fn, sampleNs);
  });
  const wallPerOp = candidates.map(() => []);
  const cpuPerOp = candidates.map(() => []);
  for (let s = 0; s < samples; s++) {
    for (let k = 0; k < candidates.length; k++) {
      const i = (s + k) % candidates.length;
      const [wall, cpu] = sample(candidates[i].fn, iters[i]);
      wallPerOp[i].push(wall / iters[i]);
      cpuPerOp[i].push(cpu / iters[i]);
    }
  }
  const ours = cpuPerOp[0];
  return candidates.map((c, i) => ({
    name: c.name,
    ...summarize(cpuPerOp[i]),
    wall: summarize(wallPerOp[i]).median,
    iterationsPerSample: iters[i],
    ...(i === 0 ? {} : { ratio: summarize(cpuPerOp[i].map((t, s) => t / ours[s])).median }),
  }));
}

/** Calls `fn` for `ms` milliseconds (JIT warm-up before the first comparison of a file). */
export function warmUp(ms, fn) {
  const end = performance.now() + ms;
  while (performance.now() < end) sink = (sink + fn()) | 0;
}

/** Returns a duration in ns as text with a unit that keeps 3 significant digits. */
export function fmtNs(ns) {
  if (ns < 1e3) return `${ns.toPrecision(3)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  return `${(ns / 1e9).toPrecision(3)} s`;
}

/** Returns a ratio as `12.3×`. */
export function fmtRatio(r) {
  return `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** Returns the sink (read it once so the work is observable). */
export function sinkValue() {
  return sink;
}
