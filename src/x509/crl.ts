/**
 * CRL checking (RFC 5280, Sections 5 and 6.3): `applyCrls` returns, for each certificate of a
 * validated path, whether the given CRLs say it is revoked, and findings for every CRL that cannot
 * be used and why. Never throws; CRLs are decoded beforehand (`parseCrl` in revocation-adapter.ts).
 *
 * Only complete, direct CRLs are processed: the CRL's issuer is the certificate's issuer (same name,
 * signature by the issuer's key), as CAs publish them for TLS. Delta, indirect and
 * reason-partitioned CRLs are reported as `crl-unsupported-scope`, never silently trusted.
 */
import { displayName, sameName } from './dn.js';
import type { CrlInfo } from './revocation-adapter.js';
import {
  reasonName,
  type RevocationFinding,
  type RevocationFindingCode,
  type RevocationSeverity,
  type RevocationStatus,
} from './revocation-types.js';
import { verifySignedData } from './signature.js';
import type { CertInfo } from './types.js';

/** CRL extensions we process or may safely ignore (RFC 5280, Section 5.2); any other critical one makes the CRL unusable. */
const KNOWN_CRL_EXTENSIONS: ReadonlySet<string> = new Set([
  '2.5.29.35', // authorityKeyIdentifier, 5.2.1
  '2.5.29.18', // issuerAltName, 5.2.2
  '2.5.29.20', // cRLNumber, 5.2.3
  '2.5.29.28', // issuingDistributionPoint, 5.2.5
  '2.5.29.46', // freshestCRL, 5.2.6 (we do not fetch delta CRLs; ignoring it is allowed, it is non-critical)
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess, 5.2.7
]);

/** deltaCRLIndicator, RFC 5280, Section 5.2.4: a delta CRL needs its base, which we do not combine. */
const OID_DELTA_CRL_INDICATOR = '2.5.29.27';
const OID_CRL_NUMBER = '2.5.29.20';

/** CRL entry extensions we process or may ignore (RFC 5280, Section 5.3); certificateIssuer (5.3.3) belongs to indirect CRLs. */
const KNOWN_ENTRY_EXTENSIONS: ReadonlySet<string> = new Set([
  '2.5.29.21', // reasonCode, 5.3.1
  '2.5.29.24', // invalidityDate, 5.3.2
  '2.5.29.23', // holdInstructionCode (RFC 3280, Section 5.3.2; removed in RFC 5280)
]);

/** CRLReason removeFromCRL (RFC 5280, Section 5.3.1): only meaningful in delta CRLs; the certificate is not revoked. */
const REASON_REMOVE_FROM_CRL = 8;

/** What the CRLs say about one certificate of the path. */
export interface CrlStatus {
  /** Index of the certificate in the path. */
  readonly certificate: number;
  readonly status: RevocationStatus;
  /** SHA-256 of the CRL that decided it, when one did. */
  readonly crl: string | null;
  readonly revocationDate: Date | null;
  readonly reason: number | null;
}

/** What `applyCrls` returns: per-certificate status, per-CRL usability, findings. */
export interface CrlReport {
  readonly statuses: readonly CrlStatus[];
  /** For each CRL (same order as given): whether it was used for some certificate, and its problems. */
  readonly crls: readonly {
    readonly sha256: string;
    readonly used: boolean;
    readonly problems: readonly RevocationFindingCode[];
  }[];
  readonly findings: readonly RevocationFinding[];
}

/**
 * Returns what `crls` say about each certificate of `path` (leaf first; the last certificate is the
 * trust anchor when `anchored`, and is not checked: RFC 5280, Section 6.1 takes anchors as inputs),
 * judged at `at`. A certificate is `revoked` when a usable CRL lists its serial, `good` when a usable
 * CRL of its issuer does not, `unknown` otherwise.
 */
