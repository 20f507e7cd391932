/**
 * The state of one TLS connection being read from a capture, shared by the layers of capture/
 * (detect.ts, sessions.ts, session-keys.ts, classify.ts): per direction (`Side`) and per connection
 * (`Conn`), the caps on what a connection may accumulate, and the small helpers that record what
 * was seen (messages, problems, alerts) within those caps.
 */
import type {
  AlertFact,
  ClientHelloFact,
  ConnectionProblem,
  FinishedFact,
  MessageEvent,
  ServerHelloFact,
} from './facts.js';
import type { Hash } from 'node:crypto';
import type { Direction, Flow } from './tcp.js';
import type { CaptureMeta } from './pcap-format.js';
import { createHandshakeAssembler } from '../tls/deframer.js';
import type { HandshakeAssembler } from '../tls/deframer.js';
import type { HandshakeContext } from '../tls/handshake.js';
import { readHandshakeMessage } from '../tls/handshake.js';
import { clientSupportedVersions } from '../tls/client-hello.js';
import type { ClientHello } from '../tls/client-hello.js';
import { Reader } from '../wire/reader.js';
import { isTls13Version } from '../tls/certificate.js';
import { RECORD_HEADER_LENGTH } from '../tls/record.js';
import { HANDSHAKE_TYPES, nameOf } from '../tls/registry.js';
import type { Tls12Protection, Tls12Unsupported, Tls13Protection } from './decrypt.js';
import type { Slab } from './slabs.js';
import type { OrderTicket } from './report-order.js';

/**
 * Plaintext handshake bytes parsed per direction. A full first flight with a long certificate chain
 * is well under 64 KiB, and a few renegotiations fit too; past 512 KiB the peer is flooding us with
 * handshake records and we stop parsing them (the connection is still reported).
 */
export const MAX_HANDSHAKE_BYTES_PER_DIRECTION = 512 * 1024;

/**
 * Entries kept in a connection's message log. A handshake is about a dozen messages; the first
 * application data record of each side is logged once, so 64 leaves room for renegotiation and
 * retries without letting a chatty connection grow the log.
 */
export const MAX_MESSAGES_PER_CONNECTION = 64;

/** Alerts kept per connection: a connection ends after its first fatal alert, so a handful is plenty. */
export const MAX_ALERTS_PER_CONNECTION = 16;

/** Problems (parse errors, gaps) kept per connection: the first few explain the rest. */
export const MAX_PROBLEMS_PER_CONNECTION = 8;

/**
 * Records per direction we try to decrypt without success before giving up (0-RTT data under keys
 * the log lacks, or a wrong key log). A handshake needs at most a few records; 32 bounds the AEAD
 * work a connection with unusable keys can cost.
 */
export const MAX_FAILED_DECRYPTS_PER_DIRECTION = 32;

/**
 * Handshake bytes kept for checking Finished.verify_data, only while a key log has this connection's
 * secrets. A handshake transcript is a few KiB to a few tens of KiB; past 256 KiB we stop keeping it
 * and report the Finished without checking it.
 */
export const MAX_TRANSCRIPT_BYTES = 256 * 1024;

/** First bytes kept from a server answer that is not TLS (an HTTP error page, a banner), as evidence. */
export const MAX_EVIDENCE_BYTES = 64;

export const handshakeName = (t: number): string =>
  nameOf(HANDSHAKE_TYPES, t) ?? `handshake_0x${t.toString(16).padStart(2, '0')}`;

export const other = (d: Direction): Direction => (d === 'client' ? 'server' : 'client');

/** The record being read on one side; one object per side, reused from record to record. */
export interface RecordInProgress {
  /** The side's header buffer: valid until the record is complete and handled (`onRecord`). */
  header: Uint8Array;
  type: number;
  version: number;
  remaining: number;
  keep: boolean;
  /** A kept body split across deliveries, gathered here (see `transientBytes`); null until then. */
  body: Uint8Array | null;
  /** The slab `body` was carved from, to release once the record is handled. */
  slab: Slab | null;
  /** Bytes of `body` filled so far. */
  filled: number;
}

