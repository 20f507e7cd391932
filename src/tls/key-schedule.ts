/**
 * TLS 1.3 key schedule (RFC 8446, Section 7) and the client's ephemeral key exchange.
 *
 * Every function returns fresh bytes computed with node:crypto: HKDF-Extract and HKDF-Expand are
 * composed from `createHmac` exactly as RFC 5869 defines them (Node's `hkdfSync` fuses the two steps,
 * and TLS needs them apart), hashes come from `createHash`, ECDH from `diffieHellman`/`createECDH`.
 * Nothing here keeps state: the caller threads secrets and transcript hashes through.
 *
 * ```
 *              0
 *              |
 *    PSK ->  HKDF-Extract = Early Secret ----> binder_key, c e traffic, e exp master
 *              |
 *        Derive-Secret(., "derived", "")
 *              |
 * (EC)DHE -> HKDF-Extract = Handshake Secret --> c hs traffic, s hs traffic
 *              |
 *        Derive-Secret(., "derived", "")
 *              |
 *    0 -> HKDF-Extract = Master Secret ---------> c ap traffic, s ap traffic, exp master, res master
 * ```
 */
import {
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type Hash,
  type Hmac,
  type KeyObject,
} from 'node:crypto';
import { DecodeError } from '../wire/errors.js';
import { concatBytes } from '../wire/hex.js';
import { encodeWith } from '../wire/writer.js';
import { CipherSuite, HandshakeType, NamedGroup } from './registry.js';

/** The hash functions TLS 1.3 cipher suites use (RFC 8446, Appendix B.4). */
export type HashName = 'sha256' | 'sha384';

/** Output length in bytes of each hash (`Hash.length` in RFC 8446). */
export const HASH_LENGTH: Readonly<Record<HashName, number>> = { sha256: 32, sha384: 48 };

/** AEAD parameters of a TLS 1.3 suite: the node:crypto cipher name, key length and tag length. */
export interface SuiteAead {
  readonly hash: HashName;
  /** node:crypto cipher name for `createCipheriv`. */
  readonly cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-ccm';
  readonly keyLength: number;
  /** Authentication tag length in bytes: 16, or 8 for TLS_AES_128_CCM_8_SHA256 (CCM_8, RFC 6655). */
  readonly tagLength: number;
}

/** The five TLS 1.3 cipher suites (RFC 8446, Appendix B.4) and their AEADs. */
const SUITES: ReadonlyMap<number, SuiteAead> = new Map<number, SuiteAead>([
  [CipherSuite.TLS_AES_128_GCM_SHA256, { hash: 'sha256', cipher: 'aes-128-gcm', keyLength: 16, tagLength: 16 }],
  [CipherSuite.TLS_AES_256_GCM_SHA384, { hash: 'sha384', cipher: 'aes-256-gcm', keyLength: 32, tagLength: 16 }],
  [
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    { hash: 'sha256', cipher: 'chacha20-poly1305', keyLength: 32, tagLength: 16 },
  ],
  [CipherSuite.TLS_AES_128_CCM_SHA256, { hash: 'sha256', cipher: 'aes-128-ccm', keyLength: 16, tagLength: 16 }],
  [CipherSuite.TLS_AES_128_CCM_8_SHA256, { hash: 'sha256', cipher: 'aes-128-ccm', keyLength: 16, tagLength: 8 }],
]);

/** Returns the AEAD parameters of a TLS 1.3 cipher suite, or `null` for any other value. */
export function suiteAead(suite: number): SuiteAead | null {
  return SUITES.get(suite) ?? null;
}

/** Returns the transcript/HKDF hash of a TLS 1.3 cipher suite, or `null` when `suite` is not one. */
export function hashForSuite(suite: number): HashName | null {
  return SUITES.get(suite)?.hash ?? null;
}

/**
 * RFC 8446, Section 5.3: every TLS 1.3 AEAD uses a 12-byte per-record nonce (N_MIN = 12 of RFC 5116),
 * so `iv_length` is 12 for all suites.
 */
export const TLS13_IV_LENGTH = 12;

/** "tls13 " prefix of every HkdfLabel.label (RFC 8446, Section 7.1). */
const LABEL_PREFIX = 'tls13 ';

