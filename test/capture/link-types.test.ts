/**
 * Link types beyond Ethernet: the real handshakes of fixtures/pcap rewritten as PPP (with and
 * without RFC 1662's address, control and a full protocol field), PPP in HDLC-like framing, PPPoE,
 * Cisco HDLC, Linux NFLOG (TLVs in either byte order), Apple's PKTAP, and IEEE 802.11 data frames
 * (bare, after radiotap, after PPI; QoS, four addresses, HT Control, an FCS) give the same
 * connections, field for field, as the Ethernet frames they came from; tshark finds the same
 * ServerHellos in them. 802.11 frames that carry no packet we read are counted as such.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createDecodeState } from '../../src/capture/decode-state.js';
import { LinkType } from '../../src/capture/link-layer.js';
import { decodePacket } from '../../src/capture/packet.js';
import { analyzeCapture } from '../../src/capture/sessions.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { cat, ethernetFrames, innerIp, pcap, u16 } from '../helpers/rewrap.js';
import { hasTshark, NEEDS_TSHARK, serverHelloPairs } from './sessions-tshark.js';

/** The frame's IP packet under another link header: [link type, rewrite]. */
type Rewrite = [number, (type: number, ip: Uint8Array, frame: Uint8Array) => Uint8Array];

const pppProtocol = (type: number): number[] => u16(type === 0x86dd ? 0x0057 : 0x0021);

/** An NFLOG header and TLVs (length, type in little- or big-endian order) around the IP packet. */
function nflog(type: number, ip: Uint8Array, littleEndian: boolean): Uint8Array {
  const h16 = (n: number): number[] => (littleEndian ? [n & 0xff, n >> 8] : u16(n));
  const tlv = (t: number, value: Uint8Array | number[]): Uint8Array => {
    const v = Buffer.from(value);
    const pad = (4 - ((4 + v.length) % 4)) % 4;
    return cat(h16(4 + v.length), h16(t), v, new Array<number>(pad).fill(0));
  };
  return cat(
    [type === 0x86dd ? 10 : 2, 0],
    u16(42),
    tlv(1, [...u16(type), 3, 0]),
    tlv(10, [0]),
    tlv(5, [0, 0, 0, 2]),
    tlv(9, ip),
  );
}

/** Apple's PKTAP header (108 bytes, little-endian): length, record type 1 (a packet), the packet's DLT, the rest zero. */
function pktap(dlt: number): Uint8Array {
  const h = Buffer.alloc(108);
  h.writeUInt32LE(108, 0);
  h.writeUInt32LE(1, 4);
  h.writeUInt32LE(dlt, 8);
  h.write('en0', 12);
  return h;
}

const BSSID = [2, 0, 0, 0, 0, 0x10];

/**
 * The frame as an IEEE 802.11 data frame from a station to its access point (To DS), or between two
 * access points (`wds`: To DS and From DS, four addresses); `qos` makes it a QoS data frame, `htc`
 * adds an HT Control field to that; then LLC/SNAP and the EtherType (IEEE 802.11-2020, 9.2-9.3).
 */
function dot11(
  type: number,
  ip: Uint8Array,
  frame: Uint8Array,
  o: { qos?: boolean; wds?: boolean; htc?: boolean } = {},
): Uint8Array {
  const [da, sa] = [frame.subarray(0, 6), frame.subarray(6, 12)];
  const flags = (o.wds ? 0x03 : 0x01) | (o.htc ? 0x80 : 0);
  return cat(
    [o.qos ? 0x88 : 0x08, flags, 0x2c, 0x00],
    BSSID,
    sa,
    da,
    // Sequence Control: fragment 0, sequence number 1.
    [0x10, 0x00],
    o.wds ? sa : [],
    o.qos ? [0x00, 0x00] : [],
    o.htc ? [0, 0, 0, 0] : [],
    [0xaa, 0xaa, 0x03, 0, 0, 0],
    u16(type),
    ip,
  );
}

/** A radiotap header with the Flags field saying an FCS ends the frame, the frame, and its FCS (CRC-32, little-endian). */
function radiotapWithFcs(frame: Uint8Array): Uint8Array {
  const fcs = Buffer.alloc(4);
  fcs.writeUInt32LE(crc32(frame));
  return cat([0, 0, 9, 0, 0x02, 0, 0, 0, 0x10], frame, fcs);
}

