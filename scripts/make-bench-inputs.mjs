#!/usr/bin/env node
// Makes the benchmark inputs in bench/inputs/ (committed, so `npm run bench` needs neither openssl
// nor key generation):
//   - certs/<key>.pem: one CA-issued leaf per key type, made with `openssl` (RSA 2048/4096, RSA-PSS,
//     EC P-256/P-384, Ed25519, Ed448, DSA 2048), shaped like a public leaf (SAN, KU, EKU, AKI/SKI,
//     AIA, CRL DP, policies), plus one RSA leaf with 100 SAN entries (CDN-style);
//   - certs/lab-<alg>-<role>.pem: the lab chain of src/lab/pki.ts (pkijs-built), RSA and ECDSA;
//   - messages.json: ClientHellos, ServerHellos and record streams lifted from fixtures/hello and
//     fixtures/server (records split by hand here, not by the code under test), and Certificate
//     messages (TLS 1.2 and 1.3 forms) carrying the lab chain;
//   - handshakes.json: real HTTPS conversations recorded through a TCP relay between Node's TLS
//     client (OpenSSL) and the lab's `modern` endpoint (src/lab/lab.ts startLab; RSA and ECDSA
//     chains, root → intermediate → leaf plus the root), TLS 1.2 and TLS 1.3 with several cipher
//     suites and groups: every chunk each way as the relay read it, with its time, how each side
//     closed, and the client's key log lines. bench/lib/capture-synth.mjs repeats them into the
//     large pcapng captures of the capture benchmark (made at bench time, cached in bench/out/).
// Usage: node scripts/make-bench-inputs.mjs [--dist DIR] [--only certs,messages,handshakes]
//   (certificates need openssl; the lab chain and the handshakes need dist/, i.e. `npm ci` or
//   `npm run build` first). Private keys stay in a temp directory (or in memory) and are deleted.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'bench/inputs');
const certDir = join(outDir, 'certs');
const distArg = process.argv.indexOf('--dist');
const dist = resolve(root, distArg > 0 ? process.argv[distArg + 1] : 'dist');
const ALL_PARTS = ['certs', 'messages', 'handshakes'];
const onlyArg = process.argv.indexOf('--only');
const parts = onlyArg > 0 ? (process.argv[onlyArg + 1] ?? '').split(',').filter(Boolean) : ALL_PARTS;
if (!parts.length || parts.some((p) => !ALL_PARTS.includes(p))) {
  console.error(`make-bench-inputs: --only takes a list of ${ALL_PARTS.join(', ')}`);
  process.exit(2);
}

/** Key types, as `openssl genpkey` arguments; `digest` null for EdDSA (no separate hash). */
const KEYS = [
  { name: 'rsa-2048', gen: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], digest: 'sha256' },
  { name: 'rsa-4096', gen: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096'], digest: 'sha384' },
  { name: 'rsa-pss-2048', gen: ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'], digest: 'sha256' },
  { name: 'ec-p256', gen: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], digest: 'sha256' },
  { name: 'ec-p384', gen: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], digest: 'sha384' },
  { name: 'ed25519', gen: ['-algorithm', 'ED25519'], digest: null },
  { name: 'ed448', gen: ['-algorithm', 'ED448'], digest: null },
  { name: 'dsa-2048', gen: null, digest: 'sha256' },
];