function zeros(n: number): Uint8Array {
  return new Uint8Array(n);
}

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Returns the digest of a hash or HMAC as fresh bytes, read through its latin1 text (one character
 * per byte, so the bytes are the digest's exactly). `digest()` hands back a Buffer with an
 * ArrayBuffer of its own, allocated and collected outside the JS heap; for 16-64-byte digests that
 * cost more than the HMAC itself (an HMAC with digest() 4.6-5.1 µs, with this 3.1-3.5 µs, in a
 * micro-benchmark on the reference machine), and a capture analysis makes a dozen per connection.
 */
export function digestBytes(h: Hash | Hmac): Uint8Array {
  const text = h.digest('binary'); // 'binary' is latin1: one character per byte
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function checkHash(hash: HashName): number {
  const n = HASH_LENGTH[hash];
  if (n === undefined) throw new TypeError(`unsupported hash ${String(hash)}`);
  return n;
}

/**
 * Returns HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM) (RFC 5869, Section 2.2). An empty salt is
 * the RFC's "string of HashLen zeros" (HMAC pads keys with zeros, so both give the same PRK).
 */
export function hkdfExtract(hash: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  const n = checkHash(hash);
  return digestBytes(createHmac(hash, salt.byteLength === 0 ? zeros(n) : salt).update(ikm));
}

/**
 * Returns HKDF-Expand(PRK, info, L) (RFC 5869, Section 2.3): T(1) | T(2) | … cut to `length` bytes,
 * where T(i) = HMAC-Hash(PRK, T(i-1) | info | i). Throws `TypeError` when `length` exceeds 255·HashLen.
 */
export function hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const n = checkHash(hash);
  if (!Number.isInteger(length) || length < 0 || length > 255 * n) {
    throw new TypeError(`HKDF-Expand length ${length} out of range 0..${255 * n}`);
  }
  const out = new Uint8Array(length);
  // T(0) is empty, so the first block hashes only info | 0x01 (one HMAC object per block is the floor:
  // node:crypto cannot reuse a keyed HMAC).
  let t: Uint8Array | null = null;
  for (let i = 1, o = 0; o < length; i++) {
    const h = createHmac(hash, prk);
    if (t !== null) h.update(t);
    COUNTER[0] = i;
    t = digestBytes(h.update(info).update(COUNTER));
    out.set(t.byteLength <= length - o ? t : t.subarray(0, length - o), o);
    o += t.byteLength;
  }
  return out;
}

/** The one-byte block counter of HKDF-Expand; `update` copies it at once, so one array serves every call. */
const COUNTER = new Uint8Array(1);

/**
 * Encoded `"tls13 " + Label` of the labels seen so far. The key schedule uses a dozen fixed labels
 * ("key", "iv", "finished", "c hs traffic", …) for every connection a capture decrypts; exporter
 * labels come from callers, so the cache stops growing at this many entries (the rest are encoded
 * each time).
 */
const MAX_CACHED_LABELS = 64;
const labelCache = new Map<string, Uint8Array>();

function fullLabelBytes(label: string): Uint8Array {
  let b = labelCache.get(label);
  if (b === undefined) {
    b = new TextEncoder().encode(LABEL_PREFIX + label);
    if (labelCache.size < MAX_CACHED_LABELS) labelCache.set(label, b);
  }
  return b;
}

/**
 * Returns the serialized HkdfLabel (RFC 8446, Section 7.1). Throws `TypeError` on an empty label and
 * `EncodeError` when the label or context is longer than its one-byte length prefix allows.
 *
 * ```
 * struct {
 *     uint16 length = Length;
 *     opaque label<7..255> = "tls13 " + Label;
 *     opaque context<0..255> = Context;
 * } HkdfLabel;
 * ```
 */
export function hkdfLabel(label: string, context: Uint8Array, length: number): Uint8Array {
  if (label.length === 0) throw new TypeError('HKDF label must not be empty (label<7..255> with the "tls13 " prefix)');
  const fullLabel = fullLabelBytes(label);
  if (
    fullLabel.byteLength <= 0xff &&
    context.byteLength <= 0xff &&
    Number.isInteger(length) &&
    length >= 0 &&
    length <= 0xffff
  ) {
    // Every field fits its prefix: lay the struct out directly (what the Writer below produces).
    const out = new Uint8Array(4 + fullLabel.byteLength + context.byteLength);
    out[0] = length >>> 8;
    out[1] = length & 0xff;
    out[2] = fullLabel.byteLength;
    out.set(fullLabel, 3);
    out[3 + fullLabel.byteLength] = context.byteLength;
    out.set(context, 4 + fullLabel.byteLength);
    return out;
  }
  // Out of range: the Writer throws the EncodeError that says which field overflowed.
  return encodeWith((w) => {
    w.u16(length);
    w.vec(1, fullLabel);
    w.vec(1, context);
  });
}

/**
 * Returns HKDF-Expand-Label(Secret, Label, Context, Length) = HKDF-Expand(Secret, HkdfLabel, Length)
 * (RFC 8446, Section 7.1). `label` is given without the "tls13 " prefix.
 */
export function hkdfExpandLabel(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  return hkdfExpand(hash, secret, hkdfLabel(label, context, length), length);
}

/**
 * Returns Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label,
 * Transcript-Hash(Messages), Hash.length) (RFC 8446, Section 7.1), taking the transcript hash itself.
 */
export function deriveSecret(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  transcriptHash: Uint8Array,
): Uint8Array {
  return hkdfExpandLabel(hash, secret, label, transcriptHash, checkHash(hash));
}

/**
 * Returns Transcript-Hash(M1 || M2 || … || MN) (RFC 8446, Section 4.4.1). Each message is the full
 * handshake message with its 4-byte header, as sent (no record headers); `[]` gives Hash("").
 */
export function transcriptHash(hash: HashName, messages: readonly Uint8Array[]): Uint8Array {
  checkHash(hash);
  const h = createHash(hash);
  for (const m of messages) h.update(m);
  return digestBytes(h);
}

/**
 * Returns the synthetic `message_hash` handshake message that replaces ClientHello1 in the
 * transcript after a HelloRetryRequest (RFC 8446, Section 4.4.1):
 * `message_hash(254) || 00 00 Hash.length || Hash(ClientHello1)`.
 */
export function messageHash(hash: HashName, clientHello1: Uint8Array): Uint8Array {
  const digest = transcriptHash(hash, [clientHello1]);
  return encodeWith((w) => {
    w.u8(HandshakeType.message_hash);
    w.vec(3, digest);
  });
}

/** Returns the Early Secret, HKDF-Extract(0, PSK) with PSK = 0 when absent (RFC 8446, Section 7.1). */
export function earlySecret(hash: HashName, psk?: Uint8Array): Uint8Array {
  const n = checkHash(hash);
  return hkdfExtract(hash, zeros(n), psk ?? zeros(n));
}

/** Secrets derived from the Early Secret and the ClientHello (RFC 8446, Section 7.1). */
export interface EarlySecrets {
  readonly clientEarlyTrafficSecret: Uint8Array;
  readonly earlyExporterMasterSecret: Uint8Array;
}

/**
 * Returns `client_early_traffic_secret` and `early_exporter_master_secret` from the Early Secret and
 * Transcript-Hash(ClientHello) (the full ClientHello, binders included).
 */
export function earlySecrets(hash: HashName, early: Uint8Array, clientHelloHash: Uint8Array): EarlySecrets {
  return {
    clientEarlyTrafficSecret: deriveSecret(hash, early, 'c e traffic', clientHelloHash),
    earlyExporterMasterSecret: deriveSecret(hash, early, 'e exp master', clientHelloHash),
  };
}

/**
 * Returns the PSK binder key, Derive-Secret(Early Secret, "res binder" | "ext binder", "") (RFC 8446,
 * Section 7.1): "res" for resumption PSKs, "ext" for external ones. The binder itself is
 * `finishedVerifyData(hash, binderKey, Transcript-Hash(truncated ClientHello))` (Section 4.2.11.2).
 */
export function binderKey(hash: HashName, early: Uint8Array, kind: 'res' | 'ext'): Uint8Array {
  return deriveSecret(hash, early, `${kind} binder`, transcriptHash(hash, []));
}

/** Secrets of the handshake phase (RFC 8446, Section 7.1). */
export interface HandshakeSecrets {
  readonly earlySecret: Uint8Array;
  readonly handshakeSecret: Uint8Array;
  readonly clientHandshakeTrafficSecret: Uint8Array;
  readonly serverHandshakeTrafficSecret: Uint8Array;
  readonly masterSecret: Uint8Array;
}

/**
 * Returns the Early, Handshake and Master secrets and both handshake traffic secrets.
 *
 * `sharedSecret` is the (EC)DHE output (use Hash.length zeros for psk_ke without DHE),
 * `helloTranscriptHash` is Transcript-Hash(ClientHello…ServerHello) (with the message_hash
 * substitution after a HelloRetryRequest), and `psk` the pre-shared key when resuming.
 */
export function handshakeSecrets(
  hash: HashName,
  sharedSecret: Uint8Array,
  helloTranscriptHash: Uint8Array,
  psk?: Uint8Array,
): HandshakeSecrets {
  const n = checkHash(hash);
  const emptyHash = transcriptHash(hash, []);
  const early = earlySecret(hash, psk);
  const handshakeSecret = hkdfExtract(hash, deriveSecret(hash, early, 'derived', emptyHash), sharedSecret);
  const masterSecret = hkdfExtract(hash, deriveSecret(hash, handshakeSecret, 'derived', emptyHash), zeros(n));
  return {
    earlySecret: early,
    handshakeSecret,
    clientHandshakeTrafficSecret: deriveSecret(hash, handshakeSecret, 'c hs traffic', helloTranscriptHash),
    serverHandshakeTrafficSecret: deriveSecret(hash, handshakeSecret, 's hs traffic', helloTranscriptHash),
    masterSecret,
  };
}

/** Secrets derived from the Master Secret (RFC 8446, Section 7.1). */
export interface ApplicationSecrets {
  readonly clientApplicationTrafficSecret: Uint8Array;
  readonly serverApplicationTrafficSecret: Uint8Array;
  readonly exporterMasterSecret: Uint8Array;
}

/**
 * Returns `client_application_traffic_secret_0`, `server_application_traffic_secret_0` and
 * `exporter_master_secret`, given Transcript-Hash(ClientHello…server Finished).
 */
export function applicationSecrets(
  hash: HashName,
  masterSecret: Uint8Array,
  serverFinishedTranscriptHash: Uint8Array,
): ApplicationSecrets {
  return {
    clientApplicationTrafficSecret: deriveSecret(hash, masterSecret, 'c ap traffic', serverFinishedTranscriptHash),
    serverApplicationTrafficSecret: deriveSecret(hash, masterSecret, 's ap traffic', serverFinishedTranscriptHash),
    exporterMasterSecret: deriveSecret(hash, masterSecret, 'exp master', serverFinishedTranscriptHash),
  };
}

/**
 * Returns `resumption_master_secret`, given Transcript-Hash(ClientHello…client Finished)
 * (RFC 8446, Section 7.1).
 */
export function resumptionMasterSecret(
  hash: HashName,
  masterSecret: Uint8Array,
  clientFinishedTranscriptHash: Uint8Array,
): Uint8Array {
  return deriveSecret(hash, masterSecret, 'res master', clientFinishedTranscriptHash);
}

/**
 * Returns the PSK a NewSessionTicket stands for, HKDF-Expand-Label(resumption_master_secret,
 * "resumption", ticket_nonce, Hash.length) (RFC 8446, Section 4.6.1).
 */
export function resumptionPsk(hash: HashName, resumptionMaster: Uint8Array, ticketNonce: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, resumptionMaster, 'resumption', ticketNonce, checkHash(hash));
}

