/**
 * `tlsprobe chain` and `tlsprobe roots`, spawned as a user runs them: a real chain to DigiCert Global
 * Root G2 from the x509-limbo corpus (documented), the lab's chain over TLS 1.3 (likely TLS
 * inspection), Baltimore expired, a trust store missing roots.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { HAS_CLI, REPO_ROOT, tlsprobe } from '../helpers/cli.js';
import { hasLimbo, limboOnlineCases } from '../x509/corpus-certs.js';
import { pemToDer, derToPem } from '../../src/x509/pem.js';
import { parseCertificate } from '../../src/x509/der.js';

const ROOT = REPO_ROOT;

let lab: Lab;
let dir: string;
beforeAll(async () => {
  lab = await startLab({ names: ['tls13-only'] });
  dir = mkdtempSync(join(tmpdir(), 'tlsprobe-chain-cli-'));
});
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!HAS_CLI)('tlsprobe chain', () => {
  it('reads the lab chain over TLS 1.3 and reports it anchored outside the documented set (likely TLS inspection)', async () => {
    const r = await tlsprobe(['chain', `127.0.0.1:${lab.endpoint('tls13-only').port}`, '--sni', 'localhost', '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.certificates).toHaveLength(3);
    expect(j.chain.anchor).toMatchObject({ name: 'tlsprobe Lab Root CA', documented: false });
    expect(j.chain.hostnameMatch).toBe(true);
    expect(j.chain.findings.map((f: { code: string }) => f.code)).toEqual(
      expect.arrayContaining(['anchor-not-documented', 'likely-tls-inspection']),
    );
  });

  it.skipIf(!hasLimbo)(
    'reports a real chain to DigiCert Global Root G2 as documented and verified (exit 0)',
    async () => {
      const g2 = [...limboOnlineCases().values()].find((t) => {
        const roots = t.trusted_certs.flatMap((p) => pemToDer(p)).map(parseCertificate);
        return (
          roots.some((c) => c.sha1 === 'df3c24f9bfd666761b268073fe06d1cc8d4f82a4') &&
          t.validation_time &&
          t.expected_peer_name
        );
      })!;
      const file = join(dir, 'g2.pem');
      writeFileSync(file, [g2.peer_certificate, ...g2.untrusted_intermediates].join('\n'));
      const r = await tlsprobe([
        'chain',
        file,
        '--host',
        g2.expected_peer_name!.value,
        '--at',
        g2.validation_time!,
        '--json',
      ]);
      const j = JSON.parse(r.stdout);
      expect(j.chain.anchor).toMatchObject({ name: 'DigiCert Global Root G2', documented: true, expired: false });
      expect(j.chain.verified).toBe(true);
      expect(r.code).toBe(0);
      const text = await tlsprobe(['chain', file, '--host', g2.expected_peer_name!.value, '--at', g2.validation_time!]);
      expect(text.stdout).toMatch(/Chain: verified, anchored in DigiCert Global Root G2 .*\(documented root\)/);
    },
  );

  // Issue 12, item 4: anchors that know the public roots.
  it.skipIf(!hasLimbo)(
    'names a public root outside the documented set (anchor-not-documented), and exits 0 with --roots that verify',
    async () => {
      const google = limboOnlineCases().get('google.com.limbo.json')!;
      const file = join(dir, 'google.pem');
      writeFileSync(file, [google.peer_certificate, ...google.untrusted_intermediates].join('\n'));
      const root = parseCertificate(pemToDer(google.trusted_certs[0]!)[0]!);
      const args = [
        'chain',
        file,
        '--host',
        google.expected_peer_name!.value,
        '--at',
        google.validation_time!,
        '--json',
      ];
      const r = await tlsprobe(args);
      const j = JSON.parse(r.stdout);
      const codes = j.chain.findings.map((f: { code: string }) => f.code);
      expect(codes).not.toContain('missing-intermediate');
      const f = j.chain.findings.find((x: { code: string }) => x.code === 'anchor-not-documented');
      expect(f.message).toContain(root.subject.rfc4514);
      expect(f.message).toContain(root.sha1);
      expect(j.chain.anchor).toMatchObject({ sha1: root.sha1, documented: false, public: true, trusted: true });
      expect(r.code).toBe(1); // fine only with the documented roots, which it does not end at
      const rootFile = join(dir, 'gts-root-r1.pem');
      writeFileSync(rootFile, google.trusted_certs.join('\n'));
      const given = await tlsprobe([...args, '--roots', rootFile]);
      expect(JSON.parse(given.stdout).chain).toMatchObject({ verified: true, valid: true });
      expect(given.code).toBe(0);
      // --roots system holds Node's public roots (GTS Root R1 among them) and the OS store.
      const system = await tlsprobe([...args, '--roots', 'system']);
      expect(JSON.parse(system.stdout).chain.anchor).toMatchObject({ sha1: root.sha1, trusted: true, public: true });
      expect(system.code).toBe(0);
      // --max-depth 0 allows no intermediate: WR2 is one.
      const shallow = await tlsprobe([...args, '--roots', rootFile, '--max-depth', '0']);
      expect(JSON.parse(shallow.stdout).chain.findings.map((x: { code: string }) => x.code)).toContain(
        'max-depth-exceeded',
      );
      expect(shallow.code).toBe(1);
    },
  );

  it('reports missing-intermediate only when the issuer is in no store, and trusts the lab root given with --roots (exit 0)', async () => {
    const leafOnly = join(dir, 'lab-leaf.pem');
    writeFileSync(leafOnly, lab.pki.leaf.pem);
    const missing = JSON.parse((await tlsprobe(['chain', leafOnly, '--json'])).stdout);
    expect(missing.chain.findings.map((f: { code: string }) => f.code)).toContain('missing-intermediate');
    const rootFile = join(dir, 'lab-root.pem');
    writeFileSync(rootFile, lab.pki.root.pem);
    const r = await tlsprobe([
      'chain',
      `127.0.0.1:${lab.endpoint('tls13-only').port}`,
      '--sni',
      'localhost',
      '--roots',
      rootFile,
      '--json',
    ]);
    const j = JSON.parse(r.stdout);
    expect(j.chain).toMatchObject({ verified: true, valid: true, hostnameMatch: true });
    expect(j.chain.findings.map((f: { code: string }) => f.code)).not.toContain('likely-tls-inspection');
    expect(r.code).toBe(0);
  });

  it('reports Baltimore CyberTrust Root as expired in 2026 and valid in 2024', async () => {
    const file = join(ROOT, 'data/roots/baltimore-cybertrust-root.pem');
    const late = JSON.parse((await tlsprobe(['chain', file, '--at', '2026-01-01', '--json'])).stdout);
    expect(late.chain.anchor).toMatchObject({ name: 'Baltimore CyberTrust Root', documented: true, expired: true });
    expect(late.chain.findings.map((f: { code: string }) => f.code)).toContain('root-expired');
    const early = JSON.parse((await tlsprobe(['chain', file, '--at', '2024-01-01', '--json'])).stdout);
    expect(early.chain.anchor.expired).toBe(false);
  });

  it('explains bad input with exit code 2', async () => {
    const junk = join(dir, 'junk.txt');
    writeFileSync(junk, 'hello');
    expect((await tlsprobe(['chain', junk])).stderr).toMatch(/neither PEM .* nor DER/);
    const missing = await tlsprobe(['chain', join(dir, 'missing.pem')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*missing\.pem: no such file/);
    expect(
      (await tlsprobe(['chain', join(ROOT, 'data/roots/baltimore-cybertrust-root.pem'), '--at', 'yesterday'])).code,
    ).toBe(2);
  });
});

describe.skipIf(!HAS_CLI)('tlsprobe roots', () => {
  it('lists the six documented roots with Baltimore expired', async () => {
    const j = JSON.parse((await tlsprobe(['roots', '--json', '--at', '2026-01-01'])).stdout);
    expect(j.roots.map((r: { sha1: string }) => r.sha1)).toEqual([
      'df3c24f9bfd666761b268073fe06d1cc8d4f82a4',
      'a8985d3a65e5e5c4b2d7d66d40c6dd2fb19c5436',
      'd4de20d05e66fc53fe1a50882c78db2852cae474',
      '58e8abb0361533fb80f79b1b6d29d3ff8d5f00f0',
      '73a5e64a3bff8316ff0edccc618a906e4eae4d74',
      '999a64c37ff47d9fab95f14769891460eec4c3c5',
    ]);
    expect(j.roots.filter((r: { expired: boolean }) => r.expired).map((r: { name: string }) => r.name)).toEqual([
      'Baltimore CyberTrust Root',
    ]);
  });

  it('tells which documented roots a bundle holds, and exits 1 when a valid one is missing', async () => {
    const bundle = join(dir, 'bundle.pem');
    const g2 = pemToDer(require_('data/roots/digicert-global-root-g2.pem'))[0]!;
    writeFileSync(bundle, derToPem(g2) + derToPem(lab.pki.root.der));
    const r = await tlsprobe(['roots', '--bundle', bundle, '--json', '--at', '2026-01-01']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.roots).toHaveLength(6);
    expect(j.roots.filter((x: { present: boolean }) => x.present).map((x: { name: string }) => x.name)).toEqual([
      'DigiCert Global Root G2',
    ]);
    const missing = await tlsprobe(['roots', '--bundle', join(dir, 'nope.pem')]);
    expect(missing.code).toBe(2);
  });
});

function require_(rel: string): string {
  return readFileSync(join(ROOT, rel), 'utf8');
}
