import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex } from '../../src/wire/hex.js';
import { checkChain, type ChainFindingCode, type ChainReport } from '../../src/x509/chain.js';
import { parseCertificate } from '../../src/x509/der.js';
import { pemToDer } from '../../src/x509/pem.js';
import { loadDocumentedRoots, loadRootsFromPem, toTrustedRoot, type TrustedRoot } from '../../src/x509/roots.js';
import { NO_CORPUS, corpusPath, hasCorpusFile } from '../helpers/corpus.js';
import { Rng } from '../helpers/random.js';
import { hasLimbo, limboOnlineCases } from './corpus-certs.js';
import { NO_OPENSSL, hasOpenssl, makePki, type Pki } from './openssl-pki.js';

const DAY = 86_400_000;

function codes(r: ChainReport): ChainFindingCode[] {
  return r.findings.map((f) => f.code);
}

function finding(r: ChainReport, code: ChainFindingCode): { certificate?: number; severity: string } | undefined {
  return r.findings.find((f) => f.code === code);
}

/** A copy of `der` with its last byte (the end of the signature BIT STRING) flipped. */
function flipLastByte(der: Uint8Array): Uint8Array {
  const m = new Uint8Array(der);
  m[m.length - 1] = m[m.length - 1]! ^ 0x01;
  return m;
}

