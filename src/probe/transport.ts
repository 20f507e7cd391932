/**
 * Raw TCP exchange for probes: returns how a connection ended, never throws for a network outcome.
 *
 * `exchange()` connects with `node:net` (never `node:tls`: we send our own ClientHello bytes and must
 * see exactly what the peer sends back), writes the first flight, hands every received chunk to an
 * optional handler that may send more or say it is done, and resolves with an `ExchangeResult`:
 * every byte the peer sent (bounded), the timings, and how the connection ended — TCP reset, FIN,
 * our own timeout, or our polite close. That ending is the evidence the diagnosis needs: a reset
 * right after a TLS 1.0 ClientHello is the Windows "10054" case, a FIN without bytes is a server
 * that silently drops a hello it dislikes.
 *
 * Name resolution is a separate step (`resolveHost`), so a probe can try each address and so the
 * connect timeout never includes DNS time.
 *
 * Real clients do not always talk TLS to the endpoint straight away: behind a corporate proxy they
 * first open a tunnel (`via`: HTTP CONNECT or SOCKS5, see proxy.ts), and mail, directory, database
 * and chat servers first agree in plain text to start TLS (`starttls`, see starttls.ts). Those
 * stages run as `Dialogue`s before `first` is sent, in that order; what they receive is not part of
 * `received`, and `phase` says which stage the exchange ended in. A stage that is refused ends the
 * exchange with its own reason (`proxy-refused`, `proxy-auth-required`, `proxy-error`,
 * `starttls-refused`, `starttls-error`) and keeps the peer's answer in `setupReply`.
 *
 * Resource discipline: when the promise resolves, the socket is closed (its 'close' event has
 * fired), every timer is cleared and every listener this module added is removed.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Socket, isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { checkTargetHost, checkVia, createProxyDialogue, type Via } from './proxy.js';
import { STARTTLS_PROTOCOLS, createStarttlsDialogue, type StarttlsProtocol } from './starttls.js';
import type { Dialogue, DialogueStep, SetupEndReason } from './dialogue.js';

export type { Dialogue, DialogueStep, SetupEndReason } from './dialogue.js';

/** How the connection ended. */
export type EndReason =
  /** The peer reset the connection (RST: `ECONNRESET`, or `EPIPE` when our write hit the reset). */
  | 'reset'
  /** The peer closed its side in order (FIN). */
  | 'fin'
  /** No byte was sent or received for `readTimeoutMs` after the connection was established. */
  | 'timeout'
  /** The handler called `done()`: we had what we needed and closed (optional `closeWith`, then FIN). */
  | 'done'
  /** The peer kept sending past `maxBytes`; we stopped reading and closed. `truncated` is true. */
  | 'max-bytes'
  /** Connecting failed with `ECONNREFUSED` (a RST answered our SYN: nothing listens there). */
  | 'connect-refused'
  /** The TCP handshake did not complete within `connectTimeoutMs` (SYN unanswered or too slow). */
  | 'connect-timeout'
  /** Name resolution failed (produced by `dnsErrorResult`, never by `exchange`). */
  | 'dns-error'
  /** The caller's `AbortSignal` fired. */
  | 'aborted'
  /** Any other socket error (`EHOSTUNREACH`, `ENETUNREACH`, …); see `errorCode`. */
  | 'error';

/** Every way an exchange can end: a TCP-level ending, or a refused proxy/STARTTLS stage. */
export type ExchangeEnd = EndReason | SetupEndReason;

const SETUP_END_REASONS: ReadonlySet<string> = new Set<SetupEndReason>([
  'proxy-refused',
  'proxy-auth-required',
  'proxy-error',
  'starttls-refused',
  'starttls-error',
]);

/** True when `end` is a proxy or STARTTLS refusal rather than a TCP-level ending. */
export function isSetupEnd(end: ExchangeEnd): end is SetupEndReason {
  return SETUP_END_REASONS.has(end);
}

/**
 * Where the exchange was when it ended: `connect` (the TCP connection to the first hop was not
 * established), `proxy` (opening the tunnel), `starttls` (the plain-text dialogue), `hello` (`first`
 * had been sent).
 */
