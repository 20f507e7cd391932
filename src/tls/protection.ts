/**
 * TLS 1.3 record protection (RFC 8446, Sections 5.2–5.4): AEAD sealing and opening of
 * TLSCiphertext records with node:crypto.
 *
 * `decryptRecord` returns the inner plaintext or throws a `DecodeError`; `encryptRecord` returns a
 * whole record. Both advance the sequence number of a small mutable state object only on success,
 * so a caller may try a record against several keys (a server skipping undecryptable 0-RTT data,
 * RFC 8446 Section 4.2.10, or an analyzer guessing which epoch a record belongs to).
 *
 * ```
 * struct {
 *     ContentType opaque_type = application_data;   (23)
 *     ProtocolVersion legacy_record_version = 0x0303;
 *     uint16 length;
 *     opaque encrypted_record[TLSCiphertext.length];
 * } TLSCiphertext;
 *
 * struct {
 *     opaque content[TLSPlaintext.length];
 *     ContentType type;
 *     uint8 zeros[length_of_padding];
 * } TLSInnerPlaintext;
 * ```
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { DecodeError, EncodeError } from '../wire/errors.js';
import { Reader } from '../wire/reader.js';
import { encodeWith } from '../wire/writer.js';
import { TLS13_IV_LENGTH, suiteAead, type SuiteAead, type TrafficKeys } from './key-schedule.js';
import { ContentType } from './registry.js';

/** The outer type of every protected record is application_data (RFC 8446, Section 5.2). */
const OPAQUE_TYPE_APPLICATION_DATA = ContentType.application_data;

/** legacy_record_version of every protected record (RFC 8446, Section 5.2). */
const LEGACY_RECORD_VERSION = 0x0303;

/** Size of the TLSCiphertext header that serves as additional data (RFC 8446, Section 5.2). */
export const RECORD_HEADER_LENGTH = 5;

/**
 * Cap on TLSCiphertext.length: 2^14 bytes of plaintext plus 256 bytes of expansion (inner type,
 * padding and AEAD tag). RFC 8446, Section 5.2: a longer record MUST end the connection with
 * record_overflow; the cap also bounds what a peer can make us allocate and decrypt.
 */
export const MAX_CIPHERTEXT_LENGTH = 2 ** 14 + 256;

/**
 * Cap on the encoded TLSInnerPlaintext (content + type + padding): 2^14 + 1 bytes (RFC 8446,
 * Section 5.4; record_overflow when exceeded).
 */
export const MAX_INNER_PLAINTEXT_LENGTH = 2 ** 14 + 1;

/**
 * Largest usable sequence number: it is a 64-bit counter that MUST NOT wrap (RFC 8446, Section 5.3);
 * a connection must rekey or close before reaching it.
 */
export const MAX_SEQUENCE_NUMBER = 2n ** 64n - 1n;

/** The keys of one direction of one epoch plus its record counter. */
export interface ProtectionState {
  readonly suite: number;
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  /** Sequence number of the next record; starts at 0 and is reset by every key change. */
  seq: bigint;
}

/**
 * Returns a state at sequence number 0 for `suite` and the keys from `trafficKeys`. Throws
 * `TypeError` when the suite is not a TLS 1.3 AEAD suite or the key/IV lengths do not fit it.
 */
export function newProtectionState(suite: number, keys: TrafficKeys): ProtectionState {
  const aead = requireAead(suite);
  if (keys.key.byteLength !== aead.keyLength) {
    throw new TypeError(`${aead.cipher} needs a ${aead.keyLength}-byte key, got ${keys.key.byteLength}`);
  }
  if (keys.iv.byteLength !== TLS13_IV_LENGTH) {
    throw new TypeError(`TLS 1.3 write IV must be ${TLS13_IV_LENGTH} bytes, got ${keys.iv.byteLength}`);
  }
  return { suite, key: keys.key.slice(), iv: keys.iv.slice(), seq: 0n };
}

function requireAead(suite: number): SuiteAead {
  const aead = suiteAead(suite);
  if (!aead) throw new TypeError(`0x${suite.toString(16).padStart(4, '0')} is not a TLS 1.3 AEAD cipher suite`);
  return aead;
}

function checkSequence(seq: bigint): void {
  if (seq < 0n || seq > MAX_SEQUENCE_NUMBER) {
    throw new RangeError(`sequence number ${seq} outside 0..2^64-1: RFC 8446 Section 5.3 forbids wrapping`);
  }
}

/**
 * Returns the per-record nonce: the 64-bit sequence number in network order, left-padded with zeros
 * to iv_length, XORed with the write IV (RFC 8446, Section 5.3).
 */
