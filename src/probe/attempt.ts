/**
 * One probe attempt: send our ClientHello over a plain TCP socket, read the answer through the
 * deframer, and record what happened. For TLS 1.3 it runs the client side of the key schedule
 * (node:crypto) to decrypt EncryptedExtensions, Certificate and CertificateVerify; it never sends a
 * Finished. HelloRetryRequest is answered once, with a share for the requested group. Every attempt
 * closes politely once it has what it needs: user_canceled then close_notify (encrypted under the
 * client handshake key in TLS 1.3), then FIN. With `tls13HelloOnly` a TLS 1.3 attempt ends at the
 * ServerHello or HelloRetryRequest instead (no keys, so the alerts go in the clear).
 */
import { DecodeError } from '../wire/errors.js';
import { concatBytes, toHex } from '../wire/hex.js';
import { Reader } from '../wire/reader.js';
import { createHandshakeAssembler, createRecordDeframer } from '../tls/deframer.js';
import { readHandshakeMessage, type HandshakeMessage } from '../tls/handshake.js';
import { readAlert, alertName, alertLevelName, type Alert } from '../tls/alert.js';
import type { ServerHello } from '../tls/server-hello.js';
import type { ClientHello } from '../tls/client-hello.js';
import {
  downgradeSentinel,
  isHelloRetryRequest,
  negotiatedVersion,
  serverKeyShareGroup,
  type DowngradeSentinel,
} from '../tls/server-hello.js';
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
import { encodeRecords } from '../tls/record.js';
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
import {
  DEFAULT_READ_TIMEOUT_MS,
  describeSetupFailure,
  exchange,
  isSetupEnd,
  type ExchangeControl,
  type ExchangeEnd,
  type ExchangePhase,
  type ExchangeResult,
  type SetupEndReason,
} from './transport.js';
import type { Via } from './proxy.js';
import type { StarttlsProtocol } from './starttls.js';
import {
  buildClientHello,
  buildFromPrebuilt,
  isPrebuilt,
  retryHello,
  VERSION_CODE,
  type HelloSpec,
  type ProbeVersion,
} from './profiles.js';
import { outcomeFromEnd, type OutcomeKind } from './outcome.js';

/** Default handshake deadline, in read timeouts, counted from the server's first byte. */
export const HANDSHAKE_DEADLINE_FACTOR = 2.5;

/** Bytes of a non-TLS reply we keep for the report. */
export const MALFORMED_PREVIEW_BYTES = 64;

export interface ProbeTarget {
  /** The name the user gave (for reports). */
  readonly host: string;
  /** The resolved IP address we connect to. */
  readonly address: string;
  readonly port: number;
}

export interface AttemptOptions {
  readonly connectTimeoutMs?: number;
  readonly readTimeoutMs?: number;
  /** Keep the bytes each way with times, and the TLS 1.3 secrets (for --pcap and --keylog). */
  readonly trace?: boolean;
  readonly signal?: AbortSignal;
  /**
   * Longest the server may take, once its first byte has arrived, to finish what we wait for (default
   * HANDSHAKE_DEADLINE_FACTOR × the read timeout). The read timeout restarts at every byte, so without
   * this a server dribbling empty records would hold the probe for days.
   */
  readonly deadlineMs?: number;
  /** Go through this proxy (HTTP CONNECT or SOCKS5); the target's name is passed to it. */
  readonly via?: Via;
  /** Upgrade the connection with this protocol's STARTTLS dialogue before the ClientHello. */
  readonly starttls?: StarttlsProtocol;
  /**
   * TLS 1.3: end at the server's first answer (default false). The attempt stops right after the
   * ServerHello (its key_share still checked) or the HelloRetryRequest (not answered), closing with
   * clear user_canceled and close_notify as a client that rejects the ServerHello does: no key is
   * computed and nothing is decrypted, so `certificates`, `encryptedExtensions` and
   * `certificateVerifyScheme` stay empty. For callers that need only the version, suite and group
   * (cipher and group enumeration); TLS 1.2 and below are read as always.
   */
  readonly tls13HelloOnly?: boolean;
  /**
   * Every version: end at the ServerHello (default false). What `tls13HelloOnly` does for TLS 1.3,
   * and for TLS 1.2 and below the attempt stops at the ServerHello instead of reading on to
   * ServerHelloDone: the ServerHello alone says whether the suite was accepted (RFC 5246, Section
   * 7.4.1.3), so `certificates` stay empty and `group` stays null (no ServerKeyExchange read). For
   * cipher enumeration.
   */
  readonly serverHelloOnly?: boolean;
}

