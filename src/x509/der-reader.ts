/**
 * DER reading for X.509: returns TLV positions through `DerReader` or through the allocation-free
 * primitives it is built on (`readTlv`, `expectTlv`, `readOid`, `readTime`), decodes OIDs and times,
 * and throws `DecodeError` on anything DER forbids (indefinite or non-minimal lengths, truncation,
 * deep nesting).
 */
import { DecodeError, type DecodeErrorCode } from '../wire/errors.js';
import { joinPath } from '../wire/reader.js';
import {
  AttributeTypeName,
  ExtensionOid,
  HashAlgorithm,
  KeyAlgorithm,
  NamedCurve,
  OID_MGF1,
  SignatureAlgorithm,
} from './oids.js';

/**
 * Deepest constructed nesting we follow. A certificate's deepest path (Certificate → tbs →
 * extensions → Extension → extnValue → GeneralNames → directoryName → RDN → ATV) is about 10; a
 * hostile input must not drive recursion or allocation by nesting.
 */
export const MAX_DER_DEPTH = 32;

/**
 * Longest length field we accept, in octets after the first. Four octets address 4 GiB, far above
 * `MAX_CERTIFICATE_BYTES`; more octets can only be non-minimal or absurd.
 */
export const MAX_LENGTH_OCTETS = 4;

/** Universal tag octets we read (X.680, Section 8.4 / X.690 identifier octets). */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OBJECT_IDENTIFIER: 0x06,
  UTF8String: 0x0c,
  NumericString: 0x12,
  PrintableString: 0x13,
  TeletexString: 0x14,
  VideotexString: 0x15,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  GraphicString: 0x19,
  VisibleString: 0x1a,
  GeneralString: 0x1b,
  UniversalString: 0x1c,
  BMPString: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Returns the identifier octet of a context-specific tag `[n]` (n < 31), constructed or primitive. */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/**
 * One TLV as read, by position: indexes into the reader's buffer (which are also absolute offsets in
 * the input). No views are made until a caller asks (`value()`, `raw()`): on the hot path a typed
 * array view costs far more than these four numbers.
 */
export interface Tlv {
  /** Identifier octet. */
  readonly tag: number;
  /** Index of the identifier octet. */
  readonly start: number;
  /** Index of the first content octet. */
  readonly valueStart: number;
  /** Index just past the last content octet. */
  readonly end: number;
}

/**
 * A bounds-checked cursor over DER (ITU-T X.690, Section 10) TLVs.
 *
 * It is the DER twin of `wire/Reader`: one bounds check, child readers over exactly a TLV's content
 * (so an inner parser cannot read into its parent), `end()` to reject trailing bytes, and a field
 * path plus absolute offset in every `DecodeError`. Every reader of one parse shares the input
 * buffer, so positions are absolute offsets; the path is only built when an error is thrown.
 *
 * It rejects what DER forbids and BER allows: indefinite lengths (X.690, Section 10.1), lengths not
 * in the shortest form (Section 10.1), high-tag-number identifiers (none are used by X.509), length
 * fields longer than `MAX_LENGTH_OCTETS`, and nesting deeper than `MAX_DER_DEPTH`.
 *
 * Invariant: `start <= pos <= limit <= buf.length`.
 */
export class DerReader {
  private pos: number;
  private readonly limit: number;

