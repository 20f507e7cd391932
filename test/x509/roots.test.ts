import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/x509/der.js';
import { derToPem } from '../../src/x509/pem.js';
import {
  DOCUMENTED_ROOTS,
  compareBundle,
  loadBundle,
  loadDocumentedRoots,
  loadRootsFromPem,
  loadSystemRoots,
} from '../../src/x509/roots.js';
import { NO_OPENSSL, hasOpenssl, openssl } from './openssl-pki.js';

/** The documented set as issue 4 lists it: name and SHA-1 thumbprint. */
const ISSUE_ROOTS = [
  ['DigiCert Global Root G2', 'df3c24f9bfd666761b268073fe06d1cc8d4f82a4'],
  ['DigiCert Global Root CA', 'a8985d3a65e5e5c4b2d7d66d40c6dd2fb19c5436'],
  ['Baltimore CyberTrust Root', 'd4de20d05e66fc53fe1a50882c78db2852cae474'],
  ['D-TRUST Root Class 3 CA 2 2009', '58e8abb0361533fb80f79b1b6d29d3ff8d5f00f0'],
  ['Microsoft RSA Root Certificate Authority 2017', '73a5e64a3bff8316ff0edccc618a906e4eae4d74'],
  ['Microsoft ECC Root Certificate Authority 2017', '999a64c37ff47d9fab95f14769891460eec4c3c5'],
] as const;

const DATA = join(import.meta.dirname, '../../data/roots');

describe('loadDocumentedRoots', () => {
  const roots = loadDocumentedRoots();

  it('returns the six documented roots in order, each with its certificate', () => {
    expect(DOCUMENTED_ROOTS.map((r) => [r.name, r.sha1])).toEqual(ISSUE_ROOTS.map((r) => [...r]));
    expect(roots.map((r) => [r.name, r.sha1, r.documented, r.der !== null])).toEqual(
      ISSUE_ROOTS.map(([n, s]) => [n, s, true, true]),
    );
  });

  it('ships certificates whose thumbprints are the documented ones (node:crypto as the oracle)', () => {
    for (const r of roots) {
      const x = new X509Certificate(r.der!);
      const hex = (fp: string): string => fp.replace(/:/g, '').toLowerCase();
      expect({ name: r.name, sha1: hex(x.fingerprint), sha256: hex(x.fingerprint256) }).toEqual({
        name: r.name,
        sha1: r.sha1,
        sha256: r.sha256,
      });
      expect({ name: r.name, nb: r.notBefore?.getTime(), na: r.notAfter?.getTime() }).toEqual({
        name: r.name,
        nb: Date.parse(x.validFrom),
        na: Date.parse(x.validTo),
      });
    }
  });

  it('dates Baltimore CyberTrust Root to expire on 2025-05-12', () => {
    const b = roots.find((r) => r.name === 'Baltimore CyberTrust Root')!;
    expect(b.notAfter?.toISOString()).toBe('2025-05-12T23:59:00.000Z');
  });

  it('keeps roots.json in step with the certificates next to it', () => {
    const json = JSON.parse(readFileSync(join(DATA, 'roots.json'), 'utf8')) as {
      roots: { name: string; sha1: string; sha256: string; notAfter: string }[];
    };
    expect(json.roots.map((r) => [r.name, r.sha1, r.sha256, r.notAfter])).toEqual(
      roots.map((r) => [r.name, r.sha1, r.sha256, r.notAfter?.toISOString()]),
    );
  });

  it.skipIf(!hasOpenssl)('agrees with openssl on the SHA-1 and SHA-256 thumbprint of every shipped PEM', () => {
    const json = JSON.parse(readFileSync(join(DATA, 'roots.json'), 'utf8')) as {
      roots: { sha1: string; sha256: string; file: string }[];
    };
    for (const r of json.roots) {
      const file = join(DATA, r.file);
      const sha1 = openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha1']);
      const sha256 = openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']);
      expect(sha1.split('=')[1]!.trim().replace(/:/g, '').toLowerCase()).toBe(r.sha1);
      expect(sha256.split('=')[1]!.trim().replace(/:/g, '').toLowerCase()).toBe(r.sha256);
    }
  });
  if (!hasOpenssl) console.warn(NO_OPENSSL);
});

