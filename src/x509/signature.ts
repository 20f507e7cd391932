/**
 * Certificate signature checks with node:crypto: returns whether an issuer's key verifies a
 * certificate's signature (`valid`, `invalid`, or `unsupported` when node:crypto cannot say).
 * Never throws.
 */
import * as crypto from 'node:crypto';
import { DecodeError } from '../wire/errors.js';
import { DerReader, Tag, contextTag, oidToString } from './der-reader.js';
import { HashAlgorithm, OID_MGF1, SignatureAlgorithm } from './oids.js';
import type { CertInfo } from './types.js';

/** The outcome of one signature check, with the reason when it is not `valid`. */
export interface SignatureCheck {
  readonly status: 'valid' | 'invalid' | 'unsupported';
  readonly detail: string;
}

/**
 * Issuers' keys made so far, by the issuer certificate's SHA-256 thumbprint (oldest forgotten first).
 * Each connection of a capture parses its chain again, so the same intermediate comes back as a new
 * `CertInfo`; keyed by the object, a capture of connections to many sites under one CA made the
 * CA's key again for every distinct leaf (`createPublicKey` ~0.23 ms for RSA 2048: 0.46 of 2.1 s of
 * `capture --json` on 2,000 such connections). 1,024 keys: more issuing CAs than a capture meets.
 */
export const MAX_KEY_CACHE = 1024;
const keyCache = new Map<string, crypto.KeyObject | Error>();

/** Returns the issuer's public key as a KeyObject (from its SubjectPublicKeyInfo DER), or the error node:crypto gave. */
function publicKeyOf(issuer: CertInfo): crypto.KeyObject | Error {
  let k = keyCache.get(issuer.sha256);
  if (k === undefined) {
    try {
      const spki = issuer.spki;
      k = crypto.createPublicKey({
        key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength),
        format: 'der',
        type: 'spki',
      });
    } catch (e) {
      k = e instanceof Error ? e : new Error(String(e));
    }
    if (keyCache.size >= MAX_KEY_CACHE) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(issuer.sha256, k);
  }
  return k;
}

/** The issuer key types each signature family can be checked with. */
const KEY_TYPES_FOR: Readonly<Record<string, readonly string[]>> = {
  rsa: ['RSA', 'RSA-PSS'],
  'rsa-pss': ['RSA', 'RSA-PSS'],
  ecdsa: ['EC'],
  dsa: ['DSA'],
  eddsa: ['Ed25519', 'Ed448'],
};

/**
 * Returns whether `issuer`'s public key verifies `cert`'s signature over its TBSCertificate
 * (RFC 5280, Section 6.1.3 (a)(1)): PKCS #1 v1.5, RSASSA-PSS with its parameters (RFC 4055),
 * ECDSA and DSA with DER-encoded signatures (RFC 3279), Ed25519/Ed448 (RFC 8410).
 */
export function verifyCertificateSignature(cert: CertInfo, issuer: CertInfo): SignatureCheck {
  // The same chains come back again and again (every connection of a capture, every probe of a
  // scan): remember each (certificate, issuer) verdict by their SHA-256 thumbprints.
  if (!verdictCacheOn) return verifyUncached(cert, issuer);
  const key = cert.sha256 + issuer.sha256;
  const known = verdictCache.get(key);
  if (known) return known;
  const verdict = verifyUncached(cert, issuer);
  if (verdictCache.size >= MAX_VERDICT_CACHE) verdictCache.delete(verdictCache.keys().next().value!);
  verdictCache.set(key, verdict);
  return verdict;
}

/**
 * Signature verdicts remembered (oldest forgotten first). A capture holds a handful of distinct
 * chains; 4,096 pairs cover any real one while bounding what a capture of forged chains can make
 * us keep (about 0.5 MB).
 */
export const MAX_VERDICT_CACHE = 4096;
const verdictCache = new Map<string, SignatureCheck>();
let verdictCacheOn = true;

/**
 * Turns the process-wide verdict cache on (the default) or off, and forgets every verdict. For
 * measurements: a capture of a few distinct chains is served mostly from the cache, and a figure
 * without it shows what the signature checks themselves cost (BENCHMARKS.md).
 */
export function setSignatureVerdictCache(on: boolean): void {
  verdictCacheOn = on;
  verdictCache.clear();
}

/** The fields of a signed structure (certificate, CRL, OCSP response) a signature check reads. */
export type SignedData = Pick<
  CertInfo,
  'signatureAlgorithmOid' | 'signatureAlgorithmParams' | 'tbs' | 'signatureValue'
>;

