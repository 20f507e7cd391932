/**
 * Distinguished Name text and comparison: returns RFC 4514 strings from decoded attributes and
 * decides whether two Names are the same (RFC 5280, Section 7.1).
 */
import type { DistinguishedName, NamePart } from './types.js';

/** One attribute as a decoder hands it over: its part plus whether the value is `#`-hex (not a string). */
export interface RdnMember {
  readonly part: NamePart;
  /** True when `part.value` is `#` + hex of the value's DER, which RFC 4514 writes unescaped. */
  readonly hex: boolean;
}

/**
 * Returns the RFC 4514 (Section 2) string of a Name given as RDNs in DER order: RDNs are written last
 * first and joined by `,`, members of one RDN are joined by `+` in the order they were encoded.
 */
export function formatRfc4514(rdns: readonly (readonly RdnMember[])[]): string {
  const out: string[] = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    out.push(rdns[i]!.map((m) => `${m.part.type}=${m.hex ? m.part.value : escapeValue(m.part.value)}`).join('+'));
  }
  return out.join(',');
}

/** True when RFC 4514, Section 2.4 asks for an escape anywhere in `value` (a loop: most values need none). */
function needsEscape(value: string): boolean {
  const n = value.length;
  if (n === 0) return false;
  const first = value.charCodeAt(0);
  if (first === 0x20 || first === 0x23 || value.charCodeAt(n - 1) === 0x20) return true;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    // " + , ; < > \ and control characters
    if (
      c < 0x20 ||
      c === 0x7f ||
      c === 0x22 ||
      c === 0x2b ||
      c === 0x2c ||
      c === 0x3b ||
      c === 0x3c ||
      c === 0x3e ||
      c === 0x5c
    )
      return true;
  }
  return false;
}

/**
 * Returns `value` escaped per RFC 4514, Section 2.4: `"+,;<>\` get a backslash, so do a leading
 * `#` or space and a trailing space; NUL and other control characters become `\XX` hex pairs.
 */
export function escapeValue(value: string): string {
  if (!needsEscape(value)) return value;
  let s = '';
  const last = value.length - 1;
  for (let i = 0; i <= last; i++) {
    const c = value[i]!;
    const code = c.charCodeAt(0);
    if (c === '"' || c === '+' || c === ',' || c === ';' || c === '<' || c === '>' || c === '\\') s += `\\${c}`;
    else if ((i === 0 && (c === '#' || c === ' ')) || (i === last && c === ' ')) s += `\\${c}`;
    else if (code < 0x20 || code === 0x7f) s += `\\${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else s += c;
  }
  return s;
}

/**
 * True when two Names are the same: byte-identical DER, or the same attribute types in the same
 * order with values equal after RFC 5280, Section 7.1's caseless matching with insignificant
 * whitespace removed (RFC 4518 in simplified form: trim, collapse runs of spaces, case fold).
 */
export function sameName(a: DistinguishedName, b: DistinguishedName): boolean {
  if (sameDer(a.der, b.der)) return true;
  if (a.parts.length !== b.parts.length) return false;
  for (let i = 0; i < a.parts.length; i++) {
    const x = a.parts[i]!;
    const y = b.parts[i]!;
    if (x.oid !== y.oid || foldValue(x.value) !== foldValue(y.value)) return false;
  }
  return true;
}

function foldValue(v: string): string {
  return v.trim().replace(/\s+/g, ' ').toLowerCase();
}

function sameDer(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Returns the value of the last attribute of type `oid` (the most specific one), or `null`. */
export function lastValueOf(name: DistinguishedName, oid: string): string | null {
  for (let i = name.parts.length - 1; i >= 0; i--) if (name.parts[i]!.oid === oid) return name.parts[i]!.value;
  return null;
}

/** id-at-commonName, RFC 5280, Appendix A.1. */
export const OID_COMMON_NAME = '2.5.4.3';

/** Returns a short display name for a certificate subject: its last CN, else its RFC 4514 string. */
export function displayName(name: DistinguishedName): string {
  return lastValueOf(name, OID_COMMON_NAME) ?? (name.rfc4514 || '(empty name)');
}
