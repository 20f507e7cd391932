/**
 * The link layer of the general packet decoder: peels the link header of each link type read here
 * (Ethernet with 802.1Q/802.1ad tags and PPPoE sessions, BSD loopback, raw IP, Linux cooked
 * capture v1 and v2, Linux NFLOG, Apple PKTAP, PPP and Cisco HDLC) and hands the IP packet to `ip.ts`; when that packet is a tunnel's (IP in IP,
 * GRE, VXLAN, Geneve, GTP-U, Teredo…: `tunnels.ts` reads their headers), decodes the packet inside
 * it the same way, up to MAX_TUNNEL_DEPTH tunnels deep. MPLS label stacks are peeled too.
 *
 * Link types are draft-ietf-opsawg-pcaplinktype's. `decodeLink` reads through a `Reader` and throws
 * `DecodeError` for a header that runs past the frame (`packet.ts` catches it at the packet
 * boundary); `LinkType`, `EtherType` and `AF_INET` are also what the common-case decoder in
 * `packet.ts` reads by index.
 */
import type { Reader } from '../wire/reader.js';
import type { DecodeState, PacketInfo } from './decode-state.js';
import { decodeIpv4, decodeIpv6, IpProto } from './ip.js';
import type { CarriedDecoder } from './ip.js';
import type { TcpSegment } from './tcp-header.js';
import { Carried, readGre, readPpp, readUdpTunnel } from './tunnels.js';

/** Link types (draft-ietf-opsawg-pcaplinktype) decoded here. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  /** PPP (RFC 1661), with or without RFC 1662's address and control bytes. */
  PPP: 9,
  /** PPP in HDLC-like framing (RFC 1662). */
  PPP_HDLC: 50,
  /** PPPoE (RFC 2516): the session header, then PPP. */
  PPP_ETHER: 51,
  /** Cisco HDLC: address, control, then an EtherType. */
  C_HDLC: 104,
  /** DLT_RAW on most BSDs and Linux, found in old files instead of LINKTYPE_RAW. */
  DLT_RAW_12: 12,
  /** DLT_RAW on OpenBSD. */
  DLT_RAW_14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  /** Linux netfilter's NFLOG (tcpdump -i nflog): the IP packet in a TLV. */
  NFLOG: 239,
  /** Apple's PKTAP (tcpdump -i pktap on macOS): a header naming the packet's own link type. */
  PKTAP: 258,
  LINUX_SLL2: 276,
} as const;

/** IEEE 802 EtherType values read here. */
export const EtherType = {
  ipv4: 0x0800,
  ipv6: 0x86dd,
  vlan: 0x8100,
  qinq: 0x88a8,
  /** Pre-standard 802.1ad (Cisco, Juniper). */
  qinqOld: 0x9100,
  pppoeSession: 0x8864,
  /** Transparent Ethernet Bridging: an Ethernet frame inside a tunnel (GRE, VXLAN, Geneve). */
  teb: Carried.ethernet,
  mpls: 0x8847,
  mplsMulticast: 0x8848,
} as const;

/**
 * Tunnels inside tunnels beyond this depth make the packet malformed: real ones nest two or three
 * deep (GTP-U over VXLAN), and a crafted packet could nest one in another until its bytes run out.
 */
export const MAX_TUNNEL_DEPTH = 8;

/** CARRIED[d] decodes what an IP packet d tunnels deep carries when it is not TCP. */
const CARRIED: readonly CarriedDecoder[] = Array.from(
  { length: MAX_TUNNEL_DEPTH + 1 },
  (_, depth): CarriedDecoder =>
    (protocol, payload, info, state) =>
      decodeCarried(protocol, payload, info, state, depth),
);

/** BSD AF_INET, and the AF_INET6 values of NetBSD/OpenBSD (24), FreeBSD (28) and Darwin (30). */
export const AF_INET = 2;
export const AF_INET6: ReadonlySet<number> = new Set([24, 28, 30]);

/**
 * Returns the TCP segment of a frame of link type `linkType` read by `r`, or null (counted in
 * `state.stats`); throws `DecodeError` when a header runs past the frame.
 */
