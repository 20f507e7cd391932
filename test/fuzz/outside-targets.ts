/**
 * Fuzz targets for the parsers of outside input that issue 14 found without one: the HTTP CONNECT
 * and SOCKS5 replies of a proxy, every STARTTLS dialogue (the LDAP ExtendedResponse reader
 * included), `analyzeCapture` end to end on mutated real captures, and the captured-hello reader
 * (`capturedHelloFromBytes`, `findCapturedHello`). Same contract as targets.ts: only the typed error
 * may escape, and each success keeps its invariants. The seeds are real answers, from the RFCs'
 * examples and what the servers of test/probe and test/helpers/proxies.ts send.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/capture/sessions.js';
import { capturedHelloFromBytes, findCapturedHello } from '../../src/capture/replay-input.js';
import { createProxyDialogue, type Via } from '../../src/probe/proxy.js';
import {
  LDAP_STARTTLS_OID,
  STARTTLS_PROTOCOLS,
  createStarttlsDialogue,
  readLdapExtendedResponse,
  type StarttlsProtocol,
} from '../../src/probe/starttls.js';
import type { Dialogue } from '../../src/probe/transport.js';
import { equalBytes } from '../../src/wire/hex.js';
import { FIXTURES_DIR, loadHexFixture } from '../helpers/fixtures.js';
import { splitAt } from './mutate.js';
import { captureSeeds, tlsStreamSeeds } from './seeds.js';
import { InvariantError, type FuzzTarget } from './targets.js';

function invariant(ok: boolean, message: string): asserts ok {
  if (!ok) throw new InvariantError(message);
}

const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const cat = (...parts: readonly Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** A TLS record header, as the server's first bytes after the plain-text stage. */
const TLS_START = Uint8Array.from([0x16, 0x03, 0x03, 0x00, 0x7a, 0x02]);

/** Characters a dialogue's `reply` must never hold: it reaches a terminal (ECMA-48 C0, DEL, C1). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Feeds `bytes` to `dialogue` in the chunks `knobs` cut, as the transport does, until the dialogue
 * is ready or failed. Checks: a failure's reply is printable, and `ready.rest` is exactly the bytes
 * after the last answer (a suffix of what was fed), so no tunnel or TLS byte is lost or invented.
 */
function drive(dialogue: Dialogue, bytes: Uint8Array, knobs: readonly number[]): void {
  invariant(dialogue.opening instanceof Uint8Array, 'opening is bytes');
  let fed = 0;
  for (const chunk of splitAt(bytes, knobs)) {
    if (chunk.length === 0) continue;
    fed += chunk.length;
    const step = dialogue.push(chunk);
    if (step.kind === 'continue') continue;
    if (step.kind === 'failed') {
      invariant(
        !CONTROL.test(step.reply),
        `a failed step's reply holds a control character: ${JSON.stringify(step.reply)}`,
      );
      invariant(step.code !== '', 'a failed step has a code');
      return;
    }
    invariant(
      step.rest.length <= fed && equalBytes(step.rest, bytes.subarray(fed - step.rest.length, fed)),
      'ready.rest is the tail of what was received',
    );
    return;
  }
}

/** The proxies a dialogue is made for, chosen by a knob: with and without credentials. */
const VIAS: Readonly<Record<'http-connect' | 'socks5', readonly Via[]>> = {
  'http-connect': [
    { kind: 'http-connect', host: 'proxy.test', port: 3128 },
    { kind: 'http-connect', host: 'proxy.test', port: 3128, username: 'user', password: 'secret' },
  ],
  socks5: [
    { kind: 'socks5', host: 'proxy.test', port: 1080 },
    { kind: 'socks5', host: 'proxy.test', port: 1080, username: 'user', password: 'secret' },
  ],
};

/** RFC 9110 answers to CONNECT: established, interim 100 first, 407 with challenges, a refusal, HTTP/1.0. */
export function httpConnectSeeds(): Uint8Array[] {
  return [
    cat(ascii('HTTP/1.1 200 Connection established\r\n\r\n'), TLS_START),
    ascii('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nVia: 1.1 proxy.test\r\n\r\n'),
    ascii(
      'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n',
    ),
    ascii('HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\n<h1>502</h1>'),
    ascii('\r\nHTTP/1.0 200 OK\n\n'),
  ];
}

