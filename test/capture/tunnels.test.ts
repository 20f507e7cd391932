/**
 * Tunnels: the real handshakes of fixtures/pcap (and, with ../shared/corpus, of the corpus's
 * Ethernet captures) put inside each tunnel the decoder reads (IP in IP, GRE with its options,
 * ERSPAN II/III, PPTP's GRE, VXLAN, VXLAN-GPE, Geneve, GTP-U with an extension header, Teredo,
 * GRE in UDP, MPLS, and two tunnels nested) give the same connections, field for field, as the
 * same packets captured bare; tshark finds the same ServerHellos in them; Zeek's two captures of
 * TLS in Geneve and in GTP-U (fixtures/pcap/zeek) give what tshark gives; and a packet nested in
 * more tunnels than MAX_TUNNEL_DEPTH is malformed, not a stack overflow.
 *
 * The tunnel headers are written here from their RFCs (test-only); the bytes inside are the
 * captured ones.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDecodeState } from '../../src/capture/decode-state.js';
import { MAX_TUNNEL_DEPTH } from '../../src/capture/link-layer.js';
import { decodePacket } from '../../src/capture/packet.js';
import { analyzeCapture } from '../../src/capture/sessions.js';
import { clientServerName } from '../../src/tls/client-hello.js';
import { corpusPath, hasCorpusFile } from '../helpers/corpus.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { cat, ethernetFrames, innerIp, pcap, u16, u32, withoutFrames } from '../helpers/rewrap.js';
import type { Frame } from '../helpers/rewrap.js';
import { hasTshark, NEEDS_TSHARK, serverHelloPairs } from './sessions-tshark.js';

const MACS = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];

/** An outer Ethernet + IPv4 packet (192.0.2.1 → 192.0.2.2) of `protocol` around `payload`. */
function outer4(
  protocol: number,
  payload: Uint8Array,
  fragment?: { offset: number; more: boolean; id: number },
): Uint8Array {
  const flags = fragment ? (fragment.more ? 0x2000 : 0) | (fragment.offset / 8) : 0;
  const ip = [0x45, 0, ...u16(20 + payload.length), ...u16(fragment?.id ?? 1), ...u16(flags), 64, protocol, 0, 0];
  return cat(MACS, u16(0x0800), ip, [192, 0, 2, 1, 192, 0, 2, 2], payload);
}

/** An outer Ethernet + IPv6 packet (2001:db8::1 → 2001:db8::2) whose next header is `next`. */
function outer6(next: number, payload: Uint8Array): Uint8Array {
  const addr = (n: number): number[] => [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), n];
  return cat(MACS, u16(0x86dd), [0x60, 0, 0, 0], u16(payload.length), [next, 64], addr(1), addr(2), payload);
}

const udp = (src: number, dst: number, payload: Uint8Array): Uint8Array =>
  cat(u16(src), u16(dst), u16(8 + payload.length), [0, 0], payload);

/** Wraps one Ethernet frame; returns the frames that carry it (one, or two fragments). */
type Wrap = (frame: Uint8Array) => Uint8Array[];

const GRE_PLAIN = (proto: number, body: Uint8Array): Uint8Array => cat(u16(0), u16(proto), body);

