#!/usr/bin/env node
// Makes the capture fixtures in fixtures/pcap by running real TLS stacks (Node's tls, OpenSSL
// underneath) and scripted endpoints on loopback, recording the bytes each side sent through a
// relay, and writing them as pcapng (Ethernet/IPv4/TCP headers synthesized around the recorded
// bytes; TCP segments cut at MSS bytes, 1,400 unless stated). Only loopback is used, ports come
// from the OS (port 0), so the TLS servers run on arbitrary ports: recognition by content.
//
//   tls13-dsb.pcapng        TLS 1.3 (chain of 2 certificates), data both ways, close_notify, FIN;
//                           key log embedded as a Decryption Secrets Block; 1,400-byte segments
//   tls12-keylog.pcapng     three TLS 1.2 connections: ECDHE-RSA-AES128-GCM-SHA256,
//   tls12-keylog.keys       ECDHE-RSA-CHACHA20-POLY1305, AES128-SHA (CBC); key log kept apart
//   reset-after-hello.pcapng  the server resets (RST) right after the ClientHello
//   closed-after-hello.pcapng the server closes (FIN) right after the ClientHello
//   silent.pcapng           the server never answers; the capture ends with the flow open
//   alert.pcapng            the server refuses the only suite offered: handshake_failure alert
//   http-answer.pcapng      an HTTP server answers the ClientHello with "400 Bad Request"
//   segmented-hello.pcapng  a ClientHello with a long SNI+padding cut into 100-byte segments
//   chain.pem               the certificates the TLS servers send (leaf, then CA)
//
// Usage: node scripts/make-captures.mjs   (needs openssl for the PKI)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'fixtures/pcap');
mkdirSync(outDir, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------
// PKI: a CA and a leaf for "capture.test" (openssl CLI)
// ------------------------------------------------------------------------------------------

function makePki() {
  const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-captures-'));
  const run = (args) => {
    const r = spawnSync('openssl', args, { cwd: dir });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    '/CN=tlsprobe capture fixture CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=capture.test', '-keyout', 'leaf.key', '-out', 'leaf.csr']);
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=DNS:capture.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  run([
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '3650',
    '-extfile',
    'ext.cnf',
    '-out',
    'leaf.pem',
  ]);
  const pki = {
    key: readFileSync(join(dir, 'leaf.key')),
    cert: Buffer.concat([readFileSync(join(dir, 'leaf.pem')), readFileSync(join(dir, 'ca.pem'))]),
    ca: readFileSync(join(dir, 'ca.pem')),
  };
  rmSync(dir, { recursive: true, force: true });
  return pki;
}

// ------------------------------------------------------------------------------------------
// Recording: a relay between a client and a server that logs every chunk and how each side ended
// ------------------------------------------------------------------------------------------

/** Microseconds since 1970 from a monotonic clock, so events keep their order. */
const clockBase = Date.now() * 1000 - Number(process.hrtime.bigint() / 1000n);
const nowUs = () => clockBase + Number(process.hrtime.bigint() / 1000n);

/** A recording of one TCP connection: events in order. */
function newRecording(clientPort, serverPort) {
  return { clientPort, serverPort, events: [{ kind: 'open', t: nowUs() }] };
}

