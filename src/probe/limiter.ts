/**
 * The connection budget of a scan: `createLimiter` returns a `Limiter` whose `run(fn)` resolves with
 * `fn()`'s result once a connection slot is free, or with `BudgetExhausted` (without calling `fn`)
 * once the total allowed has been spent; it rejects only with the abort reason when the signal fires.
 *
 * One limiter is shared by everything that connects to one host during a scan, so `--max-connections`,
 * `--rate` and the per-host concurrency hold for the whole scan, not per probe:
 * - concurrency: at most N calls of `fn` in flight at once;
 * - rate: the starts of successive calls are spaced at least 1000/rate ms apart (a steady pace
 *   rather than bursts, which is what IDS thresholds and polite scanning care about);
 * - maxConnections: once `used` reaches it, further calls resolve `BudgetExhausted` at once.
 *
 * Waiting calls start in the order `run` was called. Resource discipline: at most one timer exists,
 * only while a call waits for its rate slot; aborting clears it and rejects every waiting call.
 */
import { performance } from 'node:perf_hooks';

/** Default per-host concurrency: enough to overlap round trips, few enough not to look like a flood. */
export const DEFAULT_CONCURRENCY = 4;

export interface LimiterOptions {
  /** At most this many calls in flight (default `DEFAULT_CONCURRENCY`); must be ≥ 1. */
  readonly concurrency: number;
  /** Connections per second, decimals allowed (0.5 = one every 2 s); undefined = unlimited. */
  readonly rate?: number;
  /** Total calls allowed over the limiter's life; undefined = unlimited. */
  readonly maxConnections?: number;
  /** Aborting rejects every waiting and later call with `signal.reason`. Calls in flight are the caller's to cancel. */
  readonly signal?: AbortSignal;
}

/** What `run` resolves with when the total budget is spent: `fn` was not called. */
export interface BudgetExhausted {
  readonly budgetExhausted: true;
}

export interface Limiter {
  /** Resolves `fn()`'s result once allowed, or `BudgetExhausted` without calling it; rejects with `fn`'s error or the abort reason. */
  run<T>(fn: () => Promise<T>): Promise<T | BudgetExhausted>;
  /** Calls granted so far (started or about to start); never more than `maxConnections`. */
  readonly used: number;
  /** True once `used` has reached `maxConnections`. */
  readonly exhausted: boolean;
  /** The most calls in flight at once (`LimiterOptions.concurrency`): how many ways work can usefully be split. */
  readonly concurrency: number;
}

const BUDGET_EXHAUSTED: BudgetExhausted = Object.freeze({ budgetExhausted: true as const });

/** Returns true when `x` is the `BudgetExhausted` marker that `Limiter.run` resolves with. */
export function isBudgetExhausted(x: unknown): x is BudgetExhausted {
  return typeof x === 'object' && x !== null && (x as { budgetExhausted?: unknown }).budgetExhausted === true;
}

interface Waiter {
  readonly start: () => void;
  readonly reject: (reason: unknown) => void;
}

/**
 * Returns a limiter for `opts`. Throws RangeError for a concurrency below 1 or not an integer, a
 * rate that is not a positive finite number, or a negative or fractional maxConnections.
 */
export function createLimiter(opts: LimiterOptions): Limiter {
  const concurrency = opts.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency must be an integer ≥ 1, not ${concurrency}`);
  if (opts.rate !== undefined && !(Number.isFinite(opts.rate) && opts.rate > 0))
    throw new RangeError(`rate must be a positive number of connections per second, not ${opts.rate}`);
  const max = opts.maxConnections;
  if (max !== undefined && (!Number.isInteger(max) || max < 0))
    throw new RangeError(`maxConnections must be an integer ≥ 0, not ${max}`);
  const spacingMs = opts.rate === undefined ? 0 : 1000 / opts.rate;
  const signal = opts.signal;

  let used = 0;
  let inFlight = 0;
  /** Earliest performance.now() at which the next call may start. */
  let nextStartAt = 0;
  let timer: NodeJS.Timeout | null = null;
  const queue: Waiter[] = [];

  const clearTimer = (): void => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  };

  /** Starts as many queued calls as concurrency and rate allow; arms the one timer when the rate holds the head back. */
  const pump = (): void => {
    while (queue.length > 0 && inFlight < concurrency) {
      const now = performance.now();
      if (now < nextStartAt) {
        if (timer === null) {
          timer = setTimeout(
            () => {
              timer = null;
              pump();
            },
            Math.ceil(nextStartAt - now),
          );
        }
        return;
      }
      const w = queue.shift()!;
      inFlight++;
      nextStartAt = now + spacingMs;
      w.start();
    }
    if (queue.length === 0) clearTimer();
  };

  const onAbort = (): void => {
    clearTimer();
    const reason: unknown = signal?.reason;
    for (const w of queue.splice(0)) w.reject(reason);
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  return {
    get used(): number {
      return used;
    },
    get exhausted(): boolean {
      return max !== undefined && used >= max;
    },
    concurrency,
    run<T>(fn: () => Promise<T>): Promise<T | BudgetExhausted> {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (max !== undefined && used >= max) return Promise.resolve(BUDGET_EXHAUSTED);
      // The slot is counted now, not at start, so the calls already waiting cannot overshoot the budget.
      used++;
      return new Promise<T | BudgetExhausted>((resolve, reject) => {
        queue.push({
          start: () => {
            let p: Promise<T>;
            try {
              p = fn();
            } catch (e) {
              p = Promise.reject(e);
            }
            // The slot is freed before the caller resumes, so the next waiting call is already on its way.
            const release = (): void => {
              inFlight--;
              pump();
            };
            p.then(
              (v) => {
                release();
                resolve(v);
              },
              (e: unknown) => {
                release();
                reject(e);
              },
            );
          },
          reject: (reason) => {
            // The call never started: give its slot back to the budget.
            used--;
            reject(reason);
          },
        });
        pump();
      });
    },
  };
}
