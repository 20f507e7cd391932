/**
 * The connection limiter with real timers and small delays: concurrency, rate spacing (measured
 * with performance.now, the limiter's own clock), the total budget, abort, and no leaked timers.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createLimiter, isBudgetExhausted } from '../../src/probe/limiter.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Counts the timers created through the global setTimeout while tracking that have neither fired
 * nor been cleared; `restore` puts the real functions back.
 */
function trackTimers(): { pending(): number; restore(): void } {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Set<unknown>();
  const patchedSet = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const h = realSet(
      (...a: unknown[]) => {
        live.delete(h);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.add(h);
    return h;
  }) as typeof setTimeout;
  globalThis.setTimeout = patchedSet;
  globalThis.clearTimeout = ((h: Parameters<typeof clearTimeout>[0]) => {
    live.delete(h);
    realClear(h);
  }) as typeof clearTimeout;
  return {
    pending: () => live.size,
    restore: () => {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}

describe('createLimiter', () => {
  it('never runs more than `concurrency` calls at once and runs them all', async () => {
    const lim = createLimiter({ concurrency: 3 });
    let inFlight = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        lim.run(async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await sleep(20);
          inFlight--;
          return i;
        }),
      ),
    );
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
    expect(lim.used).toBe(10);
    expect(lim.exhausted).toBe(false);
  });

  it('spaces call starts at least 1000/rate ms apart, in call order', async () => {
    const lim = createLimiter({ concurrency: 10, rate: 25 }); // 40 ms apart
    const starts: number[] = [];
    const order: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        lim.run(async () => {
          starts.push(performance.now());
          order.push(i);
        }),
      ),
    );
    const total = performance.now() - t0;
    expect(order).toEqual([0, 1, 2, 3, 4]);
    // The limiter spaces its start decisions 40 ms apart; the calls themselves run a microtask or
    // two later, which on a busy machine moves a measured start by a few ms either way.
    const JITTER_MS = 8;
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(40 - JITTER_MS);
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(160 - JITTER_MS);
    expect(total).toBeGreaterThanOrEqual(160 - JITTER_MS);
    expect(total).toBeLessThan(160 + 2000); // generous: two busy cores
  });

  it('accepts a fractional rate (12.5 per second: 80 ms apart)', async () => {
    const lim = createLimiter({ concurrency: 1, rate: 12.5 });
    const starts: number[] = [];
    for (let i = 0; i < 3; i++) await lim.run(async () => void starts.push(performance.now()));
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(80 - 8); // a few ms of scheduling jitter, as above
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(80 - 8);
  });

  it('does not delay a call when the rate interval has already passed', async () => {
    const lim = createLimiter({ concurrency: 1, rate: 20 }); // 50 ms apart
    await lim.run(async () => 1);
    await sleep(80);
    const t = performance.now();
    await lim.run(async () => 2);
    expect(performance.now() - t).toBeLessThan(40);
  });

  it('resolves BudgetExhausted without calling fn once maxConnections calls were granted', async () => {
    const lim = createLimiter({ concurrency: 2, maxConnections: 3 });
    let calls = 0;
    const results = await Promise.all(Array.from({ length: 5 }, () => lim.run(async () => ++calls)));
    expect(calls).toBe(3);
    expect(results.filter(isBudgetExhausted)).toHaveLength(2);
    expect(results.slice(0, 3)).toEqual(expect.arrayContaining([1, 2, 3]));
    expect(lim.used).toBe(3);
    expect(lim.exhausted).toBe(true);
    expect(isBudgetExhausted(await lim.run(async () => 'late'))).toBe(true);
  });

  it('treats maxConnections 0 as no connection at all', async () => {
    const lim = createLimiter({ concurrency: 1, maxConnections: 0 });
    expect(lim.exhausted).toBe(true);
    expect(isBudgetExhausted(await lim.run(async () => 1))).toBe(true);
    expect(lim.used).toBe(0);
  });

  it('passes fn errors through and frees the slot for the next call', async () => {
    const lim = createLimiter({ concurrency: 1 });
    const failing = lim.run(async () => {
      throw new Error('boom');
    });
    const next = lim.run(async () => 'after');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('after');
    // A synchronous throw is turned into a rejection too.
    await expect(
      lim.run((() => {
        throw new TypeError('sync');
      }) as () => Promise<never>),
    ).rejects.toThrow('sync');
  });

  it('rejects waiting and later calls with the abort reason, gives their budget back and leaves no timer', async () => {
    const timers = trackTimers();
    try {
      const ac = new AbortController();
      const lim = createLimiter({ concurrency: 1, rate: 2, maxConnections: 10, signal: ac.signal }); // 500 ms apart
      let calls = 0;
      const first = lim.run(async () => ++calls);
      const second = lim.run(async () => ++calls); // waits for its rate slot: a timer exists
      await first;
      expect(timers.pending()).toBe(1);
      ac.abort(new Error('stop'));
      await expect(second).rejects.toThrow('stop');
      await expect(lim.run(async () => ++calls)).rejects.toThrow('stop');
      expect(calls).toBe(1);
      expect(lim.used).toBe(1);
      expect(timers.pending()).toBe(0);
    } finally {
      timers.restore();
    }
  });

  it('leaves no timer behind once rate-limited calls have all run', async () => {
    const timers = trackTimers();
    const lim = createLimiter({ concurrency: 2, rate: 50 });
    await Promise.all(Array.from({ length: 4 }, () => lim.run(async () => undefined)));
    timers.restore();
    expect(timers.pending()).toBe(0);
  });

  it('rejects impossible options with RangeError', () => {
    expect(() => createLimiter({ concurrency: 0 })).toThrow(RangeError);
    expect(() => createLimiter({ concurrency: 1.5 })).toThrow(RangeError);
    expect(() => createLimiter({ concurrency: 1, rate: 0 })).toThrow(RangeError);
    expect(() => createLimiter({ concurrency: 1, rate: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => createLimiter({ concurrency: 1, maxConnections: -1 })).toThrow(RangeError);
  });
});

describe('isBudgetExhausted', () => {
  it('recognises only the budget marker', () => {
    expect(isBudgetExhausted({ budgetExhausted: true })).toBe(true);
    expect(isBudgetExhausted({ budgetExhausted: false })).toBe(false);
    expect(isBudgetExhausted(null)).toBe(false);
    expect(isBudgetExhausted('budgetExhausted')).toBe(false);
    expect(isBudgetExhausted({ outcome: 'negotiated' })).toBe(false);
  });
});