/**
 * When an attempt's bytes moved, in ms from the start of connect (`transport.ts`): TCP established,
 * first and last byte of the server's answer, the socket closed (the attempt's whole cost).
 */
export interface AttemptTiming {
  readonly connectMs: number | null;
  readonly firstByteMs: number | null;
  readonly lastByteMs: number | null;
  readonly closedMs: number;
}

export interface AlertInfo {
  readonly level: number;
  readonly description: number;
  readonly name: string;
  readonly levelName: string;
  /** True when the alert arrived encrypted (TLS 1.3, after the ServerHello). */
  readonly encrypted: boolean;
}

export interface AttemptResult {
  readonly version: ProbeVersion;
  readonly outcome: OutcomeKind;
  /** The server negotiated exactly the probed version with a suite we offered. */
  readonly supported: boolean;
  readonly alert: AlertInfo | null;
  readonly negotiatedVersion: number | null;
  readonly cipherSuite: number | null;
  readonly cipherSuiteName: string | null;
  /** Key exchange group: the TLS 1.3 key_share group, or the ServerKeyExchange curve. */
  readonly group: number | null;
  readonly helloRetryRequest: boolean;
  /** The group a HelloRetryRequest asked for. */
  readonly hrrGroup: number | null;
  readonly downgradeSentinel: DowngradeSentinel;
  /** Certificates in the order the server sent them (TLS 1.3: decrypted). */
  readonly certificates: readonly Uint8Array[];
  readonly serverHello: ServerHello | null;
  readonly encryptedExtensions: readonly Extension[] | null;
  readonly certificateVerifyScheme: number | null;
  /** Handshake message kinds seen, in order (decrypted ones included). */
  readonly messages: readonly string[];
  readonly elapsedMs: number;
  readonly connectMs: number | null;
  /** Where the attempt's time went: connect, first byte, last byte, close. */
  readonly timing: AttemptTiming;
  readonly end: ExchangeEnd;
  /** Where the connection was when it ended; 'hello' once our ClientHello had been sent. */
  readonly phase: ExchangePhase;
  readonly errorCode: string | null;
  readonly bytesReceived: number;
  /** The first bytes received, as hex, when the reply was not usable TLS. */
  readonly firstBytes: string | null;
  /** Why the reply could not be read (malformed), why TLS 1.3 decryption stopped, or why the proxy/STARTTLS stage failed. */
  readonly error: string | null;
  /** What we sent first (the ClientHello handshake message). */
  readonly helloSent: Uint8Array;
  /** The conversation, when `trace` was asked for. */
  readonly trace: AttemptTrace | null;
  /**
   * True when the server answered a key share of a prebuilt hello whose private key we lack: the
   * handshake is fine (negotiated), its encrypted part could not be read.
   */
  readonly missingPrivateKey: boolean;
}

/** The bytes of one attempt each way, with times, and the secrets that decrypt it. */
export interface AttemptTrace {
  /** Wall-clock start (ms since the epoch). */
  readonly startedAt: number;
  /** Chunks in the order they crossed the socket; `ms` is relative to `startedAt`. */
  readonly chunks: readonly { readonly from: 'client' | 'server'; readonly ms: number; readonly bytes: Uint8Array }[];
  readonly clientRandom: Uint8Array;
  /** NSS key log labels (CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET) and secrets. */
  readonly secrets: readonly { readonly label: string; readonly secret: Uint8Array }[];
}

