/**
 * Link types beyond Ethernet: the real handshakes of fixtures/pcap rewritten as PPP (with and
 * without RFC 1662's address, control and a full protocol field), PPP in HDLC-like framing, PPPoE,
 * Cisco HDLC, Linux NFLOG (TLVs in either byte order) and Apple's PKTAP give the same connections, field for
 * field, as the Ethernet frames they came from; tshark finds the same ServerHellos in them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LinkType } from '../../src/capture/link-layer.js';
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

const REWRITES: Record<string, Rewrite> = {
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
