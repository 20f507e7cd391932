/**
 * The output schemas: the committed files are what scripts/schemas.mjs builds, `tlsprobe schema`
 * prints them, and outputs beyond the other CLI tests' (every fixture, every probe mode) validate.
 * The validation itself runs in the CLI test helpers (test/helpers/schema.ts) on every JSON output;
 * here it is shown to catch a field the schema does not describe.
 */
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COPIED_ENUMS,
  SCHEMA_COMMANDS as SCRIPT_COMMANDS,
  SCHEMA_VERSION as SCRIPT_VERSION,
  buildSchemas,
  schemaText,
} from '../../scripts/schemas.mjs';
import { SCHEMA_COMMANDS } from '../../src/cli/commands/schema.js';
import { HELLO_CAUSES } from '../../src/diagnose/hello-bisect.js';
import { VERDICT_CODES } from '../../src/diagnose/verdict-types.js';
import { WINDOWS_VERSIONS } from '../../src/diagnose/windows-versions.js';
import { PROBE_VERSIONS } from '../../src/probe/versions.js';
import { SCHEMA_VERSION } from '../../src/report/envelope.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { HAS_CLI, REPO_ROOT, runCli, tlsprobe } from '../helpers/cli.js';
import { server2008r2, SERVER_2012R2_AGENT32 } from '../helpers/reg-query-fixtures.js';
import { validateCliJson } from '../helpers/schema.js';

const SCHEMAS_DIR = join(REPO_ROOT, 'schemas');

describe('the committed schemas', () => {
  it('are what `npm run schemas` writes (regenerate and commit when this fails)', () => {
    const built = buildSchemas() as Record<string, object>;
    expect(Object.keys(built).sort()).toEqual(
      readdirSync(SCHEMAS_DIR)
        .map((f) => f.replace('.schema.json', ''))
        .sort(),
    );
    for (const [name, schema] of Object.entries(built))
      expect(readFileSync(join(SCHEMAS_DIR, `${name}.schema.json`), 'utf8'), name).toBe(schemaText(schema));
  });

  it('list the same versions, Windows versions, verdict codes and hello causes as src/', () => {
    expect(COPIED_ENUMS).toEqual({
      PROBE_VERSIONS: [...PROBE_VERSIONS],
      WINDOWS_VERSIONS: [...WINDOWS_VERSIONS],
      VERDICT_CODES: [...VERDICT_CODES],
      HELLO_CAUSES: [...HELLO_CAUSES],
    });
  });

  it('name the same version and commands as the CLI', () => {
    expect(SCRIPT_VERSION).toBe(SCHEMA_VERSION);
    expect([...SCRIPT_COMMANDS]).toEqual([...SCHEMA_COMMANDS]);
  });

  it('are printed by `tlsprobe schema COMMAND`, listed without one, refused for an unknown one', async () => {
    for (const c of SCHEMA_COMMANDS) {
      const r = await runCli(['schema', c]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(join(SCHEMAS_DIR, `${c}.schema.json`), 'utf8')));
    }
    expect((await runCli(['schema'])).stdout.trim().split('\n')).toEqual([...SCHEMA_COMMANDS]);
    const bad = await runCli(['schema', 'lab']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no schema for "lab"/);
  });
});