  /**
   * @param buf    the whole input (shared, never copied)
   * @param start  index of the first byte this reader may read
   * @param end    index just past the last byte this reader may read
   * @param parent the reader this one was entered from, for error paths
   * @param field  this reader's field name, for error paths
   * @param depth  constructed nesting depth of this reader's content
   */
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
    private readonly parent: DerReader | null = null,
    private readonly field = '',
    private readonly depth = 0,
  ) {
    this.pos = start;
    this.limit = end;
  }

  /** Field path of this reader (`Certificate/tbsCertificate/validity`), built on demand. */
  get path(): string {
    return this.parent ? joinPath(this.parent.path, this.field) : this.field;
  }

  /** Absolute offset of the next unread byte. */
  get offset(): number {
    return this.pos;
  }

  /** True when unread bytes remain. */
  get anyLeft(): boolean {
    return this.pos < this.limit;
  }

  /** Throws a `DecodeError` with this reader's path (plus `field`) at `at`. */
  fail(code: DecodeErrorCode, message: string, field?: string, at = this.pos): never {
    throw new DecodeError(code, message, at, field ? joinPath(this.path, field) : this.path);
  }

  /** Returns the next identifier octet without consuming it, or -1 at the end. */
  peekTag(): number {
    return this.pos < this.limit ? this.buf[this.pos]! : -1;
  }

  /**
   * Reads the next TLV, whatever its tag: the single bounds check of this reader (see `readTlv`).
   * Throws `truncated`, `too-large`, or `bad-value` for encodings DER forbids.
   */
  any(field: string): Tlv {
    const start = this.pos;
    const end = readTlv(this.buf, start, this.limit, this, field);
    this.pos = end;
    return { tag: this.buf[start]!, start, valueStart: contentStart(this.buf, start), end };
  }

  /** Reads the next TLV and throws `bad-value` unless its identifier octet is `tag`. */
  expect(tag: number, field: string): Tlv {
    const start = this.pos;
    const end = expectTlv(this.buf, start, this.limit, tag, this, field);
    this.pos = end;
    return { tag, start, valueStart: contentStart(this.buf, start), end };
  }

  /** Reads the next TLV when its identifier octet is `tag`; otherwise consumes nothing and returns null. */
  optional(tag: number, field: string): Tlv | null {
    return this.pos < this.limit && this.buf[this.pos] === tag ? this.any(field) : null;
  }

  /** Returns a reader over the content of the next TLV, which must have identifier `tag` (SEQUENCE by default). */
  enter(field: string, tag: number = Tag.SEQUENCE): DerReader {
    return this.into(this.expect(tag, field), field);
  }

  /** Returns a reader over the content of `t`, a TLV of this reader's buffer. */
  into(t: Tlv, field: string): DerReader {
    if (this.depth >= MAX_DER_DEPTH) this.fail('too-large', `nesting deeper than ${MAX_DER_DEPTH}`, field, t.start);
    return new DerReader(this.buf, t.valueStart, t.end, this, field, this.depth + 1);
  }

  /** Returns a view of `t`'s content octets. */
  value(t: Tlv): Uint8Array {
    return this.buf.subarray(t.valueStart, t.end);
  }

  /** Returns a view of `t`'s whole encoding (identifier, length and content). */
  raw(t: Tlv): Uint8Array {
    return this.buf.subarray(t.start, t.end);
  }

  /**
   * Reads an OBJECT IDENTIFIER and returns its TLV. Throws `bad-value` unless the body is well formed
   * (X.690, Section 8.19): non-empty, each subidentifier in minimal base-128 form ("the leading octet
   * of the subidentifier shall not have the value 0x80"), the last octet closing a subidentifier.
   */
  oid(field: string): Tlv {
    const start = this.pos;
    const end = readOid(this.buf, start, this.limit, this, field);
    this.pos = end;
    return { tag: Tag.OBJECT_IDENTIFIER, start, valueStart: contentStart(this.buf, start), end };
  }

  /**
   * Reads a Time (UTCTime or GeneralizedTime) and returns its instant. Only the forms RFC 5280,
   * Section 4.1.2.5 allows are accepted (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSSZ`; UTCTime years 50–99 are
   * 19xx); anything else throws `bad-value`.
   */
  time(field: string): Date {
    const start = this.pos;
    const d = readTime(this.buf, start, this.limit, this, field);
    this.pos = tlvEnd(this.buf, start);
    return d;
  }

  /** Throws `trailing-data` unless every byte was consumed. */
  end(): void {
    if (this.pos !== this.limit) failTrailing(this, this.pos, this.limit);
  }
}

/*
 * The TLV primitives below work on positions in a shared buffer and allocate nothing: `DerReader`
 * is built on them, and the certificate walk in der.ts calls them directly with positions held in
 * locals. Each check throws the `DecodeError` it documents with path `joinPath(path of site,
 * field)`: `site` is either a reader (whose path is then built, only on error) or a path string.
 * Messages are built only on error, in separate functions, so the checks stay small enough to inline.
 */

/** Where a primitive was called from, for the path of its errors: a reader, or its path as text. */
export type DerSite = string | DerReader;

/** Throws `DecodeError(code, message, at, joinPath(site's path, field))`. */
export function derFail(site: DerSite, field: string, code: DecodeErrorCode, message: string, at: number): never {
  throw new DecodeError(code, message, at, joinPath(typeof site === 'string' ? site : site.path, field));
}

