/**
 * TCP reassembly, one direction's bytes (internal to tcp.ts): delivery of contiguous runs, holes
 * declared gaps, out-of-order runs buffered (copied) under the caps of `ReassemblerLimits`, and the
 * end of a direction and of a flow. The rules are those of tcp.ts's file comment.
 */
import type { CloseReason, Direction } from './tcp-types.js';
import type { TcpSegment } from './tcp-header.js';
import { type DirState, type FlowState, type Piece, type TcpState, remember } from './flow-table.js';

function deliver(
  st: TcpState,
  f: FlowState,
  dir: Direction,
  d: DirState,
  bytes: Uint8Array,
  frame: number,
  ts: number,
): void {
  if (bytes.length === 0) return;
  const offset = d.next;
  d.next += bytes.length;
  d.stats.deliveredBytes += bytes.length;
  st.stats.deliveredBytes += bytes.length;
  st.events.onData(f, dir, bytes, offset, frame, ts);
}

function gap(st: TcpState, f: FlowState, dir: Direction, d: DirState, length: number, forced: boolean): void {
  if (length <= 0) return;
  const offset = d.next;
  d.next += length;
  d.stats.gaps++;
  d.stats.gapBytes += length;
  st.stats.gaps++;
  st.stats.gapBytes += length;
  if (forced) st.stats.forcedGaps++;
  st.events.onGap(f, dir, offset, length);
}

/** Delivers a run that starts exactly at `d.next` (captured part, then the cut tail as a gap). */
function deliverRun(
  st: TcpState,
  f: FlowState,
  dir: Direction,
  d: DirState,
  bytes: Uint8Array,
  length: number,
  frame: number,
  ts: number,
): void {
  deliver(st, f, dir, d, bytes, frame, ts);
  gap(st, f, dir, d, length - bytes.length, false);
}

/** Delivers every buffered piece that now starts at `d.next`. */
function drain(st: TcpState, f: FlowState, dir: Direction, d: DirState): void {
  while (d.pieces.length > 0 && d.pieces[0]!.offset <= d.next) {
    const p = d.pieces.shift()!;
    unbuffer(st, d, p.bytes.length);
    // Pieces never overlap each other but `next` may have moved into one through a gap.
    const skip = d.next - p.offset;
    if (skip >= p.length) continue;
    const bytes = skip > 0 ? p.bytes.subarray(Math.min(skip, p.bytes.length)) : p.bytes;
    deliverRun(st, f, dir, d, bytes, p.length - skip, p.frame, p.timestampUs);
  }
  maybeEndFin(st, f, dir, d);
}

function unbuffer(st: TcpState, d: DirState, n: number): void {
  d.bufferedBytes -= n;
  st.stats.bufferedBytes -= n;
}

/**
 * The other side acknowledged this direction up to stream offset `acked`, beyond `next`, while later
 * bytes wait in the buffer: the receiver has the hole's bytes, so the capture missed them and they
 * will not come. The hole (up to `acked` or the first buffered run) is declared a gap now and the
 * buffer delivered, instead of copying everything behind the hole into the buffer until a cap or
 * the flow's end forces the same gap (a capture that dropped packets of a bulk transfer).
 */
export function ackedGap(st: TcpState, f: FlowState, dir: Direction, d: DirState, acked: number): void {
  if (d.pieces.length === 0 || acked <= d.next || d.ended) return;
  gap(st, f, dir, d, Math.min(acked, d.pieces[0]!.offset) - d.next, false);
  drain(st, f, dir, d);
}

/** Declares every hole a gap and delivers everything buffered (up to the FIN, if one was seen). */
export function flush(st: TcpState, f: FlowState, dir: Direction, d: DirState, forced: boolean): void {
  while (d.pieces.length > 0) {
    gap(st, f, dir, d, d.pieces[0]!.offset - d.next, forced);
    drain(st, f, dir, d);
  }
  if (d.fin && !d.ended && d.fin.offset > d.next) gap(st, f, dir, d, d.fin.offset - d.next, forced);
  maybeEndFin(st, f, dir, d);
}

export function maybeEndFin(st: TcpState, f: FlowState, dir: Direction, d: DirState): void {
  if (d.ended || !d.fin || d.next < d.fin.offset || d.pieces.length > 0) return;
  d.ended = 'fin';
  st.events.onEnd(f, dir, 'fin', d.fin.timestampUs, d.fin.frame);
  maybeClose(st, f);
}

export function maybeClose(st: TcpState, f: FlowState): void {
  if (!f.closed && !f.closing && f.dirs.client.ended && f.dirs.server.ended) close(st, f, 'closed');
}

/** Closes a flow; it stays in the table (so late ACKs do not start a new flow) unless dropped. */
export function close(st: TcpState, f: FlowState, reason: CloseReason): void {
  if (f.closed || f.closing) return;
  f.closing = true;
  for (const dir of ['client', 'server'] as const) {
    const d = f.dirs[dir];
    if (reason !== 'closed' && !d.ended) flush(st, f, dir, d, false);
    // Anything still buffered (data after an ended stream) is released.
    for (const p of d.pieces) unbuffer(st, d, p.bytes.length);
    d.pieces.length = 0;
  }
  f.closed = reason;
  f.closing = false;
  st.events.onFlowClose?.(f, reason);
  // Still in the table (closed by its own FINs or RST): keep only what late segments need.
  remember(st, f);
}

