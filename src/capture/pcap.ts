/**
 * The capture reader's front: returns the packets (by callback) and the metadata of pcap and pcapng
 * capture files, streamed; throws `DecodeError` when the input is not such a file or its framing is
 * broken. This layer buffers input chunks and dispatches to the format readers.
 *
 * `readCapture(source, onPacket)` resolves to the file's `CaptureMeta` after calling `onPacket` once
 * per packet record, in file order; it throws `DecodeError` when the input is not a capture file or
 * its framing is broken beyond recovery (a block length that runs backwards, a record larger than
 * any capture tool writes) before its first packet. A file that simply stops in the middle of a
 * record (a killed tcpdump) is not an error: the packets before it are delivered and
 * `meta.truncated` is set. Nor is framing that breaks after the first packet (a file overwritten,
 * concatenated or corrupted): the packets before it are delivered, `meta.damaged` says where and
 * why, and nothing after it is read (tshark too shows the packets before such damage). With
 * `strict`, both throw.
 *
 * The parser is a push parser (`createCaptureParser`) fed with chunks of any size; it keeps at most
 * one incomplete record between chunks, so memory does not grow with the file. Packet `data` is a
 * view into the chunk it arrived in (never copied here): copy what you keep.
 *
 * Layers below: `pcap-format.ts` (types, constants, parser state), `pcap-records.ts` (classic pcap,
 * draft-ietf-opsawg-pcap) and `pcapng-blocks.ts` (pcapng, draft-ietf-opsawg-pcapng).
 */
import { DecodeError, isDecodeError } from '../wire/errors.js';
import { BlockType, createParserState, hex32, warn } from './pcap-format.js';
import type {
  CaptureMeta,
  CaptureParser,
  CapturedPacket,
  ParserState,
  RawPacket,
  ReadCaptureOptions,
} from './pcap-format.js';
import { isPcapMagic, pcapHeader, pcapRecord } from './pcap-records.js';
import { describeNonCapture } from './file-kind.js';
import { pcapngBlock } from './pcapng-blocks.js';

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
  return drive(source, makeParser(createInput(createParserState(null, onPacket), options)));
}

/**
 * Returns a push parser that calls `onPacket` for each packet record as soon as the record is
 * complete. See `CaptureParser`.
 */