export type ExchangePhase = 'connect' | 'proxy' | 'starttls' | 'hello';

/** The proxy an exchange went through. */
export interface ProxyHop {
  readonly kind: Via['kind'];
  /** The proxy as configured (name or IP literal). */
  readonly host: string;
  /** The address connected to; null when `host` did not resolve. */
  readonly address: string | null;
  readonly port: number;
}

export interface ExchangeResult {
  /** The endpoint (with `via`: possibly a name, which the proxy resolved). */
  readonly address: string;
  readonly port: number;
  /** Milliseconds from the start of connect to TCP established with the first hop (the proxy, with `via`); null when it never connected. */
  readonly connectMs: number | null;
  /** Milliseconds from the start of connect to the moment the ending was observed. */
  readonly elapsedMs: number;
  /**
   * Every byte the peer sent once the proxy and STARTTLS stages were done, in order, up to
   * `maxBytes` (see `truncated`). A copy, owned by the caller.
   */
  readonly received: Uint8Array;
  /** True when the peer sent more than `maxBytes`; the rest was not kept. */
  readonly truncated: boolean;
  readonly end: ExchangeEnd;
  /**
   * The socket error code behind the ending (`ECONNRESET`, `EPIPE`, `ECONNREFUSED`, `ENOTFOUND`, …),
   * or the stage's code for a `SetupEndReason` (`PROXY_407`, `SOCKS5_REP_02`, `STARTTLS_REFUSED`…), else null.
   */
  readonly errorCode: string | null;
  /** `received.length` when the connection ended (bytes that arrived after the ending are not kept). */
  readonly bytesBeforeEnd: number;
  /** Milliseconds from the start of connect to the first byte of `received`; null when none arrived. */
  readonly firstByteMs: number | null;
  /** Milliseconds from the start of connect to the last byte kept in `received` (before the ending); null when none arrived. */
  readonly lastByteMs: number | null;
  /** Milliseconds from the start of connect to the socket's 'close' (when the promise resolves); 0 when it never opened one. */
  readonly closedMs: number;
  /** The stage the exchange was in when it ended. */
  readonly phase: ExchangePhase;
  /** The proxy's or STARTTLS server's answer when that stage refused (printable, never credentials), else null. */
  readonly setupReply: string | null;
  /** The proxy, with `via`; else null. */
  readonly proxy: ProxyHop | null;
  /** Milliseconds from the start of connect to the proxy tunnel being open; null without `via` or when it never opened. */
  readonly tunnelMs: number | null;
  /** Milliseconds from the start of connect to `first` being written; null when it never was. */
  readonly firstSentMs: number | null;
}

/** What the `onData` handler may do with the connection. */
export interface ExchangeControl {
  /** Sends more bytes (ignored once the exchange has ended, and when empty). */
  send(bytes: Uint8Array): void;
  /** We have what we need: send `closeWith` (if any) then FIN, and end with `'done'`. */
  done(): void;
  /** Ends the exchange now with `'aborted'` (`ABORT_ERR`), as the signal would: for the handler's own deadline. */
  abort(): void;
}

export interface ExchangeOptions {
  /**
   * An IP address (v4 or v6), already resolved: see `resolveHost`. With `via` it may also be a host
   * name: the proxy resolves it, as it does for real clients behind it.
   */
  readonly address: string;
  readonly port: number;
  /** Reach the endpoint through this proxy (HTTP CONNECT or SOCKS5); its host is resolved here, once. */
  readonly via?: Via;
  /** Run this protocol's STARTTLS dialogue (through the tunnel, if any) before sending `first`. */
  readonly starttls?: StarttlsProtocol;
  /** The server's name where a STARTTLS dialogue names it (XMPP's stream `to`); default `address`. */
  readonly serverName?: string;
  /**
   * Limit on the TCP handshake, in ms (default `DEFAULT_CONNECT_TIMEOUT_MS`). With `via` it covers the
   * proxy's TCP handshake and the tunnel's set-up: the tunnel must be open within this limit.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Idle limit once connected, in ms (default `DEFAULT_READ_TIMEOUT_MS`): the exchange ends with
   * `'timeout'` when nothing was sent or received for this long. The clock restarts at every
   * received chunk, at every `send()` and when a write has been flushed to the kernel, so a slow
   * but steady peer is not cut off; a peer that never answers is cut off this long after our last
   * byte went out. It covers the STARTTLS dialogue too.
   */
  readonly readTimeoutMs?: number;
  /** Cap on the bytes kept in `received` (default `DEFAULT_MAX_BYTES`); the stages have their own caps. */
  readonly maxBytes?: number;
  /** Bytes to send before our FIN when the handler calls `done()`, e.g. a TLS close_notify or fatal alert record. */
  readonly closeWith?: Uint8Array;
  readonly signal?: AbortSignal;
}

