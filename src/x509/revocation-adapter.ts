/**
 * The pkijs/asn1js wall for revocation: returns the facts of a CRL (`parseCrl`), of an OCSP response
 * (`parseOcspResponse`), the revocation URLs and extended key usages of a certificate, and encodes an
 * OCSP request (`encodeOcspRequest`). Every decoder throws `DecodeError` when the bytes are not what
 * it reads; nothing here decides anything (crl.ts and ocsp.ts do).
 *
 * Like pkijs-adapter.ts, this is one of the files allowed to import pkijs/asn1js (STYLE §5.12): PKI.js
 * reports errors as `offset === -1`, thrown `Error`s or `parsingError` fields, and all of them become
 * `DecodeError` here.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { DecodeError } from '../wire/errors.js';
import { toHex } from '../wire/hex.js';
import { decodeName } from './pkijs-adapter.js';
import { thumbprint } from './thumbprint.js';
import type { DistinguishedName } from './types.js';

/** Nesting limit handed to asn1js (the same as pkijs-adapter.ts). */
const ASN1JS_MAX_DEPTH = 32;

/**
 * Largest CRL we decode: 32 MiB. Big public CAs publish CRLs of a few MB (tens of thousands of
 * entries); pkijs builds objects for every entry, so an unbounded file is memory we do not give.
 */
export const MAX_CRL_BYTES = 32 * 1024 * 1024;

/** Largest OCSP response we decode: 64 KiB (a response with its responder certificate is 1–5 KB). */
export const MAX_OCSP_RESPONSE_BYTES = 64 * 1024;

