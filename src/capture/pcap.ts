/**
 * Returns the packets (by callback) and the metadata of pcap and pcapng capture files, streamed;
 * throws `DecodeError` when the input is not such a file or its framing is broken.
 *
 * `readCapture(source, onPacket)` resolves to the file's `CaptureMeta` after calling `onPacket` once
 * per packet record, in file order; it throws `DecodeError` when the input is not a capture file or
 * its framing is broken beyond recovery (a block length that runs backwards, a record larger than
 * any capture tool writes). A file that simply stops in the middle of a record (a killed tcpdump)
 * is not an error: the packets before it are delivered and `meta.truncated` is set.
 *
 * The parser is a push parser (`createCaptureParser`) fed with chunks of any size; it keeps at most
 * one incomplete record between chunks, so memory does not grow with the file. Packet `data` is a
 * view into the chunk it arrived in (never copied here): copy what you keep.
 *
 * Formats:
 * - pcap: draft-ietf-opsawg-pcap, Sections 4 (File Header) and 5 (Packet Record); both byte orders,
 *   microsecond (0xA1B2C3D4) and nanosecond (0xA1B23C4D) magic, and the Kuznetzov "modified" pcap
 *   (0xA1B2CD34) whose records carry 8 extra bytes.
 * - pcapng: draft-ietf-opsawg-pcapng, Sections 3-4 and Appendix A; SHB/IDB/EPB/SPB/PB/DSB, several
 *   sections with their own byte order and interfaces, if_tsresol and if_tsoffset per interface.
 */
import { DecodeError } from '../wire/errors.js';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/** One packet record, as the capture file stored it. */
export interface CapturedPacket {
  /**
   * Index into `CaptureMeta.interfaces`: global across pcapng sections (tshark 4.0's
   * `frame.interface_id` restarts at 0 in each section instead); always 0 for pcap.
   */
  readonly interfaceId: number;
  /** LINKTYPE_* value of the interface (draft-ietf-opsawg-pcaplinktype). */
  readonly linkType: number;
  /**
   * Capture time in whole microseconds since 1970-01-01T00:00:00Z, as a `number`: integers are
   * exact up to 2^53 µs (the year 2255), so no precision is lost for real captures and the value
   * stays JSON-friendly. Nanosecond-resolution files keep the rest in `subMicroNs`. 0 for a
   * pcapng Simple Packet Block, which carries no timestamp. The pcap header's old `thiszone`
   * field is ignored, as draft-ietf-opsawg-pcap, Section 4 requires of its Reserved1.
   */
  readonly timestampUs: number;
  /** Nanoseconds beyond `timestampUs` (0-999); 0 for microsecond-resolution files. */
  readonly subMicroNs: number;
  /** Captured bytes (a view into the input chunk: copy it to keep it past the callback). */
  readonly data: Uint8Array;
  /** Length of the packet on the wire (may exceed `data.length` when the snap length cut it). */
  readonly originalLength: number;
  /** 1-based frame number, counted like Wireshark's `frame.number`. */
  readonly index: number;
  /** Absolute byte offset of the record (pcap) or block (pcapng) in the decompressed input. */
  readonly offset: number;
  /** pcapng `opt_comment` values of this packet, when present. */
  readonly comments?: readonly string[];
}

/** Timestamp unit of an interface: one tick is `base ** -exponent` seconds (pcapng if_tsresol). */
export interface TsResolution {
  readonly base: 2 | 10;
  readonly exponent: number;
}

/** A capture interface: the pcap file header, or one pcapng Interface Description Block. */
export interface CaptureInterface {
  readonly linkType: number;
  readonly tsResolution: TsResolution;
  /** Maximum captured length per packet (0 = no limit in pcapng). */
  readonly snapLength: number;
  /** pcapng section (0-based) this interface belongs to; 0 for pcap. */
  readonly section: number;
  /** if_name. */
  readonly name?: string;
  /** if_description. */
  readonly description?: string;
  /** if_tsoffset: seconds added to every timestamp of the interface. */
  readonly tsOffsetSeconds?: number;
  /** Length in bytes of the frame check sequence at the end of each packet, when declared. */
  readonly fcsLength?: number;
}