/** Returns whether `issuer`'s key verifies the signature of `signed` (a CRL or OCSP response), by the rules of `verifyCertificateSignature`; not cached. */
export function verifySignedData(signed: SignedData, issuer: CertInfo): SignatureCheck {
  return verifyUncached(signed, issuer);
}

function verifyUncached(cert: SignedData, issuer: CertInfo): SignatureCheck {
  const alg = SignatureAlgorithm[cert.signatureAlgorithmOid];
  if (!alg) return { status: 'unsupported', detail: `unknown signature algorithm ${cert.signatureAlgorithmOid}` };
  if (!KEY_TYPES_FOR[alg.family]!.includes(issuer.keyType)) {
    return { status: 'invalid', detail: `${alg.name} signature cannot come from a ${issuer.keyType} key` };
  }
  if (alg.family === 'eddsa' && alg.name !== issuer.keyType) {
    return { status: 'invalid', detail: `${alg.name} signature cannot come from an ${issuer.keyType} key` };
  }
  const key = publicKeyOf(issuer);
  if (key instanceof Error)
    return { status: 'unsupported', detail: `node:crypto cannot load the issuer key: ${key.message}` };
  let hash: string | null = alg.hash;
  let options: crypto.VerifyKeyObjectInput | crypto.VerifyPublicKeyInput = { key };
  if (alg.family === 'rsa-pss') {
    const pss = readPssParams(cert.signatureAlgorithmParams);
    if (typeof pss === 'string') return { status: 'unsupported', detail: pss };
    hash = pss.hash;
    options = { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: pss.saltLength };
  } else if (alg.family === 'ecdsa' || alg.family === 'dsa') {
    options = { key, dsaEncoding: 'der' };
  }
  const tbs = cert.tbs;
  const sig = cert.signatureValue;
  try {
    const ok = crypto.verify(hash, tbs, options, sig);
    return ok
      ? { status: 'valid', detail: '' }
      : { status: 'invalid', detail: `${alg.name} signature does not verify with the issuer's key` };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { status: 'unsupported', detail: `node:crypto cannot check ${alg.name}: ${msg}` };
  }
}

/**
 * RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] HashAlgorithm DEFAULT sha1,
 *   maskGenAlgorithm [1] MaskGenAlgorithm DEFAULT mgf1SHA1, saltLength [2] INTEGER DEFAULT 20,
 *   trailerField [3] TrailerField DEFAULT trailerFieldBC }   (RFC 4055, Section 3.1)
 * Returns the digest and salt length, or why we cannot check it (node:crypto's verify takes the
 * MGF1 digest from the message digest, so a different MGF1 hash is unsupported).
 */
function readPssParams(params: Uint8Array | null): { hash: string; saltLength: number } | string {
  if (!params) return 'RSASSA-PSS without parameters';
  try {
    const r = new DerReader(params);
    const seq = r.enter('RSASSA-PSS-params');
    r.end();
    let hash = 'sha1';
    let mgfHash = 'sha1';
    let saltLength = 20;
    if (seq.peekTag() === contextTag(0, true)) {
      const h = seq.enter('hashAlgorithm', contextTag(0, true));
      const id = h.enter('AlgorithmIdentifier').oid('algorithm');
      const name = HashAlgorithm[oidToString(params, id.valueStart, id.end)];
      if (!name) return 'RSASSA-PSS with an unknown hash';
      hash = name;
    }
    if (seq.peekTag() === contextTag(1, true)) {
      const m = seq.enter('maskGenAlgorithm', contextTag(1, true)).enter('AlgorithmIdentifier');
      const id = m.oid('algorithm');
      if (oidToString(params, id.valueStart, id.end) !== OID_MGF1)
        return 'RSASSA-PSS with a mask generation function other than MGF1';
      const inner = m.enter('parameters').oid('algorithm');
      const name = HashAlgorithm[oidToString(params, inner.valueStart, inner.end)];
      if (!name) return 'RSASSA-PSS with an unknown MGF1 hash';
      mgfHash = name;
    }
    if (seq.peekTag() === contextTag(2, true)) {
      const s = seq.enter('saltLength', contextTag(2, true)).expect(Tag.INTEGER, 'saltLength');
      if (s.end - s.valueStart > 2 || params[s.valueStart]! & 0x80) return 'RSASSA-PSS salt length out of range';
      saltLength = 0;
      for (let i = s.valueStart; i < s.end; i++) saltLength = saltLength * 256 + params[i]!;
    }
    if (mgfHash !== hash) return `RSASSA-PSS with MGF1-${mgfHash} over ${hash} (node:crypto uses one digest for both)`;
    return { hash, saltLength };
  } catch (e) {
    if (e instanceof DecodeError) return `malformed RSASSA-PSS parameters: ${e.message}`;
    throw e;
  }
}
