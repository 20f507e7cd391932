/**
 * One probe attempt: send our ClientHello over a plain TCP socket, read the answer through the
 * deframer, and record what happened. For TLS 1.3 it runs the client side of the key schedule
 * (node:crypto) to decrypt EncryptedExtensions, Certificate and CertificateVerify; it never sends a
 * Finished. HelloRetryRequest is answered once, with a share for the requested group. Every attempt
 * closes politely once it has what it needs: user_canceled then close_notify (encrypted under the
 * client handshake key in TLS 1.3), then FIN. With `tls13HelloOnly` a TLS 1.3 attempt ends at the
 * ServerHello or HelloRetryRequest instead (no keys, so the alerts go in the clear).
 */
import { toHex } from '../wire/hex.js';
import type { ServerHello } from '../tls/server-hello.js';
import {
  downgradeSentinel,
  negotiatedVersion,
  serverKeyShareGroup,
  type DowngradeSentinel,
} from '../tls/server-hello.js';
import type { Extension } from '../tls/extensions.js';
import { CIPHER_SUITES, ProtocolVersion, displayName } from '../tls/registry.js';
import {
  DEFAULT_READ_TIMEOUT_MS,
  describeSetupFailure,
  exchange,
  isSetupEnd,
  type ExchangeEnd,
  type ExchangePhase,
  type ExchangeResult,
  type SetupEndReason,
} from './transport.js';
import { buildClientHello, buildFromPrebuilt, isPrebuilt, type HelloSpec, type ProbeVersion } from './profiles.js';
import { outcomeFromEnd, type OutcomeKind } from './outcome.js';
import { onServerData, startReading, type Reading } from './attempt-reader.js';
import type { AlertInfo, AttemptOptions } from './attempt-options.js';

export type { AlertInfo, AttemptOptions } from './attempt-options.js';

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

/**
 * Returns the result of one ClientHello sent to `target`; never rejects for network or peer
 * behaviour (only for caller mistakes, as `exchange` does).
 */
export async function attempt(
  target: ProbeTarget,
  helloOptions: HelloSpec,
  opts: AttemptOptions = {},
): Promise<AttemptResult> {
  const first = isPrebuilt(helloOptions) ? buildFromPrebuilt(helloOptions) : buildClientHello(helloOptions);
  const startedAt = Date.now();
  const deadlineMs = opts.deadlineMs ?? HANDSHAKE_DEADLINE_FACTOR * (opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS);
  const r = startReading(helloOptions.version, first, opts, deadlineMs);
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
    (chunk, ctl) => onServerData(r, chunk, ctl),
  );
  if (r.deadlineTimer) clearTimeout(r.deadlineTimer);
  return attemptResult(r, ex, startedAt);
}

/** Returns what an attempt found, from its reading state `r` and how its exchange `ex` ended. */
function attemptResult(r: Reading, ex: ExchangeResult, startedAt: number): AttemptResult {
  const { st, first, version, deadlineHit } = r;
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
    supported: usable && negotiated === r.probed,
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
        ? `the server kept the connection busy for ${r.deadlineMs} ms after its first byte without finishing the handshake (deadline)`
        : null),
    helloSent: first.message,
    missingPrivateKey: st.missingPrivateKey === true,
    trace: r.opts.trace
      ? { startedAt, chunks: r.chunks, clientRandom: first.hello.random.slice(), secrets: r.secretsKept }
      : null,
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
