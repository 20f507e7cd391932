/**
 * analyzeCapture over every capture in ../shared/corpus, with tshark as the oracle (TCP only; tshark
 * also dissects QUIC, which we do not read): the TLS connections (the streams on which tshark sees
 * a ClientHello or ServerHello), every field of the first ClientHello and ServerHello of each
 * (and the second after a HelloRetryRequest), JA3/JA3S, and the SHA-1 of every certificate of the
 * server's first Certificate message. Skips cleanly without the corpus or tshark.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture, endpointText } from '../../src/capture/sessions.js';
import type { ConnectionFacts } from '../../src/capture/sessions.js';
import { openCaptureFile } from '../../src/capture/source.js';
import { clientServerName, clientSupportedVersions } from '../../src/tls/client-hello.js';
import { findExtension } from '../../src/tls/extensions.js';
import { ja3, ja3s } from '../../src/capture/fingerprint.js';
import { toHex } from '../../src/wire/hex.js';
import { CORPUS_DIR, hasCorpus, NO_CORPUS } from '../helpers/corpus.js';
import { corpusCaptures, hasTshark, NO_TSHARK, tsharkRows } from './sessions-tshark.js';

if (!hasCorpus) console.warn(NO_CORPUS);
if (!hasTshark) console.warn(NO_TSHARK);

const FIELDS = [
  'tcp.stream',
  'ip.src',
  'ipv6.src',
  'tcp.srcport',
  'ip.dst',
  'ipv6.dst',
  'tcp.dstport',
  'tls.handshake.type',
  'tls.handshake.version',
  'tls.handshake.random',
  'tls.handshake.session_id',
  'tls.handshake.ciphersuite',
  'tls.handshake.comp_method',
  'tls.handshake.extension.type',
  'tls.handshake.extensions_server_name',
  'tls.handshake.extensions.supported_version',
  'tls.handshake.ja3_full',
  'tls.handshake.ja3',
  'tls.handshake.ja3s_full',
  'tls.handshake.ja3s',
  'tls.handshake.certificate',
] as const;

type Field = (typeof FIELDS)[number];

interface Frame {
  readonly stream: string;
  readonly src: string;
  readonly dst: string;
  readonly get: (f: Field) => string[];
}

const ep = (addr: string, port: string): string => endpointText({ addr, port: Number(port) });

async function oracleFrames(file: string): Promise<Frame[]> {
  const rows = await tsharkRows(
    file,
    'tcp && (tls.handshake.type == 1 || tls.handshake.type == 2 || tls.handshake.type == 11)',
    FIELDS,
  );
  const out: Frame[] = [];
  for (const row of rows) {
    const get = (f: Field): string[] => row[FIELDS.indexOf(f)] ?? [];
    // Tunnelled frames carry several IP/TCP layers: not comparable field by field.
    if (get('tcp.stream').length !== 1 || get('tcp.srcport').length !== 1) continue;
    const src = ep(get('ip.src')[0] ?? get('ipv6.src')[0] ?? '', get('tcp.srcport')[0]!);
    const dst = ep(get('ip.dst')[0] ?? get('ipv6.dst')[0] ?? '', get('tcp.dstport')[0]!);
    out.push({ stream: get('tcp.stream')[0]!, src, dst, get });
  }
  return out;
}

const hex16 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;
const sha1 = (b: Uint8Array | Buffer): string => createHash('sha1').update(b).digest('hex');

interface Stream {
  client: string;
  server: string;
  hellos: Frame[];
  serverHellos: Frame[];
  certificates: string[] | null;
}

/**
 * TLS 1.3 drafts before 22 (and draft 14, which put 0x0304 in the version field) had no legacy
 * session id or compression in the ServerHello; tshark 4.0 reads them with the final layout and
 * so reports other fields than the draft defines. Those ServerHellos are compared on their random only.
 */
const draftServerHello = (c: ConnectionFacts): boolean => {
  const v = c.serverHello?.hello.legacyVersion ?? 0;
  return v === 0x0304 || (v >> 8 === 0x7f && (v & 0xff) < 22);
};

