/**
 * The CA/Browser Forum profile checks strict validators apply on top of RFC 5280: returns whether a
 * dNSName is well formed, whether a wildcard covers a public suffix, which key algorithms and sizes
 * are allowed, and whether a server certificate names a host without the subject CN fallback.
 * Pure functions over `CertInfo` and strings; never throw.
 */
import { parseIp } from '../wire/ip.js';
import { OID_COMMON_NAME, lastValueOf } from './dn.js';
import { matchesDnsPattern } from './hostname.js';
import { requireTldts } from './tldts-cjs.js';
import type { CertInfo } from './types.js';

/** Smallest RSA modulus allowed (CA/B Forum Baseline Requirements, Section 6.1.5). */
export const MIN_RSA_BITS = 2048;

/** Named curves allowed for EC keys (CA/B Forum Baseline Requirements, Section 6.1.5; Mozilla Root Store Policy 5.1). */
export const ALLOWED_CURVES: ReadonlySet<string> = new Set(['P-256', 'P-384', 'P-521']);

/**
 * Where Windows differs from strict validators on host names: CryptoAPI's SSL policy
 * (CertVerifyCertificateChainPolicy with CERT_CHAIN_POLICY_SSL) still compares the subject CN when
 * the certificate has no DNS subjectAltName, where RFC 9525 (Section 6.3, superseding RFC 6125's
 * CN-ID) and CA/B Forum BR 7.1.4.3 leave the CN out and browsers stopped using it (Chrome 58).
 */
export const WINDOWS_CN_FALLBACK_NOTE =
  'Windows CryptoAPI/SChannel (CERT_CHAIN_POLICY_SSL) still falls back to the subject CN when there is no DNS subjectAltName, so a Windows client may accept it; strict validators (RFC 9525 Section 6.3, CA/B BR 7.1.4.3) do not';

/** The verdict on a key: `null` when allowed, else the finding code and why. */
export type KeyVerdict = {
  readonly code: 'weak-key' | 'key-algorithm-not-allowed';
  readonly severity: 'error' | 'warning';
  readonly detail: string;
} | null;

/**
 * Returns whether `cert`'s key is one CA/B Forum BR 6.1.5 allows: RSA with a modulus of at least
 * 2048 bits and a multiple of 8, or ECDSA on P-256/P-384/P-521 with a named curve (RFC 5480: "MUST
 * NOT use implicitlyCA or specifiedCurve"). DSA and explicit or other curves are errors; EdDSA and
 * RSASSA-PSS-only keys, which verify but which the Web PKI does not issue, are warnings.
 */
export function keyVerdict(cert: CertInfo): KeyVerdict {
  const bits = cert.keyBits;
  switch (cert.keyType) {
    case 'RSA':
    case 'RSA-PSS':
      if (bits !== null && bits < MIN_RSA_BITS)
        return {
          code: 'weak-key',
          severity: 'error',
          detail: `${bits}-bit ${cert.keyType} key (minimum ${MIN_RSA_BITS})`,
        };
      if (bits !== null && bits % 8 !== 0)
        return {
          code: 'key-algorithm-not-allowed',
          severity: 'error',
          detail: `${bits}-bit RSA modulus is not a multiple of 8 bits (CA/B BR 6.1.5)`,
        };
      if (cert.keyType === 'RSA-PSS')
        return {
          code: 'key-algorithm-not-allowed',
          severity: 'warning',
          detail: 'an id-RSASSA-PSS key, which the Web PKI does not issue (CA/B BR 6.1.5)',
        };
      return null;
    case 'EC':
      if (cert.curve === 'explicit')
        return {
          code: 'key-algorithm-not-allowed',
          severity: 'error',
          detail: 'an EC key with explicit curve parameters (RFC 5480, Section 2.1.1: named curves only)',
        };
      if (cert.curve !== null && !ALLOWED_CURVES.has(cert.curve)) {
        const weak = bits !== null && bits < 256;
        return {
          code: weak ? 'weak-key' : 'key-algorithm-not-allowed',
          severity: 'error',
          detail: `an EC key on ${cert.curve} (allowed: P-256, P-384, P-521; CA/B BR 6.1.5)`,
        };
      }
      return null;
    case 'DSA':
      return {
        code: 'key-algorithm-not-allowed',
        severity: 'error',
        detail: `a DSA key${bits ? ` of ${bits} bits` : ''} (not allowed since CA/B BR 1.3; only RSA and ECDSA)`,
      };
    case 'Ed25519':
    case 'Ed448':
      return {
        code: 'key-algorithm-not-allowed',
        severity: 'warning',
        detail: `an ${cert.keyType} key, which the Web PKI does not issue (CA/B BR 6.1.5)`,
      };
    default:
      return {
        code: 'key-algorithm-not-allowed',
        severity: 'error',
        detail: `a key of unknown algorithm ${cert.keyAlgorithmOid}`,
      };
  }
}