export interface Side {
  readonly dir: Direction;
  mode: 'detect' | 'records' | 'ignore' | 'done';
  /** Bytes held while looking for the start of TLS (at most MAX_TLS_SEARCH_BYTES). */
  pending: Uint8Array[];
  pendingLength: number;
  /** Stream offset of pending[0]. */
  pendingOffset: number;
  tlsStart: number | null;
  /** How far the held bytes were searched (a match is looked for again in the last few bytes). */
  scanned: number;
  header: Uint8Array;
  headerLength: number;
  /** The record being read, when `inRecord` (null until the first record). */
  record: RecordInProgress | null;
  inRecord: boolean;
  readonly assembler: HandshakeAssembler;
  /** Made when the side's first record is decrypted. */
  decryptedAssembler: HandshakeAssembler | null;
  handshakeBytes: number;
  handshakeStopped: boolean;
  /** TLS 1.0-1.2: ChangeCipherSpec sent, so the records that follow are protected. */
  encrypted: boolean;
  recordsAfterCcs: number;
  /** TLS 1.3: records of type application_data seen after the ServerHello. */
  protectedAfterServerHello: number;
  loggedApplicationData: boolean;
  /** Client side: record bytes of the ClientHello being read. */
  helloRecords: Uint8Array[] | null;
  tls12: Tls12Protection | null;
  tls12Failed: boolean;
  tls13: Tls13Protection | null;
  early: Tls13Protection | null;
  /** TLS 1.3: the side's Finished was read, so its handshake keys are done. */
  handshakeDone: boolean;
  failedDecrypts: number;
  /** Client: protected records sent before the ServerHello (0-RTT data, RFC 8446, Section 4.2.10). */
  earlyRecords: number;
  /** A protected record of this side's handshake did not open, so its transcript is incomplete. */
  missed: boolean;
  decryptedRecords: number;
  finished: FinishedFact | null;
  /** Frame and capture time of the segment whose bytes are being read. */
  frame: number;
  timestampUs: number;
  bytes: number;
}

/**
 * The layers above the connection state that lower layers hand bytes back to: record walking (for
 * the bytes detection held) and handshake parsing (for decrypted records). Passed in by the
 * analyzer, so detection and decryption do not import it.
 */
export interface ConnectionLayers {
  walk(c: Conn, s: Side, bytes: Uint8Array): void;
  feedHandshake(c: Conn, s: Side, assembler: HandshakeAssembler, body: Uint8Array, decrypted: boolean): void;
}

export interface Conn {
  readonly flow: Flow;
  readonly layers: ConnectionLayers;
  readonly keySource: KeySource;
  /** True when the TCP roles were guessed wrong and the TLS client is the flow's `server`. */
  swap: boolean;
  readonly sides: { client: Side; server: Side };
  clientHello: ClientHelloFact | null;
  helloRetryRequest: ServerHelloFact | null;
  retryClientHello: ClientHelloFact | null;
  serverHello: ServerHelloFact | null;
  sslv2ServerHello: boolean;
  version: number | null;
  cipherSuite: number | null;
  certificates: Uint8Array[];
  certificatesDecrypted: boolean;
  clientCertificates: Uint8Array[];
  alerts: AlertFact[];
  /** The first alert seen before the handshake completed: the reason it failed. */
  failureAlert: AlertFact | null;
  /** The message log, packed (see `logMessage`); `messageEvents` reads it back. */
  messageLog: number[];
  problems: ConnectionProblem[];
  serverEvidence: Uint8Array | null;
  clientBroken: boolean;
  /** The handshake transcript, kept only while a key log has this connection's secrets. */
  transcript: Transcript | null;
  secrets: 'tls13' | 'tls12' | 'none';
  master: Uint8Array | null;
  decryptionUnsupported: string | null;
  decryptedMessages: string[];
  /** The TLS 1.0-1.2 keys of both directions, once a ChangeCipherSpec needed them (see `startTls12`). */
  tls12Keys: { readonly client: Tls12Protection; readonly server: Tls12Protection } | Tls12Unsupported | null;
  /** What the handshake parser needs to know (version, suite), made again when the ServerHello sets them. */
  context: HandshakeContext | null;
  /** The connection's place in the report order, when connections are reported by index. */
  ticket: OrderTicket | null;
}

