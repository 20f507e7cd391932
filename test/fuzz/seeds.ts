/**
 * Real inputs to mutate, per parser: returns bytes from fixtures/ (always there) and from
 * ../shared/corpus (when present; read in place, never copied). Each loader is cached and capped, so
 * the fuzz suite stays fast whatever the corpus holds.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { CORPUS_DIR, hasCorpus, hasCorpusFile, readCorpusJson } from '../helpers/corpus.js';
import { FIXTURES_DIR, listHexFixtures, loadHexFixture } from '../helpers/fixtures.js';
import { decodeStream } from '../../src/tls/stream.js';
import type { HandshakeContext, HandshakeMessage } from '../../src/tls/handshake.js';
import { writeExtension, type Extension, type ExtensionContext } from '../../src/tls/extensions.js';
import { isHelloRetryRandom, negotiatedVersion } from '../../src/tls/server-hello.js';
import { readCapture } from '../../src/capture/pcap.js';
import { pemToDer } from '../../src/x509/pem.js';
import { Writer } from '../../src/wire/writer.js';
import { fromHex } from '../../src/wire/hex.js';
import {
  epb,
  idb,
  pcapFile,
  shb,
  dsb,
  concat,
  ethernet,
  ipv4,
  tcp,
  ipv6,
  sll,
  loopback,
  text,
} from '../capture/build.js';

/** Largest corpus capture used as a seed: mutation cost grows with size, and small files cover the formats. */
const MAX_SEED_CAPTURE_BYTES = 64 * 1024;
/** Corpus captures used as seeds at most. */
const MAX_SEED_CAPTURES = 60;
/** Corpus certificates used as seeds at most (Node's roots come on top). */
const MAX_SEED_CERTIFICATES = 150;

const once = <T>(f: () => T): (() => T) => {
  let v: T | undefined;
  return () => (v ??= f());
};

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const corpusFiles = once((): string[] => (hasCorpus ? walk(CORPUS_DIR) : []));

/** Small pcap/pcapng files of the corpus, plus captures built here for every link type we decode. */
export const captureSeeds = once((): Uint8Array[] => {
  const seg = (payload: Uint8Array) => tcp({ sport: 50000, dport: 443, seq: 1000, ack: 1, flags: 'AP', payload });
  const hello = loadHexFixture('hello/openssl-s_client-tls13.hex');
  const v4 = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6 }, seg(hello));
  const v6 = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: 6 }, seg(hello));
  const built = [
    pcapFile({ le: true, nano: false, linkType: 1, records: [{ sec: 1, frac: 2, data: ethernet(0x0800, v4) }] }),
    pcapFile({ le: false, nano: true, linkType: 113, records: [{ sec: 1, frac: 2, data: sll(0x86dd, v6) }] }),
    pcapFile({ le: true, nano: false, linkType: 0, records: [{ sec: 1, frac: 2, data: loopback(2, true, v4) }] }),
    concat(
      shb(true),
      idb(true, 1),
      epb(true, 0, 5n, ethernet(0x8100, v4, [[0x8100, 7]])),
      dsb(true, 0x544c534b, text('CLIENT_RANDOM 00 11\n')),
    ),
    concat(shb(false), idb(false, 101), epb(false, 0, 5n, v6)),
  ];
  const corpus = corpusFiles()
    .filter((p) => /\.pcap(ng)?$/.test(p) && statSync(p).size <= MAX_SEED_CAPTURE_BYTES)
    .slice(0, MAX_SEED_CAPTURES)
    .map((p) => new Uint8Array(readFileSync(p)));
  return [...built, ...corpus];
});

/** Link-layer frames (with their link type) found in the capture seeds. */
export const packetSeeds = once(async (): Promise<{ linkType: number; data: Uint8Array }[]> => {
  const out: { linkType: number; data: Uint8Array }[] = [];
  for (const c of captureSeeds()) {
    try {
      await readCapture(c, (p) => {
        if (out.length < 2000) out.push({ linkType: p.linkType, data: p.data.slice() });
      });
    } catch {
      // A seed capture the reader refuses still gave the packets before the break.
    }
  }
  return out;
});

/** TLS byte streams: fixture hellos and server flights, the corpus's real ClientHellos, TLS payloads of corpus captures. */
export const tlsStreamSeeds = once(async (): Promise<Uint8Array[]> => {
  const out = [...listHexFixtures('hello'), ...listHexFixtures('server')].map(loadHexFixture);
  if (hasCorpusFile('client-hellos/testssl-client-simulation.json')) {
    const { clients } = readCorpusJson<{ clients: { handshakebytes: string }[] }>(
      'client-hellos/testssl-client-simulation.json',
    );
    for (const c of clients) out.push(fromHex(c.handshakebytes));
  }
  for (const p of await packetSeeds()) {
    // The TCP payload of a frame that carries a TLS record: search for a record header.
    const d = p.data;
    for (let i = 14; i + 5 < d.length; i++) {
      if (d[i]! >= 20 && d[i]! <= 24 && d[i + 1] === 3 && d[i + 2]! <= 4) {
        out.push(d.subarray(i));
        break;
      }
    }
    if (out.length > 400) break;
  }
  return out;
});

