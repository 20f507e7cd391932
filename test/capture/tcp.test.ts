/**
 * createReassembler: TCP stream reassembly per flow and direction. Segments are built directly
 * (no capture file) from a known byte stream, so every expected byte is the input itself.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TcpSegment } from '../../src/capture/tcp-header.js';
import { createReassembler, reassembleCapture } from '../../src/capture/tcp.js';
import type { CloseReason, Direction, Flow, ReassemblerLimits, StreamEvents } from '../../src/capture/tcp.js';
import { toHex } from '../../src/wire/hex.js';
import { Rng } from '../helpers/random.js';
import { CORPUS_DIR, hasCorpus } from '../helpers/corpus.js';
import { corpusCaptures } from './sessions-tshark.js';
import { openCaptureFile } from '../../src/capture/source.js';
import { concat, epb, ethernet, idb, ipv4, ipv6, shb, tcp as tcpBytes, text } from './build.js';

const CLIENT = { addr: '192.0.2.10', port: 50123 };
const SERVER = { addr: '198.51.100.20', port: 443 };

let frameNo = 0;

/** A segment from one side; `seq` is the raw 32-bit sequence number. */
function seg(
  from: 'c' | 's',
  seq: number,
  o: { flags?: string; payload?: Uint8Array; ack?: number; payloadLength?: number; ts?: number } = {},
): TcpSegment {
  const [a, b] = from === 'c' ? [CLIENT, SERVER] : [SERVER, CLIENT];
  const f = o.flags ?? 'A';
  const payload = o.payload ?? new Uint8Array(0);
  frameNo++;
  return {
    src: a.addr,
    dst: b.addr,
    srcPort: a.port,
    dstPort: b.port,
    seq: seq >>> 0,
    ack: (o.ack ?? 0) >>> 0,
    flags: {
      syn: f.includes('S'),
      ack: f.includes('A'),
      fin: f.includes('F'),
      rst: f.includes('R'),
      psh: f.includes('P'),
    },
    window: 65535,
    payload,
    payloadLength: o.payloadLength ?? payload.length,
    timestampUs: o.ts ?? frameNo * 10,
    frame: frameNo,
    ipVersion: 4,
  };
}

/** Everything the reassembler reported, in order. */
interface Log {
  events: string[];
  /** Per flow id and direction: delivered bytes by offset, checked for contiguity. */
  streams: Map<string, { next: number; chunks: Uint8Array[] }>;
  gaps: { flow: number; dir: Direction; offset: number; length: number }[];
  ends: { flow: number; dir: Direction; how: string; ts: number; frame: number }[];
  closes: { flow: number; reason: CloseReason }[];
  flows: Flow[];
}

function recorder(limits?: Partial<ReassemblerLimits>): {
  r: ReturnType<typeof createReassembler>;
  log: Log;
  bytes: (flow: number, dir: Direction) => Uint8Array;
} {
  const log: Log = { events: [], streams: new Map(), gaps: [], ends: [], closes: [], flows: [] };
  const stream = (f: Flow, dir: Direction) => {
    const k = `${f.id}/${dir}`;
    let s = log.streams.get(k);
    if (!s) {
      s = { next: 0, chunks: [] };
      log.streams.set(k, s);
    }
    return s;
  };
  const events: StreamEvents = {
    onData(f, dir, bytes, offset) {
      const s = stream(f, dir);
      // Offsets must follow each other exactly (data and gaps tile the stream).
      expect(offset).toBe(s.next);
      s.next += bytes.length;
      s.chunks.push(bytes.slice());
      log.events.push(`data ${f.id} ${dir} ${offset}+${bytes.length}`);
    },
    onGap(f, dir, offset, length) {
      const s = stream(f, dir);
      expect(offset).toBe(s.next);
      expect(length).toBeGreaterThan(0);
      s.next += length;
      log.gaps.push({ flow: f.id, dir, offset, length });
      log.events.push(`gap ${f.id} ${dir} ${offset}+${length}`);
    },
    onEnd(f, dir, how, ts, frame) {
      log.ends.push({ flow: f.id, dir, how, ts, frame });
      log.events.push(`end ${f.id} ${dir} ${how}`);
    },
    onFlowStart(f) {
      log.flows.push(f);
      log.events.push(`start ${f.id}`);
    },
    onFlowClose(f, reason) {
      log.closes.push({ flow: f.id, reason });
      log.events.push(`close ${f.id} ${reason}`);
    },
  };
  const r = createReassembler(events, limits);
  const bytes = (flow: number, dir: Direction): Uint8Array => {
    const s = log.streams.get(`${flow}/${dir}`);
    return Buffer.concat(s?.chunks ?? []);
  };
  return { r, log, bytes };
}

const data = (n: number, seed = 1): Uint8Array => new Rng(seed).bytes(n);
const hex = toHex;

