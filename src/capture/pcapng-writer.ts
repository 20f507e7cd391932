/**
 * Our own probes as a capture: `encodeProbeCapture` returns pcapng bytes that hold each traced
 * attempt as one synthetic TCP stream around the real TLS bytes, plus a Decryption Secrets Block
 * with the TLS 1.3 secrets, so Wireshark opens the file with the server's Certificate decrypted.
 * `probeKeyLog` returns the same secrets as NSS key log text. `writeFileAtomic` and
 * `appendFileAtomic` put either on disk through a temporary file in the same directory and a rename.
 *
 * What is real and what is made up:
 * - Real: every TLS byte each way, in order, and the times from the attempt's trace (wall clock
 *   start plus the offsets the attempt measured); the server's address and port; how the
 *   connection ended (the server's RST, the server's FIN, our own close after a polite goodbye).
 * - Synthetic: Ethernet MAC addresses (locally administered, IEEE 802 "02:…"), the client address
 *   (the server's own address for loopback servers, else the documentation addresses 192.0.2.1 /
 *   2001:db8::1 of RFC 5737 and RFC 3849), client ports (one ephemeral port per attempt, from
 *   49152 up, RFC 6335), initial sequence numbers, the SYN / SYN-ACK / ACK times (the measured
 *   connect time split in two), and segmentation (at most `SEGMENT_PAYLOAD_BYTES` per segment).
 *
 * Layout (draft-ietf-opsawg-pcapng): Section Header Block, one Interface Description Block
 * (LINKTYPE_ETHERNET, microsecond timestamps), one Decryption Secrets Block when there are secrets,
 * then one Enhanced Packet Block per packet in time order across all streams. The file is written
 * big-endian, which the byte-order magic announces (Section 4.1): readers handle both orders.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { Writer } from '../wire/writer.js';
import { concatBytes } from '../wire/hex.js';
import { formatKeyLogLine } from '../tls/keylog.js';
import { BlockType, SECRETS_TYPE_TLS_KEY_LOG } from './pcap-format.js';
import type { AttemptTrace } from '../probe/attempt.js';
import type { ExchangeEnd } from '../probe/transport.js';
import type { ScanResult } from '../probe/scan.js';

/** Byte-order magic of the Section Header Block (Section 4.1). */
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** LINKTYPE_ETHERNET (draft-ietf-opsawg-pcaplinktype). */
export const LINKTYPE_ETHERNET = 1;

/**
 * Most TCP payload bytes per synthetic segment: 1,400 keeps every frame under a 1,500-byte
 * Ethernet MTU with IPv6 and TCP headers (40 + 20) and room for tunnels, as real stacks do, so the
 * capture looks like one taken on a real link. The SYNs announce it as the MSS.
 */
export const SEGMENT_PAYLOAD_BYTES = 1400;

/** First client port: the IANA dynamic range starts at 49152 (RFC 6335, Section 6). */
export const FIRST_CLIENT_PORT = 49152;

/** Attempts one capture can hold: one distinct client port each, 49152–65535. */
export const MAX_CAPTURE_ATTEMPTS = 65536 - FIRST_CLIENT_PORT;

/** Snap length announced in the Interface Description Block: we never cut a packet. */
const SNAP_LENGTH = 262_144;

/** pcapng option codes used here (Sections 3.5, 4.1, 4.2). */
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;

/** TCP flag bits (RFC 9293, Section 3.1). */
const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

/** TCP receive window we announce: the largest value without window scaling. */
const TCP_WINDOW = 65535;

/** IPv4 TTL / IPv6 hop limit of the synthetic packets (the common Linux default). */
const HOP_LIMIT = 64;

const CLIENT_MAC = Uint8Array.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
const SERVER_MAC = Uint8Array.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x02]);
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const IPPROTO_TCP = 6;

