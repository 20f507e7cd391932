/**
 * Issue 8: no input may take more than linear time. Each check grows a worst-case input 10× and
 * compares the work, as a bounded-work check rather than a timing assert that could flake:
 *
 * - where the work is copying or cursor steps, it is counted exactly (bytes copied through
 *   Uint8Array `set`/`slice`, calls to the Reader's one bounds check) and must stay a small
 *   constant per input byte;
 * - where the work is in regular expressions and string scans, the best of three runs at 10× the
 *   size must take less than 30× the CPU time (process.cpuUsage, so a busy machine does not skew
 *   it): linear work gives ~10×, quadratic ~100×.
 *
 * Regressions pinned here (issue 8): the record deframer and the handshake assembler copied every
 * held byte on each push (1 MiB of one-byte handshake records cost ~15 s), and pemToDer's lazy regular
 * expression rescanned the text for every unterminated BEGIN line.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Reader } from '../../src/wire/reader.js';
import { createHandshakeAssembler, createRecordDeframer } from '../../src/tls/deframer.js';
import { decodeStream } from '../../src/tls/stream.js';
import { encodeRecords } from '../../src/tls/record.js';
import { parseKeyLog } from '../../src/tls/keylog.js';
import { pemToDer } from '../../src/x509/pem.js';
import { createCaptureParser } from '../../src/capture/pcap.js';
import { createReassembler } from '../../src/capture/tcp.js';
import { parseRegistryText, RegistryParseError } from '../../src/diagnose/registry.js';
import { loadHexFixture } from '../helpers/fixtures.js';
import { concat, ethernet, ipv4, pcapFile, tcp } from '../capture/build.js';

/** Linear work grows 10× for a 10× input; this allows 3× slack on top, far below quadratic's 100×. */
const MAX_GROWTH = 30;

// --- exact counters ---------------------------------------------------------------------------

// to wrap its methods for counting: the prototype typed as a writable record
const proto = Uint8Array.prototype as unknown as {
  set: (src: ArrayLike<number>, offset?: number) => void;
  slice: (start?: number, end?: number) => Uint8Array;
};
const originalSet = proto.set;
const originalSlice = proto.slice;
let copied = 0;

/** Counts the bytes copied through `Uint8Array.prototype.set` and `slice` while `fn` runs. */
function countCopies(fn: () => void): number {
  copied = 0;
  proto.set = function (this: Uint8Array, src: ArrayLike<number>, offset?: number) {
    copied += src.length;
    return originalSet.call(this, src, offset);
  };
  proto.slice = function (this: Uint8Array, start?: number, end?: number) {
    const out = originalSlice.call(this, start, end);
    copied += out.length;
    return out;
  };
  try {
    fn();
  } finally {
    proto.set = originalSet;
    proto.slice = originalSlice;
  }
  return copied;
}

afterEach(() => {
  proto.set = originalSet;
  proto.slice = originalSlice;
});

/** Counts the Reader's bounds checks (`take`, through which every read goes) while `fn` runs. */
function countReads(fn: () => void): number {
  // Reader's private `take`, wrapped to count reads
  const r = Reader.prototype as unknown as { take: (n: number, field?: string) => number };
  const take = r.take;
  let n = 0;
  r.take = function (this: Reader, k: number, field?: string) {
    n++;
    return take.call(this, k, field);
  };
  try {
    fn();
  } finally {
    r.take = take;
  }
  return n;
}

// --- timing with a generous multiple ----------------------------------------------------------

/** CPU time of this process in ms: unlike wall time, other processes on a busy machine do not inflate it. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Returns the CPU ms of one run of `fn`, repeating it until the total is long enough to measure. */
function cpuPerRun(fn: () => void, minMs = 20): number {
  const t0 = cpuMs();
  let reps = 0;
  do {
    fn();
    reps++;
  } while (cpuMs() - t0 < minMs);
  return (cpuMs() - t0) / reps;
}

