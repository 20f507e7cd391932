/**
 * Memory stays bounded while a ~50 MB capture streams through readCapture, decodePacket and the
 * reassembler: the capture is generated chunk by chunk (never held whole), with many concurrent
 * flows, reordering, retransmissions and lost segments, and the heap is sampled after forced GCs.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { reassembleCapture } from '../../src/capture/tcp.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const TOTAL_BYTES = 50 * 1024 * 1024;
const CHUNK = 1 << 20;
const FLOWS = 64;
const SEGMENT = 1400;
/** Each flow carries this much before it closes and a new one takes its slot. */
const FLOW_BYTES = 2 * 1024 * 1024;

/** Byte at stream offset `o` of flow `id`: lets the consumer check every byte it gets. */
const pattern = (id: number, o: number): number => (o * 31 + id * 7) & 0xff;

interface Plan {
  readonly payloadBytes: number;
  readonly lostBytes: number;
  readonly lostSegments: number;
  readonly flows: number;
}

/**
 * Yields a pcap file (Ethernet/IPv4/TCP) in ~1 MiB chunks. Flows are served round-robin; within
 * a flow, every 7th pair of segments is swapped, every 11th segment is sent twice, and every
 * 97th is lost. `plan` is filled as the capture is produced; `sample` runs between chunks.
 */
async function* capture(
  plan: { -readonly [K in keyof Plan]: Plan[K] },
  sample: () => void,
): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(CHUNK + 16 * 1024);
  let dv = new DataView(buf.buffer);
  let pos = 0;
  let produced = 0;
  let chunks = 0;
  const flush = function* (): Generator<Uint8Array> {
    yield buf.subarray(0, pos);
    produced += pos;
    buf = new Uint8Array(CHUNK + 16 * 1024);
    dv = new DataView(buf.buffer);
    pos = 0;
    if (++chunks % 4 === 0) sample();
  };
  // pcap header, little-endian, microseconds, Ethernet.
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 65535, true);
  dv.setUint32(20, 1, true);
  pos = 24;
  let ts = 1_700_000_000_000_000;
  const packet = (
    flow: number,
    client: boolean,
    seq: number,
    flags: number,
    payloadOffset: number,
    length: number,
  ): void => {
    const frame = 14 + 20 + 20 + length;
    dv.setUint32(pos, Math.floor(ts / 1e6), true);
    dv.setUint32(pos + 4, ts % 1e6, true);
    dv.setUint32(pos + 8, frame, true);
    dv.setUint32(pos + 12, frame, true);
    ts += 10;
    let p = pos + 16;
    p += 12; // MAC addresses (zero)
    dv.setUint16(p, 0x0800);
    p += 2;
    dv.setUint8(p, 0x45);
    dv.setUint16(p + 2, 40 + length);
    dv.setUint8(p + 8, 64);
    dv.setUint8(p + 9, 6);
    const cAddr = 0x0a000000 | flow;
    const sAddr = 0x0a800001;
    dv.setUint32(p + 12, client ? cAddr : sAddr);
    dv.setUint32(p + 16, client ? sAddr : cAddr);
    p += 20;
    dv.setUint16(p, client ? 40000 + (flow & 0x3fff) : 443);
    dv.setUint16(p + 2, client ? 443 : 40000 + (flow & 0x3fff));
    dv.setUint32(p + 4, seq >>> 0);
    dv.setUint8(p + 12, 0x50);
    dv.setUint8(p + 13, flags);
    p += 20;
    for (let i = 0; i < length; i++) buf[p + i] = pattern(flow, payloadOffset + i);
    pos = p + length;
  };
  const SYN = 0x02;
  const ACK = 0x10;
  const FIN = 0x01;
  const slots = Array.from({ length: FLOWS }, (_, i) => ({ id: i, sent: 0, k: 0 }));
  let nextId = FLOWS;
  const isn = (id: number): number => (id * 0x9e3779b9) >>> 0;
  for (const s of slots) {
    packet(s.id, true, isn(s.id), SYN, 0, 0);
    plan.flows++;
  }
  while (produced + pos < TOTAL_BYTES) {
    for (const s of slots) {
      const base = isn(s.id) + 1;
      const send = (n: number): void => {
        const off = n * SEGMENT;
        packet(s.id, true, base + off, ACK, off, SEGMENT);
      };
      const k = s.k++;
      // Swap segments k and k+1 on every 7th pair.
      if (k % 14 === 0) {
        send(k + 1);
        send(k);
        s.k++;
        plan.payloadBytes += 2 * SEGMENT;
      } else if (k % 97 === 5) {
        plan.payloadBytes += SEGMENT;
        plan.lostBytes += SEGMENT;
        plan.lostSegments++;
      } else {
        send(k);
        if (k % 11 === 3) send(k);
        plan.payloadBytes += SEGMENT;
      }
      if (s.k * SEGMENT >= FLOW_BYTES) {
        packet(s.id, true, base + s.k * SEGMENT, FIN | ACK, 0, 0);
        packet(s.id, false, 1, 0x04, 0, 0); // RST from the server ends the other direction
        s.id = nextId++;
        s.k = 0;
        packet(s.id, true, isn(s.id), SYN, 0, 0);
        plan.flows++;
      }
      if (pos >= CHUNK) yield* flush();
    }
  }
  // Close the flows still open, so every lost segment becomes a gap before the end.
  for (const s of slots) packet(s.id, true, isn(s.id) + 1 + s.k * SEGMENT, FIN | ACK, 0, 0);
  if (pos > 0) yield* flush();
}

