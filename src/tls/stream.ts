/**
 * Walks a byte string that holds a TLS record stream, bare handshake messages, or an SSLv2-compatible
 * ClientHello, and returns the facts in stream order: handshake messages, alerts, ChangeCipherSpec,
 * encrypted records. Context flows forward: a ServerHello sets the version and suite that the
 * Certificate and ServerKeyExchange readers need; a ChangeCipherSpec marks the handshake records that
 * follow as encrypted.
 */
import { Reader } from '../wire/reader.js';
import { DecodeError } from '../wire/errors.js';
import { ContentType, HANDSHAKE_TYPES } from './registry.js';
import { type TlsRecord, looksLikeRecordHeader, RECORD_HEADER_LENGTH } from './record.js';
import { createHandshakeAssembler, createRecordDeframer } from './deframer.js';
import {
  type HandshakeContext,
  type HandshakeMessage,
  readDraftServerHello,
  readHandshakeMessage,
} from './handshake.js';
import { type Alert, readAlert } from './alert.js';
import { type SslV2ClientHello, looksLikeSslV2ClientHello, readSslV2ClientHello } from './sslv2.js';
import { negotiatedVersion } from './server-hello.js';

/**
 * Most items we report from one input. Each costs an object; a hostile stream of empty records could
 * otherwise produce millions. 100,000 covers any real handshake capture many times over.
 */
export const MAX_STREAM_ITEMS = 100_000;

export type StreamItem =
  | { readonly kind: 'handshake'; readonly message: HandshakeMessage; readonly recordVersion: number | null }
  | { readonly kind: 'alert'; readonly alert: Alert; readonly offset: number; readonly recordVersion: number }
  | {
      readonly kind: 'change_cipher_spec';
      readonly offset: number;
      readonly recordVersion: number;
      readonly value: number | null;
    }
  | {
      readonly kind: 'encrypted_record';
      readonly offset: number;
      readonly contentType: number;
      readonly recordVersion: number;
      readonly length: number;
    }
  | { readonly kind: 'heartbeat'; readonly offset: number; readonly recordVersion: number; readonly length: number }
  | { readonly kind: 'sslv2_client_hello'; readonly offset: number; readonly hello: SslV2ClientHello };

export type InputFormat = 'records' | 'handshake' | 'sslv2';

/** Returns how `bytes` is framed, or throws DecodeError at offset 0 when it is none of the forms. */
export function detectFormat(bytes: Uint8Array): InputFormat {
  if (bytes.length === 0) throw new DecodeError('truncated', 'empty input', 0, '');
  if (looksLikeRecordHeader(bytes)) return 'records';
  if (looksLikeSslV2ClientHello(bytes)) return 'sslv2';
  if (HANDSHAKE_TYPES.has(bytes[0]!) && bytes.length >= 4) return 'handshake';
  throw new DecodeError(
    'bad-value',
    `first byte 0x${bytes[0]!.toString(16).padStart(2, '0')} starts neither a TLS record, a handshake message nor an SSLv2 hello`,
    0,
    '',
  );
}

/** Returns the stream item of a record whose content is protected: listed by type and length. */
function opaqueRecord(rec: TlsRecord): StreamItem {
  return {
    kind: 'encrypted_record',
    offset: rec.offset,
    contentType: rec.type,
    recordVersion: rec.version,
    length: rec.fragment.length,
  };
}

/** Returns every item in `bytes` in stream order; throws DecodeError on broken or truncated input. */
export function decodeStream(bytes: Uint8Array): StreamItem[] {
  const format = detectFormat(bytes);
  const items: StreamItem[] = [];
  const ctx: { version?: number; cipherSuite?: number } = {};
  if (format === 'handshake') {
    const r = new Reader(bytes, '');
    while (r.anyLeft) {
      const message = readHandshakeMessage(r, ctx);
      noteContext(message, ctx);
      push(items, { kind: 'handshake', message, recordVersion: null });
    }
    return items;
  }
  let start = 0;
  if (format === 'sslv2') {
    const r = new Reader(bytes, 'SSLv2ClientHello');
    const hello = readSslV2ClientHello(r);
    push(items, { kind: 'sslv2_client_hello', offset: 0, hello });
    start = r.offset;
    if (start === bytes.length) return items;
  }
  const deframer = createRecordDeframer(start);
  const records = deframer.push(bytes.subarray(start));
  if (deframer.pendingBytes > 0) {
    const at = bytes.length - deframer.pendingBytes;
    const r = new Reader(bytes, 'record', 0, at);
    r.u8('type');
    r.u16('legacy_record_version');
    const len = r.u16('length');
    r.bytes(len, 'fragment'); // throws truncated with the right offset and path
  }
  walkRecords(records, items, ctx);
  return items;
}

