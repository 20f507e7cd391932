/**
 * Returns the TCP segment carried by a captured packet (link layer, IPv4/IPv6, TCP), or null;
 * never throws on packet content.
 *
 * `decodePacket(linkType, data, info, state)` returns the packet's `TcpSegment`, or `null` when the
 * packet carries no TCP (another protocol, an IP fragment still waiting for its siblings, a link
 * type we do not read) or is malformed. It never throws for packet content: `DecodeError`s from the
 * `Reader` are caught here, at the packet boundary, and counted in `state.stats`.
 *
 * Link types (draft-ietf-opsawg-pcaplinktype): NULL (0) and LOOP (108) with the address family in
 * either byte order, ETHERNET (1) with stacked 802.1Q/802.1ad tags and PPPoE sessions, RAW (101,
 * and the DLT values 12 and 14 that old files carry), IPV4 (228), IPV6 (229), LINUX_SLL (113) and
 * LINUX_SLL2 (276). IPv4 fragments are reassembled (RFC 791, Section 3.2 "Fragmentation and
 * reassembly"), as are IPv6 fragments (RFC 8200, Section 4.5); IPv6 extension headers are skipped
 * (RFC 8200, Section 4). Checksums are not verified: captures taken on the sending host carry
 * checksums the NIC fills in later.
 */
import { formatIp } from '../wire/ip.js';
import { Reader } from '../wire/reader.js';
import { isDecodeError } from '../wire/errors.js';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/** TCP control bits (RFC 9293, Section 3.1). */
export interface TcpFlags {
  readonly syn: boolean;
  readonly fin: boolean;
  readonly rst: boolean;
  readonly ack: boolean;
  readonly psh: boolean;
}

/** One TCP segment, with the addresses of the IP packet that carried it. */
export interface TcpSegment {
  /** Source address: dotted IPv4, or RFC 5952 text for IPv6. */
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** Sequence number (unsigned 32-bit). */
  readonly seq: number;
  /** Acknowledgment number (unsigned 32-bit; meaningful only when `flags.ack`). */
  readonly ack: number;
  readonly flags: TcpFlags;
  /** Receive window as sent (unscaled). */
  readonly window: number;
  /** Captured payload (a view into the packet: copy it to keep it). */
  readonly payload: Uint8Array;
  /**
   * Payload length the IP header declares. Larger than `payload.length` when the capture's snap
   * length cut the packet: the missing bytes are a gap, never to be invented.
   */
  readonly payloadLength: number;
  /** Capture time in microseconds since the epoch (see `CapturedPacket.timestampUs`). */
  readonly timestampUs: number;
  /** 1-based frame number (for a reassembled IP datagram: the frame that completed it). */
  readonly frame: number;
  readonly ipVersion: 4 | 6;
}

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
  /** Packets whose link type we do not decode. */
  unsupportedLinkType: number;
  /** Malformed packets (a header runs past the data, a length field is impossible). */
  malformed: number;
  /** IP fragments held for reassembly (not yet part of a whole datagram). */
  fragments: number;
  /** IPv6 packets with an ESP header (RFC 4303): the transport header is encrypted. */
  encrypted: number;
  /** Fragmented datagrams completed. */
  reassembled: number;
  /** Fragmented datagrams dropped (cap hit, timeout, inconsistent or oversized). */
  fragmentsDropped: number;
  /** Fragments whose bytes overlapped bytes already held (first arrival kept). */
  fragmentOverlaps: number;
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

/** Largest reassembled datagram: the IPv4 total length is 16 bits (RFC 791, Section 3.1). */
const MAX_DATAGRAM_BYTES = 65_535;

/** Mutable decoding state: fragment tables and counters. One per capture. */
export interface DecodeState {
  readonly stats: DecodeStats;
  readonly limits: FragmentLimits;
  /** Datagrams being reassembled, oldest first (Map keeps insertion order). */
  readonly fragments: Map<string, PendingDatagram>;
}

