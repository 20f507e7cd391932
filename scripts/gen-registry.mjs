#!/usr/bin/env node
/**
 * Generates src/tls/registry-data.ts, the TLS value→name tables, from `tshark -G values` plus the small
 * IANA supplement below. Exits 1 when generation fails or, with `--check`, when the committed file differs
 * from what would be generated.
 *
 * Usage:
 *   node scripts/gen-registry.mjs            write src/tls/registry-data.ts
 *   node scripts/gen-registry.mjs --check    compare instead of writing (exit 1 on drift)
 *   node scripts/gen-registry.mjs --file P   use P instead of src/tls/registry-data.ts (both modes)
 *   TSHARK=/path/to/tshark                   run that tshark instead of the one on PATH
 *
 * Sources, in order of precedence (later wins):
 *   1. Wireshark's value strings, as printed by `tshark -G values` (`V<TAB>field<TAB>value<TAB>name`),
 *      normalised to IANA spelling where the rule is mechanical ("Close Notify" → close_notify).
 *   2. RFC 5246 §7.4.1.4.1 (hash, signature) pairs not otherwise named, as `{sig}_{hash}` (OpenSSL's
 *      TLSEXT_SIGALG_* spelling: ecdsa_sha224, dsa_sha256, rsa_pkcs1_md5).
 *   3. SUPPLEMENT: IANA entries this tshark lacks or spells differently, each with its reference, and
 *      the few non-IANA renames needed to keep names unique.
 * GREASE values (RFC 8701) are dropped: they are reserved, and the API names them separately.
 * IANA status suffixes (`_RESERVED`, ` (OBSOLETE)`) are not part of a name and are left out.
 *
 * With `--check` and no tshark on this machine, prints a warning and exits 0 (CI may lack tshark); the
 * same when the installed tshark is a different version from the one that made the committed file,
 * since its value strings legitimately differ.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, resolve, relative } from 'node:path';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_OUT = resolve(ROOT, 'src/tls/registry-data.ts');
const TSHARK = process.env.TSHARK || 'tshark';

// ---------------------------------------------------------------------------------------------------
// IANA supplement. Registries: https://www.iana.org/assignments/tls-parameters (TLS Parameters) and
// https://www.iana.org/assignments/tls-extensiontype-values (TLS ExtensionType Values).
// Each entry: [value, name, reference].
// ---------------------------------------------------------------------------------------------------

/** @type {Record<string, ReadonlyArray<readonly [number, string, string]>>} */
const SUPPLEMENT = {
  CIPHER_SUITE: [
    // IANA TLS Cipher Suites (tls-parameters-4).
    [0x1306, 'TLS_AEGIS_256_SHA512', 'IANA tls-parameters-4; draft-irtf-cfrg-aegis-aead'],
    [0x1307, 'TLS_AEGIS_128L_SHA256', 'IANA tls-parameters-4; draft-irtf-cfrg-aegis-aead'],
    // Not IANA: tshark gives these pre-standard code points the same names as their IANA successors
    // (0xcca8-0xccaa, 0xfefe/0xfeff), so they are renamed to keep CipherSuite keys unique.
    [
      0xcc13,
      'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD',
      'draft-agl-tls-chacha20poly1305-04 (pre-RFC 7905 code point)',
    ],
    [
      0xcc14,
      'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256_OLD',
      'draft-agl-tls-chacha20poly1305-04 (pre-RFC 7905 code point)',
    ],
    [
      0xcc15,
      'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD',
      'draft-agl-tls-chacha20poly1305-04 (pre-RFC 7905 code point)',
    ],
    [0xffe0, 'SSL_RSA_OLDFIPS_WITH_3DES_EDE_CBC_SHA', 'Netscape private use (NSS sslproto.h name)'],
    [0xffe1, 'SSL_RSA_OLDFIPS_WITH_DES_CBC_SHA', 'Netscape private use (NSS sslproto.h name)'],
  ],
  EXTENSION_TYPE: [
    // IANA TLS ExtensionType Values (tls-extensiontype-values-1).
    [26, 'tls_lts', 'IANA; draft-gutmann-tls-lts'],
    [29, 'pwd_protect', 'IANA; RFC 8492'],
    [30, 'pwd_clear', 'IANA; RFC 8492'],
    [31, 'password_salt', 'IANA; RFC 8492'],
    [32, 'ticket_pinning', 'IANA; RFC 8672'],
    [33, 'tls_cert_with_extern_psk', 'IANA; RFC 8773'],
    [34, 'delegated_credential', 'IANA; RFC 9345'],
    [36, 'TLMSP', 'IANA; ETSI TS 103 523-2'],
    [37, 'TLMSP_proxying', 'IANA; ETSI TS 103 523-2'],
    [38, 'TLMSP_delegate', 'IANA; ETSI TS 103 523-2'],
    [39, 'supported_ekt_ciphers', 'IANA; RFC 8870'],
    [60, 'sequence_number_encryption_algorithms', 'IANA; draft-pismenny-tls-dtls-plaintext-sequence-number'],
    [61, 'rrc', 'IANA; draft-ietf-tls-dtls-rrc'],
    [0xfd00, 'ech_outer_extensions', 'IANA; draft-ietf-tls-esni'],
    [0xfe0d, 'encrypted_client_hello', 'IANA; draft-ietf-tls-esni'],
  ],
  NAMED_GROUP: [
    // IANA TLS Supported Groups (tls-parameters-8).
    [31, 'brainpoolP256r1tls13', 'IANA; RFC 8734'],
    [32, 'brainpoolP384r1tls13', 'IANA; RFC 8734'],
    [33, 'brainpoolP512r1tls13', 'IANA; RFC 8734'],
    [34, 'GC256A', 'IANA; RFC 9189'],
    [35, 'GC256B', 'IANA; RFC 9189'],
    [36, 'GC256C', 'IANA; RFC 9189'],
    [37, 'GC256D', 'IANA; RFC 9189'],
    [38, 'GC512A', 'IANA; RFC 9189'],
    [39, 'GC512B', 'IANA; RFC 9189'],
    [40, 'GC512C', 'IANA; RFC 9189'],
    [0x0200, 'MLKEM512', 'IANA; draft-connolly-tls-mlkem-key-agreement'],
    [0x0201, 'MLKEM768', 'IANA; draft-connolly-tls-mlkem-key-agreement'],
    [0x0202, 'MLKEM1024', 'IANA; draft-connolly-tls-mlkem-key-agreement'],
    [0x11eb, 'SecP256r1MLKEM768', 'IANA; draft-ietf-tls-ecdhe-mlkem'],
    [0x11ec, 'X25519MLKEM768', 'IANA; draft-ietf-tls-ecdhe-mlkem'],
    [0x11ed, 'SecP384r1MLKEM1024', 'IANA; draft-ietf-tls-ecdhe-mlkem'],
    [0x6399, 'X25519Kyber768Draft00', 'IANA (obsolete); draft-tls-westerbaan-xyber768d00'],
    [0x639a, 'SecP256r1Kyber768Draft00', 'IANA (obsolete); draft-kwiatkowski-tls-ecdhe-kyber'],
  ],
  SIGNATURE_SCHEME: [
    // IANA TLS SignatureScheme (tls-signaturescheme).
    [0x0420, 'rsa_pkcs1_sha256_legacy', 'IANA; draft-davidben-tls13-pkcs1'],
    [0x0520, 'rsa_pkcs1_sha384_legacy', 'IANA; draft-davidben-tls13-pkcs1'],
    [0x0620, 'rsa_pkcs1_sha512_legacy', 'IANA; draft-davidben-tls13-pkcs1'],
    [0x0704, 'eccsi_sha256', 'IANA; draft-wang-tls-raw-public-key-with-ibc'],
    [0x0705, 'iso_ibs1', 'IANA; draft-wang-tls-raw-public-key-with-ibc'],
    [0x0706, 'iso_ibs2', 'IANA; draft-wang-tls-raw-public-key-with-ibc'],
    [0x0707, 'iso_chinese_ibs', 'IANA; draft-wang-tls-raw-public-key-with-ibc'],
    [0x0709, 'gostr34102012_256a', 'IANA; RFC 9367'],
    [0x070a, 'gostr34102012_256b', 'IANA; RFC 9367'],
    [0x070b, 'gostr34102012_256c', 'IANA; RFC 9367'],
    [0x070c, 'gostr34102012_256d', 'IANA; RFC 9367'],
    [0x070d, 'gostr34102012_512a', 'IANA; RFC 9367'],
    [0x070e, 'gostr34102012_512b', 'IANA; RFC 9367'],
    [0x070f, 'gostr34102012_512c', 'IANA; RFC 9367'],
    [0x081a, 'ecdsa_brainpoolP256r1tls13_sha256', 'IANA; RFC 8734'],
    [0x081b, 'ecdsa_brainpoolP384r1tls13_sha384', 'IANA; RFC 8734'],
    [0x081c, 'ecdsa_brainpoolP512r1tls13_sha512', 'IANA; RFC 8734'],
    [0x0904, 'mldsa44', 'IANA; draft-ietf-tls-mldsa'],
    [0x0905, 'mldsa65', 'IANA; draft-ietf-tls-mldsa'],
    [0x0906, 'mldsa87', 'IANA; draft-ietf-tls-mldsa'],
  ],
  ALERT_DESCRIPTION: [
    // IANA TLS Alerts (tls-parameters-6).
    [52, 'too_many_cids_requested', 'IANA; RFC 9147'],
  ],
  HANDSHAKE_TYPE: [
    // IANA TLS HandshakeType (tls-parameters-7).
    [9, 'request_connection_id', 'IANA; RFC 9147'],
    [10, 'new_connection_id', 'IANA; RFC 9147'],
    [17, 'client_certificate_request', 'IANA; RFC 9261'],
    [21, 'certificate_url', 'IANA; RFC 6066'],
    [26, 'ekt_key', 'IANA; RFC 8870'],
    [254, 'message_hash', 'IANA; RFC 8446'],
    // Not IANA: tshark calls 67 "Encrypted Extensions", a second name for type 8.
    [67, 'next_protocol', 'draft-agl-tls-nextprotoneg-04 §3 (NPN NextProtocol message)'],
  ],
  CONTENT_TYPE: [
    // IANA TLS ContentType (tls-parameters-5).
    [25, 'tls12_cid', 'IANA; RFC 9146'],
    [26, 'ack', 'IANA; RFC 9147'],
  ],
  PROTOCOL_VERSION: [[0xfefc, 'DTLS 1.3', 'RFC 9147 §5.3']],
  COMPRESSION_METHOD: [
    // IANA TLS Compression Method Identifiers (comp-meth-ids-2).
    [0, 'NULL', 'IANA; RFC 5246'],
  ],
};

