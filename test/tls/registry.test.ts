import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { GREASE_VALUES, isGrease } from '../../src/tls/grease.js';
import * as data from '../../src/tls/registry-data.js';
import {
  ALERT_DESCRIPTIONS,
  ALERT_LEVELS,
  AlertDescription,
  AlertLevel,
  CERTIFICATE_STATUS_TYPES,
  CertificateStatusType,
  CIPHER_SUITES,
  CipherSuite,
  cipherSuiteInfo,
  COMPRESSION_METHODS,
  CompressionMethod,
  CONTENT_TYPES,
  ContentType,
  displayName,
  EC_POINT_FORMATS,
  ECPointFormat,
  EXTENSION_TYPES,
  ExtensionType,
  HANDSHAKE_TYPES,
  HandshakeType,
  NAMED_GROUPS,
  NamedGroup,
  nameOf,
  PROTOCOL_VERSIONS,
  ProtocolVersion,
  PSK_KEY_EXCHANGE_MODES,
  PskKeyExchangeMode,
  type Registry,
  SIGNATURE_SCHEMES,
  SignatureScheme,
} from '../../src/tls/registry.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = join(ROOT, 'scripts/gen-registry.mjs');
const DATA_FILE = join(ROOT, 'src/tls/registry-data.ts');
const hasTshark = spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;
const NO_TSHARK = 'tshark not found on PATH: gen-registry --check tests skipped';
if (!hasTshark) console.warn(NO_TSHARK);

/** RFC 8701 §2, listed in the RFC's own words: {0x0A,0x0A}, {0x1A,0x1A}, … {0xFA,0xFA}. */
const RFC8701_GREASE = [
  0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a, 0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada,
  0xeaea, 0xfafa,
];

const TABLES_16 = { CIPHER_SUITES, EXTENSION_TYPES, NAMED_GROUPS, SIGNATURE_SCHEMES, PROTOCOL_VERSIONS };

function runGen(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
}

describe('named constants', () => {
  const cases: Array<[string, Readonly<Record<string, number>>, Registry]> = [
    ['ContentType', ContentType, CONTENT_TYPES],
    ['HandshakeType', HandshakeType, HANDSHAKE_TYPES],
    ['ExtensionType', ExtensionType, EXTENSION_TYPES],
    ['NamedGroup', NamedGroup, NAMED_GROUPS],
    ['SignatureScheme', SignatureScheme, SIGNATURE_SCHEMES],
    ['AlertDescription', AlertDescription, ALERT_DESCRIPTIONS],
    ['AlertLevel', AlertLevel, ALERT_LEVELS],
    ['ECPointFormat', ECPointFormat, EC_POINT_FORMATS],
    ['PskKeyExchangeMode', PskKeyExchangeMode, PSK_KEY_EXCHANGE_MODES],
    ['CertificateStatusType', CertificateStatusType, CERTIFICATE_STATUS_TYPES],
    ['CompressionMethod', CompressionMethod, COMPRESSION_METHODS],
    ['CipherSuite', CipherSuite, CIPHER_SUITES],
  ];
  it.each(cases)('every %s constant is named the same in the generated table', (_, constants, reg) => {
    for (const [name, value] of Object.entries(constants)) expect([name, reg.get(value)]).toEqual([name, name]);
  });

  it('every ProtocolVersion constant matches the display name in PROTOCOL_VERSIONS', () => {
    for (const [key, value] of Object.entries(ProtocolVersion)) {
      const display = key.replace(/^(D?TLS|SSL)(\d)_(\d)$/, '$1 $2.$3');
      expect([key, PROTOCOL_VERSIONS.get(value)]).toEqual([key, display]);
    }
  });

  it('CipherSuite names every suite in CIPHER_SUITES exactly once', () => {
    expect(Object.keys(CipherSuite).length).toBe(CIPHER_SUITES.size);
  });
});