/** Splits `stream` into segments of the given sizes, starting at sequence number `base`. */
function split(stream: Uint8Array, base: number, sizes: readonly number[], from: 'c' | 's' = 'c'): TcpSegment[] {
  const out: TcpSegment[] = [];
  let o = 0;
  for (const n of sizes) {
    out.push(seg(from, base + o, { payload: stream.subarray(o, o + n), flags: 'AP' }));
    o += n;
  }
  if (o !== stream.length) throw new Error('sizes do not cover the stream');
  return out;
}

/** A three-way handshake with ISNs `ci` and `si`. */
function handshake(ci: number, si: number): TcpSegment[] {
  return [
    seg('c', ci, { flags: 'S' }),
    seg('s', si, { flags: 'SA', ack: ci + 1 }),
    seg('c', ci + 1, { flags: 'A', ack: si + 1 }),
  ];
}

describe('createReassembler', () => {
  it('delivers in-order data of both directions at their stream offsets', () => {
    const { r, log, bytes } = recorder();
    const c = data(300, 1);
    const s = data(500, 2);
    for (const x of [...handshake(1000, 9000), ...split(c, 1001, [100, 200]), ...split(s, 9001, [250, 250], 's')])
      r.push(x);
    r.finish();
    expect(hex(bytes(0, 'client'))).toBe(hex(c));
    expect(hex(bytes(0, 'server'))).toBe(hex(s));
    expect(log.events.filter((e) => e.startsWith('data'))).toEqual([
      'data 0 client 0+100',
      'data 0 client 100+200',
      'data 0 server 0+250',
      'data 0 server 250+250',
    ]);
    expect(log.flows[0]).toMatchObject({ id: 0, client: CLIENT, server: SERVER, roles: 'syn' });
    expect(log.flows[0]!.flags.map((e) => [e.kind, e.from])).toEqual([
      ['syn', 'client'],
      ['syn-ack', 'server'],
    ]);
    expect(log.closes).toEqual([{ flow: 0, reason: 'finish' }]);
    expect(r.stats).toMatchObject({ deliveredBytes: 800, gaps: 0, bufferedBytes: 0, retransmittedBytes: 0 });
  });

  it('reorders out-of-order segments and counts them', () => {
    const { r, log, bytes } = recorder();
    const c = data(1000);
    const parts = split(c, 1001, [100, 100, 100, 100, 100, 100, 100, 100, 100, 100]);
    for (const x of [
      ...handshake(1000, 5),
      ...[parts[3], parts[1], parts[0], parts[2], parts[9], parts[5], parts[4], parts[8], parts[6], parts[7]],
    ])
      r.push(x!);
    expect(hex(bytes(0, 'client'))).toBe(hex(c));
    expect(log.gaps).toEqual([]);
    expect(r.stats.bufferedBytes).toBe(0);
    expect(log.flows[0]!.stats.client.outOfOrderSegments).toBeGreaterThan(0);
  });

  it('drops retransmitted bytes and counts them', () => {
    const { r, bytes, log } = recorder();
    const c = data(400);
    const parts = split(c, 1001, [100, 100, 100, 100]);
    for (const x of [...handshake(1000, 5), parts[0], parts[1], parts[0], parts[2], parts[1], parts[3], parts[3]])
      r.push(x!);
    expect(hex(bytes(0, 'client'))).toBe(hex(c));
    expect(log.flows[0]!.stats.client.retransmittedBytes).toBe(300);
  });

  it('keeps the first arrival where segments overlap with different bytes', () => {
    const { r, bytes } = recorder();
    const c = data(300);
    const evil = new Uint8Array(150).fill(0x41);
    for (const x of handshake(1000, 5)) r.push(x);
    // [150, 300) arrives first (out of order), then a forged [100, 250), then the real [0, 150).
    r.push(seg('c', 1001 + 150, { payload: c.subarray(150) }));
    r.push(seg('c', 1001 + 100, { payload: evil }));
    r.push(seg('c', 1001, { payload: c.subarray(0, 150) }));
    // A late forged copy of delivered bytes changes nothing either.
    r.push(seg('c', 1001 + 50, { payload: evil }));
    // Bytes [100, 150) came first from the forged segment, [150, 250) first from the real one.
    const expected = c.slice();
    expected.fill(0x41, 100, 150);
    expect(hex(bytes(0, 'client'))).toBe(hex(expected));
  });

  it('reports a missing segment as a gap at finish and still delivers the bytes after it', () => {
    const { r, log, bytes } = recorder();
    const c = data(500);
    const parts = split(c, 1001, [100, 100, 100, 100, 100]);
    for (const x of [...handshake(1000, 5), parts[0], parts[1], parts[3], parts[4]]) r.push(x!);
    expect(hex(bytes(0, 'client'))).toBe(hex(c.subarray(0, 200)));
    r.finish();
    expect(log.gaps).toEqual([{ flow: 0, dir: 'client', offset: 200, length: 100 }]);
    expect(hex(bytes(0, 'client'))).toBe(hex(Buffer.concat([c.subarray(0, 200), c.subarray(300)])));
    expect(log.events.slice(-4)).toEqual([
      'gap 0 client 200+100',
      'data 0 client 300+100',
      'data 0 client 400+100',
      'close 0 finish',
    ]);
  });

  it('declares the hole a gap once the receiver acknowledges past it: the capture missed those bytes', () => {
    const { r, log, bytes } = recorder();
    const c = data(500);
    const parts = split(c, 1001, [100, 100, 100, 100, 100]);
    for (const x of [...handshake(1000, 5), parts[0], parts[1], parts[3], parts[4]]) r.push(x!);
    // A duplicate ACK at the hole (the receiver lacks it too, a real loss): keep waiting.
    r.push(seg('s', 6, { ack: 1001 + 200 }));
    expect(log.gaps).toEqual([]);
    expect(bytes(0, 'client').length).toBe(200);
    // The receiver acknowledges [200, 400): it got the hole, which will not be in the capture.
    r.push(seg('s', 6, { ack: 1001 + 400 }));
    expect(log.gaps).toEqual([{ flow: 0, dir: 'client', offset: 200, length: 100 }]);
    expect(log.events.slice(-3)).toEqual(['gap 0 client 200+100', 'data 0 client 300+100', 'data 0 client 400+100']);
    expect(r.stats.forcedGaps).toBe(0);
    expect(r.stats.bufferedBytes).toBe(0);
    // The hole's bytes arriving now are old news, as after any gap.
    r.push(parts[2]!);
    r.finish();
    expect(hex(bytes(0, 'client'))).toBe(hex(Buffer.concat([c.subarray(0, 200), c.subarray(300)])));
  });

  it('lets a hole fill from a retransmission when the receiver only acknowledges up to it', () => {
    const { r, log, bytes } = recorder();
    const c = data(300);
    const parts = split(c, 1001, [100, 100, 100]);
    for (const x of [...handshake(1000, 5), parts[0], parts[2]]) r.push(x!);
    r.push(seg('s', 6, { ack: 1001 + 100 }));
    r.push(parts[1]!);
    r.finish();
    expect(log.gaps).toEqual([]);
    expect(hex(bytes(0, 'client'))).toBe(hex(c));
  });

  it('declares a gap as soon as the per-direction buffer cap is exceeded', () => {
    const { r, log, bytes } = recorder({ maxBufferedBytesPerDirection: 250 });
    const c = data(600);
    const parts = split(c, 1001, [100, 100, 100, 100, 100, 100]);
    for (const x of [...handshake(1000, 5), parts[0], parts[2], parts[3]]) r.push(x!);
    expect(log.gaps).toEqual([]);
    r.push(parts[4]!); // 300 bytes buffered > 250
    expect(log.gaps).toEqual([{ flow: 0, dir: 'client', offset: 100, length: 100 }]);
    expect(bytes(0, 'client').length).toBe(400);
    expect(r.stats.forcedGaps).toBe(1);
    // The missing segment arriving now is old news.
    r.push(parts[1]!);
    r.push(parts[5]!);
    expect(hex(bytes(0, 'client'))).toBe(hex(Buffer.concat([c.subarray(0, 100), c.subarray(200)])));
  });

  it('declares a gap when the per-direction segment cap is exceeded', () => {
    const { r, log } = recorder({ maxBufferedSegmentsPerDirection: 3 });
    const c = data(100);
    const parts = split(c, 1001, Array<number>(10).fill(10));
    for (const x of [...handshake(1000, 5), parts[1], parts[3], parts[5], parts[7]]) r.push(x!);
    expect(log.gaps[0]).toEqual({ flow: 0, dir: 'client', offset: 0, length: 10 });
  });

  it('flushes the fullest direction when the total buffer cap is exceeded', () => {
    const { r, log } = recorder({ maxBufferedBytesTotal: 1000 });
    const a = data(2000);
    // Two flows (different client ports), each with a hole at the start.
    for (const port of [50001, 50002]) {
      const mk = (seq: number, o: { payload?: Uint8Array; flags?: string }): TcpSegment => ({
        ...seg('c', seq, o),
        srcPort: port,
      });
      r.push(mk(999, { flags: 'S' }));
      r.push(mk(1000 + 100, { payload: a.subarray(0, port === 50001 ? 700 : 400) }));
    }
    expect(log.gaps.map((g) => [g.flow, g.offset, g.length])).toEqual([[0, 0, 100]]);
    expect(r.stats.bufferedBytes).toBe(400);
  });

  it('flushes the fullest directions down to three quarters of the total cap, in one batch', () => {
    const { r, log } = recorder({ maxBufferedBytesTotal: 1000 });
    const a = data(200);
    // Ten flows, each holding 100 bytes behind a 10-byte hole (flow 5: 150), one after the other:
    // the tenth takes the total to 1,050. The fullest goes first, then equal holdings oldest first,
    // until at most 750 remain.
    for (let k = 0; k < 10; k++) {
      const mk = (seq: number, o: { payload?: Uint8Array; flags?: string }): TcpSegment => ({
        ...seg('c', seq, o),
        srcPort: 50_001 + k,
      });
      r.push(mk(999, { flags: 'S' }));
      r.push(mk(1000 + 10, { payload: a.subarray(0, k === 5 ? 150 : 100) }));
    }
    // Flow 5 first, then flows 0 and 1: 1,050 - 150 - 200 = 700.
    expect(log.gaps.map((g) => [g.flow, g.offset, g.length])).toEqual([
      [5, 0, 10],
      [0, 0, 10],
      [1, 0, 10],
    ]);
    expect(r.stats.bufferedBytes).toBe(700);
    expect(r.stats.forcedGaps).toBe(3);
  });

  it('ends both directions on a RST mid-stream, with the RST time, frame and sender', () => {
    const { r, log, bytes } = recorder();
    const c = data(200);
    for (const x of [...handshake(1000, 5), ...split(c.subarray(0, 100), 1001, [100])]) r.push(x);
    const rst = seg('s', 6, { flags: 'RA', ts: 123_456 });
    r.push(rst);
    // Data after the reset is not part of the stream.
    r.push(seg('c', 1101, { payload: c.subarray(100) }));
    expect(bytes(0, 'client').length).toBe(100);
    expect(log.ends).toEqual([
      { flow: 0, dir: 'server', how: 'rst', ts: 123_456, frame: rst.frame },
      { flow: 0, dir: 'client', how: 'rst', ts: 123_456, frame: rst.frame },
    ]);
    expect(log.flows[0]!.flags.at(-1)).toMatchObject({ kind: 'rst', from: 'server', timestampUs: 123_456 });
    expect(log.closes).toEqual([{ flow: 0, reason: 'closed' }]);
    // The data after the reset is discarded; the closed flow's stats are final (closed-flows.ts),
    // so it counts in the totals only.
    expect(r.stats.discardedBytes).toBe(100);
    expect(log.flows[0]!.stats.client).toMatchObject({ deliveredBytes: 100, discardedBytes: 0 });
  });

  it('turns the holes before a RST into gaps and delivers what was buffered', () => {
    const { r, log, bytes } = recorder();
    const c = data(300);
    const parts = split(c, 1001, [100, 100, 100]);
    for (const x of [...handshake(1000, 5), parts[0], parts[2], seg('c', 1301, { flags: 'R' })]) r.push(x!);
    expect(log.gaps).toEqual([{ flow: 0, dir: 'client', offset: 100, length: 100 }]);
    expect(bytes(0, 'client').length).toBe(200);
  });

  it('ends a direction on FIN only once every byte before the FIN is delivered', () => {
    const { r, log, bytes } = recorder();
    const c = data(300);
    const parts = split(c, 1001, [100, 100, 100]);
    for (const x of handshake(1000, 5)) r.push(x);
    r.push(parts[0]!);
    r.push(parts[2]!);
    const fin = seg('c', 1301, { flags: 'FA', ts: 999 });
    r.push(fin);
    expect(log.ends).toEqual([]);
    r.push(parts[1]!);
    expect(hex(bytes(0, 'client'))).toBe(hex(c));
    expect(log.ends).toEqual([{ flow: 0, dir: 'client', how: 'fin', ts: 999, frame: fin.frame }]);
    // The server closes too: the flow is closed.
    r.push(seg('s', 6, { flags: 'FA' }));
    expect(log.closes).toEqual([{ flow: 0, reason: 'closed' }]);
  });

  it('reports the hole before a FIN as a gap at finish, then ends the direction', () => {
    const { r, log } = recorder();
    const c = data(300);
    const parts = split(c, 1001, [100, 100, 100]);
    for (const x of [...handshake(1000, 5), parts[0], seg('c', 1301, { flags: 'FA' })]) r.push(x!);
    r.finish();
    expect(log.gaps).toEqual([{ flow: 0, dir: 'client', offset: 100, length: 200 }]);
    expect(log.ends.map((e) => [e.dir, e.how])).toEqual([['client', 'fin']]);
  });

  it('follows sequence numbers across the 2^32 wrap, out of order', () => {
    const { r, bytes, log } = recorder();
    const c = data(1000);
    const isn = 0xffffffff - 450;
    const parts = split(c, isn + 1, [200, 200, 200, 200, 200]);
    for (const x of [...handshake(isn, 0xfffffff0), parts[1], parts[3], parts[0], parts[4], parts[2]]) r.push(x!);
    r.push(seg('s', 0xfffffff0 + 1, { payload: c.subarray(0, 100) }));
    r.push(seg('s', 0xfffffff0 + 1 + 100, { payload: c.subarray(100, 200) }));
    r.finish();
    expect(hex(bytes(0, 'client'))).toBe(hex(c));
    expect(hex(bytes(0, 'server'))).toBe(hex(c.subarray(0, 200)));
    expect(log.gaps).toEqual([]);
  });

  it('keeps stream offsets exact beyond 2^32 bytes, reordering across the second wrap', () => {
    let next = 0;
    let delivered = 0;
    const r = createReassembler({
      onData(_f, _d, bytes, offset) {
        if (offset !== next) throw new Error(`offset ${offset}, expected ${next}`);
        next += bytes.length;
        delivered += bytes.length;
      },
      onGap() {
        throw new Error('no gap expected');
      },
      onEnd() {},
    });
    const chunk = new Uint8Array(65_536);
    const isn = 0xfffff000;
    r.push(seg('c', isn, { flags: 'S' }));
    // 2^32 + 2^31 bytes of sequence space in 64 KiB segments; around offset 2^32 + 2^20 two
    // segments arrive swapped.
    const total = 2 ** 32 + 2 ** 31;
    const swapAt = (2 ** 32 + 2 ** 20) / chunk.length;
    for (let i = 0; i < total / chunk.length; i++) {
      const k = i === swapAt ? i + 1 : i === swapAt + 1 ? i - 1 : i;
      r.push(seg('c', isn + 1 + k * chunk.length, { payload: chunk }));
    }
    expect(delivered).toBe(total);
    expect(r.stats.outOfOrderSegments).toBe(1);
  });

  it('turns bytes cut by the snap length into a gap, never into invented data', () => {
    const { r, log, bytes } = recorder();
    const c = data(300);
    for (const x of handshake(1000, 5)) r.push(x);
    r.push(seg('c', 1001, { payload: c.subarray(0, 40), payloadLength: 100 }));
    r.push(seg('c', 1101, { payload: c.subarray(100, 300) }));
    expect(log.gaps).toEqual([{ flow: 0, dir: 'client', offset: 40, length: 60 }]);
    expect(hex(bytes(0, 'client'))).toBe(hex(Buffer.concat([c.subarray(0, 40), c.subarray(100)])));
  });

  it('treats a cut out-of-order segment the same way once the hole before it fills', () => {
    const { r, log } = recorder();
    const c = data(300);
    for (const x of handshake(1000, 5)) r.push(x);
    r.push(seg('c', 1101, { payload: c.subarray(100, 150), payloadLength: 200 }));
    r.push(seg('c', 1001, { payload: c.subarray(0, 100) }));
    expect(log.events.filter((e) => !e.startsWith('start'))).toEqual([
      'data 0 client 0+100',
      'data 0 client 100+50',
      'gap 0 client 150+150',
    ]);
  });

  it('takes the SYN+ACK sender as server when the SYN is missing', () => {
    const { r, log } = recorder();
    r.push(seg('s', 5, { flags: 'SA', ack: 1001 }));
    r.push(seg('c', 1001, { payload: data(10) }));
    expect(log.flows[0]).toMatchObject({ client: CLIENT, server: SERVER, roles: 'syn-ack' });
  });

  it('takes the lower port as server without a handshake, and the first sender on equal ports', () => {
    const { r, log } = recorder();
    r.push(seg('s', 5, { payload: data(10) }));
    const same = { ...seg('c', 1, { payload: data(10) }), srcPort: 7000, dstPort: 7000 };
    r.push(same);
    expect(log.flows.map((f) => [f.client, f.server, f.roles])).toEqual([
      [CLIENT, SERVER, 'port'],
      [{ addr: CLIENT.addr, port: 7000 }, { addr: SERVER.addr, port: 7000 }, 'first-sender'],
    ]);
  });

  it('fixes guessed roles when a SYN arrives before any data', () => {
    const { r, log } = recorder();
    // A stray ACK from the "client" on a high port to a low port, then the real SYN from port 443.
    r.push(seg('c', 1, { flags: 'A' }));
    r.push(seg('s', 77, { flags: 'S' }));
    expect(log.flows).toHaveLength(1);
    expect(log.flows[0]).toMatchObject({ client: SERVER, server: CLIENT, roles: 'syn' });
    expect(log.flows[0]!.flags).toMatchObject([{ kind: 'syn', from: 'client' }]);
  });

  it('starts a new flow when a closed port pair sees a new SYN, and not for its late segments', () => {
    const { r, log } = recorder();
    for (const x of [...handshake(1000, 5), seg('c', 1001, { flags: 'FA' }), seg('s', 6, { flags: 'FA' })]) r.push(x);
    expect(log.closes).toEqual([{ flow: 0, reason: 'closed' }]);
    r.push(seg('c', 1002, { flags: 'A' })); // final ACK
    r.push(seg('c', 1000, { flags: 'S' })); // retransmitted old SYN
    expect(log.flows).toHaveLength(1);
    r.push(seg('c', 50_000, { flags: 'S' }));
    r.push(seg('c', 50_001, { payload: data(10) }));
    expect(log.flows.map((f) => f.id)).toEqual([0, 1]);
    expect(r.stats.deliveredBytes).toBe(10);
  });

  it('replaces an open flow that carried data when a SYN with a new ISN arrives', () => {
    const { r, log } = recorder();
    for (const x of [...handshake(1000, 5), seg('c', 1001, { payload: data(10) }), seg('c', 90_000, { flags: 'S' })])
      r.push(x);
    expect(log.closes).toEqual([{ flow: 0, reason: 'replaced' }]);
    expect(log.flows.map((f) => f.id)).toEqual([0, 1]);
  });

  it('re-anchors on the ISN the data follows when a handshake was retried with another ISN', () => {
    const { r, bytes, log } = recorder();
    r.push(seg('c', 1000, { flags: 'S' }));
    r.push(seg('s', 5000, { flags: 'SA', ack: 1001 }));
    r.push(seg('s', 7000, { flags: 'SA', ack: 1001 }));
    r.push(seg('s', 7001, { payload: data(20) }));
    r.finish();
    expect(bytes(0, 'server').length).toBe(20);
    expect(log.gaps).toEqual([]);
  });

  it('evicts the least recently active flow beyond maxFlows', () => {
    const { r, log } = recorder({ maxFlows: 2 });
    for (const port of [1, 2, 1, 3]) r.push({ ...seg('c', 1, { payload: data(5) }), srcPort: 60000 + port });
    expect(log.closes).toEqual([{ flow: 1, reason: 'evicted' }]);
    expect(r.stats).toMatchObject({ evictedFlows: 1, trackedFlows: 2 });
  });

  it('does not deliver data before the first sequence number seen without a SYN', () => {
    const { r, bytes, log } = recorder();
    const c = data(200);
    r.push(seg('c', 5100, { payload: c.subarray(100) }));
    r.push(seg('c', 5000, { payload: c.subarray(0, 100) }));
    expect(hex(bytes(0, 'client'))).toBe(hex(c.subarray(100)));
    expect(log.flows[0]!.stats.client.discardedBytes).toBe(100);
  });

  it('delivers data carried on a SYN (TCP Fast Open)', () => {
    const { r, bytes } = recorder();
    const c = data(50);
    r.push(seg('c', 1000, { flags: 'S', payload: c }));
    r.push(seg('s', 5, { flags: 'SA', ack: 1051 }));
    r.push(seg('c', 1001, { payload: c })); // retransmitted after the SYN+ACK ignored it
    expect(hex(bytes(0, 'client'))).toBe(hex(c));
  });

  it('keeps data and gaps an exact tiling of the stream under random loss, reordering and duplication', () => {
    for (let trial = 0; trial < 200; trial++) {
      const rng = new Rng(1000 + trial);
      const { r, bytes, log } = recorder({
        maxBufferedBytesPerDirection: 1 + rng.int(3000),
        maxBufferedSegmentsPerDirection: 1 + rng.int(20),
      });
      const stream = rng.bytes(200 + rng.int(4000));
      const isn = rng.u32();
      // Random segmentation, then overlapping re-segmentations (retransmissions with the same bytes).
      const segs: TcpSegment[] = [];
      for (let o = 0; o < stream.length; ) {
        const n = 1 + rng.int(300);
        segs.push(seg('c', isn + 1 + o, { payload: stream.subarray(o, o + n) }));
        o += n;
      }
      for (let k = rng.int(10); k > 0; k--) {
        const s = rng.int(stream.length);
        const n = 1 + rng.int(500);
        segs.push(seg('c', isn + 1 + s, { payload: stream.subarray(s, s + n) }));
      }
      // Shuffle, drop some.
      for (let i = segs.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [segs[i], segs[j]] = [segs[j]!, segs[i]!];
      }
      const kept = segs.filter(() => rng.int(10) !== 0);
      r.push(seg('c', isn, { flags: 'S' }));
      for (const s of kept) r.push(s);
      r.finish();
      // Every delivered byte equals the input at its offset; data + gaps tile [0, delivered end).
      const got = bytes(0, 'client');
      const gapSet = log.gaps;
      let o = 0;
      let g = 0;
      let pos = 0;
      for (const e of log.events.filter((x) => x.startsWith('data') || x.startsWith('gap'))) {
        const [kind, , , span] = e.split(' ');
        const [start, len] = span!.split('+').map(Number) as [number, number];
        expect(start).toBe(pos);
        if (kind === 'data') {
          expect(hex(got.subarray(o, o + len))).toBe(hex(stream.subarray(start, start + len)));
          o += len;
        } else g++;
        pos = start + len;
      }
      expect(g).toBe(gapSet.length);
      expect(pos).toBeLessThanOrEqual(stream.length);
      expect(r.stats.bufferedBytes).toBe(0);
    }
  });

  it('never throws on arbitrary segments', () => {
    const rng = new Rng(99);
    const { r } = recorder({ maxFlows: 8, maxBufferedBytesPerDirection: 2000 });
    for (let i = 0; i < 20_000; i++) {
      const flags = ['S', 'SA', 'A', 'AP', 'FA', 'R', 'RA', 'SF'][rng.int(8)]!;
      const base = { ...seg(rng.bool() ? 'c' : 's', rng.u32(), { flags, payload: rng.bytes(rng.int(50)) }) };
      const s = {
        ...base,
        srcPort: base.srcPort === 443 ? 443 : 50000 + rng.int(4),
        payloadLength: base.payload.length + (rng.int(10) === 0 ? rng.int(100) : 0),
      };
      expect(() => r.push(s)).not.toThrow();
    }
    expect(() => r.finish()).not.toThrow();
    expect(r.stats.bufferedBytes).toBe(0);
  });
});