/** One traced attempt, as the writer needs it. */
export interface TracedAttempt {
  /** The address and port the attempt connected to. */
  readonly server: { readonly address: string; readonly port: number };
  readonly trace: AttemptTrace;
  /** How the connection ended (`AttemptResult.end`). */
  readonly end: ExchangeEnd;
  /** Milliseconds to TCP established; null when the connection never came up. */
  readonly connectMs: number | null;
  /** Milliseconds from the start until the ending was observed. */
  readonly elapsedMs: number;
  /** Shown as the SYN's packet comment, e.g. "tlsprobe TLS1.2 probe of example.com:443". */
  readonly comment?: string;
}

export interface EncodeCaptureOptions {
  /** Put the TLS 1.3 secrets in a Decryption Secrets Block (default true). */
  readonly secrets?: boolean;
}

/**
 * Returns the traced attempts of a scan, one per version attempt that kept a trace, in scan order
 * (addresses, then versions); attempts that never reached a socket (DNS failures) are left out.
 */
export function tracedAttempts(scan: ScanResult): TracedAttempt[] {
  const out: TracedAttempt[] = [];
  for (const a of scan.addresses) {
    for (const r of a.versions) {
      if (!r?.trace || r.end === 'dns-error') continue;
      out.push({
        server: { address: a.address, port: scan.port },
        trace: r.trace,
        end: r.end,
        connectMs: r.connectMs,
        elapsedMs: r.elapsedMs,
        comment: `tlsprobe ${r.version} probe of ${scan.host}:${scan.port} (${r.outcome})`,
      });
    }
  }
  return out;
}

/** Returns the NSS key log lines (newline-terminated) of every attempt's TLS 1.3 secrets, in order. */
export function probeKeyLog(attempts: readonly TracedAttempt[]): string {
  let text = '';
  for (const a of attempts) {
    for (const s of a.trace.secrets) text += `${formatKeyLogLine(s.label, a.trace.clientRandom, s.secret)}\n`;
  }
  return text;
}

/**
 * Returns a pcapng file holding every attempt as its own TCP stream (distinct client ports), with
 * the key log in a Decryption Secrets Block unless `secrets: false`. Throws RangeError for more than
 * MAX_CAPTURE_ATTEMPTS attempts or an address that is not an IP literal.
 */
export function encodeProbeCapture(attempts: readonly TracedAttempt[], opts: EncodeCaptureOptions = {}): Uint8Array {
  if (attempts.length > MAX_CAPTURE_ATTEMPTS) {
    throw new RangeError(
      `${attempts.length} attempts do not fit one capture: at most ${MAX_CAPTURE_ATTEMPTS} client ports`,
    );
  }
  const packets: SyntheticPacket[] = [];
  attempts.forEach((a, i) => {
    packets.push(...streamPackets(a, FIRST_CLIENT_PORT + i));
  });
  // Interleave the streams by time, as a real capture of parallel attempts would; sort is stable.
  packets.sort((x, y) => x.timestampUs - y.timestampUs);

  const blocks: Uint8Array[] = [sectionHeaderBlock(), interfaceBlock()];
  const keyLog = opts.secrets === false ? '' : probeKeyLog(attempts);
  if (keyLog !== '') blocks.push(secretsBlock(new TextEncoder().encode(keyLog)));
  for (const p of packets) blocks.push(enhancedPacketBlock(p));
  return concatBytes(...blocks);
}

// ---------------------------------------------------------------------------------------------
// TCP streams
// ---------------------------------------------------------------------------------------------

interface SyntheticPacket {
  readonly timestampUs: number;
  readonly frame: Uint8Array;
  readonly comment?: string;
}

interface Side {
  readonly ip: Uint8Array;
  readonly mac: Uint8Array;
  readonly port: number;
  /** Next sequence number this side sends. */
  seq: number;
  /** IPv4 identification counter. */
  ipId: number;
}

