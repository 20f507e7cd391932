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
 * Resource discipline: when the promise resolves, the socket is closed (its 'close' event has
 * fired), every timer is cleared and every listener this module added is removed.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Socket, isIP } from 'node:net';
import { performance } from 'node:perf_hooks';

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

export interface ExchangeResult {
  readonly address: string;
  readonly port: number;
  /** Milliseconds from the start of connect to TCP established; null when it never connected. */
  readonly connectMs: number | null;
  /** Milliseconds from the start of connect to the moment the ending was observed. */
  readonly elapsedMs: number;
  /** Every byte the peer sent, in order, up to `maxBytes` (see `truncated`). A copy, owned by the caller. */
  readonly received: Uint8Array;
  /** True when the peer sent more than `maxBytes`; the rest was not kept. */
  readonly truncated: boolean;
  readonly end: EndReason;
  /** The socket error code behind the ending (`ECONNRESET`, `EPIPE`, `ECONNREFUSED`, `ENOTFOUND`, …), else null. */
  readonly errorCode: string | null;
  /** `received.length` when the connection ended (bytes that arrived after the ending are not kept). */
  readonly bytesBeforeEnd: number;
  /** Milliseconds from the start of connect to the first received byte; null when none arrived. */
  readonly firstByteMs: number | null;
}

/** What the `onData` handler may do with the connection. */
export interface ExchangeControl {
  /** Sends more bytes (ignored once the exchange has ended). */
  send(bytes: Uint8Array): void;
  /** We have what we need: send `closeWith` (if any) then FIN, and end with `'done'`. */
  done(): void;
}

export interface ExchangeOptions {
  /** An IP address (v4 or v6), already resolved: see `resolveHost`. */
  readonly address: string;
  readonly port: number;
  /** Limit on the TCP handshake, in ms (default `DEFAULT_CONNECT_TIMEOUT_MS`). */
  readonly connectTimeoutMs?: number;
  /**
   * Idle limit once connected, in ms (default `DEFAULT_READ_TIMEOUT_MS`): the exchange ends with
   * `'timeout'` when nothing was sent or received for this long. The clock restarts at every
   * received chunk, at every `send()` and when a write has been flushed to the kernel, so a slow
   * but steady peer is not cut off; a peer that never answers is cut off this long after our last
   * byte went out.
   */
  readonly readTimeoutMs?: number;
  /** Cap on the bytes kept (default `DEFAULT_MAX_BYTES`). */
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
 * After `done()`, how long we wait for the peer's own FIN before destroying the socket: 200 ms.
 * Waiting lets a TLS server answer our close_notify and close first (a clean four-way close instead
 * of a RST from our side); the cap keeps a peer that ignores our FIN from stalling a scan.
 */
export const DONE_LINGER_MS = 200;

/** Longest timeout Node's timers hold (2^31 - 1 ms, about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 0x7fffffff;

/** Error codes that mean the peer reset the connection. */
const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Returns a promise of how the exchange ended; never rejects for a network outcome.
 *
 * Connects to `opts.address:opts.port`, sends `first` once connected, and collects the reply. Each
 * received chunk (already counted in `received`) goes to `onData` with a control to send more or to
 * finish with `done()`. Without a handler, the exchange runs until the peer closes, resets, or the
 * idle timeout fires.
 *
 * Rejects only for caller mistakes: `TypeError` when `address` is not an IP literal or a number
 * option is out of range, or the handler's own exception (after the socket is closed).
 */
export function exchange(
  opts: ExchangeOptions,
  first: Uint8Array,
  onData?: (chunk: Uint8Array, ctl: ExchangeControl) => void,
): Promise<ExchangeResult> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const readTimeoutMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const problem =
    isIP(opts.address) === 0
      ? `address must be an IP literal (resolve names with resolveHost first), got ${JSON.stringify(opts.address)}`
      : !Number.isInteger(opts.port) || opts.port < 1 || opts.port > 0xffff
        ? `port must be an integer in 1..65535, got ${opts.port}`
        : !(connectTimeoutMs > 0 && connectTimeoutMs <= MAX_TIMER_MS)
          ? `connectTimeoutMs must be in (0, ${MAX_TIMER_MS}], got ${connectTimeoutMs}`
          : !(readTimeoutMs > 0 && readTimeoutMs <= MAX_TIMER_MS)
            ? `readTimeoutMs must be in (0, ${MAX_TIMER_MS}], got ${readTimeoutMs}`
            : !Number.isInteger(maxBytes) || maxBytes < 0
              ? `maxBytes must be a non-negative integer, got ${maxBytes}`
              : null;
  if (problem !== null) return Promise.reject(new TypeError(problem));

