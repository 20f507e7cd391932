#!/usr/bin/env node
// TLS message parsing on real bytes (fixtures/hello, fixtures/server, the lab chain):
//   - parseClientHello / parseServerHello per message, decodeStream per record stream, and the
//     Certificate message (TLS 1.2 and 1.3 forms), each against two baselines timed in the same run:
//     a Buffer copy of the same bytes (allocation + memcpy) and JSON.parse of the same facts as JSON
//     text (what reading this message from a JSON API would cost);
//   - the Certificate message turned into chain facts (message + parseCertificate per entry + the
//     five fields) against node:crypto X509Certificate on the same entries;
//   - record deframing throughput (createRecordDeframer) against a memcpy of the same chunks and a
//     minimal header walk (the least any deframer must do).
// Issue 7 target: ClientHello and ServerHello under 0.5 µs each (median CPU time per message).
import { X509Certificate } from 'node:crypto';
import { compare, DEFAULT_SAMPLING, warmUp } from './lib/harness.mjs';
import { QUICK, lib, readMessages, reporter } from './lib/env.mjs';

const { parseClientHello, viewClientHello, clientServerName, highestOfferedVersion } = await lib('tls/client-hello.js');
const { parseServerHello } = await lib('tls/server-hello.js');
const { decodeStream } = await lib('tls/stream.js');
const { parseHandshakeMessage } = await lib('tls/handshake.js');
const { createRecordDeframer } = await lib('tls/deframer.js');
const { parseCertificate } = await lib('x509/der.js');

const HELLO_TARGET_NS = 500;
const sampling = QUICK ? { samples: 7, sampleMs: 4, warmupMs: 60 } : DEFAULT_SAMPLING;
const r = reporter('tls');
const m = readMessages();

// Warm the JIT on every input first: the parsers then run in the state a real session sees (all the
// message shapes met before), and the first figure is not taken on cold code.
warmUp(QUICK ? 300 : 600, () => {
  let n = 0;
  for (const x of m.clientHellos) n += parseClientHello(x.message).cipherSuites.length + decodeStream(x.records).length;
  for (const x of m.serverFlights) n += parseServerHello(x.serverHello).cipherSuite + decodeStream(x.records).length;
  for (const x of m.certificateMessages)
    n += parseHandshakeMessage(x.message, { version: x.version }).body.entries.length;
  return n;
});

/** JSON text of a value with byte arrays as hex: the "same facts from a JSON API" baseline. */
function factsJson(v) {
  return JSON.stringify(v, (_k, x) =>
    x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x instanceof Error ? x.message : x,
  );
}

function copy(bytes) {
  return Buffer.from(bytes).length;
}

function baselines(bytes, json) {
  return [
    { name: `Buffer copy of the same ${bytes.length} B`, fn: () => copy(bytes) },
    { name: `JSON.parse of the same facts (${json.length} chars)`, fn: () => (JSON.parse(json) ? 1 : 0) },
  ];
}

function helloTarget(ours) {
  return {
    text: `under ${HELLO_TARGET_NS / 1000} µs per message (median CPU time ${(ours.median / 1000).toFixed(2)} µs)`,
    met: ours.median < HELLO_TARGET_NS,
  };
}

