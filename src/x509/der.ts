/**
 * The fast certificate decoder: returns a `CertInfo` read straight from DER with our own
 * bounds-checked walker, and throws `DecodeError` when the bytes are not a DER certificate.
 *
 * This is the parser hot path. It never copies the input: every byte field is a `subarray` view of
 * `der`. `parseCertificate` walks and validates the whole structure up front (so only it throws) and
 * records positions; text, hex, key sizes and thumbprints are decoded the first time a field is read
 * (see `DerCertInfo`). `parseCertificateReference` (pkijs-adapter.ts) is the slow reference that the
 * tests compare this with on every certificate.
 */
import { DecodeError } from '../wire/errors.js';
import { toHex } from '../wire/hex.js';
import { formatRfc4514, type RdnMember } from './dn.js';
import { DerReader, Tag, contextTag, oidToString, sameRange, type Tlv } from './der-reader.js';
import { formatIp } from '../wire/ip.js';
import { EdKeyBits, KEY_USAGE_BITS, KeyAlgorithm, NamedCurve, attributeTypeName, signatureAlgorithmName } from './oids.js';
import { thumbprint } from './thumbprint.js';
import type { BasicConstraints, CertInfo, DistinguishedName, KeyType, NamePart, SubjectAltNames } from './types.js';

/**
 * Largest certificate we decode. Real certificates are 0.5–5 KB; the biggest seen in the wild
 * (SAN lists of thousands of names) stay well under 1 MiB, and a TLS 1.2/1.3 Certificate entry can
 * claim up to 16 MiB of peer-controlled bytes.
 */
export const MAX_CERTIFICATE_BYTES = 1 << 20;

/** One AttributeTypeAndValue as found: positions only, decoded on demand. */
interface RawAtv {
  readonly oid: Tlv;
  readonly value: Tlv;
}

interface RawName {
  readonly tlv: Tlv;
  readonly rdns: readonly (readonly RawAtv[])[];
}

interface RawAlgorithm {
  readonly oid: string;
  readonly params: Tlv | null;
}

/**
 * Returns the facts of the DER certificate `der` (RFC 5280, Section 4.1). Throws `DecodeError` when
 * the bytes are not one DER Certificate, when a field has the wrong type or form, or when a
 * SubjectAltName, KeyUsage, BasicConstraints, AuthorityKeyIdentifier or SubjectKeyIdentifier
 * extension is malformed. Later duplicates of an extension are ignored (RFC 5280, Section 4.2:
 * "MUST NOT include more than one instance").
 */
