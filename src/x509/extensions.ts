/**
 * The certificate facts path validation needs beyond `CertInfo`: returns every extension with its
 * criticality, the decoded ExtendedKeyUsage, NameConstraints, every SubjectAltName GeneralName,
 * the AuthorityKeyIdentifier's fields, the raw serial INTEGER and both signature AlgorithmIdentifiers.
 * Reads the TBSCertificate that `parseCertificate` already checked, with the same DER walker; never
 * throws: an extension whose value does not decode is listed in `malformed`.
 */
import { DecodeError } from '../wire/errors.js';
import { DerReader, Tag, contextTag, oidToString, type Tlv } from './der-reader.js';
import type { CertInfo } from './types.js';

/** Extension OIDs the validator reads or knows (RFC 5280, Sections 4.2.1 and 4.2.2). */
export const Ext = {
  authorityKeyIdentifier: '2.5.29.35',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  crlDistributionPoints: '2.5.29.31',
  inhibitAnyPolicy: '2.5.29.54',
  freshestCrl: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
} as const;

/** ExtendedKeyUsage purposes (RFC 5280, Section 4.2.1.12). */
export const Eku = {
  anyExtendedKeyUsage: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** One Extension as written: RFC 5280, Section 4.1. */
export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** extnValue's content octets (a view). */
  readonly value: Uint8Array;
}

/**
 * A GeneralName (RFC 5280, Section 4.2.1.6). `dns`, `email` and `uri` keep the IA5String bytes as
 * Latin-1 text (non-ASCII survives as such, for the syntax checks); `ip` keeps the octets; `dn`
 * keeps the Name's RDNs; `other` is every form we do not interpret, with its context tag number.
 */
export type GeneralName =
  | { readonly kind: 'dns'; readonly value: string }
  | { readonly kind: 'email'; readonly value: string }
  | { readonly kind: 'uri'; readonly value: string }
  | { readonly kind: 'ip'; readonly bytes: Uint8Array }
  | { readonly kind: 'dn'; readonly rdns: readonly Rdn[] }
  | { readonly kind: 'other'; readonly tag: number };

/** One RelativeDistinguishedName: its attributes as (OID, value tag, value octets). */
export type Rdn = readonly { readonly oid: string; readonly tag: number; readonly value: Uint8Array }[];

/** NameConstraints (RFC 5280, Section 4.2.1.10): `null` for an absent subtree list. */
export interface NameConstraints {
  readonly permitted: readonly GeneralName[] | null;
  readonly excluded: readonly GeneralName[] | null;
  /** True when a GeneralSubtree carries minimum ≠ 0 or a maximum, which RFC 5280 forbids. */
  readonly badBounds: boolean;
}

/** The AuthorityKeyIdentifier fields present (RFC 5280, Section 4.2.1.1). */
export interface AuthorityKeyIdFields {
  readonly keyIdentifier: boolean;
  readonly authorityCertIssuer: boolean;
  readonly authorityCertSerialNumber: boolean;
}

/** What `certExtras` returns. */
export interface CertExtras {
  /** DER of TBSCertificate.signature and of Certificate.signatureAlgorithm (RFC 5280, Section 4.1.1.2: must be equal). */
  readonly tbsSignatureAlgorithm: Uint8Array;
  readonly outerSignatureAlgorithm: Uint8Array;
  /** The serialNumber INTEGER's content octets, sign included (RFC 5280, Section 4.1.2.2). */
  readonly serial: Uint8Array;
  readonly extensions: readonly RawExtension[];
  /** OIDs that appear more than once (RFC 5280, Section 4.2: "MUST NOT include more than one instance"). */
  readonly duplicates: readonly string[];
  /** Extensions whose value does not decode, with why. */
  readonly malformed: readonly { readonly oid: string; readonly detail: string }[];
  /** ExtendedKeyUsage purposes (dotted OIDs), `null` when absent. */
  readonly eku: readonly string[] | null;
  readonly nameConstraints: NameConstraints | null;
  /** Every SubjectAltName entry, `null` when the extension is absent. */
  readonly san: readonly GeneralName[] | null;
  readonly aki: AuthorityKeyIdFields | null;
  /** The subject's RDNs (for directoryName constraints). */
  readonly subjectRdns: readonly Rdn[];
}

/**
 * Returns the extra facts of `cert`, from `memo` when it has them (a per-check Map: a WeakMap over
 * every parsed certificate costs more in garbage collection than the walk it saves).
 */
export function certExtras(cert: CertInfo, memo?: Map<CertInfo, CertExtras>): CertExtras {
  let x = memo?.get(cert);
  if (!x) {
    x = readExtras(cert);
    memo?.set(cert, x);
  }
  return x;
}