describe('reassembleCapture memory', () => {
  it('stays within a fixed heap budget on a 50 MB capture of lossy, reordered flows', async () => {
    const plan = { payloadBytes: 0, lostBytes: 0, lostSegments: 0, flows: 0 };
    const samples: number[] = [];
    const used = (): number => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    gc();
    const baseline = used();
    let delivered = 0;
    let wrongBytes = 0;
    let gapBytes = 0;
    const started = Date.now();
    const summary = await reassembleCapture(
      capture(plan, () => {
        gc();
        samples.push(used() - baseline);
      }),
      {
        onData(flow, dir, bytes, offset) {
          if (dir !== 'client') return;
          const id = Number(
            flow.client.addr
              .split('.')
              .map(Number)
              .reduce((a, b) => a * 256 + b) & 0xffffff,
          );
          for (let i = 0; i < bytes.length; i++) if (bytes[i] !== pattern(id, offset + i)) wrongBytes++;
          delivered += bytes.length;
        },
        onGap(_f, _d, _o, length) {
          gapBytes += length;
        },
        onEnd() {},
      },
      // Small buffers: a lost segment becomes a gap after 64 KiB of data queued behind it.
      { limits: { maxBufferedBytesPerDirection: 64 * 1024 } },
    );
    const elapsed = Date.now() - started;

    expect(summary.meta.packets).toBeGreaterThan(35_000);
    expect(samples.length).toBeGreaterThanOrEqual(10);
    // Everything sent arrived exactly once and unaltered; every lost byte is a reported gap.
    expect(wrongBytes).toBe(0);
    expect(delivered).toBe(plan.payloadBytes - plan.lostBytes);
    expect(gapBytes).toBe(plan.lostBytes);
    expect(summary.tcp.flows).toBe(plan.flows);
    expect(summary.tcp.peakBufferedBytes).toBeLessThanOrEqual(FLOWS * (64 * 1024 + SEGMENT));
    // Bounded: the working set (chunk in flight, flow table, 64 flows x 64 KiB of out-of-order
    // data) is far below the 50 MB that went through; accumulation would show as growth.
    expect(Math.max(...samples)).toBeLessThan(24 * 1024 * 1024);
    expect(elapsed).toBeLessThan(20_000);
  });
});