export function parseCertificate(der: Uint8Array): CertInfo {
  if (der.length > MAX_CERTIFICATE_BYTES) {
    throw new DecodeError('too-large', `certificate of ${der.length} bytes exceeds ${MAX_CERTIFICATE_BYTES}`, 0, 'Certificate');
  }
  // Certificate ::= SEQUENCE { tbsCertificate TBSCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
  const top = new DerReader(der);
  const cert = top.enter('Certificate');
  top.end();
  const tbsTlv = cert.expect(Tag.SEQUENCE, 'tbsCertificate');
  const signatureAlgorithm = readAlgorithm(cert, 'signatureAlgorithm');
  const signatureValue = bitStringBits(cert, cert.expect(Tag.BIT_STRING, 'signatureValue'), 'signatureValue');
  cert.end();

  const tbs = cert.into(tbsTlv, 'tbsCertificate');
  // version [0] EXPLICIT Version DEFAULT v1 -- Version ::= INTEGER { v1(0), v2(1), v3(2) }
  let version = 1;
  if (tbs.peekTag() === contextTag(0, true)) {
    const v = tbs.enter('version', contextTag(0, true));
    const n = v.expect(Tag.INTEGER, 'version');
    v.end();
    if (n.end - n.valueStart !== 1 || der[n.valueStart]! > 2) v.fail('bad-value', 'version is not v1, v2 or v3', 'version', n.start);
    version = der[n.valueStart]! + 1;
  }
  // CertificateSerialNumber ::= INTEGER (RFC 5280, Section 4.1.2.2)
  const serial = tbs.expect(Tag.INTEGER, 'serialNumber');
  if (serial.end === serial.valueStart) tbs.fail('bad-value', 'empty INTEGER', 'serialNumber', serial.start);
  readAlgorithm(tbs, 'signature');
  const issuer = readName(tbs, 'issuer');
  // Validity ::= SEQUENCE { notBefore Time, notAfter Time }
  const validity = tbs.enter('validity');
  const notBefore = validity.time('notBefore');
  const notAfter = validity.time('notAfter');
  validity.end();
  const subject = readName(tbs, 'subject');
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
  const spkiTlv = tbs.expect(Tag.SEQUENCE, 'subjectPublicKeyInfo');
  const spkiReader = tbs.into(spkiTlv, 'subjectPublicKeyInfo');
  const keyAlgorithm = readAlgorithm(spkiReader, 'algorithm');
  const publicKey = bitStringBits(spkiReader, spkiReader.expect(Tag.BIT_STRING, 'subjectPublicKey'), 'subjectPublicKey');
  spkiReader.end();
  // issuerUniqueID [1] IMPLICIT UniqueIdentifier OPTIONAL, subjectUniqueID [2] IMPLICIT UniqueIdentifier OPTIONAL
  tbs.optional(contextTag(1, false), 'issuerUniqueID');
  tbs.optional(contextTag(2, false), 'subjectUniqueID');
  // extensions [3] EXPLICIT Extensions OPTIONAL
  const ext = tbs.peekTag() === contextTag(3, true) ? readExtensions(tbs) : NO_EXTENSIONS;
  tbs.end();

  return new DerCertInfo({
    der,
    version,
    serial,
    issuer,
    subject,
    notBefore,
    notAfter,
    keyAlgorithm,
    publicKey,
    spki: spkiTlv,
    tbs: tbsTlv,
    signatureAlgorithm,
    signatureValue,
    ext,
  });
}

/** Everything `parseCertificate` found, by position; `DerCertInfo` decodes from it on demand. */
interface RawCert {
  readonly der: Uint8Array;
  readonly version: number;
  readonly serial: Tlv;
  readonly issuer: RawName;
  readonly subject: RawName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyAlgorithm: RawAlgorithm;
  readonly publicKey: { readonly start: number; readonly end: number };
  readonly spki: Tlv;
  readonly tbs: Tlv;
  readonly signatureAlgorithm: RawAlgorithm;
  readonly signatureValue: { readonly start: number; readonly end: number };
  readonly ext: RawExtensions;
}