/** RFC 1928 / RFC 1929 answers: method choice, auth status, CONNECT reply with each address type. */
export function socks5Seeds(): Uint8Array[] {
  const reply = (rep: number, atyp: number, addr: readonly number[]) => [0x05, rep, 0x00, atyp, ...addr, 0x01, 0xbb];
  return [
    Uint8Array.from([0x05, 0x00, ...reply(0x00, 0x01, [127, 0, 0, 1]), ...TLS_START]),
    Uint8Array.from([0x05, 0x02, 0x01, 0x00, ...reply(0x00, 0x03, [9, ...Buffer.from('localhost')])]),
    Uint8Array.from([
      0x05,
      0x00,
      ...reply(
        0x00,
        0x04,
        new Array<number>(16).fill(0).map((_, i) => (i === 15 ? 1 : 0)),
      ),
    ]),
    Uint8Array.from([0x05, 0x00, ...reply(0x05, 0x01, [0, 0, 0, 0])]),
    Uint8Array.from([0x05, 0x02, 0x01, 0x01]),
    Uint8Array.from([0x05, 0xff]),
  ];
}

/** X.690 BER TLV, short-form length. */
function ber(tag: number, content: Uint8Array): Uint8Array {
  return cat(Uint8Array.from([tag, content.length]), content);
}

/** RFC 4511, Section 4.12: an ExtendedResponse to message 1 (ours), as OpenLDAP sends it. */
function ldapExtendedResponse(messageId: number, resultCode: number, diagnostic: string): Uint8Array {
  const parts = [ber(0x0a, Uint8Array.of(resultCode)), ber(0x04, new Uint8Array(0)), ber(0x04, ascii(diagnostic))];
  if (resultCode === 0) parts.push(ber(0x8a, ascii(LDAP_STARTTLS_OID)));
  return ber(0x30, cat(ber(0x02, Uint8Array.of(messageId)), ber(0x78, cat(...parts))));
}

/** What each server says in a STARTTLS upgrade that works, and in one that is refused. */
export function starttlsSeeds(protocol: StarttlsProtocol): Uint8Array[] {
  switch (protocol) {
    case 'smtp':
      return [
        cat(
          ascii(
            '220 mail.test ESMTP\r\n250-mail.test greets you\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n',
          ),
          TLS_START,
        ),
        ascii('220-mail.test\r\n220 ESMTP\r\n250 mail.test\r\n454 4.7.0 TLS not available due to local problem\r\n'),
      ];
    case 'ftp':
      return [
        cat(ascii('220 FTP server ready\r\n234 AUTH TLS successful\r\n'), TLS_START),
        ascii('220-Welcome\r\n more text\r\n220 ready\r\n534 Local policy on server does not allow TLS\r\n'),
      ];
    case 'imap':
      return [
        cat(
          ascii(
            '* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK Begin TLS negotiation now\r\n',
          ),
          TLS_START,
        ),
        ascii('* OK ready\r\na1 NO [UNAVAILABLE] TLS is not configured\r\n'),
        ascii('* BYE going away\r\n'),
      ];
    case 'pop3':
      return [
        cat(ascii('+OK POP3 ready\r\n+OK Begin TLS negotiation\r\n'), TLS_START),
        ascii('+OK POP3 ready\r\n-ERR TLS not available\r\n'),
      ];
    case 'ldap':
      return [
        cat(ldapExtendedResponse(1, 0, ''), TLS_START),
        ldapExtendedResponse(1, 53, 'TLS is not configured'),
        ldapExtendedResponse(0, 52, 'notice of disconnection'),
      ];
    case 'postgres':
      return [
        cat(ascii('S'), TLS_START),
        ascii('N'),
        ascii('E\x00\x00\x00\x20SFATAL\x00C08P01\x00Munsupported\x00\x00'),
      ];
    case 'xmpp':
      return [
        cat(
          ascii(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='c2s_1' from='example.com' version='1.0'>" +
              "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
          ),
          TLS_START,
        ),
        ascii(
          "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:features/><failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        ),
      ];
  }
}

/** The real loopback captures of fixtures/pcap, and the seeds of the capture parser (built frames, corpus). */
export function realCaptureSeeds(): Uint8Array[] {
  const dir = join(FIXTURES_DIR, 'pcap');
  const files = readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f));
  return [
    ...files.map((f) => new Uint8Array(readFileSync(join(dir, f)))),
    ...captureSeeds().filter((c) => c.length <= 256 * 1024),
  ];
}

/** ClientHellos as records and as bare handshake messages: the inputs of `replay` besides captures. */
export async function helloSeeds(): Promise<Uint8Array[]> {
  const records = await tlsStreamSeeds();
  const tls13 = loadHexFixture('hello/openssl-s_client-tls13.hex');
  return [...records, tls13.subarray(5)];
}