// ---------------------------------------------------------------------------------------------------
// Registries: which tshark field, how wide the value is, how tshark's label becomes an IANA-style name.
// ---------------------------------------------------------------------------------------------------

/** "Close Notify" → close_notify, "No application Protocol" → no_application_protocol. */
const snake = (s) =>
  s
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
const same = (s) => s;

/**
 * @typedef {{ id: string, field: string, width: 1 | 2, doc: string, normalize: (s: string) => string,
 *   block?: 'last', legacySigAlgs?: true }} RegistrySpec
 */
/** @type {RegistrySpec[]} */
const REGISTRIES = [
  {
    id: 'CIPHER_SUITE',
    field: 'tls.handshake.ciphersuite',
    width: 2,
    normalize: same,
    doc: 'TLS Cipher Suites (RFC 8446 §B.4, RFC 5246 §A.5; IANA tls-parameters-4).',
  },
  {
    id: 'EXTENSION_TYPE',
    field: 'tls.handshake.extension.type',
    width: 2,
    normalize: same,
    doc: 'TLS ExtensionType values (RFC 8446 §4.2; IANA tls-extensiontype-values-1).',
  },
  {
    id: 'NAMED_GROUP',
    field: 'tls.handshake.extensions_supported_group',
    width: 2,
    normalize: same,
    doc: 'TLS Supported Groups (RFC 8446 §4.2.7, RFC 8422 §5.1.1; IANA tls-parameters-8).',
  },
  {
    id: 'SIGNATURE_SCHEME',
    field: 'tls.handshake.sig_hash_alg',
    width: 2,
    normalize: same,
    legacySigAlgs: true,
    doc: 'TLS SignatureScheme values and TLS 1.2 (hash, signature) pairs (RFC 8446 §4.2.3, RFC 5246 §7.4.1.4.1).',
  },
  {
    id: 'ALERT_DESCRIPTION',
    field: 'tls.alert_message.desc',
    width: 1,
    normalize: snake,
    doc: 'TLS Alert descriptions (RFC 8446 §6, RFC 5246 §7.2; IANA tls-parameters-6).',
  },
  {
    id: 'HANDSHAKE_TYPE',
    field: 'tls.handshake.type',
    width: 1,
    normalize: snake,
    block: 'last',
    doc: 'TLS HandshakeType values (RFC 8446 §4, RFC 5246 §7.4; IANA tls-parameters-7).',
  },
  {
    id: 'CONTENT_TYPE',
    field: 'tls.record.content_type',
    width: 1,
    normalize: snake,
    doc: 'TLS ContentType values (RFC 8446 §5.1; IANA tls-parameters-5).',
  },
  {
    id: 'PROTOCOL_VERSION',
    field: 'tls.record.version',
    width: 2,
    normalize: (s) => s.replace(/ \(((?:[A-Za-z]+ )?draft \d+)\)$/, ' $1'),
    doc: 'Protocol versions as display strings (RFC 8446 §5.1, §4.2.1; draft versions 0x7fNN).',
  },
  {
    id: 'ALERT_LEVEL',
    field: 'tls.alert_message.level',
    width: 1,
    normalize: snake,
    doc: 'TLS AlertLevel values (RFC 8446 §6, RFC 5246 §7.2).',
  },
  {
    id: 'EC_POINT_FORMAT',
    field: 'tls.handshake.extensions_ec_point_format',
    width: 1,
    normalize: same,
    doc: 'TLS EC Point Formats (RFC 8422 §5.1.2; IANA tls-parameters-9).',
  },
  {
    id: 'PSK_KEY_EXCHANGE_MODE',
    field: 'tls.extension.psk_ke_mode',
    width: 1,
    normalize: (s) => /\(([a-z_]+)\)$/.exec(s)?.[1] ?? snake(s),
    doc: 'TLS PskKeyExchangeMode values (RFC 8446 §4.2.9; IANA tls-pskkeyexchangemode).',
  },
  {
    id: 'CERTIFICATE_STATUS_TYPE',
    field: 'tls.handshake.extensions_status_request_type',
    width: 1,
    normalize: snake,
    doc: 'TLS Certificate Status Types (RFC 6066 §8, RFC 6961; IANA pkix-parameters / tls-extensiontype-values-3).',
  },
  {
    id: 'COMPRESSION_METHOD',
    field: 'tls.handshake.comp_method',
    width: 1,
    normalize: same,
    doc: 'TLS Compression Method Identifiers (RFC 5246 §7.4.1.2, RFC 3749; IANA comp-meth-ids-2).',
  },
];

