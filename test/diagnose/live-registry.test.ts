/**
 * `registry --live`: the live registry read with `reg query` (a stand-in `reg` on PATH prints
 * reg.exe's output on Linux), parsed and checked as `registry FILE` does, with the Windows version
 * detected; off Windows it says it needs Windows (exit 2).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkWinHttp,
  effectivePlatform,
  LIVE_REGISTRY_QUERIES,
  LiveRegistryError,
  readLiveRegistry,
  runReg,
} from '../../src/diagnose/live-registry.js';
import { checkRegistry } from '../../src/diagnose/registry.js';
import { HAS_CLI, REPO_ROOT, tlsprobe, type CliRun } from '../helpers/cli.js';
import { server2008r2, SERVER_2012R2_AGENT32 } from '../helpers/reg-query-fixtures.js';

const STANDIN_DIR = join(REPO_ROOT, 'test/helpers/reg-standin');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tlsprobe-live-reg-'));
  chmodSync(join(STANDIN_DIR, 'reg'), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Returns the environment that puts the stand-in `reg` first on PATH, serving `keys`. */
function standinEnv(
  name: string,
  keys: Readonly<Record<string, string>>,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(keys));
  return {
    ...process.env,
    PATH: `${STANDIN_DIR}${delimiter}${process.env.PATH ?? ''}`,
    REG_STANDIN_KEYS: file,
    REG_STANDIN_LOG: join(dir, `${name}.log`),
    ...extra,
  };
}

/** `runReg` with the stand-in's environment (PATH lookup as in production). */
function withEnv<T>(env: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  return fn().finally(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });
}

