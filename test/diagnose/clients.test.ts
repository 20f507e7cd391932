/**
 * Client profiles: their shape (fresh randomness, SNI, versions), how they compare with real
 * ClientHellos (the SSL Labs / testssl.sh captures in ../shared/corpus, and a local `openssl
 * s_client`), and what they get from the lab: the Windows 7 default gets 10054 from reset-legacy,
 * Windows Server 2012 R2 does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_PROFILES, findClientProfile, simulateClient, type ClientProfile } from '../../src/diagnose/clients.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { buildFromPrebuilt } from '../../src/probe/profiles.js';
import { encodeClientHello, parseClientHello, type ClientHello } from '../../src/tls/client-hello.js';
import { findExtension } from '../../src/tls/extensions.js';
import { isGrease } from '../../src/tls/grease.js';
import { toHex } from '../../src/wire/hex.js';
import { hasCorpusFile, NO_CORPUS, readCorpusJson } from '../helpers/corpus.js';
import { captureOpensslClientHello, HAS_OPENSSL, NO_OPENSSL } from '../helpers/servers.js';

function profile(name: string): ClientProfile {
  const p = findClientProfile(name);
  if (!p) throw new Error(`no profile ${name}`);
  return p;
}

const types = (h: ClientHello): number[] => (h.extensions ?? []).map((e) => e.type);
const noGrease = (xs: readonly number[]): number[] => xs.filter((x) => !isGrease(x));

/** True when `sub` appears in `list` in the same relative order (other entries may sit between). */
function isSubsequence(sub: readonly number[], list: readonly number[]): boolean {
  let i = 0;
  for (const x of list) if (i < sub.length && x === sub[i]) i++;
  return i === sub.length;
}