interface Fragment {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

interface PendingDatagram {
  readonly firstSeenUs: number;
  /** Payload length, known once the last fragment (MF = 0) arrived. */
  totalLength: number | undefined;
  readonly pieces: Fragment[];
  /** Protocol of the payload: IPv4 Protocol, or IPv6 Next Header from the offset-0 fragment. */
  nextHeader: number | undefined;
}

/** Link types (draft-ietf-opsawg-pcaplinktype) decoded here. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  /** DLT_RAW on most BSDs and Linux, found in old files instead of LINKTYPE_RAW. */
  DLT_RAW_12: 12,
  /** DLT_RAW on OpenBSD. */
  DLT_RAW_14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** IEEE 802 EtherType values read here. */
const EtherType = {
  ipv4: 0x0800,
  ipv6: 0x86dd,
  vlan: 0x8100,
  qinq: 0x88a8,
  /** Pre-standard 802.1ad (Cisco, Juniper). */
  qinqOld: 0x9100,
  pppoeSession: 0x8864,
} as const;

/** IP protocol / IPv6 Next Header numbers (IANA "Assigned Internet Protocol Numbers"). */
const IpProto = {
  hopByHop: 0,
  tcp: 6,
  routing: 43,
  fragment: 44,
  esp: 50,
  ah: 51,
  noNext: 59,
  destination: 60,
  mobility: 135,
  hip: 139,
  shim6: 140,
} as const;

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

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
    },
    limits: {
      maxDatagrams: limits.maxDatagrams ?? MAX_FRAGMENT_DATAGRAMS,
      maxFragmentsPerDatagram: limits.maxFragmentsPerDatagram ?? MAX_FRAGMENTS_PER_DATAGRAM,
      timeoutUs: limits.timeoutUs ?? FRAGMENT_TIMEOUT_US,
    },
    fragments: new Map(),
  };
}

/**
 * Returns the TCP segment in one captured packet, or `null` (non-TCP, fragment pending, malformed,
 * unsupported link type; `state.stats` says which). Never throws on packet content. Pass the same
 * `state` for a whole capture so IP fragments can meet.
 */
export function decodePacket(
  linkType: number,
  data: Uint8Array,
  info: PacketInfo,
  state: DecodeState = createDecodeState(),
): TcpSegment | null {
  const common = commonTcpSegment(linkType, data, 0, data.length, info.timestampUs, info.frame, null);
  if (common) {
    state.stats.tcp++;
    return common;
  }
  return decodeGeneral(linkType, data, info, state);
}

/** A `TcpSegment` whose fields `decodePacketInto` overwrites for every packet. */
export interface ReusedSegment extends Omit<{ -readonly [K in keyof TcpSegment]: TcpSegment[K] }, 'flags'> {
  flags: { -readonly [K in keyof TcpFlags]: TcpFlags[K] };
}

/** Returns a segment object for `decodePacketInto` to fill. */
export function newReusedSegment(): ReusedSegment {
  return {
    src: '',
    dst: '',
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    flags: { fin: false, syn: false, rst: false, psh: false, ack: false },
    window: 0,
    payload: new Uint8Array(0),
    payloadLength: 0,
    timestampUs: 0,
    frame: 0,
    ipVersion: 4,
  };
}

/**
 * `decodePacket` of the packet `buf[start, end)` for a consumer that does not keep segments (the
 * capture reader's path): the common packet is read into `into` (returned, overwritten by the next
 * call), any other is decoded as `decodePacket` does, into a fresh segment. No view, `PacketInfo`
 * or segment object is made for the common packet.
 */
export function decodePacketInto(
  into: ReusedSegment,
  linkType: number,
  buf: Uint8Array,
  start: number,
  end: number,
  timestampUs: number,
  frame: number,
  state: DecodeState,
): TcpSegment | null {
  if (commonTcpSegment(linkType, buf, start, end, timestampUs, frame, into)) {
    state.stats.tcp++;
    return into;
  }
  return decodeGeneral(linkType, buf.subarray(start, end), { timestampUs, frame }, state);
}

/**
 * Returns what `decodePacket` returns, read by the general `Reader`-based decoder alone (without the
 * index-based reading of the common case): for checking that both agree.
 */
export function decodePacketWithReader(
  linkType: number,
  data: Uint8Array,
  info: PacketInfo,
  state: DecodeState = createDecodeState(),
): TcpSegment | null {
  return decodeGeneral(linkType, data, info, state);
}

