/**
 * Replay of captured ClientHellos: hellos read from dumps and captures, the opt-in changes, the
 * bytes that reach the server (a raw recording server on loopback), and live answers from the lab
 * compared with what the capture recorded (hellos captured from `openssl s_client` through a
 * recording proxy, written as a capture with openssl's own key log).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { scanClientHello } from '../../src/lab/hello-gate.js';
import { replay } from '../../src/capture/replay.js';
import { compareAnswers, sha1Hex, type ServerAnswer } from '../../src/capture/replay-answer.js';
import {
  capturedHelloFromBytes,
  detectReplayInput,
  findCapturedHello,
  type CapturedHello,
} from '../../src/capture/replay-input.js';
import { prepareReplay } from '../../src/capture/replay-prepare.js';
import { encodeProbeCapture, type TracedAttempt } from '../../src/capture/pcapng-writer.js';
import { buildClientHello } from '../../src/probe/profiles.js';
import { clientServerName, encodeClientHello, parseClientHello } from '../../src/tls/client-hello.js';
import { findExtension } from '../../src/tls/extensions.js';
import { parseKeyLog } from '../../src/tls/keylog.js';
import { encodeRecords } from '../../src/tls/record.js';
import { DecodeError } from '../../src/wire/errors.js';
import { concatBytes, equalBytes, toHex } from '../../src/wire/hex.js';
import { listHexFixtures, loadHexFixture } from '../helpers/fixtures.js';
import { makePcap } from '../helpers/pcap-writer.js';
import { corpusPath, hasCorpusFile, NO_CORPUS } from '../helpers/corpus.js';
import { hasTool, missingTool } from '../helpers/tools.js';

const HAS_OPENSSL = hasTool('openssl');
const HAS_TSHARK = hasTool('tshark');
if (!HAS_OPENSSL) console.warn(missingTool('openssl', 'openssl'));

const RFC8446_PCAP = 'wireshark/test/captures/tls13-rfc8446.pcap';
const FRAGMENTED_PCAP = 'wireshark/test/captures/tls-fragmented-handshakes.pcap.gz';

let lab: Lab;
let dir: string;
beforeAll(async () => {
  lab = await startLab({ names: ['modern', 'reset-legacy', 'tls13-only'] });
  dir = mkdtempSync(join(tmpdir(), 'tlsprobe-replay-'));
});
afterAll(async () => {
  await lab?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const target = (port: number) => ({ host: 'localhost', address: '127.0.0.1', port });

// ---------------------------------------------------------------------------------------------
// Loopback helpers
// ---------------------------------------------------------------------------------------------

/** A raw server that keeps what each connection sent until a whole ClientHello arrived, then closes. */
async function recordingServer(): Promise<{
  port: number;
  next: () => Promise<Uint8Array>;
  close: () => Promise<void>;
}> {
  const waiting: ((b: Uint8Array) => void)[] = [];
  const done: Uint8Array[] = [];
  const server: Server = createServer((s: Socket) => {
    let got: Uint8Array = new Uint8Array(0);
    s.on('error', () => undefined);
    s.on('data', (d) => {
      got = concatBytes(got, d);
      if (scanClientHello(got).kind === 'need-more') return;
      const w = waiting.shift();
      if (w) w(got);
      else done.push(got);
      s.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    next: () => new Promise((r) => (done.length ? r(done.shift()!) : waiting.push(r))),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

interface Recording {
  readonly startedAt: number;
  readonly connectMs: number;
  readonly chunks: { from: 'client' | 'server'; ms: number; bytes: Uint8Array }[];
  end: 'reset' | 'fin' | 'done';
  elapsedMs: number;
}

/**
 * A proxy in front of `upstreamPort` that records both directions with times, and passes a reset
 * from the server on to the client, so the client sees what the server did.
 */
async function recordingProxy(
  upstreamPort: number,
): Promise<{ port: number; recordings: Promise<Recording>[]; close: () => Promise<void> }> {
  const recordings: Promise<Recording>[] = [];
  const server = createServer((client: Socket) => {
    const t0 = performance.now();
    const rec: Recording = { startedAt: Date.now(), connectMs: 0, chunks: [], end: 'done', elapsedMs: 0 };
    const up = connect(upstreamPort, '127.0.0.1');
    recordings.push(
      new Promise((resolve) => {
        let ended = false;
        const finish = (end: Recording['end']) => {
          if (ended) return;
          ended = true;
          rec.end = end;
          rec.elapsedMs = performance.now() - t0;
          resolve(rec);
        };
        client.on('data', (d) => {
          rec.chunks.push({ from: 'client', ms: performance.now() - t0, bytes: new Uint8Array(d) });
          up.write(d);
        });
        up.on('data', (d) => {
          rec.chunks.push({ from: 'server', ms: performance.now() - t0, bytes: new Uint8Array(d) });
          client.write(d);
        });
        up.on('error', (e: NodeJS.ErrnoException) => {
          if (e.code === 'ECONNRESET') {
            finish('reset');
            client.resetAndDestroy();
          }
        });
        up.on('end', () => {
          finish('fin');
          client.end();
        });
        client.on('error', () => up.destroy());
        client.on('end', () => {
          finish('done');
          up.end();
        });
        client.on('close', () => setTimeout(() => finish('done'), 50));
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    recordings,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Runs openssl s_client against `port` with stdin closed; resolves with its key log text. */
async function sClient(port: number, args: string[]): Promise<string> {
  const keylog = join(dir, `keylog-${port}-${Math.random().toString(36).slice(2)}.txt`);
  await new Promise<void>((resolve) => {
    const child = spawn(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-keylogfile', keylog, ...args],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    child.stdin.end();
    const timer = setTimeout(() => child.kill(), 10_000);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  try {
    return readFileSync(keylog, 'utf8');
  } catch {
    return '';
  }
}

/** Returns a capture (pcapng, openssl's TLS 1.3 secrets embedded) of what went through the proxy. */
function captureOf(rec: Recording, upstreamPort: number, keyLogText: string): Uint8Array {
  const clientBytes = concatBytes(...rec.chunks.filter((c) => c.from === 'client').map((c) => c.bytes));
  const hello = capturedHelloFromBytes(clientBytes);
  const log = parseKeyLog(keyLogText);
  const secrets = log.entries
    .filter((e) => equalBytes(e.clientRandom, hello.hello.random))
    .map((e) => ({ label: e.label, secret: e.secret }));
  const attempt: TracedAttempt = {
    server: { address: '127.0.0.1', port: upstreamPort },
    trace: { startedAt: rec.startedAt, chunks: rec.chunks, clientRandom: hello.hello.random, secrets },
    end: rec.end,
    connectMs: rec.connectMs,
    elapsedMs: rec.elapsedMs,
  };
  return encodeProbeCapture([attempt]);
}

/** Captures what `openssl s_client ARGS` sends to and gets from lab endpoint `name`. */
async function captureOpenssl(name: string, args: string[]): Promise<{ capture: Uint8Array; found: CapturedHello }> {
  const upstream = lab.endpoint(name).port;
  const proxy = await recordingProxy(upstream);
  try {
    const keyLog = await sClient(proxy.port, args);
    const rec = await proxy.recordings[0]!;
    const capture = captureOf(rec, upstream, keyLog);
    const found = await findCapturedHello(capture);
    if (!found.ok) throw new Error(found.message);
    return { capture, found: found.hello };
  } finally {
    await proxy.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

describe('detectReplayInput', () => {
  it('tells captures from hello dumps by their first bytes', () => {
    const pcapLe = makePcap([]);
    expect(detectReplayInput(pcapLe)).toBe('capture');
    expect(detectReplayInput(Uint8Array.from([0xa1, 0xb2, 0xc3, 0xd4]))).toBe('capture');
    expect(detectReplayInput(Uint8Array.from([0x4d, 0x3c, 0xb2, 0xa1]))).toBe('capture'); // nanosecond pcap, little-endian
    expect(detectReplayInput(Uint8Array.from([0x0a, 0x0d, 0x0d, 0x0a]))).toBe('capture'); // pcapng Section Header Block
    expect(detectReplayInput(gzipSync(Buffer.from('anything')))).toBe('capture');
    expect(detectReplayInput(loadHexFixture('hello/openssl-s_client-tls13.hex'))).toBe('hello');
    expect(detectReplayInput(new TextEncoder().encode('16030100ee01'))).toBe('hello');
  });
});

describe('capturedHelloFromBytes', () => {
  it('keeps the record bytes exactly as given, record-layer version included', () => {
    for (const f of listHexFixtures('hello')) {
      const bytes = loadHexFixture(f);
      const c = capturedHelloFromBytes(bytes);
      expect(c.format).toBe('records');
      expect(toHex(c.records!)).toBe(toHex(bytes));
      expect(c.recordVersion).toBe((bytes[1]! << 8) | bytes[2]!);
      expect(toHex(c.message)).toBe(toHex(bytes.subarray(5)));
    }
  });

  it('reads a bare handshake message, which has no record to keep', () => {
    const bytes = loadHexFixture('hello/openssl-s_client-tls12.hex').subarray(5);
    const c = capturedHelloFromBytes(bytes);
    expect(c.format).toBe('handshake');
    expect(c.records).toBeNull();
    expect(clientServerName(c.hello)).toBe('localhost');
  });

  it('takes only the records that carry the hello and counts what follows', () => {
    const rec = loadHexFixture('hello/openssl-s_client-tls13.hex');
    const ccs = Uint8Array.from([0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
    const c = capturedHelloFromBytes(concatBytes(rec, ccs));
    expect(toHex(c.records!)).toBe(toHex(rec));
    expect(c.bytesAfterHello).toBe(6);
  });

  it('joins a hello split over several records and keeps all of them', () => {
    const message = loadHexFixture('hello/openssl-s_client-tls13.hex').subarray(5);
    const split = encodeRecords(0x16, 0x0301, message, 100);
    const c = capturedHelloFromBytes(split);
    expect(toHex(c.records!)).toBe(toHex(split));
    expect(toHex(c.message)).toBe(toHex(message));
  });

  it('rejects a truncated hello, a ServerHello and an SSL 2.0 hello', () => {
    const rec = loadHexFixture('hello/openssl-s_client-tls13.hex');
    expect(() => capturedHelloFromBytes(rec.subarray(0, 100))).toThrow(expect.objectContaining({ code: 'truncated' }));
    expect(() => capturedHelloFromBytes(loadHexFixture('server/openssl-s_server-tls12.hex'))).toThrow(
      expect.objectContaining({ code: 'unexpected-message' }),
    );
    // RFC 5246, Appendix E.2: 2-byte header with the high bit set, msg_type 1, version 3.1.
    const v2 = Uint8Array.from([0x80, 0x0b, 0x01, 0x03, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2f]);
    expect(() => capturedHelloFromBytes(v2)).toThrow(DecodeError);
  });
});

describe('findCapturedHello', () => {
  const hello = loadHexFixture('hello/openssl-s_client-tls12.hex');
  const serverFlight = loadHexFixture('server/openssl-s_server-tls12.hex');

  it('reassembles a hello split over TCP segments and reads the captured answer', async () => {
    const pcap = makePcap([
      { fromClient: true, payload: hello.subarray(0, 60) },
      { fromClient: true, payload: hello.subarray(60) },
      { fromClient: false, payload: serverFlight },
    ]);
    const found = await findCapturedHello(pcap);
    expect(found.ok).toBe(true);
    if (!found.ok) return;
    const c = found.hello;
    expect(c.format).toBe('pcap');
    expect(c.connection).toBe(0);
    expect(c.server).toEqual({ addr: '127.0.0.2', port: 443 });
    expect(toHex(c.records!)).toBe(toHex(hello));
    // The fixture's ServerHello: TLS 1.2 (0x0303). Suite and certificate from the same fixture's bytes.
    const sh = parseClientHelloSuiteFromFlight(serverFlight);
    expect(c.answer).toMatchObject({
      outcome: 'negotiated',
      negotiatedVersion: 0x0303,
      cipherSuite: sh.suite,
      helloRetryRequest: false,
    });
    expect(c.answer!.certificates!.map(sha1Hex)).toEqual([sha1Hex(sh.leaf)]);
  });

  it('picks the first connection that starts with a ClientHello, or the one asked for', async () => {
    const http = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const pcap = makePcap([
      { fromClient: true, payload: http, clientPort: 40000 },
      { fromClient: true, payload: hello, clientPort: 40001 },
      { fromClient: true, payload: loadHexFixture('hello/gnutls-cli.hex'), clientPort: 40002 },
    ]);
    const first = await findCapturedHello(pcap);
    expect(first.ok && first.hello.connection).toBe(1);
    const third = await findCapturedHello(pcap, { connection: 2 });
    expect(third.ok && toHex(third.hello.records!)).toBe(toHex(loadHexFixture('hello/gnutls-cli.hex')));
    const none = await findCapturedHello(pcap, { connection: 0 });
    expect(none).toMatchObject({ ok: false, code: 'no-such-connection' });
    const missing = await findCapturedHello(pcap, { connection: 7 });
    expect(missing).toMatchObject({ ok: false, code: 'no-such-connection' });
    const empty = await findCapturedHello(makePcap([{ fromClient: true, payload: http }]));
    expect(empty).toMatchObject({ ok: false, code: 'no-client-hello' });
  });

  it('reports a reset from the server as the captured answer', async () => {
    const rec: Recording = {
      startedAt: 1_700_000_000_000,
      connectMs: 1,
      chunks: [{ from: 'client', ms: 2, bytes: hello }],
      end: 'reset',
      elapsedMs: 5,
    };
    const found = await findCapturedHello(captureOf(rec, 443, ''));
    expect(found.ok && found.hello.answer).toMatchObject({
      outcome: 'reset',
      negotiatedVersion: null,
      certificates: null,
    });
  });

  it.skipIf(!hasCorpusFile(RFC8446_PCAP))(
    'finds the hello of the RFC 8446 capture with the bytes tshark sees',
    async () => {
      const found = await findCapturedHello(corpusPath(RFC8446_PCAP));
      expect(found.ok).toBe(true);
      if (!found.ok) return;
      expect(found.hello.connection).toBe(0);
      expect(found.hello.answer?.negotiatedVersion).toBe(0x0304);
      if (HAS_TSHARK) {
        const r = spawnSync(
          'tshark',
          [
            '-r',
            corpusPath(RFC8446_PCAP),
            '-Y',
            'tls.handshake.type == 1',
            '-T',
            'fields',
            '-e',
            'tcp.stream',
            '-e',
            'tcp.payload',
          ],
          { encoding: 'utf8' },
        );
        const [stream, payload] = r.stdout.split('\n')[0]!.split('\t');
        expect(Number(stream)).toBe(found.hello.connection);
        expect(payload!.replace(/:/g, '')).toBe(toHex(found.hello.records!));
      }
    },
  );
});

/** Returns the cipher suite and first certificate of a TLS 1.2 server flight, read by hand (RFC 5246, Section 7.4). */
function parseClientHelloSuiteFromFlight(flight: Uint8Array): { suite: number; leaf: Uint8Array } {
  // Record 1 holds ServerHello; its body: version(2) random(32) session_id<1> suite(2).
  const sh = flight.subarray(5 + 4);
  const sidLen = sh[34]!;
  const suite = (sh[35 + sidLen]! << 8) | sh[36 + sidLen]!;
  // Find the Certificate message (type 11) by walking handshake headers in the record stream.
  let o = 0;
  const hs: number[] = [];
  while (o + 5 <= flight.length) {
    const len = (flight[o + 3]! << 8) | flight[o + 4]!;
    if (flight[o] === 0x16) for (const b of flight.subarray(o + 5, o + 5 + len)) hs.push(b);
    o += 5 + len;
  }
  const bytes = Uint8Array.from(hs);
  let p = 0;
  while (p + 4 <= bytes.length) {
    const len = (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!;
    if (bytes[p] === 11) {
      const first = (bytes[p + 7]! << 16) | (bytes[p + 8]! << 8) | bytes[p + 9]!;
      return { suite, leaf: bytes.slice(p + 10, p + 10 + first) };
    }
    p += 4 + len;
  }
  throw new Error('no Certificate in the fixture flight');
}

// ---------------------------------------------------------------------------------------------
// Opt-in changes
// ---------------------------------------------------------------------------------------------

describe('prepareReplay', () => {
  it('sends every fixture hello byte for byte when nothing is asked', () => {
    for (const f of listHexFixtures('hello')) {
      const c = capturedHelloFromBytes(loadHexFixture(f));
      const p = prepareReplay(c);
      expect(p.modified).toEqual([]);
      expect(p.byteExact).toBe(true);
      expect(toHex(p.record)).toBe(toHex(c.records!));
    }
  });

  it('says when the captured records cannot be reproduced', () => {
    const message = loadHexFixture('hello/openssl-s_client-tls13.hex').subarray(5);
    const p = prepareReplay(capturedHelloFromBytes(encodeRecords(0x16, 0x0301, message, 100)));
    expect(p.byteExact).toBe(false);
    expect(p.notes.join(' ')).toMatch(/split its hello over 3 records/);
  });

  it('puts the name in server_name and changes nothing else', () => {
    const c = capturedHelloFromBytes(loadHexFixture('hello/openssl-s_client-tls13.hex'));
    const p = prepareReplay(c, { fixSni: 'backup.example.net' });
    expect(p.modified).toEqual(['server_name']);
    expect(p.byteExact).toBe(false);
    expect(clientServerName(p.hello)).toBe('backup.example.net');
    const again = parseClientHello(p.message);
    expect(again.cipherSuites).toEqual(c.hello.cipherSuites);
    expect(again.extensions!.map((e) => e.type)).toEqual(c.hello.extensions!.map((e) => e.type));
    expect(prepareReplay(c, { fixSni: 'localhost' }).modified).toEqual([]);
  });

  it('keeps the hello length when a padding extension can absorb the new name (RFC 7685)', () => {
    const built = buildClientHello({ version: 'TLS1.2', sni: 'a.example', padTo: 600 });
    const c = capturedHelloFromBytes(built.record);
    const p = prepareReplay(c, { fixSni: 'a-much-longer-name.example' });
    expect(p.modified).toEqual(['server_name', 'padding']);
    expect(p.message.length).toBe(c.message.length);
  });

  it('adds server_name to a hello that had none', () => {
    const built = buildClientHello({ version: 'TLS1.2', sni: null, padTo: null });
    const p = prepareReplay(capturedHelloFromBytes(built.record), { fixSni: 'example.org' });
    expect(p.hello.extensions![0]).toMatchObject({ kind: 'server_name' });
    expect(clientServerName(p.hello)).toBe('example.org');
  });

  it('draws a fresh random and fresh key shares only when asked', () => {
    const c = capturedHelloFromBytes(loadHexFixture('hello/openssl-s_client-tls13.hex'));
    const r = prepareReplay(c, { freshRandom: true });
    expect(r.modified).toEqual(['random']);
    expect(toHex(r.hello.random)).not.toBe(toHex(c.hello.random));
    expect(toHex(encodeClientHello({ ...r.hello, random: c.hello.random }))).toBe(toHex(c.message));

    const k = prepareReplay(c, { freshKeyShare: true });
    expect(k.modified).toEqual(['key_share']);
    const before = findExtension(c.hello.extensions, 'key_share')!.shares!;
    const after = findExtension(k.hello.extensions, 'key_share')!.shares!;
    expect(after.map((s) => s.group)).toEqual(before.map((s) => s.group));
    expect(after.map((s) => toHex(s.keyExchange))).not.toEqual(before.map((s) => toHex(s.keyExchange)));
    expect(k.spec.keyPairs!.map((p) => toHex(p.publicKey))).toEqual(after.map((s) => toHex(s.keyExchange)));
  });
});

// ---------------------------------------------------------------------------------------------
// On the wire and against the lab
// ---------------------------------------------------------------------------------------------

describe('replay', () => {
  it('puts exactly the captured record bytes on the wire (from a pcap)', async () => {
    const rec = await recordingServer();
    try {
      const hello = loadHexFixture('hello/gnutls-cli.hex');
      const found = await findCapturedHello(
        makePcap([
          { fromClient: true, payload: hello.subarray(0, 33) },
          { fromClient: true, payload: hello.subarray(33) },
        ]),
      );
      if (!found.ok) throw new Error(found.message);
      const prepared = prepareReplay(found.hello);
      const [result, received] = await Promise.all([
        replay(found.hello, prepared, target(rec.port), { readTimeoutMs: 2000 }),
        rec.next(),
      ]);
      expect(toHex(received)).toBe(toHex(hello));
      expect(toHex(result.sent)).toBe(toHex(hello));
      expect(result.live.outcome).toBe('closed');
      // The capture holds nothing from the server: no answer there, a FIN here.
      expect(found.hello.answer).toMatchObject({
        outcome: 'timeout',
        notes: ['no answer from the server in the capture'],
      });
      expect(result.differences).toEqual([{ field: 'outcome', captured: 'timeout', live: 'closed' }]);
    } finally {
      await rec.close();
    }
  });

  it.skipIf(!hasCorpusFile(RFC8446_PCAP))(
    'puts the RFC 8446 capture hello on the wire unchanged, and the lab answers it',
    async () => {
      const found = await findCapturedHello(corpusPath(RFC8446_PCAP));
      if (!found.ok) throw new Error(found.message);
      const rec = await recordingServer();
      try {
        const [, received] = await Promise.all([
          replay(found.hello, prepareReplay(found.hello), target(rec.port), { readTimeoutMs: 2000 }),
          rec.next(),
        ]);
        expect(toHex(received)).toBe(toHex(found.hello.records!));
      } finally {
        await rec.close();
      }
      const live = await replay(
        found.hello,
        prepareReplay(found.hello, { freshKeyShare: true }),
        target(lab.endpoint('modern').port),
      );
      expect(live.live.outcome).toBe('negotiated');
      expect(live.liveAnswer.negotiatedVersion).toBe(0x0304);
      expect(live.liveAnswer.certificates!.map(sha1Hex)).toEqual(
        [lab.pki.leaf.der, lab.pki.intermediate.der, lab.pki.root.der].map(sha1Hex),
      );
    },
  );

  it.skipIf(!hasCorpusFile(FRAGMENTED_PCAP))(
    'says why a hello whose record carries more handshake data cannot be byte-exact',
    async () => {
      const found = await findCapturedHello(corpusPath(FRAGMENTED_PCAP), { connection: 0 });
      if (!found.ok) throw new Error(found.message);
      const extra = found.hello.records!.length - 5 - found.hello.message.length;
      expect(extra).toBeGreaterThan(0);
      const p = prepareReplay(found.hello);
      expect(p.byteExact).toBe(false);
      expect(p.notes).toContain(
        `the captured record also carries ${extra} bytes of other handshake data after the hello; the replay sends the hello alone`,
      );
    },
  );

  describe.skipIf(!HAS_OPENSSL)('hellos captured from openssl s_client', () => {
    it('TLS 1.3: the lab answers the replay as it answered openssl (certificates through --fresh-key-share)', async () => {
      const { found } = await captureOpenssl('modern', ['-tls1_3']);
      const answer = found.answer!;
      expect(answer.outcome).toBe('negotiated');
      expect(answer.negotiatedVersion).toBe(0x0304);
      expect(answer.certificates, "the capture embeds openssl's key log").not.toBeNull();

      const fresh = await replay(
        found,
        prepareReplay(found, { freshKeyShare: true }),
        target(lab.endpoint('modern').port),
      );
      expect(fresh.differences).toEqual([]);
      expect(fresh.liveAnswer.certificates!.map(sha1Hex)).toEqual(answer.certificates!.map(sha1Hex));
      expectSameAnswer(answer, fresh.liveAnswer);

      const exact = await replay(found, prepareReplay(found), target(lab.endpoint('modern').port));
      expect(exact.prepared.byteExact).toBe(true);
      expect(toHex(exact.sent)).toBe(toHex(found.records!));
      expect(exact.live.outcome).toBe('negotiated');
      expect(exact.liveAnswer.certificates).toBeNull(); // the captured shares' private keys stayed with openssl
      expect(exact.liveAnswer.notes.join(' ')).toMatch(/--fresh-key-share/);
      expect(exact.differences).toEqual([]);
    });

    it('TLS 1.2: the same version, suite, group, extensions and certificates', async () => {
      const { found } = await captureOpenssl('modern', ['-tls1_2']);
      const r = await replay(found, prepareReplay(found), target(lab.endpoint('modern').port));
      expect(r.prepared.byteExact).toBe(true);
      expect(found.answer!.negotiatedVersion).toBe(0x0303);
      expect(found.answer!.certificates!.length).toBe(3);
      expect(r.differences).toEqual([]);
      expectSameAnswer(found.answer!, r.liveAnswer);
    });

    it('TLS 1.0: reset-legacy reset it in the capture and resets the replay', async () => {
      const { found } = await captureOpenssl('reset-legacy', ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0']);
      expect(found.hello.legacyVersion).toBe(0x0301);
      expect(found.answer!.outcome).toBe('reset');
      const r = await replay(found, prepareReplay(found), target(lab.endpoint('reset-legacy').port));
      expect(r.prepared.byteExact).toBe(true);
      expect(r.live.outcome).toBe('reset');
      expect(r.differences).toEqual([]);
    });

    it('lists each difference when the server has changed', async () => {
      const { found } = await captureOpenssl('modern', ['-tls1_2']);
      const r = await replay(found, prepareReplay(found), target(lab.endpoint('tls13-only').port));
      expect(r.live.outcome).toBe('alert');
      const fields = r.differences.map((d) => d.field);
      expect(fields).toEqual(
        expect.arrayContaining(['outcome', 'negotiatedVersion', 'cipherSuite', 'serverHelloExtensions', 'alert']),
      );
      expect(r.differences.find((d) => d.field === 'outcome')).toEqual({
        field: 'outcome',
        captured: 'negotiated',
        live: 'alert',
      });
    });
  });
});

function expectSameAnswer(a: ServerAnswer, b: ServerAnswer): void {
  expect(b.negotiatedVersion).toBe(a.negotiatedVersion);
  expect(b.cipherSuite).toBe(a.cipherSuite);
  if (a.group !== null) expect(b.group).toBe(a.group);
  expect(b.serverHelloExtensions).toEqual(a.serverHelloExtensions);
}

describe('compareAnswers', () => {
  const base: ServerAnswer = {
    outcome: 'negotiated',
    negotiatedVersion: 0x0303,
    cipherSuite: 0xc02f,
    group: 0x001d,
    helloRetryRequest: false,
    serverHelloExtensions: [0xff01, 0x000b],
    encryptedExtensions: null,
    alert: null,
    certificates: [Uint8Array.from([1, 2, 3])],
    notes: [],
  };

  it('finds no difference between equal answers', () => {
    expect(compareAnswers(base, { ...base })).toEqual([]);
  });

  it('does not count what one side could not see', () => {
    expect(compareAnswers(base, { ...base, certificates: null, group: null, encryptedExtensions: [0x0010] })).toEqual(
      [],
    );
  });

  it('names each differing field with both values', () => {
    const live: ServerAnswer = {
      ...base,
      outcome: 'alert',
      negotiatedVersion: null,
      cipherSuite: null,
      serverHelloExtensions: null,
      alert: { level: 2, description: 70, name: 'protocol_version' },
      certificates: [Uint8Array.from([9])],
    };
    expect(compareAnswers(base, live)).toEqual([
      { field: 'outcome', captured: 'negotiated', live: 'alert' },
      { field: 'negotiatedVersion', captured: 0x0303, live: null },
      { field: 'cipherSuite', captured: 0xc02f, live: null },
      { field: 'serverHelloExtensions', captured: [0xff01, 0x000b], live: null },
      { field: 'alert', captured: null, live: 'protocol_version' },
      { field: 'certificates', captured: [sha1Hex(Uint8Array.from([1, 2, 3]))], live: [sha1Hex(Uint8Array.from([9]))] },
    ]);
  });
});

if (!hasCorpusFile(RFC8446_PCAP)) console.warn(NO_CORPUS);