/** Returns the extension `oid` of `x` (the first instance), or undefined. */
export function extensionOf(x: CertExtras, oid: string): RawExtension | undefined {
  return x.extensions.find((e) => e.oid === oid);
}

function readExtras(cert: CertInfo): CertExtras {
  const der = cert.der;
  const r = new DerReader(der);
  const c = r.enter('Certificate');
  const tbsTlv = c.expect(Tag.SEQUENCE, 'tbsCertificate');
  const outer = c.expect(Tag.SEQUENCE, 'signatureAlgorithm');
  const t = c.into(tbsTlv, 'tbsCertificate');
  if (t.peekTag() === contextTag(0, true)) t.any('version');
  const serial = t.expect(Tag.INTEGER, 'serialNumber');
  const sig = t.expect(Tag.SEQUENCE, 'signature');
  t.any('issuer');
  t.any('validity');
  const subject = t.expect(Tag.SEQUENCE, 'subject');
  t.any('subjectPublicKeyInfo');
  t.optional(contextTag(1, false), 'issuerUniqueID');
  t.optional(contextTag(2, false), 'subjectUniqueID');
  const extensions: RawExtension[] = [];
  const ext = t.optional(contextTag(3, true), 'extensions');
  if (ext) {
    const list = t.into(ext, 'extensions').enter('extensions');
    while (list.anyLeft) {
      const e = list.enter('extension');
      const oid = e.oid('extnID');
      let critical = false;
      const b = e.optional(Tag.BOOLEAN, 'critical');
      if (b) critical = der[b.valueStart] !== 0;
      const v = e.expect(Tag.OCTET_STRING, 'extnValue');
      extensions.push({
        oid: oidToString(der, oid.valueStart, oid.end),
        critical,
        value: der.subarray(v.valueStart, v.end),
      });
    }
  }
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const e of extensions) (seen.has(e.oid) ? duplicates : seen).add(e.oid);

  const malformed: { oid: string; detail: string }[] = [];
  const decode = <T>(oid: string, fn: (r: DerReader) => T): T | null => {
    const e = extensions.find((x) => x.oid === oid);
    if (!e) return null;
    try {
      const rr = new DerReader(e.value);
      const out = fn(rr);
      rr.end();
      return out;
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      malformed.push({ oid, detail: err.message });
      return null;
    }
  };
  const eku = decode(Ext.extKeyUsage, readEku);
  const nameConstraints = decode(Ext.nameConstraints, readNameConstraints);
  const san = decode(Ext.subjectAltName, (rr) => readGeneralNames(rr.enter('GeneralNames')));
  const aki = decode(Ext.authorityKeyIdentifier, readAkiFields);
  decode(Ext.authorityInfoAccess, readAccessDescriptions);
  decode(Ext.policyConstraints, (rr) => rr.enter('PolicyConstraints').end());
  return {
    tbsSignatureAlgorithm: der.subarray(sig.start, sig.end),
    outerSignatureAlgorithm: der.subarray(outer.start, outer.end),
    serial: der.subarray(serial.valueStart, serial.end),
    extensions,
    duplicates: [...duplicates],
    malformed,
    eku,
    nameConstraints,
    san,
    aki,
    subjectRdns: readRdns(new DerReader(der, subject.valueStart, subject.end)),
  };
}

/** ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (RFC 5280, Section 4.2.1.12). */
function readEku(r: DerReader): string[] {
  const s = r.enter('ExtKeyUsageSyntax');
  const out: string[] = [];
  while (s.anyLeft) {
    const o = s.oid('KeyPurposeId');
    out.push(oidToString(s.buf, o.valueStart, o.end));
  }
  if (out.length === 0) s.fail('empty-list', 'ExtKeyUsageSyntax has no KeyPurposeId (SIZE (1..MAX))');
  return out;
}

/**
 * NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL, excludedSubtrees [1] GeneralSubtrees OPTIONAL }
 * GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] BaseDistance DEFAULT 0, maximum [1] BaseDistance OPTIONAL }
 * (RFC 5280, Section 4.2.1.10; GeneralSubtrees is SIZE (1..MAX)).
 */
