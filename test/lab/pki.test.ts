import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabPki, fingerprintSha256, generateLabPki } from '../../src/lab/pki.js';
import { HAS_OPENSSL, NO_OPENSSL, writePkiFiles } from '../helpers/servers.js';

let rsa: LabPki;
let ecdsa: LabPki;

beforeAll(async () => {
  [rsa, ecdsa] = await Promise.all([generateLabPki(), generateLabPki({ keyAlgorithm: 'ecdsa-p256' })]);
});

describe('generateLabPki', () => {
  it('chains leaf → intermediate → root by signature and issuer name', () => {
    for (const pki of [rsa, ecdsa]) {
      const root = new X509Certificate(pki.root.pem);
      const intermediate = new X509Certificate(pki.intermediate.pem);
      const leaf = new X509Certificate(pki.leaf.pem);
      expect(root.checkIssued(root)).toBe(true);
      expect(root.verify(root.publicKey)).toBe(true);
      expect(intermediate.checkIssued(root)).toBe(true);
      expect(intermediate.verify(root.publicKey)).toBe(true);
      expect(leaf.checkIssued(intermediate)).toBe(true);
      expect(leaf.verify(intermediate.publicKey)).toBe(true);
      expect(leaf.verify(root.publicKey)).toBe(false);
    }
  });

  it('names the certificates like a public chain, one attribute per RDN', () => {
    const subjects = [rsa.root, rsa.intermediate, rsa.leaf].map((c) => new X509Certificate(c.pem).subject);
    expect(subjects).toEqual([
      'C=US\nO=tlsprobe Lab\nCN=tlsprobe Lab Root CA',
      'C=US\nO=tlsprobe Lab\nCN=tlsprobe Lab Issuing CA 1',
      'C=US\nO=tlsprobe Lab\nCN=localhost',
    ]);
    expect(rsa.leaf.subject).toBe('C=US, O=tlsprobe Lab, CN=localhost');
    expect(rsa.leaf.issuer).toBe('C=US, O=tlsprobe Lab, CN=tlsprobe Lab Issuing CA 1');
  });

  it('gives the leaf SANs for localhost, 127.0.0.1 and ::1 and the serverAuth EKU', () => {
    const leaf = new X509Certificate(rsa.leaf.pem);
    expect(leaf.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkIP('::1')).toBe('::1');
    expect(leaf.checkHost('example.com')).toBeUndefined();
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(leaf.ca).toBe(false);
    expect(new X509Certificate(rsa.intermediate.pem).ca).toBe(true);
    expect(new X509Certificate(rsa.root.pem).ca).toBe(true);
  });

  it('returns DER that matches the PEM and private keys that match the certificates', () => {
    for (const pki of [rsa, ecdsa]) {
      for (const c of [pki.root, pki.intermediate, pki.leaf]) {
        const x = new X509Certificate(c.pem);
        expect(new Uint8Array(x.raw)).toEqual(c.der);
        expect(x.checkPrivateKey(createPrivateKey(c.keyPem))).toBe(true);
        expect(x.serialNumber.toLowerCase()).toBe(c.serialHex);
      }
    }
    expect(createPublicKey(rsa.leaf.pem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(createPublicKey(ecdsa.leaf.pem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('serves the chain leaf first, then the intermediate', () => {
    expect(rsa.chainPem).toBe(rsa.leaf.pem + rsa.intermediate.pem);
  });

  it('draws a fresh positive 16-byte serial per certificate', () => {
    const serials = [rsa.root, rsa.intermediate, rsa.leaf, ecdsa.root].map((c) => c.serialHex);
    expect(new Set(serials).size).toBe(4);
    for (const s of serials) {
      expect(s).toMatch(/^[0-9a-f]{32}$/);
      expect(parseInt(s.slice(0, 2), 16) & 0x80).toBe(0);
    }
  });

  it('backdates notBefore and gives the leaf 90 days', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    return generateLabPki({ now, keyAlgorithm: 'ecdsa-p256' }).then((p) => {
      const leaf = new X509Certificate(p.leaf.pem);
      expect(new Date(leaf.validFrom).toISOString()).toBe('2029-12-31T23:00:00.000Z');
      expect(new Date(leaf.validTo).toISOString()).toBe('2030-04-01T00:00:00.000Z');
    });
  });

  it('formats a SHA-256 fingerprint as Node does', () => {
    expect(fingerprintSha256(rsa.root.der)).toBe(new X509Certificate(rsa.root.pem).fingerprint256);
  });
});

describe.skipIf(!HAS_OPENSSL)('generateLabPki checked by openssl', () => {
  let files: ReturnType<typeof writePkiFiles>;
  let ecFiles: ReturnType<typeof writePkiFiles>;
  beforeAll(() => {
    files = writePkiFiles(rsa);
    ecFiles = writePkiFiles(ecdsa);
  });
  afterAll(() => {
    if (files) rmSync(files.dir, { recursive: true, force: true });
    if (ecFiles) rmSync(ecFiles.dir, { recursive: true, force: true });
  });

  const openssl = (...args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' });

  it('openssl verify accepts the chain strictly, for TLS server use', () => {
    for (const f of [files, ecFiles]) {
      const r = openssl(
        'verify',
        '-x509_strict',
        '-purpose',
        'sslserver',
        '-CAfile',
        f.root,
        '-untrusted',
        f.intermediate,
        f.leaf,
      );
      expect(r.stdout + r.stderr).toBe(`${f.leaf}: OK\n`);
      expect(r.status).toBe(0);
    }
  });

  it('openssl verify rejects the leaf without its intermediate', () => {
    const r = openssl('verify', '-CAfile', files.root, files.leaf);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('unable to get local issuer certificate');
  });

  it('marks the extensions critical where RFC 5280 says so', () => {
    const text = (f: string) => openssl('x509', '-in', f, '-noout', '-text').stdout;
    const root = text(files.root);
    expect(root).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
    expect(root).toMatch(/X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
    expect(root).not.toContain('Authority Key Identifier');
    const intermediate = text(files.intermediate);
    expect(intermediate).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/);
    expect(intermediate).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Certificate Sign, CRL Sign\n/);
    const leaf = text(files.leaf);
    expect(leaf).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
    expect(leaf).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    expect(leaf).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
    expect(text(ecFiles.leaf)).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  });

  it('computes the subject key identifier the way openssl does (SHA-1 of the public key bits)', () => {
    // openssl's own `subjectKeyIdentifier=hash` on a throwaway certificate for the same key is the oracle.
    const out = join(files.dir, 'ref.pem');
    const made = openssl(
      'req',
      '-new',
      '-x509',
      '-key',
      files.key,
      '-subj',
      '/CN=ref',
      '-days',
      '1',
      '-addext',
      'subjectKeyIdentifier=hash',
      '-out',
      out,
    );
    expect(made.status).toBe(0);
    const ski = openssl('x509', '-in', out, '-noout', '-ext', 'subjectKeyIdentifier').stdout;
    const hex = /\n\s+([0-9A-F:]+)\n/.exec(ski)![1]!.replace(/:/g, '').toLowerCase();
    expect(rsa.leaf.subjectKeyIdHex).toBe(hex);
  });

  it('sets each authority key identifier to the issuer subject key identifier', () => {
    const aki = (f: string) =>
      /X509v3 Authority Key Identifier: \n\s+(?:keyid:)?([0-9A-F:]+)\n/.exec(
        openssl('x509', '-in', f, '-noout', '-text').stdout,
      )![1]!;
    const hex = (s: string) => s.replace(/:/g, '').toLowerCase();
    expect(hex(aki(files.leaf))).toBe(rsa.intermediate.subjectKeyIdHex);
    expect(hex(aki(files.intermediate))).toBe(rsa.root.subjectKeyIdHex);
  });
});
if (!HAS_OPENSSL) console.warn(NO_OPENSSL);