/**
 * The `CertInfo` the fast path returns: cheap fields are own properties, the rest are memoised
 * getters that decode from positions found by the walk and cannot throw.
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
  readonly keyType: KeyType;
  readonly keyAlgorithmOid: string;
  readonly signatureAlgorithm: string;
  readonly signatureAlgorithmOid: string;
  readonly basicConstraints: BasicConstraints | null;
  readonly selfIssued: boolean;
  readonly #raw: RawCert;
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
    this.keyType = KeyAlgorithm[raw.keyAlgorithm.oid] ?? 'unknown';
    this.keyAlgorithmOid = raw.keyAlgorithm.oid;
    this.signatureAlgorithm = signatureAlgorithmName(raw.signatureAlgorithm.oid);
    this.signatureAlgorithmOid = raw.signatureAlgorithm.oid;
    this.basicConstraints = raw.ext.basicConstraints;
    this.selfIssued = sameRange(raw.der, raw.subject.tlv, raw.issuer.tlv);
  }

  get sha1(): string {
    return (this.#sha1 ??= thumbprint(this.der, 'sha1'));
  }
  get sha256(): string {
    return (this.#sha256 ??= thumbprint(this.der, 'sha256'));
  }
  get subject(): DistinguishedName {
    return (this.#subject ??= decodeName(this.der, this.#raw.subject));
  }
  get issuer(): DistinguishedName {
    return (this.#issuer ??= decodeName(this.der, this.#raw.issuer));
  }
  get serialNumber(): string {
    const s = this.#raw.serial;
    return (this.#serial ??= serialToHex(this.der.subarray(s.valueStart, s.end)));
  }
  get keyBits(): number | null {
    return this.#keyInfo().bits;
  }
  get curve(): string | null {
    return this.#keyInfo().curve;
  }
  #keyInfo(): { bits: number | null; curve: string | null } {
    return (this.#key ??= keySize(this.der, this.keyType, this.#raw.keyAlgorithm, this.#raw.publicKey));
  }
  get signatureAlgorithmParams(): Uint8Array | null {
    const p = this.#raw.signatureAlgorithm.params;
    return p ? this.der.subarray(p.start, p.end) : null;
  }
  get san(): SubjectAltNames {
    return (this.#san ??= decodeSan(this.der, this.#raw.ext.san));
  }
  get keyUsage(): readonly string[] | null {
    if (this.#keyUsage === undefined) {
      const ku = this.#raw.ext.keyUsage;
      this.#keyUsage = ku ? keyUsageNames(this.der, ku) : null;
    }
    return this.#keyUsage;
  }
  get authorityKeyId(): string | null {
    if (this.#aki === undefined) {
      const t = this.#raw.ext.authorityKeyId;
      this.#aki = t ? toHex(this.der.subarray(t.valueStart, t.end)) : null;
    }
    return this.#aki;
  }
  get subjectKeyId(): string | null {
    if (this.#ski === undefined) {
      const t = this.#raw.ext.subjectKeyId;
      this.#ski = t ? toHex(this.der.subarray(t.valueStart, t.end)) : null;
    }
    return this.#ski;
  }
  get spki(): Uint8Array {
    return this.der.subarray(this.#raw.spki.start, this.#raw.spki.end);
  }
  get tbs(): Uint8Array {
    return this.der.subarray(this.#raw.tbs.start, this.#raw.tbs.end);
  }
  get signatureValue(): Uint8Array {
    return this.der.subarray(this.#raw.signatureValue.start, this.#raw.signatureValue.end);
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

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY DEFINED BY algorithm OPTIONAL } (RFC 5280, Section 4.1.1.2). */
function readAlgorithm(r: DerReader, field: string): RawAlgorithm {
  const a = r.enter(field);
  const id = a.oid('algorithm');
  const params = a.anyLeft ? a.any('parameters') : null;
  a.end();
  return { oid: oidToString(r.buf, id.valueStart, id.end), params };
}

/** Returns the position of a BIT STRING's bits; its unused-bits octet must be 0 (X.690, Section 8.6.2). */
function bitStringBits(r: DerReader, t: Tlv, field: string): { start: number; end: number } {
  if (t.end === t.valueStart) r.fail('bad-value', 'BIT STRING without its unused-bits octet', field, t.valueStart);
  const unused = r.buf[t.valueStart]!;
  if (unused !== 0) r.fail('bad-value', `BIT STRING with ${unused} unused bits where whole octets are required`, field, t.valueStart);
  return { start: t.valueStart + 1, end: t.end };
}

/**
 * Name ::= CHOICE { rdnSequence RDNSequence } -- RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
 * RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 * AttributeTypeAndValue ::= SEQUENCE { type AttributeType, value AttributeValue } (RFC 5280, Section 4.1.2.4)
 */
function readName(r: DerReader, field: string): RawName {
  const tlv = r.expect(Tag.SEQUENCE, field);
  const seq = r.into(tlv, field);
  const rdns: RawAtv[][] = [];
  while (seq.anyLeft) {
    const set = seq.enter('rdn', Tag.SET);
    const members: RawAtv[] = [];
    while (set.anyLeft) {
      const atv = set.enter('atv');
      const oid = atv.oid('type');
      const value = atv.any('value');
      atv.end();
      members.push({ oid, value });
    }
    if (members.length === 0) set.fail('empty-list', 'RelativeDistinguishedName has no attribute (SET SIZE (1..MAX))');
    rdns.push(members);
  }
  return { tlv, rdns };
}

