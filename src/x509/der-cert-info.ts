/**
 * The lazy `CertInfo` that `parseCertificate` (der.ts) returns: the positions its walk found
 * (`RawCert`), and `DerCertInfo`, which decodes names, hex, key sizes and thumbprints from them the
 * first time a field is read. `toPlainCertInfo` turns any `CertInfo` into a plain object.
 */
import { DecodeError } from '../wire/errors.js';
import { toHex } from '../wire/hex.js';
import { DerReader, Tag, contentStart, oidToString, sameBytes, tlvEnd, type Tlv } from './der-reader.js';
import { type RawExtensions, decodeSan, keyUsageNames } from './der-extensions.js';
import { decodeName } from './der-name.js';
import { EdKeyBits, KeyAlgorithm, NamedCurve, signatureAlgorithmName } from './oids.js';
import { thumbprint } from './thumbprint.js';
import type { BasicConstraints, CertInfo, DistinguishedName, KeyType, SubjectAltNames } from './types.js';

/**
 * Everything `parseCertificate` found, by position (index of a TLV's identifier octet unless said
 * otherwise); `DerCertInfo` decodes from it on demand.
 */
export interface RawCert {
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
export class DerCertInfo implements CertInfo {
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

/** Returns the serial INTEGER's content as hex without the leading `00` that only keeps it positive. */
function serialToHex(v: Uint8Array): string {
  return toHex(v.length > 1 && v[0] === 0 ? v.subarray(1) : v);
}

/** Returns the lowercase hex of the content of the TLV at `der[p]`, or null when `p` is -1 (absent). */
function contentHex(der: Uint8Array, p: number): string | null {
  return p < 0 ? null : toHex(der.subarray(contentStart(der, p), tlvEnd(der, p)));
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
