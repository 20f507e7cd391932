/**
 * Writes a minimal classic pcap (Ethernet / IPv4 / TCP) carrying given payloads, so that tshark can
 * be used as an oracle on bytes we made. Test-only: tlsprobe's own capture code reads, never writes.
 */

export interface Segment {
  /** true: client (127.0.0.1:clientPort) → server (127.0.0.2:443); false: the other way. */
  readonly fromClient: boolean;
  readonly payload: Uint8Array;
  /** The client's port, which names the TCP stream (default: the makePcap argument). */
  readonly clientPort?: number;
  /** Sends it with RST (and ACK): the flow ends here (RFC 9293, Section 3.5.2). */
  readonly rst?: boolean;
}

const CLIENT = [127, 0, 0, 1];
const SERVER = [127, 0, 0, 2];

function ipChecksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += (h[i]! << 8) | h[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Returns pcap bytes with one TCP segment per payload on the given ports (seq numbers continue per side). */
export function makePcap(segments: readonly Segment[], serverPort = 443, clientPort = 50000): Buffer {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(262144, 16);
  gh.writeUInt32LE(1, 20); // Ethernet
  parts.push(gh);
  const seqs = new Map<number, { c: number; s: number }>();
  let t = 0;
  for (const seg of segments) {
    const cport = seg.clientPort ?? clientPort;
    const seq = seqs.get(cport) ?? { c: 1000, s: 5000 };
    seqs.set(cport, seq);
    const payload = Buffer.from(seg.payload);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(seg.fromClient ? cport : serverPort, 0);
    tcp.writeUInt16BE(seg.fromClient ? serverPort : cport, 2);
    tcp.writeUInt32BE(seg.fromClient ? seq.c : seq.s, 4);
    tcp.writeUInt32BE(seg.fromClient ? seq.s : seq.c, 8);
    tcp[12] = 5 << 4;
    tcp[13] = seg.rst ? 0x14 : 0x18; // RST ACK, or PSH ACK
    tcp.writeUInt16BE(65535, 14);
    if (seg.fromClient) seq.c = (seq.c + payload.length) >>> 0;
    else seq.s = (seq.s + payload.length) >>> 0;
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 20 + payload.length, 2);
    ip[8] = 64;
    ip[9] = 6;
    Buffer.from(seg.fromClient ? CLIENT : SERVER).copy(ip, 12);
    Buffer.from(seg.fromClient ? SERVER : CLIENT).copy(ip, 16);
    ip.writeUInt16BE(ipChecksum(ip), 10);
    const eth = Buffer.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00]);
    const frame = Buffer.concat([eth, ip, tcp, payload]);
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(1_700_000_000 + t, 0);
    rh.writeUInt32LE(0, 4);
    rh.writeUInt32LE(frame.length, 8);
    rh.writeUInt32LE(frame.length, 12);
    t++;
    parts.push(rh, frame);
  }
  return Buffer.concat(parts);
}
