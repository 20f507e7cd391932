/**
 * Handshake messages: the header plus dispatch to each message's reader, by type and by context.
 *
 * Context (the negotiated version and cipher suite) comes in as a parameter, never from globals: the
 * Certificate form depends on the version, ServerKeyExchange on the suite. Types we do not decode are
 * kept whole in the `other` arm; every arm keeps its `raw` bytes (header included) for transcripts and
 * byte-exact replay.
 */
import { Reader } from '../wire/reader.js';
import { DecodeError } from '../wire/errors.js';
import { Writer } from '../wire/writer.js';
import { HandshakeType } from './registry.js';
import { readHandshakeFrame, writeHandshake } from './handshake-header.js';
import { type ClientHello, readClientHelloBody, writeClientHelloBody } from './client-hello.js';
import { type ServerHello, readServerHelloBody, writeServerHelloBody } from './server-hello.js';
import {
  type CertificateMessage,
  readCertificateBody,
  readCertificateBodyAnyVersion,
  writeCertificateBody,
} from './certificate.js';
import {
  type ServerKeyExchange,
  readServerKeyExchangeBody,
  writeServerKeyExchangeBody,
} from './server-key-exchange.js';
import { type Extension, readExtensions, writeExtensions } from './extensions.js';

export interface HandshakeContext {
  /** Negotiated version, when a ServerHello has been seen. */
  readonly version?: number;
  /** Negotiated cipher suite, when a ServerHello has been seen. */
  readonly cipherSuite?: number;
}

interface Base {
  /** The whole message, header included (a view into the input). */
  readonly raw: Uint8Array;
  /** Absolute offset of the header in the input. */
  readonly offset: number;
}

export type HandshakeMessage =
  | (Base & { readonly kind: 'client_hello'; readonly msgType: 1; readonly body: ClientHello })
  | (Base & { readonly kind: 'server_hello'; readonly msgType: 2; readonly body: ServerHello })
  | (Base & {
      readonly kind: 'certificate';
      readonly msgType: 11;
      readonly body: CertificateMessage;
      readonly version: number;
    })
  | (Base & { readonly kind: 'server_key_exchange'; readonly msgType: 12; readonly body: ServerKeyExchange })
  | (Base & { readonly kind: 'server_hello_done'; readonly msgType: 14 })
  | (Base & { readonly kind: 'encrypted_extensions'; readonly msgType: 8; readonly body: readonly Extension[] })
  | (Base & {
      readonly kind: 'certificate_verify';
      readonly msgType: 15;
      readonly scheme: number;
      readonly signature: Uint8Array;
    })
  | (Base & { readonly kind: 'finished'; readonly msgType: 20; readonly verifyData: Uint8Array })
  | (Base & { readonly kind: 'other'; readonly msgType: number; readonly body: Uint8Array });

/**
 * Returns the handshake message at the reader's position (header included), consuming exactly it.
 * Throws DecodeError when the message is broken. `path` prefixes error paths.
 */
export function readHandshakeMessage(r: Reader, ctx: HandshakeContext = {}): HandshakeMessage {
  const offset = r.offset;
  const ahead = r.peek(r.left);
  // The body reader is named after the message, so error paths read `ClientHello/cipher_suites`.
  const { msgType, body } = readHandshakeFrame(r, MESSAGE_PATH[ahead[0] ?? -1] ?? 'Handshake');
  const raw = ahead.subarray(0, 4 + body.left);
  switch (msgType) {
    case HandshakeType.client_hello:
      return { kind: 'client_hello', msgType, raw, offset, body: readClientHelloBody(body) };
    case HandshakeType.server_hello:
      return { kind: 'server_hello', msgType, raw, offset, body: readServerHelloBody(body) };
    case HandshakeType.certificate: {
      const b = body;
      if (ctx.version !== undefined) {
        return {
          kind: 'certificate',
          msgType,
          raw,
          offset,
          body: readCertificateBody(b, ctx.version),
          version: ctx.version,
        };
      }
      const { message, version } = readCertificateBodyAnyVersion(b);
      return { kind: 'certificate', msgType, raw, offset, body: message, version };
    }
    case HandshakeType.server_key_exchange:
      return {
        kind: 'server_key_exchange',
        msgType,
        raw,
        offset,
        body: readServerKeyExchangeBody(body, ctx.cipherSuite, ctx.version),
      };
    case HandshakeType.server_hello_done:
      body.end();
      return { kind: 'server_hello_done', msgType, raw, offset };
    case HandshakeType.encrypted_extensions: {
      // RFC 8446, Section 4.3.1: struct { Extension extensions<0..2^16-1>; } EncryptedExtensions;
      const b = body;
      const exts = readExtensions(b, 'encrypted_extensions');
      b.end();
      return { kind: 'encrypted_extensions', msgType, raw, offset, body: exts };
    }
    case HandshakeType.certificate_verify: {
      // RFC 8446, Section 4.4.3: struct { SignatureScheme algorithm; opaque signature<0..2^16-1>; } CertificateVerify;
      const b = body;
      const scheme = b.u16('algorithm');
      const signature = b.vec(2, 'signature');
      b.end();
      return { kind: 'certificate_verify', msgType, raw, offset, scheme, signature };
    }
    case HandshakeType.finished:
      return { kind: 'finished', msgType, raw, offset, verifyData: body.rest() };
    default:
      return { kind: 'other', msgType, raw, offset, body: body.rest() };
  }
}