/** RFC 8701 §2: the sixteen 16-bit GREASE values 0x0a0a, 0x1a1a, … 0xfafa. */
const isGrease16 = (v) => (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);

/** RFC 5246 §7.4.1.4.1 HashAlgorithm and SignatureAlgorithm (anonymous and none are never signed). */
/** @type {[number, string][]} */
const LEGACY_HASHES = [
  [1, 'md5'],
  [2, 'sha1'],
  [3, 'sha224'],
  [4, 'sha256'],
  [5, 'sha384'],
  [6, 'sha512'],
];
/** @type {[number, string][]} */
const LEGACY_SIGS = [
  [1, 'rsa_pkcs1'],
  [2, 'dsa'],
  [3, 'ecdsa'],
];

// ---------------------------------------------------------------------------------------------------
// tshark
// ---------------------------------------------------------------------------------------------------

/** Returns tshark's version ("4.0.17"), or null when tshark cannot be run. */
function tsharkVersion() {
  const r = spawnSync(TSHARK, ['-v'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const m = /TShark \(Wireshark\) (\d+\.\d+\.\d+)/.exec(r.stdout);
  if (!m) throw new Error(`cannot read a version from \`${TSHARK} -v\`: ${r.stdout.split('\n')[0]}`);
  return m[1];
}

/** Resolves to Map<field, Array<[value, label]>> (in tshark's order) for the fields in `fields`. */
function readTsharkValues(fields) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TSHARK, ['-G', 'values'], { stdio: ['ignore', 'pipe', 'pipe'] });
    /** @type {Map<string, Array<[number, string]>>} */
    const out = new Map([...fields].map((f) => [f, []]));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
    rl.on('line', (line) => {
      if (!line.startsWith('V\ttls.')) return;
      const [, field, value, label] = line.split('\t');
      const list = out.get(field);
      if (!list) return;
      const n = Number(value);
      if (!Number.isInteger(n)) {
        child.kill();
        reject(new Error(`${field}: non-integer value ${JSON.stringify(value)}`));
        return;
      }
      list.push([n, label ?? '']);
    });
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`\`${TSHARK} -G values\` exited ${code}: ${stderr.trim()}`));
      for (const [f, list] of out) if (list.length === 0) return reject(new Error(`tshark printed no values for ${f}`));
      resolvePromise(out);
    });
  });
}

