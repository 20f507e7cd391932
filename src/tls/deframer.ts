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
 */
import { Reader } from '../wire/reader.js';
import { DecodeError } from '../wire/errors.js';
import { concatBytes } from '../wire/hex.js';
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

/**
 * Returns a deframer for one direction of a TLS stream. A header with an unknown content type or a
 * length over MAX_RECORD_FRAGMENT throws DecodeError; after that the stream cannot be resynchronised
 * and further pushes throw the same error.
 */
export function createRecordDeframer(baseOffset = 0): RecordDeframer {
  let pending: Uint8Array = new Uint8Array(0);
  let pendingStart = baseOffset; // absolute offset of pending[0]
  let total = 0;
  let broken: DecodeError | null = null;

  return {
    get pendingBytes() {
      return pending.length;
    },
    get totalBytes() {
      return total;
    },
    push(chunk: Uint8Array): TlsRecord[] {
      if (broken) throw broken;
      total += chunk.length;
      let buf = pending.length === 0 ? chunk : concatBytes(pending, chunk);
      const out: TlsRecord[] = [];
      let pos = 0;
      try {
        while (buf.length - pos >= RECORD_HEADER_LENGTH) {
          const type = buf[pos]!;
          if (!isKnownContentType(type)) {
            throw new DecodeError('bad-value', `content type ${type} is not a TLS record type`, pendingStart + pos, 'record/type');
          }
          const length = (buf[pos + 3]! << 8) | buf[pos + 4]!;
          if (length > MAX_RECORD_FRAGMENT) {
            throw new DecodeError('too-large', `record length ${length} exceeds ${MAX_RECORD_FRAGMENT}`, pendingStart + pos + 3, 'record/length');
          }
          if (buf.length - pos < RECORD_HEADER_LENGTH + length) break;
          const r = new Reader(buf, 'record', pendingStart, pos, pos + RECORD_HEADER_LENGTH + length);
          out.push(readRecord(r));
          pos += RECORD_HEADER_LENGTH + length;
        }
      } catch (e) {
        if (e instanceof DecodeError) broken = e;
        throw e;
      }
      // Keep the tail; copy it so a caller may reuse its chunk buffer.
      pending = pos === buf.length ? new Uint8Array(0) : buf.slice(pos);
      pendingStart += pos;
      buf = pending;
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
  /** Returns the handshake messages completed by this handshake-record fragment. */
  push(fragment: Uint8Array, fragmentOffset: number): HandshakeFragment[];
  /** Bytes of an incomplete message held. */
  readonly pendingBytes: number;
}

/**
 * Returns an assembler that joins handshake-content fragments (from records, or from decrypted TLS
 * 1.3 records) into whole handshake messages. A message header claiming more than
 * MAX_HANDSHAKE_MESSAGE bytes throws `too-large` before anything is buffered.
 */
export function createHandshakeAssembler(): HandshakeAssembler {
  let pending: Uint8Array = new Uint8Array(0);
  let pendingOffset = 0;
  return {
    get pendingBytes() {
      return pending.length;
    },
    push(fragment: Uint8Array, fragmentOffset: number): HandshakeFragment[] {
      let buf: Uint8Array;
      let bufOffset: number;
      if (pending.length === 0) {
        buf = fragment;
        bufOffset = fragmentOffset;
      } else {
        buf = concatBytes(pending, fragment);
        bufOffset = pendingOffset;
      }
      const out: HandshakeFragment[] = [];
      let pos = 0;
      while (buf.length - pos >= HANDSHAKE_HEADER_LENGTH) {
        const length = (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
        if (length > MAX_HANDSHAKE_MESSAGE) {
          const err = new DecodeError(
            'too-large',
            `handshake message length ${length} exceeds the cap of ${MAX_HANDSHAKE_MESSAGE}`,
            offsetOf(pos + 1),
            'handshake/length',
          );
          pending = new Uint8Array(0);
          throw err;
        }
        const end = pos + HANDSHAKE_HEADER_LENGTH + length;
        if (buf.length < end) break;
        out.push({ msgType: buf[pos]!, raw: buf.subarray(pos, end), offset: offsetOf(pos) });
        pos = end;
      }
      const rest = buf.subarray(pos);
      pendingOffset = offsetOf(pos);
      pending = rest.length === 0 ? new Uint8Array(0) : rest.slice();
      return out;

      // Offsets within a joined buffer are exact for the first fragment; past a record boundary they
      // point at the first fragment of the message, which is where a reader should look.
      function offsetOf(p: number): number {
        return pending.length !== 0 && p >= pending.length ? fragmentOffset + (p - pending.length) : bufOffset + p;
      }
    },
  };
}
