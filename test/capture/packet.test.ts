/**
 * decodePacket: link layers, IPv4 with fragments, IPv6 with extension headers and fragments, TCP.
 * Frames come from build.ts; one pcapng holding a frame of every link type is also dissected by
 * tshark (when installed), so the expected addresses/ports/payloads are not only our own opinion.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDecodeState } from '../../src/capture/decode-state.js';
import { ipv6Text } from '../../src/capture/ip.js';
import { LinkType } from '../../src/capture/link-layer.js';
import { decodePacket } from '../../src/capture/packet.js';
import type { TcpSegment } from '../../src/capture/tcp-header.js';
import { readCapture } from '../../src/capture/pcap.js';
import { toHex } from '../../src/wire/hex.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { Rng } from '../helpers/random.js';
import { concat, epb, ethernet, idb, ipv4, ipv6, loopback, newBytes, shb, sll, sll2, text, tcp, v6 } from './build.js';
import type { Ipv6Ext } from './build.js';
import { NEEDS_TSHARK, tshark } from './sessions-tshark.js';

const hasTshark = spawnSync('which', ['tshark']).status === 0;
if (!hasTshark) console.warn('tshark not found: link-type cross-check skipped');

const info = { timestampUs: 1_000, frame: 7 };
const seg4 = tcp({ sport: 51000, dport: 443, seq: 0xfffffff0, ack: 77, flags: 'AP', payload: text('hello over v4') });
const seg6 = tcp({ sport: 51001, dport: 8443, seq: 5, ack: 0, flags: 'S' });
const v4pkt = ipv4({ src: '198.51.100.7', dst: '203.0.113.9' }, seg4);
const v6pkt = ipv6({ src: '2001:db8::1', dst: '2001:db8:0:1::2' }, seg6);

interface Expect {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: string;
}
const E4: Expect = {
  src: '198.51.100.7',
  dst: '203.0.113.9',
  srcPort: 51000,
  dstPort: 443,
  payload: toHex(text('hello over v4')),
};
const E6: Expect = { src: '2001:db8::1', dst: '2001:db8:0:1::2', srcPort: 51001, dstPort: 8443, payload: '' };

/** One frame per supported link type and framing variant, with what must come out of it. */
const FRAMES: readonly { name: string; linkType: number; data: Uint8Array; want: Expect }[] = [
  { name: 'Ethernet, IPv4', linkType: LinkType.ETHERNET, data: ethernet(0x0800, v4pkt), want: E4 },
  { name: 'Ethernet, IPv6', linkType: LinkType.ETHERNET, data: ethernet(0x86dd, v6pkt), want: E6 },
  {
    name: 'Ethernet, 802.1Q tag',
    linkType: LinkType.ETHERNET,
    data: ethernet(0x0800, v4pkt, [[0x8100, 42]]),
    want: E4,
  },
  {
    name: 'Ethernet, 802.1ad + 802.1Q tags',
    linkType: LinkType.ETHERNET,
    data: ethernet(0x86dd, v6pkt, [
      [0x88a8, 100],
      [0x8100, 42],
    ]),
    want: E6,
  },
  {
    name: 'Ethernet, three stacked 802.1Q tags',
    linkType: LinkType.ETHERNET,
    data: ethernet(0x0800, v4pkt, [
      [0x8100, 1],
      [0x8100, 2],
      [0x8100, 3],
    ]),
    want: E4,
  },
  { name: 'Linux SLL, IPv4', linkType: LinkType.LINUX_SLL, data: sll(0x0800, v4pkt), want: E4 },
  { name: 'Linux SLL2, IPv6', linkType: LinkType.LINUX_SLL2, data: sll2(0x86dd, v6pkt), want: E6 },
  { name: 'NULL, AF_INET little-endian', linkType: LinkType.NULL, data: loopback(2, true, v4pkt), want: E4 },
  { name: 'NULL, AF_INET big-endian', linkType: LinkType.NULL, data: loopback(2, false, v4pkt), want: E4 },
  { name: 'NULL, AF_INET6 = 24 little-endian', linkType: LinkType.NULL, data: loopback(24, true, v6pkt), want: E6 },
  { name: 'NULL, AF_INET6 = 28 big-endian', linkType: LinkType.NULL, data: loopback(28, false, v6pkt), want: E6 },
  { name: 'NULL, AF_INET6 = 30 little-endian', linkType: LinkType.NULL, data: loopback(30, true, v6pkt), want: E6 },
  { name: 'LOOP, AF_INET', linkType: LinkType.LOOP, data: loopback(2, false, v4pkt), want: E4 },
  { name: 'RAW (101), IPv4', linkType: LinkType.RAW, data: v4pkt, want: E4 },
  { name: 'RAW (101), IPv6', linkType: LinkType.RAW, data: v6pkt, want: E6 },
  { name: 'DLT_RAW 12, IPv4', linkType: 12, data: v4pkt, want: E4 },
  { name: 'DLT_RAW 14, IPv6', linkType: 14, data: v6pkt, want: E6 },
  { name: 'IPV4 (228)', linkType: LinkType.IPV4, data: v4pkt, want: E4 },
  { name: 'IPV6 (229)', linkType: LinkType.IPV6, data: v6pkt, want: E6 },
];

