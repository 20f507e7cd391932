/**
 * analyzeCapture and listClientHellos on captures made by scripts/make-captures.mjs (real Node/OpenSSL
 * TLS stacks and scripted endpoints on loopback, arbitrary ports) and on small pcaps built here from
 * recorded hello bytes. Expected outcomes are what the scripted server did (reset, close, stay
 * silent, refuse, answer HTTP); certificates are checked against the chain the servers were given.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture, listClientHellos } from '../../src/capture/sessions.js';
import type { ConnectionFacts } from '../../src/capture/sessions.js';
import { openCaptureFile } from '../../src/capture/source.js';
import { parseClientHello, clientServerName } from '../../src/tls/client-hello.js';
import { toHex } from '../../src/wire/hex.js';
import { FIXTURES_DIR, loadHexFixture } from '../helpers/fixtures.js';
import { makePcap } from '../helpers/pcap-writer.js';
import { hasTshark, NO_TSHARK, tsharkRows } from './sessions-tshark.js';

const pcapDir = join(FIXTURES_DIR, 'pcap');
const fixture = (name: string): string => join(pcapDir, name);

async function analyze(name: string, keyLog?: string): Promise<ConnectionFacts[]> {
  const r = await analyzeCapture(openCaptureFile(fixture(name)), keyLog === undefined ? {} : { keyLog });
  return r.connections!;
}

/** SHA-1 of each certificate in chain.pem, computed by node:crypto's own X.509 parser. */
function chainSha1(): string[] {
  const pem = readFileSync(fixture('chain.pem'), 'utf8');
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) =>
    new X509Certificate(m[0]).fingerprint.replace(/:/g, '').toLowerCase(),
  );
}

const sha1 = async (der: Uint8Array): Promise<string> =>
  (await import('node:crypto')).createHash('sha1').update(der).digest('hex');

