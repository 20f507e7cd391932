// Makes the large captures of the capture benchmark: a pcapng (little-endian, Ethernet, µs
// timestamps) holding the real HTTPS conversations of bench/inputs/handshakes.json (recorded by
// scripts/make-bench-inputs.mjs against the lab) over and over, each copy as its own TCP connection
// (distinct client address and port, its own initial sequence numbers), `CONCURRENCY` copies in
// flight at a time with their packets interleaved, as a capture of a busy server would have them.
// The TLS bytes of every copy are the recorded ones, unchanged (so a copy has the same client random
// as its original, and one key log line set opens all of them); one Decryption Secrets Block carries
// the client's key log, so TLS 1.3 certificates can be read by any tool that reads the file.
//
// What is synthetic: addresses (client 127.1.x.y → server 127.0.0.1:443), MACs, ports, sequence
// numbers, the TCP handshake and pure ACKs (one per chunk), segmentation at SEGMENT_BYTES, times.
// Written with our own framing here, not by src/ (the code under test reads it).
//
// makeCapture(file, targetBytes) writes copies until the file holds targetBytes, finishes the
// connections in flight, and returns { bytes, conversations, packets }; cachedCapture() keeps the
// result under bench/out/captures/, keyed by the input's hash, the target size and SYNTH_VERSION.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { INPUTS, REPO } from './env.mjs';

/** Bumped whenever the layout below changes, so cached captures are made again. */
const SYNTH_VERSION = 1;
/** TCP payload per segment: an Ethernet MSS (1500 − 20 IPv4 − 20 TCP). */
const SEGMENT_BYTES = 1460;
/** Connections whose packets are interleaved at any time. */
/** Connections in flight at once, by default (a busy server's capture has thousands: `concurrency`). */
const CONCURRENCY = 64;
/** Microseconds between two packets of the capture. */
const TICK_US = 7;
const START_US = Date.UTC(2026, 10, 1) * 1000;
const SERVER_IP = [127, 0, 0, 1];
const SERVER_PORT = 443;
const CLIENT_MAC = [0x02, 0, 0, 0, 0, 0x01];
const SERVER_MAC = [0x02, 0, 0, 0, 0, 0x02];
const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;
const CAPTURE_DIR = join(REPO, 'bench/out/captures');

/** Returns the recorded conversations with their chunks as bytes, and the input's hash. */
export function readConversations() {
  const text = readFileSync(join(INPUTS, 'handshakes.json'));
  const recorded = JSON.parse(text.toString('utf8')).conversations.map((c) => ({
    ...c,
    chunks: c.chunks.map((x) => ({ ...x, bytes: new Uint8Array(Buffer.from(x.b64, 'base64')) })),
  }));
  // Recorded by (chain, version); taken here in turn from each, so any prefix of the copies mixes them.
  const groups = new Map();
  for (const c of recorded)
    groups.set(`${c.chain} ${c.version}`, [...(groups.get(`${c.chain} ${c.version}`) ?? []), c]);
  const conversations = [];
  for (let i = 0; conversations.length < recorded.length; i++)
    for (const g of groups.values()) if (i < g.length) conversations.push(g[i]);
  return { conversations, hash: createHash('sha256').update(text).digest('hex').slice(0, 12) };
}

/** Sum of the 16-bit big-endian words of `b` (RFC 1071), not folded. */
export function wordSum(b, start = 0, end = b.length) {
  let s = 0;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  return s;
}

