/**
 * Client simulation: `CLIENT_PROFILES` holds ClientHello profiles of the clients that matter for the
 * 10054 question (Windows SChannel from Windows 7 / Server 2008 R2 to Server 2022, .NET Framework 4
 * with and without its registry keys, OpenSSL 3, Chrome); each profile's `build(sni)` returns a
 * `PrebuiltHello` with a fresh random, session id and key shares. `simulateClient` resolves with the
 * attempt and the answer to "would this client configuration get 10054 here?"; it never rejects for
 * network outcomes.
 *
 * Sources, per profile in `source`:
 * - Cipher suites and their order: Microsoft's "TLS Cipher Suites in Windows 7 / 8 / 8.1 / 10 v1607 /
 *   10 v1809 / Server 2022" pages (MicrosoftDocs/win32, desktop-src/SecAuthN), the lists "enabled
 *   and in this priority order by default", after update 3042058 (Windows 7/8/2012) and 2919355
 *   (8.1/2012 R2). The `_P256`/`_P384` variants of one suite are one code point on the wire. The NULL
 *   suites ("only used when application explicitly requests") are left out. A TLS 1.0 hello carries
 *   the suites whose page lists TLS 1.0. SCH_USE_STRONG_CRYPTO (.NET's SchUseStrongCrypto=1) filters
 *   the RC4 suites on Windows 7/8/8.1 and RC4, DES, export and NULL on Windows 10 and later.
 * - Versions: "Protocols in TLS/SSL (Schannel SSP)" (TLS 1.1/1.2 client disabled on Windows 7 / 2008
 *   R2), and the endpoint owner's guidance in windows-versions.ts (TLS 1.2 client disabled by default
 *   on Server 2012 until KB3140245 and the registry keys).
 * - Curves: P-256, P-384 before Windows 10 (the `_P521` suites are "not enabled by default");
 *   curve25519, P-256, P-384 on Windows 10 1607 and later ("TLS Elliptic Curves in Windows 10 1607
 *   and later").
 * - .NET: "Transport Layer Security (TLS) best practices with the .NET Framework" (dotnet/docs):
 *   SchUseStrongCrypto and SystemDefaultTlsVersions; .NET 4.0/4.5 default to SSL 3.0 | TLS 1.0
 *   (ServicePointManager.SecurityProtocol), .NET 4.6 to TLS 1.0–1.2, 4.7+ to the system's choice.
 * - Extension order, signature schemes, record-layer version: no Microsoft page lists them; they are
 *   SChannel's as seen in the IE 11 / Edge ClientHellos that SSL Labs and testssl.sh published (app
 *   level extensions such as ALPN, NPN and token binding removed: a backup agent does not send them).
 *   The tests compare the Windows 7, 8.1 and 10 profiles (and OpenSSL, Chrome) against those hellos.
 */
import { randomBytes } from 'node:crypto';
import type { ClientHello } from '../tls/client-hello.js';
import { encodeClientHello } from '../tls/client-hello.js';
import type { Extension } from '../tls/extensions.js';
import { GREASE_VALUES, isGrease } from '../tls/grease.js';
import { generateKeyShare, type KeyShareKeyPair } from '../tls/key-schedule.js';
import {
  CipherSuite as CS,
  cipherSuiteInfo,
  displayName,
  ExtensionType as ET,
  NamedGroup as NG,
  PROTOCOL_VERSIONS,
  ProtocolVersion as PV,
  SignatureScheme as SS,
} from '../tls/registry.js';
import { attempt, type AttemptOptions, type AttemptResult, type ProbeTarget } from '../probe/attempt.js';
import { describeOutcome } from '../tls/outcome.js';
import { probeVersionOf, type PrebuiltHello, type ProbeVersion } from '../probe/profiles.js';

/** A position in a profile's extension list: an IANA extension type, or a GREASE extension (RFC 8701). */
export type ExtensionSlot = number | 'grease' | 'grease-1';

/** Everything a profile's ClientHello is made of, in wire order. */
export interface HelloShape {
  /** `legacy_version` (client_version). */
  readonly legacyVersion: number;
  readonly recordVersion: number;
  /** supported_versions content (RFC 8446, Section 4.2.1), or null when not sent. */
  readonly supportedVersions: readonly number[] | null;
  readonly cipherSuites: readonly number[];
  readonly groups: readonly number[];
  readonly pointFormats: readonly number[];
  readonly signatureSchemes: readonly number[] | null;
  /** Groups to send key shares for (TLS 1.3). */
  readonly keyShareGroups: readonly number[];
  readonly alpn: readonly string[] | null;
  /** Extension types in wire order; server_name is left out when there is no SNI. */
  readonly extensions: readonly ExtensionSlot[];
  readonly sessionIdLength: 0 | 32;
  /** GREASE values first in suites, groups and supported_versions, as Chrome sends them (RFC 8701). */
  readonly grease: boolean;
}

