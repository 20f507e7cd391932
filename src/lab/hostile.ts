/**
 * The hostile lab: `startHostileLab` returns loopback servers that each misbehave in one scripted
 * way (issue 8) and the outcome a probe must classify them as; it rejects only when a server cannot
 * listen. `HOSTILE_BEHAVIOURS` lists the behaviours.
 *
 * These are raw `net` servers, not TLS stacks: each reads the probe's ClientHello (through the hello
 * gate), then answers with bytes built here from our own codecs — a ServerHello for the version and
 * suite the client offered (TLS 1.3 with a real key share computed from the client's, so the
 * client's key schedule runs), then whatever the behaviour calls for: resets and FINs at each stage,
 * lengths that lie, slow drips, endless tiny records, interleaved alerts, choices never offered, a
 * HelloRetryRequest loop, 10,000 certificates, DER nested 10,000 deep, an HTTP reply, TLS 1.3
 * records that fail authentication.
 *
 * `runHostileLoad` drives many probes against the hostile lab and the main lab's real TLS servers
 * in one process and reports outcomes, time, RSS and the handles left (`npm run soak`).
 *
 * Resource discipline: every connection's timers are cleared when its socket closes, writers stop
 * at the first failed or back-pressured write, and `close()` destroys every socket and resolves once
 * every server has closed, leaving no handle behind. Loopback only, like the main lab.
 */
import { listenOnFreePort } from './listen.js';
import { type Server, type Socket, createServer as createNetServer, isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Writer } from '../wire/writer.js';
import { concatBytes } from '../wire/hex.js';
import { writeRecord } from '../tls/record.js';
import { writeAlert } from '../tls/alert.js';
import { writeHandshake } from '../tls/handshake-header.js';
import { type ClientHello, encodeClientHello, highestOfferedVersion } from '../tls/client-hello.js';
import { type ServerHello, encodeServerHello, HELLO_RETRY_REQUEST_RANDOM } from '../tls/server-hello.js';
import { findExtension, writeExtensions, type Extension } from '../tls/extensions.js';
import { writeCertificateBody, type CertificateEntry } from '../tls/certificate.js';
import { isGrease } from '../tls/grease.js';
import { AlertDescription, AlertLevel, ContentType, HandshakeType, ProtocolVersion } from '../tls/registry.js';
import {
  generateKeyShare,
  handshakeSecrets,
  hashForSuite,
  SUPPORTED_KEY_SHARE_GROUPS,
  trafficKeys,
  transcriptHash,
} from '../tls/key-schedule.js';
import { encryptRecord, newProtectionState, type ProtectionState } from '../tls/protection.js';
import type { OutcomeKind } from '../probe/outcome.js';
import { readClientHello } from './hello-gate.js';
import { startLab } from './lab.js';
import type { LabEndpointName } from './endpoints.js';
import { attempt } from '../probe/attempt.js';

/** What one hostile behaviour does and what a probe must report for it. */
export interface HostileBehaviour {
  readonly name: string;
  readonly description: string;
  /** The outcome (or outcomes, when the race between peers decides) every version probe must report. */
  readonly expect: OutcomeKind | OutcomeKind[];
}

/** A running hostile endpoint. */
export interface HostileEndpoint extends HostileBehaviour {
  readonly host: '127.0.0.1' | '::1';
  readonly port: number;
}

export interface HostileLab {
  readonly endpoints: readonly HostileEndpoint[];
  /** Returns the endpoint called `name`; throws RangeError when this lab has none by that name. */
  endpoint(name: string): HostileEndpoint;
  /** Closes every server, connection and timer; resolves when all are closed. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartHostileLabOptions {
  /** Loopback address to listen on: '127.0.0.1' (default) or '::1'. */
  readonly host?: string;
  /** Behaviours to start (default: all, in `HOSTILE_BEHAVIOURS` order). */
  readonly names?: readonly string[];
  /**
   * Interval of the slow behaviours (drip, trickle), in ms: 1000 by default ("one byte per second");
   * tests use a few ms. Must stay below the prober's read timeout for the drip to count as alive.
   */
  readonly paceMs?: number;
}

/** Certificates in the certificate-flood behaviour: 100 times the parser's MAX_CERTIFICATES. */
export const FLOOD_CERTIFICATES = 10_000;

/** Nesting depth of the deep-der certificate: far past MAX_DER_DEPTH (32). */
export const DEEP_DER_LEVELS = 10_000;

/** Default pace of the slow behaviours: one byte (or one record) per second. */
export const DEFAULT_PACE_MS = 1000;

/** Upper bound on the bytes the flood behaviour writes per connection (16 MiB, past any prober cap). */
const MAX_FLOOD_BYTES = 16 * 1024 * 1024;

