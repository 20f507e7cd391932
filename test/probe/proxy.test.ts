/**
 * Proxies: URL parsing and the CONNECT / SOCKS5 encodings (checked against the RFC layouts and
 * against what curl sends), then whole attempts, scans and diagnoses against the lab through the
 * test suite's own HTTP CONNECT and SOCKS5 proxies (test/helpers/proxies.ts), which curl uses too.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDiagnosis } from '../../src/diagnose/run.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { attempt } from '../../src/probe/attempt.js';
import {
  PROXY_REPLY_MAX_BYTES,
  encodeConnectRequest,
  encodeSocks5Auth,
  encodeSocks5Connect,
  encodeSocks5Greeting,
  formatVia,
  parseProxyUrl,
  readConnectReply,
  readSocks5Reply,
  redactProxyUrl,
  type Via,
} from '../../src/probe/proxy.js';
import { scan } from '../../src/probe/scan.js';
import { exchange, resolveHost } from '../../src/probe/transport.js';
import { fromHex } from '../../src/wire/hex.js';
import { type TestProxy, startHttpConnectProxy, startSocks5Proxy } from '../helpers/proxies.js';
import { hasTool } from '../helpers/tools.js';
import { leaked, resources } from '../helpers/resources.js';
import { TIMER_EARLY_MS } from '../helpers/timers.js';

const HAS_CURL = hasTool('curl');
const NO_CURL = 'curl not found on PATH (apt install curl): the curl cross-checks are skipped';

const CREDS = { username: 'backup-agent', password: 'S3cret:pass@word' };
const WRONG = { username: 'backup-agent', password: 'not-the-password' };

let lab: Lab;
const proxies: TestProxy[] = [];
beforeAll(async () => {
  lab = await startLab({ names: ['modern', 'reset-legacy', 'alert-legacy'], keyAlgorithm: 'ecdsa-p256' });
});
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await lab?.close();
});

/** Starts a proxy that is closed after the file. */
async function proxy(
  kind: 'http' | 'socks5',
  opts: Parameters<typeof startHttpConnectProxy>[0] = {},
): Promise<TestProxy> {
  const p = kind === 'http' ? await startHttpConnectProxy(opts) : await startSocks5Proxy(opts);
  proxies.push(p);
  return p;
}

function labTarget(name: string, host = 'localhost') {
  const e = lab.endpoint(name);
  return { host, address: e.host, port: e.port };
}

