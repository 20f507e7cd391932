/**
 * The `ExchangeResult` of an exchange (transport.ts) from the facts it gathered, and the sentence
 * that says why a proxy or STARTTLS stage ended it.
 */
import { isIP } from 'node:net';
import type { ExchangeResult } from './transport.js';

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
