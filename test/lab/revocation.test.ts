/**
 * Revocation against the lab on 127.0.0.1: the lab certificates name the lab's CRL/OCSP responder,
 * `checkRevocationOnline` fetches them directly and through SOCKS5 and HTTP proxies, and the
 * `revoked` / `revocation-offline` chains give revoked and CRYPT_E_REVOCATION_OFFLINE verdicts.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab, type LabPki } from '../../src/lab/lab.js';
import { generateLabPki } from '../../src/lab/pki.js';
import { LAB_REVOKED_REASON } from '../../src/lab/revocation-server.js';
import { checkRevocationOnline, type OnlineRevocation } from '../../src/probe/revocation-check.js';
import { httpFetch } from '../../src/probe/revocation-fetch.js';
import { checkChain, type ChainReport } from '../../src/x509/chain.js';
import { pemToDer } from '../../src/x509/pem.js';
import { parseCrl } from '../../src/x509/revocation-adapter.js';
import { revocationOf, type RevocationReport } from '../../src/x509/revocation.js';
import { loadRootsFromPem } from '../../src/x509/roots.js';
import { startSocks5Proxy } from '../helpers/proxies.js';
import { leaked, resources } from '../helpers/resources.js';

/** Generous: two cores shared by many test runs. */
const TIMEOUT_MS = 20_000;

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ names: ['modern', 'revoked', 'revocation-offline'] });
}, 120_000);
afterAll(async () => {
  await lab?.close();
});

function chainOf(pki: LabPki): ChainReport {
  return checkChain(pemToDer(pki.chainPem), { roots: loadRootsFromPem(pki.root.pem), host: 'localhost' });
}

async function online(
  pki: LabPki,
  via?: Parameters<typeof checkRevocationOnline>[2]['via'],
): Promise<{ rev: RevocationReport; on: OnlineRevocation }> {
  const chain = chainOf(pki);
  expect(chain.verified).toBe(true);
  const rev = revocationOf(chain, [], new Date());
  const on = await checkRevocationOnline(chain, rev, {
    at: new Date(),
    timeoutMs: TIMEOUT_MS,
    ...(via ? { via } : {}),
  });
  return { rev, on };
}

/** A forward HTTP proxy (absolute-form requests, RFC 9112, Section 3.2.2) to loopback only; `refuse` answers 403 to everything. */
function startForwardProxy(refuse = false): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    let u: URL;
    try {
      u = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (refuse || u.hostname !== '127.0.0.1') {
      res.writeHead(403).end();
      return;
    }
    const up = request(u, { method: req.method, headers: { ...req.headers, connection: 'close' } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, seen })),
  );
}

describe('lab certificates', () => {
  it('name the lab responder as CRL distribution point and OCSP URL (leaf: issuing CA CRL, intermediate: root CRL)', () => {
    const rev = revocationOf(chainOf(lab.pki), [], new Date());
    const origin = `http://127.0.0.1:${lab.revocation.responder.port}/`;
    const [leaf, intermediate, root] = rev.certificates;
    expect(leaf!.urls.crl).toEqual([expect.stringMatching(new RegExp(`^${origin}pki-\\d+/issuing\\.crl$`))]);
    expect(leaf!.urls.ocsp).toEqual([expect.stringMatching(new RegExp(`^${origin}pki-\\d+/ocsp$`))]);
    expect(intermediate!.urls.crl).toEqual([expect.stringMatching(/\/root\.crl$/)]);
    expect(root!.anchor).toBe(true);
    expect(root!.urls).toEqual({ crl: [], ocsp: [], caIssuers: [] });
  });
});

