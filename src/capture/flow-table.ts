/**
 * The TCP reassembler's state (internal to tcp.ts and tcp-stream.ts): what it holds per flow and
 * per direction, and the flow table that finds a flow from a segment's addresses and ports, keeps
 * the flows in least-recently-active order (for eviction) and remembers closed flows for their late
 * segments.
 */
import { type ClosedFlows, clearClosed, newClosedFlows, rememberClosed } from './closed-flows.js';
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
}

/** A live flow's place in the activity order (least recently active first), kept out of the flow objects. */
export interface Slot {
  entry: FlowState;
  older: Slot | null;
  newer: Slot | null;
}

/** The flows under one hi address: the only one's slot, or a map by port pair when there are more. */
type ByPorts = Slot | Map<number, Slot>;
/** The flows under one lo address: the only one's slot, or a map by hi address when there are more. */
type ByHi = Slot | Map<string, ByPorts>;

/**
 * The flow table. Live flows: lo address → hi address → port pair → slot (see `FlowKeyParts`), and
 * their activity order. Closed flows are remembered apart, in flat arrays (closed-flows.ts).
 *
 * A level with a single flow under it is that flow's slot, not a map of one entry: each client
 * address usually has one flow at a time, so a map at each level for it cost two maps (~0.5 KB)
 * per flow, and a SYN flood from 500,000 clients kept 187,000 of them for the 100,000 flows it
 * held; a lookup then also takes one map read instead of three.
 */
export interface FlowTable {
  readonly index: Map<string, ByHi>;
  /** Slots in least-recently-active-first order (moved to the end on every segment). */
  oldest: Slot | null;
  newest: Slot | null;
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

export function newFlowTable(maxClosedFlows: number): FlowTable {
  return { index: new Map(), oldest: null, newest: null, size: 0, closed: newClosedFlows(maxClosedFlows) };
}

export function slotAt(t: FlowTable, lo: string, hi: string, ports: number): Slot | undefined {
  const byHi = t.index.get(lo);
  if (byHi === undefined) return undefined;
  const byPorts = byHi instanceof Map ? byHi.get(hi) : byHi.entry.key.hi === hi ? byHi : undefined;
  if (byPorts === undefined) return undefined;
  if (byPorts instanceof Map) return byPorts.get(ports);
  return byPorts.entry.key.ports === ports ? byPorts : undefined;
}

/** The slot holding `f`, if `f` is in the table. */
export function slotOf(t: FlowTable, f: FlowState): Slot | undefined {
  const slot = slotAt(t, f.key.lo, f.key.hi, f.key.ports);
  return slot?.entry === f ? slot : undefined;
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

/** Adds `f` (whose key is not in the table: the caller looked it up) as the most recently active flow. */
export function tableAdd(t: FlowTable, f: FlowState): void {
  const { lo, hi, ports } = f.key;
  const slot: Slot = { entry: f, older: null, newer: null };
  const byHi = t.index.get(lo);
  if (byHi === undefined) t.index.set(lo, slot);
  else {
    const map = byHi instanceof Map ? byHi : new Map<string, ByPorts>([[byHi.entry.key.hi, byHi]]);
    if (map !== byHi) t.index.set(lo, map);
    const byPorts = map.get(hi);
    if (byPorts === undefined) map.set(hi, slot);
    else if (byPorts instanceof Map) byPorts.set(ports, slot);
    else
      map.set(
        hi,
        new Map([
          [byPorts.entry.key.ports, byPorts],
          [ports, slot],
        ]),
      );
  }
  append(t, slot);
  t.size++;
}

/**
 * What a slot points at once its flow left the table. A map that outgrew its hash table leaves the
 * old one in place until a full collection (the likely V8 behaviour `Flow.attached` describes), and
 * a slot it still names would keep the flow and all its connection state alive through the young
 * generation's collections: with the flows' slots straight under the addresses' maps, that made the
 * 100 MB bench capture's collector time 155 → 227 ms. A slot keeps nothing once its flow is gone.
 * (The cast: a placeholder nothing reads; only `key` is ever looked at, and never on a dropped slot.)
 */
const DROPPED = Object.freeze({ key: Object.freeze({ lo: '', hi: '', ports: -1 }) }) as unknown as FlowState;

/** Removes `f` from the live flows; false when it was not there. */
function tableDelete(t: FlowTable, f: FlowState): boolean {
  const slot = slotOf(t, f);
  if (!slot) return false;
  const { lo, hi, ports } = f.key;
  const byHi = t.index.get(lo)!;
  if (!(byHi instanceof Map)) t.index.delete(lo);
  else {
    const byPorts = byHi.get(hi)!;
    if (byPorts instanceof Map) byPorts.delete(ports);
    // A level left with one flow becomes that flow's slot again (see `FlowTable`).
    if (!(byPorts instanceof Map) || byPorts.size === 0) byHi.delete(hi);
    else if (byPorts.size === 1) byHi.set(hi, byPorts.values().next().value!);
    if (byHi.size === 0) t.index.delete(lo);
    else if (byHi.size === 1) {
      const only = byHi.values().next().value!;
      if (!(only instanceof Map)) t.index.set(lo, only);
    }
  }
  unlink(t, slot);
  slot.entry = DROPPED;
  t.size--;
  return true;
}

/** The live flows, least recently active first. */
export function liveFlows(t: FlowTable): FlowState[] {
  const out: FlowState[] = [];
  for (let slot = t.oldest; slot; slot = slot.newer) out.push(slot.entry);
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
    client: f.client,
    clientIsns: f.dirs.client.isns,
    serverIsns: f.dirs.server.isns,
  });
  countTracked(st);
}

/** Forgets every flow, live and closed (the capture ended; live ones were closed first). */
export function clearTable(st: TcpState): void {
  const t = st.table;
  t.index.clear();
  t.oldest = null;
  t.newest = null;
  t.size = 0;
  clearClosed(t.closed);
  countTracked(st);
}
