/**
 * The record layer (RFC 8446, Section 5.1; RFC 5246, Section 6.2):
 *
 *     struct {
 *         ContentType type;
 *         ProtocolVersion legacy_record_version;
 *         uint16 length;
 *         opaque fragment[TLSPlaintext.length];
 *     } TLSPlaintext;
 */
import type { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';

export const RECORD_HEADER_LENGTH = 5;

/**
 * Largest record fragment we accept: 2^14 plaintext + 2048 for expansion (RFC 5246, Section 6.2.3,
 * the most permissive of the versions; TLS 1.3 allows 2^14 + 256). A longer claim is a broken or
 * hostile peer, and rejecting it at the header keeps us from buffering what it announces.
 */
export const MAX_RECORD_FRAGMENT = 16384 + 2048;

export interface TlsRecord {
  readonly type: number;
  /** `legacy_record_version`. */
  readonly version: number;
  readonly fragment: Uint8Array;
  /** Absolute offset of the record header in the input stream. */
  readonly offset: number;
}

/** Content types a TLS record may carry (RFC 8446, Section 5.1; 24 = heartbeat, RFC 6520). */
export function isKnownContentType(t: number): boolean {
  return t >= 20 && t <= 24;
}

/** Returns true when `b` (at least 3 bytes) looks like a TLS record header: known type, version 3.x. */
export function looksLikeRecordHeader(b: Uint8Array): boolean {
  return b.length >= 3 && isKnownContentType(b[0]!) && b[1] === 0x03 && b[2]! <= 0x04;
}

/** Returns one record read from `r`; throws `too-large` for a length over MAX_RECORD_FRAGMENT. */
export function readRecord(r: Reader): TlsRecord {
  const offset = r.offset;
  const type = r.u8('type');
  const version = r.u16('legacy_record_version');
  const length = r.u16('length');
  if (length > MAX_RECORD_FRAGMENT) {
    r.fail('too-large', `record length ${length} exceeds ${MAX_RECORD_FRAGMENT}`, 'length', offset + 3);
  }
  const fragment = r.bytes(length, 'fragment');
  return { type, version, fragment, offset };
}

/** Writes one record (the fragment must fit a u16 length). */
export function writeRecord(w: Writer, rec: { type: number; version: number; fragment: Uint8Array }): void {
  w.u8(rec.type).u16(rec.version).vec(2, rec.fragment);
}

/**
 * Returns records that carry `payload` with content type `type`, split into fragments of at most
 * `maxFragment` bytes (2^14 by default, RFC 8446, Section 5.1).
 */
export function encodeRecords(type: number, version: number, payload: Uint8Array, maxFragment = 16384): Uint8Array {
  const w = new Writer(payload.length + 5 * Math.ceil(payload.length / maxFragment + 1));
  if (payload.length === 0) writeRecord(w, { type, version, fragment: payload });
  for (let o = 0; o < payload.length; o += maxFragment) {
    writeRecord(w, { type, version, fragment: payload.subarray(o, o + maxFragment) });
  }
  return w.finish();
}
