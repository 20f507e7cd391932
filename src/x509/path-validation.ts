/**
 * RFC 5280, Section 6.1 path validation plus the CA/Browser Forum profile for server certificates:
 * returns the findings for one candidate path (leaf first, ending at its anchor when it has one).
 * The trust anchor is checked as a CA certificate too (what strict validators such as pyca/
 * cryptography and rustls-webpki do), except for its own signature and pathLenConstraint inputs.
 * Signatures on the path are the builder's business (links); everything else is here. Never throws.
 */
import { SignatureAlgorithm } from './oids.js';
import { reached, type CheckTime } from './check-time.js';
import { OID_COMMON_NAME, displayName } from './dn.js';
import type { Finding, ChainFindingCode, Severity } from './chain-findings.js';
import { Eku, Ext, certExtras, extensionOf, type CertExtras } from './extensions.js';
import {
  MAX_NAME_CONSTRAINT_CHECKS,
  OID_EMAIL_ADDRESS,
  checkNameConstraints,
  constraintSyntaxError,
  type ConstraintBudget,
} from './name-constraints.js';
import { WINDOWS_CN_FALLBACK_NOTE, dnsNameSyntaxError, hostMatch, keyVerdict } from './web-pki.js';
import type { CertInfo } from './types.js';

/** Extensions whose meaning we process, so their being critical is fine (RFC 5280, Section 4.2: otherwise reject). */
const PROCESSED: ReadonlySet<string> = new Set([
  Ext.basicConstraints,
  Ext.keyUsage,
  Ext.extKeyUsage,
  Ext.subjectAltName,
  Ext.nameConstraints,
  Ext.certificatePolicies,
  Ext.policyConstraints,
  Ext.policyMappings,
  Ext.inhibitAnyPolicy,
  Ext.authorityKeyIdentifier,
  Ext.subjectKeyIdentifier,
]);

/** Extensions that must not be critical, with the rule. */
const MUST_NOT_BE_CRITICAL: Readonly<Record<string, string>> = {
  [Ext.authorityKeyIdentifier]: 'authorityKeyIdentifier (RFC 5280, Section 4.2.1.1: MUST NOT be critical)',
  [Ext.subjectKeyIdentifier]: 'subjectKeyIdentifier (RFC 5280, Section 4.2.1.2: MUST NOT be critical)',
  [Ext.authorityInfoAccess]: 'authorityInfoAccess (RFC 5280, Section 4.2.2.1: MUST be non-critical)',
};

/** Longest serial number, in octets (RFC 5280, Section 4.1.2.2). */
export const MAX_SERIAL_OCTETS = 20;

/** Inputs of `validatePath` besides the path. */
export interface PathContext {
  /** The check time; its span narrows with every validity bound compared (check-time.ts). */
  readonly at: CheckTime;
  /** Host name or IP the leaf must name; no name check when absent. */
  readonly host?: string;
  /** Index in the path of the trust anchor's certificate, or -1 when the path has none. */
  readonly anchorIndex: number;
  /** Most intermediates (certificates between leaf and anchor) allowed, when the caller limits it. */
  readonly maxIntermediates?: number;
  /** Extra facts already read for these certificates (shared by the candidate paths of one check). */
  readonly memo?: Map<CertInfo, CertExtras>;
}