describe.skipIf(!hasOpenssl)('checkChain on chains made with openssl', () => {
  let pki: Pki;
  const c: Record<string, Uint8Array> = {};
  let rootR: TrustedRoot; // the RSA root as a documented root of the set
  let rootE: TrustedRoot;
  let at: Date; // a day after the leaves were made

  beforeAll(() => {
    pki = makePki();
    const put = (m: { name: string; der: Uint8Array }): void => {
      c[m.name] = m.der;
    };
    // RSA: root → intermediate → leaf, plus leaves that each break one rule.
    put(pki.root('rootR', 'rsa2048', '/O=tlsprobe tests/CN=Test Root R'));
    put(
      pki.issue('intR', 'rsa2048', '/O=tlsprobe tests/CN=Test Intermediate R', 'rootR', {
        extensions: 'ca_ext',
        days: 1825,
      }),
    );
    put(pki.issue('leafR', 'rsa2048', '/O=leaf/CN=example.test', 'intR'));
    put(pki.issue('leafShort', 'ec256', '/O=short/CN=example.test', 'intR', { days: 1 }));
    put(pki.issue('leafSha1', 'ec256', '/O=sha1/CN=example.test', 'intR', { digest: 'sha1' }));
    put(pki.issue('leafWeak', 'rsa1024', '/O=weak/CN=example.test', 'intR'));
    put(
      pki.issue('leafPss', 'ec256', '/O=pss/CN=example.test', 'intR', {
        sigopts: ['rsa_padding_mode:pss', 'rsa_pss_saltlen:32'],
      }),
    );
    put(pki.issue('leafCn', 'ec256', '/CN=cn-only.example.test', 'intR', { extensions: 'cn_only_ext' }));
    put(pki.issue('notCa', 'ec256', '/CN=Not A CA', 'rootR', { extensions: 'noca_ext' }));
    put(pki.issue('leafNotCa', 'ec256', '/O=under-not-ca/CN=example.test', 'notCa'));
    put(pki.issue('int0', 'ec256', '/CN=Pathlen Zero CA', 'rootR', { extensions: 'ca0_ext' }));
    put(pki.issue('int0b', 'ec256', '/CN=Below Pathlen Zero CA', 'int0', { extensions: 'ca_ext' }));
    put(pki.issue('leafDeep', 'ec256', '/O=deep/CN=example.test', 'int0b'));
    // EC: P-384 root → P-256 intermediate → P-256 leaf; and an Ed25519 intermediate and leaf.
    put(pki.root('rootE', 'ec384', '/O=tlsprobe tests/CN=Test Root E'));
    put(pki.issue('intE', 'ec256', '/O=tlsprobe tests/CN=Test Intermediate E', 'rootE', { extensions: 'ca_ext' }));
    put(pki.issue('leafE', 'ec256', '/O=leaf-e/CN=example.test', 'intE'));
    put(pki.issue('intEd', 'ed25519', '/CN=Test Intermediate Ed25519', 'rootE', { extensions: 'ca_ext' }));
    put(pki.issue('leafEd', 'ed25519', '/O=leaf-ed/CN=example.test', 'intEd', { digest: null }));
    // Unrelated and self-signed certificates.
    put(pki.root('other', 'ec256', '/CN=Unrelated Root'));
    put(pki.root('selfLeaf', 'ec256', '/CN=self.example.test'));

    rootR = { ...toTrustedRoot(parseCertificate(c.rootR!)), documented: true };
    rootE = { ...toTrustedRoot(parseCertificate(c.rootE!)), documented: true };
    at = new Date(parseCertificate(c.leafR!).notBefore.getTime() + DAY);
  }, 120_000);

  afterAll(() => pki?.cleanup());

  it('verifies an RSA chain anchored in a documented root the server sent', () => {
    const r = checkChain([c.leafR!, c.intR!, c.rootR!], { roots: [rootR], at, host: 'www.example.test' });
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({ verified: true, complete: true, hostnameMatch: true });
    expect(r.anchor).toEqual({
      name: 'Test Root R',
      sha1: rootR.sha1,
      documented: true,
      expired: false,
      trusted: true,
      sent: true,
      public: false,
    });
    expect(r.certificates.map((x) => x.subject.rfc4514)).toEqual([
      'CN=example.test,O=leaf',
      'CN=Test Intermediate R,O=tlsprobe tests',
      'CN=Test Root R,O=tlsprobe tests',
    ]);
  });

  it('anchors by issuer name and key when the server does not send the root', () => {
    const r = checkChain([c.leafR!, c.intR!], { roots: [rootE, rootR], at });
    expect(r.findings).toEqual([]);
    expect(r.verified).toBe(true);
    expect(r.anchor).toMatchObject({ sha1: rootR.sha1, sent: false });
    expect(r.certificates).toHaveLength(3);
  });

  it('verifies ECDSA, Ed25519 and RSASSA-PSS signatures', () => {
    for (const chain of [
      [c.leafE!, c.intE!],
      [c.leafEd!, c.intEd!],
      [c.leafPss!, c.intR!],
    ]) {
      const r = checkChain(chain, { roots: [rootR, rootE], at });
      // Ed25519 keys verify, but the Web PKI does not issue them (CA/B BR 6.1.5): a warning per key.
      const ed = chain[0] === c.leafEd;
      expect(r.findings.map((f) => `${f.code}/${f.severity}/${f.certificate}`)).toEqual(
        ed ? ['key-algorithm-not-allowed/warning/0', 'key-algorithm-not-allowed/warning/1'] : [],
      );
      expect(r).toMatchObject({ verified: true, valid: true });
    }
    expect(parseCertificate(c.leafEd!).signatureAlgorithm).toBe('Ed25519');
    expect(parseCertificate(c.leafPss!).signatureAlgorithm).toBe('RSASSA-PSS');
    expect(parseCertificate(c.rootE!)).toMatchObject({
      keyType: 'EC',
      curve: 'P-384',
      keyBits: 384,
      signatureAlgorithm: 'ecdsa-with-SHA256',
    });
  });

  it('reports an expired leaf', () => {
    const later = new Date(parseCertificate(c.leafShort!).notAfter.getTime() + DAY);
    const r = checkChain([c.leafShort!, c.intR!], { roots: [rootR], at: later });
    expect(codes(r)).toEqual(['expired']);
    expect(finding(r, 'expired')).toMatchObject({ certificate: 0, severity: 'error' });
  });

  it('reports certificates that are not yet valid', () => {
    const before = new Date(parseCertificate(c.leafR!).notBefore.getTime() - DAY);
    const r = checkChain([c.leafR!, c.intR!], { roots: [rootR], at: before });
    expect(r.findings.filter((f) => f.code === 'not-yet-valid').map((f) => f.certificate)).toEqual([0, 1, 2]);
  });

  it('reports a name mismatch and matches SAN names, wildcards and IPs per RFC 6125', () => {
    const check = (host: string): boolean | null =>
      checkChain([c.leafR!, c.intR!], { roots: [rootR], at, host }).hostnameMatch;
    const mismatch = checkChain([c.leafR!, c.intR!], { roots: [rootR], at, host: 'other.example.test' });
    expect(mismatch.hostnameMatch).toBe(false);
    expect(finding(mismatch, 'name-mismatch')).toMatchObject({ certificate: 0, severity: 'error' });
    expect(check('www.example.test')).toBe(true);
    expect(check('WWW.Example.TEST.')).toBe(true);
    expect(check('a.wild.example.test')).toBe(true);
    expect(check('a.b.wild.example.test')).toBe(false);
    expect(check('wild.example.test')).toBe(false);
    expect(check('127.0.0.1')).toBe(true);
    expect(check('[::1]')).toBe(true);
    expect(check('0:0:0:0:0:0:0:1')).toBe(true);
    expect(check('127.0.0.2')).toBe(false);
    // The subject CN is ignored when the certificate has dNSName entries (RFC 6125, Section 6.4.4).
    expect(check('example.test')).toBe(false);
    // ... and when it has none (RFC 9525, Section 6.3; issue 18: CN-only names were accepted before):
    // the finding says Windows CryptoAPI still falls back to it.
    const cnOnly = checkChain([c.leafCn!, c.intR!], { roots: [rootR], at, host: 'cn-only.example.test' });
    expect(cnOnly.hostnameMatch).toBe(false);
    expect(finding(cnOnly, 'name-mismatch')).toMatchObject({ certificate: 0, severity: 'error' });
    expect(cnOnly.findings.find((f) => f.code === 'name-mismatch')!.message).toMatch(/Windows CryptoAPI/);
    expect(codes(cnOnly)).toContain('san-missing');
    expect(checkChain([c.leafCn!, c.intR!], { roots: [rootR], at }).hostnameMatch).toBeNull();
  });

  it('reports a bad signature on the leaf and on the intermediate', () => {
    const leaf = checkChain([flipLastByte(c.leafR!), c.intR!], { roots: [rootR], at });
    expect(finding(leaf, 'bad-signature')).toMatchObject({ certificate: 0, severity: 'error' });
    expect(leaf).toMatchObject({ verified: false, complete: true });
    const int = checkChain([c.leafE!, flipLastByte(c.intE!)], { roots: [rootE], at });
    expect(finding(int, 'bad-signature')).toMatchObject({ certificate: 1 });
    expect(int.verified).toBe(false);
  });

  it('reports a missing intermediate', () => {
    const r = checkChain([c.leafR!], { roots: [rootR], at });
    expect(codes(r)).toEqual(['missing-intermediate']);
    expect(r).toMatchObject({ verified: false, complete: false, anchor: null });
  });

  it('orders a chain sent out of order and reports the extras', () => {
    const r = checkChain([c.leafR!, c.rootR!, c.other!, c.intR!, c.intR!], { roots: [rootR], at });
    expect(codes(r).sort()).toEqual(['duplicate-certificate', 'extra-certificates', 'out-of-order']);
    expect(r.verified).toBe(true);
    expect(r.certificates.map((x) => x.sha1)).toEqual(
      [c.leafR!, c.intR!, c.rootR!].map((d) => parseCertificate(d).sha1),
    );
    expect(r.unused.map((x) => x.subject.rfc4514)).toEqual(['CN=Unrelated Root']);
  });

  it('reports a SHA-1 signature and a weak key', () => {
    const sha1 = checkChain([c.leafSha1!, c.intR!], { roots: [rootR], at });
    expect(codes(sha1)).toEqual(['sha1-signature']);
    expect(parseCertificate(c.leafSha1!).signatureAlgorithm).toBe('sha1WithRSAEncryption');
    const weak = checkChain([c.leafWeak!, c.intR!], { roots: [rootR], at });
    expect(codes(weak)).toEqual(['weak-key']);
    expect(parseCertificate(c.leafWeak!)).toMatchObject({ keyType: 'RSA', keyBits: 1024 });
  });

  it('reports an issuer that is not a CA and a path longer than pathLenConstraint allows', () => {
    const notCa = checkChain([c.leafNotCa!, c.notCa!], { roots: [rootR], at });
    expect(finding(notCa, 'not-a-ca')).toMatchObject({ certificate: 1 });
    const deep = checkChain([c.leafDeep!, c.int0b!, c.int0!], { roots: [rootR], at });
    expect(codes(deep)).toEqual(['path-length-exceeded']);
    expect(finding(deep, 'path-length-exceeded')).toMatchObject({ certificate: 2 });
  });

  it('distinguishes an anchor in the set that is documented from one that is not', () => {
    const undocumented = checkChain([c.leafR!, c.intR!], { roots: [{ ...rootR, documented: false }], at });
    expect(codes(undocumented)).toEqual(['anchor-not-documented']);
    expect(undocumented.verified).toBe(true);
    expect(undocumented.anchor).toMatchObject({ documented: false, trusted: true });
  });

  it('reports likely TLS inspection for a verifying chain to a self-signed root outside the set', () => {
    const r = checkChain([c.leafR!, c.intR!, c.rootR!], { at });
    expect(codes(r).sort()).toEqual(['anchor-not-documented', 'likely-tls-inspection']);
    expect(r).toMatchObject({ verified: false, complete: true });
    expect(r.anchor).toMatchObject({ name: 'Test Root R', documented: false, trusted: false, sent: true });
    // With a broken link it is a bad chain, not an inspection proxy.
    const broken = checkChain([flipLastByte(c.leafR!), c.intR!, c.rootR!], { at });
    expect(codes(broken)).not.toContain('likely-tls-inspection');
  });

  it('reports a self-signed leaf', () => {
    const r = checkChain([c.selfLeaf!], { roots: [rootR], at });
    // A CA certificate without subjectAltName as a server certificate (issue 18: profile checks).
    expect(codes(r)).toEqual(['self-signed-leaf', 'leaf-is-ca', 'eku-absent', 'san-missing']);
    expect(r).toMatchObject({ verified: false, complete: true, anchor: null });
  });

  it('never throws on mutated chains', () => {
    const rng = new Rng(0xc4a1);
    for (let i = 0; i < 300; i++) {
      const chain = [c.leafR!, c.intR!, c.rootR!].map((d) => new Uint8Array(d));
      const target = chain[rng.int(chain.length)]!;
      for (let e = 0; e < 1 + rng.int(3); e++) target[rng.int(target.length)] = rng.u32() & 0xff;
      const r = checkChain(chain, { roots: [rootR], at, host: 'www.example.test' });
      expect(typeof r.verified).toBe('boolean');
    }
  });

  it('reports certificates it cannot decode and an empty chain', () => {
    const junk = checkChain([c.leafR!, fromHex('30 03 02 01'), c.intR!], { roots: [rootR], at });
    expect(codes(junk)).toEqual(['unparseable-certificate']);
    expect(junk.verified).toBe(true);
    const badLeaf = checkChain([fromHex('deadbeef'), c.intR!], { roots: [rootR], at, host: 'x.test' });
    expect(badLeaf).toMatchObject({ verified: false, hostnameMatch: false, certificates: [] });
    expect(codes(checkChain([], { at }))).toEqual(['empty-chain']);
  });
});
if (!hasOpenssl) console.warn(NO_OPENSSL);