/** A raw loopback server with one scripted behaviour; `idle()` resolves when its sockets are closed. */
async function rawServer(
  onConnection: (socket: Socket) => void,
): Promise<{ port: number; idle(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let waiters: (() => void)[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) for (const w of waiters.splice(0)) w();
    });
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  waiters = [];
  return {
    port: (server.address() as AddressInfo).port,
    idle: () => (sockets.size === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Runs a program without blocking the event loop (the proxies it talks to live in this process). */
function run(cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code =
        err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const HELLO_RECORD = fromHex('16 03 01 00 05 01 00 00 01 00');

describe('parseProxyUrl', () => {
  it('reads an HTTP proxy with percent-encoded credentials as an http-connect via', () => {
    expect(parseProxyUrl('http://u%40corp:p%3Aw%40rd@proxy.corp.example:3128')).toEqual({
      kind: 'http-connect',
      host: 'proxy.corp.example',
      port: 3128,
      username: 'u@corp',
      password: 'p:w@rd',
    });
  });

  it('reads a SOCKS5 proxy on an IPv6 literal without credentials', () => {
    expect(parseProxyUrl('socks5://[::1]:1080')).toEqual({ kind: 'socks5', host: '::1', port: 1080 });
  });

  it('accepts a trailing slash and an upper-case scheme', () => {
    expect(parseProxyUrl('HTTP://10.0.0.1:8080/')).toEqual({ kind: 'http-connect', host: '10.0.0.1', port: 8080 });
  });

  it('rejects https proxies, other schemes, missing or bad ports, paths and empty hosts', () => {
    for (const bad of [
      'https://proxy:443',
      'ftp://proxy:21',
      'http://proxy',
      'http://proxy:0',
      'http://proxy:70000',
      'http://proxy:80/path',
      'http://:8080',
      'proxy:8080',
      'http://bad host:8080',
      'socks5://[not-v6]:1080',
    ]) {
      expect(() => parseProxyUrl(bad), bad).toThrow(TypeError);
    }
  });

  it('never puts the password in an error message', () => {
    for (const bad of [
      'https://bob:hunter2@proxy:443',
      'http://bob:hunter2@proxy',
      'http://bob:hunter2@proxy:99999',
      'socks5://bob:hunter2@proxy:1080/x',
    ]) {
      let message = '';
      try {
        parseProxyUrl(bad);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, bad).toContain('bob:***@');
      expect(message, bad).not.toContain('hunter2');
    }
  });

  it('rejects a Basic user name containing a colon (RFC 7617, Section 2)', () => {
    expect(() => parseProxyUrl('http://a%3Ab:pw@proxy:3128')).toThrow(/RFC 7617/);
  });

  it('rejects SOCKS5 credentials outside 1..255 bytes (RFC 1929, Section 2)', () => {
    expect(() => parseProxyUrl('socks5://user:@proxy:1080')).toThrow(/RFC 1929/);
    expect(() => parseProxyUrl(`socks5://user:${'x'.repeat(256)}@proxy:1080`)).toThrow(/RFC 1929/);
    expect(parseProxyUrl(`socks5://user:${'x'.repeat(255)}@proxy:1080`).password).toHaveLength(255);
  });
});

describe('formatVia and redactProxyUrl', () => {
  it('show the user but never the password', () => {
    const via = parseProxyUrl('http://agent:topsecret@proxy.example:3128');
    expect(formatVia(via)).toBe('http://agent:***@proxy.example:3128');
    expect(formatVia({ kind: 'socks5', host: '::1', port: 1080 })).toBe('socks5://[::1]:1080');
    expect(redactProxyUrl('socks5://agent:topsecret@proxy:1080')).toBe('socks5://agent:***@proxy:1080');
  });
});

describe('encodeConnectRequest', () => {
  it('writes the authority-form request line and Host (RFC 9112, Section 3.2.3; RFC 9110, Section 7.2)', () => {
    const text = Buffer.from(
      encodeConnectRequest({ kind: 'http-connect', host: 'p', port: 1 }, 'server.example.com', 443),
    ).toString('latin1');
    expect(text).toBe('CONNECT server.example.com:443 HTTP/1.1\r\nHost: server.example.com:443\r\n\r\n');
  });

  it('brackets an IPv6 target (RFC 3986, Section 3.2.2)', () => {
    const text = Buffer.from(
      encodeConnectRequest({ kind: 'http-connect', host: 'p', port: 1 }, '2001:db8::1', 443),
    ).toString('latin1');
    expect(text.split('\r\n')[0]).toBe('CONNECT [2001:db8::1]:443 HTTP/1.1');
  });

  it('encodes Basic credentials as RFC 7617, Section 2 shows them', () => {
    // RFC 7617, Section 2: user-id "Aladdin", password "open sesame" → "QWxhZGRpbjpvcGVuIHNlc2FtZQ==".
    const text = Buffer.from(
      encodeConnectRequest(
        { kind: 'http-connect', host: 'p', port: 1, username: 'Aladdin', password: 'open sesame' },
        'h',
        1,
      ),
    ).toString('latin1');
    expect(text).toContain('\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n');
  });
});

describe('readConnectReply', () => {
  const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

  it('returns null until the blank line that ends the head', () => {
    const full = 'HTTP/1.1 200 Connection established\r\n\r\n';
    for (let i = 0; i < full.length; i++) expect(readConnectReply(bytes(full.slice(0, i))), `prefix ${i}`).toBeNull();
    expect(readConnectReply(bytes(full))).toMatchObject({ status: 200, headLength: full.length });
  });

  it('keeps the status line and the Proxy-Authenticate schemes of a 407', () => {
    const r = readConnectReply(
      bytes(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\nproxy-authenticate: Basic realm="corp"\r\nContent-Length: 5\r\n\r\nerror',
      ),
    );
    expect(r).toMatchObject({
      status: 407,
      statusLine: 'HTTP/1.1 407 Proxy Authentication Required',
      authSchemes: ['NTLM', 'Basic'],
    });
  });

  it('accepts bare LF line ends (RFC 9112, Section 2.2) and HTTP/1.0', () => {
    expect(readConnectReply(bytes('HTTP/1.0 200 OK\n\nrest'))).toMatchObject({ status: 200, headLength: 17 });
  });

  it('throws as soon as the first bytes cannot start a status line', () => {
    expect(() => readConnectReply(bytes('SSH-2.0'))).toThrow(TypeError);
    expect(() => readConnectReply(bytes('\u0015\u0003\u0003'))).toThrow(TypeError);
    expect(readConnectReply(bytes('HTT'))).toBeNull();
  });
});

describe('SOCKS5 encodings', () => {
  it('offers no-authentication, plus username/password with credentials (RFC 1928, Section 3)', () => {
    expect([...encodeSocks5Greeting(false)]).toEqual([5, 1, 0]);
    expect([...encodeSocks5Greeting(true)]).toEqual([5, 2, 0, 2]);
  });

  it('lays out the CONNECT request per RFC 1928, Section 4 for each address type', () => {
    expect([...encodeSocks5Connect('192.0.2.1', 443)]).toEqual([5, 1, 0, 1, 192, 0, 2, 1, 0x01, 0xbb]);
    expect([...encodeSocks5Connect('example.com', 443)]).toEqual([
      5,
      1,
      0,
      3,
      11,
      ...Buffer.from('example.com'),
      0x01,
      0xbb,
    ]);
    expect([...encodeSocks5Connect('2001:db8::ffff:192.0.2.1', 80)]).toEqual([
      5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1, 0, 80,
    ]);
  });

  it('reads a reply only once it is whole (RFC 1928, Section 6)', () => {
    const reply = Uint8Array.from([5, 0, 0, 1, 10, 0, 0, 7, 0x1f, 0x90, 0x16]);
    for (let i = 0; i < 10; i++) expect(readSocks5Reply(reply.subarray(0, i)), `prefix ${i}`).toBeNull();
    expect(readSocks5Reply(reply)).toEqual({ reply: 0, boundAddress: '10.0.0.7', boundPort: 8080, length: 10 });
    expect(readSocks5Reply(Uint8Array.from([5, 0, 0, 3, 2, 0x61, 0x62, 0, 1]))).toMatchObject({
      boundAddress: 'ab',
      boundPort: 1,
    });
    expect(() => readSocks5Reply(Uint8Array.from([4, 0, 0, 1, 0, 0, 0, 0, 0, 0]))).toThrow(/version/);
    expect(() => readSocks5Reply(Uint8Array.from([5, 0, 0, 9, 0, 0, 0, 0, 0, 0]))).toThrow(/address type/);
  });
});

describe.skipIf(!HAS_CURL)('our requests match what curl sends', () => {
  it('sends the same CONNECT line, Host and Proxy-Authorization as curl', async () => {
    let seen = '';
    const srv = await rawServer((s) =>
      s.once('data', (d: Buffer) => {
        seen = d.toString('latin1');
        s.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      }),
    );
    await run('curl', [
      '-s',
      '-x',
      `http://${encodeURIComponent(CREDS.username)}:${encodeURIComponent(CREDS.password)}@127.0.0.1:${srv.port}`,
      'https://backup.example.net:8443/',
    ]);
    await srv.close();
    const ours = Buffer.from(
      encodeConnectRequest(
        { kind: 'http-connect', host: '127.0.0.1', port: srv.port, ...CREDS },
        'backup.example.net',
        8443,
      ),
    ).toString('latin1');
    const pick = (text: string) => text.split('\r\n').filter((l) => /^(CONNECT |Host:|Proxy-Authorization:)/.test(l));
    expect(pick(seen)).toHaveLength(3);
    expect(pick(ours)).toEqual(pick(seen));
  });

  it('sends the same RFC 1929 request and SOCKS5 CONNECT (name, IPv4, IPv6) as curl', async () => {
    const requests: Buffer[] = [];
    const auths: Buffer[] = [];
    const srv = await rawServer((s) => {
      let n = 0;
      let withAuth = false;
      s.on('data', (d: Buffer) => {
        if (n === 0) {
          withAuth = d.subarray(2).includes(2);
          s.write(Buffer.from([5, withAuth ? 2 : 0]));
        } else if (n === 1 && withAuth) {
          auths.push(d);
          s.write(Buffer.from([1, 0]));
        } else {
          requests.push(d);
          s.end(Buffer.from([5, 2, 0, 1, 0, 0, 0, 0, 0, 0]));
        }
        n++;
      });
    });
    const proxyArg = `127.0.0.1:${srv.port}`;
    await run('curl', [
      '-s',
      '--socks5-hostname',
      proxyArg,
      '--proxy-user',
      `${CREDS.username}:${CREDS.password}`,
      'https://backup.example.net:8443/',
    ]);
    await run('curl', ['-s', '--socks5', proxyArg, 'https://192.0.2.1:443/']);
    await run('curl', ['-s', '--socks5', proxyArg, 'https://[2001:db8::1]:443/']);
    await srv.close();
    expect(auths.map((b) => b.toString('hex'))).toEqual([
      Buffer.from(encodeSocks5Auth(CREDS.username, CREDS.password)).toString('hex'),
    ]);
    expect(requests.map((b) => b.toString('hex'))).toEqual(
      [
        encodeSocks5Connect('backup.example.net', 8443),
        encodeSocks5Connect('192.0.2.1', 443),
        encodeSocks5Connect('2001:db8::1', 443),
      ].map((b) => Buffer.from(b).toString('hex')),
    );
  });

  it('the test proxies carry curl to the lab (HTTP CONNECT with Basic, SOCKS5 with user/password)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-proxy-'));
    try {
      const ca = join(dir, 'root.pem');
      writeFileSync(ca, lab.pki.root.pem);
      const port = lab.endpoint('modern').port;
      const http = await proxy('http', { auth: CREDS });
      const socks = await proxy('socks5', { auth: CREDS });
      const viaHttp = await run('curl', ['-s', '--cacert', ca, '-x', http.url(CREDS), `https://localhost:${port}/`]);
      const viaSocks = await run('curl', ['-s', '--cacert', ca, '-x', socks.url(CREDS), `https://127.0.0.1:${port}/`]);
      const denied = await run('curl', [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_connect}',
        '--cacert',
        ca,
        '-x',
        http.url(WRONG),
        `https://localhost:${port}/`,
      ]);
      expect(viaHttp.stdout).toContain('tlsprobe lab endpoint modern');
      expect(viaSocks.stdout).toContain('tlsprobe lab endpoint modern');
      expect(denied.stdout).toBe('407');
      expect(http.requests.map((r) => r.authorized)).toEqual([true, false]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
if (!HAS_CURL) console.warn(NO_CURL);

for (const kind of ['http', 'socks5'] as const) {
  describe(`attempt through the test ${kind === 'http' ? 'HTTP CONNECT' : 'SOCKS5'} proxy`, () => {
    it('completes TLS 1.2 and TLS 1.3 handshakes with the lab through the tunnel', async () => {
      const p = await proxy(kind);
      for (const version of ['TLS1.2', 'TLS1.3'] as const) {
        const r = await attempt(labTarget('modern', '127.0.0.1'), { version, sni: 'localhost' }, { via: p.via() });
        expect(r.outcome, version).toBe('negotiated');
        expect(r.supported).toBe(true);
        expect(r.phase).toBe('hello');
        expect(r.certificates.length).toBe(3);
      }
      expect(p.requests.map((r) => r.target)).toEqual([
        `127.0.0.1:${lab.endpoint('modern').port}`,
        `127.0.0.1:${lab.endpoint('modern').port}`,
      ]);
      if (kind === 'socks5') expect(p.requests[0]?.addressType).toBe(1);
    });

    it('names the target to the proxy by host name, which the proxy resolves', async () => {
      const p = await proxy(kind);
      const r = await attempt(
        { ...labTarget('modern'), address: 'localhost' },
        { version: 'TLS1.2', sni: 'localhost' },
        { via: p.via() },
      );
      expect(r.outcome).toBe('negotiated');
      expect(p.requests[0]?.target).toBe(`localhost:${lab.endpoint('modern').port}`);
      if (kind === 'socks5') expect(p.requests[0]?.addressType).toBe(3);
    });

    it('authenticates with the credentials the proxy requires', async () => {
      const p = await proxy(kind, { auth: CREDS });
      const r = await attempt(
        labTarget('modern', '127.0.0.1'),
        { version: 'TLS1.2', sni: 'localhost' },
        { via: p.via(CREDS) },
      );
      expect(r.outcome).toBe('negotiated');
      expect(p.requests[0]?.authorized).toBe(true);
      if (kind === 'socks5') expect(p.requests[0]?.methods).toEqual([0, 2]);
    });

    it('reports proxy-auth-required for a wrong password, without the password anywhere in the result', async () => {
      const p = await proxy(kind, { auth: CREDS });
      const r = await attempt(
        labTarget('modern', '127.0.0.1'),
        { version: 'TLS1.2', sni: 'localhost' },
        { via: p.via(WRONG) },
      );
      expect(r.end).toBe('proxy-auth-required');
      expect(r.outcome).toBe('connect-refused');
      expect(r.phase).toBe('proxy');
      expect(r.errorCode).toBe(kind === 'http' ? 'PROXY_407' : 'SOCKS5_AUTH_FAILED');
      if (kind === 'http')
        expect(r.error).toContain('HTTP/1.1 407 Proxy Authentication Required (Proxy-Authenticate: Basic)');
      expect(JSON.stringify(r)).not.toContain(WRONG.password);
    });

    it('reports proxy-auth-required when the proxy wants credentials and none were given', async () => {
      const p = await proxy(kind, { auth: CREDS });
      const r = await attempt(
        labTarget('modern', '127.0.0.1'),
        { version: 'TLS1.2', sni: 'localhost' },
        { via: p.via() },
      );
      expect(r.end).toBe('proxy-auth-required');
      expect(r.errorCode).toBe(kind === 'http' ? 'PROXY_407' : 'SOCKS5_AUTH_REQUIRED');
    });

    it('keeps the refusal when the proxy will not open the tunnel', async () => {
      const p = await proxy(kind, { mode: 'refuse' });
      const r = await attempt(
        labTarget('modern', '127.0.0.1'),
        { version: 'TLS1.2', sni: 'localhost' },
        { via: p.via() },
      );
      expect(r.outcome).toBe('connect-refused');
      if (kind === 'http') {
        expect(r.end).toBe('proxy-refused');
        expect(r.errorCode).toBe('PROXY_403');
        expect(r.error).toContain('HTTP/1.1 403 Forbidden');
      } else {
        expect(r.end).toBe('proxy-error');
        expect(r.errorCode).toBe('SOCKS5_REP_02');
        expect(r.error).toContain('connection not allowed by ruleset');
      }
    });

    it('reports the reset when the proxy resets the tunnel after the ClientHello (10054)', async () => {
      const p = await proxy(kind, { mode: 'reset-after-hello' });
      const r = await attempt(
        labTarget('modern', '127.0.0.1'),
        { version: 'TLS1.2', sni: 'localhost' },
        { via: p.via(), readTimeoutMs: 3000 },
      );
      expect(r.outcome).toBe('reset');
      expect(r.end).toBe('reset');
      expect(r.phase).toBe('hello');
      expect(r.errorCode).toBe('ECONNRESET');
    });

    it('passes on a reset by the endpoint itself', async () => {
      const p = await proxy(kind);
      const r = await attempt(
        labTarget('reset-legacy', '127.0.0.1'),
        { version: 'TLS1.0', sni: 'localhost' },
        { via: p.via(), readTimeoutMs: 3000 },
      );
      expect(r.outcome).toBe('reset');
      expect(r.phase).toBe('hello');
    });
  });
}

describe('exchange through a proxy', () => {
  it('reports SOCKS5 reply 5 when the target refuses the proxy', async () => {
    const p = await proxy('socks5');
    const closed = await rawServer(() => {});
    await closed.close();
    const r = await exchange({ address: '127.0.0.1', port: closed.port, via: p.via() }, HELLO_RECORD);
    expect(r.end).toBe('proxy-error');
    expect(r.errorCode).toBe('SOCKS5_REP_05');
    expect(r.setupReply).toBe('SOCKS5 reply 5: connection refused');
  });

  it('measures connectMs to the proxy and the tunnel separately, and keeps no proxy bytes in received', async () => {
    const alert = fromHex('15 03 03 00 02 02 28');
    const srv = await rawServer((s) =>
      s.once('data', () =>
        s.end(Buffer.concat([Buffer.from('HTTP/1.1 200 Connection established\r\nVia: 1.1 test\r\n\r\n'), alert])),
      ),
    );
    const r = await exchange(
      { address: '192.0.2.7', port: 443, via: { kind: 'http-connect', host: '127.0.0.1', port: srv.port } },
      HELLO_RECORD,
    );
    expect(r.end).toBe('fin');
    expect([...r.received]).toEqual([...alert]);
    expect(r.connectMs).not.toBeNull();
    expect(r.tunnelMs!).toBeGreaterThanOrEqual(r.connectMs!);
    expect(r.firstSentMs!).toBeGreaterThanOrEqual(r.tunnelMs!);
    expect(r.firstByteMs!).toBeGreaterThanOrEqual(r.tunnelMs!);
    expect(r.proxy).toEqual({ kind: 'http-connect', host: '127.0.0.1', address: '127.0.0.1', port: srv.port });
    await srv.close();
  });

  it('skips an interim 1xx answer before the 200', async () => {
    const srv = await rawServer((s) =>
      s.once('data', () => s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n')),
    );
    const r = await exchange(
      {
        address: '127.0.0.1',
        port: 443,
        via: { kind: 'http-connect', host: '127.0.0.1', port: srv.port },
        readTimeoutMs: 200,
      },
      HELLO_RECORD,
    );
    expect(r.phase).toBe('hello');
    expect(r.end).toBe('timeout');
    await srv.close();
  });

  it('ends with connect-timeout when the proxy never answers the CONNECT', async () => {
    const srv = await rawServer((s) => s.resume());
    // 1 s: a loopback connect is far quicker even on a loaded machine, so the limit runs out in the proxy phase.
    const r = await exchange(
      {
        address: '127.0.0.1',
        port: 443,
        via: { kind: 'http-connect', host: '127.0.0.1', port: srv.port },
        connectTimeoutMs: 1_000,
        readTimeoutMs: 10_000,
      },
      HELLO_RECORD,
    );
    expect(r.end).toBe('connect-timeout');
    expect(r.phase).toBe('proxy');
    expect(r.connectMs).not.toBeNull();
    expect(r.elapsedMs).toBeGreaterThanOrEqual(1_000 - TIMER_EARLY_MS);
    expect(r.elapsedMs).toBeLessThan(8_000);
    await srv.close();
  });

  it('reports proxy-error when the first hop is not an HTTP proxy', async () => {
    const srv = await rawServer((s) => s.write('SSH-2.0-OpenSSH_9.2p1\r\n'));
    const r = await exchange(
      { address: '127.0.0.1', port: 443, via: { kind: 'http-connect', host: '127.0.0.1', port: srv.port } },
      HELLO_RECORD,
    );
    expect(r.end).toBe('proxy-error');
    expect(r.errorCode).toBe('PROXY_BAD_REPLY');
    expect(r.setupReply).toContain('SSH-2.0-OpenSSH_9.2p1');
    await srv.close();
  });

  it('stops reading a reply head that never ends at the cap', async () => {
    const srv = await rawServer((s) =>
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\n');
        const line = `X-Pad: ${'a'.repeat(1000)}\r\n`;
        for (let i = 0; i < 40 && !s.destroyed; i++) s.write(line);
      }),
    );
    const r = await exchange(
      { address: '127.0.0.1', port: 443, via: { kind: 'http-connect', host: '127.0.0.1', port: srv.port } },
      HELLO_RECORD,
    );
    expect(r.end).toBe('proxy-error');
    expect(r.errorCode).toBe('PROXY_REPLY_TOO_LONG');
    expect(r.setupReply).toContain(String(PROXY_REPLY_MAX_BYTES));
    await srv.close();
  });

  it('reports connect-refused when nothing listens at the proxy', async () => {
    const closed = await rawServer(() => {});
    await closed.close();
    const r = await exchange(
      { address: '127.0.0.1', port: 443, via: { kind: 'socks5', host: '127.0.0.1', port: closed.port } },
      HELLO_RECORD,
    );
    expect(r.end).toBe('connect-refused');
    expect(r.phase).toBe('connect');
    expect(r.connectMs).toBeNull();
  });

  it('resolves a proxy given by name', async (ctx) => {
    const first = await resolveHost('localhost');
    if (!first.ok || first.addresses[0]?.address !== '127.0.0.1')
      ctx.skip('localhost does not resolve to 127.0.0.1 first on this machine');
    const p = await proxy('http');
    const r = await attempt(
      labTarget('modern', '127.0.0.1'),
      { version: 'TLS1.2', sni: 'localhost' },
      { via: { ...p.via(), host: 'localhost' } },
    );
    expect(r.outcome).toBe('negotiated');
  });

  it('rejects a target name that could smuggle bytes into the CONNECT request', async () => {
    const via: Via = { kind: 'http-connect', host: '127.0.0.1', port: 3128 };
    await expect(exchange({ address: 'evil.example\r\nX-Injected: 1', port: 443, via }, HELLO_RECORD)).rejects.toThrow(
      TypeError,
    );
    await expect(exchange({ address: 'h', port: 443, via: { ...via, port: 0 } }, HELLO_RECORD)).rejects.toThrow(
      TypeError,
    );
  });

  it('leaves no socket or timer behind, whatever the proxy does', async () => {
    const servers = [
      await rawServer((s) =>
        s.once('data', () =>
          s.write('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n'),
        ),
      ),
      await rawServer((s) =>
        s.once('data', () => s.write('HTTP/1.1 200 OK\r\n\r\n', () => s.once('data', () => s.resetAndDestroy()))),
      ),
      await rawServer((s) => s.resume()),
      await rawServer((s) => s.once('data', () => s.write(Uint8Array.of(5, 0xff)))),
    ];
    const before = resources();
    const via = (port: number, kind: Via['kind'] = 'http-connect'): Via => ({ kind, host: '127.0.0.1', port });
    const ends = [
      (await exchange({ address: '127.0.0.1', port: 443, via: via(servers[0]!.port) }, HELLO_RECORD)).end,
      (await exchange({ address: '127.0.0.1', port: 443, via: via(servers[1]!.port) }, HELLO_RECORD)).end,
      (
        await exchange(
          { address: '127.0.0.1', port: 443, via: via(servers[2]!.port), connectTimeoutMs: 100 },
          HELLO_RECORD,
        )
      ).end,
      (await exchange({ address: '127.0.0.1', port: 443, via: via(servers[3]!.port, 'socks5') }, HELLO_RECORD)).end,
    ];
    expect(ends).toEqual(['proxy-auth-required', 'reset', 'connect-timeout', 'proxy-auth-required']);
    for (const s of servers) await s.idle();
    expect(leaked(before)).toEqual([]);
    for (const s of servers) await s.close();
  });
});

describe('scan through a proxy', () => {
  it('runs every version through the proxy and does not resolve the target itself', async () => {
    const p = await proxy('http');
    const e = lab.endpoint('modern');
    const r = await scan('localhost', {
      port: e.port,
      sni: 'localhost',
      via: p.via(),
      lookup: () => {
        throw new Error('the target must not be resolved locally');
      },
    });
    expect(r.dnsError).toBeNull();
    const a = r.addresses[0]!;
    expect(a.address).toBe('localhost');
    expect(a.probedVersions.filter((_, i) => a.versions[i]?.supported)).toEqual(['TLS1.2', 'TLS1.3']);
    expect(p.requests).toHaveLength(a.probedVersions.length);
    expect(new Set(p.requests.map((q) => q.target))).toEqual(new Set([`localhost:${e.port}`]));
  });
});

describe('runDiagnosis through a proxy', () => {
  it('says proxy-resets when the proxy resets hellos that get a TLS answer directly', async () => {
    const p = await proxy('http', { mode: 'reset-after-hello', auth: CREDS });
    const e = lab.endpoint('modern');
    const run = await runDiagnosis('127.0.0.1', {
      port: e.port,
      sni: 'localhost',
      readTimeoutMs: 3000,
      via: p.via(CREDS),
    });
    const d = run.diagnosis;
    expect(d.verdict.code).toBe('proxy-resets');
    expect(d.verdict.summary).toContain('TLS 1.0 and TLS 1.2');
    expect(d.verdict.summary).toContain(`http://backup-agent:***@127.0.0.1:${p.port}`);
    expect(d.remediation[0]).toMatchObject({ kind: 'network' });
    expect(d.remediation[0]?.text).toContain('bypass');
    expect(d.secondary.map((v) => v.code)).toContain('reset-always');
    expect(run.directScan?.addresses[0]?.versions.map((v) => v?.outcome)).toEqual(['alert', 'negotiated']);
    expect(d.evidence.find((x) => x.attempt === 'TLS1.2 direct')?.outcome).toBe('negotiated');
    expect(d.evidence.find((x) => x.attempt === 'TLS1.2 via proxy')?.outcome).toBe('reset');
    expect(JSON.stringify(run)).not.toContain(CREDS.password);
  });

  it('finds no proxy fault when the proxy only relays (TLS 1.2 works both ways)', async () => {
    const p = await proxy('socks5');
    const e = lab.endpoint('modern');
    const { diagnosis: d, directScan } = await runDiagnosis('127.0.0.1', {
      port: e.port,
      sni: 'localhost',
      readTimeoutMs: 3000,
      via: p.via(),
    });
    expect(d.verdict.code).toBe('legacy-version-alert');
    expect([d.verdict, ...d.secondary].map((v) => v.code)).not.toContain('proxy-resets');
    expect(directScan).not.toBeNull();
  });

  it('blames the endpoint, not the proxy, when it resets TLS 1.0 both ways', async () => {
    const p = await proxy('http');
    const e = lab.endpoint('reset-legacy');
    const { diagnosis: d } = await runDiagnosis('127.0.0.1', {
      port: e.port,
      sni: 'localhost',
      readTimeoutMs: 3000,
      via: p.via(),
    });
    expect(d.verdict.code).toBe('legacy-version-reset');
    expect(d.secondary.map((v) => v.code)).not.toContain('proxy-resets');
  });
});
