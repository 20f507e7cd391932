/**
 * The test suite's own proxies on loopback: `startHttpConnectProxy` and `startSocks5Proxy` return a
 * running HTTP CONNECT proxy (RFC 9110, Section 9.3.6) or SOCKS5 proxy (RFC 1928, with RFC 1929
 * user/password when `auth` is set); they reject only when they cannot listen.
 *
 * They are written from the RFCs independently of src/probe/proxy.ts, and test/probe/proxy.test.ts
 * checks them against curl, so a bug shared by our client and these servers would show there.
 *
 * Modes model what corporate proxies do to TLS:
 * - 'tunnel': relay bytes both ways; a reset on one side is passed on as a reset on the other.
 * - 'refuse': HTTP answers every CONNECT with 403 Forbidden; SOCKS5 with reply 0x02 (not allowed by ruleset).
 * - 'reset-after-hello': open the tunnel (the upstream connection too), read the client's first
 *   TLS record (the ClientHello) without forwarding it, then reset the client connection: the
 *   proxy that causes the 10054.
 *
 * Targets are restricted to loopback (127.0.0.1, ::1, localhost): anything else is refused, so a
 * test can never make these proxies reach the network.
 */
import { type AddressInfo, type Server, type Socket, connect, createServer, isIP } from 'node:net';
import type { Via } from '../../src/probe/proxy.js';

export type ProxyMode = 'tunnel' | 'refuse' | 'reset-after-hello';

export interface ProxyCredentials {
  readonly username: string;
  readonly password: string;
}

export interface TestProxyOptions {
  /** Credentials the proxy requires (HTTP: Basic; SOCKS5: RFC 1929); none by default. */
  readonly auth?: ProxyCredentials;
  readonly mode?: ProxyMode;
}

/** What one client asked the proxy for. */
export interface ProxyRequest {
  /** The target as requested: 'host:port' ('[v6]:port' for IPv6). */
  readonly target: string;
  /** HTTP: the request head's header fields, names lower-cased. */
  readonly headers?: Readonly<Record<string, string>>;
  /** SOCKS5: the methods the client offered, and the address type of its CONNECT. */
  readonly methods?: readonly number[];
  readonly addressType?: number;
  /** Whether the credentials checked out (null when none were required). */
  readonly authorized: boolean | null;
}

export interface TestProxy {
  readonly kind: Via['kind'];
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Every request, in arrival order. */
  readonly requests: ProxyRequest[];
  /** The proxy as our client takes it, with `credentials` when given. */
  via(credentials?: ProxyCredentials): Via;
  /** The proxy as a URL for curl, with `credentials` when given. */
  url(credentials?: ProxyCredentials): string;
  /** Connections accepted so far. */
  connections(): number;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

const LOOPBACK_TARGETS: ReadonlySet<string> = new Set(['127.0.0.1', '::1', 'localhost']);

/** Cap on a request head the test proxy reads (8 KiB): clients send a few hundred bytes. */
const REQUEST_HEAD_MAX_BYTES = 8 * 1024;

/** Returns a running HTTP CONNECT proxy on 127.0.0.1. */
export function startHttpConnectProxy(opts: TestProxyOptions = {}): Promise<TestProxy> {
  return startProxy('http-connect', opts, (client, requests) => {
    let head = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > REQUEST_HEAD_MAX_BYTES) client.destroy();
        return;
      }
      client.removeListener('data', onData);
      client.pause();
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const early = head.subarray(end + 4);
      const [method, target, version] = (lines[0] ?? '').split(' ');
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const colon = l.indexOf(':');
        if (colon > 0) headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim();
      }
      const answer = (status: string, extra = ''): void => {
        client.end(`HTTP/1.1 ${status}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
        client.resume();
      };
      let authorized: boolean | null = null;
      if (opts.auth) {
        const expected = `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`, 'utf8').toString('base64')}`;
        authorized = headers['proxy-authorization'] === expected;
      }
      requests.push({ target: target ?? '', headers, authorized });
      if (method !== 'CONNECT' || !/^HTTP\/1\.[01]$/.test(version ?? '')) {
        answer('405 Method Not Allowed');
        return;
      }
      if (authorized === false) {
        answer('407 Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="tlsprobe test proxy"\r\n');
        return;
      }
      const parsed = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(target ?? '');
      const host = parsed?.[1] ?? parsed?.[2];
      if (!parsed || host === undefined || !LOOPBACK_TARGETS.has(host) || opts.mode === 'refuse') {
        answer('403 Forbidden');
        return;
      }
      openUpstream(host, Number(parsed[3]), (upstream, err) => {
        if (err !== null) return answer('502 Bad Gateway');
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        relay(client, upstream!, early, opts.mode ?? 'tunnel');
      });
    };
    client.on('data', onData);
  });
}