/** Returns the packets of one attempt: handshake, data both ways, and the ending. */
function streamPackets(a: TracedAttempt, clientPort: number): SyntheticPacket[] {
  const serverIp = ipBytes(a.server.address);
  const clientIp = syntheticClientIp(a.server.address, serverIp.length);
  const isns = initialSequenceNumbers(a, clientPort);
  const client: Side = { ip: clientIp, mac: CLIENT_MAC, port: clientPort, seq: isns.client, ipId: 1 };
  const server: Side = { ip: serverIp, mac: SERVER_MAC, port: a.server.port, seq: isns.server, ipId: 1 };
  const startUs = Math.round(a.trace.startedAt * 1000);
  const out: SyntheticPacket[] = [];
  let lastUs = startUs - 1;
  /** Times never go backwards within a stream, and two packets never share a microsecond. */
  const at = (ms: number): number => {
    lastUs = Math.max(startUs + Math.round(ms * 1000), lastUs + 1);
    return lastUs;
  };
  const emit = (
    from: Side,
    to: Side,
    flags: number,
    payload: Uint8Array,
    timestampUs: number,
    comment?: string,
  ): void => {
    const ack = flags & ACK ? to.seq : 0;
    const frame = ethernetFrame(from, to, tcpSegment(from, to, from.seq, ack, flags, payload));
    out.push(comment === undefined ? { timestampUs, frame } : { timestampUs, frame, comment });
    from.seq = (from.seq + payload.length + (flags & (SYN | FIN) ? 1 : 0)) >>> 0;
  };

  // RFC 9293, Section 3.5: the three-way handshake. A SYN consumes one sequence number.
  emit(client, server, SYN, new Uint8Array(0), at(0), a.comment);
  if (a.connectMs === null) {
    // Never established: a RST answered the SYN (nothing listening), or nothing answered at all.
    if (a.end === 'connect-refused') emit(server, client, RST | ACK, new Uint8Array(0), at(a.elapsedMs));
    return out;
  }
  emit(server, client, SYN | ACK, new Uint8Array(0), at(a.connectMs / 2));
  emit(client, server, ACK, new Uint8Array(0), at(a.connectMs));

  for (const chunk of a.trace.chunks) {
    const [from, to] = chunk.from === 'client' ? [client, server] : [server, client];
    // The first flight is noted before the connect; it went out once the connection was up.
    const t = at(Math.max(chunk.ms, a.connectMs));
    for (let off = 0; off < chunk.bytes.length; off += SEGMENT_PAYLOAD_BYTES) {
      const piece = chunk.bytes.subarray(off, off + SEGMENT_PAYLOAD_BYTES);
      const last = off + SEGMENT_PAYLOAD_BYTES >= chunk.bytes.length;
      emit(from, to, ACK | (last ? PSH : 0), piece, off === 0 ? t : at(0));
    }
  }

  const lastChunkMs = a.trace.chunks.reduce((m, c) => Math.max(m, c.ms), a.connectMs);
  const endUs = (): number => at(Math.max(a.elapsedMs, lastChunkMs));
  const none = new Uint8Array(0);
  switch (a.end) {
    case 'reset':
      emit(server, client, RST | ACK, none, endUs());
      break;
    case 'fin':
      // The server closed first; our socket closes its side in turn (RFC 9293, Section 3.6).
      emit(server, client, FIN | ACK, none, endUs());
      emit(client, server, ACK, none, at(0));
      emit(client, server, FIN | ACK, none, at(0));
      emit(server, client, ACK, none, at(0));
      break;
    case 'done':
    case 'timeout':
    case 'proxy-refused':
    case 'proxy-auth-required':
    case 'proxy-error':
    case 'starttls-refused':
    case 'starttls-error':
      // We closed first: after our goodbye alerts ('done'), after waiting in vain ('timeout'), or
      // after a proxy or STARTTLS stage refused us.
      emit(client, server, FIN | ACK, none, endUs());
      emit(server, client, FIN | ACK, none, at(0));
      emit(client, server, ACK, none, at(0));
      break;
    case 'max-bytes':
    case 'aborted':
      // We destroyed the socket with data unread: the kernel answers with a RST.
      emit(client, server, RST | ACK, none, endUs());
      break;
    default:
      // 'error' (EHOSTUNREACH and the like): nothing more was seen on the wire.
      break;
  }
  return out;
}