describe('analyzeCapture', () => {
  it('classifies a reset right after the ClientHello as reset by the server', async () => {
    const [c, ...rest] = await analyze('reset-after-hello.pcapng');
    expect(rest).toHaveLength(0);
    expect(c!.outcome).toBe('reset');
    expect(c!.serverHello).toBeNull();
    expect(c!.end).toMatchObject({
      kind: 'rst',
      by: 'server',
      afterMessage: 'client_hello',
      afterMessageFrom: 'client',
    });
    expect(c!.end.msAfterMessage).toBeGreaterThanOrEqual(0);
    expect(c!.end.msAfterMessage).toBeLessThan(1000);
    expect(c!.clientHello?.format === 'tls' && clientServerName(c!.clientHello.hello)).toBe('capture.test');
  });

  it('classifies a close right after the ClientHello as closed by the server', async () => {
    const [c] = await analyze('closed-after-hello.pcapng');
    expect(c!.outcome).toBe('closed');
    expect(c!.end).toMatchObject({ kind: 'fin', by: 'server', afterMessage: 'client_hello' });
  });

  it('classifies a connection still waiting at the end of the capture as timeout', async () => {
    const [c] = await analyze('silent.pcapng');
    expect(c!.outcome).toBe('timeout');
    expect(c!.end).toMatchObject({ kind: 'open', by: null, afterMessage: 'client_hello' });
  });

  it('reports the fatal alert a server refuses the hello with, and who sent it', async () => {
    const [c] = await analyze('alert.pcapng');
    expect(c!.outcome).toBe('alert');
    // RFC 8446, Section 6: fatal(2) handshake_failure(40).
    expect(c!.alerts.map((a) => [a.from, a.level, a.description, a.encrypted])).toEqual([['server', 2, 40, false]]);
    expect(c!.end).toMatchObject({ kind: 'fin', by: 'server', afterMessage: 'alert', afterMessageFrom: 'server' });
  });

  it('calls an HTTP answer to a ClientHello malformed and keeps its first bytes', async () => {
    const [c] = await analyze('http-answer.pcapng');
    expect(c!.outcome).toBe('malformed');
    expect(Buffer.from(c!.serverEvidence!).toString('latin1')).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(c!.problems.map((p) => p.code)).toContain('not-tls');
  });

  it('reassembles a ClientHello cut into 100-byte segments', async () => {
    const [c] = await analyze('segmented-hello.pcapng');
    expect(c!.clientHello?.format).toBe('tls');
    if (c!.clientHello?.format !== 'tls') return;
    expect(clientServerName(c!.clientHello.hello)).toBe(`${'a'.repeat(60)}.${'b'.repeat(60)}.capture.test`);
    expect(c!.outcome).toBe('reset');
  });

  it('follows a TLS 1.3 handshake in 1,400-byte segments and decrypts its certificates from the embedded key log', async () => {
    const [c] = await analyze('tls13-dsb.pcapng');
    expect(c!.version).toBe(0x0304);
    expect(c!.outcome).toBe('negotiated');
    expect(c!.handshakeComplete).toBe(true);
    expect(c!.certificatesDecrypted).toBe(true);
    expect(await Promise.all(c!.certificates.map(sha1))).toEqual(chainSha1());
    expect(c!.decryption).toMatchObject({ keys: 'tls13', status: 'decrypted' });
    expect(c!.decryption!.messages).toEqual([
      'encrypted_extensions',
      'certificate',
      'certificate_verify',
      'finished',
      'finished',
    ]);
    expect(c!.decryption!.clientFinished!.verified).toBe(true);
    expect(c!.decryption!.serverFinished!.verified).toBe(true);
    expect(c!.end).toMatchObject({ kind: 'fin', by: 'client' });
  });

  it('reports TLS 1.2 connections with the suites offered, their chain in clear, and both close_notify alerts', async () => {
    const conns = await analyze('tls12-keylog.pcapng');
    expect(conns.map((c) => c.cipherSuite)).toEqual([0xc02f, 0xcca8, 0x002f]);
    for (const c of conns) {
      expect(c.outcome).toBe('negotiated');
      expect(c.version).toBe(0x0303);
      expect(await Promise.all(c.certificates.map(sha1))).toEqual(chainSha1());
      // Encrypted close_notify (RFC 5246, Section 7.2.1) from each side: seen, not readable without keys.
      expect(c.alerts.map((a) => [a.from, a.encrypted, a.description])).toEqual([
        ['client', true, null],
        ['server', true, null],
      ]);
      expect(c.decryption).toBeNull();
    }
  });

  it('reads an SSLv2-compatible ClientHello and the alert that answers it', async () => {
    // RFC 5246, Appendix E.2: msg_length with the high bit, CLIENT-HELLO(1), version 3.1,
    // cipher_spec_length 6, session_id_length 0, challenge_length 16, specs, challenge.
    const challenge = Array.from({ length: 16 }, (_, i) => i + 1);
    const body = [1, 0x03, 0x01, 0, 6, 0, 0, 0, 16, 0x00, 0x00, 0x2f, 0x01, 0x00, 0x80, ...challenge];
    const hello = Uint8Array.from([0x80 | (body.length >> 8), body.length & 0xff, ...body]);
    const alert = Uint8Array.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]);
    const pcap = makePcap(
      [
        { fromClient: true, payload: hello },
        { fromClient: false, payload: alert },
      ],
      8443,
    );
    const { connections } = await analyzeCapture(new Uint8Array(pcap));
    expect(connections).toHaveLength(1);
    const c = connections![0]!;
    expect(c.clientHello?.format).toBe('sslv2');
    if (c.clientHello?.format === 'sslv2') {
      expect(c.clientHello.hello.version).toBe(0x0301);
      expect(c.clientHello.hello.cipherSpecs).toEqual([0x00002f, 0x010080]);
      expect(toHex(c.clientHello.records)).toBe(toHex(hello));
    }
    expect(c.outcome).toBe('alert');
    expect(c.server.port).toBe(8443);
  });

  it('calls a ServerHello choosing a suite the client did not offer a mismatch', async () => {
    const ch = loadHexFixture('hello/openssl-s_client-tls12.hex');
    const flight = loadHexFixture('server/openssl-s_server-tls12.hex').slice();
    // RFC 5246, Section 7.4.1.3: record header 5, handshake header 4, version 2, random 32, session_id.
    const suiteAt = 5 + 4 + 2 + 32 + 1 + flight[5 + 4 + 2 + 32]!;
    const offered = parseClientHello(ch.subarray(5)).cipherSuites;
    const notOffered = [0x0005, 0x0004, 0x000a].find((s) => !offered.includes(s))!;
    flight[suiteAt] = notOffered >> 8;
    flight[suiteAt + 1] = notOffered & 0xff;
    const { connections } = await analyzeCapture(
      new Uint8Array(
        makePcap([
          { fromClient: true, payload: ch },
          { fromClient: false, payload: flight },
        ]),
      ),
    );
    expect(connections![0]!.cipherSuite).toBe(notOffered);
    expect(connections![0]!.outcome).toBe('mismatch');
  });

  it('hands connections to onConnection as they end and keeps none itself', async () => {
    const seen: number[] = [];
    const r = await analyzeCapture(openCaptureFile(fixture('tls12-keylog.pcapng')), {
      onConnection: (c) => seen.push(c.index),
    });
    expect(r.connections).toBeUndefined();
    expect(seen.sort()).toEqual([0, 1, 2]);
    expect(r.stats.connections).toBe(3);
  });

  // The analysis hands record bodies and first segments on as views of the capture while it reads
  // them, gathers split bodies into reused scratch memory, and packs the bytes it keeps into shared
  // blocks: none of the facts may alias the input or the scratch memory.
  it('keeps no view of the capture or of its scratch memory: the facts do not depend on the chunking and survive the input being overwritten', async () => {
    const keyLog = readFileSync(fixture('tls12-keylog.keys'), 'utf8');
    const text = (cs: readonly ConnectionFacts[]): string =>
      JSON.stringify(cs, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v));
    for (const name of ['tls13-dsb.pcapng', 'tls12-keylog.pcapng']) {
      const file = readFileSync(fixture(name));
      let whole: string | null = null;
      for (const size of [file.length, 1500, 97, 13]) {
        const chunks: Uint8Array[] = [];
        for (let o = 0; o < file.length; o += size) chunks.push(new Uint8Array(file.subarray(o, o + size)));
        const { connections } = await analyzeCapture(
          (async function* () {
            yield* chunks;
          })(),
          { keyLog },
        );
        const before = text(connections!);
        expect(connections!.some((c) => c.certificates.length > 0 && c.decryption?.status === 'decrypted')).toBe(true);
        whole ??= before;
        expect(before).toBe(whole);
        for (const c of chunks) c.fill(0xa5);
        expect(text(connections!)).toBe(before);
      }
    }
  });

  it('ignores flows that carry no TLS', async () => {
    const pcap = makePcap(
      [
        { fromClient: true, payload: new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n') },
        { fromClient: false, payload: new TextEncoder().encode('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n') },
      ],
      80,
    );
    const r = await analyzeCapture(new Uint8Array(pcap));
    expect(r.connections).toEqual([]);
    expect(r.stats.flows).toBe(1);
  });
});