/** Returns a running SOCKS5 proxy on 127.0.0.1. */
export function startSocks5Proxy(opts: TestProxyOptions = {}): Promise<TestProxy> {
  return startProxy('socks5', opts, (client, requests) => {
    let buf = Buffer.alloc(0);
    let state: 'greeting' | 'auth' | 'request' = 'greeting';
    let methods: number[] = [];
    let authorized: boolean | null = null;
    const fail = (reply: Buffer): void => {
      client.end(reply);
      client.resume();
    };
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (state === 'greeting') {
          // RFC 1928, Section 3: VER, NMETHODS, METHODS.
          if (buf.length < 2 || buf.length < 2 + buf[1]!) return;
          if (buf[0] !== 5) return void client.destroy();
          methods = [...buf.subarray(2, 2 + buf[1]!)];
          buf = buf.subarray(2 + buf[1]!);
          const want = opts.auth ? 0x02 : 0x00;
          if (!methods.includes(want)) {
            requests.push({ target: '', methods, authorized: opts.auth ? false : null });
            fail(Buffer.from([5, 0xff]));
            return;
          }
          client.write(Buffer.from([5, want]));
          state = opts.auth ? 'auth' : 'request';
          continue;
        }
        if (state === 'auth') {
          // RFC 1929, Section 2: VER 1, ULEN, UNAME, PLEN, PASSWD.
          if (buf.length < 2) return;
          const ulen = buf[1]!;
          if (buf.length < 3 + ulen || buf.length < 3 + ulen + buf[2 + ulen]!) return;
          const plen = buf[2 + ulen]!;
          const user = buf.subarray(2, 2 + ulen).toString('utf8');
          const pass = buf.subarray(3 + ulen, 3 + ulen + plen).toString('utf8');
          buf = buf.subarray(3 + ulen + plen);
          authorized = user === opts.auth!.username && pass === opts.auth!.password;
          if (!authorized) {
            requests.push({ target: '', methods, authorized });
            fail(Buffer.from([1, 1]));
            return;
          }
          client.write(Buffer.from([1, 0]));
          state = 'request';
          continue;
        }
        // RFC 1928, Section 4: VER, CMD, RSV, ATYP, DST.ADDR, DST.PORT.
        if (buf.length < 5) return;
        const atyp = buf[3]!;
        const addrLength = atyp === 1 ? 4 : atyp === 4 ? 16 : atyp === 3 ? 1 + buf[4]! : -1;
        if (addrLength < 0) {
          fail(Buffer.from([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]));
          return;
        }
        if (buf.length < 4 + addrLength + 2) return;
        const addr = buf.subarray(4, 4 + addrLength);
        const host =
          atyp === 1 ? [...addr].join('.') : atyp === 4 ? ipv6Text(addr) : addr.subarray(1).toString('latin1');
        const port = buf.readUInt16BE(4 + addrLength);
        const early = buf.subarray(4 + addrLength + 2);
        client.removeListener('data', onData);
        client.pause();
        requests.push({
          target: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`,
          methods,
          addressType: atyp,
          authorized,
        });
        if (buf[1] !== 1) {
          fail(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
          return;
        }
        if (!LOOPBACK_TARGETS.has(host) || opts.mode === 'refuse') {
          fail(Buffer.from([5, 2, 0, 1, 0, 0, 0, 0, 0, 0]));
          return;
        }
        openUpstream(host, port, (upstream, err) => {
          if (err !== null) return fail(Buffer.from([5, err.code === 'ECONNREFUSED' ? 5 : 1, 0, 1, 0, 0, 0, 0, 0, 0]));
          // BND.ADDR/BND.PORT: the proxy's address towards the target (RFC 1928, Section 6).
          const bound = Buffer.alloc(10);
          bound.set([5, 0, 0, 1]);
          (upstream!.localAddress ?? '0.0.0.0').split('.').forEach((o, i) => {
            bound[4 + i] = Number(o) || 0;
          });
          bound.writeUInt16BE(upstream!.localPort ?? 0, 8);
          client.write(bound);
          relay(client, upstream!, early, opts.mode ?? 'tunnel');
        });
        return;
      }
    };
    client.on('data', onData);
  });
}

/** Returns the canonical text of a 16-byte IPv6 address (the WHATWG URL parser compresses it, RFC 5952). */
function ipv6Text(b: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(2 * i).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function openUpstream(
  host: string,
  port: number,
  done: (s: Socket | null, err: NodeJS.ErrnoException | null) => void,
): void {
  const upstream = connect({ host, port });
  const onError = (err: NodeJS.ErrnoException): void => done(null, err);
  upstream.once('error', onError);
  upstream.once('connect', () => {
    upstream.removeListener('error', onError);
    done(upstream, null);
  });
}

/**
 * Relays bytes between `client` and `upstream` (`early`: bytes the client sent with its request).
 * A reset on either side becomes a reset on the other, as a transparent relay shows it.
 */
function relay(client: Socket, upstream: Socket, early: Buffer, mode: ProxyMode): void {
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET' && !client.destroyed) client.resetAndDestroy();
    else client.destroy();
  });
  client.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET' && !upstream.destroyed) upstream.resetAndDestroy();
    else upstream.destroy();
  });
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => {
    if (!client.destroyed) client.end();
  });
  if (mode === 'reset-after-hello') {
    // Read the first TLS record (5-byte header + length, RFC 8446 Section 5.1), then RST the client.
    let got = early;
    const check = (): void => {
      if (got.length >= 5 && got.length >= 5 + got.readUInt16BE(3)) {
        client.removeListener('data', onHello);
        upstream.destroy();
        client.resetAndDestroy();
      }
    };
    const onHello = (d: Buffer): void => {
      got = Buffer.concat([got, d]);
      check();
    };
    client.on('data', onHello);
    client.resume();
    check();
    return;
  }
  if (early.length > 0) upstream.write(early);
  client.pipe(upstream);
  upstream.pipe(client);
  client.resume();
}

function startProxy(
  kind: Via['kind'],
  _opts: TestProxyOptions,
  handle: (client: Socket, requests: ProxyRequest[]) => void,
): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const requests: ProxyRequest[] = [];
  let count = 0;
  const server: Server = createServer((client) => {
    count++;
    sockets.add(client);
    client.on('error', () => {});
    client.once('close', () => sockets.delete(client));
    handle(client, requests);
  });
  return new Promise<TestProxy>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.removeListener('error', reject);
      const port = (server.address() as AddressInfo).port;
      const scheme = kind === 'http-connect' ? 'http' : 'socks5';
      resolve({
        kind,
        host: '127.0.0.1',
        port,
        requests,
        via: (c) => ({ kind, host: '127.0.0.1', port, ...(c ? { username: c.username, password: c.password } : {}) }),
        url: (c) =>
          `${scheme}://${c ? `${encodeURIComponent(c.username)}:${encodeURIComponent(c.password)}@` : ''}127.0.0.1:${port}`,
        connections: () => count,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