const REWRITES: Record<string, Rewrite> = {
  'IEEE 802.11 data': [LinkType.IEEE802_11, (t, ip, frame) => dot11(t, ip, frame)],
  'IEEE 802.11 QoS data between access points (4 addresses)': [
    LinkType.IEEE802_11,
    (t, ip, frame) => dot11(t, ip, frame, { qos: true, wds: true }),
  ],
  'IEEE 802.11 QoS data with HT Control, after radiotap, with an FCS': [
    LinkType.IEEE802_11_RADIOTAP,
    (t, ip, frame) => radiotapWithFcs(dot11(t, ip, frame, { qos: true, htc: true })),
  ],
  'IEEE 802.11 data after PPI': [
    LinkType.PPI,
    (t, ip, frame) => cat([0, 0, 8, 0, LinkType.IEEE802_11, 0, 0, 0], dot11(t, ip, frame)),
  ],
  'PKTAP around Ethernet': [LinkType.PKTAP, (_t, _ip, frame) => cat(pktap(1), frame)],
  'PKTAP around raw IP (DLT_RAW, 12)': [LinkType.PKTAP, (_t, ip) => cat(pktap(12), ip)],
  PPP: [LinkType.PPP, (t, ip) => cat([0xff, 0x03], pppProtocol(t), ip)],
  'PPP without address and control, protocol compressed': [LinkType.PPP, (t, ip) => cat([pppProtocol(t)[1]!], ip)],
  'PPP in HDLC-like framing': [LinkType.PPP_HDLC, (t, ip) => cat([0xff, 0x03], pppProtocol(t), ip)],
  PPPoE: [LinkType.PPP_ETHER, (t, ip) => cat([0x11, 0x00], u16(7), u16(ip.length + 2), pppProtocol(t), ip)],
  'Cisco HDLC': [LinkType.C_HDLC, (t, ip) => cat([0x0f, 0x00], u16(t), ip)],
  'NFLOG, little-endian TLVs': [LinkType.NFLOG, (t, ip) => nflog(t, ip, true)],
  'NFLOG, big-endian TLVs': [LinkType.NFLOG, (t, ip) => nflog(t, ip, false)],
};

