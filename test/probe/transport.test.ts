import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_BYTES,
  type ExchangeResult,
  type LookupAll,
  dnsErrorResult,
  exchange,
  resolveHost,
} from '../../src/probe/transport.js';
import { generateLabPki, type LabPki } from '../../src/lab/pki.js';
import { fromHex } from '../../src/wire/hex.js';
import {
  type CapturedHello,
  type ExternalServer,
  HAS_GNUTLS_SERV,
  HAS_OPENSSL,
  HAS_PYTHON3,
  NO_GNUTLS,
  NO_OPENSSL,
  NO_PYTHON3,
  HAS_IPV6_LOOPBACK,
  NO_IPV6_LOOPBACK,
  captureNodeClientHello,
  startGnutlsServer,
  startOpensslServer,
  startUnresponsiveListener,
} from '../helpers/servers.js';
import { leaked, resources } from '../helpers/resources.js';
import { TIMER_EARLY_MS } from '../helpers/timers.js';

/** A tiny raw server for one scripted behaviour; tracks its sockets so a test can wait for them to close. */
interface RawServer {
  readonly port: number;
  /** Bytes received on each connection, in order of connection. */
  readonly received: Buffer[];
  /** How each server-side connection ended: 'end' (client FIN) or 'close' only. */
  readonly ends: string[];
  connections(): number;
  /** Resolves when every server-side socket has closed. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

async function rawServer(
  onConnection: (socket: Socket, index: number) => void,
  host = '127.0.0.1',
): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const received: Buffer[] = [];
  const ends: string[] = [];
  let count = 0;
  let waiters: (() => void)[] = [];
  const server: Server = createServer((socket) => {
    const index = count++;
    received[index] = Buffer.alloc(0);
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      received[index] = Buffer.concat([received[index]!, d]);
    });
    socket.on('end', () => ends.push('end'));
    socket.on('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) {
        for (const w of waiters) w();
        waiters = [];
      }
    });
    onConnection(socket, index);
  });
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    received,
    ends,
    connections: () => count,
    idle: () => (sockets.size === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const HELLO = fromHex('16 03 01 00 05 01 00 00 01 00'); // shape of a record; content irrelevant to raw servers
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('exchange', () => {
  it('reports a reset with no bytes when the peer resets after reading the hello', async () => {
    const srv = await rawServer((s) => s.once('data', () => s.resetAndDestroy()));
    const r = await exchange({ address: '127.0.0.1', port: srv.port }, HELLO);
    expect(r.end).toBe('reset');
    expect(r.errorCode).toBe('ECONNRESET');
    expect(r.received.length).toBe(0);
    expect(r.bytesBeforeEnd).toBe(0);
    expect(r.firstByteMs).toBeNull();
    expect(r.connectMs).not.toBeNull();
    expect(r.truncated).toBe(false);
    await srv.idle();
    expect(srv.received[0]).toEqual(Buffer.from(HELLO));
    await srv.close();
  });

  it('keeps the bytes that arrived before a reset and still reports the reset', async () => {
    const alert = fromHex('15 03 03 00 02 02 28');
    const srv = await rawServer((s) =>
      s.once('data', () => {
        s.write(alert, () => setTimeout(() => s.resetAndDestroy(), 20));
      }),
    );
    const r = await exchange({ address: '127.0.0.1', port: srv.port }, HELLO);
    expect(r.end).toBe('reset');
    expect(r.errorCode).toBe('ECONNRESET');
    expect(toArray(r.received)).toEqual(toArray(alert));
    expect(r.bytesBeforeEnd).toBe(alert.length);
    expect(r.firstByteMs).not.toBeNull();
    expect(r.firstByteMs!).toBeLessThanOrEqual(r.elapsedMs);
    await srv.close();
  });

  it('reports fin with the bytes when the peer closes in order', async () => {
    const reply = fromHex('15 03 01 00 02 02 46');
    const srv = await rawServer((s) => s.once('data', () => s.end(reply)));
    const r = await exchange({ address: '127.0.0.1', port: srv.port }, HELLO);
    expect(r.end).toBe('fin');
    expect(r.errorCode).toBeNull();
    expect(toArray(r.received)).toEqual(toArray(reply));
    await srv.close();
  });

  it('reports fin with zero bytes when the peer closes without answering', async () => {
    const srv = await rawServer((s) => s.once('data', () => s.end()));
    const r = await exchange({ address: '127.0.0.1', port: srv.port }, HELLO);
    expect(r.end).toBe('fin');
    expect(r.received.length).toBe(0);
    expect(r.firstByteMs).toBeNull();
    await srv.close();
  });

  it('times out when the peer accepts and never answers', async () => {
    const srv = await rawServer(() => {});
    const r = await exchange({ address: '127.0.0.1', port: srv.port, readTimeoutMs: 200 }, HELLO);
    expect(r.end).toBe('timeout');
    expect(r.errorCode).toBeNull();
    expect(r.received.length).toBe(0);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(200 - TIMER_EARLY_MS);
    // It ends near the limit, not at the 5 s default.
    expect(r.elapsedMs).toBeLessThan(3_000);
    await srv.idle();
    await srv.close();
  });

  it('restarts the idle clock at every received chunk', async () => {
    // Five bytes, 100 ms apart, then silence: a 250 ms idle limit is never reached while they
    // trickle in, so the exchange outlives 400 ms and keeps all five.
    const srv = await rawServer((s) =>
      s.once('data', async () => {
        for (let i = 0; i < 5; i++) {
          if (s.destroyed) return;
          s.write(Uint8Array.of(i));
          await sleep(100);
        }
      }),
    );
    const r = await exchange({ address: '127.0.0.1', port: srv.port, readTimeoutMs: 250 }, HELLO);
    expect(r.end).toBe('timeout');
    expect(toArray(r.received)).toEqual([0, 1, 2, 3, 4]);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(400 + 250 - TIMER_EARLY_MS);
    await srv.close();
  });

  it('reports connect-refused on a closed port', async () => {
    const srv = await rawServer(() => {});
    const port = srv.port;
    await srv.close();
    const r = await exchange({ address: '127.0.0.1', port }, HELLO);
    expect(r.end).toBe('connect-refused');
    expect(r.errorCode).toBe('ECONNREFUSED');
    expect(r.connectMs).toBeNull();
    expect(r.received.length).toBe(0);
  });

  describe.skipIf(!HAS_PYTHON3)('when the SYN goes unanswered', () => {
    it('reports connect-timeout after the connect limit', async () => {
      const l = await startUnresponsiveListener();
      try {
        const r = await exchange(
          { address: '127.0.0.1', port: l.port, connectTimeoutMs: 300, readTimeoutMs: 10_000 },
          HELLO,
        );
        expect(r.end).toBe('connect-timeout');
        expect(r.connectMs).toBeNull();
        expect(r.elapsedMs).toBeGreaterThanOrEqual(300 - TIMER_EARLY_MS);
        expect(r.elapsedMs).toBeLessThan(5_000);
      } finally {
        await l.stop();
      }
    });
  });
  if (!HAS_PYTHON3) console.warn(NO_PYTHON3);

  it('reports connect-timeout when the connection was established later than the connect limit', async () => {
    // A loopback connect completes in well under a millisecond of kernel time but is delivered on a
    // later event-loop turn, after a 1 µs limit: this exercises the deadline check on 'connect'
    // (the unanswered-SYN test above exercises the timer).
    const srv = await rawServer(() => {});
    const r = await exchange({ address: '127.0.0.1', port: srv.port, connectTimeoutMs: 0.001 }, HELLO);
    expect(r.end).toBe('connect-timeout');
    await srv.idle();
    expect(srv.received[0]?.length ?? 0).toBe(0); // we never sent the hello
    await srv.close();
  });

  it('sends closeWith then FIN when the handler says done', async () => {
    const closeNotify = fromHex('15 03 03 00 02 01 00');
    const srv = await rawServer((s) => s.once('data', () => s.write(fromHex('16 03 03 00 01'))));
    const seen: number[] = [];
    const r = await exchange({ address: '127.0.0.1', port: srv.port, closeWith: closeNotify }, HELLO, (chunk, ctl) => {
      seen.push(...chunk);
      if (seen.length >= 5) ctl.done();
    });
    expect(r.end).toBe('done');
    expect(r.errorCode).toBeNull();
    expect(toArray(r.received)).toEqual([0x16, 0x03, 0x03, 0x00, 0x01]);
    await srv.idle();
    expect(toArray(srv.received[0]!)).toEqual([...HELLO, ...closeNotify]);
    expect(srv.ends).toEqual(['end']); // the server saw our FIN
    await srv.close();
  });

  it('lets the handler send more bytes in answer to a reply', async () => {
    // The server answers each byte with that byte + 1 and closes once it gets a byte >= 3; the
    // handler answers each reply the same way: 0 → 1 → 2 → 3 → 4 → FIN.
    const srv = await rawServer((s) =>
      s.on('data', (d: Buffer) => {
        const last = d[d.length - 1]!;
        if (last >= 3) s.end();
        else s.write(Uint8Array.of(last + 1));
      }),
    );
    const r = await exchange({ address: '127.0.0.1', port: srv.port }, Uint8Array.of(0), (chunk, ctl) => {
      ctl.send(Uint8Array.of(chunk[chunk.length - 1]! + 1));
    });
    expect(r.end).toBe('fin');
    expect(toArray(r.received)).toEqual([1, 3]);
    await srv.idle();
    expect(toArray(srv.received[0]!)).toEqual([0, 2, 4]);
    await srv.close();
  });

  it('ends with aborted when the handler aborts, and writes nothing for an empty send', async () => {
    const srv = await rawServer((s) => s.once('data', () => s.write(Uint8Array.of(1))));
    const r = await exchange(
      { address: '127.0.0.1', port: srv.port, closeWith: Uint8Array.of(9) },
      HELLO,
      (_chunk, ctl) => {
        ctl.send(new Uint8Array(0));
        ctl.abort();
        ctl.send(Uint8Array.of(7)); // after the ending: ignored
      },
    );
    expect(r.end).toBe('aborted');
    expect(r.errorCode).toBe('ABORT_ERR');
    expect(toArray(r.received)).toEqual([1]);
    await srv.idle();
    // An abort is not a polite close: no closeWith, and nothing after the hello.
    expect(toArray(srv.received[0]!)).toEqual([...HELLO]);
    await srv.close();
  });

  it('stops at maxBytes, keeps exactly that many and flags truncation', async () => {
    const srv = await rawServer((s) => s.once('data', () => s.write(Uint8Array.from({ length: 10 }, (_, i) => i))));
    const r = await exchange({ address: '127.0.0.1', port: srv.port, maxBytes: 4 }, HELLO);
    expect(r.end).toBe('max-bytes');
    expect(r.truncated).toBe(true);
    expect(toArray(r.received)).toEqual([0, 1, 2, 3]);
    expect(r.bytesBeforeEnd).toBe(4);
    await srv.close();
  });

  it('caps kept bytes at 1 MiB by default', () => {
    expect(DEFAULT_MAX_BYTES).toBe(1024 * 1024);
  });

  it('ends with aborted when the signal fires', async () => {
    const srv = await rawServer(() => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await exchange({ address: '127.0.0.1', port: srv.port, signal: ac.signal }, HELLO);
    expect(r.end).toBe('aborted');
    expect(r.elapsedMs).toBeLessThan(3_000);
    await srv.close();
  });

  it('does not connect when the signal has already fired', async () => {
    const srv = await rawServer(() => {});
    const ac = new AbortController();
    ac.abort();
    const r = await exchange({ address: '127.0.0.1', port: srv.port, signal: ac.signal }, HELLO);
    expect(r.end).toBe('aborted');
    expect(r.connectMs).toBeNull();
    await sleep(50);
    expect(srv.connections()).toBe(0);
    await srv.close();
  });

  it('rejects a host name instead of an address', async () => {
    await expect(exchange({ address: 'localhost', port: 443 }, HELLO)).rejects.toThrow(TypeError);
  });

  it('rejects a port out of range', async () => {
    await expect(exchange({ address: '127.0.0.1', port: 70_000 }, HELLO)).rejects.toThrow(TypeError);
  });

  it('rejects timeouts that are not positive or too long for a timer', async () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      await expect(exchange({ address: '127.0.0.1', port: 1, connectTimeoutMs: bad }, HELLO)).rejects.toThrow(
        TypeError,
      );
      await expect(exchange({ address: '127.0.0.1', port: 1, readTimeoutMs: bad }, HELLO)).rejects.toThrow(TypeError);
    }
  });

  it('rejects with the handler exception and still closes the socket', async () => {
    const srv = await rawServer((s) => s.once('data', () => s.write(Uint8Array.of(1))));
    const boom = new Error('handler bug');
    await expect(
      exchange({ address: '127.0.0.1', port: srv.port }, HELLO, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await srv.idle();
    await srv.close();
  });

  it.skipIf(!HAS_IPV6_LOOPBACK)(
    `connects over IPv6 loopback${HAS_IPV6_LOOPBACK ? '' : ` (${NO_IPV6_LOOPBACK})`}`,
    async () => {
      const srv = await rawServer((s) => s.once('data', () => s.end(Uint8Array.of(6))), '::1');
      const r = await exchange({ address: '::1', port: srv.port }, HELLO);
      expect(r.address).toBe('::1');
      expect(r.end).toBe('fin');
      expect(toArray(r.received)).toEqual([6]);
      await srv.close();
    },
  );

  it('leaves no socket or timer behind whatever the ending', async () => {
    const servers = [
      await rawServer((s) => s.once('data', () => s.resetAndDestroy())),
      await rawServer((s) => s.once('data', () => s.end(Uint8Array.of(1)))),
      await rawServer(() => {}),
      await rawServer((s) => s.once('data', () => s.write(Uint8Array.of(1, 2)))),
    ];
    const closed = await rawServer(() => {});
    await closed.close();
    const before = resources();
    const results: ExchangeResult[] = [
      await exchange({ address: '127.0.0.1', port: servers[0]!.port }, HELLO),
      await exchange({ address: '127.0.0.1', port: servers[1]!.port }, HELLO),
      await exchange({ address: '127.0.0.1', port: servers[2]!.port, readTimeoutMs: 100 }, HELLO),
      await exchange({ address: '127.0.0.1', port: servers[3]!.port, closeWith: Uint8Array.of(9) }, HELLO, (_c, ctl) =>
        ctl.done(),
      ),
      await exchange({ address: '127.0.0.1', port: closed.port }, HELLO),
    ];
    expect(results.map((r) => r.end)).toEqual(['reset', 'fin', 'timeout', 'done', 'connect-refused']);
    for (const s of servers) await s.idle();
    expect(leaked(before)).toEqual([]);
    for (const s of servers) await s.close();
  });
});

describe('resolveHost', () => {
  it('returns an IPv4 literal as itself', async () => {
    expect(await resolveHost('127.0.0.1')).toEqual({
      ok: true,
      host: '127.0.0.1',
      addresses: [{ address: '127.0.0.1', family: 4 }],
    });
  });

  it('returns an IPv6 literal as itself', async () => {
    expect(await resolveHost('::1')).toEqual({ ok: true, host: '::1', addresses: [{ address: '::1', family: 6 }] });
  });

  it('resolves localhost to loopback addresses from the hosts file', async () => {
    const r = await resolveHost('localhost');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.addresses.length).toBeGreaterThan(0);
    for (const a of r.addresses) expect(['127.0.0.1', '::1']).toContain(a.address);
  });

  it('maps a lookup failure to a dns failure instead of throwing', async () => {
    const failing: LookupAll = (host, _opts, cb) => {
      const e = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      setImmediate(() => cb(e, []));
    };
    const r = await resolveHost('no-such-host.invalid', failing);
    expect(r).toEqual({
      ok: false,
      host: 'no-such-host.invalid',
      errorCode: 'ENOTFOUND',
      message: 'getaddrinfo ENOTFOUND no-such-host.invalid',
    });
  });

  it('removes duplicate addresses and keeps resolver order', async () => {
    const lookup: LookupAll = (_h, _o, cb) =>
      cb(null, [
        { address: '::1', family: 6 },
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ]);
    const r = await resolveHost('example.test', lookup);
    expect(r).toEqual({
      ok: true,
      host: 'example.test',
      addresses: [
        { address: '::1', family: 6 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
  });

  it('turns a dns failure into a dns-error exchange result', () => {
    const r = dnsErrorResult({ ok: false, host: 'x.invalid', errorCode: 'ENOTFOUND', message: 'm' }, 443);
    expect(r.end).toBe('dns-error');
    expect(r.errorCode).toBe('ENOTFOUND');
    expect(r.connectMs).toBeNull();
    expect(r.port).toBe(443);
  });
});

describe('exchange against real TLS servers', () => {
  let pki: LabPki;
  let tls12: CapturedHello;
  beforeAll(async () => {
    pki = await generateLabPki({ keyAlgorithm: 'ecdsa-p256' });
    tls12 = await captureNodeClientHello({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
  });

  const stacks = [
    { name: 'openssl s_server', has: HAS_OPENSSL, missing: NO_OPENSSL, start: startOpensslServer, garbage: false },
    { name: 'gnutls-serv', has: HAS_GNUTLS_SERV, missing: NO_GNUTLS, start: startGnutlsServer, garbage: true },
  ];
  for (const stack of stacks) {
    describe.skipIf(!stack.has)(stack.name, () => {
      let server: ExternalServer;
      // biome-ignore lint/suspicious/noDuplicateTestHooks: one hook per stack's own describe (a loop Biome reads as one block)
      beforeAll(async () => {
        server = await stack.start(pki);
      });
      afterAll(async () => {
        await server?.stop();
      });

      it('answers a TLS 1.2 ClientHello with a handshake record carrying a TLS 1.2 ServerHello', async () => {
        const r = await exchange({ address: '127.0.0.1', port: server.port }, tls12.record, (_chunk, ctl) =>
          ctl.done(),
        );
        expect(r.end).toBe('done');
        // RFC 5246, Section 6.2.1 / 7.4.1.3: record type 22, then handshake type 2 (server_hello),
        // 3-byte length, server_version 3,3.
        expect(r.received[0]).toBe(0x16);
        expect(r.received[5]).toBe(0x02);
        expect(toArray(r.received.subarray(9, 11))).toEqual([0x03, 0x03]);
      });

      if (stack.garbage) {
        it('answers garbage with an alert or a close, never a ServerHello', async () => {
          const r = await exchange(
            { address: '127.0.0.1', port: server.port, readTimeoutMs: 2_000 },
            fromHex('16 03 01 00 04 01 00 00 00'),
          );
          expect(['fin', 'reset']).toContain(r.end);
          // RFC 8446, Section 6: a stack that answers a broken hello answers with an alert record (21).
          if (r.received.length > 0) expect(r.received[0]).toBe(0x15);
        });
      }
    });
    if (!stack.has) console.warn(stack.missing);
  }
});

function toArray(b: Uint8Array): number[] {
  return Array.from(b);
}
