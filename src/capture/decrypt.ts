/**
 * Returns record-protection states and plaintexts for decrypting captured TLS handshakes from key
 * log secrets; throws `DecodeError('decrypt-failed')` when a record does not authenticate.
 *
 * TLS 1.3 (RFC 8446, Section 7.3): the key log's `{CLIENT,SERVER}_HANDSHAKE_TRAFFIC_SECRET` (and
 * `CLIENT_EARLY_TRAFFIC_SECRET`) give the traffic secret directly; `trafficKeys` derives the write
 * key and IV and `src/tls/protection.ts` opens the records.
 *
 * TLS 1.0-1.2: the key log's `CLIENT_RANDOM` line gives the 48-byte master secret. The key block
 * comes from the PRF (RFC 5246, Section 5 for TLS 1.2: P_SHA256, or P_SHA384 for the SHA-384
 * suites of RFC 5289; RFC 2246, Section 5 for TLS 1.0/1.1: P_MD5 XOR P_SHA1), each P_hash composed
 * from node:crypto `createHmac`. Records are opened with node:crypto ciphers: AES-GCM and AES-CCM
 * (RFC 5288, RFC 6655), ChaCha20-Poly1305 (RFC 7905), CBC with MAC-then-encrypt (RFC 5246,
 * Section 6.2.3.2) or encrypt-then-MAC (RFC 7366), and NULL ciphers. SSL 3.0 and stream ciphers
 * (RC4, which OpenSSL 3 no longer offers) are reported as unsupported, never guessed at.
 */
import { createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { DecodeError } from '../wire/errors.js';
import { cipherSuiteInfo } from '../tls/registry.js';
import type { KeyLog } from '../tls/keylog.js';
import { KeyLogLabel } from '../tls/keylog.js';
import { HASH_LENGTH, digestBytes, hashForSuite, trafficKeys } from '../tls/key-schedule.js';
import type { HashName } from '../tls/key-schedule.js';
import { newProtectionState } from '../tls/protection.js';
import type { ProtectionState } from '../tls/protection.js';

// ---------------------------------------------------------------------------------------------
// TLS 1.3
// ---------------------------------------------------------------------------------------------

/** Which key log secret protects a TLS 1.3 record. */
export type Tls13Epoch = 'client-early' | 'client-handshake' | 'server-handshake';

const TLS13_LABELS: Readonly<Record<Tls13Epoch, string>> = {
  'client-early': KeyLogLabel.CLIENT_EARLY_TRAFFIC_SECRET,
  'client-handshake': KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET,
  'server-handshake': KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET,
};

/** A TLS 1.3 protection state plus what the Finished check needs. */
export interface Tls13Protection {
  readonly state: ProtectionState;
  readonly hash: HashName;
  /** The traffic secret (the Finished key's base key, RFC 8446, Section 4.4.4). */
  readonly secret: Uint8Array;
}

/**
 * Returns the protection state of one TLS 1.3 epoch for the connection with `clientRandom`, or null
 * when the key log has no such secret, the suite is not a TLS 1.3 AEAD suite, or the secret's
 * length is not the suite's hash length.
 */
export function tls13Protection(
  keyLog: Pick<KeyLog, 'lookup'>,
  clientRandom: Uint8Array,
  suite: number,
  epoch: Tls13Epoch,
): Tls13Protection | null {
  const hash = hashForSuite(suite);
  if (hash === null) return null;
  const secret = keyLog.lookup(clientRandom, TLS13_LABELS[epoch]);
  if (!secret || secret.length !== HASH_LENGTH[hash]) return null;
  return { state: newProtectionState(suite, trafficKeys(hash, suite, secret)), hash, secret };
}

// ---------------------------------------------------------------------------------------------
// TLS 1.0-1.2 PRF
// ---------------------------------------------------------------------------------------------

export type PrfHash = 'md5' | 'sha1' | 'sha256' | 'sha384';

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

/**
 * Encoded PRF labels: "key expansion" and the two Finished labels serve every connection a capture
 * decrypts. `prf` is public, so the cache stops growing at this many labels (the rest are encoded
 * each time).
 */
const MAX_CACHED_LABELS = 16;
const labelBytes = new Map<string, Uint8Array>();

function asciiLabel(label: string): Uint8Array {
  let b = labelBytes.get(label);
  if (b === undefined) {
    b = ascii(label);
    if (labelBytes.size < MAX_CACHED_LABELS) labelBytes.set(label, b);
  }
  return b;
}

/** Returns `a || b` in a new array. */
function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Returns P_hash(secret, seed) cut to `length` bytes (RFC 5246, Section 5):
 * `HMAC_hash(secret, A(1) + seed) + HMAC_hash(secret, A(2) + seed) + …` with A(0) = seed and
 * A(i) = HMAC_hash(secret, A(i-1)).
 */
export function pHash(hash: PrfHash, secret: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  return pHashOf(hash, secret, [seed], length);
}

/**
 * `pHash` with the seed given as consecutive parts (label, then seed), hashed in turn rather than
 * joined into a new array first.
 */
function pHashOf(hash: PrfHash, secret: Uint8Array, seed: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let a: Uint8Array | null = null;
  // Two HMACs per block is the floor: node:crypto cannot reuse a keyed HMAC.
  for (let o = 0; o < length; ) {
    const h = createHmac(hash, secret);
    if (a === null) for (const part of seed) h.update(part);
    else h.update(a);
    a = digestBytes(h);
    const b = createHmac(hash, secret).update(a);
    for (const part of seed) b.update(part);
    const block = digestBytes(b);
    out.set(block.length <= length - o ? block : block.subarray(0, length - o), o);
    o += block.length;
  }
  return out;
}

/** Returns the PRF hash of TLS 1.2 for `suite`: SHA-384 for the suites that name it (RFC 5289), else SHA-256. */
export function tls12PrfHash(suite: number): 'sha256' | 'sha384' {
  return cipherSuiteInfo(suite)?.mac === 'SHA384' ? 'sha384' : 'sha256';
}

/**
 * Returns PRF(secret, label, seed) of `version` cut to `length` bytes: the TLS 1.2 PRF with the
 * suite's hash (RFC 5246, Section 5), or for TLS 1.0/1.1 P_MD5(S1, …) XOR P_SHA1(S2, …) over the two
 * (overlapping when odd) halves of the secret (RFC 2246, Section 5). Throws `RangeError` for SSL 3.0
 * and anything older, whose key derivation is not a PRF.
 */
export function prf(
  version: number,
  suite: number,
  secret: Uint8Array,
  label: string,
  seed: Uint8Array,
  length: number,
): Uint8Array {
  const labelSeed = [asciiLabel(label), seed];
  if (version >= 0x0303) return pHashOf(tls12PrfHash(suite), secret, labelSeed, length);
  if (version < 0x0301)
    throw new RangeError(
      `no TLS PRF for version 0x${version.toString(16).padStart(4, '0')} (SSL 3.0 derives keys differently)`,
    );
  const half = Math.ceil(secret.length / 2);
  const md5 = pHashOf('md5', secret.subarray(0, half), labelSeed, length);
  const sha1 = pHashOf('sha1', secret.subarray(secret.length - half), labelSeed, length);
  for (let i = 0; i < length; i++) md5[i] = md5[i]! ^ sha1[i]!;
  return md5;
}

/**
 * Returns Finished.verify_data (12 bytes) = PRF(master_secret, finished_label,
 * Hash(handshake_messages)) (RFC 5246, Section 7.4.9); for TLS 1.0/1.1 the hash is MD5 || SHA-1
 * (RFC 2246, Section 7.4.9). `messages` are the handshake messages with their headers, in order.
 */
export function tls12VerifyData(
  version: number,
  suite: number,
  master: Uint8Array,
  sender: 'client' | 'server',
  messages: readonly Uint8Array[],
): Uint8Array {
  const digest = (h: string): Uint8Array => {
    const x = createHash(h);
    for (const m of messages) x.update(m);
    return digestBytes(x);
  };
  const handshakeHash = version >= 0x0303 ? digest(tls12PrfHash(suite)) : concat2(digest('md5'), digest('sha1'));
  return tls12FinishedVerifyData(version, suite, master, sender, handshakeHash);
}

/**
 * Returns the hash algorithms of the TLS 1.0-1.2 handshake hash for `version` and `suite`: the
 * PRF's hash for TLS 1.2, MD5 then SHA-1 (concatenated) before it (RFC 5246 and RFC 2246,
 * Section 7.4.9). A caller hashing the messages as they come digests each and concatenates.
 */
export function tls12HandshakeHashes(version: number, suite: number): readonly PrfHash[] {
  return version >= 0x0303 ? [tls12PrfHash(suite)] : MD5_SHA1;
}

const MD5_SHA1: readonly PrfHash[] = ['md5', 'sha1'];

/**
 * Returns Finished.verify_data = PRF(master_secret, finished_label, handshakeHash) cut to 12 bytes
 * (RFC 5246, Section 7.4.9), given the handshake hash already computed (see
 * `tls12HandshakeHashes`). Throws `RangeError` for SSL 3.0, as `prf` does.
 */
export function tls12FinishedVerifyData(
  version: number,
  suite: number,
  master: Uint8Array,
  sender: 'client' | 'server',
  handshakeHash: Uint8Array,
): Uint8Array {
  return prf(version, suite, master, `${sender} finished`, handshakeHash, 12);
}

// ---------------------------------------------------------------------------------------------
// TLS 1.0-1.2 record protection
// ---------------------------------------------------------------------------------------------

/** How a TLS 1.0-1.2 suite protects records. */
export interface Tls12Cipher {
  readonly kind: 'gcm' | 'ccm' | 'chacha20' | 'cbc' | 'null';
  /** node:crypto cipher name (empty for NULL). */
  readonly cipher: string;
  readonly keyLength: number;
  /** Implicit IV bytes from the key block: 4 for GCM/CCM (RFC 5288, 6655), 12 for ChaCha20 (RFC 7905), 0 otherwise. */
  readonly fixedIvLength: number;
  /** Explicit nonce bytes at the start of each record: 8 for GCM/CCM, 0 for ChaCha20. */
  readonly explicitNonceLength: number;
  readonly tagLength: number;
  readonly blockSize: number;
  /** HMAC hash for CBC and NULL suites; null for AEADs. */
  readonly mac: PrfHash | null;
}

const MAC_HASHES: Readonly<Record<string, PrfHash>> = { MD5: 'md5', SHA1: 'sha1', SHA256: 'sha256', SHA384: 'sha384' };

const MAC_LENGTHS: Readonly<Record<PrfHash, number>> = { md5: 16, sha1: 20, sha256: 32, sha384: 48 };

/** Bulk ciphers by the name the suite registry gives them → node:crypto name, key and block size. */
const CBC_CIPHERS: Readonly<Record<string, readonly [string, number, number]>> = {
  AES_128_CBC: ['aes-128-cbc', 16, 16],
  AES_256_CBC: ['aes-256-cbc', 32, 16],
  CAMELLIA_128_CBC: ['camellia-128-cbc', 16, 16],
  CAMELLIA_256_CBC: ['camellia-256-cbc', 32, 16],
  ARIA_128_CBC: ['aria-128-cbc', 16, 16],
  ARIA_256_CBC: ['aria-256-cbc', 32, 16],
  '3DES_EDE_CBC': ['des-ede3-cbc', 24, 8],
};

/**
 * Results of `tls12Cipher` by suite: a capture repeats a handful of suites over thousands of
 * connections. Bounded by the 2^16 suite values.
 */
const cipherCache = new Map<number, Tls12Cipher | null>();

/** Returns how `suite` protects TLS 1.0-1.2 records, or null when we cannot open them (RC4, DES, IDEA, GOST, unknown). */
export function tls12Cipher(suite: number): Tls12Cipher | null {
  let c = cipherCache.get(suite);
  if (c === undefined) {
    c = describeTls12Cipher(suite);
    cipherCache.set(suite, c);
  }
  return c;
}

function describeTls12Cipher(suite: number): Tls12Cipher | null {
  const info = cipherSuiteInfo(suite);
  if (!info || info.tls13) return null;
  const c = info.cipher;
  const gcm = /^(AES|ARIA)_(128|256)_GCM$/.exec(c);
  if (gcm) {
    const bits = Number(gcm[2]);
    return {
      kind: 'gcm',
      cipher: `${gcm[1]!.toLowerCase()}-${bits}-gcm`,
      keyLength: bits / 8,
      fixedIvLength: 4,
      explicitNonceLength: 8,
      tagLength: 16,
      blockSize: 0,
      mac: null,
    };
  }
  const ccm = /^AES_(128|256)_CCM(_8)?$/.exec(c);
  if (ccm) {
    const bits = Number(ccm[1]);
    return {
      kind: 'ccm',
      cipher: `aes-${bits}-ccm`,
      keyLength: bits / 8,
      fixedIvLength: 4,
      explicitNonceLength: 8,
      tagLength: ccm[2] ? 8 : 16,
      blockSize: 0,
      mac: null,
    };
  }
  if (c === 'CHACHA20_POLY1305') {
    return {
      kind: 'chacha20',
      cipher: 'chacha20-poly1305',
      keyLength: 32,
      fixedIvLength: 12,
      explicitNonceLength: 0,
      tagLength: 16,
      blockSize: 0,
      mac: null,
    };
  }
  const mac = MAC_HASHES[info.mac];
  if (!mac) return null;
  if (c === 'NULL')
    return {
      kind: 'null',
      cipher: '',
      keyLength: 0,
      fixedIvLength: 0,
      explicitNonceLength: 0,
      tagLength: 0,
      blockSize: 0,
      mac,
    };
  const cbc = CBC_CIPHERS[c];
  if (cbc)
    return {
      kind: 'cbc',
      cipher: cbc[0],
      keyLength: cbc[1],
      fixedIvLength: 0,
      explicitNonceLength: 0,
      tagLength: 0,
      blockSize: cbc[2],
      mac,
    };
  return null;
}

/** The keys of one direction of a TLS 1.0-1.2 connection plus its record counter. */
export interface Tls12Protection {
  readonly version: number;
  readonly cipher: Tls12Cipher;
  readonly macKey: Uint8Array;
  readonly key: Uint8Array;
  /** The implicit IV (AEAD), or for TLS 1.0 CBC the IV of the next record (the last ciphertext block). */
  iv: Uint8Array;
  /** RFC 7366 encrypt-then-MAC was negotiated (CBC suites only). */
  readonly encryptThenMac: boolean;
  /** Sequence number of the next record (RFC 5246, Section 6.1); starts at 0 after ChangeCipherSpec. */
  seq: bigint;
}

/** Why a connection's TLS 1.0-1.2 records cannot be opened, when they cannot. */
export type Tls12Unsupported = 'version' | 'cipher-suite';

/**
 * Returns both directions' protection states from the master secret, or the reason they cannot be
 * made. key_block = PRF(master_secret, "key expansion", server_random + client_random), cut into
 * client/server MAC keys, write keys, then IVs (RFC 5246, Section 6.3; the IVs only for AEAD suites
 * and for TLS 1.0, whose CBC records carry no explicit IV, RFC 2246, Section 6.3).
 */
export function tls12Protection(
  version: number,
  suite: number,
  master: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  encryptThenMac: boolean,
): { client: Tls12Protection; server: Tls12Protection } | Tls12Unsupported {
  if (version < 0x0301 || version > 0x0303) return 'version';
  const cipher = tls12Cipher(suite);
  if (!cipher) return 'cipher-suite';
  const macLength = cipher.mac ? MAC_LENGTHS[cipher.mac] : 0;
  const ivLength = cipher.kind === 'cbc' ? (version === 0x0301 ? cipher.blockSize : 0) : cipher.fixedIvLength;
  const total = 2 * (macLength + cipher.keyLength + ivLength);
  const block = prf(version, suite, master, 'key expansion', concat2(serverRandom, clientRandom), total);
  let o = 0;
  const take = (n: number): Uint8Array => {
    const start = o;
    o += n;
    return block.slice(start, o);
  };
  const clientMac = take(macLength);
  const serverMac = take(macLength);
  const clientKey = take(cipher.keyLength);
  const serverKey = take(cipher.keyLength);
  const clientIv = take(ivLength);
  const serverIv = take(ivLength);
  const etm = encryptThenMac && cipher.kind === 'cbc';
  return {
    client: { version, cipher, macKey: clientMac, key: clientKey, iv: clientIv, encryptThenMac: etm, seq: 0n },
    server: { version, cipher, macKey: serverMac, key: serverKey, iv: serverIv, encryptThenMac: etm, seq: 0n },
  };
}

/** Writes the 64-bit sequence number big-endian at `at` (RFC 5246, Section 6.1: uint64 seq_num). */
function putSeq(out: Uint8Array, at: number, seq: bigint): void {
  const high = Number((seq >> 32n) & 0xffffffffn);
  const low = Number(seq & 0xffffffffn);
  out[at] = high >>> 24;
  out[at + 1] = (high >>> 16) & 0xff;
  out[at + 2] = (high >>> 8) & 0xff;
  out[at + 3] = high & 0xff;
  out[at + 4] = low >>> 24;
  out[at + 5] = (low >>> 16) & 0xff;
  out[at + 6] = (low >>> 8) & 0xff;
  out[at + 7] = low & 0xff;
}

/** Returns `seq_num || type || version || length` (RFC 5246, Sections 6.2.3.1 and 6.2.3.3). */
function additionalData(seq: bigint, type: number, version: number, length: number): Uint8Array {
  const ad = new Uint8Array(13);
  putSeq(ad, 0, seq);
  ad[8] = type;
  ad[9] = version >> 8;
  ad[10] = version & 0xff;
  ad[11] = length >> 8;
  ad[12] = length & 0xff;
  return ad;
}

const failed = (detail: string): DecodeError => new DecodeError('decrypt-failed', detail, 5, 'TLSCiphertext/fragment');

/** Returns HMAC(MAC_write_key, seq_num + type + version + length + content) (RFC 5246, Section 6.2.3.1). */
function hmac(p: Tls12Protection, type: number, version: number, content: Uint8Array): Uint8Array {
  return digestBytes(
    createHmac(p.cipher.mac!, p.macKey)
      .update(additionalData(p.seq, type, version, content.length))
      .update(content),
  );
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

/** Returns the output of a decipher's `update` then `final`, joined only when `final` gave bytes (AEADs give none). */
function deciphered(head: Buffer, tail: Buffer): Uint8Array {
  return u8(tail.length === 0 ? head : Buffer.concat([head, tail]));
}

/** Returns the AEAD plaintext of `sealed` (ciphertext || tag), or null when the tag does not verify. */
function openAead(
  c: Tls12Cipher,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array | null {
  const body = sealed.subarray(0, sealed.length - c.tagLength);
  const tag = sealed.subarray(sealed.length - c.tagLength);
  try {
    if (c.kind === 'gcm') {
      const d = createDecipheriv(c.cipher as 'aes-128-gcm', key, nonce, { authTagLength: c.tagLength });
      d.setAuthTag(tag);
      d.setAAD(aad);
      const head = d.update(body);
      return deciphered(head, d.final());
    }
    const d = createDecipheriv(c.cipher as 'aes-128-ccm', key, nonce, { authTagLength: c.tagLength });
    d.setAuthTag(tag);
    d.setAAD(aad, { plaintextLength: body.length });
    const head = d.update(body);
    return deciphered(head, d.final());
  } catch {
    return null;
  }
}

/**
 * Returns the plaintext of one TLS 1.0-1.2 protected record's `fragment` (record `type` and header
 * `version` as received) and advances `p.seq`. Throws `DecodeError('decrypt-failed')` when the tag,
 * MAC or CBC padding does not verify (wrong key, or a record from another epoch), and leaves
 * `p.seq` unchanged then.
 */
export function decryptTls12Record(
  p: Tls12Protection,
  type: number,
  version: number,
  fragment: Uint8Array,
): Uint8Array {
  const c = p.cipher;
  let content: Uint8Array;
  switch (c.kind) {
    case 'gcm':
    case 'ccm': {
      // RFC 5288, Section 3: GenericAEADCipher { opaque nonce_explicit[8]; aead-ciphered content; }
      // with nonce = salt (the 4-byte implicit IV) || nonce_explicit.
      if (fragment.length < c.explicitNonceLength + c.tagLength) throw failed('record shorter than nonce and tag');
      const explicit = fragment.subarray(0, c.explicitNonceLength);
      const sealed = fragment.subarray(c.explicitNonceLength);
      const nonce = concat2(p.iv, explicit);
      const aad = additionalData(p.seq, type, version, sealed.length - c.tagLength);
      const plain = openAead(c, p.key, nonce, aad, sealed);
      if (!plain) throw failed(`${c.cipher} authentication failed at sequence number ${p.seq}`);
      content = plain;
      break;
    }
    case 'chacha20': {
      // RFC 7905, Section 2: nonce = the 12-byte IV XOR the sequence number, left-padded with zeros.
      if (fragment.length < c.tagLength) throw failed('record shorter than the tag');
      const nonce = p.iv.slice();
      const seq = new Uint8Array(8);
      putSeq(seq, 0, p.seq);
      for (let i = 0; i < 8; i++) nonce[4 + i] = nonce[4 + i]! ^ seq[i]!;
      const aad = additionalData(p.seq, type, version, fragment.length - c.tagLength);
      const body = fragment.subarray(0, fragment.length - c.tagLength);
      try {
        const d = createDecipheriv('chacha20-poly1305', p.key, nonce, { authTagLength: c.tagLength });
        d.setAuthTag(fragment.subarray(fragment.length - c.tagLength));
        d.setAAD(aad, { plaintextLength: body.length });
        const head = d.update(body);
        content = deciphered(head, d.final());
      } catch {
        throw failed(`chacha20-poly1305 authentication failed at sequence number ${p.seq}`);
      }
      break;
    }
    case 'null': {
      // RFC 5246, Section 6.2.3.1: GenericStreamCipher { content; MAC } with the NULL cipher.
      const macLength = MAC_LENGTHS[c.mac!];
      if (fragment.length < macLength) throw failed('record shorter than its MAC');
      content = fragment.subarray(0, fragment.length - macLength);
      if (!sameBytes(hmac(p, type, version, content), fragment.subarray(fragment.length - macLength)))
        throw failed(`MAC does not verify at sequence number ${p.seq}`);
      break;
    }
    case 'cbc':
      content = openCbc(p, type, version, fragment);
      break;
  }
  p.seq += 1n;
  return content;
}

/** RFC 5246, Section 6.2.3.2 (MAC-then-encrypt) and RFC 7366, Section 3 (encrypt-then-MAC). */
function openCbc(p: Tls12Protection, type: number, version: number, fragment: Uint8Array): Uint8Array {
  const c = p.cipher;
  const macLength = MAC_LENGTHS[c.mac!];
  let body = fragment;
  if (p.encryptThenMac) {
    // struct { opaque IV; block-ciphered content; opaque MAC; } — the MAC covers IV and ciphertext.
    if (fragment.length < macLength) throw failed('record shorter than its MAC');
    body = fragment.subarray(0, fragment.length - macLength);
    const mac = digestBytes(
      createHmac(c.mac!, p.macKey)
        .update(additionalData(p.seq, type, version, body.length))
        .update(body),
    );
    if (!sameBytes(mac, fragment.subarray(fragment.length - macLength)))
      throw failed(`MAC does not verify at sequence number ${p.seq}`);
  }
  // TLS 1.1 and 1.2 send the IV as the first block; TLS 1.0 chains from the previous record.
  const explicitIv = p.version >= 0x0302;
  const iv = explicitIv ? body.subarray(0, c.blockSize) : p.iv;
  const ciphertext = explicitIv ? body.subarray(c.blockSize) : body;
  if (ciphertext.length === 0 || ciphertext.length % c.blockSize !== 0 || iv.length !== c.blockSize)
    throw failed('CBC ciphertext is not a whole number of blocks');
  let plain: Uint8Array;
  try {
    const d = createDecipheriv(c.cipher, p.key, iv);
    d.setAutoPadding(false);
    const head = d.update(ciphertext);
    plain = deciphered(head, d.final());
  } catch {
    throw failed(`${c.cipher} decryption failed`);
  }
  const padLength = plain[plain.length - 1]!;
  const macHere = p.encryptThenMac ? 0 : macLength;
  if (padLength + 1 + macHere > plain.length) throw failed('CBC padding longer than the record');
  for (let i = plain.length - 1 - padLength; i < plain.length; i++)
    if (plain[i] !== padLength) throw failed('CBC padding bytes are not all equal to its length');
  const unpadded = plain.subarray(0, plain.length - padLength - 1);
  const content = unpadded.subarray(0, unpadded.length - macHere);
  if (
    !p.encryptThenMac &&
    !sameBytes(hmac(p, type, version, content), unpadded.subarray(unpadded.length - macLength))
  ) {
    throw failed(`MAC does not verify at sequence number ${p.seq}`);
  }
  if (!explicitIv) p.iv = ciphertext.slice(ciphertext.length - c.blockSize);
  return content;
}