/** Throws the `trailing-data` error of a reader at `pos` that should have ended at `limit`. */
export function failTrailing(site: DerSite, pos: number, limit: number): never {
  const n = limit - pos;
  return derFail(site, '', 'trailing-data', `${n} unread byte${n === 1 ? '' : 's'}`, pos);
}

/**
 * Reads the TLV header at `buf[p]`, whose content must end by `limit`, and returns the index just
 * past the content (the TLV's end); the content starts at `contentStart(buf, p)`. This is the one
 * bounds check of every DER read. Throws `truncated`, `too-large`, or `bad-value` for what DER
 * forbids and BER allows: indefinite lengths (X.690, Section 10.1), lengths not in the shortest
 * form (Section 10.1), high-tag-number identifiers (none are used by X.509) and length fields
 * longer than `MAX_LENGTH_OCTETS`.
 */
export function readTlv(buf: Uint8Array, p: number, limit: number, site: DerSite, field: string): number {
  // Fast path: a low tag number and a short-form length that fits. Everything else (long forms,
  // and every error) takes `readTlvChecked`, which checks in full and in order.
  if (p + 1 < limit) {
    const first = buf[p + 1]!;
    if (first < 0x80 && p + 2 + first <= limit && (buf[p]! & 0x1f) !== 0x1f) return p + 2 + first;
  }
  return readTlvChecked(buf, p, limit, site, field);
}

function readTlvChecked(buf: Uint8Array, p: number, limit: number, site: DerSite, field: string): number {
  if (p >= limit) derFail(site, field, 'truncated', 'needs a tag, 0 bytes left', p);
  const tag = buf[p]!;
  // X.690, Section 8.1.2.4: tag number 31 announces the high-tag-number form.
  if ((tag & 0x1f) === 0x1f)
    derFail(site, field, 'bad-value', `high-tag-number identifier 0x${hex2(tag)} is not used in X.509`, p);
  if (p + 1 >= limit) derFail(site, field, 'truncated', 'needs a length, 0 bytes left', p + 1);
  const first = buf[p + 1]!;
  if (first < 0x80) {
    if (first > limit - p - 2)
      derFail(site, field, 'truncated', `content needs ${first} bytes, ${limit - p - 2} left`, p + 2);
    return p + 2 + first;
  }
  // X.690, Section 10.1: "The definite form of length encoding shall be used."
  if (first === 0x80) derFail(site, field, 'bad-value', 'indefinite length is not DER', p + 1);
  const n = first & 0x7f;
  const q = p + 2;
  if (n > MAX_LENGTH_OCTETS)
    derFail(site, field, 'too-large', `length uses ${n} octets (max ${MAX_LENGTH_OCTETS})`, p + 1);
  if (n > limit - q) derFail(site, field, 'truncated', `needs ${n} length octets, ${limit - q} left`, q);
  if (buf[q] === 0) derFail(site, field, 'bad-value', 'long-form length has a leading zero octet (not DER)', p + 1);
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + buf[q + i]!;
  // X.690, Section 10.1: lengths below 128 use the short form.
  if (len < 0x80) derFail(site, field, 'bad-value', `length ${len} in long form (not DER)`, p + 1);
  if (len > limit - q - n)
    derFail(site, field, 'truncated', `content needs ${len} bytes, ${limit - q - n} left`, q + n);
  return q + n + len;
}

/** Reads a TLV like `readTlv` and also throws `bad-value` unless its identifier octet is `tag`. */
export function expectTlv(
  buf: Uint8Array,
  p: number,
  limit: number,
  tag: number,
  site: DerSite,
  field: string,
): number {
  const end = readTlv(buf, p, limit, site, field);
  if (buf[p] !== tag) failTag(buf, p, tag, site, field);
  return end;
}

function failTag(buf: Uint8Array, p: number, tag: number, site: DerSite, field: string): never {
  return derFail(site, field, 'bad-value', `expected tag 0x${hex2(tag)}, found 0x${hex2(buf[p]!)}`, p);
}

/** Returns the index of the first content octet of the TLV at `buf[p]`, whose header `readTlv` accepted. */
export function contentStart(buf: Uint8Array, p: number): number {
  const first = buf[p + 1]!;
  return first < 0x80 ? p + 2 : p + 2 + (first & 0x7f);
}

/** Returns the end of the TLV at `buf[p]`, whose header `readTlv` accepted (no checks: it was checked). */
export function tlvEnd(buf: Uint8Array, p: number): number {
  const first = buf[p + 1]!;
  if (first < 0x80) return p + 2 + first;
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + buf[p + 2 + i]!;
  return p + 2 + n + len;
}