/** Every behaviour of the hostile lab, in start order. */
export const HOSTILE_BEHAVIOURS: readonly HostileBehaviour[] = [
  {
    name: 'rst-on-accept',
    description: 'TCP reset as soon as the connection is accepted, before the ClientHello is read',
    expect: 'reset',
  },
  { name: 'rst-after-client-hello', description: 'reads the whole ClientHello, then TCP reset', expect: 'reset' },
  {
    name: 'rst-mid-server-hello',
    // A reset that reaches the client before it has read the bytes ahead of it can surface as an
    // orderly end: Linux returns the queued bytes, then EOF, when the pending error was already
    // consumed. Seen in about 1 probe in 100 under load; the prober cannot tell the two apart then.
    description:
      'sends the first half of a ServerHello record, then TCP reset (seen as a FIN when the reset overtakes the unread half)',
    expect: ['reset', 'closed'],
  },
  {
    name: 'rst-after-server-hello',
    description: 'sends a whole ServerHello for the offered version and suite, then TCP reset',
    expect: 'negotiated',
  },
  {
    name: 'fin-on-accept',
    description: 'closes its side (FIN) as soon as the connection is accepted, reads and drops the hello',
    expect: 'closed',
  },
  {
    name: 'fin-after-client-hello',
    description: 'reads the whole ClientHello, then FIN without a byte',
    expect: 'closed',
  },
  {
    name: 'fin-mid-server-hello',
    description: 'sends the first half of a ServerHello record, then FIN',
    expect: 'closed',
  },
  { name: 'fin-after-server-hello', description: 'sends a whole ServerHello, then FIN', expect: 'negotiated' },
  {
    name: 'fin-mid-certificate',
    description: 'sends a ServerHello and half of a Certificate message (encrypted in TLS 1.3), then FIN',
    expect: 'negotiated',
  },
  {
    name: 'claims-16mb',
    description: 'a handshake record whose message header claims 16 MiB (2^24-1 bytes), then nothing more',
    expect: 'malformed',
  },
  {
    name: 'record-claims-64k',
    description: 'a record header claiming 65,535 bytes (past 2^14+2048), then nothing more',
    expect: 'malformed',
  },
  {
    name: 'stalled-record',
    description: 'a record header claiming 16 KiB, 100 bytes of it, then silence with the connection open',
    expect: 'timeout',
  },
  {
    name: 'drip-server-hello',
    description: 'a valid ServerHello (and ServerHelloDone before TLS 1.3) one byte per pace interval, then FIN',
    // Whole before the handshake deadline (2.5 read timeouts after the first byte) → negotiated;
    // slower → the probe gives up: timeout. Either is a classified outcome, in bounded time.
    expect: ['negotiated', 'timeout'],
  },
  {
    name: 'empty-records-flood',
    description: 'an endless stream of empty handshake records at full speed (bounded here at 16 MiB)',
    // The probe stops at its 1 MiB byte cap: a megabyte without a handshake is not TLS to us.
    expect: 'malformed',
  },
  {
    name: 'empty-records-trickle',
    description: 'one empty handshake record per pace interval, forever: only a total deadline ends it',
    expect: 'timeout',
  },
  {
    name: 'alert-interleaved',
    description:
      'half of a ServerHello, a warning alert record, then the other half (RFC 8446, Section 5.1 forbids interleaving)',
    expect: 'alert',
  },
  {
    name: 'unoffered-suite',
    description: 'a ServerHello selecting TLS_NULL_WITH_NULL_NULL (0x0000), never offered',
    expect: 'mismatch',
  },
  {
    name: 'unoffered-version',
    description: 'a ServerHello selecting the version above the highest offered (0x0305 for a TLS 1.3 hello)',
    expect: 'mismatch',
  },
  {
    name: 'hrr-loop',
    description: 'a HelloRetryRequest for every ClientHello, the retry included (RFC 8446, Section 4.1.4)',
    expect: 'mismatch',
  },
  {
    name: 'certificate-flood',
    description: `a ServerHello then a Certificate message with ${FLOOD_CERTIFICATES.toLocaleString('en-US')} one-byte entries (encrypted in TLS 1.3)`,
    expect: 'negotiated',
  },
  {
    name: 'deep-der',
    description: `a whole handshake whose certificate is ${DEEP_DER_LEVELS.toLocaleString('en-US')} nested DER SEQUENCEs`,
    expect: 'negotiated',
  },
  {
    name: 'inconsistent-der',
    description: 'a whole handshake whose certificates carry DER lengths that contradict each other',
    expect: 'negotiated',
  },
  {
    name: 'http-reply',
    description: 'answers the ClientHello with an HTTP/1.1 400 response, then FIN',
    expect: 'malformed',
  },
  {
    name: 'garbage',
    description: 'answers the ClientHello with 512 random bytes that start 0xff, then FIN',
    expect: 'malformed',
  },
  {
    name: 'tls13-bad-records',
    description:
      "a real TLS 1.3 ServerHello with an x25519 share computed from the client's, then application_data records that fail authentication (before TLS 1.3: a ServerHello then the same garbage)",
    expect: 'negotiated',
  },
  {
    name: 'tls13-bad-key-share',
    description:
      'a TLS 1.3 ServerHello whose key share is 31 bytes of x25519 (before TLS 1.3: a plain ServerHello then FIN)',
    expect: 'negotiated',
  },
];