describe('closed flows', () => {
  /** A whole connection from client port `port`: handshake, a little data each way, FIN both ways. */
  function connection(port: number): TcpSegment[] {
    const onPort = (s: TcpSegment): TcpSegment =>
      s.srcPort === CLIENT.port ? { ...s, srcPort: port } : { ...s, dstPort: port };
    return [
      seg('c', 1000, { flags: 'S' }),
      seg('s', 5000, { flags: 'SA', ack: 1001 }),
      seg('c', 1001, { flags: 'AP', payload: data(10, port), ack: 5001 }),
      seg('s', 5001, { flags: 'AP', payload: data(20, port + 1), ack: 1011 }),
      seg('c', 1011, { flags: 'AF', ack: 5021 }),
      seg('s', 5021, { flags: 'AF', ack: 1012 }),
    ].map(onPort);
  }
  const lateAck = (port: number): TcpSegment => ({ ...seg('c', 1012, { flags: 'A', ack: 5022 }), srcPort: port });

  it('remembers at most maxClosedFlows closed flows: a late ACK of a forgotten one starts a flow, of a remembered one does not', () => {
    const { r, log } = recorder({ maxClosedFlows: 1 });
    for (const s of [...connection(40001), ...connection(40002)]) r.push(s);
    expect(log.flows).toHaveLength(2);
    expect(log.closes).toHaveLength(2);
    r.push(lateAck(40002)); // still remembered: absorbed by the closed flow
    expect(log.flows).toHaveLength(2);
    r.push(lateAck(40001)); // forgotten (the cap is 1): seen as a new flow
    expect(log.flows).toHaveLength(3);
    r.finish();
  });

  it('forgets closed flows before it evicts a live one when maxFlows is reached', () => {
    const { r, log } = recorder({ maxFlows: 3 });
    for (const s of [...connection(42001), ...connection(42002)]) r.push(s);
    // Two closed flows and a live one fill the table; the next flow forgets the oldest closed one.
    r.push({ ...seg('c', 1, { payload: data(5) }), srcPort: 42003 });
    r.push({ ...seg('c', 1, { payload: data(5) }), srcPort: 42004 });
    expect(r.stats).toMatchObject({ evictedFlows: 0, trackedFlows: 3 });
    expect(log.closes).toEqual([
      { flow: 0, reason: 'closed' },
      { flow: 1, reason: 'closed' },
    ]);
    r.push(lateAck(42002)); // still remembered: absorbed
    expect(log.flows).toHaveLength(4);
    r.push(lateAck(42001)); // forgotten: a flow of its own, for which the other closed flow goes
    expect(log.flows).toHaveLength(5);
    expect(r.stats).toMatchObject({ evictedFlows: 0, trackedFlows: 3 });
    r.push(lateAck(42002)); // forgotten too: its flow finds no closed flow left, so a live one is evicted
    expect(log.flows).toHaveLength(6);
    expect(r.stats).toMatchObject({ evictedFlows: 1, trackedFlows: 3 });
    expect(log.closes.at(-1)).toEqual({ flow: 2, reason: 'evicted' });
    r.finish();
  });

  it('absorbs a retransmitted SYN of a closed flow, and forgets the flow when its port pair opens again', () => {
    const { r, log } = recorder();
    const first = connection(43001);
    const second = first.map((x) => ({ ...x, seq: (x.seq + 77_777) >>> 0, ack: (x.ack + 77_777) >>> 0 }));
    for (const x of first) r.push(x);
    r.push(first[0]!); // the closed flow's own SYN again: a late retransmission, no flow of its own
    expect(log.flows).toHaveLength(1);
    for (const x of second) r.push(x); // a SYN with another ISN: a new connection on the same ports
    expect(log.flows).toHaveLength(2);
    expect(log.closes).toEqual([
      { flow: 0, reason: 'closed' },
      { flow: 1, reason: 'closed' },
    ]);
    r.push({ ...lateAck(43001), seq: (1012 + 77_777) >>> 0, ack: (5022 + 77_777) >>> 0 });
    expect(log.flows).toHaveLength(2); // the second connection is remembered in its turn
    expect(r.stats.trackedFlows).toBe(1);
    r.finish();
  });

  it('keeps every closed flow under the default cap, so late ACKs never start flows', () => {
    const { r, log } = recorder();
    for (let p = 41000; p < 41050; p++) for (const s of connection(p)) r.push(s);
    for (let p = 41000; p < 41050; p++) r.push(lateAck(p));
    expect(log.flows).toHaveLength(50);
    r.finish();
  });
});

