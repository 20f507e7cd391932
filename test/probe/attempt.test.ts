/**
 * One attempt against real TLS stacks on loopback: the lab's endpoints (Node's TLS server and the
 * scripted misbehaviours) and openssl s_server. Each outcome must match what the server does.
 */
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { attempt } from '../../src/probe/attempt.js';
import { toHex } from '../../src/wire/hex.js';
import { HAS_OPENSSL, NO_OPENSSL, startOpensslServer, type ExternalServer } from '../helpers/servers.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

function target(name: string) {
  const e = lab.endpoint(name);
  return { host: 'localhost', address: e.host, port: e.port };
}

const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest('hex');

describe('attempt against the lab', () => {
  it('negotiates TLS 1.3 with modern and decrypts the whole certificate chain', async () => {
    const r = await attempt(target('modern'), { version: 'TLS1.3', sni: 'localhost' });
    expect(r.outcome).toBe('negotiated');
    expect(r.supported).toBe(true);
    expect(r.negotiatedVersion).toBe(0x0304);
    expect(r.messages).toEqual([
      'server_hello',
      'encrypted_extensions',
      'certificate',
      'certificate_verify',
      'finished',
    ]);
    expect(r.certificates.map(sha1)).toEqual([lab.pki.leaf.der, lab.pki.intermediate.der, lab.pki.root.der].map(sha1));
    expect(r.group).toBe(0x001d);
    expect(r.end).toBe('done');
  });

  it('negotiates TLS 1.2 with modern and reads the clear Certificate and the ECDHE curve', async () => {
    const r = await attempt(target('modern'), { version: 'TLS1.2', sni: 'localhost' });
    expect(r.outcome).toBe('negotiated');
    expect(r.negotiatedVersion).toBe(0x0303);
    expect(r.messages).toContain('server_hello_done');
    expect(r.certificates.map(sha1)).toEqual([lab.pki.leaf.der, lab.pki.intermediate.der, lab.pki.root.der].map(sha1));
    expect(r.group).not.toBeNull();
  });

  it('reports the TLS 1.0 attempt against reset-legacy as a reset (Windows 10054)', async () => {
    const r = await attempt(target('reset-legacy'), { version: 'TLS1.0', sni: 'localhost' }, { readTimeoutMs: 3000 });
    expect(r.outcome).toBe('reset');
    expect(r.errorCode).toBe('ECONNRESET');
    expect(r.supported).toBe(false);
  });

  it('reports the TLS 1.1 attempt against alert-legacy as a protocol_version alert', async () => {
    const r = await attempt(target('alert-legacy'), { version: 'TLS1.1', sni: 'localhost' });
    expect(r.outcome).toBe('alert');
    expect(r.alert).toMatchObject({ level: 2, description: 70, name: 'protocol_version' });
  });

  it('reports silent-close as closed and black-hole as timeout, each within its timeout', async () => {
    const closed = await attempt(target('silent-close'), { version: 'TLS1.2', sni: 'localhost' });
    expect(closed.outcome).toBe('closed');
    const t0 = Date.now();
    const timeout = await attempt(
      target('black-hole'),
      { version: 'TLS1.2', sni: 'localhost' },
      { readTimeoutMs: 400 },
    );
    expect(timeout.outcome).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('answers a HelloRetryRequest with a share for the requested group', async () => {
    // Offer x25519 and P-256 but send only a P-384 share the server does not want first... the lab
    // (OpenSSL via Node) prefers x25519, so a share for secp384r1 alone makes it ask for x25519.
    const r = await attempt(target('modern'), {
      version: 'TLS1.3',
      sni: 'localhost',
      groups: [0x001d, 0x0017, 0x0018],
      keyShareGroups: [0x0018],
    });
    if (r.helloRetryRequest) {
      expect(r.hrrGroup).not.toBe(0x0018);
      expect(r.outcome).toBe('negotiated');
      expect(r.messages).toContain('certificate');
    } else {
      // OpenSSL accepts a share it supports without asking for its own preference.
      expect(r.group).toBe(0x0018);
    }
    const forced = await attempt(target('modern'), {
      version: 'TLS1.3',
      sni: 'localhost',
      groups: [0x0017],
      keyShareGroups: [],
    });
    expect(forced.helloRetryRequest).toBe(true);
    expect(forced.hrrGroup).toBe(0x0017);
    expect(forced.outcome).toBe('negotiated');
    expect(forced.certificates.length).toBe(3);
  });
});

describe('attempt with tls13HelloOnly', () => {
  it('stops at the TLS 1.3 ServerHello with the same version, suite and group as a full attempt', async () => {
    const full = await attempt(target('modern'), { version: 'TLS1.3', sni: 'localhost' });
    const r = await attempt(target('modern'), { version: 'TLS1.3', sni: 'localhost' }, { tls13HelloOnly: true });
    expect(r.outcome).toBe('negotiated');
    expect(r.supported).toBe(true);
    expect([r.negotiatedVersion, r.cipherSuite, r.group]).toEqual([
      full.negotiatedVersion,
      full.cipherSuite,
      full.group,
    ]);
    expect(r.messages).toEqual(['server_hello']);
    expect(r.certificates).toEqual([]);
    expect(r.encryptedExtensions).toBeNull();
    expect(r.certificateVerifyScheme).toBeNull();
    expect(r.error).toBeNull();
    expect(r.end).toBe('done');
  });

  it('keeps a HelloRetryRequest as the answer instead of sending a second hello', async () => {
    const r = await attempt(
      target('modern'),
      { version: 'TLS1.3', sni: 'localhost', groups: [0x0017], keyShareGroups: [] },
      { tls13HelloOnly: true },
    );
    expect(r.helloRetryRequest).toBe(true);
    expect(r.hrrGroup).toBe(0x0017);
    expect(r.group).toBe(0x0017);
    expect(r.outcome).toBe('negotiated');
    expect(r.messages).toEqual(['server_hello']);
    expect(r.certificates).toEqual([]);
  });

  it('reads TLS 1.2 to ServerHelloDone as always', async () => {
    const r = await attempt(target('modern'), { version: 'TLS1.2', sni: 'localhost' }, { tls13HelloOnly: true });
    expect(r.outcome).toBe('negotiated');
    expect(r.messages).toContain('server_hello_done');
    expect(r.certificates.map(sha1)).toEqual([lab.pki.leaf.der, lab.pki.intermediate.der, lab.pki.root.der].map(sha1));
  });
});

describe('attempt with serverHelloOnly', () => {
  it('stops TLS 1.2 at the ServerHello with the suite a full attempt negotiates, and nothing after it', async () => {
    const full = await attempt(target('modern'), { version: 'TLS1.2', sni: 'localhost' });
    const r = await attempt(target('modern'), { version: 'TLS1.2', sni: 'localhost' }, { serverHelloOnly: true });
    expect(r.outcome).toBe('negotiated');
    expect(r.supported).toBe(true);
    expect([r.negotiatedVersion, r.cipherSuite]).toEqual([full.negotiatedVersion, full.cipherSuite]);
    expect(full.messages).toContain('server_hello_done');
    expect(r.messages).toEqual(['server_hello']);
    expect(r.certificates).toEqual([]);
    expect(r.end).toBe('done');
  });

  it('stops TLS 1.3 at the ServerHello as tls13HelloOnly does', async () => {
    const r = await attempt(target('modern'), { version: 'TLS1.3', sni: 'localhost' }, { serverHelloOnly: true });
    expect(r.outcome).toBe('negotiated');
    expect(r.messages).toEqual(['server_hello']);
    expect(r.encryptedExtensions).toBeNull();
  });
});

describe('attempt timing', () => {
  it('orders connect, first byte, last byte and close, and keeps them in the result', async () => {
    for (const version of ['TLS1.2', 'TLS1.3', 'TLS1.0'] as const) {
      const r = await attempt(target('modern'), { version, sni: 'localhost' });
      const t = r.timing;
      expect(t.connectMs).not.toBeNull();
      expect(t.firstByteMs).not.toBeNull();
      expect(t.connectMs!).toBeLessThanOrEqual(t.firstByteMs!);
      expect(t.firstByteMs!).toBeLessThanOrEqual(t.lastByteMs!);
      expect(t.lastByteMs!).toBeLessThanOrEqual(t.closedMs);
      expect(r.elapsedMs).toBeLessThanOrEqual(t.closedMs);
    }
  });

  it('has no byte times when nothing listens', async () => {
    const r = await attempt(
      { host: 'localhost', address: '127.0.0.1', port: await freePort() },
      { version: 'TLS1.2', sni: null },
    );
    expect(r.outcome).toBe('connect-refused');
    expect([r.timing.connectMs, r.timing.firstByteMs, r.timing.lastByteMs]).toEqual([null, null, null]);
  });
});

describe('attempt against a server that dribbles', () => {
  // Answers the hello with a handshake record header announcing 16 KiB, then one byte every 40 ms:
  // the read timeout never fires, only the handshake deadline (counted from the first byte) does.
  let server: Server;
  let port = 0;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      let timer: NodeJS.Timeout | undefined;
      s.once('data', () => {
        s.write(Uint8Array.of(0x16, 0x03, 0x03, 0x40, 0x00));
        timer = setInterval(() => s.write(Uint8Array.of(0)), 40);
      });
      s.on('close', () => {
        clearInterval(timer);
        sockets.delete(s);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('ends at the handshake deadline as a timeout, not as an abort', async () => {
    const t0 = performance.now();
    const r = await attempt(
      { host: 'dribble', address: '127.0.0.1', port },
      { version: 'TLS1.2', sni: null },
      { readTimeoutMs: 1000, deadlineMs: 300 },
    );
    const took = performance.now() - t0;
    expect(r.outcome).toBe('timeout');
    expect(r.end).toBe('timeout');
    expect(r.error).toMatch(/300 ms after its first byte .*\(deadline\)/);
    expect(r.bytesReceived).toBeGreaterThan(5);
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1000);
  });

  it('ends as the caller aborted when the signal fires before the deadline', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const r = await attempt(
      { host: 'dribble', address: '127.0.0.1', port },
      { version: 'TLS1.2', sni: null },
      { readTimeoutMs: 1000, deadlineMs: 2000, signal: ac.signal },
    );
    expect(r.end).toBe('aborted');
    expect(r.outcome).toBe('closed');
    expect(r.error).toBeNull();
  });
});

describe.skipIf(!HAS_OPENSSL)('attempt against openssl s_server', () => {
  let server: ExternalServer;
  beforeAll(async () => {
    server = await startOpensslServer(lab.pki, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA']);
  });
  afterAll(() => server?.stop());

  it('negotiates TLS 1.2 with a suite from its configured list and refuses TLS 1.3 with an alert', async () => {
    const t = { host: 'localhost', address: '127.0.0.1', port: server.port };
    const r12 = await attempt(t, { version: 'TLS1.2', sni: 'localhost' });
    expect(r12.outcome).toBe('negotiated');
    expect([0xc030, 0x002f]).toContain(r12.cipherSuite);
    const r13 = await attempt(t, { version: 'TLS1.3', sni: 'localhost' });
    expect(r13.outcome).toBe('alert');
    expect(r13.alert?.name).toBe('protocol_version');
    expect(toHex(r13.helloSent).slice(0, 2)).toBe('01');
  });
});
if (!HAS_OPENSSL) console.warn(NO_OPENSSL);

/** Returns a port on 127.0.0.1 that nothing listens on (bound, then closed). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