describe('readLiveRegistry', () => {
  it('refuses off Windows without running reg', async () => {
    let ran = false;
    const err = await readLiveRegistry({
      platform: 'linux',
      run: async () => {
        ran = true;
        return { code: 0, stdout: new Uint8Array(), stderr: '' };
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LiveRegistryError);
    expect((err as LiveRegistryError).code).toBe('not-windows');
    expect((err as Error).message).toMatch(/needs Windows/);
    expect(ran).toBe(false);
    expect(effectivePlatform({ TLSPROBE_PLATFORM: 'win32' }, 'linux')).toBe('win32');
    expect(effectivePlatform({}, 'linux')).toBe('linux');
  });

  it('reads every key through reg query on PATH, skips missing ones, and detects the version', async () => {
    const env = standinEnv('2012r2', SERVER_2012R2_AGENT32);
    const live = await withEnv(env, () => readLiveRegistry({ platform: 'win32', run: runReg }));
    const calls = readFileSync(env.REG_STANDIN_LOG!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    expect(calls).toEqual(LIVE_REGISTRY_QUERIES.map((q) => ['query', ...q]));
    expect(live.detected?.version).toBe('2012r2');
    expect(live.missingKeys).toEqual([
      'HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v2.0.50727',
      'HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v2.0.50727',
      'HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp',
    ]);
    const report = checkRegistry(live.snapshot, '2012r2');
    expect(report.tls12).toBe('enabled');
    expect(report.dotnetStrongCrypto).toBe(false);
    const wrong = report.checks.filter((c) => c.status !== 'ok' && c.status !== 'missing-ok');
    expect(wrong.map((c) => `${c.path}\\${c.name}`)).toEqual([
      'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319\\SystemDefaultTlsVersions',
      'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319\\SchUseStrongCrypto',
    ]);
    expect(checkWinHttp(live.snapshot, '2012r2').map((c) => c.status)).toEqual(['missing-ok', 'missing-ok']);
  });

  it('fails with reg-failed when reg reports another error or cannot be started', async () => {
    const denied = readLiveRegistry({
      platform: 'win32',
      run: async () => ({ code: 1, stdout: new Uint8Array(), stderr: 'ERROR: Access is denied.\r\n' }),
    });
    await expect(denied).rejects.toMatchObject({
      code: 'reg-failed',
      message: expect.stringMatching(/Access is denied/),
    });
    const absent = readLiveRegistry({
      platform: 'win32',
      run: () => Promise.reject(Object.assign(new Error('spawn reg ENOENT'), { code: 'ENOENT' })),
    });
    await expect(absent).rejects.toMatchObject({
      code: 'reg-failed',
      message: expect.stringMatching(/cannot run reg/),
    });
  });
});

function cli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return tlsprobe(args, undefined, { env });
}

describe.skipIf(!HAS_CLI)('tlsprobe registry --live', () => {
  it('off Windows: exit 2, one line saying it needs Windows', async () => {
    const env = { ...process.env };
    delete env.TLSPROBE_PLATFORM;
    const r = await cli(['registry', '--live'], env);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^tlsprobe: reading the live registry needs Windows \(this is \w+\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const j = await cli(['registry', '--live', '--json'], env);
    expect(j.code).toBe(2);
  });

  it('on "Windows": the 32-bit agent\'s missing WOW6432Node values (exit 1) and a fix that sets them', async () => {
    const env = standinEnv('cli-2012r2', SERVER_2012R2_AGENT32, { TLSPROBE_PLATFORM: 'win32' });
    const fix = join(dir, 'fix.reg');
    const r = await cli(['registry', '--live', '--json', '--fix', fix], env);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.os).toBe('2012r2');
    expect(j.live.detected.version).toBe('2012r2');
    expect(j.tls12).toBe('enabled');
    expect(j.dotnetStrongCrypto).toBe(false);
    expect(j.winhttp.map((c: { status: string }) => c.status)).toEqual(['missing-ok', 'missing-ok']);
    const text = Buffer.from(readFileSync(fix)).toString('utf16le');
    expect(text).toMatch(
      /\[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319\]\r\n"SystemDefaultTlsVersions"=dword:00000001/,
    );
    const t = await cli(['registry', '--live'], env);
    expect(t.stdout).toMatch(/This machine: 2012r2 \(ProductName "Windows Server 2012 R2 Standard"/);
  });

  it('a configured 2008 R2 passes (exit 0); without DefaultSecureProtocols WinHTTP fails (exit 1)', async () => {
    const ok = await cli(
      ['registry', '--live', '--json'],
      standinEnv('cli-2008r2', server2008r2({ winhttp: true }), { TLSPROBE_PLATFORM: 'win32' }),
    );
    expect(ok.code).toBe(0);
    const j = JSON.parse(ok.stdout);
    expect(j).toMatchObject({ os: '2008r2', tls12: 'enabled', dotnetStrongCrypto: true });
    expect(j.winhttp.map((c: { actual: number }) => c.actual)).toEqual([0xa00, 0xa00]);
    const bad = await cli(
      ['registry', '--live'],
      standinEnv('cli-2008r2-nowinhttp', server2008r2({ winhttp: false }), { TLSPROBE_PLATFORM: 'win32' }),
    );
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/WinHTTP: set DefaultSecureProtocols=0x00000A00/);
  });

  it('rejects a FILE together with --live, and neither (exit 2)', async () => {
    expect((await cli(['registry', 'x.reg', '--live'], process.env)).code).toBe(2);
    expect((await cli(['registry'], process.env)).code).toBe(2);
  });
});

describe.skipIf(!HAS_CLI)('tlsprobe diagnose on "Windows"', () => {
  it("reads this machine's registry and narrows the fix to the version it names", async () => {
    const { startLab } = await import('../../src/lab/lab.js');
    const lab = await startLab({ names: ['reset-legacy'] });
    try {
      const port = lab.endpoint('reset-legacy').port;
      const env = standinEnv('diag-2012r2', SERVER_2012R2_AGENT32, { TLSPROBE_PLATFORM: 'win32' });
      // The lab root as trust anchor, as on a machine that trusts its issuer.
      const roots = join(dir, 'lab-root.pem');
      writeFileSync(roots, lab.pki.root.pem);
      const r = await cli(['diagnose', `127.0.0.1:${port}`, '--sni', 'localhost', '--roots', roots, '--json'], env);
      // TLS 1.0 reset is information for a current client, but this machine's .NET still offers TLS 1.0: exit 1.
      expect(r.code).toBe(1);
      const j = JSON.parse(r.stdout).results[0];
      expect(j.verdict.code).toBe('legacy-version-reset');
      expect(j.fine).toBe(false);
      expect(j.localRegistry).toMatchObject({ os: '2012r2', tls12: 'enabled', dotnetStrongCrypto: false });
      expect(j.localRegistry.summary).toMatch(
        /WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319\\SystemDefaultTlsVersions/,
      );
      // The version came from the registry: the fix speaks of 2012 R2 and asks for no update.
      expect(JSON.stringify(j.remediation)).toMatch(/Windows Server 2012 R2/);
      expect(j.remediation.some((x: { kind: string }) => x.kind === 'update')).toBe(false);
      // Off Windows nothing is read.
      const env2 = { ...process.env };
      delete env2.TLSPROBE_PLATFORM;
      const off = await cli(['diagnose', `127.0.0.1:${port}`, '--sni', 'localhost', '--roots', roots, '--json'], env2);
      const plain = JSON.parse(off.stdout).results[0];
      expect(plain.localRegistry).toBeUndefined();
      expect(off.code).toBe(0);
    } finally {
      await lab.close();
    }
  }, 60_000);
});
