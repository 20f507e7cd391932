/**
 * The published package, as a user gets it: `npm pack` of the built tree, installed from the
 * tarball into an empty folder outside the repository, then run from there (`npx tlsprobe --help`,
 * a probe of the lab, `tlsprobe schema probe`). Also checks what the tarball holds: the LICENSE, the
 * schemas, and no shell script or bash shebang (the package must run where there is no bash).
 *
 * The install uses npm's cache first (`--prefer-offline`): offline once the dependencies have been
 * installed on this machine (CI's `npm ci` puts them there), the npm registry otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { HAS_CLI, REPO_ROOT } from '../helpers/cli.js';
import { validateCliJson } from '../helpers/schema.js';

const NPM_TIMEOUT_MS = 240_000;

function npm(args: readonly string[], cwd: string) {
  // npm is a JavaScript program: run it with this Node, so the test needs no shell to find it.
  const npmCli = join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  return spawnSync(process.execPath, [npmCli, ...args], { cwd, encoding: 'utf8', timeout: NPM_TIMEOUT_MS, env: { ...process.env, npm_config_update_notifier: 'false' } });
}

describe.skipIf(!HAS_CLI)('the package installs from its tarball and runs', () => {
  let dir = '';
  let app = '';
  let files: string[] = [];
  let lab: Lab;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tlsprobe-pack-'));
    app = join(dir, 'app');
    mkdirSync(app);
    // dist/ is built already (npm ci's prepare, or tsc -p tsconfig.build.json): no scripts here.
    const pack = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], REPO_ROOT);
    expect(pack.status, pack.stderr).toBe(0);
    const info = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    files = info[0]!.files.map((f) => f.path);
    const install = npm(['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', join(dir, info[0]!.filename)], app);
    expect(install.status, install.stderr).toBe(0);
    lab = await startLab({ names: ['modern'] });
  }, NPM_TIMEOUT_MS * 2);

  afterAll(async () => {
    await lab?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds the licence, the schemas and the CLI, and no shell script', () => {
    expect(files).toContain('LICENSE');
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('schemas/probe.schema.json');
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('.ci/'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.sh'))).toEqual([]);
    const installed = join(app, 'node_modules', 'tlsprobe');
    for (const f of files.filter((p) => p.endsWith('.js'))) {
      const head = readFileSync(join(installed, f), 'utf8').slice(0, 64);
      expect(head.startsWith('#!') ? head.split('\n')[0] : '#!/usr/bin/env node', f).toBe('#!/usr/bin/env node');
    }
  });

  it('npx tlsprobe --help answers from the installed package', () => {
    const npxCli = join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'bin', 'npx-cli.js');
    const r = spawnSync(process.execPath, [npxCli, '--no-install', 'tlsprobe', '--help'], { cwd: app, encoding: 'utf8', timeout: NPM_TIMEOUT_MS });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^tlsprobe <command> \[options\]/);
    expect(r.stdout).toContain('Examples:');
  }, NPM_TIMEOUT_MS);

  it('tlsprobe probe reaches the lab, and its JSON matches the schema the package prints', () => {
    const bin = join(app, 'node_modules', 'tlsprobe', 'dist', 'cli', 'main.js');
    const port = lab.endpoint('modern').port;
    const probe = spawnSync(process.execPath, [bin, 'probe', `127.0.0.1:${port}`, '--sni', 'localhost', '--versions', 'TLS1.2', 'TLS1.3', '--json'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    expect(probe.status, probe.stderr).toBe(0);
    const out = JSON.parse(probe.stdout);
    expect(out.results[0].versions.map((v: { supported: boolean }) => v.supported)).toEqual([true, true]);
    const schema = spawnSync(process.execPath, [bin, 'schema', 'probe'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(schema.status, schema.stderr).toBe(0);
    const printed = JSON.parse(schema.stdout);
    expect(printed.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(printed).toEqual(JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', 'probe.schema.json'), 'utf8')));
    validateCliJson(['probe', '--json'], out);
  }, 180_000);
});