/** The handshake messages of each TLS seed stream that decodes (one list per stream, in order). */
const seedHandshakes = once(async (): Promise<HandshakeMessage[][]> => {
  const out: HandshakeMessage[][] = [];
  for (const s of await tlsStreamSeeds()) {
    try {
      out.push(decodeStream(s).flatMap((it) => (it.kind === 'handshake' ? [it.message] : [])));
    } catch {
      // A seed that does not decode as a whole stream gives no messages.
    }
  }
  return out;
});

/** Whole handshake messages from the TLS seeds, with the context the stream gave them. */
export const handshakeSeeds = once(async (): Promise<{ raw: Uint8Array; ctx: HandshakeContext }[]> => {
  const out: { raw: Uint8Array; ctx: HandshakeContext }[] = [];
  for (const messages of await seedHandshakes()) {
    let ctx: HandshakeContext = {};
    for (const m of messages) {
      out.push({ raw: m.raw, ctx });
      if (m.kind === 'server_hello') ctx = { version: negotiatedVersion(m.body), cipherSuite: m.body.cipherSuite };
    }
  }
  return out;
});

/** Single extensions (type, length, body) from the handshake seeds, with the message they came from. */
export const extensionSeeds = once(async (): Promise<{ bytes: Uint8Array; ctx: ExtensionContext }[]> => {
  const out: { bytes: Uint8Array; ctx: ExtensionContext }[] = [];
  const add = (exts: readonly Extension[] | null, ctx: ExtensionContext) => {
    for (const e of exts ?? []) {
      const w = new Writer(64);
      writeExtension(w, e, ctx);
      out.push({ bytes: w.finish(), ctx });
    }
  };
  for (const messages of await seedHandshakes()) {
    for (const m of messages) {
      if (m.kind === 'client_hello') add(m.body.extensions, 'client_hello');
      else if (m.kind === 'server_hello')
        add(m.body.extensions, isHelloRetryRandom(m.body.random) ? 'hello_retry_request' : 'server_hello');
      else if (m.kind === 'encrypted_extensions') add(m.body, 'encrypted_extensions');
    }
  }
  return out;
});

/** DER certificates: the fixture server certificate, Node's roots, corpus certificates. */
export const certificateSeeds = once((): Uint8Array[] => {
  const out = pemToDer(readFileSync(join(FIXTURES_DIR, 'server/openssl-s_server-cert.pem'), 'utf8'));
  for (const pem of rootCertificates) out.push(...pemToDer(pem));
  let n = 0;
  for (const p of corpusFiles()) {
    if (n >= MAX_SEED_CERTIFICATES) break;
    if (!/\.(pem|crt)$/.test(p) || statSync(p).size > 256 * 1024) continue;
    try {
      for (const der of pemToDer(readFileSync(p, 'latin1'))) {
        out.push(der);
        n++;
      }
    } catch {
      // Not all corpus PEM files are well formed; they are seeds, not tests.
    }
  }
  return out;
});

/** Registry exports and reg query outputs from fixtures/reg. */
export const registrySeeds = once((): Uint8Array[] =>
  readdirSync(join(FIXTURES_DIR, 'reg'))
    .filter((f) => /\.(reg|txt)$/.test(f))
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(FIXTURES_DIR, 'reg', f)))),
);

/** Key log texts: the corpus's key logs, and lines of every label. */
export const keyLogSeeds = once((): Uint8Array[] => {
  const r = '00'.repeat(32);
  const built = [
    `CLIENT_RANDOM ${r} ${'ab'.repeat(48)}\n# comment\n\nSERVER_HANDSHAKE_TRAFFIC_SECRET ${r} ${'cd'.repeat(32)}\r\n`,
    `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${r} ${'ef'.repeat(48)}\nEXPORTER_SECRET ${r} ${'01'.repeat(32)}\n`,
  ].map((s) => new TextEncoder().encode(s));
  const corpus = corpusFiles()
    .filter((p) => /keylog|premaster/i.test(p) && statSync(p).size <= 256 * 1024)
    .map((p) => new Uint8Array(readFileSync(p)));
  return [...built, ...corpus];
});

/** An SSLv2-compatible ClientHello (RFC 5246, Appendix E.2) written field by field, and the corpus's. */
export const sslv2Seeds = once(async (): Promise<Uint8Array[]> => {
  const body = concat(
    Uint8Array.from([1, 0x03, 0x01, 0x00, 0x09, 0x00, 0x00, 0x00, 0x10]),
    Uint8Array.from([0x00, 0x00, 0x2f, 0x00, 0x00, 0x35, 0x01, 0x00, 0x80]),
    new Uint8Array(16).fill(0x42),
  );
  const built = concat(Uint8Array.from([0x80 | (body.length >> 8), body.length & 0xff]), body);
  const corpus = (await tlsStreamSeeds()).filter((s) => (s[0]! & 0x80) !== 0 && s[2] === 1);
  return [built, ...corpus];
});

/** PEM texts: the fixture and Node's roots in PEM, and broken boundaries. */
export const pemSeeds = once((): Uint8Array[] => {
  const enc = (s: string) => new TextEncoder().encode(s);
  return [
    new Uint8Array(readFileSync(join(FIXTURES_DIR, 'server/openssl-s_server-cert.pem'))),
    enc(rootCertificates.slice(0, 3).join('\n')),
    enc('-----BEGIN X509 CERTIFICATE-----\nAAAA\n-----END X509 CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n'),
  ];
});
