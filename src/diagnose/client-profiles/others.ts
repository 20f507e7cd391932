/**
 * Non-Windows client profiles: OpenSSL 3.0 `s_client` and Chrome, compared with testssl.sh's raw
 * hellos of the same clients.
 */
import {
  CipherSuite as CS,
  ExtensionType as ET,
  NamedGroup as NG,
  ProtocolVersion as PV,
  SignatureScheme as SS,
} from '../../tls/registry.js';
import { APPLICATION_SETTINGS_NEW, ENCRYPTED_CLIENT_HELLO, profile } from './build.js';
import type { ClientProfile } from './types.js';

// ---------------------------------------------------------------------------------------------------
// OpenSSL and Chrome data
// ---------------------------------------------------------------------------------------------------

/**
 * OpenSSL 3.0 `s_client` defaults: TLS 1.3 suites in OpenSSL's default order
 * (TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256), then the TLS 1.2
 * DEFAULT cipher string at security level 1 in `openssl ciphers -v DEFAULT` order, then the SCSV.
 */
const OPENSSL3_SUITES: readonly number[] = [
  CS.TLS_AES_256_GCM_SHA384,
  CS.TLS_CHACHA20_POLY1305_SHA256,
  CS.TLS_AES_128_GCM_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
  CS.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
  CS.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
  CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
  CS.TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_DHE_RSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
  CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
  CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_DHE_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_RSA_WITH_AES_256_CBC_SHA256,
  CS.TLS_RSA_WITH_AES_128_CBC_SHA256,
  CS.TLS_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
];

/** OpenSSL 3.0's default groups (ssl/t1_lib.c `supported_groups_default`). */
const OPENSSL3_GROUPS: readonly number[] = [
  NG.x25519,
  NG.secp256r1,
  NG.x448,
  NG.secp521r1,
  NG.secp384r1,
  NG.ffdhe2048,
  NG.ffdhe3072,
  NG.ffdhe4096,
  NG.ffdhe6144,
  NG.ffdhe8192,
];

/** OpenSSL 3.0's default signature algorithms (ssl/t1_lib.c `tls12_sigalgs`), SHA-224 and DSA included. */
const OPENSSL3_SCHEMES: readonly number[] = [
  SS.ecdsa_secp256r1_sha256,
  SS.ecdsa_secp384r1_sha384,
  SS.ecdsa_secp521r1_sha512,
  SS.ed25519,
  SS.ed448,
  SS.rsa_pss_pss_sha256,
  SS.rsa_pss_pss_sha384,
  SS.rsa_pss_pss_sha512,
  SS.rsa_pss_rsae_sha256,
  SS.rsa_pss_rsae_sha384,
  SS.rsa_pss_rsae_sha512,
  SS.rsa_pkcs1_sha256,
  SS.rsa_pkcs1_sha384,
  SS.rsa_pkcs1_sha512,
  SS.ecdsa_sha224,
  SS.rsa_pkcs1_sha224,
  SS.dsa_sha224,
  SS.dsa_sha256,
  SS.dsa_sha384,
  SS.dsa_sha512,
];

/** Chrome's TLS 1.2 + 1.3 suites (BoringSSL's client defaults), GREASE added at build time. */
const CHROME_SUITES: readonly number[] = [
  CS.TLS_AES_128_GCM_SHA256,
  CS.TLS_AES_256_GCM_SHA384,
  CS.TLS_CHACHA20_POLY1305_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
  CS.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
  CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
  CS.TLS_RSA_WITH_AES_128_GCM_SHA256,
  CS.TLS_RSA_WITH_AES_256_GCM_SHA384,
  CS.TLS_RSA_WITH_AES_128_CBC_SHA,
  CS.TLS_RSA_WITH_AES_256_CBC_SHA,
];

const CHROME_SCHEMES: readonly number[] = [
  SS.ecdsa_secp256r1_sha256,
  SS.rsa_pss_rsae_sha256,
  SS.rsa_pkcs1_sha256,
  SS.ecdsa_secp384r1_sha384,
  SS.rsa_pss_rsae_sha384,
  SS.rsa_pkcs1_sha384,
  SS.rsa_pss_rsae_sha512,
  SS.rsa_pkcs1_sha512,
];