export function decodeLink(linkType: number, r: Reader, info: PacketInfo, state: DecodeState): TcpSegment | null {
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
      if (family === AF_INET) return decodeIpv4(r, info, state, CARRIED[0]);
      if (AF_INET6.has(family)) return decodeIpv6(r, info, state, CARRIED[0]);
      state.stats.nonTcp++;
      return null;
    }
    case LinkType.RAW:
    case LinkType.DLT_RAW_12:
    case LinkType.DLT_RAW_14:
      return decodeRawIp(r, info, state);
    case LinkType.IPV4:
      return decodeIpv4(r, info, state, CARRIED[0]);
    case LinkType.IPV6:
      return decodeIpv6(r, info, state, CARRIED[0]);
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
    case LinkType.PPP:
    case LinkType.PPP_HDLC: {
      const inner = readPpp(r);
      if (inner !== null) return decodeEtherType(inner, r, info, state);
      state.stats.nonTcp++;
      return null;
    }
    case LinkType.PPP_ETHER:
      return decodeEtherType(EtherType.pppoeSession, r, info, state);
    case LinkType.C_HDLC:
      r.skip(2, 'chdlc/address_control');
      return decodeEtherType(r.u16('chdlc/protocol'), r, info, state);
    case LinkType.NFLOG:
      return decodeNflog(r, info, state);
    case LinkType.PKTAP:
      return decodePktap(r, info, state);
    default:
      state.stats.unsupportedLinkType++;
      return null;
  }
}

/** PKTAP's record type of a packet (PTH_TYPE_PACKET); other records carry none. */
const PKTAP_PACKET = 1;

/**
 * LINKTYPE_PKTAP: Apple's header (libpcap's pcap/pktap.h), in the capturing host's byte order,
 * little-endian on every Mac: its length(4), the record type(4), the packet's DLT(4), then the
 * interface name, process and the rest, up to the length; then the packet, of that DLT (the DLTs
 * that appear there, DLT_NULL, DLT_EN10MB, DLT_RAW and DLT_PPP, have the LINKTYPE numbers here).
 */
function decodePktap(r: Reader, info: PacketInfo, state: DecodeState): TcpSegment | null {
  const h = r.peek(12);
  if (h.length < 12) return r.fail('truncated', 'PKTAP header shorter than 12 bytes', 'pktap/header');
  const le32 = (i: number): number => (h[i]! | (h[i + 1]! << 8) | (h[i + 2]! << 16) | (h[i + 3]! << 24)) >>> 0;
  const length = le32(0);
  const type = le32(4);
  const dlt = le32(8);
  if (length < 12) return r.fail('length-out-of-range', `PKTAP header length ${length} below 12`, 'pktap/length');
  r.skip(length, 'pktap/header');
  // A PKTAP header inside a PKTAP packet would let a crafted frame recurse: not a packet we read.
  if (type !== PKTAP_PACKET || dlt === LinkType.PKTAP) {
    state.stats.nonTcp++;
    return null;
  }
  return decodeLink(dlt, r, info, state);
}

/** NFLOG's TLV type of the packet itself (NFULA_PAYLOAD, linux/netfilter/nfnetlink_log.h). */
const NFULA_PAYLOAD = 9;

/**
 * LINKTYPE_NFLOG: family(1) version(1) resource id(2, network order), then TLVs of length(2)
 * type(2) value, the length counting the 4-byte header, each padded to 4 bytes. Length and type are
 * in the capturing host's byte order; the types are below 256, so the zero byte of the type says
 * which order. The NFULA_PAYLOAD TLV holds the IP packet, without a link header.
 */
function decodeNflog(r: Reader, info: PacketInfo, state: DecodeState): TcpSegment | null {
  r.skip(4, 'nflog/header');
  while (r.left >= 4) {
    const h = r.peek(4);
    const littleEndian = h[2] !== 0 || h[3] === 0;
    const length = littleEndian ? h[0]! | (h[1]! << 8) : (h[0]! << 8) | h[1]!;
    const type = (littleEndian ? h[2]! | (h[3]! << 8) : (h[2]! << 8) | h[3]!) & 0x7fff;
    if (length < 4) return r.fail('length-out-of-range', `NFLOG TLV length ${length} below 4`, 'nflog/tlv_length');
    r.skip(4, 'nflog/tlv_header');
    if (type === NFULA_PAYLOAD) return decodeEtherType(Carried.ipByVersion, r, info, state);
    r.skip(length - 4, 'nflog/tlv_value');
    r.skip(Math.min((4 - (length % 4)) % 4, r.left), 'nflog/tlv_padding');
  }
  state.stats.nonTcp++;
  return null;
}