export interface ClientProfile {
  /** Kebab-case id, e.g. 'win7-schannel', 'win2012r2', 'dotnet45-default'. */
  readonly name: string;
  /** Other ids `findClientProfile` accepts (e.g. 'win2008r2' for the Windows 7 profile). */
  readonly aliases: readonly string[];
  readonly title: string;
  readonly description: string;
  readonly source: string;
  /** Versions the client offers, oldest first. */
  readonly versions: readonly ProbeVersion[];
  readonly shape: HelloShape;
  /** Returns a fresh ClientHello (new random, session id and key shares) naming `sni` (null: no SNI). */
  build(sni: string | null): PrebuiltHello;
}

// ---------------------------------------------------------------------------------------------------
// SChannel data
// ---------------------------------------------------------------------------------------------------

/**
 * Windows 7, 8.1 (and 2008 R2, 2012 R2) after updates 3042058 / 2919355: "TLS Cipher Suites in
 * Windows 7" and "… in Windows 8.1" list the same suites in the same order.
 */
const SCHANNEL_WIN7_SUITES: readonly number[] = [
  CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
  CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_DHE_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_RSA_WITH_AES_256_CBC_SHA256,
  CS.TLS_RSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
  CS.TLS_DHE_DSS_WITH_AES_256_CBC_SHA256,
  CS.TLS_DHE_DSS_WITH_AES_128_CBC_SHA256,
  CS.TLS_DHE_DSS_WITH_AES_256_CBC_SHA,
  CS.TLS_DHE_DSS_WITH_AES_128_CBC_SHA,
  CS.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
  CS.TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA,
  CS.TLS_RSA_WITH_RC4_128_SHA,
  CS.TLS_RSA_WITH_RC4_128_MD5,
];

/** Windows 8 / Server 2012 ("TLS Cipher Suites in Windows 8"): the Windows 7 list without DHE_RSA with CBC. */
const SCHANNEL_WIN8_SUITES: readonly number[] = SCHANNEL_WIN7_SUITES.filter(
  (s) => s !== CS.TLS_DHE_RSA_WITH_AES_256_CBC_SHA && s !== CS.TLS_DHE_RSA_WITH_AES_128_CBC_SHA,
);

/** Windows 10 1607 / Server 2016 ("TLS Cipher Suites in Windows 10 v1607"). */
const SCHANNEL_WIN2016_SUITES: readonly number[] = [
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
  CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
  CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_DHE_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_RSA_WITH_AES_256_CBC_SHA256,
  CS.TLS_RSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
  CS.TLS_DHE_DSS_WITH_AES_256_CBC_SHA256,
  CS.TLS_DHE_DSS_WITH_AES_128_CBC_SHA256,
  CS.TLS_DHE_DSS_WITH_AES_256_CBC_SHA,
  CS.TLS_DHE_DSS_WITH_AES_128_CBC_SHA,
  CS.TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA,
  CS.TLS_RSA_WITH_RC4_128_SHA,
  CS.TLS_RSA_WITH_RC4_128_MD5,
];

/** Windows 10 1809 / Server 2019 ("TLS Cipher Suites in Windows 10 v1809"). */
const SCHANNEL_WIN2019_SUITES: readonly number[] = [
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
  CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
  CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_RSA_WITH_AES_256_CBC_SHA256,
  CS.TLS_RSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
];

/** Server 2022 ("TLS Cipher Suites in Windows Server 2022"): TLS 1.3 suites, then the 1809 list without DHE CBC. */
const SCHANNEL_WIN2022_SUITES: readonly number[] = [CS.TLS_AES_256_GCM_SHA384, CS.TLS_AES_128_GCM_SHA256, ...SCHANNEL_WIN2019_SUITES];

const RC4 = new Set<number>([CS.TLS_RSA_WITH_RC4_128_SHA, CS.TLS_RSA_WITH_RC4_128_MD5]);

/** Returns `suites` as SCH_USE_STRONG_CRYPTO leaves them (RC4 out; DES/export/NULL are not in the default lists). */
function strongCrypto(suites: readonly number[]): number[] {
  return suites.filter((s) => !RC4.has(s));
}

/** Returns the suites a hello whose highest version is `highest` can carry (SChannel sends only those). */
function upTo(suites: readonly number[], highest: number): number[] {
  return suites.filter((s) => (cipherSuiteInfo(s)?.minVersion ?? PV.TLS1_0) <= highest);
}

