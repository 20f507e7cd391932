/**
 * Root certificate sets: returns the documented roots shipped in `data/roots/`, roots from PEM text,
 * from Node's bundled store or from a file/directory bundle, and compares a bundle with the
 * documented set. Loaders throw `DecodeError` for malformed certificates and `Error` for I/O.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { DecodeError } from '../wire/errors.js';
import { packageFileUrl } from '../io/package-file.js';
import { parseCertificate } from './der.js';
import { displayName } from './dn.js';
import { pemToDer } from './pem.js';
import type { CertInfo } from './types.js';

/** A root a chain may be anchored in. */
export interface TrustedRoot {
  /** The documented name for documented roots, otherwise the subject's CN (or RFC 4514 string). */
  readonly name: string;
  /** Lowercase hex SHA-1 of the DER. */
  readonly sha1: string;
  /** Lowercase hex SHA-256 of the DER; `null` for a documented root shipped without its certificate. */
  readonly sha256: string | null;
  readonly notBefore: Date | null;
  readonly notAfter: Date | null;
  /** The certificate; `null` when only the name and thumbprint are known. */
  readonly der: Uint8Array | null;
  /** True when this is one of `DOCUMENTED_ROOTS`. */
  readonly documented: boolean;
}

/**
 * The documented root set (issue 4): the roots the services we diagnose chain to. Names and SHA-1
 * thumbprints are the documentation's; `data/roots/` holds the certificates (scripts/gen-roots.mjs).
 */
export const DOCUMENTED_ROOTS = [
  { name: 'DigiCert Global Root G2', sha1: 'df3c24f9bfd666761b268073fe06d1cc8d4f82a4' },
  { name: 'DigiCert Global Root CA', sha1: 'a8985d3a65e5e5c4b2d7d66d40c6dd2fb19c5436' },
  // Expired 2025-05-12; still documented because older chains end here.
  { name: 'Baltimore CyberTrust Root', sha1: 'd4de20d05e66fc53fe1a50882c78db2852cae474' },
  { name: 'D-TRUST Root Class 3 CA 2 2009', sha1: '58e8abb0361533fb80f79b1b6d29d3ff8d5f00f0' },
  { name: 'Microsoft RSA Root Certificate Authority 2017', sha1: '73a5e64a3bff8316ff0edccc618a906e4eae4d74' },
  { name: 'Microsoft ECC Root Certificate Authority 2017', sha1: '999a64c37ff47d9fab95f14769891460eec4c3c5' },
] as const;

const DOCUMENTED_NAME = new Map<string, string>(DOCUMENTED_ROOTS.map((r) => [r.sha1, r.name]));

/** `data/roots/` of the package. */
const ROOTS_DIR = fileURLToPath(packageFileUrl('data/roots/'));

/** Most files `loadBundle` reads from a directory (Debian's /etc/ssl/certs has ~300 entries). */
export const MAX_BUNDLE_FILES = 10_000;

/** Largest file `loadBundle` reads (Debian's ca-certificates.crt is ~200 KB). */
export const MAX_BUNDLE_FILE_BYTES = 32 << 20;

interface RootsJson {
  readonly roots: readonly {
    readonly name: string;
    readonly sha1: string;
    readonly sha256: string | null;
    readonly notBefore: string | null;
    readonly notAfter: string | null;
    readonly file: string | null;
  }[];
}

let documentedCache: readonly TrustedRoot[] | undefined;

/**
 * Returns the documented roots from the package's `data/roots/` (read once, then cached), in
 * `DOCUMENTED_ROOTS` order. Throws `Error` when the data is missing or a shipped certificate's
 * thumbprint differs from the documented one (a damaged package).
 */
export function loadDocumentedRoots(): TrustedRoot[] {
  if (!documentedCache) {
    const json = JSON.parse(readFileSync(join(ROOTS_DIR, 'roots.json'), 'utf8')) as RootsJson;
    documentedCache = DOCUMENTED_ROOTS.map(({ name, sha1 }) => {
      const entry = json.roots.find((r) => r.sha1 === sha1);
      if (!entry) throw new Error(`data/roots/roots.json lacks documented root ${name} (${sha1})`);
      if (!entry.file) {
        const date = (s: string | null): Date | null => (s ? new Date(s) : null);
        return {
          name,
          sha1,
          sha256: entry.sha256,
          notBefore: date(entry.notBefore),
          notAfter: date(entry.notAfter),
          der: null,
          documented: true,
        };
      }
      const ders = pemToDer(readFileSync(join(ROOTS_DIR, entry.file), 'utf8'));
      if (ders.length !== 1) throw new Error(`data/roots/${entry.file} holds ${ders.length} certificates, expected 1`);
      const root = toTrustedRoot(parseCertificate(ders[0]!));
      if (root.sha1 !== sha1) throw new Error(`data/roots/${entry.file} has SHA-1 ${root.sha1}, documented ${sha1}`);
      return root;
    });
  }
  return [...documentedCache];
}

/**
 * The certificate each `TrustedRoot` made by `toTrustedRoot` was made from: a chain check needs the
 * parsed root too, and parsing Node's ~140 roots twice cost a scan ~25 ms (BENCHMARKS.md, issue 16).
 */
const parsedOf = new WeakMap<TrustedRoot, CertInfo>();

/** Returns a `TrustedRoot` for a parsed certificate, documented when its SHA-1 is in `DOCUMENTED_ROOTS`. */
export function toTrustedRoot(cert: CertInfo): TrustedRoot {
  const documentedName = DOCUMENTED_NAME.get(cert.sha1);
  const root: TrustedRoot = {
    name: documentedName ?? displayName(cert.subject),
    sha1: cert.sha1,
    sha256: cert.sha256,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    der: cert.der,
    documented: documentedName !== undefined,
  };
  parsedOf.set(root, cert);
  return root;
}