/**
 * Splits a field's values into blocks (a field registered twice, like tls.handshake.type for SSLv2 and
 * SSLv3+, prints two value_strings back to back; a block ends where a value repeats).
 */
function blocks(list) {
  /** @type {any[][]} */
  const result = [[]];
  let seen = new Set();
  for (const entry of list) {
    if (seen.has(entry[0])) {
      result.push([]);
      seen = new Set();
    }
    seen.add(entry[0]);
    result[result.length - 1].push(entry);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------------------

/** @typedef {{ value: number, name: string, label: string | null, source: string }} Entry */

/** Returns the merged, sorted entries of one registry. Throws on duplicate names or bad input. */
function buildRegistry(spec, tsharkList) {
  const bs = blocks(tsharkList);
  if (bs.length > 1 && spec.block !== 'last') {
    throw new Error(`${spec.field}: tshark printed ${bs.length} value blocks; expected one`);
  }
  const list = bs[bs.length - 1];
  /** @type {Map<number, Entry>} */
  const byValue = new Map();
  for (const [value, label] of list) {
    if (spec.width === 2 && isGrease16(value)) continue;
    const name = spec.normalize(label);
    byValue.set(value, { value, name, label, source: name === label ? 'tshark' : `tshark ${JSON.stringify(label)}` });
  }
  if (spec.legacySigAlgs) {
    for (const [h, hash] of LEGACY_HASHES) {
      for (const [s, sig] of LEGACY_SIGS) {
        const value = (h << 8) | s;
        if (!byValue.has(value))
          byValue.set(value, { value, name: `${sig}_${hash}`, label: null, source: 'RFC 5246 §7.4.1.4.1 pair' });
      }
    }
  }
  for (const [value, name, ref] of SUPPLEMENT[spec.id] ?? []) {
    const old = byValue.get(value);
    const source = !old
      ? ref
      : old.label === null
        ? `${ref}; ${old.source}`
        : old.name === name
          ? `tshark; ${ref}`
          : `${ref}; tshark: ${JSON.stringify(old.label)}`;
    byValue.set(value, { value, name, label: null, source });
  }
  const entries = [...byValue.values()].sort((a, b) => a.value - b.value);
  const names = new Map();
  for (const e of entries) {
    if (e.value < 0 || e.value >= 1 << (8 * spec.width)) throw new Error(`${spec.id}: value ${e.value} out of range`);
    if (e.name === '') throw new Error(`${spec.id}: empty name for ${e.value}`);
    const prev = names.get(e.name);
    if (prev !== undefined)
      throw new Error(`${spec.id}: name ${e.name} used for ${hex(prev, spec.width)} and ${hex(e.value, spec.width)}`);
    names.set(e.name, e.value);
  }
  return entries;
}

const hex = (v, width) => `0x${v.toString(16).padStart(width * 2, '0')}`;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A single-quoted TS string literal. */
const quote = (s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Returns the text of registry-data.ts. */
function render(version, registries) {
  const lines = [];
  lines.push(
    '// GENERATED FILE: do not edit by hand.',
    `// Generated by \`node scripts/gen-registry.mjs\` from \`tshark -G values\` (TShark (Wireshark) ${version})`,
    '// plus the IANA supplement in that script (IANA TLS Parameters and TLS ExtensionType Values registries).',
    '// Check with `node scripts/gen-registry.mjs --check`. Each entry says where its name comes from.',
    '',
    '/**',
    ' * Exports the TLS registry tables as plain data (throws nothing): `[value, name]` pairs sorted by value,',
    ' * and every cipher suite as a named constant. src/tls/registry.ts builds the lookup maps over them.',
    ' */',
    '',
    `/** Version of the tshark whose value strings this file was generated from. */`,
    `export const TSHARK_VERSION = '${version}';`,
    '',
    '/** One registry entry: the code point and its name. */',
    'export type RegistryEntry = readonly [value: number, name: string];',
  );
  for (const { spec, entries } of registries) {
    if (spec.id === 'CIPHER_SUITE') {
      lines.push(
        '',
        `/** ${spec.doc} Every suite, IANA spelling where IANA has one. */`,
        'export const CipherSuite = {',
      );
      for (const e of entries) {
        if (!IDENT.test(e.name)) throw new Error(`cipher suite name ${JSON.stringify(e.name)} is not an identifier`);
        lines.push(`  ${e.name}: ${hex(e.value, 2)}, // ${e.source}`);
      }
      lines.push('} as const;');
      continue;
    }
    lines.push('', `/** ${spec.doc} */`, `export const ${spec.id}_ENTRIES: readonly RegistryEntry[] = [`);
    for (const e of entries) lines.push(`  [${hex(e.value, spec.width)}, ${quote(e.name)}], // ${e.source}`);
    lines.push('];');
  }
  lines.push('');
  return lines.join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const fileIdx = args.indexOf('--file');
  const out = fileIdx >= 0 ? resolve(process.cwd(), args[fileIdx + 1] ?? '') : DEFAULT_OUT;
  const unknown = args.filter((a, i) => a !== '--check' && a !== '--file' && !(fileIdx >= 0 && i === fileIdx + 1));
  if (unknown.length > 0) {
    console.error(
      `gen-registry: unknown argument ${unknown[0]}\nusage: node scripts/gen-registry.mjs [--check] [--file PATH]`,
    );
    return 2;
  }
  const rel = relative(process.cwd(), out) || out;

  const version = tsharkVersion();
  if (version === null) {
    if (check) {
      console.warn(`gen-registry: WARNING: ${TSHARK} not found; cannot check ${rel} (skipped, exit 0)`);
      return 0;
    }
    console.error(
      `gen-registry: ${TSHARK} not found; install tshark (Debian: apt-get install tshark) to generate ${rel}`,
    );
    return 1;
  }
  if (check && existsSync(out)) {
    const committed = /TShark \(Wireshark\) (\d+\.\d+\.\d+)/.exec(readFileSync(out, 'utf8'))?.[1];
    if (committed && committed !== version) {
      console.warn(
        `gen-registry: WARNING: ${rel} was generated with tshark ${committed}, this machine has ${version}; cannot check (skipped, exit 0)`,
      );
      return 0;
    }
  }

  const values = await readTsharkValues(new Set(REGISTRIES.map((r) => r.field)));
  const registries = REGISTRIES.map((spec) => ({ spec, entries: buildRegistry(spec, values.get(spec.field) ?? []) }));
  const text = render(version, registries);

  if (check) {
    const current = existsSync(out) ? readFileSync(out, 'utf8') : null;
    if (current === text) {
      console.log(`gen-registry: ${rel} is up to date (tshark ${version})`);
      return 0;
    }
    console.error(
      `gen-registry: ${rel} ${current === null ? 'is missing' : 'differs from the generated tables'}; run: node scripts/gen-registry.mjs`,
    );
    return 1;
  }
  writeFileSync(out, text);
  const counts = registries.map((r) => `${r.spec.id}=${r.entries.length}`).join(' ');
  console.log(`gen-registry: wrote ${rel} (tshark ${version}): ${counts}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`gen-registry: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
