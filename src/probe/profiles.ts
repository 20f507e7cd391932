/**
 * ClientHello profiles for probing: one per protocol version, every field and extension chosen here
 * and written in an explicit, deterministic order.
 *
 * Choices that matter against real servers:
 * - TLS_EMPTY_RENEGOTIATION_INFO_SCSV is always offered (RFC 5746): some Windows servers reset TLS 1.2
 *   hellos that carry neither it nor renegotiation_info.
 * - SHA-384 signature schemes are offered: a server whose only certificate is P-384 or whose policy
 *   demands SHA-384 refuses TLS 1.3 hellos that lack them, which looks like "no TLS 1.3".
 * - Hellos whose record would be 256–511 bytes get a padding extension (RFC 7685) up to 512: some
 *   F5 load balancers hang on exactly that range.
 * - SSL 3.0 hellos carry no extensions, as SSL 3.0 servers expect.
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import type { ClientHello } from '../tls/client-hello.js';
import { encodeClientHello } from '../tls/client-hello.js';
import type { Extension } from '../tls/extensions.js';
import { encodeRecords } from '../tls/record.js';
import { equalBytes } from '../wire/hex.js';
import {
  CIPHER_SUITES,
  cipherSuiteInfo,
  ContentType,
  NamedGroup,
  ProtocolVersion,
  SignatureScheme,
} from '../tls/registry.js';
import { generateKeyShare, SUPPORTED_KEY_SHARE_GROUPS, type KeyShareKeyPair } from '../tls/key-schedule.js';

import { PROBE_VERSIONS, type ProbeVersion } from './versions.js';

export { PROBE_VERSIONS, type ProbeVersion };

export const VERSION_CODE: Readonly<Record<ProbeVersion, number>> = {
  'SSL3.0': ProtocolVersion.SSL3_0,
  'TLS1.0': ProtocolVersion.TLS1_0,
  'TLS1.1': ProtocolVersion.TLS1_1,
  'TLS1.2': ProtocolVersion.TLS1_2,
  'TLS1.3': ProtocolVersion.TLS1_3,
};

/** Returns the probe name of a wire version, or null for versions we do not probe. */
export function probeVersionOf(code: number): ProbeVersion | null {
  for (const v of PROBE_VERSIONS) if (VERSION_CODE[v] === code) return v;
  return null;
}

export const TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;
export const TLS_FALLBACK_SCSV = 0x5600;

/** The five TLS 1.3 suites (RFC 8446, Appendix B.4), most common first. */
export const TLS13_SUITES: readonly number[] = [0x1301, 0x1302, 0x1303, 0x1304, 0x1305];

/**
 * Returns every registered suite a client could offer at `version` with a real key exchange and
 * cipher: (EC)DHE, RSA and static (EC)DH, authenticated, any strength (a probe wants to see weak
 * suites accepted). PSK, SRP, Kerberos, anonymous and NULL-cipher suites are left out: servers that
 * accept them are configured for special clients, and offering them confuses some stacks. Order:
 * forward-secret AEAD first, so the first answer is the one a modern client would get.
 */
export function suitesForVersion(version: ProbeVersion): number[] {
  return [...suiteLists().get(version)!];
}

let suitesByVersion: ReadonlyMap<ProbeVersion, readonly number[]> | null = null;

/** Returns the suite list of every version, computed on first use in one pass over the registry. */
function suiteLists(): ReadonlyMap<ProbeVersion, readonly number[]> {
  if (suitesByVersion) return suitesByVersion;
  const ranked = new Map<ProbeVersion, { v: number; rank: number }[]>();
  for (const version of PROBE_VERSIONS) if (version !== 'TLS1.3') ranked.set(version, []);
  for (const [v] of CIPHER_SUITES) {
    const info = cipherSuiteInfo(v);
    if (!info || info.tls13) continue;
    if (!['ECDHE', 'DHE', 'RSA', 'ECDH', 'DH'].includes(info.keyExchange)) continue;
    if (/anon|NULL|_OLD$|OLDFIPS|GOST|_SM4_|PSK/.test(info.name) || info.cipher === 'NULL' || info.cipher === 'unknown')
      continue;
    const rank =
      (info.keyExchange === 'ECDHE' ? 0 : info.keyExchange === 'DHE' ? 1 : 2) +
      (info.aead ? 0 : 4) +
      (info.export ? 8 : 0);
    for (const [version, out] of ranked) {
      const code = VERSION_CODE[version];
      if (code >= info.minVersion && code <= info.maxVersion) out.push({ v, rank });
    }
  }
  const lists = new Map<ProbeVersion, readonly number[]>([['TLS1.3', TLS13_SUITES]]);
  for (const [version, out] of ranked) {
    out.sort((a, b) => a.rank - b.rank || a.v - b.v);
    lists.set(
      version,
      out.map((x) => x.v),
    );
  }
  suitesByVersion = lists;
  return lists;
}