/**
 * Returns TLS-Exporter(label, context_value, key_length) (RFC 8446, Section 7.5) from an
 * `exporter_master_secret` (or `early_exporter_master_secret`). `context` is the context value,
 * hashed here; pass an empty array for "no context" (TLS 1.3 does not distinguish the two).
 */
export function exportKeyingMaterial(
  hash: HashName,
  exporterSecret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const perLabel = deriveSecret(hash, exporterSecret, label, transcriptHash(hash, []));
  return hkdfExpandLabel(hash, perLabel, 'exporter', transcriptHash(hash, [context]), length);
}

/** The write key and IV of one traffic secret (RFC 8446, Section 7.3). */
export interface TrafficKeys {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
}

/**
 * Returns `[sender]_write_key` = HKDF-Expand-Label(Secret, "key", "", key_length) and
 * `[sender]_write_iv` = HKDF-Expand-Label(Secret, "iv", "", iv_length) (RFC 8446, Section 7.3).
 * Throws `TypeError` when `suite` is not a TLS 1.3 suite or does not use `hash`.
 */
export function trafficKeys(hash: HashName, suite: number, trafficSecret: Uint8Array): TrafficKeys {
  const aead = SUITES.get(suite);
  if (!aead) throw new TypeError(`0x${suite.toString(16).padStart(4, '0')} is not a TLS 1.3 cipher suite`);
  if (aead.hash !== hash) {
    throw new TypeError(`cipher suite 0x${suite.toString(16).padStart(4, '0')} uses ${aead.hash}, not ${hash}`);
  }
  const empty = new Uint8Array(0);
  return {
    key: hkdfExpandLabel(hash, trafficSecret, 'key', empty, aead.keyLength),
    iv: hkdfExpandLabel(hash, trafficSecret, 'iv', empty, TLS13_IV_LENGTH),
  };
}

