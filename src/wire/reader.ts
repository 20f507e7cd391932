import { DecodeError, type DecodeErrorCode } from './errors.js';

/** Width in bytes of a length prefix. */
export type PrefixWidth = 1 | 2 | 3 | 4;

/**
 * A bounds-checked cursor over a `Uint8Array`.
 *
 * Every read goes through `take(n)`, the single bounds check. `sub()` hands back a child reader over
 * exactly the length-prefixed bytes, so an inner parser can never read into its parent; `end()`
 * asserts that a reader was used up. Offsets in errors are absolute (children carry their base) and
 * paths name the field (`ClientHello/extensions/key_share`).
 *
 * Byte reads return `subarray` views: parsed messages alias their input. Copy once, at the boundary
 * where bytes arrive (socket, file), never here.
 *
 * Invariant: `0 <= pos <= limit <= buf.length`.
 */
export class Reader {
  private pos: number;
  private readonly limit: number;
  /** The path, or null until asked for (children join their parent's path lazily). */
  private pathText: string | null;
  /** For a lazy path: the parent reader and this reader's field name. */
  private parent: Reader | null = null;
  private field = '';
  /** For a lazy path whose field name costs a lookup: the name is `fieldOf(fieldKey)`, made when asked for. */
  private fieldOf: ((key: number) => string) | null = null;
  private fieldKey = 0;

  /**
   * @param buf   the bytes (shared, never copied)
   * @param path  field path of this reader, for errors
   * @param base  absolute offset of `buf[0]` in the outermost input
   */
  constructor(
    private readonly buf: Uint8Array,
    path = '',
    private readonly base = 0,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.start = start;
    this.limit = end;
    this.pathText = path;
  }

  /** Where this reader began, as an index into `buf`. */
  private readonly start: number;

  /** Returns a view of every byte this reader covers, read or not (for keeping a field raw). */
  whole(): Uint8Array {
    return this.buf.subarray(this.start, this.limit);
  }

  /**
   * Field path of this reader (`ClientHello/extensions/key_share`). A child's path is joined only
   * when asked for: errors need it, the hot path never does.
   */
  get path(): string {
    if (this.pathText === null)
      this.pathText = joinPath(this.parent!.path, this.fieldOf === null ? this.field : this.fieldOf(this.fieldKey));
    return this.pathText;
  }

  /**
   * Returns a child over `buf[start, end)` of this reader's own buffer, whose path is this reader's
   * plus `field`: a range found by an earlier walk (a lazy decoder's frame), read now. Throws
   * RangeError (a bug, not bad input) when the range is not inside this reader.
   */
  childAt(start: number, end: number, field: string): Reader {
    if (!(this.start <= start && start <= end && end <= this.limit))
      throw new RangeError(`range [${start}, ${end}) is outside [${this.start}, ${this.limit})`);
    return Reader.lazyChild(this, field, this.buf, this.base, start, end);
  }

  /** `childAt(start, end, fieldOf(key))`, the name made only when an error needs it (see `subNamedLater`). */
  childAtNamedLater(start: number, end: number, fieldOf: (key: number) => string, key: number): Reader {
    const r = this.childAt(start, end, '');
    r.fieldOf = fieldOf;
    r.fieldKey = key;
    return r;
  }

  /** Index in this reader's buffer of the next unread byte (for `childAt`). */
  get index(): number {
    return this.pos;
  }

  /** Returns a reader over `buf` (its own bytes, at absolute offset `base`) whose path is this reader's plus `field`. */
  childOver(buf: Uint8Array, field: string, base: number): Reader {
    return Reader.lazyChild(this, field, buf, base, 0, buf.length);
  }

  private static lazyChild(
    parent: Reader,
    field: string,
    buf: Uint8Array,
    base: number,
    start: number,
    end: number,
  ): Reader {
    const r = new Reader(buf, '', base, start, end);
    r.pathText = null;
    r.parent = parent;
    r.field = field;
    return r;
  }

  /** Absolute offset of the next unread byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Number of unread bytes. */
  get left(): number {
    return this.limit - this.pos;
  }

