/**
 * `tlsprobe chain … --crl/--check-revocation` and `tlsprobe diagnose … --check-revocation`, spawned
 * as a user runs them against the lab on 127.0.0.1 (its CRL/OCSP responder, the revoked chain, and
 * the chain whose revocation URLs point at a port where nothing listens).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { httpFetch } from '../../src/probe/revocation-fetch.js';
import { HAS_CLI, tlsprobe } from '../helpers/cli.js';

interface JsonFinding {
  code: string;
  severity: string;
  message: string;
}

let lab: Lab;
let dir: string;
beforeAll(async () => {
  lab = await startLab({ names: ['modern', 'revoked', 'revocation-offline'] });
  dir = mkdtempSync(join(tmpdir(), 'tlsprobe-revocation-cli-'));
  writeFileSync(join(dir, 'modern-root.pem'), lab.pki.root.pem);
  writeFileSync(join(dir, 'revoked-root.pem'), lab.revocation.revokedPki!.root.pem);
  writeFileSync(join(dir, 'revoked-chain.pem'), lab.revocation.revokedPki!.chainPem);
  writeFileSync(join(dir, 'offline-root.pem'), lab.revocation.offlinePki!.root.pem);
  writeFileSync(join(dir, 'not-a-crl.pem'), lab.pki.root.pem);
}, 120_000);
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

const endpoint = (name: string): string => `127.0.0.1:${lab.endpoint(name).port}`;
const codes = (fs: readonly JsonFinding[]): string[] => fs.map((f) => f.code);

describe.skipIf(!HAS_CLI)('tlsprobe chain --check-revocation', () => {
  it('lists every CRL distribution point and OCSP URL, and finds them good on the modern endpoint', async () => {
    const r = await tlsprobe([
      'chain',
      endpoint('modern'),
      '--sni',
      'localhost',
      '--roots',
      join(dir, 'modern-root.pem'),
      '--check-revocation',
      '--json',
      '--timeout',
      '20',
    ]);
    const j = JSON.parse(r.stdout);
    const port = lab.revocation.responder.port;
    expect(j.certificates[0].crlDistributionPoints).toEqual([
      expect.stringMatching(new RegExp(`^http://127\\.0\\.0\\.1:${port}/pki-\\d+/issuing\\.crl$`)),
    ]);
    expect(j.certificates[0].ocspUrls).toEqual([expect.stringMatching(/\/ocsp$/)]);
    expect(j.certificates[2].crlDistributionPoints).toEqual([]); // the root names none
    expect(j.chain.revocation.checkedOnline).toBe(true);
    expect(j.chain.revocation.endpoints.map((e: { state: string }) => e.state)).toEqual([
      'good',
      'good',
      'good',
      'good',
    ]);
    expect(j.chain.revocation.findings).toEqual([]);
    expect(j.chain.verified).toBe(true);
  });

  it('diagnoses the unreachable CRL/OCSP endpoints: exit 1, revocation-offline, CRYPT_E_REVOCATION_OFFLINE', async () => {
    const r = await tlsprobe([
      'chain',
      endpoint('revocation-offline'),
      '--sni',
      'localhost',
      '--roots',
      join(dir, 'offline-root.pem'),
      '--check-revocation',
      '--json',
      '--timeout',
      '20',
    ]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.chain.revocation.endpoints.map((e: { state: string }) => e.state)).toEqual([
      'unreachable',
      'unreachable',
      'unreachable',
      'unreachable',
    ]);
    expect(j.chain.revocation.certificates[0].windowsError).toMatchObject({
      name: 'CRYPT_E_REVOCATION_OFFLINE',
      hresult: '0x80092013',
    });
    expect(codes(j.chain.findings)).toEqual(expect.arrayContaining(['revocation-offline']));
    expect(j.chain.verdict).toContain('CRYPT_E_REVOCATION_OFFLINE');
  });

  it('says REVOKED in text, with the reason and CRYPT_E_REVOKED', async () => {
    const r = await tlsprobe([
      'chain',
      endpoint('revoked'),
      '--sni',
      'localhost',
      '--roots',
      join(dir, 'revoked-root.pem'),
      '--check-revocation',
      '--timeout',
      '20',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Chain: REVOKED: localhost is revoked/m);
    expect(r.stdout).toContain('keyCompromise');
    expect(r.stdout).toContain('CRYPT_E_REVOKED');
    expect(r.stderr).toBe('');
  });
});

describe.skipIf(!HAS_CLI)('tlsprobe chain --crl', () => {
  it('applies a CRL file: the revoked lab leaf is reported revoked without any network use', async () => {
    // Take the revoked chain's CRL from its own distribution point.
    const pem = lab.revocation.revokedPki!.leaf.pem;
    const { urlsOf } = await import('../../src/x509/revocation.js');
    const { pemToDer } = await import('../../src/x509/pem.js');
    const cdp = urlsOf({ der: pemToDer(pem)[0]! }).crl[0]!;
    const got = await httpFetch(cdp, { method: 'GET', accept: 'application/pkix-crl', maxBytes: 1 << 20 });
    if (!got.ok) throw new Error(got.detail);
    writeFileSync(join(dir, 'issuing.crl'), got.body);
    const before = lab.revocation.responder.requests.length;
    const r = await tlsprobe([
      'chain',
      join(dir, 'revoked-chain.pem'),
      '--roots',
      join(dir, 'revoked-root.pem'),
      '--crl',
      join(dir, 'issuing.crl'),
      '--json',
    ]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(codes(j.chain.findings)).toContain('revoked');
    expect(j.chain.revocation.certificates[0]).toMatchObject({
      status: 'revoked',
      source: 'crl',
      reasonCode: 1,
      reason: 'keyCompromise',
      revocationDate: expect.stringMatching(/^\d{4}-/),
    });
    expect(j.chain.revocation.certificates[1]).toMatchObject({ status: 'unknown', reasonCode: null, reason: null });
    expect(j.chain.revocation.crls).toEqual([
      expect.objectContaining({ used: true, entries: 1, crlNumber: '1', problems: [] }),
    ]);
    expect(j.chain.revocation.endpoints).toBeNull();
    expect(lab.revocation.responder.requests.length).toBe(before);
  });

  it('rejects a --crl file that is not a CRL with exit 2, one error line and no stack trace', async () => {
    const r = await tlsprobe(['chain', join(dir, 'revoked-chain.pem'), '--crl', join(dir, 'not-a-crl.pem')]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^tlsprobe: --crl .*not-a-crl\.pem: not a CRL/);
    // A bad input file, not a mistake on the command line: no "Try --help" (issue 14).
    expect(lines.slice(1)).toEqual([]);
  });
});

describe.skipIf(!HAS_CLI)('tlsprobe diagnose --check-revocation', () => {
  it('adds the revocation of the chain it judged, and fails on unreachable endpoints', async () => {
    const r = await tlsprobe([
      'diagnose',
      endpoint('revocation-offline'),
      '--sni',
      'localhost',
      '--roots',
      join(dir, 'offline-root.pem'),
      '--check-revocation',
      '--json',
      '--timeout',
      '20',
    ]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout).results[0];
    expect(codes(j.revocation.findings)).toEqual(['revocation-offline', 'revocation-offline']);
    expect(j.revocation.certificates[0].windowsError.name).toBe('CRYPT_E_REVOCATION_OFFLINE');
  });
});