const WRAPS: Record<string, Wrap> = {
  'IP in IP (IPv4 outer)': (f) => {
    const { type, ip } = innerIp(f);
    return [outer4(type === 0x86dd ? 41 : 4, ip)];
  },
  'IP in IPv6': (f) => {
    const { type, ip } = innerIp(f);
    return [outer6(type === 0x86dd ? 41 : 4, ip)];
  },
  GRE: (f) => {
    const { type, ip } = innerIp(f);
    return [outer4(47, GRE_PLAIN(type, ip))];
  },
  'GRE with checksum, key and sequence number, over IPv6': (f) => {
    const { type, ip } = innerIp(f);
    return [outer6(47, cat(u16(0xb000), u16(type), [0, 0, 0, 0], u32(0xdeadbeef), u32(7), ip))];
  },
  'GRE bridging Ethernet (0x6558)': (f) => [outer4(47, cat(u16(0x2000), u16(0x6558), u32(42), f))],
  'ERSPAN type I': (f) => [outer4(47, cat(u16(0), u16(0x88be), f))],
  'ERSPAN type II': (f) => [outer4(47, cat(u16(0x1000), u16(0x88be), u32(9), [0x10, 0x00, 0x00, 0x01], u32(0), f))],
  'ERSPAN type III with a platform sub-header': (f) => [
    outer4(
      47,
      cat(u16(0x1000), u16(0x22eb), u32(9), [0x20, 0, 0, 1], u32(1234), [0, 0, 0, 0x01], new Array(8).fill(0), f),
    ),
  ],
  "PPTP's GRE with PPP": (f) => {
    const { type, ip } = innerIp(f);
    const ppp = type === 0x86dd ? [0xff, 0x03, 0x00, 0x57] : [0xff, 0x03, 0x00, 0x21];
    return [outer4(47, cat(u16(0x3081), u16(0x880b), u16(ip.length + 4), u16(1), u32(3), u32(2), ppp, ip))];
  },
  VXLAN: (f) => [outer4(17, udp(54_321, 4789, cat([0x08, 0, 0, 0], u32(0x00_01_00 << 8), f)))],
  'VXLAN-GPE carrying IP': (f) => {
    const { type, ip } = innerIp(f);
    return [outer4(17, udp(54_321, 4790, cat([0x0c, 0, 0, type === 0x86dd ? 2 : 1], u32(5 << 8), ip)))];
  },
  'Geneve with options': (f) => [
    outer4(17, udp(40_000, 6081, cat([0x02, 0x00], u16(0x6558), u32(77 << 8), u16(0x0103), [0x80, 1], u32(1), f))),
  ],
  'GTP-U with an extension header': (f) => {
    const { ip } = innerIp(f);
    // PDU Session Container (0x85): length 1 word, 2 bytes of content, no next header.
    const ext = [0, 0, 0, 0x85, 0x01, 0x00, 0x09, 0x00];
    return [outer4(17, udp(2152, 2152, cat([0x34, 0xff], u16(ext.length + ip.length), u32(0x1234), ext, ip)))];
  },
  'GRE in UDP': (f) => {
    const { type, ip } = innerIp(f);
    return [outer4(17, udp(50_000, 4754, GRE_PLAIN(type, ip)))];
  },
  MPLS: (f) => {
    const { ip } = innerIp(f);
    return [cat(MACS, u16(0x8847), u32((16 << 12) | 64), u32((17 << 12) | 0x100 | 64), ip)];
  },
  'GTP-U inside VXLAN (two tunnels)': (f) => {
    const { ip } = innerIp(f);
    const gtp = outer4(17, udp(2152, 2152, cat([0x30, 0xff], u16(ip.length), u32(1), ip)));
    return [outer4(17, udp(54_321, 4789, cat([0x08, 0, 0, 0], u32(1 << 8), gtp)))];
  },
  'VXLAN, outer packet fragmented': (f) => {
    const whole = outer4(17, udp(54_321, 4789, cat([0x08, 0, 0, 0], u32(1 << 8), f))).subarray(34);
    if (whole.length <= 256) return [outer4(17, whole)];
    return [
      outer4(17, whole.subarray(0, 256), { offset: 0, more: true, id: 99 }),
      outer4(17, whole.subarray(256), { offset: 256, more: false, id: 99 }),
    ];
  },
};

/** Every frame wrapped, each wrapping frame keeping the time of the frame it carries. */
function wrapAll(frames: readonly Frame[], wrap: Wrap): { out: Uint8Array[]; times: number[] } {
  const out: Uint8Array[] = [];
  const times: number[] = [];
  for (const f of frames)
    for (const w of wrap(f.data)) {
      out.push(w);
      times.push(f.timestampUs);
    }
  return { out, times };
}

/** IPv6-only tunnels: Teredo carries IPv6 alone. */
const TEREDO: Wrap = (f) => {
  const { type, ip } = innerIp(f);
  if (type !== 0x86dd) return [f];
  // An origin indication (RFC 4380, Section 5.1.1) before the IPv6 packet.
  return [outer4(17, udp(3544, 50_001, cat([0, 0], u16(0xffff), [0x3f, 0, 0, 0xfe], ip)))];
};

