/**
 * Writes a minimal classic pcap (Ethernet / IPv4 / TCP) carrying given payloads, so that tshark can
 * be used as an oracle on bytes we made. Test-only: tlsprobe's own capture code reads, never writes.
 */

export interface Segment {
  /** true: client (10.0.0.1:50000... no: 127.0.0.1:50000) → server (127.0.0.2:443). */
  readonly fromClient: boolean;
  readonly payload: Uint8Array;
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
  let cseq = 1000;
  let sseq = 5000;
  let t = 0;
  for (const seg of segments) {
    const payload = Buffer.from(seg.payload);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(seg.fromClient ? clientPort : serverPort, 0);
    tcp.writeUInt16BE(seg.fromClient ? serverPort : clientPort, 2);
    tcp.writeUInt32BE(seg.fromClient ? cseq : sseq, 4);
    tcp.writeUInt32BE(seg.fromClient ? sseq : cseq, 8);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18; // PSH ACK
    tcp.writeUInt16BE(65535, 14);
    if (seg.fromClient) cseq = (cseq + payload.length) >>> 0;
    else sseq = (sseq + payload.length) >>> 0;
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