function fold(s) {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/**
 * Returns the packets of one conversation with sequence numbers relative to each side's ISN:
 * SYN, SYN-ACK, ACK, then each chunk as segments followed by the receiver's ACK, then the FINs in
 * the order they were recorded, and the last ACK.
 */
function template(conv) {
  const seq = { client: 0, server: 0 };
  const out = [];
  const other = (d) => (d === 'client' ? 'server' : 'client');
  /** @param {'client' | 'server'} from @param {number} flags @param {Uint8Array | null} payload */
  const push = (from, flags, payload = null) => {
    const to = other(from);
    out.push({
      client: from === 'client',
      flags,
      payload,
      payloadSum: payload ? wordSum(payload) : 0,
      seq: seq[from],
      ack: flags & ACK ? seq[to] : 0,
    });
    seq[from] += (payload?.length ?? 0) + (flags & (SYN | FIN) ? 1 : 0);
  };
  push('client', SYN);
  push('server', SYN | ACK);
  push('client', ACK);
  const events = [
    ...conv.chunks.map((c) => ({ ms: c.ms, chunk: c })),
    ...conv.ends.filter((e) => e.kind === 'fin').map((e) => ({ ms: e.ms, fin: e.from })),
  ];
  events.sort((a, b) => a.ms - b.ms);
  for (const e of events) {
    if (e.chunk) {
      const b = e.chunk.bytes;
      for (let off = 0; off < b.length; off += SEGMENT_BYTES)
        push(e.chunk.from, ACK | (off + SEGMENT_BYTES >= b.length ? PSH : 0), b.subarray(off, off + SEGMENT_BYTES));
      push(other(e.chunk.from), ACK);
    } else {
      push(e.fin, FIN | ACK);
    }
  }
  push(events.findLast((e) => e.fin)?.fin === 'client' ? 'server' : 'client', ACK);
  return out;
}

/**
 * A file written through one 8 MiB buffer. `take(n)` returns where the next `n` bytes go in `buf`
 * (writing out what the buffer holds first when they do not fit) and counts them as written;
 * `close()` writes the rest and returns the bytes written in all.
 */
export function bufferedOutput(path) {
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(8 << 20);
  let used = 0;
  let total = 0;
  const flush = () => {
    writeSync(fd, buf, 0, used);
    total += used;
    used = 0;
  };
  return {
    buf,
    /** @param {number} n */
    take(n) {
      if (used + n > buf.length) flush();
      const at = used;
      used += n;
      return at;
    },
    close() {
      flush();
      closeSync(fd);
      return total;
    },
  };
}

/** Buffered little-endian pcapng writer (draft-ietf-opsawg-pcapng). */
export function pcapngFile(path) {
  const out = bufferedOutput(path);
  const buf = out.buf;
  return {
    /** Section Header Block (Section 4.1): version 1.0, section length unknown. */
    header(keyLog) {
      let at = out.take(28);
      buf.writeUInt32LE(0x0a0d0d0a, at);
      buf.writeUInt32LE(28, at + 4);
      buf.writeUInt32LE(0x1a2b3c4d, at + 8);
      buf.writeUInt16LE(1, at + 12);
      buf.writeUInt16LE(0, at + 14);
      buf.writeInt32LE(-1, at + 16);
      buf.writeInt32LE(-1, at + 20);
      buf.writeUInt32LE(28, at + 24);
      // Interface Description Block (Section 4.2): LINKTYPE_ETHERNET, snap length 262144.
      at = out.take(20);
      buf.writeUInt32LE(1, at);
      buf.writeUInt32LE(20, at + 4);
      buf.writeUInt16LE(1, at + 8);
      buf.writeUInt16LE(0, at + 10);
      buf.writeUInt32LE(262144, at + 12);
      buf.writeUInt32LE(20, at + 16);
      if (keyLog === null) return;
      // Decryption Secrets Block (Section 4.7), secrets type TLSKEYLOG.
      const secrets = Buffer.from(keyLog, 'utf8');
      const len = 20 + ((secrets.length + 3) & ~3);
      at = out.take(len);
      buf.fill(0, at, at + len);
      buf.writeUInt32LE(0x0a, at);
      buf.writeUInt32LE(len, at + 4);
      buf.writeUInt32LE(0x544c534b, at + 8);
      buf.writeUInt32LE(secrets.length, at + 12);
      secrets.copy(buf, at + 16);
      buf.writeUInt32LE(len, at + len - 4);
    },
    /** Enhanced Packet Block (Section 4.3) of an Ethernet/IPv4/TCP frame; returns its size. */
    packet(tsUs, p, c) {
      const payloadLength = p.payload?.length ?? 0;
      const tcpLength = (p.flags & SYN ? 24 : 20) + payloadLength;
      const frameLength = 14 + 20 + tcpLength;
      const blockLength = 32 + ((frameLength + 3) & ~3);
      const at = out.take(blockLength);
      const b = buf;
      let o = at;
      b.writeUInt32LE(6, o);
      b.writeUInt32LE(blockLength, o + 4);
      b.writeUInt32LE(0, o + 8);
      b.writeUInt32LE(Math.floor(tsUs / 0x100000000), o + 12);
      b.writeUInt32LE(tsUs % 0x100000000, o + 16);
      b.writeUInt32LE(frameLength, o + 20);
      b.writeUInt32LE(frameLength, o + 24);
      o += 28;
      const [srcMac, dstMac, srcIp, dstIp, srcPort, dstPort] = p.client
        ? [CLIENT_MAC, SERVER_MAC, c.ip, SERVER_IP, c.port, SERVER_PORT]
        : [SERVER_MAC, CLIENT_MAC, SERVER_IP, c.ip, SERVER_PORT, c.port];
      for (let i = 0; i < 6; i++) b[o + i] = dstMac[i];
      for (let i = 0; i < 6; i++) b[o + 6 + i] = srcMac[i];
      b.writeUInt16BE(0x0800, o + 12);
      // RFC 791, Section 3.1: IHL 5, total length, identification, DF, TTL 64, TCP, checksum.
      const ip = o + 14;
      b[ip] = 0x45;
      b[ip + 1] = 0;
      b.writeUInt16BE(20 + tcpLength, ip + 2);
      b.writeUInt16BE(p.client ? c.ipIdClient++ & 0xffff : c.ipIdServer++ & 0xffff, ip + 4);
      b.writeUInt16BE(0x4000, ip + 6);
      b[ip + 8] = 64;
      b[ip + 9] = 6;
      b.writeUInt16BE(0, ip + 10);
      for (let i = 0; i < 4; i++) b[ip + 12 + i] = srcIp[i];
      for (let i = 0; i < 4; i++) b[ip + 16 + i] = dstIp[i];
      b.writeUInt16BE(fold(wordSum(b, ip, ip + 20)), ip + 10);
      // RFC 9293, Section 3.1.
      const t = ip + 20;
      const hlen = p.flags & SYN ? 24 : 20;
      b.writeUInt16BE(srcPort, t);
      b.writeUInt16BE(dstPort, t + 2);
      b.writeUInt32BE((p.seq + (p.client ? c.isnClient : c.isnServer)) >>> 0, t + 4);
      b.writeUInt32BE(p.flags & ACK ? (p.ack + (p.client ? c.isnServer : c.isnClient)) >>> 0 : 0, t + 8);
      b[t + 12] = (hlen / 4) << 4;
      b[t + 13] = p.flags;
      b.writeUInt16BE(65535, t + 14);
      b.writeUInt32BE(0, t + 16);
      if (p.flags & SYN) b.writeUInt32BE(0x02040000 | SEGMENT_BYTES, t + 20);
      if (p.payload) b.set(p.payload, t + hlen);
      // Pseudo-header (source, destination, zero + protocol, TCP length) + header + payload.
      const sum = wordSum(b, ip + 12, ip + 20) + 6 + tcpLength + wordSum(b, t, t + hlen) + p.payloadSum;
      b.writeUInt16BE(fold(sum), t + 16);
      o = t + tcpLength;
      b.fill(0, o, at + blockLength - 4);
      b.writeUInt32LE(blockLength, at + blockLength - 4);
      return blockLength;
    },
    close: () => out.close(),
  };
}

/** Per-copy TCP facts: client address 127.1.x.y and port, initial sequence numbers. */
export function copyFacts(k) {
  const n = k + 1;
  const h = createHash('sha256').update(`copy ${k}`).digest();
  return {
    ip: [127, 1 + (n >> 16), (n >> 8) & 0xff, n & 0xff],
    port: 32768 + (k % 28000),
    isnClient: h.readUInt32BE(0),
    isnServer: h.readUInt32BE(4),
    ipIdClient: h.readUInt16BE(8),
    ipIdServer: h.readUInt16BE(10),
  };
}

/**
 * Writes a capture of about `targetBytes` to `path` (see the file comment); returns
 * { bytes, conversations, packets, tls13, tls12 }.
 */
export function makeCapture(
  path,
  targetBytes,
  { conversations } = readConversations(),
  { secrets = true, concurrency = CONCURRENCY } = {},
) {
  const templates = conversations.map(template);
  const keyLog = secrets ? `${conversations.flatMap((c) => c.keyLog).join('\n')}\n` : null;
  const file = pcapngFile(path);
  file.header(keyLog);
  let bytes = 0;
  let packets = 0;
  let copies = 0;
  const versions = { 'TLSv1.2': 0, 'TLSv1.3': 0 };
  let ts = START_US;
  const slots = [];
  const start = () => {
    const k = copies++;
    const i = k % templates.length;
    versions[conversations[i].version]++;
    return { t: templates[i], next: 0, c: copyFacts(k) };
  };
  for (let i = 0; i < concurrency; i++) slots.push(start());
  while (slots.length > 0) {
    for (let i = 0; i < slots.length; ) {
      const s = slots[i];
      ts += TICK_US;
      bytes += file.packet(ts, s.t[s.next++], s.c);
      packets++;
      if (s.next < s.t.length) i++;
      else if (bytes < targetBytes) slots[i++] = start();
      else slots.splice(i, 1);
    }
  }
  const written = file.close();
  return { bytes: written, conversations: copies, packets, tls12: versions['TLSv1.2'], tls13: versions['TLSv1.3'] };
}

/**
 * Returns { path, ...makeCapture facts } for a capture of about `mb` MB (10^6 bytes), made once and
 * kept in bench/out/captures/ (gitignored) with its facts in a .json beside it; older captures of the
 * same size (another input or layout) are deleted.
 */
export function cachedCapture(mb, { secrets = true, concurrency = CONCURRENCY } = {}) {
  const input = readConversations();
  mkdirSync(CAPTURE_DIR, { recursive: true });
  const kind = `${secrets ? 'handshakes' : 'handshakes-nokeys'}${concurrency === CONCURRENCY ? '' : `-${concurrency}inflight`}`;
  const base = `${kind}-${mb}MB-v${SYNTH_VERSION}-${input.hash}`;
  const path = join(CAPTURE_DIR, `${base}.pcapng`);
  const factsPath = join(CAPTURE_DIR, `${base}.json`);
  if (existsSync(path) && existsSync(factsPath))
    return { path, cached: true, ...JSON.parse(readFileSync(factsPath, 'utf8')) };
  for (const f of readdirSync(CAPTURE_DIR))
    if (f.startsWith(`${kind}-${mb}MB-`)) rmSync(join(CAPTURE_DIR, f), { force: true });
  const t0 = performance.now();
  const facts = makeCapture(`${path}.tmp`, mb * 1e6, input, { secrets, concurrency });
  renameSync(`${path}.tmp`, path);
  const out = { ...facts, madeInMs: Math.round(performance.now() - t0) };
  writeFileSync(factsPath, JSON.stringify(out));
  return { path, cached: false, ...out };
}
