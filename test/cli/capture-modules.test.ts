/**
 * What `capture` loads: the table judges nothing (no chain check, no fingerprints unless asked), so
 * it must not load the certificate validator and its trust anchors (x509/, tldts), which cost about
 * a tenth of a second of a small capture's run; the JSON views, which judge every chain, do load it.
 * Module loads are seen through a loader hook (Node's `module.register`) writing each URL to stderr.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runNode } from '../helpers/cli.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

/** tsc's output, one file per module (the bundle's chunks would hide which modules load). */
const MAIN = join(REPO_ROOT, 'dist/cli/main.js');

const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hook = join(dir, 'hook.mjs');
writeFileSync(
  hook,
  `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(
  'export async function load(url, context, next) { process.stderr.write("loaded " + url + "\\\\n"); return next(url, context); }'));
`,
);

/** Returns the file URLs of the modules `capture FIXTURE ...args` loaded (dist/cli/main.js, unbundled). */
async function loadedBy(...args: string[]): Promise<string[]> {
  const run = await runNode(['--import', hook, MAIN, 'capture', join(FIXTURES_DIR, 'pcap/alert.pcapng'), ...args]);
  expect(run.code).toBe(0);
  return run.stderr
    .split('\n')
    .filter((l) => l.startsWith('loaded file:'))
    .map((l) => l.slice('loaded '.length));
}

const validator = (urls: readonly string[]): string[] => urls.filter((u) => /\/x509\/|\/tldts\//.test(u));

describe.skipIf(!existsSync(MAIN))('capture: modules loaded per view', () => {
  it('the table loads no certificate validator; --json and --ndjson do', async () => {
    const table = await loadedBy();
    expect(table.some((u) => u.endsWith('/capture/sessions.js'))).toBe(true);
    expect(validator(table)).toEqual([]);
    for (const view of ['--json', '--ndjson']) {
      const json = await loadedBy(view);
      expect(json.some((u) => u.endsWith('/x509/chain.js'))).toBe(true);
    }
  }, 120_000);

  it('the table with --roots reads the roots (a wrong file is still an input error)', async () => {
    const run = await runNode([
      MAIN,
      'capture',
      join(FIXTURES_DIR, 'pcap/alert.pcapng'),
      '--roots',
      join(dir, 'no-such-bundle.pem'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--roots');
  }, 60_000);
});