/** Default limit on the TCP handshake: 5 s, long enough for a slow transatlantic SYN/SYN-ACK with one retransmit-free round trip plus margin. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Default idle limit after connecting: 5 s, far above any sane server's time to answer a ClientHello. */
export const DEFAULT_READ_TIMEOUT_MS = 5_000;

/**
 * Default cap on the bytes kept per exchange: 1 MiB. A server's whole first flight (ServerHello,
 * a certificate chain, key exchange, even a few 16 KiB records of TLS 1.3 encrypted handshake) is
 * far below that; a peer that sends more is streaming something that is not a handshake, and the
 * bytes it sends are peer-controlled memory we would otherwise grow without bound.
 */
export const DEFAULT_MAX_BYTES = 1 << 20;

/**
 * After `done()`, the longest we wait for our closing bytes and FIN to reach the kernel before
 * destroying the socket: 200 ms. We do not wait for the peer's own FIN: once our close_notify and
 * FIN are handed to the kernel the answer is known, and a server that is slow to close (or never
 * does) would otherwise hold every probe (issue 16: the wait for the peer's close was most of an
 * attempt against some servers). The cap only matters when the peer's receive window is full.
 */
export const DONE_LINGER_MS = 200;

/** Longest timeout Node's timers hold (2^31 - 1 ms, about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 0x7fffffff;

/** Error codes that mean the peer reset the connection. */
const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Returns a promise of how the exchange ended; never rejects for a network outcome.
 *
 * Connects to `opts.address:opts.port` (or to the proxy `opts.via`, then through its tunnel), runs
 * the STARTTLS dialogue when asked, sends `first`, and collects the reply. Each received chunk
 * (already counted in `received`) goes to `onData` with a control to send more or to finish with
 * `done()`. Without a handler, the exchange runs until the peer closes, resets, or the idle timeout
 * fires.
 *
 * Rejects only for caller mistakes: `TypeError` when `address` is not an IP literal (or, with `via`,
 * a host name), `via` or `starttls` is not usable, or a number option is out of range; or with the
 * handler's own exception (after the socket is closed).
 */
export function exchange(
  opts: ExchangeOptions,
  first: Uint8Array,
  onData?: (chunk: Uint8Array, ctl: ExchangeControl) => void,
): Promise<ExchangeResult> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const readTimeoutMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const addressProblem =
    opts.via === undefined
      ? isIP(opts.address) === 0
        ? `address must be an IP literal (resolve names with resolveHost first), got ${JSON.stringify(opts.address)}`
        : null
      : checkTargetHost(opts.address);
  const problem =
    addressProblem ??
    (opts.via !== undefined ? checkVia(opts.via) : null) ??
    (opts.starttls !== undefined && !(STARTTLS_PROTOCOLS as readonly string[]).includes(opts.starttls)
      ? `starttls must be one of ${STARTTLS_PROTOCOLS.join(', ')}, got ${JSON.stringify(opts.starttls)}`
      : !Number.isInteger(opts.port) || opts.port < 1 || opts.port > 0xffff
        ? `port must be an integer in 1..65535, got ${opts.port}`
        : !(connectTimeoutMs > 0 && connectTimeoutMs <= MAX_TIMER_MS)
          ? `connectTimeoutMs must be in (0, ${MAX_TIMER_MS}], got ${connectTimeoutMs}`
          : !(readTimeoutMs > 0 && readTimeoutMs <= MAX_TIMER_MS)
            ? `readTimeoutMs must be in (0, ${MAX_TIMER_MS}], got ${readTimeoutMs}`
            : !Number.isInteger(maxBytes) || maxBytes < 0
              ? `maxBytes must be a non-negative integer, got ${maxBytes}`
              : null);
  if (problem !== null) return Promise.reject(new TypeError(problem));

  const settings: Settings = { connectTimeoutMs, readTimeoutMs, maxBytes };
  const via = opts.via;
  if (via === undefined) return run(opts, settings, first, onData, null);
  // The proxy's name is resolved here, before the connect clock starts (as for the endpoint).
  return resolveHost(via.host).then((resolved) => {
    const hop: ProxyHop = {
      kind: via.kind,
      host: via.host,
      address: resolved.ok ? resolved.addresses[0]!.address : null,
      port: via.port,
    };
    if (!resolved.ok) {
      return result({
        ...NOT_CONNECTED,
        address: opts.address,
        port: opts.port,
        end: 'dns-error',
        errorCode: resolved.errorCode,
        proxy: hop,
      });
    }
    return run(opts, settings, first, onData, hop);
  });
}