const pick = (s: TcpSegment | null): Expect | null =>
  s && { src: s.src, dst: s.dst, srcPort: s.srcPort, dstPort: s.dstPort, payload: toHex(s.payload) };

describe('decodePacket', () => {
  it.each(FRAMES)('finds the TCP segment in a $name frame', ({ linkType, data, want }) => {
    const state = createDecodeState();
    expect(pick(decodePacket(linkType, data, info, state))).toEqual(want);
    expect(state.stats.tcp).toBe(1);
  });

  it.skipIf(!hasTshark)('agrees with tshark on every link type', async () => {
    const le = true;
    const types = [...new Set(FRAMES.map((f) => f.linkType))];
    const blocks = [shb(le), ...types.map((t) => idb(le, t))];
    FRAMES.forEach((f, i) => {
      blocks.push(epb(le, types.indexOf(f.linkType), BigInt(i), f.data));
    });
    const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-link-'));
    try {
      const path = join(dir, 'links.pcapng');
      writeFileSync(path, concat(...blocks));
      const fields = ['ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport', 'tcp.payload'];
      const out = spawnSync('tshark', [
        '-r',
        path,
        '-n',
        '-T',
        'fields',
        '-E',
        'occurrence=f',
        ...fields.flatMap((f) => ['-e', f]),
      ]);
      const rows = out.stdout
        .toString()
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
      const theirs = rows.map(([s4, s6, d4, d6, sp, dp, pl]) => ({
        src: s4 || s6,
        dst: d4 || d6,
        srcPort: Number(sp),
        dstPort: Number(dp),
        payload: pl ?? '',
      }));
      const ours: (Expect | null)[] = [];
      const state = createDecodeState();
      await readCapture(concat(...blocks), (p) =>
        ours.push(pick(decodePacket(p.linkType, p.data, { timestampUs: p.timestampUs, frame: p.index }, state))),
      );
      expect(ours).toEqual(theirs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads sequence, acknowledgment, flags and window', () => {
    const s = decodePacket(
      LinkType.RAW,
      ipv4(
        { src: '10.0.0.1', dst: '10.0.0.2' },
        tcp({ sport: 1, dport: 2, seq: 0xdeadbeef, ack: 0x01020304, flags: 'SAFRP' }),
      ),
      info,
    )!;
    expect([s.seq, s.ack, s.window, s.ipVersion, s.frame, s.timestampUs]).toEqual([
      0xdeadbeef, 0x01020304, 65535, 4, 7, 1000,
    ]);
    expect(s.flags).toEqual({ syn: true, ack: true, fin: true, rst: true, psh: true });
  });

  it('skips TCP options and IPv4 options', () => {
    const seg = tcp({
      sport: 1,
      dport: 2,
      seq: 1,
      payload: text('after options'),
      options: Uint8Array.of(2, 4, 5, 0xb4, 1, 1, 4, 2),
    });
    const pkt = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', options: Uint8Array.of(1, 1, 1, 0) }, seg);
    expect(Buffer.from(decodePacket(LinkType.RAW, pkt, info)!.payload).toString()).toBe('after options');
  });

  it('ignores Ethernet padding beyond the IPv4 total length', () => {
    const small = ipv4({ src: '10.0.0.1', dst: '10.0.0.2' }, tcp({ sport: 1, dport: 2, seq: 1, payload: text('x') }));
    const padded = ethernet(0x0800, concat(small, new Uint8Array(5).fill(0xee)));
    const s = decodePacket(LinkType.ETHERNET, padded, info)!;
    expect(toHex(s.payload)).toBe(toHex(text('x')));
    expect(s.payloadLength).toBe(1);
  });

  it('trusts the captured length when the IPv4 total length is 0 (segmentation offload)', () => {
    const pkt = ipv4(
      { src: '10.0.0.1', dst: '10.0.0.2', totalLength: 0 },
      tcp({ sport: 1, dport: 2, seq: 1, payload: new Uint8Array(3000).fill(1) }),
    );
    expect(decodePacket(LinkType.RAW, pkt, info)!.payloadLength).toBe(3000);
  });

  it('reports the declared payload length of a packet cut by the snap length', () => {
    const full = ipv4(
      { src: '10.0.0.1', dst: '10.0.0.2' },
      tcp({ sport: 1, dport: 2, seq: 1, payload: new Uint8Array(1000).fill(9) }),
    );
    const s = decodePacket(LinkType.RAW, full.subarray(0, 60), info)!;
    expect([s.payload.length, s.payloadLength]).toEqual([20, 1000]);
  });

  it('keeps the header of a segment whose options the snap length cut', () => {
    const full = ipv4(
      { src: '10.0.0.1', dst: '10.0.0.2' },
      tcp({ sport: 1, dport: 2, seq: 9, options: new Uint8Array(12).fill(1), payload: new Uint8Array(100) }),
    );
    const s = decodePacket(LinkType.RAW, full.subarray(0, 44), info)!;
    expect([s.seq, s.payload.length, s.payloadLength]).toEqual([9, 0, 100]);
  });

  it('returns null for UDP, ARP and IPv6 without TCP, counting them as non-TCP', () => {
    const state = createDecodeState();
    expect(
      decodePacket(
        LinkType.RAW,
        ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, new Uint8Array(12)),
        info,
        state,
      ),
    ).toBeNull();
    expect(decodePacket(LinkType.ETHERNET, ethernet(0x0806, new Uint8Array(28)), info, state)).toBeNull();
    expect(
      decodePacket(LinkType.RAW, ipv6({ src: '::1', dst: '::1', next: 58 }, new Uint8Array(8)), info, state),
    ).toBeNull();
    expect(
      decodePacket(LinkType.RAW, ipv6({ src: '::1', dst: '::1', next: 59 }, new Uint8Array(0)), info, state),
    ).toBeNull();
    expect(state.stats.nonTcp).toBe(4);
    expect(state.stats.malformed).toBe(0);
  });

  it('counts an unsupported link type', () => {
    const state = createDecodeState();
    expect(decodePacket(195 /* IEEE 802.15.4 with FCS */, new Uint8Array(40), info, state)).toBeNull();
    expect(state.stats.unsupportedLinkType).toBe(1);
  });

  it('returns null and counts a truncated TCP header instead of throwing', () => {
    const state = createDecodeState();
    const pkt = ipv4({ src: '10.0.0.1', dst: '10.0.0.2' }, tcp({ sport: 1, dport: 2, seq: 1 }));
    expect(decodePacket(LinkType.RAW, pkt.subarray(0, 30), info, state)).toBeNull();
    expect(state.stats.malformed).toBe(1);
    expect(state.stats.lastMalformed).toMatchObject({ frame: 7, reason: expect.stringContaining('tcp') as unknown });
  });

  it('rejects a TCP data offset below 5 words and an IPv4 header length below 20 as malformed', () => {
    const state = createDecodeState();
    const seg = tcp({ sport: 1, dport: 2, seq: 1 });
    seg[12] = 0x40;
    expect(decodePacket(LinkType.RAW, ipv4({ src: '10.0.0.1', dst: '10.0.0.2' }, seg), info, state)).toBeNull();
    const pkt = ipv4({ src: '10.0.0.1', dst: '10.0.0.2' }, tcp({ sport: 1, dport: 2, seq: 1 }));
    pkt[0] = 0x44;
    expect(decodePacket(LinkType.RAW, pkt, info, state)).toBeNull();
    expect(state.stats.malformed).toBe(2);
  });

  it('never throws on random bytes, for any link type', () => {
    const rng = new Rng(2024);
    const state = createDecodeState();
    const types = [...new Set(FRAMES.map((f) => f.linkType))];
    for (let i = 0; i < 5000; i++) {
      // Half mutate a real frame (reaches deep layers), half are pure noise.
      const base = rng.pick(FRAMES);
      const data = rng.bool() ? base.data.slice(0, rng.int(base.data.length + 1)) : rng.bytes(rng.int(120));
      if (data.length > 0 && rng.bool()) data[rng.int(data.length)] = rng.u32() & 0xff;
      expect(() => decodePacket(rng.pick(types), data, { timestampUs: i, frame: i }, state)).not.toThrow();
    }
  });
});

describe('decodePacket with IPv6 extension headers', () => {
  const cases: { name: string; ext: Ipv6Ext[] }[] = [
    { name: 'hop-by-hop options', ext: [{ kind: 'hop-by-hop' }] },
    {
      name: 'hop-by-hop, routing and destination options',
      ext: [{ kind: 'hop-by-hop', body: 1 }, { kind: 'routing', body: 2 }, { kind: 'destination' }],
    },
    { name: 'an atomic fragment header', ext: [{ kind: 'fragment', offset: 0, more: false, id: 9 }] },
  ];
  it.each(cases)('skips $name to reach TCP', ({ ext }) => {
    const pkt = ipv6(
      { src: 'fe80::1', dst: 'fe80::2', ext },
      tcp({ sport: 7, dport: 8, seq: 3, payload: text('v6 payload') }),
    );
    expect(Buffer.from(decodePacket(LinkType.RAW, pkt, info)!.payload).toString()).toBe('v6 payload');
  });

  it('reports an encrypted (ESP) payload, in IPv6 and in IPv4', () => {
    const state = createDecodeState();
    expect(
      decodePacket(LinkType.RAW, ipv6({ src: '::1', dst: '::2', next: 50 }, new Uint8Array(32)), info, state),
    ).toBeNull();
    expect(
      decodePacket(
        LinkType.RAW,
        ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 50 }, new Uint8Array(32)),
        info,
        state,
      ),
    ).toBeNull();
    expect(state.stats).toMatchObject({ encrypted: 2, nonTcp: 0 });
  });

  it.skipIf(!hasTshark)(
    `counts as encrypted the ESP packets tshark finds in a real IPsec capture ${NEEDS_TSHARK}`,
    async () => {
      const file = join(FIXTURES_DIR, 'pcap', 'suricata-verify', 'eve-flow-esp.pcap');
      const theirs = (await tshark(file, ['-Y', 'esp', '-T', 'fields', '-e', 'frame.number']))
        .split('\n')
        .filter((l) => l !== '');
      const state = createDecodeState();
      let frame = 0;
      await readCapture(readFileSync(file), (p) => {
        decodePacket(p.linkType, p.data, { timestampUs: p.timestampUs, frame: ++frame }, state);
      });
      expect(theirs.length).toBe(8);
      expect(state.stats).toMatchObject({ encrypted: theirs.length, nonTcp: frame - theirs.length, tcp: 0 });
    },
  );

  it('reports ESP in UDP through NAT (RFC 3948, port 4500) as encrypted, and IKE and keepalives on that port as not TCP', () => {
    const state = createDecodeState();
    const udp4500 = (payload: number[]): Uint8Array =>
      ipv4(
        { src: '10.0.0.1', dst: '192.0.2.9', protocol: 17 },
        Uint8Array.from([0x11, 0x94, 0x11, 0x94, 0, 8 + payload.length, 0, 0, ...payload]),
      );
    // An ESP packet: SPI 0x1234abcd, sequence number 1, then ciphertext.
    decodePacket(
      LinkType.RAW,
      udp4500([0x12, 0x34, 0xab, 0xcd, 0, 0, 0, 1, ...new Array<number>(24).fill(9)]),
      info,
      state,
    );
    expect(state.stats).toMatchObject({ encrypted: 1, nonTcp: 0 });
    // IKE after the Non-ESP Marker, and a NAT-keepalive.
    decodePacket(LinkType.RAW, udp4500([0, 0, 0, 0, ...new Array<number>(28).fill(1)]), info, state);
    decodePacket(LinkType.RAW, udp4500([0xff]), info, state);
    expect(state.stats).toMatchObject({ encrypted: 1, nonTcp: 2, malformed: 0 });
  });
});