function compareClientHello(f: Frame, c: ConnectionFacts, which: 'clientHello' | 'retryClientHello'): void {
  const fact = c[which];
  if (fact?.format !== 'tls') throw new Error(`no TLS ${which} for ${endpointText(c.client)}`);
  const ch = fact.hello;
  const sv = clientSupportedVersions(ch);
  const ours = {
    version: [hex16(ch.legacyVersion)],
    random: [toHex(ch.random)],
    sessionId: ch.sessionId.length ? [toHex(ch.sessionId)] : [],
    suites: ch.cipherSuites.map(hex16),
    compression: ch.compressionMethods.map(String),
    extensions: (ch.extensions ?? []).map((e) => String(e.type)),
    sni: clientServerName(ch) === null ? [] : [clientServerName(ch)],
    supportedVersions: sv ? sv.map(hex16) : [],
    ja3: [ja3(ch).text],
    ja3Hash: [ja3(ch).hash],
  };
  const theirs = {
    version: f.get('tls.handshake.version'),
    random: f.get('tls.handshake.random'),
    sessionId: f.get('tls.handshake.session_id'),
    suites: f.get('tls.handshake.ciphersuite'),
    compression: f.get('tls.handshake.comp_method'),
    extensions: f.get('tls.handshake.extension.type'),
    sni: f.get('tls.handshake.extensions_server_name'),
    supportedVersions: f.get('tls.handshake.extensions.supported_version'),
    ja3: f.get('tls.handshake.ja3_full'),
    ja3Hash: f.get('tls.handshake.ja3'),
  };
  expect(ours, `${which} of ${endpointText(c.client)}`).toEqual(theirs);
}

function compareServerHello(f: Frame, c: ConnectionFacts, which: 'serverHello' | 'helloRetryRequest'): void {
  const sh = c[which]!.hello;
  const ours = {
    version: [hex16(sh.legacyVersion)],
    random: [toHex(sh.random)],
    sessionId: sh.sessionId.length ? [toHex(sh.sessionId)] : [],
    suite: [hex16(sh.cipherSuite)],
    compression: [String(sh.compressionMethod)],
    extensions: (sh.extensions ?? []).map((e) => String(e.type)),
    selected: findExtension(sh.extensions, 'supported_versions')?.selected ?? null,
    ja3s: [ja3s(sh).text],
    ja3sHash: [ja3s(sh).hash],
  };
  const sv = f.get('tls.handshake.extensions.supported_version');
  // With a key log in the file, tshark also decrypts the EncryptedExtensions of the same frame and
  // lists their types in the same field: compare the ServerHello's own list through JA3S only.
  const mixed = f.get('tls.handshake.type').some((t) => t !== '2' && t !== '11' && t !== '12' && t !== '14');
  const theirs = {
    version: f.get('tls.handshake.version'),
    random: f.get('tls.handshake.random'),
    sessionId: f.get('tls.handshake.session_id'),
    suite: f.get('tls.handshake.ciphersuite'),
    compression: f.get('tls.handshake.comp_method'),
    extensions: mixed ? ours.extensions : f.get('tls.handshake.extension.type'),
    selected: sv.length ? Number(sv[0]) : null,
    ja3s: f.get('tls.handshake.ja3s_full'),
    ja3sHash: f.get('tls.handshake.ja3s'),
  };
  expect(ours, `${which} of ${endpointText(c.client)}`).toEqual(theirs);
}

const captures = corpusCaptures();

