import { connect as netConnect } from 'node:net';
import { type ConnectionOptions, type PeerCertificate, connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, formatPortMap, startLab } from '../../src/lab/lab.js';
import { exchange } from '../../src/probe/transport.js';
import { fromHex } from '../../src/wire/hex.js';
import {
  type CapturedHello,
  HAS_IPV6_LOOPBACK,
  HAS_OPENSSL,
  NO_IPV6_LOOPBACK,
  NO_OPENSSL,
  captureNodeClientHello,
  captureOpensslClientHello,
} from '../helpers/servers.js';
import { leaked, resources } from '../helpers/resources.js';
import { TIMER_EARLY_MS } from '../helpers/timers.js';

// RFC 8446, Section 6 / RFC 5246, Section 7.2: record type alert (21), version, length 2, fatal (2),
// protocol_version (70).
const PROTOCOL_VERSION_ALERT_TLS10 = fromHex('15 03 01 00 02 02 46');
const PROTOCOL_VERSION_ALERT_TLS12 = fromHex('15 03 03 00 02 02 46');

/** ClientHellos captured from Node's TLS client (OpenSSL inside), one per version. */
interface Hellos {
  tls10: CapturedHello;
  tls11: CapturedHello;
  tls12: CapturedHello;
  tls13: CapturedHello;
}

// TLS 1.0/1.1 clients need security level 0 in OpenSSL 3 (SHA-1 handshake signatures).
const LEGACY_CLIENT = { ciphers: 'DEFAULT@SECLEVEL=0' } as const;

let lab: Lab;
let hellos: Hellos;