/** SChannel signature schemes as IE 11 on Windows 7 sent them (SSL Labs capture). */
const SCHANNEL_WIN7_SCHEMES: readonly number[] = [
  SS.rsa_pkcs1_sha512, SS.ecdsa_secp521r1_sha512, SS.rsa_pkcs1_sha256, SS.rsa_pkcs1_sha384, SS.rsa_pkcs1_sha1,
  SS.ecdsa_secp256r1_sha256, SS.ecdsa_secp384r1_sha384, SS.ecdsa_sha1, SS.dsa_sha1,
];
/** As IE 11 on Windows 8.1 sent them. */
const SCHANNEL_WIN81_SCHEMES: readonly number[] = [
  SS.rsa_pkcs1_sha256, SS.rsa_pkcs1_sha384, SS.rsa_pkcs1_sha512, SS.rsa_pkcs1_sha1,
  SS.ecdsa_secp256r1_sha256, SS.ecdsa_secp384r1_sha384, SS.ecdsa_secp521r1_sha512, SS.ecdsa_sha1, SS.dsa_sha1,
];
/** As Edge 13–17 on Windows 10 sent them. */
const SCHANNEL_WIN10_SCHEMES: readonly number[] = [
  SS.rsa_pkcs1_sha256, SS.rsa_pkcs1_sha384, SS.rsa_pkcs1_sha1, SS.ecdsa_secp256r1_sha256, SS.ecdsa_secp384r1_sha384,
  SS.ecdsa_sha1, SS.dsa_sha1, SS.rsa_pkcs1_sha512, SS.ecdsa_secp521r1_sha512,
];
/**
 * Server 2022 with TLS 1.3: the Windows 10 list plus RSA-PSS, which TLS 1.3 requires for RSA
 * certificates (RFC 8446, Section 4.2.3). Their position in the list is ours: no capture was at hand.
 */
const SCHANNEL_WIN2022_SCHEMES: readonly number[] = [...SCHANNEL_WIN10_SCHEMES, SS.rsa_pss_rsae_sha256, SS.rsa_pss_rsae_sha384, SS.rsa_pss_rsae_sha512];

const NIST_GROUPS: readonly number[] = [NG.secp256r1, NG.secp384r1];
const WIN10_GROUPS: readonly number[] = [NG.x25519, NG.secp256r1, NG.secp384r1];

/** SChannel extension order (IE 11 / Edge captures, app-level extensions removed). */
const EXT_WIN7: readonly ExtensionSlot[] = [ET.server_name, ET.status_request, ET.supported_groups, ET.ec_point_formats, ET.signature_algorithms, ET.extended_master_secret, ET.renegotiation_info];
const EXT_WIN81: readonly ExtensionSlot[] = [
  ET.server_name, ET.status_request, ET.supported_groups, ET.ec_point_formats, ET.signature_algorithms, ET.session_ticket, ET.extended_master_secret, ET.renegotiation_info,
];
const EXT_WIN2022: readonly ExtensionSlot[] = [
  ET.server_name, ET.status_request, ET.supported_groups, ET.ec_point_formats, ET.signature_algorithms, ET.session_ticket, ET.extended_master_secret,
  ET.supported_versions, ET.psk_key_exchange_modes, ET.key_share, ET.renegotiation_info,
];

/** Returns `exts` without signature_algorithms: it exists from TLS 1.2 on (RFC 5246, Section 7.4.1.4.1). */
function withoutSigAlgs(exts: readonly ExtensionSlot[]): ExtensionSlot[] {
  return exts.filter((e) => e !== ET.signature_algorithms);
}

/** A TLS 1.0 (or TLS 1.2) SChannel hello: record version = client_version, no session id, no supported_versions. */
function schannelShape(highest: number, suites: readonly number[], groups: readonly number[], schemes: readonly number[], exts: readonly ExtensionSlot[]): HelloShape {
  const tls12 = highest >= PV.TLS1_2;
  return {
    legacyVersion: highest,
    recordVersion: highest,
    supportedVersions: null,
    cipherSuites: upTo(suites, highest),
    groups,
    pointFormats: [0],
    signatureSchemes: tls12 ? schemes : null,
    keyShareGroups: [],
    alpn: null,
    extensions: tls12 ? exts : withoutSigAlgs(exts),
    sessionIdLength: 0,
    grease: false,
  };
}

const SCHANNEL_SOURCE_7 = 'Microsoft "TLS Cipher Suites in Windows 7" (after update 3042058) and "Protocols in TLS/SSL (Schannel SSP)"; extension order and signature schemes from SSL Labs\' IE 8-10 / IE 11 on Windows 7 captures';
const SCHANNEL_SOURCE_8 = 'Microsoft "TLS Cipher Suites in Windows 8" (after update 3042058); TLS 1.2 client default per the endpoint owner\'s guidance (KB3140245 + registry keys); extension order and signature schemes as SChannel on Windows 7/8.1';
const SCHANNEL_SOURCE_81 = 'Microsoft "TLS Cipher Suites in Windows 8.1" (after update 2919355); extension order and signature schemes from SSL Labs\' IE 11 on Windows 8.1 capture';
const DOTNET_SOURCE =
  '"Transport Layer Security (TLS) best practices with the .NET Framework" (dotnet/docs: SchUseStrongCrypto, SystemDefaultTlsVersions, the SCH_USE_STRONG_CRYPTO flag) and Microsoft\'s note on the .NET Framework 4.6 default change (SSL 3.0 out, TLS 1.1 and 1.2 in)';

