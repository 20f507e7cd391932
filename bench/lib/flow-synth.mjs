// Makes the captures of the scaling benchmark (bench/capture-scale.mjs): N short TLS connections
// (10k, 100k, 1M), each its own TCP flow, 64 in flight at a time, no key log. Every connection is
// a real recorded ClientHello (bench/inputs/handshakes.json) and, in turn:
//   - 6 of 8: TLS 1.3 completed: the recorded ServerHello and ChangeCipherSpec records, one short
//     protected record each way (synthetic bytes: without a key log nobody opens them), FIN both ways;
//   - 1 of 8: TLS 1.2: the server's whole recorded first flight (ServerHello, certificates,
//     ServerKeyExchange, ServerHelloDone), then a RST from the client (outcome `reset`);
//   - 1 of 8: the server answers with a fatal handshake_failure alert and closes (outcome `alert`).
// So a connection is ~1.1 KB of capture, and the expected outcomes are known by construction: the
// benchmark checks the counts tlsprobe reports against them. Written with capture-synth.mjs's
// pcapng framing, not by src/.
import { copyFacts, pcapngFile, readConversations, wordSum } from './capture-synth.mjs';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;
const CONCURRENCY = 64;
const TICK_US = 5;
const START_US = Date.UTC(2026, 10, 2) * 1000;

/** Returns the TLS records of `bytes` (RFC 8446, Section 5.1 headers), as views. */
function records(bytes) {
  const out = [];
  for (let p = 0; p + 5 <= bytes.length; ) {
    const len = (bytes[p + 3] << 8) | bytes[p + 4];
    out.push(bytes.subarray(p, p + 5 + len));
    p += 5 + len;
  }
  return out;
}

const concat = (...parts) => Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
/** A TLS 1.3 protected record (opaque_type application_data, legacy version 0x0303) of `n` bytes. */
const protectedRecord = (n, fill) => new Uint8Array([23, 3, 3, n >> 8, n & 0xff, ...new Array(n).fill(fill)]);
/** RFC 8446, Section 6: a plaintext fatal(2) handshake_failure(40) alert. */
const ALERT = new Uint8Array([21, 3, 3, 0, 2, 2, 40]);

/** Returns the packet templates of the three shapes, from the recorded conversations. */
function shapes() {
  const { conversations } = readConversations();
  const v13 = conversations.find((c) => c.version === 'TLSv1.3');
  const v12 = conversations.find((c) => c.version === 'TLSv1.2');
  const hello13 = v13.chunks[0].bytes;
  const [sh, ccs] = records(v13.chunks[1].bytes);
  const flows = [];
  const packets = (steps) => {
    const seq = { client: 0, server: 0 };
    const out = [];
    for (const [from, flags, payload] of steps) {
      const to = from === 'client' ? 'server' : 'client';
      out.push({
        client: from === 'client',
        flags,
        payload,
        payloadSum: payload ? wordSum(payload) : 0,
        seq: seq[from],
        ack: flags & ACK ? seq[to] : 0,
      });
      seq[from] += (payload?.length ?? 0) + (flags & (SYN | FIN) ? 1 : 0);
    }
    return out;
  };
  const open = [
    ['client', SYN],
    ['server', SYN | ACK],
  ];
  const done = packets([
    ...open,
    ['client', ACK | PSH, hello13],
    ['server', ACK | PSH, concat(sh, ccs, protectedRecord(48, 0x5a))],
    ['client', ACK | PSH, concat(ccs.subarray(0, 6), protectedRecord(53, 0xa5))],
    ['server', FIN | ACK],
    ['client', FIN | ACK],
  ]);
  const reset = packets([
    ...open,
    ['client', ACK | PSH, v12.chunks[0].bytes],
    ['server', ACK | PSH, v12.chunks[1].bytes],
    ['client', RST | ACK],
  ]);
  const alert = packets([
    ...open,
    ['client', ACK | PSH, hello13],
    ['server', ACK | PSH, ALERT],
    ['server', FIN | ACK],
    ['client', FIN | ACK],
  ]);
  for (let i = 0; i < 8; i++) flows.push(i < 6 ? done : i === 6 ? reset : alert);
  return { flows, outcomes: { negotiated: 6, reset: 1, alert: 1 } };
}

/**
 * Writes a capture of `connections` connections to `path` (see the file comment); returns
 * { bytes, connections, packets, expected: { negotiated, reset, alert } }.
 */
export function makeFlowCapture(path, connections) {
  const { flows, outcomes } = shapes();
  const file = pcapngFile(path);
  file.header(null);
  const expected = { negotiated: 0, reset: 0, alert: 0 };
  const kinds = ['negotiated', 'negotiated', 'negotiated', 'negotiated', 'negotiated', 'negotiated', 'reset', 'alert'];
  let started = 0;
  let packets = 0;
  let ts = START_US;
  const start = () => {
    const k = started++;
    expected[kinds[k % 8]]++;
    return { t: flows[k % 8], next: 0, c: copyFacts(k) };
  };
  const slots = [];
  for (let i = 0; i < Math.min(CONCURRENCY, connections); i++) slots.push(start());
  while (slots.length > 0) {
    for (let i = 0; i < slots.length; ) {
      const s = slots[i];
      ts += TICK_US;
      file.packet(ts, s.t[s.next++], s.c);
      packets++;
      if (s.next < s.t.length) i++;
      else if (started < connections) slots[i++] = start();
      else slots.splice(i, 1);
    }
  }
  void outcomes;
  return { bytes: file.close(), connections, packets, expected };
}
