/**
 * The pcapng layer: reads the blocks of a pcapng file (draft-ietf-opsawg-pcapng, Sections 3-4 and
 * Appendix A) into a `ParserState`, delivering the packets of its packet blocks.
 *
 * Section Header Blocks (each section with its own byte order and interfaces), Interface
 * Description Blocks (if_tsresol, if_tsoffset, if_name, if_description, if_fcslen), Enhanced,
 * Simple and obsolete Packet Blocks, and Decryption Secrets Blocks (their TLS key log goes to
 * `meta.keyLog`); other blocks are counted in `meta.skippedBlocks`. The front (`pcap.ts`) calls
 * `pcapngBlock` for as long as it returns a block's length. Packets are the hot path: the common
 * Enhanced Packet Block goes through `plainEnhancedPacket`, which makes no block body, option
 * callback or timestamp object per packet; every other block is read through a `Body`.
 */
import { DecodeError } from '../wire/errors.js';
import {
  BlockType,
  deliver,
  deliverRaw,
  hex32,
  MAX_BLOCK_BYTES,
  MICRO,
  SECRETS_TYPE_TLS_KEY_LOG,
  warn,
} from './pcap-format.js';
import type { CaptureInterface, CapturedPacket, ParserState } from './pcap-format.js';

/** draft-ietf-opsawg-pcapng, Section 4.1: Byte-Order Magic of the Section Header Block. */
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** draft-ietf-opsawg-pcapng, Section 3.5 (opt_endofopt, opt_comment) and 4.2 (if_* options). */
const Option = {
  endOfOpt: 0,
  comment: 1,
  ifName: 2,
  ifDescription: 3,
  ifTsResol: 9,
  ifFcsLen: 13,
  ifTsOffset: 14,
} as const;

/** A block body: `[start, end)` of `buf`, `at` its absolute offset. */
interface Body {
  readonly buf: Uint8Array;
  readonly dv: DataView;
  readonly start: number;
  readonly end: number;
  readonly at: number;
}

// ---------------------------------------------------------------------------------------------
// Block framing
// ---------------------------------------------------------------------------------------------

/**
 * Reads one block at `pos` of `buf` (draft-ietf-opsawg-pcapng, Section 3.1) and returns the bytes
 * used, or 0 with `s.want` set when the block is not complete before `end`. Throws `DecodeError`
 * for a byte-order magic or block length that cannot be framed.
 */
export function pcapngBlock(s: ParserState, buf: Uint8Array, dv: DataView, pos: number, end: number): number {
  const at = s.consumed + pos;
  if (end - pos < 12) {
    s.want = 12;
    return 0;
  }
  const typeBe = dv.getUint32(pos, false);
  if (typeBe === BlockType.sectionHeader) {
    // The SHB type reads the same in both orders; its Byte-Order Magic decides the section's.
    const bom = dv.getUint32(pos + 8, false);
    if (bom === BYTE_ORDER_MAGIC) s.ngLe = false;
    else if (dv.getUint32(pos + 8, true) === BYTE_ORDER_MAGIC) s.ngLe = true;
    else throw new DecodeError('bad-value', `byte-order magic 0x${hex32(bom)}`, at + 8, 'pcapng/SHB/byte_order_magic');
  }
  const le = s.ngLe;
  const type = typeBe === BlockType.sectionHeader ? typeBe : dv.getUint32(pos, le);
  const total = dv.getUint32(pos + 4, le);
  if (total < 12 || total % 4 !== 0) {
    throw new DecodeError(
      'bad-value',
      `block total length ${total} (type 0x${hex32(type)})`,
      at + 4,
      'pcapng/block/length',
    );
  }
  if (total > MAX_BLOCK_BYTES) {
    throw new DecodeError(
      'too-large',
      `block total length ${total} above ${MAX_BLOCK_BYTES}`,
      at + 4,
      'pcapng/block/length',
    );
  }
  if (end - pos < total) {
    s.want = total;
    return 0;
  }
  const trailer = dv.getUint32(pos + total - 4, le);
  if (trailer !== total) {
    throw new DecodeError(
      'bad-value',
      `trailing block length ${trailer} differs from ${total}`,
      at + total - 4,
      'pcapng/block/length',
    );
  }
  if (type === BlockType.enhancedPacket && !s.skippingSection && plainEnhancedPacket(s, buf, dv, pos, total, at))
    return total;
  const body = { buf, dv, start: pos + 8, end: pos + total - 4, at: at + 8 };
  if (type === BlockType.sectionHeader) sectionHeader(s, body);
  else if (s.skippingSection) s.meta.skippedBlocks++;
  else if (type === BlockType.interfaceDescription) interfaceDescription(s, body);
  else if (type === BlockType.enhancedPacket) enhancedPacket(s, body, at);
  else if (type === BlockType.simplePacket) simplePacket(s, body, at);
  else if (type === BlockType.packetObsolete) obsoletePacket(s, body, at);
  else if (type === BlockType.decryptionSecrets) decryptionSecrets(s, body, at);
  else s.meta.skippedBlocks++;
  return total;
}

