/**
 * Returns per-connection TLS facts from a capture: flows → records → handshake messages → one
 * `ConnectionFacts` per TLS connection (hellos, certificates, alerts, how the connection ended, an
 * outcome in the probe taxonomy, and what a key log decrypted). Throws only what the capture reader
 * throws for a broken container; packet and TLS content never throw.
 *
 * TLS is recognised by content on any port: a ClientHello record (or an SSLv2-compatible hello) at
 * the start of the client's stream, or within the first `MAX_TLS_SEARCH_BYTES` of it when a plaintext
 * protocol comes first (STARTTLS in SMTP/IMAP/LDAP/…, an HTTP CONNECT or SOCKS preamble). A flow
 * whose client never sends one is not a TLS connection, unless its server's stream starts with a
 * ServerHello (the capture missed the client's first segment).
 *
 * Memory stays bounded: nothing is kept per flow that is not TLS once that is decided; a connection's
 * state is dropped as soon as it has been reported (`onConnection`); application data is walked
 * record header by record header without being buffered; handshake bytes, messages, alerts and
 * decryption attempts per connection are capped by the named constants below.
 *
 * Layers (STYLE §5.9): this module produces facts only; `src/report/capture-view.ts` turns them into
 * JSON and tables, and judges certificate chains.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { constants as zlibConstants, inflateSync } from 'node:zlib';
import { reassembleCapture } from './tcp.js';
import type { DataOrigin, Direction, Endpoint, Flow, ReassemblerLimits, ReassemblerStats } from './tcp.js';
import type { CaptureMeta } from './pcap.js';
import type { DecodeStats } from './packet.js';
import { Reader } from '../wire/reader.js';
import { DecodeError } from '../wire/errors.js';
import { concatBytes } from '../wire/hex.js';
import { createHandshakeAssembler } from '../tls/deframer.js';
import type { HandshakeAssembler } from '../tls/deframer.js';
import { readDraftServerHello, readHandshakeMessage } from '../tls/handshake.js';
import type { HandshakeContext, HandshakeMessage } from '../tls/handshake.js';
import type { ClientHello } from '../tls/client-hello.js';
import { clientSupportedVersions } from '../tls/client-hello.js';
import type { ServerHello } from '../tls/server-hello.js';
import { isHelloRetryRequest, negotiatedVersion } from '../tls/server-hello.js';
import { readSslV2ClientHello } from '../tls/sslv2.js';
import type { SslV2ClientHello } from '../tls/sslv2.js';
import { MAX_CERTIFICATES, isTls13Version } from '../tls/certificate.js';
import { MAX_RECORD_FRAGMENT, RECORD_HEADER_LENGTH, isKnownContentType } from '../tls/record.js';
import { ContentType, ExtensionType, HANDSHAKE_TYPES, HandshakeType, nameOf } from '../tls/registry.js';
import { parseKeyLog, KeyLogLabel } from '../tls/keylog.js';
import type { KeyLog } from '../tls/keylog.js';
import { decryptRecord } from '../tls/protection.js';
import { digestBytes, finishedVerifyData, hashForSuite, messageHash } from '../tls/key-schedule.js';
import { findExtensionByType, readExtensions } from '../tls/extensions.js';
import type { OutcomeKind } from '../probe/outcome.js';
import { decryptTls12Record, tls12FinishedVerifyData, tls12HandshakeHashes, tls12Protection, tls13Protection } from './decrypt.js';
import type { Tls12Protection, Tls12Unsupported, Tls13Protection } from './decrypt.js';

// ---------------------------------------------------------------------------------------------
// Caps
// ---------------------------------------------------------------------------------------------

/**
 * Bytes of each direction examined for the start of TLS before the flow is declared not TLS. A
 * STARTTLS exchange, an HTTP CONNECT or a SOCKS greeting takes a few hundred bytes before the
 * ClientHello; 16 KiB covers them many times over while a bulk non-TLS flow costs at most this
 * much buffering, once.
 */
export const MAX_TLS_SEARCH_BYTES = 16 * 1024;

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

// ---------------------------------------------------------------------------------------------
// Facts
// ---------------------------------------------------------------------------------------------

/** The outcomes a captured connection can have (the probe taxonomy minus the connect failures). */
export type CaptureOutcome = Extract<OutcomeKind, 'negotiated' | 'alert' | 'reset' | 'closed' | 'timeout' | 'malformed' | 'mismatch'>;

interface Seen {
  /** Frame (1-based) whose bytes completed it. */
  readonly frame: number;
  readonly timestampUs: number;
}

export type ClientHelloFact =
  | (Seen & {
      readonly format: 'tls';
      readonly hello: ClientHello;
      /** The handshake message, header included. */
      readonly message: Uint8Array;
      /** The exact bytes of the record(s) that carried it, headers included. */
      readonly records: Uint8Array;
    })
  | (Seen & { readonly format: 'sslv2'; readonly hello: SslV2ClientHello; readonly message: Uint8Array; readonly records: Uint8Array });

export interface ServerHelloFact extends Seen {
  readonly hello: ServerHello;
  readonly message: Uint8Array;
}

/** One entry of the message log: a handshake message, or a record kind. */
export interface MessageEvent extends Seen {
  readonly from: Direction;
  /** Handshake type name (`client_hello`), or `change_cipher_spec`, `alert`, `application_data`, `encrypted_handshake`, `heartbeat`, `sslv2_client_hello`, `sslv2_server_hello`. */
  readonly type: string;
  /** True when we read it only thanks to the key log. */
  readonly decrypted: boolean;
}

export interface AlertFact extends Seen {
  readonly from: Direction;
  /** Null when the alert was encrypted and could not be decrypted. */
  readonly level: number | null;
  readonly description: number | null;
  readonly encrypted: boolean;
  readonly decrypted: boolean;
}

export interface EndFact {
  /** `rst` when any RST was seen (it explains a failure better than a FIN), else `fin`, else `open`. */
  readonly kind: 'fin' | 'rst' | 'open';
  readonly by: Direction | null;
  readonly frame: number | null;
  readonly timestampUs: number;
  /** The last message logged before it (at or before its frame), and who sent it. */
  readonly afterMessage: string | null;
  readonly afterMessageFrom: Direction | null;
  readonly msAfterMessage: number | null;
  readonly msSinceStart: number;
}

export interface ConnectionProblem {
  readonly from: Direction;
  readonly code: 'capture-gap' | 'bad-record' | 'handshake-decode-error' | 'handshake-too-large' | 'not-tls' | 'decrypt-failed';
  readonly message: string;
}

export interface FinishedFact {
  readonly verifyData: Uint8Array;
  /** Checked against the transcript with the connection's secrets; null when it could not be checked. */
  readonly verified: boolean | null;
}

export interface DecryptionFacts {
  /** Which secrets the key log held for this connection. */
  readonly keys: 'tls13' | 'tls12' | 'none';
  readonly status: 'decrypted' | 'partial' | 'failed' | 'unsupported' | 'no-keys' | 'nothing-encrypted';
  readonly detail: string | null;
  readonly clientFinished: FinishedFact | null;
  readonly serverFinished: FinishedFact | null;
  /** Handshake messages read by decryption, in order (`encrypted_extensions`, `certificate`, …). */
  readonly messages: readonly string[];
}

/**
 * Everything we learnt about one TLS connection. Plain readonly data; bytes are copies, never views
 * of the capture. The hellos, their records and the certificates are views into 16 KiB blocks
 * shared with the same facts of the connections reported around it (one allocation for many), so
 * keeping one connection's facts keeps up to a few such blocks alive.
 */
