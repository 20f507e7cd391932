/**
 * The packet layer's front: returns the TCP segment carried by a captured packet (link layer,
 * IPv4/IPv6, TCP), or null; never throws on packet content.
 *
 * `decodePacket(linkType, data, info, state)` returns the packet's `TcpSegment`, or `null` when the
 * packet carries no TCP (another protocol, an IP fragment still waiting for its siblings, a link
 * type we do not read) or is malformed. It never throws for packet content: `DecodeError`s from the
 * `Reader` are caught here, at the packet boundary, and counted in `state.stats`.
 *
 * The common packet (Ethernet, raw IP, loopback or Linux cooked capture; IPv4 without options or
 * fragmentation; TCP) is read here by index, without a `Reader` or a view per packet
 * (`commonTcpSegment`); every other packet goes down the general decoder's layers:
 * `link-layer.ts` → `ip.ts` (with `fragments.ts` for reassembly, and `tunnels.ts` for a packet
 * inside another, back to `link-layer.ts`'s dispatch) → `tcp-header.ts`, over the per-capture
 * `decode-state.ts`. Both paths give the same segment for the same bytes (the tests
 * compare them on captures and mutated frames).
 */
import { isDecodeError } from '../wire/errors.js';
import { Reader } from '../wire/reader.js';
import { createDecodeState } from './decode-state.js';
import type { DecodeState, PacketInfo } from './decode-state.js';
import { IpProto, addressText, addressTextHash, ipv4Slot, ipv6SlotAt } from './ip.js';
import { AF_INET, AF_INET6, decodeLink, EtherType, LinkType } from './link-layer.js';
import { tcpFlags } from './tcp-header.js';
import type { TcpFlags, TcpSegment } from './tcp-header.js';

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

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
    srcHash: 0,
    dstHash: 0,
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

/** The payload of every segment that carries none (zero length: nothing can be written into it). */
const NO_PAYLOAD = new Uint8Array(0);

const be16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const be32 = (b: Uint8Array, i: number): number =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

/**
 * Returns where the IP header of version `v` starts in the frame `b[base, end)`, for the link layers
 * read here directly, or -1 (another version, another link layer, or a frame too short for its link
 * header).
 */
function ipStart(v: 4 | 6, linkType: number, b: Uint8Array, base: number, end: number): number {
  const n = end - base;
  const type = v === 4 ? EtherType.ipv4 : EtherType.ipv6;
  switch (linkType) {
    case LinkType.ETHERNET:
      return n >= 14 ? afterTags(b, be16(b, base + 12), base + 14, end, type) : -1;
    case LinkType.RAW:
    case LinkType.DLT_RAW_12:
    case LinkType.DLT_RAW_14:
      // As in `decodeRawIp`: the version nibble says which.
      return n >= 1 && b[base]! >> 4 === v ? base : -1;
    case LinkType.IPV4:
      return v === 4 ? base : -1;
    case LinkType.IPV6:
      return v === 6 ? base : -1;
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (n < 4) return -1;
      const family = loopbackFamily(b, base);
      return (v === 4 ? family === AF_INET : AF_INET6.has(family)) ? base + 4 : -1;
    }
    case LinkType.LINUX_SLL:
      return n >= 16 ? afterTags(b, be16(b, base + 14), base + 16, end, type) : -1;
    case LinkType.LINUX_SLL2:
      return n >= 20 ? afterTags(b, be16(b, base), base + 20, end, type) : -1;
    default:
      return -1;
  }
}

/**
 * Returns where the payload of EtherType `type`, whose bytes start at `at`, begins once 802.1Q /
 * 802.1ad tags (any depth) are peeled as `decodeEtherType` peels them, when the EtherType under
 * them is `want`; -1 otherwise (PPPoE among them: the general decoder reads that), or when a tag
 * runs past the frame.
 */