export function newSide(dir: Direction): Side {
  return {
    dir,
    mode: 'detect',
    pending: [],
    pendingLength: 0,
    pendingOffset: 0,
    tlsStart: null,
    scanned: 0,
    header: new Uint8Array(RECORD_HEADER_LENGTH),
    headerLength: 0,
    record: null,
    inRecord: false,
    assembler: createHandshakeAssembler(),
    decryptedAssembler: null,
    handshakeBytes: 0,
    handshakeStopped: false,
    encrypted: false,
    recordsAfterCcs: 0,
    protectedAfterServerHello: 0,
    loggedApplicationData: false,
    helloRecords: dir === 'client' ? [] : null,
    tls12: null,
    tls12Failed: false,
    tls13: null,
    early: null,
    handshakeDone: false,
    failedDecrypts: 0,
    earlyRecords: 0,
    missed: false,
    decryptedRecords: 0,
    finished: null,
    frame: 0,
    timestampUs: 0,
    bytes: 0,
  };
}

export function newConn(flow: Flow, keySource: KeySource, layers: ConnectionLayers): Conn {
  return {
    flow,
    layers,
    keySource,
    swap: false,
    sides: { client: newSide('client'), server: newSide('server') },
    clientHello: null,
    helloRetryRequest: null,
    retryClientHello: null,
    serverHello: null,
    sslv2ServerHello: false,
    version: null,
    cipherSuite: null,
    certificates: [],
    certificatesDecrypted: false,
    clientCertificates: [],
    alerts: [],
    failureAlert: null,
    messageLog: [],
    problems: [],
    serverEvidence: null,
    clientBroken: false,
    transcript: null,
    secrets: 'none',
    master: null,
    decryptionUnsupported: null,
    decryptedMessages: [],
    tls12Keys: null,
    context: null,
    ticket: null,
  };
}

/**
 * A client's ClientHello held as its bytes while the connection is in flight: its framing is checked
 * when it arrives (`viewClientHello`, which throws exactly where and what the full read throws), and
 * its fields are read when first asked for, usually once, when the connection's facts are made
 * (`clientHelloFact`). A read hello is ~2 KB of objects, arrays and views (V8 heap snapshot: ~14
 * objects, ~12 arrays, ~5 views) that was kept for the connection's life: on a busy server's capture
 * (20,000 connections in flight) the heap after a full collection at the peak went 153 → 116 MB
 * once the hellos were held as bytes (BENCHMARKS.md).
 *
 * A class, against the house rule, for the reason `ClientHelloView` gives: the getter on the
 * prototype, where an object literal with an accessor would be a dictionary-mode object. Only
 * capture/ sees one: the facts hold the plain object `clientHelloFact` makes.
 */
export class HeldClientHello {
  readonly format = 'tls' as const;
  #hello: ClientHello | null = null;

  /** `message` and `records` are copies of their own (fact slabs), never written again. */
  constructor(
    readonly message: Uint8Array,
    readonly records: Uint8Array,
    readonly frame: number,
    readonly timestampUs: number,
  ) {}

  /** The ClientHello, read as `feedHandshake` reads every other message (the same reader, the same paths). */
  get hello(): ClientHello {
    if (this.#hello === null) {
      const m = readHandshakeMessage(new Reader(this.message, '', 0));
      if (m.kind !== 'client_hello') throw new Error('a held ClientHello is not a ClientHello');
      this.#hello = m.body;
    }
    return this.#hello;
  }
}

/** The plain fact of a connection's ClientHello (its fields read now if it was held), or `f` itself. */
export function clientHelloFact(f: ClientHelloFact | null): ClientHelloFact | null {
  if (!(f instanceof HeldClientHello)) return f;
  return {
    format: 'tls',
    hello: f.hello,
    message: f.message,
    records: f.records,
    frame: f.frame,
    timestampUs: f.timestampUs,
  };
}

/** Key logs from several sources, looked up in order: --keylog, then the capture's own. */
export interface KeySource {
  readonly given: boolean;
  lookup(clientRandom: Uint8Array, label: string): Uint8Array | undefined;
  refresh(meta: CaptureMeta): void;
  errors(): number;
}

export function problem(c: Conn, from: Direction, code: ConnectionProblem['code'], message: string): void {
  if (c.problems.length < MAX_PROBLEMS_PER_CONNECTION) c.problems.push({ from, code, message });
}

/**
 * Message types seen so far, by number: the message log stores the number. The set is bounded
 * (handshake type names, a few record kinds): at most a few hundred entries.
 */
const messageTypes: string[] = [];
const messageTypeIds = new Map<string, number>();

function messageTypeId(type: string): number {
  let id = messageTypeIds.get(type);
  if (id === undefined) {
    id = messageTypes.length;
    messageTypes.push(type);
    messageTypeIds.set(type, id);
  }
  return id;
}