const FIXTURES = readdirSync(join(FIXTURES_DIR, 'pcap'))
  .filter((n) => n.endsWith('.pcapng'))
  .map((n) => ({ name: n, path: join(FIXTURES_DIR, 'pcap', n), keyLog: n.startsWith('tls12-keylog') }));
/** Corpus captures with Ethernet frames, IPv4 and IPv6 among them (used when ../shared/corpus is there). */
const CORPUS = ['wireshark/test/captures/tls13-rfc8446.pcap', 'wireshark-notes/tls/all/dump.pcapng']
  .filter(hasCorpusFile)
  .map((rel) => ({ name: rel, path: corpusPath(rel), keyLog: false }));

const scratch = mkdtempSync(join(tmpdir(), 'tlsprobe-tunnels-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Analyses `frames` (as a classic pcap); returns the connections and the decoder's counters. */
async function analyse(frames: readonly Uint8Array[], times: readonly number[], keyLog?: string) {
  const r = await analyzeCapture(pcap(frames, times), keyLog === undefined ? {} : { keyLog });
  return { connections: r.connections!, decode: r.stats.decode };
}

describe('tunnels around real handshakes', () => {
  for (const cap of [...FIXTURES, ...CORPUS]) {
    it(`${cap.name}: each tunnel gives the connections of the bare packets`, async () => {
      const frames = await ethernetFrames(cap.path);
      expect(frames.length).toBeGreaterThan(0);
      const keyLog = cap.keyLog ? readFileSync(join(FIXTURES_DIR, 'pcap', 'tls12-keylog.keys'), 'utf8') : undefined;
      const times = frames.map((f) => f.timestampUs);
      const bare = await analyse(
        frames.map((f) => f.data),
        times,
        keyLog,
      );
      expect(bare.connections.length).toBeGreaterThan(0);
      const hasV6 = frames.some((f) => innerIp(f.data).type === 0x86dd);
      const wraps = { ...WRAPS, ...(hasV6 ? { Teredo: TEREDO } : {}) };
      for (const [kind, wrap] of Object.entries(wraps)) {
        const { out, times: outTimes } = wrapAll(frames, wrap);
        const wrapped = await analyse(out, outTimes, keyLog);
        const sameFrames = out.length === frames.length;
        expect(sameFrames ? wrapped.connections : withoutFrames(wrapped.connections), `${cap.name} in ${kind}`).toEqual(
          sameFrames ? bare.connections : withoutFrames(bare.connections),
        );
        // MPLS is peeled like a VLAN tag, not a tunnel over IP.
        expect(wrapped.decode.decapsulated, kind).toBe(kind === 'MPLS' ? 0 : bare.decode.tcp);
        expect(wrapped.decode.malformed, kind).toBe(0);
      }
    });
  }
});

describe.skipIf(!hasTshark)(`tshark finds the same ServerHellos inside the tunnels ${NEEDS_TSHARK}`, () => {
  it('on the TLS 1.2 fixture in each tunnel', async () => {
    const frames = await ethernetFrames(join(FIXTURES_DIR, 'pcap', 'tls12-keylog.pcapng'));
    for (const [kind, wrap] of Object.entries(WRAPS)) {
      const { out, times } = wrapAll(frames, wrap);
      const file = join(scratch, `${kind.replace(/[^a-z0-9]+/gi, '-')}.pcap`);
      writeFileSync(file, pcap(out, times));
      const { ours, theirs } = await serverHelloPairs(file);
      expect(ours.length, kind).toBeGreaterThan(0);
      expect(ours, kind).toEqual(theirs);
    }
  });
});

describe("Zeek's captures of TLS inside tunnels", () => {
  const zeek = (n: string): string => join(FIXTURES_DIR, 'pcap', 'zeek', n);
  const at = (addr: string, port: number) => ({ addr, port });
  type Want = { client: object; server: object; sni: string | null; version: number; suite: number };
  // What tshark 4 shows of each (ip.src/ip.dst inside the tunnel, tls.handshake.version, ciphersuite).
  const cases: [string, Want][] = [
    [
      'geneve-47101.pcap',
      {
        client: at('192.168.0.107', 45_474),
        server: at('145.40.68.75', 443),
        sni: 'www.kernel.org',
        version: 0x0303,
        suite: 0xc02f,
      },
    ],
    [
      'gtp6_gtp_0x32.pcap',
      {
        client: at('10.222.10.10', 44_960),
        server: at('173.194.69.188', 5228),
        sni: null,
        version: 0x0301,
        suite: 0x0039,
      },
    ],
  ];
  for (const [name, want] of cases) {
    it(`${name}: the connection inside, and its packets counted as decapsulated`, async () => {
      const r = await analyzeCapture(readFileSync(zeek(name)));
      expect(
        r.connections!.map((c) => ({ client: c.client, server: c.server, version: c.version, suite: c.cipherSuite })),
      ).toEqual([{ client: want.client, server: want.server, version: want.version, suite: want.suite }]);
      const hello = r.connections![0]!.clientHello?.hello;
      expect(hello && 'extensions' in hello ? clientServerName(hello) : null).toBe(want.sni);
      expect(r.stats.decode.decapsulated).toBe(r.stats.decode.tcp);
      expect(r.stats.decode.tcp).toBeGreaterThan(0);
    });
    it.skipIf(!hasTshark)(`${name}: the same ServerHellos as tshark ${NEEDS_TSHARK}`, async () => {
      const { ours, theirs } = await serverHelloPairs(zeek(name));
      expect(ours).toEqual(theirs);
    });
  }
});

describe('nesting', () => {
  /** A TCP SYN from 10.0.0.1:1234 to 10.0.0.2:443 inside `n` IP-in-IP headers, on Ethernet. */
  function nested(n: number): Uint8Array {
    const tcp = [...u16(1234), ...u16(443), ...u32(1), ...u32(0), 0x50, 0x02, ...u16(65_535), 0, 0, 0, 0];
    let ip = cat([0x45, 0], u16(40), [0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], tcp);
    for (let i = 0; i < n; i++)
      ip = cat([0x45, 0], u16(20 + ip.length), [0, 1, 0, 0, 64, 4, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2], ip);
    return cat(MACS, u16(0x0800), ip);
  }

  it(`decodes ${MAX_TUNNEL_DEPTH} tunnels deep and counts the packet once`, () => {
    const state = createDecodeState();
    const seg = decodePacket(1, nested(MAX_TUNNEL_DEPTH), { timestampUs: 0, frame: 1 }, state);
    expect(seg && { src: seg.src, dst: seg.dst, dstPort: seg.dstPort }).toEqual({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      dstPort: 443,
    });
    expect(state.stats).toMatchObject({ tcp: 1, decapsulated: 1, malformed: 0 });
  });

  it('calls a packet in deeper tunnels malformed, with the reason', () => {
    const state = createDecodeState();
    expect(decodePacket(1, nested(MAX_TUNNEL_DEPTH + 1), { timestampUs: 0, frame: 1 }, state)).toBeNull();
    expect(state.stats).toMatchObject({ tcp: 0, decapsulated: 0, malformed: 1 });
    expect(state.stats.lastMalformed?.reason).toContain(`tunnels nested more than ${MAX_TUNNEL_DEPTH} deep`);
  });

  it('does not read UDP on other ports, nor a VXLAN header without its I flag, as a tunnel', () => {
    const state = createDecodeState();
    const inner = nested(0);
    expect(decodePacket(1, outer4(17, udp(53, 40_000, inner)), { timestampUs: 0, frame: 1 }, state)).toBeNull();
    expect(
      decodePacket(1, outer4(17, udp(1, 4789, cat(new Array(8).fill(0), inner))), { timestampUs: 0, frame: 2 }, state),
    ).toBeNull();
    expect(state.stats).toMatchObject({ tcp: 0, nonTcp: 2, malformed: 0 });
  });
});