/** Starts a relay in front of `upstreamPort`; resolves to { port, recordings, close }. */
async function relay(upstreamPort) {
  const recordings = [];
  const server = net.createServer((down) => {
    const rec = newRecording(down.remotePort, /** @type {import('node:net').AddressInfo} */ (server.address()).port);
    recordings.push(rec);
    const up = net.connect(upstreamPort, '127.0.0.1');
    down.on('data', (d) => {
      rec.events.push({ kind: 'data', from: 'client', bytes: Buffer.from(d), t: nowUs() });
      up.write(d);
    });
    up.on('data', (d) => {
      rec.events.push({ kind: 'data', from: 'server', bytes: Buffer.from(d), t: nowUs() });
      down.write(d);
    });
    down.on('end', () => {
      rec.events.push({ kind: 'fin', from: 'client', t: nowUs() });
      up.end();
    });
    up.on('end', () => {
      rec.events.push({ kind: 'fin', from: 'server', t: nowUs() });
      down.end();
    });
    up.on('error', (e) => {
      if (/** @type {NodeJS.ErrnoException} */ (e).code === 'ECONNRESET')
        rec.events.push({ kind: 'rst', from: 'server', t: nowUs() });
      down.resetAndDestroy();
    });
    down.on('error', (e) => {
      if (/** @type {NodeJS.ErrnoException} */ (e).code === 'ECONNRESET')
        rec.events.push({ kind: 'rst', from: 'client', t: nowUs() });
      up.destroy();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  return {
    port: /** @type {import('node:net').AddressInfo} */ (server.address()).port,
    recordings,
    close: () => new Promise((r) => server.close(r)),
  };
}

// ------------------------------------------------------------------------------------------
// pcapng writing (draft-ietf-opsawg-pcapng): SHB, IDB (Ethernet), DSB, EPB
// ------------------------------------------------------------------------------------------

function block(type, body) {
  const pad = (4 - (body.length % 4)) % 4;
  const total = 12 + body.length + pad;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  body.copy(b, 8);
  b.writeUInt32LE(total, total - 4);
  return b;
}

function shb() {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(0x1a2b3c4d, 0);
  body.writeUInt16LE(1, 4);
  body.writeUInt16LE(0, 6);
  body.writeBigInt64LE(-1n, 8);
  return block(0x0a0d0d0a, body);
}

function idb() {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(1, 0); // LINKTYPE_ETHERNET
  body.writeUInt32LE(0, 4); // no snap length limit
  return block(1, body);
}

function dsb(keyLog) {
  const data = Buffer.from(keyLog, 'utf8');
  const pad = (4 - (data.length % 4)) % 4;
  const body = Buffer.alloc(8 + data.length + pad);
  body.writeUInt32LE(0x544c534b, 0); // TLS key log
  body.writeUInt32LE(data.length, 4);
  data.copy(body, 8);
  return block(0x0000000a, body);
}

function epb(tUs, frame) {
  const body = Buffer.alloc(20 + frame.length);
  body.writeUInt32LE(0, 0);
  body.writeUInt32LE(Math.floor(tUs / 2 ** 32), 4);
  body.writeUInt32LE(tUs % 2 ** 32, 8);
  body.writeUInt32LE(frame.length, 12);
  body.writeUInt32LE(frame.length, 16);
  frame.copy(body, 20);
  return block(6, body);
}

function checksum(buf) {
  let sum = 0;
  for (let i = 0; i < buf.length; i += 2) sum += (buf[i] << 8) | (buf[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const FLAGS = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10 };

/** An Ethernet/IPv4/TCP frame with valid IP and TCP checksums. */
function tcpFrame(src, dst, sport, dport, seq, ack, flags, payload) {
  const tcp = Buffer.alloc(20 + payload.length);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(ack >>> 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  tcp.writeUInt16BE(65535, 14);
  payload.copy(tcp, 20);
  const pseudo = Buffer.concat([
    Buffer.from(src),
    Buffer.from(dst),
    Buffer.from([0, 6, tcp.length >> 8, tcp.length & 0xff]),
    tcp,
  ]);
  tcp.writeUInt16BE(checksum(pseudo), 16);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + tcp.length, 2);
  ip[6] = 0x40; // don't fragment
  ip[8] = 64;
  ip[9] = 6;
  Buffer.from(src).copy(ip, 12);
  Buffer.from(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const eth = Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  return Buffer.concat([eth, ip, tcp]);
}

/**
 * Returns the frames of one recorded connection: handshake, data cut into `mss`-byte segments
 * (each acknowledged), FIN/RST as they happened. The client is 127.0.0.1, the server 127.0.0.2.
 */
function framesOf(rec, mss) {
  const C = [127, 0, 0, 1];
  const S = [127, 0, 0, 2];
  const out = [];
  let cseq = 0x1000_0000 + rec.clientPort * 7;
  let sseq = 0x5000_0000 + rec.serverPort * 13;
  const t0 = rec.events[0].t;
  const c = (t, flags, payload = Buffer.alloc(0)) =>
    out.push({ t, frame: tcpFrame(C, S, rec.clientPort, rec.serverPort, cseq, sseq, flags, payload) });
  const s = (t, flags, payload = Buffer.alloc(0)) =>
    out.push({ t, frame: tcpFrame(S, C, rec.serverPort, rec.clientPort, sseq, cseq, flags, payload) });
  c(t0, FLAGS.syn);
  cseq++;
  s(t0 + 20, FLAGS.syn | FLAGS.ack);
  sseq++;
  c(t0 + 40, FLAGS.ack);
  for (const e of rec.events.slice(1)) {
    if (e.kind === 'data') {
      for (let o = 0; o < e.bytes.length; o += mss) {
        const part = e.bytes.subarray(o, o + mss);
        if (e.from === 'client') {
          c(e.t, FLAGS.psh | FLAGS.ack, part);
          cseq += part.length;
          s(e.t + 5, FLAGS.ack);
        } else {
          s(e.t, FLAGS.psh | FLAGS.ack, part);
          sseq += part.length;
          c(e.t + 5, FLAGS.ack);
        }
      }
    } else if (e.kind === 'fin') {
      if (e.from === 'client') {
        c(e.t, FLAGS.fin | FLAGS.ack);
        cseq++;
      } else {
        s(e.t, FLAGS.fin | FLAGS.ack);
        sseq++;
      }
    } else if (e.kind === 'rst') {
      if (e.from === 'client') c(e.t, FLAGS.rst | FLAGS.ack);
      else s(e.t, FLAGS.rst | FLAGS.ack);
    }
  }
  // Keep the recorded order even where two events share a microsecond.
  for (let i = 1; i < out.length; i++) if (out[i].t <= out[i - 1].t) out[i].t = out[i - 1].t + 1;
  return out;
}

/** @param {string} name @param {any[]} recordings @param {{ mss?: number, keyLog?: string | null }} [options] */
function writeCapture(name, recordings, { mss = 1400, keyLog = null } = {}) {
  const frames = recordings.flatMap((r) => framesOf(r, mss)).sort((a, b) => a.t - b.t);
  const parts = [shb(), idb()];
  if (keyLog) parts.push(dsb(keyLog));
  for (const f of frames) parts.push(epb(f.t, f.frame));
  writeFileSync(join(outDir, name), Buffer.concat(parts));
  console.log(`wrote fixtures/pcap/${name} (${frames.length} frames)`);
}

// ------------------------------------------------------------------------------------------
// Scenarios
// ------------------------------------------------------------------------------------------

/** Runs one TLS client connection through a relay to a Node TLS server; resolves to the key log lines. */
async function tlsExchange(serverOpts, clientOpts, { data = true } = {}) {
  const keyLines = [];
  const server = tls.createServer(serverOpts, (sock) => {
    sock.on('data', (d) => sock.write(`pong:${d}`));
    sock.on('end', () => sock.end());
    sock.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const r = await relay(/** @type {import('node:net').AddressInfo} */ (server.address()).port);
  await new Promise((resolve) => {
    const sock = tls.connect({ port: r.port, host: '127.0.0.1', ...clientOpts });
    sock.on('keylog', (line) => keyLines.push(line.toString().trim()));
    sock.on('secureConnect', () => {
      if (!data) return sock.end();
      sock.write('ping');
      sock.once('data', () => sock.end());
    });
    sock.on('error', () => resolve(undefined));
    sock.on('close', () => resolve(undefined));
  });
  await sleep(100);
  await r.close();
  await new Promise((res) => server.close(res));
  return { recordings: r.recordings, keyLog: `${keyLines.join('\n')}\n` };
}

/** Sends a real ClientHello from Node's TLS client to a scripted raw server; resolves to the recordings. */
async function scriptedServer(onFirstData, { clientOpts = {}, waitMs = 300 } = {}) {
  const server = net.createServer((sock) => {
    sock.once('data', (d) => onFirstData(sock, d));
    sock.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const r = await relay(/** @type {import('node:net').AddressInfo} */ (server.address()).port);
  const sock = tls.connect({
    port: r.port,
    host: '127.0.0.1',
    servername: 'capture.test',
    rejectUnauthorized: false,
    ...clientOpts,
  });
  sock.on('error', () => {});
  await sleep(waitMs);
  sock.destroy();
  await sleep(50);
  await r.close();
  server.close();
  return r.recordings;
}

const pki = makePki();
writeFileSync(join(outDir, 'chain.pem'), pki.cert);
const serverOpts = { key: pki.key, cert: pki.cert };

{
  const { recordings, keyLog } = await tlsExchange(
    { ...serverOpts, minVersion: 'TLSv1.3' },
    { servername: 'capture.test', ca: pki.ca, minVersion: 'TLSv1.3', ALPNProtocols: ['h2', 'http/1.1'] },
  );
  writeCapture('tls13-dsb.pcapng', recordings, { keyLog });
}
{
  const all = [];
  const keys = [];
  for (const ciphers of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-CHACHA20-POLY1305', 'AES128-SHA']) {
    const { recordings, keyLog } = await tlsExchange(
      { ...serverOpts, maxVersion: 'TLSv1.2', ciphers },
      { servername: 'capture.test', ca: pki.ca, maxVersion: 'TLSv1.2', ciphers },
    );
    all.push(...recordings);
    keys.push(keyLog);
  }
  writeCapture('tls12-keylog.pcapng', all);
  writeFileSync(join(outDir, 'tls12-keylog.keys'), keys.join(''));
  console.log('wrote fixtures/pcap/tls12-keylog.keys');
}
{
  const { recordings } = await tlsExchange(
    { ...serverOpts, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' },
    { servername: 'capture.test', maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA', rejectUnauthorized: false },
  );
  writeCapture('alert.pcapng', recordings);
}
writeCapture('reset-after-hello.pcapng', await scriptedServer((sock) => sock.resetAndDestroy()));
writeCapture('closed-after-hello.pcapng', await scriptedServer((sock) => sock.end()));
{
  // The relay sees no end: the recording stops with the connection open.
  const recs = await scriptedServer(() => {});
  for (const r of recs) r.events = r.events.filter((e) => e.kind === 'open' || e.kind === 'data');
  writeCapture('silent.pcapng', recs);
}
writeCapture(
  'http-answer.pcapng',
  await scriptedServer((sock) =>
    sock.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
  ),
);
{
  const recs = await scriptedServer((sock) => sock.resetAndDestroy(), {
    clientOpts: { servername: `${'a'.repeat(60)}.${'b'.repeat(60)}.capture.test` },
  });
  writeCapture('segmented-hello.pcapng', recs, { mss: 100 });
}