function walkRecords(
  records: readonly TlsRecord[],
  items: StreamItem[],
  ctx: { version?: number; cipherSuite?: number },
): void {
  const assembler = createHandshakeAssembler();
  let encrypted = false;
  let lastHandshakeRecord: TlsRecord | null = null;
  for (const rec of records) {
    const fragmentOffset = rec.offset + RECORD_HEADER_LENGTH;
    switch (rec.type) {
      case ContentType.handshake: {
        if (encrypted) {
          push(items, opaqueRecord(rec));
          break;
        }
        lastHandshakeRecord = rec;
        for (const frag of assembler.push(rec.fragment, fragmentOffset)) {
          const message = readMessage(frag.raw, frag.offset, ctx as HandshakeContext);
          noteContext(message, ctx);
          push(items, { kind: 'handshake', message, recordVersion: rec.version });
        }
        break;
      }
      case ContentType.alert: {
        if (encrypted) {
          // After ChangeCipherSpec an alert is protected and opaque to us.
          push(items, opaqueRecord(rec));
          break;
        }
        if (!isPlaintextAlert(rec.fragment)) {
          // A protected alert (e.g. the close_notify that ends a TLS 1.2 session, 26 bytes or more
          // under AES-GCM) seen without the ChangeCipherSpec before it: opaque, as `capture` lists it.
          push(items, opaqueRecord(rec));
          break;
        }
        // RFC 5246, Section 6.2.1: alerts may share a record; each is two bytes.
        const r = new Reader(rec.fragment, 'Alert', fragmentOffset);
        while (r.anyLeft)
          push(items, { kind: 'alert', alert: readAlert(r), offset: rec.offset, recordVersion: rec.version });
        break;
      }
      case ContentType.change_cipher_spec: {
        // RFC 5246, Section 7.1: struct { enum { change_cipher_spec(1), (255) } type; } ChangeCipherSpec;
        // In TLS 1.3 a CCS is only middlebox compatibility (RFC 8446, Appendix D.4): it changes nothing.
        const value = rec.fragment.length === 1 ? rec.fragment[0]! : null;
        push(items, { kind: 'change_cipher_spec', offset: rec.offset, recordVersion: rec.version, value });
        if (ctx.version === undefined || ctx.version < 0x0304) encrypted = true;
        break;
      }
      case ContentType.heartbeat:
        push(items, { kind: 'heartbeat', offset: rec.offset, recordVersion: rec.version, length: rec.fragment.length });
        break;
      default:
        push(items, opaqueRecord(rec));
    }
  }
  if (assembler.pendingBytes > 0 && lastHandshakeRecord) {
    throw new DecodeError(
      'truncated',
      `handshake message incomplete at end of input (${assembler.pendingBytes} bytes held)`,
      lastHandshakeRecord.offset + RECORD_HEADER_LENGTH + lastHandshakeRecord.fragment.length,
      'Handshake',
    );
  }
}

/**
 * Returns true when an alert record's fragment can be plaintext: a whole number of two-byte alerts
 * (RFC 5246, Section 7.2: AlertLevel level, AlertDescription description), each with level warning(1)
 * or fatal(2). Anything else is a protected record (any AEAD or MAC adds at least 16 bytes).
 */
export function isPlaintextAlert(fragment: Uint8Array): boolean {
  if (fragment.length === 0 || fragment.length % 2 !== 0 || fragment.length > MAX_PLAINTEXT_ALERTS * 2) return false;
  for (let i = 0; i < fragment.length; i += 2) if (fragment[i] !== 1 && fragment[i] !== 2) return false;
  return true;
}

/**
 * Alerts one plaintext record may carry before we call it protected: a peer sends one alert and
 * closes; a record of sixteen or more two-byte "alerts" is an AEAD's ciphertext and tag.
 */
const MAX_PLAINTEXT_ALERTS = 4;

/**
 * Returns the handshake message in `raw` (at absolute `offset`); a ServerHello of a TLS 1.3 draft
 * before 22 (no legacy fields) is read in that draft's layout, as `capture` reads it. Throws
 * DecodeError for anything else that does not parse.
 */
function readMessage(raw: Uint8Array, offset: number, ctx: HandshakeContext): HandshakeMessage {
  try {
    return readHandshakeMessage(new Reader(raw, '', offset), ctx);
  } catch (e) {
    if (!(e instanceof DecodeError) || raw[0] !== 2) throw e;
    const draft = readDraftServerHello(raw);
    if (draft === null) throw e;
    return { ...draft, offset } as HandshakeMessage;
  }
}

function noteContext(m: HandshakeMessage, ctx: { version?: number; cipherSuite?: number }): void {
  if (m.kind === 'server_hello') {
    ctx.version = negotiatedVersion(m.body);
    ctx.cipherSuite = m.body.cipherSuite;
  }
}

function push(items: StreamItem[], item: StreamItem): void {
  if (items.length >= MAX_STREAM_ITEMS) {
    throw new DecodeError(
      'too-large',
      `more than ${MAX_STREAM_ITEMS} items in one input`,
      'offset' in item ? item.offset : 0,
      '',
    );
  }
  items.push(item);
}