interface Settings {
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly maxBytes: number;
}

/** Runs one exchange once every name is resolved (`hop` is the proxy, when there is one). */
function run(
  opts: ExchangeOptions,
  settings: Settings,
  first: Uint8Array,
  onData: ((chunk: Uint8Array, ctl: ExchangeControl) => void) | undefined,
  hop: ProxyHop | null,
): Promise<ExchangeResult> {
  const { connectTimeoutMs, readTimeoutMs, maxBytes } = settings;
  return new Promise<ExchangeResult>((resolve, reject) => {
    const { address, port, signal } = opts;
    const start = performance.now();
    const since = (): number => performance.now() - start;

    if (signal?.aborted) {
      resolve(result({ ...NOT_CONNECTED, address, port, end: 'aborted', errorCode: 'ABORT_ERR', proxy: hop }));
      return;
    }

    const chunks: Uint8Array[] = [];
    let kept = 0;
    let truncated = false;
    let connectMs: number | null = null;
    let firstByteMs: number | null = null;
    let lastByteMs: number | null = null;
    let tunnelMs: number | null = null;
    let firstSentMs: number | null = null;
    let phase: ExchangePhase = 'connect';
    let dialogue: Dialogue | null = null;
    let setupReply: string | null = null;
    // Set once, by finish(): the ending and its evidence, frozen at that moment.
    let ending: {
      end: ExchangeEnd;
      errorCode: string | null;
      elapsedMs: number;
      bytes: number;
      phase: ExchangePhase;
    } | null = null;
    let handlerError: { error: unknown } | null = null;
    let connectTimer: NodeJS.Timeout | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    let lingerTimer: NodeJS.Timeout | undefined;

    const socket = new Socket();
    socket.setNoDelay(true);

    const clearTimers = (): void => {
      clearTimeout(connectTimer);
      clearTimeout(idleTimer);
      clearTimeout(lingerTimer);
      connectTimer = idleTimer = lingerTimer = undefined;
    };

    const armIdle = (): void => {
      // Before the tunnel is open, the connect limit is the only clock.
      if (ending !== null || phase === 'connect' || phase === 'proxy') return;
      // One timer per exchange, restarted in place (a probe restarts it at every write and chunk).
      if (idleTimer === undefined) idleTimer = setTimeout(onIdle, readTimeoutMs);
      else idleTimer.refresh();
    };

    const onIdle = (): void => finish('timeout', null);

    /** Records the ending (first one wins) and starts closing the socket. */
    const finish = (end: ExchangeEnd, errorCode: string | null): void => {
      if (ending !== null) return;
      ending = { end, errorCode, elapsedMs: since(), bytes: kept, phase };
      clearTimers();
      signal?.removeEventListener('abort', onAbort);
      if (end === 'done' || isSetupEnd(end)) {
        // RFC 8446, Section 6.1: a party closing the write side sends close_notify (the caller's
        // closeWith) first; then our FIN. We give the peer a moment to close in turn. A refused
        // proxy or STARTTLS stage is closed the same way, without TLS bytes.
        if (end === 'done' && opts.closeWith !== undefined && opts.closeWith.length > 0) socket.write(opts.closeWith);
        // Destroyed as soon as the FIN is handed to the kernel ('finish'): the peer still gets our
        // bytes and FIN, and anything it sends afterwards is answered by the kernel with a RST.
        socket.end(() => socket.destroy());
        lingerTimer = setTimeout(() => socket.destroy(), DONE_LINGER_MS);
      } else {
        socket.destroy();
      }
    };

    const control: ExchangeControl = {
      send(bytes: Uint8Array): void {
        if (ending !== null || socket.destroyed || bytes.length === 0) return;
        armIdle();
        socket.write(bytes, onFlushed);
      },
      done(): void {
        finish('done', null);
      },
      abort(): void {
        finish('aborted', 'ABORT_ERR');
      },
    };

    const onFlushed = (err?: Error | null): void => {
      // A failed write also surfaces as an 'error' event, which decides the ending.
      if (!err) armIdle();
    };

    /** Enters `next` (the stage after the current one); `pending` arrived after the previous stage's last answer. */
    const enter = (next: ExchangePhase, pending: Uint8Array): void => {
      phase = next;
      if (next === 'proxy') {
        dialogue = createProxyDialogue(opts.via!, address, port);
        socket.write(dialogue.opening, onFlushed);
        return;
      }
      if (next === 'starttls') {
        dialogue = createStarttlsDialogue(opts.starttls!, opts.serverName ?? address);
        armIdle();
        if (dialogue.opening.length > 0) socket.write(dialogue.opening, onFlushed);
        if (pending.length > 0) feed(pending);
        return;
      }
      dialogue = null;
      firstSentMs = since();
      armIdle();
      socket.write(first, onFlushed);
      if (pending.length > 0) onPayload(pending);
    };

    /** Hands bytes to the current stage's dialogue and acts on its answer. */
    const feed = (chunk: Uint8Array): void => {
      let step: DialogueStep;
      try {
        step = dialogue!.push(chunk);
      } catch (error) {
        handlerError = { error };
        finish('error', 'HANDLER_ERROR');
        return;
      }
      switch (step.kind) {
        case 'continue':
          if (step.send !== undefined && step.send.length > 0) socket.write(step.send, onFlushed);
          return;
        case 'failed':
          setupReply = step.reply;
          finish(step.end, step.code);
          return;
        case 'ready':
          if (phase === 'proxy') {
            tunnelMs = since();
            clearTimeout(connectTimer);
            connectTimer = undefined;
            // As on 'connect': the timer may not have run yet when the answer is delivered.
            if (tunnelMs > connectTimeoutMs) {
              finish('connect-timeout', null);
              return;
            }
          }
          enter(phase === 'proxy' && opts.starttls !== undefined ? 'starttls' : 'hello', step.rest);
          return;
      }
    };

    const onConnect = (): void => {
      connectMs = since();
      // The connect deadline is checked here too: a timer scheduled for less than the event loop's
      // granularity may not have run yet when the connect event is delivered.
      if (connectMs > connectTimeoutMs) {
        finish('connect-timeout', null);
        return;
      }
      if (opts.via !== undefined) {
        // The connect timer keeps running: it covers the tunnel's set-up.
        enter('proxy', EMPTY);
        return;
      }
      clearTimeout(connectTimer);
      connectTimer = undefined;
      enter(opts.starttls !== undefined ? 'starttls' : 'hello', EMPTY);
    };

    /** Keeps a chunk of the peer's answer to `first` and hands it to `onData`. */
    const onPayload = (buf: Uint8Array): void => {
      if (firstByteMs === null) firstByteMs = since();
      const room = maxBytes - kept;
      const chunk = buf.length > room ? buf.subarray(0, room) : buf;
      if (chunk.length > 0) {
        chunks.push(chunk);
        kept += chunk.length;
        lastByteMs = since();
      }
      if (buf.length > room) truncated = true;
      armIdle();
      if (onData !== undefined && chunk.length > 0) {
        try {
          onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), control);
        } catch (error) {
          handlerError = { error };
          finish('error', 'HANDLER_ERROR');
          return;
        }
      }
      if (truncated) finish('max-bytes', null);
    };

    const onSocketData = (buf: Buffer): void => {
      if (ending !== null || buf.length === 0) return;
      if (phase === 'hello') {
        onPayload(buf);
        return;
      }
      armIdle();
      feed(buf);
    };

    const onEnd = (): void => finish('fin', null);

    const onError = (err: NodeJS.ErrnoException): void => {
      const code = err.code ?? 'UNKNOWN';
      if (RESET_CODES.has(code)) finish('reset', code);
      else if (code === 'ECONNREFUSED') finish('connect-refused', code);
      else finish('error', code);
    };

    const onAbort = (): void => finish('aborted', 'ABORT_ERR');

    const onClose = (): void => {
      clearTimers();
      socket.removeListener('connect', onConnect);
      socket.removeListener('data', onSocketData);
      socket.removeListener('end', onEnd);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      // The socket can close without an event we map (e.g. destroyed by the runtime): call it an error.
      if (ending === null) finish('error', 'CLOSED');
      const e = ending!;
      if (handlerError !== null) {
        reject(handlerError.error);
        return;
      }
      resolve(
        result({
          address,
          port,
          connectMs,
          elapsedMs: e.elapsedMs,
          chunks,
          bytesBeforeEnd: e.bytes,
          truncated,
          end: e.end,
          errorCode: e.errorCode,
          firstByteMs,
          lastByteMs,
          closedMs: since(),
          phase: e.phase,
          setupReply,
          proxy: hop,
          tunnelMs,
          firstSentMs,
        }),
      );
    };

    socket.on('connect', onConnect);
    socket.on('data', onSocketData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    connectTimer = setTimeout(() => finish('connect-timeout', null), connectTimeoutMs);
    socket.connect(hop !== null ? { host: hop.address!, port: hop.port } : { host: address, port });
  });
}

