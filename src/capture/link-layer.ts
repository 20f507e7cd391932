/**
 * The link layer of the general packet decoder: peels the link header of each link type read here
 * (Ethernet with 802.1Q/802.1ad tags and PPPoE sessions, BSD loopback, raw IP, Linux cooked
 * capture v1 and v2, Linux NFLOG, Apple PKTAP, PPP, Cisco HDLC, and IEEE 802.11 bare, after radiotap
 * or after PPI) and hands the IP packet to `ip.ts`; when that packet is a tunnel's (IP in IP,
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
  /** IEEE 802.11 frames as a monitor-mode capture gives them, without a radio header. */
  IEEE802_11: 105,
  /** IEEE 802.11 frames, each after a radiotap header (how Linux and macOS capture in monitor mode). */
  IEEE802_11_RADIOTAP: 127,
  /** A Per-Packet Information header, naming the link type of the frame after it (802.11 in practice). */
  PPI: 192,
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
    case LinkType.IEEE802_11:
      return decode80211(r, info, state);
    case LinkType.IEEE802_11_RADIOTAP: {
      // Radiotap: version(1, 0) pad(1) length(2, little-endian) of the whole header, present
      // flags(4 or more), then the fields they name.
      const h = r.peek(4);
      if (h.length < 4) return r.fail('truncated', 'radiotap header shorter than 4 bytes', 'radiotap/header');
      if (h[0] !== 0) return r.fail('bad-value', `radiotap version ${h[0]}`, 'radiotap/version');
      const length = h[2]! | (h[3]! << 8);
      if (length < 8)
        return r.fail('length-out-of-range', `radiotap header length ${length} below 8`, 'radiotap/length');
      r.skip(length, 'radiotap/header');
      return decode80211(r, info, state);
    }
    case LinkType.PPI: {
      // PPI: version(1, 0) flags(1) length(2) DLT(4), both little-endian; fields up to the length.
      const h = r.peek(8);
      if (h.length < 8) return r.fail('truncated', 'PPI header shorter than 8 bytes', 'ppi/header');
      if (h[0] !== 0) return r.fail('bad-value', `PPI version ${h[0]}`, 'ppi/version');
      const dlt = (h[4]! | (h[5]! << 8) | (h[6]! << 16) | (h[7]! << 24)) >>> 0;
      const length = h[2]! | (h[3]! << 8);
      if (length < 8) return r.fail('length-out-of-range', `PPI header length ${length} below 8`, 'ppi/length');
      r.skip(length, 'ppi/header');
      if (WRAPPERS.has(dlt)) {
        state.stats.nonTcp++;
        return null;
      }
      return decodeLink(dlt, r, info, state);
    }
    default:
      state.stats.unsupportedLinkType++;
      return null;
  }
}

/**
 * An IEEE 802.11 MAC frame (IEEE 802.11-2020, Section 9.2): Frame Control(2: protocol version,
 * type, subtype; then the flags To DS, From DS, More Fragments, Retry, Power Management, More Data,
 * Protected Frame, +HTC), Duration(2), Address 1, 2, 3 (6 each), Sequence Control(2: fragment
 * number in its low 4 bits, little-endian), Address 4 when To DS and From DS are both set, QoS
 * Control(2) in the QoS data subtypes, HT Control(4) when +HTC is set in them; then the body, an
 * LLC/SNAP header (IEEE 802.2: DSAP and SSAP 0xAA, control 3, an OUI) and the EtherType. A trailing
 * FCS is left where it is: the IP header's lengths end the packet before it.
 *
 * Counted and not read: frames other than data carrying data (management, control, Null) as not
 * TCP; a protected data frame (WEP, TKIP, CCMP: the capture holds the ciphertext) as encrypted; a
 * fragment of an MSDU and an A-MSDU (several packets in one frame, each of which `decodeLink` would
 * have to return) as a link layer not decoded.
 */
function decode80211(r: Reader, info: PacketInfo, state: DecodeState): TcpSegment | null {
  const control = r.u8('802.11/frame_control');
  const flags = r.u8('802.11/flags');
  const type = (control >> 2) & 0x3;
  const subtype = control >> 4;
  // Version 0; type 2 (data); subtype bit 2 clear (the Null and CF-only subtypes carry no data).
  if ((control & 0x3) !== 0 || type !== 2 || (subtype & 0x4) !== 0) {
    state.stats.nonTcp++;
    return null;
  }
  r.skip(20, '802.11/duration_addresses');
  const fragmentNumber = r.u8('802.11/sequence_control') & 0xf;
  r.skip(1, '802.11/sequence_control');
  if ((flags & 0x3) === 0x3) r.skip(6, '802.11/address4');
  let aggregate = false;
  if ((subtype & 0x8) !== 0) {
    // QoS Control: bit 7 of its first (low) byte is "A-MSDU Present".
    aggregate = (r.u8('802.11/qos_control') & 0x80) !== 0;
    r.skip(1, '802.11/qos_control');
    if ((flags & 0x80) !== 0) r.skip(4, '802.11/ht_control');
  }
  if ((flags & 0x40) !== 0) {
    state.stats.encrypted++;
    return null;
  }
  if (aggregate || fragmentNumber !== 0 || (flags & 0x4) !== 0) {
    state.stats.unsupportedLinkType++;
    return null;
  }
  const llc = r.bytes(6, '802.11/llc');
  if (llc[0] !== 0xaa || llc[1] !== 0xaa || llc[2] !== 0x03) {
    state.stats.nonTcp++;
    return null;
  }
  return decodeEtherType(r.u16('802.11/llc/type'), r, info, state);
}

/**
 * Link types whose header names the link type of the frame after it. One inside another is not a
 * packet we read: a crafted frame could nest them until its bytes run out, a call deeper each.
 */
const WRAPPERS: ReadonlySet<number> = new Set([LinkType.PKTAP, LinkType.PPI]);

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
  if (type !== PKTAP_PACKET || WRAPPERS.has(dlt)) {
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
  if (inner === Carried.esp) {
    state.stats.encrypted++;
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
