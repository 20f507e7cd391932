/**
 * Returns TCP stream reassemblers: per flow and direction, contiguous bytes and gaps by callback.
 *
 * `createReassembler(events, limits)` returns a reassembler whose `push(segment)` turns TCP
 * segments (in capture order) into contiguous stream bytes, handed to `events.onData` as soon as
 * they are contiguous; nothing is accumulated beyond the out-of-order data still waiting for a
 * hole to fill. It never throws for segment content.
 *
 * Rules (RFC 9293, Section 3.4 "Sequence Numbers"; arithmetic modulo 2^32):
 * - Stream offset 0 is the byte after the SYN (ISN + 1); without a SYN in the capture, the first
 *   sequence number seen carrying data or FIN. Bytes before offset 0 are not delivered.
 * - Retransmitted bytes (already delivered) are dropped; overlapping bytes keep their first
 *   arrival. Out-of-order bytes are buffered (copied) until the hole before them fills.
 * - Missing data is never invented: a hole becomes `onGap(offset, length)` when the direction's
 *   buffer cap is hit, when the flow ends (RST, FIN past the hole) or at `finish()`, and the bytes
 *   after it are then delivered at their true offsets. Bytes the snap length cut off are gaps too.
 * - Roles: the sender of a SYN without ACK is the client, the sender of a SYN+ACK the server.
 *   Without a handshake in the capture, the endpoint with the lower port is taken as the server
 *   (services listen on low ports, clients use ephemeral ones), and with equal ports the first
 *   sender is the client; `flow.roles` says which rule applied, so a consumer that sees a TLS
 *   ClientHello come from the "server" side can swap its own view.
 * - A SYN (without ACK) with a new ISN on a finished or data-carrying flow starts a new flow, as
 *   Wireshark starts a new `tcp.stream` when a port pair is reused.
 */
import { createDecodeState, decodePacket, decodePacketInto, newReusedSegment } from './packet.js';
import type { DecodeStats, FragmentLimits, TcpSegment } from './packet.js';
import { readCapture, readCaptureRaw } from './pcap.js';
import type { CaptureMeta, CapturedPacket, ReadCaptureOptions } from './pcap.js';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export interface Endpoint {
  readonly addr: string;
  readonly port: number;
}

/** The two endpoints of a flow, oriented. */
export interface FlowKey {
  readonly client: Endpoint;
  readonly server: Endpoint;
}

export type Direction = 'client' | 'server';

/** How client and server were told apart. */
export type RoleSource = 'syn' | 'syn-ack' | 'port' | 'first-sender';

/** A control segment worth remembering: handshake, close, abort. */
export interface FlagEvent {
  readonly kind: 'syn' | 'syn-ack' | 'fin' | 'rst';
  /** The side that sent it. */
  readonly from: Direction;
  readonly timestampUs: number;
  readonly frame: number;
  readonly seq: number;
}

/** Per-direction counters. */
export interface DirectionStats {
  /** Bytes handed to `onData`. */
  deliveredBytes: number;
  /** Holes reported to `onGap`, and their total length. */
  gaps: number;
  gapBytes: number;
  /** Bytes dropped because they had been delivered already (retransmissions, overlaps). */
  retransmittedBytes: number;
  /** Segments that arrived ahead of a hole and were buffered. */
  outOfOrderSegments: number;
  /** Bytes dropped because they lie before stream offset 0 or after the stream ended. */
  discardedBytes: number;
}

/** One TCP connection as seen in the capture. Readonly to consumers; the reassembler updates it. */
export interface Flow extends FlowKey {
  /** 0-based, in order of first appearance (Wireshark's `tcp.stream` numbering). */
  readonly id: number;
  readonly ipVersion: 4 | 6;
  readonly roles: RoleSource;
  readonly firstFrame: number;
  readonly firstTimestampUs: number;
  readonly lastTimestampUs: number;
  /** SYN / SYN+ACK / FIN / RST segments, in capture order (at most `maxFlagEvents`). */
  readonly flags: readonly FlagEvent[];
  readonly stats: { readonly client: Readonly<DirectionStats>; readonly server: Readonly<DirectionStats> };
  /** Set when the flow was closed (both directions ended), evicted, replaced or finished. */
  readonly closed: CloseReason | undefined;
}

export type CloseReason = 'closed' | 'evicted' | 'replaced' | 'finish';

/** Where a run of delivered bytes came from. */
export interface DataOrigin {
  /** Frame of the segment that carried these bytes. */
  readonly frame: number;
  readonly timestampUs: number;
}