describe('IP fragment reassembly', () => {
  const payload = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
  const segment = tcp({ sport: 40000, dport: 443, seq: 1, flags: 'AP', payload });

  /** IPv4 fragments of `segment`, 8-byte-aligned pieces of `size` bytes. */
  function fragments4(size: number, id = 0x1234): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let off = 0; off < segment.length; off += size) {
      const part = segment.subarray(off, off + size);
      out.push(
        ipv4(
          { src: '10.1.1.1', dst: '10.2.2.2', id, fragmentOffset: off, moreFragments: off + size < segment.length },
          part,
        ),
      );
    }
    return out;
  }

  it('reassembles IPv4 fragments arriving out of order, on the frame that completes them', () => {
    const state = createDecodeState();
    const frags = fragments4(1480);
    const order = [2, 0, 1];
    const results = order.map((k, i) =>
      decodePacket(LinkType.RAW, frags[k]!, { timestampUs: i, frame: 10 + i }, state),
    );
    expect(results.slice(0, 2)).toEqual([null, null]);
    const s = results[2]!;
    expect(toHex(s.payload)).toBe(toHex(payload));
    expect([s.frame, s.src, s.dst, s.srcPort]).toEqual([12, '10.1.1.1', '10.2.2.2', 40000]);
    expect(state.stats).toMatchObject({ reassembled: 1, fragments: 0, tcp: 1 });
    expect(state.fragments.size).toBe(0);
  });

  it('keeps the first arrival of overlapping fragment bytes', () => {
    const state = createDecodeState();
    const first = ipv4({ src: '10.1.1.1', dst: '10.2.2.2', id: 5, moreFragments: true }, segment.subarray(0, 1600));
    const evil = segment.slice(1000, 2000).fill(0x41);
    const overlap = ipv4({ src: '10.1.1.1', dst: '10.2.2.2', id: 5, fragmentOffset: 1000, moreFragments: true }, evil);
    const last = ipv4({ src: '10.1.1.1', dst: '10.2.2.2', id: 5, fragmentOffset: 2000 }, segment.subarray(2000));
    expect(decodePacket(LinkType.RAW, first, info, state)).toBeNull();
    expect(decodePacket(LinkType.RAW, overlap, info, state)).toBeNull();
    const s = decodePacket(LinkType.RAW, last, info, state)!;
    const expected = segment.slice(20);
    expected.fill(0x41, 1600 - 20, 2000 - 20);
    expect(toHex(s.payload)).toBe(toHex(expected));
    expect(state.stats.fragmentOverlaps).toBe(1);
  });

  // Found by comparing the two IPv4 readers on mutated frames: the last fragment used to size the
  // datagram without looking at the fragments held, and copying a longer one threw a RangeError.
  it('drops a datagram whose last fragment ends before a fragment already held', () => {
    const state = createDecodeState();
    const first = ipv4({ src: '10.1.1.1', dst: '10.2.2.2', id: 6, moreFragments: true }, segment.subarray(0, 1600));
    const last = ipv4({ src: '10.1.1.1', dst: '10.2.2.2', id: 6, fragmentOffset: 1000 }, segment.subarray(1000, 1200));
    expect(decodePacket(LinkType.RAW, first, { timestampUs: 1, frame: 1 }, state)).toBeNull();
    expect(decodePacket(LinkType.RAW, last, { timestampUs: 2, frame: 2 }, state)).toBeNull();
    expect(state.stats).toMatchObject({ fragments: 1, fragmentsDropped: 1, malformed: 1, reassembled: 0 });
    expect(state.stats.lastMalformed?.reason).toMatch(/disagrees with the datagram length/);
    expect(state.fragments.size).toBe(0);
  });

  it('reassembles IPv6 fragments', () => {
    const state = createDecodeState();
    const cut = 1232; // multiple of 8
    const a = ipv6(
      { src: '2001:db8::a', dst: '2001:db8::b', ext: [{ kind: 'fragment', offset: 0, more: true, id: 77 }] },
      segment.subarray(0, cut),
    );
    const b = ipv6(
      { src: '2001:db8::a', dst: '2001:db8::b', ext: [{ kind: 'fragment', offset: cut, more: false, id: 77 }] },
      segment.subarray(cut),
    );
    expect(decodePacket(LinkType.RAW, b, info, state)).toBeNull();
    const s = decodePacket(LinkType.RAW, a, info, state)!;
    expect([s.src, s.ipVersion, toHex(s.payload)]).toEqual(['2001:db8::a', 6, toHex(payload)]);
  });

  it('reads the extension headers inside a reassembled IPv6 datagram', () => {
    const state = createDecodeState();
    const dest = Uint8Array.of(6, 0, 0, 0, 0, 0, 0, 0); // Destination Options: next TCP, 8 bytes
    const fragmentable = concat(dest, segment);
    const cut = 1200;
    const a = ipv6(
      { src: '2001:db8::a', dst: '2001:db8::b', next: 60, ext: [{ kind: 'fragment', offset: 0, more: true, id: 78 }] },
      fragmentable.subarray(0, cut),
    );
    const b = ipv6(
      {
        src: '2001:db8::a',
        dst: '2001:db8::b',
        next: 60,
        ext: [{ kind: 'fragment', offset: cut, more: false, id: 78 }],
      },
      fragmentable.subarray(cut),
    );
    expect(decodePacket(LinkType.RAW, a, info, state)).toBeNull();
    expect(toHex(decodePacket(LinkType.RAW, b, info, state)!.payload)).toBe(toHex(payload));
  });

  it('does not buffer fragments of datagrams that can carry no TCP (ICMP, SCTP)', () => {
    const state = createDecodeState();
    for (const protocol of [1, 132])
      decodePacket(
        LinkType.RAW,
        ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol, moreFragments: true }, new Uint8Array(800)),
        info,
        state,
      );
    expect(state.fragments.size).toBe(0);
    expect(state.stats.nonTcp).toBe(2);
  });

  it('reassembles fragments of UDP datagrams (a tunnel may be inside), and counts one that holds none as not TCP', () => {
    const state = createDecodeState();
    // A UDP datagram from port 5353 to 5353 (no tunnel's), 1,608 bytes, in two fragments.
    const datagram = new Uint8Array(1608);
    datagram.set([0x14, 0xe9, 0x14, 0xe9, 0x06, 0x48]);
    const first = ipv4(
      { src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, moreFragments: true },
      datagram.subarray(0, 800),
    );
    const second = ipv4(
      { src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, fragmentOffset: 800 },
      datagram.subarray(800),
    );
    expect(decodePacket(LinkType.RAW, first, info, state)).toBeNull();
    expect(state.fragments.size).toBe(1);
    expect(decodePacket(LinkType.RAW, second, info, state)).toBeNull();
    expect(state.fragments.size).toBe(0);
    expect(state.stats).toMatchObject({ fragments: 0, reassembled: 1, nonTcp: 1, malformed: 0 });
  });

  it('drops the oldest datagram when maxDatagrams are pending', () => {
    const state = createDecodeState({ maxDatagrams: 2 });
    for (const id of [1, 2, 3]) decodePacket(LinkType.RAW, fragments4(1480, id)[0]!, info, state);
    expect(state.fragments.size).toBe(2);
    expect(state.stats.fragmentsDropped).toBe(1);
    // Datagram 1 is gone: its remaining fragments cannot complete it.
    const rest = fragments4(1480, 1).slice(1);
    expect(rest.map((f) => decodePacket(LinkType.RAW, f, info, state))).toEqual([null, null]);
  });

  it('evicts the oldest datagram still pending: completed and dropped ones are passed over', () => {
    const state = createDecodeState({ maxDatagrams: 2 });
    const feed = (f: Uint8Array) => decodePacket(LinkType.RAW, f, info, state);
    const [a1, a2, a3] = fragments4(1480, 1);
    // Datagram 1 pending, then 2 pending; 1 completes; 3 arrives (room: no eviction).
    feed(a1!);
    feed(fragments4(1480, 2)[0]!);
    feed(a2!);
    expect(feed(a3!)).not.toBeNull();
    feed(fragments4(1480, 3)[0]!);
    expect(state.stats.fragmentsDropped).toBe(0);
    // Datagram 1's key comes back; the table is full, so the oldest pending (2) goes, not 3 or the new 1.
    feed(a1!);
    expect(state.stats.fragmentsDropped).toBe(1);
    expect([...state.fragments.keys()].length).toBe(2);
    const rest = (id: number) => fragments4(1480, id).slice(1).map(feed);
    expect(rest(2)).toEqual([null, null]);
    expect(state.stats.reassembled).toBe(1);
    // 2's late fragments started it again, evicting 3; 1 (arrived again) is still complete-able.
    const again = fragments4(1480, 1);
    expect(feed(again[1]!)).toBeNull();
    expect(feed(again[2]!)).not.toBeNull();
    expect(state.stats.reassembled).toBe(2);
  });

  it('counts the fragments of a timed-out datagram once, as it counts those of any dropped one', () => {
    const state = createDecodeState({ timeoutUs: 1_000_000 });
    const [a, b] = fragments4(1480, 1);
    const packets = [a!, b!, ...fragments4(1480, 2)];
    packets.forEach((f, i) => {
      decodePacket(LinkType.RAW, f, { timestampUs: i === 0 ? 0 : 2_000_000 + i, frame: i + 1 }, state);
    });
    const s = state.stats;
    expect(s).toMatchObject({ fragmentsDropped: 1, reassembled: 1, tcp: 1 });
    // Packets: 2 of datagram 1 (held, then its datagram timed out), 3 of datagram 2 (one TCP segment).
    expect(s.tcp + s.nonTcp + s.unsupportedLinkType + s.malformed + s.fragments + s.encrypted).toBe(packets.length - 2);
  });

  it('drops a datagram whose fragments are older than the timeout', () => {
    const state = createDecodeState({ timeoutUs: 1_000_000 });
    const [a, b, c] = fragments4(1480);
    decodePacket(LinkType.RAW, a!, { timestampUs: 0, frame: 1 }, state);
    decodePacket(LinkType.RAW, b!, { timestampUs: 500_000, frame: 2 }, state);
    expect(decodePacket(LinkType.RAW, c!, { timestampUs: 2_000_000, frame: 3 }, state)).toBeNull();
    expect(state.stats.fragmentsDropped).toBe(1);
  });

  it('drops a datagram with more than maxFragmentsPerDatagram fragments', () => {
    const state = createDecodeState({ maxFragmentsPerDatagram: 4 });
    const frags = fragments4(512);
    expect(frags.length).toBe(6);
    expect(frags.map((f) => decodePacket(LinkType.RAW, f, info, state)).every((x) => x === null)).toBe(true);
    expect(state.stats.fragmentsDropped).toBeGreaterThan(0);
  });

  it('drops a datagram that would exceed 65535 bytes', () => {
    const state = createDecodeState();
    const huge = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', id: 3, fragmentOffset: 65528 }, new Uint8Array(16));
    expect(decodePacket(LinkType.RAW, huge, info, state)).toBeNull();
    expect(state.stats.fragmentsDropped).toBe(1);
    expect(state.fragments.size).toBe(0);
  });
});

