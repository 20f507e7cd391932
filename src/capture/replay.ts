/**
 * Replay of a captured ClientHello: `findCapturedHello` returns the hello of one connection of a
 * capture together with what the server answered there, `capturedHelloFromBytes` returns a hello
 * from a record or handshake-message dump, `prepareReplay` applies the explicit opt-in changes, and
 * `replay` sends it to a live server and returns both answers with their differences. Bad hello
 * bytes throw DecodeError; a capture without a usable hello comes back as `{ ok: false }`.
 *
 * Byte-exact by default: the record bytes on the wire equal the captured record bytes, record-layer
 * version included. `prepareReplay` checks this before anything is sent (`byteExact`) and says why
 * when it cannot hold (the client split its hello over several records, or its record carried more
 * handshake data than the hello: `attempt()` reproduces neither). Only `fixSni`, `freshRandom` and `freshKeyShare` change bytes, each listed in
 * `modified`.
 *
 * Connections are numbered like Wireshark's `tcp.stream` (0-based, in order of first appearance),
 * so `--connection 3` is the flow `tcp.stream == 3` shows.
 */
import { randomBytes } from 'node:crypto';
import { thumbprint } from '../x509/thumbprint.js';
import { DecodeError } from '../wire/errors.js';
import { equalBytes } from '../wire/hex.js';
import { createHandshakeAssembler, createRecordDeframer } from '../tls/deframer.js';
import { alertName } from '../tls/alert.js';
import {
  type ClientHello,
  clientServerName,
  encodeClientHello,
  highestOfferedVersion,
  parseClientHello,
} from '../tls/client-hello.js';
import { type Extension, findExtension } from '../tls/extensions.js';
import { negotiatedVersion, serverKeyShareGroup } from '../tls/server-hello.js';
import { ContentType, HandshakeType, ProtocolVersion } from '../tls/registry.js';
import { RECORD_HEADER_LENGTH } from '../tls/record.js';
import { looksLikeSslV2ClientHello } from '../tls/sslv2.js';
import { generateKeyShare, SUPPORTED_KEY_SHARE_GROUPS, type KeyShareKeyPair } from '../tls/key-schedule.js';
import { isGzip, openCaptureFile } from './source.js';
import { BlockType, PcapMagic } from './pcap-format.js';
import type { Endpoint } from './tcp.js';
import { analyzeCapture, type ConnectionFacts } from './sessions.js';
import { attempt, type AttemptOptions, type AttemptResult, type ProbeTarget } from '../probe/attempt.js';
import { buildFromPrebuilt, probeVersionOf, type PrebuiltHello, type ProbeVersion } from '../probe/profiles.js';
import type { OutcomeKind } from '../tls/outcome.js';

/** Where a hello came from. */
export type HelloInputFormat = 'pcap' | 'pcapng' | 'records' | 'handshake';

/** A ClientHello to replay, as captured. */
export interface CapturedHello {
  readonly format: HelloInputFormat;
  /** The connection (Wireshark `tcp.stream`) it came from; null for a hello file. */
  readonly connection: number | null;
  readonly client: Endpoint | null;
  readonly server: Endpoint | null;
  /** The record bytes that carried the hello, exactly as captured; null for a bare handshake message. */
  readonly records: Uint8Array | null;
  /** `legacy_record_version` of the first record (TLS 1.0 when there was no record). */
  readonly recordVersion: number;
  /** The ClientHello handshake message (header included). */
  readonly message: Uint8Array;
  readonly hello: ClientHello;
  /** Bytes the client sent after the hello records (early data, a second flight), not replayed. */
  readonly bytesAfterHello: number;
  /** What the server answered in the capture; null for a hello file. */
  readonly answer: ServerAnswer | null;
}

/** Why a capture gave no hello to replay. */
export type HelloLookupFailure = {
  readonly ok: false;
  readonly code: 'no-such-connection' | 'no-client-hello' | 'sslv2-hello' | 'incomplete-hello';
  readonly message: string;
};

export type HelloLookup = { readonly ok: true; readonly hello: CapturedHello } | HelloLookupFailure;