describe('CLIENT_PROFILES', () => {
  it('has the clients the issue names, with unique kebab-case ids', () => {
    const names = CLIENT_PROFILES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]+(-[a-z0-9.]+)*$/);
    for (const n of ['win7-schannel', 'win7-schannel-tls12', 'win2012', 'win2012r2', 'win2016', 'win2019', 'win2022', 'dotnet45-default', 'dotnet-strongcrypto', 'openssl-3', 'chrome']) {
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

interface CorpusClient {
  names: string;
  handshakebytes: string;
}

const CORPUS_FILE = 'client-hellos/testssl-client-simulation.json';
const hasClients = hasCorpusFile(CORPUS_FILE);

/** Extensions that IE/Edge add above SChannel (ALPN, NPN, token binding drafts): a backup agent sends none. */
const APP_LEVEL = new Set([0x0010, 0x3374, 0x0018, 0x5500]);

describe.skipIf(!hasClients)('SChannel and other profiles against real captured ClientHellos', () => {
  let clients: Map<string, ClientHello>;
  let records: Map<string, Uint8Array>;
  beforeAll(() => {
    const json = readCorpusJson<{ clients: CorpusClient[] }>(CORPUS_FILE);
    clients = new Map();
    records = new Map();
    for (const c of json.clients) {
      const bytes = Buffer.from(c.handshakebytes, 'hex');
      if (bytes[0] !== 0x16) continue; // SSLv2-format hellos
      records.set(c.names, Uint8Array.from(bytes));
      clients.set(c.names, parseClientHello(bytes.subarray(5)));
    }
  });
  const real = (name: string): ClientHello => {
    const h = clients.get(name);
    if (!h) throw new Error(`corpus has no ${name}`);
    return h;
  };
  const groups = (h: ClientHello) => noGrease(findExtension(h.extensions, 'supported_groups')?.groups ?? []);
  const schemes = (h: ClientHello) => findExtension(h.extensions, 'signature_algorithms')?.schemes ?? null;

  it('win7-schannel matches IE 8-10 on Windows 7 (TLS 1.0) up to later updates', () => {
    const ours = profile('win7-schannel').build('x.example').hello;
    const ie = real('IE 8-10 Win 7');
    expect(ours.legacyVersion).toBe(ie.legacyVersion);
    expect(isSubsequence(ie.cipherSuites, ours.cipherSuites)).toBe(true);
    // Update 3042058 added the DHE_RSA CBC suites; extended_master_secret (RFC 7627) came with a later update.
    expect(ours.cipherSuites.filter((s) => !ie.cipherSuites.includes(s))).toEqual([0x0039, 0x0033]);
    expect(types(ours).filter((t) => t !== 0x0017)).toEqual(types(ie));
    // The capture predates 3042058, when the _P521 suites were still on.
    expect(isSubsequence(groups(ours), groups(ie))).toBe(true);
  });

  it('win7-schannel-tls12 matches IE 11 on Windows 7 (TLS 1.2 enabled)', () => {
    const ours = profile('win7-schannel-tls12').build('x.example');
    const ie = real('IE 11 Win 7');
    expect(ours.hello.legacyVersion).toBe(ie.legacyVersion);
    expect(buildFromPrebuilt(ours).record.subarray(1, 3)).toEqual(records.get('IE 11 Win 7')!.subarray(1, 3));
    expect(isSubsequence(ie.cipherSuites, ours.hello.cipherSuites)).toBe(true);
    expect(types(ours.hello)).toEqual(types(ie));
    expect(schemes(ours.hello)).toEqual(schemes(ie));
    expect(groups(ours.hello)).toEqual(groups(ie));
  });

  it('win2012r2 matches IE 11 on Windows 8.1, app-level extensions aside', () => {
    const ours = profile('win2012r2').build('x.example').hello;
    const ie = real('IE 11 Win 8.1');
    expect(isSubsequence(ie.cipherSuites, ours.cipherSuites)).toBe(true);
    // IE dropped RC4 on its own; SChannel still offers it last.
    expect(ours.cipherSuites.filter((s) => !ie.cipherSuites.includes(s))).toEqual([0x0005, 0x0004]);
    expect(types(ours)).toEqual(types(ie).filter((t) => !APP_LEVEL.has(t)));
    expect(schemes(ours)).toEqual(schemes(ie));
    expect(groups(ours)).toEqual(groups(ie));
  });

  it('win2016 matches Edge 13 on Windows 10, curve25519 (1607) aside', () => {
    const ours = profile('win2016').build('x.example').hello;
    const edge = real('Edge 13 Win 10');
    expect(isSubsequence(edge.cipherSuites, ours.cipherSuites)).toBe(true);
    expect(types(ours)).toEqual(types(edge).filter((t) => !APP_LEVEL.has(t)));
    expect(schemes(ours)).toEqual(schemes(edge));
    expect(groups(ours).filter((g) => g !== 0x001d)).toEqual(groups(edge));
  });

  it('win2019 matches Edge 17 on Windows 10', () => {
    const ours = profile('win2019').build('x.example').hello;
    const edge = real('Edge 17 (Win 10)');
    expect(isSubsequence(edge.cipherSuites, ours.cipherSuites)).toBe(true);
    expect(types(ours)).toEqual(types(edge).filter((t) => !APP_LEVEL.has(t)));
    expect(schemes(ours)).toEqual(schemes(edge));
    expect(groups(ours)).toEqual(groups(edge));
  });

  it('chrome matches Chrome 101, X25519MLKEM768 aside, down to the padded length', () => {
    const c101 = real('Chrome 101 (Win 10)');
    const sni = findExtension(c101.extensions, 'server_name')?.names?.[0]?.name ?? null;
    const ours = profile('chrome').build(sni);
    expect(noGrease(ours.hello.cipherSuites)).toEqual(noGrease(c101.cipherSuites));
    expect(isGrease(ours.hello.cipherSuites[0]!)).toBe(true);
    expect(noGrease(types(ours.hello))).toEqual(noGrease(types(c101)));
    expect(schemes(ours.hello)).toEqual(schemes(c101));
    expect(groups(ours.hello).filter((g) => g !== 0x11ec)).toEqual(groups(c101));
    expect(buildFromPrebuilt(ours).record.length).toBe(records.get('Chrome 101 (Win 10)')!.length);
  });

  it('openssl-3 matches OpenSSL 3.0.15', () => {
    const ours = profile('openssl-3').build('x.example').hello;
    const o = real('OpenSSL 3.0.15 (Debian)');
    expect(ours.cipherSuites).toEqual(o.cipherSuites);
    expect(types(ours)).toEqual(types(o));
    expect(groups(ours)).toEqual(groups(o));
    expect(schemes(ours)).toEqual(schemes(o));
    expect(findExtension(ours.extensions, 'supported_versions')?.versions).toEqual(findExtension(o.extensions, 'supported_versions')?.versions);
  });
});
if (!hasClients) console.warn(NO_CORPUS);

describe.skipIf(!HAS_OPENSSL)('openssl-3 against the local openssl s_client', () => {
  it('offers the same suites, extensions, groups and signature schemes', async () => {
    const captured = await captureOpensslClientHello([]);
    const real = parseClientHello(captured.handshake);
    const ours = profile('openssl-3').build('localhost').hello;
    expect(ours.cipherSuites).toEqual(real.cipherSuites);
    expect(types(ours)).toEqual(types(real));
    expect(findExtension(ours.extensions, 'supported_groups')?.groups).toEqual(findExtension(real.extensions, 'supported_groups')?.groups);
    expect(findExtension(ours.extensions, 'signature_algorithms')?.schemes).toEqual(findExtension(real.extensions, 'signature_algorithms')?.schemes);
    expect(encodeClientHello(ours).length).toBe(captured.handshake.length);
  });
});
if (!HAS_OPENSSL) console.warn(NO_OPENSSL);

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

  it('Windows 7 without TLS 1.2 gets 10054 from reset-legacy', async () => {
    const s = await simulateClient(target('reset-legacy'), profile('win7-schannel'), 'localhost', { readTimeoutMs: 3000 });
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
      ['dotnet45-default', 'dotnet-strongcrypto', 'dotnet-strongcrypto-win7'].map((n) => simulateClient(target('reset-legacy'), profile(n), 'localhost', { readTimeoutMs: 3000 })),
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
