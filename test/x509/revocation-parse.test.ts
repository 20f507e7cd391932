/**
 * Robustness of the revocation decoders on bytes a responder or a file can hold: `parseCrl` and
 * `parseOcspResponse` either decode or throw `DecodeError`, and `checkOcspResponse` never throws,
 * for seeded mutations of real lab-made CRLs and OCSP answers; `readCrlBytes` reads PEM bundles.
 * Also the lab responder's OCSP GET form (RFC 6960, Appendix A.1).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateLabPki, type LabPki } from '../../src/lab/pki.js';
import { answerOcsp, issueLabCrl, type LabSigningCa } from '../../src/lab/revocation-pki.js';
import { startRevocationResponder } from '../../src/lab/revocation-server.js';
import { httpFetch } from '../../src/probe/revocation-fetch.js';
import { DecodeError } from '../../src/wire/errors.js';
import { parseCertificate } from '../../src/x509/der.js';
import { readCrlBytes } from '../../src/x509/crl-pem.js';
import { checkOcspResponse, ocspRequestFor } from '../../src/x509/ocsp.js';
import { parseCrl, parseOcspResponse } from '../../src/x509/revocation-adapter.js';
import { Rng } from '../helpers/random.js';

/** Mutations per input: enough to reach every field of a 300–600 byte structure several times. */
const MUTATIONS = 400;

let pki: LabPki;
let issuing: LabSigningCa;
let crl: Uint8Array;
let ocsp: Uint8Array;

beforeAll(async () => {
  pki = await generateLabPki({ keyAlgorithm: 'ecdsa-p256' });
  issuing = {
    ca: pki.intermediate,
    keyAlgorithm: 'ecdsa-p256',
    revoked: [{ serialHex: pki.leaf.serialHex, date: new Date(), reason: 4 }],
    issued: [pki.leaf.serialHex],
  };
  crl = await issueLabCrl(issuing, 7, new Date());
  ocsp = await answerOcsp(
    ocspRequestFor(parseCertificate(pki.leaf.der), parseCertificate(pki.intermediate.der)),
    [issuing],
    new Date(),
  );
}, 60_000);

/** Returns `input` with one to four random byte changes, truncations or insertions. */
function mutate(rng: Rng, input: Uint8Array): Uint8Array {
  let b = new Uint8Array(input);
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = rng.int(b.length);
    const op = rng.int(3);
    if (op === 0) b[at] = rng.u32() & 0xff;
    else if (op === 1) b = b.slice(0, at);
    else b = new Uint8Array([...b.slice(0, at), ...rng.bytes(1 + rng.int(3)), ...b.slice(at)]);
    if (b.length === 0) break;
  }
  return b;
}

function onlyDecodeErrors(f: () => unknown): 'ok' | 'decode-error' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof DecodeError) return 'decode-error';
    throw e;
  }
}

describe('revocation decoders on mutated input', () => {
  it('the unmutated lab CRL and OCSP answer decode, revoked with reason superseded', () => {
    const c = parseCrl(crl);
    expect([c.crlNumber, c.entries[0]!.serialNumber, c.entries[0]!.reason]).toEqual(['7', pki.leaf.serialHex, 4]);
    const v = checkOcspResponse(
      ocsp,
      parseCertificate(pki.leaf.der),
      parseCertificate(pki.intermediate.der),
      new Date(),
    );
    expect([v.status, v.reason, v.signer]).toEqual(['revoked', 4, 'issuer']);
  });

  it('parseCrl decodes or throws DecodeError on every mutation', () => {
    const rng = new Rng(0x18c1);
    const seen = { ok: 0, 'decode-error': 0 };
    for (let i = 0; i < MUTATIONS; i++) seen[onlyDecodeErrors(() => parseCrl(mutate(rng, crl)))]++;
    expect(seen['decode-error']).toBeGreaterThan(0);
  });

  it('parseOcspResponse throws only DecodeError and checkOcspResponse never throws on every mutation', () => {
    const rng = new Rng(0x0c5b);
    const leaf = parseCertificate(pki.leaf.der);
    const ca = parseCertificate(pki.intermediate.der);
    const statuses = new Set<string>();
    for (let i = 0; i < MUTATIONS; i++) {
      const m = mutate(rng, ocsp);
      onlyDecodeErrors(() => parseOcspResponse(m));
      statuses.add(checkOcspResponse(m, leaf, ca, new Date()).status);
    }
    expect(statuses.has('invalid')).toBe(true);
  });
});

describe('readCrlBytes', () => {
  it('reads every X509 CRL block of a PEM text, ignoring other blocks, and takes DER as is', () => {
    const b64 = Buffer.from(crl).toString('base64').replace(/.{64}/g, '$&\n');
    const text = `junk\n${pki.root.pem}-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\nmore\n-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`;
    const got = readCrlBytes(new TextEncoder().encode(text));
    expect(got.map((d) => Buffer.from(d).equals(Buffer.from(crl)))).toEqual([true, true]);
    expect(readCrlBytes(crl)).toEqual([crl]);
  });

  it('throws DecodeError for a block without END, a body that is not base64, and text without CRL', () => {
    for (const t of [
      '-----BEGIN X509 CRL-----\nAAAA\n',
      '-----BEGIN X509 CRL-----\n!!!!\n-----END X509 CRL-----',
      pki.root.pem,
    ]) {
      expect(() => readCrlBytes(new TextEncoder().encode(t))).toThrow(DecodeError);
    }
  });
});

describe('lab responder', () => {
  it('answers OCSP GET requests with the base64 request in the path (RFC 6960, Appendix A.1)', async () => {
    const responder = await startRevocationResponder('127.0.0.1');
    try {
      const base = responder.allocateBase();
      const served = await generateLabPki({ keyAlgorithm: 'ecdsa-p256', revocationBaseUrl: base });
      await responder.serve(base, served);
      const leaf = parseCertificate(served.leaf.der);
      const ca = parseCertificate(served.intermediate.der);
      const req = Buffer.from(ocspRequestFor(leaf, ca)).toString('base64');
      const got = await httpFetch(`${base}/ocsp/${encodeURIComponent(req)}`, {
        method: 'GET',
        accept: 'application/ocsp-response',
        maxBytes: 65536,
      });
      if (!got.ok) throw new Error(got.detail);
      expect(checkOcspResponse(got.body, leaf, ca, new Date()).status).toBe('good');
      expect(responder.requests.map((r) => r.method)).toEqual(['GET']);
    } finally {
      await responder.close();
    }
  });
});
