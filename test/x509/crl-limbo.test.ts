/**
 * The CRL cases of the generated x509-limbo suite (cases with a "crls" field) run through the same
 * code as `tlsprobe chain --crl`: checkChain, then revocationOf. The verdict compared with
 * `expected_result` is the revocation part alone (path validation is judged by the chain tests):
 * FAILURE when revocation reports an error. Skips when the corpus is absent.
 */
import { describe, expect, it } from 'vitest';
import { checkChain } from '../../src/x509/chain.js';
import { pemToDer } from '../../src/x509/pem.js';
import { parseCrl } from '../../src/x509/revocation-adapter.js';
import { readCrlBytes } from '../../src/x509/crl-pem.js';
import { hasRevocationError, revocationOf } from '../../src/x509/revocation.js';
import { loadRootsFromPem } from '../../src/x509/roots.js';
import { NO_CORPUS, hasCorpusFile, readCorpusJson } from '../helpers/corpus.js';

const LIMBO = 'x509-limbo/generated/limbo.json';

interface Case {
  readonly id: string;
  readonly trusted_certs: readonly string[];
  readonly untrusted_intermediates: readonly string[];
  readonly peer_certificate: string;
  readonly validation_time: string | null;
  readonly expected_result: 'SUCCESS' | 'FAILURE';
  readonly crls?: readonly string[] | null;
}

/** What each case must be rejected or accepted for: the finding code that decides it (rules, not fixtures). */
const EXPECTED_CODE: Readonly<Record<string, string | null>> = {
  'crl::revoked-certificate-with-crl': 'revoked',
  'crl::crlnumber-missing': 'crl-number-missing',
  'crl::crlnumber-critical': 'crl-number-critical',
  'crl::issuer-missing-crlsign': 'crl-issuer-not-crl-signer',
  'crl::certificate-not-on-crl': null,
  'crl::certificate-serial-on-crl-different-issuer': null,
  'crl::issuer-no-keyusage-extension': null,
  'crl::issuer-valid-crlsign-and-keycertsign': null,
};

describe.skipIf(!hasCorpusFile(LIMBO))('revocationOf on the limbo CRL cases', () => {
  it('agrees with expected_result on every case that carries CRLs', () => {
    const cases = readCorpusJson<{ testcases: Case[] }>(LIMBO).testcases.filter((t) => (t.crls ?? []).length > 0);
    expect(cases.length).toBeGreaterThanOrEqual(4);
    const disagreements: string[] = [];
    for (const t of cases) {
      const ders = [pemToDer(t.peer_certificate)[0]!, ...t.untrusted_intermediates.flatMap((p) => pemToDer(p))];
      const at = t.validation_time ? new Date(t.validation_time) : new Date();
      const report = checkChain(ders, { at, roots: loadRootsFromPem(t.trusted_certs.join('\n')) });
      expect(report.complete, `${t.id}: path`).toBe(true);
      const crls = t.crls!.flatMap((p) => readCrlBytes(new TextEncoder().encode(p))).map(parseCrl);
      const rev = revocationOf(report, crls, at);
      const got = hasRevocationError(rev) ? 'FAILURE' : 'SUCCESS';
      if (got !== t.expected_result)
        disagreements.push(
          `${t.id}: expected ${t.expected_result}, got ${got} (${rev.findings.map((f) => f.code).join(', ')})`,
        );
      const code = EXPECTED_CODE[t.id];
      // The leaf's status: revoked by a usable CRL, unknown when the only CRL is unusable, else good.
      expect(rev.certificates[0]!.status, t.id).toBe(code === 'revoked' ? 'revoked' : code ? 'unknown' : 'good');
      if (code)
        expect(
          rev.findings.map((f) => f.code),
          t.id,
        ).toContain(code);
      else if (code === null)
        expect(
          rev.findings.filter((f) => f.severity === 'error'),
          t.id,
        ).toEqual([]);
    }
    expect(disagreements).toEqual([]);
    console.log(`limbo CRL cases: ${cases.length - disagreements.length}/${cases.length} agree`);
  });
});

// Declared only when the corpus is missing, so the skip is visible then and counts as nothing otherwise.
if (!hasCorpusFile(LIMBO)) {
  describe('limbo CRL cases', () => {
    it.skip(NO_CORPUS, () => {});
  });
}
