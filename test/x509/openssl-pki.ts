import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pemToDer } from '../../src/x509/pem.js';

/** True when an `openssl` binary runs; tests that need it skip otherwise. */
export const hasOpenssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
export const NO_OPENSSL = 'openssl not found on PATH: tests that make certificates with it are skipped';

/** Runs openssl and returns stdout; throws with stderr when it fails. */
export function openssl(args: readonly string[], input?: Uint8Array): string {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Runs openssl and returns stdout as bytes; throws with stderr when it fails. */
export function opensslBytes(args: readonly string[], input?: Uint8Array): Uint8Array {
  const r = spawnSync('openssl', args, { input });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

/** `openssl req` arguments for a new unencrypted P-256 key. */
export const NEW_EC_P256_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'] as const;

/**
 * Makes a self-signed P-256 certificate with `openssl req -x509` (key at `key`, certificate at
 * `out`); `subject` is openssl's `/O=…/CN=…` form (read as UTF-8), `san` a subjectAltName value.
 */
export function selfSignedEc(o: { key: string; out: string; subject: string; san: string; days: number }): void {
  const where = ['-keyout', o.key, '-out', o.out, '-days', String(o.days)];
  openssl([
    'req',
    '-x509',
    ...NEW_EC_P256_KEY,
    ...where,
    '-utf8',
    '-subj',
    o.subject,
    '-addext',
    `subjectAltName=${o.san}`,
  ]);
}

export type KeySpec = 'rsa2048' | 'rsa1024' | 'ec256' | 'ec384' | 'ed25519';

const CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ca0_ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[noca_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = @alt
[alt]
DNS.1 = www.example.test
DNS.2 = *.wild.example.test
IP.1 = 127.0.0.1
IP.2 = ::1
[cn_only_ext]
basicConstraints = critical,CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

/** A certificate made by openssl: its DER and the name of its key file. */
export interface MadeCert {
  readonly name: string;
  readonly der: Uint8Array;
}

/** A scratch PKI in a temp directory, driven by the openssl CLI. */
export interface Pki {
  readonly dir: string;
  /** Makes a key `name.key`. */
  key(name: string, spec: KeySpec): void;
  /** Makes a self-signed CA certificate with key `name.key` (made first when missing). */
  root(name: string, spec: KeySpec, subject: string, opts?: { days?: number; digest?: string }): MadeCert;
  /** Makes a certificate for key `name.key` signed by `issuer`. */
  issue(
    name: string,
    spec: KeySpec,
    subject: string,
    issuer: string,
    opts?: {
      extensions?: 'ca_ext' | 'ca0_ext' | 'noca_ext' | 'leaf_ext' | 'cn_only_ext';
      days?: number;
      digest?: string | null;
      sigopts?: readonly string[];
      serial?: number;
    },
  ): MadeCert;
  cleanup(): void;
}

/** Returns a new scratch PKI (call `cleanup()` when done). */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-x509-'));
  const cfg = join(dir, 'openssl.cnf');
  writeFileSync(cfg, CONFIG);
  const keys = new Set<string>();
  const p = (f: string): string => join(dir, f);
  const readDer = (name: string): Uint8Array => {
    const ders = pemToDer(readFileSync(p(`${name}.pem`), 'utf8'));
    if (ders.length !== 1) throw new Error(`${name}.pem: expected one certificate`);
    return ders[0]!;
  };
  const pki: Pki = {
    dir,
    key(name, spec) {
      const args =
        spec === 'rsa2048' || spec === 'rsa1024'
          ? ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${spec === 'rsa2048' ? 2048 : 1024}`]
          : spec === 'ed25519'
            ? ['-algorithm', 'ED25519']
            : ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${spec === 'ec256' ? 'P-256' : 'P-384'}`];
      openssl(['genpkey', ...args, '-out', p(`${name}.key`)]);
      keys.add(name);
    },
    root(name, spec, subject, opts = {}) {
      if (!keys.has(name)) pki.key(name, spec);
      const digest = spec === 'ed25519' ? [] : [`-${opts.digest ?? 'sha256'}`];
      openssl([
        'req',
        '-x509',
        '-new',
        '-config',
        cfg,
        '-key',
        p(`${name}.key`),
        '-subj',
        subject,
        '-days',
        String(opts.days ?? 3650),
        ...digest,
        '-extensions',
        'ca_ext',
        '-set_serial',
        '1',
        '-out',
        p(`${name}.pem`),
      ]);
      return { name, der: readDer(name) };
    },
    issue(name, spec, subject, issuer, opts = {}) {
      if (!keys.has(name)) pki.key(name, spec);
      openssl(['req', '-new', '-config', cfg, '-key', p(`${name}.key`), '-subj', subject, '-out', p(`${name}.csr`)]);
      const digest = opts.digest === null ? [] : [`-${opts.digest ?? 'sha256'}`];
      const sigopts = (opts.sigopts ?? []).flatMap((o) => ['-sigopt', o]);
      openssl([
        'x509',
        '-req',
        '-in',
        p(`${name}.csr`),
        '-CA',
        p(`${issuer}.pem`),
        '-CAkey',
        p(`${issuer}.key`),
        '-set_serial',
        String(opts.serial ?? 1000 + keys.size),
        '-days',
        String(opts.days ?? 825),
        ...digest,
        ...sigopts,
        '-extfile',
        cfg,
        '-extensions',
        opts.extensions ?? 'leaf_ext',
        '-out',
        p(`${name}.pem`),
      ]);
      return { name, der: readDer(name) };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return pki;
}