/** A pcapng Decryption Secrets Block (draft-ietf-opsawg-pcapng, Section 4.7), summarised. */
export interface SecretsBlockInfo {
  readonly secretsType: number;
  readonly length: number;
  readonly offset: number;
}

/** Something odd but survivable in the container (not an error: reading went on). */
export interface CaptureWarning {
  readonly code: CaptureWarningCode;
  readonly message: string;
  readonly offset: number;
}

export type CaptureWarningCode =
  | 'truncated-file'
  | 'unknown-interface'
  | 'caplen-exceeds-block'
  | 'bad-options'
  | 'unsupported-section-version'
  | 'secrets-length-exceeds-block';

/** Facts about the capture file itself, complete once reading has finished. */
export interface CaptureMeta {
  readonly format: 'pcap' | 'pcapng';
  /** Byte order of the file header (pcap) or first section (pcapng). */
  readonly byteOrder: 'big' | 'little';
  readonly interfaces: readonly CaptureInterface[];
  /**
   * TLS key log text (NSS SSLKEYLOGFILE format) from every Decryption Secrets Block of type
   * `SECRETS_TYPE_TLS_KEY_LOG`, concatenated in file order, each block ending in a newline.
   * Key logs that some tools put in the section comment are in `comments`, not here.
   */
  readonly keyLog: string;
  /** Section Header Block `opt_comment` values, in file order. */
  readonly comments: readonly string[];
  /** Every Decryption Secrets Block seen, of any type. */
  readonly secrets: readonly SecretsBlockInfo[];
  /** Number of packet records delivered. */
  readonly packets: number;
  /** Blocks skipped because they carry no packets we read (NRB, ISB, custom, unknown). */
  readonly skippedBlocks: number;
  /** True when the input ended in the middle of a record. */
  readonly truncated: boolean;
  /** Survivable oddities, at most `MAX_WARNINGS`. */
  readonly warnings: readonly CaptureWarning[];
}

export interface ReadCaptureOptions {
  /** Throw `DecodeError('truncated')` instead of setting `meta.truncated` when a record is cut short. */
  readonly strict?: boolean;
}

/**
 * A packet as `readCaptureRaw` hands it on: its captured bytes are `buf[start, end)`. One object,
 * updated in place for every packet: read it during the call and copy what you keep.
 */
export interface RawPacket {
  linkType: number;
  /** As `CapturedPacket.timestampUs`. */
  timestampUs: number;
  /** 1-based frame number. */
  index: number;
  buf: Uint8Array;
  start: number;
  end: number;
}

/** A push parser: feed chunks in order, then `end()`. */
export interface CaptureParser {
  /** Parses every complete record now available; throws `DecodeError` on broken framing. */
  feed(chunk: Uint8Array): void;
  /** Finishes the input and returns the metadata; throws when the input held no file header. */
  end(): CaptureMeta;
  /** The metadata gathered so far (interfaces and key log grow as blocks arrive). */
  readonly meta: CaptureMeta;
}

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

/** draft-ietf-opsawg-pcap, Section 4: magic numbers of the file header (as read big-endian). */
export const PcapMagic = {
  microseconds: 0xa1b2c3d4,
  nanoseconds: 0xa1b23c4d,
  /** Alexey Kuznetzov's patched libpcap: 8 more bytes per record header (ifindex, protocol, type). */
  modified: 0xa1b2cd34,
} as const;

/** draft-ietf-opsawg-pcapng, Section 10.1: block type codes. */
export const BlockType = {
  sectionHeader: 0x0a0d0d0a,
  interfaceDescription: 0x00000001,
  packetObsolete: 0x00000002,
  simplePacket: 0x00000003,
  nameResolution: 0x00000004,
  interfaceStatistics: 0x00000005,
  enhancedPacket: 0x00000006,
  decryptionSecrets: 0x0000000a,
} as const;

