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
import { Socket, isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { checkTargetHost, checkVia, createProxyDialogue, type Via } from './proxy.js';
import { STARTTLS_PROTOCOLS, createStarttlsDialogue, type StarttlsProtocol } from './starttls.js';
import type { Dialogue, DialogueStep } from './dialogue.js';
import {
  NOT_CONNECTED,
  isSetupEnd,
  result,
  type ExchangeEnd,
  type ExchangePhase,
  type ExchangeResult,
  type ProxyHop,
} from './exchange-result.js';
import { resolveHost } from './resolve.js';

export type { Dialogue, DialogueStep, SetupEndReason } from './dialogue.js';
export {
  describeSetupFailure,
  isSetupEnd,
  type EndReason,
  type ExchangeEnd,
  type ExchangePhase,
  type ExchangeResult,
  type ProxyHop,
} from './exchange-result.js';
export {
  dnsErrorResult,
  resolveHost,
  type DnsFailure,
  type DnsSuccess,
  type LookupAll,
  type ResolvedAddress,
  type ResolveResult,
} from './resolve.js';

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

/** The ending of an exchange and its evidence, frozen when `finish` first runs. */
interface Ending {
  readonly end: ExchangeEnd;
  readonly errorCode: string | null;
  readonly elapsedMs: number;
  readonly bytes: number;
  readonly phase: ExchangePhase;
}

/**
 * One exchange's connection: its socket, timers, stage, what arrived, and how it ended. Plain
 * mutable data, changed only by the functions below (one per socket event or stage step).
 */
interface Conn {
  readonly opts: ExchangeOptions;
  readonly settings: Settings;
  readonly first: Uint8Array;
  readonly onData: ((chunk: Uint8Array, ctl: ExchangeControl) => void) | undefined;
  readonly hop: ProxyHop | null;
  readonly socket: Socket;
  readonly start: number;
  readonly control: ExchangeControl;
  /** The socket and signal listeners, kept to be removed on close. */
  readonly listeners: Listeners;
  readonly settle: { resolve: (r: ExchangeResult) => void; reject: (e: unknown) => void };
  readonly chunks: Uint8Array[];
  kept: number;
  truncated: boolean;
  connectMs: number | null;
  firstByteMs: number | null;
  lastByteMs: number | null;
  tunnelMs: number | null;
  firstSentMs: number | null;
  phase: ExchangePhase;
  dialogue: Dialogue | null;
  setupReply: string | null;
  /** Set once, by `finish`. */
  ending: Ending | null;
  handlerError: { error: unknown } | null;
  connectTimer: NodeJS.Timeout | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  lingerTimer: NodeJS.Timeout | undefined;
}

interface Listeners {
  readonly connect: () => void;
  readonly data: (buf: Buffer) => void;
  readonly end: () => void;
  readonly error: (err: NodeJS.ErrnoException) => void;
  readonly close: () => void;
  readonly abort: () => void;
  readonly idle: () => void;
  /** A write's callback: a flushed write restarts the idle clock. */
  readonly flushed: (err?: Error | null) => void;
}

/** Runs one exchange once every name is resolved (`hop` is the proxy, when there is one). */
function run(
  opts: ExchangeOptions,
  settings: Settings,
  first: Uint8Array,
  onData: ((chunk: Uint8Array, ctl: ExchangeControl) => void) | undefined,
  hop: ProxyHop | null,
): Promise<ExchangeResult> {
  return new Promise<ExchangeResult>((resolve, reject) => {
    const { address, port, signal } = opts;
    if (signal?.aborted) {
      resolve(result({ ...NOT_CONNECTED, address, port, end: 'aborted', errorCode: 'ABORT_ERR', proxy: hop }));
      return;
    }
    const socket = new Socket();
    socket.setNoDelay(true);
    // The listeners and the control refer to `c` only when called: after it is made.
    const c: Conn = {
      opts,
      settings,
      first,
      onData,
      hop,
      socket,
      start: performance.now(),
      control: {
        send(bytes: Uint8Array): void {
          if (c.ending !== null || socket.destroyed || bytes.length === 0) return;
          armIdle(c);
          socket.write(bytes, c.listeners.flushed);
        },
        done: () => finish(c, 'done', null),
        abort: () => finish(c, 'aborted', 'ABORT_ERR'),
      },
      listeners: {
        connect: () => onConnect(c),
        data: (buf) => onSocketData(c, buf),
        end: () => finish(c, 'fin', null),
        error: (err) => onError(c, err),
        close: () => onClose(c),
        abort: () => finish(c, 'aborted', 'ABORT_ERR'),
        idle: () => finish(c, 'timeout', null),
        flushed: (err) => {
          // A failed write also surfaces as an 'error' event, which decides the ending.
          if (!err) armIdle(c);
        },
      },
      settle: { resolve, reject },
      chunks: [],
      kept: 0,
      truncated: false,
      connectMs: null,
      firstByteMs: null,
      lastByteMs: null,
      tunnelMs: null,
      firstSentMs: null,
      phase: 'connect',
      dialogue: null,
      setupReply: null,
      ending: null,
      handlerError: null,
      connectTimer: undefined,
      idleTimer: undefined,
      lingerTimer: undefined,
    };
    const { listeners } = c;
    socket.on('connect', listeners.connect);
    socket.on('data', listeners.data);
    socket.on('end', listeners.end);
    socket.on('error', listeners.error);
    socket.on('close', listeners.close);
    signal?.addEventListener('abort', listeners.abort, { once: true });
    c.connectTimer = setTimeout(() => finish(c, 'connect-timeout', null), settings.connectTimeoutMs);
    socket.connect(hop !== null ? { host: hop.address!, port: hop.port } : { host: address, port });
  });
}

/** Milliseconds since the exchange started. */
function since(c: Conn): number {
  return performance.now() - c.start;
}

function clearTimers(c: Conn): void {
  clearTimeout(c.connectTimer);
  clearTimeout(c.idleTimer);
  clearTimeout(c.lingerTimer);
  c.connectTimer = c.idleTimer = c.lingerTimer = undefined;
}

/** Restarts the idle clock (once the tunnel, if any, is open). */
function armIdle(c: Conn): void {
  // Before the tunnel is open, the connect limit is the only clock.
  if (c.ending !== null || c.phase === 'connect' || c.phase === 'proxy') return;
  // One timer per exchange, restarted in place (a probe restarts it at every write and chunk).
  if (c.idleTimer === undefined) c.idleTimer = setTimeout(c.listeners.idle, c.settings.readTimeoutMs);
  else c.idleTimer.refresh();
}

/** Records the ending (first one wins) and starts closing the socket. */
function finish(c: Conn, end: ExchangeEnd, errorCode: string | null): void {
  if (c.ending !== null) return;
  c.ending = { end, errorCode, elapsedMs: since(c), bytes: c.kept, phase: c.phase };
  clearTimers(c);
  c.opts.signal?.removeEventListener('abort', c.listeners.abort);
  const socket = c.socket;
  if (end === 'done' || isSetupEnd(end)) {
    // RFC 8446, Section 6.1: a party closing the write side sends close_notify (the caller's
    // closeWith) first; then our FIN. We give the peer a moment to close in turn. A refused
    // proxy or STARTTLS stage is closed the same way, without TLS bytes.
    if (end === 'done' && c.opts.closeWith !== undefined && c.opts.closeWith.length > 0) socket.write(c.opts.closeWith);
    // Destroyed as soon as the FIN is handed to the kernel ('finish'): the peer still gets our
    // bytes and FIN, and anything it sends afterwards is answered by the kernel with a RST.
    socket.end(() => socket.destroy());
    c.lingerTimer = setTimeout(() => socket.destroy(), DONE_LINGER_MS);
  } else {
    socket.destroy();
  }
}

/** Enters `next` (the stage after the current one); `pending` arrived after the previous stage's last answer. */
function enter(c: Conn, next: ExchangePhase, pending: Uint8Array): void {
  c.phase = next;
  const { opts, socket } = c;
  if (next === 'proxy') {
    c.dialogue = createProxyDialogue(opts.via!, opts.address, opts.port);
    socket.write(c.dialogue.opening, c.listeners.flushed);
    return;
  }
  if (next === 'starttls') {
    c.dialogue = createStarttlsDialogue(opts.starttls!, opts.serverName ?? opts.address);
    armIdle(c);
    if (c.dialogue.opening.length > 0) socket.write(c.dialogue.opening, c.listeners.flushed);
    if (pending.length > 0) feed(c, pending);
    return;
  }
  c.dialogue = null;
  c.firstSentMs = since(c);
  armIdle(c);
  socket.write(c.first, c.listeners.flushed);
  if (pending.length > 0) onPayload(c, pending);
}

/** Hands bytes to the current stage's dialogue and acts on its answer. */
function feed(c: Conn, chunk: Uint8Array): void {
  let step: DialogueStep;
  try {
    step = c.dialogue!.push(chunk);
  } catch (error) {
    c.handlerError = { error };
    finish(c, 'error', 'HANDLER_ERROR');
    return;
  }
  switch (step.kind) {
    case 'continue':
      if (step.send !== undefined && step.send.length > 0) c.socket.write(step.send, c.listeners.flushed);
      return;
    case 'failed':
      c.setupReply = step.reply;
      finish(c, step.end, step.code);
      return;
    case 'ready':
      if (c.phase === 'proxy') {
        c.tunnelMs = since(c);
        clearTimeout(c.connectTimer);
        c.connectTimer = undefined;
        // As on 'connect': the timer may not have run yet when the answer is delivered.
        if (c.tunnelMs > c.settings.connectTimeoutMs) {
          finish(c, 'connect-timeout', null);
          return;
        }
      }
      enter(c, c.phase === 'proxy' && c.opts.starttls !== undefined ? 'starttls' : 'hello', step.rest);
      return;
  }
}

function onConnect(c: Conn): void {
  c.connectMs = since(c);
  // The connect deadline is checked here too: a timer scheduled for less than the event loop's
  // granularity may not have run yet when the connect event is delivered.
  if (c.connectMs > c.settings.connectTimeoutMs) {
    finish(c, 'connect-timeout', null);
    return;
  }
  if (c.opts.via !== undefined) {
    // The connect timer keeps running: it covers the tunnel's set-up.
    enter(c, 'proxy', EMPTY);
    return;
  }
  clearTimeout(c.connectTimer);
  c.connectTimer = undefined;
  enter(c, c.opts.starttls !== undefined ? 'starttls' : 'hello', EMPTY);
}

/** Keeps a chunk of the peer's answer to `first` and hands it to `onData`. */
function onPayload(c: Conn, buf: Uint8Array): void {
  if (c.firstByteMs === null) c.firstByteMs = since(c);
  const room = c.settings.maxBytes - c.kept;
  const chunk = buf.length > room ? buf.subarray(0, room) : buf;
  if (chunk.length > 0) {
    c.chunks.push(chunk);
    c.kept += chunk.length;
    c.lastByteMs = since(c);
  }
  if (buf.length > room) c.truncated = true;
  armIdle(c);
  if (c.onData !== undefined && chunk.length > 0) {
    try {
      c.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), c.control);
    } catch (error) {
      c.handlerError = { error };
      finish(c, 'error', 'HANDLER_ERROR');
      return;
    }
  }
  if (c.truncated) finish(c, 'max-bytes', null);
}

