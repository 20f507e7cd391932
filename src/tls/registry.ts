/**
 * TLS registries: `nameOf`/`displayName` return the IANA name of a code point (or a hex fallback), and
 * `cipherSuiteInfo` returns what a cipher suite's IANA name says about it; nothing here throws.
 *
 * The tables are generated data (src/tls/registry-data.ts, made by `node scripts/gen-registry.mjs` from
 * `tshark -G values` plus an IANA supplement). The named constants below are written by hand with IANA
 * spelling and hex literals; a test checks each against the generated table. Registry values stay plain
 * `number`s everywhere else in the code (STYLE §5.4): a value that is in no table is still a value.
 */
import { isGrease } from './grease.js';
import {
  ALERT_DESCRIPTION_ENTRIES,
  ALERT_LEVEL_ENTRIES,
  CERTIFICATE_STATUS_TYPE_ENTRIES,
  CipherSuite,
  COMPRESSION_METHOD_ENTRIES,
  CONTENT_TYPE_ENTRIES,
  EC_POINT_FORMAT_ENTRIES,
  EXTENSION_TYPE_ENTRIES,
  HANDSHAKE_TYPE_ENTRIES,
  NAMED_GROUP_ENTRIES,
  PROTOCOL_VERSION_ENTRIES,
  PSK_KEY_EXCHANGE_MODE_ENTRIES,
  SIGNATURE_SCHEME_ENTRIES,
} from './registry-data.js';
import { SUITE_FACTS, SuiteFlag, type SuiteFactsRow } from './suite-facts-data.js';
import { type CipherSuiteInfo, describeSuiteName } from './suite-names.js';

export { CipherSuite, TSHARK_VERSION } from './registry-data.js';
export type { RegistryEntry } from './registry-data.js';
export type { CipherSuiteInfo, KeyExchange } from './suite-names.js';

/** A value→name table. */
export type Registry = ReadonlyMap<number, string>;

/** Cipher suites (IANA tls-parameters-4), every suite in {@link CipherSuite}. */
export const CIPHER_SUITES: Registry = new Map<number, string>(
  Object.entries(CipherSuite).map(([name, value]) => [value, name]),
);
/** Extension types (IANA tls-extensiontype-values-1). */
export const EXTENSION_TYPES: Registry = new Map(EXTENSION_TYPE_ENTRIES);
/** Named groups, formerly "elliptic curves" (IANA tls-parameters-8). */
export const NAMED_GROUPS: Registry = new Map(NAMED_GROUP_ENTRIES);
/** Signature schemes (IANA tls-signaturescheme) and the TLS 1.2 (hash, signature) pairs of RFC 5246. */
export const SIGNATURE_SCHEMES: Registry = new Map(SIGNATURE_SCHEME_ENTRIES);
/** Alert descriptions (IANA tls-parameters-6), without IANA's `_RESERVED` status suffix. */
export const ALERT_DESCRIPTIONS: Registry = new Map(ALERT_DESCRIPTION_ENTRIES);
/** Handshake message types (IANA tls-parameters-7), without IANA's `_RESERVED` status suffix. */
export const HANDSHAKE_TYPES: Registry = new Map(HANDSHAKE_TYPE_ENTRIES);
/** Record content types (IANA tls-parameters-5). */
export const CONTENT_TYPES: Registry = new Map(CONTENT_TYPE_ENTRIES);
/** Protocol versions as display strings: 0x0303 'TLS 1.2', 0x7f1c 'TLS 1.3 draft 28', 0xfefd 'DTLS 1.2'. */
export const PROTOCOL_VERSIONS: Registry = new Map(PROTOCOL_VERSION_ENTRIES);
/** Alert levels (RFC 8446 §6): 1 warning, 2 fatal. */
export const ALERT_LEVELS: Registry = new Map(ALERT_LEVEL_ENTRIES);
/** EC point formats (RFC 8422 §5.1.2). */
export const EC_POINT_FORMATS: Registry = new Map(EC_POINT_FORMAT_ENTRIES);
/** PSK key exchange modes (RFC 8446 §4.2.9). */
export const PSK_KEY_EXCHANGE_MODES: Registry = new Map(PSK_KEY_EXCHANGE_MODE_ENTRIES);
/** Certificate status types of the status_request extension (RFC 6066 §8, RFC 6961). */
export const CERTIFICATE_STATUS_TYPES: Registry = new Map(CERTIFICATE_STATUS_TYPE_ENTRIES);
/** Compression methods (RFC 5246 §7.4.1.2, RFC 3749). */
export const COMPRESSION_METHODS: Registry = new Map(COMPRESSION_METHOD_ENTRIES);

