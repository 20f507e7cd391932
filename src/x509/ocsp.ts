/**
 * OCSP (RFC 6960) decisions: `ocspCertId` returns the CertID a client asks about, `ocspRequestFor`
 * the DER request, and `checkOcspResponse` what a response says about a certificate after checking
 * its signer (the issuing CA itself, or a delegated responder certified by it with id-kp-OCSPSigning),
 * its signature, and its freshness. Never throws for anything a responder can send.
 */
import { createHash } from 'node:crypto';
import { DecodeError } from '../wire/errors.js';
import { parseCertificate } from './der.js';
import { displayName, sameName } from './dn.js';
import {
  encodeOcspRequest,
  parseOcspResponse,
  readExtendedKeyUsage,
  subjectPublicKeyBits,
  type OcspBasicResponse,
  type OcspCertId,
  type OcspSingleResponse,
} from './revocation-adapter.js';
import { reasonName } from './revocation-types.js';
import { verifyCertificateSignature, verifySignedData } from './signature.js';
import type { CertInfo } from './types.js';

/** id-sha1 (RFC 6960, Section 4.1.1: the CertID hash every responder must accept) and id-sha256. */
const CERT_ID_HASHES: Readonly<Record<string, 'sha1' | 'sha256'>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
};
export const OID_SHA1 = '1.3.14.3.2.26';

/** id-kp-OCSPSigning, RFC 6960, Section 4.2.2.2. */
export const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/**
 * Clock skew allowed on thisUpdate: responders stamp thisUpdate with their own clock, and a response
 * made "now" by a responder a little ahead must not look like one from the future. Five minutes is the
 * default of `openssl ocsp -validity_period` (MAX_VALIDITY_PERIOD in OpenSSL's apps/ocsp.c).
 */