/** A server's answer to one ClientHello, in the terms both sides of a replay can be compared in. */
export interface ServerAnswer {
  readonly outcome: OutcomeKind;
  readonly negotiatedVersion: number | null;
  readonly cipherSuite: number | null;
  /** TLS 1.3 key_share group, or the ServerKeyExchange curve. */
  readonly group: number | null;
  readonly helloRetryRequest: boolean;
  /** ServerHello extension types in wire order; null without a ServerHello. */
  readonly serverHelloExtensions: readonly number[] | null;
  /** EncryptedExtensions types (TLS 1.3); null when not seen (not TLS 1.3, or not decrypted). */
  readonly encryptedExtensions: readonly number[] | null;
  readonly alert: { readonly level: number; readonly description: number; readonly name: string } | null;
  /** Certificates as sent; null when they could not be seen (TLS 1.3 without keys, or no Certificate). */
  readonly certificates: readonly Uint8Array[] | null;
  /** Why something is unknown (encrypted without keys, capture ended, gap in the capture). */
  readonly notes: readonly string[];
}

/** Returns 'capture' for pcap, pcapng or gzip magic at the start of `head`, else 'hello'. */
export function detectReplayInput(head: Uint8Array): 'capture' | 'hello' {
  if (isGzip(head)) return 'capture';
  if (head.length < 4) return 'hello';
  const be = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  const le = ((head[3]! << 24) | (head[2]! << 16) | (head[1]! << 8) | head[0]!) >>> 0;
  const magics: readonly number[] = [...Object.values(PcapMagic), BlockType.sectionHeader];
  return magics.includes(be) || magics.includes(le) ? 'capture' : 'hello';
}

// ---------------------------------------------------------------------------------------------
// Hello from bytes
// ---------------------------------------------------------------------------------------------

type StreamHello =
  | {
      readonly kind: 'hello';
      readonly records: Uint8Array;
      readonly recordVersion: number;
      readonly message: Uint8Array;
      readonly hello: ClientHello;
      readonly after: number;
    }
  | { readonly kind: 'need-more' }
  | { readonly kind: 'sslv2' }
  | { readonly kind: 'not-a-hello'; readonly reason: string };

/**
 * Returns the ClientHello at the start of a client byte stream: the records that carry it (RFC 8446,
 * Section 5.1: a handshake message may span records of type handshake), or why there is none yet.
 * Throws DecodeError only when a whole ClientHello message is broken.
 */
function helloFromStream(bytes: Uint8Array): StreamHello {
  if (bytes.length === 0) return { kind: 'need-more' };
  if ((bytes[0]! & 0x80) !== 0) {
    if (bytes.length < 3) return { kind: 'need-more' };
    if (looksLikeSslV2ClientHello(bytes)) return { kind: 'sslv2' };
  }
  if (bytes[0] !== ContentType.handshake)
    return {
      kind: 'not-a-hello',
      reason: `first byte 0x${bytes[0]!.toString(16).padStart(2, '0')} is not a handshake record`,
    };
  const deframer = createRecordDeframer();
  const assembler = createHandshakeAssembler();
  let records;
  try {
    records = deframer.push(bytes);
  } catch (e) {
    if (e instanceof DecodeError) return { kind: 'not-a-hello', reason: e.message };
    throw e;
  }
  for (const rec of records) {
    if (rec.type !== ContentType.handshake)
      return { kind: 'not-a-hello', reason: `record of type ${rec.type} before the ClientHello was complete` };
    const done = assembler.push(rec.fragment, rec.offset + RECORD_HEADER_LENGTH);
    const first = done[0];
    if (first === undefined) continue;
    if (first.raw[0] !== HandshakeType.client_hello)
      return { kind: 'not-a-hello', reason: `first handshake message has type ${first.raw[0]}` };
    const end = rec.offset + RECORD_HEADER_LENGTH + rec.fragment.length;
    const message = first.raw.slice();
    return {
      kind: 'hello',
      records: bytes.slice(0, end),
      recordVersion: (bytes[1]! << 8) | bytes[2]!,
      message,
      hello: parseClientHello(message),
      after: bytes.length - end,
    };
  }
  return { kind: 'need-more' };
}

/**
 * Returns the hello in `bytes`: TLS records (the ClientHello must come first) or one bare handshake
 * message. Throws DecodeError when the bytes hold no whole, well-formed ClientHello, or hold an
 * SSL 2.0-format hello (which cannot be replayed as TLS records).
 */
