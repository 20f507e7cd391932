/**
 * Types only: the revocation facts and findings that crl.ts, ocsp.ts, revocation.ts and the network
 * check (probe/revocation-check.ts) share. Finding codes are stable: `--json` users key on them.
 */

/** Stable codes of revocation findings. */
export type RevocationFindingCode =
  /** A CRL or OCSP response that passed its own checks says the certificate is revoked. */
  | 'revoked'
  /** A CRL names no issuer of a certificate on the path (or is scoped to other certificates); it was not used. */
  | 'crl-not-applicable'
  /** The CRL's issuer name matches but the issuer's certificate is not on the path, so its signature cannot be checked. */
  | 'crl-issuer-unknown'
  | 'crl-bad-signature'
  | 'crl-unsupported-signature'
  /** TBSCertList.signature differs from CertificateList.signatureAlgorithm (RFC 5280, Section 5.1.1.2). */
  | 'crl-signature-algorithm-mismatch'
  /** The issuer has a keyUsage without cRLSign (RFC 5280, Sections 4.2.1.3 and 6.3.3 (f)). */
  | 'crl-issuer-not-crl-signer'
  | 'crl-number-missing'
  | 'crl-number-critical'
  | 'crl-not-yet-valid'
  | 'crl-expired'
  | 'crl-no-next-update'
  | 'crl-unknown-critical-extension'
  | 'crl-entry-unknown-critical-extension'
  /** A newer CRL (higher cRLNumber) of the same issuer was given: this one was not used. */
  | 'crl-superseded'
  /** Delta, indirect, reason-partitioned or attribute-certificate CRLs: not processed. */
  | 'crl-unsupported-scope'
  /** `--check-revocation`: every CRL and OCSP URL of the certificate failed to answer. */
  | 'revocation-offline'
  /** `--check-revocation`: the certificate names no CRL or OCSP URL we can use, or none gave a usable answer. */
  | 'revocation-unchecked'
  /** `--check-revocation`: one URL failed (others may have answered). */
  | 'revocation-endpoint-unreachable'
  /** `--check-revocation`: an answer arrived but failed its checks (signature, responder, freshness, format). */
  | 'revocation-response-invalid';

export type RevocationSeverity = 'error' | 'warning' | 'info';

/** Something worth telling about revocation (the same shape as a chain `Finding`). */
export interface RevocationFinding {
  readonly code: RevocationFindingCode;
  readonly severity: RevocationSeverity;
  readonly message: string;
  /** Index into the chain report's path of the certificate concerned. */
  readonly certificate?: number;
}

/** What was learned about one certificate. */
export type RevocationStatus = 'good' | 'revoked' | 'unknown';

/** CRLReason, RFC 5280, Section 5.3.1 (value 7 is not used). */
export const CrlReason: Readonly<Record<number, string>> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

/** Returns the CRLReason name of `reason`, `reason N` when unassigned, or `no reason given`. */
export function reasonName(reason: number | null): string {
  if (reason === null) return 'no reason given';
  return CrlReason[reason] ?? `reason ${reason}`;
}