/** draft-ietf-opsawg-pcapng, Section 4.1: Byte-Order Magic of the Section Header Block. */
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** draft-ietf-opsawg-pcapng, Section 4.7: Secrets Type of a TLS key log ('TLSK'). */
export const SECRETS_TYPE_TLS_KEY_LOG = 0x544c534b;

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

/**
 * Largest captured length accepted in one pcap record. Wireshark rejects records above
 * WTAP_MAX_PACKET_SIZE_STANDARD (262144) for ordinary link types; a larger value means the record
 * header is garbage, and honouring it would make us buffer that many bytes before failing.
 */
export const MAX_PACKET_BYTES = 262_144;

/**
 * Largest pcapng block accepted. Big enough for any packet (see MAX_PACKET_BYTES) and for Decryption
 * Secrets Blocks holding thousands of key log lines or section comments; small enough that a
 * corrupt length cannot make the parser buffer gigabytes while it waits for the block's end.
 */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024;

/** Warnings kept per file: enough to diagnose, bounded for a hostile or very broken file. */
export const MAX_WARNINGS = 100;

const MICRO: TsResolution = { base: 10, exponent: 6 };
const NANO: TsResolution = { base: 10, exponent: 9 };

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/**
 * Returns the file's metadata after streaming every packet of `source` (chunks, or one buffer)
 * through `onPacket`. Throws `DecodeError` when the input is not pcap/pcapng or its framing is
 * broken; exceptions thrown by `onPacket` propagate unchanged.
 */
export async function readCapture(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array,
  onPacket: (p: CapturedPacket, meta: CaptureMeta) => void,
  options: ReadCaptureOptions = {},
): Promise<CaptureMeta> {
  return drive(source, createCaptureParser(onPacket, options));
}

/**
 * Returns the file's metadata after streaming every packet of `source` through `onPacket` as a
 * `RawPacket` (one object reused for every packet, no view per packet): for a consumer that only
 * reads the packets as they pass, as `reassembleCapture` does. Throws as `readCapture`.
 */
export async function readCaptureRaw(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array,
  onPacket: (p: RawPacket, meta: CaptureMeta) => void,
  options: ReadCaptureOptions = {},
): Promise<CaptureMeta> {
  return drive(source, makeParser({ raw: onPacket }, options));
}

async function drive(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array,
  parser: CaptureParser,
): Promise<CaptureMeta> {
  if (source instanceof Uint8Array) {
    parser.feed(source);
  } else if (Symbol.asyncIterator in source) {
    for await (const chunk of source) parser.feed(chunk);
  } else {
    for (const chunk of source) parser.feed(chunk);
  }
  return parser.end();
}

/**
 * Returns a push parser that calls `onPacket` for each packet record as soon as the record is
 * complete. See `CaptureParser`.
 */
export function createCaptureParser(
  onPacket: (p: CapturedPacket, meta: CaptureMeta) => void,
  options: ReadCaptureOptions = {},
): CaptureParser {
  return makeParser({ packet: onPacket }, options);
}

/** Where a parser delivers packets: fresh `CapturedPacket`s, or one reused `RawPacket`. */
type PacketSink =
  | { readonly packet: (p: CapturedPacket, meta: CaptureMeta) => void; readonly raw?: undefined }
  | { readonly raw: (p: RawPacket, meta: CaptureMeta) => void; readonly packet?: undefined };