const starttlsTargets: FuzzTarget[] = STARTTLS_PROTOCOLS.map((protocol) => ({
  name: `starttls-${protocol}`,
  entry: `src/probe/starttls.ts createStarttlsDialogue('${protocol}')`,
  allowed: 'nothing' as const,
  run(bytes: Uint8Array, knobs: readonly number[]) {
    drive(createStarttlsDialogue(protocol, 'example.com'), bytes, knobs);
  },
}));

export const OUTSIDE_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'httpConnectReply',
    entry: 'src/probe/proxy.ts createProxyDialogue (HTTP CONNECT)',
    allowed: 'nothing',
    run(bytes, knobs) {
      drive(createProxyDialogue(VIAS['http-connect'][(knobs[0] ?? 0) % 2]!, 'example.com', 443), bytes, knobs.slice(1));
    },
  },
  {
    name: 'socks5Reply',
    entry: 'src/probe/proxy.ts createProxyDialogue (SOCKS5)',
    allowed: 'nothing',
    run(bytes, knobs) {
      drive(
        createProxyDialogue(VIAS.socks5[(knobs[0] ?? 0) % 2]!, (knobs[1] ?? 0) % 2 ? '192.0.2.7' : 'example.com', 443),
        bytes,
        knobs.slice(2),
      );
    },
  },
  ...starttlsTargets,
  {
    name: 'readLdapExtendedResponse',
    entry: 'src/probe/starttls.ts readLdapExtendedResponse',
    allowed: 'DecodeError',
    run(bytes) {
      const r = readLdapExtendedResponse(bytes);
      if (r !== null) invariant(r.length > 0 && r.length <= bytes.length, 'the response length lies within the input');
    },
  },
  {
    name: 'analyzeCapture',
    entry: 'src/capture/sessions.ts analyzeCapture',
    allowed: 'DecodeError',
    async: true,
    async run(bytes, knobs) {
      // The capture arrives in chunks, as from the file reader, cut where the knobs say.
      const chunks = splitAt(bytes, knobs);
      async function* source(): AsyncGenerator<Uint8Array> {
        for (const c of chunks) yield c;
      }
      let seen = 0;
      const result = await analyzeCapture(source(), { onConnection: () => void seen++ });
      invariant(
        seen === result.stats.connections,
        `onConnection saw ${seen} of ${result.stats.connections} connections`,
      );
    },
  },
  {
    name: 'capturedHelloFromBytes',
    entry: 'src/capture/replay-input.ts capturedHelloFromBytes',
    allowed: 'DecodeError',
    run(bytes) {
      const h = capturedHelloFromBytes(bytes);
      invariant(h.message.length >= 4 && h.message[0] === 0x01, 'the hello is a whole ClientHello message');
    },
  },
  {
    name: 'findCapturedHello',
    entry: 'src/capture/replay-input.ts findCapturedHello',
    allowed: 'DecodeError',
    async: true,
    async run(bytes, knobs) {
      const found = await findCapturedHello(
        bytes,
        knobs.length > 0 && knobs[0]! % 2 ? { connection: knobs[0]! % 4 } : {},
      );
      if (found.ok) invariant(found.hello.message[0] === 0x01, 'the hello found is a ClientHello message');
    },
  },
];

/** Seeds and CI budget (runs) of each target above, in the shape of parsers.test.ts's PLAN. */
export const OUTSIDE_PLAN: Record<
  string,
  { seeds: () => Promise<Uint8Array[]> | Uint8Array[]; ciRuns: number; maxRandom?: number }
> = {
  httpConnectReply: { seeds: httpConnectSeeds, ciRuns: 3000 },
  socks5Reply: { seeds: socks5Seeds, ciRuns: 3000, maxRandom: 64 },
  ...Object.fromEntries(
    STARTTLS_PROTOCOLS.map((p) => [`starttls-${p}`, { seeds: () => starttlsSeeds(p), ciRuns: 1500 }]),
  ),
  readLdapExtendedResponse: { seeds: () => starttlsSeeds('ldap'), ciRuns: 3000, maxRandom: 128 },
  analyzeCapture: { seeds: realCaptureSeeds, ciRuns: 400 },
  capturedHelloFromBytes: { seeds: helloSeeds, ciRuns: 2000 },
  findCapturedHello: { seeds: realCaptureSeeds, ciRuns: 300 },
};
