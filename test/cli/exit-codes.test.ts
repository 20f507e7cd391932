/**
 * Issue 12: the exit-code table for the commands whose verdicts it decides (`chain`, `probe`,
 * `diagnose`): 0 fine for the client asked about, 1 a problem found, 3 the network failed before
 * any TLS. One test per command and code, against the lab and real files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { HAS_CLI, tlsprobe } from '../helpers/cli.js';

let lab: Lab;
let dir: string;
let roots: string;
let chainFile: string;
beforeAll(async () => {
  lab = await startLab({ names: ['modern', 'silent-close'] });
  dir = mkdtempSync(join(tmpdir(), 'tlsprobe-exit-'));
  roots = join(dir, 'root.pem');
  writeFileSync(roots, lab.pki.root.pem);
  chainFile = join(dir, 'chain.pem');
  writeFileSync(chainFile, lab.pki.chainPem);
});
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

const T = 60_000;
const modern = () => `127.0.0.1:${lab.endpoint('modern').port}`;

describe.skipIf(!HAS_CLI)('chain exit codes', () => {
  it(
    '0: a chain FILE that verifies against the --roots given, with --host',
    async () => {
      const r = await tlsprobe(['chain', chainFile, '--roots', roots, '--host', 'localhost', '--json']);
      expect(JSON.parse(r.stdout).chain.verified).toBe(true);
      expect(r.code).toBe(0);
    },
    T,
  );
  it(
    '1: the same chain against the documented roots (its root is not among them)',
    async () => {
      expect((await tlsprobe(['chain', chainFile, '--host', 'localhost', '--json'])).code).toBe(1);
    },
    T,
  );
  it(
    '1: the chain verifies but names another host',
    async () => {
      expect((await tlsprobe(['chain', chainFile, '--roots', roots, '--host', 'other.example', '--json'])).code).toBe(
        1,
      );
    },
    T,
  );
  it(
    '3: the endpoint refuses the connection before any TLS',
    async () => {
      const r = await tlsprobe(['chain', '127.0.0.1:1']);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/connect-refused/);
    },
    T,
  );
});

describe.skipIf(!HAS_CLI)('probe exit codes', () => {
  it(
    '0: TLS 1.2/1.3 negotiated and the chain verified against --roots',
    async () => {
      expect((await tlsprobe(['probe', modern(), '--sni', 'localhost', '--roots', roots, '--json'])).code).toBe(0);
    },
    T,
  );
  it(
    '1: no version completes a handshake',
    async () => {
      const r = await tlsprobe([
        'probe',
        `127.0.0.1:${lab.endpoint('silent-close').port}`,
        '--versions',
        'TLS1.2,TLS1.3',
        '--json',
      ]);
      expect(r.code).toBe(1);
    },
    T,
  );
  it(
    '3: DNS failure',
    async () => {
      expect((await tlsprobe(['probe', 'no-such-host.invalid', '--json'])).code).toBe(3);
    },
    T,
  );
});

describe.skipIf(!HAS_CLI)('diagnose exit codes', () => {
  it(
    '0: fine for a current client (TLS 1.0 refused is information)',
    async () => {
      expect((await tlsprobe(['diagnose', modern(), '--sni', 'localhost', '--roots', roots, '--json'])).code).toBe(0);
    },
    T,
  );
  it(
    '1: fine for a current client but not for the Windows 7 client asked about',
    async () => {
      const r = await tlsprobe([
        'diagnose',
        modern(),
        '--sni',
        'localhost',
        '--roots',
        roots,
        '--client',
        'win7-schannel',
        '--json',
      ]);
      expect(JSON.parse(r.stdout).results[0].fine).toBe(false);
      expect(r.code).toBe(1);
    },
    T,
  );
  it(
    '1: the chain does not verify against the documented roots',
    async () => {
      const r = await tlsprobe(['diagnose', modern(), '--sni', 'localhost', '--json']);
      expect(r.code).toBe(1);
    },
    T,
  );
  it(
    '3: connection refused',
    async () => {
      expect((await tlsprobe(['diagnose', '127.0.0.1:1', '--json'])).code).toBe(3);
    },
    T,
  );
});
