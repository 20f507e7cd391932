/**
 * Chain reports remembered by chain, host and span of check times: every connection of a capture
 * to one server sends the same chain, and checking it once per connection (path building, every
 * extension, every finding) costs more than reading the connection. The report depends on the check
 * time only through validity bounds (check-time.ts), so a report computed at one time answers for
 * every time in its span: the cache returns exactly what `checkChain` would.
 */
import { checkChainSpan } from './chain.js';
import type { ChainReport, CheckChainOptions } from './chain.js';

/**
 * Distinct (chain, host) pairs remembered, oldest forgotten first: a capture talks to a few
 * servers; 1,024 bound what a capture of many forged chains can make us keep.
 */
export const MAX_CACHED_CHAINS = 1024;

/** Spans of check time remembered per (chain, host): a chain judged before, during and after its validity needs 3. */
export const MAX_SPANS_PER_CHAIN = 8;

interface Span {
  readonly from: number;
  readonly until: number;
  readonly report: ChainReport;
}

export interface ChainCache {
  /**
   * Returns `checkChain(ders, { host, at, ...base })`. `sha256s` are the SHA-256 thumbprints of
   * `ders`, in the same order (the cache's key).
   */
  check(ders: readonly Uint8Array[], sha256s: readonly string[], host: string | undefined, at: Date): ChainReport;
}

/** Returns an empty cache for checks with the roots and limits of `base`. */
export function createChainCache(
  base: Pick<CheckChainOptions, 'roots' | 'publicRoots' | 'maxIntermediates'> = {},
  limit = MAX_CACHED_CHAINS,
): ChainCache {
  const known = new Map<string, Span[]>();
  return {
    check(ders, sha256s, host, at) {
      // The host's length first: a server name from the wire may hold spaces and hex, and without
      // it "a <t1>" with the chain [t2] and "a" with [t1, t2] made the same key.
      const key = `${host === undefined ? '-' : `+${host.length}:${host}`} ${sha256s.join(' ')}`;
      const t = at.getTime();
      let spans = known.get(key);
      const hit = spans?.find((s) => s.from <= t && t < s.until);
      if (hit) return hit.report;
      // Copies: the report keeps its certificates, and `ders` may be views into larger buffers.
      const { report, from, until } = checkChainSpan(
        ders.map((d) => d.slice()),
        { ...base, ...(host !== undefined ? { host } : {}), at },
      );
      if (!spans) {
        if (known.size >= limit) known.delete(known.keys().next().value!);
        spans = [];
        known.set(key, spans);
      }
      if (spans.length >= MAX_SPANS_PER_CHAIN) spans.shift();
      spans.push({ from, until, report });
      return report;
    },
  };
}