// ClientHello
for (const ch of m.clientHellos) {
  const json = factsJson(parseClientHello(ch.message));
  const [ours, ...base] = compare(
    [
      { name: 'parseClientHello', fn: () => parseClientHello(ch.message).cipherSuites.length },
      ...baselines(ch.message, json),
    ],
    sampling,
  );
  r.report({
    id: `tls/client-hello/${ch.name}`,
    title: `ClientHello parse: ${ch.name} (${ch.message.length} B, ${parseClientHello(ch.message).extensions?.length ?? 0} extensions; ${ch.source})`,
    ours,
    baselines: base,
    targets: [helloTarget(ours)],
  });
  if (viewClientHello === undefined) continue; // a build from before the lazy view
  // The lazy view: the same length checks as the parse (it throws what parseClientHello throws), the
  // fields decoded when read; here the two a server or a filter reads first.
  const firstLook = (b) => {
    const v = viewClientHello(b);
    return (clientServerName(v)?.length ?? 0) + highestOfferedVersion(v);
  };
  const [view, ...viewBase] = compare(
    [
      { name: 'viewClientHello + SNI + highest version', fn: () => firstLook(ch.message) },
      { name: 'viewClientHello alone (the length walk)', fn: () => viewClientHello(ch.message).legacyVersion },
      { name: 'parseClientHello (everything decoded)', fn: () => parseClientHello(ch.message).cipherSuites.length },
      { name: `Buffer copy of the same ${ch.message.length} B`, fn: () => copy(ch.message) },
    ],
    sampling,
  );
  r.report({
    id: `tls/client-hello-view/${ch.name}`,
    title: `ClientHello lazy view: ${ch.name} (every length prefix checked; server name and highest version decoded)`,
    ours: view,
    baselines: viewBase,
    targets: [helloTarget(view)],
  });
}

// ServerHello
for (const f of m.serverFlights) {
  const json = factsJson(parseServerHello(f.serverHello));
  const [ours, ...base] = compare(
    [
      { name: 'parseServerHello', fn: () => parseServerHello(f.serverHello).cipherSuite },
      ...baselines(f.serverHello, json),
    ],
    sampling,
  );
  r.report({
    id: `tls/server-hello/${f.name}`,
    title: `ServerHello parse: ${f.name} (${f.serverHello.length} B, ${parseServerHello(f.serverHello).extensions?.length ?? 0} extensions; ${f.source})`,
    ours,
    baselines: base,
    targets: [helloTarget(ours)],
  });
}

// decodeStream: whole record streams (ClientHello records; server flights up to the encrypted part).
for (const s of [...m.clientHellos.slice(0, QUICK ? 1 : 2), ...m.serverFlights]) {
  const items = decodeStream(s.records);
  const json = factsJson(items);
  const [ours, ...base] = compare(
    [{ name: 'decodeStream', fn: () => decodeStream(s.records).length }, ...baselines(s.records, json)],
    sampling,
  );
  r.report({
    id: `tls/decode-stream/${s.name}`,
    title: `decodeStream: ${s.name} records (${s.records.length} B → ${items.length} items: ${items.map((i) => (i.kind === 'handshake' ? i.message.kind : i.kind)).join(', ')})`,
    ours,
    baselines: base,
    targets: [],
  });
}

// Certificate message: the message alone, then message → chain facts.
const certMessages = [
  ...m.certificateMessages,
  ...m.serverFlights
    .filter((f) => f.certificate)
    .map((f) => ({ name: `${f.name}-certificate`, source: f.source, version: 0x0303, message: f.certificate })),
];
for (const cm of QUICK ? certMessages.slice(0, 2) : certMessages) {
  const ctx = { version: cm.version };
  const parsed = parseHandshakeMessage(cm.message, ctx);
  const json = factsJson(parsed.body);
  const [ours, ...base] = compare(
    [
      {
        name: 'parseHandshakeMessage (Certificate)',
        fn: () => parseHandshakeMessage(cm.message, ctx).body.entries.length,
      },
      ...baselines(cm.message, json),
    ],
    sampling,
  );
  r.report({
    id: `tls/certificate-message/${cm.name}`,
    title: `Certificate message parse: ${cm.name} (${cm.message.length} B, ${parsed.body.entries.length} certificates)`,
    ours,
    baselines: base,
    targets: [],
  });
}
{
  const cm = m.certificateMessages[0];
  const ctx = { version: cm.version };
  const [ours, node] = compare(
    [
      {
        name: 'Certificate message + parseCertificate ×n',
        fn: () => {
          let n = 0;
          for (const e of parseHandshakeMessage(cm.message, ctx).body.entries) {
            const c = parseCertificate(e.der);
            n +=
              c.subject.rfc4514.length +
              c.issuer.rfc4514.length +
              (c.notBefore < c.notAfter ? 1 : 0) +
              c.sha1.length +
              c.sha256.length;
          }
          return n;
        },
      },
      {
        name: 'same message + node:crypto X509Certificate ×n',
        fn: () => {
          let n = 0;
          for (const e of parseHandshakeMessage(cm.message, ctx).body.entries) {
            const x = new X509Certificate(e.der);
            n +=
              x.subject.length +
              x.issuer.length +
              x.validFrom.length +
              x.validTo.length +
              x.fingerprint.length +
              x.fingerprint256.length;
          }
          return n;
        },
      },
    ],
    sampling,
  );
  r.report({
    id: `tls/certificate-chain/${cm.name}`,
    title: `Certificate message → subject, issuer, validity, SHA-1, SHA-256 of every entry: ${cm.name} (${cm.message.length} B)`,
    ours,
    baselines: [node],
    targets: [],
  });
}