describe('reassembleCapture', () => {
  /** Every event of a whole capture as text, with a packet observer or without (the reused-segment path). */
  async function events(source: Parameters<typeof reassembleCapture>[0], observe: boolean): Promise<string[]> {
    const out: string[] = [];
    let seen = 0;
    const summary = await reassembleCapture(
      source,
      {
        onFlowStart: (f) =>
          out.push(`start ${f.id} ${f.client.addr}:${f.client.port} ${f.server.addr}:${f.server.port} ${f.roles}`),
        onData: (f, d, b, offset, frame, ts) => out.push(`data ${f.id} ${d} ${offset} ${frame} ${ts} ${toHex(b)}`),
        onGap: (f, d, offset, length) => out.push(`gap ${f.id} ${d} ${offset} ${length}`),
        onEnd: (f, d, how, ts, frame) => out.push(`end ${f.id} ${d} ${how} ${ts} ${frame}`),
        onFlowClose: (f, reason) =>
          out.push(`close ${f.id} ${reason} ${JSON.stringify(f.stats)} ${JSON.stringify(f.flags)}`),
      },
      observe ? { onPacket: () => seen++ } : {},
    );
    out.push(JSON.stringify(summary));
    if (observe) expect(seen).toBe(summary.meta.packets);
    return out;
  }

  it('reports the same events whether or not a packet observer is given', async () => {
    const v4 = (from: 'c' | 's', seq: number, flags: string, payload = ''): Uint8Array => {
      const [a, b, sp, dp] =
        from === 'c' ? ['192.0.2.1', '192.0.2.2', 50000, 443] : ['192.0.2.2', '192.0.2.1', 443, 50000];
      return ethernet(
        0x0800,
        ipv4({ src: a, dst: b }, tcpBytes({ sport: sp, dport: dp, seq, flags, payload: text(payload) })),
      );
    };
    const v6 = ethernet(
      0x86dd,
      ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }, tcpBytes({ sport: 40000, dport: 443, seq: 5, flags: 'S' })),
    );
    const frames = [
      v4('c', 100, 'S'),
      v4('s', 900, 'SA'),
      v4('c', 101, 'AP', 'hello '),
      v6,
      v4('c', 113, 'AP', 'later'),
      v4('c', 107, 'AP', 'world!'),
      v4('s', 901, 'AF', 'bye'),
      v4('c', 118, 'AF'),
    ];
    const file = concat(
      shb(true),
      idb(true, 1),
      ...frames.map((f, i) => epb(true, 0, BigInt(1_700_000_000_000_000 + i), f)),
    );
    const plain = await events(file, false);
    expect(plain.some((e) => e.startsWith('data 0 client 12 '))).toBe(true); // the out-of-order segment, delivered
    expect(await events(file, true)).toEqual(plain);
  });

  describe.skipIf(!hasCorpus)('on the corpus captures', () => {
    const files = corpusCaptures().map((f) => join(CORPUS_DIR, f));

    it('reports the same events whether or not a packet observer is given', async () => {
      let compared = 0;
      for (const f of files) {
        const run = (observe: boolean): Promise<string[]> =>
          events(openCaptureFile(f), observe).catch((e: unknown) => [`throws ${String(e)}`]);
        const [a, b] = [await run(false), await run(true)];
        if (a.join('\n') !== b.join('\n')) expect(b, f).toEqual(a);
        compared++;
      }
      expect(compared).toBeGreaterThan(50);
    });
  });
});