export function applyCrls(path: readonly CertInfo[], crls: readonly CrlInfo[], at: Date, anchored: boolean): CrlReport {
  const findings: RevocationFinding[] = [];
  const usage = crls.map((c) => ({ sha256: c.sha256, used: false, problems: [] as RevocationFindingCode[] }));
  const statuses: CrlStatus[] = [];
  const last = anchored ? path.length - 1 : path.length;
  for (let i = 0; i < last; i++) {
    const cert = path[i]!;
    const issuer = path[i + 1] ?? null;
    let status: CrlStatus = { certificate: i, status: 'unknown', crl: null, revocationDate: null, reason: null };
    const usable: number[] = [];
    crls.forEach((crl, k) => {
      if (!sameName(crl.issuer, cert.issuer)) return;
      const add = (code: RevocationFindingCode, severity: RevocationSeverity, message: string): void => {
        usage[k]!.problems.push(code);
        findings.push({
          code,
          severity,
          message: `CRL #${k} (${displayName(crl.issuer)}) for ${displayName(cert.subject)}: ${message}`,
          certificate: i,
        });
      };
      if (issuer === null) {
        add(
          'crl-issuer-unknown',
          'warning',
          'the issuer certificate is not on the path, so the CRL signature cannot be checked',
        );
        return;
      }
      if (crl.authorityKeyId !== null && issuer.subjectKeyId !== null && crl.authorityKeyId !== issuer.subjectKeyId) {
        add(
          'crl-not-applicable',
          'info',
          `its authority key identifier ${crl.authorityKeyId} is not the issuer's key ${issuer.subjectKeyId}`,
        );
        return;
      }
      const scope = scopeProblem(crl, cert);
      if (scope) {
        add(scope.code, scope.code === 'crl-not-applicable' ? 'info' : 'warning', scope.message);
        return;
      }
      if (crlUsable(crl, issuer, at, add)) usable.push(k);
    });
    // RFC 5280, Section 5.2.3: the CRL number increases with each CRL of an issuer; of several usable
    // CRLs of the same issuer, the newest (highest number) decides and the others are superseded.
    if (usable.length > 0) {
      const newest = usable.reduce((a, b) => (crlNumberOf(crls[b]!) > crlNumberOf(crls[a]!) ? b : a));
      for (const k of usable) {
        if (k === newest) continue;
        usage[k]!.problems.push('crl-superseded');
        findings.push({
          code: 'crl-superseded',
          severity: 'info',
          message: `CRL #${k} (number ${crls[k]!.crlNumber}) is superseded by CRL #${newest} (number ${crls[newest]!.crlNumber}) for ${displayName(cert.subject)}`,
          certificate: i,
        });
      }
      const crl = crls[newest]!;
      usage[newest]!.used = true;
      const entry = crl.entries.find((e) => e.serialNumber === cert.serialNumber);
      if (entry && entry.reason !== REASON_REMOVE_FROM_CRL) {
        status = {
          certificate: i,
          status: 'revoked',
          crl: crl.sha256,
          revocationDate: entry.revocationDate,
          reason: entry.reason,
        };
        findings.push({
          code: 'revoked',
          severity: 'error',
          message: `${displayName(cert.subject)} (serial ${cert.serialNumber}) is revoked since ${entry.revocationDate.toISOString()} (${reasonName(entry.reason)}), by CRL #${newest} number ${crl.crlNumber ?? '(none)'} of ${displayName(crl.issuer)}`,
          certificate: i,
        });
      } else {
        status = { certificate: i, status: 'good', crl: crl.sha256, revocationDate: null, reason: null };
      }
    }
    statuses.push(status);
  }
  crls.forEach((crl, k) => {
    if (usage[k]!.used || usage[k]!.problems.length > 0) return;
    usage[k]!.problems.push('crl-not-applicable');
    findings.push({
      code: 'crl-not-applicable',
      severity: 'info',
      message: `CRL #${k} (${displayName(crl.issuer)}) is not issued by an issuer of a certificate on the path`,
    });
  });
  return { statuses, crls: usage, findings };
}

/** Returns the cRLNumber of a usable CRL as a number to compare (usable CRLs always have one). */
function crlNumberOf(crl: CrlInfo): bigint {
  return BigInt(crl.crlNumber ?? '0');
}

/** Returns why a CRL of the right issuer does not cover `cert`, or is one we do not process (RFC 5280, Sections 5.2.4 and 5.2.5). */
function scopeProblem(crl: CrlInfo, cert: CertInfo): { code: RevocationFindingCode; message: string } | null {
  if (crl.extensions.some((e) => e.oid === OID_DELTA_CRL_INDICATOR))
    return {
      code: 'crl-unsupported-scope',
      message: 'it is a delta CRL (RFC 5280, Section 5.2.4); give the complete CRL',
    };
  const idp = crl.issuingDistributionPoint;
  if (!idp) return null;
  const isCa = cert.basicConstraints?.ca === true;
  if (idp.onlyContainsAttributeCerts)
    return { code: 'crl-not-applicable', message: 'it covers only attribute certificates (RFC 5280, Section 5.2.5)' };
  if (idp.onlyContainsUserCerts && isCa)
    return { code: 'crl-not-applicable', message: 'it covers only end-entity certificates (onlyContainsUserCerts)' };
  if (idp.onlyContainsCACerts && !isCa)
    return { code: 'crl-not-applicable', message: 'it covers only CA certificates (onlyContainsCACerts)' };
  if (idp.indirectCRL)
    return {
      code: 'crl-unsupported-scope',
      message: 'it is an indirect CRL (RFC 5280, Section 5.2.5), which is not processed',
    };
  if (idp.onlySomeReasons)
    return {
      code: 'crl-unsupported-scope',
      message: 'it covers only some revocation reasons (onlySomeReasons), so it cannot say a certificate is good',
    };
  return null;
}