describe.skipIf(!hasCorpus || !hasTshark || captures.length === 0)(
  'analyzeCapture over the corpus, against tshark',
  () => {
    it.each(captures)('reports %s like tshark', async (rel) => {
      const file = join(CORPUS_DIR, rel);
      const { connections } = await analyzeCapture(openCaptureFile(file));
      const frames = await oracleFrames(file);

      // tshark's streams with a hello, keyed by their endpoints, in stream order.
      const streams = new Map<string, Stream>();
      for (const f of frames) {
        const types = f.get('tls.handshake.type');
        let s = streams.get(f.stream);
        if (!s) {
          const fromClient = types.includes('1') || !types.includes('2');
          s = {
            client: fromClient ? f.src : f.dst,
            server: fromClient ? f.dst : f.src,
            hellos: [],
            serverHellos: [],
            certificates: null,
          };
          streams.set(f.stream, s);
        }
        if (types.includes('1') && f.src === s.client) s.hellos.push(f);
        if (types.includes('2') && f.src === s.server) s.serverHellos.push(f);
        if (types.includes('11') && f.src === s.server && s.certificates === null)
          s.certificates = f.get('tls.handshake.certificate').map((h) => sha1(Buffer.from(h, 'hex')));
      }
      const theirs = new Map<string, Stream[]>();
      for (const s of [...streams.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).map((e) => e[1])) {
        if (s.hellos.length + s.serverHellos.length === 0) continue;
        const k = `${s.client} ${s.server}`;
        theirs.set(k, [...(theirs.get(k) ?? []), s]);
      }
      // Ours: connections with a TLS hello. tshark does not dissect an SSLv2-format hello as a TLS
      // handshake, so a connection with only that is not in its list.
      const ours = new Map<string, ConnectionFacts[]>();
      for (const c of connections!) {
        if (c.clientHello?.format !== 'tls' && c.serverHello === null) continue;
        const k = `${endpointText(c.client)} ${endpointText(c.server)}`;
        ours.set(k, [...(ours.get(k) ?? []), c]);
      }
      const count = (m: Map<string, unknown[]>): Record<string, number> =>
        Object.fromEntries([...m].map(([k, v]) => [k, v.length]).sort());
      expect(count(ours)).toEqual(count(theirs));

      for (const [k, list] of theirs) {
        list.forEach((s, i) => {
          const c = ours.get(k)![i]!;
          // ClientHellos: the first, and the second after a HelloRetryRequest, match tshark's in order.
          const randoms = s.hellos.flatMap((f) => f.get('tls.handshake.random'));
          if (randoms.length > 0) {
            expect(
              c.clientHello?.format === 'tls' ? toHex(c.clientHello.hello.random) : null,
              `first ClientHello of ${k}`,
            ).toBe(randoms[0]);
            const single = s.hellos.filter((f) => f.get('tls.handshake.type').filter((t) => t === '1').length === 1);
            const first = single.find((f) => f.get('tls.handshake.random')[0] === randoms[0]);
            if (first) compareClientHello(first, c, 'clientHello');
            const retry = c.retryClientHello;
            if (retry?.format === 'tls') {
              const random = toHex(retry.hello.random);
              const second = single.filter((f) => f.get('tls.handshake.random')[0] === random).find((f) => f !== first);
              expect(randoms[1], `second ClientHello of ${k}`).toBe(random);
              if (second) compareClientHello(second, c, 'retryClientHello');
            }
          }
          // ServerHellos (a HelloRetryRequest is one on the wire).
          const sRandoms = s.serverHellos.flatMap((f) => f.get('tls.handshake.random'));
          if (sRandoms.length > 0) {
            const firstOurs = c.helloRetryRequest ?? c.serverHello;
            expect(firstOurs ? toHex(firstOurs.hello.random) : null, `first ServerHello of ${k}`).toBe(sRandoms[0]);
            for (const which of ['helloRetryRequest', 'serverHello'] as const) {
              const fact = c[which];
              if (!fact || (which === 'serverHello' && draftServerHello(c))) continue;
              const f = s.serverHellos.find(
                (x) =>
                  x.get('tls.handshake.random').length === 1 &&
                  x.get('tls.handshake.random')[0] === toHex(fact.hello.random),
              );
              if (f && f.get('tls.handshake.type').filter((t) => t === '2').length === 1)
                compareServerHello(f, c, which);
            }
          }
          // The server's certificates (TLS 1.2 and below: in clear).
          if (s.certificates !== null) expect(c.certificates.map(sha1), `certificates of ${k}`).toEqual(s.certificates);
        });
      }
    });
  },
);