export function capturedHelloFromBytes(bytes: Uint8Array): CapturedHello {
  if (bytes.length === 0) throw new DecodeError('truncated', 'empty input', 0, '');
  if (bytes[0] === HandshakeType.client_hello) {
    const message = bytes;
    return {
      format: 'handshake',
      connection: null,
      client: null,
      server: null,
      records: null,
      recordVersion: ProtocolVersion.TLS1_0,
      message,
      hello: parseClientHello(message),
      bytesAfterHello: 0,
      answer: null,
    };
  }
  const s = helloFromStream(bytes);
  switch (s.kind) {
    case 'hello':
      return {
        format: 'records',
        connection: null,
        client: null,
        server: null,
        records: s.records,
        recordVersion: s.recordVersion,
        message: s.message,
        hello: s.hello,
        bytesAfterHello: s.after,
        answer: null,
      };
    case 'need-more':
      throw new DecodeError('truncated', 'the input ends before the ClientHello does', bytes.length, 'ClientHello');
    case 'sslv2':
      throw new DecodeError(
        'unexpected-message',
        'an SSL 2.0-format ClientHello cannot be replayed as TLS records',
        0,
        '',
      );
    case 'not-a-hello':
      throw new DecodeError('unexpected-message', `not a ClientHello: ${s.reason}`, 0, '');
  }
}

// ---------------------------------------------------------------------------------------------
// Hello and answer from a capture
// ---------------------------------------------------------------------------------------------

/** Thrown from `onConnection` to stop reading once the wanted connection is in; never escapes. */
const STOP = Symbol('stop reading the capture');

export interface FindHelloOptions {
  /** The connection (Wireshark `tcp.stream`); default the first connection that carries a ClientHello. */
  readonly connection?: number;
  /** NSS key log text to decrypt a captured TLS 1.3 answer, besides the capture's own secrets. */
  readonly keyLog?: string;
}

/**
 * Returns the ClientHello of one connection in a capture (a file path, read as a stream and
 * gunzipped when needed, or the bytes of a capture) with the server's captured answer, or why there
 * is none. The connection analysis is `analyzeCapture`'s (src/capture/sessions.ts). Throws what the
 * capture reader throws for a broken container.
 */
export async function findCapturedHello(
  source: string | Uint8Array,
  opts: FindHelloOptions = {},
): Promise<HelloLookup> {
  const wanted = opts.connection;
  let best: ConnectionFacts | null = null;
  let sslv2: number | null = null;
  let format: 'pcap' | 'pcapng' = 'pcap';
  try {
    const result = await analyzeCapture(typeof source === 'string' ? openCaptureFile(source) : source, {
      ...(opts.keyLog !== undefined ? { keyLog: opts.keyLog } : {}),
      onConnection(c) {
        if (wanted !== undefined) {
          if (c.index !== wanted) return;
          best = c;
          throw STOP;
        }
        if (c.clientHello?.format === 'sslv2') sslv2 = sslv2 === null ? c.index : Math.min(sslv2, c.index);
        // Connections are reported as they end, not in index order: keep the lowest index seen.
        if (c.clientHello?.format === 'tls' && (best === null || c.index < best.index)) best = c;
      },
    });
    format = result.meta.format;
  } catch (e) {
    if (e !== STOP) throw e;
    format = await captureFormat(source);
  }
  const c = best as ConnectionFacts | null;
  if (c === null) {
    if (wanted !== undefined)
      return {
        ok: false,
        code: 'no-such-connection',
        message: `connection ${wanted} is not a TLS connection of this capture (connections are numbered from 0, as tcp.stream in Wireshark)`,
      };
    if (sslv2 !== null)
      return {
        ok: false,
        code: 'sslv2-hello',
        message: `connection ${sslv2} starts with an SSL 2.0-format ClientHello, which cannot be replayed as TLS records`,
      };
    return {
      ok: false,
      code: 'no-client-hello',
      message: 'no connection in the capture starts with a TLS ClientHello',
    };
  }
  const ch = c.clientHello;
  if (ch === null) {
    const gap = c.problems.some((p) => p.from === 'client' && p.code === 'capture-gap');
    return gap
      ? {
          ok: false,
          code: 'incomplete-hello',
          message: `connection ${c.index}: the capture misses part of the ClientHello (a gap in the TCP stream)`,
        }
      : {
          ok: false,
          code: 'no-client-hello',
          message: `connection ${c.index} has no whole ClientHello in the capture`,
        };
  }
  if (ch.format === 'sslv2')
    return {
      ok: false,
      code: 'sslv2-hello',
      message: `connection ${c.index} starts with an SSL 2.0-format ClientHello, which cannot be replayed as TLS records`,
    };
  const records = ch.records;
  return {
    ok: true,
    hello: {
      format,
      connection: c.index,
      client: c.client,
      server: c.server,
      records,
      recordVersion: (records[1]! << 8) | records[2]!,
      message: ch.message,
      hello: ch.hello,
      bytesAfterHello: Math.max(0, c.bytes.client - (c.tlsOffset.client ?? 0) - records.length),
      answer: answerFromFacts(c),
    },
  };
}