/**
 * Dispatches on an EtherType (or `Carried.ipByVersion`), peeling 802.1Q / 802.1ad tags (any depth),
 * PPPoE sessions, MPLS label stacks and the Ethernet header of a bridged frame; `depth` is the
 * number of tunnels the bytes are inside.
 */
function decodeEtherType(type: number, r: Reader, info: PacketInfo, state: DecodeState, depth = 0): TcpSegment | null {
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
      if (ppp === 0x0021) return decodeIpv4(r, info, state, CARRIED[depth]);
      if (ppp === 0x0057) return decodeIpv6(r, info, state, CARRIED[depth]);
      state.stats.nonTcp++;
      return null;
    }
    if (t === EtherType.teb) {
      // A bridged Ethernet frame (no FCS): destination, source, EtherType.
      r.skip(12, 'ethernet/addresses');
      t = r.u16('ethernet/type');
      continue;
    }
    if (t === EtherType.mpls || t === EtherType.mplsMulticast) {
      // RFC 3032, Section 2.1: Label(20) TC(3) S(1) TTL(8) entries until S (bottom of stack); an
      // IP packet then starts with its version (RFC 4385's pseudowire control word starts with 0).
      let entry = r.u32('mpls/label_entry');
      while ((entry & 0x100) === 0) entry = r.u32('mpls/label_entry');
      t = Carried.ipByVersion;
      continue;
    }
    if (t === Carried.ipByVersion) {
      // An MPLS payload, GTP-U: the version nibble says which (anything else is not IP).
      const version = (r.peek(1)[0] ?? 0) >> 4;
      if (version === 4) t = EtherType.ipv4;
      else if (version === 6) t = EtherType.ipv6;
      else {
        state.stats.nonTcp++;
        return null;
      }
    }
    break;
  }
  if (t === EtherType.ipv4) return decodeIpv4(r, info, state, CARRIED[depth]);
  if (t === EtherType.ipv6) return decodeIpv6(r, info, state, CARRIED[depth]);
  state.stats.nonTcp++;
  return null;
}

/**
 * Decodes the packet inside a tunnel whose outer IP packet, `depth` tunnels deep, carries
 * `protocol` (IP in IP, UDP, GRE); counts the packet as not TCP when the tunnel carries nothing
 * we read, and as decapsulated when the outermost tunnel gave a TCP segment.
 */
function decodeCarried(
  protocol: number,
  r: Reader,
  info: PacketInfo,
  state: DecodeState,
  depth: number,
): TcpSegment | null {
  if (depth >= MAX_TUNNEL_DEPTH)
    return r.fail('bad-value', `tunnels nested more than ${MAX_TUNNEL_DEPTH} deep`, 'tunnel');
  const inner =
    protocol === IpProto.udp
      ? readUdpTunnel(r)
      : protocol === IpProto.gre
        ? readGre(r)
        : protocol === IpProto.ipv4
          ? EtherType.ipv4
          : EtherType.ipv6;
  if (inner === null) {
    state.stats.nonTcp++;
    return null;
  }
  const seg = decodeEtherType(inner, r, info, state, depth + 1);
  if (seg !== null && depth === 0) state.stats.decapsulated++;
  return seg;
}

/** Raw IP: the version nibble says which. */
function decodeRawIp(r: Reader, info: PacketInfo, state: DecodeState): TcpSegment | null {
  const version = (r.peek(1)[0] ?? 0) >> 4;
  if (version === 4) return decodeIpv4(r, info, state, CARRIED[0]);
  if (version === 6) return decodeIpv6(r, info, state, CARRIED[0]);
  return r.fail('bad-value', `raw IP packet with version ${version}`, 'ip/version');
}