export const OTHER_PROFILES: readonly ClientProfile[] = [
  profile({
    name: 'openssl-3',
    aliases: ['openssl'],
    title: 'OpenSSL 3.0 s_client defaults',
    description:
      'TLS 1.0–1.3 offered through supported_versions, x25519 key share, no padding: a ClientHello of about 300 bytes (inside the 256–511 range some F5 devices hang on).',
    fidelity: 'captured',
    reference: {
      kind: 'testssl',
      id: 'OpenSSL 3.0.15 (Debian)',
      label: 'testssl.sh: OpenSSL 3.0.15 on Debian, raw bytes',
    },
    source:
      'OpenSSL 3.0 defaults: openssl-ciphers(1) DEFAULT and the TLS 1.3 ciphersuites default, ssl/t1_lib.c default groups and signature algorithms; checked against a local `openssl s_client` ClientHello in the tests',
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
        ET.server_name,
        ET.ec_point_formats,
        ET.supported_groups,
        ET.session_ticket,
        ET.encrypt_then_mac,
        ET.extended_master_secret,
        ET.signature_algorithms,
        ET.supported_versions,
        ET.psk_key_exchange_modes,
        ET.key_share,
      ],
      sessionIdLength: 32,
      grease: false,
    },
  }),
  profile({
    name: 'chrome',
    aliases: ['browser'],
    title: 'Chrome 101-style hello (X25519MLKEM768 advertised without its share, padded to 512 bytes)',
    description:
      'GREASE, TLS 1.3 and 1.2, ALPN h2/http1.1, BoringSSL padding. X25519MLKEM768 is advertised but its key share is not sent (node:crypto has no ML-KEM), so the hello is about 1.2 KB smaller than the real one; encrypted_client_hello GREASE is left out.',
    fidelity: 'derived',
    reference: {
      kind: 'testssl',
      id: 'Chrome 101 (Win 10)',
      label: 'SSL Labs / testssl.sh: Chrome 101 on Windows 10, raw bytes',
    },
    differences: [
      {
        field: 'groups',
        added: [NG.X25519MLKEM768],
        removed: [],
        reordered: false,
        because:
          'current Chrome (131 and later) advertises X25519MLKEM768 first; Chrome 101 predates it. Its key share is not sent here (see chrome-current for the real one)',
      },
    ],
    source:
      "Chromium/BoringSSL client defaults (ssl/extensions.cc, ssl_cipher.cc); extension order as Chrome sent it before it started permuting extensions (Chrome 110), compared with SSL Labs' Chrome 101 capture",
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
        'grease',
        ET.server_name,
        ET.extended_master_secret,
        ET.renegotiation_info,
        ET.supported_groups,
        ET.ec_point_formats,
        ET.session_ticket,
        ET.application_layer_protocol_negotiation,
        ET.status_request,
        ET.signature_algorithms,
        ET.signed_certificate_timestamp,
        ET.key_share,
        ET.psk_key_exchange_modes,
        ET.supported_versions,
        ET.compress_certificate,
        ET.application_settings,
        'grease-1',
        ET.padding,
      ],
      sessionIdLength: 32,
      grease: true,
    },
  }),
  profile({
    name: 'chrome-current',
    aliases: ['chrome-pq', 'edge-current'],
    title: 'Chrome / Edge (current desktop, post-quantum key share)',
    description:
      'GREASE, TLS 1.3 and 1.2, a real X25519MLKEM768 key share (ML-KEM-768 encapsulation key and X25519, 1,216 bytes) beside x25519, GREASE ECH, ALPS: a ClientHello of about 1.7 KB, larger than one TCP segment of a 1,500-byte MTU path, which some middleboxes reset.',
    source:
      'SSL Labs / testssl.sh raw hello of Chromium 137 on Windows 11 (extension order as that connection sent it: Chrome permutes it per connection since Chrome 110); draft-ietf-tls-ecdhe-mlkem for the key share; ML-KEM-768 from @noble/post-quantum',
    fidelity: 'captured',
    reference: {
      kind: 'testssl',
      id: 'Chromium 137 (Win 11)',
      label: 'SSL Labs / testssl.sh: Chromium 137 on Windows 11, raw bytes (1,720-byte record)',
    },
    versions: ['TLS1.2', 'TLS1.3'],
    shape: {
      legacyVersion: PV.TLS1_2,
      recordVersion: PV.TLS1_0,
      supportedVersions: [PV.TLS1_3, PV.TLS1_2],
      cipherSuites: CHROME_SUITES,
      groups: [NG.X25519MLKEM768, NG.x25519, NG.secp256r1, NG.secp384r1],
      pointFormats: [0],
      signatureSchemes: CHROME_SCHEMES,
      keyShareGroups: [NG.X25519MLKEM768, NG.x25519],
      alpn: ['h2', 'http/1.1'],
      extensions: [
        'grease',
        ET.session_ticket,
        ENCRYPTED_CLIENT_HELLO,
        ET.key_share,
        ET.psk_key_exchange_modes,
        ET.status_request,
        ET.signature_algorithms,
        ET.server_name,
        ET.application_layer_protocol_negotiation,
        ET.supported_versions,
        ET.extended_master_secret,
        ET.signed_certificate_timestamp,
        APPLICATION_SETTINGS_NEW,
        ET.ec_point_formats,
        ET.compress_certificate,
        ET.supported_groups,
        ET.renegotiation_info,
        'grease-1',
      ],
      sessionIdLength: 32,
      grease: true,
    },
  }),
];