// ---------------------------------------------------------------------------------------------------
// OpenSSL and Chrome data
// ---------------------------------------------------------------------------------------------------

/**
 * OpenSSL 3.0 `s_client` defaults: TLS 1.3 suites in OpenSSL's default order
 * (TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256), then the TLS 1.2
 * DEFAULT cipher string at security level 1 in `openssl ciphers -v DEFAULT` order, then the SCSV.
 */
const OPENSSL3_SUITES: readonly number[] = [
  CS.TLS_AES_256_GCM_SHA384, CS.TLS_CHACHA20_POLY1305_SHA256, CS.TLS_AES_128_GCM_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, CS.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, CS.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, CS.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, CS.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384, CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, CS.TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, CS.TLS_DHE_RSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, CS.TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, CS.TLS_DHE_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_RSA_WITH_AES_256_GCM_SHA384, CS.TLS_RSA_WITH_AES_128_GCM_SHA256, CS.TLS_RSA_WITH_AES_256_CBC_SHA256, CS.TLS_RSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_RSA_WITH_AES_256_CBC_SHA, CS.TLS_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
];

/** OpenSSL 3.0's default groups (ssl/t1_lib.c `supported_groups_default`). */
const OPENSSL3_GROUPS: readonly number[] = [
  NG.x25519, NG.secp256r1, NG.x448, NG.secp521r1, NG.secp384r1, NG.ffdhe2048, NG.ffdhe3072, NG.ffdhe4096, NG.ffdhe6144, NG.ffdhe8192,
];

/** OpenSSL 3.0's default signature algorithms (ssl/t1_lib.c `tls12_sigalgs`), SHA-224 and DSA included. */
const OPENSSL3_SCHEMES: readonly number[] = [
  SS.ecdsa_secp256r1_sha256, SS.ecdsa_secp384r1_sha384, SS.ecdsa_secp521r1_sha512, SS.ed25519, SS.ed448,
  SS.rsa_pss_pss_sha256, SS.rsa_pss_pss_sha384, SS.rsa_pss_pss_sha512, SS.rsa_pss_rsae_sha256, SS.rsa_pss_rsae_sha384, SS.rsa_pss_rsae_sha512,
  SS.rsa_pkcs1_sha256, SS.rsa_pkcs1_sha384, SS.rsa_pkcs1_sha512, SS.ecdsa_sha224, SS.rsa_pkcs1_sha224, SS.dsa_sha224, SS.dsa_sha256, SS.dsa_sha384, SS.dsa_sha512,
];

/** Chrome's TLS 1.2 + 1.3 suites (BoringSSL's client defaults), GREASE added at build time. */
const CHROME_SUITES: readonly number[] = [
  CS.TLS_AES_128_GCM_SHA256, CS.TLS_AES_256_GCM_SHA384, CS.TLS_CHACHA20_POLY1305_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, CS.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
  CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_RSA_WITH_AES_128_GCM_SHA256, CS.TLS_RSA_WITH_AES_256_GCM_SHA384, CS.TLS_RSA_WITH_AES_128_CBC_SHA, CS.TLS_RSA_WITH_AES_256_CBC_SHA,
];

const CHROME_SCHEMES: readonly number[] = [
  SS.ecdsa_secp256r1_sha256, SS.rsa_pss_rsae_sha256, SS.rsa_pkcs1_sha256, SS.ecdsa_secp384r1_sha384,
  SS.rsa_pss_rsae_sha384, SS.rsa_pkcs1_sha384, SS.rsa_pss_rsae_sha512, SS.rsa_pkcs1_sha512,
];

// ---------------------------------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------------------------------

/** RFC 7301 / draft-vvv-tls-alps: ALPS for h2, as Chrome sends it. */
const ALPS_H2 = Uint8Array.from([0x00, 0x03, 0x02, 0x68, 0x32]);

/** Chrome's certificate compression algorithm: brotli (RFC 8879, Section 3). */
const BROTLI = 2;

function randomGrease(): number {
  return GREASE_VALUES[randomBytes(1)[0]! & 0x0f]!;
}

/** Returns the highest version `shape` offers. */
function highestVersion(shape: HelloShape): number {
  const real = (shape.supportedVersions ?? []).filter((v) => !isGrease(v));
  return real.length ? Math.max(...real) : shape.legacyVersion;
}

/**
 * Returns the ClientHello `shape` describes, with fresh random, session id and key shares. GREASE
 * values are picked at random per build, two different ones for the two GREASE extensions.
 * Padding follows BoringSSL (ssl/extensions.cc): a hello whose handshake message would be 256–511
 * bytes is padded to 512.
 */
