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
 * The walk calls the allocation-free primitives of der-reader.ts (`readTlv`, `expectTlv`, `readOid`,
 * `readTime`) on positions held in locals, instead of a `DerReader` and a `Tlv` per element: that
 * reader costs an object per TLV and per constructed value, which was most of the walk's time. Its
 * errors are the ones the `DerReader` walk threw (same code, offset, path and text): each call names
 * the field path a reader would have built (the `*_PATH` constants below).
 */
import { DecodeError } from '../wire/errors.js';
import { toHex } from '../wire/hex.js';
import { escapeValue } from './dn.js';
import {
  DerReader,
  Tag,
  contentStart,
  contextTag,
  derFail,
  expectTlv,
  failTrailing,
  oidToString,
  readOid,
  readTime,
  readTlv,
  sameBytes,
  tlvEnd,
  type DerSite,
  type Tlv,
} from './der-reader.js';
import { formatIp } from '../wire/ip.js';
import {
  EdKeyBits,
  KEY_USAGE_BITS,
  KeyAlgorithm,
  NamedCurve,
  attributeTypeName,
  signatureAlgorithmName,
} from './oids.js';
import { thumbprint } from './thumbprint.js';
import type { BasicConstraints, CertInfo, DistinguishedName, KeyType, NamePart, SubjectAltNames } from './types.js';

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
const EXTENSIONS_PATH = `${TBS_PATH}/extensions`;
const EXTENSION_LIST_PATH = `${EXTENSIONS_PATH}/extensions`;
const EXTENSION_PATH = `${EXTENSION_LIST_PATH}/extension`;
const SAN_PATH = `${EXTENSION_PATH}/subjectAltName`;
const GENERAL_NAMES_PATH = `${SAN_PATH}/GeneralNames`;
const KEY_USAGE_PATH = `${EXTENSION_PATH}/keyUsage`;
const BASIC_CONSTRAINTS_PATH = `${EXTENSION_PATH}/basicConstraints`;
const BASIC_CONSTRAINTS_SEQ_PATH = `${BASIC_CONSTRAINTS_PATH}/BasicConstraints`;
const AKI_PATH = `${EXTENSION_PATH}/authorityKeyIdentifier`;
const AKI_SEQ_PATH = `${AKI_PATH}/AuthorityKeyIdentifier`;
const SKI_PATH = `${EXTENSION_PATH}/subjectKeyIdentifier`;

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
 * Everything `parseCertificate` found, by position (index of a TLV's identifier octet unless said
 * otherwise); `DerCertInfo` decodes from it on demand.
 */
interface RawCert {
  readonly der: Uint8Array;
  readonly version: number;
  /** serialNumber INTEGER. */
  readonly serial: number;
  /** issuer Name, and its end. */
  readonly issuer: number;
  readonly issuerEnd: number;
  /** subject Name, and its end. */
  readonly subject: number;
  readonly subjectEnd: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SubjectPublicKeyInfo.algorithm AlgorithmIdentifier. */
  readonly keyAlgorithm: number;
  /** SubjectPublicKeyInfo.subjectPublicKey BIT STRING. */
  readonly publicKey: number;
  readonly spki: number;
  readonly spkiEnd: number;
  readonly tbs: number;
  readonly tbsEnd: number;
  /** Certificate.signatureAlgorithm AlgorithmIdentifier. */
  readonly signatureAlgorithm: number;
  /** Certificate.signatureValue BIT STRING. */
  readonly signatureValue: number;
  readonly ext: RawExtensions;
}

/**
 * The `CertInfo` the fast path returns: fields the walk produced anyway (version, validity, basic
 * constraints) are own properties, the rest are getters that decode from positions found by the
 * walk, memoised where they allocate, and cannot throw.
 *
 * A class, against the house rule, for speed: V8 builds an object literal with accessors as a
 * dictionary-mode object at about 10 µs apiece (more than the whole DER walk), while prototype
 * getters cost nothing until read. Being a class, its lazy fields are not own properties: read them
 * by name, or take `toPlainCertInfo()`; `JSON.stringify` sees every field through `toJSON()`.
 */
