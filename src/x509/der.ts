/**
 * The fast certificate decoder: returns a `CertInfo` read straight from DER with our own
 * bounds-checked walker, and throws `DecodeError` when the bytes are not a DER certificate.
 *
 * This is the parser hot path. It never copies the input: every byte field is a `subarray` view of
 * `der`. `parseCertificate` walks and validates the whole structure up front (so only it throws) and
 * records positions; text, hex, key sizes and thumbprints are decoded the first time a field is read
 * (see `DerCertInfo`), by walking again the ranges the first walk checked. `parseCertificateReference`
 * (pkijs-adapter.ts) is the slow reference that the tests compare this with on every certificate.
 *
 * This file is the walk; what it returns is der-cert-info.ts, names and strings are decoded in
 * der-name.ts, the extensions checked and decoded in der-extensions.ts.
 *
 * The walk calls the allocation-free primitives of der-reader.ts (`readTlv`, `expectTlv`, `readOid`,
 * `readTime`) on positions held in locals, instead of a `DerReader` and a `Tlv` per element: that
 * reader costs an object per TLV and per constructed value, which was most of the walk's time. Its
 * errors are the ones the `DerReader` walk threw (same code, offset, path and text): each call names
 * the field path a reader would have built (the `*_PATH` constants below).
 */
import { DecodeError } from '../wire/errors.js';
import {
  Tag,
  contentStart,
  contextTag,
  derFail,
  expectTlv,
  failTrailing,
  readOid,
  readTime,
  readTlv,
  tlvEnd,
  type DerSite,
} from './der-reader.js';
import { DerCertInfo } from './der-cert-info.js';
import { NO_EXTENSIONS, readExtensions } from './der-extensions.js';
import type { CertInfo } from './types.js';

/**
 * Largest certificate we decode. Real certificates are 0.5–5 KB; the biggest seen in the wild
 * (SAN lists of thousands of names) stay well under 1 MiB, and a TLS 1.2/1.3 Certificate entry can
 * claim up to 16 MiB of peer-controlled bytes.
 */
export const MAX_CERTIFICATE_BYTES = 1 << 20;

// Field paths for errors, as `DerReader` builds them (reader path + '/' + field). The walk's
// nesting is fixed and at most 7 deep, so `MAX_DER_DEPTH` cannot be reached and is not checked.
const CERT_PATH = 'Certificate';
const SIGNATURE_ALGORITHM_PATH = `${CERT_PATH}/signatureAlgorithm`;
const TBS_PATH = `${CERT_PATH}/tbsCertificate`;
const VERSION_PATH = `${TBS_PATH}/version`;
const TBS_SIGNATURE_PATH = `${TBS_PATH}/signature`;
const VALIDITY_PATH = `${TBS_PATH}/validity`;
const SPKI_PATH = `${TBS_PATH}/subjectPublicKeyInfo`;
const SPKI_ALGORITHM_PATH = `${SPKI_PATH}/algorithm`;

/** The paths inside one Name field (`issuer` or `subject`). */
interface NamePaths {
  readonly field: string;
  readonly name: string;
  readonly rdn: string;
  readonly atv: string;
}

function namePaths(field: string): NamePaths {
  const name = `${TBS_PATH}/${field}`;
  return { field, name, rdn: `${name}/rdn`, atv: `${name}/rdn/atv` };
}

const ISSUER_PATHS = namePaths('issuer');
const SUBJECT_PATHS = namePaths('subject');

/**
 * Returns the facts of the DER certificate `der` (RFC 5280, Section 4.1). Throws `DecodeError` when
 * the bytes are not one DER Certificate, when a field has the wrong type or form, or when a
 * SubjectAltName, KeyUsage, BasicConstraints, AuthorityKeyIdentifier or SubjectKeyIdentifier
 * extension is malformed. Later duplicates of an extension are ignored (RFC 5280, Section 4.2:
 * "MUST NOT include more than one instance").
 */
