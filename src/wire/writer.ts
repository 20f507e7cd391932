import { EncodeError } from './errors.js';
import type { PrefixWidth } from './reader.js';

const MAX_FOR_WIDTH: Record<PrefixWidth, number> = { 1: 0xff, 2: 0xffff, 3: 0xffffff, 4: 0xffffffff };

/**
 * A growable byte buffer whose length prefixes are written by callback and back-patched.
 *
 * `w.prefixed(2, w => …)` reserves the prefix, runs the callback, then fills in the real length,
 * throwing `EncodeError('length-overflow')` instead of truncating. No caller ever computes a length.
 * The reserved bytes hold 0xff until patched, so a buffer read early cannot parse as a shorter
 * structure (the idea behind rustls's LengthPrefixedBuffer).
 */
export class Writer {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.len;
  }

  private ensure(n: number): number {
    const need = this.len + n;
    if (need > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    const p = this.len;
    this.len = need;
    return p;
  }

  private checkRange(v: number, max: number, what: string): void {
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw new EncodeError('value-out-of-range', `${what} value ${v} out of range 0..${max}`);
    }
  }

  u8(v: number): this {
    this.checkRange(v, 0xff, 'u8');
    this.buf[this.ensure(1)] = v;
    return this;
  }

  u16(v: number): this {
    this.checkRange(v, 0xffff, 'u16');
    const p = this.ensure(2);
    this.buf[p] = v >>> 8;
    this.buf[p + 1] = v & 0xff;
    return this;
  }

  u24(v: number): this {
    this.checkRange(v, 0xffffff, 'u24');
    const p = this.ensure(3);
    this.buf[p] = v >>> 16;
    this.buf[p + 1] = (v >>> 8) & 0xff;
    this.buf[p + 2] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.checkRange(v, 0xffffffff, 'u32');
    const p = this.ensure(4);
    this.buf[p] = v >>> 24;
    this.buf[p + 1] = (v >>> 16) & 0xff;
    this.buf[p + 2] = (v >>> 8) & 0xff;
    this.buf[p + 3] = v & 0xff;
    return this;
  }

  uint(width: PrefixWidth, v: number): this {
    switch (width) {
      case 1:
        return this.u8(v);
      case 2:
        return this.u16(v);
      case 3:
        return this.u24(v);
      case 4:
        return this.u32(v);
    }
  }

  bytes(b: Uint8Array): this {
    const p = this.ensure(b.byteLength);
    this.buf.set(b, p);
    return this;
  }

  /** Writes `fn`'s output behind a `width`-byte length prefix, back-patched once `fn` returns. */
  prefixed(width: PrefixWidth, fn: (w: this) => void): this {
    const at = this.ensure(width);
    this.buf.fill(0xff, at, at + width);
    fn(this);
    const n = this.len - at - width;
    const max = MAX_FOR_WIDTH[width];
    if (n > max) {
      throw new EncodeError('length-overflow', `pending child length ${n} exceeds ${width}-byte length prefix`);
    }
    for (let i = width - 1, v = n; i >= 0; i--, v = Math.floor(v / 256)) this.buf[at + i] = v & 0xff;
    return this;
  }

  /** Writes a length-prefixed byte string. */
  vec(width: PrefixWidth, b: Uint8Array): this {
    return this.prefixed(width, (w) => w.bytes(b));
  }

  /** Returns a copy of the bytes written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Runs `fn` on a fresh writer and returns its bytes. */
export function encodeWith(fn: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  fn(w);
  return w.finish();
}
