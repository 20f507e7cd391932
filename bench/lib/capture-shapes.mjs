// The captures of bench/shapes.mjs: classic pcap files (little-endian, µs, Ethernet) made once and
// kept in bench/out/captures/shapes/ (gitignored). Most are the capture benchmark's 30 MB capture
// (bench/lib/capture-synth.mjs, no key log) with every frame rewritten; four are made from scratch.
// Written with our own framing here, not by src/ (the code under test reads them).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bufferedOutput, cachedCapture } from './capture-synth.mjs';
import { REPO } from './env.mjs';

/** Bumped whenever a shape's making changes, so cached files are made again. */
const SHAPES_VERSION = 1;
const DIR = join(REPO, 'bench/out/captures/shapes');
const BASE_MB = 30;
const TCP = 6;

/** Yields { tsUs, data } for every Enhanced Packet Block of a little-endian pcapng with µs timestamps. */
function* pcapngFrames(path) {
  const b = readFileSync(path);
  for (let p = 0; p + 12 <= b.length; ) {
    const type = b.readUInt32LE(p);
    const len = b.readUInt32LE(p + 4);
    if (len < 12 || p + len > b.length) throw new Error(`${path}: bad block at ${p}`);
    if (type === 6) {
      const tsUs = b.readUInt32LE(p + 12) * 2 ** 32 + b.readUInt32LE(p + 16);
      const caplen = b.readUInt32LE(p + 20);
      yield { tsUs, data: b.subarray(p + 28, p + 28 + caplen) };
    }
    p += len;
  }
}

/** A classic pcap writer (Ethernet, µs); `close()` returns the bytes written. */
function pcapFile(path) {
  const out = bufferedOutput(path);
  const buf = out.buf;
  const at = out.take(24);
  buf.fill(0, at, at + 24);
  buf.writeUInt32LE(0xa1b2c3d4, at);
  buf.writeUInt16LE(2, at + 4);
  buf.writeUInt16LE(4, at + 6);
  buf.writeUInt32LE(262144, at + 16);
  buf.writeUInt32LE(1, at + 20);
  return {
    /** @param {number} tsUs @param {Uint8Array[]} parts the frame, in pieces */
    packet(tsUs, ...parts) {
      const n = parts.reduce((s, x) => s + x.length, 0);
      let o = out.take(16 + n);
      buf.writeUInt32LE(Math.floor(tsUs / 1e6), o);
      buf.writeUInt32LE(tsUs % 1e6, o + 4);
      buf.writeUInt32LE(n, o + 8);
      buf.writeUInt32LE(n, o + 12);
      o += 16;
      for (const x of parts) {
        buf.set(x, o);
        o += x.length;
      }
    },
    close: () => out.close(),
  };
}

/** True when `f` is Ethernet + IPv4 carrying TCP; returns the IPv4 header length then, else 0. */
function ipv4Tcp(f) {
  if (f.length < 34 || f[12] !== 8 || f[13] !== 0 || f[14] >> 4 !== 4 || f[23] !== TCP) return 0;
  return (f[14] & 15) * 4;
}

/** A seeded generator of 32-bit values (xorshift32): the same bytes every time. */
function xorshift(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Rewrites every frame of the base capture with `rewrite(frame, index)` (a frame, or null to drop it). */
function rewriteBase(file, rewrite) {
  let i = 0;
  for (const { tsUs, data } of pcapngFrames(cachedCapture(BASE_MB, { secrets: false }).path)) {
    const out = rewrite(Buffer.from(data), i++);
    if (out) file.packet(tsUs, out);
  }
}

/** RFC 8200 header carrying the IPv4 packet's payload; addresses 2001:db8::a.b.c.d. */
function toIpv6(f) {
  const ihl = ipv4Tcp(f);
  if (!ihl) return f;
  const total = f.readUInt16BE(16);
  const l4 = f.subarray(14 + ihl, 14 + total);
  const ip6 = Buffer.alloc(40);
  ip6[0] = 0x60;
  ip6.writeUInt16BE(l4.length, 4);
  ip6[6] = TCP;
  ip6[7] = 64;
  for (const [to, from] of [
    [8, 26],
    [24, 30],
  ]) {
    ip6.writeUInt32BE(0x20010db8, to);
    f.copy(ip6, to + 12, from, from + 4);
  }
  const eth = Buffer.from(f.subarray(0, 14));
  eth.writeUInt16BE(0x86dd, 12);
  return Buffer.concat([eth, ip6, l4]);
}

const corrupt = xorshift(0x5eed);
/** Replaces each byte with probability 1/2000 (0.05%), seeded. */
function corrupted(f) {
  for (let i = 0; i < f.length; i++) if (corrupt() % 2000 === 0) f[i] = corrupt() & 0xff;
  return f;
}

/** RFC 9293 data offset 1 (below the minimum 5) on every second TCP segment. */
function badTcp(f, i) {
  const ihl = ipv4Tcp(f);
  if (ihl && i % 2 === 0) f[14 + ihl + 12] = 0x10 | (f[14 + ihl + 12] & 0x0f);
  return f;
}

/** Ethernet + IPv4 + TCP frame bytes (checksums zero: nothing here checks them). */
function frame(src, dst, sport, dport, seq, ack, flags, payload) {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(ack >>> 0, 8);
  tcp[12] = 0x50;
  tcp[13] = flags;
  tcp.writeUInt16BE(65535, 14);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(40 + payload.length, 2);
  ip[8] = 64;
  ip[9] = TCP;
  Buffer.from(src).copy(ip, 12);
  Buffer.from(dst).copy(ip, 16);
  const eth = Buffer.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 8, 0]);
  return [eth, ip, tcp, payload];
}

