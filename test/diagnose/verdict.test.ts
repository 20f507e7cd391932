/**
 * Verdicts against real endpoints on loopback: the lab (reset, alert, silent, black hole, TLS 1.3
 * only, accepts everything, SNI required), openssl s_server -tls1_2, and two tiny local servers (one
 * resets every connection, one speaks HTTP). Each verdict must match what the server does.
 */
import { type AddressInfo, type Server, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  concludeEndpoints,
  expandEndpointProfile,
  matchesPattern,
  type EndpointResult,
} from '../../src/diagnose/endpoint-profiles.js';
import { decideVerdict } from '../../src/diagnose/verdict.js';
import { runDiagnosis } from '../../src/diagnose/run.js';
import { DOTNET_TLS_SETTINGS, SCHANNEL_TLS12_CLIENT_SETTINGS } from '../../src/diagnose/remediation.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { checkChain } from '../../src/x509/chain.js';
import { parseCertificate } from '../../src/x509/der.js';
import { toTrustedRoot } from '../../src/x509/roots.js';
import { HAS_OPENSSL, NO_OPENSSL, startOpensslServer, type ExternalServer } from '../helpers/servers.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

/** Diagnoses a lab endpoint by address, sending SNI localhost (the lab leaf's name). */
function diagnoseLab(name: string, extra: Partial<Parameters<typeof runDiagnosis>[1]> = {}) {
  const e = lab.endpoint(name);
  return runDiagnosis(e.host, { port: e.port, sni: 'localhost', readTimeoutMs: 2000, ...extra });
}

