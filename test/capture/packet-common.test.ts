/**
 * decodePacket reads the most common packets (IPv4 without options or fragmentation, IPv6 without
 * extension headers, carrying TCP)
 * by index instead of through Readers, and `decodePacketInto` reads it into a reused segment from
 * inside a larger buffer; these tests check that both give exactly what the general decoder
 * (`decodePacketWithReader`) gives, segment and counters, on hand-made frames of every link type,
 * on every cut and many mutations of them, and on every packet of the corpus captures.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDecodeState } from '../../src/capture/decode-state.js';
import type { DecodeState } from '../../src/capture/decode-state.js';
import { LinkType } from '../../src/capture/link-layer.js';
import { decodePacket, decodePacketInto, decodePacketWithReader, newReusedSegment } from '../../src/capture/packet.js';
import type { TcpSegment } from '../../src/capture/tcp-header.js';
import { readCapture } from '../../src/capture/pcap.js';
import { openCaptureFile } from '../../src/capture/source.js';
import { CORPUS_DIR, hasCorpus } from '../helpers/corpus.js';
import { corpusCaptures } from './sessions-tshark.js';
import { Rng } from '../helpers/random.js';
import { ethernet, ipv4, ipv6, loopback, sll, sll2, text, tcp } from './build.js';

const withOptions = tcp({
  sport: 443,
  dport: 50000,
  seq: 1,
  ack: 2,
  flags: 'SA',
  options: new Uint8Array([2, 4, 5, 0xb4, 1, 1, 4, 2]),
});
const withData = tcp({
  sport: 50000,
  dport: 443,
  seq: 0xffffff00,
  ack: 9,
  flags: 'AP',
  payload: text('GET / HTTP/1.1\r\n\r\n'),
});
const packets = [
  ipv4({ src: '10.0.0.1', dst: '10.0.0.2' }, withData),
  ipv4({ src: '10.0.0.2', dst: '10.0.0.1', dontFragment: true }, withOptions),
  ipv4({ src: '192.0.2.1', dst: '192.0.2.2', options: new Uint8Array([1, 1, 1, 0]) }, withData),
  ipv4({ src: '192.0.2.1', dst: '192.0.2.2', moreFragments: true }, withData),
  ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 17 }, withData),
  ipv4({ src: '192.0.2.1', dst: '192.0.2.2', totalLength: 0 }, withData),
];

const framings: readonly { linkType: number; frame: (ip: Uint8Array) => Uint8Array }[] = [
  { linkType: LinkType.ETHERNET, frame: (ip) => ethernet(0x0800, ip) },
  { linkType: LinkType.ETHERNET, frame: (ip) => ethernet(0x0800, ip, [[0x8100, 7]]) },
  {
    linkType: LinkType.ETHERNET,
    frame: (ip) =>
      ethernet(0x0800, ip, [
        [0x88a8, 7],
        [0x8100, 8],
      ]),
  },
  { linkType: LinkType.ETHERNET, frame: (ip) => ethernet(0x0800, ip, [[0x9100, 7]]) },
  { linkType: LinkType.RAW, frame: (ip) => ip },
  { linkType: 12, frame: (ip) => ip },
  { linkType: 14, frame: (ip) => ip },
  { linkType: LinkType.IPV4, frame: (ip) => ip },
  { linkType: LinkType.NULL, frame: (ip) => loopback(2, true, ip) },
  { linkType: LinkType.NULL, frame: (ip) => loopback(2, false, ip) },
  { linkType: LinkType.LOOP, frame: (ip) => loopback(2, false, ip) },
  { linkType: LinkType.LINUX_SLL, frame: (ip) => sll(0x0800, ip) },
  { linkType: LinkType.LINUX_SLL2, frame: (ip) => sll2(0x0800, ip) },
];

/** The same segments over IPv6: plain, with an extension header, a fragment, not TCP, Payload Length 0. */
const zeroLength = (ip: Uint8Array): Uint8Array => {
  const out = ip.slice();
  out[4] = 0;
  out[5] = 0;
  return out;
};
const packets6 = [
  ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }, withData),
  ipv6({ src: '2001:db8::2', dst: '2001:db8::1' }, withOptions),
  ipv6({ src: 'fe80::1', dst: 'fe80::2', ext: [{ kind: 'hop-by-hop' }] }, withData),
  ipv6({ src: 'fe80::1', dst: 'fe80::2', ext: [{ kind: 'fragment', offset: 0, more: true, id: 9 }] }, withData),
  ipv6({ src: 'fe80::1', dst: 'fe80::2', next: 17 }, withData),
  zeroLength(ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }, withData)),
];