/**
 * Returns Finished.verify_data = HMAC(finished_key, transcriptHash) with finished_key =
 * HKDF-Expand-Label(BaseKey, "finished", "", Hash.length) (RFC 8446, Section 4.4.4). `baseKey` is the
 * sender's handshake traffic secret (or a PSK binder key, Section 4.2.11.2).
 */
export function finishedVerifyData(hash: HashName, baseKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
  const finishedKey = hkdfExpandLabel(hash, baseKey, 'finished', new Uint8Array(0), checkHash(hash));
  return digestBytes(createHmac(hash, finishedKey).update(transcriptHash));
}

// ---------------------------------------------------------------------------------------------
// Key exchange (RFC 8446, Section 4.2.8.2 for the wire forms, Section 7.4 for the shared secret).

/** An ephemeral key pair for one `KeyShareEntry`; the private half stays inside `computeSecret`. */
export interface KeyShareKeyPair {
  readonly group: number;
  /** `key_exchange` as sent: 32/56 raw bytes for X25519/X448, `0x04 || X || Y` for the NIST curves. */
  readonly publicKey: Uint8Array;
  /**
   * Returns the (EC)DHE shared secret with the peer's `key_exchange`: the raw X25519/X448 output, or
   * the x-coordinate for the NIST curves (RFC 8446, Section 7.4.2). Throws `DecodeError('bad-value')`
   * when the peer's key has the wrong length or form, is not on the curve, or yields all zeros.
   */
  computeSecret(peerPublic: Uint8Array): Uint8Array;
}