/** One extension as found: OID, criticality and the DER of extnValue's contents. */
export interface ExtensionFact {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** The bytes a signature covers, and the signature (the shape `verifySignedData` takes). */
export interface SignedFacts {
  readonly signatureAlgorithmOid: string;
  readonly signatureAlgorithmParams: Uint8Array | null;
  /** DER of the signed structure (TBSCertList, ResponseData). */
  readonly tbs: Uint8Array;
  readonly signatureValue: Uint8Array;
}

/** One revokedCertificates entry, RFC 5280, Section 5.1.2.6. */
export interface CrlEntry {
  /** Lowercase hex of the serial's content octets without sign padding (as `CertInfo.serialNumber`). */
  readonly serialNumber: string;
  readonly revocationDate: Date;
  /** CRLReason (RFC 5280, Section 5.3.1), `null` when the entry has no reasonCode extension. */
  readonly reason: number | null;
  readonly extensions: readonly ExtensionFact[];
}

/** The facts of a CertificateList, RFC 5280, Section 5.1. */
export interface CrlInfo extends SignedFacts {
  readonly der: Uint8Array;
  readonly sha256: string;
  /** 1 or 2 as written (v2 when the version field is present). */
  readonly version: number;
  /** TBSCertList.signature: must equal the outer signatureAlgorithm (Section 5.1.1.2). */
  readonly innerSignatureAlgorithmOid: string;
  readonly issuer: DistinguishedName;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly entries: readonly CrlEntry[];
  readonly extensions: readonly ExtensionFact[];
  /** cRLNumber (Section 5.2.3) in decimal (as `openssl crl -text` prints small ones), `null` when absent. */
  readonly crlNumber: string | null;
  /** AuthorityKeyIdentifier.keyIdentifier (Section 5.2.1) as lowercase hex, `null` when absent. */
  readonly authorityKeyId: string | null;
  /** IssuingDistributionPoint (Section 5.2.5) flags, `null` when absent. */
  readonly issuingDistributionPoint: IssuingDistributionPointFacts | null;
}

/** IssuingDistributionPoint, RFC 5280, Section 5.2.5. */
export interface IssuingDistributionPointFacts {
  readonly onlyContainsUserCerts: boolean;
  readonly onlyContainsCACerts: boolean;
  readonly onlySomeReasons: boolean;
  readonly indirectCRL: boolean;
  readonly onlyContainsAttributeCerts: boolean;
}

/** Where a certificate says its revocation status can be found. */
export interface RevocationUrls {
  /** Every fullName uniformResourceIdentifier of every CRLDistributionPoints entry (RFC 5280, Section 4.2.1.13). */
  readonly crl: readonly string[];
  /** Every id-ad-ocsp accessLocation URI of AuthorityInfoAccess (RFC 5280, Section 4.2.2.1). */
  readonly ocsp: readonly string[];
  /** Every id-ad-caIssuers accessLocation URI (where the issuer's certificate can be fetched). */
  readonly caIssuers: readonly string[];
}

/** The CertID of RFC 6960, Section 4.1.1. */
export interface OcspCertId {
  /** Dotted OID of hashAlgorithm. */
  readonly hashAlgorithmOid: string;
  readonly issuerNameHash: string;
  readonly issuerKeyHash: string;
  readonly serialNumber: string;
}

/** One SingleResponse, RFC 6960, Section 4.2.1. */
export interface OcspSingleResponse {
  readonly certId: OcspCertId;
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revocationTime: Date | null;
  readonly revocationReason: number | null;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
}

/** An OCSPResponse (RFC 6960, Section 4.2.1); `basic` is set when responseStatus is successful. */
export interface OcspResponseInfo {
  /** OCSPResponseStatus: 0 successful, 1 malformedRequest, 2 internalError, 3 tryLater, 5 sigRequired, 6 unauthorized. */
  readonly responseStatus: number;
  readonly basic: OcspBasicResponse | null;
}

/** A BasicOCSPResponse (RFC 6960, Section 4.2.1). */
export interface OcspBasicResponse extends SignedFacts {
  /** ResponderID byName (DER of the Name) or byKey (lowercase hex SHA-1 of the responder key). */
  readonly responderId: { readonly byName: DistinguishedName } | { readonly byKey: string };
  readonly producedAt: Date;
  readonly responses: readonly OcspSingleResponse[];
  /** DER of each certificate in `certs`. */
  readonly certs: readonly Uint8Array[];
}

/** id-pkix-ocsp-basic, RFC 6960, Section 4.2.1. */
const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
/** id-ad-ocsp and id-ad-caIssuers, RFC 5280, Section 4.2.2.1. */
const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1';
const OID_AD_CA_ISSUERS = '1.3.6.1.5.5.7.48.2';
/** Extension OIDs read here (RFC 5280, Sections 4.2.1 and 5.2). */
const EXT = {
  authorityKeyIdentifier: '2.5.29.35',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  issuingDistributionPoint: '2.5.29.28',
  cRLDistributionPoints: '2.5.29.31',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;

function fail(path: string, message: string): never {
  throw new DecodeError('bad-value', message, 0, path);
}

function decode(der: Uint8Array, path: string): asn1js.AsnType {
  // asn1js throws (not only reports) for some malformed contents, e.g. a time string it cannot convert.
  const asn1 = guarded(path, () => asn1js.fromBER(der, { maxDepth: ASN1JS_MAX_DEPTH }));
  if (asn1.offset === -1 || asn1.result.error) fail(path, `asn1js: ${asn1.result.error || 'cannot decode'}`);
  if (asn1.offset !== der.length)
    throw new DecodeError('trailing-data', `${der.length - asn1.offset} bytes after the ${path}`, asn1.offset, path);
  return asn1.result;
}

/** Runs a pkijs constructor or reader, turning what it throws into `DecodeError`. */
function guarded<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    fail(path, `pkijs: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function serialHex(i: asn1js.Integer): string {
  const b = i.valueBlock.valueHexView;
  return toHex(b.length > 1 && b[0] === 0 ? b.subarray(1) : b);
}

function extensionFacts(exts: readonly pkijs.Extension[] | undefined): ExtensionFact[] {
  return (exts ?? []).map((e) => ({ oid: e.extnID, critical: e.critical, value: e.extnValue.valueBlock.valueHexView }));
}

function nameOf(rdns: pkijs.RelativeDistinguishedNames, path: string): DistinguishedName {
  const seq = decode(new Uint8Array(rdns.valueBeforeDecode), path);
  if (!(seq instanceof asn1js.Sequence)) fail(path, 'Name is not a SEQUENCE');
  return decodeName(seq);
}

function algorithmParams(a: pkijs.AlgorithmIdentifier): Uint8Array | null {
  const p = a.algorithmParams as asn1js.BaseBlock | undefined;
  return p ? p.valueBeforeDecodeView : null;
}

/**
 * Returns the facts of the DER (or BER, as pkijs reads it) CertificateList `der` (RFC 5280,
 * Section 5.1). Throws `DecodeError` when it is not one CRL, is larger than `MAX_CRL_BYTES`, or an
 * extension we read (cRLNumber, reasonCode, AuthorityKeyIdentifier, IssuingDistributionPoint) is malformed.
 */
export function parseCrl(der: Uint8Array): CrlInfo {
  const path = 'CertificateList';
  if (der.length > MAX_CRL_BYTES)
    throw new DecodeError('too-large', `CRL of ${der.length} bytes exceeds ${MAX_CRL_BYTES}`, 0, path);
  const asn1 = decode(der, path);
  const crl = guarded(path, () => new pkijs.CertificateRevocationList({ schema: asn1 }));
  return guarded(path, () => {
    const extensions = extensionFacts(crl.crlExtensions?.extensions);
    let crlNumber: string | null = null;
    let authorityKeyId: string | null = null;
    let idp: IssuingDistributionPointFacts | null = null;
    for (const ext of crl.crlExtensions?.extensions ?? []) {
      const parsed: unknown = ext.parsedValue;
      if ((parsed as { parsingError?: string } | undefined)?.parsingError)
        fail(path, `malformed CRL extension ${ext.extnID}`);
      if (ext.extnID === EXT.cRLNumber && crlNumber === null) {
        if (!(parsed instanceof asn1js.Integer)) fail(path, 'malformed cRLNumber');
        crlNumber = BigInt(`0x${serialHex(parsed)}`).toString();
      } else if (ext.extnID === EXT.authorityKeyIdentifier && authorityKeyId === null) {
        if (!(parsed instanceof pkijs.AuthorityKeyIdentifier)) fail(path, 'malformed AuthorityKeyIdentifier');
        authorityKeyId = parsed.keyIdentifier ? toHex(parsed.keyIdentifier.valueBlock.valueHexView) : null;
      } else if (ext.extnID === EXT.issuingDistributionPoint && idp === null) {
        if (!(parsed instanceof pkijs.IssuingDistributionPoint)) fail(path, 'malformed IssuingDistributionPoint');
        idp = {
          onlyContainsUserCerts: parsed.onlyContainsUserCerts,
          onlyContainsCACerts: parsed.onlyContainsCACerts,
          onlySomeReasons: parsed.onlySomeReasons !== undefined,
          indirectCRL: parsed.indirectCRL,
          onlyContainsAttributeCerts: parsed.onlyContainsAttributeCerts,
        };
      }
    }
    const entries: CrlEntry[] = (crl.revokedCertificates ?? []).map((r) => {
      let reason: number | null = null;
      for (const ext of r.crlEntryExtensions?.extensions ?? []) {
        if (ext.extnID !== EXT.reasonCode || reason !== null) continue;
        const parsed: unknown = ext.parsedValue;
        if (!(parsed instanceof asn1js.Enumerated)) fail(path, 'malformed CRL entry reasonCode');
        reason = parsed.valueBlock.valueDec;
      }
      return {
        serialNumber: serialHex(r.userCertificate),
        revocationDate: r.revocationDate.value,
        reason,
        extensions: extensionFacts(r.crlEntryExtensions?.extensions),
      };
    });
    const sig = crl.signatureValue;
    if (sig.valueBlock.unusedBits !== 0) fail(path, 'signature BIT STRING has unused bits');
    return {
      der,
      sha256: thumbprint(der, 'sha256'),
      // TBSCertList.version is v2(1) when present, absent for v1 (RFC 5280, Section 5.1.2.1).
      version: crl.version + 1,
      innerSignatureAlgorithmOid: crl.signature.algorithmId,
      signatureAlgorithmOid: crl.signatureAlgorithm.algorithmId,
      signatureAlgorithmParams: algorithmParams(crl.signatureAlgorithm),
      tbs: crl.tbsView,
      signatureValue: sig.valueBlock.valueHexView,
      issuer: nameOf(crl.issuer, `${path}/issuer`),
      thisUpdate: crl.thisUpdate.value,
      nextUpdate: crl.nextUpdate ? crl.nextUpdate.value : null,
      entries,
      extensions,
      crlNumber,
      authorityKeyId,
      issuingDistributionPoint: idp,
    };
  });
}

function certificateOf(der: Uint8Array, path: string): pkijs.Certificate {
  const asn1 = decode(der, path);
  return guarded(path, () => new pkijs.Certificate({ schema: asn1 }));
}

/** Returns the URIs of a GeneralName list (RFC 5280, Section 4.2.1.6: uniformResourceIdentifier is [6]). */
function uris(names: readonly pkijs.GeneralName[]): string[] {
  return names.filter((n) => n.type === 6).map((n) => String(n.value));
}

/**
 * Returns the CRL distribution point and AIA URLs of the DER certificate `der`. Throws
 * `DecodeError` when it is not a certificate or either extension is malformed.
 */
export function readRevocationUrls(der: Uint8Array): RevocationUrls {
  const path = 'Certificate';
  const cert = certificateOf(der, path);
  const crl: string[] = [];
  const ocsp: string[] = [];
  const caIssuers: string[] = [];
  guarded(path, () => {
    for (const ext of cert.extensions ?? []) {
      const parsed: unknown = ext.parsedValue;
      if (ext.extnID === EXT.cRLDistributionPoints) {
        if (!(parsed instanceof pkijs.CRLDistributionPoints)) fail(path, 'malformed CRLDistributionPoints');
        for (const dp of parsed.distributionPoints) {
          // DistributionPointName ::= CHOICE { fullName [0] GeneralNames, nameRelativeToCRLIssuer [1] RDN }
          if (Array.isArray(dp.distributionPoint)) crl.push(...uris(dp.distributionPoint));
        }
      } else if (ext.extnID === EXT.authorityInfoAccess) {
        if (!(parsed instanceof pkijs.InfoAccess)) fail(path, 'malformed AuthorityInfoAccess');
        for (const ad of parsed.accessDescriptions) {
          const u = uris([ad.accessLocation]);
          if (ad.accessMethod === OID_AD_OCSP) ocsp.push(...u);
          else if (ad.accessMethod === OID_AD_CA_ISSUERS) caIssuers.push(...u);
        }
      }
    }
  });
  return { crl, ocsp, caIssuers };
}

/**
 * Returns the KeyPurposeIds of the DER certificate's ExtendedKeyUsage (RFC 5280, Section 4.2.1.12),
 * or `null` when it has none. Throws `DecodeError` for a malformed certificate or extension.
 */
export function readExtendedKeyUsage(der: Uint8Array): string[] | null {
  const path = 'Certificate';
  const cert = certificateOf(der, path);
  return guarded(path, () => {
    const ext = (cert.extensions ?? []).find((e) => e.extnID === EXT.extKeyUsage);
    if (!ext) return null;
    const parsed: unknown = ext.parsedValue;
    if (!(parsed instanceof pkijs.ExtKeyUsage)) fail(path, 'malformed ExtendedKeyUsage');
    return [...parsed.keyPurposes];
  });
}

/** Returns the subjectPublicKey BIT STRING's bits of a SubjectPublicKeyInfo DER (what OCSP's issuerKeyHash hashes). */
export function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  const path = 'SubjectPublicKeyInfo';
  const asn1 = decode(spki, path);
  const info = guarded(path, () => new pkijs.PublicKeyInfo({ schema: asn1 }));
  return info.subjectPublicKey.valueBlock.valueHexView;
}

/**
 * Returns the DER OCSPRequest (RFC 6960, Section 4.1.1) asking for one certificate, unsigned and
 * without extensions (no nonce, as CryptoAPI sends it): `certId` names hash algorithm, hashes and serial.
 */
export function encodeOcspRequest(certId: OcspCertId): Uint8Array {
  const id = new pkijs.CertID({
    // RFC 5754, Section 2: the hash AlgorithmIdentifier's parameters are absent or NULL; OpenSSL and CryptoAPI send NULL.
    hashAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: certId.hashAlgorithmOid,
      algorithmParams: new asn1js.Null(),
    }),
    issuerNameHash: new asn1js.OctetString({ valueHex: Buffer.from(certId.issuerNameHash, 'hex') }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: Buffer.from(certId.issuerKeyHash, 'hex') }),
    serialNumber: new asn1js.Integer({ valueHex: serialBytes(certId.serialNumber) }),
  });
  const req = new pkijs.OCSPRequest();
  req.tbsRequest.requestList = [new pkijs.Request({ reqCert: id })];
  return new Uint8Array(req.toSchema(true).toBER(false));
}

/** Returns the DER content octets of a positive INTEGER from its hex (a leading 00 when the top bit is set). */
function serialBytes(hex: string): Uint8Array {
  const b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  return b.length > 0 && b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
}

function certIdOf(id: pkijs.CertID): OcspCertId {
  return {
    hashAlgorithmOid: id.hashAlgorithm.algorithmId,
    issuerNameHash: toHex(id.issuerNameHash.valueBlock.valueHexView),
    issuerKeyHash: toHex(id.issuerKeyHash.valueBlock.valueHexView),
    serialNumber: serialHex(id.serialNumber),
  };
}

/**
 * CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT UnknownInfo }
 * RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
 * (RFC 6960, Section 4.2.1). Returns the status with the revocation time and reason.
 */
function certStatusOf(
  block: asn1js.BaseBlock,
  path: string,
): Pick<OcspSingleResponse, 'status' | 'revocationTime' | 'revocationReason'> {
  const tag = block.idBlock.tagNumber;
  if (block.idBlock.tagClass !== 3 || tag > 2) fail(path, 'CertStatus is not [0], [1] or [2]');
  if (tag === 0) return { status: 'good', revocationTime: null, revocationReason: null };
  if (tag === 2) return { status: 'unknown', revocationTime: null, revocationReason: null };
  const parts = (block as asn1js.Constructed).valueBlock.value ?? [];
  const time = parts[0];
  if (!(time instanceof asn1js.GeneralizedTime)) fail(path, 'RevokedInfo.revocationTime is not a GeneralizedTime');
  const revocationTime = time.toDate();
  let revocationReason: number | null = null;
  const reason = parts[1] as asn1js.Constructed | undefined;
  if (reason) {
    const e = reason.valueBlock.value?.[0];
    if (!(e instanceof asn1js.Enumerated)) fail(path, 'RevokedInfo.revocationReason is not an ENUMERATED');
    revocationReason = e.valueBlock.valueDec;
  }
  return { status: 'revoked', revocationTime, revocationReason };
}

/**
 * Returns the DER of each certificate in BasicOCSPResponse.certs ([0] EXPLICIT SEQUENCE OF
 * Certificate), as sent: a delegated responder's certificate is checked byte for byte.
 */
function rawCerts(basic: asn1js.AsnType): Uint8Array[] {
  const tagged = (basic as asn1js.Sequence).valueBlock.value.find(
    (b) => b.idBlock.tagClass === 3 && b.idBlock.tagNumber === 0,
  ) as asn1js.Constructed | undefined;
  const seq = tagged?.valueBlock.value[0] as asn1js.Sequence | undefined;
  return (seq?.valueBlock.value ?? []).map((c) => c.valueBeforeDecodeView);
}

/**
 * Returns the facts of the DER OCSPResponse `der` (RFC 6960, Section 4.2.1). Throws `DecodeError`
 * when it is not one, is larger than `MAX_OCSP_RESPONSE_BYTES`, or a successful response does not
 * carry a decodable BasicOCSPResponse.
 */
export function parseOcspResponse(der: Uint8Array): OcspResponseInfo {
  const path = 'OCSPResponse';
  if (der.length > MAX_OCSP_RESPONSE_BYTES)
    throw new DecodeError(
      'too-large',
      `OCSP response of ${der.length} bytes exceeds ${MAX_OCSP_RESPONSE_BYTES}`,
      0,
      path,
    );
  const asn1 = decode(der, path);
  const resp = guarded(path, () => new pkijs.OCSPResponse({ schema: asn1 }));
  const responseStatus = resp.responseStatus.valueBlock.valueDec;
  if (responseStatus !== 0) return { responseStatus, basic: null };
  const bytes = resp.responseBytes;
  if (!bytes) fail(path, 'successful response without responseBytes');
  if (bytes.responseType !== OID_OCSP_BASIC)
    fail(path, `response type ${bytes.responseType} is not id-pkix-ocsp-basic`);
  const basicPath = `${path}/BasicOCSPResponse`;
  const inner = decode(bytes.response.valueBlock.valueHexView, basicPath);
  const basic = guarded(basicPath, () => new pkijs.BasicOCSPResponse({ schema: inner }));
  return guarded(basicPath, () => {
    const data = basic.tbsResponseData;
    const rid = data.responderID as unknown;
    const responderId =
      rid instanceof pkijs.RelativeDistinguishedNames
        ? { byName: nameOf(rid, `${basicPath}/responderID`) }
        : rid instanceof asn1js.OctetString
          ? { byKey: toHex(rid.valueBlock.valueHexView) }
          : fail(basicPath, 'ResponderID is neither byName nor byKey');
    const sig = basic.signature;
    if (sig.valueBlock.unusedBits !== 0) fail(basicPath, 'signature BIT STRING has unused bits');
    return {
      responseStatus,
      basic: {
        signatureAlgorithmOid: basic.signatureAlgorithm.algorithmId,
        signatureAlgorithmParams: algorithmParams(basic.signatureAlgorithm),
        tbs: data.tbsView,
        signatureValue: sig.valueBlock.valueHexView,
        responderId,
        producedAt: data.producedAt,
        responses: data.responses.map((r) => ({
          certId: certIdOf(r.certID),
          ...certStatusOf(r.certStatus as asn1js.BaseBlock, `${basicPath}/certStatus`),
          thisUpdate: r.thisUpdate,
          nextUpdate: r.nextUpdate ?? null,
        })),
        certs: rawCerts(inner),
      },
    };
  });
}
