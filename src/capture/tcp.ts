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
 * - Missing data is never invented: a hole becomes `onGap(offset, length)` when the receiver
 *   acknowledges past it (it got the bytes; the capture dropped them), when the direction's
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
import { decodePacket, decodePacketInto, newReusedSegment } from './packet.js';
import { createDecodeState, type DecodeStats, type FragmentLimits } from './decode-state.js';
import { addressHash } from './tcp-header.js';
import type { TcpSegment } from './tcp-header.js';
import { readCapture, readCaptureRaw } from './pcap.js';
import type { CaptureMeta, CapturedPacket, ReadCaptureOptions } from './pcap-format.js';
import {
  type Direction,
  type FlagEvent,
  MAX_BUFFERED_BYTES_PER_DIRECTION,
  MAX_BUFFERED_BYTES_TOTAL,
  MAX_BUFFERED_SEGMENTS_PER_DIRECTION,
  MAX_CLOSED_FLOWS,
  MAX_FLAG_EVENTS,
  MAX_FLOWS,
  type Reassembler,
  type ReassemblerLimits,
  type ReassemblerStats,
  type RoleSource,
  type StreamEvents,
} from './tcp-types.js';
import {
  type FlowKeyParts,
  type FlowState,
  type TcpState,
  clearTable,
  countTracked,
  drop,
  liveFlows,
  newDir,
  newDirStats,
  newFlowTable,
  slotAt,
  flowAt,
  tableAdd,
  touch,
} from './flow-table.js';
import {
  MAX_ISNS,
  closedHadIsn,
  findClosed,
  flowHash,
  forgetClosed,
  forgetOldestClosed,
  isClosedClient,
} from './closed-flows.js';
import { accept, ackedGap, close, flush, maybeClose, maybeEndFin } from './tcp-stream.js';

// The layer's public shape is tcp-types.ts; importers keep importing it from here.
export * from './tcp-types.js';

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
  const st: TcpState = {
    events,
    lim,
    stats: {
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
    },
    table: newFlowTable(lim.maxClosedFlows),
  };
  return { push: (seg) => push(st, seg), finish: () => finish(st), stats: st.stats };
}

// ---------------------------------------------------------------------------------------------
// Flows: a segment's flow found or started, its flags recorded, its bytes handed to tcp-stream.ts
// ---------------------------------------------------------------------------------------------

function newFlow(st: TcpState, seg: TcpSegment, key: FlowKeyParts): FlowState {
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
    id: st.stats.flows++,
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
    attached: undefined,
    closing: false,
    dirs: { client: newDir(clientStats), server: newDir(serverStats) },
    key,
  };
  // Past the cap, closed flows are forgotten first (oldest close first), then live ones evicted.
  while (st.table.size + st.table.closed.size >= st.lim.maxFlows) {
    if (forgetOldestClosed(st.table.closed)) continue;
    const oldest = flowAt(st.table, st.table.oldest);
    drop(st, oldest);
    if (!oldest.closed) {
      st.stats.evictedFlows++;
      close(st, oldest, 'evicted');
    }
  }
  tableAdd(st.table, f);
  countTracked(st);
  st.events.onFlowStart?.(f);
  return f;
}

/** Swaps client and server of a flow whose roles were guessed, before any byte was delivered. */
function swapRoles(f: FlowState, roles: RoleSource): void {
  [f.client, f.server] = [f.server, f.client];
  [f.dirs.client, f.dirs.server] = [f.dirs.server, f.dirs.client];
  [f.stats.client, f.stats.server] = [f.stats.server, f.stats.client];
  f.flags = f.flags.map((e) => ({ ...e, from: e.from === 'client' ? 'server' : 'client' }));
  f.roles = roles;
}

function untouched(f: FlowState): boolean {
  return (
    f.dirs.client.stats.deliveredBytes +
      f.dirs.server.stats.deliveredBytes +
      f.dirs.client.stats.gapBytes +
      f.dirs.server.stats.gapBytes ===
      0 &&
    f.dirs.client.pieces.length + f.dirs.server.pieces.length === 0 &&
    !f.dirs.client.ended &&
    !f.dirs.server.ended
  );
}

function record(st: TcpState, f: FlowState, kind: FlagEvent['kind'], from: Direction, seg: TcpSegment): void {
  if (f.flags.length < st.lim.maxFlagEvents)
    f.flags.push({ kind, from, timestampUs: seg.timestampUs, frame: seg.frame, seq: seg.seq });
}