/**
 * Returns whether `crl` may be used to decide a status: signature by `issuer`'s key, issuer allowed
 * to sign CRLs, cRLNumber present and non-critical, current at `at`, no unknown critical extension.
 * Reports each problem through `add`; warnings alone do not make a CRL unusable.
 */
function crlUsable(
  crl: CrlInfo,
  issuer: CertInfo,
  at: Date,
  add: (code: RevocationFindingCode, severity: RevocationSeverity, message: string) => void,
): boolean {
  let usable = true;
  const error = (code: RevocationFindingCode, message: string): void => {
    usable = false;
    add(code, 'error', message);
  };
  // RFC 5280, Section 6.3.3 (f) and (g): the CRL issuer may sign CRLs and its signature verifies.
  if (issuer.keyUsage !== null && !issuer.keyUsage.includes('cRLSign')) {
    error(
      'crl-issuer-not-crl-signer',
      `${displayName(issuer.subject)} has a keyUsage without cRLSign (RFC 5280, Sections 4.2.1.3 and 6.3.3 (f))`,
    );
  }
  if (crl.innerSignatureAlgorithmOid !== crl.signatureAlgorithmOid) {
    error(
      'crl-signature-algorithm-mismatch',
      `TBSCertList.signature ${crl.innerSignatureAlgorithmOid} differs from signatureAlgorithm ${crl.signatureAlgorithmOid} (RFC 5280, Section 5.1.1.2)`,
    );
  }
  const sig = verifySignedData(crl, issuer);
  if (sig.status === 'invalid')
    error(
      'crl-bad-signature',
      `its signature does not verify with ${displayName(issuer.subject)}'s key: ${sig.detail}`,
    );
  else if (sig.status === 'unsupported') {
    usable = false;
    add('crl-unsupported-signature', 'warning', `its signature cannot be checked: ${sig.detail}`);
  }
  // RFC 5280, Section 5.2.3: "conforming CRL issuers MUST include this extension in all CRLs and MUST mark this extension as non-critical".
  const number = crl.extensions.find((e) => e.oid === OID_CRL_NUMBER);
  if (!number) error('crl-number-missing', 'it has no cRLNumber extension (RFC 5280, Section 5.2.3: MUST be included)');
  else if (number.critical)
    error('crl-number-critical', 'its cRLNumber extension is critical (RFC 5280, Section 5.2.3: MUST be non-critical)');
  // RFC 5280, Section 6.3.3 (a)(2) and 5.1.2.4/5.1.2.5: a CRL is current from thisUpdate until nextUpdate.
  if (crl.thisUpdate.getTime() > at.getTime())
    error('crl-not-yet-valid', `its thisUpdate ${crl.thisUpdate.toISOString()} is after ${at.toISOString()}`);
  if (crl.nextUpdate === null)
    add('crl-no-next-update', 'warning', 'it has no nextUpdate (RFC 5280, Section 5.1.2.5: MUST be included)');
  else if (crl.nextUpdate.getTime() < at.getTime())
    error(
      'crl-expired',
      `its nextUpdate ${crl.nextUpdate.toISOString()} is before ${at.toISOString()}: a newer CRL should have been published`,
    );
  // RFC 5280, Section 5.2: "If a CRL contains a critical extension that the application cannot process,
  // then the application MUST NOT use that CRL to determine the status of certificates." Section 5.3 says
  // the same of critical entry extensions.
  for (const e of crl.extensions) {
    if (
      e.critical &&
      !KNOWN_CRL_EXTENSIONS.has(e.oid) &&
      e.oid !== OID_CRL_NUMBER &&
      e.oid !== OID_DELTA_CRL_INDICATOR
    ) {
      error(
        'crl-unknown-critical-extension',
        `it has the critical extension ${e.oid}, which is not processed (RFC 5280, Section 5.2)`,
      );
    }
  }
  const entryExt = crl.entries.flatMap((en) =>
    en.extensions
      .filter((e) => e.critical && !KNOWN_ENTRY_EXTENSIONS.has(e.oid))
      .map((e) => ({ serial: en.serialNumber, oid: e.oid })),
  );
  if (entryExt.length > 0) {
    const first = entryExt[0]!;
    error(
      'crl-entry-unknown-critical-extension',
      `the entry for serial ${first.serial} has the critical extension ${first.oid}, which is not processed (RFC 5280, Section 5.3)${entryExt.length > 1 ? ` (${entryExt.length} such extensions)` : ''}`,
    );
  }
  return usable;
}