interface State {
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

/**
 * Returns the result of one ClientHello sent to `target`; never rejects for network or peer
 * behaviour (only for caller mistakes, as `exchange` does).
 */
export async function attempt(
  target: ProbeTarget,
  helloOptions: HelloSpec,
  opts: AttemptOptions = {},
): Promise<AttemptResult> {
  const version = helloOptions.version;
  const first = isPrebuilt(helloOptions) ? buildFromPrebuilt(helloOptions) : buildClientHello(helloOptions);
  const recordVersion = first.record.length >= 3 ? (first.record[1]! << 8) | first.record[2]! : ProtocolVersion.TLS1_0;
  // Looked up once or twice per attempt: a scan of the list beats building a set of ~190 suites.
  const offersSuite = (suite: number): boolean => first.hello.cipherSuites.includes(suite);
  const probed = VERSION_CODE[version];
  const helloOnly13 = opts.tls13HelloOnly === true || opts.serverHelloOnly === true;
  const st: State = {
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
  };

  const deframer = createRecordDeframer();
  const plain = createHandshakeAssembler();
  const protectedHs = createHandshakeAssembler();
  let transcript: Uint8Array[] = [first.message];
  let keyPairs: readonly KeyShareKeyPair[] = first.keyPairs;
  let serverState: ProtectionState | null = null;
  let clientState: ProtectionState | null = null;
  let stopped = false;
  const startedAt = Date.now();
  const t0 = performance.now();
  const chunks: { from: 'client' | 'server'; ms: number; bytes: Uint8Array }[] = [];
  const secretsKept: { label: string; secret: Uint8Array }[] = [];
  const note = (from: 'client' | 'server', bytes: Uint8Array) => {
    if (opts.trace && bytes.length > 0) chunks.push({ from, ms: performance.now() - t0, bytes: bytes.slice() });
  };
  note('client', first.record);
  const send = (ctl: ExchangeControl, bytes: Uint8Array) => {
    note('client', bytes);
    ctl.send(bytes);
  };

  const stop = (ctl: ExchangeControl) => {
    if (stopped) return;
    stopped = true;
    send(ctl, goodbye(st, clientState));
    ctl.done();
  };

  const onHandshake = (m: HandshakeMessage, ctl: ExchangeControl, encrypted: boolean): void => {
    st.messages.push(m.kind === 'other' ? `handshake_${m.msgType}` : m.kind);
    if (m.kind === 'server_hello') {
      if (isHelloRetryRequest(m.body)) {
        onHelloRetry(m, ctl);
        return;
      }
      st.sh = m.body;
      transcript.push(m.raw);
      const v = negotiatedVersion(m.body);
      if (v > probed || (v === ProtocolVersion.TLS1_3 && version !== 'TLS1.3'))
        st.mismatch = `server chose version ${displayName(PROTOCOL_VERSIONS, v)} above the offered ${version}`;
      else if (!offersSuite(m.body.cipherSuite))
        st.mismatch = `server chose cipher suite ${displayName(CIPHER_SUITES, m.body.cipherSuite)}, which was not offered`;
      if (st.mismatch) {
        stop(ctl);
        return;
      }
      // TLS 1.2 and below: read on to ServerHelloDone, unless the ServerHello is all that was asked for.
      if (v !== ProtocolVersion.TLS1_3) {
        if (opts.serverHelloOnly) stop(ctl);
        return;
      }
      st.group = serverKeyShareGroup(m.body);
      try {
        const keys = serverShareKeys(m.body);
        if (helloOnly13) {
          stop(ctl);
          return;
        }
        startTls13(m.body, keys);
      } catch (e) {
        st.error = `TLS 1.3 key schedule: ${(e as Error).message}`;
        stop(ctl);
      }
      return;
    }
    if (encrypted) transcript.push(m.raw);
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
        stop(ctl);
        return;
      default:
        return;
    }
  };

  const onHelloRetry = (m: Extract<HandshakeMessage, { kind: 'server_hello' }>, ctl: ExchangeControl): void => {
    const group = serverKeyShareGroup(m.body);
    if (st.hrr) {
      // RFC 8446, Section 4.1.4: a second HelloRetryRequest is an error; a server that loops is broken.
      st.mismatch = 'a second HelloRetryRequest';
      stop(ctl);
      return;
    }
    st.hrr = m.body;
    st.group = group;
    if (!offersSuite(m.body.cipherSuite)) {
      st.mismatch = `HelloRetryRequest names cipher suite ${displayName(CIPHER_SUITES, m.body.cipherSuite)}, which was not offered`;
      stop(ctl);
      return;
    }
    // We can retry only with a group we can compute; otherwise the HRR itself is the answer we keep
    // (as it is for a caller that wants only the server's first answer).
    if (group === null || !SUPPORTED_KEY_SHARE_GROUPS.includes(group) || helloOnly13) {
      stop(ctl);
      return;
    }
    const cookie = findExtension(m.body.extensions, 'cookie')?.cookie;
    const second = retryHello(first, group, cookie, recordVersion);
    keyPairs = second.keyPairs;
    st.hrrHello = second.hello;
    const hash = hashForSuite(m.body.cipherSuite) ?? 'sha256';
    // RFC 8446, Section 4.4.1: ClientHello1 is replaced by message_hash when a HelloRetryRequest occurs.
    transcript = [messageHash(hash, first.message), m.raw, second.message];
    send(ctl, second.record);
  };