/**
 * Returns why the dNSName SAN entry `name` is not a valid preferred-name-syntax host name (RFC 5280,
 * Section 4.2.1.6; RFC 1034, Section 3.5; CA/B BR 7.1.4.2.1: no underscores since 2019, wildcard
 * only as the whole left-most label, not over a public suffix), or `null` when it is valid.
 */
export function dnsNameSyntaxError(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (/[^\x21-\x7e]/.test(name)) return 'has characters outside printable ASCII (IDNs must be A-labels)';
  if (name.length > 253) return 'is longer than 253 characters';
  if (parseIp(name)) return 'is an IP address written as a DNS name (use an iPAddress entry)';
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l === '*' && i === 0) continue;
    if (l.includes('*')) return `has a wildcard that is not the whole left-most label (${JSON.stringify(l)})`;
    if (l.length === 0 || l.length > 63) return 'has an empty label or one longer than 63 characters';
    if (l.includes('_')) return 'has an underscore (not allowed in host names; CA/B BR 7.1.4.2.1)';
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(l))
      return `has label ${JSON.stringify(l)} outside letters, digits and inner hyphens`;
  }
  if (labels[0] === '*') {
    if (labels.length < 2) return 'is a bare wildcard';
    const base = labels.slice(1).join('.').toLowerCase();
    if (isPublicSuffix(base)) return `is a wildcard over the public suffix ${base} (CA/B BR 3.2.2.6)`;
  }
  return null;
}

/**
 * True when `domain` is itself a public suffix of the ICANN section of the Public Suffix List (or a
 * single label). The private section (s3.amazonaws.com, github.io, …) is not applied, as Chromium
 * does not (net/cert/x509_certificate.cc VerifyHostname: EXCLUDE_PRIVATE_REGISTRIES) and real
 * S3 endpoints carry `*.s3.amazonaws.com` (x509-limbo's private-namespace case is still rejected,
 * for its subject CN: cn-not-in-san).
 */
export function isPublicSuffix(domain: string): boolean {
  if (!domain.includes('.')) return true;
  return requireTldts().getPublicSuffix(domain, { allowPrivateDomains: false }) === domain;
}

/** How a server certificate names a host. */
export type HostMatch = 'san' | 'cn-only' | 'none';

/**
 * Returns `san` when a subjectAltName entry names `host` (dNSName per RFC 6125 Section 6.4, iPAddress
 * octet for octet), `cn-only` when only the subject CN would (what Windows still accepts, see
 * `WINDOWS_CN_FALLBACK_NOTE`), else `none`.
 */
export function hostMatch(cert: CertInfo, host: string): HostMatch {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const ip = parseIp(bare);
  if (ip) {
    const hit = cert.san.ip.some((entry) => {
      const b = parseIp(entry);
      return b !== null && b.length === ip.length && b.every((x, i) => x === ip[i]);
    });
    return hit ? 'san' : 'none';
  }
  if (cert.san.dns.some((pattern) => dnsNameSyntaxError(pattern) === null && matchesDnsPattern(pattern, bare)))
    return 'san';
  const cn = lastValueOf(cert.subject, OID_COMMON_NAME);
  return cert.san.dns.length === 0 && cn !== null && matchesDnsPattern(cn, bare) ? 'cn-only' : 'none';
}
