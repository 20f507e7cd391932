/**
 * The issuer keys of signature checks are made once per issuer certificate, not once per parsed
 * copy of it: each connection of a capture parses its chain again, and making the same CA key for
 * every connection's distinct leaf was the largest cost of `capture --json` on captures of many
 * sites under one CA.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseCertificate } from '../../src/x509/der.js';
import { pemToDer } from '../../src/x509/pem.js';
import { setSignatureVerdictCache, verifyCertificateSignature } from '../../src/x509/signature.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

const made = vi.hoisted(() => ({ keys: 0 }));

vi.mock('node:crypto', async (importOriginal) => {
  const m = await importOriginal<typeof import('node:crypto')>();
  return {
    ...m,
    createPublicKey: (...args: Parameters<typeof m.createPublicKey>) => {
      made.keys++;
      return m.createPublicKey(...args);
    },
  };
});

afterAll(() => setSignatureVerdictCache(true));

describe('issuer keys', () => {
  it('are made once for copies of the same issuer parsed apart, with the same verdicts', () => {
    // Verdicts not remembered: every check below reaches the key.
    setSignatureVerdictCache(false);
    const ders = pemToDer(readFileSync(join(FIXTURES_DIR, 'pcap', 'chain.pem'), 'utf8'));
    expect(ders.length).toBeGreaterThanOrEqual(2);
    const copies = [0, 1, 2].map(() => ders.map(parseCertificate));
    const before = made.keys;
    const verdicts = copies.map(([leaf, issuer]) => verifyCertificateSignature(leaf!, issuer!));
    expect(verdicts.map((v) => v.status)).toEqual(['valid', 'valid', 'valid']);
    expect(made.keys - before).toBe(1);
    // Another issuer (the leaf's own key, as a self-signature check uses it) is a key of its own.
    const [leaf] = copies[0]!;
    expect(verifyCertificateSignature(leaf!, leaf!).status).toBe('invalid');
    expect(made.keys - before).toBe(2);
  });
});
