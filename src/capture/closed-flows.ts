/**
 * The TCP reassembler's memory of closed flows (internal to tcp.ts, tcp-stream.ts and
 * flow-table.ts): enough of each to recognise its late segments (final ACKs, retransmitted FINs,
 * data after a RST; counted as discarded in the reassembler's totals) and a new connection on the same
 * port pair (a SYN with an ISN the flow did not use), so that neither starts a flow of its own and
 * the `tcp.stream` numbering stays Wireshark's. A closed flow is remembered until `capacity` more
 * flows have closed after it (a ring in close order), until a new connection uses its port pair, or
 * until the table of flows is full and it is the oldest; so a long capture's memory stays flat.
 *
 * Flat arrays, not objects: every closed flow outlives several young-generation collections, and
 * each object that does is copied out of the young generation, then left for a full collection.
 * Kept as ~10 objects per flow in the flow table's maps, the 8,192 closed flows remembered by
 * default made `tlsprobe capture` take 1.36 s on the 100 MB bench capture against 1.18 s this way
 * (9 interleaved runs each). What is kept per flow here is numbers and references to the address
 * strings the flow already had: ~110 bytes of arrays.
 *
 * A closed flow's stats are final (its facts were read when it closed), so its late segments count
 * only in the reassembler's totals and nothing of the flow object is kept. Keeping its stats objects
 * here for their `discardedBytes` meant that every flow's stats outlived thousands of flows, were
 * copied to the old generation and left there for a full collection: 35 of the 82 MB promoted and
 * then collected on a capture of 200,000 connections (V8 heap sampling), which grew the heap and the
 * peak RSS with the number of connections.
 */
import type { Endpoint } from './tcp-types.js';

/** ISNs remembered per direction: a handshake retried with new ISNs a few times, not a flood. */
export const MAX_ISNS = 4;

/** What a closed flow leaves behind (see the file comment). */
export interface ClosingFlow {
  readonly lo: string;
  readonly hi: string;
  /** lo port · 65536 + hi port. */
  readonly ports: number;
  /** `flowHash` of lo, hi and ports. */
  readonly hash: number;
  readonly client: Endpoint;
  readonly clientIsns: readonly number[];
  readonly serverIsns: readonly number[];
}

/** The closed flows: a ring in close order, found by a chained hash of their port pair. */
export interface ClosedFlows {
  readonly capacity: number;
  /** Closed flows remembered. */
  size: number;
  /** Ring position the next closed flow takes (the oldest one's, once the ring is full). */
  next: number;
  readonly lo: (string | undefined)[];
  readonly hi: (string | undefined)[];
  readonly ports: Float64Array;
  /** `flowHash` of each position's key, so forgetting one needs no hashing. */
  readonly hashes: Uint32Array;
  /** 1 when the client is the lo endpoint (lo address, lo port), 0 when it is the hi one. */
  readonly clientIsLo: Uint8Array;
  /** `MAX_ISNS` client ISNs, then `MAX_ISNS` server ISNs, per position; `isnCount` says how many. */
  readonly isns: Float64Array;
  readonly isnCount: Uint8Array;
  /** Hash bucket → first position in its chain, or -1. */
  readonly buckets: Int32Array;
  /** Position → next position in its bucket's chain, or -1. */
  readonly chain: Int32Array;
}

/** An empty memory of at most `capacity` closed flows (0: none is remembered). */
export function newClosedFlows(capacity: number): ClosedFlows {
  const n = Math.max(0, Math.floor(capacity));
  let b = 2;
  while (b < n * 2) b *= 2;
  return {
    capacity: n,
    size: 0,
    next: 0,
    lo: new Array<string | undefined>(n).fill(undefined),
    hi: new Array<string | undefined>(n).fill(undefined),
    ports: new Float64Array(n),
    hashes: new Uint32Array(n),
    clientIsLo: new Uint8Array(n),
    isns: new Float64Array(n * 2 * MAX_ISNS),
    isnCount: new Uint8Array(n * 2),
    buckets: new Int32Array(b).fill(-1),
    chain: new Int32Array(n).fill(-1),
  };
}

/**
 * A flow key's hash, for the live flows' table too: FNV-1a steps over the lo and hi addresses'
 * hashes (`addressHash` of their texts, tcp-header.ts) and the port pair. The reassembler computes it
 * once per segment and hands it to both tables.
 */
export function flowHash(loHash: number, hiHash: number, ports: number): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ loHash, 0x01000193);
  h = Math.imul(h ^ hiHash, 0x01000193);
  h = Math.imul(h ^ (ports & 0xffff), 0x01000193);
  h = Math.imul(h ^ Math.floor(ports / 65536), 0x01000193);
  // MurmurHash3's finaliser: the tables index by the low bits, which a multiply alone fills only
  // from the inputs' low bits.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const bucket = (t: ClosedFlows, hash: number): number => hash & (t.buckets.length - 1);