/**
 * Returns initial sequence numbers derived from the attempt (its client random and port), so the
 * same trace always gives the same file.
 */
function initialSequenceNumbers(a: TracedAttempt, clientPort: number): { client: number; server: number } {
  const h = createHash('sha256').update(a.trace.clientRandom).update(`${clientPort}`).digest();
  return { client: h.readUInt32BE(0), server: h.readUInt32BE(4) };
}

function syntheticClientIp(serverAddress: string, length: number): Uint8Array {
  const loopback =
    length === 4 ? serverAddress.startsWith('127.') : ipBytes(serverAddress).every((b, i) => b === (i === 15 ? 1 : 0));
  if (loopback) return ipBytes(serverAddress);
  return ipBytes(length === 4 ? '192.0.2.1' : '2001:db8::1');
}

/** Returns an Ethernet II frame (IEEE 802.3) carrying `tcp` in IPv4 or IPv6. */
function ethernetFrame(from: Side, to: Side, tcp: Uint8Array): Uint8Array {
  const w = new Writer(tcp.length + 64);
  w.bytes(to.mac).bytes(from.mac);
  if (from.ip.length === 4) {
    // RFC 791, Section 3.1: version 4, IHL 5 (20 bytes), Don't Fragment set.
    const header = new Writer(20);
    header
      .u8(0x45)
      .u8(0)
      .u16(20 + tcp.length)
      .u16(from.ipId)
      .u16(0x4000)
      .u8(HOP_LIMIT)
      .u8(IPPROTO_TCP)
      .u16(0)
      .bytes(from.ip)
      .bytes(to.ip);
    const h = header.finish();
    const sum = internetChecksum([h]);
    h[10] = sum >>> 8;
    h[11] = sum & 0xff;
    w.u16(ETHERTYPE_IPV4).bytes(h);
  } else {
    // RFC 8200, Section 3: version 6, no traffic class or flow label.
    w.u16(ETHERTYPE_IPV6).u32(0x60000000).u16(tcp.length).u8(IPPROTO_TCP).u8(HOP_LIMIT).bytes(from.ip).bytes(to.ip);
  }
  from.ipId = (from.ipId + 1) & 0xffff;
  return w.bytes(tcp).finish();
}

/** Returns a TCP segment (RFC 9293, Section 3.1) with its checksum over the pseudo-header. */
function tcpSegment(from: Side, to: Side, seq: number, ack: number, flags: number, payload: Uint8Array): Uint8Array {
  // SYNs carry the MSS option (kind 2, length 4), so the header is 24 bytes instead of 20.
  const syn = (flags & SYN) !== 0;
  const headerWords = syn ? 6 : 5;
  const w = new Writer(headerWords * 4 + payload.length);
  w.u16(from.port)
    .u16(to.port)
    .u32(seq)
    .u32(ack)
    .u8(headerWords << 4)
    .u8(flags)
    .u16(TCP_WINDOW)
    .u16(0)
    .u16(0);
  if (syn) w.u8(2).u8(4).u16(SEGMENT_PAYLOAD_BYTES);
  const seg = w.bytes(payload).finish();
  // RFC 9293, Section 3.1 (IPv4 pseudo-header) and RFC 8200, Section 8.1 (IPv6 pseudo-header).
  const pseudo = new Writer(40);
  if (from.ip.length === 4) pseudo.bytes(from.ip).bytes(to.ip).u8(0).u8(IPPROTO_TCP).u16(seg.length);
  else pseudo.bytes(from.ip).bytes(to.ip).u32(seg.length).u24(0).u8(IPPROTO_TCP);
  const sum = internetChecksum([pseudo.finish(), seg]);
  seg[16] = sum >>> 8;
  seg[17] = sum & 0xff;
  return seg;
}

