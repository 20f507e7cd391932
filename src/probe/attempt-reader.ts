/**
 * The reading side of one attempt (attempt.ts): the server's bytes, record by record, and what they
 * decide as they arrive. A `Reading` holds one attempt's state (plain data, mutated only by the
 * functions here); `onServerData` is the exchange's data handler. It answers a HelloRetryRequest
 * once, runs the TLS 1.3 key schedule to read the encrypted handshake, and stops the exchange
 * politely (`goodbye`) as soon as the attempt has what it needs.
 */
import { DecodeError } from '../wire/errors.js';
import { concatBytes } from '../wire/hex.js';
import { Reader } from '../wire/reader.js';
import { createHandshakeAssembler, createRecordDeframer } from '../tls/deframer.js';
import { readHandshakeMessage, type HandshakeMessage } from '../tls/handshake.js';
import { readAlert, alertName, alertLevelName, type Alert } from '../tls/alert.js';
import type { ServerHello } from '../tls/server-hello.js';
import type { ClientHello } from '../tls/client-hello.js';
import { isHelloRetryRequest, negotiatedVersion, serverKeyShareGroup } from '../tls/server-hello.js';
import { findExtension, type Extension, type KeyShareEntry } from '../tls/extensions.js';
import {
  AlertDescription,
  AlertLevel,
  CIPHER_SUITES,
  ContentType,
  PROTOCOL_VERSIONS,
  ProtocolVersion,
  displayName,
} from '../tls/registry.js';
import { encodeRecords, type TlsRecord } from '../tls/record.js';
import {
  handshakeSecrets,
  hashForSuite,
  messageHash,
  SUPPORTED_KEY_SHARE_GROUPS,
  trafficKeys,
  transcriptHash,
  type HashName,
  type KeyShareKeyPair,
} from '../tls/key-schedule.js';
import { decryptRecord, encryptRecord, newProtectionState, type ProtectionState } from '../tls/protection.js';
import type { ExchangeControl } from './transport.js';
import { retryHello, VERSION_CODE, type BuiltHello, type ProbeVersion } from './profiles.js';
import type { AlertInfo, AttemptOptions } from './attempt-options.js';

/** What the server's answer said so far. */
export interface ReadState {
  sh: ServerHello | null;
  hrr: ServerHello | null;
  alert: AlertInfo | null;
  error: string | null;
  malformed: boolean;
  mismatch: string | null;
  group: number | null;
  certificates: Uint8Array[];
  encryptedExtensions: Extension[] | null;
  certificateVerifyScheme: number | null;
  messages: string[];
  finished: boolean;
  /** The ClientHello sent after a HelloRetryRequest. */
  hrrHello?: ClientHello;
  /** The server chose a share we sent but hold no private key for (a prebuilt hello). */
  missingPrivateKey?: boolean;
}

/** One attempt's reading state: what was sent, what arrived, the keys, and whether it stopped. */
export interface Reading {
  readonly version: ProbeVersion;
  /** The probed version's code point. */
  readonly probed: number;
  readonly first: BuiltHello;
  /** The record-layer version of our first hello (the retry is sent with the same). */
  readonly recordVersion: number;
  /** Stop TLS 1.3 at the ServerHello or HelloRetryRequest. */
  readonly helloOnly13: boolean;
  readonly opts: AttemptOptions;
  readonly st: ReadState;
  readonly deframer: ReturnType<typeof createRecordDeframer>;
  readonly plain: ReturnType<typeof createHandshakeAssembler>;
  readonly protectedHs: ReturnType<typeof createHandshakeAssembler>;
  transcript: Uint8Array[];
  keyPairs: readonly KeyShareKeyPair[];
  serverState: ProtectionState | null;
  clientState: ProtectionState | null;
  stopped: boolean;
  /** performance.now() when the attempt started (trace times are relative to it). */
  readonly t0: number;
  readonly chunks: { from: 'client' | 'server'; ms: number; bytes: Uint8Array }[];
  readonly secretsKept: { label: string; secret: Uint8Array }[];
  /** Longest the server may take after its first byte; the timer starts at that byte. */
  readonly deadlineMs: number;
  deadlineTimer: NodeJS.Timeout | null;
  deadlineHit: boolean;
}