export interface ConnectionFacts {
  /** Wireshark's `tcp.stream` number of the flow (0-based, in order of first appearance). */
  readonly index: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly ipVersion: 4 | 6;
  readonly startTimestampUs: number;
  readonly lastTimestampUs: number;
  /** Stream offset where TLS starts in each direction (0, or past a STARTTLS/proxy preamble). */
  readonly tlsOffset: { readonly client: number | null; readonly server: number | null };
  readonly clientHello: ClientHelloFact | null;
  readonly helloRetryRequest: ServerHelloFact | null;
  /** The second ClientHello, sent after a HelloRetryRequest (before any ServerHello). */
  readonly retryClientHello: ClientHelloFact | null;
  /** The ServerHello (not the HelloRetryRequest). */
  readonly serverHello: ServerHelloFact | null;
  /** The server answered an SSLv2-compatible hello in SSL 2.0. */
  readonly sslv2ServerHello: boolean;
  readonly version: number | null;
  readonly cipherSuite: number | null;
  /** DER of the server's certificates (first Certificate message), leaf first. */
  readonly certificates: readonly Uint8Array[];
  /** True when they came from a decrypted TLS 1.3 Certificate. */
  readonly certificatesDecrypted: boolean;
  readonly clientCertificates: readonly Uint8Array[];
  readonly alerts: readonly AlertFact[];
  readonly messages: readonly MessageEvent[];
  readonly handshakeComplete: boolean;
  readonly end: EndFact;
  readonly outcome: CaptureOutcome;
  readonly problems: readonly ConnectionProblem[];
  /** First bytes of a server answer that is not TLS. */
  readonly serverEvidence: Uint8Array | null;
  /** Null when no key log was given and the capture embeds none. */
  readonly decryption: DecryptionFacts | null;
  readonly bytes: { readonly client: number; readonly server: number };
}

export interface AnalyzeStats {
  readonly packets: number;
  readonly flows: number;
  readonly connections: number;
  readonly decryptedConnections: number;
  readonly decode: Readonly<DecodeStats>;
  readonly tcp: Readonly<ReassemblerStats>;
  /** Key log lines that could not be used (from --keylog and the capture's own key logs). */
  readonly keyLogErrors: number;
}

export interface AnalyzeOptions {
  /** NSS key log text (the `--keylog` file); the capture's Decryption Secrets Blocks are used too. */
  readonly keyLog?: string;
  /** Receives each connection as soon as it is complete; the facts are then not kept. */
  readonly onConnection?: (c: ConnectionFacts) => void;
  /** TCP reassembly limits (defaults: src/capture/tcp.ts). */
  readonly limits?: Partial<ReassemblerLimits>;
}

export interface AnalyzeResult {
  readonly meta: CaptureMeta;
  /** Every connection in `index` order; absent when `onConnection` received them. */
  readonly connections?: ConnectionFacts[];
  readonly stats: AnalyzeStats;
}

// ---------------------------------------------------------------------------------------------
// Content recognition
// ---------------------------------------------------------------------------------------------

/** RFC 8446, Section 5.1 record header with handshake content starting with `msgType`, version 3.x. */
function handshakeRecordAt(b: Uint8Array, i: number, msgType: number): boolean {
  if (b.length - i < 6) return false;
  const len = (b[i + 3]! << 8) | b[i + 4]!;
  return b[i] === ContentType.handshake && b[i + 1] === 3 && b[i + 2]! <= 4 && len >= 4 && len <= MAX_RECORD_FRAGMENT && b[i + 5] === msgType;
}

/** A ClientHello record: its legacy_version's major byte must be 3 too (RFC 5246, Appendix E.1). */
function clientHelloRecordAt(b: Uint8Array, i: number): boolean {
  return b.length - i >= 10 && handshakeRecordAt(b, i, HandshakeType.client_hello) && b[i + 9] === 3;
}

/**
 * A ClientHello record at the very start of a stream: there the header alone is evidence enough, so
 * a first record holding only a few bytes of the hello (fragmented handshakes) is recognised too.
 */
function clientHelloStart(b: Uint8Array): boolean {
  if (b.length < 6) return false;
  const len = (b[3]! << 8) | b[4]!;
  return b[0] === ContentType.handshake && b[1] === 3 && b[2]! <= 4 && len >= 1 && len <= MAX_RECORD_FRAGMENT && b[5] === HandshakeType.client_hello;
}

/** An alert record (two-byte body, level warning or fatal). */
function alertRecordAt(b: Uint8Array, i: number): boolean {
  return b.length - i >= 7 && b[i] === ContentType.alert && b[i + 1] === 3 && b[i + 2]! <= 4 && b[i + 3] === 0 && b[i + 4] === 2 && (b[i + 5] === 1 || b[i + 5] === 2);
}

/**
 * An SSLv2-format record (2-byte header with the high bit set) carrying CLIENT-HELLO (type 1:
 * msg_type, version 0x0002 or 3.x; RFC 5246, Appendix E.2) or SERVER-HELLO (type 4: msg_type,
 * session_id_hit, certificate_type, server_version 0x0002; the SSL 2.0 draft, Section 2.6).
 */
function sslv2HelloAt(b: Uint8Array, msgType: 1 | 4): boolean {
  if (b.length < 7 || (b[0]! & 0x80) === 0 || b[2] !== msgType) return false;
  return msgType === 1 ? b[3] === 3 || (b[3] === 0 && b[4] === 2) : b[5] === 0 && b[6] === 2;
}

function indexOf(b: Uint8Array, from: number, test: (b: Uint8Array, i: number) => boolean): number {
  for (let i = from; i < b.length; i++) if (test(b, i)) return i;
  return -1;
}

const handshakeName = (t: number): string => nameOf(HANDSHAKE_TYPES, t) ?? `handshake_0x${t.toString(16).padStart(2, '0')}`;

const other = (d: Direction): Direction => (d === 'client' ? 'server' : 'client');

// ---------------------------------------------------------------------------------------------
// Per-connection state
// ---------------------------------------------------------------------------------------------

/** The record being read on one side; one object per side, reused from record to record. */
interface RecordInProgress {
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

interface Side {
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
  origin: DataOrigin;
  bytes: number;
}

interface Conn {
  readonly flow: Flow;
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
  messages: MessageEvent[];
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
}

function newSide(dir: Direction): Side {
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
    origin: { frame: 0, timestampUs: 0 },
    bytes: 0,
  };
}

function newConn(flow: Flow, keySource: KeySource): Conn {
  return {
    flow,
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
    messages: [],
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
  };
}

// ---------------------------------------------------------------------------------------------
// The analyzer
// ---------------------------------------------------------------------------------------------

/** Key logs from several sources, looked up in order: --keylog, then the capture's own. */
interface KeySource {
  readonly given: boolean;
  lookup(clientRandom: Uint8Array, label: string): Uint8Array | undefined;
  refresh(meta: CaptureMeta): void;
  errors(): number;
}

function keySource(text: string | undefined): KeySource {
  const fromOption: KeyLog | null = text === undefined ? null : parseKeyLog(text);
  let embedded: KeyLog | null = null;
  let embeddedLength = -1;
  let commentCount = -1;
  const src: { given: boolean } & KeySource = {
    given: fromOption !== null,
    lookup(cr, label) {
      return fromOption?.lookup(cr, label) ?? embedded?.lookup(cr, label);
    },
    refresh(meta) {
      if (meta.keyLog.length === embeddedLength && meta.comments.length === commentCount) return;
      embeddedLength = meta.keyLog.length;
      commentCount = meta.comments.length;
      // Decryption Secrets Blocks (draft-ietf-opsawg-pcapng, Section 4.7), and key log lines some
      // tools leave in the section comment; lines that are not key log lines are skipped.
      const commentLines = meta.comments.flatMap((c) => c.split(/\r?\n/)).filter((l) => /^[A-Z_0-9]+ [0-9a-fA-F]{64} [0-9a-fA-F]+\s*$/.test(l.trim()));
      embedded = parseKeyLog(`${meta.keyLog}\n${commentLines.join('\n')}`);
      src.given = fromOption !== null || embedded.size > 0;
    },
    errors() {
      return (fromOption?.errors.length ?? 0) + (embedded?.errors.length ?? 0);
    },
  };
  return src;
}