  /** True when unread bytes remain. */
  get anyLeft(): boolean {
    return this.pos < this.limit;
  }

  /** Throws a `DecodeError` at the current offset, with this reader's path (plus `field`). */
  fail(code: DecodeErrorCode, message: string, field?: string, at = this.offset): never {
    throw new DecodeError(code, message, at, field ? joinPath(this.path, field) : this.path);
  }

  /** Returns the index of the first byte of the next `n` bytes and advances; the one bounds check. */
  private take(n: number, field: string | undefined): number {
    if (n > this.limit - this.pos) {
      this.fail('truncated', `needs ${n} byte${n === 1 ? '' : 's'}, ${this.limit - this.pos} left`, field);
    }
    const p = this.pos;
    this.pos = p + n;
    return p;
  }

  u8(field?: string): number {
    return this.buf[this.take(1, field)]!;
  }

  u16(field?: string): number {
    const p = this.take(2, field);
    return (this.buf[p]! << 8) | this.buf[p + 1]!;
  }

  u24(field?: string): number {
    const p = this.take(3, field);
    return (this.buf[p]! << 16) | (this.buf[p + 1]! << 8) | this.buf[p + 2]!;
  }

  u32(field?: string): number {
    const p = this.take(4, field);
    return ((this.buf[p]! << 24) >>> 0) + ((this.buf[p + 1]! << 16) | (this.buf[p + 2]! << 8) | this.buf[p + 3]!);
  }

  /** Reads an unsigned big-endian integer of `width` bytes. */
  uint(width: PrefixWidth, field?: string): number {
    switch (width) {
      case 1:
        return this.u8(field);
      case 2:
        return this.u16(field);
      case 3:
        return this.u24(field);
      case 4:
        return this.u32(field);
    }
  }

  /** Returns a view of the next `n` bytes. */
  bytes(n: number, field?: string): Uint8Array {
    const p = this.take(n, field);
    return this.buf.subarray(p, p + n);
  }

  /** Returns a view of every unread byte and consumes them. */
  rest(): Uint8Array {
    const p = this.pos;
    this.pos = this.limit;
    return this.buf.subarray(p, this.limit);
  }

  /** Returns a view of the next `n` bytes without consuming them (`n` clamped to what is left). */
  peek(n: number): Uint8Array {
    return this.buf.subarray(this.pos, Math.min(this.limit, this.pos + n));
  }

  /** Skips `n` bytes. */
  skip(n: number, field?: string): void {
    this.take(n, field);
  }

  /**
   * Reads a length prefix of `width` bytes and returns a child reader over exactly that many bytes.
   * `min`/`max` are the RFC's `<min..max>` bounds, checked before the child is made.
   */
  sub(width: PrefixWidth, field: string, bounds?: { min?: number; max?: number }): Reader {
    return this.fixed(this.prefix(width, field, bounds), field);
  }

  /** Reads a `width`-byte length prefix, checks it against `bounds` and what is left, and returns it. */
  private prefix(width: PrefixWidth, field: string, bounds: { min?: number; max?: number } | undefined): number {
    const at = this.offset;
    const n = this.uint(width, field);
    if (bounds) {
      if (bounds.min !== undefined && n < bounds.min) {
        this.fail('length-out-of-range', `length ${n} below minimum ${bounds.min}`, field, at);
      }
      if (bounds.max !== undefined && n > bounds.max) {
        this.fail('length-out-of-range', `length ${n} above maximum ${bounds.max}`, field, at);
      }
    }
    if (n > this.left) {
      this.fail(
        'truncated',
        `length ${n} runs past the ${this.left} byte${this.left === 1 ? '' : 's'} left`,
        field,
        at,
      );
    }
    return n;
  }

  /** Returns a child reader over the next `n` bytes (no prefix). */
  fixed(n: number, field: string): Reader {
    const p = this.take(n, field);
    return Reader.lazyChild(this, field, this.buf, this.base, p, p + n);
  }

