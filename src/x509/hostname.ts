/**
 * Server identity checks (RFC 6125, Section 6): returns whether a certificate is valid for a host
 * name or IP address. Never throws.
 */
import { OID_COMMON_NAME, lastValueOf } from './dn.js';
import { parseIp } from '../wire/ip.js';
import type { CertInfo } from './types.js';

/**
 * True when `cert` names `host`.
 *
 * - An IP literal (`192.0.2.1`, `2001:db8::1`, optionally in brackets) matches only iPAddress SAN
 *   entries, octet for octet (RFC 5280, Section 4.2.1.6; RFC 6125 leaves IPs out of DNS matching).
 * - A DNS name matches the dNSName SAN entries; the subject's last CN is used only when the
 *   certificate has no dNSName at all (RFC 6125, Section 6.4.4).
 * - Comparison is case-insensitive and ignores one trailing dot on either side; a wildcard must be
 *   the whole left-most label and matches exactly one label (Section 6.4.3, without the
 *   partial-label `f*o` form that CA/B Forum certificates may not use).
 */
export function matchesHostname(cert: CertInfo, host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const ip = parseIp(bare);
  if (ip) {
    return cert.san.ip.some((entry) => {
      const b = parseIp(entry);
      return b !== null && b.length === ip.length && b.every((x, i) => x === ip[i]);
    });
  }
  const dns = cert.san.dns;
  if (dns.length > 0) return dns.some((pattern) => matchesDnsPattern(pattern, host));
  const cn = lastValueOf(cert.subject, OID_COMMON_NAME);
  return cn !== null && matchesDnsPattern(cn, host);
}

/**
 * True when the presented identifier `pattern` (a dNSName or CN) matches the reference identifier
 * `host` per RFC 6125, Section 6.4: label-by-label, case-insensitive (ASCII; IDNs compare as their
 * A-labels), one trailing dot ignored, `*` allowed only as the entire left-most label of a pattern
 * with at least two more labels, matching one non-empty host label.
 */
export function matchesDnsPattern(pattern: string, host: string): boolean {
  const p = stripDot(pattern.toLowerCase());
  const h = stripDot(host.toLowerCase());
  if (p === '' || h === '') return false;
  const pl = p.split('.');
  const hl = h.split('.');
  if (pl.length !== hl.length || hl.some((l) => l === '')) return false;
  for (let i = 0; i < pl.length; i++) {
    const label = pl[i]!;
    if (label === '*' && i === 0 && pl.length >= 3) continue;
    if (label.includes('*') || label !== hl[i]) return false;
  }
  return true;
}

function stripDot(s: string): string {
  return s.endsWith('.') ? s.slice(0, -1) : s;
}