const SERVER = [10, 255, 0, 1];

/** 500,000 SYNs to one server from 500,000 distinct clients, 10 µs apart. */
function synFlood(file) {
  const none = Buffer.alloc(0);
  for (let i = 0; i < 500_000; i++) {
    const client = [10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff];
    file.packet(
      1_700_000_000e6 + i * 10,
      ...frame(client, SERVER, 1024 + (i % 60000), 443, i * 2654435761, 0, 0x02, none),
    );
  }
}

/** Bytes of a hex fixture (fixtures/*.hex: hex digits, whitespace and # comments). */
const hexFixture = (rel) =>
  Buffer.from(
    readFileSync(join(REPO, 'fixtures', rel), 'utf8')
      .replace(/#.*$/gm, '')
      .replace(/\s+/g, ''),
    'hex',
  );

/**
 * 50 TLS 1.2 connections one after the other: openssl's ClientHello and server flight (fixtures),
 * ChangeCipherSpec and a Finished-sized record each way, then 2 MB of application data records
 * (16 KiB each) from the server in 1460-byte segments, the client ACKing every second one, and a
 * RST from the client.
 */
function bulk(file) {
  const hello = hexFixture('hello/openssl-s_client-tls12.hex');
  const flight = hexFixture('server/openssl-s_server-tls12.hex');
  const finished = Buffer.from([0x14, 3, 3, 0, 1, 1, 0x16, 3, 3, 0, 0x28, ...new Array(40).fill(7)]);
  const record = Buffer.concat([Buffer.from([0x17, 3, 3, 0x40, 0x00]), Buffer.alloc(16384, 0x5a)]);
  const data = Buffer.concat(new Array(128).fill(record));
  const none = Buffer.alloc(0);
  let t = 1_700_000_000e6;
  for (let k = 0; k < 50; k++) {
    const client = [10, 1, 0, k + 1];
    const port = 40000 + k;
    const seq = { client: 1000, server: 5000 };
    const send = (from, payload, flags = 0x18) => {
      const [src, dst, sport, dport] = from === 'client' ? [client, SERVER, port, 443] : [SERVER, client, 443, port];
      const to = from === 'client' ? 'server' : 'client';
      t += 10;
      file.packet(t, ...frame(src, dst, sport, dport, seq[from], seq[to], flags, payload));
      seq[from] += payload.length;
    };
    send('client', hello);
    send('server', flight);
    send('client', finished);
    send('server', finished);
    for (let o = 0, n = 0; o < data.length; o += 1460, n++) {
      send('server', data.subarray(o, o + 1460));
      if (n % 2 === 1) send('client', none, 0x10);
    }
    send('client', none, 0x14);
  }
}

/**
 * 60,000 connections, each a handshake then one 1,400-byte client segment one byte after where
 * its stream is (the capture dropped the byte before it), never filled: 84 MB waiting behind holes
 * in all, over the reassembler's 64 MB total cap (a lossy capture of a busy server).
 */
function lossyFlows(file) {
  const none = Buffer.alloc(0);
  const payload = Buffer.alloc(1400, 0x17);
  for (let i = 0; i < 60_000; i++) {
    const client = [10, 2, (i >> 8) & 0xff, i & 0xff];
    const port = 1024 + (i % 50_000);
    const t = 1_700_000_000e6 + i * 40;
    file.packet(t, ...frame(client, SERVER, port, 443, 1000, 0, 0x02, none));
    file.packet(t + 10, ...frame(SERVER, client, 443, port, 5000, 1001, 0x12, none));
    file.packet(t + 20, ...frame(client, SERVER, port, 443, 1001, 5001, 0x10, none));
    file.packet(t + 30, ...frame(client, SERVER, port, 443, 1002, 5001, 0x18, payload));
  }
}

/**
 * One direction of a bulk transfer, as a capture on one leg of an asymmetric route sees it: a SYN,
 * then 200,000 segments of 1,400 bytes, every 1,000th missing, and no ACK from the other side to
 * tell that the hole will not be filled.
 */
function oneWay(file) {
  const none = Buffer.alloc(0);
  const payload = Buffer.alloc(1400, 0x17);
  const client = [10, 3, 0, 1];
  file.packet(1_700_000_000e6, ...frame(client, SERVER, 40000, 443, 999, 0, 0x02, none));
  for (let i = 0; i < 200_000; i++) {
    if (i % 1000 === 999) continue;
    file.packet(1_700_000_000e6 + 10 + i * 10, ...frame(client, SERVER, 40000, 443, 1000 + i * 1400, 1, 0x10, payload));
  }
}

/** An outer Ethernet + IPv4 header (10.9.0.1 → 10.9.0.2) of `protocol` before `payloadLength` bytes. */
function outerIpv4(protocol, payloadLength) {
  const h = Buffer.alloc(34);
  Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0]).copy(h);
  h[14] = 0x45;
  h.writeUInt16BE(20 + payloadLength, 16);
  h[22] = 64;
  h[23] = protocol;
  Buffer.from([10, 9, 0, 1, 10, 9, 0, 2]).copy(h, 26);
  return h;
}

