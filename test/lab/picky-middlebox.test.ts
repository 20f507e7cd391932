/**
 * The picky middlebox in front of real TLS servers (openssl s_server, gnutls-serv): it resets only
 * the hellos with its rule's trait, and `diagnose` names that trait as the cause for the client asked
 * about, with thresholds the named lab endpoints do not use (held-out style: another size range).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLabPki, type LabPki } from '../../src/lab/pki.js';
import { startPickyMiddlebox, type PickyMiddlebox } from '../../src/lab/picky-middlebox.js';
import type { PickyRule } from '../../src/lab/picky.js';
import { HAS_CLI, tlsprobe } from '../helpers/cli.js';
import {
  HAS_GNUTLS_SERV,
  HAS_OPENSSL,
  NO_GNUTLS,
  NO_OPENSSL,
  startGnutlsServer,
  startOpensslServer,
  type ExternalServer,
} from '../helpers/servers.js';

if (!HAS_OPENSSL) console.warn(NO_OPENSSL);
if (!HAS_GNUTLS_SERV) console.warn(NO_GNUTLS);

let pki: LabPki;
let dir: string;
let roots: string;
const running: { stop(): Promise<void> }[] = [];
beforeAll(async () => {
  pki = await generateLabPki();
  dir = mkdtempSync(join(tmpdir(), 'tlsprobe-middlebox-'));
  roots = join(dir, 'root.pem');
  writeFileSync(roots, pki.root.pem);
});
afterAll(async () => {
  for (const r of running.reverse()) await r.stop();
  rmSync(dir, { recursive: true, force: true });
});

const T = 120_000;

async function behind(server: ExternalServer, rule: PickyRule): Promise<PickyMiddlebox> {
  running.push(server);
  const box = await startPickyMiddlebox({ rule, upstream: { host: '127.0.0.1', port: server.port } });
  running.push({ stop: () => box.close() });
  return box;
}

async function diagnose(port: number, ...extra: string[]) {
  const r = await tlsprobe([
    'diagnose',
    `127.0.0.1:${port}`,
    '--sni',
    'localhost',
    '--roots',
    roots,
    '--json',
    ...extra,
  ]);
  return { code: r.code, json: JSON.parse(r.stdout).results[0] };
}

describe.skipIf(!HAS_CLI || !HAS_OPENSSL)('picky middlebox in front of openssl s_server', () => {
  it(
    'a device resetting hellos of 240–400 bytes: hello-size with that range for Windows Server 2022',
    async () => {
      const box = await behind(await startOpensslServer(pki), { kind: 'size', min: 240, max: 400 });
      const { code, json } = await diagnose(box.port, '--client', 'win2022');
      expect(code).toBe(1);
      expect(json.verdict.code).toBe('client-hello-rejected');
      expect(json.verdict.cause).toMatchObject({
        code: 'hello-size',
        sizeRange: { min: 240, max: 400, minExact: true },
      });
      expect(box.resets()).toBeGreaterThan(0);
    },
    T,
  );

  it(
    'a device resetting hellos that list secp384r1: groups, naming it, for Windows Server 2019',
    async () => {
      const box = await behind(await startOpensslServer(pki), { kind: 'group', group: 0x0018 });
      const { json } = await diagnose(box.port, '--client', 'win2019');
      expect(json.verdict.cause).toMatchObject({ code: 'groups', group: { name: 'secp384r1' } });
      // Without --client: tlsprobe's own hellos all list secp384r1 and are reset; a smaller hello gets
      // through, so this is not reset-always but a hello the device refuses, bisected from tlsprobe's own.
      const byDefault = await diagnose(box.port);
      expect(byDefault.json.verdict.code).toBe('client-hello-rejected');
      expect(byDefault.json.verdict.cause).toMatchObject({ code: 'groups', group: { name: 'secp384r1' } });
      expect(byDefault.code).toBe(1);
    },
    T,
  );

  it(
    'a healthy path: the same client through a middlebox with a trait it lacks is fine (exit 0)',
    async () => {
      const box = await behind(await startOpensslServer(pki), { kind: 'extension', type: 0x4469 });
      const { code, json } = await diagnose(box.port, '--client', 'win2022');
      expect(json.client.connects).toBe(true);
      expect(code).toBe(0);
    },
    T,
  );
});

describe.skipIf(!HAS_CLI || !HAS_GNUTLS_SERV)('picky middlebox in front of gnutls-serv', () => {
  it(
    'a device resetting hellos over one TCP segment: hello-size from 1401 bytes, open-ended',
    async () => {
      const box = await behind(await startGnutlsServer(pki), {
        kind: 'size',
        min: 1401,
        max: Number.POSITIVE_INFINITY,
      });
      const file = join(dir, 'big-hello.hex');
      // Windows Server 2022's hello padded past one segment (RFC 7685 padding), as a large client sends it.
      const { findClientProfile } = await import('../../src/diagnose/clients.js');
      const { encodeClientHello } = await import('../../src/tls/client-hello.js');
      const { encodeRecords } = await import('../../src/tls/record.js');
      const built = findClientProfile('win2022')!.build('localhost');
      const big = {
        ...built.hello,
        extensions: [
          ...(built.hello.extensions ?? []),
          { kind: 'padding' as const, type: 0x0015 as const, data: new Uint8Array(1500) },
        ],
      };
      writeFileSync(file, Buffer.from(encodeRecords(22, 0x0303, encodeClientHello(big))).toString('hex'));
      const { json } = await diagnose(box.port, '--client-hello', file);
      expect(json.verdict.cause).toMatchObject({ code: 'hello-size', sizeRange: { min: 1401, max: null } });
      expect(JSON.stringify(json.remediation)).toMatch(/under 1401 bytes/);
    },
    T,
  );
});