describe('outputs against the schemas', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ names: ['modern', 'reset-legacy', 'legacy'] });
  });
  afterAll(async () => {
    await lab?.close();
  });
  const at = (name: string) => `127.0.0.1:${lab.endpoint(name).port}`;

  it('reject a field the schema does not describe, at the top and deep inside', async () => {
    const r = await runCli(['probe', at('modern'), '--sni', 'localhost', '--versions', 'TLS1.3', '--json']);
    const out = JSON.parse(r.stdout);
    expect(() => validateCliJson(['probe', '--json'], out)).not.toThrow();
    expect(() => validateCliJson(['probe', '--json'], { ...out, extra: 1 })).toThrow(/extra/);
    const deep = structuredClone(out);
    deep.results[0].versions[0].newTiming = 3;
    expect(() => validateCliJson(['probe', '--json'], deep)).toThrow(/newTiming/);
    const retyped = structuredClone(out);
    retyped.results[0].versions[0].outcome = 'accepted';
    expect(() => validateCliJson(['probe', '--json'], retyped)).toThrow(/outcome/);
    expect(() => validateCliJson(['probe', '--json'], { ...out, schemaVersion: '0.9' })).toThrow(/schemaVersion/);
    // The error form (a command that fails before it has a result) is described too, and closed.
    const failed = { schemaVersion: '1.0', command: 'probe', error: { code: 'usage', message: 'bad target' } };
    expect(() => validateCliJson(['probe', '--json'], failed)).not.toThrow();
    expect(() => validateCliJson(['probe', '--json'], { ...failed, error: { code: 'usage' } })).toThrow();
  }, 120_000);

  // Each run below is validated by runCli; the assertions say the mode was really exercised.
  it('probe: enumerations, the connection budget, several addresses, a name that does not resolve', async () => {
    const enumerated = JSON.parse(
      (await runCli(['probe', at('modern'), '--sni', 'localhost', '--ciphers', '--groups', '--json'])).stdout,
    );
    expect(Object.keys(enumerated.results[0].cipherSuiteNames)).toContain('TLS1.3');
    const budget = JSON.parse((await runCli(['probe', at('reset-legacy'), '--max-connections', '2', '--json'])).stdout);
    expect(budget.results[0].versions.some((v: { notRun?: string }) => v.notRun)).toBe(true);
    const both = JSON.parse(
      (
        await runCli([
          'probe',
          `localhost:${lab.endpoint('modern').port}`,
          '--all-addresses',
          '--versions',
          'TLS1.3',
          '--json',
        ])
      ).stdout,
    );
    expect(both.results[0].target.host).toBe('localhost');
    // Lines come as targets finish, then (several targets) the fleet summary with no result.
    const nd = (
      await runCli(['probe', 'no-such-host.invalid', at('legacy'), '--ndjson', '--versions', 'TLS1.0'])
    ).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(
      nd
        .slice(0, -1)
        .map((l) => 'error' in l.results[0])
        .sort(),
    ).toEqual([false, true]);
    expect(nd.at(-1)).toMatchObject({ results: [], summary: { targets: 2, reachable: 1, unreachable: 1 } });
  }, 300_000);

  it('diagnose, clients, chain and roots in their other modes', async () => {
    const d = JSON.parse(
      (
        await runCli([
          'diagnose',
          at('reset-legacy'),
          '--sni',
          'localhost',
          '--bisect',
          '--client',
          'win7-schannel',
          '--json',
        ])
      ).stdout,
    );
    expect(d.results[0].bisect.steps.length).toBeGreaterThan(0);
    const unreachable = JSON.parse((await runCli(['diagnose', '127.0.0.1:1', '--bisect', '--json'])).stdout);
    expect(unreachable.results[0].verdict.code).toBe('endpoint-unreachable');
    const list = JSON.parse((await runCli(['clients', '--json'])).stdout);
    expect(list.clients.length).toBeGreaterThan(3);
    const sims = JSON.parse((await runCli(['clients', at('legacy'), '--sni', 'localhost', '--json'])).stdout);
    expect(sims.target.port).toBe(lab.endpoint('legacy').port);
    const chain = JSON.parse((await runCli(['chain', at('modern'), '--sni', 'localhost', '--json'])).stdout);
    expect(chain.certificates.length).toBe(3);
    const fromFile = JSON.parse((await runCli(['chain', join(FIXTURES_DIR, 'pcap', 'chain.pem'), '--json'])).stdout);
    expect(fromFile.chain.verdict.length).toBeGreaterThan(0);
    const roots = JSON.parse((await runCli(['roots', '--json'])).stdout);
    expect(roots.roots.length).toBeGreaterThan(0);
    const bundle = JSON.parse(
      (await runCli(['roots', '--bundle', join(FIXTURES_DIR, 'pcap', 'chain.pem'), '--json'])).stdout,
    );
    expect(bundle.certificates).toBeGreaterThan(0);
  }, 300_000);

  it('registry for every .reg fixture, decode for every hello, capture for every pcap (--json and --ndjson)', async () => {
    for (const f of readdirSync(join(FIXTURES_DIR, 'reg')).filter((x) => x.endsWith('.reg') || x.endsWith('.txt'))) {
      const r = await runCli(['registry', join(FIXTURES_DIR, 'reg', f), '--json']);
      // Malformed fixtures are refused (exit 2, the error form on stdout); the others print a report.
      const out = JSON.parse(r.stdout);
      expect(out.command, f).toBe('registry');
      expect('error' in out, f).toBe(r.code === 2);
    }
    for (const f of readdirSync(join(FIXTURES_DIR, 'hello'))) {
      expect(
        JSON.parse((await runCli(['decode', join(FIXTURES_DIR, 'hello', f), '--json'])).stdout).messages.length,
      ).toBeGreaterThan(0);
    }
    for (const f of readdirSync(join(FIXTURES_DIR, 'pcap')).filter((x) => x.endsWith('.pcapng'))) {
      const file = join(FIXTURES_DIR, 'pcap', f);
      expect((await runCli(['capture', file, '--json'])).code, f).toBe(0);
      await runCli(['capture', file, '--ndjson']);
    }
    const keyed = JSON.parse(
      (
        await runCli([
          'capture',
          join(FIXTURES_DIR, 'pcap', 'tls12-keylog.pcapng'),
          '--keylog',
          join(FIXTURES_DIR, 'pcap', 'tls12-keylog.keys'),
          '--json',
        ])
      ).stdout,
    );
    expect(keyed.summary.decrypted).toBeGreaterThan(0);
  }, 300_000);
});

