/**
 * What `capture` loads: the table judges nothing (no chain check, no fingerprints unless asked), so
 * it must not load the certificate validator and its trust anchors (x509/, tldts), which cost about
 * a tenth of a second of a small capture's run; the JSON views, which judge every chain, do load it.
 * Module loads are seen through test/helpers/module-trace.ts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runNode } from '../helpers/cli.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { tracedModules, writeModuleTraceHook } from '../helpers/module-trace.js';

/** tsc's output, one file per module (the bundle's chunks would hide which modules load). */
const MAIN = join(REPO_ROOT, 'dist/cli/main.js');

const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hook = writeModuleTraceHook(dir);

/** Returns the file URLs of the modules `capture FIXTURE ...args` loaded (dist/cli/main.js, unbundled). */
async function loadedBy(...args: string[]): Promise<string[]> {
  const run = await runNode(['--import', hook, MAIN, 'capture', join(FIXTURES_DIR, 'pcap/alert.pcapng'), ...args]);
  expect(run.code).toBe(0);
  return tracedModules(run.stderr).loads.map((x) => x.url);
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