/** Returns how much more CPU `run` takes on `make(10 * n)` than on `make(n)` (best of 3 each, interleaved). */
function growth<T>(make: (n: number) => T, run: (input: T) => void, n: number): number {
  const small = make(n);
  const big = make(10 * n);
  run(small); // warm up the JIT on the same shapes
  let s = Infinity;
  let b = Infinity;
  for (let i = 0; i < 3; i++) {
    s = Math.min(
      s,
      cpuPerRun(() => run(small)),
    );
    b = Math.min(
      b,
      cpuPerRun(() => run(big)),
    );
  }
  return b / s;
}

describe('bounded work per input byte, counted exactly', () => {
  it('copies each byte of a record a bounded number of times when it arrives one byte per push', () => {
    const perByte = (records: number) => {
      const bytes = encodeRecords(23, 0x0303, new Uint8Array(records * 16384), 16384);
      const d = createRecordDeframer();
      let out = 0;
      const c = countCopies(() => {
        for (let i = 0; i < bytes.length; i++) out += d.push(bytes.subarray(i, i + 1)).length;
      });
      expect(out).toBe(records);
      return c / bytes.length;
    };
    const a = perByte(2);
    const b = perByte(20);
    expect(a).toBeLessThan(4);
    expect(b).toBeLessThan(4);
  });

  it('copies each byte of a handshake message a bounded number of times when it arrives one byte per record', () => {
    const perByte = (size: number) => {
      const msg = new Uint8Array(4 + size);
      msg.set([11, size >> 16, (size >> 8) & 0xff, size & 0xff]);
      const a = createHandshakeAssembler();
      let out = 0;
      const c = countCopies(() => {
        for (let i = 0; i < msg.length; i++) out += a.push(msg.subarray(i, i + 1), 5 + 6 * i).length;
      });
      expect(out).toBe(1);
      return c / msg.length;
    };
    expect(perByte(20_000)).toBeLessThan(4);
    expect(perByte(200_000)).toBeLessThan(4);
  });

  it('keeps the offset of a message that arrived one byte per record exact', () => {
    const msg = Uint8Array.from([14, 0, 0, 2, 0xaa, 0xbb]);
    const a = createHandshakeAssembler();
    const got = [...msg].flatMap((b, i) => a.push(Uint8Array.of(b), 1000 + 6 * i));
    expect(got.map((m) => m.offset)).toEqual([1000]);
    expect([...got[0]!.raw]).toEqual([...msg]);
  });

  it('makes a constant number of reads per record in decodeStream, however many records there are', () => {
    const hello = loadHexFixture('hello/openssl-s_client-tls13.hex');
    const reads = (k: number) => countReads(() => decodeStream(concat(...Array.from({ length: k }, () => hello))));
    const small = reads(50);
    const big = reads(500);
    expect(big / small).toBeLessThan(10 * 1.1);
  });
});

