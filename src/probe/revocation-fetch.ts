/**
 * Fetching CRLs and OCSP answers over plain HTTP with node:http: `httpFetch` returns the body of a
 * 200 answer, or why none came (refused, timed out, DNS, proxy refusal, HTTP status, too large). It
 * never throws for anything a network or server can do, and only ever fetches `http:` URLs it is given.
 *
 * Through a proxy it does what a Windows client does for http URLs: to an HTTP proxy it sends the
 * request in absolute-form (RFC 9112, Section 3.2.2), as WinHTTP does for plain HTTP; through SOCKS5
 * it opens a tunnel with the same dialogue the TLS probes use (proxy.ts) and speaks HTTP inside it.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import { createProxyDialogue, type Via } from './proxy.js';

/** Default time allowed for one fetch, connect to last byte: 15 s, long enough for a slow responder across a proxy, short enough to report on. */
export const DEFAULT_REVOCATION_TIMEOUT_MS = 15_000;

/** Why a fetch gave no body. */
export type FetchFailure =
  | 'bad-url'
  | 'dns'
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'proxy-refused'
  | 'http-status'
  | 'too-large'
  | 'network';

export type FetchResult =
  | {
      readonly ok: true;
      readonly status: number;
      readonly contentType: string | null;
      readonly body: Uint8Array;
      readonly elapsedMs: number;
    }
  | {
      readonly ok: false;
      readonly failure: FetchFailure;
      readonly detail: string;
      readonly status: number | null;
      readonly elapsedMs: number;
    };

export interface FetchOptions {
  readonly method: 'GET' | 'POST';
  readonly body?: Uint8Array;
  /** Content-Type of `body` (RFC 6960, Appendix A.1: application/ocsp-request). */
  readonly contentType?: string;
  /** Accept header value. */
  readonly accept: string;
  /** Cap on the body read; more is `too-large`. */
  readonly maxBytes: number;
  readonly timeoutMs?: number;
  readonly via?: Via;
}

/** Returns the body of `url` fetched per `opts`; see the file comment. */
export function httpFetch(url: string, opts: FetchOptions): Promise<FetchResult> {
  const started = Date.now();
  const elapsed = (): number => Date.now() - started;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.resolve({
      ok: false,
      failure: 'bad-url',
      detail: `not a URL: ${JSON.stringify(url)}`,
      status: null,
      elapsedMs: 0,
    });
  }
  if (u.protocol !== 'http:') {
    return Promise.resolve({
      ok: false,
      failure: 'bad-url',
      detail: `only http: URLs are fetched, not ${u.protocol}`,
      status: null,
      elapsedMs: 0,
    });
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port === '' ? 80 : Number(u.port);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REVOCATION_TIMEOUT_MS;
  return new Promise((resolve) => {
    let done = false;
    let req: ClientRequest | null = null;
    let tunnel: Socket | null = null;
    const finish = (r: FetchResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req?.destroy();
      tunnel?.destroy();
      resolve(r);
    };
    const fail = (failure: FetchFailure, detail: string, status: number | null = null): void =>
      finish({ ok: false, failure, detail, status, elapsedMs: elapsed() });
    const timer = setTimeout(() => fail('timeout', `no complete answer within ${timeoutMs} ms`), timeoutMs);
    const onResponse = (res: IncomingMessage): void => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        fail('http-status', `HTTP ${status} ${res.statusMessage ?? ''}`.trim(), status);
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (c: Buffer) => {
        total += c.length;
        if (total > opts.maxBytes) fail('too-large', `more than ${opts.maxBytes} bytes`, status);
        else chunks.push(c);
      });
      res.on('end', () =>
        finish({
          ok: true,
          status,
          contentType: res.headers['content-type'] ?? null,
          body: new Uint8Array(Buffer.concat(chunks)),
          elapsedMs: elapsed(),
        }),
      );
      res.on('error', (e) => fail(classify(e), e.message, status));
    };
    const headers: Record<string, string> = { Host: u.host, Accept: opts.accept, Connection: 'close' };
    if (opts.body) {
      headers['Content-Type'] = opts.contentType ?? 'application/octet-stream';
      headers['Content-Length'] = String(opts.body.length);
    }
    const send = (r: ClientRequest): void => {
      req = r;
      r.on('response', onResponse);
      r.on('error', (e) => fail(classify(e), e.message));
      r.end(opts.body ? Buffer.from(opts.body) : undefined);
    };
    const via = opts.via;
    if (via?.kind === 'http-connect') {
      // RFC 9112, Section 3.2.2: absolute-form request target to a proxy.
      if (via.username !== undefined)
        headers['Proxy-Authorization'] =
          `Basic ${Buffer.from(`${via.username}:${via.password ?? ''}`, 'utf8').toString('base64')}`;
      send(httpRequest({ host: via.host, port: via.port, method: opts.method, path: u.href, headers, agent: false }));
    } else if (via?.kind === 'socks5') {
      openSocksTunnel(via, host, port, (s) => (tunnel = s))
        .then((socket) => {
          if (done) return;
          // No agent: node:http uses createConnection only when no agent is given.
          send(
            httpRequest({
              method: opts.method,
              path: `${u.pathname}${u.search}`,
              headers,
              createConnection: () => socket,
            }),
          );
        })
        .catch((e: Error & { failure?: FetchFailure }) => fail(e.failure ?? classify(e), e.message));
    } else {
      send(
        httpRequest({
          host,
          port,
          family: isIP(host) || undefined,
          method: opts.method,
          path: `${u.pathname}${u.search}`,
          headers,
          agent: false,
        }),
      );
    }
  });
}

/** Returns the failure kind of a socket or HTTP error. */
function classify(e: Error & { code?: string }): FetchFailure {
  switch (e.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return 'dns';
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'network';
  }
}

/** Returns a socket tunnelled through the SOCKS5 proxy `via` to `host:port`; rejects with `failure` set when the proxy refuses. */
function openSocksTunnel(via: Via, host: string, port: number, track: (s: Socket) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let dialogue;
    try {
      dialogue = createProxyDialogue(via, host, port);
    } catch (e) {
      reject(Object.assign(new Error((e as Error).message), { failure: 'bad-url' as FetchFailure }));
      return;
    }
    const d = dialogue;
    const socket = connect({ host: via.host, port: via.port });
    track(socket);
    const onData = (chunk: Buffer): void => {
      const step = d.push(new Uint8Array(chunk));
      if (step.kind === 'continue') {
        if (step.send) socket.write(step.send);
      } else if (step.kind === 'ready') {
        socket.off('data', onData);
        socket.off('error', onError);
        resolve(socket);
      } else {
        socket.destroy();
        reject(
          Object.assign(new Error(`proxy ${step.code}: ${step.reply}`), { failure: 'proxy-refused' as FetchFailure }),
        );
      }
    };
    const onError = (e: Error): void => reject(e);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.once('connect', () => socket.write(d.opening));
  });
}
