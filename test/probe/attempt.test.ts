/**
 * One attempt against real TLS stacks on loopback: the lab's endpoints (Node's TLS server and the
 * scripted misbehaviours) and openssl s_server. Each outcome must match what the server does.
 */
import { createHash } from 'node:crypto';
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
    expect(r.messages).toEqual(['server_hello', 'encrypted_extensions', 'certificate', 'certificate_verify', 'finished']);
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
    const timeout = await attempt(target('black-hole'), { version: 'TLS1.2', sni: 'localhost' }, { readTimeoutMs: 400 });
    expect(timeout.outcome).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('answers a HelloRetryRequest with a share for the requested group', async () => {
    // Offer x25519 and P-256 but send only a P-384 share the server does not want first... the lab
    // (OpenSSL via Node) prefers x25519, so a share for secp384r1 alone makes it ask for x25519.
    const r = await attempt(target('modern'), { version: 'TLS1.3', sni: 'localhost', groups: [0x001d, 0x0017, 0x0018], keyShareGroups: [0x0018] });
    if (r.helloRetryRequest) {
      expect(r.hrrGroup).not.toBe(0x0018);
      expect(r.outcome).toBe('negotiated');
      expect(r.messages).toContain('certificate');
    } else {
      // OpenSSL accepts a share it supports without asking for its own preference.
      expect(r.group).toBe(0x0018);
    }
    const forced = await attempt(target('modern'), { version: 'TLS1.3', sni: 'localhost', groups: [0x0017], keyShareGroups: [] });
    expect(forced.helloRetryRequest).toBe(true);
    expect(forced.hrrGroup).toBe(0x0017);
    expect(forced.outcome).toBe('negotiated');
    expect(forced.certificates.length).toBe(3);
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