describe('ipv6Text', () => {
  // RFC 5952, Sections 4.2.1-4.2.3 and 4.3.
  it.each([
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['2001:DB8:0:0:0:0:0:0', '2001:db8::'],
  ])('writes %s as %s', (full, short) => {
    expect(ipv6Text(Uint8Array.from(v6(full)))).toBe(short);
  });
});

// newBytes is used to hand-build one odd frame: an IPv6 header whose extension header overruns.
describe('decodePacket on an IPv6 extension header longer than the packet', () => {
  it('returns null and counts it malformed', () => {
    const state = createDecodeState();
    const bad = newBytes()
      .u32(0x60000000)
      .u16(8)
      .u8(0)
      .u8(64)
      .bytes(v6('::1'))
      .bytes(v6('::2'))
      .u8(6)
      .u8(10)
      .bytes(new Uint8Array(6))
      .finish();
    expect(decodePacket(LinkType.RAW, bad, info, state)).toBeNull();
    expect(state.stats.malformed).toBe(1);
  });
});

describe('per-packet counters', () => {
  // A fragment whose offset reaches past 65,535 bytes (found by the fuzzer, issue 8): the datagram
  // is dropped and the packet itself must still be counted, as malformed.
  it('counts a fragment refused on arrival as malformed, so every packet lands in one counter', () => {
    const frame = Uint8Array.from(
      Buffer.from(
        'f4c88a77366b00187d39311708004500004ed5abffff7206009c6a0d6b15efac1b071f01bbd4fc3a7d718ec984d69b501882c8a4c400001703030021000000000000001c1bbb044ff510093f93cbc9dc46ab5c786fa6d800fcd67792c3',
        'hex',
      ),
    );
    const state = createDecodeState();
    expect(decodePacket(LinkType.ETHERNET, frame, { timestampUs: 1, frame: 1 }, state)).toBeNull();
    const s = state.stats;
    expect(s.tcp + s.nonTcp + s.unsupportedLinkType + s.malformed + s.fragments + s.encrypted).toBe(1);
    expect(s.malformed).toBe(1);
    expect(s.fragmentsDropped).toBe(1);
    expect(s.lastMalformed?.reason).toMatch(/65,535/);
  });
});