/** Returns the reading state of an attempt that sends `first` for `version`. */
export function startReading(
  version: ProbeVersion,
  first: BuiltHello,
  opts: AttemptOptions,
  deadlineMs: number,
): Reading {
  const r: Reading = {
    version,
    probed: VERSION_CODE[version],
    first,
    recordVersion: first.record.length >= 3 ? (first.record[1]! << 8) | first.record[2]! : ProtocolVersion.TLS1_0,
    helloOnly13: opts.tls13HelloOnly === true || opts.serverHelloOnly === true,
    opts,
    st: {
      sh: null,
      hrr: null,
      alert: null,
      error: null,
      malformed: false,
      mismatch: null,
      group: null,
      certificates: [],
      encryptedExtensions: null,
      certificateVerifyScheme: null,
      messages: [],
      finished: false,
    },
    deframer: createRecordDeframer(),
    plain: createHandshakeAssembler(),
    protectedHs: createHandshakeAssembler(),
    transcript: [first.message],
    keyPairs: first.keyPairs,
    serverState: null,
    clientState: null,
    stopped: false,
    t0: performance.now(),
    chunks: [],
    secretsKept: [],
    deadlineMs,
    deadlineTimer: null,
    deadlineHit: false,
  };
  note(r, 'client', first.record);
  return r;
}

/** Keeps `bytes` in the trace, when one was asked for. */
function note(r: Reading, from: 'client' | 'server', bytes: Uint8Array): void {
  if (r.opts.trace && bytes.length > 0) r.chunks.push({ from, ms: performance.now() - r.t0, bytes: bytes.slice() });
}

function send(r: Reading, ctl: ExchangeControl, bytes: Uint8Array): void {
  note(r, 'client', bytes);
  ctl.send(bytes);
}

/** Ends the exchange politely (once). */
function stop(r: Reading, ctl: ExchangeControl): void {
  if (r.stopped) return;
  r.stopped = true;
  send(r, ctl, goodbye(r.st, r.clientState));
  ctl.done();
}

// Looked up once or twice per attempt: a scan of the list beats building a set of ~190 suites.
function offersSuite(r: Reading, suite: number): boolean {
  return r.first.hello.cipherSuites.includes(suite);
}

/**
 * The exchange's data handler: feeds `chunk` through the deframer, decrypting TLS 1.3 records once
 * keys exist, and acts on each alert and handshake message. A malformed reply stops the attempt.
 */
export function onServerData(r: Reading, chunk: Uint8Array, ctl: ExchangeControl): void {
  note(r, 'server', chunk);
  // The deadline ends the exchange as the caller's abort would; `deadlineHit` tells the two apart.
  r.deadlineTimer ??= setTimeout(() => {
    r.deadlineHit = true;
    ctl.abort();
  }, r.deadlineMs);
  if (r.stopped) return;
  const st = r.st;
  try {
    for (const rec of r.deframer.push(chunk)) {
      if (r.stopped) return;
      if (rec.type === ContentType.application_data && r.serverState) {
        onProtectedRecord(r, rec, ctl);
        if (r.stopped) return;
        continue;
      }
      if (rec.type === ContentType.alert) {
        st.alert = alertInfo(readAlert(new Reader(rec.fragment, 'Alert', rec.offset + 5)), false);
        stop(r, ctl);
        return;
      }
      if (rec.type === ContentType.handshake) {
        for (const f of r.plain.push(rec.fragment, rec.offset + 5)) {
          const ctx = st.sh ? { version: negotiatedVersion(st.sh), cipherSuite: st.sh.cipherSuite } : {};
          onHandshake(r, readHandshakeMessage(new Reader(f.raw, '', f.offset), ctx), ctl, false);
          if (r.stopped) return;
        }
      }
      // change_cipher_spec (TLS 1.3 middlebox compatibility) and anything else: nothing to do.
    }
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    st.error = e.message;
    st.malformed = true;
    stop(r, ctl);
  }
}

/** A TLS 1.3 record under the server's handshake key: an alert, or handshake messages. */
function onProtectedRecord(r: Reading, rec: TlsRecord, ctl: ExchangeControl): void {
  const header = Uint8Array.of(
    rec.type,
    rec.version >> 8,
    rec.version & 0xff,
    rec.fragment.length >> 8,
    rec.fragment.length & 0xff,
  );
  let inner;
  try {
    inner = decryptRecord(r.serverState!, header, rec.fragment);
  } catch (e) {
    r.st.error = `TLS 1.3 record ${(e as Error).message}`;
    stop(r, ctl);
    return;
  }
  if (inner.contentType === ContentType.alert) {
    r.st.alert = alertInfo(readAlert(new Reader(inner.content, 'Alert')), true);
    stop(r, ctl);
    return;
  }
  if (inner.contentType === ContentType.handshake) {
    for (const f of r.protectedHs.push(inner.content, rec.offset + 5)) {
      onHandshake(
        r,
        readHandshakeMessage(new Reader(f.raw, '', f.offset), { version: ProtocolVersion.TLS1_3 }),
        ctl,
        true,
      );
      if (r.stopped) return;
    }
  }
}