function decodeGeneral(linkType: number, data: Uint8Array, info: PacketInfo, state: DecodeState): TcpSegment | null {
  const r = new Reader(data, 'frame');
  try {
    const seg = decodeLink(linkType, r, info, state);
    if (seg) state.stats.tcp++;
    return seg;
  } catch (e) {
    if (!isDecodeError(e)) throw e;
    state.stats.malformed++;
    state.stats.lastMalformed = { frame: info.frame, reason: e.message };
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The common case
// ---------------------------------------------------------------------------------------------

const be16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const be32 = (b: Uint8Array, i: number): number =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

/** Returns where the IPv4 header of the frame `b[base, end)` starts for the link layers read here directly, or -1. */
function ipv4Start(linkType: number, b: Uint8Array, base: number, end: number): number {
  const n = end - base;
  switch (linkType) {
    case LinkType.ETHERNET:
      return n >= 14 && be16(b, base + 12) === EtherType.ipv4 ? base + 14 : -1;
    case LinkType.RAW:
    case LinkType.DLT_RAW_12:
    case LinkType.DLT_RAW_14:
    case LinkType.IPV4:
      return base;
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (n < 4) return -1;
      // As in `decodeLink`: the family in either byte order.
      const be = be32(b, base);
      const family =
        be > 0xffff ? ((b[base + 3]! << 24) | (b[base + 2]! << 16) | (b[base + 1]! << 8) | b[base]!) >>> 0 : be;
      return family === AF_INET ? base + 4 : -1;
    }
    case LinkType.LINUX_SLL:
      return n >= 16 && be16(b, base + 14) === EtherType.ipv4 ? base + 16 : -1;
    case LinkType.LINUX_SLL2:
      return n >= 20 && be16(b, base) === EtherType.ipv4 ? base + 20 : -1;
    default:
      return -1;
  }
}

/**
 * Reads the most common packet by index instead of through `Reader`s: IPv4 with a 20-byte header,
 * not a fragment, Total Length set, carrying TCP whose 20-byte header was captured and whose data
 * offset is valid, on Ethernet without tags, raw IP, BSD loopback or Linux cooked capture. The frame
 * is `b[base, end)`. Returns `into` filled in, or a fresh segment when `into` is null; returns null
 * for anything else, and for every packet the general decoder would
 * count as malformed, so that `decodeGeneral` decides those with its own errors and counters. The
 * segment is field for field what `decodeIpv4` + `decodeTcp` make of the same bytes (the tests
 * compare both on captures and mutated frames).
 */
function commonTcpSegment(
  linkType: number,
  b: Uint8Array,
  base: number,
  end: number,
  timestampUs: number,
  frame: number,
  into: ReusedSegment | null,
): TcpSegment | null {
  const ip = ipv4Start(linkType, b, base, end);
  if (ip < 0 || end - ip < 20) return null;
  // RFC 791, Section 3.1: version 4, IHL 5; no More Fragments flag and fragment offset 0; TCP.
  if (b[ip] !== 0x45 || (be16(b, ip + 6) & 0x3fff) !== 0 || b[ip + 9] !== IpProto.tcp) return null;
  const totalLength = be16(b, ip + 2);
  if (totalLength < 20) return null;
  const segmentLength = totalLength - 20;
  const t = ip + 20;
  const captured = Math.min(segmentLength, end - t);
  if (captured < 20) return null;
  // RFC 9293, Section 3.1.
  const offsetFlags = be16(b, t + 12);
  const headerLength = (offsetFlags >> 12) * 4;
  if (headerLength < 20 || headerLength > segmentLength) return null;
  const left = captured - 20;
  // A snap length may cut the options (see `decodeTcp`).
  const options = left < segmentLength - 20 ? Math.min(headerLength - 20, left) : headerLength - 20;
  const start = t + 20 + options;
  const payloadLength = segmentLength - headerLength;
  const payload = b.subarray(start, start + Math.min(payloadLength, left - options));
  if (into === null) {
    return {
      src: ipv4Text(be32(b, ip + 12)),
      dst: ipv4Text(be32(b, ip + 16)),
      srcPort: be16(b, t),
      dstPort: be16(b, t + 2),
      seq: be32(b, t + 4),
      ack: be32(b, t + 8),
      flags: tcpFlags(offsetFlags),
      window: be16(b, t + 14),
      payload,
      payloadLength,
      timestampUs,
      frame,
      ipVersion: 4,
    };
  }
  into.src = ipv4Text(be32(b, ip + 12));
  into.dst = ipv4Text(be32(b, ip + 16));
  into.srcPort = be16(b, t);
  into.dstPort = be16(b, t + 2);
  into.seq = be32(b, t + 4);
  into.ack = be32(b, t + 8);
  const flags = into.flags;
  flags.fin = (offsetFlags & 0x01) !== 0;
  flags.syn = (offsetFlags & 0x02) !== 0;
  flags.rst = (offsetFlags & 0x04) !== 0;
  flags.psh = (offsetFlags & 0x08) !== 0;
  flags.ack = (offsetFlags & 0x10) !== 0;
  into.window = be16(b, t + 14);
  into.payload = payload;
  into.payloadLength = payloadLength;
  into.timestampUs = timestampUs;
  into.frame = frame;
  into.ipVersion = 4;
  return into;
}

// ---------------------------------------------------------------------------------------------
// Link layers
// ---------------------------------------------------------------------------------------------

/** BSD AF_INET, and the AF_INET6 values of NetBSD/OpenBSD (24), FreeBSD (28) and Darwin (30). */
const AF_INET = 2;
const AF_INET6 = new Set([24, 28, 30]);

function decodeLink(linkType: number, r: Reader, info: PacketInfo, state: DecodeState): TcpSegment | null {
  switch (linkType) {
    case LinkType.ETHERNET: {
      // IEEE 802.3: destination, source, then EtherType (or a length, < 0x0600, for 802.3/LLC).
      r.skip(12, 'ethernet/addresses');
      return decodeEtherType(r.u16('ethernet/type'), r, info, state);
    }
    case LinkType.NULL:
    case LinkType.LOOP: {
      // A 4-byte address family in the capturing host's byte order (NULL) or network order (LOOP,
      // though some writers got that wrong too): accept either.
      const b = r.bytes(4, 'loopback/family');
      const be = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      const family = be > 0xffff ? ((b[3]! << 24) | (b[2]! << 16) | (b[1]! << 8) | b[0]!) >>> 0 : be;
      if (family === AF_INET) return decodeIpv4(r, info, state);
      if (AF_INET6.has(family)) return decodeIpv6(r, info, state);
      state.stats.nonTcp++;
      return null;
    }
    case LinkType.RAW:
    case LinkType.DLT_RAW_12:
    case LinkType.DLT_RAW_14:
      return decodeRawIp(r, info, state);
    case LinkType.IPV4:
      return decodeIpv4(r, info, state);
    case LinkType.IPV6:
      return decodeIpv6(r, info, state);
    case LinkType.LINUX_SLL: {
      // packet type(2) ARPHRD type(2) address length(2) address(8) protocol type(2)
      r.skip(14, 'sll/header');
      return decodeEtherType(r.u16('sll/protocol'), r, info, state);
    }
    case LinkType.LINUX_SLL2: {
      // protocol type(2) reserved(2) interface index(4) ARPHRD type(2) packet type(1)
      // address length(1) address(8)
      const protocol = r.u16('sll2/protocol');
      r.skip(18, 'sll2/header');
      return decodeEtherType(protocol, r, info, state);
    }
    default:
      state.stats.unsupportedLinkType++;
      return null;
  }
}

/** Dispatches on an EtherType, peeling 802.1Q / 802.1ad tags (any depth) and PPPoE sessions. */
function decodeEtherType(type: number, r: Reader, info: PacketInfo, state: DecodeState): TcpSegment | null {
  let t = type;
  for (;;) {
    if (t === EtherType.vlan || t === EtherType.qinq || t === EtherType.qinqOld) {
      // IEEE 802.1Q tag: TCI (2), then the inner EtherType.
      r.skip(2, 'vlan/tci');
      t = r.u16('vlan/type');
      continue;
    }
    if (t === EtherType.pppoeSession) {
      // RFC 2516, Section 4: ver/type(1) code(1) session id(2) length(2), then the PPP protocol
      // (RFC 1661): 0x0021 IPv4, 0x0057 IPv6.
      r.skip(6, 'pppoe/header');
      const ppp = r.u16('ppp/protocol');
      if (ppp === 0x0021) return decodeIpv4(r, info, state);
      if (ppp === 0x0057) return decodeIpv6(r, info, state);
      state.stats.nonTcp++;
      return null;
    }
    break;
  }
  if (t === EtherType.ipv4) return decodeIpv4(r, info, state);
  if (t === EtherType.ipv6) return decodeIpv6(r, info, state);
  state.stats.nonTcp++;
  return null;
}

/** Raw IP: the version nibble says which. */
function decodeRawIp(r: Reader, info: PacketInfo, state: DecodeState): TcpSegment | null {
  const version = (r.peek(1)[0] ?? 0) >> 4;
  if (version === 4) return decodeIpv4(r, info, state);
  if (version === 6) return decodeIpv6(r, info, state);
  return r.fail('bad-value', `raw IP packet with version ${version}`, 'ip/version');
}

// ---------------------------------------------------------------------------------------------
// IPv4
// ---------------------------------------------------------------------------------------------

/**
 * RFC 791, Section 3.1:
 *   Version(4) IHL(4) | TOS(8) | Total Length(16) | Identification(16) | Flags(3) Fragment Offset(13)
 *   | TTL(8) | Protocol(8) | Header Checksum(16) | Source(32) | Destination(32) | Options | data
 */
function decodeIpv4(r: Reader, info: PacketInfo, state: DecodeState): TcpSegment | null {
  const vihl = r.u8('ipv4/version_ihl');
  if (vihl >> 4 !== 4) r.fail('bad-value', `IPv4 header with version ${vihl >> 4}`, 'ipv4/version');
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20) r.fail('bad-value', `IPv4 header length ${ihl} below 20`, 'ipv4/ihl');
  r.skip(1, 'ipv4/tos');
  const totalLength = r.u16('ipv4/total_length');
  const id = r.u16('ipv4/identification');
  const flagsFrag = r.u16('ipv4/flags_fragment_offset');
  r.skip(1, 'ipv4/ttl');
  const protocol = r.u8('ipv4/protocol');
  r.skip(2, 'ipv4/checksum');
  const src = ipv4Text(r.u32('ipv4/source'));
  const dst = ipv4Text(r.u32('ipv4/destination'));
  r.skip(ihl - 20, 'ipv4/options');
  const available = r.left;
  // Total Length 0 is what TCP segmentation offload leaves in packets captured on the sender
  // before the NIC splits them; Wireshark then trusts the captured length, and so do we.
  let payloadLength: number;
  if (totalLength === 0) payloadLength = available;
  else if (totalLength < ihl)
    return r.fail(
      'length-out-of-range',
      `IPv4 total length ${totalLength} below header length ${ihl}`,
      'ipv4/total_length',
    );
  else payloadLength = totalLength - ihl;
  // Trailing bytes past Total Length (Ethernet padding, an FCS) are not IP payload.
  const payload = r.bytes(Math.min(payloadLength, available), 'ipv4/payload');
  const moreFragments = (flagsFrag & 0x2000) !== 0;
  const fragmentOffset = (flagsFrag & 0x1fff) * 8;
  if (protocol !== IpProto.tcp) {
    state.stats.nonTcp++;
    return null;
  }
  if (moreFragments || fragmentOffset !== 0) {
    if (payload.length < payloadLength) {
      // A fragment cut by the snap length cannot be reassembled faithfully.
      state.stats.fragmentsDropped++;
      return null;
    }
    const whole = addFragment(state, `4|${src}|${dst}|${id}`, protocol, fragmentOffset, moreFragments, payload, info);
    if (!whole) return null;
    return decodeTcp(new Reader(whole.bytes, 'ipv4-reassembled'), src, dst, 4, whole.bytes.length, info);
  }
  return decodeTcp(new Reader(payload, 'ipv4/payload', r.offset - payload.length), src, dst, 4, payloadLength, info);
}