beforeAll(async () => {
  lab = await startLab();
  hellos = {
    tls10: await captureNodeClientHello({ ...LEGACY_CLIENT, minVersion: 'TLSv1', maxVersion: 'TLSv1' }),
    tls11: await captureNodeClientHello({ ...LEGACY_CLIENT, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' }),
    tls12: await captureNodeClientHello({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }),
    tls13: await captureNodeClientHello({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }),
  };
});

afterAll(async () => {
  await lab?.close();
});

function send(name: string, hello: CapturedHello, readTimeoutMs = 5_000) {
  const e = lab.endpoint(name);
  // Stop at the first byte: the endpoint has answered, and how is all these tests check.
  return exchange({ address: e.host, port: e.port, readTimeoutMs }, hello.record, (_chunk, ctl) => ctl.done());
}

/** Resolves with the result of a full Node TLS handshake against a lab endpoint. */
function handshake(
  name: string,
  options: ConnectionOptions,
): Promise<
  | { ok: true; protocol: string | null; authorized: boolean; chain: string[]; body: string }
  | { ok: false; code: string }
> {
  const e = lab.endpoint(name);
  return new Promise((resolve) => {
    const s = tlsConnect({ host: e.host, port: e.port, ca: lab.pki.root.pem, servername: 'localhost', ...options });
    s.setTimeout(5_000, () => s.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    s.once('secureConnect', () => {
      const chain: string[] = [];
      let c: PeerCertificate | undefined = s.getPeerCertificate(true);
      while (c?.subject && !chain.includes(c.subject.CN)) {
        chain.push(c.subject.CN);
        c = (c as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
      }
      const protocol = s.getProtocol();
      const authorized = s.authorized;
      let body = '';
      s.on('data', (d: Buffer) => {
        body += d.toString('utf8');
      });
      s.once('end', () => {
        s.destroy();
        resolve({ ok: true, protocol, authorized, chain, body });
      });
      s.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.destroy();
      resolve({ ok: false, code: err.code ?? err.message });
    });
  });
}

describe('startLab', () => {
  it('starts every endpoint on 127.0.0.1 with distinct OS-chosen ports', () => {
    expect(lab.endpoints.map((e) => e.name)).toEqual([
      'modern',
      'tls13-only',
      'legacy',
      'reset-legacy',
      'alert-legacy',
      'silent-close',
      'black-hole',
      'picky-size',
      'picky-scsv',
      'picky-sni',
      'picky-large',
      'picky-group',
      'picky-extension',
      'revoked',
      'revocation-offline',
    ]);
    for (const e of lab.endpoints) {
      expect(e.host).toBe('127.0.0.1');
      expect(e.port).toBeGreaterThan(0);
    }
    expect(new Set(lab.endpoints.map((e) => e.port)).size).toBe(lab.endpoints.length);
  });

  it('throws RangeError for an unknown endpoint name', () => {
    expect(() => lab.endpoint('nope')).toThrow(RangeError);
  });

  it('refuses to listen on a non-loopback address', async () => {
    await expect(startLab({ host: '0.0.0.0', pki: lab.pki })).rejects.toThrow(RangeError);
  });

  it('refuses an unknown endpoint name', async () => {
    await expect(startLab({ names: ['modern', 'typo'], pki: lab.pki })).rejects.toThrow(RangeError);
  });

  it('starts only the endpoints asked for', async () => {
    const small = await startLab({ names: ['black-hole', 'modern'], pki: lab.pki });
    try {
      expect(small.endpoints.map((e) => e.name)).toEqual(['black-hole', 'modern']);
      expect(() => small.endpoint('legacy')).toThrow(RangeError);
    } finally {
      await small.close();
    }
  });

  it('lists every endpoint with its address and the trust anchor in the port map', () => {
    const map = formatPortMap(lab);
    for (const e of lab.endpoints) {
      expect(map).toMatch(new RegExp(`^${e.name}\\s+127\\.0\\.0\\.1:${e.port}\\s`, 'm'));
    }
    expect(map).toContain('CN=tlsprobe Lab Root CA');
  });
});

describe('lab endpoints answering raw ClientHellos', () => {
  it('modern, tls13-only and legacy answer a TLS 1.3 hello with a handshake record', async () => {
    for (const name of ['modern', 'tls13-only', 'legacy']) {
      const r = await send(name, hellos.tls13);
      expect(r.end, name).toBe('done');
      expect(r.received[0], name).toBe(0x16);
    }
  });

  it('modern and legacy answer a TLS 1.2 hello with a TLS 1.2 ServerHello', async () => {
    for (const name of ['modern', 'legacy']) {
      const r = await send(name, hellos.tls12);
      expect(r.received[0], name).toBe(0x16);
      // RFC 5246, Section 7.4.1.3: after the record header (5) and handshake header (4, type 2),
      // server_version.
      expect(r.received[5], name).toBe(0x02);
      expect(Array.from(r.received.subarray(9, 11)), name).toEqual([0x03, 0x03]);
    }
  });

  it('legacy answers a TLS 1.0 hello with a TLS 1.0 ServerHello', async () => {
    const r = await send('legacy', hellos.tls10);
    expect(r.received[0]).toBe(0x16);
    expect(Array.from(r.received.subarray(9, 11))).toEqual([0x03, 0x01]);
  });

  it('tls13-only refuses a TLS 1.2 hello with a protocol_version alert', async () => {
    const e = lab.endpoint('tls13-only');
    const r = await exchange({ address: e.host, port: e.port }, hellos.tls12.record);
    expect(Array.from(r.received)).toEqual(Array.from(PROTOCOL_VERSION_ALERT_TLS12));
  });

  it('reset-legacy resets a TLS 1.0 hello without sending a byte', async () => {
    const r = await send('reset-legacy', hellos.tls10);
    expect(r.end).toBe('reset');
    expect(r.errorCode).toBe('ECONNRESET');
    expect(r.received.length).toBe(0);
  });

  it('reset-legacy resets a TLS 1.1 hello', async () => {
    const r = await send('reset-legacy', hellos.tls11);
    expect(r.end).toBe('reset');
  });

  it('reset-legacy serves TLS 1.2 and TLS 1.3 hellos with a handshake record', async () => {
    for (const h of [hellos.tls12, hellos.tls13]) {
      const r = await send('reset-legacy', h);
      expect(r.end).toBe('done');
      expect(r.received[0]).toBe(0x16);
    }
  });

  it('reset-legacy waits for a hello split across records before deciding', async () => {
    // The TLS 1.0 hello's handshake message re-framed as 16-byte handshake records (RFC 8446,
    // Section 5.1 allows fragmentation), sent as one write.
    const msg = hellos.tls10.handshake;
    const parts: number[] = [];
    for (let o = 0; o < msg.length; o += 16) {
      const frag = msg.subarray(o, o + 16);
      parts.push(0x16, 0x03, 0x01, 0x00, frag.length, ...frag);
    }
    const e = lab.endpoint('reset-legacy');
    const r = await exchange({ address: e.host, port: e.port }, Uint8Array.from(parts));
    expect(r.end).toBe('reset');
  });

  it('reset-legacy resets an SSL 2.0-format hello, alert-legacy alerts in its version', async () => {
    // RFC 5246, Appendix E.2: 2-byte header (high bit set, 28 bytes follow), client-hello, version
    // 3,1, one cipher spec 00 00 2f, no session id, 16-byte challenge.
    const v2 = fromHex(`80 1c 01 03 01 00 03 00 00 00 10 00 00 2f${' 42'.repeat(16)}`);
    const reset = lab.endpoint('reset-legacy');
    expect((await exchange({ address: reset.host, port: reset.port }, v2)).end).toBe('reset');
    const alert = lab.endpoint('alert-legacy');
    const r = await exchange({ address: alert.host, port: alert.port }, v2);
    expect(Array.from(r.received)).toEqual(Array.from(PROTOCOL_VERSION_ALERT_TLS10));
  });

  it('alert-legacy answers a TLS 1.0 hello with a fatal protocol_version alert, then FIN', async () => {
    const e = lab.endpoint('alert-legacy');
    const r = await exchange({ address: e.host, port: e.port }, hellos.tls10.record);
    expect(Array.from(r.received)).toEqual(Array.from(PROTOCOL_VERSION_ALERT_TLS10));
    expect(r.end).toBe('fin');
  });

  it('alert-legacy serves a TLS 1.2 hello with a handshake record', async () => {
    const r = await send('alert-legacy', hellos.tls12);
    expect(r.received[0]).toBe(0x16);
  });

  it('silent-close closes with FIN and no byte after the hello', async () => {
    const r = await send('silent-close', hellos.tls13);
    expect(r.end).toBe('fin');
    expect(r.received.length).toBe(0);
  });

  it('black-hole never answers, so the read timeout ends the exchange', async () => {
    const r = await send('black-hole', hellos.tls13, 300);
    expect(r.end).toBe('timeout');
    expect(r.received.length).toBe(0);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(300 - TIMER_EARLY_MS);
    expect(r.elapsedMs).toBeLessThan(3_000);
  });
});

describe('lab endpoints against a real TLS client', () => {
  it('modern completes a verified handshake with the lab root as the only trust anchor', async () => {
    const r = await handshake('modern', {});
    expect(r).toMatchObject({ ok: true, protocol: 'TLSv1.3', authorized: true });
    if (!r.ok) return;
    expect(r.chain).toEqual(['localhost', 'tlsprobe Lab Issuing CA 1', 'tlsprobe Lab Root CA']);
    expect(r.body).toContain('tlsprobe lab endpoint modern');
  });

  it('modern verifies against the IP address SAN when connecting to 127.0.0.1 without SNI', async () => {
    const r = await handshake('modern', { servername: '' });
    expect(r).toMatchObject({ ok: true, authorized: true });
  });

  it('modern is rejected by a client that does not trust the lab root', async () => {
    const r = await handshake('modern', { ca: [] as string[] });
    expect(r).toMatchObject({ ok: false });
  });

  it('tls13-only refuses a TLS 1.2-only client', async () => {
    const r = await handshake('tls13-only', { maxVersion: 'TLSv1.2' });
    expect(r).toEqual({ ok: false, code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
  });

  it('legacy completes a TLS 1.0 handshake', async () => {
    const r = await handshake('legacy', { ...LEGACY_CLIENT, minVersion: 'TLSv1', maxVersion: 'TLSv1' });
    expect(r).toMatchObject({ ok: true, protocol: 'TLSv1', authorized: true });
  });

  it('reset-legacy hands TLS 1.2 and 1.3 clients to a real stack that completes the handshake', async () => {
    expect(await handshake('reset-legacy', { maxVersion: 'TLSv1.2' })).toMatchObject({
      ok: true,
      protocol: 'TLSv1.2',
      authorized: true,
    });
    expect(await handshake('reset-legacy', {})).toMatchObject({ ok: true, protocol: 'TLSv1.3', authorized: true });
  });

  it('reset-legacy resets a real TLS 1.0 client', async () => {
    const r = await handshake('reset-legacy', { ...LEGACY_CLIENT, minVersion: 'TLSv1', maxVersion: 'TLSv1' });
    expect(r).toEqual({ ok: false, code: 'ECONNRESET' });
  });

  it('alert-legacy makes a real TLS 1.0 client fail with a protocol_version alert', async () => {
    const r = await handshake('alert-legacy', { ...LEGACY_CLIENT, minVersion: 'TLSv1', maxVersion: 'TLSv1' });
    expect(r).toEqual({ ok: false, code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
  });
});

describe.skipIf(!HAS_OPENSSL)('lab endpoints and openssl s_client hellos', () => {
  let openssl: { tls10: CapturedHello; tls12: CapturedHello; tls13: CapturedHello };
  beforeAll(async () => {
    openssl = {
      tls10: await captureOpensslClientHello(['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0']),
      tls12: await captureOpensslClientHello(['-tls1_2']),
      tls13: await captureOpensslClientHello(['-tls1_3']),
    };
  });

  it('reset-legacy resets the openssl -tls1 hello and serves -tls1_2 and -tls1_3', async () => {
    expect((await send('reset-legacy', openssl.tls10)).end).toBe('reset');
    expect((await send('reset-legacy', openssl.tls12)).received[0]).toBe(0x16);
    expect((await send('reset-legacy', openssl.tls13)).received[0]).toBe(0x16);
  });

  it('alert-legacy sends 15 03 01 00 02 02 46 for the openssl -tls1 hello', async () => {
    const e = lab.endpoint('alert-legacy');
    const r = await exchange({ address: e.host, port: e.port }, openssl.tls10.record);
    expect(Array.from(r.received)).toEqual(Array.from(PROTOCOL_VERSION_ALERT_TLS10));
  });
});
if (!HAS_OPENSSL) console.warn(NO_OPENSSL);

describe('Lab.close', () => {
  it('leaves no server, socket or timer behind, even with connections open', async () => {
    const before = resources();
    const l = await startLab({ pki: lab.pki });
    // Open connections in every state: mid-handshake at a gate, parked at the black hole, silent.
    const opened = await Promise.all(
      ['reset-legacy', 'black-hole', 'modern', 'silent-close'].map(
        (name) =>
          new Promise<ReturnType<typeof netConnect>>((resolve) => {
            const e = l.endpoint(name);
            const s = netConnect({ host: e.host, port: e.port }, () => resolve(s));
            s.on('error', () => {});
            s.write(hellos.tls12.record.subarray(0, 20)); // a partial hello: the endpoints keep waiting
          }),
      ),
    );
    const closedByLab = opened.map((s) => new Promise<void>((r) => s.once('close', () => r())));
    await l.close();
    await l.close(); // idempotent
    await Promise.all(closedByLab);
    expect(leaked(before)).toEqual([]);
  });

  it.skipIf(!HAS_IPV6_LOOPBACK)(
    `serves the same behaviours on IPv6 loopback${HAS_IPV6_LOOPBACK ? '' : ` (${NO_IPV6_LOOPBACK})`}`,
    async () => {
      const l = await startLab({ host: '::1', names: ['reset-legacy'], pki: lab.pki });
      try {
        const e = l.endpoint('reset-legacy');
        expect(e.host).toBe('::1');
        expect(formatPortMap(l)).toContain(`[::1]:${e.port}`);
        const r = await exchange({ address: '::1', port: e.port }, hellos.tls10.record);
        expect(r.end).toBe('reset');
      } finally {
        await l.close();
      }
    },
  );
});
