/**
 * The packet decoder's per-capture state: the counters that say what became of every packet, the
 * bounds on IP reassembly, and the table of datagrams being reassembled.
 *
 * One `DecodeState` per capture, made by `createDecodeState` and passed to every call of
 * `decodePacket`/`decodePacketInto` (`packet.ts`) so that IP fragments from different packets can
 * meet (`fragments.ts`). The link, IP and TCP layers below `packet.ts` count into `stats`; none of
 * them keeps state of its own.
 */

/** Where a packet came from, copied into its segment. */
export interface PacketInfo {
  readonly timestampUs: number;
  readonly frame: number;
}

/** Counters kept while decoding; every packet lands in exactly one of the first six. */
export interface DecodeStats {
  /** Packets decoded to a TCP segment (including reassembled datagrams, counted once). */
  tcp: number;
  /** Well-formed packets that carry something other than TCP (ARP, UDP, ICMP, ...). */
  nonTcp: number;
  /** Packets whose link layer we do not decode: their link type, or an 802.11 fragment or A-MSDU. */
  unsupportedLinkType: number;
  /** Malformed packets (a header runs past the data, a length field is impossible). */
  malformed: number;
  /**
   * IP fragments that are not part of a whole datagram: still held for reassembly, or dropped with
   * their datagram (a cap, the timeout, an inconsistency).
   */
  fragments: number;
  /**
   * Packets whose transport header is encrypted: IPv4 or IPv6 with an ESP header (RFC 4303), ESP in
   * UDP through NAT (RFC 3948, port 4500), protected 802.11 data frames.
   */
  encrypted: number;
  /** Fragmented datagrams completed. */
  reassembled: number;
  /** Fragmented datagrams dropped (cap hit, timeout, inconsistent or oversized). */
  fragmentsDropped: number;
  /** Fragments whose bytes overlapped bytes already held (first arrival kept). */
  fragmentOverlaps: number;
  /** Packets whose TCP segment was inside a tunnel (IP in IP, GRE, VXLAN, …); also counted in `tcp`. */
  decapsulated: number;
  /** Last malformed packet: frame and reason, for diagnostics. */
  lastMalformed?: { frame: number; reason: string };
}

/** Bounds on IP reassembly memory. */
export interface FragmentLimits {
  /** Datagrams being reassembled at once. */
  readonly maxDatagrams: number;
  /** Fragments per datagram. */
  readonly maxFragmentsPerDatagram: number;
  /** Capture-time microseconds after which an incomplete datagram is dropped. */
  readonly timeoutUs: number;
}

/**
 * Datagrams reassembled at once. A TCP flow rarely has more than a few datagrams fragmented at a
 * time (TCP avoids fragmentation via MSS/PMTUD); 1024 covers many flows doing so at once while
 * capping memory at 1024 x 64 KiB in the worst case.
 */
export const MAX_FRAGMENT_DATAGRAMS = 1024;

/**
 * Fragments per datagram. A 65535-byte datagram over a 576-byte path needs ~118 fragments; 128
 * covers it, and bounds the work an attacker can cause with tiny overlapping fragments.
 */
export const MAX_FRAGMENTS_PER_DATAGRAM = 128;

/**
 * Reassembly timeout in capture time: RFC 791 suggests a timer of about 15 seconds; Linux uses
 * 30 s (net.ipv4.ipfrag_time). Fragments older than this are not coming together any more.
 */
export const FRAGMENT_TIMEOUT_US = 30_000_000;

/** Mutable decoding state: fragment tables and counters. One per capture. */
export interface DecodeState {
  readonly stats: DecodeStats;
  readonly limits: FragmentLimits;
  /** Datagrams being reassembled, by key. */
  readonly fragments: Map<string, PendingDatagram>;
  /**
   * The same datagrams in arrival order, oldest first from `head`, for the cap and the timeout
   * (`fragments.ts`); an entry whose datagram has left `fragments` is skipped when met. Finding
   * the oldest through the `Map`'s own order walked past every key deleted since its last rehash:
   * up to ~1,000 steps per fragment on a capture of fragments that never complete.
   */
  readonly fragmentArrivals: { readonly order: PendingDatagram[]; head: number };
}

/** One fragment held for reassembly: its bytes (a copy) at `offset` in the datagram's payload. */
export interface Fragment {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/** A datagram being reassembled (`fragments.ts`). */
export interface PendingDatagram {
  /** Its key in `DecodeState.fragments`. */
  readonly key: string;
  readonly firstSeenUs: number;
  /** Payload length, known once the last fragment (MF = 0) arrived. */
  totalLength: number | undefined;
  readonly pieces: Fragment[];
  /** Protocol of the payload: IPv4 Protocol, or IPv6 Next Header from the offset-0 fragment. */
  nextHeader: number | undefined;
}

/** Returns a fresh decoding state (empty fragment tables, zero counters). */
export function createDecodeState(limits: Partial<FragmentLimits> = {}): DecodeState {
  return {
    stats: {
      tcp: 0,
      nonTcp: 0,
      unsupportedLinkType: 0,
      malformed: 0,
      fragments: 0,
      encrypted: 0,
      reassembled: 0,
      fragmentsDropped: 0,
      fragmentOverlaps: 0,
      decapsulated: 0,
    },
    limits: {
      maxDatagrams: limits.maxDatagrams ?? MAX_FRAGMENT_DATAGRAMS,
      maxFragmentsPerDatagram: limits.maxFragmentsPerDatagram ?? MAX_FRAGMENTS_PER_DATAGRAM,
      timeoutUs: limits.timeoutUs ?? FRAGMENT_TIMEOUT_US,
    },
    fragments: new Map(),
    fragmentArrivals: { order: [], head: 0 },
  };
}
