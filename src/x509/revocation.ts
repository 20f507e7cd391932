/**
 * Revocation facts of a checked chain: `revocationOf` returns, for each certificate of a
 * `ChainReport` path, its CRL distribution points and OCSP URLs and what the given CRLs say, plus
 * findings. Never throws. Fetching the URLs is `checkRevocationOnline` (probe/revocation-check.ts),
 * which adds its endpoint results to the same report shape.
 */
import { DecodeError } from '../wire/errors.js';
import type { ChainReport } from './chain.js';
import { applyCrls, type CrlReport } from './crl.js';
import { readRevocationUrls, type CrlInfo, type RevocationUrls } from './revocation-adapter.js';
import type { RevocationFinding, RevocationStatus } from './revocation-types.js';
import type { CertInfo } from './types.js';

/** One certificate of the path: where its status can be found, and what is known. */
export interface CertificateRevocation {
  /** Index in the path (leaf 0). */
  readonly certificate: number;
  readonly sha1: string;
  readonly serialNumber: string;
  readonly urls: RevocationUrls;
  /** True for the trust anchor, whose status is not checked (RFC 5280, Section 6.1). */
  readonly anchor: boolean;
  readonly status: RevocationStatus;
  /** What decided `status`: `crl` (a given CRL), `crl-fetched`, `ocsp`, or null while unknown. */
  readonly source: 'crl' | 'crl-fetched' | 'ocsp' | null;
  /** When `revoked`: the revocation date and CRLReason (RFC 5280, Section 5.3.1; `null` when none was given). */
  readonly revocationDate: Date | null;
  readonly reason: number | null;
}

/** The `"revocation"` part of a chain check. */
export interface RevocationReport {
  readonly certificates: readonly CertificateRevocation[];
  /** The given CRLs, in the order given. */
  readonly crls: readonly GivenCrl[];
  readonly findings: readonly RevocationFinding[];
}

/** A CRL given with `--crl`, and what became of it. */
export interface GivenCrl {
  readonly sha256: string;
  readonly issuer: string;
  readonly crlNumber: string | null;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly entries: number;
  readonly used: boolean;
  readonly problems: readonly string[];
}

const NO_URLS: RevocationUrls = { crl: [], ocsp: [], caIssuers: [] };

/** Returns the revocation URLs of `cert`, or none when its extensions cannot be read (the chain check reports undecodable certificates). */
export function urlsOf(cert: Pick<CertInfo, 'der'>): RevocationUrls {
  try {
    return readRevocationUrls(cert.der);
  } catch (e) {
    if (e instanceof DecodeError) return NO_URLS;
    throw e;
  }
}

/**
 * Returns the revocation view of `report`'s path: the URLs of every certificate and what `crls`
 * (already decoded, in the order given) say, judged at `at`.
 */
export function revocationOf(report: ChainReport, crls: readonly CrlInfo[], at: Date): RevocationReport {
  const path = report.certificates;
  // The path ends with the anchor's certificate when it is known; trust anchors are inputs whose
  // revocation is not checked (RFC 5280, Section 6.1). Anything else at the end is checked.
  const last = path[path.length - 1];
  const anchored =
    report.complete &&
    report.anchor !== null &&
    last !== undefined &&
    (last.sha1 === report.anchor.sha1 || last.selfIssued);
  const applied: CrlReport = applyCrls(path, crls, at, anchored);
  const certificates = path.map((cert, i): CertificateRevocation => {
    const st = applied.statuses.find((s) => s.certificate === i);
    return {
      certificate: i,
      sha1: cert.sha1,
      serialNumber: cert.serialNumber,
      urls: urlsOf(cert),
      anchor: anchored && i === path.length - 1,
      status: st?.status ?? 'unknown',
      source: st && st.status !== 'unknown' ? 'crl' : null,
      revocationDate: st?.revocationDate ?? null,
      reason: st?.reason ?? null,
    };
  });
  return {
    certificates,
    crls: crls.map((c, k) => ({
      sha256: c.sha256,
      issuer: c.issuer.rfc4514,
      crlNumber: c.crlNumber,
      thisUpdate: c.thisUpdate,
      nextUpdate: c.nextUpdate,
      entries: c.entries.length,
      used: applied.crls[k]!.used,
      problems: applied.crls[k]!.problems,
    })),
    findings: applied.findings,
  };
}

/** True when a revocation report holds an error (a revoked certificate, an unusable CRL, an unreachable responder). */
export function hasRevocationError(r: RevocationReport): boolean {
  return r.findings.some((f) => f.severity === 'error');
}
