/**
 * What `probe` loads before its first connection (issue 16): only what the scan needs. The chain
 * check (x509/, its trust anchors, node:tls), the JSON views and the tables load once the first
 * connections are under way, while they wait on the network; the Public Suffix List (tldts) only
 * when a wildcard name is checked, which the lab's certificates do not have.
 *
 * Module loads and the first connection are seen through test/helpers/module-trace.ts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { REPO_ROOT, runNode } from '../helpers/cli.js';
import { tracedModules, writeModuleTraceHook } from '../helpers/module-trace.js';

/** tsc's output, one file per module (the bundle's chunks would hide which modules load). */
const MAIN = join(REPO_ROOT, 'dist/cli/main.js');

const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-probe-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hook = writeModuleTraceHook(dir);

/** The modules `probe ...args` loaded before and after its first connection (dist/cli/main.js, unbundled). */
async function loadedBy(...args: string[]): Promise<{ before: string[]; after: string[] }> {
  const run = await runNode(['--import', hook, MAIN, 'probe', ...args]);
  expect(run.code, run.stderr).toBeLessThan(2);
  const { loads, connectAt } = tracedModules(run.stderr);
  expect(connectAt, run.stderr).not.toBeNull();
  return {
    before: loads.filter((x) => x.at < connectAt!).map((x) => x.url),
    after: loads.filter((x) => x.at >= connectAt!).map((x) => x.url),
  };
}

const endOnly = (urls: readonly string[]): string[] =>
  urls.filter((u) =>
    /\/x509\/|\/tldts\/|\/cli\/chain-enrich\.js$|\/report\/probe-(view|text)\.js$|\/cli-table3\//.test(u),
  );

describe.skipIf(!existsSync(MAIN))('probe: modules loaded before the first connection', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ names: ['modern'] });
  }, 60_000);
  afterAll(async () => {
    await lab?.close();
  });

  for (const view of [['--json'], []])
    it(`loads the scan, and the chain check and views only after it starts (${view.join(' ') || 'text'})`, async () => {
      const { before, after } = await loadedBy(`127.0.0.1:${lab.endpoint('modern').port}`, '--ciphers', ...view);
      expect(before.some((u) => u.endsWith('/probe/scan.js'))).toBe(true);
      expect(endOnly(before)).toEqual([]);
      // The check still runs, after the scan has started.
      expect(after.some((u) => u.endsWith('/x509/chain.js'))).toBe(true);
      expect(after.some((u) => u.endsWith('/report/probe-view.js'))).toBe(true);
      expect(after.some((u) => u.endsWith('/report/probe-text.js'))).toBe(view.length === 0);
      // No wildcard name in the lab's chain: the Public Suffix List is never loaded.
      expect([...before, ...after].filter((u) => u.includes('/tldts/'))).toEqual([]);
    }, 120_000);
});