/** Returns the findings for `path` (leaf first); see the file comment. */
export function validatePath(path: readonly CertInfo[], ctx: PathContext): Finding[] {
  const out: Finding[] = [];
  const add = (code: ChainFindingCode, severity: Severity, message: string, certificate?: number): void => {
    out.push(certificate === undefined ? { code, severity, message } : { code, severity, message, certificate });
  };
  const extras = path.map((c) => certExtras(c, ctx.memo));
  path.forEach((cert, i) => {
    const x = extras[i]!;
    const name = displayName(cert.subject);
    const isAnchor = i === ctx.anchorIndex;
    // A chain that is only a trusted root (direct trust) has no leaf to hold to the server profile.
    const isLeaf = i === 0 && !isAnchor;
    const isCa = i > 0;
    // Validity (RFC 5280, Section 4.1.2.5): notAfter is the last second of validity, fractions of it included.
    if (reached(ctx.at, cert.notAfter.getTime() + 1000)) {
      add(
        isAnchor ? 'root-expired' : 'expired',
        'error',
        `${isAnchor ? 'the root ' : ''}${name} expired on ${cert.notAfter.toISOString()}`,
        i,
      );
    }
    if (!reached(ctx.at, cert.notBefore.getTime()))
      add('not-yet-valid', 'error', `${name} is not valid before ${cert.notBefore.toISOString()}`, i);
    checkFields(cert, x, i, isAnchor, name, add);
    checkExtensionsInGeneral(x, i, name, add);
    const key = keyVerdict(cert);
    if (key) add(key.code, key.severity, `${name} has ${key.detail}`, i);
    if (!isAnchor) {
      const hash = SignatureAlgorithm[cert.signatureAlgorithmOid]?.hash;
      if (hash === 'sha1')
        add('sha1-signature', 'error', `${name} is signed with ${cert.signatureAlgorithm} (CA/B BR 7.1.3.2)`, i);
      else if (hash === 'md5' || hash === 'md2')
        add('md5-signature', 'error', `${name} is signed with ${cert.signatureAlgorithm}`, i);
    }
    checkKeyIdentifiers(cert, x, i, isCa, isAnchor, name, add);
    if (isCa) checkCa(cert, x, i, isAnchor, name, path[i - 1]!, add);
    else if (isLeaf) checkLeaf(cert, x, name, add);
    if (i === 0 && ctx.host !== undefined) checkHost(cert, ctx.host, add);
  });
  checkPathLength(path, ctx, add);
  checkPathNameConstraints(path, extras, add);
  return out;
}

type Add = (code: ChainFindingCode, severity: Severity, message: string, certificate?: number) => void;

/** RFC 5280, Section 4.1: version, serial number, signature algorithm agreement, non-empty issuer. */
function checkFields(cert: CertInfo, x: CertExtras, i: number, isAnchor: boolean, name: string, add: Add): void {
  if (cert.version !== 3)
    add(
      'version-not-v3',
      'error',
      `${name} is an X.509 v${cert.version} certificate (RFC 5280, Section 4.1.2.1 and CA/B BR 7.1.1: v3 with extensions)`,
      i,
    );
  // A trust anchor is an input (RFC 5280, Section 6.1.1 (d)): its serial is its issuer's business.
  const s = isAnchor ? new Uint8Array([1]) : x.serial;
  if (s.length > 0 && s[0]! & 0x80)
    add(
      'serial-number-invalid',
      'error',
      `${name} has a negative serial number (RFC 5280, Section 4.1.2.2: a positive integer)`,
      i,
    );
  else if (s.every((b) => b === 0))
    add(
      'serial-number-invalid',
      'error',
      `${name} has serial number zero (RFC 5280, Section 4.1.2.2: a positive integer)`,
      i,
    );
  else if (s.length - (s[0] === 0 ? 1 : 0) > MAX_SERIAL_OCTETS)
    add(
      'serial-number-invalid',
      'error',
      `${name} has a serial number longer than ${MAX_SERIAL_OCTETS} octets (RFC 5280, Section 4.1.2.2)`,
      i,
    );
  if (Buffer.compare(x.tbsSignatureAlgorithm, x.outerSignatureAlgorithm) !== 0) {
    add(
      'signature-algorithm-mismatch',
      'error',
      `${name}: TBSCertificate.signature differs from signatureAlgorithm (RFC 5280, Section 4.1.1.2: MUST be the same)`,
      i,
    );
  }
  if (cert.issuer.parts.length === 0)
    add('empty-issuer', 'error', `${name} has an empty issuer name (RFC 5280, Section 4.1.2.4: MUST be non-empty)`, i);
}