/** The frame inside VXLAN (RFC 7348: UDP to 4789, an 8-byte header with the I flag), as traffic mirroring sends it. */
function inVxlan(f) {
  const tunnel = Buffer.alloc(16);
  tunnel.writeUInt16BE(54321, 0);
  tunnel.writeUInt16BE(4789, 2);
  tunnel.writeUInt16BE(16 + f.length, 4);
  tunnel[8] = 0x08;
  tunnel[13] = 1;
  return Buffer.concat([outerIpv4(17, 16 + f.length), tunnel, f]);
}

/** The frame's IP packet inside GRE (RFC 2784, no options), as a router's GRE tunnel carries it. */
function inGre(f) {
  const ip = f.subarray(14);
  const gre = Buffer.from([0, 0, f[12], f[13]]);
  return Buffer.concat([outerIpv4(47, 4 + ip.length), gre, ip]);
}

/** The shapes: what each is, and how it is made. */
export const SHAPES = {
  ipv4: { what: 'the 30 MB capture as a classic pcap', make: (f) => rewriteBase(f, (x) => x) },
  ipv6: { what: 'the same in IPv6', make: (f) => rewriteBase(f, toIpv6) },
  vlan: {
    what: 'the same with an 802.1Q tag on every frame',
    make: (f) =>
      rewriteBase(f, (x) => Buffer.concat([x.subarray(0, 12), Buffer.from([0x81, 0, 0, 100]), x.subarray(12)])),
  },
  vxlan: { what: 'the same with every frame inside VXLAN', make: (f) => rewriteBase(f, inVxlan) },
  gre: { what: 'the same with every IP packet inside GRE', make: (f) => rewriteBase(f, inGre) },
  corrupted: { what: 'the same with 0.05% of its bytes replaced', make: (f) => rewriteBase(f, corrupted) },
  'bad-tcp': { what: 'the same with every second TCP header malformed', make: (f) => rewriteBase(f, badTcp) },
  'syn-flood': { what: '500,000 unanswered SYNs from distinct clients', make: synFlood },
  bulk: { what: '50 TLS connections of 2 MB of application data each', make: bulk },
  'lossy-flows': { what: '60,000 connections, each with a segment behind a hole', make: lossyFlows },
  'one-way': { what: 'one direction of a bulk transfer, every 1,000th segment missing', make: oneWay },
};

/** Returns { path, bytes, what } of shape `name`, making it when it is not cached yet. */
export function cachedShape(name) {
  const shape = SHAPES[name];
  mkdirSync(DIR, { recursive: true });
  const path = join(DIR, `${name}-v${SHAPES_VERSION}.pcap`);
  const facts = `${path}.json`;
  if (existsSync(path) && existsSync(facts))
    return { path, what: shape.what, ...JSON.parse(readFileSync(facts, 'utf8')) };
  const file = pcapFile(`${path}.tmp`);
  shape.make(file);
  const bytes = file.close();
  renameSync(`${path}.tmp`, path);
  writeFileSync(facts, JSON.stringify({ bytes }));
  return { path, what: shape.what, bytes };
}
