/**
 * The IP layer of the general packet decoder: IPv4 (RFC 791) and IPv6 (RFC 8200) headers, IPv6
 * extension headers skipped (RFC 8200, Section 4), fragments handed to `fragments.ts`, the TCP
 * payload handed to `tcp-header.ts` with the addresses as text, and the payload of a protocol a
 * tunnel rides on (IP in IP, UDP, GRE) to the `CarriedDecoder` that `link-layer.ts` passes down.
 *
 * Checksums are not verified: captures taken on the sending host carry checksums the NIC fills in
 * later. `decodeIpv4`/`decodeIpv6` read through a `Reader` and throw `DecodeError` for a header
 * that runs past the packet or an impossible length; packets that carry no TCP are counted in
 * `state.stats` and give null. The address texts (`ipv4Text`, `ipv6Text`) are shared with the
 * common-case decoder in `packet.ts`.
 */
import { formatIp } from '../wire/ip.js';
import { Reader } from '../wire/reader.js';
import type { DecodeState, PacketInfo } from './decode-state.js';
import { addFragment } from './fragments.js';
import { addressHash, decodeTcp } from './tcp-header.js';
import type { TcpSegment } from './tcp-header.js';

/** IP protocol / IPv6 Next Header numbers (IANA "Assigned Internet Protocol Numbers"). */
export const IpProto = {
  hopByHop: 0,
  /** IPv4 in IP (RFC 2003). */
  ipv4: 4,
  tcp: 6,
  udp: 17,
  /** IPv6 in IP (RFC 2473, RFC 4213). */
  ipv6: 41,
  gre: 47,
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

/**
 * Reads what an IP packet carries when it is not TCP, for the protocols a tunnel rides on
 * (`CARRIER_PROTOCOLS`): `link-layer.ts` gives one that decodes the packet inside the tunnel
 * (`tunnels.ts`). Without one, those packets count as not TCP.
 */
export type CarriedDecoder = (
  protocol: number,
  payload: Reader,
  info: PacketInfo,
  state: DecodeState,
) => TcpSegment | null;

/** The IP protocols that can carry another packet: IP in IP, UDP (VXLAN, Geneve, GTP-U, …) and GRE. */
export const CARRIER_PROTOCOLS: ReadonlySet<number> = new Set([IpProto.ipv4, IpProto.ipv6, IpProto.udp, IpProto.gre]);

// ---------------------------------------------------------------------------------------------
// IPv4
// ---------------------------------------------------------------------------------------------

/**
 * RFC 791, Section 3.1:
 *   Version(4) IHL(4) | TOS(8) | Total Length(16) | Identification(16) | Flags(3) Fragment Offset(13)
 *   | TTL(8) | Protocol(8) | Header Checksum(16) | Source(32) | Destination(32) | Options | data
 */
export function decodeIpv4(
  r: Reader,
  info: PacketInfo,
  state: DecodeState,
  carried?: CarriedDecoder,
): TcpSegment | null {
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
  const tcp = protocol === IpProto.tcp;
  if (!tcp && (carried === undefined || !CARRIER_PROTOCOLS.has(protocol))) {
    // RFC 4303: behind an ESP header the transport header is encrypted (counted as for IPv6).
    if (protocol === IpProto.esp) state.stats.encrypted++;
    else state.stats.nonTcp++;
    return null;
  }
  if (moreFragments || fragmentOffset !== 0) {
    if (payload.length < payloadLength) {
      // A fragment cut by the snap length cannot be reassembled faithfully.
      state.stats.fragmentsDropped++;
      return null;
    }
    // RFC 791, Section 3.2: a datagram is named by source, destination, protocol and identification.
    const key = `4|${src}|${dst}|${protocol}|${id}`;
    const whole = addFragment(state, key, protocol, fragmentOffset, moreFragments, payload, info);
    if (!whole) return null;
    const reassembled = new Reader(whole.bytes, 'ipv4-reassembled');
    if (!tcp) return carried!(protocol, reassembled, info, state);
    return decodeTcp(reassembled, src, dst, 4, whole.bytes.length, info);
  }
  const p = new Reader(payload, 'ipv4/payload', r.offset - payload.length);
  if (!tcp) return carried!(protocol, p, info, state);
  return decodeTcp(p, src, dst, 4, payloadLength, info);
}

/**
 * Texts of the IPv4 addresses seen last. A capture names the same few addresses in packet after
 * packet: two 4-byte views and two new strings per packet were the largest part of what the decoder
 * allocated (V8 heap sampling of a capture analysis), and the same string object for the same
 * address also makes the flow table's comparisons cheap. 32,768 slots: a busy server's capture has
 * tens of thousands of clients in flight, and at 4,096 a capture with 20,000 rebuilt the texts of
 * nearly every packet (CPU −4%, wall −11% there, medians of 4 interleaved runs on a busy machine).
 *
 * Direct-mapped (an address has one slot, by a multiplicative hash; a collision makes the text
 * again) in two fixed arrays, rather than a `Map` cleared when full: the map regrew through its
 * doublings after every clear, up to ~1 MB tables in V8's old generation, and on a capture of a
 * million clients that garbage raised the peak RSS from ~100 to ~160 MiB (V8 grows the old
 * generation to ~80 MB between full collections); the slots cost ~0.5 MB, allocated once.
 */
const IPV4_TEXT_SLOTS = 32768;
const IPV4_TEXT_SHIFT = 32 - Math.log2(IPV4_TEXT_SLOTS);
/** The address in each slot, as a signed 32-bit number (any value, once `ipv4SlotTexts` has a text). */
const ipv4SlotAddresses = new Int32Array(IPV4_TEXT_SLOTS);
const ipv4SlotTexts: (string | undefined)[] = new Array<string | undefined>(IPV4_TEXT_SLOTS).fill(undefined);
/** `addressHash` of each slot's text, computed when the text is made. */
const ipv4SlotHashes = new Uint32Array(IPV4_TEXT_SLOTS);

/** Returns the dotted text of a 32-bit IPv4 address. */
export function ipv4Text(a: number): string {
  return ipv4SlotTexts[ipv4Slot(a)]!;
}

/**
 * Returns the cache slot holding IPv4 address `a`, its text (and the text's `addressHash`) made
 * there first when it is not: `addressText(4, slot)` and `addressTextHash(4, slot)` read them. The
 * common-case decoder takes both from one lookup. They stay valid until the next lookup only: two
 * addresses may share a slot, and looking up the second replaces the first's text.
 */
export function ipv4Slot(a: number): number {
  const key = a | 0;
  const slot = Math.imul(key, 0x9e3779b1) >>> IPV4_TEXT_SHIFT;
  if (ipv4SlotTexts[slot] !== undefined && ipv4SlotAddresses[slot] === key) return slot;
  const text = `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
  ipv4SlotAddresses[slot] = key;
  ipv4SlotTexts[slot] = text;
  ipv4SlotHashes[slot] = addressHash(text);
  return slot;
}

/** The text in slot `slot` of the IPv4 (`v` 4) or IPv6 (`v` 6) cache, as `ipv4Slot`/`ipv6SlotAt` left it. */
export function addressText(v: 4 | 6, slot: number): string {
  return (v === 4 ? ipv4SlotTexts[slot] : ipv6SlotTexts[slot])!;
}

/** The `addressHash` of `addressText(v, slot)`, computed when the text was made. */
export function addressTextHash(v: 4 | 6, slot: number): number {
  return (v === 4 ? ipv4SlotHashes[slot] : ipv6SlotHashes[slot])!;
}

// ---------------------------------------------------------------------------------------------
// IPv6
// ---------------------------------------------------------------------------------------------

/**
 * RFC 8200, Section 3:
 *   Version(4) Traffic Class(8) Flow Label(20) | Payload Length(16) | Next Header(8) | Hop Limit(8)
 *   | Source Address(128) | Destination Address(128)
 */
export function decodeIpv6(
  r: Reader,
  info: PacketInfo,
  state: DecodeState,
  carried?: CarriedDecoder,
): TcpSegment | null {
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
      case IpProto.ipv4:
      case IpProto.ipv6:
      case IpProto.udp:
      case IpProto.gre:
        if (carried === undefined) {
          state.stats.nonTcp++;
          return null;
        }
        return carried(next, p, info, state);
      // IpProto.noNext (RFC 8200, Section 4.7) ends the chain without TCP, as every other protocol does.
      default:
        state.stats.nonTcp++;
        return null;
    }
    if (remaining < 0)
      return p.fail('length-out-of-range', 'IPv6 extension headers exceed the payload length', 'ipv6/ext');
  }
}

/**
 * Texts of the IPv6 addresses seen last, for the same reasons and in the same kind of cache as
 * `ipv4Text`'s: formatting the two addresses of every packet (RFC 5952: groups, the longest zero
 * run) was a fifth of the analysis of an IPv6 capture (0.91 s against 0.71 s for the same capture
 * in IPv4). Each slot holds its address as four 32-bit words; 16,384 slots cost ~0.4 MB.
 */
const IPV6_TEXT_SLOTS = 16384;
const IPV6_TEXT_SHIFT = 32 - Math.log2(IPV6_TEXT_SLOTS);
const ipv6SlotWords = new Int32Array(IPV6_TEXT_SLOTS * 4);
const ipv6SlotTexts: (string | undefined)[] = new Array<string | undefined>(IPV6_TEXT_SLOTS).fill(undefined);
/** `addressHash` of each slot's text, computed when the text is made. */
const ipv6SlotHashes = new Uint32Array(IPV6_TEXT_SLOTS);

/** The big-endian 32-bit word at `i` of `b`, as a signed number. */
const word = (b: Uint8Array, i: number): number => (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;

/** Returns RFC 5952 text for a 16-octet IPv6 address (see formatIp in src/wire/ip.ts). */
export function ipv6Text(b: Uint8Array): string {
  return b.length < 16 ? formatIp(b) : ipv6TextAt(b, 0);
}

/** Returns the text of the IPv6 address at `b[i, i + 16)` (the caller has checked it is there). */
export function ipv6TextAt(b: Uint8Array, i: number): string {
  return ipv6SlotTexts[ipv6SlotAt(b, i)]!;
}

/**
 * Returns the cache slot holding the IPv6 address at `b[i, i + 16)`, its text (and the text's
 * `addressHash`) made there first when it is not; see `ipv4Slot`. The four words are read once.
 */
export function ipv6SlotAt(b: Uint8Array, i: number): number {
  const w0 = word(b, i);
  const w1 = word(b, i + 4);
  const w2 = word(b, i + 8);
  const w3 = word(b, i + 12);
  const slot =
    Math.imul(w0 ^ Math.imul(w1 ^ Math.imul(w2 ^ Math.imul(w3, 0x85ebca6b), 0xc2b2ae35), 0x27d4eb2f), 0x9e3779b1) >>>
    IPV6_TEXT_SHIFT;
  const at = slot * 4;
  if (
    ipv6SlotTexts[slot] !== undefined &&
    ipv6SlotWords[at] === w0 &&
    ipv6SlotWords[at + 1] === w1 &&
    ipv6SlotWords[at + 2] === w2 &&
    ipv6SlotWords[at + 3] === w3
  )
    return slot;
  const text = formatIp(i === 0 && b.length === 16 ? b : b.subarray(i, i + 16));
  ipv6SlotWords[at] = w0;
  ipv6SlotWords[at + 1] = w1;
  ipv6SlotWords[at + 2] = w2;
  ipv6SlotWords[at + 3] = w3;
  ipv6SlotTexts[slot] = text;
  ipv6SlotHashes[slot] = addressHash(text);
  return slot;
}