/** RFC 5280, Section 4.2: one instance per extension, decodable values, critical only when understood. */
function checkExtensionsInGeneral(x: CertExtras, i: number, name: string, add: Add): void {
  for (const oid of x.duplicates)
    add('duplicate-extension', 'error', `${name} has extension ${oid} more than once (RFC 5280, Section 4.2)`, i);
  for (const m of x.malformed)
    add('malformed-extension', 'error', `${name}: extension ${m.oid} does not decode: ${m.detail}`, i);
  for (const e of x.extensions) {
    if (e.critical && !PROCESSED.has(e.oid) && !MUST_NOT_BE_CRITICAL[e.oid]) {
      add(
        'unknown-critical-extension',
        'error',
        `${name} has critical extension ${e.oid}, which tlsprobe does not process (RFC 5280, Section 4.2: reject)`,
        i,
      );
    }
    const rule = MUST_NOT_BE_CRITICAL[e.oid];
    if (e.critical && rule) add('extension-criticality', 'error', `${name} marks ${rule}`, i);
  }
}

/** RFC 5280, Sections 4.2.1.1/4.2.1.2 and CA/B BR 7.1.2: AKI on all but self-signed anchors, SKI on CAs, AKI with keyIdentifier only. */
function checkKeyIdentifiers(
  cert: CertInfo,
  x: CertExtras,
  i: number,
  isCa: boolean,
  isAnchor: boolean,
  name: string,
  add: Add,
): void {
  const aki = extensionOf(x, Ext.authorityKeyIdentifier);
  // Not asked of trust anchors, self-signed or cross-signed: they are inputs (RFC 5280, Section 6.1.1 (d)).
  if (!aki && !isAnchor)
    add(
      'missing-aki',
      'error',
      `${name} has no authorityKeyIdentifier (RFC 5280, Section 4.2.1.1: MUST be present except in self-signed roots)`,
      i,
    );
  if (isCa && !extensionOf(x, Ext.subjectKeyIdentifier))
    add(
      'missing-ski',
      'error',
      `${name} is a CA without subjectKeyIdentifier (RFC 5280, Section 4.2.1.2: MUST appear in CA certificates)`,
      i,
    );
  if (x.aki && (!x.aki.keyIdentifier || x.aki.authorityCertIssuer || x.aki.authorityCertSerialNumber)) {
    add(
      'aki-fields',
      'error',
      `${name}: authorityKeyIdentifier ${x.aki.keyIdentifier ? 'has authorityCertIssuer/authorityCertSerialNumber' : 'lacks keyIdentifier'} (CA/B BR 7.1.2: keyIdentifier only)`,
      i,
    );
  }
  if (
    isAnchor &&
    cert.selfIssued &&
    cert.authorityKeyId !== null &&
    cert.subjectKeyId !== null &&
    cert.authorityKeyId !== cert.subjectKeyId
  ) {
    add(
      'aki-ski-mismatch',
      'error',
      `the self-signed ${name} has an authorityKeyIdentifier that is not its own subjectKeyIdentifier`,
      i,
    );
  }
}

