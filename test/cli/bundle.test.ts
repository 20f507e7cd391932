/**
 * The bundled CLI (dist/bundle/tlsprobe.js, the package's `bin`, made by scripts/build-bundle.mjs)
 * against the unbundled one (dist/cli/main.js, tsc's output): the same command lines give the same
 * exit code and the same bytes out, for commands whose parts the bundle loads lazily (each command's
 * chunk, the `await import()` chunks inside the commands), for the files shipped beside the code
 * (package.json, schemas/, data/roots/), and for yargs' messages in another language (its catalogues
 * are found from inside the bundle). A probe of the lab is compared on what its answers decide.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { REPO_ROOT, runNode } from '../helpers/cli.js';
import { hasOpenssl, selfSignedEc } from '../x509/openssl-pki.js';

const MAIN = join(REPO_ROOT, 'dist/cli/main.js');
const BUNDLE = join(REPO_ROOT, 'dist/bundle/tlsprobe.js');
const HAS_BOTH = existsSync(MAIN) && existsSync(BUNDLE);

/** Command lines whose whole output is deterministic, run from the repository root. */
const SAME_BYTES: readonly (readonly string[])[] = [
  ['--version'],
  ['--help'],
  ['probe', '--help'],
  ['probe', '--no-such-option'],
  ['schema', 'probe'],
  ['roots', '--json'],
  ['clients', '--json'],
  ['decode', 'fixtures/hello/openssl-s_client-tls13.hex', '--json'],
  ['registry', 'fixtures/reg/10.configured.utf8.reg', '--json'],
  ['chain', 'fixtures/pcap/chain.pem', '--json'],
  ['capture', 'fixtures/pcap/tls12-keylog.pcapng', '--keylog', 'fixtures/pcap/tls12-keylog.keys', '--json'],
  ['capture', 'fixtures/pcap/reset-after-hello.pcapng'],
];

describe.skipIf(!HAS_BOTH)('the bundled CLI', () => {
  for (const args of SAME_BYTES)
    it(`prints what dist/cli/main.js prints for ${args.join(' ')}`, async () => {
      const [a, b] = await Promise.all([runNode([MAIN, ...args]), runNode([BUNDLE, ...args])]);
      expect(b).toEqual(a);
    }, 60_000);

  it.skipIf(!hasOpenssl)(
    'checks a wildcard name against the Public Suffix List as dist/cli/main.js does (tldts, required on first use)',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-bundle-wildcard-'));
      try {
        const pem = join(dir, 'wildcard.pem');
        selfSignedEc({
          key: join(dir, 'wildcard.key'),
          out: pem,
          subject: '/CN=wildcard',
          san: 'DNS:*.co.uk,DNS:*.example.co.uk',
          days: 2,
        });
        // From another working directory: the bundle finds the installed tldts from its own place.
        const args = ['chain', pem, '--json'];
        const [a, b] = await Promise.all([
          runNode([MAIN, ...args], undefined, { cwd: dir }),
          runNode([BUNDLE, ...args], undefined, { cwd: dir }),
        ]);
        expect(a.stdout).toContain('is a wildcard over the public suffix co.uk');
        expect(a.stdout).not.toContain('public suffix example.co.uk');
        expect(b).toEqual(a);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );

  it('prints yargs messages in the language of the environment, as dist/cli/main.js does', async () => {
    const env = { ...process.env, LC_ALL: '', LC_MESSAGES: '', LANG: 'de_DE.UTF-8' };
    const args = ['probe', '--no-such-option'];
    const [a, b] = await Promise.all([
      runNode([MAIN, ...args], undefined, { env }),
      runNode([BUNDLE, ...args], undefined, { env }),
    ]);
    expect(a.stderr).toMatch(/Unbekannte/);
    expect(b).toEqual(a);
  }, 60_000);

  it("prints the package's version for `probe --version` from any working directory", async () => {
    // yargs' own guess reads the package.json above the working directory (issue 16, noticed on the way).
    const cwd = tmpdir();
    const args = ['probe', '--version'];
    const [a, b] = await Promise.all([
      runNode([MAIN, ...args], undefined, { cwd }),
      runNode([BUNDLE, ...args], undefined, { cwd }),
    ]);
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(a).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(b).toEqual(a);
  }, 60_000);

  it('is what package.json installs as `tlsprobe`, and every file of it has a source map into src/', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(join(REPO_ROOT, pkg.bin.tlsprobe!)).toBe(BUNDLE);
    expect(readFileSync(BUNDLE, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const dir = join(REPO_ROOT, 'dist/bundle');
    const js = readdirSync(dir).filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(1); // code splitting: the commands are chunks of their own
    const sources = new Set<string>();
    for (const f of js) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text.trimEnd().endsWith(`//# sourceMappingURL=${f}.map`), f).toBe(true);
      const map = JSON.parse(readFileSync(join(dir, `${f}.map`), 'utf8')) as { sources: string[] };
      for (const s of map.sources) sources.add(relative(REPO_ROOT, join(dir, s)));
    }
    expect(sources).toContain('src/cli/main.ts');
    expect(sources).toContain('src/probe/attempt.ts');
  });

  describe('probing the lab', () => {
    let lab: Lab;
    beforeAll(async () => {
      lab = await startLab({ names: ['modern', 'reset-legacy'] });
    }, 60_000);
    afterAll(async () => {
      await lab?.close();
    });

    it('finds what dist/cli/main.js finds, suites included', async () => {
      const targets = ['modern', 'reset-legacy'].map((n) => `127.0.0.1:${lab.endpoint(n).port}`);
      const args = ['probe', ...targets, '--ciphers', '--json'];
      const [a, b] = await Promise.all([runNode([MAIN, ...args]), runNode([BUNDLE, ...args])]);
      expect(b.code).toBe(a.code);
      expect(b.stderr).toBe(a.stderr);
      type Out = {
        results: {
          versions: { version: string; supported: boolean; outcome: string }[];
          cipherSuites: Record<string, number[]>;
        }[];
      };
      const decided = (out: string) =>
        (JSON.parse(out) as Out).results.map((r) => ({
          versions: r.versions.map((v) => [v.version, v.supported, v.outcome]),
          cipherSuites: r.cipherSuites,
        }));
      expect(decided(b.stdout)).toEqual(decided(a.stdout));
      expect(Object.keys(decided(a.stdout)[0]!.cipherSuites).length).toBeGreaterThan(0);
    }, 120_000);
  });
});

describe('files shipped beside the code', () => {
  it('are found through src/io/package-file.ts only (the bundle moves every module to dist/bundle/)', () => {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && readFileSync(p, 'utf8').includes('import.meta'))
          found.push(relative(REPO_ROOT, p));
      }
    };
    walk(join(REPO_ROOT, 'src'));
    // yargs-cjs.ts and tldts-cjs.ts: `createRequire` resolves the package from its own place; the
    // bundle replaces both modules.
    expect(found.sort()).toEqual(['src/cli/yargs-cjs.ts', 'src/io/package-file.ts', 'src/x509/tldts-cjs.ts']);
  });
});