/** Starts a raw loopback server that calls `onData` with the first bytes of each connection. */
async function rawServer(
  onData: (socket: import('node:net').Socket) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => onData(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('runDiagnosis against the lab', () => {
  it('says legacy-version-reset when TLS 1.0/1.1 hellos are reset and TLS 1.2 works, with the registry fix', async () => {
    const { diagnosis: d, scan } = await diagnoseLab('reset-legacy');
    expect(scan.addresses[0]?.versions.length).toBe(5);
    expect(d.verdict.code).toBe('legacy-version-reset');
    expect(d.verdict.summary).toMatch(/10054/);
    const tls10 = d.evidence.find((e) => e.attempt === 'TLS1.0');
    expect(tls10).toMatchObject({ outcome: 'reset', errorCode: 'ECONNRESET', bytesReceived: 0 });
    expect(d.evidence.find((e) => e.attempt === 'TLS1.2')?.outcome).toBe('negotiated');
    // Unknown OS: every prerequisite KB, the SChannel values and the .NET values.
    expect(d.remediation.filter((r) => r.kind === 'update').map((r) => r.kb)).toEqual(['KB4019276', 'KB3140245']);
    const keys = d.remediation.flatMap((r) => r.keys ?? []);
    expect(keys).toEqual(expect.arrayContaining([...SCHANNEL_TLS12_CLIENT_SETTINGS, ...DOTNET_TLS_SETTINGS]));
  });

  it('narrows the remediation to the stated Windows version', async () => {
    const { diagnosis: d } = await diagnoseLab('reset-legacy', { os: '2012r2' });
    expect(d.verdict.code).toBe('legacy-version-reset');
    expect(d.remediation.some((r) => r.kind === 'update')).toBe(false);
  });

  it('says legacy-version-alert when old hellos get a protocol_version alert', async () => {
    const { diagnosis: d } = await diagnoseLab('alert-legacy');
    expect(d.verdict.code).toBe('legacy-version-alert');
    expect(d.evidence.find((e) => e.attempt === 'TLS1.1')).toMatchObject({
      outcome: 'alert',
      alert: 'protocol_version',
    });
    expect(d.verdict.summary).not.toMatch(/10054 \(/);
  });

  it('says tls12-ok for a server that accepts every version', async () => {
    const { diagnosis: d } = await diagnoseLab('legacy');
    expect(d.verdict.code).toBe('tls12-ok');
    expect(d.remediation).toEqual([]);
  });

  it('says no-tls12 for a TLS 1.3-only server', async () => {
    const { diagnosis: d } = await diagnoseLab('tls13-only');
    expect(d.verdict.code).toBe('no-tls12');
    expect(d.evidence.find((e) => e.attempt === 'TLS1.2')?.alert).toBe('protocol_version');
  });

  it('says closed-always for a server that closes after every hello', async () => {
    const { diagnosis: d } = await diagnoseLab('silent-close');
    expect(d.verdict.code).toBe('closed-always');
    expect(d.evidence.every((e) => e.outcome === 'closed')).toBe(true);
  });

  it('says timeout-always for a server that never answers', async () => {
    const { diagnosis: d } = await diagnoseLab('black-hole', { readTimeoutMs: 400 });
    expect(d.verdict.code).toBe('timeout-always');
    expect(d.remediation.every((r) => r.kind === 'network')).toBe(true);
  });

  it('says sni-required when only hellos with SNI complete', async () => {
    const run = await diagnoseLab('picky-sni');
    expect(run.noSniScan?.addresses[0]?.versions.map((r) => r?.alert?.name)).toEqual([
      'handshake_failure',
      'handshake_failure',
    ]);
    expect(run.diagnosis.verdict.code).toBe('sni-required');
    expect(run.diagnosis.secondary.map((s) => s.code)).toContain('tls12-ok');
    expect(run.diagnosis.evidence.some((e) => e.attempt === 'TLS1.2 without SNI' && e.outcome === 'alert')).toBe(true);
  });

  it('adds chain-untrusted when the chain does not reach a trusted root, and not when it does', async () => {
    // Only the leaf reaches the check, as if the server had not sent its intermediate.
    const untrusted = await diagnoseLab('reset-legacy', {
      chainCheck: (ders, host) => checkChain(ders.slice(0, 1), { host }),
    });
    expect(untrusted.diagnosis.verdict.code).toBe('legacy-version-reset');
    expect(untrusted.diagnosis.secondary.map((s) => s.code)).toContain('chain-untrusted');
    expect(untrusted.diagnosis.remediation.some((r) => r.kind === 'trust-store')).toBe(true);

    const roots = [toTrustedRoot(parseCertificate(lab.pki.root.der))];
    const trusted = await diagnoseLab('reset-legacy', {
      chainCheck: (ders, host) => checkChain(ders, { host, roots }),
    });
    expect(trusted.diagnosis.verdict.code).toBe('legacy-version-reset');
    expect(trusted.diagnosis.secondary.map((s) => s.code)).not.toContain('chain-untrusted');
  });

  it('says endpoint-unreachable when nothing listens', async () => {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const { diagnosis: d, noSniScan } = await runDiagnosis('127.0.0.1', { port });
    expect(d.verdict.code).toBe('endpoint-unreachable');
    expect(d.evidence[0]?.outcome).toBe('connect-refused');
    expect(noSniScan).toBeNull();
    expect(d.remediation[0]?.kind).toBe('network');
  });
});

describe('runDiagnosis against local misbehaving servers', () => {
  it('says reset-always when every hello, TLS 1.2 included, is reset', async () => {
    const { server, port } = await rawServer((socket) => socket.resetAndDestroy());
    try {
      const { diagnosis: d } = await runDiagnosis('127.0.0.1', { port, sni: 'localhost' });
      expect(d.verdict.code).toBe('reset-always');
      expect(d.evidence.map((e) => e.outcome)).toEqual(['reset', 'reset', 'reset', 'reset', 'reset']);
      expect(d.remediation.map((r) => r.kind)).toEqual(['network']);
    } finally {
      server.close();
    }
  });

  it('says not-tls when the server answers in plain HTTP', async () => {
    const { server, port } = await rawServer((socket) =>
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'),
    );
    try {
      const { diagnosis: d } = await runDiagnosis('127.0.0.1', { port, sni: 'localhost' });
      expect(d.verdict.code).toBe('not-tls');
      expect(d.evidence.some((e) => e.outcome === 'malformed')).toBe(true);
    } finally {
      server.close();
    }
  });
});

describe.skipIf(!HAS_OPENSSL)('runDiagnosis against openssl s_server -tls1_2', () => {
  let server: ExternalServer;
  beforeAll(async () => {
    server = await startOpensslServer(lab.pki, ['-www', '-tls1_2']);
  });
  afterAll(() => server?.stop());

  it('says legacy-version-alert: TLS 1.2 works, older versions and TLS 1.3 get alerts', async () => {
    const { diagnosis: d } = await runDiagnosis('127.0.0.1', { port: server.port, sni: 'localhost' });
    expect(d.verdict.code).toBe('legacy-version-alert');
    expect(d.evidence.find((e) => e.attempt === 'TLS1.2')?.outcome).toBe('negotiated');
    expect(d.evidence.find((e) => e.attempt === 'TLS1.3')?.outcome).toBe('alert');
  });
});
if (!HAS_OPENSSL) console.warn(NO_OPENSSL);

describe('decideVerdict', () => {
  it('says endpoint-unreachable for a DNS failure, with a network remediation', () => {
    const d = decideVerdict({
      host: 'backup.example',
      withSni: null,
      dnsError: { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND backup.example' },
    });
    expect(d.verdict.code).toBe('endpoint-unreachable');
    expect(d.verdict.summary).toMatch(/backup\.example did not resolve \(ENOTFOUND\)/);
    expect(d.remediation.map((r) => r.kind)).toEqual(['network']);
    expect(d.evidence).toEqual([]);
  });

  it('throws TypeError when given neither a scan nor a DNS error', () => {
    expect(() => decideVerdict({ withSni: null })).toThrow(TypeError);
  });

  it('puts likely-tls-inspection first when the chain ends at a self-signed root outside the root set', async () => {
    const { scan } = await diagnoseLab('reset-legacy');
    // The lab root is self-signed and not documented: exactly what an inspecting proxy presents.
    const chain = checkChain([lab.pki.leaf.der, lab.pki.intermediate.der, lab.pki.root.der], { host: 'localhost' });
    expect(chain.findings.map((f) => f.code)).toContain('likely-tls-inspection');
    const d = decideVerdict({ withSni: scan.addresses[0]!, chain });
    expect(d.verdict.code).toBe('likely-tls-inspection');
    expect(d.secondary.map((s) => s.code)).toContain('legacy-version-reset');
    expect(d.remediation.map((r) => r.kind)).toEqual(expect.arrayContaining(['network', 'trust-store', 'registry']));
  });
});

describe('expandEndpointProfile (azure-backup)', () => {
  it('lists the seven FQDN patterns of the backup agent, all wildcards on port 443, and probes only the controls without names', () => {
    const x = expandEndpointProfile('azure-backup');
    expect(x.needsConcreteName.map((e) => e.pattern)).toEqual([
      '*.microsoft.com',
      '*.windowsazure.com',
      '*.microsoftonline.com',
      '*.windows.net',
      '*.blob.core.windows.net',
      '*.queue.core.windows.net',
      '*.blob.storage.azure.net',
    ]);
    expect(x.needsConcreteName.every((e) => e.wildcard && e.port === 443)).toBe(true);
    expect(x.probes.every((p) => p.role === 'control')).toBe(true);
    expect(x.probes.length).toBeGreaterThanOrEqual(2);
  });

  it('assigns each concrete name to its most specific pattern', () => {
    const x = expandEndpointProfile('azure-backup', [
      'Acct1.blob.core.windows.net.',
      'login.microsoftonline.com',
      'elsewhere.example',
    ]);
    expect(x.probes.filter((p) => p.role === 'target').map((p) => p.pattern)).toEqual([
      '*.blob.core.windows.net',
      '*.microsoftonline.com',
      null,
    ]);
    expect(x.needsConcreteName.map((e) => e.pattern)).not.toContain('*.blob.core.windows.net');
    expect(x.needsConcreteName.map((e) => e.pattern)).toContain('*.windows.net');
  });

  it('matches wildcards below the suffix only, case-insensitively', () => {
    expect(matchesPattern('a.b.windows.net', '*.windows.net')).toBe(true);
    expect(matchesPattern('windows.net', '*.windows.net')).toBe(false);
    expect(matchesPattern('evilwindows.net', '*.windows.net')).toBe(false);
    expect(matchesPattern('WWW.Microsoft.com', 'www.microsoft.com')).toBe(true);
  });

  it('throws RangeError for an unknown profile', () => {
    expect(() => expandEndpointProfile('azure-typo')).toThrow(RangeError);
  });
});

describe('concludeEndpoints', () => {
  const control = (host: string, verdict: EndpointResult['verdict']): EndpointResult => ({
    host,
    port: 443,
    role: 'control',
    verdict,
  });
  const target = (host: string, verdict: EndpointResult['verdict']): EndpointResult => ({
    host,
    port: 443,
    role: 'target',
    verdict,
  });

  it('says client-needs-tls12 from real diagnoses: the endpoint resets old hellos, a control accepts TLS 1.2', async () => {
    const [t, c] = await Promise.all([diagnoseLab('reset-legacy'), diagnoseLab('legacy')]);
    const x = concludeEndpoints([
      target('vault.example', t.diagnosis.verdict.code),
      control('control.example', c.diagnosis.verdict.code),
    ]);
    expect(x.code).toBe('client-needs-tls12');
    expect(x.summary).toMatch(/vault\.example:443/);
  });

  it('tells a network that blocks TLS everywhere from an endpoint that refuses', () => {
    expect(
      concludeEndpoints([
        target('a.blob.core.windows.net', 'reset-always'),
        control('www.microsoft.com', 'reset-always'),
        control('www.google.com', 'timeout-always'),
      ]).code,
    ).toBe('network-blocks-tls');
    const refuses = concludeEndpoints([
      target('a.blob.core.windows.net', 'reset-always'),
      control('www.microsoft.com', 'tls12-ok'),
    ]);
    expect(refuses.code).toBe('endpoint-refuses');
    expect(refuses.failing).toEqual(['a.blob.core.windows.net:443']);
  });

  it('says network-unreachable when no control connects, tls-inspection when a control is inspected, inconclusive without controls', () => {
    expect(
      concludeEndpoints([
        target('a', 'endpoint-unreachable'),
        control('b', 'endpoint-unreachable'),
        control('c', 'endpoint-unreachable'),
      ]).code,
    ).toBe('network-unreachable');
    expect(concludeEndpoints([target('a', 'tls12-ok'), control('b', 'likely-tls-inspection')]).code).toBe(
      'tls-inspection',
    );
    expect(concludeEndpoints([target('a', 'reset-always')]).code).toBe('inconclusive');
    expect(concludeEndpoints([target('a', 'tls12-ok'), control('b', 'tls12-ok')]).code).toBe('all-ok');
  });
});