/** RFC 5280, Sections 4.2.1.3, 4.2.1.9, 4.2.1.10, 4.2.1.11, 6.1.4 (k)(n); CA/B BR 7.1.2 for issuing CAs and roots. */
function checkCa(
  cert: CertInfo,
  x: CertExtras,
  i: number,
  isAnchor: boolean,
  name: string,
  below: CertInfo,
  add: Add,
): void {
  const issues = `${name} issues ${displayName(below.subject)} but`;
  if (cert.subject.parts.length === 0)
    add('empty-subject', 'error', `a CA certificate has an empty subject (RFC 5280, Section 4.1.2.6)`, i);
  const bc = cert.basicConstraints;
  const bcExt = extensionOf(x, Ext.basicConstraints);
  if (!bc?.ca)
    add(
      'not-a-ca',
      'error',
      `${issues} is not a CA (basicConstraints ${bc ? 'cA=false' : 'absent'}; RFC 5280, Section 6.1.4 (k))`,
      i,
    );
  else if (bcExt && !bcExt.critical)
    add(
      'basic-constraints-not-critical',
      'error',
      `${name}: basicConstraints is not critical (RFC 5280, Section 4.2.1.9: MUST be critical in CA certificates)`,
      i,
    );
  if (cert.keyUsage && !cert.keyUsage.includes('keyCertSign'))
    add('not-a-ca', 'error', `${issues} its keyUsage lacks keyCertSign (RFC 5280, Section 4.2.1.3)`, i);
  if (x.eku) {
    if (isAnchor)
      add(
        'root-has-eku',
        'error',
        `the root ${name} carries an extendedKeyUsage (CA/B BR 7.1.2.1: root certificates MUST NOT)`,
        i,
      );
    else if (!x.eku.includes(Eku.serverAuth) && !x.eku.includes(Eku.anyExtendedKeyUsage)) {
      add('eku-not-server-auth', 'error', `${name} restricts its extendedKeyUsage to purposes without serverAuth`, i);
    }
  }
  const ncExt = extensionOf(x, Ext.nameConstraints);
  if (ncExt && x.nameConstraints) {
    const bad = constraintSyntaxError(x.nameConstraints);
    if (bad)
      add('name-constraints-invalid', 'error', `${name}: nameConstraints ${bad} (RFC 5280, Section 4.2.1.10)`, i);
    if (!ncExt.critical)
      add(
        'name-constraints-not-critical',
        'warning',
        `${name}: nameConstraints is not critical (RFC 5280, Section 4.2.1.10: MUST be critical; CA/B BR 7.1.2.5.2 allows non-critical, and it is processed either way)`,
        i,
      );
  }
  const pc = extensionOf(x, Ext.policyConstraints);
  if (pc && !pc.critical)
    add(
      'policy-constraints-not-critical',
      'error',
      `${name}: policyConstraints is not critical (RFC 5280, Section 4.2.1.11: MUST be critical)`,
      i,
    );
}