/** Named groups offered in supported_groups, by version. X25519MLKEM768 is probed on its own (see scan). */
export const DEFAULT_GROUPS: readonly number[] = [
  NamedGroup.x25519,
  NamedGroup.secp256r1,
  NamedGroup.secp384r1,
  NamedGroup.secp521r1,
  NamedGroup.x448,
  NamedGroup.ffdhe2048,
  NamedGroup.ffdhe3072,
  NamedGroup.ffdhe4096,
];

/** Signature schemes, SHA-384 included (see the module comment), legacy SHA-1 last. */
export const DEFAULT_SIGNATURE_SCHEMES: readonly number[] = [
  SignatureScheme.ecdsa_secp256r1_sha256,
  SignatureScheme.ecdsa_secp384r1_sha384,
  SignatureScheme.ecdsa_secp521r1_sha512,
  SignatureScheme.ed25519,
  SignatureScheme.ed448,
  SignatureScheme.rsa_pss_rsae_sha256,
  SignatureScheme.rsa_pss_rsae_sha384,
  SignatureScheme.rsa_pss_rsae_sha512,
  SignatureScheme.rsa_pss_pss_sha256,
  SignatureScheme.rsa_pss_pss_sha384,
  SignatureScheme.rsa_pss_pss_sha512,
  SignatureScheme.rsa_pkcs1_sha256,
  SignatureScheme.rsa_pkcs1_sha384,
  SignatureScheme.rsa_pkcs1_sha512,
  SignatureScheme.rsa_pkcs1_sha1,
  SignatureScheme.ecdsa_sha1,
];

export interface HelloOptions {
  readonly version: ProbeVersion;
  /** Host name for server_name; null sends no SNI. IP literals must not be sent (RFC 6066, Section 3). */
  readonly sni: string | null;
  /** Suites in offer order; default `suitesForVersion(version)`. The SCSV is appended unless disabled. */
  readonly cipherSuites?: readonly number[];
  readonly renegotiationScsv?: boolean;
  readonly groups?: readonly number[];
  /** TLS 1.3: groups to send key shares for (default the first group we can compute). Empty: no shares. */
  readonly keyShareGroups?: readonly number[];
  readonly signatureSchemes?: readonly number[];
  readonly alpn?: readonly string[] | null;
  /** Record-layer version; default TLS 1.0 (0x0301) as most clients send, SSL 3.0 for SSL 3.0 hellos. */
  readonly recordVersion?: number;
  /** Pad the record to at least this many bytes (RFC 7685); default: pad 256–511 byte hellos to 512. */
  readonly padTo?: number | null;
  /** Fixed random and session id (tests, HelloRetryRequest); default fresh random bytes. */
  readonly random?: Uint8Array;
  readonly sessionId?: Uint8Array;
  /** TLS 1.3 cookie echoed from a HelloRetryRequest. */
  readonly cookie?: Uint8Array;
  /** Key pairs to reuse instead of generating (a HelloRetryRequest keeps the others). */
  readonly keyPairs?: readonly KeyShareKeyPair[];
}

export interface BuiltHello {
  readonly hello: ClientHello;
  /** The handshake message (header included): what goes into the transcript. */
  readonly message: Uint8Array;
  /** The record(s) to send. */
  readonly record: Uint8Array;
  /** Private halves of the key shares sent (TLS 1.3). */
  readonly keyPairs: readonly KeyShareKeyPair[];
}