describe('checkRevocationOnline against the lab responder', () => {
  it('reports every CRL and OCSP endpoint of the modern chain good, with no finding', async () => {
    const before = lab.revocation.responder.requests.length;
    const { on } = await online(lab.pki);
    expect(on.endpoints.map((e) => `${e.kind}:${e.state}`)).toEqual(['crl:good', 'ocsp:good', 'crl:good', 'ocsp:good']);
    expect(on.endpoints.filter((e) => e.kind === 'ocsp').every((e) => /signed by the issuing CA/.test(e.detail))).toBe(
      true,
    );
    expect(on.certificates.slice(0, 2).map((c) => [c.status, c.windowsError])).toEqual([
      ['good', null],
      ['good', null],
    ]);
    expect(on.findings).toEqual([]);
    const seen = lab.revocation.responder.requests
      .slice(before)
      .map((r) => `${r.method} ${r.path.replace(/\/pki-\d+/, '')}`);
    expect(seen).toEqual(['GET /issuing.crl', 'POST /ocsp', 'GET /root.crl', 'POST /ocsp']);
  });

  it('reports the revoked leaf revoked by CRL and by OCSP with its reason, and CRYPT_E_REVOKED', async () => {
    const { on } = await online(lab.revocation.revokedPki!);
    const leafEndpoints = on.endpoints.filter((e) => e.certificate === 0);
    expect(leafEndpoints.map((e) => e.state)).toEqual(['revoked', 'revoked']);
    for (const e of leafEndpoints) expect(e.detail).toContain('keyCompromise');
    expect(LAB_REVOKED_REASON).toBe(1);
    expect(on.certificates[0]!.status).toBe('revoked');
    expect(on.certificates[0]!.reason).toBe(LAB_REVOKED_REASON);
    expect(leafEndpoints.map((e) => e.reason)).toEqual([LAB_REVOKED_REASON, LAB_REVOKED_REASON]);
    expect(on.certificates[0]!.windowsError?.hresult).toBe('0x80092010');
    expect(on.certificates[1]!.status).toBe('good');
    expect(on.findings.map((f) => [f.code, f.severity, f.certificate])).toEqual([['revoked', 'error', 0]]);
  });

  it('diagnoses the offline endpoints: unreachable, revocation-offline, CRYPT_E_REVOCATION_OFFLINE 0x80092013', async () => {
    const { on } = await online(lab.revocation.offlinePki!);
    expect(on.endpoints).toHaveLength(4);
    for (const e of on.endpoints) {
      expect(e.state).toBe('unreachable');
      expect(e.detail).toMatch(/^refused: /);
      expect(e.windowsError?.name).toBe('CRYPT_E_REVOCATION_OFFLINE');
    }
    expect(on.certificates.slice(0, 2).map((c) => c.windowsError?.hresult)).toEqual(['0x80092013', '0x80092013']);
    expect(on.findings.map((f) => [f.code, f.severity])).toEqual([
      ['revocation-offline', 'error'],
      ['revocation-offline', 'error'],
    ]);
    expect(on.findings[0]!.message).toContain('CRYPT_E_REVOCATION_OFFLINE (0x80092013)');
  });

  it('fetches through a SOCKS5 proxy (the tunnel reaches the responder)', async () => {
    const proxy = await startSocks5Proxy();
    try {
      const { on } = await online(lab.pki, proxy.via());
      expect(on.endpoints.map((e) => e.state)).toEqual(['good', 'good', 'good', 'good']);
      expect(proxy.requests.map((r) => r.target)).toContain(`127.0.0.1:${lab.revocation.responder.port}`);
    } finally {
      await proxy.close();
    }
  });

  it('fetches through an HTTP proxy with absolute-form requests, and reports a refusing proxy as offline', async () => {
    const ok = await startForwardProxy();
    const refusing = await startForwardProxy(true);
    try {
      const { on } = await online(lab.pki, { kind: 'http-connect', host: '127.0.0.1', port: ok.port });
      expect(on.endpoints.map((e) => e.state)).toEqual(['good', 'good', 'good', 'good']);
      expect(ok.seen[0]).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/pki-\d+\/issuing\.crl$/);
      const blocked = await online(lab.pki, { kind: 'http-connect', host: '127.0.0.1', port: refusing.port });
      expect(blocked.on.endpoints.map((e) => [e.state, e.httpStatus])).toEqual(Array(4).fill(['unreachable', 403]));
      expect(blocked.on.findings.map((f) => f.code)).toEqual(['revocation-offline', 'revocation-offline']);
    } finally {
      ok.server.close();
      refusing.server.close();
    }
  });

  it('reports a responder that answers 200 with something else as reachable, with CRYPT_E_NO_REVOCATION_CHECK', async () => {
    const junk = createServer((_req, res) =>
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>captive portal</html>'),
    );
    await new Promise<void>((r) => junk.listen(0, '127.0.0.1', () => r()));
    try {
      const pki = await generateLabPki({
        keyAlgorithm: 'ecdsa-p256',
        revocationBaseUrl: `http://127.0.0.1:${(junk.address() as AddressInfo).port}/portal`,
      });
      const { on } = await online(pki);
      expect(on.endpoints.map((e) => [e.state, e.windowsError?.name])).toEqual(
        Array(4).fill(['reachable', 'CRYPT_E_NO_REVOCATION_CHECK']),
      );
      expect(on.endpoints[0]!.detail).toContain('not a CRL');
      expect(on.endpoints[1]!.detail).toContain('not an OCSP response');
      expect(on.certificates[0]!.windowsError?.hresult).toBe('0x80092012');
      expect(on.findings.filter((f) => f.certificate === 0).map((f) => [f.code, f.severity])).toEqual([
        ['revocation-response-invalid', 'warning'],
        ['revocation-response-invalid', 'warning'],
        ['revocation-unchecked', 'error'],
      ]);
    } finally {
      junk.close();
    }
  });

  it('times out on a responder that never answers, and leaves no socket or timer behind', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as AddressInfo).port;
    const before = resources();
    const got = await httpFetch(`http://127.0.0.1:${port}/x.crl`, {
      method: 'GET',
      accept: '*/*',
      maxBytes: 1000,
      timeoutMs: 300,
    });
    expect(got.ok).toBe(false);
    if (!got.ok) expect(got.failure).toBe('timeout');
    silent.closeAllConnections();
    await new Promise<void>((r) => silent.close(() => r()));
    await new Promise((r) => setTimeout(r, 50));
    expect(leaked(before).filter((l) => !l.startsWith('TCPServerWrap'))).toEqual([]);
  });

  it('refuses to fetch anything but http: URLs', async () => {
    for (const url of ['https://127.0.0.1/x.crl', 'ldap://127.0.0.1/cn=x', 'file:///etc/passwd', 'not a url']) {
      const got = await httpFetch(url, { method: 'GET', accept: '*/*', maxBytes: 1000 });
      expect(got.ok ? 'fetched' : got.failure, url).toBe('bad-url');
    }
  });
});

