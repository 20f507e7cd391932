/**
 * The chain cache answers exactly what checkChain answers: a report holds for the whole span of
 * check times `checkChainSpan` gives (every validity bound compared narrows it), and the cache
 * built on it returns, at any time, the report checkChain would make then.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createChainCache } from '../../src/x509/chain-cache.js';
import { checkChain, checkChainSpan } from '../../src/x509/chain.js';
import type { CheckChainOptions } from '../../src/x509/chain.js';
import { parseCertificate } from '../../src/x509/der.js';
import { pemToDer } from '../../src/x509/pem.js';
import { loadRootsFromPem } from '../../src/x509/roots.js';
import { thumbprint } from '../../src/x509/thumbprint.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

const pem = readFileSync(join(FIXTURES_DIR, 'pcap', 'chain.pem'), 'utf8');
const ders = pemToDer(pem);
const certs = ders.map(parseCertificate);
const roots = loadRootsFromPem(pem).filter((r) => r.name.includes('fixture CA'));
const sha256s = ders.map((d) => thumbprint(d, 'sha256'));

/** Every validity bound of the chain, each with the times just before and at it. */
const bounds = certs.flatMap((c) => [c.notBefore.getTime(), c.notAfter.getTime() + 1000]);
const edges = bounds.flatMap((b) => [b - 1, b, b + 1]);
const lo = Math.min(...bounds) - 86_400_000;
const hi = Math.max(...bounds) + 86_400_000;

const settings: readonly [string, CheckChainOptions][] = [
  ['documented roots', { host: 'capture.test' }],
  ['the fixture CA trusted', { host: 'capture.test', roots }],
  ['no host, CA trusted', { roots }],
];

describe('checkChainSpan', () => {
  it.each(settings)('gives a span around the check time in which the report does not change (%s)', (_n, opts) => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...edges), fc.integer({ min: lo, max: hi })),
        fc.integer({ min: 0, max: 1_000_000 }),
        (at, u) => {
          const { report, from, until } = checkChainSpan(ders, { ...opts, at: new Date(at) });
          expect(report).toEqual(checkChain(ders, { ...opts, at: new Date(at) }));
          expect(from <= at && at < until).toBe(true);
          // Any other time in the span, and its two ends, give the same report.
          const inside = Math.max(from, lo) + Math.floor((u / 1_000_000) * (Math.min(until, hi) - Math.max(from, lo)));
          for (const t of [inside, Number.isFinite(from) ? from : lo, Number.isFinite(until) ? until - 1 : hi]) {
            if (t < from || t >= until) continue;
            expect(checkChain(ders, { ...opts, at: new Date(t) })).toEqual(report);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('spans end at the validity bounds the chain has', () => {
    const leaf = certs[0]!;
    const during = leaf.notBefore.getTime() + 1000;
    const { from, until } = checkChainSpan(ders, { roots, at: new Date(during) });
    expect(bounds).toContain(from);
    expect(bounds).toContain(until);
    expect(checkChainSpan(ders, { roots, at: new Date(leaf.notBefore.getTime() - 1) }).until).toBe(
      leaf.notBefore.getTime(),
    );
  });
});

describe('createChainCache', () => {
  it.each(settings)('returns what checkChain returns at any time, from one check per span (%s)', (_n, opts) => {
    const cache = createChainCache(opts.roots ? { roots: opts.roots } : {});
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...edges), fc.integer({ min: lo, max: hi })), { maxLength: 12 }),
        (times) => {
          for (const t of times) {
            const got = cache.check(ders, sha256s, opts.host, new Date(t));
            expect(got).toEqual(checkChain(ders, { ...opts, at: new Date(t) }));
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('hands back the same report object within a span, and tells hosts apart', () => {
    const cache = createChainCache({ roots });
    const t = certs[0]!.notBefore.getTime() + 60_000;
    const a = cache.check(ders, sha256s, 'capture.test', new Date(t));
    expect(cache.check(ders, sha256s, 'capture.test', new Date(t + 1000))).toBe(a);
    const other = cache.check(ders, sha256s, 'other.test', new Date(t));
    expect(other).not.toBe(a);
    expect(other.hostnameMatch).toBe(false);
    expect(a.hostnameMatch).toBe(true);
  });

  it('tells apart a host that spells out a thumbprint from a longer chain (server names come from the wire)', () => {
    const cache = createChainCache({ roots });
    const t = certs[0]!.notBefore.getTime() + 60_000;
    const whole = cache.check(ders, sha256s, 'capture.test', new Date(t));
    // The leaf's thumbprint written into the host, with the rest of the chain after it.
    const spelled = cache.check(ders.slice(1), sha256s.slice(1), `capture.test ${sha256s[0]}`, new Date(t));
    expect(spelled).not.toBe(whole);
    expect(spelled).toEqual(checkChain(ders.slice(1), { roots, host: `capture.test ${sha256s[0]}`, at: new Date(t) }));
  });
});