const BEHAVIOUR_NAMES: ReadonlySet<string> = new Set(HOSTILE_BEHAVIOURS.map((b) => b.name));

/**
 * Returns a running hostile lab. Rejects with RangeError for a host that is not a loopback literal,
 * an unknown behaviour name or a bad pace, and with the listen error if a server cannot start (the
 * ones already started are closed first).
 */
export async function startHostileLab(opts: StartHostileLabOptions = {}): Promise<HostileLab> {
  const host = opts.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== '::1') {
    throw new RangeError(`the hostile lab listens only on loopback (127.0.0.1 or ::1), not ${JSON.stringify(host)}`);
  }
  const paceMs = opts.paceMs ?? DEFAULT_PACE_MS;
  if (!Number.isInteger(paceMs) || paceMs < 1 || paceMs > 60_000)
    throw new RangeError(`paceMs must be an integer in 1..60000, got ${paceMs}`);
  const names = opts.names ?? HOSTILE_BEHAVIOURS.map((b) => b.name);
  for (const n of names) {
    if (!BEHAVIOUR_NAMES.has(n))
      throw new RangeError(`unknown hostile behaviour ${JSON.stringify(n)}; known: ${[...BEHAVIOUR_NAMES].join(', ')}`);
  }
  const behaviours = HOSTILE_BEHAVIOURS.filter((b) => names.includes(b.name));
  if (behaviours.length === 0) throw new RangeError('no hostile behaviour selected');

  const started = await Promise.allSettled(behaviours.map((b) => listen(b, host, paceMs)));
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(running.map((r) => r.close()));
    throw failed.reason;
  }
  const endpoints = running.map((r) => r.endpoint);
  let closing: Promise<void> | null = null;
  return {
    endpoints,
    endpoint(name: string): HostileEndpoint {
      const e = endpoints.find((x) => x.name === name);
      if (!e)
        throw new RangeError(
          `no hostile endpoint ${JSON.stringify(name)}; this lab has ${endpoints.map((x) => x.name).join(', ')}`,
        );
      return e;
    },
    close(): Promise<void> {
      closing ??= Promise.all(running.map((r) => r.close())).then(() => undefined);
      return closing;
    },
  };
}

