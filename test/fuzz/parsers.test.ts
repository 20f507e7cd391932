/**
 * Issue 8, part 1: every parser fed random bytes and mutations of real inputs (fixtures/ and, when
 * present, ../shared/corpus). The only exception that may escape is the parser's typed error
 * (DecodeError; RegistryParseError for .reg files; none for the parsers that never throw), and every
 * success must keep its invariants (see targets.ts).
 *
 * The normal suite runs a fixed seed with a CI budget per target; `npm run fuzz` runs the same
 * properties with TLSPROBE_FUZZ_RUNS / TLSPROBE_FUZZ_SEED and saves any crasher to
 * fixtures/crashers/ (TLSPROBE_FUZZ_SAVE=1). The crashers found so far are replayed first.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/wire/hex.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { FUZZ_SEED, LONG_RUN, fuzzRuns, inputArb } from './mutate.js';
import { FUZZ_TARGETS, isAllowed, type FuzzTarget } from './targets.js';
import { OUTSIDE_PLAN, OUTSIDE_TARGETS } from './outside-targets.js';
import {
  captureSeeds,
  certificateSeeds,
  extensionSeeds,
  handshakeSeeds,
  keyLogSeeds,
  packetSeeds,
  pemSeeds,
  registrySeeds,
  sslv2Seeds,
  tlsStreamSeeds,
} from './seeds.js';

const CRASHERS_DIR = join(FIXTURES_DIR, 'crashers');

/** Seeds per target, and the CI budget (runs) that keeps each under ~2 s on the 2-core machine. */
const PLAN: Record<string, { seeds: () => Promise<Uint8Array[]> | Uint8Array[]; ciRuns: number; maxRandom?: number }> =
  {
    decodeStream: { seeds: tlsStreamSeeds, ciRuns: 1500 },
    deframer: { seeds: tlsStreamSeeds, ciRuns: 1500 },
    parseHandshakeMessage: { seeds: async () => (await handshakeSeeds()).map((h) => h.raw), ciRuns: 2000 },
    readExtension: { seeds: async () => (await extensionSeeds()).map((e) => e.bytes), ciRuns: 6000, maxRandom: 128 },
    sslv2: { seeds: sslv2Seeds, ciRuns: 3000, maxRandom: 128 },
    parseCertificate: { seeds: certificateSeeds, ciRuns: 3000, maxRandom: 256 },
    checkChain: { seeds: certificateSeeds, ciRuns: 300, maxRandom: 256 },
    pemToDer: { seeds: pemSeeds, ciRuns: 1500 },
    captureParser: { seeds: captureSeeds, ciRuns: 1500 },
    decodePacket: { seeds: async () => (await packetSeeds()).map((p) => p.data), ciRuns: 3000 },
    tcpReassembly: { seeds: () => [], ciRuns: 3000, maxRandom: 2048 },
    parseRegistryText: { seeds: registrySeeds, ciRuns: 600 },
    parseKeyLog: { seeds: keyLogSeeds, ciRuns: 500 },
    scanClientHello: { seeds: tlsStreamSeeds, ciRuns: 3000 },
    // Issue 14: proxy replies, STARTTLS dialogues, analyzeCapture end to end, the captured-hello reader.
    ...OUTSIDE_PLAN,
  };

/** Every target: the parsers of issue 8 and the outside-input ones of issue 14. */
const ALL_TARGETS: readonly FuzzTarget[] = [...FUZZ_TARGETS, ...OUTSIDE_TARGETS];