/**
 * Returns the text of a directory string (X.520 DirectoryString and the other string types X.509
 * names use) held in `der[start..end)`, or `null` for a non-string tag.
 */
function decodeString(tag: number, der: Uint8Array, start: number, end: number): string | null {
  switch (tag) {
    case Tag.UTF8String:
      return isAscii(der, start, end) ? ascii(der, start, end) : Buffer.from(der.buffer, der.byteOffset + start, end - start).toString('utf8');
    case Tag.PrintableString:
    case Tag.IA5String:
    case Tag.VisibleString:
    case Tag.NumericString:
    case Tag.TeletexString:
    case Tag.VideotexString:
    case Tag.GraphicString:
    case Tag.GeneralString:
      // 8-bit strings: one character per octet (T.61 read as Latin-1, as OpenSSL does).
      return ascii(der, start, end);
    case Tag.BMPString: {
      // UCS-2 big-endian (an odd last octet is dropped).
      let s = '';
      for (let i = start; i + 1 < end; i += 2) s += String.fromCharCode((der[i]! << 8) | der[i + 1]!);
      return s;
    }
    case Tag.UniversalString: {
      // UCS-4 big-endian.
      let s = '';
      for (let i = start; i + 3 < end; i += 4) {
        const cp = ((der[i]! << 24) | (der[i + 1]! << 16) | (der[i + 2]! << 8) | der[i + 3]!) >>> 0;
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      }
      return s;
    }
    default:
      return null;
  }
}

/** Short values are decoded by hand: a Buffer per attribute would cost more than the whole walk. */
const SHORT_STRING = 128;

function isAscii(der: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (der[i]! >= 0x80) return false;
  return true;
}

/** Returns `der[start..end)` with one character per octet (Latin-1). */
function ascii(der: Uint8Array, start: number, end: number): string {
  if (end - start > SHORT_STRING) return Buffer.from(der.buffer, der.byteOffset + start, end - start).toString('latin1');
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(der[i]!);
  return s;
}

function decodeName(der: Uint8Array, n: RawName): DistinguishedName {
  const rdns: RdnMember[][] = [];
  const parts: NamePart[] = [];
  for (const members of n.rdns) {
    const rdn: RdnMember[] = [];
    for (const m of members) {
      const oid = oidToString(der, m.oid.valueStart, m.oid.end);
      const text = decodeString(m.value.tag, der, m.value.valueStart, m.value.end);
      const hex = text === null;
      const part = { type: attributeTypeName(oid), oid, value: hex ? `#${toHex(der.subarray(m.value.start, m.value.end))}` : text };
      rdn.push({ part, hex });
      parts.push(part);
    }
    rdns.push(rdn);
  }
  return { rfc4514: formatRfc4514(rdns), parts, der: der.subarray(n.tlv.start, n.tlv.end) };
}

/** Returns the serial INTEGER's content as hex without the leading `00` that only keeps it positive. */
function serialToHex(v: Uint8Array): string {
  return toHex(v.length > 1 && v[0] === 0 ? v.subarray(1) : v);
}

interface RawExtensions {
  /** rfc822Name [1], dNSName [2], uniformResourceIdentifier [6] and iPAddress [7] entries, in order. */
  readonly san: readonly Tlv[];
  /** KeyUsage BIT STRING. */
  readonly keyUsage: Tlv | null;
  readonly basicConstraints: BasicConstraints | null;
  /** AuthorityKeyIdentifier.keyIdentifier [0]. */
  readonly authorityKeyId: Tlv | null;
  /** SubjectKeyIdentifier OCTET STRING. */
  readonly subjectKeyId: Tlv | null;
}

const NO_EXTENSIONS: RawExtensions = { san: [], keyUsage: null, basicConstraints: null, authorityKeyId: null, subjectKeyId: null };

/**
 * Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
 * Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 * (RFC 5280, Section 4.1). Decodes the five extensions we report, the first instance of each.
 */
