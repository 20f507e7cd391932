/**
 * `tlsprobe diagnose`, `clients` and `registry`, spawned as a user runs them, against the lab on
 * loopback and the .reg fixtures: verdicts, remediation, client simulation, the fix file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { parseRegistryText, checkRegistry } from '../../src/diagnose/registry.js';
import { HAS_CLI, tlsprobe } from '../helpers/cli.js';

let lab: Lab;
let dir: string;
beforeAll(async () => {
  lab = await startLab({ names: ['reset-legacy', 'modern', 'legacy'] });
  dir = mkdtempSync(join(tmpdir(), 'tlsprobe-diag-cli-'));
});
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!HAS_CLI)('tlsprobe diagnose', () => {
  it('finds the legacy-version reset with evidence, the Windows 7 client 10054, and the registry remedy', async () => {
    const port = lab.endpoint('reset-legacy').port;
    // --roots with the lab root: the chain is then trusted, as on a machine that trusts its issuer.
    const rootFile = join(dir, 'lab-root.pem');
    writeFileSync(rootFile, lab.pki.root.pem);
    const r = await tlsprobe([
      'diagnose',
      `127.0.0.1:${port}`,
      '--sni',
      'localhost',
      '--os',
      '2008r2',
      '--client',
      'win7-schannel',
      '--bisect',
      '--roots',
      rootFile,
      '--json',
    ]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout).results[0];
    expect(j.verdict.code).toBe('legacy-version-reset');
    expect(j.evidence.find((e: { attempt: string }) => e.attempt === 'TLS1.0')).toMatchObject({ outcome: 'reset' });
    expect(j.remediation.map((x: { kind: string }) => x.kind)).toEqual(expect.arrayContaining(['registry', 'update']));
    expect(JSON.stringify(j.remediation)).toMatch(/KB3140245/);
    expect(j.client).toMatchObject({ profile: 'win7-schannel', gets10054: true });
    expect(j.bisect.cause.dimension).toBe('version');
    expect(j.probe.versions).toHaveLength(5);
  });

  it('says tls12-ok (exit 0) where every version works, legacy-version-alert as information (exit 0) where old ones get an alert', async () => {
    const rootFile = join(dir, 'lab-root2.pem');
    writeFileSync(rootFile, lab.pki.root.pem);
    const ok = await tlsprobe([
      'diagnose',
      `127.0.0.1:${lab.endpoint('legacy').port}`,
      '--sni',
      'localhost',
      '--roots',
      rootFile,
      '--json',
    ]);
    expect(JSON.parse(ok.stdout).results[0].verdict.code).toBe('tls12-ok');
    expect(ok.code).toBe(0);
    const alert = await tlsprobe([
      'diagnose',
      `127.0.0.1:${lab.endpoint('modern').port}`,
      '--sni',
      'localhost',
      '--roots',
      rootFile,
      '--json',
    ]);
    expect(JSON.parse(alert.stdout).results[0].verdict).toMatchObject({
      code: 'legacy-version-alert',
      information: true,
    });
    expect(JSON.parse(alert.stdout).results[0].fine).toBe(true);
    // Issue 12: a healthy TLS 1.2+1.3 endpoint that refuses TLS 1.0 is fine for a current client.
    expect(alert.code).toBe(0);
  });

  it('calls a closed port unreachable, not a TLS problem (exit 3: the network failed before TLS)', async () => {
    const r = await tlsprobe(['diagnose', '127.0.0.1:1']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/endpoint-unreachable/);
  });

  it('rejects an unknown client profile and Windows version with exit 2', async () => {
    expect((await tlsprobe(['diagnose', '127.0.0.1:1', '--os', 'vista'])).stderr).toMatch(
      /--os "vista" is not a Windows version/,
    );
    const r = await tlsprobe(['diagnose', `127.0.0.1:${lab.endpoint('modern').port}`, '--client', 'netscape']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown client "netscape"/);
  });
});

describe.skipIf(!HAS_CLI)('tlsprobe clients', () => {
  it('lists the profiles, then tells which would get 10054 from the reset endpoint', async () => {
    const list = JSON.parse((await tlsprobe(['clients', '--json'])).stdout);
    expect(list.clients.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['win7-schannel', 'win2012r2', 'dotnet45-default']),
    );
    const r = await tlsprobe([
      'clients',
      `127.0.0.1:${lab.endpoint('reset-legacy').port}`,
      '--sni',
      'localhost',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const by = Object.fromEntries(
      JSON.parse(r.stdout).clients.map((c: { profile: string; gets10054: boolean }) => [c.profile, c.gets10054]),
    );
    expect(by).toMatchObject({
      'win7-schannel': true,
      'win7-schannel-tls12': false,
      win2012r2: false,
      'dotnet45-default': true,
    });
    const agent = JSON.parse(r.stdout).clients.find((c: { profile: string }) => c.profile === 'agent32-no-wow64-keys');
    expect(agent.state).toMatch(/32-bit .*Server 2012 R2.*WOW6432Node.*absent/);
    expect(
      agent.remediation
        .flatMap((x: { keys?: { path: string }[] }) => x.keys ?? [])
        .every((k: { path: string }) => k.path.includes('WOW6432Node')),
    ).toBe(true);
    const ok = JSON.parse(r.stdout).clients.find((c: { profile: string }) => c.profile === 'dotnet47-systemdefault');
    expect(ok).toMatchObject({ verdict: 'connects', remediation: [] });
  });

  it('prints name, title, fidelity and source for every profile, and states each configuration in the table', async () => {
    const list = JSON.parse((await tlsprobe(['clients', '--json'])).stdout);
    for (const c of list.clients) {
      expect(typeof c.name).toBe('string');
      expect(typeof c.title).toBe('string');
      expect(['captured', 'derived', 'modelled']).toContain(c.fidelity);
      expect(c.source.length).toBeGreaterThan(20);
    }
    // Wide enough that the "Stands for" cells are not wrapped mid-phrase.
    const text = await tlsprobe(
      ['clients', `127.0.0.1:${lab.endpoint('reset-legacy').port}`, '--sni', 'localhost'],
      undefined,
      { env: { ...process.env, COLUMNS: '400' } },
    );
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/win2008-kb4019276/);
    expect(text.stdout).toMatch(/KB4019276 installed/);
    expect(text.stdout).toMatch(/What each failing configuration needs:/);
  });
});

describe.skipIf(!HAS_CLI)('diagnose --client / --os with a guidance configuration', () => {
  it('--os win2008-kb4019276 simulates that configuration and gives it the SChannel keys, not the update it has', async () => {
    const r = await tlsprobe([
      'diagnose',
      `127.0.0.1:${lab.endpoint('reset-legacy').port}`,
      '--sni',
      'localhost',
      '--os',
      'win2008-kb4019276',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout).results[0];
    expect(j.client).toMatchObject({ profile: 'win2008-kb4019276', verdict: 'gets-10054', fidelity: 'captured' });
    expect(j.client.state).toMatch(/KB4019276 installed/);
    expect(j.client.remediation.map((x: { kind: string }) => x.kind)).toEqual(['registry']);
    expect(JSON.stringify(j.client.remediation)).toMatch(/TLS 1\.2\\\\Client/);
  });

  it('--client agent32-no-wow64-keys names the WOW6432Node values; a connecting profile needs nothing', async () => {
    const port = lab.endpoint('reset-legacy').port;
    const r = await tlsprobe([
      'diagnose',
      `127.0.0.1:${port}`,
      '--sni',
      'localhost',
      '--client',
      'agent32-no-wow64-keys',
    ]);
    // Prose wraps to the output width: lines joined again before matching.
    expect(r.stdout.replace(/\n {2,}/g, ' ')).toMatch(
      /What this client needs:\n- \[registry\] Set SystemDefaultTlsVersions=1 \(REG_DWORD\) and SchUseStrongCrypto=1 \(REG_DWORD\) under HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node/,
    );
    const ok = await tlsprobe([
      'diagnose',
      `127.0.0.1:${port}`,
      '--sni',
      'localhost',
      '--client',
      'dotnet46-default',
      '--json',
    ]);
    expect(JSON.parse(ok.stdout).results[0].client).toMatchObject({ verdict: 'connects', remediation: [] });
  });
});

describe.skipIf(!HAS_CLI)('tlsprobe registry', () => {
  it('reports the missing TLS 1.2 keys of a Windows 7 export and writes a fix that passes when read back', async () => {
    const fix = join(dir, 'fix.reg');
    const r = await tlsprobe(['registry', 'fixtures/reg/7.defaults.utf16.reg', '--os', '7', '--fix', fix, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.tls12).toBe('disabled');
    expect(j.checks.some((c: { status: string }) => c.status === 'missing')).toBe(true);
    const fixBytes = new Uint8Array(readFileSync(fix));
    expect([fixBytes[0], fixBytes[1]]).toEqual([0xff, 0xfe]); // UTF-16LE BOM, as regedit writes
    const merged = checkRegistry(parseRegistryText(fixBytes), '7');
    expect(merged.tls12).toBe('enabled');
    expect(merged.dotnetStrongCrypto).toBe(true);
  });

  it('passes a configured export (exit 0) and says which line of a broken file is wrong (exit 2)', async () => {
    const ok = await tlsprobe(['registry', 'fixtures/reg/2012r2.configured.utf8.reg', '--os', '2012r2']);
    expect(ok.code).toBe(0);
    const bad = join(dir, 'bad.reg');
    writeFileSync(
      bad,
      'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n"A"=dword:zz\r\n',
    );
    const r = await tlsprobe(['registry', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 4/);
  });
});

describe.skipIf(!HAS_CLI)('--proxy on the command line', () => {
  it('probes the lab through an HTTP CONNECT proxy, and diagnose blames a proxy that resets what goes direct', async () => {
    const { startHttpConnectProxy } = await import('../helpers/proxies.js');
    const good = await startHttpConnectProxy();
    const bad = await startHttpConnectProxy({ mode: 'reset-after-hello' });
    try {
      const port = lab.endpoint('modern').port;
      const rootFile = join(dir, 'lab-root-proxy.pem');
      writeFileSync(rootFile, lab.pki.root.pem);
      const r = await tlsprobe([
        'probe',
        `127.0.0.1:${port}`,
        '--sni',
        'localhost',
        '--proxy',
        `http://127.0.0.1:${good.port}`,
        '--versions',
        'TLS1.2,TLS1.3',
        '--roots',
        rootFile,
        '--json',
      ]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).results[0].versions.map((v: { supported: boolean }) => v.supported)).toEqual([
        true,
        true,
      ]);
      const d = await tlsprobe([
        'diagnose',
        `127.0.0.1:${port}`,
        '--sni',
        'localhost',
        '--proxy',
        `http://127.0.0.1:${bad.port}`,
        '--json',
      ]);
      expect(JSON.parse(d.stdout).results[0].verdict.code).toBe('proxy-resets');
      const badUrl = await tlsprobe(['probe', '127.0.0.1', '--proxy', 'ftp://user:secret@host:21']);
      expect(badUrl.code).toBe(2);
      expect(badUrl.stderr).not.toMatch(/secret/);
    } finally {
      await good.close();
      await bad.close();
    }
  });
});