describe('checkChain with the documented roots', () => {
  const baltimore = (): TrustedRoot => loadDocumentedRoots().find((r) => r.name === 'Baltimore CyberTrust Root')!;

  it('reports the expired Baltimore root in 2026 and not in 2024', () => {
    const der = baltimore().der!;
    const in2026 = checkChain([der], { at: new Date('2026-01-01T00:00:00Z') });
    expect(in2026.anchor).toMatchObject({ name: 'Baltimore CyberTrust Root', documented: true, expired: true });
    expect(codes(in2026)).toEqual(['root-expired']);
    const in2024 = checkChain([der], { at: new Date('2024-06-01T00:00:00Z') });
    expect(in2024.anchor).toMatchObject({ expired: false });
    expect(in2024.findings).toEqual([]);
  });

  describe.skipIf(!hasLimbo)('real chains from x509-limbo', () => {
    const cases = hasLimbo ? [...limboOnlineCases()] : [];
    const g2 = loadDocumentedRoots().find((r) => r.name === 'DigiCert Global Root G2')!;

    it('anchors the DigiCert Global Root G2 chains in the documented root', () => {
      let g2Chains = 0;
      for (const [file, t] of cases) {
        const trusted = t.trusted_certs.flatMap((p) => pemToDer(p)).map((d) => parseCertificate(d).sha1);
        if (!trusted.includes(g2.sha1)) continue;
        g2Chains++;
        const chain = [...pemToDer(t.peer_certificate), ...t.untrusted_intermediates.flatMap((p) => pemToDer(p))];
        const r = checkChain(chain, { at: new Date(t.validation_time!), host: t.expected_peer_name!.value });
        expect({ file, findings: r.findings.filter((f) => f.severity !== 'info') }).toEqual({ file, findings: [] });
        expect({ file, verified: r.verified, hostnameMatch: r.hostnameMatch }).toEqual({
          file,
          verified: true,
          hostnameMatch: true,
        });
        expect(r.anchor).toMatchObject({ name: 'DigiCert Global Root G2', documented: true, sent: false });
      }
      expect(g2Chains).toBeGreaterThanOrEqual(4);
    });

    it('verifies every online case against its own trusted roots, as limbo expects', () => {
      for (const [file, t] of cases) {
        const chain = [...pemToDer(t.peer_certificate), ...t.untrusted_intermediates.flatMap((p) => pemToDer(p))];
        const roots = loadRootsFromPem(t.trusted_certs.join('\n'));
        const r = checkChain(chain, { roots, at: new Date(t.validation_time!), host: t.expected_peer_name!.value });
        expect({
          file,
          verified: r.verified,
          hostnameMatch: r.hostnameMatch,
          errors: r.findings.filter((f) => f.severity === 'error'),
        }).toEqual({
          file,
          verified: true,
          hostnameMatch: true,
          errors: [],
        });
      }
    });
  });
  if (!hasLimbo) console.warn(NO_CORPUS);

  // A real chain to Baltimore: the certificates an iCloud server sent in a suricata-verify capture.
  const BALTIMORE_PCAP = 'suricata-verify/tests/tls-alpn-log-detect-02/input.pcap';
  const hasTshark = spawnSync('tshark', ['--version']).status === 0;
  describe.skipIf(!hasTshark || !hasCorpusFile(BALTIMORE_PCAP))('a captured chain to Baltimore CyberTrust Root', () => {
    const chain = (): Uint8Array[] => {
      const r = spawnSync(
        'tshark',
        [
          '-r',
          corpusPath(BALTIMORE_PCAP),
          '-Y',
          'tls.handshake.certificate',
          '-T',
          'fields',
          '-e',
          'tls.handshake.certificate',
        ],
        { encoding: 'utf8' },
      );
      return r.stdout
        .trim()
        .split('\n')[0]!
        .split(',')
        .map((h) => fromHex(h));
    };

    it('verifies in 2024 and reports root-expired in 2026', () => {
      const ders = chain();
      expect(ders).toHaveLength(2);
      const in2024 = checkChain(ders, { at: new Date('2024-06-01T00:00:00Z'), host: 'p127-contacts.icloud.com' });
      expect(in2024.findings).toEqual([]);
      expect(in2024).toMatchObject({ verified: true, hostnameMatch: true });
      expect(in2024.anchor).toEqual({
        name: 'Baltimore CyberTrust Root',
        sha1: baltimore().sha1,
        documented: true,
        expired: false,
        trusted: true,
        sent: false,
        public: false,
      });
      const in2026 = checkChain(ders, { at: new Date('2026-01-01T00:00:00Z') });
      expect(in2026.anchor).toMatchObject({ expired: true });
      expect(finding(in2026, 'root-expired')).toMatchObject({ certificate: 2, severity: 'error' });
    });
  });
  if (!hasTshark) console.warn('tshark not found on PATH: the captured Baltimore chain is skipped');
});