/** Numbers per entry of `Conn.messageLog`: type id · 4 + 2 for the server + 1 when decrypted, frame, timestamp. */
const LOG_STRIDE = 3;

/**
 * Logs a message, as three numbers rather than an object: a connection holds its log until it
 * ends, so on a busy server's capture (20,000 connections in flight) an object per entry (and a
 * boxed number for its timestamp) was promoted and collected for each message; an array of
 * numbers is one object, with its numbers unboxed.
 */
export function logMessage(c: Conn, s: Side, type: string, decrypted: boolean): void {
  const log = c.messageLog;
  if (log.length >= MAX_MESSAGES_PER_CONNECTION * LOG_STRIDE) return;
  log.push(messageTypeId(type) * 4 + (s.dir === 'server' ? 2 : 0) + (decrypted ? 1 : 0), s.frame, s.timestampUs);
}

/** The message log as facts, in order. */
export function messageEvents(c: Conn): MessageEvent[] {
  const log = c.messageLog;
  const out: MessageEvent[] = new Array(log.length / LOG_STRIDE);
  for (let i = 0, j = 0; i < log.length; i += LOG_STRIDE, j++) {
    const code = log[i]!;
    out[j] = {
      from: (code & 2) !== 0 ? 'server' : 'client',
      type: messageTypes[code >> 2]!,
      decrypted: (code & 1) !== 0,
      frame: log[i + 1]!,
      timestampUs: log[i + 2]!,
    };
  }
  return out;
}

/** The last logged message in a frame up to `frame` (all of them when null), or null. */
export function lastMessage(
  c: Conn,
  frame: number | null,
): { readonly from: Direction; readonly type: string; readonly timestampUs: number } | null {
  const log = c.messageLog;
  for (let i = log.length - LOG_STRIDE; i >= 0; i -= LOG_STRIDE) {
    if (frame !== null && log[i + 1]! > frame) continue;
    const code = log[i]!;
    return { from: (code & 2) !== 0 ? 'server' : 'client', type: messageTypes[code >> 2]!, timestampUs: log[i + 2]! };
  }
  return null;
}

export const tls13 = (c: Conn): boolean => c.version !== null && isTls13Version(c.version);

/** True when the ClientHello lists TLS 1.3 (or a draft) in supported_versions (RFC 8446, Section 4.2.1). */
export function offersTls13(c: Conn): boolean {
  const ch = c.clientHello;
  return ch?.format === 'tls' && (clientSupportedVersions(ch.hello) ?? []).some(isTls13Version);
}

/**
 * The handshake messages of a connection whose secrets the key log has, for the Finished checks.
 * Until the ServerHello names the hash, the messages are held (the hellos, copies of their own);
 * from then on they go straight into running hashes, which each Finished check copies and digests
 * (copying every message, then hashing the list at each Finished, was most of `checkFinished`, 8.5%
 * of a key-log analysis profile).
 */
export interface Transcript {
  held: Uint8Array[] | null;
  /** The running hashes once the ServerHello is in: see `startTranscriptHashes`. */
  hashes: readonly Hash[] | null;
  bytes: number;
}

/** RFC 8446, Section 4.4.4 / RFC 5246, Section 7.4.9: the handshake is over once both Finished are sent. */
export function handshakeComplete(c: Conn): boolean {
  const cs = c.sides.client;
  const ss = c.sides.server;
  if (c.serverHello === null) return false;
  if (tls13(c)) {
    // The client's Finished is its first protected record after the ServerHello (0-RTT data, if any,
    // came before the ServerHello); with keys we saw it.
    return cs.finished !== null || cs.protectedAfterServerHello > 0;
  }
  return cs.encrypted && ss.encrypted && cs.recordsAfterCcs > 0 && ss.recordsAfterCcs > 0;
}

export function addAlert(
  c: Conn,
  s: Side,
  level: number | null,
  description: number | null,
  encrypted: boolean,
  decrypted: boolean,
): void {
  const a: AlertFact = {
    from: s.dir,
    level,
    description,
    encrypted,
    decrypted,
    frame: s.frame,
    timestampUs: s.timestampUs,
  };
  if (c.alerts.length < MAX_ALERTS_PER_CONNECTION) c.alerts.push(a);
  if (c.failureAlert === null && !handshakeComplete(c)) c.failureAlert = a;
  logMessage(c, s, 'alert', decrypted);
}
