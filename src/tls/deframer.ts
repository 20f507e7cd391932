/**
 * Incremental deframing: bytes as they arrive → whole records → whole handshake messages.
 *
 *     chunks:   |--chunk 1--|-------chunk 2-------|--chunk 3--|
 *     records:  |hdr|frag |hdr|fragment      |hdr|frag       |      a record may span chunks
 *     handshake:    |msg A     |msg B ... (continues)  ... B|       a message may span records
 *
 * Invariants: `pending` holds the bytes of at most one incomplete record (never more than
 * MAX_RECORD_FRAGMENT + 5); `consumed` counts the bytes of the stream already turned into records, so
 * record offsets are absolute. Records are views into the chunk that held them, or into one joined
 * copy when a record spans chunks: the only copy the deframer makes.
 *
 * Linear time: pending bytes are kept as a list of pieces and joined only once enough have arrived
 * for the record or message in progress (`want`), so a peer that sends one byte per chunk, or one
 * byte of handshake per record, costs each byte a bounded number of copies instead of one copy of
 * everything held per chunk (which made 1 MiB of 1-byte handshake records cost ~15 s of copying).
 */
import { Reader } from '../wire/reader.js';
import { DecodeError } from '../wire/errors.js';
import { MAX_RECORD_FRAGMENT, RECORD_HEADER_LENGTH, readRecord, type TlsRecord, isKnownContentType } from './record.js';
import { HANDSHAKE_HEADER_LENGTH, MAX_HANDSHAKE_MESSAGE } from './handshake-header.js';

export interface RecordDeframer {
  /** Returns the whole records completed by `chunk`; throws DecodeError on a broken header. */
  push(chunk: Uint8Array): TlsRecord[];
  /** Bytes buffered that do not yet form a whole record. */
  readonly pendingBytes: number;
  /** Total bytes pushed so far. */
  readonly totalBytes: number;
}

/** Bytes held back, as the pieces they arrived in; `offset` is the absolute offset of each piece. */
interface Piece {
  readonly bytes: Uint8Array;
  readonly offset: number;
}

/** Returns the pieces as one buffer (the piece itself when there is only one). */
function joinPieces(pieces: readonly Piece[], total: number): Uint8Array {
  if (pieces.length === 1) return pieces[0]!.bytes;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of pieces) {
    out.set(p.bytes, o);
    o += p.bytes.length;
  }
  return out;
}

/**
 * Returns a deframer for one direction of a TLS stream. A header with an unknown content type or a
 * length over MAX_RECORD_FRAGMENT throws DecodeError; after that the stream cannot be resynchronised
 * and further pushes throw the same error.
 */
export function createRecordDeframer(baseOffset = 0): RecordDeframer {
  let pending: Piece[] = [];
  let pendingLength = 0;
  let pendingStart = baseOffset; // absolute offset of the first pending byte
  /** Pending bytes needed before parsing can make progress: a header, or the record it announced. */
  let want = RECORD_HEADER_LENGTH;
  let total = 0;
  let broken: DecodeError | null = null;

  return {
    get pendingBytes() {
      return pendingLength;
    },
    get totalBytes() {
      return total;
    },
    push(chunk: Uint8Array): TlsRecord[] {
      if (broken) throw broken;
      total += chunk.length;
      if (chunk.length === 0) return [];
      pendingLength += chunk.length;
      if (pendingLength < want) {
        // Held past this call: copy, so a caller may reuse its chunk buffer.
        pending.push({ bytes: chunk.slice(), offset: pendingStart + pendingLength - chunk.length });
        return [];
      }
      pending.push({ bytes: chunk, offset: pendingStart + pendingLength - chunk.length });
      const buf = joinPieces(pending, pendingLength);
      const out: TlsRecord[] = [];
      let pos = 0;
      want = RECORD_HEADER_LENGTH;
      try {
        while (buf.length - pos >= RECORD_HEADER_LENGTH) {
          const type = buf[pos]!;
          if (!isKnownContentType(type)) {
            throw new DecodeError(
              'bad-value',
              `content type ${type} is not a TLS record type`,
              pendingStart + pos,
              'record/type',
            );
          }
          const length = (buf[pos + 3]! << 8) | buf[pos + 4]!;
          if (length > MAX_RECORD_FRAGMENT) {
            throw new DecodeError(
              'too-large',
              `record length ${length} exceeds ${MAX_RECORD_FRAGMENT}`,
              pendingStart + pos + 3,
              'record/length',
            );
          }
          if (buf.length - pos < RECORD_HEADER_LENGTH + length) {
            want = RECORD_HEADER_LENGTH + length;
            break;
          }
          const r = new Reader(buf, 'record', pendingStart, pos, pos + RECORD_HEADER_LENGTH + length);
          out.push(readRecord(r));
          pos += RECORD_HEADER_LENGTH + length;
        }
      } catch (e) {
        if (e instanceof DecodeError) broken = e;
        throw e;
      }
      // Keep the tail; copy it so a caller may reuse its chunk buffer.
      pendingStart += pos;
      pendingLength = buf.length - pos;
      pending = pendingLength === 0 ? [] : [{ bytes: buf.slice(pos), offset: pendingStart }];
      return out;
    },
  };
}