interface MontgomeryParams {
  readonly kind: 'montgomery';
  readonly name: 'x25519' | 'x448';
  /** The curve's name in a JWK (RFC 8037, Section 2). */
  readonly jwkCurve: 'X25519' | 'X448';
  readonly length: number;
  /** DER of SubjectPublicKeyInfo up to the raw key (RFC 8410, Section 4). */
  readonly spkiPrefix: Uint8Array;
  /** DER of OneAsymmetricKey up to the raw private key (RFC 8410, Section 7). */
  readonly pkcs8Prefix: Uint8Array;
}

interface WeierstrassParams {
  readonly kind: 'weierstrass';
  /** OpenSSL curve name for `createECDH`. */
  readonly name: 'prime256v1' | 'secp384r1' | 'secp521r1';
  /** Byte length of one coordinate (and of the private scalar). */
  readonly coordinateLength: number;
}

type GroupParams = MontgomeryParams | WeierstrassParams;

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

const GROUPS: ReadonlyMap<number, GroupParams> = new Map<number, GroupParams>([
  [NamedGroup.secp256r1, { kind: 'weierstrass', name: 'prime256v1', coordinateLength: 32 }],
  [NamedGroup.secp384r1, { kind: 'weierstrass', name: 'secp384r1', coordinateLength: 48 }],
  [NamedGroup.secp521r1, { kind: 'weierstrass', name: 'secp521r1', coordinateLength: 66 }],
  [
    NamedGroup.x25519,
    {
      kind: 'montgomery',
      name: 'x25519',
      jwkCurve: 'X25519',
      length: 32,
      // SEQUENCE { SEQUENCE { OID 1.3.101.110 } BIT STRING (33 bytes, 0 unused bits) }
      spkiPrefix: hexBytes('302a300506032b656e032100'),
      // SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.110 }, OCTET STRING { OCTET STRING (32) } }
      pkcs8Prefix: hexBytes('302e020100300506032b656e04220420'),
    },
  ],
  [
    NamedGroup.x448,
    {
      kind: 'montgomery',
      name: 'x448',
      jwkCurve: 'X448',
      length: 56,
      // Same shapes with OID 1.3.101.111 and 56-byte keys.
      spkiPrefix: hexBytes('3042300506032b656f033900'),
      pkcs8Prefix: hexBytes('3046020100300506032b656f043a0438'),
    },
  ],
]);

/** NamedGroup values `generateKeyShare` accepts, in preference order for a probe. */
export const SUPPORTED_KEY_SHARE_GROUPS: readonly number[] = [
  NamedGroup.x25519,
  NamedGroup.secp256r1,
  NamedGroup.secp384r1,
  NamedGroup.secp521r1,
  NamedGroup.x448,
];

function groupParams(group: number): GroupParams {
  const p = GROUPS.get(group);
  if (!p) throw new TypeError(`unsupported key share group 0x${group.toString(16).padStart(4, '0')}`);
  return p;
}