/**
 * Texts of the IPv4 addresses seen last. A capture names the same few addresses in packet after
 * packet: two 4-byte views and two new strings per packet were the largest part of what the decoder
 * allocated (V8 heap sampling of a capture analysis), and the same string object for the same
 * address also makes the flow table's comparisons cheap. Cleared when full, so a scan of many
 * addresses costs only the rebuilds.
 */
const IPV4_TEXT_CACHE_SIZE = 4096;
const ipv4TextCache = new Map<number, string>();

/** Returns the dotted text of a 32-bit IPv4 address. */
function ipv4Text(a: number): string {
  let text = ipv4TextCache.get(a);
  if (text === undefined) {
    if (ipv4TextCache.size >= IPV4_TEXT_CACHE_SIZE) ipv4TextCache.clear();
    text = `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
    ipv4TextCache.set(a, text);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// IPv6
// ---------------------------------------------------------------------------------------------

/**
 * RFC 8200, Section 3:
 *   Version(4) Traffic Class(8) Flow Label(20) | Payload Length(16) | Next Header(8) | Hop Limit(8)
 *   | Source Address(128) | Destination Address(128)
 */
function decodeIpv6(r: Reader, info: PacketInfo, state: DecodeState): TcpSegment | null {
  const first = r.u32('ipv6/version_class_flow');
  if (first >>> 28 !== 6) r.fail('bad-value', `IPv6 header with version ${first >>> 28}`, 'ipv6/version');
  const declared = r.u16('ipv6/payload_length');
  let next = r.u8('ipv6/next_header');
  r.skip(1, 'ipv6/hop_limit');
  const src = ipv6Text(r.bytes(16, 'ipv6/source'));
  const dst = ipv6Text(r.bytes(16, 'ipv6/destination'));
  // Payload Length 0 means a Jumbo Payload option (RFC 2675) or TSO; use what was captured.
  const payloadLength = declared === 0 ? r.left : declared;
  const captured = Math.min(payloadLength, r.left);
  const base = r.offset;
  let p = new Reader(r.bytes(captured, 'ipv6/payload'), 'ipv6/payload', base);
  /** Bytes of the payload not yet parsed, per the Payload Length (may exceed what was captured). */
  let remaining = payloadLength;
  let reassembled = false;
  for (;;) {
    switch (next) {
      case IpProto.tcp:
        return decodeTcp(p, src, dst, 6, remaining, info);
      case IpProto.hopByHop:
      case IpProto.routing:
      case IpProto.destination:
      case IpProto.mobility:
      case IpProto.hip:
      case IpProto.shim6: {
        // RFC 8200, Sections 4.3-4.6 (and RFC 6275, 7401, 5533 for the last three): Next Header(8),
        // Hdr Ext Len(8) in 8-octet units not counting the first 8 octets.
        next = p.u8('ipv6/ext/next_header');
        const len = (p.u8('ipv6/ext/length') + 1) * 8;
        p.skip(len - 2, 'ipv6/ext/body');
        remaining -= len;
        break;
      }
      case IpProto.ah: {
        // RFC 4302, Section 2.2: Payload Len is the AH length in 4-octet units, minus 2.
        next = p.u8('ipv6/ah/next_header');
        const len = (p.u8('ipv6/ah/length') + 2) * 4;
        p.skip(len - 2, 'ipv6/ah/body');
        remaining -= len;
        break;
      }
      case IpProto.fragment: {
        // RFC 8200, Section 4.5: Next Header(8) Reserved(8) Fragment Offset(13) Res(2) M(1)
        // Identification(32). The fragmentable part follows.
        const fragNext = p.u8('ipv6/fragment/next_header');
        p.skip(1, 'ipv6/fragment/reserved');
        const offFlags = p.u16('ipv6/fragment/offset');
        const id = p.u32('ipv6/fragment/identification');
        remaining -= 8;
        const offset = offFlags & 0xfff8;
        const more = (offFlags & 1) !== 0;
        if ((offset === 0 && !more) || reassembled) {
          // An atomic fragment (RFC 6946), or a fragment header inside a reassembled datagram.
          next = fragNext;
          break;
        }
        if (remaining < 0)
          return p.fail('length-out-of-range', 'IPv6 fragment header exceeds the payload length', 'ipv6/fragment');
        const bytes = p.rest();
        if (bytes.length < remaining) {
          // A fragment cut by the snap length cannot be reassembled faithfully.
          state.stats.fragmentsDropped++;
          return null;
        }
        const whole = addFragment(
          state,
          `6|${src}|${dst}|${id}`,
          offset === 0 ? fragNext : undefined,
          offset,
          more,
          bytes.subarray(0, remaining),
          info,
        );
        if (!whole || whole.nextHeader === undefined) return null;
        // Continue with the headers of the reassembled fragmentable part.
        p = new Reader(whole.bytes, 'ipv6-reassembled');
        remaining = whole.bytes.length;
        next = whole.nextHeader;
        reassembled = true;
        break;
      }
      case IpProto.esp:
        state.stats.encrypted++;
        return null;
      // IpProto.noNext (RFC 8200, Section 4.7) ends the chain without TCP, as every other protocol does.
      default:
        state.stats.nonTcp++;
        return null;
    }
    if (remaining < 0)
      return p.fail('length-out-of-range', 'IPv6 extension headers exceed the payload length', 'ipv6/ext');
  }
}

/** Returns RFC 5952 text for a 16-octet IPv6 address (see formatIp in src/wire/ip.ts). */
export function ipv6Text(b: Uint8Array): string {
  return formatIp(b.length === 16 ? b : b.subarray(0, 16));
}

// ---------------------------------------------------------------------------------------------
// Fragment reassembly
// ---------------------------------------------------------------------------------------------

/**
 * Adds one fragment; returns the whole upper-layer payload when this fragment completes the
 * datagram, else undefined. Fragments are copied (they outlive their packet). Overlapping bytes
 * keep their first arrival. Bounded by `state.limits`.
 */
function addFragment(
  state: DecodeState,
  key: string,
  nextHeader: number | undefined,
  offset: number,
  more: boolean,
  bytes: Uint8Array,
  info: PacketInfo,
): { bytes: Uint8Array; nextHeader: number | undefined } | undefined {
  const { stats, limits, fragments } = state;
  expireFragments(state, info.timestampUs);
  let d = fragments.get(key);
  if (!d) {
    while (fragments.size >= limits.maxDatagrams) {
      const oldest = fragments.keys().next().value as string;
      fragments.delete(oldest);
      stats.fragmentsDropped++;
    }
    d = { firstSeenUs: info.timestampUs, totalLength: undefined, pieces: [], nextHeader: undefined };
    fragments.set(key, d);
  }
  if (nextHeader !== undefined && offset === 0) d.nextHeader = nextHeader;
  const end = offset + bytes.length;
  if (
    end > MAX_DATAGRAM_BYTES ||
    d.pieces.length >= limits.maxFragmentsPerDatagram ||
    (d.totalLength !== undefined && end > d.totalLength)
  ) {
    fragments.delete(key);
    stats.fragmentsDropped++;
    // The datagram is dropped; this packet itself is impossible or hostile: count it as malformed,
    // so that every packet lands in exactly one of the per-packet counters.
    refuseFragment(
      state,
      info,
      end > MAX_DATAGRAM_BYTES
        ? 'fragment reaches past 65,535 bytes'
        : 'fragment past the datagram end or the fragment cap',
    );
    return undefined;
  }
  if (!more) {
    // A fragment held already may reach past the end this last fragment declares: inconsistent too.
    if (
      (d.totalLength !== undefined && d.totalLength !== end) ||
      d.pieces.some((f) => f.offset + f.bytes.length > end)
    ) {
      fragments.delete(key);
      stats.fragmentsDropped++;
      refuseFragment(state, info, 'last fragment disagrees with the datagram length');
      return undefined;
    }
    d.totalLength = end;
  }
  for (const f of d.pieces) {
    if (offset < f.offset + f.bytes.length && f.offset < end) {
      stats.fragmentOverlaps++;
      break;
    }
  }
  d.pieces.push({ offset, bytes: bytes.slice() });
  stats.fragments++;
  if (d.totalLength === undefined || !covers(d.pieces, d.totalLength)) return undefined;
  fragments.delete(key);
  stats.fragments -= d.pieces.length;
  stats.reassembled++;
  const whole = new Uint8Array(d.totalLength);
  // Write in reverse arrival order so that the first arrival of any overlapping byte wins.
  for (let i = d.pieces.length - 1; i >= 0; i--) {
    const f = d.pieces[i]!;
    whole.set(f.bytes, f.offset);
  }
  return { bytes: whole, nextHeader: d.nextHeader };
}

/** True when the pieces cover [0, total) without a hole. */
function covers(pieces: readonly Fragment[], total: number): boolean {
  const sorted = [...pieces].sort((a, b) => a.offset - b.offset);
  let reach = 0;
  for (const f of sorted) {
    if (f.offset > reach) return false;
    reach = Math.max(reach, f.offset + f.bytes.length);
  }
  return reach >= total;
}

/** Drops datagrams older than the timeout (oldest first, so stop at the first young one). */
function expireFragments(state: DecodeState, nowUs: number): void {
  for (const [key, d] of state.fragments) {
    if (nowUs - d.firstSeenUs <= state.limits.timeoutUs) return;
    state.fragments.delete(key);
    state.stats.fragments -= d.pieces.length;
    state.stats.fragmentsDropped++;
  }
}

// ---------------------------------------------------------------------------------------------
// TCP
// ---------------------------------------------------------------------------------------------

/**
 * RFC 9293, Section 3.1:
 *   Source Port(16) | Destination Port(16) | Sequence Number(32) | Acknowledgment Number(32)
 *   | Data Offset(4) Rsrvd(4) Flags(8) | Window(16) | Checksum(16) | Urgent Pointer(16) | Options
 * `segmentLength` is the TCP length per the IP header (header + payload, possibly more than captured).
 */
function decodeTcp(
  r: Reader,
  src: string,
  dst: string,
  ipVersion: 4 | 6,
  segmentLength: number,
  info: PacketInfo,
): TcpSegment {
  const srcPort = r.u16('tcp/source_port');
  const dstPort = r.u16('tcp/destination_port');
  const seq = r.u32('tcp/sequence');
  const ack = r.u32('tcp/acknowledgment');
  const offsetFlags = r.u16('tcp/offset_flags');
  const window = r.u16('tcp/window');
  r.skip(4, 'tcp/checksum_urgent');
  const headerLength = (offsetFlags >> 12) * 4;
  if (headerLength < 20) r.fail('bad-value', `TCP data offset ${headerLength} below 20`, 'tcp/data_offset');
  if (headerLength > segmentLength)
    r.fail(
      'length-out-of-range',
      `TCP header length ${headerLength} above segment length ${segmentLength}`,
      'tcp/data_offset',
    );
  // A snap length may cut the options; the header fields above are still good, so keep them.
  const cut = r.left < segmentLength - 20;
  r.skip(cut ? Math.min(headerLength - 20, r.left) : headerLength - 20, 'tcp/options');
  const payloadLength = segmentLength - headerLength;
  const payload = r.bytes(Math.min(payloadLength, r.left), 'tcp/payload');
  return {
    src,
    dst,
    srcPort,
    dstPort,
    seq,
    ack,
    flags: tcpFlags(offsetFlags),
    window,
    payload,
    payloadLength,
    timestampUs: info.timestampUs,
    frame: info.frame,
    ipVersion,
  };
}

/** Counts a fragment refused on arrival as a malformed packet, with the reason kept for diagnostics. */
function refuseFragment(state: DecodeState, info: PacketInfo, reason: string): void {
  state.stats.malformed++;
  state.stats.lastMalformed = { frame: info.frame, reason };
}

/** The TCP flags the reassembler uses, from the 16-bit data-offset/flags word (RFC 9293, Section 3.1). */
function tcpFlags(offsetFlags: number): TcpSegment['flags'] {
  return {
    fin: (offsetFlags & 0x01) !== 0,
    syn: (offsetFlags & 0x02) !== 0,
    rst: (offsetFlags & 0x04) !== 0,
    psh: (offsetFlags & 0x08) !== 0,
    ack: (offsetFlags & 0x10) !== 0,
  };
}