const EMPTY = new Uint8Array(0);

/** What `result` needs: the result, with the kept pieces of `received` instead of their copy. */
type ResultFacts = Omit<ExchangeResult, 'received'> & { readonly chunks: readonly Uint8Array[] };

/** The facts of an exchange that never connected. */
const NOT_CONNECTED = {
  connectMs: null,
  elapsedMs: 0,
  chunks: [],
  bytesBeforeEnd: 0,
  truncated: false,
  firstByteMs: null,
  lastByteMs: null,
  closedMs: 0,
  phase: 'connect',
  setupReply: null,
  proxy: null,
  tunnelMs: null,
  firstSentMs: null,
} as const satisfies Partial<ResultFacts>;

function result(f: ResultFacts): ExchangeResult {
  // Copy once, here at the socket boundary: the caller owns `received`, and Node's chunks may be
  // slices of a shared pool.
  const received = new Uint8Array(f.bytesBeforeEnd);
  let o = 0;
  for (const c of f.chunks) {
    if (o >= f.bytesBeforeEnd) break;
    const part = c.length > f.bytesBeforeEnd - o ? c.subarray(0, f.bytesBeforeEnd - o) : c;
    received.set(part, o);
    o += part.length;
  }
  return {
    address: f.address,
    port: f.port,
    connectMs: f.connectMs,
    elapsedMs: f.elapsedMs,
    received,
    truncated: f.truncated,
    end: f.end,
    errorCode: f.errorCode,
    bytesBeforeEnd: f.bytesBeforeEnd,
    firstByteMs: f.firstByteMs,
    lastByteMs: f.lastByteMs,
    closedMs: f.closedMs,
    phase: f.phase,
    setupReply: f.setupReply,
    proxy: f.proxy,
    tunnelMs: f.tunnelMs,
    firstSentMs: f.firstSentMs,
  };
}