describe('listClientHellos', () => {
  it('returns the exact record bytes and message of each first ClientHello', async () => {
    const hellos = await listClientHellos(openCaptureFile(fixture('tls12-keylog.pcapng')));
    expect(hellos.map((h) => h.index)).toEqual([0, 1, 2]);
    for (const h of hellos) {
      // One record: header (type 22, length) then exactly the handshake message.
      expect(h.helloRecord[0]).toBe(22);
      expect((h.helloRecord[3]! << 8) | h.helloRecord[4]!).toBe(h.helloMessage.length);
      expect(toHex(h.helloRecord.subarray(5))).toBe(toHex(h.helloMessage));
      expect(h.client).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(parseClientHello(h.helloMessage).cipherSuites.length).toBeGreaterThan(0);
    }
  });

  it('joins a ClientHello that spans several records', async () => {
    // The same hello, sent as two records (RFC 5246, Section 6.2.1 allows any split).
    const one = loadHexFixture('hello/openssl-s_client-tls13.hex');
    const msg = one.subarray(5);
    const rec = (part: Uint8Array) =>
      Uint8Array.from([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff, ...part]);
    const two = Uint8Array.from([...rec(msg.subarray(0, 40)), ...rec(msg.subarray(40))]);
    const [h] = await listClientHellos(new Uint8Array(makePcap([{ fromClient: true, payload: two }])));
    expect(toHex(h!.helloRecord)).toBe(toHex(two));
    expect(toHex(h!.helloMessage)).toBe(toHex(msg));
  });
});

describe.skipIf(!hasTshark)('fixture captures, against tshark', () => {
  if (!hasTshark) console.warn(NO_TSHARK);
  it.each([
    'tls13-dsb.pcapng',
    'tls12-keylog.pcapng',
    'alert.pcapng',
    'reset-after-hello.pcapng',
    'segmented-hello.pcapng',
    'http-answer.pcapng',
  ])('finds the ClientHellos tshark finds in %s, with the same JA3', async (name) => {
    const rows = await tsharkRows(fixture(name), 'tls.handshake.type == 1', [
      'tcp.srcport',
      'tls.handshake.random',
      'tls.handshake.ja3_full',
    ]);
    const { ja3 } = await import('../../src/capture/fingerprint.js');
    const ours = (await analyze(name)).map((c) =>
      c.clientHello?.format === 'tls'
        ? [String(c.client.port), toHex(c.clientHello.hello.random), ja3(c.clientHello.hello).text]
        : null,
    );
    expect(ours).toEqual(rows.map((r) => r.map((cell) => cell[0])));
  });
});