function push(st: TcpState, seg: TcpSegment): void {
  st.stats.segments++;
  const srcFirst = seg.src < seg.dst || (seg.src === seg.dst && seg.srcPort <= seg.dstPort);
  const lo = srcFirst ? seg.src : seg.dst;
  const hi = srcFirst ? seg.dst : seg.src;
  const ports = srcFirst ? seg.srcPort * 65536 + seg.dstPort : seg.dstPort * 65536 + seg.srcPort;
  const srcHash = seg.srcHash ?? addressHash(seg.src);
  const dstHash = seg.dstHash ?? addressHash(seg.dst);
  const hash = srcFirst ? flowHash(srcHash, dstHash, ports) : flowHash(dstHash, srcHash, ports);
  const slot = slotAt(st.table, lo, hi, ports, hash);
  if (slot === -1) {
    const closed = st.table.closed;
    const p = findClosed(closed, lo, hi, ports, hash);
    if (p !== -1) {
      // A closed flow: a new connection on the same port pair (not one of its retransmitted
      // SYNs), or a late segment of the old one, with nothing to deliver.
      const fromClient = isClosedClient(closed, p, seg.src, seg.srcPort);
      if (seg.flags.syn && !closedHadIsn(closed, p, fromClient, seg.seq)) {
        forgetClosed(closed, p);
        countTracked(st);
      } else {
        // The closed flow's own stats are final (closed-flows.ts): only the totals count this.
        st.stats.discardedBytes += seg.payloadLength;
        return;
      }
    }
  }
  let f = slot === -1 ? undefined : flowAt(st.table, slot);
  if (f && seg.flags.syn) {
    const fromClient = f.client.addr === seg.src && f.client.port === seg.srcPort;
    const c = fromClient ? f.dirs.client : f.dirs.server;
    const pureSyn = !seg.flags.ack;
    // A new connection on the same port pair: a SYN brings a new ISN to a flow that already
    // carried data (the closed case is handled above).
    const reused = pureSyn && (c.isn !== undefined ? c.isn !== seg.seq && !untouched(f) : !untouched(f));
    if (reused) {
      drop(st, f);
      close(st, f, 'replaced');
      f = undefined;
    } else if (pureSyn && !fromClient && f.roles !== 'syn' && f.roles !== 'syn-ack' && untouched(f)) {
      swapRoles(f, 'syn');
    }
  }
  if (!f) f = newFlow(st, seg, { lo, hi, ports, hash });
  else touch(st.table, slot);
  f.lastTimestampUs = seg.timestampUs;
  const dir: Direction = f.client.addr === seg.src && f.client.port === seg.srcPort ? 'client' : 'server';
  const other: Direction = dir === 'client' ? 'server' : 'client';
  const d = f.dirs[dir];

  if (seg.flags.syn) {
    record(st, f, seg.flags.ack ? 'syn-ack' : 'syn', dir, seg);
    if (!d.isns.includes(seg.seq) && d.isns.length < MAX_ISNS) d.isns.push(seg.seq);
    if (d.isn === undefined && d.next === 0 && d.pieces.length === 0) {
      d.isn = seg.seq;
      d.base = (seg.seq + 1) >>> 0;
    }
    // The SYN+ACK acknowledges the client's ISN + 1: offset 0 of the other direction.
    const o = f.dirs[other];
    if (seg.flags.ack && o.base === undefined) o.base = seg.ack;
  }
  if (seg.flags.fin) record(st, f, 'fin', dir, seg);
  // RFC 9293, Section 3.10.7.3: a side in SYN-SENT answers an unacceptable ACK (a firewall's or a SYN
  // proxy's, a stale one) with <SEQ=SEG.ACK><CTL=RST> and stays in SYN-SENT, sending its SYN again: a
  // reset without ACK from the side that sent a SYN, before any SYN of the other side, ends nothing
  // (Wireshark keeps the retried handshake in the same tcp.stream).
  const aborts = seg.flags.rst && !(!seg.flags.ack && d.isns.length > 0 && f.dirs[other].isns.length === 0);
  if (aborts) record(st, f, 'rst', dir, seg);

  if (d.ended) {
    d.stats.discardedBytes += seg.payloadLength;
    st.stats.discardedBytes += seg.payloadLength;
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
      st.stats.discardedBytes += before;
      bytes = bytes.subarray(Math.min(before, bytes.length));
      length -= before;
      start += before;
    }
    if (seg.flags.fin && !d.fin) d.fin = { offset: start + length, timestampUs: seg.timestampUs, frame: seg.frame };
    if (d.fin && start + length > d.fin.offset) {
      // Data beyond the FIN is not part of the stream.
      const beyond = Math.min(start + length - d.fin.offset, length);
      d.stats.discardedBytes += beyond;
      st.stats.discardedBytes += beyond;
      length -= beyond;
      bytes = bytes.subarray(0, Math.min(bytes.length, length));
    }
    if (length > 0) accept(st, f, dir, d, start, bytes, length, seg);
    maybeEndFin(st, f, dir, d);
  }

  if (seg.flags.ack && !seg.flags.syn) {
    // What this side acknowledged of the other direction (unwrapped around its next byte).
    const o = f.dirs[other];
    if (o.base !== undefined && o.pieces.length > 0)
      ackedGap(st, f, other, o, o.next + ((seg.ack - ((o.base + o.next) >>> 0)) | 0));
  }

  if (aborts) {
    // RFC 9293, Section 3.10.7: a reset aborts the connection in both directions.
    for (const x of [dir, other] as const) {
      const xd = f.dirs[x];
      if (xd.ended) continue;
      flush(st, f, x, xd, false);
      if (xd.ended) continue;
      xd.ended = 'rst';
      st.events.onEnd(f, x, 'rst', seg.timestampUs, seg.frame);
    }
    maybeClose(st, f);
  }
}

function finish(st: TcpState): void {
  for (const f of liveFlows(st.table)) {
    drop(st, f);
    if (!f.closed) close(st, f, 'finish');
  }
  clearTable(st);
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