export function buildHelloFromShape(shape: HelloShape, sni: string | null): { hello: ClientHello; keyPairs: KeyShareKeyPair[] } {
  const g1 = randomGrease();
  let g2 = randomGrease();
  while (g2 === g1) g2 = randomGrease();
  const keyPairs = shape.keyShareGroups.map((g) => generateKeyShare(g));
  const grease = shape.grease ? [randomGrease()] : [];
  const exts: Extension[] = [];
  let padding = false;
  for (const slot of shape.extensions) {
    if (slot === 'grease') {
      exts.push({ kind: 'raw', type: g1, data: new Uint8Array(0) });
      continue;
    }
    if (slot === 'grease-1') {
      exts.push({ kind: 'raw', type: g2, data: new Uint8Array(1) });
      continue;
    }
    switch (slot) {
      case ET.server_name:
        if (sni !== null) exts.push({ kind: 'server_name', type: 0x0000, names: [{ nameType: 0, name: sni }] });
        break;
      case ET.status_request: // RFC 6066, Section 8: OCSP, no responder ids, no extensions
        exts.push({ kind: 'status_request', type: 0x0005, request: { statusType: 1, responderIdList: new Uint8Array(0), requestExtensions: new Uint8Array(0) } });
        break;
      case ET.supported_groups:
        exts.push({ kind: 'supported_groups', type: 0x000a, groups: [...grease, ...shape.groups] });
        break;
      case ET.ec_point_formats:
        exts.push({ kind: 'ec_point_formats', type: 0x000b, formats: [...shape.pointFormats] });
        break;
      case ET.signature_algorithms:
        if (shape.signatureSchemes) exts.push({ kind: 'signature_algorithms', type: 0x000d, schemes: [...shape.signatureSchemes] });
        break;
      case ET.application_layer_protocol_negotiation:
        if (shape.alpn) exts.push({ kind: 'alpn', type: 0x0010, protocols: [...shape.alpn] });
        break;
      case ET.signed_certificate_timestamp: // RFC 6962, Section 3.3.1: empty in the ClientHello
        exts.push({ kind: 'raw', type: ET.signed_certificate_timestamp, data: new Uint8Array(0) });
        break;
      case ET.encrypt_then_mac:
      case ET.extended_master_secret:
        exts.push({ kind: 'flag', type: slot });
        break;
      case ET.compress_certificate:
        exts.push({ kind: 'compress_certificate', type: 0x001b, algorithms: [BROTLI] });
        break;
      case ET.session_ticket:
        exts.push({ kind: 'session_ticket', type: 0x0023, ticket: new Uint8Array(0) });
        break;
      case ET.supported_versions:
        exts.push({ kind: 'supported_versions', type: 0x002b, versions: [...grease, ...(shape.supportedVersions ?? [])], selected: null });
        break;
      case ET.psk_key_exchange_modes:
        exts.push({ kind: 'psk_key_exchange_modes', type: 0x002d, modes: [1] }); // psk_dhe_ke
        break;
      case ET.key_share:
        exts.push({
          kind: 'key_share',
          type: 0x0033,
          // RFC 8701, Section 3.1: a GREASE key share carries one zero byte in Chrome.
          shares: [...grease.map((g) => ({ group: g, keyExchange: new Uint8Array(1) })), ...keyPairs.map((p) => ({ group: p.group, keyExchange: p.publicKey }))],
          selectedGroup: null,
        });
        break;
      case ET.application_settings:
        exts.push({ kind: 'raw', type: ET.application_settings, data: ALPS_H2 });
        break;
      case ET.renegotiation_info: // RFC 5746, Section 3.4: empty on the initial handshake
        exts.push({ kind: 'renegotiation_info', type: 0xff01, renegotiatedConnection: new Uint8Array(0) });
        break;
      case ET.padding:
        padding = true;
        break;
      default:
        throw new TypeError(`client profile extension 0x${slot.toString(16)} has no builder`);
    }
  }
  const base: ClientHello = {
    legacyVersion: shape.legacyVersion,
    random: new Uint8Array(randomBytes(32)),
    sessionId: new Uint8Array(randomBytes(shape.sessionIdLength)),
    cipherSuites: [...grease, ...shape.cipherSuites],
    compressionMethods: [0],
    extensions: exts,
  };
  if (!padding) return { hello: base, keyPairs };
  const length = encodeClientHello(base).length;
  if (length <= 0xff || length >= 0x200) return { hello: base, keyPairs };
  // BoringSSL: padding_len = 0x200 - header_len, less the extension's own 4-byte header when it fits.
  let pad = 0x200 - length;
  pad = pad >= 4 + 1 ? pad - 4 : 1;
  return { hello: { ...base, extensions: [...exts, { kind: 'padding', type: 0x0015, data: new Uint8Array(pad) }] }, keyPairs };
}

interface ProfileSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly title: string;
  readonly description: string;
  readonly source: string;
  readonly versions: readonly ProbeVersion[];
  readonly shape: HelloShape;
}

