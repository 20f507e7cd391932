/**
 * The tunnel layer of the general packet decoder: the headers of the tunnels that carry packets
 * inside other packets, so that a TLS connection captured on a mirror port (AWS Traffic Mirroring
 * and Azure vTAP send VXLAN, switches send ERSPAN in GRE, a mobile core GTP-U, Kubernetes overlays
 * VXLAN or Geneve) is found as it is on the wire it was copied from.
 *
 * Each reader here takes a `Reader` at the tunnel's header, moves it past the header and returns
 * what follows as a `Carried` code (an EtherType, as GRE's protocol type already is), or null when
 * the tunnel carries nothing we read (a control message, another protocol). `link-layer.ts`
 * dispatches on the code; this file imports no other layer, so the layers stay without a cycle.
 * UDP tunnels are known by their IANA port, as Wireshark and Zeek know them; the inner packet's
 * flow is its own addresses and ports (as Wireshark's tcp.stream counts it).
 */
import type { Reader } from '../wire/reader.js';

/** What a tunnel carries: EtherTypes, and one code for "IP, by its version nibble". */
export const Carried = {
  ipv4: 0x0800,
  ipv6: 0x86dd,
  /** Transparent Ethernet Bridging: an Ethernet frame without its FCS (RFC 1701's protocol type). */
  ethernet: 0x6558,
  mpls: 0x8847,
  /** Not an EtherType (above 16 bits): the payload is IPv4 or IPv6, as its first nibble says. */
  ipByVersion: 0x1_0000,
  /** Not an EtherType: IPsec ESP (RFC 4303), whose packet inside is encrypted. */
  esp: 0x1_0001,
} as const;

/** IANA UDP ports of the tunnels read here. */
export const TunnelPort = {
  /** RFC 7348. */
  vxlan: 4789,
  /** draft-ietf-nvo3-vxlan-gpe. */
  vxlanGpe: 4790,
  /** RFC 8926. */
  geneve: 6081,
  /** 3GPP TS 29.281 (GTP-U). */
  gtpU: 2152,
  /** RFC 4380. */
  teredo: 3544,
  /** RFC 8086. */
  greInUdp: 4754,
  /** RFC 3948: IPsec ESP in UDP, through NAT (and IKE on the same port). */
  ipsecNatT: 4500,
} as const;

const TUNNEL_PORTS: ReadonlySet<number> = new Set(Object.values(TunnelPort));

/**
 * Reads a UDP header (RFC 768) and, when either port is a tunnel's, that tunnel's header; returns
 * what the tunnel carries, or null (not a tunnel, or a tunnel message without a packet in it).
 * The lower port is tried first, as Wireshark does: a tunnel's port is the well-known one.
 */
export function readUdpTunnel(r: Reader): number | null {
  const src = r.u16('udp/source_port');
  const dst = r.u16('udp/destination_port');
  const length = r.u16('udp/length');
  r.skip(2, 'udp/checksum');
  if (length !== 0 && length < 8) return r.fail('length-out-of-range', `UDP length ${length} below 8`, 'udp/length');
  const port = TUNNEL_PORTS.has(Math.min(src, dst)) ? Math.min(src, dst) : Math.max(src, dst);
  switch (port) {
    case TunnelPort.vxlan:
      return readVxlan(r);
    case TunnelPort.vxlanGpe:
      return readVxlanGpe(r);
    case TunnelPort.geneve:
      return readGeneve(r);
    case TunnelPort.gtpU:
      return readGtpU(r);
    case TunnelPort.teredo:
      return readTeredo(r);
    case TunnelPort.greInUdp:
      return readGre(r);
    case TunnelPort.ipsecNatT:
      return readNatT(r);
    default:
      return null;
  }
}

/**
 * RFC 3948, Section 2: on port 4500 a single 0xFF byte is a NAT-keepalive, four zero bytes (the
 * Non-ESP Marker) start an IKE message, and anything else is an ESP packet, from its SPI.
 */
