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
import { isGrease } from './grease.js';
import { HandshakeType } from './registry.js';
import { readHandshakeFrame, writeHandshake } from './handshake-header.js';
import { ExtensionType } from './registry.js';
import {
  type Extension,
  extensionField,
  findExtension,
  readExtensionBody,
  readExtensions,
  writeExtensions,
  SNI_HOST_NAME,
} from './extensions.js';

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
  const compressionMethods = r.u8List(1, 'legacy_compression_methods', { min: 1 });
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
  return readClientHelloBody(clientHelloBody(bytes, base));
}

/** Returns the reader over the body of the one whole ClientHello message in `bytes`; throws DecodeError. */
function clientHelloBody(bytes: Uint8Array, base: number): Reader {
  const r = new Reader(bytes, 'ClientHello', base);
  const { msgType, body } = readHandshakeFrame(r, '');
  if (msgType !== HandshakeType.client_hello)
    r.fail('unexpected-message', `handshake type ${msgType} is not client_hello (1)`, 'msg_type', base);
  r.end();
  return body;
}

/**
 * A ClientHello read lazily (issue 7: decode only what the caller asks for). `viewClientHello` walks
 * every length prefix up front, with the same checks, so it throws exactly where and what
 * `parseClientHello` throws; each field is decoded when first read and then kept. Reading every
 * field gives what `parseClientHello` returns (`toClientHello()`; the tests compare the two on real
 * and random bytes). An extension body that does not decode becomes the `raw` arm, as in the eager
 * parse, so reading a field never throws.
 *
 * A class, against the house rule, for the reason `DerCertInfo` (x509/der-cert-info.ts) gives: an object
 * literal with accessors is a dictionary-mode object that costs more than the whole walk. The
 * view aliases `bytes`, which must not change while it is in use.
 */
export class ClientHelloView implements ClientHello {
  readonly legacyVersion: number;
  /** Extension types in wire order (GREASE kept), without decoding any body; null when there is no block. */
  readonly extensionTypes: readonly number[] | null;
  /** The body reader (named `ClientHello`), for children over the ranges found by the walk. */
  readonly #body: Reader;
  readonly #sessionIdAt: number;
  readonly #suitesAt: number;
  readonly #compressionAt: number;
  readonly #extensionsAt: number;
  /** Per extension: [start, end) of its body in the body reader's buffer. */
  readonly #extensionRanges: readonly number[];
  #random: Uint8Array | undefined;
  #sessionId: Uint8Array | undefined;
  #cipherSuites: readonly number[] | undefined;
  #compressionMethods: readonly number[] | undefined;
  /** Extensions decoded so far, by wire index. */
  #extensions: (Extension | undefined)[] | undefined;
  /** Every extension, once all were asked for. */
  #all: readonly Extension[] | undefined;

  constructor(body: Reader) {
    // The walk makes the checks readClientHelloBody makes, in the same order, and no views.
    this.#body = body;
    this.legacyVersion = body.u16('legacy_version');
    body.skip(32, 'random');
    this.#sessionIdAt = body.index;
    body.skipVec(1, 'legacy_session_id', { max: 32 });
    this.#suitesAt = body.index;
    const at = body.offset;
    const suitesLength = body.skipVec(2, 'cipher_suites', { min: 2 });
    if (suitesLength % 2 !== 0)
      body.fail('length-out-of-range', `odd length ${suitesLength} for a list of u16`, 'cipher_suites', at);
    this.#compressionAt = body.index;
    body.skipVec(1, 'legacy_compression_methods', { min: 1 });
    this.#extensionsAt = body.index;
    if (body.anyLeft) {
      const types: number[] = [];
      const ranges: number[] = [];
      const list = body.sub(2, 'extensions');
      while (list.anyLeft) {
        const type = list.u16('extension_type');
        const n = list.skipVecNamedLater(2, extensionField, type);
        types.push(type);
        ranges.push(list.index - n, list.index);
      }
      this.extensionTypes = types;
      this.#extensionRanges = ranges;
    } else {
      this.extensionTypes = null;
      this.#extensionRanges = [];
    }
    body.end();
  }

  get random(): Uint8Array {
    this.#random ??= this.#body.childAt(this.#sessionIdAt - 32, this.#sessionIdAt, 'random').whole();
    return this.#random;
  }