/** The server certificate: CA/B BR 7.1.2.7 (subscriber certificates) and RFC 5280 Section 4.2.1.6. */
function checkLeaf(cert: CertInfo, x: CertExtras, name: string, add: Add): void {
  const ca = cert.basicConstraints?.ca === true;
  const certSign = cert.keyUsage?.includes('keyCertSign') === true;
  if (ca && certSign) {
    add(
      'leaf-is-ca',
      'warning',
      `the leaf ${name} is a CA certificate used as a server certificate: RFC 5280 allows it (Section 4.2.1.9), CA/B BR 7.1.2.7.8 does not, and strict Web PKI validators reject it`,
      0,
    );
  } else if (certSign) {
    add(
      'ca-flags-inconsistent',
      'error',
      `the leaf ${name} asserts keyCertSign without cA=TRUE (RFC 5280, Section 4.2.1.3: "the cA bit ... MUST also be asserted")`,
      0,
    );
  } else if (ca && cert.keyUsage) {
    add(
      'ca-flags-inconsistent',
      'error',
      `the leaf ${name} asserts cA=TRUE but its keyUsage lacks keyCertSign (RFC 5280, Section 4.2.1.9; CA/B BR 7.1.2.7.8: a server certificate's cA MUST be false)`,
      0,
    );
  }
  const ekuExt = extensionOf(x, Ext.extKeyUsage);
  if (!ekuExt)
    add(
      'eku-absent',
      'warning',
      `the leaf ${name} has no extendedKeyUsage; RFC 5280 and Windows accept it for any purpose, CA/B BR 7.1.2.7.10 requires serverAuth`,
      0,
    );
  else if (x.eku) {
    if (!x.eku.includes(Eku.serverAuth)) {
      add(
        'eku-not-server-auth',
        'error',
        `the leaf ${name} has extendedKeyUsage without serverAuth (RFC 5280, Section 4.2.1.12)`,
        0,
      );
    }
    if (x.eku.includes(Eku.anyExtendedKeyUsage)) {
      add(
        'eku-not-server-auth',
        'error',
        `the leaf ${name} has anyExtendedKeyUsage, which CA/B BR 7.1.2.7.10 forbids in server certificates`,
        0,
      );
    }
    if (ekuExt.critical)
      add(
        'eku-critical',
        'error',
        `the leaf ${name} marks extendedKeyUsage critical (CA/B BR 7.1.2.7.10: non-critical)`,
        0,
      );
  }
  if (extensionOf(x, Ext.nameConstraints))
    add(
      'name-constraints-in-leaf',
      'error',
      `the leaf ${name} has nameConstraints (RFC 5280, Section 4.2.1.10: only in CA certificates)`,
      0,
    );
  const sanExt = extensionOf(x, Ext.subjectAltName);
  if (!sanExt) {
    add(
      'san-missing',
      'error',
      `the leaf ${name} has no subjectAltName (CA/B BR 7.1.2.7.12: MUST be present; the subject CN is not a server name)`,
      0,
    );
  } else {
    const emptySubject = cert.subject.parts.length === 0;
    if (emptySubject !== sanExt.critical) {
      add(
        'san-criticality',
        'error',
        `the leaf's subjectAltName is ${sanExt.critical ? 'critical with a non-empty subject' : 'not critical although the subject is empty'} (RFC 5280, Section 4.2.1.6)`,
        0,
      );
    }
    for (const g of x.san ?? []) {
      if (g.kind === 'ip' && g.bytes.length !== 4 && g.bytes.length !== 16)
        add(
          'san-invalid',
          'error',
          `the leaf has an iPAddress entry of ${g.bytes.length} octets (RFC 5280, Section 4.2.1.6: 4 or 16)`,
          0,
        );
      if (g.kind !== 'dns') continue;
      const why = dnsNameSyntaxError(g.value);
      if (why)
        add(
          why.includes('public suffix') ? 'wildcard-public-suffix' : 'san-invalid',
          'error',
          `the leaf's dNSName ${JSON.stringify(g.value)} ${why}`,
          0,
        );
    }
  }
  const cn = cnNotInSan(cert);
  if (cn)
    add(
      'cn-not-in-san',
      'error',
      `the leaf's subject CN ${JSON.stringify(cn)} is not one of its subjectAltName entries (CA/B BR 7.1.4.3: exactly one SAN value, IPs in canonical text)`,
      0,
    );
}

/** RFC 9525/6125 server identity: a subjectAltName entry must name `host`; the CN does not count. */
function checkHost(cert: CertInfo, host: string, add: Add): void {
  const m = hostMatch(cert, host);
  if (m === 'san') return;
  const names = [...cert.san.dns, ...cert.san.ip];
  const says = names.length > 0 ? `it names ${names.join(', ')}` : `it has no DNS or IP subjectAltName`;
  add(
    'name-mismatch',
    'error',
    `the certificate is not valid for ${host} (${says})${m === 'cn-only' ? `; only its subject CN matches. ${WINDOWS_CN_FALLBACK_NOTE}` : ''}`,
    0,
  );
}

/** RFC 5280, Section 6.1.4 (l)(m): pathLenConstraint counts non-self-issued intermediates below a CA; plus the caller's depth limit. */
function checkPathLength(path: readonly CertInfo[], ctx: PathContext, add: Add): void {
  let below = 0;
  for (let i = 1; i < path.length; i++) {
    const cert = path[i]!;
    const pl = cert.basicConstraints?.pathLen;
    if (pl !== null && pl !== undefined && below > pl) {
      add(
        'path-length-exceeded',
        'error',
        `${displayName(cert.subject)} allows ${pl} intermediate CA(s) below it, the path has ${below}`,
        i,
      );
    }
    if (!cert.selfIssued) below++;
  }
  if (ctx.maxIntermediates !== undefined) {
    // Counted like pathLenConstraint: self-issued intermediates (key rollover) do not count.
    const end = ctx.anchorIndex >= 0 ? ctx.anchorIndex : path.length;
    const intermediates = path.slice(1, end).filter((c) => !c.selfIssued).length;
    if (intermediates > ctx.maxIntermediates)
      add(
        'max-depth-exceeded',
        'error',
        `the path has ${intermediates} intermediate(s), more than the ${ctx.maxIntermediates} allowed`,
      );
  }
}