/**
 * Returns a sentence saying why an exchange ended before `first` was sent, when a proxy or
 * STARTTLS stage is to blame (or the proxy's name did not resolve); null otherwise. Credentials
 * never appear: the proxy is named by host and port only.
 */
export function describeSetupFailure(r: ExchangeResult): string | null {
  const proxy = r.proxy
    ? `the ${r.proxy.kind === 'socks5' ? 'SOCKS5' : 'HTTP'} proxy ${hostPort(r.proxy.host, r.proxy.port)}`
    : 'the proxy';
  const reply = r.setupReply ? `: ${r.setupReply}` : '';
  switch (r.end) {
    case 'proxy-refused':
      return `${proxy} refused to open a tunnel to ${hostPort(r.address, r.port)}${reply}`;
    case 'proxy-auth-required':
      return `${proxy} requires authentication, or rejected the credentials given${reply}`;
    case 'proxy-error':
      return `${proxy} could not open a tunnel to ${hostPort(r.address, r.port)}${reply}`;
    case 'starttls-refused':
      return `the server refused STARTTLS${reply}`;
    case 'starttls-error':
      return `the server's STARTTLS answer could not be understood${reply}`;
    default:
      break;
  }
  if (r.end === 'dns-error' && r.proxy !== null && r.proxy.address === null)
    return `the proxy host ${r.proxy.host} did not resolve (${r.errorCode ?? 'unknown error'})`;
  if (r.phase !== 'proxy' && r.phase !== 'starttls') return null;
  const stage = r.phase === 'proxy' ? `before ${proxy} opened the tunnel` : 'during the STARTTLS dialogue';
  switch (r.end) {
    case 'reset':
      return `the connection was reset ${stage}`;
    case 'fin':
      return `the connection was closed ${stage}`;
    case 'timeout':
      return `no answer ${stage} (read timeout)`;
    case 'connect-timeout':
      return `the connect timeout ran out ${stage}`;
    case 'aborted':
      return `aborted ${stage}`;
    default:
      return `${r.errorCode ?? 'an error'} ${stage}`;
  }
}

