/**
 * Lab revocation data: `issueLabCrl` returns a signed CRL of a lab CA and `answerOcsp` a signed OCSP
 * response to a request, both made with pkijs and WebCrypto keys (the lab's second pkijs file, next
 * to pki.ts: signing is what the lab does and the analyzer never does). Both reject only on a bug.
 *
 * The shapes are those of public CAs: v2 CRLs with AuthorityKeyIdentifier and cRLNumber (RFC 5280,
 * Section 5.2), a reasonCode per entry, a week between thisUpdate and nextUpdate; OCSP responses
 * signed by the CA itself with a byName ResponderID, one SingleResponse echoing the CertID
 * (RFC 6960, Section 4.2.1).
 */
import { createHash, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { LabCertificate, LabKeyAlgorithm } from './pki.js';

type EngineCrypto = pkijs.CryptoEngineParameters['crypto'];

/** How long a lab CRL or OCSP answer is current: a week, as public CAs publish them. */
const VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;
/** thisUpdate is backdated a minute so a client whose clock lags a little still takes the answer. */
const BACKDATE_MS = 60 * 1000;

/** One revoked serial of a lab CRL. */
export interface LabRevokedEntry {
  readonly serialHex: string;
  readonly date: Date;
  /** CRLReason (RFC 5280, Section 5.3.1). */
  readonly reason: number;
}

/** A lab CA able to sign: its certificate, key type, and what it says about the serials it issued. */
export interface LabSigningCa {
  readonly ca: LabCertificate;
  readonly keyAlgorithm: LabKeyAlgorithm;
  readonly revoked: readonly LabRevokedEntry[];
  /** Serials this CA issued (lowercase hex): OCSP says `good` for them unless revoked, `unknown` for others. */
  readonly issued: readonly string[];
}

const OID = {
  authorityKeyIdentifier: '2.5.29.35',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

function engine(): pkijs.ICryptoEngine {
  // Node's webcrypto implements the DOM Crypto pkijs expects, but @types/node does not declare it as that type
  return new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as EngineCrypto });
}

async function privateKey(ca: LabSigningCa): Promise<webcrypto.CryptoKey> {
  const b64 = ca.ca.keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const alg =
    ca.keyAlgorithm === 'ecdsa-p256'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), alg, false, ['sign']);
}

function certOf(c: LabCertificate): pkijs.Certificate {
  return pkijs.Certificate.fromBER(c.der);
}

function integer(hex: string): asn1js.Integer {
  const b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  return new asn1js.Integer({ valueHex: b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b });
}

function ext(extnID: string, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical: false, extnValue: value.toBER(false) });
}

/** Returns the DER of a v2 CRL of `ca` with number `crlNumber`, listing `ca.revoked`, current from `now`. */
export async function issueLabCrl(ca: LabSigningCa, crlNumber: number, now: Date): Promise<Uint8Array> {
  const cert = certOf(ca.ca);
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1; // v2, RFC 5280, Section 5.1.2.1: required with extensions
  crl.issuer = cert.subject;
  crl.thisUpdate = new pkijs.Time({ type: 0, value: new Date(now.getTime() - BACKDATE_MS) });
  crl.nextUpdate = new pkijs.Time({ type: 0, value: new Date(now.getTime() + VALIDITY_MS) });
  if (ca.revoked.length > 0) {
    crl.revokedCertificates = ca.revoked.map(
      (r) =>
        new pkijs.RevokedCertificate({
          userCertificate: integer(r.serialHex),
          revocationDate: new pkijs.Time({ type: 0, value: r.date }),
          crlEntryExtensions: new pkijs.Extensions({
            extensions: [ext(OID.reasonCode, new asn1js.Enumerated({ value: r.reason }))],
          }),
        }),
    );
  }
  crl.crlExtensions = new pkijs.Extensions({
    extensions: [
      ext(
        OID.authorityKeyIdentifier,
        new pkijs.AuthorityKeyIdentifier({
          keyIdentifier: new asn1js.OctetString({ valueHex: Buffer.from(ca.ca.subjectKeyIdHex, 'hex') }),
        }).toSchema(),
      ),
      ext(OID.cRLNumber, new asn1js.Integer({ value: crlNumber })),
    ],
  });
  await crl.sign(await privateKey(ca), 'SHA-256', engine());
  return new Uint8Array(crl.toSchema(true).toBER(false));
}

/** Returns an OCSPResponse carrying only a non-successful status (RFC 6960, Section 4.2.1). */
function statusOnly(status: number): Uint8Array {
  return new Uint8Array(
    new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: status }) }).toSchema().toBER(false),
  );
}

/**
 * Returns the DER OCSPResponse answering the DER OCSPRequest `request` for the first certificate it
 * asks about: malformedRequest (1) when it cannot be read, unauthorized (6) when no CA of `cas`
 * issued it, else a response signed by that CA saying good, revoked or unknown.
 */
export async function answerOcsp(request: Uint8Array, cas: readonly LabSigningCa[], now: Date): Promise<Uint8Array> {
  let id: pkijs.CertID;
  try {
    const asn1 = asn1js.fromBER(request);
    if (asn1.offset === -1) return statusOnly(1);
    const req = new pkijs.OCSPRequest({ schema: asn1.result });
    const first = req.tbsRequest.requestList[0];
    if (!first) return statusOnly(1);
    id = first.reqCert;
  } catch {
    return statusOnly(1);
  }
  const alg =
    id.hashAlgorithm.algorithmId === OID.sha1 ? 'sha1' : id.hashAlgorithm.algorithmId === OID.sha256 ? 'sha256' : null;
  if (alg === null) return statusOnly(1);
  const keyHash = Buffer.from(id.issuerKeyHash.valueBlock.valueHexView).toString('hex');
  const ca = cas.find(
    (c) =>
      createHash(alg)
        .update(certOf(c.ca).subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)
        .digest('hex') === keyHash,
  );
  if (!ca) return statusOnly(6);
  const raw = Buffer.from(id.serialNumber.valueBlock.valueHexView);
  const serial = (raw.length > 1 && raw[0] === 0 ? raw.subarray(1) : raw).toString('hex');
  const revoked = ca.revoked.find((r) => r.serialHex === serial);
  // CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT UnknownInfo }
  const certStatus = revoked
    ? new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 1 },
        value: [
          new asn1js.GeneralizedTime({ valueDate: revoked.date }),
          new asn1js.Constructed({
            idBlock: { tagClass: 3, tagNumber: 0 },
            value: [new asn1js.Enumerated({ value: revoked.reason })],
          }),
        ],
      })
    : new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: ca.issued.includes(serial) ? 0 : 2 } });
  const basic = new pkijs.BasicOCSPResponse();
  basic.tbsResponseData.responderID = certOf(ca.ca).subject;
  basic.tbsResponseData.producedAt = now;
  basic.tbsResponseData.responses = [
    new pkijs.SingleResponse({
      certID: id,
      certStatus,
      thisUpdate: new Date(now.getTime() - BACKDATE_MS),
      nextUpdate: new Date(now.getTime() + VALIDITY_MS),
    }),
  ];
  await basic.sign(await privateKey(ca), 'SHA-256', engine());
  const response = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({
      responseType: OID.ocspBasic,
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
    }),
  });
  return new Uint8Array(response.toSchema().toBER(false));
}