function readExtensions(tbs: DerReader): RawExtensions {
  const wrapper = tbs.enter('extensions', contextTag(3, true));
  const list = wrapper.enter('extensions');
  wrapper.end();
  const buf = tbs.buf;
  let san: readonly Tlv[] | undefined;
  let keyUsage: Tlv | undefined;
  let basicConstraints: BasicConstraints | undefined;
  let authorityKeyId: Tlv | null | undefined;
  let subjectKeyId: Tlv | undefined;
  while (list.anyLeft) {
    const e = list.enter('extension');
    const id = e.oid('extnID');
    e.optional(Tag.BOOLEAN, 'critical');
    const octets = e.expect(Tag.OCTET_STRING, 'extnValue');
    e.end();
    // Every extension we decode is id-ce (2.5.29 = 55 1d) plus one arc below 128: three octets.
    if (id.end - id.valueStart !== 3 || buf[id.valueStart] !== 0x55 || buf[id.valueStart + 1] !== 0x1d) continue;
    switch (buf[id.valueStart + 2]) {
      case 17: // 2.5.29.17 subjectAltName
        if (san === undefined) san = readGeneralNames(e.into(octets, 'subjectAltName'));
        break;
      case 15: // 2.5.29.15 keyUsage
        if (keyUsage === undefined) keyUsage = readKeyUsage(e.into(octets, 'keyUsage'));
        break;
      case 19: // 2.5.29.19 basicConstraints
        if (basicConstraints === undefined) basicConstraints = readBasicConstraints(e.into(octets, 'basicConstraints'));
        break;
      case 35: // 2.5.29.35 authorityKeyIdentifier
        if (authorityKeyId === undefined) authorityKeyId = readAuthorityKeyId(e.into(octets, 'authorityKeyIdentifier'));
        break;
      case 14: // 2.5.29.14 subjectKeyIdentifier
        if (subjectKeyId === undefined) {
          // SubjectKeyIdentifier ::= KeyIdentifier ::= OCTET STRING (RFC 5280, Section 4.2.1.2)
          const r = e.into(octets, 'subjectKeyIdentifier');
          subjectKeyId = r.expect(Tag.OCTET_STRING, 'keyIdentifier');
          r.end();
        }
        break;
    }
  }
  return {
    san: san ?? [],
    keyUsage: keyUsage ?? null,
    basicConstraints: basicConstraints ?? null,
    authorityKeyId: authorityKeyId ?? null,
    subjectKeyId: subjectKeyId ?? null,
  };
}

const RFC822_NAME = contextTag(1, false);
const DNS_NAME = contextTag(2, false);
const URI = contextTag(6, false);
const IP_ADDRESS = contextTag(7, false);

/**
 * GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName (RFC 5280, Section 4.2.1.6); returns the
 * rfc822Name [1], dNSName [2], uniformResourceIdentifier [6] and iPAddress [7] entries.
 */
function readGeneralNames(r: DerReader): Tlv[] {
  const seq = r.enter('GeneralNames');
  r.end();
  const out: Tlv[] = [];
  while (seq.anyLeft) {
    const name = seq.any('GeneralName');
    if (name.tag === DNS_NAME || name.tag === IP_ADDRESS || name.tag === RFC822_NAME || name.tag === URI) out.push(name);
  }
  return out;
}

function decodeSan(der: Uint8Array, entries: readonly Tlv[]): SubjectAltNames {
  const dns: string[] = [];
  const ip: string[] = [];
  const email: string[] = [];
  const uri: string[] = [];
  for (const e of entries) {
    if (e.tag === DNS_NAME) dns.push(ascii(der, e.valueStart, e.end));
    else if (e.tag === IP_ADDRESS) ip.push(formatIp(der.subarray(e.valueStart, e.end)));
    else if (e.tag === RFC822_NAME) email.push(ascii(der, e.valueStart, e.end));
    else uri.push(ascii(der, e.valueStart, e.end));
  }
  return { dns, ip, email, uri };
}

/** KeyUsage ::= BIT STRING (RFC 5280, Section 4.2.1.3). */
function readKeyUsage(r: DerReader): Tlv {
  const bits = r.expect(Tag.BIT_STRING, 'KeyUsage');
  r.end();
  if (bits.end === bits.valueStart || r.buf[bits.valueStart]! > 7) r.fail('bad-value', 'malformed BIT STRING', 'KeyUsage', bits.valueStart);
  return bits;
}