/** Returns `host:port`, with IPv6 literals in brackets (RFC 3986, Section 3.2.2). */
function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** One resolved address of a host. */
export interface ResolvedAddress {
  readonly address: string;
  /** 4 or 6. */
  readonly family: 4 | 6;
}

/** A failed name resolution: the `dns.lookup` error code (`ENOTFOUND`, `EAI_AGAIN`, …) and message. */
export interface DnsFailure {
  readonly ok: false;
  readonly host: string;
  readonly errorCode: string;
  readonly message: string;
}

/** The addresses of a host, in the order the system resolver returned them. */
export interface DnsSuccess {
  readonly ok: true;
  readonly host: string;
  readonly addresses: readonly ResolvedAddress[];
}

export type ResolveResult = DnsSuccess | DnsFailure;

/** The `dns.lookup` signature `resolveHost` needs (injectable so tests never touch a real resolver). */
export type LookupAll = (
  host: string,
  options: { all: true; verbatim: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * Returns every address of `host` (IPv4 and IPv6, in resolver order, duplicates removed), or a
 * `DnsFailure`; never rejects. IP literals come back as themselves without a query. Uses the
 * system resolver (`dns.lookup`, so /etc/hosts applies), the same one a real client on this
 * machine would use.
 */
export function resolveHost(host: string, lookup: LookupAll = dnsLookup as LookupAll): Promise<ResolveResult> {
  return new Promise<ResolveResult>((resolve) => {
    const fail = (errorCode: string, message: string): void => resolve({ ok: false, host, errorCode, message });
    try {
      lookup(host, { all: true, verbatim: true }, (err, list) => {
        if (err) {
          fail(err.code ?? 'UNKNOWN', err.message);
          return;
        }
        const seen = new Set<string>();
        const addresses: ResolvedAddress[] = [];
        for (const a of list) {
          if (seen.has(a.address) || (a.family !== 4 && a.family !== 6)) continue;
          seen.add(a.address);
          addresses.push({ address: a.address, family: a.family });
        }
        if (addresses.length === 0) fail('ENOTFOUND', `no address for ${host}`);
        else resolve({ ok: true, host, addresses });
      });
    } catch (err) {
      // dns.lookup throws synchronously for an invalid argument (e.g. a non-string host).
      const e = err as NodeJS.ErrnoException;
      fail(e.code ?? 'EINVAL', e.message);
    }
  });
}

/** Returns the `ExchangeResult` of a probe that never connected because `resolveHost` failed. */
export function dnsErrorResult(failure: DnsFailure, port: number): ExchangeResult {
  return result({ ...NOT_CONNECTED, address: failure.host, port, end: 'dns-error', errorCode: failure.errorCode });
}
