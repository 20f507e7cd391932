/**
 * The capture container's vocabulary: what a packet record and a file's metadata are, the format
 * constants and caps of pcap and pcapng, and the parser state that both format readers write into.
 *
 * This is the bottom layer of capture/: `pcap-records.ts` (classic pcap) and `pcapng-blocks.ts`
 * (pcapng) read records into a `ParserState` and hand packets on through `deliver`/`deliverRaw`;
 * `pcap.ts`, the front, feeds them chunks and exposes `readCapture`. Nothing here reads bytes,
 * apart from `createParserState` making the state and the delivery functions filling packets in.
 */
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
  | 'damaged-file'
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
  /**
   * The same text block by block: each key log Decryption Secrets Block's text (ending in a
   * newline), in file order. A reader that follows the capture as it is parsed takes the blocks it
   * has not read yet from here, instead of re-reading `keyLog` whole at every block.
   */
  readonly keyLogBlocks: readonly string[];
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
  /**
   * Where the framing broke after the first packet (a record length no tool writes, a block that
   * runs backwards: a file overwritten, concatenated or corrupted), and why; null when it did not.
   * The packets before it were delivered; nothing after it is read.
   */
  readonly damaged: { readonly offset: number; readonly reason: string } | null;
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

/** draft-ietf-opsawg-pcapng, Section 4.7: Secrets Type of a TLS key log ('TLSK'). */
export const SECRETS_TYPE_TLS_KEY_LOG = 0x544c534b;

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

/** Microsecond timestamps: pcap's default and pcapng's when an IDB has no if_tsresol. */
export const MICRO: TsResolution = { base: 10, exponent: 6 };
/** Nanosecond timestamps (pcap magic 0xA1B23C4D). */
export const NANO: TsResolution = { base: 10, exponent: 9 };

// ---------------------------------------------------------------------------------------------
// Parser state
// ---------------------------------------------------------------------------------------------

/** `CaptureMeta` while it is being filled in (the parser hands it on as the readonly type). */
export interface MetaBuilder {
  format: 'pcap' | 'pcapng';
  byteOrder: 'big' | 'little';
  interfaces: CaptureInterface[];
  keyLog: string;
  keyLogBlocks: string[];
  comments: string[];
  secrets: SecretsBlockInfo[];
  packets: number;
  skippedBlocks: number;
  truncated: boolean;
  damaged: { offset: number; reason: string } | null;
  warnings: CaptureWarning[];
}

/**
 * Everything a capture parser knows between records: the metadata being built, where packets go,
 * how far the input has been consumed, and the reading state of each format. One object per
 * parser, passed to every record and block reader; the readers keep no state of their own.
 */
export interface ParserState {
  readonly meta: MetaBuilder;
  /** Receives a fresh `CapturedPacket` per packet (`createCaptureParser`), or null. */
  readonly onPacket: ((p: CapturedPacket, meta: CaptureMeta) => void) | null;
  /** Receives `rawPacket`, updated in place (`readCaptureRaw`), or null. Exactly one is set. */
  readonly onRaw: ((p: RawPacket, meta: CaptureMeta) => void) | null;
  /** The one `RawPacket` handed to `onRaw`. */
  readonly rawPacket: RawPacket;
  /** Bytes the record in progress needs, from its start, before it can be read; 0 when none waits. */
  want: number;
  /** Absolute offset of the first byte not yet consumed: the start of the buffer being read. */
  consumed: number;
  /** pcap: the file is little-endian. */
  pcapLe: boolean;
  /** pcap: timestamps are in nanoseconds. */
  pcapNano: boolean;
  /** pcap: bytes of a record header (16, or 24 in the modified format). */
  pcapRecordHeader: number;
  /** pcapng: the current section is little-endian. */
  ngLe: boolean;
  /** pcapng: 0-based index of the current section (-1 before the first Section Header Block). */
  section: number;
  /** pcapng: the global interface index (into `meta.interfaces`) of each section-local id. */
  sectionInterfaces: number[];
  /** pcapng: the current section has a version we cannot read, so its blocks are skipped. */
  skippingSection: boolean;
}

/** Returns the state of a parser that has read nothing yet and delivers to `onPacket` or `onRaw`. */
export function createParserState(
  onPacket: ((p: CapturedPacket, meta: CaptureMeta) => void) | null,
  onRaw: ((p: RawPacket, meta: CaptureMeta) => void) | null,
): ParserState {
  return {
    meta: {
      format: 'pcap',
      byteOrder: 'big',
      interfaces: [],
      keyLog: '',
      keyLogBlocks: [],
      comments: [],
      secrets: [],
      packets: 0,
      skippedBlocks: 0,
      truncated: false,
      damaged: null,
      warnings: [],
    },
    onPacket,
    onRaw,
    rawPacket: { linkType: 0, timestampUs: 0, index: 0, buf: new Uint8Array(0), start: 0, end: 0 },
    want: 4,
    consumed: 0,
    pcapLe: false,
    pcapNano: false,
    pcapRecordHeader: 16,
    ngLe: false,
    section: -1,
    sectionInterfaces: [],
    skippingSection: false,
  };
}

/** Records a survivable oddity, up to `MAX_WARNINGS`. */
export function warn(s: ParserState, code: CaptureWarningCode, message: string, offset: number): void {
  if (s.meta.warnings.length < MAX_WARNINGS) s.meta.warnings.push({ code, message, offset });
}

/** Counts `p` and hands it to the parser's sink (as the reused `RawPacket` for a raw parser). */
export function deliver(s: ParserState, p: CapturedPacket): void {
  s.meta.packets++;
  if (s.onPacket !== null) s.onPacket(p, s.meta);
  else deliverRaw(s, p.linkType, p.timestampUs, p.index, p.data, 0, p.data.length);
}

/**
 * Hands the packet `buf[start, end)` to `onRaw` in the reused `RawPacket` (the caller has counted
 * it). Per-packet path: no allocation.
 */
export function deliverRaw(
  s: ParserState,
  linkType: number,
  timestampUs: number,
  index: number,
  buf: Uint8Array,
  start: number,
  end: number,
): void {
  const raw = s.rawPacket;
  raw.linkType = linkType;
  raw.timestampUs = timestampUs;
  raw.index = index;
  raw.buf = buf;
  raw.start = start;
  raw.end = end;
  s.onRaw!(raw, s.meta);
}

/** Returns `n` as 8 hex digits (for messages about magic numbers and block types). */
export function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
