/**
 * The TCP header layer: what a decoded TCP segment is (`TcpSegment`, the packet decoder's output)
 * and the `Reader`-based decoding of a TCP header and its payload (RFC 9293, Section 3.1).
 *
 * The IP layer (`ip.ts`) calls `decodeTcp` with the addresses and the segment length its header
 * declared; the common-case decoder in `packet.ts` reads the same fields by index and uses
 * `tcpFlags`. Reassembly of the byte stream is the next layer up (`tcp.ts`).
 */
import type { Reader } from '../wire/reader.js';
import type { PacketInfo } from './decode-state.js';

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
  /**
   * `addressHash` of `src` and `dst`, as the decoders give them (the common-case decoder from its
   * text caches); the reassembler hashes the texts itself when a segment made elsewhere has none.
   */
  readonly srcHash?: number;
  readonly dstHash?: number;
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

/**
 * RFC 9293, Section 3.1:
 *   Source Port(16) | Destination Port(16) | Sequence Number(32) | Acknowledgment Number(32)
 *   | Data Offset(4) Rsrvd(4) Flags(8) | Window(16) | Checksum(16) | Urgent Pointer(16) | Options
 * `segmentLength` is the TCP length per the IP header (header + payload, possibly more than captured).
 */
export function decodeTcp(
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
    srcHash: addressHash(src),
    dstHash: addressHash(dst),
  };
}

/**
 * FNV-1a over an address text's characters: what the flow tables hash a flow's addresses by
 * (closed-flows.ts, `flowHash`). The decoder takes it from the text caches, where it is computed
 * once per address text made, rather than once per segment: over the ~40 characters of two long
 * IPv6 addresses, hashing each segment's took ~260 ns (76 ns for two IPv4 addresses).
 */
export function addressHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The TCP flags the reassembler uses, from the 16-bit data-offset/flags word (RFC 9293, Section 3.1). */
export function tcpFlags(offsetFlags: number): TcpSegment['flags'] {
  return {
    fin: (offsetFlags & 0x01) !== 0,
    syn: (offsetFlags & 0x02) !== 0,
    rst: (offsetFlags & 0x04) !== 0,
    psh: (offsetFlags & 0x08) !== 0,
    ack: (offsetFlags & 0x10) !== 0,
  };
}