describe('bounded work per input byte, by time at 10× the size', () => {
  it('pemToDer: a text of BEGIN lines without END', () => {
    expect(
      growth(
        (n) => '-----BEGIN CERTIFICATE-----\n'.repeat(n),
        (t) => pemToDer(t),
        4000,
      ),
    ).toBeLessThan(MAX_GROWTH);
  });

  it('pemToDer: BEGIN lines of both labels, one END at the very end', () => {
    const make = (n: number) =>
      `${'-----BEGIN X509 CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n'.repeat(n)}-----END CERTIFICATE-----\n`;
    expect(growth(make, (t) => expect(() => pemToDer(t)).toThrow(), 2000)).toBeLessThan(MAX_GROWTH);
  });

  it('pemToDer: many small blocks', () => {
    expect(
      growth(
        (n) => '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n'.repeat(n),
        (t) => pemToDer(t),
        800,
      ),
    ).toBeLessThan(MAX_GROWTH);
  });

  it('parseKeyLog: many lines, and one very long line', () => {
    const line = `CLIENT_RANDOM ${'00'.repeat(32)} ${'ab'.repeat(48)}\n`;
    expect(
      growth(
        (n) => line.repeat(n),
        (t) => parseKeyLog(t),
        2000,
      ),
    ).toBeLessThan(MAX_GROWTH);
    expect(
      growth(
        (n) => `CLIENT_RANDOM ${'0'.repeat(n)} ${' '.repeat(n)}x`,
        (t) => parseKeyLog(t),
        50_000,
      ),
    ).toBeLessThan(MAX_GROWTH);
  });

  const reg = (body: string) => new TextEncoder().encode(`Windows Registry Editor Version 5.00\r\n\r\n${body}`);
  const tryParse = (b: Uint8Array) => {
    try {
      parseRegistryText(b);
    } catch (e) {
      if (!(e instanceof RegistryParseError)) throw e;
    }
  };

  it('parseRegistryText: many keys and values', () => {
    const make = (n: number) =>
      reg(
        Array.from({ length: n }, (_, i) => `[HKEY_LOCAL_MACHINE\\SOFTWARE\\K${i}]\r\n"V"=dword:00000001\r\n`).join(''),
      );
    expect(growth(make, tryParse, 500)).toBeLessThan(MAX_GROWTH);
  });

  it('parseRegistryText: one hex value continued over many lines', () => {
    const make = (n: number) =>
      reg(`[HKEY_LOCAL_MACHINE\\SOFTWARE\\K]\r\n"V"=hex:${'00,01,02,03,\\\r\n  '.repeat(n)}04\r\n`);
    expect(growth(make, tryParse, 1000)).toBeLessThan(MAX_GROWTH);
  });

  it('parseRegistryText: one very long line of quotes and brackets (the error path)', () => {
    expect(growth((n) => reg(`[${'['.repeat(n)}\r\n`), tryParse, 200_000)).toBeLessThan(MAX_GROWTH);
    expect(growth((n) => reg(`[HKEY_LOCAL_MACHINE\\X]\r\n"${'\\"'.repeat(n)}`), tryParse, 50_000)).toBeLessThan(
      MAX_GROWTH,
    );
  });

  it('createCaptureParser: a capture fed one byte per chunk', () => {
    const frame = ethernet(
      0x0800,
      ipv4(
        { src: '10.0.0.1', dst: '10.0.0.2', protocol: 6 },
        tcp({ sport: 1, dport: 2, seq: 0, payload: new Uint8Array(100) }),
      ),
    );
    const make = (n: number) =>
      pcapFile({
        le: true,
        nano: false,
        linkType: 1,
        records: Array.from({ length: n }, (_, i) => ({ sec: i, frac: 0, data: frame })),
      });
    const run = (file: Uint8Array) => {
      const p = createCaptureParser(() => {});
      for (let i = 0; i < file.length; i++) p.feed(file.subarray(i, i + 1));
      p.end();
    };
    expect(growth(make, run, 100)).toBeLessThan(MAX_GROWTH);
  });

  it('createReassembler: segments arriving in reverse order', () => {
    const make = (n: number) => n;
    const run = (n: number) => {
      const re = createReassembler({ onData() {}, onGap() {}, onEnd() {} });
      const base = {
        src: '10.0.0.1',
        dst: '10.0.0.2',
        srcPort: 40000,
        dstPort: 443,
        ack: 0,
        window: 0,
        ipVersion: 4 as const,
      };
      const flags = { syn: false, fin: false, rst: false, ack: true, psh: false };
      re.push({
        ...base,
        seq: 0,
        flags: { ...flags, syn: true },
        payload: new Uint8Array(0),
        payloadLength: 0,
        timestampUs: 0,
        frame: 1,
      });
      const payload = new Uint8Array(10);
      for (let i = n; i >= 0; i--)
        re.push({ ...base, seq: 1 + 10 * i, flags, payload, payloadLength: 10, timestampUs: n - i, frame: n - i + 2 });
      re.finish();
    };
    expect(growth(make, run, 400)).toBeLessThan(MAX_GROWTH);
  });
});
