/**
 * DER reading for X.509: returns views of TLVs through `DerReader`, decodes OIDs and times, and throws
 * `DecodeError` on anything DER forbids (indefinite or non-minimal lengths, truncation, deep nesting).
 */
import { DecodeError, type DecodeErrorCode } from '../wire/errors.js';
import { joinPath } from '../wire/reader.js';

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
   * Reads the next TLV, whatever its tag: the single bounds check of this reader. Throws
   * `truncated`, `too-large`, or `bad-value` for encodings DER forbids.
   */
  any(field: string): Tlv {
    const buf = this.buf;
    const start = this.pos;
    const limit = this.limit;
    if (start >= limit) this.fail('truncated', 'needs a tag, 0 bytes left', field);
    const tag = buf[start]!;
    // X.690, Section 8.1.2.4: tag number 31 announces the high-tag-number form.
    if ((tag & 0x1f) === 0x1f) this.fail('bad-value', `high-tag-number identifier 0x${hex2(tag)} is not used in X.509`, field);
    if (start + 1 >= limit) this.fail('truncated', 'needs a length, 0 bytes left', field, start + 1);
    const first = buf[start + 1]!;
    let p = start + 2;
    let len: number;
    if (first < 0x80) {
      len = first;
    } else if (first === 0x80) {
      // X.690, Section 10.1: "The definite form of length encoding shall be used."
      this.fail('bad-value', 'indefinite length is not DER', field, start + 1);
    } else {
      const n = first & 0x7f;
      if (n > MAX_LENGTH_OCTETS) this.fail('too-large', `length uses ${n} octets (max ${MAX_LENGTH_OCTETS})`, field, start + 1);
      if (n > limit - p) this.fail('truncated', `needs ${n} length octets, ${limit - p} left`, field, p);
      if (buf[p] === 0) this.fail('bad-value', 'long-form length has a leading zero octet (not DER)', field, start + 1);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
      // X.690, Section 10.1: lengths below 128 use the short form.
      if (len < 0x80) this.fail('bad-value', `length ${len} in long form (not DER)`, field, start + 1);
      p += n;
    }
    if (len > limit - p) this.fail('truncated', `content needs ${len} bytes, ${limit - p} left`, field, p);
    this.pos = p + len;
    return { tag, start, valueStart: p, end: p + len };
  }

  /** Reads the next TLV and throws `bad-value` unless its identifier octet is `tag`. */
  expect(tag: number, field: string): Tlv {
    const t = this.any(field);
    if (t.tag !== tag) this.fail('bad-value', `expected tag 0x${hex2(tag)}, found 0x${hex2(t.tag)}`, field, t.start);
    return t;
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
    const t = this.expect(Tag.OBJECT_IDENTIFIER, field);
    const buf = this.buf;
    if (t.end === t.valueStart) this.fail('bad-value', 'empty OBJECT IDENTIFIER', field, t.start);
    if (buf[t.end - 1]! & 0x80) this.fail('bad-value', 'OBJECT IDENTIFIER ends inside a subidentifier', field, t.end - 1);
    let startOfSub = true;
    for (let i = t.valueStart; i < t.end; i++) {
      const b = buf[i]!;
      if (startOfSub && b === 0x80) this.fail('bad-value', 'OBJECT IDENTIFIER subidentifier is not minimal', field, i);
      startOfSub = (b & 0x80) === 0;
    }
    return t;
  }

  /**
   * Reads a Time (UTCTime or GeneralizedTime) and returns its instant. Only the forms RFC 5280,
   * Section 4.1.2.5 allows are accepted (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSSZ`; UTCTime years 50–99 are
   * 19xx); anything else throws `bad-value`.
   */
  time(field: string): Date {
    const t = this.any(field);
    const buf = this.buf;
    const generalized = t.tag === Tag.GeneralizedTime;
    const want = generalized ? 15 : 13;
    const p = t.valueStart;
    if (t.tag !== Tag.UTCTime && !generalized) this.fail('bad-value', `expected UTCTime or GeneralizedTime, found tag 0x${hex2(t.tag)}`, field, t.start);
    if (t.end - p !== want || buf[p + want - 1] !== 0x5a /* Z */) {
      this.fail('bad-value', `time is not ${generalized ? 'YYYYMMDDHHMMSSZ' : 'YYMMDDHHMMSSZ'} (RFC 5280, Section 4.1.2.5)`, field, t.start);
    }
    for (let i = p; i < p + want - 1; i++) {
      const c = buf[i]!;
      if (c < 0x30 || c > 0x39) this.fail('bad-value', 'time has a non-digit', field, i);
    }
    let i = p;
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
      this.fail('bad-value', 'time field out of range', field, t.start);
    }
    const d = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    // Date.UTC maps years 0–99 to 1900–1999; set the full year explicitly.
    if (year < 100) d.setUTCFullYear(year);
    return d;
  }

  /** Throws `trailing-data` unless every byte was consumed. */
  end(): void {
    if (this.pos !== this.limit) {
      const n = this.limit - this.pos;
      this.fail('trailing-data', `${n} unread byte${n === 1 ? '' : 's'}`);
    }
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

const oidCache = new Map<string, string>();
/** Cap on memoised OIDs: the names we look up are few, but attacker-chosen OIDs must not grow the cache. */
const MAX_OID_CACHE = 512;

/**
 * Returns the dotted form of the OBJECT IDENTIFIER body `buf[start..end)` (X.690, Section 8.19.4:
 * the first subidentifier packs the first two arcs as 40·X + Y). Never throws; read it with `DerReader.oid()` first
 * to reject malformed bodies. Arcs above 2^53 lose precision; X.509 has none.
 */
const X500_ATTRIBUTE_OIDS: readonly string[] = Array.from({ length: 128 }, (_, n) => `2.5.4.${n}`);
const X509_EXTENSION_OIDS: readonly string[] = Array.from({ length: 128 }, (_, n) => `2.5.29.${n}`);

export function oidToString(buf: Uint8Array, start = 0, end = buf.length): string {
  // Fast path: the X.500 attribute types (2.5.4.n) and certificate extensions (2.5.29.n) are most
  // of the OIDs in a certificate, and their encodings are three bytes: 0x55, 0x04|0x1d, n < 128.
  if (end - start === 3 && buf[start] === 0x55 && buf[start + 2]! < 0x80) {
    const arc = buf[start + 1];
    if (arc === 0x04) return X500_ATTRIBUTE_OIDS[buf[start + 2]!]!;
    if (arc === 0x1d) return X509_EXTENSION_OIDS[buf[start + 2]!]!;
  }
  let key = '';
  for (let i = start; i < end; i++) key += String.fromCharCode(buf[i]!);
  const hit = oidCache.get(key);
  if (hit !== undefined) return hit;
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
  if (oidCache.size < MAX_OID_CACHE) oidCache.set(key, s);
  return s;
}

/** True when `buf[a.start..a.end)` and `buf[b.start..b.end)` hold the same bytes. */
export function sameRange(buf: Uint8Array, a: Tlv, b: Tlv): boolean {
  const n = a.end - a.start;
  if (n !== b.end - b.start) return false;
  for (let i = 0; i < n; i++) if (buf[a.start + i] !== buf[b.start + i]) return false;
  return true;
}

function d2(buf: Uint8Array, i: number): number {
  return (buf[i]! - 0x30) * 10 + (buf[i + 1]! - 0x30);
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