/**
 * Reads an OBJECT IDENTIFIER TLV at `buf[p]` and returns its end. Throws `bad-value` unless the
 * body is well formed (X.690, Section 8.19): non-empty, each subidentifier in minimal base-128 form
 * ("the leading octet of the subidentifier shall not have the value 0x80"), the last octet closing
 * a subidentifier.
 */
export function readOid(buf: Uint8Array, p: number, limit: number, site: DerSite, field: string): number {
  const end = expectTlv(buf, p, limit, Tag.OBJECT_IDENTIFIER, site, field);
  const start = contentStart(buf, p);
  // Three octets below 0x80 (2.5.4.n, 2.5.29.n: most OIDs of a certificate) are three whole subidentifiers.
  if (end - start === 3 && (buf[start]! | buf[start + 1]! | buf[start + 2]!) < 0x80) return end;
  // One pass: a subidentifier starts after an octet with the high bit clear (and at `start`).
  let prev = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b === 0x80 && prev < 0x80) failOid(buf, p, start, end, site, field);
    prev = b;
  }
  if (end === start || prev >= 0x80) failOid(buf, p, start, end, site, field);
  return end;
}

/** Throws the first of `readOid`'s errors for the malformed body `buf[start..end)` of the OID at `buf[p]`. */
function failOid(buf: Uint8Array, p: number, start: number, end: number, site: DerSite, field: string): never {
  if (end === start) derFail(site, field, 'bad-value', 'empty OBJECT IDENTIFIER', p);
  if (buf[end - 1]! & 0x80) derFail(site, field, 'bad-value', 'OBJECT IDENTIFIER ends inside a subidentifier', end - 1);
  let prev = 0;
  for (let i = start; i < end; i++) {
    if (buf[i] === 0x80 && prev < 0x80)
      derFail(site, field, 'bad-value', 'OBJECT IDENTIFIER subidentifier is not minimal', i);
    prev = buf[i]!;
  }
  throw new Error('failOid called on a well-formed OBJECT IDENTIFIER');
}

/**
 * Reads a Time (UTCTime or GeneralizedTime) TLV at `buf[p]` and returns its instant (its end is
 * `tlvEnd(buf, p)`). Only the forms RFC 5280, Section 4.1.2.5 allows are accepted
 * (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSSZ`; UTCTime years 50–99 are 19xx); anything else throws
 * `bad-value`.
 */
export function readTime(buf: Uint8Array, p: number, limit: number, site: DerSite, field: string): Date {
  const end = readTlv(buf, p, limit, site, field);
  const tag = buf[p]!;
  const generalized = tag === Tag.GeneralizedTime;
  const want = generalized ? 15 : 13;
  const c = contentStart(buf, p);
  if (tag !== Tag.UTCTime && !generalized)
    derFail(site, field, 'bad-value', `expected UTCTime or GeneralizedTime, found tag 0x${hex2(tag)}`, p);
  if (end - c !== want || buf[c + want - 1] !== 0x5a /* Z */) {
    derFail(
      site,
      field,
      'bad-value',
      `time is not ${generalized ? 'YYYYMMDDHHMMSSZ' : 'YYMMDDHHMMSSZ'} (RFC 5280, Section 4.1.2.5)`,
      p,
    );
  }
  for (let i = c; i < c + want - 1; i++) {
    const d = buf[i]!;
    if (d < 0x30 || d > 0x39) derFail(site, field, 'bad-value', 'time has a non-digit', i);
  }
  let i = c;
  let year: number;
  if (generalized) {
    year = d2(buf, i) * 100 + d2(buf, i + 2);
    i += 4;
  } else {
    const yy = d2(buf, i);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    i += 2;
  }
  const month = d2(buf, i);
  const day = d2(buf, i + 2);
  const hour = d2(buf, i + 4);
  const minute = d2(buf, i + 6);
  const second = d2(buf, i + 8);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) {
    derFail(site, field, 'bad-value', 'time field out of range', p);
  }
  return new Date(daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000);
}

/**
 * Returns the days from 1970-01-01 to the proleptic Gregorian date `year-month-day` (the calendar
 * of RFC 5280 times and of `Date.UTC`, without its mapping of years 0–99 to 19xx). H. Hinnant's
 * days_from_civil: years counted from March, so the leap day ends a year.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Encodes a dotted OID's body (X.690, Section 8.19), for building `KNOWN_OIDS` at load time. */