export function recordNonce(iv: Uint8Array, seq: bigint): Uint8Array {
  checkSequence(seq);
  const nonce = iv.slice();
  // The two 32-bit halves of the counter, XORed into the last eight bytes (fewer when the IV is shorter).
  const high = Number(seq >> 32n);
  const low = Number(seq & 0xffffffffn);
  const n = nonce.byteLength;
  for (let k = 0; k < 8 && k < n; k++) {
    const byte = k < 4 ? (low >>> (8 * k)) & 0xff : (high >>> (8 * (k - 4))) & 0xff;
    nonce[n - 1 - k] = nonce[n - 1 - k]! ^ byte;
  }
  return nonce;
}

function seal(aead: SuiteAead, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const parts: Buffer[] = [];
  if (aead.cipher === 'aes-128-ccm') {
    const c = createCipheriv(aead.cipher, key, nonce, { authTagLength: aead.tagLength });
    c.setAAD(aad, { plaintextLength: plaintext.byteLength });
    parts.push(c.update(plaintext), c.final(), c.getAuthTag());
  } else if (aead.cipher === 'chacha20-poly1305') {
    const c = createCipheriv(aead.cipher, key, nonce, { authTagLength: aead.tagLength });
    c.setAAD(aad, { plaintextLength: plaintext.byteLength });
    parts.push(c.update(plaintext), c.final(), c.getAuthTag());
  } else {
    const c = createCipheriv(aead.cipher, key, nonce, { authTagLength: aead.tagLength });
    c.setAAD(aad);
    parts.push(c.update(plaintext), c.final(), c.getAuthTag());
  }
  const out = Buffer.concat(parts);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Returns the plaintext, or `null` when the tag does not verify. */
function open(
  aead: SuiteAead,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array | null {
  const body = sealed.subarray(0, sealed.byteLength - aead.tagLength);
  const tag = sealed.subarray(sealed.byteLength - aead.tagLength);
  try {
    let head: Buffer;
    let tail: Buffer;
    if (aead.cipher === 'aes-128-ccm') {
      // CCM needs the tag and the plaintext length before any data (Node's CCM contract).
      const d = createDecipheriv(aead.cipher, key, nonce, { authTagLength: aead.tagLength });
      d.setAuthTag(tag);
      d.setAAD(aad, { plaintextLength: body.byteLength });
      head = d.update(body);
      tail = d.final();
    } else if (aead.cipher === 'chacha20-poly1305') {
      const d = createDecipheriv(aead.cipher, key, nonce, { authTagLength: aead.tagLength });
      d.setAuthTag(tag);
      d.setAAD(aad, { plaintextLength: body.byteLength });
      head = d.update(body);
      tail = d.final();
    } else {
      const d = createDecipheriv(aead.cipher, key, nonce, { authTagLength: aead.tagLength });
      d.setAuthTag(tag);
      d.setAAD(aad);
      head = d.update(body);
      tail = d.final();
    }
    // An AEAD's final() only checks the tag and yields no bytes: join only if it ever does.
    const out = tail.byteLength === 0 ? head : Buffer.concat([head, tail]);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return null;
  }
}

/** The decrypted TLSInnerPlaintext, split into its parts (RFC 8446, Section 5.2). */
export interface InnerPlaintext {
  /** The real ContentType (handshake 22, alert 21, application_data 23, …). */
  readonly contentType: number;
  readonly content: Uint8Array;
  /** Number of zero bytes of padding that followed the type (RFC 8446, Section 5.4). */
  readonly paddingLength: number;
}

const PATH = 'TLSCiphertext';

/**
 * Throws the `DecodeError` for a record header that does not fit its ciphertext (see `decryptRecord`);
 * only called when a quick look found something wrong, so the common case builds no `Reader`.
 */
function checkHeader(header: Uint8Array, ciphertext: Uint8Array, aead: SuiteAead): void {
  const r = new Reader(header, PATH);
  const opaqueType = r.u8('opaque_type');
  if (opaqueType !== OPAQUE_TYPE_APPLICATION_DATA) {
    r.fail('bad-value', `protected records have opaque_type 23, got ${opaqueType}`, 'opaque_type', 0);
  }
  r.u16('legacy_record_version'); // RFC 8446, Section 5.1: ignored, but authenticated as part of the AAD.
  const length = r.u16('length');
  if (length !== ciphertext.byteLength) {
    r.fail('length-out-of-range', `header length ${length} but ${ciphertext.byteLength} ciphertext bytes`, 'length', 3);
  }
  if (length > MAX_CIPHERTEXT_LENGTH) {
    r.fail('too-large', `TLSCiphertext.length ${length} exceeds 2^14+256 (record_overflow)`, 'length', 3);
  }
  if (length < aead.tagLength) {
    r.fail(
      'truncated',
      `encrypted_record of ${length} bytes is shorter than the ${aead.tagLength}-byte tag`,
      'encrypted_record',
      5,
    );
  }
}

/**
 * Returns the inner plaintext of one protected record and advances `state.seq`.
 *
 * `header` is the 5-byte record header as received (it is the AEAD's additional data) and
 * `ciphertext` the `encrypted_record` that followed it. Throws `DecodeError` with code
 * `decrypt-failed` when the tag does not verify (bad_record_mac: wrong key, wrong sequence number or
 * altered bytes), `bad-value` when the outer type is not application_data, `length-out-of-range`
 * when the header's length is not the ciphertext's, `too-large` over the RFC caps (record_overflow),
 * `truncated` when shorter than the tag, and `unexpected-message` when the plaintext has no non-zero
 * byte (RFC 8446, Section 5.4). `state.seq` is left unchanged when it throws. Throws `TypeError` when
 * `header` is not 5 bytes.
 */
export function decryptRecord(state: ProtectionState, header: Uint8Array, ciphertext: Uint8Array): InnerPlaintext {
  const aead = requireAead(state.suite);
  checkSequence(state.seq);
  if (header.byteLength !== RECORD_HEADER_LENGTH) {
    throw new TypeError(`record header must be ${RECORD_HEADER_LENGTH} bytes, got ${header.byteLength}`);
  }
  const headerLength = (header[3]! << 8) | header[4]!;
  if (
    header[0] !== OPAQUE_TYPE_APPLICATION_DATA ||
    headerLength !== ciphertext.byteLength ||
    headerLength > MAX_CIPHERTEXT_LENGTH ||
    headerLength < aead.tagLength
  ) {
    checkHeader(header, ciphertext, aead);
  }
  const plaintext = open(aead, state.key, recordNonce(state.iv, state.seq), header, ciphertext);
  if (plaintext === null) {
    throw new DecodeError(
      'decrypt-failed',
      `${aead.cipher} authentication failed at sequence number ${state.seq} (bad_record_mac)`,
      RECORD_HEADER_LENGTH,
      `${PATH}/encrypted_record`,
    );
  }
  if (plaintext.byteLength > MAX_INNER_PLAINTEXT_LENGTH) {
    throw new DecodeError(
      'too-large',
      `TLSInnerPlaintext of ${plaintext.byteLength} bytes exceeds 2^14+1 (record_overflow)`,
      RECORD_HEADER_LENGTH,
      `${PATH}/encrypted_record`,
    );
  }
  // RFC 8446, Section 5.4: the type is the last non-zero byte; everything after it is padding.
  let i = plaintext.byteLength - 1;
  while (i >= 0 && plaintext[i] === 0) i--;
  if (i < 0) {
    throw new DecodeError(
      'unexpected-message',
      'TLSInnerPlaintext has no non-zero byte, so no content type (unexpected_message)',
      RECORD_HEADER_LENGTH,
      `${PATH}/encrypted_record`,
    );
  }
  state.seq += 1n;
  return { contentType: plaintext[i]!, content: plaintext.subarray(0, i), paddingLength: plaintext.byteLength - i - 1 };
}

/**
 * Returns the whole protected record (header + encrypted_record) carrying `content` of the real
 * type `contentType` followed by `padding` zero bytes, and advances `state.seq`. Throws `TypeError`
 * on a content type outside 1..255 or a bad padding count, and `EncodeError('length-overflow')` when
 * the inner plaintext would exceed 2^14+1 bytes.
 */
export function encryptRecord(
  state: ProtectionState,
  contentType: number,
  content: Uint8Array,
  padding = 0,
): Uint8Array {
  const aead = requireAead(state.suite);
  checkSequence(state.seq);
  // A zero type would be read back as padding (RFC 8446, Section 5.4).
  if (!Number.isInteger(contentType) || contentType < 1 || contentType > 0xff) {
    throw new TypeError(`content type must be 1..255, got ${contentType}`);
  }
  if (!Number.isInteger(padding) || padding < 0)
    throw new TypeError(`padding must be a non-negative integer, got ${padding}`);
  const innerLength = content.byteLength + 1 + padding;
  if (innerLength > MAX_INNER_PLAINTEXT_LENGTH) {
    throw new EncodeError('length-overflow', `TLSInnerPlaintext of ${innerLength} bytes exceeds 2^14+1`);
  }
  const inner = new Uint8Array(innerLength); // zero-filled: the padding is already there
  inner.set(content);
  inner[content.byteLength] = contentType;

  const header = encodeWith((w) => {
    w.u8(OPAQUE_TYPE_APPLICATION_DATA);
    w.u16(LEGACY_RECORD_VERSION);
    w.u16(innerLength + aead.tagLength);
  });
  const sealed = seal(aead, state.key, recordNonce(state.iv, state.seq), header, inner);
  state.seq += 1n;
  const record = new Uint8Array(header.byteLength + sealed.byteLength);
  record.set(header);
  record.set(sealed, header.byteLength);
  return record;
}
