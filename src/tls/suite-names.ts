/**
 * What a cipher suite's IANA name states about it (key exchange, authentication, bulk cipher, MAC or
 * PRF hash, the versions that may negotiate it), parsed from the name: `describeSuiteName`.
 *
 * Parsing every name costs a process ~7 ms (more on a loaded machine) and a scan asks about every
 * suite on its first hello, so the facts of the registered suites ship as a generated table
 * (src/tls/suite-facts-data.ts, `node scripts/gen-suite-facts.mjs` after a build) that
 * `cipherSuiteInfo` (registry.ts) reads; a test compares the table with this function suite by suite.
 */

/** Key exchange as the suite's name states it (`DH_anon` is 'DH', `ECDH_anon` is 'ECDH'). */
export type KeyExchange =
  | 'ECDHE'
  | 'DHE'
  | 'RSA'
  | 'ECDH'
  | 'DH'
  | 'PSK'
  | 'ECDHE_PSK'
  | 'DHE_PSK'
  | 'RSA_PSK'
  | 'SRP'
  | 'KRB5'
  | 'NULL'
  | 'TLS13'
  | 'SCSV'
  | 'other';

/** Facts about a suite derived from its IANA name: key exchange, authentication, bulk cipher, MAC/PRF hash, tls13, min version. */
export interface CipherSuiteInfo {
  readonly value: number;
  readonly name: string;
  readonly keyExchange: KeyExchange;
  /** 'RSA', 'DSS', 'ECDSA', 'PSK', 'SRP', 'KRB5', 'anon', 'NULL', 'TLS13' (from the certificate), 'none' for SCSVs, or the name's own token ('ECCPWD'). */
  readonly authentication: string;
  /** Bulk cipher as named: 'AES_128_GCM', '3DES_EDE_CBC', 'RC4_40', 'CHACHA20_POLY1305', 'NULL'. */
  readonly cipher: string;
  /** HMAC hash for CBC/stream suites, PRF/HKDF hash for AEAD suites: 'SHA1', 'SHA256', 'MD5', … */
  readonly mac: string;
  readonly tls13: boolean;
  readonly aead: boolean;
  readonly export: boolean;
  /** Lowest protocol version that may negotiate the suite (0x0300 = SSL 3.0). */
  readonly minVersion: number;
  /** Highest protocol version that may negotiate the suite (0x0303 = TLS 1.2, 0x0304 = TLS 1.3). */
  readonly maxVersion: number;
}

/** Key-exchange part of `TLS_<kx>_WITH_…` → [keyExchange, authentication]. */
const KEY_EXCHANGES: Readonly<Record<string, readonly [KeyExchange, string]>> = {
  NULL: ['NULL', 'NULL'],
  RSA: ['RSA', 'RSA'],
  RSA_FIPS: ['RSA', 'RSA'],
  RSA_OLDFIPS: ['RSA', 'RSA'],
  DH_DSS: ['DH', 'DSS'],
  DH_RSA: ['DH', 'RSA'],
  DHE_DSS: ['DHE', 'DSS'],
  DHE_RSA: ['DHE', 'RSA'],
  DH_anon: ['DH', 'anon'],
  ECDH_ECDSA: ['ECDH', 'ECDSA'],
  ECDH_RSA: ['ECDH', 'RSA'],
  ECDHE_ECDSA: ['ECDHE', 'ECDSA'],
  ECDHE_RSA: ['ECDHE', 'RSA'],
  ECDH_anon: ['ECDH', 'anon'],
  PSK: ['PSK', 'PSK'], // RFC 4279 §2
  DHE_PSK: ['DHE_PSK', 'PSK'], // RFC 4279 §3
  PSK_DHE: ['DHE_PSK', 'PSK'], // RFC 6655 spells 0xc0aa/0xc0ab TLS_PSK_DHE_WITH_…
  RSA_PSK: ['RSA_PSK', 'RSA'], // RFC 4279 §4: the server also authenticates with an RSA certificate
  ECDHE_PSK: ['ECDHE_PSK', 'PSK'], // RFC 5489
  SRP_SHA: ['SRP', 'SRP'], // RFC 5054 §2.7
  SRP_SHA_RSA: ['SRP', 'RSA'],
  SRP_SHA_DSS: ['SRP', 'DSS'],
  KRB5: ['KRB5', 'KRB5'], // RFC 2712
};

/** MAC names as they end a TLS 1.0–1.2 suite name ('SHA' is HMAC-SHA1, RFC 5246 §A.5). */
const MAC_TOKENS: Readonly<Record<string, string>> = {
  NULL: 'NULL', // TLS_NULL_WITH_NULL_NULL (RFC 5246 §A.5)
  MD5: 'MD5',
  SHA: 'SHA1',
  SHA1: 'SHA1', // the non-IANA Salsa20 suites (0xe410-0xe41f) spell it out
  SHA256: 'SHA256',
  SHA384: 'SHA384',
  SHA512: 'SHA512',
  SM3: 'SM3',
  IMIT: 'IMIT', // GOST 28147-89 IMIT (RFC 9189)
  OMAC: 'OMAC', // RFC 9189
  GOSTR3411: 'GOSTR3411',
};