function profile(spec: ProfileSpec): ClientProfile {
  const version = probeVersionOf(highestVersion(spec.shape));
  if (version === null) throw new TypeError(`profile ${spec.name}: highest version is not one we probe`);
  return {
    ...spec,
    aliases: spec.aliases ?? [],
    build(sni: string | null): PrebuiltHello {
      const { hello, keyPairs } = buildHelloFromShape(spec.shape, sni);
      return { version, hello, keyPairs, recordVersion: spec.shape.recordVersion };
    },
  };
}

const LEGACY: readonly ProbeVersion[] = ['SSL3.0', 'TLS1.0'];
const TO_TLS12: readonly ProbeVersion[] = ['TLS1.0', 'TLS1.1', 'TLS1.2'];

/** Every client profile, oldest Windows first. */
export const CLIENT_PROFILES: readonly ClientProfile[] = [
  profile({
    name: 'win7-schannel',
    aliases: ['win2008r2', 'win7'],
    title: 'Windows 7 / Server 2008 R2, SChannel defaults',
    description: 'SChannel with the TLS 1.1/1.2 client disabled (the default): a TLS 1.0 ClientHello, RC4 still offered. What a backup agent on an unconfigured 2008 R2 sends.',
    source: SCHANNEL_SOURCE_7,
    versions: LEGACY,
    shape: schannelShape(PV.TLS1_0, SCHANNEL_WIN7_SUITES, NIST_GROUPS, SCHANNEL_WIN7_SCHEMES, EXT_WIN7),
  }),
  profile({
    name: 'win7-schannel-tls12',
    aliases: ['win2008r2-tls12', 'win7-tls12'],
    title: 'Windows 7 / Server 2008 R2, TLS 1.2 enabled',
    description: 'SChannel after KB3140245 with TLS 1.1/1.2 Client Enabled=1, DisabledByDefault=0: a TLS 1.2 ClientHello (record version 0x0303).',
    source: SCHANNEL_SOURCE_7,
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, SCHANNEL_WIN7_SUITES, NIST_GROUPS, SCHANNEL_WIN7_SCHEMES, EXT_WIN7),
  }),
  profile({
    name: 'win2012',
    title: 'Windows Server 2012, defaults',
    description: 'SChannel without KB3140245 and the TLS 1.2 client keys: applications get TLS 1.0 (the endpoint owner\'s guidance; Microsoft\'s SChannel table lists TLS 1.2 as enabled, but WinHTTP and .NET do not use it by default).',
    source: SCHANNEL_SOURCE_8,
    versions: LEGACY,
    shape: schannelShape(PV.TLS1_0, SCHANNEL_WIN8_SUITES, NIST_GROUPS, SCHANNEL_WIN81_SCHEMES, EXT_WIN81),
  }),
  profile({
    name: 'win2012-tls12',
    title: 'Windows Server 2012, TLS 1.2 enabled',
    description: 'SChannel after KB3140245 with the TLS 1.2 client keys: a TLS 1.2 ClientHello with the Windows 8 suite list.',
    source: SCHANNEL_SOURCE_8,
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, SCHANNEL_WIN8_SUITES, NIST_GROUPS, SCHANNEL_WIN81_SCHEMES, EXT_WIN81),
  }),
  profile({
    name: 'win2012r2',
    aliases: ['win8.1', 'win81'],
    title: 'Windows Server 2012 R2 / 8.1, SChannel defaults',
    description: 'SChannel with TLS 1.0–1.2 enabled by default: a TLS 1.2 ClientHello, RC4 still offered at the end.',
    source: SCHANNEL_SOURCE_81,
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, SCHANNEL_WIN7_SUITES, NIST_GROUPS, SCHANNEL_WIN81_SCHEMES, EXT_WIN81),
  }),
  profile({
    name: 'win2016',
    aliases: ['win10-1607'],
    title: 'Windows Server 2016 / 10 v1607, SChannel defaults',
    description: 'SChannel with GCM suites first and curve25519: a TLS 1.2 ClientHello.',
    source: 'Microsoft "TLS Cipher Suites in Windows 10 v1607" and "TLS Elliptic Curves in Windows 10 1607 and later"; extension order and signature schemes from SSL Labs\' Edge 13–17 on Windows 10 captures',
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, SCHANNEL_WIN2016_SUITES, WIN10_GROUPS, SCHANNEL_WIN10_SCHEMES, EXT_WIN81),
  }),
  profile({
    name: 'win2019',
    aliases: ['win10-1809'],
    title: 'Windows Server 2019 / 10 v1809, SChannel defaults',
    description: 'SChannel without DHE-CBC, DSS and RC4 suites: a TLS 1.2 ClientHello.',
    source: 'Microsoft "TLS Cipher Suites in Windows 10 v1809" and "TLS Elliptic Curves in Windows 10 1607 and later"; extension order and signature schemes from SSL Labs\' Edge 17 on Windows 10 capture',
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, SCHANNEL_WIN2019_SUITES, WIN10_GROUPS, SCHANNEL_WIN10_SCHEMES, EXT_WIN81),
  }),
  profile({
    name: 'win2022',
    aliases: ['win11'],
    title: 'Windows Server 2022, SChannel defaults',
    description: 'SChannel with TLS 1.3 enabled by default: supported_versions TLS 1.3 and 1.2, an x25519 key share.',
    source: 'Microsoft "TLS Cipher Suites in Windows Server 2022" and "TLS Elliptic Curves in Windows 10 1607 and later"; the TLS 1.3 extensions\' position and the RSA-PSS schemes are ours (RFC 8446 requirements; no Server 2022 capture at hand)',
    versions: ['TLS1.2', 'TLS1.3'],
    shape: {
      legacyVersion: PV.TLS1_2,
      recordVersion: PV.TLS1_2,
      supportedVersions: [PV.TLS1_3, PV.TLS1_2],
      cipherSuites: SCHANNEL_WIN2022_SUITES,
      groups: WIN10_GROUPS,
      pointFormats: [0],
      signatureSchemes: SCHANNEL_WIN2022_SCHEMES,
      keyShareGroups: [NG.x25519],
      alpn: null,
      extensions: EXT_WIN2022,
      // RFC 8446, Appendix D.4: a TLS 1.3 client sends a non-empty legacy_session_id.
      sessionIdLength: 32,
      grease: false,
    },
  }),
  profile({
    name: 'dotnet45-default',
    title: '.NET Framework 4.5–4.5.2 app, no registry keys (on Server 2012 R2)',
    description: 'Without SchUseStrongCrypto and SystemDefaultTlsVersions the app asks SChannel for TLS 1.0 only: a TLS 1.0 ClientHello with RC4 offered (no SCH_USE_STRONG_CRYPTO), even though the OS could do TLS 1.2.',
    source: `${DOTNET_SOURCE}; suites from "TLS Cipher Suites in Windows 8.1"`,
    versions: ['TLS1.0'],
    shape: schannelShape(PV.TLS1_0, SCHANNEL_WIN7_SUITES, NIST_GROUPS, SCHANNEL_WIN81_SCHEMES, EXT_WIN81),
  }),
  profile({
    name: 'dotnet40-default',
    title: '.NET Framework 4.0 app, no registry keys (on Windows 7 / Server 2008 R2)',
    description: 'ServicePointManager.SecurityProtocol is Ssl3 | Tls: SChannel sends a TLS 1.0 ClientHello and would settle for SSL 3.0; RC4 offered.',
    source: `${DOTNET_SOURCE}; ${SCHANNEL_SOURCE_7}`,
    versions: LEGACY,
    shape: schannelShape(PV.TLS1_0, SCHANNEL_WIN7_SUITES, NIST_GROUPS, SCHANNEL_WIN7_SCHEMES, EXT_WIN7),
  }),
  profile({
    name: 'dotnet-strongcrypto',
    aliases: ['dotnet-systemdefault'],
    title: '.NET Framework 4.x with SchUseStrongCrypto=1 and SystemDefaultTlsVersions=1 (on Server 2012 R2)',
    description: 'The OS chooses the versions (TLS 1.0–1.2) and SCH_USE_STRONG_CRYPTO removes RC4: a TLS 1.2 ClientHello.',
    source: `${DOTNET_SOURCE}; suites from "TLS Cipher Suites in Windows 8.1" without RC4`,
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, strongCrypto(SCHANNEL_WIN7_SUITES), NIST_GROUPS, SCHANNEL_WIN81_SCHEMES, EXT_WIN81),
  }),
  profile({
    name: 'dotnet-strongcrypto-win7',
    aliases: ['dotnet-strongcrypto-win2008r2'],
    title: '.NET Framework 4.x with the .NET keys but SChannel TLS 1.2 still disabled (Windows 7 / 2008 R2)',
    description: 'SystemDefaultTlsVersions=1 hands the choice to SChannel, whose TLS 1.2 client is still off: a TLS 1.0 ClientHello without RC4. Both the .NET and the SChannel keys are needed.',
    source: `${DOTNET_SOURCE}; ${SCHANNEL_SOURCE_7}`,
    versions: ['TLS1.0'],
    shape: schannelShape(PV.TLS1_0, strongCrypto(SCHANNEL_WIN7_SUITES), NIST_GROUPS, SCHANNEL_WIN7_SCHEMES, EXT_WIN7),
  }),
  profile({
    name: 'openssl-3',
    aliases: ['openssl'],
    title: 'OpenSSL 3.0 s_client defaults',
    description: 'TLS 1.0–1.3 offered through supported_versions, x25519 key share, no padding: a ClientHello of about 300 bytes (inside the 256–511 range some F5 devices hang on).',
    source: 'OpenSSL 3.0 defaults: openssl-ciphers(1) DEFAULT and the TLS 1.3 ciphersuites default, ssl/t1_lib.c default groups and signature algorithms; checked against a local `openssl s_client` ClientHello in the tests',
    versions: ['TLS1.0', 'TLS1.1', 'TLS1.2', 'TLS1.3'],
    shape: {
      legacyVersion: PV.TLS1_2,
      recordVersion: PV.TLS1_0,
      supportedVersions: [PV.TLS1_3, PV.TLS1_2, PV.TLS1_1, PV.TLS1_0],
      cipherSuites: OPENSSL3_SUITES,
      groups: OPENSSL3_GROUPS,
      pointFormats: [0, 1, 2],
      signatureSchemes: OPENSSL3_SCHEMES,
      keyShareGroups: [NG.x25519],
      alpn: null,
      extensions: [
        ET.server_name, ET.ec_point_formats, ET.supported_groups, ET.session_ticket, ET.encrypt_then_mac, ET.extended_master_secret,
        ET.signature_algorithms, ET.supported_versions, ET.psk_key_exchange_modes, ET.key_share,
      ],
      sessionIdLength: 32,
      grease: false,
    },
  }),
  profile({
    name: 'chrome',
    aliases: ['browser'],
    title: 'Chrome (current desktop)',
    description: 'GREASE, TLS 1.3 and 1.2, ALPN h2/http1.1, BoringSSL padding. X25519MLKEM768 is advertised but its key share is not sent (node:crypto has no ML-KEM), so the hello is about 1.2 KB smaller than the real one; encrypted_client_hello GREASE is left out.',
    source: 'Chromium/BoringSSL client defaults (ssl/extensions.cc, ssl_cipher.cc); extension order as Chrome sent it before it started permuting extensions (Chrome 110), compared with SSL Labs\' Chrome 101 capture',
    versions: ['TLS1.2', 'TLS1.3'],
    shape: {
      legacyVersion: PV.TLS1_2,
      recordVersion: PV.TLS1_0,
      supportedVersions: [PV.TLS1_3, PV.TLS1_2],
      cipherSuites: CHROME_SUITES,
      groups: [NG.X25519MLKEM768, NG.x25519, NG.secp256r1, NG.secp384r1],
      pointFormats: [0],
      signatureSchemes: CHROME_SCHEMES,
      keyShareGroups: [NG.x25519],
      alpn: ['h2', 'http/1.1'],
      extensions: [
        'grease', ET.server_name, ET.extended_master_secret, ET.renegotiation_info, ET.supported_groups, ET.ec_point_formats, ET.session_ticket,
        ET.application_layer_protocol_negotiation, ET.status_request, ET.signature_algorithms, ET.signed_certificate_timestamp, ET.key_share,
        ET.psk_key_exchange_modes, ET.supported_versions, ET.compress_certificate, ET.application_settings, 'grease-1', ET.padding,
      ],
      sessionIdLength: 32,
      grease: true,
    },
  }),
];