/**
 * Chained hashing over positions, shared by the closed flows and the live ones (flow-table.ts):
 * `buckets` maps a bucket to the first position of its chain, `chain` a position to the next, -1
 * ending both. Puts position `p` at the head of bucket `b`'s chain.
 */
export function chainIn(buckets: Int32Array, chain: Int32Array, b: number, p: number): void {
  chain[p] = buckets[b]!;
  buckets[b] = p;
}

/** Takes position `p` out of bucket `b`'s chain (it must be in it). */
export function chainOut(buckets: Int32Array, chain: Int32Array, b: number, p: number): void {
  if (buckets[b] === p) buckets[b] = chain[p]!;
  else {
    let q = buckets[b]!;
    while (chain[q] !== p) q = chain[q]!;
    chain[q] = chain[p]!;
  }
  chain[p] = -1;
}

/** The position of the closed flow on this port pair (`hash` is `flowHash` of the three), or -1. */
export function findClosed(t: ClosedFlows, lo: string, hi: string, ports: number, hash: number): number {
  if (t.size === 0) return -1;
  for (let p = t.buckets[bucket(t, hash)]!; p !== -1; p = t.chain[p]!)
    if (t.ports[p] === ports && t.lo[p] === lo && t.hi[p] === hi) return p;
  return -1;
}

/** Whether `addr:port` is the closed flow's client. */
export function isClosedClient(t: ClosedFlows, p: number, addr: string, port: number): boolean {
  const ports = t.ports[p]!;
  return t.clientIsLo[p] === 1
    ? addr === t.lo[p] && port === Math.floor(ports / 65536)
    : addr === t.hi[p] && port === ports % 65536;
}

/** Whether one of the side's SYNs carried `seq`. */
export function closedHadIsn(t: ClosedFlows, p: number, client: boolean, seq: number): boolean {
  const side = p * 2 + (client ? 0 : 1);
  const from = side * MAX_ISNS;
  for (let i = 0; i < t.isnCount[side]!; i++) if (t.isns[from + i] === seq) return true;
  return false;
}

/** Forgets the closed flow at position `p` (a new connection on its port pair, or the ring is full). */
export function forgetClosed(t: ClosedFlows, p: number): void {
  const lo = t.lo[p];
  if (lo === undefined) return;
  chainOut(t.buckets, t.chain, bucket(t, t.hashes[p]!), p);
  t.lo[p] = undefined;
  t.hi[p] = undefined;
  t.size--;
}

/** Forgets the oldest closed flow; false when none is remembered. */
export function forgetOldestClosed(t: ClosedFlows): boolean {
  if (t.size === 0) return false;
  // The oldest is the first occupied position from `next` on (forgotten ones leave holes).
  for (let i = 0; i < t.capacity; i++) {
    const p = (t.next + i) % t.capacity;
    if (t.lo[p] !== undefined) {
      forgetClosed(t, p);
      return true;
    }
  }
  return false;
}

/** Remembers a closed flow, forgetting the oldest when the ring is full and any older one on its port pair. */
export function rememberClosed(t: ClosedFlows, c: ClosingFlow): void {
  if (t.capacity === 0) return;
  const same = findClosed(t, c.lo, c.hi, c.ports, c.hash);
  if (same !== -1) forgetClosed(t, same);
  const p = t.next;
  forgetClosed(t, p);
  t.next = (p + 1) % t.capacity;
  t.lo[p] = c.lo;
  t.hi[p] = c.hi;
  t.ports[p] = c.ports;
  t.hashes[p] = c.hash;
  t.clientIsLo[p] = c.client.addr === c.lo && c.client.port === Math.floor(c.ports / 65536) ? 1 : 0;
  storeIsns(t, p * 2, c.clientIsns);
  storeIsns(t, p * 2 + 1, c.serverIsns);
  chainIn(t.buckets, t.chain, bucket(t, c.hash), p);
  t.size++;
}

function storeIsns(t: ClosedFlows, side: number, isns: readonly number[]): void {
  const n = Math.min(isns.length, MAX_ISNS);
  for (let i = 0; i < n; i++) t.isns[side * MAX_ISNS + i] = isns[i]!;
  t.isnCount[side] = n;
}

/** Forgets every closed flow. */
export function clearClosed(t: ClosedFlows): void {
  for (let p = 0; p < t.capacity; p++) forgetClosed(t, p);
  t.next = 0;
}