// The Windows-only outputs (registry --live, diagnose's localRegistry), run by the built CLI on "Windows"
// (TLSPROBE_PLATFORM=win32) with the stand-in `reg` of test/helpers/reg-standin; `tlsprobe()` validates them.
describe.skipIf(!HAS_CLI)('Windows-only outputs against the schemas', () => {
  const standin = join(REPO_ROOT, 'test/helpers/reg-standin');
  let dir: string;
  let lab: Lab;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tlsprobe-schema-reg-'));
    chmodSync(join(standin, 'reg'), 0o755);
    lab = await startLab({ names: ['reset-legacy'] });
  });
  afterAll(async () => {
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const windows = (name: string, keys: Readonly<Record<string, string>> | null): NodeJS.ProcessEnv => {
    const file = join(dir, `${name}.json`);
    // No keys file: the stand-in fails, as a reg.exe that cannot be run does.
    if (keys) writeFileSync(file, JSON.stringify(keys));
    return {
      ...process.env,
      TLSPROBE_PLATFORM: 'win32',
      PATH: `${standin}${delimiter}${process.env.PATH ?? ''}`,
      REG_STANDIN_KEYS: file,
    };
  };

  it("registry --live, and diagnose with this machine's registry read or not readable", async () => {
    const live = JSON.parse(
      (await tlsprobe(['registry', '--live', '--json'], undefined, { env: windows('2012r2', SERVER_2012R2_AGENT32) }))
        .stdout,
    );
    expect(live.live.detected.version).toBe('2012r2');
    expect(live.winhttp).toHaveLength(2);
    const configured = JSON.parse(
      (
        await tlsprobe(['registry', '--live', '--json'], undefined, {
          env: windows('2008r2', server2008r2({ winhttp: true })),
        })
      ).stdout,
    );
    expect(configured.winhttp.map((c: { status: string }) => c.status)).toEqual(['ok', 'ok']);
    const target = `127.0.0.1:${lab.endpoint('reset-legacy').port}`;
    const read = JSON.parse(
      (
        await tlsprobe(['diagnose', target, '--sni', 'localhost', '--json'], undefined, {
          env: windows('diag', SERVER_2012R2_AGENT32),
        })
      ).stdout,
    );
    expect(read.results[0].localRegistry.os).toBe('2012r2');
    const unread = JSON.parse(
      (
        await tlsprobe(['diagnose', target, '--sni', 'localhost', '--json'], undefined, {
          env: windows('no-keys', null),
        })
      ).stdout,
    );
    expect(unread.results[0].localRegistry).toMatchObject({
      os: null,
      tls12: null,
      dotnetStrongCrypto: null,
      winhttp: [],
    });
  }, 120_000);
});