function readNameConstraints(r: DerReader): NameConstraints {
  const s = r.enter('NameConstraints');
  let badBounds = false;
  const subtrees = (tag: number, field: string): GeneralName[] | null => {
    const t = s.optional(tag, field);
    if (!t) return null;
    const list = s.into(t, field);
    const out: GeneralName[] = [];
    while (list.anyLeft) {
      const st = list.enter('GeneralSubtree');
      out.push(readGeneralName(st));
      const min = st.optional(contextTag(0, false), 'minimum');
      if (min && (min.end - min.valueStart !== 1 || s.buf[min.valueStart] !== 0)) badBounds = true;
      if (st.optional(contextTag(1, false), 'maximum')) badBounds = true;
      st.end();
    }
    if (out.length === 0) list.fail('empty-list', `${field} has no GeneralSubtree (SIZE (1..MAX))`);
    return out;
  };
  const permitted = subtrees(contextTag(0, true), 'permittedSubtrees');
  const excluded = subtrees(contextTag(1, true), 'excludedSubtrees');
  s.end();
  return { permitted, excluded, badBounds };
}

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName. */
function readGeneralNames(r: DerReader): GeneralName[] {
  const out: GeneralName[] = [];
  while (r.anyLeft) out.push(readGeneralName(r));
  if (out.length === 0) r.fail('empty-list', 'GeneralNames is empty (SIZE (1..MAX))');
  return out;
}

const IA5_TAGS = new Map<number, 'email' | 'dns' | 'uri'>([
  [contextTag(1, false), 'email'],
  [contextTag(2, false), 'dns'],
  [contextTag(6, false), 'uri'],
]);

/**
 * GeneralName ::= CHOICE { otherName [0], rfc822Name [1] IA5String, dNSName [2] IA5String,
 *   x400Address [3], directoryName [4] Name, ediPartyName [5], uniformResourceIdentifier [6] IA5String,
 *   iPAddress [7] OCTET STRING, registeredID [8] OBJECT IDENTIFIER }   (RFC 5280, Section 4.2.1.6)
 * The string and address forms, thousands of them in hostile certificates, are read without a
 * child reader.
 */
function readGeneralName(r: DerReader): GeneralName {
  const t: Tlv = r.any('GeneralName');
  const buf = r.buf;
  const ia5 = IA5_TAGS.get(t.tag);
  if (ia5) return { kind: ia5, value: latin1(buf, t.valueStart, t.end) };
  if (t.tag === contextTag(7, false)) return { kind: 'ip', bytes: buf.subarray(t.valueStart, t.end) };
  if (t.tag === contextTag(4, true)) {
    const name = r.into(t, 'directoryName').enter('Name');
    return { kind: 'dn', rdns: readRdns(name) };
  }
  if ((t.tag & 0xc0) !== 0x80)
    r.fail('bad-value', `GeneralName with tag 0x${t.tag.toString(16)}`, 'GeneralName', t.start);
  return { kind: 'other', tag: t.tag & 0x1f };
}

/** Returns `buf[start..end)` as Latin-1 text (IA5String octets kept one char each). */
function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/** Name ::= SEQUENCE OF RelativeDistinguishedName; RDN ::= SET OF AttributeTypeAndValue (RFC 5280, Section 4.1.2.4). */
function readRdns(r: DerReader): Rdn[] {
  const out: Rdn[] = [];
  while (r.anyLeft) {
    const set = r.enter('rdn', Tag.SET);
    const atvs: { oid: string; tag: number; value: Uint8Array }[] = [];
    while (set.anyLeft) {
      const atv = set.enter('atv');
      const o = atv.oid('type');
      const v = atv.any('value');
      atvs.push({ oid: oidToString(r.buf, o.valueStart, o.end), tag: v.tag, value: r.value(v) });
    }
    out.push(atvs);
  }
  return out;
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0], authorityCertIssuer [1], authorityCertSerialNumber [2] } (all OPTIONAL). */
function readAkiFields(r: DerReader): AuthorityKeyIdFields {
  const s = r.enter('AuthorityKeyIdentifier');
  const keyIdentifier = s.optional(contextTag(0, false), 'keyIdentifier') !== null;
  const authorityCertIssuer = s.optional(contextTag(1, true), 'authorityCertIssuer') !== null;
  const authorityCertSerialNumber = s.optional(contextTag(2, false), 'authorityCertSerialNumber') !== null;
  s.end();
  return { keyIdentifier, authorityCertIssuer, authorityCertSerialNumber };
}

/** AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription { accessMethod OID, accessLocation GeneralName } (RFC 5280, Section 4.2.2.1). */
function readAccessDescriptions(r: DerReader): void {
  const s = r.enter('AuthorityInfoAccessSyntax');
  if (!s.anyLeft) s.fail('empty-list', 'AuthorityInfoAccessSyntax is empty (SIZE (1..MAX))');
  while (s.anyLeft) {
    const ad = s.enter('AccessDescription');
    ad.oid('accessMethod');
    readGeneralName(ad);
    ad.end();
  }
}