describe('generated tables', () => {
  it('have plausible sizes', () => {
    expect(CIPHER_SUITES.size).toBeGreaterThanOrEqual(340);
    expect(EXTENSION_TYPES.size).toBeGreaterThanOrEqual(60);
    expect(NAMED_GROUPS.size).toBeGreaterThanOrEqual(45);
    expect(SIGNATURE_SCHEMES.size).toBeGreaterThanOrEqual(45);
    expect(ALERT_DESCRIPTIONS.size).toBeGreaterThanOrEqual(35);
    expect(HANDSHAKE_TYPES.size).toBeGreaterThanOrEqual(24);
    expect(ALERT_LEVELS.size).toBe(2);
  });

  it('list their entries sorted by value without repeats', () => {
    const lists = Object.entries(data).filter(([k]) => k.endsWith('_ENTRIES')) as Array<
      [string, readonly data.RegistryEntry[]]
    >;
    expect(lists.length).toBe(12);
    for (const [key, entries] of lists) {
      for (let i = 1; i < entries.length; i++) expect([key, entries[i]![0] > entries[i - 1]![0]]).toEqual([key, true]);
    }
    const suites = Object.values(CipherSuite);
    for (let i = 1; i < suites.length; i++) expect(suites[i]! > suites[i - 1]!).toBe(true);
  });

  it('hold no GREASE value', () => {
    for (const [key, reg] of Object.entries(TABLES_16)) {
      for (const g of RFC8701_GREASE) expect([key, g, reg.has(g)]).toEqual([key, g, false]);
    }
  });

  // Values from the IANA registries (tls-parameters, tls-extensiontype-values, tls-signaturescheme).
  const IANA: Array<[string, Registry, number, string]> = [
    ['group', NAMED_GROUPS, 0x0017, 'secp256r1'],
    ['group', NAMED_GROUPS, 0x001d, 'x25519'],
    ['group', NAMED_GROUPS, 0x001e, 'x448'],
    ['group', NAMED_GROUPS, 0x0100, 'ffdhe2048'],
    ['group', NAMED_GROUPS, 0x11eb, 'SecP256r1MLKEM768'],
    ['group', NAMED_GROUPS, 0x11ec, 'X25519MLKEM768'],
    ['group', NAMED_GROUPS, 0x11ed, 'SecP384r1MLKEM1024'],
    ['extension', EXTENSION_TYPES, 0, 'server_name'],
    ['extension', EXTENSION_TYPES, 16, 'application_layer_protocol_negotiation'],
    ['extension', EXTENSION_TYPES, 21, 'padding'],
    ['extension', EXTENSION_TYPES, 23, 'extended_master_secret'],
    ['extension', EXTENSION_TYPES, 27, 'compress_certificate'],
    ['extension', EXTENSION_TYPES, 28, 'record_size_limit'],
    ['extension', EXTENSION_TYPES, 35, 'session_ticket'],
    ['extension', EXTENSION_TYPES, 41, 'pre_shared_key'],
    ['extension', EXTENSION_TYPES, 42, 'early_data'],
    ['extension', EXTENSION_TYPES, 43, 'supported_versions'],
    ['extension', EXTENSION_TYPES, 44, 'cookie'],
    ['extension', EXTENSION_TYPES, 45, 'psk_key_exchange_modes'],
    ['extension', EXTENSION_TYPES, 47, 'certificate_authorities'],
    ['extension', EXTENSION_TYPES, 48, 'oid_filters'],
    ['extension', EXTENSION_TYPES, 49, 'post_handshake_auth'],
    ['extension', EXTENSION_TYPES, 50, 'signature_algorithms_cert'],
    ['extension', EXTENSION_TYPES, 51, 'key_share'],
    ['extension', EXTENSION_TYPES, 52, 'transparency_info'],
    ['extension', EXTENSION_TYPES, 57, 'quic_transport_parameters'],
    ['extension', EXTENSION_TYPES, 17513, 'application_settings'],
    ['extension', EXTENSION_TYPES, 0xfd00, 'ech_outer_extensions'],
    ['extension', EXTENSION_TYPES, 0xfe0d, 'encrypted_client_hello'],
    ['extension', EXTENSION_TYPES, 0xff01, 'renegotiation_info'],
    ['signature', SIGNATURE_SCHEMES, 0x0201, 'rsa_pkcs1_sha1'],
    ['signature', SIGNATURE_SCHEMES, 0x0203, 'ecdsa_sha1'],
    ['signature', SIGNATURE_SCHEMES, 0x0303, 'ecdsa_sha224'],
    ['signature', SIGNATURE_SCHEMES, 0x0401, 'rsa_pkcs1_sha256'],
    ['signature', SIGNATURE_SCHEMES, 0x0403, 'ecdsa_secp256r1_sha256'],
    ['signature', SIGNATURE_SCHEMES, 0x0804, 'rsa_pss_rsae_sha256'],
    ['signature', SIGNATURE_SCHEMES, 0x0807, 'ed25519'],
    ['signature', SIGNATURE_SCHEMES, 0x0808, 'ed448'],
    ['signature', SIGNATURE_SCHEMES, 0x0809, 'rsa_pss_pss_sha256'],
    ['signature', SIGNATURE_SCHEMES, 0x080a, 'rsa_pss_pss_sha384'],
    ['signature', SIGNATURE_SCHEMES, 0x080b, 'rsa_pss_pss_sha512'],
    ['signature', SIGNATURE_SCHEMES, 0x081a, 'ecdsa_brainpoolP256r1tls13_sha256'],
    ['signature', SIGNATURE_SCHEMES, 0x081b, 'ecdsa_brainpoolP384r1tls13_sha384'],
    ['signature', SIGNATURE_SCHEMES, 0x081c, 'ecdsa_brainpoolP512r1tls13_sha512'],
    ['signature', SIGNATURE_SCHEMES, 0x0904, 'mldsa44'],
    ['signature', SIGNATURE_SCHEMES, 0x0905, 'mldsa65'],
    ['signature', SIGNATURE_SCHEMES, 0x0906, 'mldsa87'],
    ['alert', ALERT_DESCRIPTIONS, 0, 'close_notify'],
    ['alert', ALERT_DESCRIPTIONS, 40, 'handshake_failure'],
    ['alert', ALERT_DESCRIPTIONS, 70, 'protocol_version'],
    ['alert', ALERT_DESCRIPTIONS, 86, 'inappropriate_fallback'],
    ['alert', ALERT_DESCRIPTIONS, 112, 'unrecognized_name'],
    ['alert', ALERT_DESCRIPTIONS, 116, 'certificate_required'],
    ['alert', ALERT_DESCRIPTIONS, 120, 'no_application_protocol'],
    ['alert', ALERT_DESCRIPTIONS, 121, 'ech_required'],
    ['handshake', HANDSHAKE_TYPES, 1, 'client_hello'],
    ['handshake', HANDSHAKE_TYPES, 8, 'encrypted_extensions'],
    ['handshake', HANDSHAKE_TYPES, 24, 'key_update'],
    ['handshake', HANDSHAKE_TYPES, 254, 'message_hash'],
    ['content type', CONTENT_TYPES, 23, 'application_data'],
    ['suite', CIPHER_SUITES, 0x0000, 'TLS_NULL_WITH_NULL_NULL'],
    ['suite', CIPHER_SUITES, 0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA'],
    ['suite', CIPHER_SUITES, 0x00ff, 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV'],
    ['suite', CIPHER_SUITES, 0x1301, 'TLS_AES_128_GCM_SHA256'],
    ['suite', CIPHER_SUITES, 0x1302, 'TLS_AES_256_GCM_SHA384'],
    ['suite', CIPHER_SUITES, 0x1303, 'TLS_CHACHA20_POLY1305_SHA256'],
    ['suite', CIPHER_SUITES, 0x5600, 'TLS_FALLBACK_SCSV'],
    ['suite', CIPHER_SUITES, 0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
    ['suite', CIPHER_SUITES, 0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
    ['version', PROTOCOL_VERSIONS, 0x0002, 'SSL 2.0'],
    ['version', PROTOCOL_VERSIONS, 0x0300, 'SSL 3.0'],
    ['version', PROTOCOL_VERSIONS, 0x0301, 'TLS 1.0'],
    ['version', PROTOCOL_VERSIONS, 0x0304, 'TLS 1.3'],
    ['version', PROTOCOL_VERSIONS, 0x7f17, 'TLS 1.3 draft 23'],
    ['level', ALERT_LEVELS, 2, 'fatal'],
    ['point format', EC_POINT_FORMATS, 0, 'uncompressed'],
    ['psk mode', PSK_KEY_EXCHANGE_MODES, 1, 'psk_dhe_ke'],
    ['status type', CERTIFICATE_STATUS_TYPES, 1, 'ocsp'],
    ['compression', COMPRESSION_METHODS, 1, 'DEFLATE'],
  ];
  const hex = (v: number) => `0x${v.toString(16).padStart(4, '0')}`;
  it.each(IANA.map(([kind, reg, value, name]) => [kind, hex(value), name, reg, value] as const))(
    'names %s %s %s as IANA does',
    (_, __, name, reg, value) => {
      expect(reg.get(value)).toBe(name);
    },
  );
});

describe('nameOf', () => {
  it('returns the name of a known value', () => {
    expect(nameOf(NAMED_GROUPS, 0x11ec)).toBe('X25519MLKEM768');
  });

  it('returns null for a value in no registry', () => {
    expect(nameOf(EXTENSION_TYPES, 0x0a0b)).toBeNull();
    expect(nameOf(ALERT_DESCRIPTIONS, 200)).toBeNull();
  });

  it('returns null for every GREASE value in every 16-bit registry', () => {
    for (const reg of Object.values(TABLES_16)) for (const g of GREASE_VALUES) expect(nameOf(reg, g)).toBeNull();
  });
});

describe('displayName', () => {
  it('returns the registry name of a known value', () => {
    expect(displayName(CIPHER_SUITES, 0x1301)).toBe('TLS_AES_128_GCM_SHA256');
  });

  it('labels GREASE with its four hex digits', () => {
    expect(displayName(CIPHER_SUITES, 0x1a1a)).toBe('GREASE (0x1a1a)');
    expect(displayName(EXTENSION_TYPES, 0x0a0a)).toBe('GREASE (0x0a0a)');
    expect(displayName(NAMED_GROUPS, 0xfafa, 1)).toBe('GREASE (0xfafa)');
  });

  it('prints an unknown value as hex padded to the width', () => {
    expect(displayName(EXTENSION_TYPES, 0x1a2b)).toBe('0x1a2b');
    expect(displayName(HANDSHAKE_TYPES, 7)).toBe('0x0007');
    expect(displayName(HANDSHAKE_TYPES, 7, 1)).toBe('0x07');
    expect(displayName(ALERT_DESCRIPTIONS, 0x1f, 1)).toBe('0x1f');
  });
});

describe('isGrease', () => {
  it('accepts exactly the sixteen RFC 8701 values over 0..0xffff', () => {
    const found: number[] = [];
    for (let v = 0; v <= 0xffff; v++) if (isGrease(v)) found.push(v);
    expect(found).toEqual(RFC8701_GREASE);
  });

  it('exports GREASE_VALUES as the RFC 8701 list', () => {
    expect(GREASE_VALUES).toEqual(RFC8701_GREASE);
    expect(Object.isFrozen(GREASE_VALUES)).toBe(true);
  });

  it('rejects values that are not 16-bit integers', () => {
    for (const v of [0x1a1a + 0.5, -0x0a0a, 0x10a0a, 0x1a1a1a1a, Number.NaN, Infinity]) expect(isGrease(v)).toBe(false);
  });
});

describe('cipherSuiteInfo', () => {
  // Expected facts from the defining RFCs (cited per row); versions per RFC 5246, RFC 4346 and RFC 8446.
  const TLS12 = { minVersion: 0x0303, maxVersion: 0x0303 };
  const ANY12 = { minVersion: 0x0300, maxVersion: 0x0303 };
  const TLS13 = {
    keyExchange: 'TLS13',
    tls13: true,
    aead: true,
    export: false,
    minVersion: 0x0304,
    maxVersion: 0x0304,
  };
  const cases: Array<[number, Record<string, unknown>]> = [
    // RFC 8446 §B.4
    [0x1301, { ...TLS13, name: 'TLS_AES_128_GCM_SHA256', cipher: 'AES_128_GCM', mac: 'SHA256' }],
    [0x1302, { ...TLS13, name: 'TLS_AES_256_GCM_SHA384', cipher: 'AES_256_GCM', mac: 'SHA384' }],
    [0x1303, { ...TLS13, cipher: 'CHACHA20_POLY1305', mac: 'SHA256' }],
    [0x1305, { ...TLS13, cipher: 'AES_128_CCM_8', mac: 'SHA256' }],
    // RFC 5289
    [
      0xc02f,
      {
        ...TLS12,
        keyExchange: 'ECDHE',
        authentication: 'RSA',
        cipher: 'AES_128_GCM',
        mac: 'SHA256',
        aead: true,
        tls13: false,
      },
    ],
    [
      0xc02c,
      { ...TLS12, keyExchange: 'ECDHE', authentication: 'ECDSA', cipher: 'AES_256_GCM', mac: 'SHA384', aead: true },
    ],
    [
      0xc027,
      { ...TLS12, keyExchange: 'ECDHE', authentication: 'RSA', cipher: 'AES_128_CBC', mac: 'SHA256', aead: false },
    ],
    // RFC 7905
    [
      0xcca9,
      {
        ...TLS12,
        keyExchange: 'ECDHE',
        authentication: 'ECDSA',
        cipher: 'CHACHA20_POLY1305',
        mac: 'SHA256',
        aead: true,
      },
    ],
    // RFC 7251 (CCM suites use the SHA-256 PRF)
    [
      0xc0ac,
      { ...TLS12, keyExchange: 'ECDHE', authentication: 'ECDSA', cipher: 'AES_128_CCM', mac: 'SHA256', aead: true },
    ],
    // RFC 4492 / RFC 8422
    [
      0xc013,
      { ...ANY12, keyExchange: 'ECDHE', authentication: 'RSA', cipher: 'AES_128_CBC', mac: 'SHA1', aead: false },
    ],
    [0xc001, { ...ANY12, keyExchange: 'ECDH', authentication: 'ECDSA', cipher: 'NULL', mac: 'SHA1' }],
    // RFC 5246 §A.5
    [
      0x002f,
      { ...ANY12, keyExchange: 'RSA', authentication: 'RSA', cipher: 'AES_128_CBC', mac: 'SHA1', export: false },
    ],
    [0x000a, { ...ANY12, keyExchange: 'RSA', authentication: 'RSA', cipher: '3DES_EDE_CBC', mac: 'SHA1' }],
    [0x0033, { ...ANY12, keyExchange: 'DHE', authentication: 'RSA', cipher: 'AES_128_CBC', mac: 'SHA1' }],
    [0x0034, { ...ANY12, keyExchange: 'DH', authentication: 'anon', cipher: 'AES_128_CBC', mac: 'SHA1' }],
    [0x003c, { ...TLS12, keyExchange: 'RSA', authentication: 'RSA', cipher: 'AES_128_CBC', mac: 'SHA256' }],
    [0x0000, { ...ANY12, keyExchange: 'NULL', authentication: 'NULL', cipher: 'NULL', mac: 'NULL' }],
    // RFC 4346 §A.5: export suites end at TLS 1.0
    [
      0x0003,
      { keyExchange: 'RSA', cipher: 'RC4_40', mac: 'MD5', export: true, minVersion: 0x0300, maxVersion: 0x0301 },
    ],
    [0x0014, { keyExchange: 'DHE', authentication: 'RSA', cipher: 'DES40_CBC', export: true, maxVersion: 0x0301 }],
    // RFC 4279, RFC 5487, RFC 6655
    [0x008c, { ...ANY12, keyExchange: 'PSK', authentication: 'PSK', cipher: 'AES_128_CBC', mac: 'SHA1' }],
    [0x00a8, { ...TLS12, keyExchange: 'PSK', cipher: 'AES_128_GCM', mac: 'SHA256', aead: true }],
    [0x0094, { keyExchange: 'RSA_PSK', authentication: 'RSA' }],
    [0xc0aa, { ...TLS12, keyExchange: 'DHE_PSK', cipher: 'AES_128_CCM_8', mac: 'SHA256', aead: true }],
    // RFC 5054
    [0xc01e, { ...ANY12, keyExchange: 'SRP', authentication: 'RSA', cipher: 'AES_128_CBC', mac: 'SHA1' }],
    // RFC 2712
    [0x001e, { keyExchange: 'KRB5', authentication: 'KRB5', cipher: 'DES_CBC', mac: 'SHA1' }],
    // RFC 5746 §3.3, RFC 7507 §6
    [0x00ff, { ...ANY12, keyExchange: 'SCSV', tls13: false, aead: false }],
    [0x5600, { ...ANY12, keyExchange: 'SCSV' }],
  ];
  it.each(cases.map(([value, expected]) => [CIPHER_SUITES.get(value) ?? String(value), value, expected] as const))(
    'describes %s from its IANA name',
    (_, value, expected) => {
      expect(cipherSuiteInfo(value)).toMatchObject({ value, ...expected });
    },
  );

  it('returns null for GREASE and for values that are not suites', () => {
    expect(cipherSuiteInfo(0x0a0a)).toBeNull();
    expect(cipherSuiteInfo(0x0a0b)).toBeNull();
  });

  it('allows TLS 1.3 for the TLS 1.3 suites only (RFC 8446 §4.1.2)', () => {
    for (const value of CIPHER_SUITES.keys()) {
      const info = cipherSuiteInfo(value)!;
      expect([info.name, info.maxVersion === 0x0304]).toEqual([info.name, info.tls13]);
      if (info.tls13) expect([info.name, info.minVersion]).toEqual([info.name, 0x0304]);
      else expect([info.name, info.maxVersion <= 0x0303]).toEqual([info.name, true]);
    }
  });

  it('stops every EXPORT suite at TLS 1.0 (RFC 4346 §A.5)', () => {
    const exports = [...CIPHER_SUITES.entries()].filter(([, n]) => n.includes('EXPORT'));
    expect(exports.length).toBeGreaterThan(10);
    for (const [value, name] of exports) expect([name, cipherSuiteInfo(value)!.maxVersion]).toEqual([name, 0x0301]);
  });
});

describe('gen-registry.mjs', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'gen-registry-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it.skipIf(!hasTshark)('--check passes on the committed registry-data.ts', () => {
    const r = runGen(['--check']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/is up to date/);
  });

  it.skipIf(!hasTshark)('--check fails when one committed name is changed', () => {
    const altered = join(tmp, 'altered.ts');
    const text = readFileSync(DATA_FILE, 'utf8');
    expect(text).toContain("[0x001d, 'x25519']");
    writeFileSync(altered, text.replace("[0x001d, 'x25519']", "[0x001d, 'X25519']"));
    const r = runGen(['--check', '--file', altered]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/differs/);
  });

  it('--check without tshark warns and exits 0', () => {
    const r = runGen(['--check'], { ...process.env, TSHARK: join(tmp, 'no-such-tshark') });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/WARNING: .*not found/);
  });

  it('generating without tshark fails and writes nothing', () => {
    const out = join(tmp, 'never-written.ts');
    const r = runGen(['--file', out], { ...process.env, TSHARK: join(tmp, 'no-such-tshark') });
    expect(r.status).toBe(1);
    expect(() => readFileSync(out)).toThrow();
  });
});