const framings6: readonly { linkType: number; frame: (ip: Uint8Array) => Uint8Array }[] = [
  { linkType: LinkType.ETHERNET, frame: (ip) => ethernet(0x86dd, ip) },
  { linkType: LinkType.ETHERNET, frame: (ip) => ethernet(0x86dd, ip, [[0x8100, 7]]) },
  {
    linkType: LinkType.ETHERNET,
    frame: (ip) =>
      ethernet(0x86dd, ip, [
        [0x88a8, 7],
        [0x8100, 8],
      ]),
  },
  { linkType: LinkType.RAW, frame: (ip) => ip },
  { linkType: 12, frame: (ip) => ip },
  { linkType: 14, frame: (ip) => ip },
  { linkType: LinkType.IPV6, frame: (ip) => ip },
  // The BSD AF_INET6 values (24, 28, 30), in either byte order.
  { linkType: LinkType.NULL, frame: (ip) => loopback(24, true, ip) },
  { linkType: LinkType.NULL, frame: (ip) => loopback(28, false, ip) },
  { linkType: LinkType.LOOP, frame: (ip) => loopback(30, false, ip) },
  { linkType: LinkType.LINUX_SLL, frame: (ip) => sll(0x86dd, ip) },
  { linkType: LinkType.LINUX_SLL2, frame: (ip) => sll2(0x86dd, ip) },
  // IPv6 bytes where the link layer says IPv4, and the other way round: malformed, not read as such.
  { linkType: LinkType.ETHERNET, frame: (ip) => ethernet(0x0800, ip) },
  { linkType: LinkType.IPV4, frame: (ip) => ip },
];

/** Every framing with every packet of its IP version. */
const families = [
  { framings, packets },
  { framings: framings6, packets: packets6 },
];

/** True when both segments (or both nulls) have the same fields and payload bytes. */
function sameSegment(x: TcpSegment | null, y: TcpSegment | null): boolean {
  if (x === null || y === null) return x === y;
  const { payload: px, flags: fx, ...rx } = x;
  const { payload: py, flags: fy, ...ry } = y;
  return JSON.stringify([rx, fx]) === JSON.stringify([ry, fy]) && Buffer.from(px).equals(Buffer.from(py));
}

const reused = newReusedSegment();
/** `decodePacketInto`'s state for each `decodePacket` state of a test. */
const intoStates = new WeakMap<DecodeState, DecodeState>();

/**
 * Decodes `data` three ways (decodePacket; decodePacketInto from inside a larger buffer; the
 * Reader-based decoder), each with its own state, and expects the same segment (and, unless
 * `countersAtEnd`, the same counters right away).
 */
function expectSame(
  linkType: number,
  data: Uint8Array,
  a: DecodeState,
  b: DecodeState,
  frame = 3,
  countersAtEnd = false,
): void {
  const info = { timestampUs: 1_700_000_000_000_000 + frame, frame };
  let c = intoStates.get(a);
  if (!c) {
    c = createDecodeState();
    intoStates.set(a, c);
  }
  const ours = decodePacket(linkType, data, info, a);
  const reference = decodePacketWithReader(linkType, data, info, b);
  const padded = new Uint8Array(data.length + 13).fill(0xee);
  padded.set(data, 7);
  const into = decodePacketInto(reused, linkType, padded, 7, 7 + data.length, info.timestampUs, frame, c);
  // The cheap comparison first; toEqual only to show a difference (the corpus has 100k+ packets).
  if (!sameSegment(ours, reference)) expect(ours).toEqual(reference);
  if (!sameSegment(into, reference)) expect(into && { ...into, flags: { ...into.flags } }).toEqual(reference);
  if (!countersAtEnd) {
    expect(a.stats).toEqual(b.stats);
    expect(c.stats).toEqual(b.stats);
  }
}