/**
 * Returns a ClientHello for `opts.version`, its handshake message and the record to send.
 *
 * Hellos that differ only in their random, session id and key share bytes encode to the same
 * layout, so the encoding is kept per option set (`HELLO_TEMPLATE_CACHE`) and later hellos copy it
 * and write their fresh bytes in place: the bytes are the same as encoding from scratch.
 */
export function buildClientHello(opts: HelloOptions): BuiltHello {
  const groups = opts.groups ?? DEFAULT_GROUPS;
  const keyPairs = keyPairsFor(opts, groups);
  const key = templateKey(opts);
  const template = key === null ? undefined : helloTemplates.get(key);
  if (template?.shareLengths.every((n, i) => keyPairs[i]!.publicKey.length === n)) {
    return fromTemplate(template, opts, keyPairs);
  }
  const built = encodeHello(opts, groups, keyPairs);
  if (key !== null && template === undefined) remember(key, built);
  return built;
}

/** Returns the key pairs for the shares a TLS 1.3 hello sends (none for other versions). */
function keyPairsFor(opts: HelloOptions, groups: readonly number[]): KeyShareKeyPair[] {
  if (opts.version !== 'TLS1.3') return [];
  const shareGroups = opts.keyShareGroups ?? [groups.find(canComputeShare) ?? NamedGroup.x25519];
  return shareGroups.map((g) => opts.keyPairs?.find((p) => p.group === g) ?? probeKeyShare(g));
}