/** Returns the certificate `root` was made from by `toTrustedRoot`, or undefined for a root made otherwise. */
export function parsedRootCertificate(root: TrustedRoot): CertInfo | undefined {
  return parsedOf.get(root);
}

/** Returns the roots in PEM `text` (each CERTIFICATE block once, by SHA-1). Throws `DecodeError` on a malformed one. */
export function loadRootsFromPem(text: string): TrustedRoot[] {
  return dedupe(pemToDer(text).map((der) => toTrustedRoot(parseCertificate(der))));
}

let nodeRootsCache: readonly TrustedRoot[] | undefined;

/** Returns Node's bundled root store (`tls.rootCertificates`, Mozilla's set at Node's build time). */
export function loadSystemRoots(): TrustedRoot[] {
  return [...nodeRoots()];
}

/** Returns Node's bundled roots, parsed once and shared (the same array and objects every call). */
export function nodeRoots(): readonly TrustedRoot[] {
  nodeRootsCache ??= loadRootsFromPem(rootCertificates.join('\n'));
  return nodeRootsCache;
}

/**
 * Where operating systems keep their CA bundle: Debian/Ubuntu/Alpine, Fedora/RHEL, openSUSE, macOS
 * and FreeBSD (OpenSSL's own default). The first that exists is read.
 */
export const OS_BUNDLE_PATHS: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
  '/usr/local/share/certs/ca-root-nss.crt',
];

/**
 * Returns the operating system's root store: `tls.getCACertificates('system')` where Node has it
 * (22.15+, which reads the Windows and macOS stores too), else the first CA bundle file of
 * `OS_BUNDLE_PATHS`; empty when there is none. Certificates that do not decode are skipped.
 */
export function loadOsRoots(): TrustedRoot[] {
  const tlsModule = (
    globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
  ).process?.getBuiltinModule?.('node:tls') as { getCACertificates?: (kind: string) => string[] } | undefined;
  const fromNode = tlsModule?.getCACertificates?.('system');
  const pems =
    fromNode ??
    OS_BUNDLE_PATHS.filter((p) => existsSync(p))
      .slice(0, 1)
      .map((p) => readFileSync(p, 'latin1'));
  const out: TrustedRoot[] = [];
  for (const der of pemToDer(pems.join('\n'))) {
    try {
      out.push(toTrustedRoot(parseCertificate(der)));
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  }
  return dedupe(out);
}

/**
 * Returns the roots in a PEM or DER file, or in every `*.pem`, `*.crt`, `*.cer`, `*.der` file and
 * OpenSSL hash link (`1a2b3c4d.0`) of a directory such as /etc/ssl/certs; each certificate once.
 * Dangling links and files without certificates are skipped. Throws `DecodeError` (path naming the
 * file) for a malformed certificate, `Error` for I/O failures or past the size caps.
 */
export function loadBundle(pathOrDir: string): TrustedRoot[] {
  const st = statSync(pathOrDir);
  if (!st.isDirectory()) return dedupe(readCertificateFile(pathOrDir));
  const names = readdirSync(pathOrDir).sort();
  if (names.length > MAX_BUNDLE_FILES)
    throw new Error(`${pathOrDir} has ${names.length} entries (max ${MAX_BUNDLE_FILES})`);
  const out: TrustedRoot[] = [];
  for (const name of names) {
    if (!/\.(pem|crt|cer|der)$/i.test(name) && !/^[0-9a-f]{8}\.\d+$/.test(name)) continue;
    const p = join(pathOrDir, name);
    let fst;
    try {
      fst = statSync(p);
    } catch {
      continue; // dangling symlink
    }
    if (fst.isFile()) out.push(...readCertificateFile(p));
  }
  return dedupe(out);
}

function readCertificateFile(path: string): TrustedRoot[] {
  const st = statSync(path);
  if (st.size > MAX_BUNDLE_FILE_BYTES) throw new Error(`${path} is ${st.size} bytes (max ${MAX_BUNDLE_FILE_BYTES})`);
  const bytes = readFileSync(path);
  try {
    // A DER certificate starts with a SEQUENCE tag; anything else is read as PEM text.
    if (bytes[0] === 0x30)
      return [toTrustedRoot(parseCertificate(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)))];
    return pemToDer(bytes.toString('latin1')).map((der) => toTrustedRoot(parseCertificate(der)));
  } catch (e) {
    if (e instanceof DecodeError) throw new DecodeError(e.code, e.detail, e.offset, `${path}:${e.path}`);
    throw e;
  }
}

function dedupe(roots: readonly TrustedRoot[]): TrustedRoot[] {
  const seen = new Set<string>();
  return roots.filter((r) => {
    if (seen.has(r.sha1)) return false;
    seen.add(r.sha1);
    return true;
  });
}

/** One documented root and whether a bundle holds it. */
export interface BundleComparison {
  readonly name: string;
  readonly sha1: string;
  /** True when the bundle holds a certificate with this SHA-1. */
  readonly present: boolean;
  /** True when the documented root is past its notAfter at the comparison time (`null` when its validity is unknown). */
  readonly expired: boolean | null;
}

/** Returns, for each documented root in order, whether `bundle` holds it (by SHA-1) and whether it has expired at `at`. */
export function compareBundle(bundle: readonly TrustedRoot[] | readonly CertInfo[], at: Date): BundleComparison[] {
  const have = new Set<string>(bundle.map((r: TrustedRoot | CertInfo) => r.sha1));
  const documented = loadDocumentedRoots();
  return documented.map((r) => ({
    name: r.name,
    sha1: r.sha1,
    present: have.has(r.sha1),
    expired: r.notAfter ? at.getTime() > r.notAfter.getTime() : null,
  }));
}