function onSocketData(c: Conn, buf: Buffer): void {
  if (c.ending !== null || buf.length === 0) return;
  if (c.phase === 'hello') {
    onPayload(c, buf);
    return;
  }
  armIdle(c);
  feed(c, buf);
}

function onError(c: Conn, err: NodeJS.ErrnoException): void {
  const code = err.code ?? 'UNKNOWN';
  if (RESET_CODES.has(code)) finish(c, 'reset', code);
  else if (code === 'ECONNREFUSED') finish(c, 'connect-refused', code);
  else finish(c, 'error', code);
}

/** The socket closed: removes every listener and settles the exchange's promise. */
function onClose(c: Conn): void {
  clearTimers(c);
  const { socket, listeners } = c;
  socket.removeListener('connect', listeners.connect);
  socket.removeListener('data', listeners.data);
  socket.removeListener('end', listeners.end);
  socket.removeListener('error', listeners.error);
  socket.removeListener('close', listeners.close);
  c.opts.signal?.removeEventListener('abort', listeners.abort);
  // The socket can close without an event we map (e.g. destroyed by the runtime): call it an error.
  if (c.ending === null) finish(c, 'error', 'CLOSED');
  const e = c.ending!;
  if (c.handlerError !== null) {
    c.settle.reject(c.handlerError.error);
    return;
  }
  c.settle.resolve(
    result({
      address: c.opts.address,
      port: c.opts.port,
      connectMs: c.connectMs,
      elapsedMs: e.elapsedMs,
      chunks: c.chunks,
      bytesBeforeEnd: e.bytes,
      truncated: c.truncated,
      end: e.end,
      errorCode: e.errorCode,
      firstByteMs: c.firstByteMs,
      lastByteMs: c.lastByteMs,
      closedMs: since(c),
      phase: e.phase,
      setupReply: c.setupReply,
      proxy: c.hop,
      tunnelMs: c.tunnelMs,
      firstSentMs: c.firstSentMs,
    }),
  );
}

const EMPTY = new Uint8Array(0);
