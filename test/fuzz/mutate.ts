/**
 * Fuzz inputs: returns fast-check arbitraries of random bytes and of mutations of real inputs, and
 * the budget (runs per parser, seed) for this run. The normal suite uses a fixed seed and a small
 * budget; `npm run fuzz` raises both through the environment:
 *
 * - `TLSPROBE_FUZZ_RUNS`: runs per parser target (default: each target's CI budget);
 * - `TLSPROBE_FUZZ_SEED`: the fast-check seed (default `CI_SEED`), printed on failure to replay.
 *
 * Mutations are the ones that break binary parsers: bit flips, bytes set to boundary values, length
 * fields overwritten with 0 / max / off-by-one values, inserted and deleted runs, duplicated runs
 * (a repeated extension or record), truncation, and splicing two inputs together.
 */
import fc from 'fast-check';

/** The seed of the normal suite: fixed, so a CI failure replays exactly. */
export const CI_SEED = 0x7e5b5eed;

const envInt = (name: string): number | undefined => {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new TypeError(`${name} must be an integer, got ${JSON.stringify(v)}`);
  return n;
};

/** The seed of this run. */
export const FUZZ_SEED = envInt('TLSPROBE_FUZZ_SEED') ?? CI_SEED;

/** Runs per target for this run: the environment's figure, else `ciRuns`. */
export function fuzzRuns(ciRuns: number): number {
  return envInt('TLSPROBE_FUZZ_RUNS') ?? ciRuns;
}

/** True when `npm run fuzz` (or anyone setting TLSPROBE_FUZZ_RUNS) asked for a long run. */
export const LONG_RUN = envInt('TLSPROBE_FUZZ_RUNS') !== undefined;

/** One edit of an input. Positions are taken modulo the input length at the time of the edit. */
export type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'set'; readonly at: number; readonly value: number }
  | {
      readonly op: 'length';
      readonly at: number;
      readonly width: 1 | 2 | 3;
      readonly kind: 'zero' | 'max' | 'plus' | 'minus' | 'huge';
    }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'delete'; readonly at: number; readonly count: number }
  | { readonly op: 'duplicate'; readonly at: number; readonly count: number }
  | { readonly op: 'truncate'; readonly at: number };

const BOUNDARY = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x16, 0x30, 0x03];

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    op: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(...BOUNDARY), fc.integer({ min: 0, max: 255 })),
  }),
  fc.record({
    op: fc.constant('length' as const),
    at: fc.nat(),
    width: fc.constantFrom(1 as const, 2 as const, 3 as const),
    kind: fc.constantFrom('zero' as const, 'max' as const, 'plus' as const, 'minus' as const, 'huge' as const),
  }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 32 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

/** Returns `input` with `m` applied (a new array; `input` is untouched). */
export function applyMutation(input: Uint8Array, m: Mutation): Uint8Array {
  const n = input.length;
  const at = n === 0 ? 0 : m.at % n;
  switch (m.op) {
    case 'flip': {
      if (n === 0) return input;
      const out = input.slice();
      out[at] = out[at]! ^ (1 << m.bit);
      return out;
    }
    case 'set': {
      if (n === 0) return input;
      const out = input.slice();
      out[at] = m.value;
      return out;
    }
    case 'length': {
      if (n < m.width) return input;
      const p = Math.min(at, n - m.width);
      const out = input.slice();
      let v = 0;
      for (let i = 0; i < m.width; i++) v = v * 256 + out[p + i]!;
      const max = 256 ** m.width - 1;
      const next =
        m.kind === 'zero'
          ? 0
          : m.kind === 'max'
            ? max
            : m.kind === 'plus'
              ? Math.min(max, v + 1)
              : m.kind === 'minus'
                ? Math.max(0, v - 1)
                : Math.min(max, n * 4 + 1);
      for (let i = m.width - 1, x = next; i >= 0; i--, x = Math.floor(x / 256)) out[p + i] = x & 0xff;
      return out;
    }
    case 'insert': {
      const out = new Uint8Array(n + m.bytes.length);
      out.set(input.subarray(0, at));
      out.set(m.bytes, at);
      out.set(input.subarray(at), at + m.bytes.length);
      return out;
    }
    case 'delete': {
      const out = new Uint8Array(n - Math.min(m.count, n - at));
      out.set(input.subarray(0, at));
      out.set(input.subarray(at + m.count), at);
      return out;
    }
    case 'duplicate': {
      const run = input.subarray(at, Math.min(n, at + m.count));
      const out = new Uint8Array(n + run.length);
      out.set(input.subarray(0, at + run.length));
      out.set(run, at + run.length);
      out.set(input.subarray(at + run.length), at + 2 * run.length);
      return out;
    }
    case 'truncate':
      return input.subarray(0, at);
  }
}

/**
 * Returns an arbitrary of inputs for a parser: random bytes (up to `maxRandom`), mutations of one
 * of `seeds` (1 to 8 edits), and splices of two seeds (a head of one, the tail of another). With no
 * seeds, random bytes only.
 */
export function inputArb(seeds: readonly Uint8Array[], maxRandom = 512): fc.Arbitrary<Uint8Array> {
  const random = fc.uint8Array({ maxLength: maxRandom });
  if (seeds.length === 0) return random;
  const seed = fc.nat({ max: seeds.length - 1 }).map((i) => seeds[i]!);
  const mutated = fc
    .tuple(seed, fc.array(mutationArb, { minLength: 1, maxLength: 8 }))
    .map(([s, ms]) => ms.reduce(applyMutation, s));
  const spliced = fc.tuple(seed, seed, fc.nat(), fc.nat()).map(([a, b, i, j]) => {
    const head = a.subarray(0, a.length === 0 ? 0 : i % a.length);
    const tail = b.subarray(b.length === 0 ? 0 : j % b.length);
    const out = new Uint8Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    return out;
  });
  return fc.oneof(
    { arbitrary: mutated, weight: 6 },
    { arbitrary: random, weight: 2 },
    { arbitrary: spliced, weight: 1 },
    { arbitrary: seed, weight: 1 },
  );
}

/** Returns `bytes` split into chunks at the given cut points (for push parsers). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(bytes.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  out.push(bytes.subarray(prev));
  return out;
}
