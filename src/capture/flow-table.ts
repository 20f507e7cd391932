/**
 * The TCP reassembler's state (internal to tcp.ts and tcp-stream.ts): what it holds per flow and
 * per direction, and the flow table that finds a flow from a segment's addresses and ports, keeps
 * the flows in least-recently-active order (for eviction) and remembers closed flows for their late
 * segments.
 */
import { type ClosedFlows, chainIn, chainOut, clearClosed, newClosedFlows, rememberClosed } from './closed-flows.js';
import type {
  CloseReason,
  DirectionStats,
  Endpoint,
  FlagEvent,
  ReassemblerLimits,
  ReassemblerStats,
  RoleSource,
  StreamEvents,
} from './tcp-types.js';

/** A buffered run: `bytes` cover the first `bytes.length` of `length` (the rest was cut by snaplen). */
export interface Piece {
  offset: number;
  length: number;
  bytes: Uint8Array;
  readonly frame: number;
  readonly timestampUs: number;
}

export interface DirState {
  /** Sequence number of stream offset 0, once known. */
  base: number | undefined;
  /** ISN from a SYN, when one was seen. */
  isn: number | undefined;
  /** Distinct ISNs of this side's SYNs (a retried handshake may change it), at most MAX_ISNS. */
  readonly isns: number[];
  /** Stream offset of the next byte to deliver. */
  next: number;
  /** Buffered runs beyond `next`, sorted by offset, non-overlapping. */
  readonly pieces: Piece[];
  bufferedBytes: number;
  /** Stream offset the FIN occupies, once a FIN was seen. */
  fin: { offset: number; timestampUs: number; frame: number } | undefined;
  ended: 'fin' | 'rst' | undefined;
  readonly stats: DirectionStats;
}

export interface FlowState {
  id: number;
  client: Endpoint;
  server: Endpoint;
  ipVersion: 4 | 6;
  roles: RoleSource;
  firstFrame: number;
  firstTimestampUs: number;
  lastTimestampUs: number;
  flags: FlagEvent[];
  stats: { client: DirectionStats; server: DirectionStats };
  closed: CloseReason | undefined;
  /** See `Flow.attached`. */
  attached: unknown;
  /** True while `close` flushes, so the flush cannot close the flow a second time. */
  closing: boolean;
  dirs: { client: DirState; server: DirState };
  /** Key in the flow table (canonical, orientation-free). */
  key: FlowKeyParts;
}

export function newDirStats(): DirectionStats {
  return { deliveredBytes: 0, gaps: 0, gapBytes: 0, retransmittedBytes: 0, outOfOrderSegments: 0, discardedBytes: 0 };
}

export function newDir(stats: DirectionStats): DirState {
  return {
    base: undefined,
    isn: undefined,
    isns: [],
    next: 0,
    pieces: [],
    bufferedBytes: 0,
    fin: undefined,
    ended: undefined,
    stats,
  };
}

/**
 * A flow's place in the table, the same for both directions: the endpoint with the lower address
 * (then port) is `lo`. The table is three levels of maps (lo address, hi address, port pair), so a
 * segment's lookup builds no string: making and hashing an `addr|port>addr|port` key per segment,
 * and re-inserting it to keep the activity order, was most of `push`'s own time (~0.9 µs per
 * segment against ~0.2 µs this way, micro-benchmark of 64 flows in flight among 8k closed ones).
 */
export interface FlowKeyParts {
  readonly lo: string;
  readonly hi: string;
  /** lo port · 65536 + hi port. */
  readonly ports: number;
  /** `flowHash(lo, hi, ports)`, computed once per segment (closed-flows.ts). */
  readonly hash: number;
}

/**
 * The flow table. Live flows sit at positions of flat arrays: found by a chained hash of their key
 * (`flowHash`, as closed flows are), and kept in activity order (least recently active first) by
 * links between positions. Closed flows are remembered apart (closed-flows.ts).
 *
 * Arrays rather than maps and objects: a flow table keeps its maps for the whole capture, so they
 * live in the old generation, and V8 makes each table a map outgrows or rehashes in the generation
 * of the one it replaces: with flows coming and going, every few dozen flows made a dead table for
 * the full collector (10 of the 41 MB promoted and then collected on a capture of 200,000
 * connections, V8 heap sampling), and each flow had a slot object for the activity order. Here a
 * flow costs nothing to add or remove but its entries in the arrays, which grow by doubling.
 */
export interface FlowTable {
  /** Positions the arrays have room for. */
  capacity: number;
  /** Positions handed out so far (free ones below this are in `free`). */
  used: number;
  readonly free: number[];
  entry: (FlowState | undefined)[];
  ports: Float64Array;
  /** Hash bucket → first position in its chain, or -1; position → next in its chain, or -1. */
  buckets: Int32Array;
  chain: Int32Array;
  /** Position → the next less / more recently active position, or -1. */
  older: Int32Array;
  newer: Int32Array;
  /** Least and most recently active positions, or -1. */
  oldest: number;
  newest: number;
  /** Live flows in the table. */
  size: number;
  readonly closed: ClosedFlows;
}

/** What the reassembler's functions share: its events, caps, counters and flow table. */
export interface TcpState {
  readonly events: StreamEvents;
  readonly lim: ReassemblerLimits;
  readonly stats: ReassemblerStats;
  readonly table: FlowTable;
}

/** Positions a new table has room for; it doubles when full. */
const INITIAL_CAPACITY = 256;