  /**
   * Returns the next length-prefixed byte string (a view). Same checks and errors as
   * `sub(...).rest()`, without making the child reader and its path string: vec is on the hello hot
   * path (session id, names, key shares), and skipping them took about 10% off `parseClientHello`
   * (A/B of two builds in one process, both orders; BENCHMARKS.md).
   */
  vec(width: PrefixWidth, field: string, bounds?: { min?: number; max?: number }): Uint8Array {
    const n = this.prefix(width, field, bounds);
    const p = this.pos;
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }

  /**
   * Returns the next length-prefixed list of u16 values (cipher suites, groups, signature schemes).
   * Same checks and errors as `vec()`, then `length-out-of-range` for an odd length; the values are
   * read straight from the buffer, with no view made (a `subarray` costs 40–100 ns in V8, more than
   * reading a typical list).
   */
  u16List(width: PrefixWidth, field: string, bounds?: { min?: number; max?: number }): number[] {
    const at = this.offset;
    const n = this.prefix(width, field, bounds);
    if (n % 2 !== 0) this.fail('length-out-of-range', `odd length ${n} for a list of u16`, field, at);
    const b = this.buf;
    let p = this.pos;
    this.pos = p + n;
    const out: number[] = new Array(n >> 1);
    for (let i = 0; i < out.length; i++, p += 2) out[i] = (b[p]! << 8) | b[p + 1]!;
    return out;
  }

  /** Returns the next length-prefixed list of u8 values; same checks and errors as `vec()`, no view made. */
  u8List(width: PrefixWidth, field: string, bounds?: { min?: number; max?: number }): number[] {
    const n = this.prefix(width, field, bounds);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + n;
    const out: number[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = b[p + i]!;
    return out;
  }

  /** Returns the next length-prefixed byte string as latin1 text (one char per byte); same checks and errors as `vec()`. */
  latin1(width: PrefixWidth, field: string, bounds?: { min?: number; max?: number }): string {
    const n = this.prefix(width, field, bounds);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + n;
    // Names are short (SNI, ALPN): a char-code loop beats a view and a decoder.
    if (n > 256) return Buffer.from(b.buffer, b.byteOffset + p, n).toString('latin1');
    let s = '';
    for (let i = p; i < p + n; i++) s += String.fromCharCode(b[i]!);
    return s;
  }

  /**
   * `sub(width, fieldOf(key))` for a field whose name costs something to make (a registry lookup
   * per extension): the name is made only when an error needs it, so errors are the same.
   */
  subNamedLater(width: PrefixWidth, fieldOf: (key: number) => string, key: number): Reader {
    const n = this.skipVecNamedLater(width, fieldOf, key);
    const r = Reader.lazyChild(this, '', this.buf, this.base, this.pos - n, this.pos);
    r.fieldOf = fieldOf;
    r.fieldKey = key;
    return r;
  }

  /** Skips the next length-prefixed byte string and returns its length; same checks and errors as `vec()`, no view made. */
  skipVec(width: PrefixWidth, field: string, bounds?: { min?: number; max?: number }): number {
    const n = this.prefix(width, field, bounds);
    this.pos += n;
    return n;
  }

  /**
   * `skipVec(width, fieldOf(key))` for a field whose name costs something to make (a registry
   * lookup): the name is made only when the prefix fails, so the error is the same.
   */
  skipVecNamedLater(width: PrefixWidth, fieldOf: (key: number) => string, key: number): number {
    const p = this.pos;
    if (this.limit - p >= width) {
      let n = 0;
      for (let i = 0; i < width; i++) n = n * 256 + this.buf[p + i]!;
      if (n <= this.limit - p - width) {
        this.pos = p + width + n;
        return n;
      }
    }
    return this.skipVec(width, fieldOf(key));
  }

  /** Throws `trailing-data` unless every byte was consumed. */
  end(): void {
    if (this.pos !== this.limit) {
      this.fail('trailing-data', `${this.limit - this.pos} unread byte${this.limit - this.pos === 1 ? '' : 's'}`);
    }
  }
}

export function joinPath(parent: string, child: string): string {
  if (!child) return parent;
  return parent ? `${parent}/${child}` : child;
}