describe('lab CRLs given as files (the --crl path)', () => {
  it('the issuing CA CRL of the revoked chain revokes its leaf with reason keyCompromise; the modern CRL does not', async () => {
    const fetchCrl = async (pki: LabPki): Promise<Uint8Array> => {
      const url = revocationOf(chainOf(pki), [], new Date()).certificates[0]!.urls.crl[0]!;
      const got = await httpFetch(url, { method: 'GET', accept: 'application/pkix-crl', maxBytes: 1 << 20 });
      if (!got.ok) throw new Error(got.detail);
      return got.body;
    };
    const revokedCrl = parseCrl(await fetchCrl(lab.revocation.revokedPki!));
    expect(revokedCrl.entries.map((e) => [e.serialNumber, e.reason])).toEqual([
      [lab.revocation.revokedPki!.leaf.serialHex, 1],
    ]);
    const r1 = revocationOf(chainOf(lab.revocation.revokedPki!), [revokedCrl], new Date());
    expect(r1.certificates[0]!.status).toBe('revoked');
    expect(r1.findings.map((f) => f.code)).toEqual(['revoked']);
    expect(r1.findings[0]!.message).toContain('keyCompromise');
    // The same CRL against another lab chain: same issuer name, other key → not applicable.
    const r2 = revocationOf(chainOf(lab.pki), [revokedCrl], new Date());
    expect(r2.certificates[0]!.status).toBe('unknown');
    expect(r2.findings.map((f) => [f.code, f.severity])).toEqual([['crl-not-applicable', 'info']]);
    const goodCrl = parseCrl(await fetchCrl(lab.pki));
    expect(revocationOf(chainOf(lab.pki), [goodCrl], new Date()).certificates[0]!.status).toBe('good');
    // Judged after its nextUpdate, the CRL is stale and not used.
    const late = revocationOf(chainOf(lab.pki), [goodCrl], new Date(Date.now() + 30 * 86_400_000));
    expect(late.findings.map((f) => f.code)).toContain('crl-expired');
    expect(late.certificates[0]!.status).toBe('unknown');
  });
});