/** Returns the name of `v` in `reg`, or null when `v` is unknown or GREASE (RFC 8701). */
export function nameOf(reg: Registry, v: number): string | null {
  if (isGrease(v)) return null;
  return reg.get(v) ?? null;
}

/**
 * Returns a printable name for `v`: its registry name, `'GREASE (0x1a1a)'` for GREASE, or the hex value
 * padded to `width` bytes (`'0x1a2b'`; `'0x1f'` with width 1).
 */
export function displayName(reg: Registry, v: number, width: 1 | 2 = 2): string {
  const name = nameOf(reg, v);
  if (name !== null) return name;
  if (isGrease(v)) return `GREASE (0x${v.toString(16).padStart(4, '0')})`;
  return `0x${v.toString(16).padStart(width * 2, '0')}`;
}

// ---------------------------------------------------------------------------------------------------
// Named constants (IANA spelling). Each must equal the generated table: test/tls/registry.test.ts.
// ---------------------------------------------------------------------------------------------------

/** RFC 8446 §5.1 ContentType; RFC 9146 tls12_cid, RFC 9147 ack. */
export const ContentType = {
  change_cipher_spec: 0x14,
  alert: 0x15,
  handshake: 0x16,
  application_data: 0x17,
  heartbeat: 0x18,
  tls12_cid: 0x19,
  ack: 0x1a,
} as const;

/** RFC 8446 §4 HandshakeType, plus the TLS 1.2 and DTLS messages of IANA tls-parameters-7. */
export const HandshakeType = {
  hello_request: 0x00,
  client_hello: 0x01,
  server_hello: 0x02,
  hello_verify_request: 0x03,
  new_session_ticket: 0x04,
  end_of_early_data: 0x05,
  hello_retry_request: 0x06,
  encrypted_extensions: 0x08,
  request_connection_id: 0x09,
  new_connection_id: 0x0a,
  certificate: 0x0b,
  server_key_exchange: 0x0c,
  certificate_request: 0x0d,
  server_hello_done: 0x0e,
  certificate_verify: 0x0f,
  client_key_exchange: 0x10,
  client_certificate_request: 0x11,
  finished: 0x14,
  certificate_url: 0x15,
  certificate_status: 0x16,
  supplemental_data: 0x17,
  key_update: 0x18,
  compressed_certificate: 0x19,
  ekt_key: 0x1a,
  message_hash: 0xfe,
} as const;

/** IANA TLS ExtensionType Values, plus application_settings (ALPS, draft-vvv-tls-alps; not IANA). */
export const ExtensionType = {
  server_name: 0x0000,
  max_fragment_length: 0x0001,
  client_certificate_url: 0x0002,
  trusted_ca_keys: 0x0003,
  truncated_hmac: 0x0004,
  status_request: 0x0005,
  user_mapping: 0x0006,
  client_authz: 0x0007,
  server_authz: 0x0008,
  cert_type: 0x0009,
  supported_groups: 0x000a,
  ec_point_formats: 0x000b,
  srp: 0x000c,
  signature_algorithms: 0x000d,
  use_srtp: 0x000e,
  heartbeat: 0x000f,
  application_layer_protocol_negotiation: 0x0010,
  status_request_v2: 0x0011,
  signed_certificate_timestamp: 0x0012,
  client_certificate_type: 0x0013,
  server_certificate_type: 0x0014,
  padding: 0x0015,
  encrypt_then_mac: 0x0016,
  extended_master_secret: 0x0017,
  token_binding: 0x0018,
  cached_info: 0x0019,
  tls_lts: 0x001a,
  compress_certificate: 0x001b,
  record_size_limit: 0x001c,
  pwd_protect: 0x001d,
  pwd_clear: 0x001e,
  password_salt: 0x001f,
  ticket_pinning: 0x0020,
  tls_cert_with_extern_psk: 0x0021,
  delegated_credential: 0x0022,
  session_ticket: 0x0023,
  TLMSP: 0x0024,
  TLMSP_proxying: 0x0025,
  TLMSP_delegate: 0x0026,
  supported_ekt_ciphers: 0x0027,
  pre_shared_key: 0x0029,
  early_data: 0x002a,
  supported_versions: 0x002b,
  cookie: 0x002c,
  psk_key_exchange_modes: 0x002d,
  certificate_authorities: 0x002f,
  oid_filters: 0x0030,
  post_handshake_auth: 0x0031,
  signature_algorithms_cert: 0x0032,
  key_share: 0x0033,
  transparency_info: 0x0034,
  connection_id: 0x0036,
  external_id_hash: 0x0037,
  external_session_id: 0x0038,
  quic_transport_parameters: 0x0039,
  ticket_request: 0x003a,
  dnssec_chain: 0x003b,
  sequence_number_encryption_algorithms: 0x003c,
  rrc: 0x003d,
  application_settings: 0x4469,
  ech_outer_extensions: 0xfd00,
  encrypted_client_hello: 0xfe0d,
  renegotiation_info: 0xff01,
} as const;