  /**
   * Returns the hash, the server's share and our key pair for it; throws (after setting `mismatch`
   * or `missingPrivateKey`) when the ServerHello's key_share cannot be used.
   */
  const serverShareKeys = (sh: ServerHello): { hash: HashName; share: KeyShareEntry; pair: KeyShareKeyPair } => {
    const hash = hashForSuite(sh.cipherSuite);
    if (!hash) throw new Error(`no hash for suite ${sh.cipherSuite}`);
    const share = findExtension(sh.extensions, 'key_share')?.shares?.[0];
    if (!share) throw new Error('ServerHello has no key_share');
    const pair = keyPairs.find((p) => p.group === share.group);
    if (!pair) {
      const sent = (st.hrrHello ?? first.hello).extensions;
      const offered = findExtension(sent, 'key_share')?.shares?.some((s) => s.group === share.group) ?? false;
      // A prebuilt (replayed) hello carries shares whose private keys we do not have: the handshake
      // is fine, we just cannot decrypt it. A share for a group we never sent is the server's error.
      if (!offered) st.mismatch = `server key share for group ${share.group}, which we sent no share for`;
      else st.missingPrivateKey = true;
      throw new Error(
        offered
          ? `no private key for the ${share.group} share we sent (a prebuilt hello): the encrypted handshake stays unread`
          : st.mismatch!,
      );
    }
    return { hash, share, pair };
  };