function afterTags(b: Uint8Array, type: number, at: number, end: number, want: number): number {
  let t = type;
  let i = at;
  while (t === EtherType.vlan || t === EtherType.qinq || t === EtherType.qinqOld) {
    // IEEE 802.1Q tag: TCI (2), then the inner EtherType.
    if (end - i < 4) return -1;
    t = be16(b, i + 2);
    i += 4;
  }
  return t === want ? i : -1;
}

/** As in `decodeLink`: a loopback header's address family, in either byte order. */
function loopbackFamily(b: Uint8Array, base: number): number {
  const be = be32(b, base);
  return be > 0xffff ? ((b[base + 3]! << 24) | (b[base + 2]! << 16) | (b[base + 1]! << 8) | b[base]!) >>> 0 : be;
}

/**
 * Reads the most common packets by index instead of through `Reader`s: IPv4 with a 20-byte header,
 * not a fragment, Total Length set, or IPv6 without extension headers, carrying TCP whose 20-byte
 * header was captured and whose data offset is valid, on Ethernet (802.1Q / 802.1ad tags peeled),
 * raw IP, BSD loopback or Linux cooked capture. The frame
 * is `b[base, end)`. Returns `into` filled in, or a fresh segment when `into` is null; returns null
 * for anything else, and for every packet the general decoder would
 * count as malformed, so that `decodeGeneral` decides those with its own errors and counters. The
 * segment is field for field what `decodeIpv4`/`decodeIpv6` + `decodeTcp` make of the same bytes (the tests
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
  let ip = ipStart(4, linkType, b, base, end);
  let ipVersion: 4 | 6 = 4;
  let t: number;
  let segmentLength: number;
  if (ip >= 0) {
    if (end - ip < 20) return null;
    // RFC 791, Section 3.1: version 4, IHL 5; no More Fragments flag and fragment offset 0; TCP.
    if (b[ip] !== 0x45 || (be16(b, ip + 6) & 0x3fff) !== 0 || b[ip + 9] !== IpProto.tcp) return null;
    const totalLength = be16(b, ip + 2);
    if (totalLength < 20) return null;
    segmentLength = totalLength - 20;
    t = ip + 20;
  } else {
    ip = ipStart(6, linkType, b, base, end);
    // RFC 8200, Section 3: version 6; Next Header TCP (no extension headers).
    if (ip < 0 || end - ip < 40 || b[ip]! >> 4 !== 6 || b[ip + 6] !== IpProto.tcp) return null;
    ipVersion = 6;
    t = ip + 40;
    // As in `decodeIpv6`: Payload Length 0 (a Jumbo Payload, or TSO) means what was captured.
    const declared = be16(b, ip + 4);
    segmentLength = declared === 0 ? end - t : declared;
  }
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
  const capturedPayload = Math.min(payloadLength, left - options);
  // About half of a TLS conversation's segments are bare ACKs: they share one empty payload
  // instead of a view each (a view is an object the collector then has to sweep).
  const payload = capturedPayload > 0 ? b.subarray(start, start + capturedPayload) : NO_PAYLOAD;
  // One cache lookup per address gives its text and the text's hash for the flow tables (computed
  // once per text made). The source's are read before the destination's lookup: both addresses may
  // hash to the same slot, and the second lookup then overwrites the first's text.
  const srcSlot = ipVersion === 4 ? ipv4Slot(be32(b, ip + 12)) : ipv6SlotAt(b, ip + 8);
  const src = addressText(ipVersion, srcSlot);
  const srcHash = addressTextHash(ipVersion, srcSlot);
  const dstSlot = ipVersion === 4 ? ipv4Slot(be32(b, ip + 16)) : ipv6SlotAt(b, ip + 24);
  const dst = addressText(ipVersion, dstSlot);
  const dstHash = addressTextHash(ipVersion, dstSlot);
  if (into === null) {
    return {
      src,
      dst,
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
      ipVersion,
      srcHash,
      dstHash,
    };
  }
  into.src = src;
  into.dst = dst;
  into.srcHash = srcHash;
  into.dstHash = dstHash;
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
  into.ipVersion = ipVersion;
  return into;
}
