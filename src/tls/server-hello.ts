/**
 * ServerHello and HelloRetryRequest (RFC 8446, Section 4.1.3; RFC 5246, Section 7.4.1.3):
 *
 *     struct {
 *         ProtocolVersion legacy_version = 0x0303;
 *         Random random;
 *         opaque legacy_session_id_echo<0..32>;
 *         CipherSuite cipher_suite;
 *         uint8 legacy_compression_method = 0;
 *         Extension extensions<6..2^16-1>;          // may be absent before TLS 1.3
 *     } ServerHello;
 *
 * A HelloRetryRequest is a ServerHello whose random is SHA-256("HelloRetryRequest").
 */
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { equalBytes, fromHex } from '../wire/hex.js';
import { HandshakeType } from './registry.js';
import { readHandshakeFrame, writeHandshake } from './handshake-header.js';
import { type Extension, findExtension, readExtensions, writeExtensions } from './extensions.js';

/** RFC 8446, Section 4.1.3: the special random that marks a HelloRetryRequest. */
export const HELLO_RETRY_REQUEST_RANDOM = fromHex('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c');

/** RFC 8446, Section 4.1.3: last 8 bytes of a TLS 1.3 server's random when it negotiates TLS 1.2 ... */
export const DOWNGRADE_TLS12 = fromHex('444f574e47524401'); // "DOWNGRD\x01"
/** ... or TLS 1.1 and below. */
export const DOWNGRADE_TLS11 = fromHex('444f574e47524400'); // "DOWNGRD\x00"

export interface ServerHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  /** `legacy_session_id_echo`. */
  readonly sessionId: Uint8Array;
  readonly cipherSuite: number;
  readonly compressionMethod: number;
  /** Wire order; null when the message ends after compression_method (allowed before TLS 1.3). */
  readonly extensions: readonly Extension[] | null;
}

export type DowngradeSentinel = 'tls12' | 'tls11' | null;

/** Returns true when `random` is the HelloRetryRequest marker. */
export function isHelloRetryRandom(random: Uint8Array): boolean {
  return equalBytes(random, HELLO_RETRY_REQUEST_RANDOM);
}

/** Returns the ServerHello body read from `r` (the bytes after the handshake header). */
export function readServerHelloBody(r: Reader): ServerHello {
  const legacyVersion = r.u16('legacy_version');
  const random = r.bytes(32, 'random');
  const sessionId = r.vec(1, 'legacy_session_id_echo', { max: 32 });
  const cipherSuite = r.u16('cipher_suite');
  const compressionMethod = r.u8('legacy_compression_method');
  const ctx = isHelloRetryRandom(random) ? 'hello_retry_request' : 'server_hello';
  const extensions = r.anyLeft ? readExtensions(r, ctx) : null;
  r.end();
  return { legacyVersion, random, sessionId, cipherSuite, compressionMethod, extensions };
}

/** Writes the ServerHello body (without the handshake header). */
export function writeServerHelloBody(w: Writer, sh: ServerHello): void {
  w.u16(sh.legacyVersion).bytes(sh.random).vec(1, sh.sessionId).u16(sh.cipherSuite).u8(sh.compressionMethod);
  if (sh.extensions !== null) {
    writeExtensions(w, sh.extensions, isHelloRetryRandom(sh.random) ? 'hello_retry_request' : 'server_hello');
  }
}

/** Returns the ServerHello in one whole handshake message (header included); throws DecodeError. */
export function parseServerHello(bytes: Uint8Array, base = 0): ServerHello {
  const r = new Reader(bytes, 'ServerHello', base);
  const { msgType, body } = readHandshakeFrame(r, '');
  if (msgType !== HandshakeType.server_hello)
    r.fail('unexpected-message', `handshake type ${msgType} is not server_hello (2)`, 'msg_type', base);
  r.end();
  return readServerHelloBody(body);
}

/** Returns the whole handshake message (header included) for `sh`. */
export function encodeServerHello(sh: ServerHello): Uint8Array {
  const w = new Writer(128);
  writeHandshake(w, HandshakeType.server_hello, (w) => writeServerHelloBody(w, sh));
  return w.finish();
}

/** Returns the negotiated version: supported_versions' selected_version when present, else legacy_version. */
export function negotiatedVersion(sh: ServerHello): number {
  return findExtension(sh.extensions, 'supported_versions')?.selected ?? sh.legacyVersion;
}

/** Returns true when `sh` is a HelloRetryRequest. */
export function isHelloRetryRequest(sh: ServerHello): boolean {
  return isHelloRetryRandom(sh.random);
}

/** Returns the RFC 8446 downgrade sentinel in the server random, if any. */
export function downgradeSentinel(sh: ServerHello): DowngradeSentinel {
  const tail = sh.random.subarray(24, 32);
  if (equalBytes(tail, DOWNGRADE_TLS12)) return 'tls12';
  if (equalBytes(tail, DOWNGRADE_TLS11)) return 'tls11';
  return null;
}

/** Returns the key_share group the server chose (ServerHello) or asks for (HelloRetryRequest), or null. */
export function serverKeyShareGroup(sh: ServerHello): number | null {
  const ks = findExtension(sh.extensions, 'key_share');
  if (!ks) return null;
  return ks.selectedGroup ?? ks.shares?.[0]?.group ?? null;
}
