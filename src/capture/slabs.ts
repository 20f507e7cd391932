/**
 * Returns byte storage for the capture analysis from shared slabs, so that the many small copies a
 * capture makes cost no ArrayBuffer each: `transientBytes` for record bodies split across TCP
 * deliveries (handed back once the record is handled), `factCopy`/`copyAll` for the bytes a
 * connection's facts keep (hellos, their records, certificates).
 */

/**
 * Bytes per slab of `transientBytes`: a few dozen split record bodies (a certificate flight spans
 * two or three segments) per slab; a body too large for a quarter of it gets a buffer of its own.
 */
const TRANSIENT_SLAB_BYTES = 64 * 1024;

/**
 * Empty slabs kept for reuse. Split bodies are released within a connection's lifetime, so a
 * capture cycles through a handful of slabs; four (256 KiB) cover that and are all that stays
 * allocated after an analysis.
 */
const MAX_FREE_SLABS = 4;

/** A slab of `transientBytes` and how many of the bodies carved from it are still in use. */
export interface Slab {
  readonly bytes: Uint8Array;
  used: number;
  live: number;
}

const freeSlabs: Slab[] = [];

let slab: Slab | null = null;

/**
 * Returns `n` bytes for a record body gathered from several deliveries, and the slab they come
 * from (null for a large body with a buffer of its own), to hand back with `releaseTransient` once
 * the record is handled. The bodies are only read while `onRecord` runs (the handlers copy what
 * they keep: hellos, certificates, partial handshake messages), so a slab whose bodies are all
 * released is reused: fresh memory for every split body (an ArrayBuffer each, then a new 64 KiB
 * slab every few connections) showed in the profiles, page faults included.
 */
export function transientBytes(n: number): { body: Uint8Array; slab: Slab | null } {
  if (n > TRANSIENT_SLAB_BYTES / 4) return { body: new Uint8Array(n), slab: null };
  if (slab === null || slab.used + n > slab.bytes.length) {
    if (slab !== null && slab.live === 0 && freeSlabs.length < MAX_FREE_SLABS) freeSlabs.push(slab);
    slab = freeSlabs.pop() ?? { bytes: new Uint8Array(TRANSIENT_SLAB_BYTES), used: 0, live: 0 };
    slab.used = 0;
  }
  const body = slab.bytes.subarray(slab.used, slab.used + n);
  slab.used += n;
  slab.live++;
  return { body, slab };
}

/** Hands back a body of `transientBytes`: its slab is reused once none of its bodies is in use. */
export function releaseTransient(from: Slab): void {
  from.live--;
  if (from.live === 0 && from !== slab && freeSlabs.length < MAX_FREE_SLABS) freeSlabs.push(from);
}

/**
 * Bytes per slab of `factBytes`: the hellos, hello records and certificate chain of a few
 * connections (3-4 KB each in a typical capture), so that a consumer keeping one connection's
 * facts keeps at most this much with them.
 */
const FACT_SLAB_BYTES = 16 * 1024;

let factSlab = new Uint8Array(0);

let factSlabUsed = 0;

/**
 * Returns `n` fresh bytes (never handed out before) for a copy that a fact keeps: a view into a
 * slab shared with the facts of the connections around it, so that the hellos, their records and
 * the certificates cost no ArrayBuffer each (creating and collecting a few per connection showed in
 * the profiles). Copies larger than a quarter slab get a buffer of their own.
 */
export function factBytes(n: number): Uint8Array {
  if (n > FACT_SLAB_BYTES / 4) return new Uint8Array(n);
  if (factSlabUsed + n > factSlab.length) {
    factSlab = new Uint8Array(FACT_SLAB_BYTES);
    factSlabUsed = 0;
  }
  const out = factSlab.subarray(factSlabUsed, factSlabUsed + n);
  factSlabUsed += n;
  return out;
}

/** Returns a copy of `parts` joined, for a fact (see `factBytes`). */
export function factCopy(...parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = factBytes(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Returns copies of `parts`, made in one allocation (see `factBytes`), so none aliases the capture
 * (a chain is kept whole or not at all; one buffer instead of one per certificate).
 */
export function copyAll(parts: readonly Uint8Array[]): Uint8Array[] {
  let total = 0;
  for (const p of parts) total += p.length;
  const buf = factBytes(total);
  let o = 0;
  return parts.map((p) => {
    buf.set(p, o);
    o += p.length;
    return buf.subarray(o - p.length, o);
  });
}