export function newFlowTable(maxClosedFlows: number): FlowTable {
  const t: FlowTable = {
    capacity: 0,
    used: 0,
    free: [],
    entry: [],
    ports: new Float64Array(0),
    buckets: new Int32Array(0),
    chain: new Int32Array(0),
    older: new Int32Array(0),
    newer: new Int32Array(0),
    oldest: -1,
    newest: -1,
    size: 0,
    closed: newClosedFlows(maxClosedFlows),
  };
  resize(t, INITIAL_CAPACITY);
  return t;
}

/** Gives the table room for `capacity` positions, keeping every position and link as it was. */
function resize(t: FlowTable, capacity: number): void {
  const grow = (a: Int32Array): Int32Array => {
    const b = new Int32Array(capacity).fill(-1);
    b.set(a);
    return b;
  };
  const ports = new Float64Array(capacity);
  ports.set(t.ports);
  t.ports = ports;
  t.chain = grow(t.chain);
  t.older = grow(t.older);
  t.newer = grow(t.newer);
  t.entry.length = capacity;
  t.capacity = capacity;
  // Twice as many buckets as positions; every chain is made again.
  t.buckets = new Int32Array(capacity * 2).fill(-1);
  for (let p = 0; p < t.used; p++) {
    const f = t.entry[p];
    if (f === undefined) continue;
    chainIn(t.buckets, t.chain, bucketOf(t, f.key.hash), p);
  }
}

const bucketOf = (t: FlowTable, hash: number): number => hash & (t.buckets.length - 1);

/** The position of the live flow with this key (`hash` is `flowHash` of the three), or -1. */
export function slotAt(t: FlowTable, lo: string, hi: string, ports: number, hash: number): number {
  for (let p = t.buckets[bucketOf(t, hash)]!; p !== -1; p = t.chain[p]!) {
    if (t.ports[p] !== ports) continue;
    const k = t.entry[p]!.key;
    if (k.lo === lo && k.hi === hi) return p;
  }
  return -1;
}

/** The live flow at a position `slotAt` returned. */
export const flowAt = (t: FlowTable, p: number): FlowState => t.entry[p]!;

/** The position of `f`, if `f` is in the table (not merely a flow with its key), or -1. */
export function slotOf(t: FlowTable, f: FlowState): number {
  const p = slotAt(t, f.key.lo, f.key.hi, f.key.ports, f.key.hash);
  return p !== -1 && t.entry[p] === f ? p : -1;
}

function unlink(t: FlowTable, p: number): void {
  const older = t.older[p]!;
  const newer = t.newer[p]!;
  if (older !== -1) t.newer[older] = newer;
  else t.oldest = newer;
  if (newer !== -1) t.older[newer] = older;
  else t.newest = older;
  t.older[p] = -1;
  t.newer[p] = -1;
}

function append(t: FlowTable, p: number): void {
  t.older[p] = t.newest;
  t.newer[p] = -1;
  if (t.newest !== -1) t.newer[t.newest] = p;
  else t.oldest = p;
  t.newest = p;
}

/** Marks the flow at position `p` as the most recently active. */
export function touch(t: FlowTable, p: number): void {
  if (p === t.newest) return;
  unlink(t, p);
  append(t, p);
}

/** Adds `f` (whose key is not in the table: the caller looked it up) as the most recently active flow. */
export function tableAdd(t: FlowTable, f: FlowState): void {
  let p = t.free.pop();
  if (p === undefined) {
    if (t.used === t.capacity) resize(t, t.capacity * 2);
    p = t.used++;
  }
  t.entry[p] = f;
  t.ports[p] = f.key.ports;
  chainIn(t.buckets, t.chain, bucketOf(t, f.key.hash), p);
  append(t, p);
  t.size++;
}

/** Removes `f` from the live flows; false when it was not there. */
function tableDelete(t: FlowTable, f: FlowState): boolean {
  const p = slotOf(t, f);
  if (p === -1) return false;
  chainOut(t.buckets, t.chain, bucketOf(t, f.key.hash), p);
  unlink(t, p);
  t.entry[p] = undefined;
  t.free.push(p);
  t.size--;
  return true;
}

/** The live flows, least recently active first. */
export function liveFlows(t: FlowTable): FlowState[] {
  const out: FlowState[] = [];
  for (let p = t.oldest; p !== -1; p = t.newer[p]!) out.push(t.entry[p]!);
  return out;
}

/** Sets the `trackedFlows` counter: live flows and remembered closed ones. */
export function countTracked(st: TcpState): void {
  st.stats.trackedFlows = st.table.size + st.table.closed.size;
}

/** Removes a live flow from the table. */
export function drop(st: TcpState, f: FlowState): void {
  tableDelete(st.table, f);
  countTracked(st);
}

/**
 * Moves a flow closed by its own FINs or RST from the live flows to the closed ones (see
 * closed-flows.ts). A flow no longer in the table (dropped or evicted) is not remembered.
 */
export function remember(st: TcpState, f: FlowState): void {
  if (!tableDelete(st.table, f)) return;
  rememberClosed(st.table.closed, {
    lo: f.key.lo,
    hi: f.key.hi,
    ports: f.key.ports,
    hash: f.key.hash,
    client: f.client,
    clientIsns: f.dirs.client.isns,
    serverIsns: f.dirs.server.isns,
  });
  countTracked(st);
}

/** Forgets every flow, live and closed (the capture ended; live ones were closed first). */
export function clearTable(st: TcpState): void {
  const t = st.table;
  t.entry.fill(undefined);
  t.buckets.fill(-1);
  t.chain.fill(-1);
  t.older.fill(-1);
  t.newer.fill(-1);
  t.free.length = 0;
  t.used = 0;
  t.oldest = -1;
  t.newest = -1;
  t.size = 0;
  clearClosed(t.closed);
  countTracked(st);
}
