/**
 * Names and strings of a certificate, decoded from DER the walk in der.ts already checked:
 * `decodeName` returns a Name (RFC 5280, Section 4.1.2.4) as RFC 4514 text and parts, decoding the
 * directory string types; `latin1` reads an 8-bit string range in one native call. Never throws on
 * checked input.
 */
import { toHex } from '../wire/hex.js';
import { escapeValue } from './dn.js';
import { Tag, contentStart, oidToString, tlvEnd } from './der-reader.js';
import { attributeTypeName } from './oids.js';
import type { DistinguishedName, NamePart } from './types.js';

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
export function latin1(der: Uint8Array, start: number, end: number): string {
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
export function decodeName(der: Uint8Array, start: number, end: number): DistinguishedName {
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
