/**
 * Test helpers for rewriting captures: the Ethernet frames of a capture, a classic pcap writer of
 * any link type, the IP packet inside a frame, and connection facts without frame numbers. Used to
 * put real handshakes inside tunnels and other link layers and compare what the analysis finds.
 */
import { readFileSync } from 'node:fs';
import { readCapture } from '../../src/capture/pcap.js';

export interface Frame {
  readonly timestampUs: number;
  readonly data: Uint8Array;
}

/** The Ethernet frames of a capture (frames of other link types are left out: the rewrites start from Ethernet). */
export async function ethernetFrames(path: string): Promise<Frame[]> {
  const frames: Frame[] = [];
  await readCapture(readFileSync(path), (p) => {
    if (p.linkType === 1) frames.push({ timestampUs: p.timestampUs, data: Uint8Array.from(p.data) });
  });
  return frames;
}

/** A classic pcap (microseconds; Ethernet unless `linkType` says otherwise) of `frames`. */
export function pcap(frames: readonly Uint8Array[], times: readonly number[], linkType = 1): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262_144, 16);
  head.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [head];
  frames.forEach((f, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(times[i]! / 1e6), 0);
    rec.writeUInt32LE(times[i]! % 1e6, 4);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, Buffer.from(f));
  });
  return Buffer.concat(parts);
}

export const cat = (...parts: (Uint8Array | number[])[]): Uint8Array => Buffer.concat(parts.map((p) => Buffer.from(p)));
export const u16 = (n: number): number[] => [n >> 8, n & 0xff];
export const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
/** The inner frame's EtherType and IP packet (after any 802.1Q tags). */
export function innerIp(frame: Uint8Array): { type: number; ip: Uint8Array } {
  let i = 12;
  let type = (frame[i]! << 8) | frame[i + 1]!;
  while (type === 0x8100 || type === 0x88a8) {
    i += 4;
    type = (frame[i]! << 8) | frame[i + 1]!;
  }
  return { type, ip: frame.subarray(i + 2) };
}

/** Every `frame` key removed: a fragmented wrapping adds frames, and the numbers move. */
export function withoutFrames(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(withoutFrames);
  if (x instanceof Uint8Array) return Buffer.from(x).toString('hex');
  if (x && typeof x === 'object')
    return Object.fromEntries(
      Object.entries(x)
        .filter(([k]) => k !== 'frame' && k !== 'frames')
        .map(([k, v]) => [k, withoutFrames(v)]),
    );
  return x;
}