// ---------------------------------------------------------------------------------------------
// Section and interfaces
// ---------------------------------------------------------------------------------------------

/** draft-ietf-opsawg-pcapng, Section 4.1. */
function sectionHeader(s: ParserState, b: Body): void {
  need(b, 16, 'SHB');
  s.section++;
  s.sectionInterfaces = [];
  if (s.section === 0) s.meta.byteOrder = s.ngLe ? 'little' : 'big';
  const major = b.dv.getUint16(b.start + 4, s.ngLe);
  // "In case an application cannot read a Section because of different version number, it MUST
  // skip everything until the next Section Header Block." (Section 3.4)
  s.skippingSection = major !== 1;
  if (s.skippingSection) {
    warn(s, 'unsupported-section-version', `section ${s.section} has version ${major}`, b.at + 4);
    return;
  }
  readOptions(s, b, b.start + 16, 'SHB', (code, value) => {
    if (code === Option.comment) s.meta.comments.push(utf8(value));
  });
}

/** draft-ietf-opsawg-pcapng, Section 4.2. */
function interfaceDescription(s: ParserState, b: Body): void {
  need(b, 8, 'IDB');
  const le = s.ngLe;
  const linkType = b.dv.getUint16(b.start, le);
  const snapLength = b.dv.getUint32(b.start + 4, le);
  let tsResolution = MICRO;
  let name: string | undefined;
  let description: string | undefined;
  let tsOffsetSeconds: number | undefined;
  let fcsLength: number | undefined;
  readOptions(s, b, b.start + 8, 'IDB', (code, value) => {
    if (code === Option.ifName) name = utf8(value);
    else if (code === Option.ifDescription) description = utf8(value);
    else if (code === Option.ifTsResol && value.length >= 1) {
      // "If the Most Significant Bit is equal to zero, the remaining bits indicates the
      // resolution of the timestamp as a negative power of 10 ... If the Most Significant Bit is
      // equal to one, ... as negative power of 2".
      const v = value[0]!;
      tsResolution = { base: v & 0x80 ? 2 : 10, exponent: v & 0x7f };
    } else if (code === Option.ifTsOffset && value.length >= 8) {
      const dv = new DataView(value.buffer, value.byteOffset, 8);
      tsOffsetSeconds = Number(dv.getBigInt64(0, le));
    } else if (code === Option.ifFcsLen && value.length >= 1) fcsLength = value[0]!;
  });
  s.sectionInterfaces.push(s.meta.interfaces.length);
  s.meta.interfaces.push({
    linkType,
    tsResolution,
    snapLength,
    section: s.section,
    ...(name !== undefined ? { name } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(tsOffsetSeconds !== undefined ? { tsOffsetSeconds } : {}),
    ...(fcsLength !== undefined ? { fcsLength } : {}),
  });
}

/** Returns the global interface for a section-local id, or undefined (with a warning). */
function iface(s: ParserState, localId: number, at: number, block: string): number | undefined {
  const global = s.sectionInterfaces[localId];
  if (global === undefined)
    warn(
      s,
      'unknown-interface',
      `${block} refers to interface ${localId}, section has ${s.sectionInterfaces.length}`,
      at,
    );
  return global;
}

// ---------------------------------------------------------------------------------------------
// Packet blocks
// ---------------------------------------------------------------------------------------------

/**
 * Delivers an Enhanced Packet Block of the common kind and returns true: fixed fields present, a
 * known interface, captured data inside the block, no options. Returns false, having done
 * nothing, for any other EPB, which `enhancedPacket` then reads with its warnings. Packets are the
 * hot path: this makes no block body or timestamp object per packet.
 */
function plainEnhancedPacket(
  s: ParserState,
  buf: Uint8Array,
  dv: DataView,
  pos: number,
  total: number,
  at: number,
): boolean {
  const start = pos + 8;
  const end = pos + total - 4;
  if (end - start < 20) return false;
  const le = s.ngLe;
  const id = s.sectionInterfaces[dv.getUint32(start, le)];
  if (id === undefined) return false;
  const capLen = dv.getUint32(start + 12, le);
  const dataStart = start + 20;
  if (dataStart + capLen > end || end - (dataStart + pad4(capLen)) >= 4) return false;
  const meta = s.meta;
  const intf = meta.interfaces[id]!;
  const high = dv.getUint32(start + 4, le);
  const low = dv.getUint32(start + 8, le);
  let timestampUs: number;
  let subMicroNs = 0;
  const res = intf.tsResolution;
  const ticks = high * TWO_32 + low;
  if (res.base === 10 && res.exponent === 6 && ticks <= SAFE_TICKS)
    timestampUs = ticks + (intf.tsOffsetSeconds ?? 0) * 1e6;
  else {
    const ts = timestamp(intf, high, low);
    timestampUs = ts.us;
    subMicroNs = ts.ns;
  }
  if (s.onRaw !== null) {
    meta.packets++;
    deliverRaw(s, intf.linkType, timestampUs, meta.packets, buf, dataStart, dataStart + capLen);
    return true;
  }
  deliver(s, {
    interfaceId: id,
    linkType: intf.linkType,
    timestampUs,
    subMicroNs,
    data: buf.subarray(dataStart, dataStart + capLen),
    originalLength: dv.getUint32(start + 16, le),
    index: meta.packets + 1,
    offset: at,
  });
  return true;
}

/** draft-ietf-opsawg-pcapng, Section 4.3. */
function enhancedPacket(s: ParserState, b: Body, blockAt: number): void {
  need(b, 20, 'EPB');
  const id = iface(s, b.dv.getUint32(b.start, s.ngLe), b.at, 'EPB');
  if (id === undefined) return;
  packet(s, b, blockAt, 'EPB', id);
}

/** draft-ietf-opsawg-pcapng, Appendix A: the obsolete Packet Block (a 16-bit interface id, then drops count). */
function obsoletePacket(s: ParserState, b: Body, blockAt: number): void {
  need(b, 20, 'PB');
  const id = iface(s, b.dv.getUint16(b.start, s.ngLe), b.at, 'PB');
  if (id === undefined) return;
  packet(s, b, blockAt, 'PB', id);
}

/**
 * Delivers the packet of an EPB or PB on interface `interfaceId` (global): both have, after the
 * interface field, Timestamp (Upper), Timestamp (Lower), Captured Packet Length, Original Packet
 * Length, the packet data padded to 32 bits, then options (of which `opt_comment` is kept).
 */
function packet(s: ParserState, b: Body, blockAt: number, block: string, interfaceId: number): void {
  const le = s.ngLe;
  const dv = b.dv;
  const tsHigh = dv.getUint32(b.start + 4, le);
  const tsLow = dv.getUint32(b.start + 8, le);
  let capLen = dv.getUint32(b.start + 12, le);
  const originalLength = dv.getUint32(b.start + 16, le);
  const dataStart = b.start + 20;
  if (dataStart + capLen > b.end) {
    warn(s, 'caplen-exceeds-block', `${block} captured length ${capLen} runs past its block`, b.at + 20);
    capLen = b.end - dataStart;
  }
  let comments: string[] | undefined;
  if (b.end - (dataStart + pad4(capLen)) >= 4) {
    readOptions(s, b, dataStart + pad4(capLen), block, (code, value) => {
      if (code === Option.comment) {
        comments ??= [];
        comments.push(utf8(value));
      }
    });
  }
  const intf = s.meta.interfaces[interfaceId]!;
  const ts = timestamp(intf, tsHigh, tsLow);
  const p: Mutable<CapturedPacket> = {
    interfaceId,
    linkType: intf.linkType,
    timestampUs: ts.us,
    subMicroNs: ts.ns,
    data: b.buf.subarray(dataStart, dataStart + capLen),
    originalLength,
    index: s.meta.packets + 1,
    offset: blockAt,
  };
  if (comments) p.comments = comments;
  deliver(s, p);
}

/** draft-ietf-opsawg-pcapng, Section 4.4: no timestamp, interface 0, no captured-length field. */
function simplePacket(s: ParserState, b: Body, blockAt: number): void {
  need(b, 4, 'SPB');
  const id = iface(s, 0, b.at, 'SPB');
  if (id === undefined) return;
  const originalLength = b.dv.getUint32(b.start, s.ngLe);
  // "the Captured Packet Length is the minimum of the Original Packet Length and the Snap Length
  // of the Interface" — and never more than the block holds.
  const intf = s.meta.interfaces[id]!;
  let capLen = Math.min(originalLength, b.end - (b.start + 4));
  if (intf.snapLength !== 0) capLen = Math.min(capLen, intf.snapLength);
  deliver(s, {
    interfaceId: id,
    linkType: intf.linkType,
    timestampUs: 0,
    subMicroNs: 0,
    data: b.buf.subarray(b.start + 4, b.start + 4 + capLen),
    originalLength,
    index: s.meta.packets + 1,
    offset: blockAt,
  });
}

// ---------------------------------------------------------------------------------------------
// Secrets and options
// ---------------------------------------------------------------------------------------------

/** draft-ietf-opsawg-pcapng, Section 4.7. */
function decryptionSecrets(s: ParserState, b: Body, blockAt: number): void {
  need(b, 8, 'DSB');
  const secretsType = b.dv.getUint32(b.start, s.ngLe);
  let length = b.dv.getUint32(b.start + 4, s.ngLe);
  if (b.start + 8 + length > b.end) {
    warn(s, 'secrets-length-exceeds-block', `DSB secrets length ${length} runs past its block`, b.at + 4);
    length = b.end - (b.start + 8);
  }
  s.meta.secrets.push({ secretsType, length, offset: blockAt });
  if (secretsType === SECRETS_TYPE_TLS_KEY_LOG) {
    const text = utf8(b.buf.subarray(b.start + 8, b.start + 8 + length));
    const block = text.length === 0 || text.endsWith('\n') ? text : `${text}\n`;
    s.meta.keyLog += block;
    s.meta.keyLogBlocks.push(block);
  }
}

/**
 * Calls `each(code, value)` for every option (draft-ietf-opsawg-pcapng, Section 3.5) from `pos` to
 * the end of the body or opt_endofopt; warns `bad-options` and stops at one that runs past the body.
 */
function readOptions(
  s: ParserState,
  b: Body,
  pos: number,
  block: string,
  each: (code: number, value: Uint8Array) => void,
): void {
  let p = pos;
  while (b.end - p >= 4) {
    const code = b.dv.getUint16(p, s.ngLe);
    const len = b.dv.getUint16(p + 2, s.ngLe);
    if (code === Option.endOfOpt) return;
    if (p + 4 + len > b.end) {
      warn(s, 'bad-options', `${block} option ${code} of length ${len} runs past its block`, b.at + (p - b.start));
      return;
    }
    each(code, b.buf.subarray(p + 4, p + 4 + len));
    p += 4 + pad4(len);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Throws `truncated` unless the body holds at least `n` bytes of fixed fields. */
function need(b: Body, n: number, block: string): void {
  if (b.end - b.start < n) {
    throw new DecodeError(
      'truncated',
      `${block} body has ${b.end - b.start} bytes, needs ${n}`,
      b.at,
      `pcapng/${block}`,
    );
  }
}

/** Returns `n` rounded up to a multiple of 4 (pcapng pads data and options to 32 bits). */
function pad4(n: number): number {
  return (n + 3) & ~3;
}

const decoder = new TextDecoder('utf-8');

/** UTF-8 text of an option value, without the NUL padding some writers leave (Section 3.6.3). */
function utf8(bytes: Uint8Array): string {
  let n = bytes.length;
  while (n > 0 && bytes[n - 1] === 0) n--;
  return decoder.decode(bytes.subarray(0, n));
}

const TWO_32 = 4294967296;
/** Largest tick count whose microsecond value is still an exact `number` via plain arithmetic. */
const SAFE_TICKS = Number.MAX_SAFE_INTEGER;

/**
 * Returns {us, ns}: a pcapng timestamp (draft-ietf-opsawg-pcapng, Section 4.3: "upper 32 bits and
 * lower 32 bits of a 64-bit timestamp", units per if_tsresol, plus if_tsoffset seconds).
 */
function timestamp(intf: CaptureInterface, high: number, low: number): { us: number; ns: number } {
  const { base, exponent } = intf.tsResolution;
  const offsetUs = (intf.tsOffsetSeconds ?? 0) * 1e6;
  const ticks = high * TWO_32 + low;
  if (base === 10 && exponent === 6 && ticks <= SAFE_TICKS) return { us: ticks + offsetUs, ns: 0 };
  const big = (BigInt(high) << 32n) | BigInt(low);
  let ns: bigint;
  if (base === 10) {
    ns = exponent <= 9 ? big * 10n ** BigInt(9 - exponent) : big / 10n ** BigInt(exponent - 9);
  } else {
    ns = (big * 1_000_000_000n) >> BigInt(exponent);
  }
  return { us: Number(ns / 1000n) + offsetUs, ns: Number(ns % 1000n) };
}
