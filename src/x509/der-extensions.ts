/**
 * The certificate extensions we report (RFC 5280, Section 4.2), checked and located by
 * `readExtensions` during the walk in der.ts (which throws `DecodeError` on a malformed one), then
 * decoded on demand by `decodeSan` and `keyUsageNames`.
 */
import { formatIp } from '../wire/ip.js';
import {
  Tag,
  contentStart,
  contextTag,
  derFail,
  expectTlv,
  failTrailing,
  readOid,
  readTlv,
  tlvEnd,
} from './der-reader.js';
import { latin1 } from './der-name.js';
import { KEY_USAGE_BITS } from './oids.js';
import type { BasicConstraints, SubjectAltNames } from './types.js';

// Field paths for errors, as `DerReader` builds them (reader path + '/' + field), below the
// tbsCertificate path of the walk in der.ts.
const TBS_PATH = 'Certificate/tbsCertificate';
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

/** The extensions we report, by position (-1: absent). */
export interface RawExtensions {
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

/** The extensions of a certificate without any. */
export const NO_EXTENSIONS: RawExtensions = {
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
export function readExtensions(der: Uint8Array, p: number, tbsEnd: number): RawExtensions {
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
export function decodeSan(der: Uint8Array, p: number): SubjectAltNames {
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
export function keyUsageNames(der: Uint8Array, p: number): string[] {
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
