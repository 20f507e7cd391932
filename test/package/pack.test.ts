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
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { HAS_CLI, REPO_ROOT, runNode } from '../helpers/cli.js';
import { validateCliJson } from '../helpers/schema.js';

const NPM_TIMEOUT_MS = 240_000;

/** npm's own JavaScript entry points beside this Node (the usual install layout), when there. */
const NPM_BIN = join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'bin');

/** Runs an npm tool (`npm-cli.js`, `npx-cli.js`) with this Node, or the one on PATH when npm lives elsewhere. */
function npmTool(tool: 'npm' | 'npx', args: readonly string[], cwd: string) {
  const script = join(NPM_BIN, `${tool}-cli.js`);
  const env = { ...process.env, npm_config_update_notifier: 'false' };
  return existsSync(script)
    ? spawnSync(process.execPath, [script, ...args], { cwd, encoding: 'utf8', timeout: NPM_TIMEOUT_MS, env })
    : spawnSync(tool, [...args], { cwd, encoding: 'utf8', timeout: NPM_TIMEOUT_MS, env });
}

const npm = (args: readonly string[], cwd: string) => npmTool('npm', args, cwd);

/** Runs `node ARGS` without blocking this process (the lab answers from it). */
async function node(
  args: readonly string[],
  cwd: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runNode(args, undefined, { cwd });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
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
    // A package.json of its own makes app/ the project root: without one, npm installs into the
    // nearest folder above that has a package.json or node_modules (a stray /tmp/package.json).
    writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'tlsprobe-pack-app', private: true })}\n`);
    // dist/ is built already (npm ci's prepare, or tsc -p tsconfig.build.json): no scripts here.
    const pack = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], REPO_ROOT);
    expect(pack.status, pack.stderr).toBe(0);
    const info = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    files = info[0]!.files.map((f) => f.path);
    const install = npm(
      [
        'install',
        '--prefer-offline',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        join(dir, info[0]!.filename),
      ],
      app,
    );
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
    expect(files).toContain('dist/bundle/tlsprobe.js'); // the `bin` (scripts/build-bundle.mjs)
    expect(files).toContain('schemas/probe.schema.json');
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('.ci/'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.sh'))).toEqual([]);
    const installed = join(app, 'node_modules', 'tlsprobe');
    for (const f of files.filter((p) => p.endsWith('.js'))) {
      const head = readFileSync(join(installed, f), 'utf8').slice(0, 64);
      expect(head.startsWith('#!') ? head.split('\n')[0] : '#!/usr/bin/env node', f).toBe('#!/usr/bin/env node');
    }
  });

  it(
    'npx tlsprobe --help answers from the installed package',
    () => {
      const r = npmTool('npx', ['--no-install', 'tlsprobe', '--help'], app);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^tlsprobe <command> \[options\]/);
      expect(r.stdout).toContain('Examples:');
    },
    NPM_TIMEOUT_MS,
  );

  it('tlsprobe probe reaches the lab, and its JSON matches the schema the package prints', async () => {
    const bin = join(app, 'node_modules', 'tlsprobe', 'dist', 'cli', 'main.js');
    const port = lab.endpoint('modern').port;
    // The lab's own root is the anchor to trust (it is not among the documented roots: exit 1 without it).
    writeFileSync(join(dir, 'lab-root.pem'), lab.pki.root.pem);
    const probe = await node(
      [
        bin,
        'probe',
        `127.0.0.1:${port}`,
        '--sni',
        'localhost',
        '--versions',
        'TLS1.2',
        'TLS1.3',
        '--roots',
        join(dir, 'lab-root.pem'),
        '--json',
      ],
      app,
    );
    expect(probe.status, probe.stderr).toBe(0);
    const out = JSON.parse(probe.stdout);
    expect(
      out.results[0].versions.map(
        (v: { supported: boolean; outcome: string; error: string | null }) => `${v.outcome} ${v.supported} ${v.error}`,
      ),
    ).toEqual(['negotiated true null', 'negotiated true null']);
    // The bundled `bin` finds the schemas shipped beside it (src/io/package-file.ts) once installed too.
    const bundled = join(app, 'node_modules', 'tlsprobe', 'dist', 'bundle', 'tlsprobe.js');
    const schema = await node([bundled, 'schema', 'probe'], app);
    expect(schema.status, schema.stderr).toBe(0);
    const printed = JSON.parse(schema.stdout);
    expect(printed.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(printed).toEqual(JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', 'probe.schema.json'), 'utf8')));
    validateCliJson(['probe', '--json'], out);
  }, 180_000);
});