/** Returns the target called `name`; throws for an unknown name (a crasher file naming no target). */
function fuzzTarget(name: string): FuzzTarget {
  const t = ALL_TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown fuzz target ${name}`);
  return t;
}

/** Inputs per second of each target in this process, for the summary. */
const elapsedMs = new Map<string, number>();

/** Inputs run per target in this process, for the summary `npm run fuzz` prints. */
const ran = new Map<string, number>();

/** Writes a crasher as an annotated hex fixture (one per file) and returns its path. */
function saveCrasher(t: FuzzTarget, input: Uint8Array, knobs: readonly number[], error: unknown): string {
  mkdirSync(CRASHERS_DIR, { recursive: true });
  const id = createHash('sha256').update(input).digest('hex').slice(0, 12);
  const file = join(CRASHERS_DIR, `${t.name}-${id}.hex`);
  const e = error as Error;
  const header = [
    `# target: ${t.name}`,
    `# knobs: ${knobs.join(',')}`,
    `# found: ${new Date().toISOString().slice(0, 10)} by npm run fuzz (seed ${FUZZ_SEED})`,
    `# error: ${e?.name ?? 'throw'}: ${String(e?.message ?? error).split('\n')[0]}`,
    `# at: ${
      (e?.stack ?? '')
        .split('\n')
        .find((l) => l.includes('/src/'))
        ?.trim() ?? '?'
    }`,
    '# fixed: (describe the fix here)',
  ];
  const hex = toHex(input).replace(/(.{64})/g, '$1\n');
  writeFileSync(file, `${header.join('\n')}\n${hex}\n`);
  return file;
}

/** Runs `t` once and returns the escaping error that its contract forbids, or null. */
async function forbidden(t: FuzzTarget, input: Uint8Array, knobs: readonly number[]): Promise<unknown> {
  try {
    await t.run(input, knobs);
    return null;
  } catch (e) {
    return isAllowed(t.allowed, e) ? null : (e ?? new Error('threw a nullish value'));
  }
}

/** `forbidden` for a synchronous target, without a promise per input (the long runs make millions). */
function forbiddenSync(t: FuzzTarget, input: Uint8Array, knobs: readonly number[]): unknown {
  try {
    const r = t.run(input, knobs);
    if (r instanceof Promise) throw new Error(`${t.name} returned a promise: mark it async`);
    return null;
  } catch (e) {
    return isAllowed(t.allowed, e) ? null : (e ?? new Error('threw a nullish value'));
  }
}