export function parseCertificate(der: Uint8Array): CertInfo {
  const size = der.length;
  if (size > MAX_CERTIFICATE_BYTES) {
    throw new DecodeError(
      'too-large',
      `certificate of ${size} bytes exceeds ${MAX_CERTIFICATE_BYTES}`,
      0,
      'Certificate',
    );
  }
  // Certificate ::= SEQUENCE { tbsCertificate TBSCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
  const certEnd = expectTlv(der, 0, size, Tag.SEQUENCE, '', 'Certificate');
  if (certEnd !== size) failTrailing('', certEnd, size);
  const tbs = contentStart(der, 0);
  const tbsEnd = expectTlv(der, tbs, certEnd, Tag.SEQUENCE, CERT_PATH, 'tbsCertificate');
  const signatureAlgorithm = tbsEnd;
  let p = readAlgorithm(der, signatureAlgorithm, certEnd, CERT_PATH, 'signatureAlgorithm', SIGNATURE_ALGORITHM_PATH);
  const signatureValue = p;
  p = expectTlv(der, p, certEnd, Tag.BIT_STRING, CERT_PATH, 'signatureValue');
  checkWholeOctets(der, signatureValue, p, CERT_PATH, 'signatureValue');
  if (p !== certEnd) failTrailing(CERT_PATH, p, certEnd);

  p = contentStart(der, tbs);
  // version [0] EXPLICIT Version DEFAULT v1 -- Version ::= INTEGER { v1(0), v2(1), v3(2) }
  let version = 1;
  if (p < tbsEnd && der[p] === contextTag(0, true)) {
    const versionEnd = expectTlv(der, p, tbsEnd, contextTag(0, true), TBS_PATH, 'version');
    const n = contentStart(der, p);
    const nEnd = expectTlv(der, n, versionEnd, Tag.INTEGER, VERSION_PATH, 'version');
    if (nEnd !== versionEnd) failTrailing(VERSION_PATH, nEnd, versionEnd);
    const v = contentStart(der, n);
    if (nEnd - v !== 1 || der[v]! > 2) derFail(VERSION_PATH, 'version', 'bad-value', 'version is not v1, v2 or v3', n);
    version = der[v]! + 1;
    p = versionEnd;
  }
  // CertificateSerialNumber ::= INTEGER (RFC 5280, Section 4.1.2.2)
  const serial = p;
  p = expectTlv(der, p, tbsEnd, Tag.INTEGER, TBS_PATH, 'serialNumber');
  if (p === contentStart(der, serial)) derFail(TBS_PATH, 'serialNumber', 'bad-value', 'empty INTEGER', serial);
  p = readAlgorithm(der, p, tbsEnd, TBS_PATH, 'signature', TBS_SIGNATURE_PATH);
  const issuer = p;
  const issuerEnd = readName(der, p, tbsEnd, ISSUER_PATHS);
  // Validity ::= SEQUENCE { notBefore Time, notAfter Time }
  const validityEnd = expectTlv(der, issuerEnd, tbsEnd, Tag.SEQUENCE, TBS_PATH, 'validity');
  p = contentStart(der, issuerEnd);
  const notBefore = readTime(der, p, validityEnd, VALIDITY_PATH, 'notBefore');
  p = tlvEnd(der, p);
  const notAfter = readTime(der, p, validityEnd, VALIDITY_PATH, 'notAfter');
  p = tlvEnd(der, p);
  if (p !== validityEnd) failTrailing(VALIDITY_PATH, p, validityEnd);
  const subject = validityEnd;
  const subjectEnd = readName(der, subject, tbsEnd, SUBJECT_PATHS);
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
  const spki = subjectEnd;
  const spkiEnd = expectTlv(der, spki, tbsEnd, Tag.SEQUENCE, TBS_PATH, 'subjectPublicKeyInfo');
  const keyAlgorithm = contentStart(der, spki);
  const publicKey = readAlgorithm(der, keyAlgorithm, spkiEnd, SPKI_PATH, 'algorithm', SPKI_ALGORITHM_PATH);
  p = expectTlv(der, publicKey, spkiEnd, Tag.BIT_STRING, SPKI_PATH, 'subjectPublicKey');
  checkWholeOctets(der, publicKey, p, SPKI_PATH, 'subjectPublicKey');
  if (p !== spkiEnd) failTrailing(SPKI_PATH, p, spkiEnd);
  p = spkiEnd;
  // issuerUniqueID [1] IMPLICIT UniqueIdentifier OPTIONAL, subjectUniqueID [2] IMPLICIT UniqueIdentifier OPTIONAL
  if (p < tbsEnd && der[p] === contextTag(1, false)) p = readTlv(der, p, tbsEnd, TBS_PATH, 'issuerUniqueID');
  if (p < tbsEnd && der[p] === contextTag(2, false)) p = readTlv(der, p, tbsEnd, TBS_PATH, 'subjectUniqueID');
  // extensions [3] EXPLICIT Extensions OPTIONAL
  let ext = NO_EXTENSIONS;
  if (p < tbsEnd && der[p] === contextTag(3, true)) {
    ext = readExtensions(der, p, tbsEnd);
    p = tlvEnd(der, p);
  }
  if (p !== tbsEnd) failTrailing(TBS_PATH, p, tbsEnd);

  return new DerCertInfo({
    der,
    version,
    serial,
    issuer,
    issuerEnd,
    subject,
    subjectEnd,
    notBefore,
    notAfter,
    keyAlgorithm,
    publicKey,
    spki,
    spkiEnd,
    tbs,
    tbsEnd,
    signatureAlgorithm,
    signatureValue,
    ext,
  });
}

