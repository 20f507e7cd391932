/**
 * The JSON view of certificates and chain reports (`"certificates"` and `"chain"` in probe, chain and
 * diagnose output). Field names are a contract.
 */
import type { CertInfo } from '../x509/types.js';
import type { ChainReport } from '../x509/chain.js';
import { toHex } from '../wire/hex.js';
import type { JsonObject } from './decode-view.js';

/** Returns the JSON of one certificate: DER, thumbprints and the decoded fields. */
export function certInfoToJson(c: CertInfo): JsonObject {
  return {
    der: toHex(c.der),
    sha1: c.sha1,
    sha256: c.sha256,
    subject: c.subject.rfc4514,
    issuer: c.issuer.rfc4514,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    serialNumber: c.serialNumber,
    keyType: c.keyType,
    keyBits: c.keyBits,
    curve: c.curve,
    signatureAlgorithm: c.signatureAlgorithm,
    san: [
      ...c.san.dns.map((d) => `DNS:${d}`),
      ...c.san.ip.map((i) => `IP:${i}`),
      ...c.san.email.map((e) => `email:${e}`),
      ...c.san.uri.map((u) => `URI:${u}`),
    ],
    selfIssued: c.selfIssued,
  };
}

/** Returns the `"chain"` object of the contract, plus a one-line `verdict` for people. */
/** The chain's trust anchor as JSON (null when the chain reached none). */
export function anchorToJson(a: ChainReport['anchor']): JsonObject | null {
  return a
    ? {
        name: a.name,
        sha1: a.sha1,
        documented: a.documented,
        expired: a.expired,
        trusted: a.trusted,
        sent: a.sent,
        public: a.public,
      }
    : null;
}

export function chainToJson(r: ChainReport): JsonObject {
  return {
    anchor: anchorToJson(r.anchor),
    verified: r.verified,
    valid: r.valid,
    pathsExamined: r.pathsExamined,
    complete: r.complete,
    hostnameMatch: r.hostnameMatch,
    findings: r.findings.map((f) => ({
      code: f.code,
      severity: f.severity,
      message: f.message,
      ...(f.certificate !== undefined ? { certificate: f.certificate } : {}),
    })),
    path: r.certificates.map((c) => c.sha1),
    verdict: chainVerdict(r),
  };
}

/** Returns one line saying whether the chain is trustworthy and why not. */
export function chainVerdict(r: ChainReport): string {
  const worst = r.findings.find((f) => f.severity === 'error');
  const anchor = r.anchor ? `${r.anchor.name} (${r.anchor.sha1})` : null;
  if (r.findings.some((f) => f.code === 'likely-tls-inspection')) {
    return `anchored in ${anchor ?? 'an unknown root'}, outside the documented root set: likely a TLS-inspecting proxy between client and endpoint`;
  }
  if (!r.complete) return `incomplete: ${worst?.message ?? 'no path to a root'}`;
  if (!r.verified) return `not verified: ${worst?.message ?? 'see findings'}`;
  if (!r.valid && worst)
    return `rejected by path validation: ${worst.code}: ${worst.message} (signatures verify up to ${anchor})`;
  const notes = r.findings.filter((f) => f.severity !== 'info').map((f) => f.code);
  return `verified, anchored in ${anchor}${r.anchor?.documented ? ' (documented root)' : ' (not documented)'}${r.anchor?.expired ? ', root EXPIRED' : ''}${r.hostnameMatch === false ? ', NAME MISMATCH' : ''}${notes.length ? ` [${notes.join(', ')}]` : ''}`;
}