/** Returns the profile called `name` (or one of its aliases, case-insensitive), or undefined. */
export function findClientProfile(name: string): ClientProfile | undefined {
  const n = name.trim().toLowerCase();
  return CLIENT_PROFILES.find((p) => p.name === n || p.aliases.includes(n));
}

/** What a simulated client would see. */
export type SimulationVerdict = 'gets-10054' | 'connects' | 'fails-otherwise';

export interface Simulation {
  readonly profile: string;
  readonly attempt: AttemptResult;
  readonly gets10054: boolean;
  readonly verdict: SimulationVerdict;
  readonly summary: string;
}

/**
 * Returns what happens when `profile`'s ClientHello (naming `sni`) is sent to `target`: the attempt,
 * whether the client would report error 10054 (the server reset the connection), and a sentence.
 */
export async function simulateClient(target: ProbeTarget, profile: ClientProfile, sni: string | null, opts: AttemptOptions = {}): Promise<Simulation> {
  const r = await attempt(target, profile.build(sni), opts);
  const offered = profile.versions.map((v) => v.replace(/^(TLS|SSL)/, '$1 ')).join(', ');
  let verdict: SimulationVerdict;
  let summary: string;
  if (r.outcome === 'reset') {
    verdict = 'gets-10054';
    summary = `Yes: ${profile.title} gets error 10054 (WSAECONNRESET): the server reset the connection after a ClientHello offering ${offered}.`;
  } else if (r.outcome === 'negotiated') {
    verdict = 'connects';
    const v = r.negotiatedVersion === null ? 'handshake accepted' : displayName(PROTOCOL_VERSIONS, r.negotiatedVersion);
    summary = `No: ${profile.title} connects (${v}${r.cipherSuiteName ? `, ${r.cipherSuiteName}` : ''}).`;
  } else {
    verdict = 'fails-otherwise';
    summary = `No 10054, but ${profile.title} fails: ${describeOutcome(r.outcome, r.errorCode)}${r.alert ? ` (${r.alert.name})` : ''}.`;
  }
  return { profile: profile.name, attempt: r, gets10054: verdict === 'gets-10054', verdict, summary };
}