function encodeOid(dotted: string): number[] {
  const arcs = dotted.split('.').map(Number);
  const subs = [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (const v of subs) {
    const group: number[] = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) group.unshift((x & 0x7f) | 0x80);
    out.push(...group);
  }
  return out;
}

/** A known OID: its body octets and dotted form. */
interface KnownOid {
  readonly body: Uint8Array;
  readonly dotted: string;
}

/** Buckets of `KNOWN_OIDS`, indexed by `oidBucket`. */
const OID_BUCKETS = 256;

function oidBucket(len: number, last: number): number {
  return ((len << 4) ^ last) & (OID_BUCKETS - 1);
}

/** Every OID the oids.ts tables name, dotted (attribute types, key and signature algorithms, curves, hashes, extensions). */
export const NAMED_OIDS: ReadonlySet<string> = new Set([
  ...Object.keys(AttributeTypeName),
  ...Object.keys(KeyAlgorithm),
  ...Object.keys(NamedCurve),
  ...Object.keys(SignatureAlgorithm),
  ...Object.keys(HashAlgorithm),
  ...Object.values(ExtensionOid),
  OID_MGF1,
]);

/**
 * Every OID the oids.ts tables name, by body octets: the lookup that `oidToString` tries before it
 * decodes arcs, so the OIDs a certificate is made of cost a few byte comparisons and no string
 * building. Static data built once at load; nothing is added at run time.
 */
const KNOWN_OIDS: readonly (readonly KnownOid[])[] = (() => {
  const buckets: KnownOid[][] = Array.from({ length: OID_BUCKETS }, () => []);
  for (const dotted of NAMED_OIDS) {
    const body = Uint8Array.from(encodeOid(dotted));
    buckets[oidBucket(body.length, body[body.length - 1]!)]!.push({ body, dotted });
  }
  return buckets;
})();

const X500_ATTRIBUTE_OIDS: readonly string[] = Array.from({ length: 128 }, (_, n) => `2.5.4.${n}`);
const X509_EXTENSION_OIDS: readonly string[] = Array.from({ length: 128 }, (_, n) => `2.5.29.${n}`);

/**
 * Returns the dotted form of the OBJECT IDENTIFIER body `buf[start..end)` (X.690, Section 8.19.4:
 * the first subidentifier packs the first two arcs as 40·X + Y). Never throws; read it with
 * `readOid` or `DerReader.oid()` first to reject malformed bodies. Arcs above 2^53 lose precision;
 * X.509 has none.
 */
export function oidToString(buf: Uint8Array, start = 0, end = buf.length): string {
  const len = end - start;
  // Fast path: the X.500 attribute types (2.5.4.n) and certificate extensions (2.5.29.n) are most
  // of the OIDs in a certificate, and their encodings are three bytes: 0x55, 0x04|0x1d, n < 128.
  if (len === 3 && buf[start] === 0x55 && buf[start + 2]! < 0x80) {
    const arc = buf[start + 1];
    if (arc === 0x04) return X500_ATTRIBUTE_OIDS[buf[start + 2]!]!;
    if (arc === 0x1d) return X509_EXTENSION_OIDS[buf[start + 2]!]!;
  }
  if (len > 0) {
    const bucket = KNOWN_OIDS[oidBucket(len, buf[end - 1]!)]!;
    for (let k = 0; k < bucket.length; k++) {
      const { body, dotted } = bucket[k]!;
      if (body.length !== len) continue;
      let i = 0;
      while (i < len && body[i] === buf[start + i]) i++;
      if (i === len) return dotted;
    }
  }
  let s = '';
  let v = 0;
  let first = true;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (first) {
        const x = v < 40 ? 0 : v < 80 ? 1 : 2;
        s = `${x}.${v - x * 40}`;
        first = false;
      } else {
        s += `.${v}`;
      }
      v = 0;
    }
  }
  return s;
}

/** True when `buf[aStart..aEnd)` and `buf[bStart..bEnd)` hold the same bytes. */
export function sameBytes(buf: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  const n = aEnd - aStart;
  if (n !== bEnd - bStart) return false;
  for (let i = 0; i < n; i++) if (buf[aStart + i] !== buf[bStart + i]) return false;
  return true;
}

function d2(buf: Uint8Array, i: number): number {
  return (buf[i]! - 0x30) * 10 + (buf[i + 1]! - 0x30);
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