/** IANA TLS Supported Groups (RFC 8422, RFC 7919, RFC 8734, RFC 9189, ML-KEM drafts). */
export const NamedGroup = {
  sect163k1: 0x0001,
  sect163r1: 0x0002,
  sect163r2: 0x0003,
  sect193r1: 0x0004,
  sect193r2: 0x0005,
  sect233k1: 0x0006,
  sect233r1: 0x0007,
  sect239k1: 0x0008,
  sect283k1: 0x0009,
  sect283r1: 0x000a,
  sect409k1: 0x000b,
  sect409r1: 0x000c,
  sect571k1: 0x000d,
  sect571r1: 0x000e,
  secp160k1: 0x000f,
  secp160r1: 0x0010,
  secp160r2: 0x0011,
  secp192k1: 0x0012,
  secp192r1: 0x0013,
  secp224k1: 0x0014,
  secp224r1: 0x0015,
  secp256k1: 0x0016,
  secp256r1: 0x0017,
  secp384r1: 0x0018,
  secp521r1: 0x0019,
  brainpoolP256r1: 0x001a,
  brainpoolP384r1: 0x001b,
  brainpoolP512r1: 0x001c,
  x25519: 0x001d,
  x448: 0x001e,
  brainpoolP256r1tls13: 0x001f,
  brainpoolP384r1tls13: 0x0020,
  brainpoolP512r1tls13: 0x0021,
  GC256A: 0x0022,
  GC256B: 0x0023,
  GC256C: 0x0024,
  GC256D: 0x0025,
  GC512A: 0x0026,
  GC512B: 0x0027,
  GC512C: 0x0028,
  curveSM2: 0x0029,
  ffdhe2048: 0x0100,
  ffdhe3072: 0x0101,
  ffdhe4096: 0x0102,
  ffdhe6144: 0x0103,
  ffdhe8192: 0x0104,
  MLKEM512: 0x0200,
  MLKEM768: 0x0201,
  MLKEM1024: 0x0202,
  SecP256r1MLKEM768: 0x11eb,
  X25519MLKEM768: 0x11ec,
  SecP384r1MLKEM1024: 0x11ed,
  X25519Kyber768Draft00: 0x6399,
  SecP256r1Kyber768Draft00: 0x639a,
  arbitrary_explicit_prime_curves: 0xff01,
  arbitrary_explicit_char2_curves: 0xff02,
} as const;

/**
 * IANA TLS SignatureScheme (RFC 8446 §4.2.3 and later), plus the TLS 1.2 (hash, signature) pairs of
 * RFC 5246 §7.4.1.4.1 that have no IANA name, spelled `{signature}_{hash}` like OpenSSL's TLSEXT_SIGALG_*.
 */
export const SignatureScheme = {
  rsa_pkcs1_md5: 0x0101,
  dsa_md5: 0x0102,
  ecdsa_md5: 0x0103,
  rsa_pkcs1_sha1: 0x0201,
  dsa_sha1: 0x0202,
  ecdsa_sha1: 0x0203,
  rsa_pkcs1_sha224: 0x0301,
  dsa_sha224: 0x0302,
  ecdsa_sha224: 0x0303,
  rsa_pkcs1_sha256: 0x0401,
  dsa_sha256: 0x0402,
  ecdsa_secp256r1_sha256: 0x0403,
  rsa_pkcs1_sha256_legacy: 0x0420,
  rsa_pkcs1_sha384: 0x0501,
  dsa_sha384: 0x0502,
  ecdsa_secp384r1_sha384: 0x0503,
  rsa_pkcs1_sha384_legacy: 0x0520,
  rsa_pkcs1_sha512: 0x0601,
  dsa_sha512: 0x0602,
  ecdsa_secp521r1_sha512: 0x0603,
  rsa_pkcs1_sha512_legacy: 0x0620,
  eccsi_sha256: 0x0704,
  iso_ibs1: 0x0705,
  iso_ibs2: 0x0706,
  iso_chinese_ibs: 0x0707,
  sm2sig_sm3: 0x0708,
  gostr34102012_256a: 0x0709,
  gostr34102012_256b: 0x070a,
  gostr34102012_256c: 0x070b,
  gostr34102012_256d: 0x070c,
  gostr34102012_512a: 0x070d,
  gostr34102012_512b: 0x070e,
  gostr34102012_512c: 0x070f,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807,
  ed448: 0x0808,
  rsa_pss_pss_sha256: 0x0809,
  rsa_pss_pss_sha384: 0x080a,
  rsa_pss_pss_sha512: 0x080b,
  ecdsa_brainpoolP256r1tls13_sha256: 0x081a,
  ecdsa_brainpoolP384r1tls13_sha384: 0x081b,
  ecdsa_brainpoolP512r1tls13_sha512: 0x081c,
  mldsa44: 0x0904,
  mldsa65: 0x0905,
  mldsa87: 0x0906,
} as const;

