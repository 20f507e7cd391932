/**
 * The SSLv2-compatible ClientHello (RFC 5246, Appendix E.2; RFC 6101, Appendix E), read only:
 *
 *     struct {
 *         uint16 msg_length;          // high bit set: a 2-byte SSLv2 record header
 *         uint8 msg_type;             // 1 = client-hello
 *         Version version;            // highest version the client supports
 *         uint16 cipher_spec_length;  // a multiple of 3
 *         uint16 session_id_length;   // 0 or 16
 *         uint16 challenge_length;    // 16..32
 *         V2CipherSpec cipher_specs[cipher_spec_length];
 *         opaque session_id[session_id_length];
 *         opaque challenge[challenge_length];
 *     } V2ClientHello;
 */
import type { Reader } from '../wire/reader.js';

export interface SslV2ClientHello {
  readonly version: number;
  /** Three-byte cipher specs as numbers; those with a 0x00 first byte are TLS cipher suites. */
  readonly cipherSpecs: readonly number[];
  readonly sessionId: Uint8Array;
  readonly challenge: Uint8Array;
  /** The whole record, header included. */
  readonly raw: Uint8Array;
}

/** True when `b` starts like an SSLv2-format ClientHello (2-byte header with the high bit set, type 1). */
export function looksLikeSslV2ClientHello(b: Uint8Array): boolean {
  return b.length >= 3 && (b[0]! & 0x80) !== 0 && b[2] === 1;
}

/** Returns the SSLv2-compatible ClientHello read from `r`; throws DecodeError when broken. */
export function readSslV2ClientHello(r: Reader): SslV2ClientHello {
  const start = r.offset;
  const startBytes = r.peek(2);
  const header = r.u16('msg_length');
  if ((header & 0x8000) === 0) r.fail('bad-value', 'SSLv2 record header without the high bit', 'msg_length', start);
  const body = r.fixed(header & 0x7fff, 'V2ClientHello');
  const msgType = body.u8('msg_type');
  if (msgType !== 1)
    body.fail('unexpected-message', `SSLv2 message type ${msgType} is not client-hello (1)`, 'msg_type');
  const version = body.u16('version');
  const cipherSpecLength = body.u16('cipher_spec_length');
  const sessionIdLength = body.u16('session_id_length');
  const challengeLength = body.u16('challenge_length');
  if (cipherSpecLength % 3 !== 0)
    body.fail('length-out-of-range', `cipher_spec_length ${cipherSpecLength} is not a multiple of 3`);
  const specs = body.fixed(cipherSpecLength, 'cipher_specs');
  const cipherSpecs: number[] = [];
  while (specs.anyLeft) cipherSpecs.push(specs.u24());
  const sessionId = body.bytes(sessionIdLength, 'session_id');
  const challenge = body.bytes(challengeLength, 'challenge');
  body.end();
  const end = r.offset - start;
  // The raw bytes are the 2-byte header plus the body, contiguous in the input.
  const raw = new Uint8Array(startBytes.buffer, startBytes.byteOffset, end);
  return { version, cipherSpecs, sessionId, challenge, raw };
}