export const OCSP_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** OCSPResponseStatus names, RFC 6960, Section 4.2.1 (4 is not used). */
const RESPONSE_STATUS: Readonly<Record<number, string>> = {
  0: 'successful',
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

/** What an OCSP response says about one certificate once checked. */
export interface OcspVerdict {
  /** `invalid`: the response cannot be used (not OCSP, an error status, bad signer or signature, stale, no answer for this certificate). */
  readonly status: 'good' | 'revoked' | 'unknown' | 'invalid';
  readonly detail: string;
  /** Who signed it: the issuing CA, a delegated responder, or null when no acceptable signer was found. */
  readonly signer: 'issuer' | 'delegated' | null;
  readonly revocationTime: Date | null;
  readonly reason: number | null;
  readonly thisUpdate: Date | null;
  readonly nextUpdate: Date | null;
}

function digest(alg: 'sha1' | 'sha256', data: Uint8Array): string {
  return createHash(alg).update(data).digest('hex');
}

/**
 * Returns the CertID of `cert` issued by `issuer` (RFC 6960, Section 4.1.1): hashes of the issuer's
 * Name as it appears in `cert` and of the issuer's subjectPublicKey bits, and the serial. Throws
 * `DecodeError` when the issuer's SubjectPublicKeyInfo cannot be read.
 */
export function ocspCertId(cert: CertInfo, issuer: CertInfo, hashOid: string = OID_SHA1): OcspCertId {
  const alg = CERT_ID_HASHES[hashOid];
  if (!alg) throw new DecodeError('bad-value', `CertID hash ${hashOid} is not supported`, 0, 'CertID');
  return {
    hashAlgorithmOid: hashOid,
    issuerNameHash: digest(alg, cert.issuer.der),
    issuerKeyHash: digest(alg, subjectPublicKeyBits(issuer.spki)),
    serialNumber: cert.serialNumber,
  };
}

/** Returns the DER OCSPRequest for `cert` with a SHA-1 CertID (what CryptoAPI and OpenSSL send). */
export function ocspRequestFor(cert: CertInfo, issuer: CertInfo): Uint8Array {
  return encodeOcspRequest(ocspCertId(cert, issuer));
}

function invalid(detail: string, signer: OcspVerdict['signer'] = null, single?: OcspSingleResponse): OcspVerdict {
  return {
    status: 'invalid',
    detail,
    signer,
    revocationTime: null,
    reason: null,
    thisUpdate: single?.thisUpdate ?? null,
    nextUpdate: single?.nextUpdate ?? null,
  };
}

/** Returns the response for `cert` among `responses`, matching CertID with the hash the responder used. */
function findSingle(
  responses: readonly OcspSingleResponse[],
  cert: CertInfo,
  issuer: CertInfo,
): OcspSingleResponse | undefined {
  return responses.find((r) => {
    if (!CERT_ID_HASHES[r.certId.hashAlgorithmOid]) return false;
    const want = ocspCertId(cert, issuer, r.certId.hashAlgorithmOid);
    return (
      r.certId.serialNumber === want.serialNumber &&
      r.certId.issuerNameHash === want.issuerNameHash &&
      r.certId.issuerKeyHash === want.issuerKeyHash
    );
  });
}

/** True when the ResponderID names `c` (RFC 6960, Section 4.2.2.3: byName is its subject, byKey the SHA-1 of its key bits). */
function responderIs(basic: OcspBasicResponse, c: CertInfo): boolean {
  const id = basic.responderId;
  if ('byName' in id) return sameName(id.byName, c.subject);
  return id.byKey === digest('sha1', subjectPublicKeyBits(c.spki));
}

/**
 * Returns who may sign for `issuer` and verifies the response signature (RFC 6960, Section 4.2.2.2):
 * the CA itself, or a certificate in `certs` issued and signed by the CA, valid at `at`, with
 * id-kp-OCSPSigning in its extended key usage. Returns the signer or why none is acceptable.
 */
function checkSigner(
  basic: OcspBasicResponse,
  issuer: CertInfo,
  at: Date,
): { signer: 'issuer' | 'delegated' } | { problem: string } {
  if (responderIs(basic, issuer)) {
    const v = verifySignedData(basic, issuer);
    return v.status === 'valid'
      ? { signer: 'issuer' }
      : {
          problem: `signed in the name of ${displayName(issuer.subject)}, but the signature does not check: ${v.detail}`,
        };
  }
  const reasons: string[] = [];
  for (const der of basic.certs) {
    let c: CertInfo;
    let eku: string[] | null;
    try {
      c = parseCertificate(der);
      eku = readExtendedKeyUsage(der);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      reasons.push(`an undecodable certificate: ${e.message}`);
      continue;
    }
    if (!responderIs(basic, c)) continue;
    const name = displayName(c.subject);
    if (!sameName(c.issuer, issuer.subject) || verifyCertificateSignature(c, issuer).status !== 'valid') {
      reasons.push(`responder ${name} is not certified by ${displayName(issuer.subject)}`);
    } else if (!eku?.includes(OID_KP_OCSP_SIGNING)) {
      reasons.push(`responder ${name} lacks id-kp-OCSPSigning in its extended key usage`);
    } else if (at.getTime() < c.notBefore.getTime() || at.getTime() > c.notAfter.getTime()) {
      reasons.push(`responder certificate ${name} is not valid at ${at.toISOString()}`);
    } else {
      const v = verifySignedData(basic, c);
      if (v.status === 'valid') return { signer: 'delegated' };
      reasons.push(`the signature does not check with responder ${name}'s key: ${v.detail}`);
    }
  }
  return {
    problem:
      reasons.length > 0
        ? reasons.join('; ')
        : 'the responder is neither the issuing CA nor a delegated responder whose certificate is in the response',
  };
}

/**
 * Returns what the DER OCSP response `der` says about `cert` (issued by `issuer`) at `at`, after the
 * checks of RFC 6960, Section 3.2: the response is for this certificate, signed by an authorized
 * responder, thisUpdate not in the future (with `OCSP_CLOCK_SKEW_MS`), nextUpdate (when present) not past.
 */
export function checkOcspResponse(der: Uint8Array, cert: CertInfo, issuer: CertInfo, at: Date): OcspVerdict {
  let info;
  try {
    info = parseOcspResponse(der);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return invalid(`not an OCSP response: ${e.message}`);
  }
  if (info.responseStatus !== 0 || !info.basic) {
    return invalid(
      `the responder answered ${RESPONSE_STATUS[info.responseStatus] ?? `status ${info.responseStatus}`} (RFC 6960, Section 4.2.1)`,
    );
  }
  const basic = info.basic;
  let single: OcspSingleResponse | undefined;
  try {
    single = findSingle(basic.responses, cert, issuer);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return invalid(`the issuer key cannot be read: ${e.message}`);
  }
  if (!single)
    return invalid(`the response has no answer for serial ${cert.serialNumber} of ${displayName(issuer.subject)}`);
  const who = checkSigner(basic, issuer, at);
  if ('problem' in who) return invalid(who.problem, null, single);
  if (single.thisUpdate.getTime() > at.getTime() + OCSP_CLOCK_SKEW_MS) {
    return invalid(`thisUpdate ${single.thisUpdate.toISOString()} is after ${at.toISOString()}`, who.signer, single);
  }
  if (single.nextUpdate && single.nextUpdate.getTime() < at.getTime()) {
    return invalid(
      `nextUpdate ${single.nextUpdate.toISOString()} is before ${at.toISOString()}: the response is stale`,
      who.signer,
      single,
    );
  }
  const base = { signer: who.signer, thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate };
  if (single.status === 'revoked') {
    return {
      ...base,
      status: 'revoked',
      revocationTime: single.revocationTime,
      reason: single.revocationReason,
      detail: `revoked since ${single.revocationTime?.toISOString() ?? '?'} (${reasonName(single.revocationReason)})`,
    };
  }
  return {
    ...base,
    status: single.status,
    revocationTime: null,
    reason: null,
    detail: single.status === 'good' ? 'good' : 'the responder does not know this certificate',
  };
}