/** Returns the ClientHello for `opts` encoded from scratch, with the shares of `keyPairs`. */
function encodeHello(opts: HelloOptions, groups: readonly number[], keyPairs: readonly KeyShareKeyPair[]): BuiltHello {
  const { version } = opts;
  const code = VERSION_CODE[version];
  const tls13 = version === 'TLS1.3';
  const suites = [...(opts.cipherSuites ?? suitesForVersion(version))];
  if (opts.renegotiationScsv !== false && !suites.includes(TLS_EMPTY_RENEGOTIATION_INFO_SCSV))
    suites.push(TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
  const exts: Extension[] = [];

  if (version !== 'SSL3.0') {
    // RFC 6066, Section 3
    if (opts.sni) exts.push({ kind: 'server_name', type: 0x0000, names: [{ nameType: 0, name: opts.sni }] });
    // RFC 8422, Section 5.1: only meaningful with ECC suites, harmless otherwise.
    exts.push({ kind: 'supported_groups', type: 0x000a, groups: [...groups] });
    exts.push({ kind: 'ec_point_formats', type: 0x000b, formats: [0] });
    // RFC 5246, Section 7.4.1.4.1: signature_algorithms exists from TLS 1.2 on.
    if (code >= ProtocolVersion.TLS1_2) {
      exts.push({
        kind: 'signature_algorithms',
        type: 0x000d,
        schemes: [...(opts.signatureSchemes ?? DEFAULT_SIGNATURE_SCHEMES)],
      });
    }
    if (opts.alpn && opts.alpn.length > 0) exts.push({ kind: 'alpn', type: 0x0010, protocols: [...opts.alpn] });
    if (!tls13) {
      exts.push({ kind: 'flag', type: 0x0017 }); // extended_master_secret, RFC 7627
      exts.push({ kind: 'session_ticket', type: 0x0023, ticket: new Uint8Array(0) });
    }
    if (tls13) {
      exts.push({ kind: 'supported_versions', type: 0x002b, versions: [ProtocolVersion.TLS1_3], selected: null });
      exts.push({ kind: 'psk_key_exchange_modes', type: 0x002d, modes: [1] }); // psk_dhe_ke
      if (opts.cookie) exts.push({ kind: 'cookie', type: 0x002c, cookie: opts.cookie });
      exts.push(keyShareExtension(keyPairs));
    }
  }

  const base: ClientHello = {
    legacyVersion: tls13 ? ProtocolVersion.TLS1_2 : code, // RFC 8446, Section 4.1.2
    random: opts.random ?? freshRandom(32),
    // RFC 8446, Appendix D.4: a non-empty legacy_session_id keeps middleboxes calm.
    sessionId: opts.sessionId ?? (tls13 ? freshRandom(32) : new Uint8Array(0)),
    cipherSuites: suites,
    compressionMethods: [0],
    extensions: version === 'SSL3.0' ? null : exts,
  };
  const bare = encodeClientHello(base);
  const hello = pad(base, bare.length, opts.padTo === undefined ? 'f5' : opts.padTo);
  const message = hello === base ? bare : encodeClientHello(hello);
  const recordVersion = opts.recordVersion ?? (version === 'SSL3.0' ? ProtocolVersion.SSL3_0 : ProtocolVersion.TLS1_0);
  return { hello, message, record: encodeRecords(ContentType.handshake, recordVersion, message), keyPairs };
}

function keyShareExtension(keyPairs: readonly KeyShareKeyPair[]): Extension {
  // RFC 8446, Section 4.2.8
  return {
    kind: 'key_share',
    type: 0x0033,
    shares: keyPairs.map((p) => ({ group: p.group, keyExchange: p.publicKey })),
    selectedGroup: null,
  };
}

/**
 * How many encoded hellos are kept as templates. A scan's version probes use five option sets;
 * cipher and group enumeration make one-off hellos (a suite list each), which must not grow the
 * cache without bound: past this many, the oldest template is dropped.
 */
export const HELLO_TEMPLATE_CACHE = 64;

/** A hello encoded once, with where its per-connection bytes sit in `record`. */
interface HelloTemplate {
  /** The hello encoded; its random, session id and key shares are replaced at each use. */
  readonly hello: ClientHello;
  /** The record as first sent (one record, the whole message after its 5-byte header). */
  readonly record: Uint8Array;
  /** Index of key_share in `hello.extensions`, or -1. */
  readonly keyShareIndex: number;
  /** Offset in `record` of each share's key_exchange, and its length (fixed by the group). */
  readonly shareOffsets: readonly number[];
  readonly shareLengths: readonly number[];
}

const helloTemplates = new Map<string, HelloTemplate>();

// Fixed positions of a hello in one record: the 5-byte record header (RFC 5246, Section 6.2.1),
// the 4-byte handshake header (RFC 8446, Section 4), legacy_version (2 bytes), random (32 bytes),
// then legacy_session_id's length byte and bytes (Section 4.1.2). `remember` checks them against
// the encoder's output before a template is kept.
const RECORD_HEADER = 5;
const RANDOM_AT = RECORD_HEADER + 4 + 2;
const RANDOM_LENGTH = 32;
const SESSION_ID_AT = RANDOM_AT + RANDOM_LENGTH + 1;

/**
 * Returns the key of everything in `opts` that shapes the encoding (all but the random, session id
 * and key share bytes), or null when the hello is not worth a template (a cookie: only after a
 * HelloRetryRequest) or cannot be made from one (a random that is not 32 bytes: let the encoder
 * say so).
 */
function templateKey(opts: HelloOptions): string | null {
  if (opts.cookie !== undefined || (opts.random !== undefined && opts.random.length !== RANDOM_LENGTH)) return null;
  // A version probe gives only the version and SNI: a short key that cannot look like the JSON one.
  if (isVersionAndSniOnly(opts)) return `${opts.version} ${opts.sni || ''}`;
  return JSON.stringify([
    opts.version,
    opts.sni || null,
    opts.cipherSuites ?? null,
    opts.renegotiationScsv !== false,
    opts.groups ?? null,
    opts.keyShareGroups ?? null,
    opts.signatureSchemes ?? null,
    opts.alpn && opts.alpn.length > 0 ? opts.alpn : null,
    opts.recordVersion ?? null,
    opts.padTo === undefined ? 'f5' : opts.padTo,
    opts.sessionId?.length ?? null,
  ]);
}

function isVersionAndSniOnly(o: HelloOptions): boolean {
  return (
    o.cipherSuites === undefined &&
    o.renegotiationScsv === undefined &&
    o.groups === undefined &&
    o.keyShareGroups === undefined &&
    o.signatureSchemes === undefined &&
    (o.alpn === undefined || o.alpn === null) &&
    o.recordVersion === undefined &&
    o.padTo === undefined &&
    o.sessionId === undefined
  );
}

/** Keeps `built` as the template for `key` when its per-connection bytes are where a template expects them. */
function remember(key: string, built: BuiltHello): void {
  const { record, message, hello } = built;
  if (record.length !== message.length + RECORD_HEADER) return; // split over several records
  if (!equalBytes(record.subarray(RANDOM_AT, RANDOM_AT + RANDOM_LENGTH), hello.random)) return;
  const sid = hello.sessionId;
  if (
    record[SESSION_ID_AT - 1] !== sid.length ||
    !equalBytes(record.subarray(SESSION_ID_AT, SESSION_ID_AT + sid.length), sid)
  )
    return;
  const shareOffsets: number[] = [];
  const bytes = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  for (const p of built.keyPairs) {
    const at = bytes.indexOf(p.publicKey, SESSION_ID_AT + sid.length);
    // RFC 8446, Section 4.2.8: KeyShareEntry { NamedGroup group; opaque key_exchange<1..2^16-1> }.
    if (at < 4 || bytes.indexOf(p.publicKey, at + 1) !== -1) return;
    if (bytes.readUInt16BE(at - 4) !== p.group || bytes.readUInt16BE(at - 2) !== p.publicKey.length) return;
    shareOffsets.push(at);
  }
  if (helloTemplates.size >= HELLO_TEMPLATE_CACHE) helloTemplates.delete(helloTemplates.keys().next().value!);
  helloTemplates.set(key, {
    hello,
    record: record.slice(),
    keyShareIndex: hello.extensions?.findIndex((e) => e.kind === 'key_share') ?? -1,
    shareOffsets,
    shareLengths: built.keyPairs.map((p) => p.publicKey.length),
  });
}

/** Returns the hello of `t` with a fresh (or the given) random and session id and the shares of `keyPairs`. */
function fromTemplate(t: HelloTemplate, opts: HelloOptions, keyPairs: readonly KeyShareKeyPair[]): BuiltHello {
  const record = t.record.slice();
  if (opts.random) record.set(opts.random, RANDOM_AT);
  else fillRandom(record, RANDOM_AT, RANDOM_LENGTH);
  const sidLength = t.hello.sessionId.length;
  if (opts.sessionId) record.set(opts.sessionId, SESSION_ID_AT);
  else fillRandom(record, SESSION_ID_AT, sidLength);
  keyPairs.forEach((p, i) => {
    record.set(p.publicKey, t.shareOffsets[i]);
  });
  let extensions = t.hello.extensions;
  if (extensions !== null && t.keyShareIndex >= 0) {
    const withShares = extensions.slice();
    withShares[t.keyShareIndex] = keyShareExtension(keyPairs);
    extensions = withShares;
  }
  const hello: ClientHello = {
    ...t.hello,
    random: record.subarray(RANDOM_AT, RANDOM_AT + RANDOM_LENGTH),
    sessionId: record.subarray(SESSION_ID_AT, SESSION_ID_AT + sidLength),
    extensions,
  };
  return { hello, message: record.subarray(RECORD_HEADER), record, keyPairs };
}

/**
 * Bytes of CSPRNG output fetched per call: one `randomFillSync` per 64 TLS 1.3 hellos (random plus
 * session id) instead of two `randomBytes` calls per hello (~9 µs each, most of it call overhead).
 */
const RANDOM_POOL_BYTES = 4096;
const randomPool = new Uint8Array(RANDOM_POOL_BYTES);
let randomPoolAt = RANDOM_POOL_BYTES;

/** Writes `n` fresh random bytes into `dst` at `at` (each pool byte is handed out once). */
function fillRandom(dst: Uint8Array, at: number, n: number): void {
  if (n > RANDOM_POOL_BYTES) {
    dst.set(randomBytes(n), at);
    return;
  }
  if (randomPoolAt + n > RANDOM_POOL_BYTES) {
    randomFillSync(randomPool);
    randomPoolAt = 0;
  }
  dst.set(randomPool.subarray(randomPoolAt, randomPoolAt + n), at);
  randomPoolAt += n;
}

function freshRandom(n: number): Uint8Array {
  const out = new Uint8Array(n);
  fillRandom(out, 0, n);
  return out;
}

/**
 * How many probe hellos share one ephemeral key pair per group. A probe's key only has to let us
 * decrypt the server's flight; generating a fresh X25519/ECDH pair for every hello was ~9% of a
 * probe's CPU. Rotating after this many uses keeps a long scan from showing one key forever.
 */
export const KEY_SHARE_REUSE = 64;

const sharedPairs = new Map<number, { pair: KeyShareKeyPair; uses: number }>();

/** Returns a key pair for `group` for a probe hello, reused up to KEY_SHARE_REUSE times. */
function probeKeyShare(group: number): KeyShareKeyPair {
  let entry = sharedPairs.get(group);
  if (!entry || entry.uses >= KEY_SHARE_REUSE) {
    entry = { pair: generateKeyShare(group), uses: 0 };
    sharedPairs.set(group, entry);
  }
  entry.uses++;
  return entry.pair;
}

function canComputeShare(group: number): boolean {
  return SUPPORTED_KEY_SHARE_GROUPS.includes(group);
}

/**
 * Returns `ch` with a padding extension so the record reaches `padTo` bytes ('f5': only 256–511 →
 * 512), or `ch` itself when none is needed; `encodedLength` is the length of `encodeClientHello(ch)`.
 */
function pad(ch: ClientHello, encodedLength: number, padTo: number | 'f5' | null): ClientHello {
  if (padTo === null || ch.extensions === null) return ch;
  const size = encodedLength + 5;
  let target: number;
  if (padTo === 'f5') {
    if (size < 256 || size > 511) return ch;
    target = 512;
  } else {
    target = padTo;
  }
  // The padding extension itself costs 4 bytes of header.
  const need = target - size - 4;
  if (need < 0) return ch;
  return { ...ch, extensions: [...ch.extensions, { kind: 'padding', type: 0x0015, data: new Uint8Array(need) }] };
}

/**
 * A ClientHello made elsewhere (a client profile, a captured hello) to send as it is. `version` is
 * the version the probe is about (its highest offered version, usually).
 */
export interface PrebuiltHello {
  readonly version: ProbeVersion;
  readonly hello: ClientHello;
  /** Private keys of the shares in `hello`, when known (TLS 1.3 decryption needs them). */
  readonly keyPairs?: readonly KeyShareKeyPair[];
  /** Record-layer version (default TLS 1.0). */
  readonly recordVersion?: number;
}

export type HelloSpec = HelloOptions | PrebuiltHello;

export function isPrebuilt(spec: HelloSpec): spec is PrebuiltHello {
  return 'hello' in spec;
}

/** Returns the message and record for a prebuilt hello, byte for byte as given. */
export function buildFromPrebuilt(spec: PrebuiltHello): BuiltHello {
  const message = encodeClientHello(spec.hello);
  return {
    hello: spec.hello,
    message,
    record: encodeRecords(ContentType.handshake, spec.recordVersion ?? ProtocolVersion.TLS1_0, message),
    keyPairs: spec.keyPairs ?? [],
  };
}

/**
 * Returns the second ClientHello after a HelloRetryRequest (RFC 8446, Section 4.1.2): the same hello
 * with key_share replaced by one share for `group`, the cookie echoed, and padding dropped.
 */
export function retryHello(
  first: BuiltHello,
  group: number,
  cookie: Uint8Array | undefined,
  recordVersion: number,
): BuiltHello {
  const pair = generateKeyShare(group);
  const exts: Extension[] = [];
  for (const e of first.hello.extensions ?? []) {
    if (e.kind === 'padding' || e.kind === 'cookie') continue;
    if (e.kind === 'key_share') {
      if (cookie) exts.push({ kind: 'cookie', type: 0x002c, cookie });
      exts.push({
        kind: 'key_share',
        type: 0x0033,
        shares: [{ group, keyExchange: pair.publicKey }],
        selectedGroup: null,
      });
      continue;
    }
    exts.push(e);
  }
  const hello: ClientHello = { ...first.hello, extensions: exts };
  const message = encodeClientHello(hello);
  return { hello, message, record: encodeRecords(ContentType.handshake, recordVersion, message), keyPairs: [pair] };
}