function readNatT(r: Reader): number | null {
  const head = r.peek(4);
  if (head.length < 4) return null;
  if (head[0] === 0 && head[1] === 0 && head[2] === 0 && head[3] === 0) return null;
  return Carried.esp;
}

/** RFC 7348, Section 5: Flags(8, I = 0x08) Reserved(24) VNI(24) Reserved(8), then an Ethernet frame. */
function readVxlan(r: Reader): number | null {
  const flags = r.u8('vxlan/flags');
  r.skip(7, 'vxlan/header');
  // Without the I flag the header names no network: not a VXLAN packet we can place.
  return flags & 0x08 ? Carried.ethernet : null;
}

/** VXLAN-GPE's Next Protocol values read here. */
const GPE_NEXT_PROTOCOL: ReadonlyMap<number, number> = new Map([
  [1, Carried.ipv4],
  [2, Carried.ipv6],
  [3, Carried.ethernet],
  [5, Carried.mpls],
]);

/**
 * draft-ietf-nvo3-vxlan-gpe, Section 3.1: Flags(8, P = 0x04) Reserved(16) Next Protocol(8) VNI(24)
 * Reserved(8). Next Protocol 1 IPv4, 2 IPv6, 3 Ethernet, 5 MPLS (without P: Ethernet, as VXLAN).
 */
function readVxlanGpe(r: Reader): number | null {
  const flags = r.u8('vxlan-gpe/flags');
  r.skip(2, 'vxlan-gpe/reserved');
  const next = r.u8('vxlan-gpe/next_protocol');
  r.skip(4, 'vxlan-gpe/vni');
  if ((flags & 0x04) === 0) return Carried.ethernet;
  return GPE_NEXT_PROTOCOL.get(next) ?? null;
}

/**
 * RFC 8926, Section 3.4: Ver(2) Opt Len(6, in 4-byte words) | O C Rsvd(6) | Protocol Type(16) |
 * VNI(24) Reserved(8) | options. The protocol type is an EtherType (0x6558 for Ethernet).
 */
function readGeneve(r: Reader): number | null {
  const first = r.u8('geneve/version_optlen');
  r.skip(1, 'geneve/flags');
  const protocol = r.u16('geneve/protocol_type');
  r.skip(4, 'geneve/vni');
  r.skip((first & 0x3f) * 4, 'geneve/options');
  if (first >> 6 !== 0) return null;
  return protocol;
}

/**
 * 3GPP TS 29.281, Section 5.1: Version(3) PT(1) spare(1) E S PN | Message Type(8) | Length(16) |
 * TEID(32) | with any of E, S, PN: Sequence(16) N-PDU(8) Next Extension Header Type(8) | extension
 * headers (Section 5.2: Length(8, in 4-byte words, the whole header) content, Next Type(8)). Only a
 * G-PDU (type 255) carries a user packet, IPv4 or IPv6.
 */
function readGtpU(r: Reader): number | null {
  const flags = r.u8('gtp/flags');
  const type = r.u8('gtp/message_type');
  r.skip(6, 'gtp/length_teid');
  // Version 1 with PT 1 is GTP; version 2 is GTPv2-C (control only), PT 0 is GTP'.
  if (flags >> 5 !== 1 || (flags & 0x10) === 0 || type !== 0xff) return null;
  if (flags & 0x07) {
    r.skip(3, 'gtp/sequence_npdu');
    let next = r.u8('gtp/next_extension_type');
    while (next !== 0) {
      const words = r.u8('gtp/extension/length');
      if (words === 0) return r.fail('bad-value', 'GTP-U extension header of length 0', 'gtp/extension/length');
      r.skip(words * 4 - 2, 'gtp/extension/content');
      next = r.u8('gtp/extension/next_type');
    }
  }
  return Carried.ipByVersion;
}

