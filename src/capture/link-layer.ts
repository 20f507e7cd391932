/**
 * The link layer of the general packet decoder: peels the link header of each link type read here
 * (Ethernet with 802.1Q/802.1ad tags and PPPoE sessions, BSD loopback, raw IP, Linux cooked
 * capture v1 and v2) and hands the IP packet to `ip.ts`.
 *
 * Link types are draft-ietf-opsawg-pcaplinktype's. `decodeLink` reads through a `Reader` and throws
 * `DecodeError` for a header that runs past the frame (`packet.ts` catches it at the packet
 * boundary); `LinkType`, `EtherType` and `AF_INET` are also what the common-case decoder in
 * `packet.ts` reads by index.
 */
import type { Reader } from '../wire/reader.js';
import type { DecodeState, PacketInfo } from './decode-state.js';
import { decodeIpv4, decodeIpv6 } from './ip.js';
import type { TcpSegment } from './tcp-header.js';

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
export const EtherType = {
  ipv4: 0x0800,
  ipv6: 0x86dd,
  vlan: 0x8100,
  qinq: 0x88a8,
  /** Pre-standard 802.1ad (Cisco, Juniper). */
  qinqOld: 0x9100,
  pppoeSession: 0x8864,
} as const;

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