const KEY_EXCHANGE_PATH = 'KeyShareEntry/key_exchange';

function badPeerKey(detail: string): never {
  throw new DecodeError('bad-value', detail, 0, KEY_EXCHANGE_PATH);
}

function montgomeryPair(group: number, p: MontgomeryParams, privateKey: KeyObject): KeyShareKeyPair {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = u8(spki).slice(p.spkiPrefix.byteLength);
  return {
    group,
    publicKey,
    computeSecret(peerPublic: Uint8Array): Uint8Array {
      if (peerPublic.byteLength !== p.length) {
        badPeerKey(`${p.name} key_exchange must be ${p.length} bytes, got ${peerPublic.byteLength}`);
      }
      let secret: Uint8Array;
      try {
        // As a JWK: OpenSSL 3 decodes a DER SubjectPublicKeyInfo through its decoder framework,
        // ~85 us against ~8 us for the same key as JWK (13-19% of a TLS 1.3 probe's CPU).
        const x = Buffer.from(peerPublic.buffer, peerPublic.byteOffset, peerPublic.byteLength).toString('base64url');
        const peer = createPublicKey({ key: { kty: 'OKP', crv: p.jwkCurve, x }, format: 'jwk' });
        secret = u8(diffieHellman({ privateKey, publicKey: peer }));
      } catch (e) {
        // OpenSSL refuses to derive from a small-order point (all-zero output).
        badPeerKey(`${p.name} key agreement failed: ${(e as Error).message}`);
      }
      // RFC 8446, Section 7.4.2 / RFC 7748, Section 6: an all-zero shared secret MUST be rejected.
      if (secret.every((b) => b === 0)) badPeerKey(`${p.name} shared secret is all zeros (small-order peer key)`);
      return secret;
    },
  };
}

function weierstrassPair(group: number, p: WeierstrassParams, privateScalar: Uint8Array | null): KeyShareKeyPair {
  const ecdh = createECDH(p.name);
  if (privateScalar) ecdh.setPrivateKey(privateScalar);
  else ecdh.generateKeys();
  const publicKey = u8(ecdh.getPublicKey(null, 'uncompressed'));
  const pointLength = 1 + 2 * p.coordinateLength;
  return {
    group,
    publicKey,
    computeSecret(peerPublic: Uint8Array): Uint8Array {
      // RFC 8446, Section 4.2.8.2: UncompressedPointRepresentation { legacy_form = 4; X; Y }.
      if (peerPublic.byteLength !== pointLength || peerPublic[0] !== 0x04) {
        badPeerKey(`${p.name} key_exchange must be an uncompressed point of ${pointLength} bytes starting 0x04`);
      }
      try {
        // Node checks that the point lies on the curve; the result is the x-coordinate (Section 7.4.1).
        return u8(ecdh.computeSecret(peerPublic));
      } catch (e) {
        badPeerKey(`${p.name} point rejected: ${(e as Error).message}`);
      }
    },
  };
}

/**
 * Returns a fresh ephemeral key pair for `group` (x25519 0x001d, x448 0x001e, secp256r1 0x0017,
 * secp384r1 0x0018, secp521r1 0x0019). Throws `TypeError` for any other group.
 */
export function generateKeyShare(group: number): KeyShareKeyPair {
  const p = groupParams(group);
  if (p.kind === 'weierstrass') return weierstrassPair(group, p, null);
  const { privateKey } = p.name === 'x25519' ? generateKeyPairSync('x25519') : generateKeyPairSync('x448');
  return montgomeryPair(group, p, privateKey);
}

/**
 * Returns the key pair for a known raw private key (the 32/56-byte X25519/X448 scalar, or the
 * big-endian EC private scalar), for replaying published traces. Throws `TypeError` for an
 * unsupported group or a private key of the wrong length.
 */
export function keyShareFromPrivateKey(group: number, privateKey: Uint8Array): KeyShareKeyPair {
  const p = groupParams(group);
  const want = p.kind === 'montgomery' ? p.length : p.coordinateLength;
  if (privateKey.byteLength !== want) {
    throw new TypeError(`${p.name} private key must be ${want} bytes, got ${privateKey.byteLength}`);
  }
  if (p.kind === 'weierstrass') return weierstrassPair(group, p, privateKey);
  const key = createPrivateKey({
    key: Buffer.from(concatBytes(p.pkcs8Prefix, privateKey)),
    format: 'der',
    type: 'pkcs8',
  });
  return montgomeryPair(group, p, key);
}