/**
 * Returns the capture's metadata, its TLS connections (unless `opts.onConnection` takes them as
 * they complete) and counters. `source` is a whole capture file or its chunks (see
 * `openCaptureFile`). Throws `DecodeError` when the container (pcap/pcapng) itself is broken.
 */
export async function analyzeCapture(source: AsyncIterable<Uint8Array> | Uint8Array, opts: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  const keys = keySource(opts.keyLog);
  const conns = new Map<Flow, Conn>();
  const collected: ConnectionFacts[] = [];
  let reported = 0;
  let decrypted = 0;

  const report = (c: ConnectionFacts): void => {
    reported++;
    if (c.decryption && (c.decryption.status === 'decrypted' || c.decryption.status === 'partial')) decrypted++;
    if (opts.onConnection) opts.onConnection(c);
    else collected.push(c);
  };

  const summary = await reassembleCapture(
    source,
    {
      onFlowStart(flow) {
        conns.set(flow, newConn(flow, keys));
      },
      onData(flow, tcpDir, bytes, offset, origin) {
        const c = conns.get(flow);
        if (!c) return;
        const side = c.sides[c.swap ? other(tcpDir) : tcpDir];
        side.origin = origin;
        side.bytes += bytes.length;
        if (side.mode === 'detect') {
          if (side.pendingLength === 0) side.pendingOffset = offset;
          // Held as a view while `detect` looks at it (it usually finds the hello at once and walks
          // the bytes), and copied only if it is still held afterwards.
          side.pending.push(bytes);
          side.pendingLength += bytes.length;
          detect(c);
          ownPending(c.sides.client, bytes);
          ownPending(c.sides.server, bytes);
          if (isIgnorable(c)) conns.delete(flow);
        } else if (side.mode === 'records') {
          walk(c, side, bytes);
        }
      },
      onGap(flow, tcpDir, offset, length) {
        const c = conns.get(flow);
        if (!c) return;
        const side = c.sides[c.swap ? other(tcpDir) : tcpDir];
        if (side.mode === 'records' || side.mode === 'detect') {
          if (side.mode === 'records' || side.pendingLength > 0) {
            problem(c, side.dir, 'capture-gap', `${length} bytes missing from the capture at stream offset ${offset}: the rest of this direction cannot be parsed`);
          }
          side.mode = side.mode === 'records' ? 'done' : 'ignore';
          side.pending = [];
          side.pendingLength = 0;
          if (isIgnorable(c)) conns.delete(flow);
        }
      },
      onEnd() {},
      onFlowClose(flow) {
        const c = conns.get(flow);
        if (!c) return;
        conns.delete(flow);
        if (isTls(c)) report(finish(c, keys.given));
      },
    },
    {
      ...(opts.limits ? { limits: opts.limits } : {}),
      onMeta: (meta) => keys.refresh(meta),
    },
  );
  keys.refresh(summary.meta);
  collected.sort((a, b) => a.index - b.index);
  return {
    meta: summary.meta,
    ...(opts.onConnection ? {} : { connections: collected }),
    stats: {
      packets: summary.meta.packets,
      flows: summary.tcp.flows,
      connections: reported,
      decryptedConnections: decrypted,
      decode: summary.decode,
      tcp: summary.tcp,
      keyLogErrors: keys.errors(),
    },
  };
}

export interface CapturedClientHello {
  /** The connection's index (Wireshark's tcp.stream). */
  readonly index: number;
  /** `ip:port` (`[ip]:port` for IPv6). */
  readonly client: string;
  readonly server: string;
  /** The exact bytes of the record(s) carrying the ClientHello, headers included. */
  readonly helloRecord: Uint8Array;
  /** The ClientHello handshake message (header included), or the SSLv2 record for SSLv2 hellos. */
  readonly helloMessage: Uint8Array;
}

/** Returns the first ClientHello of every TLS connection in the capture, in connection order. */
export async function listClientHellos(source: AsyncIterable<Uint8Array> | Uint8Array): Promise<CapturedClientHello[]> {
  const out: CapturedClientHello[] = [];
  await analyzeCapture(source, {
    onConnection(c) {
      if (!c.clientHello) return;
      out.push({ index: c.index, client: endpointText(c.client), server: endpointText(c.server), helloRecord: c.clientHello.records, helloMessage: c.clientHello.message });
    },
  });
  return out.sort((a, b) => a.index - b.index);
}