class DerCertInfo implements CertInfo {
  readonly der: Uint8Array;
  readonly version: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly basicConstraints: BasicConstraints | null;
  readonly #raw: RawCert;
  #keyAlgorithmOid: string | undefined;
  #signatureAlgorithmOid: string | undefined;
  #selfIssued: boolean | undefined;
  #sha1: string | undefined;
  #sha256: string | undefined;
  #subject: DistinguishedName | undefined;
  #issuer: DistinguishedName | undefined;
  #serial: string | undefined;
  #key: { bits: number | null; curve: string | null } | undefined;
  #san: SubjectAltNames | undefined;
  #keyUsage: readonly string[] | null | undefined;
  #aki: string | null | undefined;
  #ski: string | null | undefined;

  constructor(raw: RawCert) {
    this.#raw = raw;
    this.der = raw.der;
    this.version = raw.version;
    this.notBefore = raw.notBefore;
    this.notAfter = raw.notAfter;
    this.basicConstraints = raw.ext.basicConstraints;
  }

  get keyAlgorithmOid(): string {
    this.#keyAlgorithmOid ??= algorithmOid(this.der, this.#raw.keyAlgorithm);
    return this.#keyAlgorithmOid;
  }
  get keyType(): KeyType {
    return KeyAlgorithm[this.keyAlgorithmOid] ?? 'unknown';
  }
  get signatureAlgorithmOid(): string {
    this.#signatureAlgorithmOid ??= algorithmOid(this.der, this.#raw.signatureAlgorithm);
    return this.#signatureAlgorithmOid;
  }
  get signatureAlgorithm(): string {
    return signatureAlgorithmName(this.signatureAlgorithmOid);
  }
  get selfIssued(): boolean {
    const r = this.#raw;
    this.#selfIssued ??= sameBytes(this.der, r.subject, r.subjectEnd, r.issuer, r.issuerEnd);
    return this.#selfIssued;
  }
  get sha1(): string {
    this.#sha1 ??= thumbprint(this.der, 'sha1');
    return this.#sha1;
  }
  get sha256(): string {
    this.#sha256 ??= thumbprint(this.der, 'sha256');
    return this.#sha256;
  }
  get subject(): DistinguishedName {
    this.#subject ??= decodeName(this.der, this.#raw.subject, this.#raw.subjectEnd);
    return this.#subject;
  }
  get issuer(): DistinguishedName {
    this.#issuer ??= decodeName(this.der, this.#raw.issuer, this.#raw.issuerEnd);
    return this.#issuer;
  }
  get serialNumber(): string {
    const s = this.#raw.serial;
    this.#serial ??= serialToHex(this.der.subarray(contentStart(this.der, s), tlvEnd(this.der, s)));
    return this.#serial;
  }
  get keyBits(): number | null {
    return this.#keyInfo().bits;
  }
  get curve(): string | null {
    return this.#keyInfo().curve;
  }
  #keyInfo(): { bits: number | null; curve: string | null } {
    this.#key ??= keySize(
      this.der,
      this.keyType,
      algorithmParams(this.der, this.#raw.keyAlgorithm),
      this.#raw.publicKey,
    );
    return this.#key;
  }
  get signatureAlgorithmParams(): Uint8Array | null {
    const p = algorithmParams(this.der, this.#raw.signatureAlgorithm);
    return p ? this.der.subarray(p.start, p.end) : null;
  }
  get san(): SubjectAltNames {
    this.#san ??= decodeSan(this.der, this.#raw.ext.san);
    return this.#san;
  }
  get keyUsage(): readonly string[] | null {
    if (this.#keyUsage === undefined) {
      const ku = this.#raw.ext.keyUsage;
      this.#keyUsage = ku >= 0 ? keyUsageNames(this.der, ku) : null;
    }
    return this.#keyUsage;
  }
  get authorityKeyId(): string | null {
    if (this.#aki === undefined) this.#aki = contentHex(this.der, this.#raw.ext.authorityKeyId);
    return this.#aki;
  }
  get subjectKeyId(): string | null {
    if (this.#ski === undefined) this.#ski = contentHex(this.der, this.#raw.ext.subjectKeyId);
    return this.#ski;
  }
  get spki(): Uint8Array {
    return this.der.subarray(this.#raw.spki, this.#raw.spkiEnd);
  }
  get tbs(): Uint8Array {
    return this.der.subarray(this.#raw.tbs, this.#raw.tbsEnd);
  }
  get signatureValue(): Uint8Array {
    const s = this.#raw.signatureValue;
    return this.der.subarray(contentStart(this.der, s) + 1, tlvEnd(this.der, s));
  }
  /** Returns every field as a plain object, for `JSON.stringify`. */
  toJSON(): CertInfo {
    return toPlainCertInfo(this);
  }
}

/** Returns a plain object holding every `CertInfo` field of `c` as an own property (decoding any lazy field). */
export function toPlainCertInfo(c: CertInfo): CertInfo {
  return {
    der: c.der,
    sha1: c.sha1,
    sha256: c.sha256,
    version: c.version,
    subject: c.subject,
    issuer: c.issuer,
    serialNumber: c.serialNumber,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    keyType: c.keyType,
    keyAlgorithmOid: c.keyAlgorithmOid,
    keyBits: c.keyBits,
    curve: c.curve,
    signatureAlgorithm: c.signatureAlgorithm,
    signatureAlgorithmOid: c.signatureAlgorithmOid,
    signatureAlgorithmParams: c.signatureAlgorithmParams,
    san: c.san,
    keyUsage: c.keyUsage,
    basicConstraints: c.basicConstraints,
    authorityKeyId: c.authorityKeyId,
    subjectKeyId: c.subjectKeyId,
    spki: c.spki,
    tbs: c.tbs,
    signatureValue: c.signatureValue,
    selfIssued: c.selfIssued,
  };
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

/** Returns the dotted OID of the AlgorithmIdentifier at `der[p]`, which `readAlgorithm` checked. */
function algorithmOid(der: Uint8Array, p: number): string {
  const oid = contentStart(der, p);
  return oidToString(der, contentStart(der, oid), tlvEnd(der, oid));
}

/** Returns the parameters TLV of the AlgorithmIdentifier at `der[p]`, which `readAlgorithm` checked, or null. */
function algorithmParams(der: Uint8Array, p: number): Tlv | null {
  const params = tlvEnd(der, contentStart(der, p));
  const end = tlvEnd(der, p);
  return params < end
    ? { tag: der[params]!, start: params, valueStart: contentStart(der, params), end: tlvEnd(der, params) }
    : null;
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

/** `Buffer.prototype.latin1Slice`: one native call that turns a byte range of any Uint8Array into text, one character per octet. */
// latin1Slice is Buffer's undocumented native method, missing from @types/node
const latin1Slice = (
  Buffer.prototype as unknown as { latin1Slice: (this: Uint8Array, start: number, end: number) => string }
).latin1Slice;
/** `Buffer.prototype.utf8Slice`: the decoder behind `buffer.toString('utf8')`, on a byte range. */
// utf8Slice is Buffer's undocumented native method, missing from @types/node
const utf8Slice = (
  Buffer.prototype as unknown as { utf8Slice: (this: Uint8Array, start: number, end: number) => string }
).utf8Slice;

/** Returns `der[start..end)` with one character per octet (Latin-1; T.61 is read so, as OpenSSL does). */
function latin1(der: Uint8Array, start: number, end: number): string {
  return latin1Slice.call(der, start, end);
}

/** The short names of the X.500 attribute types 2.5.4.n (n < 128), or their dotted OIDs. */
const X500_TYPE: readonly string[] = Array.from({ length: 128 }, (_, n) => attributeTypeName(`2.5.4.${n}`));
/** `X500_TYPE[n]` followed by `=`, as RFC 4514 writes it before the value. */
const X500_TYPE_PREFIX: readonly string[] = X500_TYPE.map((t) => `${t}=`);

/**
 * ASCII characters RFC 4514, Section 2.4 escapes wherever they are in a value: `"+,;<>\` and the
 * control characters. (A leading `#` or space and a trailing space are checked apart.)
 */
const ESCAPED_ANYWHERE: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 0x20; c++) t[c] = 1;
  for (const c of '"+,;<>\\') t[c.charCodeAt(0)] = 1;
  t[0x7f] = 1;
  return t;
})();

/** `scanValue` flag: an octet ≥ 0x80 (so not ASCII). */
const NON_ASCII = 1;
/** `scanValue` flag: RFC 4514 escapes something in the value read one character per octet. */
const NEEDS_ESCAPE = 2;

/**
 * Returns `NON_ASCII | NEEDS_ESCAPE` flags for the value octets `der[start..end)`. The escape flag
 * holds for the value read one character per octet, and for it read as UTF-8 too: only ASCII octets
 * can be special, and they decode to themselves.
 */
function scanValue(der: Uint8Array, start: number, end: number): number {
  if (start === end) return 0;
  let flags = 0;
  const first = der[start]!;
  if (first === 0x20 || first === 0x23 || der[end - 1] === 0x20) flags = NEEDS_ESCAPE;
  for (let i = start; i < end; i++) {
    const b = der[i]!;
    if (b >= 0x80) flags |= NON_ASCII;
    else if (ESCAPED_ANYWHERE[b] === 1) flags |= NEEDS_ESCAPE;
  }
  return flags;
}

/** True for the string types read one character per octet. */
function isEightBitString(tag: number): boolean {
  switch (tag) {
    case Tag.PrintableString:
    case Tag.IA5String:
    case Tag.VisibleString:
    case Tag.NumericString:
    case Tag.TeletexString:
    case Tag.VideotexString:
    case Tag.GraphicString:
    case Tag.GeneralString:
      return true;
    default:
      return false;
  }
}

/**
 * Returns the Name at `der[start..end)`, checked by `readName`, as text, parts and DER. Directory
 * strings (X.520 DirectoryString and the other string types X.509 names use) are decoded; any other
 * type becomes `#` + the hex of its DER (RFC 4514, Section 2.4). The RFC 4514 string is built as it
 * goes (RDNs last first, `,` between RDNs, `+` between members of one RDN, in encoded order), the
 * same text `formatRfc4514` writes for these parts.
 */
function decodeName(der: Uint8Array, start: number, end: number): DistinguishedName {
  const first = contentStart(der, start);
  // The 8-bit values are slices of one Latin-1 string of the whole Name: one native call per Name.
  const text = latin1(der, first, end);
  const parts: NamePart[] = [];
  let rfc4514 = '';
  for (let q = first; q < end; ) {
    const setEnd = tlvEnd(der, q);
    let rdn = '';
    for (let r = contentStart(der, q); r < setEnd; ) {
      const atvEnd = tlvEnd(der, r);
      const oidTlv = contentStart(der, r);
      const o = contentStart(der, oidTlv);
      const v = tlvEnd(der, oidTlv);
      let oid: string;
      let type: string;
      let prefix: string;
      if (v - o === 3 && der[o] === 0x55 && der[o + 1] === 0x04 && der[o + 2]! < 0x80) {
        // 2.5.4.n, the X.500 attribute types: most names have nothing else.
        oid = oidToString(der, o, v);
        type = X500_TYPE[der[o + 2]!]!;
        prefix = X500_TYPE_PREFIX[der[o + 2]!]!;
      } else {
        oid = oidToString(der, o, v);
        type = attributeTypeName(oid);
        prefix = `${type}=`;
      }
      const tag = der[v]!;
      const vs = contentStart(der, v);
      let value: string;
      let written: string;
      const flags = tag === Tag.UTF8String || isEightBitString(tag) ? scanValue(der, vs, atvEnd) : 0;
      if (tag === Tag.UTF8String ? (flags & NON_ASCII) === 0 : isEightBitString(tag)) {
        // One character per octet: ASCII UTF-8, and the 8-bit strings (T.61 read as Latin-1, as OpenSSL does).
        value = text.substring(vs - first, atvEnd - first);
        written = flags & NEEDS_ESCAPE ? escapeValue(value) : value;
      } else if (tag === Tag.UTF8String) {
        value = utf8Slice.call(der, vs, atvEnd);
        written = flags & NEEDS_ESCAPE ? escapeValue(value) : value;
      } else if (tag === Tag.BMPString) {
        value = bmpString(der, vs, atvEnd);
        written = escapeValue(value);
      } else if (tag === Tag.UniversalString) {
        value = universalString(der, vs, atvEnd);
        written = escapeValue(value);
      } else {
        // Not a string: `#` and the hex of the value's DER, written unescaped.
        value = `#${toHex(der.subarray(v, atvEnd))}`;
        written = value;
      }
      parts.push({ type, oid, value });
      rdn = rdn === '' ? prefix + written : `${rdn}+${prefix}${written}`;
      r = atvEnd;
    }
    rfc4514 = q === first ? rdn : `${rdn},${rfc4514}`;
    q = setEnd;
  }
  return { rfc4514, parts, der: der.subarray(start, end) };
}

/** UCS-2 big-endian (an odd last octet is dropped). */
function bmpString(der: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i + 1 < end; i += 2) s += String.fromCharCode((der[i]! << 8) | der[i + 1]!);
  return s;
}

/** UCS-4 big-endian; code points above U+10FFFF become U+FFFD. */
function universalString(der: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i + 3 < end; i += 4) {
    const cp = ((der[i]! << 24) | (der[i + 1]! << 16) | (der[i + 2]! << 8) | der[i + 3]!) >>> 0;
    s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  }
  return s;
}

/** Returns the serial INTEGER's content as hex without the leading `00` that only keeps it positive. */
function serialToHex(v: Uint8Array): string {
  return toHex(v.length > 1 && v[0] === 0 ? v.subarray(1) : v);
}

/** Returns the lowercase hex of the content of the TLV at `der[p]`, or null when `p` is -1 (absent). */
function contentHex(der: Uint8Array, p: number): string | null {
  return p < 0 ? null : toHex(der.subarray(contentStart(der, p), tlvEnd(der, p)));
}

/** The extensions we report, by position (-1: absent). */
interface RawExtensions {
  /** SubjectAltName GeneralNames SEQUENCE. */
  readonly san: number;
  /** KeyUsage BIT STRING. */
  readonly keyUsage: number;
  readonly basicConstraints: BasicConstraints | null;
  /** AuthorityKeyIdentifier.keyIdentifier [0]. */
  readonly authorityKeyId: number;
  /** SubjectKeyIdentifier OCTET STRING. */
  readonly subjectKeyId: number;
}

const NO_EXTENSIONS: RawExtensions = {
  san: -1,
  keyUsage: -1,
  basicConstraints: null,
  authorityKeyId: -1,
  subjectKeyId: -1,
};

/** Marks an extension not seen yet (-1 is "seen, field absent", for AuthorityKeyIdentifier without keyIdentifier). */
const UNSEEN = -2;

/**
 * Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
 * Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 * (RFC 5280, Section 4.1). Checks the `[3]` wrapper at `der[p]` and decodes the five extensions we
 * report, the first instance of each.
 */
function readExtensions(der: Uint8Array, p: number, tbsEnd: number): RawExtensions {
  const wrapperEnd = expectTlv(der, p, tbsEnd, contextTag(3, true), TBS_PATH, 'extensions');
  const list = contentStart(der, p);
  const listEnd = expectTlv(der, list, wrapperEnd, Tag.SEQUENCE, EXTENSIONS_PATH, 'extensions');
  if (listEnd !== wrapperEnd) failTrailing(EXTENSIONS_PATH, listEnd, wrapperEnd);
  let san = UNSEEN;
  let keyUsage = UNSEEN;
  let basicConstraints: BasicConstraints | undefined;
  let authorityKeyId = UNSEEN;
  let subjectKeyId = UNSEEN;
  for (let e = contentStart(der, list); e < listEnd; ) {
    const end = expectTlv(der, e, listEnd, Tag.SEQUENCE, EXTENSION_LIST_PATH, 'extension');
    const id = contentStart(der, e);
    const idEnd = readOid(der, id, end, EXTENSION_PATH, 'extnID');
    let q = idEnd;
    if (q < end && der[q] === Tag.BOOLEAN) q = readTlv(der, q, end, EXTENSION_PATH, 'critical');
    const octets = q;
    q = expectTlv(der, q, end, Tag.OCTET_STRING, EXTENSION_PATH, 'extnValue');
    if (q !== end) failTrailing(EXTENSION_PATH, q, end);
    e = end;
    // Every extension we decode is id-ce (2.5.29 = 55 1d) plus one arc below 128: three octets.
    const o = contentStart(der, id);
    if (idEnd - o !== 3 || der[o] !== 0x55 || der[o + 1] !== 0x1d) continue;
    const value = contentStart(der, octets);
    switch (der[o + 2]) {
      case 17: // 2.5.29.17 subjectAltName
        if (san === UNSEEN) san = readGeneralNames(der, value, end);
        break;
      case 15: // 2.5.29.15 keyUsage
        if (keyUsage === UNSEEN) keyUsage = readKeyUsage(der, value, end);
        break;
      case 19: // 2.5.29.19 basicConstraints
        if (basicConstraints === undefined) basicConstraints = readBasicConstraints(der, value, end);
        break;
      case 35: // 2.5.29.35 authorityKeyIdentifier
        if (authorityKeyId === UNSEEN) authorityKeyId = readAuthorityKeyId(der, value, end);
        break;
      case 14: {
        // 2.5.29.14 subjectKeyIdentifier
        if (subjectKeyId === UNSEEN) {
          // SubjectKeyIdentifier ::= KeyIdentifier ::= OCTET STRING (RFC 5280, Section 4.2.1.2)
          const r = expectTlv(der, value, end, Tag.OCTET_STRING, SKI_PATH, 'keyIdentifier');
          if (r !== end) failTrailing(SKI_PATH, r, end);
          subjectKeyId = value;
        }
        break;
      }
    }
  }
  return {
    san: san === UNSEEN ? -1 : san,
    keyUsage: keyUsage === UNSEEN ? -1 : keyUsage,
    basicConstraints: basicConstraints ?? null,
    authorityKeyId: authorityKeyId === UNSEEN ? -1 : authorityKeyId,
    subjectKeyId: subjectKeyId === UNSEEN ? -1 : subjectKeyId,
  };
}

const RFC822_NAME = contextTag(1, false);
const DNS_NAME = contextTag(2, false);
const URI = contextTag(6, false);
const IP_ADDRESS = contextTag(7, false);

/**
 * GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName (RFC 5280, Section 4.2.1.6). Checks the
 * extnValue `der[p..end)` and returns `p`; `decodeSan` reads it again.
 */
function readGeneralNames(der: Uint8Array, p: number, end: number): number {
  const seqEnd = expectTlv(der, p, end, Tag.SEQUENCE, SAN_PATH, 'GeneralNames');
  if (seqEnd !== end) failTrailing(SAN_PATH, seqEnd, end);
  for (let q = contentStart(der, p); q < seqEnd; ) q = readTlv(der, q, seqEnd, GENERAL_NAMES_PATH, 'GeneralName');
  return p;
}

/** Returns the rfc822Name [1], dNSName [2], uniformResourceIdentifier [6] and iPAddress [7] entries of the GeneralNames at `der[p]` (-1: none). */
function decodeSan(der: Uint8Array, p: number): SubjectAltNames {
  const dns: string[] = [];
  const ip: string[] = [];
  const email: string[] = [];
  const uri: string[] = [];
  if (p >= 0) {
    const end = tlvEnd(der, p);
    for (let q = contentStart(der, p); q < end; ) {
      const tag = der[q]!;
      const v = contentStart(der, q);
      const e = tlvEnd(der, q);
      if (tag === DNS_NAME) dns.push(latin1(der, v, e));
      else if (tag === IP_ADDRESS) ip.push(formatIp(der.subarray(v, e)));
      else if (tag === RFC822_NAME) email.push(latin1(der, v, e));
      else if (tag === URI) uri.push(latin1(der, v, e));
      q = e;
    }
  }
  return { dns, ip, email, uri };
}

/** KeyUsage ::= BIT STRING (RFC 5280, Section 4.2.1.3). Checks the extnValue `der[p..end)` and returns `p`. */
function readKeyUsage(der: Uint8Array, p: number, end: number): number {
  const bitsEnd = expectTlv(der, p, end, Tag.BIT_STRING, KEY_USAGE_PATH, 'KeyUsage');
  if (bitsEnd !== end) failTrailing(KEY_USAGE_PATH, bitsEnd, end);
  const c = contentStart(der, p);
  if (bitsEnd === c || der[c]! > 7) derFail(KEY_USAGE_PATH, 'KeyUsage', 'bad-value', 'malformed BIT STRING', c);
  return p;
}

/** Returns the names of the bits set in the KeyUsage BIT STRING at `der[p]`. */
function keyUsageNames(der: Uint8Array, p: number): string[] {
  const out: string[] = [];
  const c = contentStart(der, p);
  const unused = der[c]!;
  const nbits = (tlvEnd(der, p) - c - 1) * 8 - unused;
  for (let i = 0; i < nbits && i < KEY_USAGE_BITS.length; i++) {
    if (der[c + 1 + (i >> 3)]! & (0x80 >> (i & 7))) out.push(KEY_USAGE_BITS[i]!);
  }
  return out;
}

/**
 * BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
 * (RFC 5280, Section 4.2.1.9), in the extnValue `der[p..end)`.
 */
function readBasicConstraints(der: Uint8Array, p: number, end: number): BasicConstraints {
  const seqEnd = expectTlv(der, p, end, Tag.SEQUENCE, BASIC_CONSTRAINTS_PATH, 'BasicConstraints');
  if (seqEnd !== end) failTrailing(BASIC_CONSTRAINTS_PATH, seqEnd, end);
  let q = contentStart(der, p);
  let ca = false;
  if (q < seqEnd && der[q] === Tag.BOOLEAN) {
    const caStart = q;
    q = readTlv(der, q, seqEnd, BASIC_CONSTRAINTS_SEQ_PATH, 'cA');
    const c = contentStart(der, caStart);
    if (q - c !== 1) derFail(BASIC_CONSTRAINTS_SEQ_PATH, 'cA', 'bad-value', 'BOOLEAN is not one octet', caStart);
    ca = der[c] !== 0;
  }
  let pl = -1;
  if (q < seqEnd && der[q] === Tag.INTEGER) {
    pl = q;
    q = readTlv(der, q, seqEnd, BASIC_CONSTRAINTS_SEQ_PATH, 'pathLenConstraint');
  }
  if (q !== seqEnd) failTrailing(BASIC_CONSTRAINTS_SEQ_PATH, q, seqEnd);
  let pathLen: number | null = null;
  if (pl >= 0) {
    // INTEGER (0..MAX): non-negative; more than 4 octets is no real constraint.
    const c = contentStart(der, pl);
    const n = q - c;
    if (n === 0 || n > 4 || der[c]! & 0x80)
      derFail(BASIC_CONSTRAINTS_SEQ_PATH, 'pathLenConstraint', 'bad-value', 'pathLenConstraint out of range', pl);
    pathLen = 0;
    for (let i = c; i < q; i++) pathLen = pathLen * 256 + der[i]!;
  }
  return { ca, pathLen };
}

/**
 * AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier OPTIONAL,
 *   authorityCertIssuer [1] GeneralNames OPTIONAL, authorityCertSerialNumber [2] CertificateSerialNumber OPTIONAL }
 * (RFC 5280, Section 4.2.1.1), in the extnValue `der[p..end)`; returns the position of the
 * keyIdentifier, or -1 without one.
 */
function readAuthorityKeyId(der: Uint8Array, p: number, end: number): number {
  const seqEnd = expectTlv(der, p, end, Tag.SEQUENCE, AKI_PATH, 'AuthorityKeyIdentifier');
  if (seqEnd !== end) failTrailing(AKI_PATH, seqEnd, end);
  let q = contentStart(der, p);
  let id = -1;
  if (q < seqEnd && der[q] === contextTag(0, false)) {
    id = q;
    q = readTlv(der, q, seqEnd, AKI_SEQ_PATH, 'keyIdentifier');
  }
  if (q < seqEnd && der[q] === contextTag(1, true)) q = readTlv(der, q, seqEnd, AKI_SEQ_PATH, 'authorityCertIssuer');
  if (q < seqEnd && der[q] === contextTag(2, false))
    q = readTlv(der, q, seqEnd, AKI_SEQ_PATH, 'authorityCertSerialNumber');
  if (q !== seqEnd) failTrailing(AKI_SEQ_PATH, q, seqEnd);
  return id;
}

/** Returns the number of significant bits of the unsigned big-endian integer `b[start..end)`. */
function bitLength(b: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && b[i] === 0) i++;
  if (i === end) return 0;
  return (end - i - 1) * 8 + (32 - Math.clz32(b[i]!));
}