// Record deframing throughput.
/** Returns a record stream of `total` bytes: records of the sizes `size()` picks, random payloads (seeded). */
function recordStream(total, size) {
  let seed = 0x9e3779b9;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const parts = [];
  let n = 0;
  while (n < total) {
    const len = size(rnd);
    const rec = Buffer.alloc(5 + len);
    rec[0] = 23; // application_data
    rec[1] = 3;
    rec[2] = 3;
    rec.writeUInt16BE(len, 3);
    for (let i = 5; i < rec.length; i += 4) rec[i] = (rnd() * 256) | 0;
    parts.push(rec);
    n += rec.length;
  }
  return new Uint8Array(Buffer.concat(parts));
}

function chunks(stream, chunkSize) {
  const out = [];
  for (let p = 0; p < stream.length; p += chunkSize) out.push(stream.subarray(p, p + chunkSize));
  return out;
}

/** The least a deframer must do: walk the headers of one contiguous buffer, one view per record. */
function minimalWalk(stream) {
  let n = 0;
  for (let p = 0; p + 5 <= stream.length; ) {
    const len = (stream[p + 3] << 8) | stream[p + 4];
    n += stream.subarray(p + 5, p + 5 + len).length;
    p += 5 + len;
  }
  return n;
}

const MiB = 1 << 20;
const deframeCases = [
  {
    name: 'bulk: 16 KiB records (TLS 1.3 full size), 64 KiB reads',
    total: (QUICK ? 2 : 8) * MiB,
    size: () => 16384 + 17,
    chunk: 65536,
  },
  {
    name: 'small: 64–1,024 B records, 1,448 B reads (TCP segments), records span reads',
    total: (QUICK ? 1 : 2) * MiB,
    size: (rnd) => 64 + Math.floor(rnd() * 961),
    chunk: 1448,
  },
];
for (const d of deframeCases) {
  const stream = recordStream(d.total, d.size);
  const cs = chunks(stream, d.chunk);
  let records = 0;
  {
    const df = createRecordDeframer();
    for (const c of cs) records += df.push(c).length;
  }
  const [ours, ...base] = compare(
    [
      {
        name: 'createRecordDeframer().push(chunk)…',
        fn: () => {
          const df = createRecordDeframer();
          let n = 0;
          for (const c of cs) n += df.push(c).length;
          return n;
        },
      },
      {
        name: 'memcpy of every chunk (Buffer.from)',
        fn: () => {
          let n = 0;
          for (const c of cs) n += Buffer.from(c).length;
          return n;
        },
      },
      { name: 'minimal header walk, one contiguous buffer', fn: () => minimalWalk(stream) },
    ],
    QUICK ? { samples: 5, sampleMs: 20, warmupMs: 40 } : { samples: 11, sampleMs: 30, warmupMs: 150 },
  );
  r.report({
    id: `tls/deframe/${d.name.split(':')[0]}`,
    title: `record deframing, ${d.name}: ${(stream.length / MiB).toFixed(1)} MiB, ${records} records, ${cs.length} reads`,
    bytesPerOp: stream.length,
    ours,
    baselines: base,
    targets: [],
  });
}

r.finish();