export interface StreamEvents {
  /**
   * Contiguous stream bytes of one direction, starting at `streamOffset` (bytes since offset 0).
   * `bytes` may be a view into the capture chunk: copy what you keep.
   */
  onData(flow: Flow, dir: Direction, bytes: Uint8Array, streamOffset: number, origin: DataOrigin): void;
  /** `length` bytes at `offset` were never seen and never will be; delivery resumes after them. */
  onGap(flow: Flow, dir: Direction, offset: number, length: number): void;
  /** The direction's stream ended (all bytes before its FIN delivered, or a RST aborted the flow). */
  onEnd(flow: Flow, dir: Direction, how: 'fin' | 'rst', timestampUs: number, frame: number): void;
  /** A new flow appeared (its first segment follows). */
  onFlowStart?(flow: Flow): void;
  /** The flow is done: no more events for it. Free per-flow state here. */
  onFlowClose?(flow: Flow, reason: CloseReason): void;
}

export interface ReassemblerLimits {
  readonly maxBufferedBytesPerDirection: number;
  readonly maxBufferedSegmentsPerDirection: number;
  readonly maxBufferedBytesTotal: number;
  readonly maxFlows: number;
  readonly maxFlagEvents: number;
  /** Closed flows remembered for their late segments (default MAX_CLOSED_FLOWS). */
  readonly maxClosedFlows: number;
}

/** Totals over every flow: the per-direction counters summed, and the reassembler's own. */
export interface ReassemblerStats extends DirectionStats {
  flows: number;
  segments: number;
  /** Gaps declared early because a buffer cap was hit (a subset of `gaps`). */
  forcedGaps: number;
  evictedFlows: number;
  /** Out-of-order bytes buffered right now, and the most ever buffered at once. */
  bufferedBytes: number;
  peakBufferedBytes: number;
  /** Flows held in the table right now. */
  trackedFlows: number;
}

export interface Reassembler {
  /** Feeds one segment (capture order). */
  push(seg: TcpSegment): void;
  /** Ends every flow: holes become gaps, buffered data is delivered, `onFlowClose(…, 'finish')`. */
  finish(): void;
  readonly stats: Readonly<ReassemblerStats>;
}

/**
 * Out-of-order bytes buffered per direction before the hole in front of them is declared a gap.
 * A hole is a segment the receiver has not got yet; its sender keeps at most one receive window
 * in flight, and Linux's default maximum receive buffer is 6 MiB (net.ipv4.tcp_rmem). 8 MiB thus
 * covers a full window behind a lost segment on a fast link; past it, the capture missed the data.
 */
export const MAX_BUFFERED_BYTES_PER_DIRECTION = 8 * 1024 * 1024;

/**
 * Out-of-order segments buffered per direction. Each costs a copy plus bookkeeping, and insertion
 * is linear in this count; 4096 full-size segments is 6 MB, in line with the byte cap above, while
 * a stream of 1-byte segments cannot make insertion quadratic in the capture size.
 */
export const MAX_BUFFERED_SEGMENTS_PER_DIRECTION = 4096;

/**
 * Out-of-order bytes buffered across all flows. Beyond this the direction holding the most is
 * flushed (holes become gaps), so a capture with many lossy flows stays within a fixed budget:
 * eight directions each holding a full MAX_BUFFERED_BYTES_PER_DIRECTION, a small slice of a
 * default Node heap, and far more than a healthy capture (a few windows in flight) ever needs.
 */
export const MAX_BUFFERED_BYTES_TOTAL = 64 * 1024 * 1024;

/**
 * Flows tracked at once. Past this the least recently active flow is evicted (flushed and
 * closed). 100k flows of small state fit in well under 100 MB; a capture with more concurrent
 * flows is a scan or a flood, not TLS sessions worth reassembling all at once.
 */
export const MAX_FLOWS = 100_000;

/** Flag events kept per flow: the handshake and close need a handful; a SYN flood should not grow it. */
export const MAX_FLAG_EVENTS = 32;

/**
 * Closed flows remembered (see `ClosedFlow`), oldest close forgotten first. Their late segments (the
 * last ACK, a retransmitted FIN) come within a few round trips of the close, while 8192 other
 * connections close in that time only on a server taking thousands of handshakes a second; at
 * ~0.9 KB each this is ~7 MB, so memory stays flat however many connections a capture holds (a
 * forgotten flow's very late segment only starts a flow of its own, with no data to report).
 */
export const MAX_CLOSED_FLOWS = 8192;

// ---------------------------------------------------------------------------------------------
// Internal state
// ---------------------------------------------------------------------------------------------