export interface HandshakeFragment {
  readonly msgType: number;
  /** The whole message, 4-byte header included. */
  readonly raw: Uint8Array;
  /** Absolute offset of the header's first byte (in the record stream when known). */
  readonly offset: number;
}

export interface HandshakeAssembler {
  /** Returns the handshake messages completed by this handshake-record fragment (do not modify it). */
  push(fragment: Uint8Array, fragmentOffset: number): readonly HandshakeFragment[];
  /** Bytes of an incomplete message held. */
  readonly pendingBytes: number;
}

/** What `push` returns when no message is complete (shared: callers only read it). */
const NO_MESSAGES: readonly HandshakeFragment[] = Object.freeze([]);

/**
 * Returns an assembler that joins handshake-content fragments (from records, or from decrypted TLS
 * 1.3 records) into whole handshake messages. A message header claiming more than
 * MAX_HANDSHAKE_MESSAGE bytes throws `too-large` before anything is buffered. Each message's offset
 * is the absolute offset of its header's first byte, in whichever fragment that byte arrived.
 */
export function createHandshakeAssembler(): HandshakeAssembler {
  return new Assembler();
}

/**
 * A class rather than a closure: a capture analysis makes two per connection, and the closure's
 * context, methods and getter were ~0.4 KB of young objects each (V8 heap sampling). A fragment
 * arriving with nothing held (the usual case: whole messages in one record) is read in place.
 */
class Assembler implements HandshakeAssembler {
  private pending: Piece[] = [];
  private pendingLength = 0;
  /** Pending bytes needed before parsing can make progress: a header, or the message it announced. */
  private want = HANDSHAKE_HEADER_LENGTH;

  get pendingBytes(): number {
    return this.pendingLength;
  }

  push(fragment: Uint8Array, fragmentOffset: number): readonly HandshakeFragment[] {
    if (fragment.length === 0) return NO_MESSAGES;
    this.pendingLength += fragment.length;
    if (this.pendingLength < this.want) {
      // Held past this call: copy, so a caller may reuse its buffer.
      this.pending.push({ bytes: fragment.slice(), offset: fragmentOffset });
      return NO_MESSAGES;
    }
    if (this.pending.length === 0) return this.split(fragment, (p) => fragmentOffset + p);
    this.pending.push({ bytes: fragment, offset: fragmentOffset });
    const pieces = this.pending;
    // Maps a position in the joined bytes to its absolute offset; positions are asked in increasing order.
    let piece = 0;
    let pieceStart = 0;
    return this.split(joinPieces(pieces, this.pendingLength), (p) => {
      while (p >= pieceStart + pieces[piece]!.bytes.length && piece < pieces.length - 1) {
        pieceStart += pieces[piece]!.bytes.length;
        piece++;
      }
      return pieces[piece]!.offset + (p - pieceStart);
    });
  }

  /** Returns the whole messages in `buf` (all that is pending), keeping a copy of the rest. */
  private split(buf: Uint8Array, offsetOf: (p: number) => number): readonly HandshakeFragment[] {
    let out: HandshakeFragment[] | null = null;
    let pos = 0;
    this.want = HANDSHAKE_HEADER_LENGTH;
    while (buf.length - pos >= HANDSHAKE_HEADER_LENGTH) {
      const length = (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
      if (length > MAX_HANDSHAKE_MESSAGE) {
        const err = new DecodeError(
          'too-large',
          `handshake message length ${length} exceeds the cap of ${MAX_HANDSHAKE_MESSAGE}`,
          offsetOf(pos + 1),
          'handshake/length',
        );
        this.pending = [];
        this.pendingLength = 0;
        throw err;
      }
      const end = pos + HANDSHAKE_HEADER_LENGTH + length;
      if (buf.length < end) {
        this.want = HANDSHAKE_HEADER_LENGTH + length;
        break;
      }
      const message = { msgType: buf[pos]!, raw: buf.subarray(pos, end), offset: offsetOf(pos) };
      if (out === null) out = [message];
      else out.push(message);
      pos = end;
    }
    this.pendingLength = buf.length - pos;
    if (this.pendingLength === 0) {
      if (this.pending.length > 0) this.pending = [];
    } else this.pending = [{ bytes: buf.slice(pos), offset: offsetOf(pos) }];
    return out ?? NO_MESSAGES;
  }
}