describe('decodePacket on the common IPv4/TCP and IPv6/TCP packets', () => {
  it('gives what the Reader-based decoder gives, for every link type and every cut of the frame', () => {
    for (const family of families) {
      const a = createDecodeState();
      const b = createDecodeState();
      for (const { linkType, frame } of family.framings) {
        for (const ip of family.packets) {
          const data = frame(ip);
          for (let n = 0; n <= data.length; n++) expectSame(linkType, data.subarray(0, n), a, b);
        }
      }
      expect(a.stats.tcp).toBeGreaterThan(100);
      expect(a.stats.malformed).toBeGreaterThan(100);
    }
  });

  it('gives what the Reader-based decoder gives for seeded mutations of header bytes', () => {
    const rng = new Rng(7);
    const a = createDecodeState();
    const b = createDecodeState();
    for (let i = 0; i < 40_000; i++) {
      const family = families[i % 2]!;
      const { linkType, frame } = rng.pick(family.framings);
      const data = frame(rng.pick(family.packets)).slice();
      // Mutate within the headers (link, IP, TCP), where the two readers could disagree.
      for (let k = rng.int(3); k >= 0; k--)
        data[rng.int(Math.min(data.length, 84))] = rng.bool()
          ? rng.u32() & 0xff
          : rng.pick([0, 0x45, 0x60, 6, 0x50, 0xff, 0x20, 0x86, 0xdd, 0x08, 17, 24, 30]);
      const cut = rng.bool() ? data.subarray(0, rng.int(data.length + 1)) : data;
      expectSame(linkType, cut, a, b, i + 1);
    }
    expect(a.stats.tcp).toBeGreaterThan(2000);
  });

  it('keeps the same counters when fragments and common packets interleave', () => {
    const a = createDecodeState();
    const b = createDecodeState();
    const whole = tcp({ sport: 1, dport: 2, seq: 3, payload: new Uint8Array(64).fill(9) });
    const first = ipv4({ src: '10.1.1.1', dst: '10.2.2.2', id: 5, moreFragments: true }, whole.subarray(0, 40));
    const last = ipv4({ src: '10.1.1.1', dst: '10.2.2.2', id: 5, fragmentOffset: 40 }, whole.subarray(40));
    const plain = ipv4({ src: '10.1.1.1', dst: '10.2.2.2' }, whole);
    [first, plain, last, plain].forEach((p, i) => {
      expectSame(LinkType.RAW, p, a, b, i + 1);
    });
    expect(a.stats).toMatchObject({ tcp: 3, reassembled: 1 });
  });
});

describe.skipIf(!hasCorpus)('decodePacket on the corpus captures', () => {
  const files = corpusCaptures().map((f) => join(CORPUS_DIR, f));

  it('gives what the Reader-based decoder gives for every packet', async () => {
    let packetsSeen = 0;
    for (const file of files) {
      const a = createDecodeState();
      const b = createDecodeState();
      try {
        await readCapture(openCaptureFile(file), (p) => {
          packetsSeen++;
          expectSame(p.linkType, p.data, a, b, p.index, true);
        });
      } catch (e) {
        // A broken container is the reader's business (pcap tests); the packets read up to it were compared.
        if (!(e instanceof Error) || !('code' in e)) throw e;
      }
      expect(a.stats, file).toEqual(b.stats);
      expect(intoStates.get(a)?.stats ?? b.stats, file).toEqual(b.stats);
    }
    expect(packetsSeen).toBeGreaterThan(10_000);
  });
});

describe('decodePacketInto', () => {
  it('fills the one segment it is given for the common packet, and makes a fresh one for the others', () => {
    const state = createDecodeState();
    const into = newReusedSegment();
    const common = ethernet(0x0800, packets[0]!, [[0x8100, 7]]);
    // IPv4 options: not the common packet.
    const other = ethernet(0x0800, packets[2]!);
    const first = decodePacketInto(into, LinkType.ETHERNET, common, 0, common.length, 1, 1, state);
    const second = decodePacketInto(into, LinkType.ETHERNET, other, 0, other.length, 2, 2, state);
    expect(first).toBe(into);
    expect(second).not.toBe(into);
    expect(second).toEqual(decodePacketWithReader(LinkType.ETHERNET, other, { timestampUs: 2, frame: 2 }));
    // IPv6 without extension headers is common too; with one it is not.
    const common6 = ethernet(0x86dd, packets6[0]!);
    const ext6 = ethernet(0x86dd, packets6[2]!);
    expect(decodePacketInto(into, LinkType.ETHERNET, common6, 0, common6.length, 3, 3, state)).toBe(into);
    expect(into).toMatchObject({ src: '2001:db8::1', dst: '2001:db8::2', ipVersion: 6, srcPort: 50000 });
    const third = decodePacketInto(into, LinkType.ETHERNET, ext6, 0, ext6.length, 4, 4, state);
    expect(third).not.toBe(into);
    expect(third).toMatchObject({ src: 'fe80::1', ipVersion: 6 });
    expect(state.stats.tcp).toBe(4);
  });
});
