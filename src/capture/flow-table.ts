/**
 * The TCP reassembler's state (internal to tcp.ts and tcp-stream.ts): what it holds per flow and
 * per direction, and the flow table that finds a flow from a segment's addresses and ports, keeps
 * the flows in least-recently-active order (for eviction) and remembers closed flows for their late
 * segments.
 */
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
  /** True while `close` flushes, so the flush cannot close the flow a second time. */
  closing: boolean;
  dirs: { client: DirState; server: DirState };
  /** Key in the flow table (canonical, orientation-free). */
  key: FlowKeyParts;
}

/**
 * What the table keeps of a flow once it is closed and reported: enough to recognise its late
 * segments (final ACKs, retransmitted FINs; counted as discarded on the flow's own stats) and a new
 * connection on the same port pair (a SYN with an ISN the flow did not use), so that neither starts
 * a flow of its own and the `tcp.stream` numbering stays Wireshark's. The flow's state is released:
 * ~0.9 KB of heap is kept per closed flow instead of ~1.9 KB (measured after a full GC, every 4,000
 * connections of a 100 MB capture), and at most `maxClosedFlows` of them, so a long capture's memory
 * stays flat. The `Flow` the consumer got is not touched.
 */
export interface ClosedFlow {
  readonly closed: CloseReason;
  readonly key: FlowKeyParts;
  readonly client: Endpoint;
  readonly clientIsns: readonly number[];
  readonly serverIsns: readonly number[];
  readonly stats: { readonly client: DirectionStats; readonly server: DirectionStats };
}

/** A flow table entry: a live flow (has `dirs`), or what is left of a closed one. */
export type TableEntry = FlowState | ClosedFlow;

export const isLive = (e: TableEntry): e is FlowState => 'dirs' in e;

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

/** ISNs remembered per direction: a handshake retried with new ISNs a few times, not a flood. */
export const MAX_ISNS = 4;

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
}

/** One table entry's place in the activity order (least recently active first), kept out of the flow objects. */
export interface Slot {
  entry: TableEntry;
  older: Slot | null;
  newer: Slot | null;
}

/** The flow table: lo address → hi address → port pair → slot (see `FlowKeyParts`), and the activity order. */
export interface FlowTable {
  readonly index: Map<string, Map<string, Map<number, Slot>>>;
  /** Slots in least-recently-active-first order (moved to the end on every segment). */
  oldest: Slot | null;
  newest: Slot | null;
  size: number;
  /** Closed flows in the order they closed, from `closedHead` (forgotten ones are nulled out). */
  closedOrder: (ClosedFlow | null)[];
  closedHead: number;
  /** Closed flows in the table. */
  closedCount: number;
}

/** What the reassembler's functions share: its events, caps, counters and flow table. */
export interface TcpState {
  readonly events: StreamEvents;
  readonly lim: ReassemblerLimits;
  readonly stats: ReassemblerStats;
  readonly table: FlowTable;
}

export function newFlowTable(): FlowTable {
  return { index: new Map(), oldest: null, newest: null, size: 0, closedOrder: [], closedHead: 0, closedCount: 0 };
}

export function slotAt(t: FlowTable, lo: string, hi: string, ports: number): Slot | undefined {
  return t.index.get(lo)?.get(hi)?.get(ports);
}

/** The slot holding `e`, if `e` is in the table. */
export function slotOf(t: FlowTable, e: TableEntry): Slot | undefined {
  const slot = slotAt(t, e.key.lo, e.key.hi, e.key.ports);
  return slot?.entry === e ? slot : undefined;
}

function unlink(t: FlowTable, slot: Slot): void {
  if (slot.older) slot.older.newer = slot.newer;
  else t.oldest = slot.newer;
  if (slot.newer) slot.newer.older = slot.older;
  else t.newest = slot.older;
  slot.older = null;
  slot.newer = null;
}

function append(t: FlowTable, slot: Slot): void {
  slot.older = t.newest;
  if (t.newest) t.newest.newer = slot;
  else t.oldest = slot;
  t.newest = slot;
}

/** Marks the slot's flow as the most recently active. */
export function touch(t: FlowTable, slot: Slot): void {
  if (slot === t.newest) return;
  unlink(t, slot);
  append(t, slot);
}

export function tableAdd(t: FlowTable, e: TableEntry): void {
  const { lo, hi, ports } = e.key;
  let byHi = t.index.get(lo);
  if (!byHi) {
    byHi = new Map();
    t.index.set(lo, byHi);
  }
  let byPorts = byHi.get(hi);
  if (!byPorts) {
    byPorts = new Map();
    byHi.set(hi, byPorts);
  }
  const slot: Slot = { entry: e, older: null, newer: null };
  byPorts.set(ports, slot);
  append(t, slot);
  t.size++;
}

/** Removes `e` from the table; false when it was not there. */
function tableDelete(t: FlowTable, e: TableEntry): boolean {
  const slot = slotOf(t, e);
  if (!slot) return false;
  const { lo, hi, ports } = e.key;
  const byHi = t.index.get(lo)!;
  const byPorts = byHi.get(hi)!;
  byPorts.delete(ports);
  if (byPorts.size === 0) {
    byHi.delete(hi);
    if (byHi.size === 0) t.index.delete(lo);
  }
  unlink(t, slot);
  t.size--;
  return true;
}

/** The table's entries, least recently active first. */
export function entries(t: FlowTable): TableEntry[] {
  const out: TableEntry[] = [];
  for (let slot = t.oldest; slot; slot = slot.newer) out.push(slot.entry);
  return out;
}

/** Removes an entry (live or closed) from the table. */
export function drop(st: TcpState, e: TableEntry): void {
  if (tableDelete(st.table, e) && !isLive(e)) st.table.closedCount--;
  st.stats.trackedFlows = st.table.size;
}

/**
 * Replaces a closed flow's table entry by its `ClosedFlow` (in the same place of the activity
 * order), forgetting the oldest beyond the cap.
 */
export function remember(st: TcpState, slot: Slot, c: ClosedFlow): void {
  const t = st.table;
  slot.entry = c;
  t.closedOrder.push(c);
  t.closedCount++;
  while (t.closedCount > st.lim.maxClosedFlows && t.closedHead < t.closedOrder.length) {
    const old = t.closedOrder[t.closedHead];
    t.closedOrder[t.closedHead++] = null;
    if (old && slotOf(t, old)) drop(st, old);
  }
  if (t.closedHead > 4096 && t.closedHead * 2 > t.closedOrder.length) {
    t.closedOrder = t.closedOrder.slice(t.closedHead);
    t.closedHead = 0;
  }
}