/** Record versions and supported_versions values (RFC 8446 §5.1, §4.2.1; RFC 6347; RFC 9147 §5.3). */
export const ProtocolVersion = {
  SSL2_0: 0x0002,
  SSL3_0: 0x0300,
  TLS1_0: 0x0301,
  TLS1_1: 0x0302,
  TLS1_2: 0x0303,
  TLS1_3: 0x0304,
  DTLS1_0: 0xfeff,
  DTLS1_2: 0xfefd,
  DTLS1_3: 0xfefc,
} as const;

/** RFC 8446 §6 AlertDescription and the retired TLS 1.2 alerts (IANA tls-parameters-6). */
export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  decryption_failed: 21,
  record_overflow: 22,
  decompression_failure: 30,
  handshake_failure: 40,
  no_certificate: 41,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  too_many_cids_requested: 52,
  export_restriction: 60,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  no_renegotiation: 100,
  missing_extension: 109,
  unsupported_extension: 110,
  certificate_unobtainable: 111,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  bad_certificate_hash_value: 114,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
  ech_required: 121,
} as const;

/** RFC 8446 §6 AlertLevel. */
export const AlertLevel = { warning: 1, fatal: 2 } as const;

/** RFC 8422 §5.1.2 ECPointFormat. */
export const ECPointFormat = {
  uncompressed: 0,
  ansiX962_compressed_prime: 1,
  ansiX962_compressed_char2: 2,
} as const;

/** RFC 8446 §4.2.9 PskKeyExchangeMode. */
export const PskKeyExchangeMode = { psk_ke: 0, psk_dhe_ke: 1 } as const;

/** RFC 6066 §8 / RFC 6961 CertificateStatusType. */
export const CertificateStatusType = { ocsp: 1, ocsp_multi: 2 } as const;

/** RFC 5246 §7.4.1.2 CompressionMethod, RFC 3749 DEFLATE, RFC 3943 LZS. */
export const CompressionMethod = { NULL: 0, DEFLATE: 1, LZS: 64 } as const;

// ---------------------------------------------------------------------------------------------------
// Cipher suite facts
// ---------------------------------------------------------------------------------------------------

/**
 * Returns the facts a cipher suite's name states (see `describeSuiteName` in suite-names.ts), or
 * null when `v` is not in {@link CIPHER_SUITES} (unknown or GREASE). The facts of the registered
 * suites come from the generated table suite-facts-data.ts; the name is parsed only for a suite
 * the table lacks (a registry regenerated without the table: a test fails on that).
 */
export function cipherSuiteInfo(v: number): CipherSuiteInfo | null {
  // Probing asks for every suite on every hello: memoize (at most one entry per registered suite).
  const cached = SUITE_INFO_CACHE.get(v);
  if (cached !== undefined) return cached;
  const name = nameOf(CIPHER_SUITES, v);
  let info: CipherSuiteInfo | null = null;
  if (name !== null) {
    factsByValue ??= new Map(SUITE_FACTS.map((row) => [row[0], row]));
    const row = factsByValue.get(v);
    info = Object.freeze(row === undefined ? describeSuiteName(v, name) : fromRow(name, row));
  }
  SUITE_INFO_CACHE.set(v, info);
  return info;
}

const SUITE_INFO_CACHE = new Map<number, CipherSuiteInfo | null>();
let factsByValue: Map<number, SuiteFactsRow> | undefined;

/** Returns the facts of one row of the generated table, keys in `describeSuiteName`'s order. */
function fromRow(name: string, row: SuiteFactsRow): CipherSuiteInfo {
  const [value, keyExchange, authentication, cipher, mac, flags, minVersion, maxVersion] = row;
  return {
    value,
    name,
    tls13: (flags & SuiteFlag.tls13) !== 0,
    aead: (flags & SuiteFlag.aead) !== 0,
    export: (flags & SuiteFlag.export) !== 0,
    keyExchange,
    authentication,
    cipher,
    mac,
    minVersion,
    maxVersion,
  };
}