/** Returns the names of the bits set in a KeyUsage BIT STRING. */
function keyUsageNames(der: Uint8Array, t: Tlv): string[] {
  const out: string[] = [];
  const unused = der[t.valueStart]!;
  const nbits = (t.end - t.valueStart - 1) * 8 - unused;
  for (let i = 0; i < nbits && i < KEY_USAGE_BITS.length; i++) {
    if (der[t.valueStart + 1 + (i >> 3)]! & (0x80 >> (i & 7))) out.push(KEY_USAGE_BITS[i]!);
  }
  return out;
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL } (RFC 5280, Section 4.2.1.9). */
function readBasicConstraints(r: DerReader): BasicConstraints {
  const seq = r.enter('BasicConstraints');
  r.end();
  const buf = r.buf;
  const ca = seq.optional(Tag.BOOLEAN, 'cA');
  if (ca && ca.end - ca.valueStart !== 1) seq.fail('bad-value', 'BOOLEAN is not one octet', 'cA', ca.start);
  const pl = seq.optional(Tag.INTEGER, 'pathLenConstraint');
  seq.end();
  let pathLen: number | null = null;
  if (pl) {
    // INTEGER (0..MAX): non-negative; more than 4 octets is no real constraint.
    const n = pl.end - pl.valueStart;
    if (n === 0 || n > 4 || buf[pl.valueStart]! & 0x80) seq.fail('bad-value', 'pathLenConstraint out of range', 'pathLenConstraint', pl.start);
    pathLen = 0;
    for (let i = pl.valueStart; i < pl.end; i++) pathLen = pathLen * 256 + buf[i]!;
  }
  return { ca: ca !== null && buf[ca.valueStart] !== 0, pathLen };
}

/**
 * AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier OPTIONAL,
 *   authorityCertIssuer [1] GeneralNames OPTIONAL, authorityCertSerialNumber [2] CertificateSerialNumber OPTIONAL }
 * (RFC 5280, Section 4.2.1.1); returns the keyIdentifier or `null`.
 */
function readAuthorityKeyId(r: DerReader): Tlv | null {
  const seq = r.enter('AuthorityKeyIdentifier');
  r.end();
  const id = seq.optional(contextTag(0, false), 'keyIdentifier');
  seq.optional(contextTag(1, true), 'authorityCertIssuer');
  seq.optional(contextTag(2, false), 'authorityCertSerialNumber');
  seq.end();
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
 * Returns the key size and curve of a public key (see `CertInfo.keyBits`). Never throws: a key we
 * cannot read has `bits: null` (the signature check reports it).
 */
function keySize(der: Uint8Array, type: KeyType, alg: RawAlgorithm, key: { start: number; end: number }): { bits: number | null; curve: string | null } {
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
        if (!alg.params || alg.params.tag !== Tag.SEQUENCE) return { bits: null, curve: null };
        const p = new DerReader(der, alg.params.start, alg.params.end).enter('Dss-Parms').expect(Tag.INTEGER, 'p');
        return { bits: bitLength(der, p.valueStart, p.end), curve: null };
      }
      case 'EC': {
        // ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER, implicitCurve NULL, specifiedCurve SpecifiedECDomain } (RFC 5480, Section 2.1.1)
        const len = key.end - key.start;
        const form = der[key.start];
        const pointBits = form === 0x04 ? ((len - 1) / 2) * 8 : form === 0x02 || form === 0x03 ? (len - 1) * 8 : null;
        if (alg.params?.tag === Tag.OBJECT_IDENTIFIER) {
          const oid = oidToString(der, alg.params.valueStart, alg.params.end);
          const named = NamedCurve[oid];
          return named ? { bits: named.bits, curve: named.name } : { bits: pointBits, curve: oid };
        }
        if (alg.params?.tag === Tag.SEQUENCE) return { bits: pointBits, curve: 'explicit' };
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