/** RFC 9367: GOST suites for TLS 1.3, named `TLS_GOSTR341112_256_WITH_…` like TLS 1.2 suites. */
const GOST_TLS13 = new Set([0xc103, 0xc104, 0xc105, 0xc106]);

const AEAD = /GCM|CCM|CHACHA20_POLY1305|MGM|AEGIS|OCB/;
const TLS_1_2_PRF_MACS = new Set(['SHA256', 'SHA384', 'SHA512', 'SM3']);
/**
 * Returns the facts the IANA name `name` of the suite `value` states: the reference that the
 * generated table src/tls/suite-facts-data.ts (scripts/gen-suite-facts.mjs) is made from and tested
 * against.
 *
 * Versions: TLS 1.3 suites (RFC 8446 §B.4, also RFC 8998, RFC 9150, RFC 9367) are TLS 1.3 only; no
 * other suite may be used in TLS 1.3 (RFC 8446 §4.1.2). EXPORT suites stop at TLS 1.0 (RFC 4346 §A.5:
 * TLS 1.1 MUST NOT negotiate them). AEAD suites and suites with a SHA-256/384 MAC or PRF are TLS 1.2
 * only (RFC 5246 §A.5, RFC 5288 §4, RFC 5289, RFC 6655, RFC 7905). All others: SSL 3.0 to TLS 1.2.
 * Names without a `TLS_`/`SSL_` prefix (GM/T 0024 suites like ECDHE_SM4_CBC_SM3) are reported as
 * 'other' with 'unknown' parts.
 */
export function describeSuiteName(value: number, name: string): CipherSuiteInfo {
  const base = { value, name, tls13: false, aead: false, export: false };
  if (name.endsWith('_SCSV')) {
    // RFC 5746 §3.3 and RFC 7507 §3: signalling values, not suites; sent by TLS 1.0–1.2 clients.
    return {
      ...base,
      keyExchange: 'SCSV',
      authentication: 'none',
      cipher: 'none',
      mac: 'none',
      minVersion: 0x0300,
      maxVersion: 0x0303,
    };
  }
  const m = /^(?:TLS|SSL)_(.*?)(?:_OLD)?$/.exec(name);
  if (m === null || m[1] === undefined) {
    return {
      ...base,
      keyExchange: 'other',
      authentication: 'unknown',
      cipher: 'unknown',
      mac: 'unknown',
      minVersion: 0x0300,
      maxVersion: 0x0303,
    };
  }
  const body = m[1];
  const withAt = body.indexOf('_WITH_');

  if (withAt < 0 || GOST_TLS13.has(value)) {
    // TLS 1.3 form TLS_<AEAD>_<HASH> (RFC 8446 §B.4), or RFC 9367's TLS_GOSTR341112_256_WITH_<AEAD>.
    const tokens = (withAt < 0 ? body : body.slice(withAt + 6)).split('_');
    const hash = withAt < 0 ? (tokens.pop() ?? '') : body.slice(0, withAt);
    const cipher = tokens.join('_');
    // RFC 9150 TLS_SHA256_SHA256 / TLS_SHA384_SHA384: integrity only, no cipher.
    const integrityOnly = /^SHA\d+$/.test(cipher);
    return {
      ...base,
      keyExchange: 'TLS13',
      authentication: 'TLS13',
      cipher: integrityOnly ? 'NULL' : cipher,
      mac: hash,
      tls13: true,
      aead: !integrityOnly && AEAD.test(cipher),
      minVersion: 0x0304,
      maxVersion: 0x0304,
    };
  }

  const kxPart = body.slice(0, withAt);
  const isExport = /_EXPORT(?:1024)?$/.test(kxPart);
  const kxName = kxPart.replace(/_EXPORT(?:1024)?$/, '');
  const [keyExchange, authentication] = KEY_EXCHANGES[kxName] ?? ['other', kxName];

  const tokens = body.slice(withAt + 6).split('_');
  const last = tokens[tokens.length - 1] ?? '';
  let mac: string;
  if (last in MAC_TOKENS) {
    tokens.pop();
    mac = MAC_TOKENS[last] ?? last;
  } else if (tokens.includes('CCM')) {
    mac = 'SHA256'; // RFC 6655 §3, RFC 7251 §2: the CCM suites use the TLS 1.2 PRF with SHA-256.
  } else {
    mac = 'unknown';
  }
  const cipher = tokens.join('_');
  const aead = AEAD.test(cipher);
  const tls12Only = aead || TLS_1_2_PRF_MACS.has(mac) || kxName.startsWith('GOSTR341112');
  return {
    ...base,
    keyExchange,
    authentication,
    cipher,
    mac,
    aead,
    export: isExport,
    minVersion: isExport ? 0x0300 : tls12Only ? 0x0303 : 0x0300,
    maxVersion: isExport ? 0x0301 : 0x0303,
  };
}