const FIXTURES = readdirSync(join(FIXTURES_DIR, 'pcap')).filter((n) => n.endsWith('.pcapng'));
const scratch = mkdtempSync(join(tmpdir(), 'tlsprobe-link-types-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The fixture's frames rewritten: the capture's bytes, one frame for each. */
async function rewritten(name: string, [linkType, rewrite]: Rewrite): Promise<{ bare: Buffer; other: Buffer }> {
  const frames = await ethernetFrames(join(FIXTURES_DIR, 'pcap', name));
  const times = frames.map((f) => f.timestampUs);
  const other = frames.map((f) => {
    const { type, ip } = innerIp(f.data);
    return rewrite(type, ip, f.data);
  });
  return {
    bare: pcap(
      frames.map((f) => f.data),
      times,
    ),
    other: pcap(other, times, linkType),
  };
}

describe('link types around real handshakes', () => {
  for (const name of FIXTURES) {
    it(`${name}: each link type gives the connections of the Ethernet frames`, async () => {
      const keyLog = name.startsWith('tls12-keylog')
        ? readFileSync(join(FIXTURES_DIR, 'pcap', 'tls12-keylog.keys'), 'utf8')
        : undefined;
      const opts = keyLog === undefined ? {} : { keyLog };
      for (const [kind, rewrite] of Object.entries(REWRITES)) {
        const { bare, other } = await rewritten(name, rewrite);
        const a = await analyzeCapture(bare, opts);
        const b = await analyzeCapture(other, opts);
        expect(a.connections!.length).toBeGreaterThan(0);
        expect(b.connections, `${name} as ${kind}`).toEqual(a.connections);
        expect(b.stats.decode, kind).toMatchObject({ tcp: a.stats.decode.tcp, malformed: 0, unsupportedLinkType: 0 });
      }
    });
  }
});

describe.skipIf(!hasTshark)(`tshark reads the same ServerHellos in each link type ${NEEDS_TSHARK}`, () => {
  it('on the TLS 1.2 fixture', async () => {
    // tshark reads NFLOG's TLVs in the file's byte order (little-endian here).
    for (const [kind, rewrite] of Object.entries(REWRITES).filter(([k]) => k !== 'NFLOG, big-endian TLVs')) {
      const { other } = await rewritten('tls12-keylog.pcapng', rewrite);
      const file = join(scratch, `${kind.replace(/[^a-z0-9]+/gi, '-')}.pcap`);
      writeFileSync(file, other);
      const { ours, theirs } = await serverHelloPairs(file);
      expect(ours.length, kind).toBeGreaterThan(0);
      expect(ours, kind).toEqual(theirs);
    }
  });
});

describe('IEEE 802.11 frames that carry no packet we read', () => {
  it('are counted: protected, Null, management, fragments, A-MSDU, non-SNAP; nested wrappers are not followed', async () => {
    const [first] = await ethernetFrames(join(FIXTURES_DIR, 'pcap', 'tls12-keylog.pcapng'));
    const { type, ip } = innerIp(first!.data);
    const data = dot11(type, ip, first!.data);
    const qos = dot11(type, ip, first!.data, { qos: true });
    const edit = (f: Uint8Array, at: number, set: (b: number) => number): Uint8Array => {
      const c = Uint8Array.from(f);
      c[at] = set(c[at]!);
      return c;
    };
    const ppi = (dlt: number, inner: Uint8Array, length = 8): Uint8Array =>
      cat([0, 0, length, 0, dlt & 0xff, dlt >> 8, 0, 0], new Array<number>(length - 8).fill(0), inner);
    const cases: [string, number, Uint8Array, Partial<Record<string, number>>][] = [
      ['the data frame itself', LinkType.IEEE802_11, data, { tcp: 1 }],
      [
        'protected (the capture holds ciphertext)',
        LinkType.IEEE802_11,
        edit(data, 1, (b) => b | 0x40),
        { encrypted: 1 },
      ],
      ['a Null data frame', LinkType.IEEE802_11, edit(data, 0, () => 0x48), { nonTcp: 1 }],
      ['a beacon (management)', LinkType.IEEE802_11, edit(data, 0, () => 0x80), { nonTcp: 1 }],
      ['More Fragments set', LinkType.IEEE802_11, edit(data, 1, (b) => b | 0x04), { unsupportedLinkType: 1 }],
      [
        'a later fragment (fragment number 1)',
        LinkType.IEEE802_11,
        edit(data, 22, (b) => b | 0x01),
        { unsupportedLinkType: 1 },
      ],
      [
        'an A-MSDU (QoS Control bit 7)',
        LinkType.IEEE802_11,
        edit(qos, 24, (b) => b | 0x80),
        { unsupportedLinkType: 1 },
      ],
      ['a body that is not LLC/SNAP', LinkType.IEEE802_11, edit(data, 24, () => 0x42), { nonTcp: 1 }],
      ['radiotap of version 1', LinkType.IEEE802_11_RADIOTAP, cat([1, 0, 8, 0, 0, 0, 0, 0], data), { malformed: 1 }],
      [
        'radiotap with a header length below 8',
        LinkType.IEEE802_11_RADIOTAP,
        cat([0, 0, 4, 0], data),
        { malformed: 1 },
      ],
      ['PPI with a header length below 8', LinkType.PPI, cat([0, 0, 4, 0, 105, 0, 0, 0], data), { malformed: 1 }],
      ['PPI inside PPI', LinkType.PPI, ppi(LinkType.PPI, ppi(LinkType.IEEE802_11, data)), { nonTcp: 1 }],
      ['PKTAP inside PPI', LinkType.PPI, ppi(LinkType.PKTAP, cat(pktap(1), first!.data)), { nonTcp: 1 }],
      ['PPI inside PKTAP', LinkType.PKTAP, cat(pktap(LinkType.PPI), ppi(LinkType.IEEE802_11, data)), { nonTcp: 1 }],
    ];
    for (const [what, linkType, frame, counted] of cases) {
      const state = createDecodeState();
      const seg = decodePacket(linkType, frame, { timestampUs: 1, frame: 1 }, state);
      expect(seg !== null, what).toBe(counted.tcp === 1);
      const zero = { tcp: 0, nonTcp: 0, unsupportedLinkType: 0, malformed: 0, encrypted: 0 };
      expect(state.stats, what).toMatchObject({ ...zero, ...counted });
    }
  });
});