  const startTls13 = (
    sh: ServerHello,
    { hash, share, pair }: { hash: HashName; share: KeyShareEntry; pair: KeyShareKeyPair },
  ): void => {
    const shared = pair.computeSecret(share.keyExchange);
    const secrets = handshakeSecrets(hash, shared, transcriptHash(hash, transcript));
    if (opts.trace) {
      secretsKept.push({ label: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', secret: secrets.clientHandshakeTrafficSecret });
      secretsKept.push({ label: 'SERVER_HANDSHAKE_TRAFFIC_SECRET', secret: secrets.serverHandshakeTrafficSecret });
    }
    serverState = newProtectionState(
      sh.cipherSuite,
      trafficKeys(hash, sh.cipherSuite, secrets.serverHandshakeTrafficSecret),
    );
    clientState = newProtectionState(
      sh.cipherSuite,
      trafficKeys(hash, sh.cipherSuite, secrets.clientHandshakeTrafficSecret),
    );
  };

  const deadlineMs = opts.deadlineMs ?? HANDSHAKE_DEADLINE_FACTOR * (opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS);
  let deadlineTimer: NodeJS.Timeout | null = null;
  let deadlineHit = false;

  const onData = (chunk: Uint8Array, ctl: ExchangeControl): void => {
    note('server', chunk);
    // The deadline ends the exchange as the caller's abort would; `deadlineHit` tells the two apart.
    deadlineTimer ??= setTimeout(() => {
      deadlineHit = true;
      ctl.abort();
    }, deadlineMs);
    if (stopped) return;
    try {
      for (const rec of deframer.push(chunk)) {
        if (stopped) return;
        if (rec.type === ContentType.application_data && serverState) {
          const header = Uint8Array.of(
            rec.type,
            rec.version >> 8,
            rec.version & 0xff,
            rec.fragment.length >> 8,
            rec.fragment.length & 0xff,
          );
          let inner;
          try {
            inner = decryptRecord(serverState, header, rec.fragment);
          } catch (e) {
            st.error = `TLS 1.3 record ${(e as Error).message}`;
            stop(ctl);
            return;
          }
          if (inner.contentType === ContentType.alert) {
            st.alert = alertInfo(readAlert(new Reader(inner.content, 'Alert')), true);
            stop(ctl);
            return;
          }
          if (inner.contentType === ContentType.handshake) {
            for (const f of protectedHs.push(inner.content, rec.offset + 5)) {
              onHandshake(
                readHandshakeMessage(new Reader(f.raw, '', f.offset), { version: ProtocolVersion.TLS1_3 }),
                ctl,
                true,
              );
              if (stopped) return;
            }
          }
          continue;
        }
        if (rec.type === ContentType.alert) {
          const r = new Reader(rec.fragment, 'Alert', rec.offset + 5);
          st.alert = alertInfo(readAlert(r), false);
          stop(ctl);
          return;
        }
        if (rec.type === ContentType.handshake) {
          for (const f of plain.push(rec.fragment, rec.offset + 5)) {
            const ctx = st.sh ? { version: negotiatedVersion(st.sh), cipherSuite: st.sh.cipherSuite } : {};
            onHandshake(readHandshakeMessage(new Reader(f.raw, '', f.offset), ctx), ctl, false);
            if (stopped) return;
          }
        }
        // change_cipher_spec (TLS 1.3 middlebox compatibility) and anything else: nothing to do.
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      st.error = e.message;
      st.malformed = true;
      stop(ctl);
    }
  };

  const ex = await exchange(
    {
      address: target.address,
      port: target.port,
      connectTimeoutMs: opts.connectTimeoutMs,
      readTimeoutMs: opts.readTimeoutMs,
      signal: opts.signal,
      via: opts.via,
      starttls: opts.starttls,
      serverName: (isPrebuilt(helloOptions) ? null : helloOptions.sni) ?? target.host,
    },
    first.record,
    onData,
  );
  if (deadlineTimer) clearTimeout(deadlineTimer);

  const sh = st.sh;
  let outcome: OutcomeKind;
  if (st.mismatch) outcome = 'mismatch';
  else if (sh) outcome = 'negotiated';
  else if (st.alert) outcome = 'alert';
  else if (st.hrr)
    outcome = 'negotiated'; // a HelloRetryRequest for a group we cannot compute: TLS 1.3 is there
  else if (st.malformed) outcome = 'malformed';
  else if (deadlineHit) outcome = 'timeout';
  else
    outcome = setupOutcome(ex) ?? outcomeFromEnd(ex.end as Exclude<ExchangeEnd, SetupEndReason>, ex.connectMs !== null);

  const negotiated = sh ? negotiatedVersion(sh) : st.hrr ? ProtocolVersion.TLS1_3 : null;
  const suite = sh?.cipherSuite ?? st.hrr?.cipherSuite ?? null;
  const usable = outcome === 'negotiated';
  return {
    version,
    outcome,
    supported: usable && negotiated === probed,
    alert: st.alert,
    negotiatedVersion: negotiated,
    cipherSuite: suite,
    cipherSuiteName: suite === null ? null : displayName(CIPHER_SUITES, suite),
    group: st.group,
    helloRetryRequest: st.hrr !== null,
    hrrGroup: st.hrr ? serverKeyShareGroup(st.hrr) : null,
    downgradeSentinel: sh ? downgradeSentinel(sh) : null,
    certificates: st.certificates,
    serverHello: sh,
    encryptedExtensions: st.encryptedExtensions,
    certificateVerifyScheme: st.certificateVerifyScheme,
    messages: st.messages,
    elapsedMs: Math.round(ex.elapsedMs * 100) / 100,
    connectMs: ex.connectMs === null ? null : Math.round(ex.connectMs * 100) / 100,
    timing: {
      connectMs: round2(ex.connectMs),
      firstByteMs: round2(ex.firstByteMs),
      lastByteMs: round2(ex.lastByteMs),
      closedMs: round2(ex.closedMs),
    },
    // Our own deadline is a timeout, not the caller's abort.
    end: deadlineHit && ex.end === 'aborted' ? 'timeout' : ex.end,
    phase: ex.phase,
    errorCode: ex.errorCode,
    bytesReceived: ex.received.length,
    firstBytes:
      outcome === 'malformed' || (ex.received.length > 0 && !usable && !st.alert)
        ? toHex(ex.received.subarray(0, MALFORMED_PREVIEW_BYTES))
        : null,
    error:
      st.mismatch ??
      st.error ??
      describeSetupFailure(ex) ??
      (deadlineHit
        ? `the server kept the connection busy for ${deadlineMs} ms after its first byte without finishing the handshake (deadline)`
        : null),
    helloSent: first.message,
    missingPrivateKey: st.missingPrivateKey === true,
    trace: opts.trace ? { startedAt, chunks, clientRandom: first.hello.random.slice(), secrets: secretsKept } : null,
  };
}

/**
 * Returns the outcome of an exchange that ended before our ClientHello went out because of the
 * proxy or STARTTLS stage, or null when the TCP ending decides (`outcomeFromEnd`). Such attempts
 * are connect failures: no ClientHello reached the endpoint. A refusal is 'connect-refused' with
 * `errorCode` saying whose (PROXY_407, SOCKS5_REP_02, STARTTLS_REFUSED…); a reset, close or read
 * timeout during the stage likewise; the connect limit running out during the tunnel's set-up is
 * 'connect-timeout'.
 */
function setupOutcome(ex: ExchangeResult): OutcomeKind | null {
  if (isSetupEnd(ex.end)) return 'connect-refused';
  if (ex.phase !== 'proxy' && ex.phase !== 'starttls') return null;
  if (ex.end === 'connect-timeout' || ex.end === 'aborted') return null;
  return 'connect-refused';
}

function round2<T extends number | null>(ms: T): T {
  return (ms === null ? null : Math.round(ms * 100) / 100) as T;
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
function goodbye(st: State, clientState: ProtectionState | null): Uint8Array {
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