/** A buffered run: `bytes` cover the first `bytes.length` of `length` (the rest was cut by snaplen). */
interface Piece {
  offset: number;
  length: number;
  bytes: Uint8Array;
  readonly frame: number;
  readonly timestampUs: number;
}

interface DirState {
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

interface FlowState {
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
interface ClosedFlow {
  readonly closed: CloseReason;
  readonly key: FlowKeyParts;
  readonly client: Endpoint;
  readonly clientIsns: readonly number[];
  readonly serverIsns: readonly number[];
  readonly stats: { readonly client: DirectionStats; readonly server: DirectionStats };
}

/** A flow table entry: a live flow (has `dirs`), or what is left of a closed one. */
type TableEntry = FlowState | ClosedFlow;

const isLive = (e: TableEntry): e is FlowState => 'dirs' in e;

function newDirStats(): DirectionStats {
  return { deliveredBytes: 0, gaps: 0, gapBytes: 0, retransmittedBytes: 0, outOfOrderSegments: 0, discardedBytes: 0 };
}

function newDir(stats: DirectionStats): DirState {
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
const MAX_ISNS = 4;

/**
 * A flow's place in the table, the same for both directions: the endpoint with the lower address
 * (then port) is `lo`. The table is three levels of maps (lo address, hi address, port pair), so a
 * segment's lookup builds no string: making and hashing an `addr|port>addr|port` key per segment,
 * and re-inserting it to keep the activity order, was most of `push`'s own time (~0.9 µs per
 * segment against ~0.2 µs this way, micro-benchmark of 64 flows in flight among 8k closed ones).
 */
interface FlowKeyParts {
  readonly lo: string;
  readonly hi: string;
  /** lo port · 65536 + hi port. */
  readonly ports: number;
}

/** One table entry's place in the activity order (least recently active first), kept out of the flow objects. */
interface Slot {
  entry: TableEntry;
  older: Slot | null;
  newer: Slot | null;
}

// ---------------------------------------------------------------------------------------------
// The reassembler
// ---------------------------------------------------------------------------------------------

/** Returns a reassembler reporting to `events`, bounded by `limits` (defaults: the constants above). */
export function createReassembler(events: StreamEvents, limits: Partial<ReassemblerLimits> = {}): Reassembler {
  const lim: ReassemblerLimits = {
    maxBufferedBytesPerDirection: limits.maxBufferedBytesPerDirection ?? MAX_BUFFERED_BYTES_PER_DIRECTION,
    maxBufferedSegmentsPerDirection: limits.maxBufferedSegmentsPerDirection ?? MAX_BUFFERED_SEGMENTS_PER_DIRECTION,
    maxBufferedBytesTotal: limits.maxBufferedBytesTotal ?? MAX_BUFFERED_BYTES_TOTAL,
    maxFlows: limits.maxFlows ?? MAX_FLOWS,
    maxFlagEvents: limits.maxFlagEvents ?? MAX_FLAG_EVENTS,
    maxClosedFlows: limits.maxClosedFlows ?? MAX_CLOSED_FLOWS,
  };
  const stats: ReassemblerStats = {
    flows: 0,
    segments: 0,
    deliveredBytes: 0,
    gaps: 0,
    gapBytes: 0,
    retransmittedBytes: 0,
    outOfOrderSegments: 0,
    discardedBytes: 0,
    forcedGaps: 0,
    evictedFlows: 0,
    bufferedBytes: 0,
    peakBufferedBytes: 0,
    trackedFlows: 0,
  };
  /** Flow table: lo address → hi address → port pair → slot (see `FlowKeyParts`). */
  const index = new Map<string, Map<string, Map<number, Slot>>>();
  /** Slots in least-recently-active-first order (moved to the end on every segment). */
  let oldestSlot: Slot | null = null;
  let newestSlot: Slot | null = null;
  let tableSize = 0;

  const slotAt = (lo: string, hi: string, ports: number): Slot | undefined => index.get(lo)?.get(hi)?.get(ports);

  /** The slot holding `e`, if `e` is in the table. */
  const slotOf = (e: TableEntry): Slot | undefined => {
    const slot = slotAt(e.key.lo, e.key.hi, e.key.ports);
    return slot?.entry === e ? slot : undefined;
  };

  const unlink = (slot: Slot): void => {
    if (slot.older) slot.older.newer = slot.newer;
    else oldestSlot = slot.newer;
    if (slot.newer) slot.newer.older = slot.older;
    else newestSlot = slot.older;
    slot.older = null;
    slot.newer = null;
  };

  const append = (slot: Slot): void => {
    slot.older = newestSlot;
    if (newestSlot) newestSlot.newer = slot;
    else oldestSlot = slot;
    newestSlot = slot;
  };

  /** Marks the slot's flow as the most recently active. */
  const touch = (slot: Slot): void => {
    if (slot === newestSlot) return;
    unlink(slot);
    append(slot);
  };

  const tableAdd = (e: TableEntry): void => {
    const { lo, hi, ports } = e.key;
    let byHi = index.get(lo);
    if (!byHi) {
      byHi = new Map();
      index.set(lo, byHi);
    }
    let byPorts = byHi.get(hi);
    if (!byPorts) {
      byPorts = new Map();
      byHi.set(hi, byPorts);
    }
    const slot: Slot = { entry: e, older: null, newer: null };
    byPorts.set(ports, slot);
    append(slot);
    tableSize++;
  };

  /** Removes `e` from the table; false when it was not there. */
  const tableDelete = (e: TableEntry): boolean => {
    const slot = slotOf(e);
    if (!slot) return false;
    const { lo, hi, ports } = e.key;
    const byHi = index.get(lo)!;
    const byPorts = byHi.get(hi)!;
    byPorts.delete(ports);
    if (byPorts.size === 0) {
      byHi.delete(hi);
      if (byHi.size === 0) index.delete(lo);
    }
    unlink(slot);
    tableSize--;
    return true;
  };

  /** The table's entries, least recently active first. */
  const entries = (): TableEntry[] => {
    const out: TableEntry[] = [];
    for (let slot = oldestSlot; slot; slot = slot.newer) out.push(slot.entry);
    return out;
  };
  /** Closed flows in the order they closed, from `closedHead` (forgotten ones are nulled out). */
  let closedOrder: (ClosedFlow | null)[] = [];
  let closedHead = 0;
  /** Closed flows in the table. */
  let closedCount = 0;

  // --- delivery primitives --------------------------------------------------------------------

  const deliver = (f: FlowState, dir: Direction, d: DirState, bytes: Uint8Array, frame: number, ts: number): void => {
    if (bytes.length === 0) return;
    const offset = d.next;
    d.next += bytes.length;
    d.stats.deliveredBytes += bytes.length;
    stats.deliveredBytes += bytes.length;
    events.onData(f, dir, bytes, offset, { frame, timestampUs: ts });
  };

  const gap = (f: FlowState, dir: Direction, d: DirState, length: number, forced: boolean): void => {
    if (length <= 0) return;
    const offset = d.next;
    d.next += length;
    d.stats.gaps++;
    d.stats.gapBytes += length;
    stats.gaps++;
    stats.gapBytes += length;
    if (forced) stats.forcedGaps++;
    events.onGap(f, dir, offset, length);
  };

  /** Delivers a run that starts exactly at `d.next` (captured part, then the cut tail as a gap). */
  const deliverRun = (
    f: FlowState,
    dir: Direction,
    d: DirState,
    bytes: Uint8Array,
    length: number,
    frame: number,
    ts: number,
  ): void => {
    deliver(f, dir, d, bytes, frame, ts);
    gap(f, dir, d, length - bytes.length, false);
  };

  /** Delivers every buffered piece that now starts at `d.next`. */
  const drain = (f: FlowState, dir: Direction, d: DirState): void => {
    while (d.pieces.length > 0 && d.pieces[0]!.offset <= d.next) {
      const p = d.pieces.shift()!;
      unbuffer(d, p.bytes.length);
      // Pieces never overlap each other but `next` may have moved into one through a gap.
      const skip = d.next - p.offset;
      if (skip >= p.length) continue;
      const bytes = skip > 0 ? p.bytes.subarray(Math.min(skip, p.bytes.length)) : p.bytes;
      deliverRun(f, dir, d, bytes, p.length - skip, p.frame, p.timestampUs);
    }
    maybeEndFin(f, dir, d);
  };

  const unbuffer = (d: DirState, n: number): void => {
    d.bufferedBytes -= n;
    stats.bufferedBytes -= n;
  };

  /** Declares every hole a gap and delivers everything buffered (up to the FIN, if one was seen). */
  const flush = (f: FlowState, dir: Direction, d: DirState, forced: boolean): void => {
    while (d.pieces.length > 0) {
      gap(f, dir, d, d.pieces[0]!.offset - d.next, forced);
      drain(f, dir, d);
    }
    if (d.fin && !d.ended && d.fin.offset > d.next) gap(f, dir, d, d.fin.offset - d.next, forced);
    maybeEndFin(f, dir, d);
  };

  const maybeEndFin = (f: FlowState, dir: Direction, d: DirState): void => {
    if (d.ended || !d.fin || d.next < d.fin.offset || d.pieces.length > 0) return;
    d.ended = 'fin';
    events.onEnd(f, dir, 'fin', d.fin.timestampUs, d.fin.frame);
    maybeClose(f);
  };

  const maybeClose = (f: FlowState): void => {
    if (!f.closed && !f.closing && f.dirs.client.ended && f.dirs.server.ended) close(f, 'closed');
  };

  /** Closes a flow; it stays in the table (so late ACKs do not start a new flow) unless dropped. */
  const close = (f: FlowState, reason: CloseReason): void => {
    if (f.closed || f.closing) return;
    f.closing = true;
    for (const dir of ['client', 'server'] as const) {
      const d = f.dirs[dir];
      if (reason !== 'closed' && !d.ended) flush(f, dir, d, false);
      // Anything still buffered (data after an ended stream) is released.
      for (const p of d.pieces) unbuffer(d, p.bytes.length);
      d.pieces.length = 0;
    }
    f.closed = reason;
    f.closing = false;
    events.onFlowClose?.(f, reason);
    // Still in the table (closed by its own FINs or RST): keep only what late segments need.
    const slot = slotOf(f);
    if (slot)
      remember(slot, {
        closed: reason,
        key: f.key,
        client: f.client,
        clientIsns: f.dirs.client.isns,
        serverIsns: f.dirs.server.isns,
        stats: f.stats,
      });
  };

  /**
   * Replaces a closed flow's table entry by its `ClosedFlow` (in the same place of the activity
   * order), forgetting the oldest beyond the cap.
   */
  const remember = (slot: Slot, c: ClosedFlow): void => {
    slot.entry = c;
    closedOrder.push(c);
    closedCount++;
    while (closedCount > lim.maxClosedFlows && closedHead < closedOrder.length) {
      const old = closedOrder[closedHead];
      closedOrder[closedHead++] = null;
      if (old && slotOf(old)) drop(old);
    }
    if (closedHead > 4096 && closedHead * 2 > closedOrder.length) {
      closedOrder = closedOrder.slice(closedHead);
      closedHead = 0;
    }
  };

  const drop = (f: TableEntry): void => {
    if (tableDelete(f) && !isLive(f)) closedCount--;
    stats.trackedFlows = tableSize;
  };

  // --- buffering ------------------------------------------------------------------------------

  /** Buffers a copy of `[offset, offset + length)` of the segment (caller made sure it is new). */
  const buffer = (d: DirState, piece: Piece): void => {
    const copy: Piece = { ...piece, bytes: piece.bytes.slice() };
    // Binary search for the insertion point (pieces sorted by offset).
    let lo = 0;
    let hi = d.pieces.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (d.pieces[mid]!.offset < copy.offset) lo = mid + 1;
      else hi = mid;
    }
    d.pieces.splice(lo, 0, copy);
    d.bufferedBytes += copy.bytes.length;
    stats.bufferedBytes += copy.bytes.length;
    if (stats.bufferedBytes > stats.peakBufferedBytes) stats.peakBufferedBytes = stats.bufferedBytes;
  };

  /** Enforces the per-direction and global caps by declaring the oldest holes gaps. */
  const enforceCaps = (f: FlowState, dir: Direction, d: DirState): void => {
    while (
      d.pieces.length > 0 &&
      (d.bufferedBytes > lim.maxBufferedBytesPerDirection || d.pieces.length > lim.maxBufferedSegmentsPerDirection)
    ) {
      gap(f, dir, d, d.pieces[0]!.offset - d.next, true);
      drain(f, dir, d);
    }
    if (stats.bufferedBytes > lim.maxBufferedBytesTotal) {
      let worst: { f: FlowState; dir: Direction; d: DirState } | undefined;
      for (let slot = oldestSlot; slot; slot = slot.newer) {
        const g = slot.entry;
        if (!isLive(g)) continue;
        for (const x of ['client', 'server'] as const) {
          const gd = g.dirs[x];
          if (!worst || gd.bufferedBytes > worst.d.bufferedBytes) worst = { f: g, dir: x, d: gd };
        }
      }
      if (worst) flush(worst.f, worst.dir, worst.d, true);
    }
  };

  /**
   * Takes in the run `[start, start + length)` (captured prefix `bytes`): drops what was delivered,
   * keeps first arrivals where it overlaps buffered runs, delivers what is contiguous, buffers the rest.
   */
  const accept = (
    f: FlowState,
    dir: Direction,
    d: DirState,
    start: number,
    bytes: Uint8Array,
    length: number,
    seg: TcpSegment,
  ): void => {
    if (start === d.next && d.pieces.length === 0) {
      // The common case, in order with nothing buffered: what the loop below does, without its views.
      deliverRun(
        f,
        dir,
        d,
        bytes.length <= length ? bytes : bytes.subarray(0, length),
        length,
        seg.frame,
        seg.timestampUs,
      );
      drain(f, dir, d);
      return;
    }
    let s = start;
    let b = bytes;
    let len = length;
    const trimFront = (k: number): void => {
      s += k;
      len -= k;
      b = b.subarray(Math.min(k, b.length));
    };
    if (s < d.next) {
      const old = Math.min(d.next - s, len);
      d.stats.retransmittedBytes += old;
      stats.retransmittedBytes += old;
      trimFront(old);
    }
    if (len <= 0) return;
    let buffered = false;
    // Walk the buffered runs in order; `i` tracks the first run that may overlap what is left.
    let i = 0;
    while (len > 0) {
      if (s === d.next) {
        // Contiguous: deliver up to the next buffered run, then let the buffer catch up.
        const stop = d.pieces.length > 0 ? Math.min(len, d.pieces[0]!.offset - s) : len;
        const part = b.subarray(0, Math.min(stop, b.length));
        deliverRun(f, dir, d, part, stop, seg.frame, seg.timestampUs);
        trimFront(stop);
        drain(f, dir, d);
        i = 0;
        if (s < d.next) {
          // The buffer covered what follows (first arrival wins): skip it.
          const covered = Math.min(d.next - s, len);
          d.stats.retransmittedBytes += covered;
          stats.retransmittedBytes += covered;
          trimFront(covered);
        }
        continue;
      }
      // Out of order: find the runs around `s`.
      while (i < d.pieces.length && d.pieces[i]!.offset + d.pieces[i]!.length <= s) i++;
      const p = d.pieces[i];
      if (p && p.offset <= s) {
        // Inside a buffered run: its bytes win.
        const covered = Math.min(p.offset + p.length - s, len);
        d.stats.retransmittedBytes += covered;
        stats.retransmittedBytes += covered;
        trimFront(covered);
        continue;
      }
      const stop = p ? Math.min(len, p.offset - s) : len;
      buffer(d, {
        offset: s,
        length: stop,
        bytes: b.subarray(0, Math.min(stop, b.length)),
        frame: seg.frame,
        timestampUs: seg.timestampUs,
      });
      buffered = true;
      i++;
      trimFront(stop);
    }
    if (buffered) {
      d.stats.outOfOrderSegments++;
      stats.outOfOrderSegments++;
      enforceCaps(f, dir, d);
    }
  };

  // --- flows ----------------------------------------------------------------------------------

  const newFlow = (seg: TcpSegment, key: FlowKeyParts): FlowState => {
    const src = { addr: seg.src, port: seg.srcPort };
    const dst = { addr: seg.dst, port: seg.dstPort };
    let roles: RoleSource;
    let srcIsClient: boolean;
    if (seg.flags.syn && !seg.flags.ack) {
      roles = 'syn';
      srcIsClient = true;
    } else if (seg.flags.syn && seg.flags.ack) {
      roles = 'syn-ack';
      srcIsClient = false;
    } else if (seg.srcPort !== seg.dstPort) {
      roles = 'port';
      srcIsClient = seg.srcPort > seg.dstPort;
    } else {
      roles = 'first-sender';
      srcIsClient = true;
    }
    const clientStats = newDirStats();
    const serverStats = newDirStats();
    const f: FlowState = {
      id: stats.flows++,
      client: srcIsClient ? src : dst,
      server: srcIsClient ? dst : src,
      ipVersion: seg.ipVersion,
      roles,
      firstFrame: seg.frame,
      firstTimestampUs: seg.timestampUs,
      lastTimestampUs: seg.timestampUs,
      flags: [],
      stats: { client: clientStats, server: serverStats },
      closed: undefined,
      closing: false,
      dirs: { client: newDir(clientStats), server: newDir(serverStats) },
      key,
    };
    while (tableSize >= lim.maxFlows) {
      const oldest = oldestSlot!.entry;
      drop(oldest);
      if (isLive(oldest) && !oldest.closed) {
        stats.evictedFlows++;
        close(oldest, 'evicted');
      }
    }
    tableAdd(f);
    stats.trackedFlows = tableSize;
    events.onFlowStart?.(f);
    return f;
  };

  /** Swaps client and server of a flow whose roles were guessed, before any byte was delivered. */
  const swapRoles = (f: FlowState, roles: RoleSource): void => {
    [f.client, f.server] = [f.server, f.client];
    [f.dirs.client, f.dirs.server] = [f.dirs.server, f.dirs.client];
    [f.stats.client, f.stats.server] = [f.stats.server, f.stats.client];
    f.flags = f.flags.map((e) => ({ ...e, from: e.from === 'client' ? 'server' : 'client' }));
    f.roles = roles;
  };

  const untouched = (f: FlowState): boolean =>
    f.dirs.client.stats.deliveredBytes +
      f.dirs.server.stats.deliveredBytes +
      f.dirs.client.stats.gapBytes +
      f.dirs.server.stats.gapBytes ===
      0 &&
    f.dirs.client.pieces.length + f.dirs.server.pieces.length === 0 &&
    !f.dirs.client.ended &&
    !f.dirs.server.ended;

  const record = (f: FlowState, kind: FlagEvent['kind'], from: Direction, seg: TcpSegment): void => {
    if (f.flags.length < lim.maxFlagEvents)
      f.flags.push({ kind, from, timestampUs: seg.timestampUs, frame: seg.frame, seq: seg.seq });
  };

  const push = (seg: TcpSegment): void => {
    stats.segments++;
    const srcFirst = seg.src < seg.dst || (seg.src === seg.dst && seg.srcPort <= seg.dstPort);
    const lo = srcFirst ? seg.src : seg.dst;
    const hi = srcFirst ? seg.dst : seg.src;
    const ports = srcFirst ? seg.srcPort * 65536 + seg.dstPort : seg.dstPort * 65536 + seg.srcPort;
    const slot = slotAt(lo, hi, ports);
    const entry = slot?.entry;
    if (entry !== undefined && !isLive(entry)) {
      // A closed flow: a new connection on the same port pair (not one of its retransmitted SYNs),
      // or a late segment of the old one, with nothing to deliver.
      const fromClient = entry.client.addr === seg.src && entry.client.port === seg.srcPort;
      if (seg.flags.syn && !(fromClient ? entry.clientIsns : entry.serverIsns).includes(seg.seq)) {
        drop(entry);
      } else {
        const late = fromClient ? entry.stats.client : entry.stats.server;
        late.discardedBytes += seg.payloadLength;
        stats.discardedBytes += seg.payloadLength;
        touch(slot!);
        return;
      }
    }
    let f = entry !== undefined && isLive(entry) ? entry : undefined;
    if (f && seg.flags.syn) {
      const fromClient = f.client.addr === seg.src && f.client.port === seg.srcPort;
      const c = fromClient ? f.dirs.client : f.dirs.server;
      const pureSyn = !seg.flags.ack;
      // A new connection on the same port pair: a SYN brings a new ISN to a flow that already
      // carried data (the closed case is handled above).
      const reused = pureSyn && (c.isn !== undefined ? c.isn !== seg.seq && !untouched(f) : !untouched(f));
      if (reused) {
        drop(f);
        close(f, 'replaced');
        f = undefined;
      } else if (pureSyn && !fromClient && f.roles !== 'syn' && f.roles !== 'syn-ack' && untouched(f)) {
        swapRoles(f, 'syn');
      }
    }
    if (!f) f = newFlow(seg, { lo, hi, ports });
    else touch(slot!);
    f.lastTimestampUs = seg.timestampUs;
    const dir: Direction = f.client.addr === seg.src && f.client.port === seg.srcPort ? 'client' : 'server';
    const other: Direction = dir === 'client' ? 'server' : 'client';
    const d = f.dirs[dir];

    if (seg.flags.syn) {
      record(f, seg.flags.ack ? 'syn-ack' : 'syn', dir, seg);
      if (!d.isns.includes(seg.seq) && d.isns.length < MAX_ISNS) d.isns.push(seg.seq);
      if (d.isn === undefined && d.next === 0 && d.pieces.length === 0) {
        d.isn = seg.seq;
        d.base = (seg.seq + 1) >>> 0;
      }
      // The SYN+ACK acknowledges the client's ISN + 1: offset 0 of the other direction.
      const o = f.dirs[other];
      if (seg.flags.ack && o.base === undefined) o.base = seg.ack;
    }
    if (seg.flags.fin) record(f, 'fin', dir, seg);
    if (seg.flags.rst) record(f, 'rst', dir, seg);

    if (d.ended) {
      d.stats.discardedBytes += seg.payloadLength;
      stats.discardedBytes += seg.payloadLength;
    }

    const dataSeq = seg.flags.syn ? (seg.seq + 1) >>> 0 : seg.seq;
    if (d.base === undefined && (seg.payloadLength > 0 || seg.flags.fin)) d.base = dataSeq;
    if (
      d.base !== dataSeq &&
      d.next === 0 &&
      d.pieces.length === 0 &&
      d.isns.length > 1 &&
      d.isns.includes((dataSeq - 1) >>> 0)
    ) {
      // The handshake was retried with another ISN and the data follows that one: re-anchor.
      d.isn = (dataSeq - 1) >>> 0;
      d.base = dataSeq;
    }

    if (!d.ended && d.base !== undefined && (seg.payloadLength > 0 || seg.flags.fin)) {
      // Unwrap the 32-bit sequence number around the next expected byte (RFC 9293, Section 3.4).
      const seqAtNext = (d.base + d.next) >>> 0;
      let start = d.next + ((dataSeq - seqAtNext) | 0);
      let bytes = seg.payload;
      let length = seg.payloadLength;
      if (start < 0) {
        const before = Math.min(-start, length);
        d.stats.discardedBytes += before;
        stats.discardedBytes += before;
        bytes = bytes.subarray(Math.min(before, bytes.length));
        length -= before;
        start += before;
      }
      if (seg.flags.fin && !d.fin) d.fin = { offset: start + length, timestampUs: seg.timestampUs, frame: seg.frame };
      if (d.fin && start + length > d.fin.offset) {
        // Data beyond the FIN is not part of the stream.
        const beyond = Math.min(start + length - d.fin.offset, length);
        d.stats.discardedBytes += beyond;
        stats.discardedBytes += beyond;
        length -= beyond;
        bytes = bytes.subarray(0, Math.min(bytes.length, length));
      }
      if (length > 0) accept(f, dir, d, start, bytes, length, seg);
      maybeEndFin(f, dir, d);
    }

    if (seg.flags.rst) {
      // RFC 9293, Section 3.10.7: a reset aborts the connection in both directions.
      for (const x of [dir, other] as const) {
        const xd = f.dirs[x];
        if (xd.ended) continue;
        flush(f, x, xd, false);
        if (xd.ended) continue;
        xd.ended = 'rst';
        events.onEnd(f, x, 'rst', seg.timestampUs, seg.frame);
      }
      maybeClose(f);
    }
  };

  const finish = (): void => {
    for (const f of entries()) {
      drop(f);
      if (isLive(f) && !f.closed) close(f, 'finish');
    }
  };

  return { push, finish, stats };
}

// ---------------------------------------------------------------------------------------------
// Whole-capture convenience
// ---------------------------------------------------------------------------------------------

/** What `reassembleCapture` saw. */
export interface CaptureSummary {
  readonly meta: CaptureMeta;
  readonly decode: Readonly<DecodeStats>;
  readonly tcp: Readonly<ReassemblerStats>;
}

export interface ReassembleCaptureOptions extends ReadCaptureOptions {
  readonly limits?: Partial<ReassemblerLimits>;
  readonly fragmentLimits?: Partial<FragmentLimits>;
  /** Sees every packet before it is decoded (e.g. for counting or non-TCP work). */
  readonly onPacket?: (p: CapturedPacket, meta: CaptureMeta) => void;
  /**
   * Sees the capture's metadata so far before every packet is decoded (the key log and interfaces
   * grow as blocks arrive), for a caller that needs no packet: then no packet object is made.
   */
  readonly onMeta?: (meta: CaptureMeta) => void;
}

/**
 * Returns a summary after streaming a capture through the pcap/pcapng reader, the packet decoder
 * and a reassembler reporting to `events`; `finish()` runs at the end, so every flow is closed.
 * Throws what `readCapture` throws (a broken container); packet content never throws.
 */
export async function reassembleCapture(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array,
  events: StreamEvents,
  options: ReassembleCaptureOptions = {},
): Promise<CaptureSummary> {
  const state = createDecodeState(options.fragmentLimits);
  const reassembler = createReassembler(events, options.limits);
  const { onPacket, onMeta } = options;
  let meta: CaptureMeta;
  if (onPacket) {
    meta = await readCapture(
      source,
      (p, m) => {
        onMeta?.(m);
        onPacket(p, m);
        const seg = decodePacket(p.linkType, p.data, { timestampUs: p.timestampUs, frame: p.index }, state);
        if (seg) reassembler.push(seg);
      },
      options,
    );
  } else {
    // Nobody sees the packets: read them without a packet object or view each, and decode the
    // common ones into one reused segment (the reassembler keeps nothing of a segment).
    const into = newReusedSegment();
    meta = await readCaptureRaw(
      source,
      (p, m) => {
        onMeta?.(m);
        const seg = decodePacketInto(into, p.linkType, p.buf, p.start, p.end, p.timestampUs, p.index, state);
        if (seg) reassembler.push(seg);
      },
      options,
    );
  }
  reassembler.finish();
  return { meta, decode: state.stats, tcp: reassembler.stats };
}
