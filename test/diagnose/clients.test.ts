/**
 * Client profiles: their shape (fresh randomness, SNI, versions), how openssl-3 compares with a local
 * `openssl s_client`, and what they get from the lab: exactly the configurations limited to TLS
 * 1.0/1.1 get 10054 from reset-legacy. The field-by-field comparison with the corpus references is
 * in client-fidelity.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_PROFILES,
  findClientProfile,
  highestVersion,
  profileRemediation,
  simulateClient,
  type ClientProfile,
} from '../../src/diagnose/clients.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { buildFromPrebuilt } from '../../src/probe/profiles.js';
import { encodeClientHello, parseClientHello, type ClientHello } from '../../src/tls/client-hello.js';
import { findExtension } from '../../src/tls/extensions.js';
import { toHex } from '../../src/wire/hex.js';
import { captureOpensslClientHello, HAS_OPENSSL, NO_OPENSSL } from '../helpers/servers.js';

function profile(name: string): ClientProfile {
  const p = findClientProfile(name);
  if (!p) throw new Error(`no profile ${name}`);
  return p;
}

const types = (h: ClientHello): number[] => (h.extensions ?? []).map((e) => e.type);

describe('CLIENT_PROFILES', () => {
  it('has the clients the issue names, with unique kebab-case ids', () => {
    const names = CLIENT_PROFILES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]+(-[a-z0-9.]+)*$/);
    for (const n of [
      'win2008',
      'win2008-kb4019276',
      'win2008-tls12',
      'winhttp-win7',
      'winhttp-win7-kb3140245',
      'winhttp-win7-tls12',
      'dotnet35',
      'dotnet46-default',
      'dotnet47-systemdefault',
      'dotnet-strongcrypto-only',
      'agent32-no-wow64-keys',
    ]) {
      expect(names).toContain(n);
      const c = profile(n).configuration;
      expect(c, n).not.toBeNull();
      expect(c!.state, n).toMatch(/Windows/);
    }
    for (const n of [
      'win7-schannel',
      'win7-schannel-tls12',
      'win2012',
      'win2012r2',
      'win2016',
      'win2019',
      'win2022',
      'dotnet45-default',
      'dotnet-strongcrypto',
      'openssl-3',
      'chrome',
    ]) {
      expect(names).toContain(n);
    }
    expect(findClientProfile('WIN2008R2')?.name).toBe('win7-schannel');
    expect(findClientProfile('nope')).toBeUndefined();
  });

  it('builds every profile into a hello that parses back byte for byte, with fresh random each time', () => {
    for (const p of CLIENT_PROFILES) {
      const a = p.build('backup.example');
      const b = p.build('backup.example');
      const bytes = encodeClientHello(a.hello);
      expect(encodeClientHello(parseClientHello(bytes))).toEqual(bytes);
      expect(toHex(a.hello.random)).not.toBe(toHex(b.hello.random));
      expect(p.versions).toContain(a.version);
      expect(findExtension(a.hello.extensions, 'server_name')?.names?.[0]?.name).toBe('backup.example');
      expect(findExtension(p.build(null).hello.extensions, 'server_name')).toBeUndefined();
    }
  });

  it('offers TLS 1.0 at most for the Windows 7 and .NET 4.5 defaults, TLS 1.2 once enabled', () => {
    const win7 = profile('win7-schannel').build(null);
    expect(win7.hello.legacyVersion).toBe(0x0301);
    expect(findExtension(win7.hello.extensions, 'signature_algorithms')).toBeUndefined();
    expect(buildFromPrebuilt(win7).record.subarray(0, 3)).toEqual(Uint8Array.from([0x16, 0x03, 0x01]));
    expect(profile('dotnet45-default').build(null).hello.legacyVersion).toBe(0x0301);
    // SCH_USE_STRONG_CRYPTO: no RC4 (TLS_RSA_WITH_RC4_128_SHA 0x0005, TLS_RSA_WITH_RC4_128_MD5 0x0004).
    expect(profile('dotnet-strongcrypto').build(null).hello.cipherSuites).not.toContain(0x0005);
    expect(profile('dotnet45-default').build(null).hello.cipherSuites).toContain(0x0005);
    const tls12 = profile('win7-schannel-tls12').build(null);
    expect(tls12.hello.legacyVersion).toBe(0x0303);
    expect(tls12.recordVersion).toBe(0x0303);
  });

  it('pads Chrome the BoringSSL way: a 256–511 byte handshake message becomes exactly 512', () => {
    for (const sni of ['a.example', 'backup.example', 'a-much-longer-storage-account-name.blob.core.windows.net']) {
      const len = encodeClientHello(profile('chrome').build(sni).hello).length;
      expect(len <= 0xff || len >= 0x200).toBe(true);
    }
  });
});

describe.skipIf(!HAS_OPENSSL)('openssl-3 against the local openssl s_client', () => {
  it('offers the same suites, extensions, groups and signature schemes', async () => {
    const captured = await captureOpensslClientHello([]);
    const real = parseClientHello(captured.handshake);
    const ours = profile('openssl-3').build('localhost').hello;
    expect(ours.cipherSuites).toEqual(real.cipherSuites);
    expect(types(ours)).toEqual(types(real));
    expect(findExtension(ours.extensions, 'supported_groups')?.groups).toEqual(
      findExtension(real.extensions, 'supported_groups')?.groups,
    );
    expect(findExtension(ours.extensions, 'signature_algorithms')?.schemes).toEqual(
      findExtension(real.extensions, 'signature_algorithms')?.schemes,
    );
    expect(encodeClientHello(ours).length).toBe(captured.handshake.length);
  });
});
if (!HAS_OPENSSL) console.warn(NO_OPENSSL);

const GUIDANCE = [
  'win2008',
  'win2008-kb4019276',
  'win2008-tls12',
  'winhttp-win7',
  'winhttp-win7-kb3140245',
  'winhttp-win7-tls12',
  'dotnet35',
  'dotnet46-default',
  'dotnet47-systemdefault',
  'dotnet-strongcrypto-only',
  'agent32-no-wow64-keys',
];

describe('profileRemediation', () => {
  const keysOf = (n: string) =>
    profileRemediation(profile(n)).flatMap((r) => (r.keys ?? []).map((k) => `${k.path}\\${k.name}=${k.value}`));
  const kbsOf = (n: string) => profileRemediation(profile(n)).flatMap((r) => (r.kb ? [r.kb] : []));

  it('gives each failing configuration what it lacks, and nothing to one that offers TLS 1.2', () => {
    for (const p of CLIENT_PROFILES) {
      if (p.configuration === null) continue;
      const needs = profileRemediation(p);
      expect(needs.length > 0, p.name).toBe(highestVersion(p.shape) < 0x0303);
    }
    expect(kbsOf('win2008')).toEqual(['KB4019276']);
    expect(kbsOf('win2008-kb4019276')).toEqual([]);
    expect(keysOf('win2008-kb4019276')).toEqual([
      expect.stringMatching(/TLS 1\.2\\Client\\Enabled=1$/),
      expect.stringMatching(/DisabledByDefault=0$/),
    ]);
    expect(kbsOf('winhttp-win7')).toEqual(['KB3140245']);
    expect(kbsOf('winhttp-win7-kb3140245')).toEqual([]);
    expect(keysOf('winhttp-win7-kb3140245').filter((k) => k.includes('DefaultSecureProtocols'))).toEqual([
      expect.stringMatching(
        /^HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp\\DefaultSecureProtocols=2560$/,
      ),
      expect.stringMatching(/WOW6432Node.*DefaultSecureProtocols=2560$/),
    ]);
    // The 32-bit agent already has the 64-bit values: it needs exactly the WOW6432Node ones.
    expect(keysOf('agent32-no-wow64-keys')).toEqual([
      'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319\\SystemDefaultTlsVersions=1',
      'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319\\SchUseStrongCrypto=1',
    ]);
    expect(profileRemediation(profile('agent32-no-wow64-keys'))[0]!.text).toMatch(/32-bit.*WOW6432Node/);
    expect(keysOf('dotnet35')).toEqual([
      expect.stringMatching(/v2\.0\.50727\\SystemDefaultTlsVersions=1$/),
      expect.stringMatching(/v2\.0\.50727\\SchUseStrongCrypto=1$/),
    ]);
    expect(kbsOf('dotnet35')).toEqual(['KB3154520']);
  });
});

describe('simulateClient against the lab', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ names: ['reset-legacy', 'alert-legacy', 'picky-size'] });
  });
  afterAll(async () => {
    await lab?.close();
  });
  const target = (name: string) => {
    const e = lab.endpoint(name);
    return { host: 'localhost', address: e.host, port: e.port };
  };

  it('gets exactly the configurations limited to TLS 1.0/1.1 a 10054 from reset-legacy', async () => {
    const names = [
      ...GUIDANCE,
      ...CLIENT_PROFILES.filter((p) => p.configuration !== null && !GUIDANCE.includes(p.name)).map((p) => p.name),
    ];
    const got: Record<string, string> = {};
    const want: Record<string, string> = {};
    for (const n of names) {
      const p = profile(n);
      const s = await simulateClient(target('reset-legacy'), p, 'localhost', { readTimeoutMs: 5000 });
      got[n] = s.verdict;
      want[n] = highestVersion(p.shape) < 0x0303 ? 'gets-10054' : 'connects';
    }
    expect(got).toEqual(want);
    expect(Object.values(got).filter((v) => v === 'gets-10054').length).toBeGreaterThanOrEqual(6);
  }, 120_000);

  it('Windows 7 without TLS 1.2 gets 10054 from reset-legacy', async () => {
    const s = await simulateClient(target('reset-legacy'), profile('win7-schannel'), 'localhost', {
      readTimeoutMs: 3000,
    });
    expect(s.gets10054).toBe(true);
    expect(s.verdict).toBe('gets-10054');
    expect(s.attempt.outcome).toBe('reset');
    expect(s.summary).toMatch(/^Yes: .*10054/);
  });

  it('Windows Server 2012 R2 connects to reset-legacy with TLS 1.2', async () => {
    const s = await simulateClient(target('reset-legacy'), profile('win2012r2'), 'localhost');
    expect(s.gets10054).toBe(false);
    expect(s.verdict).toBe('connects');
    expect(s.attempt.negotiatedVersion).toBe(0x0303);
  });

  it('a .NET 4.5 app without the keys gets 10054; with both keys on 2012 R2 it connects; with only the .NET keys on Windows 7 it still gets 10054', async () => {
    const results = await Promise.all(
      ['dotnet45-default', 'dotnet-strongcrypto', 'dotnet-strongcrypto-win7'].map((n) =>
        simulateClient(target('reset-legacy'), profile(n), 'localhost', { readTimeoutMs: 3000 }),
      ),
    );
    expect(results.map((r) => r.gets10054)).toEqual([true, false, true]);
  });

  it('Windows Server 2022 negotiates TLS 1.3 and decrypts the certificates', async () => {
    const s = await simulateClient(target('reset-legacy'), profile('win2022'), 'localhost');
    expect(s.attempt.negotiatedVersion).toBe(0x0304);
    expect(s.attempt.certificates.length).toBeGreaterThanOrEqual(2);
  });

  it('Windows 7 without TLS 1.2 gets an alert, not 10054, from alert-legacy', async () => {
    const s = await simulateClient(target('alert-legacy'), profile('win7-schannel'), 'localhost');
    expect(s.gets10054).toBe(false);
    expect(s.verdict).toBe('fails-otherwise');
    expect(s.attempt.alert?.name).toBe('protocol_version');
  });

  it('the unpadded OpenSSL hello gets 10054 from picky-size while the padded Chrome hello connects', async () => {
    const openssl = profile('openssl-3');
    const size = buildFromPrebuilt(openssl.build('localhost')).record.length;
    expect(size >= 256 && size <= 511).toBe(true);
    const o = await simulateClient(target('picky-size'), openssl, 'localhost', { readTimeoutMs: 3000 });
    expect(o.gets10054).toBe(true);
    const c = await simulateClient(target('picky-size'), profile('chrome'), 'localhost');
    expect(c.verdict).toBe('connects');
  });
});
