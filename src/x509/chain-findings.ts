/**
 * Types only: the findings a chain check reports. Codes are stable (`--json` users key on them);
 * each names the rule it enforces, and the message cites where the rule comes from.
 */

/** Stable finding codes. */
export type ChainFindingCode =
  // What was sent
  | 'empty-chain'
  | 'too-many-certificates'
  | 'unparseable-certificate'
  | 'duplicate-certificate'
  | 'extra-certificates'
  | 'out-of-order'
  // Path building and anchoring
  | 'missing-intermediate'
  | 'path-search-truncated'
  | 'alternative-path-rejected'
  | 'bad-signature'
  | 'unsupported-signature'
  | 'self-signed-leaf'
  | 'anchor-not-documented'
  | 'likely-tls-inspection'
  // Validity
  | 'root-expired'
  | 'expired'
  | 'not-yet-valid'
  // Basic constraints, key usage and path length (RFC 5280, Sections 4.2.1.3, 4.2.1.9, 6.1.4)
  | 'not-a-ca'
  | 'basic-constraints-not-critical'
  | 'leaf-is-ca'
  | 'ca-flags-inconsistent'
  | 'path-length-exceeded'
  | 'max-depth-exceeded'
  // Extended key usage (RFC 5280, Section 4.2.1.12; CA/B BR 7.1.2)
  | 'eku-not-server-auth'
  | 'eku-absent'
  | 'eku-critical'
  | 'root-has-eku'
  // Extensions in general (RFC 5280, Section 4.2)
  | 'duplicate-extension'
  | 'unknown-critical-extension'
  | 'malformed-extension'
  | 'extension-criticality'
  // Key identifiers (RFC 5280, Sections 4.2.1.1 and 4.2.1.2; CA/B BR 7.1.2)
  | 'missing-aki'
  | 'missing-ski'
  | 'aki-fields'
  | 'aki-ski-mismatch'
  // Name constraints (RFC 5280, Section 4.2.1.10)
  | 'name-constraints-violation'
  | 'name-constraints-invalid'
  | 'name-constraints-not-critical'
  | 'name-constraints-in-leaf'
  | 'name-constraints-unsupported-form'
  | 'name-constraints-too-complex'
  | 'policy-constraints-not-critical'
  // Certificate fields (RFC 5280, Section 4.1)
  | 'version-not-v3'
  | 'serial-number-invalid'
  | 'signature-algorithm-mismatch'
  | 'empty-issuer'
  | 'empty-subject'
  // Keys and signatures (CA/B BR 6.1.5, 7.1.3)
  | 'weak-key'
  | 'key-algorithm-not-allowed'
  | 'sha1-signature'
  | 'md5-signature'
  // Server names (RFC 9525/6125; CA/B BR 7.1.4.2)
  | 'san-missing'
  | 'san-invalid'
  | 'san-criticality'
  | 'wildcard-public-suffix'
  | 'cn-not-in-san'
  | 'name-mismatch';

/** How bad a finding is: `error` breaks trust or the connection, `warning` deserves attention, `info` is a remark. */
export type Severity = 'error' | 'warning' | 'info';

/** Something worth telling about a chain. */
export interface Finding {
  readonly code: ChainFindingCode;
  readonly severity: Severity;
  readonly message: string;
  /** Index into `ChainReport.certificates` of the certificate concerned, when there is one. */
  readonly certificate?: number;
}