/**
 * AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY DEFINED BY algorithm OPTIONAL }
 * (RFC 5280, Section 4.1.1.2). Checks the one at `der[p]` (`path` is its own path) and returns its end.
 */
function readAlgorithm(der: Uint8Array, p: number, limit: number, site: DerSite, field: string, path: string): number {
  const end = expectTlv(der, p, limit, Tag.SEQUENCE, site, field);
  let q = readOid(der, contentStart(der, p), end, path, 'algorithm');
  if (q < end) q = readTlv(der, q, end, path, 'parameters');
  if (q !== end) failTrailing(path, q, end);
  return end;
}

/** Checks that the BIT STRING at `der[p]` (ending at `end`) holds whole octets: its unused-bits octet must be 0 (X.690, Section 8.6.2). */
function checkWholeOctets(der: Uint8Array, p: number, end: number, site: DerSite, field: string): void {
  const c = contentStart(der, p);
  if (end === c) derFail(site, field, 'bad-value', 'BIT STRING without its unused-bits octet', c);
  const unused = der[c]!;
  if (unused !== 0)
    derFail(site, field, 'bad-value', `BIT STRING with ${unused} unused bits where whole octets are required`, c);
}

/**
 * Name ::= CHOICE { rdnSequence RDNSequence } -- RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
 * RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 * AttributeTypeAndValue ::= SEQUENCE { type AttributeType, value AttributeValue } (RFC 5280, Section 4.1.2.4)
 * Checks the Name at `der[p]` and returns its end; `decodeName` reads it again without checks.
 */
function readName(der: Uint8Array, p: number, limit: number, paths: NamePaths): number {
  const end = expectTlv(der, p, limit, Tag.SEQUENCE, TBS_PATH, paths.field);
  let q = contentStart(der, p);
  while (q < end) {
    const setEnd = expectTlv(der, q, end, Tag.SET, paths.name, 'rdn');
    let r = contentStart(der, q);
    if (r === setEnd)
      derFail(paths.rdn, '', 'empty-list', 'RelativeDistinguishedName has no attribute (SET SIZE (1..MAX))', r);
    while (r < setEnd) {
      const atvEnd = expectTlv(der, r, setEnd, Tag.SEQUENCE, paths.rdn, 'atv');
      let s = readOid(der, contentStart(der, r), atvEnd, paths.atv, 'type');
      s = readTlv(der, s, atvEnd, paths.atv, 'value');
      if (s !== atvEnd) failTrailing(paths.atv, s, atvEnd);
      r = atvEnd;
    }
    q = setEnd;
  }
  return end;
}