/** Returns `host:port` of each endpoint with its behaviour and expected outcome, one line each. */
export function formatHostileMap(lab: HostileLab): string {
  const rows = lab.endpoints.map((e) => [
    e.name,
    isIP(e.host) === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`,
    Array.isArray(e.expect) ? e.expect.join('|') : String(e.expect),
    e.description,
  ]);
  const header = ['BEHAVIOUR', 'ADDRESS', 'EXPECT', 'WHAT IT DOES'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line), ''].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Servers and connections
// ---------------------------------------------------------------------------------------------

/** One accepted connection: its socket and the timers it owns. */
interface Conn {
  readonly socket: Socket;
  readonly paceMs: number;
  /** Runs `fn` after `ms` unless the connection closed first; the timer is cleared on close. */
  after(ms: number, fn: () => void): void;
  /** True once the socket closed or errored: writers stop. */
  readonly gone: boolean;
}

async function listen(
  b: HostileBehaviour,
  host: '127.0.0.1' | '::1',
  paceMs: number,
): Promise<{ endpoint: HostileEndpoint; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createNetServer((socket) => {
    sockets.add(socket);
    const timers = new Set<NodeJS.Timeout>();
    let gone = false;
    const end = (): void => {
      gone = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    };
    // A hostile endpoint must never crash its process because the prober went away first.
    socket.on('error', () => {
      end();
      socket.destroy();
    });
    socket.once('close', () => {
      end();
      sockets.delete(socket);
    });
    const conn: Conn = {
      socket,
      paceMs,
      after(ms, fn) {
        if (gone) return;
        const t = setTimeout(() => {
          timers.delete(t);
          if (!gone) fn();
        }, ms);
        timers.add(t);
      },
      get gone() {
        return gone || socket.destroyed;
      },
    };
    behave(b.name, conn);
  });
  const port = await listenOnFreePort(server, host);
  let closing: Promise<void> | null = null;
  return {
    endpoint: { ...b, host, port },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

/** Sends TCP RST (SO_LINGER 0 then close): the prober sees ECONNRESET (Windows: WSAECONNRESET, 10054). */
function reset(c: Conn): void {
  if (!c.gone) c.socket.resetAndDestroy();
}

/** Sends FIN and keeps reading (so closing never turns into a reset over unread data). */
function fin(c: Conn): void {
  if (c.gone) return;
  c.socket.end();
  c.socket.resume();
}

/** Writes `bytes` unless the connection is gone; calls `then` once they are handed to the kernel. */
function send(c: Conn, bytes: Uint8Array, then?: () => void): void {
  if (c.gone) return;
  c.socket.write(bytes, (err) => {
    if (!err && then && !c.gone) then();
  });
}

/** Reads the ClientHello; calls `fn` with it, or closes when the peer sent none. */
function onHello(c: Conn, fn: (ch: ClientHello) => void): void {
  void readClientHello(c.socket).then((got) => {
    if (c.gone) return;
    // Keep reading (and dropping) whatever the prober sends next: our replies decide the ending.
    c.socket.resume();
    if (got.kind === 'hello') fn(got.hello);
    else if (got.kind === 'gone') c.socket.destroy();
    else fin(c);
  });
}

function behave(name: string, c: Conn): void {
  switch (name) {
    case 'rst-on-accept':
      reset(c);
      return;
    case 'rst-after-client-hello':
      onHello(c, () => reset(c));
      return;
    case 'rst-mid-server-hello':
      onHello(c, (ch) => {
        const sh = answer(ch).serverHelloRecord;
        send(c, sh.subarray(0, sh.length >> 1), () => c.after(50, () => reset(c)));
      });
      return;
    case 'rst-after-server-hello':
      onHello(c, (ch) => send(c, answer(ch).serverHelloRecord, () => c.after(100, () => reset(c))));
      return;
    case 'fin-on-accept':
      fin(c);
      return;
    case 'fin-after-client-hello':
      onHello(c, () => fin(c));
      return;
    case 'fin-mid-server-hello':
      onHello(c, (ch) => {
        const sh = answer(ch).serverHelloRecord;
        send(c, sh.subarray(0, sh.length >> 1), () => fin(c));
      });
      return;
    case 'fin-after-server-hello':
      onHello(c, (ch) => send(c, answer(ch).serverHelloRecord, () => fin(c)));
      return;
    case 'fin-mid-certificate':
      onHello(c, (ch) => {
        const a = answer(ch);
        const cert = a.handshake(
          encodeHandshakeBody(HandshakeType.certificate, (w) => writeCertificate(w, a.tls13, [fakeCertificate(600)])),
        );
        send(
          c,
          concatBytes(
            a.serverHelloRecord,
            a.tls13 ? a.handshake(encryptedExtensionsMessage()) : new Uint8Array(0),
            cert.subarray(0, cert.length >> 1),
          ),
          () => fin(c),
        );
      });
      return;
    case 'claims-16mb':
      // RFC 8446, Section 4: uint24 length. 0xffffff = 16 MiB - 1, far past MAX_HANDSHAKE_MESSAGE.
      onHello(c, () =>
        send(
          c,
          record(
            ContentType.handshake,
            ProtocolVersion.TLS1_2,
            Uint8Array.from([HandshakeType.server_hello, 0xff, 0xff, 0xff, 0x03, 0x03]),
          ),
        ),
      );
      return;
    case 'record-claims-64k':
      onHello(c, () =>
        send(
          c,
          Uint8Array.from([ContentType.handshake, 0x03, 0x03, 0xff, 0xff, HandshakeType.server_hello, 0x00, 0x00]),
        ),
      );
      return;
    case 'stalled-record':
      onHello(c, () => {
        const head = Uint8Array.from([ContentType.handshake, 0x03, 0x03, 0x40, 0x00]);
        send(c, concatBytes(head, new Uint8Array(100)));
      });
      return;
    case 'drip-server-hello':
      onHello(c, (ch) => {
        const a = answer(ch);
        const bytes = a.tls13
          ? a.serverHelloRecord
          : concatBytes(
              a.serverHelloRecord,
              a.handshake(encodeHandshakeBody(HandshakeType.server_hello_done, () => {})),
            );
        let i = 0;
        const step = (): void => {
          if (i >= bytes.length) {
            fin(c);
            return;
          }
          send(c, bytes.subarray(i, i + 1));
          i++;
          c.after(c.paceMs, step);
        };
        step();
      });
      return;
    case 'empty-records-flood':
      onHello(c, () => flood(c, record(ContentType.handshake, ProtocolVersion.TLS1_2, new Uint8Array(0))));
      return;
    case 'empty-records-trickle':
      onHello(c, () => {
        const empty = record(ContentType.handshake, ProtocolVersion.TLS1_2, new Uint8Array(0));
        const step = (): void => {
          send(c, empty);
          c.after(c.paceMs, step);
        };
        step();
      });
      return;
    case 'alert-interleaved':
      onHello(c, (ch) => {
        const msg = answer(ch).serverHelloMessage;
        const half = msg.length >> 1;
        send(
          c,
          concatBytes(
            record(ContentType.handshake, ProtocolVersion.TLS1_2, msg.subarray(0, half)),
            alertRecord(AlertLevel.warning, AlertDescription.unrecognized_name),
            record(ContentType.handshake, ProtocolVersion.TLS1_2, msg.subarray(half)),
          ),
        );
      });
      return;
    case 'unoffered-suite':
      onHello(c, (ch) => send(c, answer(ch, { suite: 0x0000 }).serverHelloRecord, () => fin(c)));
      return;
    case 'unoffered-version':
      onHello(c, (ch) => send(c, answer(ch, { versionAbove: true }).serverHelloRecord, () => fin(c)));
      return;
    case 'hrr-loop':
      helloRetryLoop(c);
      return;
    case 'certificate-flood': {
      const entries = Array.from({ length: FLOOD_CERTIFICATES }, () => Uint8Array.from([0x30]));
      onHello(c, (ch) => sendWholeFlight(c, answer(ch), entries));
      return;
    }
    case 'deep-der':
      onHello(c, (ch) => sendWholeFlight(c, answer(ch), [deepDer(DEEP_DER_LEVELS)]));
      return;
    case 'inconsistent-der':
      onHello(c, (ch) => sendWholeFlight(c, answer(ch), inconsistentDer()));
      return;
    case 'http-reply':
      onHello(c, () =>
        send(
          c,
          new TextEncoder().encode(
            'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request',
          ),
          () => fin(c),
        ),
      );
      return;
    case 'garbage':
      onHello(c, () => {
        const g = randomBytes(512);
        g[0] = 0xff;
        send(c, g, () => fin(c));
      });
      return;
    case 'tls13-bad-records':
      onHello(c, (ch) => {
        const a = answer(ch);
        // Well-formed application_data records (RFC 8446, Section 5.2) whose ciphertext is random:
        // the AEAD tag cannot verify under any key.
        const bad = concatBytes(
          ...[40, 300, 17].map((n) => record(ContentType.application_data, ProtocolVersion.TLS1_2, randomBytes(n))),
        );
        send(c, concatBytes(a.serverHelloRecord, bad), () => fin(c));
      });
      return;
    case 'tls13-bad-key-share':
      onHello(c, (ch) => send(c, answer(ch, { badShare: true }).serverHelloRecord, () => fin(c)));
      return;
    default:
      throw new RangeError(`unknown hostile behaviour ${name}`);
  }
}

/** Writes `unit` again and again as fast as the prober reads, until it goes away or MAX_FLOOD_BYTES. */
function flood(c: Conn, unit: Uint8Array): void {
  const burst = concatBytes(...Array.from({ length: Math.max(1, Math.floor(16384 / unit.length)) }, () => unit));
  let written = 0;
  const pump = (): void => {
    while (!c.gone && written < MAX_FLOOD_BYTES) {
      written += burst.length;
      if (!c.socket.write(burst)) {
        c.socket.once('drain', pump);
        return;
      }
    }
    if (!c.gone) fin(c);
  };
  pump();
}

/** Answers every ClientHello (the retry included) with a HelloRetryRequest. */
function helloRetryLoop(c: Conn): void {
  onHello(c, (ch) => {
    send(c, helloRetryRequestRecord(ch));
    // The retry arrives on the same connection: answer each further handshake record the same way.
    c.socket.on('data', () => {
      if (!c.gone) send(c, helloRetryRequestRecord(ch));
    });
  });
}

/** Sends the whole first flight with `certificates`: TLS 1.3 encrypted (EE, Certificate, CV, Finished); before: Certificate, ServerHelloDone. */
function sendWholeFlight(c: Conn, a: Answer, certificates: readonly Uint8Array[]): void {
  const cert = encodeHandshakeBody(HandshakeType.certificate, (w) => writeCertificate(w, a.tls13, certificates));
  const parts: Uint8Array[] = [a.serverHelloRecord];
  if (a.tls13) {
    parts.push(a.handshake(encryptedExtensionsMessage()));
    parts.push(a.handshake(cert));
    // CertificateVerify (RFC 8446, Section 4.4.3) with a signature nobody will check, then Finished.
    parts.push(
      a.handshake(encodeHandshakeBody(HandshakeType.certificate_verify, (w) => w.u16(0x0804).vec(2, randomBytes(256)))),
    );
    parts.push(
      a.handshake(encodeHandshakeBody(HandshakeType.finished, (w) => w.bytes(randomBytes(hashLength(a.suite))))),
    );
  } else {
    parts.push(a.handshake(cert));
    parts.push(a.handshake(encodeHandshakeBody(HandshakeType.server_hello_done, () => {})));
  }
  send(c, concatBytes(...parts), () => fin(c));
}

// ---------------------------------------------------------------------------------------------
// Building the server's answer
// ---------------------------------------------------------------------------------------------

interface Answer {
  readonly tls13: boolean;
  readonly suite: number;
  /** The ServerHello handshake message (header included). */
  readonly serverHelloMessage: Uint8Array;
  /** The ServerHello in one plaintext record. */
  readonly serverHelloRecord: Uint8Array;
  /** Returns records carrying `message`: encrypted under the server handshake key in TLS 1.3, else plaintext. */
  handshake(message: Uint8Array): Uint8Array;
}

interface AnswerTweaks {
  /** Select this cipher suite whatever was offered. */
  readonly suite?: number;
  /** Select the version above the highest offered. */
  readonly versionAbove?: boolean;
  /** Send a 31-byte x25519 key share (TLS 1.3). */
  readonly badShare?: boolean;
}

/** Suites that are signalling values, not ciphers (RFC 5746 and RFC 7507). */
const SIGNALLING_SUITES: ReadonlySet<number> = new Set([0x00ff, 0x5600]);

/** TLS 1.3 suites we can run the key schedule for, in our preference order. */
const TLS13_SUITES: readonly number[] = [0x1301, 0x1302, 0x1303];

/** Returns the ServerHello a plain server would send for `ch` (version and suite it offered), with the keys to go on in TLS 1.3. */
function answer(ch: ClientHello, tweaks: AnswerTweaks = {}): Answer {
  const offered = findExtension(ch.extensions, 'supported_versions')?.versions ?? null;
  const highest = highestOfferedVersion(ch);
  const share = findExtension(ch.extensions, 'key_share')?.shares?.find(
    (s) => SUPPORTED_KEY_SHARE_GROUPS.includes(s.group) && !isGrease(s.group),
  );
  const suite13 = ch.cipherSuites.find((s) => TLS13_SUITES.includes(s));
  const tls13 = offered?.includes(ProtocolVersion.TLS1_3) === true && share !== undefined && suite13 !== undefined;
  const random = randomBytes(32);
  if (tls13) {
    const suite = tweaks.suite ?? suite13;
    const pair = generateKeyShare(share.group);
    const keyExchange = tweaks.badShare ? pair.publicKey.subarray(0, pair.publicKey.length - 1) : pair.publicKey;
    const extensions: Extension[] = [
      {
        kind: 'supported_versions',
        type: 0x002b,
        versions: null,
        selected: tweaks.versionAbove ? ProtocolVersion.TLS1_3 + 1 : ProtocolVersion.TLS1_3,
      },
      { kind: 'key_share', type: 0x0033, shares: [{ group: share.group, keyExchange }], selectedGroup: null },
    ];
    const sh: ServerHello = {
      legacyVersion: ProtocolVersion.TLS1_2,
      random,
      sessionId: ch.sessionId,
      cipherSuite: suite,
      compressionMethod: 0,
      extensions,
    };
    const serverHelloMessage = encodeServerHello(sh);
    let state: ProtectionState | null = null;
    const hash = hashForSuite(suite);
    if (hash && !tweaks.badShare) {
      // RFC 8446, Section 7.1: handshake secrets from the (EC)DHE secret and Transcript-Hash(ClientHello, ServerHello).
      const shared = pair.computeSecret(share.keyExchange);
      const secrets = handshakeSecrets(hash, shared, transcriptHash(hash, [encodeClientHello(ch), serverHelloMessage]));
      state = newProtectionState(suite, trafficKeys(hash, suite, secrets.serverHandshakeTrafficSecret));
    }
    return {
      tls13: true,
      suite,
      serverHelloMessage,
      serverHelloRecord: record(ContentType.handshake, ProtocolVersion.TLS1_2, serverHelloMessage),
      handshake(message) {
        if (!state) return record(ContentType.handshake, ProtocolVersion.TLS1_2, message);
        const out: Uint8Array[] = [];
        for (let o = 0; o < message.length || o === 0; o += 16384)
          out.push(encryptRecord(state, ContentType.handshake, message.subarray(o, o + 16384)));
        return concatBytes(...out);
      },
    };
  }
  // TLS 1.2 and below: the client's legacy_version (at most TLS 1.2), the first real suite it offered.
  const version = tweaks.versionAbove
    ? Math.min(highest, ProtocolVersion.TLS1_2) + 1
    : Math.min(ch.legacyVersion, ProtocolVersion.TLS1_2);
  const suite =
    tweaks.suite ??
    ch.cipherSuites.find((s) => !SIGNALLING_SUITES.has(s) && !isGrease(s) && !TLS13_SUITES.includes(s)) ??
    0x002f;
  const sh: ServerHello = {
    legacyVersion: version,
    random,
    sessionId: ch.sessionId,
    cipherSuite: suite,
    compressionMethod: 0,
    extensions: null,
  };
  const serverHelloMessage = encodeServerHello(sh);
  const recordVersion = Math.min(version, ProtocolVersion.TLS1_2);
  return {
    tls13: false,
    suite,
    serverHelloMessage,
    serverHelloRecord: record(ContentType.handshake, recordVersion, serverHelloMessage),
    handshake: (message) => record(ContentType.handshake, recordVersion, message),
  };
}

/** Returns a HelloRetryRequest (RFC 8446, Section 4.1.4) for `ch`, asking for a group it can compute. */
function helloRetryRequestRecord(ch: ClientHello): Uint8Array {
  const groups = findExtension(ch.extensions, 'supported_groups')?.groups ?? [];
  const group = groups.find((g) => SUPPORTED_KEY_SHARE_GROUPS.includes(g)) ?? 0x001d;
  const suite =
    ch.cipherSuites.find((s) => TLS13_SUITES.includes(s)) ??
    ch.cipherSuites.find((s) => !SIGNALLING_SUITES.has(s) && !isGrease(s)) ??
    0x1301;
  const hrr: ServerHello = {
    legacyVersion: ProtocolVersion.TLS1_2,
    random: HELLO_RETRY_REQUEST_RANDOM,
    sessionId: ch.sessionId,
    cipherSuite: suite,
    compressionMethod: 0,
    extensions: [
      { kind: 'supported_versions', type: 0x002b, versions: null, selected: ProtocolVersion.TLS1_3 },
      { kind: 'key_share', type: 0x0033, shares: null, selectedGroup: group },
    ],
  };
  return record(ContentType.handshake, ProtocolVersion.TLS1_2, encodeServerHello(hrr));
}

/** Returns plaintext records of `type` carrying `payload` (split at 2^14; one empty record for an empty payload). */
function record(type: number, version: number, payload: Uint8Array): Uint8Array {
  const w = new Writer(payload.length + 16);
  if (payload.length === 0) writeRecord(w, { type, version, fragment: payload });
  for (let o = 0; o < payload.length; o += 16384)
    writeRecord(w, { type, version, fragment: payload.subarray(o, o + 16384) });
  return w.finish();
}

function alertRecord(level: number, description: number): Uint8Array {
  const w = new Writer(2);
  writeAlert(w, { level, description });
  return record(ContentType.alert, ProtocolVersion.TLS1_2, w.finish());
}

function encodeHandshakeBody(msgType: number, body: (w: Writer) => void): Uint8Array {
  const w = new Writer(64);
  writeHandshake(w, msgType, body);
  return w.finish();
}

/** EncryptedExtensions with no extension (RFC 8446, Section 4.3.1). */
function encryptedExtensionsMessage(): Uint8Array {
  return encodeHandshakeBody(HandshakeType.encrypted_extensions, (w) => writeExtensions(w, [], 'encrypted_extensions'));
}

function writeCertificate(w: Writer, tls13: boolean, ders: readonly Uint8Array[]): void {
  const entries: CertificateEntry[] = ders.map((der) => ({ der, extensions: tls13 ? [] : null }));
  writeCertificateBody(w, { context: tls13 ? new Uint8Array(0) : null, entries });
}

function hashLength(suite: number): number {
  return hashForSuite(suite) === 'sha384' ? 48 : 32;
}

/** A DER-looking blob of `n` bytes (a SEQUENCE of zeros) for messages whose content does not matter. */
function fakeCertificate(n: number): Uint8Array {
  const out = new Uint8Array(n);
  out[0] = 0x30;
  out[1] = 0x82;
  out[2] = (n - 4) >> 8;
  out[3] = (n - 4) & 0xff;
  return out;
}

/**
 * Returns `levels` nested DER SEQUENCEs (X.690, Section 8.9), each with a correct, minimal length
 * (short form below 128, else the fewest long-form octets: X.690, Section 10.1).
 */
export function deepDer(levels: number): Uint8Array {
  // Inside out: the innermost SEQUENCE is empty, each level wraps the total so far.
  const headers: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < levels; i++) {
    const h =
      total < 0x80
        ? [0x30, total]
        : total < 0x100
          ? [0x30, 0x81, total]
          : total < 0x10000
            ? [0x30, 0x82, total >> 8, total & 0xff]
            : [0x30, 0x83, total >> 16, (total >> 8) & 0xff, total & 0xff];
    headers.push(Uint8Array.from(h));
    total += h.length;
  }
  return concatBytes(...headers.reverse());
}

/** Certificates whose DER lengths contradict each other: inner longer than outer, lengths past the end, indefinite form. */
export function inconsistentDer(): Uint8Array[] {
  return [
    // SEQUENCE of 5 holding a SEQUENCE that claims 16 bytes.
    Uint8Array.from([0x30, 0x05, 0x30, 0x10, 0x02, 0x01, 0x00]),
    // A length that runs past the end of the data.
    Uint8Array.from([0x30, 0x82, 0xff, 0xff, 0x30, 0x00]),
    // BER indefinite length, which DER forbids (X.690, Section 10.1).
    Uint8Array.from([0x30, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00]),
    // A non-minimal length (X.690, Section 10.1): 0x81 0x03 for 3.
    Uint8Array.from([0x30, 0x81, 0x03, 0x02, 0x01, 0x00]),
  ];
}

// ---------------------------------------------------------------------------------------------
// Load: many probes with mixed outcomes in one process
// ---------------------------------------------------------------------------------------------

export interface HostileLoadOptions {
  /** Probes to run in all. */
  readonly probes: number;
  /** Probes in flight at once (default 40). */
  readonly concurrency?: number;
  /** The prober's idle timeout, ms (default 1000): what a `timeout` outcome costs. */
  readonly readTimeoutMs?: number;
  /** Also probe real TLS servers of the main lab (modern, reset-legacy, alert-legacy, silent-close); default true. */
  readonly realTls?: boolean;
  /** Stops the run early (the probes in flight end as `aborted`). */
  readonly signal?: AbortSignal;
  /** Called every `progressEvery` probes with the number done. */
  readonly onProgress?: (done: number) => void;
  readonly progressEvery?: number;
}

export interface HostileLoadReport {
  readonly probes: number;
  readonly elapsedMs: number;
  /** Outcomes by kind. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Probes whose outcome was not the expected one: `endpoint version: got (expected)`, at most 50 kept. */
  readonly unexpected: readonly string[];
  readonly unexpectedCount: number;
  /** Slowest single probe, ms. */
  readonly maxProbeMs: number;
  /** Resident set size before, at its sampled peak during, and after the run (bytes). */
  readonly rssBefore: number;
  readonly rssPeak: number;
  readonly rssAfter: number;
  /** Sockets, servers and timers active before the run and after everything closed (by kind). */
  readonly handlesBefore: Readonly<Record<string, number>>;
  readonly handlesAfter: Readonly<Record<string, number>>;
}

/** Hostile behaviours used by the load run: all but the endless ones, whose end is the caller's deadline. */
const LOAD_BEHAVIOURS = HOSTILE_BEHAVIOURS.filter((b) => b.name !== 'empty-records-trickle').map((b) => b.name);

/** Main-lab endpoints used by the load run and the outcome of a version each does not serve. */
const REAL_TLS: readonly { name: LabEndpointName; refused: OutcomeKind }[] = [
  { name: 'modern', refused: 'alert' },
  { name: 'reset-legacy', refused: 'reset' },
  { name: 'alert-legacy', refused: 'alert' },
  { name: 'silent-close', refused: 'closed' },
];

const LOAD_VERSIONS = ['TLS1.3', 'TLS1.2', 'TLS1.0'] as const;

/** Resource kinds that keep a process alive when left behind (stdio pipes are the process's own, opened on first write). */
const HANDLE_KINDS: ReadonlySet<string> = new Set(['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'Immediate']);

function countHandles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of process.getActiveResourcesInfo()) if (HANDLE_KINDS.has(k)) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/**
 * Returns the report of `probes` probes run against a hostile lab (and, by default, the main lab's
 * real TLS servers) started for the run and closed after it: each probe's outcome checked against
 * what its endpoint must yield, the time taken, the RSS, and the handles left once all is closed.
 * Rejects only if a lab cannot start; probe failures are counted, never thrown.
 */
export async function runHostileLoad(opts: HostileLoadOptions): Promise<HostileLoadReport> {
  if (!Number.isInteger(opts.probes) || opts.probes < 1)
    throw new RangeError(`probes must be a positive integer, got ${opts.probes}`);
  const concurrency = opts.concurrency ?? 40;
  const readTimeoutMs = opts.readTimeoutMs ?? 1000;
  const handlesBefore = countHandles();
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const t0 = performance.now();

  // Fast drips keep the run short; the behaviours stay the same.
  const hostile = await startHostileLab({ names: LOAD_BEHAVIOURS, paceMs: 2 });
  const real =
    opts.realTls === false ? null : await startLab({ names: REAL_TLS.map((r) => r.name), keyAlgorithm: 'ecdsa-p256' });
  type Plan = {
    name: string;
    address: string;
    port: number;
    expect: (v: (typeof LOAD_VERSIONS)[number]) => readonly OutcomeKind[];
  };
  const plan: Plan[] = hostile.endpoints.map((e) => ({
    name: e.name,
    address: e.host,
    port: e.port,
    expect: () => (Array.isArray(e.expect) ? e.expect : [e.expect]),
  }));
  for (const r of REAL_TLS) {
    if (!real) break;
    const e = real.endpoint(r.name);
    plan.push({
      name: r.name,
      address: e.host,
      port: e.port,
      expect: (v) => ((e.versions as readonly string[]).includes(v) ? ['negotiated'] : [r.refused]),
    });
  }

  const outcomes: Record<string, number> = {};
  const unexpected: string[] = [];
  let unexpectedCount = 0;
  let maxProbeMs = 0;
  let next = 0;
  let done = 0;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, 100);
  const worker = async (): Promise<void> => {
    while (next < opts.probes && !opts.signal?.aborted) {
      const i = next++;
      const p = plan[i % plan.length]!;
      const version = LOAD_VERSIONS[Math.floor(i / plan.length) % LOAD_VERSIONS.length]!;
      const started = performance.now();
      const r = await attempt(
        { host: 'localhost', address: p.address, port: p.port },
        { version, sni: 'localhost' },
        { readTimeoutMs, connectTimeoutMs: 5000, ...(opts.signal ? { signal: opts.signal } : {}) },
      );
      maxProbeMs = Math.max(maxProbeMs, performance.now() - started);
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      const want = p.expect(version);
      if (!want.includes(r.outcome) && r.end !== 'aborted') {
        unexpectedCount++;
        if (unexpected.length < 50)
          unexpected.push(`${p.name} ${version}: ${r.outcome} (${want.join('|')}; ${r.end}, ${r.error ?? '-'})`);
      }
      done++;
      if (opts.onProgress && done % (opts.progressEvery ?? 1000) === 0) opts.onProgress(done);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, opts.probes) }, worker));
  } finally {
    clearInterval(sampler);
    await hostile.close();
    await real?.close();
  }
  const elapsedMs = performance.now() - t0;
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  // Let close callbacks run before counting what is left.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setTimeout(resolve, 20));
  return {
    probes: done,
    elapsedMs,
    outcomes,
    unexpected,
    unexpectedCount,
    maxProbeMs,
    rssBefore,
    rssPeak,
    rssAfter: process.memoryUsage.rss(),
    handlesBefore,
    handlesAfter: countHandles(),
  };
}
