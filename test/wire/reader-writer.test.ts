import { describe, expect, it } from 'vitest';
import { Reader } from '../../src/wire/reader.js';
import { Writer, encodeWith } from '../../src/wire/writer.js';
import { DecodeError, EncodeError } from '../../src/wire/errors.js';
import { fromHex, toHex } from '../../src/wire/hex.js';

function catchDecode(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DecodeError) return e;
    throw e;
  }
  throw new Error('expected a DecodeError');
}

describe('Reader', () => {
  it('reads big-endian integers of every width', () => {
    const r = new Reader(fromHex('01 0203 040506 0708090a ffffffff'));
    expect([r.u8(), r.u16(), r.u24(), r.u32(), r.u32()]).toEqual([1, 0x0203, 0x040506, 0x0708090a, 0xffffffff]);
    r.end();
  });

  it('rejects a read past the end with truncated, the absolute offset and the field path', () => {
    const r = new Reader(fromHex('aa bb 00 02 01 02'), 'Msg', 100);
    r.u16('head');
    const child = r.sub(2, 'body');
    child.u8();
    const e = catchDecode(() => child.bytes(4, 'item'));
    expect(e.code).toBe('truncated');
    expect(e.offset).toBe(100 + 4 + 1);
    expect(e.path).toBe('Msg/body/item');
  });

  it('keeps a child reader inside its length prefix', () => {
    // body length 1, then two more bytes belong to the parent.
    const r = new Reader(fromHex('0001 ff 1234'));
    const child = r.sub(2, 'body');
    expect(child.u8()).toBe(0xff);
    expect(catchDecode(() => child.u8()).code).toBe('truncated');
    expect(r.u16()).toBe(0x1234);
  });

  it('rejects a length prefix that runs past its parent', () => {
    const r = new Reader(fromHex('0005 0102'));
    const e = catchDecode(() => r.sub(2, 'list'));
    expect(e.code).toBe('truncated');
    expect(e.path).toBe('list');
  });

  it('rejects trailing bytes at end()', () => {
    const r = new Reader(fromHex('01 02'), 'X');
    r.u8();
    const e = catchDecode(() => r.end());
    expect(e.code).toBe('trailing-data');
    expect(e.offset).toBe(1);
  });

  it('checks RFC <min..max> bounds before making the child', () => {
    expect(catchDecode(() => new Reader(fromHex('00')).sub(1, 'v', { min: 1 })).code).toBe('length-out-of-range');
    expect(catchDecode(() => new Reader(fromHex('03 010203')).sub(1, 'v', { max: 2 })).code).toBe(
      'length-out-of-range',
    );
  });

  it('returns views that alias the input instead of copies', () => {
    const input = fromHex('00 02 aa bb');
    const v = new Reader(input).vec(2, 'x');
    expect(v.buffer).toBe(input.buffer);
    expect(toHex(v)).toBe('aabb');
  });
});

describe('Writer', () => {
  it('back-patches nested length prefixes', () => {
    const bytes = encodeWith((w) => {
      w.u8(1).prefixed(3, (w) => {
        w.u16(0xabcd).prefixed(1, (w) => w.bytes(fromHex('0102')));
      });
    });
    expect(toHex(bytes)).toBe('01' + '000005' + 'abcd' + '02' + '0102');
  });

  it('fails instead of truncating a child longer than its prefix', () => {
    const w = new Writer();
    expect(() => w.prefixed(1, (w) => w.bytes(new Uint8Array(256)))).toThrow(EncodeError);
    expect(() => w.prefixed(1, (w) => w.bytes(new Uint8Array(256)))).toThrow(/exceeds 1-byte length prefix/);
  });

  it('rejects values that do not fit their width', () => {
    expect(() => new Writer().u8(256)).toThrow(EncodeError);
    expect(() => new Writer().u16(-1)).toThrow(EncodeError);
    expect(() => new Writer().u24(0x1000000)).toThrow(EncodeError);
  });

  it('grows past its initial capacity', () => {
    const w = new Writer(2);
    for (let i = 0; i < 1000; i++) w.u16(i);
    const out = w.finish();
    expect(out.length).toBe(2000);
    const r = new Reader(out);
    for (let i = 0; i < 1000; i++) expect(r.u16()).toBe(i);
  });

  it('round-trips every integer width through Reader', () => {
    const values = [0, 1, 0x7f, 0x80, 0xff];
    const bytes = encodeWith((w) => {
      for (const v of values)
        w.u8(v)
          .u16(v * 0x101)
          .u24(v * 0x10101)
          .u32(v * 0x1010101);
    });
    const r = new Reader(bytes);
    for (const v of values)
      expect([r.u8(), r.u16(), r.u24(), r.u32()]).toEqual([v, v * 0x101, v * 0x10101, v * 0x1010101]);
    r.end();
  });
});

describe('fromHex', () => {
  it('ignores whitespace, colons and # comments', () => {
    expect(toHex(fromHex('# header\n16 03:01 # record\n00'))).toBe('16030100');
  });
  it('rejects odd digit counts and non-hex characters', () => {
    expect(() => fromHex('abc')).toThrow(TypeError);
    expect(() => fromHex('zz')).toThrow(TypeError);
  });
});

describe('DecodeError', () => {
  it('carries where the input broke instead of a stack, and leaves the stack limit as it was', () => {
    const before = Error.stackTraceLimit;
    const e = catchDecode(() => new Reader(fromHex('0102'), 'TCP').u32());
    expect(Error.stackTraceLimit).toBe(before);
    expect(e).toBeInstanceOf(Error);
    expect([e.code, e.offset, e.path]).toEqual(['truncated', 0, 'TCP']);
    // Only the header line: no "    at …" frames (a throw per malformed packet stays cheap).
    expect(e.stack).toBe(`DecodeError: ${e.message}`);
    // Other errors still capture theirs.
    expect(new Error('x').stack).toMatch(/\n\s+at /);
  });
});