/** Error-path names of the messages we decode, by handshake type. */
const MESSAGE_PATH: Readonly<Record<number, string>> = {
  [HandshakeType.client_hello]: 'ClientHello',
  [HandshakeType.server_hello]: 'ServerHello',
  [HandshakeType.certificate]: 'Certificate',
  [HandshakeType.server_key_exchange]: 'ServerKeyExchange',
  [HandshakeType.encrypted_extensions]: 'EncryptedExtensions',
  [HandshakeType.certificate_verify]: 'CertificateVerify',
};

/** Returns the handshake message in `bytes` (one whole message, header included). */
export function parseHandshakeMessage(bytes: Uint8Array, ctx: HandshakeContext = {}, base = 0): HandshakeMessage {
  const r = new Reader(bytes, '', base);
  const m = readHandshakeMessage(r, ctx);
  r.end();
  return m;
}

/** Writes a handshake message from its decoded fields (header included). */
export function writeHandshakeMessage(w: Writer, m: HandshakeMessage): void {
  writeHandshake(w, m.msgType, (w) => {
    switch (m.kind) {
      case 'client_hello':
        return writeClientHelloBody(w, m.body);
      case 'server_hello':
        return writeServerHelloBody(w, m.body);
      case 'certificate':
        return writeCertificateBody(w, m.body);
      case 'server_key_exchange':
        return writeServerKeyExchangeBody(w, m.body);
      case 'server_hello_done':
        return;
      case 'encrypted_extensions':
        return writeExtensions(w, m.body, 'encrypted_extensions');
      case 'certificate_verify':
        w.u16(m.scheme).vec(2, m.signature);
        return;
      case 'finished':
        w.bytes(m.verifyData);
        return;
      case 'other':
        w.bytes(m.body);
        return;
    }
  });
}

/** Returns the bytes of `m` re-encoded from its fields. */
export function encodeHandshakeMessage(m: HandshakeMessage): Uint8Array {
  const w = new Writer(m.raw.length + 16);
  writeHandshakeMessage(w, m);
  return w.finish();
}

/**
 * Returns the ServerHello of a TLS 1.3 draft before draft 22, or null when `raw` is not one. Those
 * drafts had no legacy fields (draft-ietf-tls-tls13-21, Section 4.1.3):
 *
 *     struct { ProtocolVersion version; Random random; CipherSuite cipher_suite;
 *              Extension extensions<6..2^16-1>; } ServerHello;
 *
 * The session id is then empty and the compression method null.
 */
export function readDraftServerHello(raw: Uint8Array): HandshakeMessage | null {
  // Drafts put 0x7f00 + draft in the version field; the early ones (draft 14) put 0x0304 there.
  if (raw.length < 6 || !((raw[4] === 0x7f && raw[5]! < 22) || (raw[4] === 0x03 && raw[5] === 0x04))) return null;
  try {
    const r = new Reader(raw, 'ServerHello', 0, 4);
    const legacyVersion = r.u16('version');
    const random = r.bytes(32, 'random');
    const cipherSuite = r.u16('cipher_suite');
    const extensions = r.anyLeft ? readExtensions(r, 'server_hello') : null;
    r.end();
    return {
      kind: 'server_hello',
      msgType: 2,
      raw,
      offset: 0,
      body: { legacyVersion, random, sessionId: new Uint8Array(0), cipherSuite, compressionMethod: 0, extensions },
    };
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return null;
  }
}