/** Returns 'pcapng' or 'pcap' from the first bytes of the (decompressed) capture. */
async function captureFormat(source: string | Uint8Array): Promise<'pcap' | 'pcapng'> {
  let head: Uint8Array = new Uint8Array(0);
  if (typeof source !== 'string') head = source;
  else {
    for await (const chunk of openCaptureFile(source)) {
      head = chunk;
      break;
    }
  }
  const be = head.length >= 4 ? ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0 : 0;
  return be === BlockType.sectionHeader ? 'pcapng' : 'pcap';
}

/**
 * Returns the server's alert that answered the hello: one sent before the client said anything
 * more than its hello(s) (and a middlebox-compatibility ChangeCipherSpec, RFC 8446, Appendix D.4).
 * A later alert (close_notify after a finished handshake) is not part of the answer a live attempt
 * sees.
 */
function answerAlert(c: ConnectionFacts): ConnectionFacts['alerts'][number] | undefined {
  for (const m of c.messages) {
    if (m.from === 'client' && m.type !== 'client_hello' && m.type !== 'change_cipher_spec') return undefined;
    if (m.from === 'server' && m.type === 'alert')
      return c.alerts.find((a) => a.from === 'server' && a.frame === m.frame);
  }
  return undefined;
}

/**
 * Returns the server's answer in a captured connection, in the terms a live attempt reports: a
 * ServerHello is 'negotiated' (or 'mismatch') whether or not the rest of the handshake was captured,
 * as `attempt()` stops after the server's first flight; otherwise the server's alert, its RST or
 * FIN. Unknown facts are null: the TLS 1.2 ServerKeyExchange curve and EncryptedExtensions are not
 * among the facts `analyzeCapture` keeps, and TLS 1.3 certificates need the connection's secrets.
 */