function onHandshake(r: Reading, m: HandshakeMessage, ctl: ExchangeControl, encrypted: boolean): void {
  const st = r.st;
  st.messages.push(m.kind === 'other' ? `handshake_${m.msgType}` : m.kind);
  if (m.kind === 'server_hello') {
    if (isHelloRetryRequest(m.body)) onHelloRetry(r, m, ctl);
    else onServerHello(r, m, ctl);
    return;
  }
  if (encrypted) r.transcript.push(m.raw);
  switch (m.kind) {
    case 'certificate':
      st.certificates = m.body.entries.map((e) => e.der.slice());
      return;
    case 'server_key_exchange':
      st.group = m.body.ecdhe?.namedGroup ?? null;
      return;
    case 'encrypted_extensions':
      st.encryptedExtensions = [...m.body];
      return;
    case 'certificate_verify':
      st.certificateVerifyScheme = m.scheme;
      return;
    case 'server_hello_done':
    case 'finished':
      st.finished = true;
      stop(r, ctl);
      return;
    default:
      return;
  }
}

function onServerHello(r: Reading, m: Extract<HandshakeMessage, { kind: 'server_hello' }>, ctl: ExchangeControl): void {
  const st = r.st;
  st.sh = m.body;
  r.transcript.push(m.raw);
  const v = negotiatedVersion(m.body);
  if (v > r.probed || (v === ProtocolVersion.TLS1_3 && r.version !== 'TLS1.3'))
    st.mismatch = `server chose version ${displayName(PROTOCOL_VERSIONS, v)} above the offered ${r.version}`;
  else if (!offersSuite(r, m.body.cipherSuite))
    st.mismatch = `server chose cipher suite ${displayName(CIPHER_SUITES, m.body.cipherSuite)}, which was not offered`;
  if (st.mismatch) {
    stop(r, ctl);
    return;
  }
  // TLS 1.2 and below: read on to ServerHelloDone, unless the ServerHello is all that was asked for.
  if (v !== ProtocolVersion.TLS1_3) {
    if (r.opts.serverHelloOnly) stop(r, ctl);
    return;
  }
  st.group = serverKeyShareGroup(m.body);
  try {
    const keys = serverShareKeys(r, m.body);
    if (r.helloOnly13) {
      stop(r, ctl);
      return;
    }
    startTls13(r, m.body, keys);
  } catch (e) {
    st.error = `TLS 1.3 key schedule: ${(e as Error).message}`;
    stop(r, ctl);
  }
}

function onHelloRetry(r: Reading, m: Extract<HandshakeMessage, { kind: 'server_hello' }>, ctl: ExchangeControl): void {
  const st = r.st;
  const group = serverKeyShareGroup(m.body);
  if (st.hrr) {
    // RFC 8446, Section 4.1.4: a second HelloRetryRequest is an error; a server that loops is broken.
    st.mismatch = 'a second HelloRetryRequest';
    stop(r, ctl);
    return;
  }
  st.hrr = m.body;
  st.group = group;
  if (!offersSuite(r, m.body.cipherSuite)) {
    st.mismatch = `HelloRetryRequest names cipher suite ${displayName(CIPHER_SUITES, m.body.cipherSuite)}, which was not offered`;
    stop(r, ctl);
    return;
  }
  // We can retry only with a group we can compute; otherwise the HRR itself is the answer we keep
  // (as it is for a caller that wants only the server's first answer).
  if (group === null || !SUPPORTED_KEY_SHARE_GROUPS.includes(group) || r.helloOnly13) {
    stop(r, ctl);
    return;
  }
  const cookie = findExtension(m.body.extensions, 'cookie')?.cookie;
  const second = retryHello(r.first, group, cookie, r.recordVersion);
  r.keyPairs = second.keyPairs;
  st.hrrHello = second.hello;
  const hash = hashForSuite(m.body.cipherSuite) ?? 'sha256';
  // RFC 8446, Section 4.4.1: ClientHello1 is replaced by message_hash when a HelloRetryRequest occurs.
  r.transcript = [messageHash(hash, r.first.message), m.raw, second.message];
  send(r, ctl, second.record);
}

/** The hash of the suite, the server's share, and our key pair for its group. */
interface ShareKeys {
  readonly hash: HashName;
  readonly share: KeyShareEntry;
  readonly pair: KeyShareKeyPair;
}

