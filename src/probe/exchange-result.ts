/**
 * What an exchange (transport.ts) returns: `ExchangeResult` and how it ended, built from the facts
 * the exchange gathered; and the sentence that says why a proxy or STARTTLS stage ended it.
 */
import { isIP } from 'node:net';
import type { SetupEndReason } from './dialogue.js';
import type { Via } from './proxy.js';

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

/** What `result` needs: the result, with the kept pieces of `received` instead of their copy. */
export type ResultFacts = Omit<ExchangeResult, 'received'> & { readonly chunks: readonly Uint8Array[] };

/** The facts of an exchange that never connected. */
export const NOT_CONNECTED = {
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

/** Returns the result of an exchange from its facts, `received` copied out of the kept chunks. */
export function result(f: ResultFacts): ExchangeResult {
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