  return new Promise<ExchangeResult>((resolve, reject) => {
    const { address, port, signal } = opts;
    const start = performance.now();
    const since = (): number => performance.now() - start;

    if (signal?.aborted) {
      resolve(result(address, port, null, 0, [], 0, false, 'aborted', 'ABORT_ERR', null));
      return;
    }

    const chunks: Uint8Array[] = [];
    let kept = 0;
    let truncated = false;
    let connectMs: number | null = null;
    let firstByteMs: number | null = null;
    // Set once, by finish(): the ending and its evidence, frozen at that moment.
    let ending: { end: EndReason; errorCode: string | null; elapsedMs: number; bytes: number } | null = null;
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
      if (ending !== null) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => finish('timeout', null), readTimeoutMs);
    };

    /** Records the ending (first one wins) and starts closing the socket. */
    const finish = (end: EndReason, errorCode: string | null): void => {
      if (ending !== null) return;
      ending = { end, errorCode, elapsedMs: since(), bytes: kept };
      clearTimers();
      signal?.removeEventListener('abort', onAbort);
      if (end === 'done') {
        // RFC 8446, Section 6.1: a party closing the write side sends close_notify (the caller's
        // closeWith) first; then our FIN. We give the peer a moment to close in turn.
        if (opts.closeWith !== undefined && opts.closeWith.length > 0) socket.write(opts.closeWith);
        socket.end();
        lingerTimer = setTimeout(() => socket.destroy(), DONE_LINGER_MS);
      } else {
        socket.destroy();
      }
    };

    const control: ExchangeControl = {
      send(bytes: Uint8Array): void {
        if (ending !== null || socket.destroyed) return;
        armIdle();
        socket.write(bytes, onFlushed);
      },
      done(): void {
        finish('done', null);
      },
    };

    const onFlushed = (err?: Error | null): void => {
      // A failed write also surfaces as an 'error' event, which decides the ending.
      if (!err) armIdle();
    };

    const onConnect = (): void => {
      connectMs = since();
      clearTimeout(connectTimer);
      connectTimer = undefined;
      // The connect deadline is checked here too: a timer scheduled for less than the event loop's
      // granularity may not have run yet when the connect event is delivered.
      if (connectMs > connectTimeoutMs) {
        finish('connect-timeout', null);
        return;
      }
      armIdle();
      socket.write(first, onFlushed);
    };

    const onSocketData = (buf: Buffer): void => {
      if (ending !== null) return;
      if (firstByteMs === null) firstByteMs = since();
      const room = maxBytes - kept;
      const chunk = buf.length > room ? buf.subarray(0, room) : buf;
      if (chunk.length > 0) {
        chunks.push(chunk);
        kept += chunk.length;
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
      resolve(result(address, port, connectMs, e.elapsedMs, chunks, e.bytes, truncated, e.end, e.errorCode, firstByteMs));
    };

    socket.on('connect', onConnect);
    socket.on('data', onSocketData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    connectTimer = setTimeout(() => finish('connect-timeout', null), connectTimeoutMs);
    socket.connect({ host: address, port });
  });
}

function result(
  address: string,
  port: number,
  connectMs: number | null,
  elapsedMs: number,
  chunks: readonly Uint8Array[],
  bytesBeforeEnd: number,
  truncated: boolean,
  end: EndReason,
  errorCode: string | null,
  firstByteMs: number | null,
): ExchangeResult {
  // Copy once, here at the socket boundary: the caller owns `received`, and Node's chunks may be
  // slices of a shared pool.
  const received = new Uint8Array(bytesBeforeEnd);
  let o = 0;
  for (const c of chunks) {
    if (o >= bytesBeforeEnd) break;
    const part = c.length > bytesBeforeEnd - o ? c.subarray(0, bytesBeforeEnd - o) : c;
    received.set(part, o);
    o += part.length;
  }
  return { address, port, connectMs, elapsedMs, received, truncated, end, errorCode, bytesBeforeEnd, firstByteMs };
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
  return result(failure.host, port, null, 0, [], 0, false, 'dns-error', failure.errorCode, null);
}