/** Returns `ip:port`, with IPv6 addresses in brackets (RFC 3986, Section 3.2.2). */
export function endpointText(e: Endpoint): string {
  return e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`;
}

// ---------------------------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------------------------

/** Replaces the view `bytes` by a copy if the side still holds it (see `onData`). */
function ownPending(s: Side, bytes: Uint8Array): void {
  const i = s.pending.lastIndexOf(bytes);
  if (i >= 0) s.pending[i] = bytes.slice();
}

function joinedPending(s: Side): Uint8Array {
  if (s.pending.length > 1) s.pending = [concatBytes(...s.pending)];
  return s.pending[0] ?? new Uint8Array(0);
}

/** The flow can be forgotten: neither side is (or can still become) TLS. */
function isIgnorable(c: Conn): boolean {
  const { client, server } = c.sides;
  return client.mode === 'ignore' && server.mode === 'ignore' && !isTls(c);
}

/** The connection is reported: TLS was seen on either side. */
function isTls(c: Conn): boolean {
  return c.clientHello !== null || c.serverHello !== null || c.sides.client.tlsStart !== null || c.sides.server.tlsStart !== null;
}

function startRecords(c: Conn, s: Side, at: number): void {
  const buf = joinedPending(s);
  s.tlsStart = s.pendingOffset + at;
  s.mode = 'records';
  s.pending = [];
  s.pendingLength = 0;
  if (at < buf.length) walk(c, s, buf.subarray(at));
}

function ignoreSide(s: Side): void {
  s.mode = 'ignore';
  s.pending = [];
  s.pendingLength = 0;
}

/** Looks for the start of TLS in each side's held bytes, and starts parsing where found. */
function detect(c: Conn): void {
  const cs = c.sides.client;
  const ss = c.sides.server;
  if (cs.mode === 'detect' && cs.pendingLength > 0) {
    if (maybeSwap(c)) return detect(c);
    const b = joinedPending(cs);
    if (cs.pendingOffset === 0 && sslv2HelloAt(b, 1)) {
      const length = ((b[0]! & 0x7f) << 8) | b[1]!;
      if (b.length >= 2 + length) readSslV2Hello(c, cs, 2 + length);
      else if (b.length >= MAX_TLS_SEARCH_BYTES) ignoreSide(cs);
    } else {
      // At offset 0, or after a plaintext preamble (STARTTLS, HTTP CONNECT, SOCKS). A match needs
      // ten bytes, so the last nine are looked at again when more arrive.
      const at = cs.pendingOffset === 0 && clientHelloStart(b) ? 0 : indexOf(b, Math.max(0, cs.scanned - 9), clientHelloRecordAt);
      cs.scanned = b.length;
      if (at >= 0) startRecords(c, cs, at);
      else if (b.length >= MAX_TLS_SEARCH_BYTES) ignoreSide(cs);
    }
  }
  if (ss.mode === 'detect' && ss.pendingLength > 0) {
    const b = joinedPending(ss);
    const clientAtZero = cs.tlsStart === 0;
    if (clientAtZero && ss.pendingOffset === 0) {
      if (b.length < 3) return;
      if (isKnownContentType(b[0]!) && b[1] === 3) startRecords(c, ss, 0);
      else if (sslv2HelloAt(b, 4)) {
        c.sslv2ServerHello = true;
        logMessage(c, ss, 'sslv2_server_hello', false);
        ignoreSide(ss);
      } else {
        // RFC 8446, Section 5.1 leaves a server no other first bytes: this answer is not TLS.
        c.serverEvidence = b.slice(0, MAX_EVIDENCE_BYTES);
        problem(c, 'server', 'not-tls', 'the server answered the ClientHello with bytes that are not a TLS record');
        ignoreSide(ss);
        ss.mode = 'done';
      }
    } else {
      // After a preamble, or with no ClientHello seen: the server's TLS starts with its ServerHello
      // or an alert (the capture may also have missed the client's first segment).
      const at = indexOf(b, Math.max(0, ss.scanned - 6), (x, i) => handshakeRecordAt(x, i, HandshakeType.server_hello) || (cs.tlsStart !== null && alertRecordAt(x, i)));
      ss.scanned = b.length;
      if (at >= 0 && (cs.tlsStart !== null || at === 0)) startRecords(c, ss, at);
      else if (b.length >= MAX_TLS_SEARCH_BYTES || (cs.mode === 'ignore' && b.length >= 6)) ignoreSide(ss);
    }
  }
}

/**
 * Swaps the TLS roles when the TCP roles were only guessed (no SYN in the capture) and the flow's
 * "server" is the one whose stream starts with a ClientHello. Returns true when it swapped.
 */
function maybeSwap(c: Conn): boolean {
  const f = c.flow;
  if (c.swap || f.roles === 'syn' || f.roles === 'syn-ack') return false;
  const cs = c.sides.client;
  const ss = c.sides.server;
  if (ss.mode !== 'detect' || ss.pendingOffset !== 0 || ss.pendingLength < 10 || cs.pendingOffset !== 0 || cs.pendingLength < 6) return false;
  if (!clientHelloRecordAt(joinedPending(ss), 0) || !handshakeRecordAt(joinedPending(cs), 0, HandshakeType.server_hello)) return false;
  c.swap = true;
  c.sides.client = { ...ss, dir: 'client', helloRecords: [], scanned: 0 };
  c.sides.server = { ...cs, dir: 'server', helloRecords: null, scanned: 0 };
  return true;
}

/** Reads the SSLv2-compatible ClientHello of `length` bytes at the start of the side's bytes. */
function readSslV2Hello(c: Conn, s: Side, length: number): void {
  const b = joinedPending(s);
  try {
    const record = factCopy(b.subarray(0, length));
    const hello = readSslV2ClientHello(new Reader(record, 'SSLv2ClientHello'));
    c.clientHello = { format: 'sslv2', hello: { ...hello, raw: record }, message: record, records: record, frame: s.origin.frame, timestampUs: s.origin.timestampUs };
    logMessage(c, s, 'sslv2_client_hello', false);
    lookUpKeys(c, record.subarray(2));
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    problem(c, s.dir, 'bad-record', `SSLv2-compatible ClientHello: ${e.message}`);
    c.clientBroken = true;
  }
  s.helloRecords = null;
  // TLS records may follow an SSLv2 hello in the same stream.
  startRecords(c, s, length);
  s.tlsStart = 0;
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

function problem(c: Conn, from: Direction, code: ConnectionProblem['code'], message: string): void {
  if (c.problems.length < MAX_PROBLEMS_PER_CONNECTION) c.problems.push({ from, code, message });
}

function logMessage(c: Conn, s: Side, type: string, decrypted: boolean): void {
  if (c.messages.length < MAX_MESSAGES_PER_CONNECTION) c.messages.push({ from: s.dir, type, decrypted, frame: s.origin.frame, timestampUs: s.origin.timestampUs });
}

const tls13 = (c: Conn): boolean => c.version !== null && isTls13Version(c.version);

/** True when the ClientHello lists TLS 1.3 (or a draft) in supported_versions (RFC 8446, Section 4.2.1). */
function offersTls13(c: Conn): boolean {
  const ch = c.clientHello;
  return ch?.format === 'tls' && (clientSupportedVersions(ch.hello) ?? []).some(isTls13Version);
}

/** Whether a record's body is worth copying: what we parse or decrypt; application data is skipped. */
function wantBody(c: Conn, s: Side, type: number, length: number): boolean {
  switch (type) {
    case ContentType.change_cipher_spec:
    case ContentType.alert:
      return true;
    case ContentType.handshake:
      if (s.encrypted) return s.tls12 !== null && !s.tls12Failed;
      return !s.handshakeStopped && s.handshakeBytes + length <= MAX_HANDSHAKE_BYTES_PER_DIRECTION;
    case ContentType.application_data:
      if (tls13(c)) return !s.handshakeDone && (s.tls13 !== null || s.early !== null) && s.failedDecrypts < MAX_FAILED_DECRYPTS_PER_DIRECTION;
      // TLS 1.0 CBC chains each record's IV from the previous record's last block.
      return s.tls12 !== null && !s.tls12Failed && s.tls12.cipher.kind === 'cbc' && s.tls12.version === 0x0301;
    default:
      return false;
  }
}

/**
 * Bytes per slab of `transientBytes`: a few dozen split record bodies (a certificate flight spans
 * two or three segments) per slab; a body too large for a quarter of it gets a buffer of its own.
 */
const TRANSIENT_SLAB_BYTES = 64 * 1024;

/**
 * Empty slabs kept for reuse. Split bodies are released within a connection's lifetime, so a
 * capture cycles through a handful of slabs; four (256 KiB) cover that and are all that stays
 * allocated after an analysis.
 */
const MAX_FREE_SLABS = 4;

/** A slab of `transientBytes` and how many of the bodies carved from it are still in use. */
interface Slab {
  readonly bytes: Uint8Array;
  used: number;
  live: number;
}

const freeSlabs: Slab[] = [];
let slab: Slab | null = null;

/**
 * Returns `n` bytes for a record body gathered from several deliveries, and the slab they come
 * from (null for a large body with a buffer of its own), to hand back with `releaseTransient` once
 * the record is handled. The bodies are only read while `onRecord` runs (the handlers copy what
 * they keep: hellos, certificates, partial handshake messages), so a slab whose bodies are all
 * released is reused: fresh memory for every split body (an ArrayBuffer each, then a new 64 KiB
 * slab every few connections) showed in the profiles, page faults included.
 */
function transientBytes(n: number): { body: Uint8Array; slab: Slab | null } {
  if (n > TRANSIENT_SLAB_BYTES / 4) return { body: new Uint8Array(n), slab: null };
  if (slab === null || slab.used + n > slab.bytes.length) {
    if (slab !== null && slab.live === 0 && freeSlabs.length < MAX_FREE_SLABS) freeSlabs.push(slab);
    slab = freeSlabs.pop() ?? { bytes: new Uint8Array(TRANSIENT_SLAB_BYTES), used: 0, live: 0 };
    slab.used = 0;
  }
  const body = slab.bytes.subarray(slab.used, slab.used + n);
  slab.used += n;
  slab.live++;
  return { body, slab };
}

/** Hands back a body of `transientBytes`: its slab is reused once none of its bodies is in use. */
function releaseTransient(from: Slab): void {
  from.live--;
  if (from.live === 0 && from !== slab && freeSlabs.length < MAX_FREE_SLABS) freeSlabs.push(from);
}

/** Walks records in `bytes`, keeping the bodies we need; stops the side on a header that is not TLS. */
function walk(c: Conn, s: Side, bytes: Uint8Array): void {
  let p = 0;
  while (p < bytes.length && s.mode === 'records') {
    if (c.sslv2ServerHello) {
      // SSL 2.0 was negotiated: the rest of the conversation is SSLv2 records, not TLS.
      s.mode = 'done';
      return;
    }
    if (!s.inRecord) {
      const n = Math.min(RECORD_HEADER_LENGTH - s.headerLength, bytes.length - p);
      for (let i = 0; i < n; i++) s.header[s.headerLength + i] = bytes[p + i]!;
      s.headerLength += n;
      p += n;
      if (s.headerLength < RECORD_HEADER_LENGTH) break;
      const h = s.header;
      const type = h[0]!;
      const length = (h[3]! << 8) | h[4]!;
      if (!isKnownContentType(type) || h[1] !== 3 || length > MAX_RECORD_FRAGMENT) {
        problem(c, s.dir, 'bad-record', `bytes ${Buffer.from(h).toString('hex')} are not a TLS record header (type ${type}, length ${length})`);
        if (s.dir === 'client' && c.clientHello === null) c.clientBroken = true;
        if (s.dir === 'server' && c.serverHello === null && c.serverEvidence === null) c.serverEvidence = h.slice();
        s.mode = 'done';
        return;
      }
      const keep = wantBody(c, s, type, length);
      const version = (h[1]! << 8) | h[2]!;
      const next = s.record;
      if (next === null) s.record = { header: h, type, version, remaining: length, keep, body: null, slab: null, filled: 0 };
      else {
        next.header = h;
        next.type = type;
        next.version = version;
        next.remaining = length;
        next.keep = keep;
        next.body = null;
        next.slab = null;
        next.filled = 0;
      }
      s.inRecord = true;
    }
    const r = s.record!;
    const n = Math.min(r.remaining, bytes.length - p);
    // A body wholly inside these bytes is handed on as a view (handlers copy what they keep); only
    // a body split across deliveries is copied, into one buffer of the record's size. Copying every
    // body was ~8% of what a capture analysis allocated (V8 heap sampling).
    const inPlace = r.filled === 0 && n === r.remaining;
    if (r.keep && n > 0 && !inPlace) {
      if (r.body === null) {
        const t = transientBytes(r.filled + r.remaining);
        r.body = t.body;
        r.slab = t.slab;
      }
      r.body.set(bytes.subarray(p, p + n), r.filled);
      r.filled += n;
    }
    r.remaining -= n;
    p += n;
    if (r.remaining === 0) {
      s.inRecord = false;
      s.headerLength = 0;
      const body = !r.keep ? null : inPlace ? bytes.subarray(p - n, p) : r.body!;
      const from = r.slab;
      r.body = null;
      r.slab = null;
      onRecord(c, s, r, body);
      if (from !== null) releaseTransient(from);
    }
  }
}

function onRecord(c: Conn, s: Side, r: RecordInProgress, body: Uint8Array | null): void {
  if (s.encrypted) s.recordsAfterCcs++;
  switch (r.type) {
    case ContentType.change_cipher_spec:
      logMessage(c, s, 'change_cipher_spec', false);
      // RFC 8446, Appendix D.4: in TLS 1.3 a ChangeCipherSpec is only for middlebox compatibility,
      // and a TLS 1.3 client may send it before any ServerHello (right after its first hello).
      if (!s.encrypted && (c.serverHello !== null ? !tls13(c) : !offersTls13(c))) {
        s.encrypted = true;
        s.recordsAfterCcs = 0;
        startTls12(c, s);
      } else if (s.encrypted) {
        // A renegotiation switches to keys from a new master secret we do not follow.
        s.tls12 = null;
      }
      return;
    case ContentType.alert:
      onAlertRecord(c, s, r, body);
      return;
    case ContentType.handshake:
      if (s.encrypted) {
        onProtectedTls12(c, s, r, body);
        return;
      }
      if (body === null) {
        if (!s.handshakeStopped) {
          s.handshakeStopped = true;
          problem(c, s.dir, 'handshake-too-large', `more than ${MAX_HANDSHAKE_BYTES_PER_DIRECTION} handshake bytes: the rest is not parsed`);
        }
        return;
      }
      if (s.handshakeStopped) return;
      s.handshakeBytes += body.length;
      if (s.helloRecords) s.helloRecords.push(factCopy(r.header, body));
      feedHandshake(c, s, s.assembler, body, false);
      return;
    case ContentType.application_data:
      if (tls13(c) && c.serverHello) s.protectedAfterServerHello++;
      if (c.serverHello === null && s.dir === 'client') s.earlyRecords++;
      if (tls13(c) && body !== null) {
        onProtectedTls13(c, s, r, body);
        return;
      }
      advanceTls12(s, body);
      if (!s.loggedApplicationData) {
        s.loggedApplicationData = true;
        logMessage(c, s, 'application_data', false);
      }
      return;
    case ContentType.heartbeat:
      advanceTls12(s, body);
      logMessage(c, s, 'heartbeat', false);
      return;
  }
}

/** Counts a protected TLS 1.0-1.2 record we do not open, so the next one gets the right sequence number. */
function advanceTls12(s: Side, body: Uint8Array | null): void {
  const p = s.tls12;
  if (!p || s.tls12Failed || !s.encrypted) return;
  p.seq += 1n;
  if (p.cipher.kind === 'cbc' && p.version === 0x0301) {
    if (body && body.length >= p.cipher.blockSize) p.iv = body.slice(body.length - p.cipher.blockSize);
    else s.tls12Failed = true;
  }
}

function feedHandshake(c: Conn, s: Side, assembler: HandshakeAssembler, body: Uint8Array, decrypted: boolean): void {
  let frags;
  try {
    frags = assembler.push(body, 0);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    problem(c, s.dir, 'handshake-decode-error', e.message);
    s.handshakeStopped = true;
    return;
  }
  for (const f of frags) {
    // The hellos are kept, and their parsed fields alias the bytes they are read from, which may be
    // a view of the capture (see `walk`): read them from a copy of their own.
    const raw = f.msgType === HandshakeType.client_hello || f.msgType === HandshakeType.server_hello ? factCopy(f.raw) : f.raw;
    const ctx: HandshakeContext = (c.context ??= {
      ...(c.version !== null ? { version: c.version } : {}),
      ...(c.cipherSuite !== null ? { cipherSuite: c.cipherSuite } : {}),
    });
    let m: HandshakeMessage | null = null;
    try {
      m = readHandshakeMessage(new Reader(raw, '', 0), ctx);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      m = f.msgType === HandshakeType.server_hello ? readDraftServerHello(raw) : null;
      if (m === null) {
        problem(c, s.dir, 'handshake-decode-error', `${handshakeName(f.msgType)}: ${e.message}`);
        if (s.dir === 'client' && f.msgType === HandshakeType.client_hello && c.clientHello === null) c.clientBroken = true;
        if (s.dir === 'server' && f.msgType === HandshakeType.server_hello && c.serverHello === null && c.serverEvidence === null) c.serverEvidence = raw.slice(0, MAX_EVIDENCE_BYTES);
      }
    }
    onMessage(c, s, f.msgType, raw, m, decrypted);
  }
}

// ---------------------------------------------------------------------------------------------
// Handshake messages
// ---------------------------------------------------------------------------------------------

/**
 * The handshake messages of a connection whose secrets the key log has, for the Finished checks.
 * Until the ServerHello names the hash, the messages are held (the hellos, copies of their own);
 * from then on they go straight into running hashes, which each Finished check copies and digests
 * (copying every message, then hashing the list at each Finished, was most of `checkFinished`, 8.5%
 * of a key-log analysis profile).
 */
interface Transcript {
  held: Uint8Array[] | null;
  /** The running hashes once the ServerHello is in: see `startTranscriptHashes`. */
  hashes: readonly Hash[] | null;
  bytes: number;
}

/** Adds a handshake message; `owned` when `raw` is a copy of its own (the hellos, see `feedHandshake`). */
function pushTranscript(c: Conn, raw: Uint8Array, owned: boolean): void {
  const t = c.transcript;
  if (!t) return;
  t.bytes += raw.length;
  if (t.bytes > MAX_TRANSCRIPT_BYTES) c.transcript = null;
  else if (t.hashes) for (const h of t.hashes) h.update(raw);
  else t.held!.push(owned ? raw : raw.slice());
}

/**
 * Switches the transcript to running hashes once the ServerHello fixed version and suite: the
 * suite's hash for TLS 1.3 (RFC 8446, Section 4.4.1; after a HelloRetryRequest, ClientHello1 is
 * replaced by message_hash), the PRF's hash for TLS 1.2, MD5 and SHA-1 for TLS 1.0/1.1 (RFC 5246
 * and RFC 2246, Section 7.4.9). Without a TLS 1.3 hash for the suite nothing can be checked, and the
 * transcript is dropped.
 */
function startTranscriptHashes(c: Conn): void {
  const t = c.transcript;
  if (!t || t.hashes || c.version === null || c.cipherSuite === null) return;
  const held = t.held!;
  t.held = null;
  if (tls13(c)) {
    const hash = hashForSuite(c.cipherSuite);
    if (hash === null) {
      c.transcript = null;
      return;
    }
    const h = createHash(hash);
    held.forEach((m, i) => h.update(i === 0 && c.helloRetryRequest ? messageHash(hash, m) : m));
    t.hashes = [h];
    return;
  }
  t.hashes = tls12HandshakeHashes(c.version, c.cipherSuite).map((name) => {
    const h = createHash(name);
    for (const m of held) h.update(m);
    return h;
  });
}

/** Returns the transcript hash so far (the digests concatenated for TLS 1.0/1.1), leaving the running hashes going. */
function transcriptDigest(t: Transcript): Uint8Array {
  const hashes = t.hashes!;
  if (hashes.length === 1) return digestBytes(hashes[0]!.copy());
  return concatBytes(...hashes.map((h) => digestBytes(h.copy())));
}

function onMessage(c: Conn, s: Side, msgType: number, raw: Uint8Array, m: HandshakeMessage | null, decrypted: boolean): void {
  const hrr = m?.kind === 'server_hello' && isHelloRetryRequest(m.body);
  logMessage(c, s, hrr ? 'hello_retry_request' : handshakeName(msgType), decrypted);
  if (decrypted) c.decryptedMessages.push(handshakeName(msgType));

  if (msgType === HandshakeType.finished) {
    if (m?.kind === 'finished' && decrypted) {
      s.finished = { verifyData: m.verifyData.slice(), verified: checkFinished(c, s, m.verifyData) };
      if (tls13(c)) s.handshakeDone = true;
    }
  }
  // RFC 5246, Section 7.4.9: HelloRequest is not part of the transcript.
  if (msgType !== HandshakeType.hello_request) pushTranscript(c, raw, msgType === HandshakeType.client_hello || msgType === HandshakeType.server_hello);

  if (!m) return;
  switch (m.kind) {
    case 'client_hello': {
      if (s.dir !== 'client') return;
      const held = s.helloRecords;
      // Each held record is a copy of its own already; a hello in one record needs no second copy.
      const records = held ? (held.length === 1 ? held[0]! : factCopy(...held)) : factCopy(raw);
      s.helloRecords = null;
      // `raw` is already a copy of its own (feedHandshake).
      const fact: ClientHelloFact = { format: 'tls', hello: m.body, message: raw, records, frame: s.origin.frame, timestampUs: s.origin.timestampUs };
      if (c.clientHello === null) {
        c.clientHello = fact;
        lookUpKeys(c, raw);
      } else if (c.retryClientHello === null && c.serverHello === null) {
        // RFC 8446, Section 4.1.2: a second ClientHello before any ServerHello answers a
        // HelloRetryRequest (even when the capture missed the server's side).
        c.retryClientHello = fact;
      }
      return;
    }
    case 'server_hello': {
      if (s.dir !== 'server') return;
      const fact: ServerHelloFact = { hello: m.body, message: raw, frame: s.origin.frame, timestampUs: s.origin.timestampUs };
      if (hrr) {
        if (c.helloRetryRequest === null && c.serverHello === null) {
          c.helloRetryRequest = fact;
          // Collect the records of the second ClientHello too.
          c.sides.client.helloRecords = [];
        }
        return;
      }
      if (c.serverHello !== null) return;
      c.serverHello = fact;
      c.version = negotiatedVersion(m.body);
      c.cipherSuite = m.body.cipherSuite;
      c.context = null;
      startTranscriptHashes(c);
      if (tls13(c)) startTls13(c);
      else if (c.sides.client.encrypted && c.sides.client.recordsAfterCcs === 0) {
        // A ChangeCipherSpec before the ServerHello belongs to no TLS 1.2 handshake: ignore it.
        c.sides.client.encrypted = false;
      }
      return;
    }
    case 'certificate':
      if (s.dir === 'server' && c.certificates.length === 0) {
        c.certificates = copyAll(m.body.entries.slice(0, MAX_CERTIFICATES).map((e) => e.der));
        c.certificatesDecrypted = decrypted;
      } else if (s.dir === 'client' && c.clientCertificates.length === 0) {
        c.clientCertificates = copyAll(m.body.entries.slice(0, MAX_CERTIFICATES).map((e) => e.der));
      }
      return;
    default:
      return;
  }
}

/**
 * Bytes per slab of `factBytes`: the hellos, hello records and certificate chain of a few
 * connections (3-4 KB each in a typical capture), so that a consumer keeping one connection's
 * facts keeps at most this much with them.
 */
const FACT_SLAB_BYTES = 16 * 1024;

let factSlab = new Uint8Array(0);
let factSlabUsed = 0;

/**
 * Returns `n` fresh bytes (never handed out before) for a copy that a fact keeps: a view into a
 * slab shared with the facts of the connections around it, so that the hellos, their records and
 * the certificates cost no ArrayBuffer each (creating and collecting a few per connection showed in
 * the profiles). Copies larger than a quarter slab get a buffer of their own.
 */
function factBytes(n: number): Uint8Array {
  if (n > FACT_SLAB_BYTES / 4) return new Uint8Array(n);
  if (factSlabUsed + n > factSlab.length) {
    factSlab = new Uint8Array(FACT_SLAB_BYTES);
    factSlabUsed = 0;
  }
  const out = factSlab.subarray(factSlabUsed, factSlabUsed + n);
  factSlabUsed += n;
  return out;
}

/** Returns a copy of `parts` joined, for a fact (see `factBytes`). */
function factCopy(...parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = factBytes(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Returns copies of `parts`, made in one allocation (see `factBytes`), so none aliases the capture
 * (a chain is kept whole or not at all; one buffer instead of one per certificate).
 */
function copyAll(parts: readonly Uint8Array[]): Uint8Array[] {
  let total = 0;
  for (const p of parts) total += p.length;
  const buf = factBytes(total);
  let o = 0;
  return parts.map((p) => {
    buf.set(p, o);
    o += p.length;
    return buf.subarray(o - p.length, o);
  });
}

// ---------------------------------------------------------------------------------------------
// Alerts and completion
// ---------------------------------------------------------------------------------------------

/** RFC 8446, Section 4.4.4 / RFC 5246, Section 7.4.9: the handshake is over once both Finished are sent. */
function handshakeComplete(c: Conn): boolean {
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

function addAlert(c: Conn, s: Side, level: number | null, description: number | null, encrypted: boolean, decrypted: boolean): void {
  const a: AlertFact = { from: s.dir, level, description, encrypted, decrypted, frame: s.origin.frame, timestampUs: s.origin.timestampUs };
  if (c.alerts.length < MAX_ALERTS_PER_CONNECTION) c.alerts.push(a);
  if (c.failureAlert === null && !handshakeComplete(c)) c.failureAlert = a;
  logMessage(c, s, 'alert', decrypted);
}

function onAlertRecord(c: Conn, s: Side, r: RecordInProgress, body: Uint8Array | null): void {
  let plain = body;
  let decrypted = false;
  if (s.encrypted) {
    plain = null;
    if (s.tls12 && !s.tls12Failed && body) {
      try {
        plain = decompress(c, s, decryptTls12Record(s.tls12, r.type, r.version, body));
        decrypted = plain !== null;
        s.decryptedRecords++;
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        s.tls12Failed = true;
      }
    }
  }
  // RFC 5246, Section 7.2: struct { AlertLevel level; AlertDescription description; } Alert;
  if (plain && plain.length >= 2 && plain.length % 2 === 0) {
    for (let i = 0; i < plain.length; i += 2) addAlert(c, s, plain[i]!, plain[i + 1]!, s.encrypted, decrypted);
  } else {
    addAlert(c, s, null, null, true, false);
  }
}

// ---------------------------------------------------------------------------------------------
// Decryption
// ---------------------------------------------------------------------------------------------

/**
 * Returns ClientHello.random; for an SSLv2-compatible hello, the challenge right-justified in 32
 * bytes with leading zeros (RFC 5246, Appendix E.2).
 */
function clientRandom(ch: ClientHelloFact): Uint8Array {
  if (ch.format === 'tls') return ch.hello.random;
  const out = new Uint8Array(32);
  const chal = ch.hello.challenge.subarray(Math.max(0, ch.hello.challenge.length - 32));
  out.set(chal, 32 - chal.length);
  return out;
}

/**
 * Notes which secrets the key log holds for this connection, and starts the transcript if any with
 * `clientHello`: the handshake message, or for an SSLv2 hello the record without its 2-byte header
 * (RFC 5246, Appendix E.2: the hash covers the CLIENT-HELLO message as sent).
 */
function lookUpKeys(c: Conn, clientHello: Uint8Array): void {
  const keys = c.keySource;
  if (!keys.given || c.clientHello === null) return;
  const cr = clientRandom(c.clientHello);
  if (keys.lookup(cr, KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET) || keys.lookup(cr, KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET)) c.secrets = 'tls13';
  const master = keys.lookup(cr, KeyLogLabel.CLIENT_RANDOM);
  if (master) {
    c.master = master;
    if (c.secrets === 'none') c.secrets = 'tls12';
  }
  if (c.secrets !== 'none') {
    // `clientHello` is a copy of its own already (the hello's message, or a view of its own record copy).
    c.transcript = { held: [clientHello], hashes: null, bytes: clientHello.length };
    // A ServerHello captured before the ClientHello's last segment already fixed the hash.
    startTranscriptHashes(c);
  }
}

/** RFC 8446, Section 7.1: TLS 1.3 and drafts 25-28 (which put the record header in the AEAD's additional data). */
function decryptableTls13(version: number): boolean {
  return version === 0x0304 || (version >= 0x7f19 && version <= 0x7f1c);
}

function startTls13(c: Conn): void {
  const keys = c.keySource;
  if (c.secrets === 'none' || c.clientHello?.format !== 'tls' || c.cipherSuite === null || c.version === null) return;
  if (!decryptableTls13(c.version)) {
    c.decryptionUnsupported = `TLS 1.3 draft 0x${c.version.toString(16)} protects records differently`;
    return;
  }
  const cr = c.clientHello.hello.random;
  c.sides.server.tls13 = tls13Protection(keys, cr, c.cipherSuite, 'server-handshake');
  c.sides.client.tls13 = tls13Protection(keys, cr, c.cipherSuite, 'client-handshake');
  const early = tls13Protection(keys, cr, c.cipherSuite, 'client-early');
  // The 0-RTT records sent before the ServerHello used the early keys' first sequence numbers.
  if (early) early.state.seq = BigInt(c.sides.client.earlyRecords);
  c.sides.client.early = early;
}

function onProtectedTls13(c: Conn, s: Side, r: RecordInProgress, body: Uint8Array): void {
  const attempt = (p: Tls13Protection | null) => {
    if (!p) return null;
    try {
      return decryptRecord(p.state, r.header, body);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      return null;
    }
  };
  const inner = attempt(s.handshakeDone ? null : s.tls13);
  if (inner) {
    s.decryptedRecords++;
    if (inner.contentType === ContentType.handshake) feedHandshake(c, s, (s.decryptedAssembler ??= createHandshakeAssembler()), inner.content, true);
    else if (inner.contentType === ContentType.alert && inner.content.length === 2) addAlert(c, s, inner.content[0]!, inner.content[1]!, true, true);
    else logMessage(c, s, 'application_data', true);
    return;
  }
  const early = s.dir === 'client' && !s.handshakeDone ? attempt(s.early) : null;
  if (early) {
    s.decryptedRecords++;
    // RFC 8446, Section 4.5: EndOfEarlyData is the only handshake message under the early keys.
    if (early.contentType === ContentType.handshake) feedHandshake(c, s, (s.decryptedAssembler ??= createHandshakeAssembler()), early.content, true);
    else logMessage(c, s, 'early_data', true);
    return;
  }
  if (s.tls13 || s.early) {
    s.failedDecrypts++;
    s.missed = true;
  }
  if (!s.loggedApplicationData) {
    s.loggedApplicationData = true;
    logMessage(c, s, 'application_data', false);
  }
}

function startTls12(c: Conn, s: Side): void {
  if (c.master === null || c.version === null || c.cipherSuite === null || c.clientHello === null || !c.serverHello) return;
  // RFC 7366, Section 2: encrypt-then-MAC applies when both hellos carry the extension.
  const etm =
    c.clientHello.format === 'tls' &&
    findExtensionByType(c.clientHello.hello.extensions, ExtensionType.encrypt_then_mac) !== undefined &&
    findExtensionByType(c.serverHello.hello.extensions, ExtensionType.encrypt_then_mac) !== undefined;
  // Both directions' keys come from one key block: derived at the first ChangeCipherSpec, kept for
  // the other side's (deriving it per side doubled the PRF's HMACs).
  const made = (c.tls12Keys ??= tls12Protection(c.version, c.cipherSuite, c.master, clientRandom(c.clientHello), c.serverHello.hello.random, etm));
  if (made === 'version') {
    c.decryptionUnsupported = `version 0x${c.version.toString(16).padStart(4, '0')} has no TLS PRF (SSL 3.0 is not decrypted)`;
    return;
  }
  if (made === 'cipher-suite') {
    c.decryptionUnsupported = `cipher suite 0x${c.cipherSuite.toString(16).padStart(4, '0')} cannot be opened here (stream or legacy cipher)`;
    return;
  }
  s.tls12 = made[s.dir];
}

function onProtectedTls12(c: Conn, s: Side, r: RecordInProgress, body: Uint8Array | null): void {
  if (s.tls12 && !s.tls12Failed && body) {
    try {
      const plain = decompress(c, s, decryptTls12Record(s.tls12, r.type, r.version, body));
      s.decryptedRecords++;
      if (plain) {
        feedHandshake(c, s, (s.decryptedAssembler ??= createHandshakeAssembler()), plain, true);
        return;
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      s.tls12Failed = true;
      problem(c, s.dir, 'decrypt-failed', `the key log's master secret does not open this connection's records: ${e.message}`);
    }
  }
  logMessage(c, s, 'encrypted_handshake', false);
}

/**
 * Returns the TLSPlaintext of a decrypted TLSCompressed fragment, or null when we cannot follow the
 * compression. RFC 3749, Section 2: DEFLATE state starts afresh at each ChangeCipherSpec and every
 * record ends with a sync flush, so the first protected record of a side (its Finished) inflates on
 * its own; later ones need the stream's history, which we do not keep.
 */
function decompress(c: Conn, s: Side, content: Uint8Array): Uint8Array | null {
  const method = c.serverHello?.hello.compressionMethod ?? 0;
  if (method === 0) return content;
  if (method !== 1 || s.decryptedRecords > 0) return null;
  try {
    const out = inflateSync(content, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return null;
  }
}

/** Returns whether a decrypted Finished matches the transcript, or null when it cannot be checked. */
function checkFinished(c: Conn, s: Side, verifyData: Uint8Array): boolean | null {
  const t = c.transcript;
  // The version is set by the ServerHello, which also started the running hashes.
  if (!t || !t.hashes || c.version === null || c.cipherSuite === null) return null;
  const equal = (a: Uint8Array): boolean => a.length === verifyData.length && a.every((x, i) => x === verifyData[i]);
  if (tls13(c)) {
    const p = s.tls13;
    if (!p || c.sides.client.missed || c.sides.server.missed) return null;
    // The running hash is the suite's, as p.hash is (both from c.cipherSuite).
    return equal(finishedVerifyData(p.hash, p.secret, transcriptDigest(t)));
  }
  if (c.master === null) return null;
  try {
    return equal(tls12FinishedVerifyData(c.version, c.cipherSuite, c.master, s.dir, transcriptDigest(t)));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

function offered(c: Conn): { versions: (v: number) => boolean; suites: readonly number[] } | null {
  const ch = c.retryClientHello ?? c.clientHello;
  if (!ch) return null;
  if (ch.format === 'sslv2') {
    // RFC 5246, Appendix E.2: V2CipherSpecs whose first byte is zero are TLS cipher suites.
    return { versions: (v) => v <= ch.hello.version, suites: ch.hello.cipherSpecs.filter((s) => s >> 16 === 0) };
  }
  const listed = clientSupportedVersions(ch.hello);
  const legacy = ch.hello.legacyVersion;
  return { versions: listed ? (v) => listed.includes(v) : (v) => v <= legacy, suites: ch.hello.cipherSuites };
}

function classify(c: Conn, end: EndFact): CaptureOutcome {
  if (c.failureAlert) return 'alert';
  if (c.clientBroken || c.serverEvidence !== null) return 'malformed';
  if (c.serverHello) {
    const o = offered(c);
    const sh = c.serverHello.hello;
    if (o && (!o.versions(negotiatedVersion(sh)) || !o.suites.includes(sh.cipherSuite))) return 'mismatch';
    if (handshakeComplete(c)) return 'negotiated';
  } else if (c.sslv2ServerHello) {
    return 'negotiated';
  }
  return end.kind === 'rst' ? 'reset' : end.kind === 'fin' ? 'closed' : 'timeout';
}

function endOf(c: Conn): EndFact {
  const f = c.flow;
  const map = (d: Direction): Direction => (c.swap ? other(d) : d);
  const ev = f.flags.find((x) => x.kind === 'rst') ?? f.flags.find((x) => x.kind === 'fin');
  const ts = ev ? ev.timestampUs : f.lastTimestampUs;
  const before = ev ? c.messages.filter((m) => m.frame <= ev.frame) : c.messages;
  const last = before[before.length - 1] ?? null;
  return {
    kind: ev ? (ev.kind as 'fin' | 'rst') : 'open',
    by: ev ? map(ev.from) : null,
    frame: ev ? ev.frame : null,
    timestampUs: ts,
    afterMessage: last?.type ?? null,
    afterMessageFrom: last?.from ?? null,
    msAfterMessage: last ? (ts - last.timestampUs) / 1000 : null,
    msSinceStart: (ts - f.firstTimestampUs) / 1000,
  };
}

function decryptionOf(c: Conn, keysGiven: boolean): DecryptionFacts | null {
  if (!keysGiven) return null;
  const cs = c.sides.client;
  const ss = c.sides.server;
  // One literal with the fields in a fixed order (an object spread per connection showed in the profile).
  const facts = (status: DecryptionFacts['status'], detail: string | null): DecryptionFacts => ({
    keys: c.secrets,
    clientFinished: cs.finished,
    serverFinished: ss.finished,
    messages: c.decryptedMessages,
    status,
    detail,
  });
  if (c.secrets === 'none') return facts('no-keys', c.clientHello ? 'the key log has no secret for this client random' : 'no ClientHello, so no client random to look up');
  if (c.decryptionUnsupported) return facts('unsupported', c.decryptionUnsupported);
  const opened = cs.decryptedRecords + ss.decryptedRecords;
  if (cs.finished && ss.finished) return facts('decrypted', null);
  if (opened > 0) return facts('partial', 'some handshake records were not in the capture or did not open');
  const tried = cs.tls12Failed || ss.tls12Failed || cs.failedDecrypts + ss.failedDecrypts > 0;
  if (tried) return facts('failed', 'records did not authenticate with the logged secrets');
  return facts('nothing-encrypted', 'no protected handshake record was captured');
}

function finish(c: Conn, keysGiven: boolean): ConnectionFacts {
  const f = c.flow;
  const map = (d: Direction): Direction => (c.swap ? other(d) : d);
  const end = endOf(c);
  return {
    index: f.id,
    client: c.swap ? f.server : f.client,
    server: c.swap ? f.client : f.server,
    ipVersion: f.ipVersion,
    startTimestampUs: f.firstTimestampUs,
    lastTimestampUs: f.lastTimestampUs,
    tlsOffset: { client: c.sides.client.tlsStart, server: c.sides.server.tlsStart },
    clientHello: c.clientHello,
    helloRetryRequest: c.helloRetryRequest,
    retryClientHello: c.retryClientHello,
    serverHello: c.serverHello,
    sslv2ServerHello: c.sslv2ServerHello,
    version: c.version,
    cipherSuite: c.cipherSuite,
    certificates: c.certificates,
    certificatesDecrypted: c.certificatesDecrypted,
    clientCertificates: c.clientCertificates,
    alerts: c.alerts,
    messages: c.messages,
    handshakeComplete: handshakeComplete(c),
    end,
    outcome: classify(c, end),
    problems: c.problems,
    serverEvidence: c.serverEvidence,
    decryption: decryptionOf(c, keysGiven),
    bytes: { client: f.stats[map('client')].deliveredBytes, server: f.stats[map('server')].deliveredBytes },
  };
}