/**
 * Returns the hash, the server's share and our key pair for it; throws (after setting `mismatch`
 * or `missingPrivateKey`) when the ServerHello's key_share cannot be used.
 */
function serverShareKeys(r: Reading, sh: ServerHello): ShareKeys {
  const hash = hashForSuite(sh.cipherSuite);
  if (!hash) throw new Error(`no hash for suite ${sh.cipherSuite}`);
  const share = findExtension(sh.extensions, 'key_share')?.shares?.[0];
  if (!share) throw new Error('ServerHello has no key_share');
  const pair = r.keyPairs.find((p) => p.group === share.group);
  if (!pair) {
    const sent = (r.st.hrrHello ?? r.first.hello).extensions;
    const offered = findExtension(sent, 'key_share')?.shares?.some((s) => s.group === share.group) ?? false;
    // A prebuilt (replayed) hello carries shares whose private keys we do not have: the handshake
    // is fine, we just cannot decrypt it. A share for a group we never sent is the server's error.
    if (!offered) r.st.mismatch = `server key share for group ${share.group}, which we sent no share for`;
    else r.st.missingPrivateKey = true;
    throw new Error(
      offered
        ? `no private key for the ${share.group} share we sent (a prebuilt hello): the encrypted handshake stays unread`
        : r.st.mismatch!,
    );
  }
  return { hash, share, pair };
}

/** Derives the handshake traffic keys (RFC 8446, Section 7.1) so the encrypted flight can be read. */
function startTls13(r: Reading, sh: ServerHello, { hash, share, pair }: ShareKeys): void {
  const shared = pair.computeSecret(share.keyExchange);
  const secrets = handshakeSecrets(hash, shared, transcriptHash(hash, r.transcript));
  if (r.opts.trace) {
    r.secretsKept.push({ label: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', secret: secrets.clientHandshakeTrafficSecret });
    r.secretsKept.push({ label: 'SERVER_HANDSHAKE_TRAFFIC_SECRET', secret: secrets.serverHandshakeTrafficSecret });
  }
  r.serverState = newProtectionState(
    sh.cipherSuite,
    trafficKeys(hash, sh.cipherSuite, secrets.serverHandshakeTrafficSecret),
  );
  r.clientState = newProtectionState(
    sh.cipherSuite,
    trafficKeys(hash, sh.cipherSuite, secrets.clientHandshakeTrafficSecret),
  );
}

function alertInfo(a: Alert, encrypted: boolean): AlertInfo {
  return {
    level: a.level,
    description: a.description,
    name: alertName(a.description),
    levelName: alertLevelName(a.level),
    encrypted,
  };
}

/**
 * Returns the records that end an attempt politely: user_canceled then close_notify (RFC 5246,
 * Section 7.2.1; RFC 8446, Section 6.1), encrypted under the client handshake key once TLS 1.3
 * keys exist. Nothing when the server already sent a fatal alert.
 */
function goodbye(st: ReadState, clientState: ProtectionState | null): Uint8Array {
  if (st.alert && st.alert.level === AlertLevel.fatal) return EMPTY;
  if (clientState) {
    const a = encryptRecord(clientState, ContentType.alert, USER_CANCELED);
    const b = encryptRecord(clientState, ContentType.alert, CLOSE_NOTIFY);
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }
  const version = st.sh ? Math.min(negotiatedVersion(st.sh), ProtocolVersion.TLS1_2) : ProtocolVersion.TLS1_0;
  // The clear records depend on the record version only: made once for SSL 3.0–TLS 1.2, which is
  // what servers name; a stranger version is encoded each time rather than grow the table.
  let plain = PLAIN_GOODBYES.get(version);
  if (plain === undefined) {
    plain = concatBytes(
      encodeRecords(ContentType.alert, version, USER_CANCELED),
      encodeRecords(ContentType.alert, version, CLOSE_NOTIFY),
    );
    if (version >= ProtocolVersion.SSL3_0 && version <= ProtocolVersion.TLS1_2) PLAIN_GOODBYES.set(version, plain);
  }
  return plain;
}

const EMPTY = new Uint8Array(0);
const USER_CANCELED = Uint8Array.of(AlertLevel.warning, AlertDescription.user_canceled);
const CLOSE_NOTIFY = Uint8Array.of(AlertLevel.warning, AlertDescription.close_notify);

/** Clear goodbye records by record version; shared by every attempt and never written to. */
const PLAIN_GOODBYES = new Map<number, Uint8Array>();