/**
 * RFC 5280, Section 6.1.3 (b)(c) and 6.1.4 (g): every certificate below a CA with nameConstraints
 * must satisfy them, except self-issued intermediates (the leaf always). Checking each CA's
 * constraints separately is the intersection Section 6.1.4 (g) computes.
 */
function checkPathNameConstraints(path: readonly CertInfo[], extras: readonly CertExtras[], add: Add): void {
  const budget: ConstraintBudget = { remaining: MAX_NAME_CONSTRAINT_CHECKS };
  for (let j = 1; j < path.length; j++) {
    const nc = extras[j]!.nameConstraints;
    if (!nc) continue;
    for (let i = 0; i < j; i++) {
      const cert = path[i]!;
      if (i > 0 && cert.selfIssued) continue;
      const x = extras[i]!;
      const subjectEmails = cert.subject.parts.filter((p) => p.oid === OID_EMAIL_ADDRESS).map((p) => p.value);
      const r = checkNameConstraints({ san: x.san ?? [], subject: x.subjectRdns, subjectEmails }, nc, budget);
      if (!r.ok) {
        add(
          r.code,
          'error',
          `${displayName(cert.subject)} breaks the name constraints of ${displayName(path[j]!.subject)}: ${r.detail}`,
          i,
        );
        if (r.code === 'name-constraints-too-complex') return;
      }
    }
  }
}

/**
 * Returns the leaf's subject CN when it names a host its subjectAltName does not list, else `null`.
 * CA/B BR 7.1.4.3: the CN, if present, "MUST contain exactly one entry that is one of the values
 * contained in the Certificate's subjectAltName extension", IP addresses in canonical text (dotted
 * quad; RFC 5952 for IPv6). A CN that reads as an IP address (any inet_aton or IPv6 spelling) must
 * be the canonical text of an iPAddress entry; a CN that reads as a DNS name (it has a dot) must be
 * a dNSName entry exactly (no case folding, no IDN conversion) or, the pre-2017 form validators
 * still accept, the domain the dNSName entries lie under. A CN of a kind the SAN does not list
 * (an organisation label, a DNS name beside IP-only entries) is not a host claim and is left alone.
 */
function cnNotInSan(cert: CertInfo): string | null {
  for (const { oid, value } of cert.subject.parts) {
    if (oid !== OID_COMMON_NAME) continue;
    if (IP_LIKE_V4.test(value) || IP_LIKE_V6.test(value)) {
      if (cert.san.ip.length > 0 && !cert.san.ip.includes(value)) return value;
      continue;
    }
    if (!value.includes('.') || cert.san.dns.length === 0) continue;
    const under = cert.san.dns.some((d) => {
      const host = d.startsWith('*.') ? d.slice(2) : d;
      return d === value || host === value || host.endsWith(`.${value}`);
    });
    if (!under) return value;
  }
  return null;
}

/** IPv4 as inet_aton reads it: 1–4 parts, each decimal, octal or 0x-hex. */
const IP_LIKE_V4 = /^(?:0x[0-9a-f]+|\d+)(?:\.(?:0x[0-9a-f]+|\d+)){0,3}$/i;
/** IPv6 in any spelling: hex groups and colons, optionally a dotted IPv4 tail. */
const IP_LIKE_V6 = /^[0-9a-f:]*:[0-9a-f:]*(?:\d+\.\d+\.\d+\.\d+)?$/i;
