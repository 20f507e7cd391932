/**
 * Builders for capture-file bytes used by the capture tests: returns pcap/pcapng files and
 * link/IP/TCP frames made from known payloads. Written independently of src/capture (plain byte
 * pushing from the format documents), and checked against tshark in capture-files.test.ts so a
 * shared misunderstanding between builder and reader cannot hide.
 */

/** A growable byte sink with explicit byte order per call (chainable). */
export interface Bytes {
  u8(v: number): Bytes;
  u16(v: number, le?: boolean): Bytes;
  u32(v: number, le?: boolean): Bytes;
  u64(v: bigint, le?: boolean): Bytes;
  bytes(b: Uint8Array | readonly number[]): Bytes;
  pad4(): Bytes;
  readonly length: number;
  finish(): Uint8Array;
}

/** Returns an empty `Bytes` sink. */
export function newBytes(): Bytes {
  const parts: number[] = [];
  const b: Bytes = {
    u8: (v) => {
      parts.push(v & 0xff);
      return b;
    },
    u16: (v, le = false) => (le ? b.u8(v).u8(v >>> 8) : b.u8(v >>> 8).u8(v)),
    u32: (v, le = false) => (le ? b.u16(v & 0xffff, true).u16(v >>> 16, true) : b.u16(v >>> 16).u16(v & 0xffff)),
    u64: (v, le = false) => {
      const hi = Number(v >> 32n) >>> 0;
      const lo = Number(v & 0xffffffffn) >>> 0;
      return le ? b.u32(lo, true).u32(hi, true) : b.u32(hi).u32(lo);
    },
    bytes: (x) => {
      for (const y of x) parts.push(y);
      return b;
    },
    pad4: () => {
      while (parts.length % 4 !== 0) parts.push(0);
      return b;
    },
    get length() {
      return parts.length;
    },
    finish: () => Uint8Array.from(parts),
  };
  return b;
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

// ---------------------------------------------------------------------------------------------
// pcap
// ---------------------------------------------------------------------------------------------

export interface PcapRecord {
  /** Seconds since the epoch. */
  readonly sec: number;
  /** Microseconds, or nanoseconds for `nano` files. */
  readonly frac: number;
  readonly data: Uint8Array;
  readonly originalLength?: number;
}

/** Returns a classic pcap file (draft-ietf-opsawg-pcap): header, then one record per packet. */
export function pcapFile(opts: {
  le: boolean;
  nano: boolean;
  linkType: number;
  snapLength?: number;
  records: readonly PcapRecord[];
}): Uint8Array {
  const { le } = opts;
  const b = newBytes()
    .u32(opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, le)
    .u16(2, le)
    .u16(4, le)
    .u32(0, le)
    .u32(0, le)
    .u32(opts.snapLength ?? 262144, le)
    .u32(opts.linkType, le);
  for (const r of opts.records) {
    b.u32(r.sec, le)
      .u32(r.frac, le)
      .u32(r.data.length, le)
      .u32(r.originalLength ?? r.data.length, le)
      .bytes(r.data);
  }
  return b.finish();
}

// ---------------------------------------------------------------------------------------------
// pcapng
// ---------------------------------------------------------------------------------------------

export type Option = readonly [code: number, value: Uint8Array];

function options(b: Bytes, opts: readonly Option[], le: boolean): void {
  if (opts.length === 0) return;
  for (const [code, value] of opts) {
    b.u16(code, le).u16(value.length, le).bytes(value).pad4();
  }
  b.u16(0, le).u16(0, le);
}

/** Returns one pcapng block: type, total length, body (padded), total length. */
export function block(type: number, le: boolean, body: (b: Bytes) => void): Uint8Array {
  const inner = newBytes();
  body(inner);
  inner.pad4();
  const total = 12 + inner.length;
  return newBytes().u32(type, le).u32(total, le).bytes(inner.finish()).u32(total, le).finish();
}

export function shb(le: boolean, opts: readonly Option[] = [], major = 1): Uint8Array {
  return block(0x0a0d0d0a, le, (b) => {
    b.u32(0x1a2b3c4d, le)
      .u16(major, le)
      .u16(0, le)
      .u64(-1n & 0xffffffffffffffffn, le);
    options(b, opts, le);
  });
}

export function idb(le: boolean, linkType: number, snapLength = 0, opts: readonly Option[] = []): Uint8Array {
  return block(1, le, (b) => {
    b.u16(linkType, le).u16(0, le).u32(snapLength, le);
    options(b, opts, le);
  });
}

/** Enhanced Packet Block; `ticks` counts interface time units since the epoch. */
export function epb(
  le: boolean,
  iface: number,
  ticks: bigint,
  data: Uint8Array,
  opts: readonly Option[] = [],
  originalLength = data.length,
): Uint8Array {
  return block(6, le, (b) => {
    b.u32(iface, le)
      .u32(Number(ticks >> 32n) >>> 0, le)
      .u32(Number(ticks & 0xffffffffn) >>> 0, le);
    b.u32(data.length, le).u32(originalLength, le).bytes(data).pad4();
    options(b, opts, le);
  });
}

export function spb(le: boolean, data: Uint8Array, originalLength = data.length): Uint8Array {
  return block(3, le, (b) => {
    b.u32(originalLength, le).bytes(data).pad4();
  });
}

/** The obsolete Packet Block (Appendix A). */
export function pb(le: boolean, iface: number, ticks: bigint, data: Uint8Array): Uint8Array {
  return block(2, le, (b) => {
    b.u16(iface, le)
      .u16(0, le)
      .u32(Number(ticks >> 32n) >>> 0, le)
      .u32(Number(ticks & 0xffffffffn) >>> 0, le);
    b.u32(data.length, le).u32(data.length, le).bytes(data).pad4();
  });
}

export function dsb(le: boolean, secretsType: number, data: Uint8Array): Uint8Array {
  return block(0x0a, le, (b) => {
    b.u32(secretsType, le).u32(data.length, le).bytes(data).pad4();
  });
}

/** Interface Statistics Block (skipped by the reader, here to prove it is skipped). */
export function isb(le: boolean, iface: number): Uint8Array {
  return block(5, le, (b) => {
    b.u32(iface, le).u32(0, le).u32(0, le);
  });
}

export const opt = {
  comment: (s: string): Option => [1, text(s)],
  ifName: (s: string): Option => [2, text(s)],
  tsresol: (v: number): Option => [9, Uint8Array.of(v)],
  tsoffset: (seconds: bigint, le: boolean): Option => [14, newBytes().u64(seconds, le).finish()],
};

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

export interface TcpOpts {
  readonly sport: number;
  readonly dport: number;
  readonly seq: number;
  readonly ack?: number;
  /** Any of "SAFRP" (SYN ACK FIN RST PSH). */
  readonly flags?: string;
  readonly payload?: Uint8Array;
  /** Bytes of TCP options (multiple of 4). */
  readonly options?: Uint8Array;
}

/** RFC 9293, Section 3.1 TCP header + payload (checksum left 0: not verified by readers). */
export function tcp(o: TcpOpts): Uint8Array {
  const f = o.flags ?? 'A';
  const bits =
    (f.includes('F') ? 1 : 0) |
    (f.includes('S') ? 2 : 0) |
    (f.includes('R') ? 4 : 0) |
    (f.includes('P') ? 8 : 0) |
    (f.includes('A') ? 16 : 0);
  const optBytes = o.options ?? new Uint8Array(0);
  const hl = (20 + optBytes.length) / 4;
  return newBytes()
    .u16(o.sport)
    .u16(o.dport)
    .u32(o.seq >>> 0)
    .u32((o.ack ?? 0) >>> 0)
    .u8(hl << 4)
    .u8(bits)
    .u16(65535)
    .u16(0)
    .u16(0)
    .bytes(optBytes)
    .bytes(o.payload ?? new Uint8Array(0))
    .finish();
}

const v4 = (s: string): number[] => s.split('.').map(Number);

/** Returns the 16 bytes of an IPv6 address written in full or with one "::". */
export function v6(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

export interface Ipv4Opts {
  readonly src: string;
  readonly dst: string;
  readonly protocol?: number;
  readonly id?: number;
  readonly dontFragment?: boolean;
  readonly moreFragments?: boolean;
  /** Fragment offset in bytes (multiple of 8). */
  readonly fragmentOffset?: number;
  readonly options?: Uint8Array;
  /** Overrides Total Length (e.g. 0 for TSO). */
  readonly totalLength?: number;
}

/** RFC 791, Section 3.1 header + payload. */
export function ipv4(o: Ipv4Opts, payload: Uint8Array): Uint8Array {
  const opts = o.options ?? new Uint8Array(0);
  const ihl = (20 + opts.length) / 4;
  const flags = (o.dontFragment ? 0x4000 : 0) | (o.moreFragments ? 0x2000 : 0) | ((o.fragmentOffset ?? 0) / 8);
  return newBytes()
    .u8(0x40 | ihl)
    .u8(0)
    .u16(o.totalLength ?? ihl * 4 + payload.length)
    .u16(o.id ?? 1)
    .u16(flags)
    .u8(64)
    .u8(o.protocol ?? 6)
    .u16(0)
    .bytes(v4(o.src))
    .bytes(v4(o.dst))
    .bytes(opts)
    .bytes(payload)
    .finish();
}

/** An IPv6 extension header to put before the payload. */
export type Ipv6Ext =
  | { readonly kind: 'hop-by-hop' | 'destination' | 'routing'; readonly body?: number }
  | { readonly kind: 'fragment'; readonly offset: number; readonly more: boolean; readonly id: number };

/** RFC 8200, Section 3 header, extension headers, payload. `next` is the payload's protocol. */
export function ipv6(
  o: { src: string; dst: string; next?: number; ext?: readonly Ipv6Ext[] },
  payload: Uint8Array,
): Uint8Array {
  const exts = o.ext ?? [];
  const codes = exts.map((e) => ({ 'hop-by-hop': 0, destination: 60, routing: 43, fragment: 44 })[e.kind]);
  const chain = newBytes();
  exts.forEach((e, i) => {
    const next = codes[i + 1] ?? o.next ?? 6;
    if (e.kind === 'fragment') {
      chain
        .u8(next)
        .u8(0)
        .u16(e.offset | (e.more ? 1 : 0))
        .u32(e.id);
    } else {
      // Hdr Ext Len in 8-octet units beyond the first 8; pad with PadN-like zero bytes.
      const units = e.body ?? 0;
      chain.u8(next).u8(units);
      for (let k = 0; k < 6 + units * 8; k++) chain.u8(e.kind === 'routing' && k < 2 ? [0, 0][k]! : 0);
    }
  });
  const ext = chain.finish();
  return newBytes()
    .u32(0x60000000)
    .u16(ext.length + payload.length)
    .u8(codes[0] ?? o.next ?? 6)
    .u8(64)
    .bytes(v6(o.src))
    .bytes(v6(o.dst))
    .bytes(ext)
    .bytes(payload)
    .finish();
}

/** Ethernet II with optional stacked tags: each tag is [TPID, VLAN id]. */
export function ethernet(
  type: number,
  payload: Uint8Array,
  tags: readonly (readonly [number, number])[] = [],
): Uint8Array {
  const b = newBytes().bytes([2, 0, 0, 0, 0, 2]).bytes([2, 0, 0, 0, 0, 1]);
  for (const [tpid, vid] of tags) b.u16(tpid).u16(vid);
  return b.u16(type).bytes(payload).finish();
}

/** Linux cooked v1 (LINKTYPE_LINUX_SLL). */
export function sll(protocol: number, payload: Uint8Array): Uint8Array {
  return newBytes().u16(0).u16(1).u16(6).bytes([2, 0, 0, 0, 0, 1, 0, 0]).u16(protocol).bytes(payload).finish();
}

/** Linux cooked v2 (LINKTYPE_LINUX_SLL2). */
export function sll2(protocol: number, payload: Uint8Array): Uint8Array {
  return newBytes()
    .u16(protocol)
    .u16(0)
    .u32(2)
    .u16(1)
    .u8(0)
    .u8(6)
    .bytes([2, 0, 0, 0, 0, 1, 0, 0])
    .bytes(payload)
    .finish();
}

/** BSD loopback: the address family as a 4-byte integer in the given byte order. */
export function loopback(family: number, le: boolean, payload: Uint8Array): Uint8Array {
  return newBytes().u32(family, le).bytes(payload).finish();
}