function answerFromFacts(c: ConnectionFacts): ServerAnswer {
  const notes: string[] = c.problems.map((p) => `${p.from}: ${p.message}`);
  const sh = c.serverHello?.hello ?? null;
  const hrr = c.helloRetryRequest?.hello ?? null;
  const serverAlert = answerAlert(c);
  const alert =
    serverAlert && serverAlert.description !== null && serverAlert.level !== null
      ? { level: serverAlert.level, description: serverAlert.description, name: alertName(serverAlert.description) }
      : null;
  const tls13 = sh !== null && negotiatedVersion(sh) === ProtocolVersion.TLS1_3;
  let outcome: OutcomeKind;
  if (sh) outcome = c.outcome === 'mismatch' ? 'mismatch' : 'negotiated';
  else if (hrr)
    outcome = 'negotiated'; // as attempt(): a HelloRetryRequest shows TLS 1.3 is there
  else if (serverAlert) outcome = 'alert';
  else if (c.outcome === 'malformed') outcome = 'malformed';
  else if (c.end.by === 'server' && c.end.kind === 'rst') outcome = 'reset';
  else if (c.end.by === 'server' && c.end.kind === 'fin') outcome = 'closed';
  else {
    outcome = 'timeout';
    notes.push(
      c.end.by === 'client'
        ? 'the client closed before the server answered'
        : 'no answer from the server in the capture',
    );
  }
  if (serverAlert && alert === null) notes.push('the server sent an encrypted alert that no key log opens');
  if (tls13 && !c.certificatesDecrypted)
    notes.push(
      c.decryption?.detail ??
        "the TLS 1.3 flight is encrypted and no key log has this connection's secrets: certificates unknown",
    );
  return {
    outcome,
    negotiatedVersion: c.version,
    cipherSuite: c.cipherSuite,
    group: tls13 ? serverKeyShareGroup(sh) : hrr ? serverKeyShareGroup(hrr) : null,
    helloRetryRequest: hrr !== null,
    serverHelloExtensions: sh ? (sh.extensions ?? []).map((e) => e.type) : null,
    encryptedExtensions: null,
    alert,
    certificates: c.certificates.length > 0 ? c.certificates : null,
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Opt-in changes
// ---------------------------------------------------------------------------------------------

/** The explicit opt-in changes to a captured hello. */
export interface ReplayChanges {
  /** Put this host name in server_name (replacing the first host_name, or adding the extension). */
  readonly fixSni?: string;
  /** Send a new random (ClientHello.random). */
  readonly freshRandom?: boolean;
  /** Replace every key share we can compute with a new one, so TLS 1.3 can be decrypted. */
  readonly freshKeyShare?: boolean;
}

/** What will be sent. */
export interface PreparedReplay {
  readonly spec: PrebuiltHello;
  readonly hello: ClientHello;
  /** The ClientHello handshake message and the record bytes that will go on the wire. */
  readonly message: Uint8Array;
  readonly record: Uint8Array;
  /** What changed, in order: 'server_name', 'padding', 'random', 'key_share'. Empty: sent as captured. */
  readonly modified: readonly string[];
  /** True when `record` equals the captured record bytes. */
  readonly byteExact: boolean;
  readonly notes: readonly string[];
}

/**
 * Returns the hello to send for `captured` with `changes` applied, and whether the bytes on the wire
 * equal the captured record bytes (always the goal without changes; `notes` says why not).
 */
export function prepareReplay(captured: CapturedHello, changes: ReplayChanges = {}): PreparedReplay {
  const modified: string[] = [];
  const notes: string[] = [];
  let hello = captured.hello;
  let keyPairs: KeyShareKeyPair[] = [];

  if (changes.fixSni !== undefined && changes.fixSni !== clientServerName(hello)) {
    hello = withServerName(hello, changes.fixSni, modified, notes);
  }
  if (changes.freshRandom) {
    hello = { ...hello, random: new Uint8Array(randomBytes(32)) };
    modified.push('random');
  }
  if (changes.freshKeyShare) {
    const fresh = withFreshKeyShares(hello);
    if (fresh.keyPairs.length > 0) {
      hello = fresh.hello;
      keyPairs = fresh.keyPairs;
      modified.push('key_share');
    }
    notes.push(...fresh.notes);
  }
  if (modified.length > 0 && findExtension(hello.extensions, 'pre_shared_key')) {
    notes.push(
      'the hello carries pre_shared_key, whose binders cover the hello: a server that knows the ticket will refuse the changed hello',
    );
  }

  const version: ProbeVersion = probeVersionFor(highestOfferedVersion(hello));
  const spec: PrebuiltHello = { version, hello, keyPairs, recordVersion: captured.recordVersion };
  const built = buildFromPrebuilt(spec);
  let byteExact = false;
  if (captured.records === null) {
    notes.push(
      `the input had no record header: the hello goes out in a record with version 0x${captured.recordVersion.toString(16).padStart(4, '0')}`,
    );
  } else {
    byteExact = equalBytes(built.record, captured.records);
    if (!byteExact && modified.length === 0) notes.push(whyNotExact(captured.records, captured.message, built.record));
  }
  // In a capture the client's later flights (Finished, data) naturally follow; in a dump they are a surprise.
  if (captured.connection === null && captured.bytesAfterHello > 0)
    notes.push(`the client sent ${captured.bytesAfterHello} more bytes after the hello in the capture (not replayed)`);
  return { spec, hello, message: built.message, record: built.record, modified, byteExact, notes };
}

/** RFC 6066, Section 3 (server_name); keeps the message length with RFC 7685 padding when present. */
function withServerName(hello: ClientHello, name: string, modified: string[], notes: string[]): ClientHello {
  const before = encodeClientHello(hello).length;
  const exts = [...(hello.extensions ?? [])];
  const at = exts.findIndex((e) => e.type === 0x0000);
  const old = at >= 0 ? exts[at]! : null;
  const names = old?.kind === 'server_name' && old.names ? [...old.names] : [];
  const hostAt = names.findIndex((n) => n.nameType === 0);
  if (hostAt >= 0) names[hostAt] = { nameType: 0, name };
  else names.unshift({ nameType: 0, name });
  const ext: Extension = { kind: 'server_name', type: 0x0000, names };
  if (at >= 0) exts[at] = ext;
  else exts.unshift(ext);
  let out: ClientHello = { ...hello, extensions: exts };
  modified.push('server_name');
  const padAt = exts.findIndex((e) => e.kind === 'padding');
  const pad = exts[padAt];
  if (pad?.kind === 'padding') {
    const delta = encodeClientHello(out).length - before;
    const size = Math.max(0, pad.data.length - delta);
    if (size !== pad.data.length - delta)
      notes.push('the padding extension could not absorb the longer name: the hello grew');
    exts[padAt] = { kind: 'padding', type: 0x0015, data: new Uint8Array(size) };
    out = { ...hello, extensions: exts };
    modified.push('padding');
  }
  return out;
}

/** Returns the hello with a new key share for every group we can compute (RFC 8446, Section 4.2.8). */
function withFreshKeyShares(hello: ClientHello): { hello: ClientHello; keyPairs: KeyShareKeyPair[]; notes: string[] } {
  const notes: string[] = [];
  const ks = findExtension(hello.extensions, 'key_share');
  if (!ks?.shares) return { hello, keyPairs: [], notes: ['the hello has no key_share: nothing to refresh'] };
  const keyPairs: KeyShareKeyPair[] = [];
  const kept: number[] = [];
  const shares = ks.shares.map((s) => {
    if (!SUPPORTED_KEY_SHARE_GROUPS.includes(s.group)) {
      kept.push(s.group);
      return s;
    }
    const pair = generateKeyShare(s.group);
    keyPairs.push(pair);
    return { group: s.group, keyExchange: pair.publicKey };
  });
  if (kept.length > 0)
    notes.push(
      `key shares kept as captured for groups we cannot compute: ${kept.map((g) => `0x${g.toString(16).padStart(4, '0')}`).join(', ')}`,
    );
  const extensions = (hello.extensions ?? []).map((e): Extension => (e.kind === 'key_share' ? { ...e, shares } : e));
  return { hello: { ...hello, extensions }, keyPairs, notes };
}

/** Returns the probe version a hello is about: its highest offered version, clamped to SSL 3.0–TLS 1.3. */
function probeVersionFor(code: number): ProbeVersion {
  return (
    probeVersionOf(code) ??
    (code > ProtocolVersion.TLS1_3 ? 'TLS1.3' : code < ProtocolVersion.SSL3_0 ? 'SSL3.0' : 'TLS1.3')
  );
}

/** Returns the payload length of each record in `bytes` (whole records, as the deframer cut them). */
function recordLengths(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let o = 0; o + RECORD_HEADER_LENGTH <= bytes.length; ) {
    const length = (bytes[o + 3]! << 8) | bytes[o + 4]!;
    out.push(length);
    o += RECORD_HEADER_LENGTH + length;
  }
  return out;
}

/** Returns why the record `attempt()` sends differs from the captured records of the same hello. */
function whyNotExact(captured: Uint8Array, message: Uint8Array, built: Uint8Array): string {
  const lengths = recordLengths(captured);
  const payload = lengths.reduce((a, b) => a + b, 0);
  if (payload > message.length) {
    return `the captured record${lengths.length > 1 ? 's' : ''} also carr${lengths.length > 1 ? 'y' : 'ies'} ${payload - message.length} bytes of other handshake data after the hello; the replay sends the hello alone`;
  }
  if (lengths.length > 1)
    return `the client split its hello over ${lengths.length} records; the replay sends it in ${recordLengths(built).length}`;
  return 'the hello does not re-encode to the captured bytes';
}

// ---------------------------------------------------------------------------------------------
// Live replay and comparison
// ---------------------------------------------------------------------------------------------

/** One field on which the captured and the live answers differ. */
export interface Difference {
  readonly field: string;
  readonly captured: unknown;
  readonly live: unknown;
}

export interface ReplayResult {
  readonly captured: CapturedHello;
  readonly prepared: PreparedReplay;
  readonly target: ProbeTarget;
  /** The live attempt; `outcome` is 'negotiated' for a TLS 1.3 answer we could not decrypt (see `answerFromAttempt`). */
  readonly live: AttemptResult;
  readonly liveAnswer: ServerAnswer;
  /** The record bytes that went on the wire. */
  readonly sent: Uint8Array;
  /** Empty when the input had no captured answer. */
  readonly differences: readonly Difference[];
}

/**
 * Returns the replay of `prepared` to `target`, the live answer and its differences from the
 * captured one; never rejects for network or server behaviour (as `attempt`).
 */
export async function replay(
  captured: CapturedHello,
  prepared: PreparedReplay,
  target: ProbeTarget,
  opts: AttemptOptions = {},
): Promise<ReplayResult> {
  const raw = await attempt(target, prepared.spec, { ...opts, trace: true });
  const live = withUnknownKeys(raw);
  const liveAnswer = answerFromAttempt(live);
  const first = raw.trace?.chunks.find((c) => c.from === 'client');
  const sent = first?.bytes ?? prepared.record;
  const differences = captured.answer ? compareAnswers(captured.answer, liveAnswer) : [];
  return {
    captured,
    prepared,
    target,
    live: opts.trace ? live : { ...live, trace: null },
    liveAnswer,
    sent,
    differences,
  };
}

/**
 * Returns the attempt with its note about the unknown private key phrased for replay: `attempt()`
 * negotiates a TLS 1.3 answer to a captured share but cannot decrypt the flight without the key.
 */
function withUnknownKeys(r: AttemptResult): AttemptResult {
  if (!r.missingPrivateKey) return r;
  const group = r.serverHello ? serverKeyShareGroup(r.serverHello) : null;
  return {
    ...r,
    error: `TLS 1.3 flight not decrypted: the private key of the captured ${groupHex(group)} share is unknown (use --fresh-key-share)`,
  };
}

function groupHex(g: number | null): string {
  return g === null ? 'unknown' : `0x${g.toString(16).padStart(4, '0')}`;
}

/** Returns the live attempt in the terms of a captured answer. */
export function answerFromAttempt(r: AttemptResult): ServerAnswer {
  const notes: string[] = [];
  const tls13 = r.negotiatedVersion === ProtocolVersion.TLS1_3 && r.serverHello !== null;
  if (tls13 && r.encryptedExtensions === null) notes.push(r.error ?? 'the TLS 1.3 flight was not decrypted');
  return {
    outcome: r.outcome,
    negotiatedVersion: r.negotiatedVersion,
    cipherSuite: r.cipherSuite,
    group: r.group,
    helloRetryRequest: r.helloRetryRequest,
    serverHelloExtensions: r.serverHello ? (r.serverHello.extensions ?? []).map((e) => e.type) : null,
    encryptedExtensions: r.encryptedExtensions ? r.encryptedExtensions.map((e) => e.type) : null,
    alert: r.alert ? { level: r.alert.level, description: r.alert.description, name: r.alert.name } : null,
    certificates: r.messages.includes('certificate') ? r.certificates : null,
    notes,
  };
}

/** Returns the SHA-1 thumbprint (hex) of a DER certificate. */
export function sha1Hex(der: Uint8Array): string {
  return thumbprint(der, 'sha1');
}

/**
 * Returns the fields on which two answers differ: outcome, version, suite, group, HelloRetryRequest,
 * ServerHello and EncryptedExtensions extension types, alert, certificate SHA-1s. Group,
 * EncryptedExtensions and certificates unknown on one side (null: encrypted without keys, or not
 * among the captured facts) are not compared.
 */
export function compareAnswers(captured: ServerAnswer, live: ServerAnswer): Difference[] {
  const out: Difference[] = [];
  const field = (name: string, a: unknown, b: unknown, skipUnknown = false) => {
    if (skipUnknown && (a === null || b === null)) return;
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ field: name, captured: a, live: b });
  };
  field('outcome', captured.outcome, live.outcome);
  field('negotiatedVersion', captured.negotiatedVersion, live.negotiatedVersion);
  field('cipherSuite', captured.cipherSuite, live.cipherSuite);
  field('group', captured.group, live.group, true);
  field('helloRetryRequest', captured.helloRetryRequest, live.helloRetryRequest);
  field('serverHelloExtensions', captured.serverHelloExtensions, live.serverHelloExtensions);
  field('encryptedExtensions', captured.encryptedExtensions, live.encryptedExtensions, true);
  field('alert', captured.alert?.name ?? null, live.alert?.name ?? null);
  field('certificates', captured.certificates?.map(sha1Hex) ?? null, live.certificates?.map(sha1Hex) ?? null, true);
  return out;
}