describe('crasher regressions (fixtures/crashers)', () => {
  const files = (() => {
    try {
      return readdirSync(CRASHERS_DIR)
        .filter((f) => f.endsWith('.hex'))
        .sort();
    } catch {
      return [];
    }
  })();
  it('has a target, a reason and a fix noted in every crasher file', () => {
    for (const f of files) {
      const text = readFileSync(join(CRASHERS_DIR, f), 'utf8');
      expect(text, f).toMatch(/^# target: \S+$/m);
      expect(text, f).toMatch(/^# error: .+$/m);
      expect(text, f).toMatch(/^# fixed: .+$/m);
      expect(text, f).not.toMatch(/^# fixed: \(describe/m);
    }
  });
  it('holds at least the regressions of issue 8', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });
  for (const f of files) {
    it(`no longer breaks its parser: ${f}`, async () => {
      const text = readFileSync(join(CRASHERS_DIR, f), 'utf8');
      const header = (name: string) => new RegExp(`^# ${name}: (.*)$`, 'm').exec(text)?.[1]?.trim();
      const t = fuzzTarget(header('target')!);
      const knobs = (header('knobs') ?? '').split(',').filter(Boolean).map(Number);
      const input = crasherBytes(text, Number(header('repeat') ?? '1'));
      const t0 = cpuMs();
      const err = await forbidden(t, input, knobs);
      const spent = cpuMs() - t0;
      expect(err === null ? null : String((err as Error).stack ?? err)).toBeNull();
      const budget = header('max-cpu-ms');
      if (budget !== undefined) expect(spent, `${f}: ${spent.toFixed(0)} ms of CPU`).toBeLessThan(Number(budget));
    });
  }
});

/** CPU time of this process in ms (unaffected by other processes on a busy machine). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Returns a crasher's bytes: its hex lines, the last one repeated `repeat` times. */
function crasherBytes(text: string, repeat: number): Uint8Array {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const head = lines.slice(0, -1).map(fromHex);
  const last = fromHex(lines[lines.length - 1] ?? '');
  const out = new Uint8Array(head.reduce((n, b) => n + b.length, 0) + last.length * repeat);
  let o = 0;
  for (const b of head) {
    out.set(b, o);
    o += b.length;
  }
  for (let i = 0; i < repeat; i++, o += last.length) out.set(last, o);
  return out;
}

describe('every parser under random and mutated input', () => {
  for (const t of ALL_TARGETS) {
    const plan = PLAN[t.name];
    if (!plan) throw new Error(`no fuzz plan for ${t.name}`);
    it(
      `${t.name} lets only ${t.allowed === 'nothing' ? 'no exception' : t.allowed} escape`,
      async () => {
        const seeds = await plan.seeds();
        const numRuns = fuzzRuns(plan.ciRuns);
        let count = 0;
        const arb = fc.tuple(inputArb(seeds, plan.maxRandom), fc.array(fc.nat(), { maxLength: 6 }));
        const t0 = performance.now();
        const details = t.async
          ? await fc.check(
              fc.asyncProperty(arb, async ([input, knobs]) => {
                count++;
                const err = await forbidden(t, input, knobs);
                if (err !== null) throw err;
              }),
              { seed: FUZZ_SEED, numRuns, endOnFailure: false },
            )
          : fc.check(
              fc.property(arb, ([input, knobs]) => {
                count++;
                const err = forbiddenSync(t, input, knobs);
                if (err !== null) throw err;
              }),
              { seed: FUZZ_SEED, numRuns, endOnFailure: false },
            );
        elapsedMs.set(t.name, (elapsedMs.get(t.name) ?? 0) + performance.now() - t0);
        ran.set(t.name, (ran.get(t.name) ?? 0) + count);
        if (details.failed) {
          const [input, knobs] = details.counterexample?.[0] ?? [new Uint8Array(0), []];
          const err = await forbidden(t, input, knobs);
          const saved = process.env.TLSPROBE_FUZZ_SAVE === '1' ? `\nsaved as ${saveCrasher(t, input, knobs, err)}` : '';
          throw new Error(
            `${t.entry}: ${String((err as Error)?.stack ?? err)}\ninput (${input.length} bytes): ${toHex(input)}\nknobs: ${knobs.join(',')}\nseed ${FUZZ_SEED}, path ${details.counterexamplePath}${saved}`,
          );
        }
        expect(count).toBeGreaterThanOrEqual(numRuns);
        // Every target but the TCP one (which draws segments from random bytes) mutates real inputs.
        if (t.name !== 'tcpReassembly') expect(seeds.length, 'real inputs to mutate').toBeGreaterThan(0);
      },
      LONG_RUN ? 0 : 30_000,
    );
  }

  it('ran every target (summary for npm run fuzz)', () => {
    const rate = (name: string) => {
      const ms = elapsedMs.get(name) ?? 0;
      return ms > 0 ? Math.round(((ran.get(name) ?? 0) * 1000) / ms) : 0;
    };
    const rows = ALL_TARGETS.map(
      (t) =>
        `${t.name.padEnd(24)} ${String(ran.get(t.name) ?? 0).padStart(9)} inputs ${String(rate(t.name)).padStart(8)} inputs/s  ${t.entry}`,
    );
    if (LONG_RUN || process.env.TLSPROBE_FUZZ_SUMMARY === '1')
      console.log(`fuzz seed ${FUZZ_SEED}\n${rows.join('\n')}`);
    // `npm run fuzz -- --only NAME` runs one target: the summary then checks that one.
    const only = process.env.TLSPROBE_FUZZ_ONLY;
    for (const t of ALL_TARGETS) if (!only || t.name === only) expect(ran.get(t.name) ?? 0, t.name).toBeGreaterThan(0);
  });
});