/**
 * RFC 4380, Section 5.1.1: an IPv6 packet, after an optional Authentication indicator (0x0001, ID-len,
 * AU-len, client ID, authentication value, nonce(8), confirmation(1)) and an optional Origin
 * indication (0x0000, port(2), address(4)), in that order. A bubble (no IPv6 after them) carries none.
 */
function readTeredo(r: Reader): number | null {
  for (let headers = 0; r.left > 0 && headers <= 2; headers++) {
    const b = r.peek(1)[0]!;
    if (b >> 4 === 6) return Carried.ipv6;
    if (r.left < 2 || b !== 0) return null;
    const indicator = r.u16('teredo/indicator');
    if (indicator === 0x0001) {
      const idLength = r.u8('teredo/auth/id_length');
      const auLength = r.u8('teredo/auth/au_length');
      r.skip(idLength + auLength + 9, 'teredo/auth/body');
    } else if (indicator === 0x0000) r.skip(6, 'teredo/origin');
    else return null;
  }
  return null;
}

/**
 * A GRE header (RFC 2784 with RFC 2890's key and sequence number; RFC 1701's routing; version 1 is
 * PPTP's enhanced GRE, RFC 2637 Section 4.1), then what its protocol type says: an EtherType, ERSPAN
 * (type I without a header, type II with 8 bytes, type III with 12 and an optional 8-byte platform
 * sub-header; each then an Ethernet frame) or PPP.
 */
export function readGre(r: Reader): number | null {
  const flags = r.u16('gre/flags_version');
  const protocol = r.u16('gre/protocol_type');
  const version = flags & 0x0007;
  const sequenced = (flags & 0x1000) !== 0;
  if (version === 0) {
    // C (0x8000) or R (0x4000): Checksum(16) Offset(16).
    if (flags & 0xc000) r.skip(4, 'gre/checksum');
    if (flags & 0x2000) r.skip(4, 'gre/key');
    if (sequenced) r.skip(4, 'gre/sequence');
    if (flags & 0x4000) {
      // RFC 1701: Source Route Entries, Address Family(16) SRE Offset(8) SRE Length(8) routing
      // information, until one of length 0 (each read moves on: a truncated list throws).
      for (;;) {
        r.skip(3, 'gre/sre/header');
        const length = r.u8('gre/sre/length');
        if (length === 0) break;
        r.skip(length, 'gre/sre/routing');
      }
    }
  } else if (version === 1) {
    // Key (payload length, call ID) always present; S: sequence; A (0x0080): acknowledgment.
    r.skip(4, 'gre/key');
    if (sequenced) r.skip(4, 'gre/sequence');
    if (flags & 0x0080) r.skip(4, 'gre/acknowledgment');
  } else return null;
  switch (protocol) {
    case 0x88be:
      // ERSPAN type II carries a sequence number in GRE and an 8-byte header; type I has neither.
      if (sequenced) r.skip(8, 'erspan2/header');
      return Carried.ethernet;
    case 0x22eb: {
      // ERSPAN type III: 12 bytes, the last bit of which (O) announces an 8-byte platform sub-header.
      const header = r.bytes(12, 'erspan3/header');
      if (header[11]! & 0x01) r.skip(8, 'erspan3/platform_subheader');
      return Carried.ethernet;
    }
    case 0x880b:
      return readPpp(r);
    default:
      return protocol;
  }
}

/**
 * RFC 1661/1662: optional Address and Control (0xff 0x03), then the protocol, one byte when
 * compressed (a protocol number's last byte is odd); 0x0021 IPv4, 0x0057 IPv6.
 */
export function readPpp(r: Reader): number | null {
  const head = r.peek(2);
  if (head[0] === 0xff && head[1] === 0x03) r.skip(2, 'ppp/address_control');
  let protocol = r.u8('ppp/protocol');
  if ((protocol & 0x01) === 0) protocol = (protocol << 8) | r.u8('ppp/protocol');
  if (protocol === 0x21) return Carried.ipv4;
  if (protocol === 0x57) return Carried.ipv6;
  return null;
}
