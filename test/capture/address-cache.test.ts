/**
 * The address texts of the common-packet decoder come from direct-mapped caches (ip.ts), where two
 * addresses may share a slot. A packet whose source and destination share one must still carry
 * both texts: the real TLS 1.2 handshake of fixtures/pcap, its client moved to an address that
 * shares the server's slot, gives the same connection with the new client address (and tshark
 * reads the same addresses), and hand-made IPv4 and IPv6 frames decode as the Reader-based decoder
 * decodes them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ipv4Slot, ipv6SlotAt } from '../../src/capture/ip.js';
import { LinkType } from '../../src/capture/link-layer.js';
import { decodePacket, decodePacketWithReader } from '../../src/capture/packet.js';
import { analyzeCapture } from '../../src/capture/sessions.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { ethernetFrames, pcap } from '../helpers/rewrap.js';
import { ethernet, ipv4, ipv6, tcp, v6 } from './build.js';
import { hasTshark, NEEDS_TSHARK, tshark } from './sessions-tshark.js';

const v4Number = (s: string): number => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);
const v4Text = (n: number): string => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');

/** An IPv4 address of 198.18.0.0/15 (RFC 2544's benchmarking range) in the cache slot of `other`. */
function sharingSlotV4(other: string): string {
  const slot = ipv4Slot(v4Number(other));
  for (let n = v4Number('198.18.0.0'); n < v4Number('198.20.0.0'); n++) {
    if (n !== v4Number(other) && ipv4Slot(n) === slot) return v4Text(n);
  }
  throw new Error(`no address of 198.18.0.0/15 shares the slot of ${other}`);
}

/** An IPv6 address of 2001:db8::/32 (documentation) in the cache slot of `other`. */
function sharingSlotV6(other: string): string {
  const slot = ipv6SlotAt(Uint8Array.from(v6(other)), 0);
  // From 1:0 on, so that the text is the canonical one (RFC 5952) the decoders write.
  for (let n = 0x10000; n < 1 << 22; n++) {
    const text = `2001:db8::${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
    if (text !== other && ipv6SlotAt(Uint8Array.from(v6(text)), 0) === slot) return text;
  }
  throw new Error(`no address of 2001:db8::/96 shares the slot of ${other}`);
}

const segment = tcp({ sport: 50_000, dport: 443, seq: 7, ack: 9, flags: 'AP', payload: new Uint8Array([22, 3, 1]) });

describe('source and destination in the same address-cache slot', () => {
  const versions = [
    {
      version: 'IPv4',
      dst: '10.255.0.1',
      sharing: sharingSlotV4,
      frame: (src: string, dst: string) => ethernet(0x0800, ipv4({ src, dst }, segment)),
    },
    {
      version: 'IPv6',
      dst: '2001:db8::1',
      sharing: sharingSlotV6,
      frame: (src: string, dst: string) => ethernet(0x86dd, ipv6({ src, dst }, segment)),
    },
  ];

  for (const v of versions)
    it(`${v.version}: each address keeps its own text, as the Reader-based decoder reads them`, () => {
      const src = v.sharing(v.dst);
      const info = { timestampUs: 1, frame: 1 };
      for (const [a, b] of [
        [src, v.dst],
        // And the other way round, with both texts now made.
        [v.dst, src],
      ] as const) {
        const frame = v.frame(a, b);
        const seg = decodePacket(LinkType.ETHERNET, frame, info);
        expect(seg).toMatchObject({ src: a, dst: b });
        expect(seg).toEqual(decodePacketWithReader(LinkType.ETHERNET, frame, info));
      }
    });

  const fixture = join(FIXTURES_DIR, 'pcap', 'tls12-keylog.pcapng');

  /** The fixture's frames with the client's IPv4 address, as source and destination, replaced by one in the server's slot. */
  async function movedClient(): Promise<{ frames: Buffer[]; file: Buffer; client: string; server: string }> {
    const original = await ethernetFrames(fixture);
    const first = Buffer.from(original[0]!.data);
    // The first frame is the client's SYN: Ethernet (14) + IPv4 source at 26, destination at 30.
    const [oldClient, server] = [first.readUInt32BE(26), first.readUInt32BE(30)];
    const client = sharingSlotV4(v4Text(server));
    const frames = original.map((f) => {
      const b = Buffer.from(f.data);
      for (const i of [26, 30]) if (b.readUInt32BE(i) === oldClient) b.writeUInt32BE(v4Number(client), i);
      return b;
    });
    const times = original.map((f) => f.timestampUs);
    return { frames, file: pcap(frames, times), client, server: v4Text(server) };
  }

  it("a real handshake whose client shares the server's slot: the same connection, the new client address", async () => {
    const bare = (await analyzeCapture(readFileSync(fixture))).connections!;
    const { file, client, server } = await movedClient();
    const moved = (await analyzeCapture(file)).connections!;
    expect(bare.length).toBeGreaterThan(0);
    expect(moved.map((c) => [c.client.addr, c.server.addr])).toEqual(bare.map(() => [client, server]));
    // Everything else as it was.
    const strip = (c: (typeof bare)[0]) => ({ ...c, client: { ...c.client, addr: '' } });
    expect(moved.map(strip)).toEqual(bare.map(strip));
  });

  it.skipIf(!hasTshark)(`each packet's addresses are tshark's (${NEEDS_TSHARK})`, async () => {
    const { frames, file } = await movedClient();
    const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-address-cache-'));
    try {
      const path = join(dir, 'moved.pcap');
      writeFileSync(path, file);
      const theirs = (await tshark(path, ['-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst'])).split('\n');
      const ours = frames.map((f, i) => {
        const seg = decodePacket(LinkType.ETHERNET, f, { timestampUs: 0, frame: i + 1 });
        return `${seg!.src}\t${seg!.dst}`;
      });
      expect(ours).toEqual(theirs.slice(0, ours.length));
      expect(new Set(ours).size).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