function openssl(args, opts = {}) {
  const r = spawnSync('openssl', args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

function genKey(tmp, key, file) {
  if (key.gen) {
    openssl(['genpkey', ...key.gen, '-out', file]);
    return;
  }
  // DSA: parameters first (FIPS 186-4, L=2048, N=256), then the key.
  const params = join(tmp, 'dsa-params.pem');
  if (!existsSync(params))
    openssl([
      'genpkey',
      '-genparam',
      '-algorithm',
      'DSA',
      '-pkeyopt',
      'dsa_paramgen_bits:2048',
      '-pkeyopt',
      'dsa_paramgen_q_bits:256',
      '-out',
      params,
    ]);
  openssl(['genpkey', '-paramfile', params, '-out', file]);
}

/** X.509 v3 extensions of a public-CA-style TLS leaf (CA/Browser Forum Baseline Requirements, Section 7.1.2.7). */
function leafExtensions(sanCount) {
  const dns = ['bench.example', 'www.bench.example'];
  for (let i = dns.length; i < sanCount; i++) dns.push(`host-${String(i).padStart(3, '0')}.cdn.bench.example`);
  return [
    '[v3]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    'extendedKeyUsage = serverAuth, clientAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid:always',
    `subjectAltName = ${dns.map((d) => `DNS:${d}`).join(', ')}`,
    'authorityInfoAccess = OCSP;URI:http://ocsp.bench.example, caIssuers;URI:http://ca.bench.example/issuing.crt',
    'crlDistributionPoints = URI:http://crl.bench.example/issuing.crl',
    'certificatePolicies = 2.23.140.1.2.1',
    '',
  ].join('\n');
}

function digestArgs(key) {
  return key.digest ? [`-${key.digest}`] : [];
}

function makeOpensslCerts() {
  const tmp = mkdtempSync(join(tmpdir(), 'tlsprobe-bench-inputs-'));
  const made = [];
  try {
    const jobs = [
      ...KEYS.map((k) => ({ key: k, file: k.name, sans: 2 })),
      { key: KEYS[0], file: 'rsa-2048-san100', sans: 100 },
    ];
    for (const { key, file, sans } of jobs) {
      const caKey = join(tmp, `${file}-ca.key`);
      const caCert = join(tmp, `${file}-ca.pem`);
      const leafKey = join(tmp, `${file}.key`);
      const csr = join(tmp, `${file}.csr`);
      const ext = join(tmp, `${file}.cnf`);
      const out = join(certDir, `${file}.pem`);
      genKey(tmp, key, caKey);
      genKey(tmp, key, leafKey);
      openssl([
        'req',
        '-x509',
        '-new',
        '-key',
        caKey,
        ...digestArgs(key),
        '-days',
        '3650',
        '-subj',
        `/C=US/O=tlsprobe Bench/OU=Benchmarks/CN=tlsprobe Bench Issuing CA ${key.name}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE,pathlen:0',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
        '-out',
        caCert,
      ]);
      openssl([
        'req',
        '-new',
        '-key',
        leafKey,
        '-subj',
        '/C=US/ST=California/L=San Francisco/O=tlsprobe Bench/CN=bench.example',
        '-out',
        csr,
      ]);
      writeFileSync(ext, leafExtensions(sans));
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caCert,
        '-CAkey',
        caKey,
        ...digestArgs(key),
        '-set_serial',
        `0x${randomBytes(16)
          .toString('hex')
          .replace(/^[89a-f]/, '4')}`,
        '-days',
        '90',
        '-extfile',
        ext,
        '-extensions',
        'v3',
        '-out',
        out,
      ]);
      made.push({ file: `certs/${file}.pem`, keyType: key.name, sans, tool: 'openssl' });
      console.log(`wrote bench/inputs/certs/${file}.pem`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return made;
}

async function makeLabCerts() {
  const pkiPath = join(dist, 'lab/pki.js');
  if (!existsSync(pkiPath)) throw new Error(`${pkiPath} is missing: run npm ci (or npm run build) first`);
  const { generateLabPki } = await import(pathToFileURL(pkiPath).href);
  const made = [];
  const chains = {};
  for (const alg of ['rsa-2048', 'ecdsa-p256']) {
    const pki = await generateLabPki({ keyAlgorithm: alg });
    chains[alg] = pki;
    for (const role of ['root', 'intermediate', 'leaf']) {
      const file = `certs/lab-${alg}-${role}.pem`;
      writeFileSync(join(outDir, file), pki[role].pem);
      made.push({ file, keyType: alg, role, tool: 'src/lab/pki.ts (pkijs)' });
      console.log(`wrote bench/inputs/${file}`);
    }
  }
  return { made, chains };
}

/** Returns the bytes of a fixture hex file (`#` lines are comments). */
function readHexFixture(path) {
  const text = readFileSync(join(root, path), 'utf8');
  return Buffer.from(
    text
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('')
      .replace(/\s+/g, ''),
    'hex',
  );
}

/**
 * Returns the plaintext handshake messages of a record stream: TLSPlaintext records (RFC 8446,
 * Section 5.1: type u8, legacy_record_version u16, length u16, fragment) of type handshake (22),
 * joined and split at the 4-byte handshake headers (type u8, length u24), up to the first
 * ChangeCipherSpec (20) or application_data (23) record, after which handshake records are encrypted.
 */
function plaintextHandshakes(stream) {
  const parts = [];
  for (let p = 0; p + 5 <= stream.length; ) {
    const type = stream[p];
    const len = stream.readUInt16BE(p + 3);
    if (type === 20 || type === 23) break;
    if (type === 22) parts.push(stream.subarray(p + 5, p + 5 + len));
    p += 5 + len;
  }
  const hs = Buffer.concat(parts);
  const msgs = [];
  for (let p = 0; p + 4 <= hs.length; ) {
    const len = (hs[p + 1] << 16) | (hs[p + 2] << 8) | hs[p + 3];
    if (p + 4 + len > hs.length) break;
    msgs.push({ type: hs[p], bytes: hs.subarray(p, p + 4 + len) });
    p += 4 + len;
  }
  return msgs;
}

function pemToDer(pem) {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function u24(n) {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

/** Certificate handshake message (type 11), TLS 1.2 form (RFC 5246, Section 7.4.2) or TLS 1.3 form (RFC 8446, Section 4.4.2, empty context and extensions). */
function certificateMessage(ders, tls13) {
  const entries = ders.map((d) => Buffer.concat([u24(d.length), d, tls13 ? Buffer.from([0, 0]) : Buffer.alloc(0)]));
  const list = Buffer.concat(entries);
  const body = Buffer.concat([tls13 ? Buffer.from([0]) : Buffer.alloc(0), u24(list.length), list]);
  return Buffer.concat([Buffer.from([11]), u24(body.length), body]);
}

function makeMessages(chains) {
  const clientHellos = [];
  for (const f of readdirSync(join(root, 'fixtures/hello'))
    .filter((n) => n.endsWith('.hex'))
    .sort()) {
    const source = `fixtures/hello/${f}`;
    const records = readHexFixture(source);
    const ch = plaintextHandshakes(records).find((m) => m.type === 1);
    if (!ch) throw new Error(`${source}: no ClientHello`);
    clientHellos.push({
      name: f.replace(/\.hex$/, ''),
      source,
      records: records.toString('hex'),
      message: ch.bytes.toString('hex'),
    });
  }
  const serverFlights = [];
  for (const f of readdirSync(join(root, 'fixtures/server'))
    .filter((n) => n.endsWith('.hex'))
    .sort()) {
    const source = `fixtures/server/${f}`;
    const records = readHexFixture(source);
    const msgs = plaintextHandshakes(records);
    const sh = msgs.find((m) => m.type === 2);
    if (!sh) throw new Error(`${source}: no ServerHello`);
    const cert = msgs.find((m) => m.type === 11);
    serverFlights.push({
      name: f.replace(/\.hex$/, ''),
      source,
      records: records.toString('hex'),
      serverHello: sh.bytes.toString('hex'),
      certificate: cert ? cert.bytes.toString('hex') : null,
    });
  }
  const certificateMessages = [];
  for (const [alg, pki] of Object.entries(chains)) {
    const ders = [pemToDer(pki.leaf.pem), pemToDer(pki.intermediate.pem)];
    for (const tls13 of [false, true]) {
      certificateMessages.push({
        name: `lab-${alg}-${tls13 ? 'tls13' : 'tls12'}`,
        source: `lab chain (src/lab/pki.ts, ${alg}): leaf + intermediate, ${tls13 ? 'TLS 1.3' : 'TLS 1.2'} form`,
        version: tls13 ? 0x0304 : 0x0303,
        message: certificateMessage(ders, tls13).toString('hex'),
      });
    }
  }
  return { clientHellos, serverFlights, certificateMessages };
}

// --- recorded handshakes ------------------------------------------------------------------------

/**
 * What each recorded conversation asks for: the lab's `modern` endpoint (Node's TLS server, TLS 1.2
 * and 1.3, default ciphers) with an RSA 2048 and an ECDSA P-256 chain, a client limited to one
 * version and one cipher suite, and the groups a client commonly offers. RSA key exchange is left
 * out: TLS 1.2 servers pick ECDHE suites first, and the lab's default cipher list has no plain RSA.
 */
const HANDSHAKE_PLANS = [
  { version: 'TLSv1.3', ciphers: ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] },
  {
    version: 'TLSv1.2',
    ciphers: {
      'rsa-2048': [
        'ECDHE-RSA-AES128-GCM-SHA256',
        'ECDHE-RSA-AES256-GCM-SHA384',
        'ECDHE-RSA-CHACHA20-POLY1305',
        'ECDHE-RSA-AES128-SHA256',
      ],
      'ecdsa-p256': [
        'ECDHE-ECDSA-AES128-GCM-SHA256',
        'ECDHE-ECDSA-AES256-GCM-SHA384',
        'ECDHE-ECDSA-CHACHA20-POLY1305',
        'ECDHE-ECDSA-AES128-SHA256',
      ],
    },
  },
];
// A TLS 1.2 ECDSA handshake needs the certificate's curve among the groups (RFC 8422, Section 5.1.1).
const HANDSHAKE_GROUPS = ['X25519:P-256', 'P-256', 'X25519:P-256:P-384'];
/** Conversations per (chain, version): 4 × 80 = 320 in all, ~1.5 MB of JSON. */
const HANDSHAKES_PER_PLAN = 80;

/**
 * Returns a TCP relay on 127.0.0.1 to `port` that records each connection it carries: every chunk
 * each way as read (bytes and ms since accept) and the order in which the two sides closed (FIN) or
 * reset. `take()` returns the finished recordings.
 */
async function recordingRelay(port) {
  const done = [];
  const server = net.createServer((client) => {
    const t0 = performance.now();
    /** @type {{ chunks: { from: string, ms: number, bytes: Buffer }[], ends: { from: string, kind: string, ms: number }[] }} */
    const rec = { chunks: [], ends: [] };
    const upstream = net.connect({ host: '127.0.0.1', port });
    let open = 2;
    const closed = () => {
      if (--open === 0) done.push(rec);
    };
    const pipe = (from, src, dst) => {
      src.on('data', (d) => {
        rec.chunks.push({ from, ms: +(performance.now() - t0).toFixed(3), bytes: Buffer.from(d) });
        dst.write(d);
      });
      src.on('end', () => {
        rec.ends.push({ from, kind: 'fin', ms: +(performance.now() - t0).toFixed(3) });
        dst.end();
      });
      src.on('error', () => {
        rec.ends.push({ from, kind: 'rst', ms: +(performance.now() - t0).toFixed(3) });
        dst.destroy();
      });
      src.once('close', closed);
    };
    pipe('client', client, upstream);
    pipe('server', upstream, client);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  return {
    port: /** @type {import('node:net').AddressInfo} */ (server.address()).port,
    take: () => done.splice(0),
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Runs one HTTPS exchange (handshake, GET, response, close) through the relay; resolves with the client's key log and what was negotiated. */
function httpsExchange(port, ca, version, cipher, groups) {
  return new Promise((resolve, reject) => {
    const keyLog = [];
    const tls13 = version === 'TLSv1.3';
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca,
      minVersion: version,
      maxVersion: version,
      ecdhCurve: groups,
      ...(tls13 ? { ciphersuites: cipher } : { ciphers: cipher }),
    });
    s.on('keylog', (line) => keyLog.push(line.toString('latin1').trim()));
    s.once('secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: tlsprobe-bench\r\n\r\n'));
    let answer = '';
    s.on('data', (d) => (answer += d));
    s.once('error', reject);
    s.once('close', () => {
      if (!/^HTTP\/1\.1 200/.test(answer)) reject(new Error(`no HTTP answer over ${version} ${cipher}`));
      else resolve({ keyLog, protocol: version, cipher });
    });
  });
}

/**
 * Records HANDSHAKES_PER_PLAN real HTTPS conversations per (chain, version) against the lab and
 * writes bench/inputs/handshakes.json. The bytes are the real ones; nothing is synthesized here.
 */
async function recordHandshakes() {
  const labPath = join(dist, 'lab/lab.js');
  if (!existsSync(labPath)) throw new Error(`${labPath} is missing: run npm ci (or npm run build) first`);
  const { startLab } = await import(pathToFileURL(labPath).href);
  const conversations = [];
  for (const alg of ['rsa-2048', 'ecdsa-p256']) {
    const lab = await startLab({ names: ['modern'], keyAlgorithm: alg });
    const relay = await recordingRelay(lab.endpoint('modern').port);
    try {
      for (const plan of HANDSHAKE_PLANS) {
        const ciphers = Array.isArray(plan.ciphers) ? plan.ciphers : plan.ciphers[alg];
        for (let i = 0; i < HANDSHAKES_PER_PLAN; i++) {
          const cipher = ciphers[i % ciphers.length];
          const groups = HANDSHAKE_GROUPS[Math.floor(i / ciphers.length) % HANDSHAKE_GROUPS.length];
          const got = await httpsExchange(relay.port, lab.pki.root.pem, plan.version, cipher, groups);
          // The relay sees both closes shortly after the client does.
          let rec = relay.take()[0];
          for (let wait = 0; !rec && wait < 200; wait++) {
            await new Promise((r) => setTimeout(r, 5));
            rec = relay.take()[0];
          }
          if (!rec) throw new Error('the relay did not see the connection close');
          conversations.push({
            chain: alg,
            version: plan.version,
            cipher,
            groups,
            keyLog: got.keyLog,
            ends: rec.ends,
            chunks: rec.chunks.map((c) => ({ from: c.from, ms: c.ms, b64: c.bytes.toString('base64') })),
          });
        }
        console.log(`recorded ${HANDSHAKES_PER_PLAN} ${plan.version} conversations with the lab ${alg} chain`);
      }
    } finally {
      await relay.close();
      await lab.close();
    }
  }
  writeFileSync(
    join(outDir, 'handshakes.json'),
    `${JSON.stringify({ madeBy: 'scripts/make-bench-inputs.mjs', date: new Date().toISOString().slice(0, 10), node: process.version, openssl: process.versions.openssl, conversations })}\n`,
  );
  console.log(`wrote bench/inputs/handshakes.json (${conversations.length} conversations)`);
}

mkdirSync(certDir, { recursive: true });
if (parts.includes('certs') || parts.includes('messages')) {
  const opensslCerts = parts.includes('certs')
    ? makeOpensslCerts()
    : JSON.parse(readFileSync(join(outDir, 'certs.json'), 'utf8')).certs.filter((c) => c.tool === 'openssl');
  const { made: labCerts, chains } = await makeLabCerts();
  const messages = makeMessages(chains);
  const opensslVersion = openssl(['version']).trim();
  writeFileSync(
    join(outDir, 'messages.json'),
    `${JSON.stringify({ madeBy: 'scripts/make-bench-inputs.mjs', date: new Date().toISOString().slice(0, 10), ...messages }, null, 1)}\n`,
  );
  console.log('wrote bench/inputs/messages.json');
  writeFileSync(
    join(outDir, 'certs.json'),
    `${JSON.stringify({ madeBy: 'scripts/make-bench-inputs.mjs', date: new Date().toISOString().slice(0, 10), openssl: opensslVersion, node: process.version, certs: [...opensslCerts, ...labCerts] }, null, 1)}\n`,
  );
  console.log('wrote bench/inputs/certs.json');
}
if (parts.includes('handshakes')) await recordHandshakes();