/** Returns the Internet checksum (RFC 1071): the ones' complement of the ones' complement sum. */
function internetChecksum(parts: readonly Uint8Array[]): number {
  let sum = 0;
  let odd: number | null = null;
  for (const p of parts) {
    for (const b of p) {
      if (odd === null) odd = b;
      else {
        sum += (odd << 8) | b;
        odd = null;
      }
    }
  }
  if (odd !== null) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Returns the 4 or 16 bytes of an IP literal (an IPv6 zone suffix is dropped); throws RangeError otherwise. */
export function ipBytes(address: string): Uint8Array {
  const a = address.replace(/%.*$/, '');
  const family = isIP(a);
  if (family === 4) return Uint8Array.from(a.split('.').map(Number));
  if (family !== 6) throw new RangeError(`${JSON.stringify(address)} is not an IP address`);
  // RFC 4291, Section 2.2: groups of hex, one "::" for a run of zeros, an IPv4 tail allowed.
  let text = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >>> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// pcapng blocks
// ---------------------------------------------------------------------------------------------

/** Returns a block: type, total length, body padded to 32 bits, total length again (Section 3.1). */
function block(type: number, body: Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const w = new Writer(total);
  w.u32(type)
    .u32(total)
    .bytes(body)
    .bytes(new Uint8Array(padded - body.length))
    .u32(total);
  return w.finish();
}

/** Writes one option: code, length, value padded to 32 bits (Section 3.5). */
function option(w: Writer, code: number, value: Uint8Array): void {
  w.u16(code)
    .u16(value.length)
    .bytes(value)
    .bytes(new Uint8Array(((value.length + 3) & ~3) - value.length));
}

function endOfOptions(w: Writer): void {
  w.u16(OPT_END).u16(0);
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Section 4.1: byte-order magic, version 1.0, section length unknown (-1), shb_userappl. */
function sectionHeaderBlock(): Uint8Array {
  const w = new Writer(64);
  w.u32(BYTE_ORDER_MAGIC).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff);
  option(w, SHB_USERAPPL, utf8('tlsprobe'));
  endOfOptions(w);
  return block(BlockType.sectionHeader, w.finish());
}

/** Section 4.2: Ethernet, our snap length, if_name; if_tsresol absent means microseconds. */
function interfaceBlock(): Uint8Array {
  const w = new Writer(64);
  w.u16(LINKTYPE_ETHERNET).u16(0).u32(SNAP_LENGTH);
  option(w, IF_NAME, utf8('tlsprobe (synthetic framing around probe traffic)'));
  endOfOptions(w);
  return block(BlockType.interfaceDescription, w.finish());
}

/** Section 4.7: secrets type, length, data padded to 32 bits, no options. */
function secretsBlock(keyLog: Uint8Array): Uint8Array {
  const w = new Writer(keyLog.length + 16);
  w.u32(SECRETS_TYPE_TLS_KEY_LOG)
    .u32(keyLog.length)
    .bytes(keyLog)
    .bytes(new Uint8Array(((keyLog.length + 3) & ~3) - keyLog.length));
  return block(BlockType.decryptionSecrets, w.finish());
}

/** Section 4.3: interface 0, 64-bit microsecond timestamp split high/low, lengths, data, comment. */
function enhancedPacketBlock(p: SyntheticPacket): Uint8Array {
  const w = new Writer(p.frame.length + 64);
  const high = Math.floor(p.timestampUs / 2 ** 32);
  const low = p.timestampUs - high * 2 ** 32;
  w.u32(0).u32(high).u32(low).u32(p.frame.length).u32(p.frame.length).bytes(p.frame);
  w.bytes(new Uint8Array(((p.frame.length + 3) & ~3) - p.frame.length));
  if (p.comment !== undefined) {
    option(w, OPT_COMMENT, utf8(p.comment));
    endOfOptions(w);
  }
  return block(BlockType.enhancedPacket, w.finish());
}

// Files are written by src/io/atomic-file.ts (writeFileAtomic, appendFileAtomic, SECRET_FILE_MODE).
export { SECRET_FILE_MODE, writeFileAtomic, appendFileAtomic } from '../io/atomic-file.js';