/** Buffers a copy of `[offset, offset + length)` of the segment (caller made sure it is new). */
function buffer(st: TcpState, d: DirState, piece: Piece): void {
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
  st.stats.bufferedBytes += copy.bytes.length;
  if (st.stats.bufferedBytes > st.stats.peakBufferedBytes) st.stats.peakBufferedBytes = st.stats.bufferedBytes;
}

/**
 * Returns the index of the first of `pieces[from..]` (sorted by offset, not overlapping) that ends
 * after stream offset `s`, or `pieces.length`. A binary search: segments that follow a hole arrive
 * in order and each lands after every buffered run, so a walk from the front would make a
 * direction's up to MAX_BUFFERED_SEGMENTS_PER_DIRECTION segments quadratic (a one-way capture that
 * dropped a packet: each later segment walked the whole buffer).
 */
function firstRunEndingAfter(pieces: readonly Piece[], s: number, from: number): number {
  let lo = from;
  let hi = pieces.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const p = pieces[mid]!;
    if (p.offset + p.length <= s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Enforces the per-direction and global caps by declaring the oldest holes gaps. */
function enforceCaps(st: TcpState, f: FlowState, dir: Direction, d: DirState): void {
  while (
    d.pieces.length > 0 &&
    (d.bufferedBytes > st.lim.maxBufferedBytesPerDirection || d.pieces.length > st.lim.maxBufferedSegmentsPerDirection)
  ) {
    gap(st, f, dir, d, d.pieces[0]!.offset - d.next, true);
    drain(st, f, dir, d);
  }
  if (st.stats.bufferedBytes > st.lim.maxBufferedBytesTotal) flushFullest(st);
}

/**
 * Over the global cap: flushes the directions holding the most, fullest first, until the total is at
 * most three quarters of the cap. One walk of the flow table serves the whole batch, and a batch
 * frees at least a quarter of the cap, so the walks cost O(flows) per quarter-cap of buffered
 * bytes. Flushing only the fullest one and walking again at the next buffered segment made a
 * capture of many lossy flows quadratic (50,000 flows each holding one segment behind a hole:
 * ~10,000 walks of 50,000 flows).
 */
function flushFullest(st: TcpState): void {
  const holding: { f: FlowState; dir: Direction; d: DirState }[] = [];
  const t = st.table;
  for (let p = t.oldest; p !== -1; p = t.newer[p]!) {
    const g = t.entry[p]!;
    if (g.dirs.client.bufferedBytes > 0) holding.push({ f: g, dir: 'client', d: g.dirs.client });
    if (g.dirs.server.bufferedBytes > 0) holding.push({ f: g, dir: 'server', d: g.dirs.server });
  }
  // Fullest first; among equals, the least recently active flow first (the walk's order).
  holding.sort((a, b) => b.d.bufferedBytes - a.d.bufferedBytes);
  const lowWater = Math.floor((st.lim.maxBufferedBytesTotal * 3) / 4);
  for (const h of holding) {
    if (st.stats.bufferedBytes <= lowWater) break;
    // An earlier flush of the batch may have ended this flow (its data completed a close).
    if (h.d.bufferedBytes > 0 && !h.f.closed) flush(st, h.f, h.dir, h.d, true);
  }
}

/**
 * Takes in the run `[start, start + length)` (captured prefix `bytes`): drops what was delivered,
 * keeps first arrivals where it overlaps buffered runs, delivers what is contiguous, buffers the rest.
 */
export function accept(
  st: TcpState,
  f: FlowState,
  dir: Direction,
  d: DirState,
  start: number,
  bytes: Uint8Array,
  length: number,
  seg: TcpSegment,
): void {
  if (start === d.next && d.pieces.length === 0) {
    // The common case, in order with nothing buffered: what the loop below does, without its views.
    deliverRun(
      st,
      f,
      dir,
      d,
      bytes.length <= length ? bytes : bytes.subarray(0, length),
      length,
      seg.frame,
      seg.timestampUs,
    );
    drain(st, f, dir, d);
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
    st.stats.retransmittedBytes += old;
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
      deliverRun(st, f, dir, d, part, stop, seg.frame, seg.timestampUs);
      trimFront(stop);
      drain(st, f, dir, d);
      i = 0;
      if (s < d.next) {
        // The buffer covered what follows (first arrival wins): skip it.
        const covered = Math.min(d.next - s, len);
        d.stats.retransmittedBytes += covered;
        st.stats.retransmittedBytes += covered;
        trimFront(covered);
      }
      continue;
    }
    // Out of order: find the runs around `s`.
    i = firstRunEndingAfter(d.pieces, s, i);
    const p = d.pieces[i];
    if (p && p.offset <= s) {
      // Inside a buffered run: its bytes win.
      const covered = Math.min(p.offset + p.length - s, len);
      d.stats.retransmittedBytes += covered;
      st.stats.retransmittedBytes += covered;
      trimFront(covered);
      continue;
    }
    const stop = p ? Math.min(len, p.offset - s) : len;
    buffer(st, d, {
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
    st.stats.outOfOrderSegments++;
    enforceCaps(st, f, dir, d);
  }
}