function makeParser(sink: PacketSink, options: ReadCaptureOptions): CaptureParser {
  const meta = {
    format: 'pcap' as 'pcap' | 'pcapng',
    byteOrder: 'big' as 'big' | 'little',
    interfaces: [] as CaptureInterface[],
    keyLog: '',
    comments: [] as string[],
    secrets: [] as SecretsBlockInfo[],
    packets: 0,
    skippedBlocks: 0,
    truncated: false,
    warnings: [] as CaptureWarning[],
  };

  // Bytes received but not yet parsed: a list, joined only once enough has arrived for the record
  // in progress (`want`), so a large block arriving in many chunks is copied once, not per chunk.
  let pending: Uint8Array[] = [];
  let pendingLength = 0;
  let want = 4;
  /** Absolute offset of the first pending byte. */
  let consumed = 0;
  let started = false;
  let ended = false;

  // pcap state
  let pcapLe = false;
  let pcapNano = false;
  let pcapRecordHeader = 16;
  // pcapng state
  let ngLe = false;
  let section = -1;
  let sectionInterfaces: number[] = [];
  let skippingSection = false;

  const warn = (code: CaptureWarningCode, message: string, offset: number): void => {
    if (meta.warnings.length < MAX_WARNINGS) meta.warnings.push({ code, message, offset });
  };

  const rawPacket: RawPacket = { linkType: 0, timestampUs: 0, index: 0, buf: new Uint8Array(0), start: 0, end: 0 };

  const deliver = (p: CapturedPacket): void => {
    meta.packets++;
    if (sink.packet) sink.packet(p, meta);
    else deliverRaw(p.linkType, p.timestampUs, p.index, p.data, 0, p.data.length);
  };

  const deliverRaw = (
    linkType: number,
    timestampUs: number,
    index: number,
    buf: Uint8Array,
    start: number,
    end: number,
  ): void => {
    rawPacket.linkType = linkType;
    rawPacket.timestampUs = timestampUs;
    rawPacket.index = index;
    rawPacket.buf = buf;
    rawPacket.start = start;
    rawPacket.end = end;
    sink.raw!(rawPacket, meta);
  };

  // --- pcap -----------------------------------------------------------------------------------

  /** draft-ietf-opsawg-pcap, Section 4: the 24-byte file header. */
  const pcapHeader = (dv: DataView, pos: number): number => {
    const magicBe = dv.getUint32(pos, false);
    const magicLe = dv.getUint32(pos, true);
    const magic = [PcapMagic.microseconds, PcapMagic.nanoseconds, PcapMagic.modified].find(
      (m) => m === magicBe || m === magicLe,
    )!;
    pcapLe = magic === magicLe;
    pcapNano = magic === PcapMagic.nanoseconds;
    pcapRecordHeader = magic === PcapMagic.modified ? 24 : 16;
    meta.byteOrder = pcapLe ? 'little' : 'big';
    const snapLength = dv.getUint32(pos + 16, pcapLe);
    // LinkType and additional information: the link type is the low 16 bits; bit 26 (P) says the
    // top 4 bits hold the FCS length in 16-bit words (draft-ietf-opsawg-pcap, Section 4).
    const network = dv.getUint32(pos + 20, pcapLe);
    const fcsPresent = (network & 0x04000000) !== 0;
    meta.interfaces.push({
      linkType: network & 0xffff,
      tsResolution: pcapNano ? NANO : MICRO,
      snapLength,
      section: 0,
      ...(fcsPresent ? { fcsLength: (network >>> 28) * 2 } : {}),
    });
    return 24;
  };

  /** draft-ietf-opsawg-pcap, Section 5: one packet record; returns bytes used or 0 if incomplete. */
  const pcapRecord = (buf: Uint8Array, dv: DataView, pos: number, end: number): number => {
    if (end - pos < pcapRecordHeader) {
      want = pcapRecordHeader;
      return 0;
    }
    const capLen = dv.getUint32(pos + 8, pcapLe);
    const at = consumed + pos;
    if (capLen > MAX_PACKET_BYTES) {
      throw new DecodeError(
        'too-large',
        `captured length ${capLen} above ${MAX_PACKET_BYTES}`,
        at + 8,
        'pcap/record/incl_len',
      );
    }
    const total = pcapRecordHeader + capLen;
    if (end - pos < total) {
      want = total;
      return 0;
    }
    const sec = dv.getUint32(pos, pcapLe);
    const frac = dv.getUint32(pos + 4, pcapLe);
    const start = pos + pcapRecordHeader;
    if (sink.raw) {
      meta.packets++;
      deliverRaw(
        meta.interfaces[0]!.linkType,
        sec * 1e6 + (pcapNano ? Math.floor(frac / 1000) : frac),
        meta.packets,
        buf,
        start,
        start + capLen,
      );
      return total;
    }
    deliver({
      interfaceId: 0,
      linkType: meta.interfaces[0]!.linkType,
      timestampUs: sec * 1e6 + (pcapNano ? Math.floor(frac / 1000) : frac),
      subMicroNs: pcapNano ? frac % 1000 : 0,
      data: buf.subarray(start, start + capLen),
      originalLength: dv.getUint32(pos + 12, pcapLe),
      index: meta.packets + 1,
      offset: at,
    });
    return total;
  };

  // --- pcapng ---------------------------------------------------------------------------------

  /** Returns bytes used by one block (draft-ietf-opsawg-pcapng, Section 3.1) or 0 if incomplete. */
  const ngBlock = (buf: Uint8Array, dv: DataView, pos: number, end: number): number => {
    const at = consumed + pos;
    if (end - pos < 12) {
      want = 12;
      return 0;
    }
    const typeBe = dv.getUint32(pos, false);
    if (typeBe === BlockType.sectionHeader) {
      // The SHB type reads the same in both orders; its Byte-Order Magic decides the section's.
      const bom = dv.getUint32(pos + 8, false);
      if (bom === BYTE_ORDER_MAGIC) ngLe = false;
      else if (dv.getUint32(pos + 8, true) === BYTE_ORDER_MAGIC) ngLe = true;
      else
        throw new DecodeError('bad-value', `byte-order magic 0x${hex32(bom)}`, at + 8, 'pcapng/SHB/byte_order_magic');
    }
    const type = typeBe === BlockType.sectionHeader ? typeBe : dv.getUint32(pos, ngLe);
    const total = dv.getUint32(pos + 4, ngLe);
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
      want = total;
      return 0;
    }
    const trailer = dv.getUint32(pos + total - 4, ngLe);
    if (trailer !== total) {
      throw new DecodeError(
        'bad-value',
        `trailing block length ${trailer} differs from ${total}`,
        at + total - 4,
        'pcapng/block/length',
      );
    }
    if (type === BlockType.enhancedPacket && !skippingSection && plainEnhancedPacket(buf, dv, pos, total, at))
      return total;
    const body = { buf, dv, start: pos + 8, end: pos + total - 4, at: at + 8 };
    if (type === BlockType.sectionHeader) sectionHeader(body);
    else if (skippingSection) meta.skippedBlocks++;
    else if (type === BlockType.interfaceDescription) interfaceDescription(body);
    else if (type === BlockType.enhancedPacket) enhancedPacket(body, at);
    else if (type === BlockType.simplePacket) simplePacket(body, at);
    else if (type === BlockType.packetObsolete) obsoletePacket(body, at);
    else if (type === BlockType.decryptionSecrets) decryptionSecrets(body, at);
    else meta.skippedBlocks++;
    return total;
  };

  /** draft-ietf-opsawg-pcapng, Section 4.1. */
  const sectionHeader = (b: Body): void => {
    need(b, 16, 'SHB');
    section++;
    sectionInterfaces = [];
    if (section === 0) meta.byteOrder = ngLe ? 'little' : 'big';
    const major = b.dv.getUint16(b.start + 4, ngLe);
    // "In case an application cannot read a Section because of different version number, it MUST
    // skip everything until the next Section Header Block." (Section 3.4)
    skippingSection = major !== 1;
    if (skippingSection) {
      warn('unsupported-section-version', `section ${section} has version ${major}`, b.at + 4);
      return;
    }
    readOptions(b, b.start + 16, 'SHB', (code, value) => {
      if (code === Option.comment) meta.comments.push(utf8(value));
    });
  };

  /** draft-ietf-opsawg-pcapng, Section 4.2. */
  const interfaceDescription = (b: Body): void => {
    need(b, 8, 'IDB');
    const linkType = b.dv.getUint16(b.start, ngLe);
    const snapLength = b.dv.getUint32(b.start + 4, ngLe);
    let tsResolution = MICRO;
    let name: string | undefined;
    let description: string | undefined;
    let tsOffsetSeconds: number | undefined;
    let fcsLength: number | undefined;
    readOptions(b, b.start + 8, 'IDB', (code, value) => {
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
        tsOffsetSeconds = Number(dv.getBigInt64(0, ngLe));
      } else if (code === Option.ifFcsLen && value.length >= 1) fcsLength = value[0]!;
    });
    sectionInterfaces.push(meta.interfaces.length);
    meta.interfaces.push({
      linkType,
      tsResolution,
      snapLength,
      section,
      ...(name !== undefined ? { name } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(tsOffsetSeconds !== undefined ? { tsOffsetSeconds } : {}),
      ...(fcsLength !== undefined ? { fcsLength } : {}),
    });
  };

  /** Returns the global interface for a section-local id, or undefined (with a warning). */
  const iface = (localId: number, at: number, block: string): number | undefined => {
    const global = sectionInterfaces[localId];
    if (global === undefined)
      warn('unknown-interface', `${block} refers to interface ${localId}, section has ${sectionInterfaces.length}`, at);
    return global;
  };

  /** Delivers one packet of a packet block whose captured data starts at `dataStart`. */
  const packet = (
    b: Body,
    blockAt: number,
    block: string,
    interfaceId: number,
    tsHigh: number,
    tsLow: number,
    capLenField: number,
    originalLength: number,
    dataStart: number,
    withOptions: boolean,
  ): void => {
    let capLen = capLenField;
    if (dataStart + capLen > b.end) {
      warn(
        'caplen-exceeds-block',
        `${block} captured length ${capLen} runs past its block`,
        b.at + (dataStart - b.start),
      );
      capLen = b.end - dataStart;
    }
    let comments: string[] | undefined;
    // Most packet blocks carry no options: skip making the callback for them (packets are the hot path).
    if (withOptions && b.end - (dataStart + pad4(capLen)) >= 4) {
      readOptions(b, dataStart + pad4(capLen), block, (code, value) => {
        if (code === Option.comment) {
          comments ??= [];
          comments.push(utf8(value));
        }
      });
    }
    const intf = meta.interfaces[interfaceId]!;
    const ts = timestamp(intf, tsHigh, tsLow);
    const p: Mutable<CapturedPacket> = {
      interfaceId,
      linkType: intf.linkType,
      timestampUs: ts.us,
      subMicroNs: ts.ns,
      data: b.buf.subarray(dataStart, dataStart + capLen),
      originalLength,
      index: meta.packets + 1,
      offset: blockAt,
    };
    if (comments) p.comments = comments;
    deliver(p);
  };

  /** draft-ietf-opsawg-pcapng, Section 4.3. */
  const enhancedPacket = (b: Body, blockAt: number): void => {
    need(b, 20, 'EPB');
    const id = iface(b.dv.getUint32(b.start, ngLe), b.at, 'EPB');
    if (id === undefined) return;
    const dv = b.dv;
    packet(
      b,
      blockAt,
      'EPB',
      id,
      dv.getUint32(b.start + 4, ngLe),
      dv.getUint32(b.start + 8, ngLe),
      dv.getUint32(b.start + 12, ngLe),
      dv.getUint32(b.start + 16, ngLe),
      b.start + 20,
      true,
    );
  };

  /**
   * Delivers an Enhanced Packet Block of the common kind and returns true: fixed fields present, a
   * known interface, captured data inside the block, no options. Returns false, having done
   * nothing, for any other EPB, which `enhancedPacket` then reads with its warnings. Packets are the
   * hot path: this makes no block body or timestamp object per packet.
   */
  const plainEnhancedPacket = (buf: Uint8Array, dv: DataView, pos: number, total: number, at: number): boolean => {
    const start = pos + 8;
    const end = pos + total - 4;
    if (end - start < 20) return false;
    const id = sectionInterfaces[dv.getUint32(start, ngLe)];
    if (id === undefined) return false;
    const capLen = dv.getUint32(start + 12, ngLe);
    const dataStart = start + 20;
    if (dataStart + capLen > end || end - (dataStart + pad4(capLen)) >= 4) return false;
    const intf = meta.interfaces[id]!;
    const high = dv.getUint32(start + 4, ngLe);
    const low = dv.getUint32(start + 8, ngLe);
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
    if (sink.raw) {
      meta.packets++;
      deliverRaw(intf.linkType, timestampUs, meta.packets, buf, dataStart, dataStart + capLen);
      return true;
    }
    deliver({
      interfaceId: id,
      linkType: intf.linkType,
      timestampUs,
      subMicroNs,
      data: buf.subarray(dataStart, dataStart + capLen),
      originalLength: dv.getUint32(start + 16, ngLe),
      index: meta.packets + 1,
      offset: at,
    });
    return true;
  };

  /** draft-ietf-opsawg-pcapng, Section 4.4: no timestamp, interface 0, no captured-length field. */
  const simplePacket = (b: Body, blockAt: number): void => {
    need(b, 4, 'SPB');
    const id = iface(0, b.at, 'SPB');
    if (id === undefined) return;
    const originalLength = b.dv.getUint32(b.start, ngLe);
    // "the Captured Packet Length is the minimum of the Original Packet Length and the Snap Length
    // of the Interface" — and never more than the block holds.
    const snap = meta.interfaces[id]!.snapLength;
    let capLen = Math.min(originalLength, b.end - (b.start + 4));
    if (snap !== 0) capLen = Math.min(capLen, snap);
    const intf = meta.interfaces[id]!;
    deliver({
      interfaceId: id,
      linkType: intf.linkType,
      timestampUs: 0,
      subMicroNs: 0,
      data: b.buf.subarray(b.start + 4, b.start + 4 + capLen),
      originalLength,
      index: meta.packets + 1,
      offset: blockAt,
    });
  };

  /** draft-ietf-opsawg-pcapng, Appendix A: the obsolete Packet Block. */
  const obsoletePacket = (b: Body, blockAt: number): void => {
    need(b, 20, 'PB');
    const id = iface(b.dv.getUint16(b.start, ngLe), b.at, 'PB');
    if (id === undefined) return;
    const dv = b.dv;
    packet(
      b,
      blockAt,
      'PB',
      id,
      dv.getUint32(b.start + 4, ngLe),
      dv.getUint32(b.start + 8, ngLe),
      dv.getUint32(b.start + 12, ngLe),
      dv.getUint32(b.start + 16, ngLe),
      b.start + 20,
      true,
    );
  };

  /** draft-ietf-opsawg-pcapng, Section 4.7. */
  const decryptionSecrets = (b: Body, blockAt: number): void => {
    need(b, 8, 'DSB');
    const secretsType = b.dv.getUint32(b.start, ngLe);
    let length = b.dv.getUint32(b.start + 4, ngLe);
    if (b.start + 8 + length > b.end) {
      warn('secrets-length-exceeds-block', `DSB secrets length ${length} runs past its block`, b.at + 4);
      length = b.end - (b.start + 8);
    }
    meta.secrets.push({ secretsType, length, offset: blockAt });
    if (secretsType === SECRETS_TYPE_TLS_KEY_LOG) {
      const text = utf8(b.buf.subarray(b.start + 8, b.start + 8 + length));
      meta.keyLog += text.length === 0 || text.endsWith('\n') ? text : `${text}\n`;
    }
  };

  /** Calls `each(code, value)` for every option from `pos` to the end of the body. */
  const readOptions = (b: Body, pos: number, block: string, each: (code: number, value: Uint8Array) => void): void => {
    let p = pos;
    while (b.end - p >= 4) {
      const code = b.dv.getUint16(p, ngLe);
      const len = b.dv.getUint16(p + 2, ngLe);
      if (code === Option.endOfOpt) return;
      if (p + 4 + len > b.end) {
        warn('bad-options', `${block} option ${code} of length ${len} runs past its block`, b.at + (p - b.start));
        return;
      }
      each(code, b.buf.subarray(p + 4, p + 4 + len));
      p += 4 + pad4(len);
    }
  };

  // --- driver ---------------------------------------------------------------------------------

  /** Parses from `buf`; returns the number of bytes consumed. */
  const parse = (buf: Uint8Array): number => {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let pos = 0;
    if (!started) {
      if (buf.length < 4) {
        want = 4;
        return 0;
      }
      const m = dv.getUint32(0, false);
      if (m === BlockType.sectionHeader) {
        meta.format = 'pcapng';
      } else if (isPcapMagic(m) || isPcapMagic(dv.getUint32(0, true))) {
        if (buf.length < 24) {
          want = 24;
          return 0;
        }
        meta.format = 'pcap';
        pos = pcapHeader(dv, 0);
      } else {
        throw new DecodeError(
          'bad-value',
          `not a pcap or pcapng file (magic 0x${hex32(m)})`,
          consumed,
          'capture/magic',
        );
      }
      started = true;
    }
    const step = meta.format === 'pcap' ? pcapRecord : ngBlock;
    for (;;) {
      const used = step(buf, dv, pos, buf.length);
      if (used === 0) return pos;
      pos += used;
    }
  };

  const feed = (chunk: Uint8Array): void => {
    if (ended) throw new TypeError('feed() after end()');
    if (chunk.length === 0) return;
    pending.push(chunk);
    pendingLength += chunk.length;
    // A record spans the held pieces: join only its `want` bytes, parse it, and go on from what is
    // left, so the chunk that completed it is parsed in place instead of being copied whole (joining
    // every 1 MiB read with the tail before it was 8% of a capture analysis' CPU profile).
    while (pending.length > 1 && pendingLength >= want) {
      const head = join(pending, want);
      want = 0;
      const used = parse(head);
      consumed += used;
      dropFront(used);
    }
    if (pending.length !== 1 || pendingLength < want) return;
    const buf = pending[0]!;
    want = 0;
    const used = parse(buf);
    consumed += used;
    // Keep only the incomplete tail; copy it so the (large) chunk it sits in can be collected.
    pending = used === buf.length ? [] : [buf.slice(used)];
    pendingLength = buf.length - used;
  };

  /** Drops the first `n` held bytes (whole pieces, then the front of the next one). */
  const dropFront = (n: number): void => {
    let left = n;
    pendingLength -= n;
    while (left > 0) {
      const first = pending[0]!;
      if (first.length <= left) {
        pending.shift();
        left -= first.length;
      } else {
        pending[0] = first.subarray(left);
        left = 0;
      }
    }
  };

  const end = (): CaptureMeta => {
    if (ended) return meta;
    ended = true;
    if (!started) {
      throw new DecodeError(
        'truncated',
        `input ends after ${pendingLength} bytes, before a complete capture file header`,
        0,
        'capture/header',
      );
    }
    if (pendingLength > 0) {
      if (options.strict) {
        throw new DecodeError(
          'truncated',
          `input ends inside a record (${pendingLength} of ${want} bytes)`,
          consumed,
          'capture/record',
        );
      }
      meta.truncated = true;
      warn('truncated-file', `input ends inside a record (${pendingLength} of ${want} bytes)`, consumed);
    }
    return meta;
  };

  return { feed, end, meta };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A block body: `[start, end)` of `buf`, `at` its absolute offset. */
interface Body {
  readonly buf: Uint8Array;
  readonly dv: DataView;
  readonly start: number;
  readonly end: number;
  readonly at: number;
}

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

function isPcapMagic(m: number): boolean {
  return m === PcapMagic.microseconds || m === PcapMagic.nanoseconds || m === PcapMagic.modified;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Returns a copy of the first `total` bytes of `parts` (which hold at least that many). */
function join(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    if (o === total) break;
    const n = Math.min(p.length, total - o);
    out.set(n === p.length ? p : p.subarray(0, n), o);
    o += n;
  }
  return out;
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