/**
 * Returns the key size and curve of a public key (see `CertInfo.keyBits`): `params` is the key
 * algorithm's parameters, `publicKey` the position of the subjectPublicKey BIT STRING. Never throws:
 * a key we cannot read has `bits: null` (the signature check reports it).
 */
function keySize(
  der: Uint8Array,
  type: KeyType,
  params: Tlv | null,
  publicKey: number,
): { bits: number | null; curve: string | null } {
  const key = { start: contentStart(der, publicKey) + 1, end: tlvEnd(der, publicKey) };
  try {
    switch (type) {
      case 'RSA':
      case 'RSA-PSS': {
        // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017, Appendix A.1.1)
        const n = new DerReader(der, key.start, key.end).enter('RSAPublicKey').expect(Tag.INTEGER, 'modulus');
        return { bits: bitLength(der, n.valueStart, n.end), curve: null };
      }
      case 'DSA': {
        // Dss-Parms ::= SEQUENCE { p INTEGER, q INTEGER, g INTEGER } (RFC 3279, Section 2.3.2)
        if (!params || params.tag !== Tag.SEQUENCE) return { bits: null, curve: null };
        const p = new DerReader(der, params.start, params.end).enter('Dss-Parms').expect(Tag.INTEGER, 'p');
        return { bits: bitLength(der, p.valueStart, p.end), curve: null };
      }
      case 'EC': {
        // ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER, implicitCurve NULL, specifiedCurve SpecifiedECDomain } (RFC 5480, Section 2.1.1)
        const len = key.end - key.start;
        const form = der[key.start];
        const pointBits = form === 0x04 ? ((len - 1) / 2) * 8 : form === 0x02 || form === 0x03 ? (len - 1) * 8 : null;
        if (params?.tag === Tag.OBJECT_IDENTIFIER) {
          const oid = oidToString(der, params.valueStart, params.end);
          const named = NamedCurve[oid];
          return named ? { bits: named.bits, curve: named.name } : { bits: pointBits, curve: oid };
        }
        if (params?.tag === Tag.SEQUENCE) return { bits: pointBits, curve: 'explicit' };
        return { bits: null, curve: null };
      }
      case 'Ed25519':
      case 'Ed448':
        return { bits: EdKeyBits[type], curve: type };
      default:
        return { bits: null, curve: null };
    }
  } catch (e) {
    if (e instanceof DecodeError) return { bits: null, curve: null };
    throw e;
  }
}