  get sessionId(): Uint8Array {
    this.#sessionId ??= this.#body
      .childAt(this.#sessionIdAt, this.#suitesAt, 'legacy_session_id')
      .vec(1, 'legacy_session_id');
    return this.#sessionId;
  }

  get cipherSuites(): readonly number[] {
    this.#cipherSuites ??= this.#body
      .childAt(this.#suitesAt, this.#compressionAt, 'cipher_suites')
      .u16List(2, 'cipher_suites');
    return this.#cipherSuites;
  }

  get compressionMethods(): readonly number[] {
    if (this.#compressionMethods === undefined) {
      const r = this.#body.childAt(this.#compressionAt, this.#extensionsAt, 'legacy_compression_methods');
      this.#compressionMethods = r.u8List(1, 'legacy_compression_methods');
    }
    return this.#compressionMethods;
  }

  /** Every extension, decoded, in wire order; null when the hello has no extension block. */
  get extensions(): readonly Extension[] | null {
    if (this.extensionTypes === null) return null;
    this.#all ??= this.extensionTypes.map((_type, i) => this.extensionAt(i));
    return this.#all;
  }

  /** Returns the `i`th extension (wire order), decoded on first use. */
  extensionAt(i: number): Extension {
    const types = this.extensionTypes;
    if (types === null || i < 0 || i >= types.length) throw new RangeError(`no extension ${i}`);
    this.#extensions ??= new Array(types.length);
    let ext = this.#extensions[i];
    if (ext === undefined) {
      const type = types[i]!;
      const ranges = this.#extensionRanges;
      // The same reader the eager parse makes for this body: ClientHello/extensions/<name>.
      const list = this.#body.childAt(this.#extensionsAt, this.#body.index, 'extensions');
      ext = readExtensionBody(
        type,
        list.childAtNamedLater(ranges[2 * i]!, ranges[2 * i + 1]!, extensionField, type),
        'client_hello',
      );
      this.#extensions[i] = ext;
    }
    return ext;
  }

  /**
   * Returns the first extension of wire type `type` that decodes to `kind`, decoding only those of
   * that type: what `findExtension(extensions, kind)` returns when only `type` makes `kind`.
   */
  findOfType<K extends Extension['kind']>(type: number, kind: K): Extract<Extension, { kind: K }> | undefined {
    const types = this.extensionTypes;
    if (types === null) return undefined;
    for (let i = 0; i < types.length; i++) {
      if (types[i] !== type) continue;
      const ext = this.extensionAt(i);
      if (ext.kind === kind) return ext as Extract<Extension, { kind: K }>;
    }
    return undefined;
  }

  /** Returns the plain `ClientHello` (every field decoded): what `parseClientHello` returns. */
  toClientHello(): ClientHello {
    return {
      legacyVersion: this.legacyVersion,
      random: this.random,
      sessionId: this.sessionId,
      cipherSuites: this.cipherSuites,
      compressionMethods: this.compressionMethods,
      extensions: this.extensions,
    };
  }

  toJSON(): ClientHello {
    return this.toClientHello();
  }
}

/**
 * Returns a lazy view of the ClientHello in one whole handshake message (4-byte header included):
 * every length prefix checked now, fields decoded when read. Throws the DecodeError
 * `parseClientHello` throws for the same bytes.
 */
export function viewClientHello(bytes: Uint8Array, base = 0): ClientHelloView {
  return new ClientHelloView(clientHelloBody(bytes, base));
}

/** Returns the whole handshake message (header included) for `ch`. */
export function encodeClientHello(ch: ClientHello): Uint8Array {
  const w = new Writer(512);
  writeHandshake(w, HandshakeType.client_hello, (w) => writeClientHelloBody(w, ch));
  return w.finish();
}

/**
 * Returns `findExtension(ch.extensions, kind)`; on a view, decoding only the extensions of wire type
 * `type` (the one type that makes `kind`).
 */
function findClientExtension<K extends Extension['kind']>(
  ch: ClientHello,
  type: number,
  kind: K,
): Extract<Extension, { kind: K }> | undefined {
  return ch instanceof ClientHelloView ? ch.findOfType(type, kind) : findExtension(ch.extensions, kind);
}

/** Returns the first host_name in server_name, or null. */
export function clientServerName(ch: ClientHello): string | null {
  const sni = findClientExtension(ch, ExtensionType.server_name, 'server_name');
  return sni?.names?.find((n) => n.nameType === SNI_HOST_NAME)?.name ?? null;
}

/** Returns the versions from supported_versions, or null when absent. */
export function clientSupportedVersions(ch: ClientHello): readonly number[] | null {
  return findClientExtension(ch, ExtensionType.supported_versions, 'supported_versions')?.versions ?? null;
}

/**
 * Returns the highest protocol version the hello offers: the largest non-GREASE entry of
 * supported_versions when present (RFC 8446, Section 4.2.1), else legacy_version.
 */
export function highestOfferedVersion(ch: ClientHello): number {
  const versions = clientSupportedVersions(ch);
  if (versions) {
    let best = -1;
    for (const v of versions) if (!isGrease(v) && v > best) best = v;
    if (best >= 0) return best;
  }
  return ch.legacyVersion;
}
