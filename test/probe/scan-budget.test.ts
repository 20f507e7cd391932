/**
 * The connection budget of a whole scan with parallel cipher enumeration: a counting TCP relay in
 * front of a Node TLS server that follows the client's suite order (so `enumerateCiphers` splits
 * its offer across parallel connections) counts what reaches the server. `--max-connections`,
 * `--concurrency` and `--rate` must hold there, and the suites found must be the configured ones.
 */
import { Socket, createServer, connect as netConnect, type AddressInfo, type Server } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLabPki } from '../../src/lab/pki.js';
import { scan } from '../../src/probe/scan.js';

/** The server's TLS 1.2 suites (OpenSSL names and IANA values): RSA-authenticated, the lab chain is RSA. */
const TLS12_SUITES: ReadonlyMap<string, number> = new Map([
  ['ECDHE-RSA-AES128-GCM-SHA256', 0xc02f],
  ['ECDHE-RSA-AES256-GCM-SHA384', 0xc030],
  ['ECDHE-RSA-CHACHA20-POLY1305', 0xcca8],
  ['ECDHE-RSA-AES128-SHA', 0xc013],
  ['AES256-GCM-SHA384', 0x009d],
]);

interface Relay {
  readonly port: number;
  /** performance.now() of each accepted connection, in order. */
  readonly accepts: number[];
  close(): Promise<void>;
}

let tlsServer: TlsServer;
let tlsPort = 0;
const relays: Relay[] = [];

beforeAll(async () => {
  const pki = await generateLabPki();
  tlsServer = createTlsServer({
    key: pki.leaf.keyPem,
    cert: pki.chainPem,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    ciphers: [...TLS12_SUITES.keys()].join(':'),
    honorCipherOrder: false,
  });
  tlsServer.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  tlsPort = (tlsServer.address() as AddressInfo).port;
});

afterAll(async () => {
  await Promise.all(relays.map((r) => r.close()));
  await new Promise<void>((resolve) => tlsServer?.close(() => resolve()));
});

/** Starts a relay to the TLS server that counts, times and tracks the connections it carries. */
async function relay(): Promise<Relay> {
  const sockets = new Set<Socket>();
  const r: Relay = { port: 0, accepts: [], close: async () => {} };
  const server: Server = createServer((client) => {
    r.accepts.push(performance.now());
    const upstream = netConnect({ host: '127.0.0.1', port: tlsPort });
    sockets.add(client).add(upstream);
    const down = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.once('close', () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.once('close', () => sockets.delete(upstream));
    client.on('error', down);
    upstream.on('error', down);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const out: Relay = Object.assign(r, {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
  relays.push(out);
  return out;
}

/** Waits until the relay has seen every connection close (the scan's last close reaches it a moment later). */
async function settled(r: Relay, count: number): Promise<void> {
  const end = performance.now() + 10_000;
  while (r.accepts.length < count && performance.now() < end) await new Promise((x) => setTimeout(x, 20));
}

describe('a scan with --ciphers against a server that follows the client order', () => {
  it('finds exactly the configured suites, in our order, with no more connections in flight than --concurrency', async () => {
    const r = await relay();
    // Our own sockets, counted from connect() to 'close' (the relay sees a close a moment late).
    const original = Socket.prototype.connect;
    let open = 0;
    let peak = 0;
    Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
      // Only the scan's sockets: the relay's own upstream sockets go to the TLS server's port.
      if ((args[0] as { port?: number } | undefined)?.port === r.port) {
        open++;
        peak = Math.max(peak, open);
        this.once('close', () => open--);
      }
      return (original as (...a: unknown[]) => Socket).apply(this, args);
    } as typeof original;
    let res;
    try {
      res = await scan('127.0.0.1', {
        port: r.port,
        sni: null,
        versions: ['TLS1.2'],
        ciphers: true,
        concurrency: 3,
        readTimeoutMs: 10_000,
      });
    } finally {
      Socket.prototype.connect = original;
    }
    const a = res.addresses[0]!;
    const c = a.ciphers![0]!;
    expect([...c.accepted].sort((x, y) => x - y)).toEqual([...TLS12_SUITES.values()].sort((x, y) => x - y));
    expect(c.serverPreference).toBe(false);
    expect(c.complete).toBe(true);
    expect(a.incomplete).toBeNull();
    await settled(r, a.connections);
    // What the server saw is what the scan counted, within the announced bound.
    expect(r.accepts.length).toBe(a.connections);
    expect(a.connections).toBeLessThanOrEqual(a.predictedConnections);
    expect(peak).toBeLessThanOrEqual(3);
    // The offer was split: more than one connection was open at once at some point.
    expect(peak).toBeGreaterThan(1);
  });

  it('never opens more than --max-connections, and says the enumeration is partial', async () => {
    const r = await relay();
    const res = await scan('127.0.0.1', {
      port: r.port,
      sni: null,
      versions: ['TLS1.2'],
      ciphers: true,
      maxConnections: 4,
      readTimeoutMs: 10_000,
    });
    const a = res.addresses[0]!;
    expect(a.connections).toBe(4);
    await settled(r, 4);
    await new Promise((x) => setTimeout(x, 200));
    expect(r.accepts.length).toBe(4);
    expect(a.ciphers![0]!.complete).toBe(false);
    expect(a.incomplete).toMatch(/connection limit \(4\)/);
  });

  it('starts connections no faster than --rate', async () => {
    const r = await relay();
    const rate = 10;
    const t0 = performance.now();
    const res = await scan('127.0.0.1', {
      port: r.port,
      sni: null,
      versions: ['TLS1.2'],
      ciphers: true,
      rate,
      readTimeoutMs: 10_000,
    });
    const n = res.addresses[0]!.connections;
    expect(n).toBeGreaterThan(3);
    await settled(r, n);
    // The k-th connection may start no earlier than (k-1)/rate s after the scan began, and the
    // relay accepts it after it started.
    r.accepts.forEach((at, k) => {
      expect(at - t0).toBeGreaterThanOrEqual((k * 1000) / rate - 1);
    });
  });
});