describe('loadSystemRoots', () => {
  it("returns Node's bundled roots, documented ones marked", () => {
    const roots = loadSystemRoots();
    expect(roots.length).toBe(new Set(rootCertificates).size);
    const g2 = roots.find((r) => r.sha1 === 'df3c24f9bfd666761b268073fe06d1cc8d4f82a4');
    expect(g2).toMatchObject({ name: 'DigiCert Global Root G2', documented: true });
    expect(roots.filter((r) => r.documented).length).toBeGreaterThanOrEqual(4);
  });
});

describe('loadBundle, loadRootsFromPem and compareBundle', () => {
  const documented = loadDocumentedRoots();
  const g2 = documented[0]!;
  const baltimore = documented[2]!;
  const msEcc = documented[5]!;
  const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // A directory shaped like /etc/ssl/certs: PEM and CRT files, a hash link, a dangling link, other files.
  writeFileSync(join(dir, 'g2.pem'), derToPem(g2.der!));
  writeFileSync(join(dir, 'baltimore.crt'), `# comment\n${derToPem(baltimore.der!)}`);
  writeFileSync(join(dir, 'ms-ecc.der'), msEcc.der!);
  symlinkSync(join(dir, 'g2.pem'), join(dir, '607986c7.0'));
  symlinkSync(join(dir, 'missing.pem'), join(dir, 'dangling.pem'));
  writeFileSync(join(dir, 'README'), 'not a certificate');
  writeFileSync(join(dir, 'empty.pem'), 'no blocks here');

  it('reads a directory of PEM, CRT and DER files and hash links, each certificate once', () => {
    expect(
      loadBundle(dir)
        .map((r) => r.sha1)
        .sort(),
    ).toEqual([g2.sha1, baltimore.sha1, msEcc.sha1].sort());
  });

  it('reads a single PEM or DER file', () => {
    expect(loadBundle(join(dir, 'baltimore.crt')).map((r) => r.name)).toEqual(['Baltimore CyberTrust Root']);
    expect(loadBundle(join(dir, 'ms-ecc.der')).map((r) => r.sha1)).toEqual([msEcc.sha1]);
  });

  it('reads PEM text, dropping duplicates, naming undocumented roots by CN', () => {
    const other = rootCertificates.find(
      (p) => !documented.some((d) => parseCertificate(new X509Certificate(p).raw).sha1 === d.sha1),
    )!;
    const roots = loadRootsFromPem(derToPem(g2.der!) + derToPem(g2.der!) + other);
    expect(roots).toHaveLength(2);
    expect(roots[1]).toMatchObject({
      documented: false,
      name: new X509Certificate(other).subject.match(/CN=(.*)/)?.[1],
    });
  });

  it('compares a bundle with the documented set at a given time', () => {
    const bundle = loadBundle(dir);
    const in2026 = compareBundle(bundle, new Date('2026-01-01T00:00:00Z'));
    expect(in2026.map((r) => [r.name, r.present, r.expired])).toEqual([
      ['DigiCert Global Root G2', true, false],
      ['DigiCert Global Root CA', false, false],
      ['Baltimore CyberTrust Root', true, true],
      ['D-TRUST Root Class 3 CA 2 2009', false, false],
      ['Microsoft RSA Root Certificate Authority 2017', false, false],
      ['Microsoft ECC Root Certificate Authority 2017', true, false],
    ]);
    expect(compareBundle(bundle, new Date('2024-06-01T00:00:00Z'))[2]).toMatchObject({ present: true, expired: false });
    // CertInfo lists work too.
    expect(
      compareBundle([parseCertificate(msEcc.der!)], new Date('2024-06-01T00:00:00Z'))
        .filter((r) => r.present)
        .map((r) => r.name),
    ).toEqual(['Microsoft ECC Root Certificate Authority 2017']);
  });

  it.skipIf(!existsSync('/etc/ssl/certs'))('reads /etc/ssl/certs', () => {
    const roots = loadBundle('/etc/ssl/certs');
    expect(roots.length).toBeGreaterThan(50);
    expect(new Set(roots.map((r) => r.sha1)).size).toBe(roots.length);
  });
});