export function createCaptureParser(
  onPacket: (p: CapturedPacket, meta: CaptureMeta) => void,
  options: ReadCaptureOptions = {},
): CaptureParser {
  return makeParser(createInput(createParserState(onPacket, null), options));
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

// ---------------------------------------------------------------------------------------------
// Chunk buffering
// ---------------------------------------------------------------------------------------------

/**
 * The input side of a parser: bytes received but not yet parsed, held as a list and joined only
 * once enough has arrived for the record in progress (`state.want`), so a large block arriving in
 * many chunks is copied once, not per chunk.
 */
interface Input {
  readonly state: ParserState;
  readonly strict: boolean;
  pending: Uint8Array[];
  pendingLength: number;
  /** The file header has been read (`state.meta.format` is known). */
  started: boolean;
  ended: boolean;
}

function createInput(state: ParserState, options: ReadCaptureOptions): Input {
  return { state, strict: options.strict === true, pending: [], pendingLength: 0, started: false, ended: false };
}

function makeParser(input: Input): CaptureParser {
  return {
    feed: (chunk) => feed(input, chunk),
    end: () => end(input),
    meta: input.state.meta,
  };
}

/** Parses every complete record of what has arrived with `chunk`; keeps the incomplete rest. */
function feed(input: Input, chunk: Uint8Array): void {
  if (input.ended) throw new TypeError('feed() after end()');
  // Past damage nothing is read (the rest of the file cannot be framed).
  if (chunk.length === 0 || input.state.meta.damaged !== null) return;
  const s = input.state;
  input.pending.push(chunk);
  input.pendingLength += chunk.length;
  // A record spans the held pieces: join only its `want` bytes, parse it, and go on from what is
  // left, so the chunk that completed it is parsed in place instead of being copied whole (joining
  // every 1 MiB read with the tail before it was 8% of a capture analysis' CPU profile).
  while (input.pending.length > 1 && input.pendingLength >= s.want) {
    const head = join(input.pending, s.want);
    s.want = 0;
    const used = parse(input, head);
    s.consumed += used;
    dropFront(input, used);
  }
  if (input.pending.length !== 1 || input.pendingLength < s.want) {
    // The record in progress needs more than has arrived: hold a copy of this chunk's part, as of
    // every part held across feeds, so the caller may reuse the chunk's buffer for the next one.
    const last = input.pending.length - 1;
    if (last >= 0 && input.pending[last]!.buffer === chunk.buffer) input.pending[last] = input.pending[last]!.slice();
    return;
  }
  const buf = input.pending[0]!;
  s.want = 0;
  const used = parse(input, buf);
  s.consumed += used;
  // Keep only the incomplete tail; copy it so the (large) chunk it sits in can be collected.
  input.pending = used === buf.length ? [] : [buf.slice(used)];
  input.pendingLength = buf.length - used;
}

/** Drops the first `n` held bytes (whole pieces, then the front of the next one). */
function dropFront(input: Input, n: number): void {
  const pending = input.pending;
  let left = n;
  input.pendingLength -= n;
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

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------

/**
 * Parses from `buf` (which starts at absolute offset `state.consumed`): the file header first, then
 * records of its format until one is incomplete. Returns the number of bytes consumed.
 */
function parse(input: Input, buf: Uint8Array): number {
  const s = input.state;
  if (s.meta.damaged !== null) return buf.length;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  if (!input.started) {
    if (buf.length < 4) {
      s.want = 4;
      return 0;
    }
    const m = dv.getUint32(0, false);
    if (m === BlockType.sectionHeader) {
      s.meta.format = 'pcapng';
    } else if (isPcapMagic(m) || isPcapMagic(dv.getUint32(0, true))) {
      if (buf.length < 24) {
        s.want = 24;
        return 0;
      }
      s.meta.format = 'pcap';
      pos = pcapHeader(s, dv, 0);
    } else {
      const what = describeNonCapture(buf);
      throw new DecodeError(
        'bad-value',
        `not a pcap or pcapng file (magic 0x${hex32(m)})${what === null ? '' : `: ${what}`}`,
        s.consumed,
        'capture/magic',
      );
    }
    input.started = true;
  }
  const step = s.meta.format === 'pcap' ? pcapRecord : pcapngBlock;
  for (;;) {
    let used: number;
    try {
      used = step(s, buf, dv, pos, buf.length);
    } catch (e) {
      if (!damaged(input, e)) throw e;
      return buf.length;
    }
    if (used === 0) return pos;
    pos += used;
  }
}

/**
 * Makes a framing error after the first packet the end of what is read (`meta.damaged`, and a
 * warning) and returns true; returns false for any other error (before the first packet, in strict
 * mode, or not the framing's: an error from `onPacket` passes through unchanged), to be thrown.
 */
function damaged(input: Input, e: unknown): boolean {
  const s = input.state;
  if (input.strict || s.meta.packets === 0 || !isDecodeError(e) || !/^pcap(ng)?\//.test(e.path)) return false;
  const reason = `${e.detail} (${e.code})`;
  s.meta.damaged = { offset: e.offset, reason };
  warn(s, 'damaged-file', `the file is damaged at offset ${e.offset}: ${reason}; nothing after it is read`, e.offset);
  return true;
}

/** Finishes the input: returns the metadata, with `truncated` set (or a throw when strict) for a cut record. */
function end(input: Input): CaptureMeta {
  const s = input.state;
  if (input.ended) return s.meta;
  input.ended = true;
  if (!input.started) {
    throw new DecodeError(
      'truncated',
      `input ends after ${input.pendingLength} bytes, before a complete capture file header`,
      0,
      'capture/header',
    );
  }
  if (input.pendingLength > 0 && s.meta.damaged === null) {
    const message = `input ends inside a record (${input.pendingLength} of ${s.want} bytes)`;
    if (input.strict) throw new DecodeError('truncated', message, s.consumed, 'capture/record');
    s.meta.truncated = true;
    warn(s, 'truncated-file', message, s.consumed);
  }
  return s.meta;
}
