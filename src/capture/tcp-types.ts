/**
 * The TCP reassembly layer's public shape (see tcp.ts for the rules it follows): flows, directions,
 * the events a consumer receives, and the caps that bound what the reassembler holds. Kept apart
 * from the code so that the reassembler's own modules (flow-table.ts, tcp-stream.ts) and its
 * consumers share one set of types without importing each other.
 */
import type { TcpSegment } from './tcp-header.js';

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
  /** Final once the flow is closed: later segments on its port pair count in the reassembler's totals only. */
  readonly stats: { readonly client: Readonly<DirectionStats>; readonly server: Readonly<DirectionStats> };
  /** Set when the flow was closed (both directions ended), evicted, replaced or finished. */
  readonly closed: CloseReason | undefined;
  /**
   * The consumer's own state for this flow, set in `onFlowStart` and read back in the events that
   * follow; the reassembler never looks at it. A field, not a map keyed by flow: with a
   * `Map<Flow, Conn>` gaining and losing an entry per flow, the scavenger promoted 114 MB on the
   * 100 MB bench capture, 12 MB with this field, and the analysis took 1.72 against 1.36 s. The
   * likely cause (not reproduced in isolation): V8 leaves the entries of a hash table it has outgrown
   * in place until a full collection, so dead connections stay reachable from old space.
   */
  attached: unknown;
}

export type CloseReason = 'closed' | 'evicted' | 'replaced' | 'finish';

export interface StreamEvents {
  /**
   * Contiguous stream bytes of one direction, starting at `streamOffset` (bytes since offset 0).
   * `bytes` may be a view into the capture chunk: copy what you keep. `frame` and `timestampUs` are
   * those of the segment that carried them (two numbers rather than an object: this is called for
   * every segment with data).
   */
  onData(flow: Flow, dir: Direction, bytes: Uint8Array, streamOffset: number, frame: number, timestampUs: number): void;
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
 * Out-of-order bytes buffered across all flows. Beyond this the directions holding the most are
 * flushed (holes become gaps), fullest first, until at most three quarters of it remain, so a
 * capture with many lossy flows stays within a fixed budget:
 * eight directions each holding a full MAX_BUFFERED_BYTES_PER_DIRECTION, a small slice of a
 * default Node heap, and far more than a healthy capture (a few windows in flight) ever needs.
 */
export const MAX_BUFFERED_BYTES_TOTAL = 64 * 1024 * 1024;

/**
 * Flows tracked at once, live and remembered closed ones together. Past this the closed flows are
 * forgotten first (oldest close first), then the least recently active live flow is evicted
 * (flushed and closed). 100k flows of small state fit in well under 100 MB; a capture with more
 * concurrent flows is a scan or a flood, not TLS sessions worth reassembling all at once.
 */
export const MAX_FLOWS = 100_000;

/** Flag events kept per flow: the handshake and close need a handful; a SYN flood should not grow it. */
export const MAX_FLAG_EVENTS = 32;

/**
 * Closed flows remembered (closed-flows.ts): a closed flow is forgotten once this many others have
 * closed after it. Its late segments (the last ACK, a retransmitted FIN) come within a few round
 * trips of the close, while 8192 other connections close in that time only on a server taking
 * thousands of handshakes a second; at ~0.3 KB each this is ~2.6 MB, so memory stays flat however
 * many connections a capture holds (a forgotten flow's very late segment only starts a flow of its
 * own, with no data to report).
 */
export const MAX_CLOSED_FLOWS = 8192;
