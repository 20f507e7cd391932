/**
 * The version matrix against real TLS stacks: the lab (Node's TLS server and the scripted
 * misbehaviours), openssl s_server configured TLS 1.2-only, TLS 1.3-only and TLS 1.0–1.3, and
 * gnutls-serv. The matrix must equal each server's configuration.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { scan, type AddressScan } from '../../src/probe/scan.js';
import {
  HAS_GNUTLS_SERV,
  HAS_OPENSSL,
  NO_GNUTLS,
  NO_OPENSSL,
  startGnutlsServer,
  startOpensslServer,
  writePkiFiles,
} from '../helpers/servers.js';
import { derToPem } from '../../src/x509/pem.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

function matrix(a: AddressScan): Record<string, string> {
  return Object.fromEntries(
    a.probedVersions.map((v, i) => {
      const r = a.versions[i]!;
      return [v, r.supported ? 'ok' : `${r.outcome}${r.alert ? `:${r.alert.name}` : ''}`];
    }),
  );
}

async function matrixOf(port: number, readTimeoutMs = 2000): Promise<{ m: Record<string, string>; a: AddressScan }> {
  const r = await scan('127.0.0.1', { port, sni: 'localhost', readTimeoutMs });
  expect(r.dnsError).toBeNull();
  return { m: matrix(r.addresses[0]!), a: r.addresses[0]! };
}

describe('version matrix against the lab', () => {
  it('modern: TLS 1.2 and 1.3 only; older versions refused with an alert', async () => {
    const { m, a } = await matrixOf(lab.endpoint('modern').port);
    expect(m['TLS1.2']).toBe('ok');
    expect(m['TLS1.3']).toBe('ok');
    for (const v of ['SSL3.0', 'TLS1.0', 'TLS1.1']) expect(m[v]).toMatch(/^alert:/);
    expect(a.certificatesFrom).toBe('TLS1.3');
    expect(a.certificates).toHaveLength(3); // leaf, intermediate and the lab root
  });

  it('tls13-only accepts exactly TLS 1.3', async () => {
    const { m } = await matrixOf(lab.endpoint('tls13-only').port);
    expect(
      Object.entries(m)
        .filter(([, x]) => x === 'ok')
        .map(([v]) => v),
    ).toEqual(['TLS1.3']);
  });

  it('legacy accepts TLS 1.0 to 1.3 (Node cannot serve SSL 3.0)', async () => {
    const { m } = await matrixOf(lab.endpoint('legacy').port);
    expect(
      Object.entries(m)
        .filter(([, x]) => x === 'ok')
        .map(([v]) => v),
    ).toEqual(['TLS1.0', 'TLS1.1', 'TLS1.2', 'TLS1.3']);
  });

  it('reset-legacy resets TLS 1.0 and 1.1 (the 10054 case) and accepts TLS 1.2 and 1.3', async () => {
    const { m } = await matrixOf(lab.endpoint('reset-legacy').port);
    expect(m).toMatchObject({
      'SSL3.0': 'reset',
      'TLS1.0': 'reset',
      'TLS1.1': 'reset',
      'TLS1.2': 'ok',
      'TLS1.3': 'ok',
    });
  });

  it('alert-legacy answers TLS 1.0 and 1.1 with protocol_version', async () => {
    const { m } = await matrixOf(lab.endpoint('alert-legacy').port);
    expect(m).toMatchObject({ 'TLS1.0': 'alert:protocol_version', 'TLS1.1': 'alert:protocol_version', 'TLS1.2': 'ok' });
  });

  it('silent-close comes out closed and black-hole timeout, each within its timeout', async () => {
    expect(Object.values((await matrixOf(lab.endpoint('silent-close').port)).m).every((x) => x === 'closed')).toBe(
      true,
    );
    const t0 = performance.now();
    const { m, a } = await matrixOf(lab.endpoint('black-hole').port, 300);
    expect(Object.values(m).every((x) => x === 'timeout')).toBe(true);
    expect(performance.now() - t0).toBeLessThan(2500);
    for (const r of a.versions) expect(r!.elapsedMs).toBeLessThan(1500);
  });

  it('reports a closed port as connect-refused for every version', async () => {
    const { m } = await matrixOf(1);
    expect(Object.values(m).every((x) => x === 'connect-refused')).toBe(true);
  });

  it('with allAddresses, probes every address behind a name and flags the ones that answer differently', async () => {
    const port = lab.endpoint('modern').port;
    // A name behind two loopback addresses: the lab listens on 127.0.0.1 only, nothing on 127.0.0.2.
    const lookup = ((_h: string, _o: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) =>
      cb(null, [
        { address: '127.0.0.1', family: 4 },
        { address: '127.0.0.2', family: 4 },
      ])) as never;
    const r = await scan('lb.test', {
      port,
      sni: 'localhost',
      allAddresses: true,
      lookup,
      versions: ['TLS1.2', 'TLS1.3'],
    });
    expect(r.addresses.map((a) => a.address)).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(matrix(r.addresses[0]!)).toEqual({ 'TLS1.2': 'ok', 'TLS1.3': 'ok' });
    expect(matrix(r.addresses[1]!)).toEqual({ 'TLS1.2': 'connect-refused', 'TLS1.3': 'connect-refused' });
    expect(r.differences).toContain('TLS1.2: 127.0.0.1 negotiated, 127.0.0.2 connect-refused');
    const single = await scan('lb.test', { port, sni: 'localhost', lookup, versions: ['TLS1.2'] });
    expect(single.addresses).toHaveLength(1);
  });

  it('reports an unresolvable name as a DNS error without connecting', async () => {
    const r = await scan('no-such-host.invalid', { port: 443 });
    expect(r.dnsError).not.toBeNull();
    expect(r.addresses).toHaveLength(0);
  });
});

describe.skipIf(!HAS_OPENSSL)('version matrix against openssl s_server', () => {
  const configs: [string, string[], string[]][] = [
    ['TLS 1.2-only', ['-www', '-tls1_2'], ['TLS1.2']],
    ['TLS 1.3-only', ['-www', '-tls1_3'], ['TLS1.3']],
    [
      'TLS 1.0–1.3',
      ['-www', '-cipher', 'DEFAULT@SECLEVEL=0', '-min_protocol', 'TLSv1', '-max_protocol', 'TLSv1.3'],
      ['TLS1.0', 'TLS1.1', 'TLS1.2', 'TLS1.3'],
    ],
  ];
  for (const [name, args, expected] of configs) {
    it(`${name}: the matrix equals the configuration`, async () => {
      const server = await startOpensslServer(lab.pki, args);
      try {
        const { m, a } = await matrixOf(server.port);
        expect(
          Object.entries(m)
            .filter(([, x]) => x === 'ok')
            .map(([v]) => v),
        ).toEqual(expected);
        for (const v of Object.keys(m)) if (!expected.includes(v)) expect(m[v]).not.toBe('ok');
        expect(a.certificates.length).toBeGreaterThan(0);
      } finally {
        await server.stop();
      }
    });
  }

  it('the TLS 1.3-only chain thumbprints equal openssl x509 -fingerprint -sha1 of the served certificates', async () => {
    const server = await startOpensslServer(lab.pki, ['-www', '-tls1_3']);
    try {
      const { a } = await matrixOf(server.port);
      expect(a.certificatesFrom).toBe('TLS1.3');
      const files = writePkiFiles(lab.pki);
      const fp = (der: Uint8Array) => {
        const r = spawnSync('openssl', ['x509', '-noout', '-fingerprint', '-sha1'], {
          input: derToPem(der),
          encoding: 'utf8',
        });
        return r.stdout.trim().split('=')[1]!.replace(/:/g, '').toLowerCase();
      };
      const served = [lab.pki.leaf.der, lab.pki.intermediate.der].map(fp);
      const { createHash } = await import('node:crypto');
      expect(a.certificates.map((c) => createHash('sha1').update(c).digest('hex'))).toEqual(served);
      expect(files.dir).toBeTruthy();
    } finally {
      await server.stop();
    }
  });
});

describe.skipIf(!HAS_GNUTLS_SERV)('version matrix against gnutls-serv', () => {
  it('a TLS 1.2-only priority string gives exactly TLS 1.2', async () => {
    const server = await startGnutlsServer(lab.pki, ['--http', '--priority', 'NORMAL:-VERS-ALL:+VERS-TLS1.2']);
    try {
      const { m } = await matrixOf(server.port);
      expect(
        Object.entries(m)
          .filter(([, x]) => x === 'ok')
          .map(([v]) => v),
      ).toEqual(['TLS1.2']);
    } finally {
      await server.stop();
    }
  });

  it('the default priority gives TLS 1.2 and 1.3 with the chain decrypted from TLS 1.3', async () => {
    const server = await startGnutlsServer(lab.pki, ['--http']);
    try {
      const { m, a } = await matrixOf(server.port);
      expect(m['TLS1.3']).toBe('ok');
      expect(m['TLS1.2']).toBe('ok');
      expect(a.certificatesFrom).toBe('TLS1.3');
      expect(a.certificates.length).toBe(2);
    } finally {
      await server.stop();
    }
  });
});
if (!HAS_OPENSSL) console.warn(NO_OPENSSL);
if (!HAS_GNUTLS_SERV) console.warn(NO_GNUTLS);
