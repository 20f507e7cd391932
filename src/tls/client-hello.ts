/**
 * ClientHello (RFC 8446, Section 4.1.2; RFC 5246, Section 7.4.1.2):
 *
 *     struct {
 *         ProtocolVersion legacy_version = 0x0303;    // the client's highest version before TLS 1.3
 *         Random random;                              // 32 bytes
 *         opaque legacy_session_id<0..32>;
 *         CipherSuite cipher_suites<2..2^16-2>;
 *         opaque legacy_compression_methods<1..2^8-1>;
 *         Extension extensions<8..2^16-1>;            // absent in SSL 3.0-style hellos
 *     } ClientHello;
 */
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { readU16List, writeU16List } from '../wire/codec.js';
import { HandshakeType } from './registry.js';
import { readHandshakeFrame, writeHandshake } from './handshake-header.js';
import { type Extension, findExtension, readExtensions, writeExtensions, SNI_HOST_NAME } from './extensions.js';

export interface ClientHello {
  /** `legacy_version` on the wire: the highest version offered when supported_versions is absent. */
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  /** `legacy_session_id`. */
  readonly sessionId: Uint8Array;
  /** Wire order, GREASE kept. */
  readonly cipherSuites: readonly number[];
  /** `legacy_compression_methods`. */
  readonly compressionMethods: readonly number[];
  /** Wire order; null when the hello ends after compression methods (SSL 3.0 style, allowed by RFC 5246). */
  readonly extensions: readonly Extension[] | null;
}

/** Returns the ClientHello body read from `r` (the bytes after the handshake header). */
export function readClientHelloBody(r: Reader): ClientHello {
  const legacyVersion = r.u16('legacy_version');
  const random = r.bytes(32, 'random');
  const sessionId = r.vec(1, 'legacy_session_id', { max: 32 });
  const cipherSuites = readU16List(r, 2, 'cipher_suites', { min: 2 });
  const compressionMethods = Array.from(r.vec(1, 'legacy_compression_methods', { min: 1 }));
  const extensions = r.anyLeft ? readExtensions(r, 'client_hello') : null;
  r.end();
  return { legacyVersion, random, sessionId, cipherSuites, compressionMethods, extensions };
}

/** Writes the ClientHello body (without the handshake header). */
export function writeClientHelloBody(w: Writer, ch: ClientHello): void {
  w.u16(ch.legacyVersion).bytes(ch.random).vec(1, ch.sessionId);
  writeU16List(w, 2, ch.cipherSuites);
  w.vec(1, Uint8Array.from(ch.compressionMethods));
  if (ch.extensions !== null) writeExtensions(w, ch.extensions, 'client_hello');
}

/**
 * Returns the ClientHello in one whole handshake message (4-byte header included). Throws
 * DecodeError when the bytes are not a ClientHello or are broken.
 */
export function parseClientHello(bytes: Uint8Array, base = 0): ClientHello {
  const r = new Reader(bytes, 'ClientHello', base);
  const { msgType, body } = readHandshakeFrame(r, '');
  if (msgType !== HandshakeType.client_hello) r.fail('unexpected-message', `handshake type ${msgType} is not client_hello (1)`, 'msg_type', base);
  r.end();
  return readClientHelloBody(body);
}

/** Returns the whole handshake message (header included) for `ch`. */
export function encodeClientHello(ch: ClientHello): Uint8Array {
  const w = new Writer(512);
  writeHandshake(w, HandshakeType.client_hello, (w) => writeClientHelloBody(w, ch));
  return w.finish();
}

/** Returns the first host_name in server_name, or null. */
export function clientServerName(ch: ClientHello): string | null {
  const sni = findExtension(ch.extensions, 'server_name');
  return sni?.names?.find((n) => n.nameType === SNI_HOST_NAME)?.name ?? null;
}

/** Returns the versions from supported_versions, or null when absent. */
export function clientSupportedVersions(ch: ClientHello): readonly number[] | null {
  return findExtension(ch.extensions, 'supported_versions')?.versions ?? null;
}

/**
 * Returns the highest protocol version the hello offers: the largest non-GREASE entry of
 * supported_versions when present (RFC 8446, Section 4.2.1), else legacy_version.
 */
export function highestOfferedVersion(ch: ClientHello): number {
  const versions = clientSupportedVersions(ch);
  if (versions) {
    let best = -1;
    for (const v of versions) if ((v & 0x0f0f) !== 0x0a0a && v > best) best = v;
    if (best >= 0) return best;
  }
  return ch.legacyVersion;
}
