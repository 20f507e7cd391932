/**
 * Chain building and checking: returns a `ChainReport` for the certificates a server sent — the
 * path from the leaf to a root, whether every signature on it verifies, where it is anchored, and
 * findings for everything odd. Never throws: undecodable certificates become findings.
 *
 * The path builder follows PeculiarVentures/x509's X509ChainBuilder: for each certificate, find an
 * issuer whose subject matches its issuer name (RFC 5280, Section 7.1), whose SubjectKeyIdentifier
 * agrees with its AuthorityKeyIdentifier (Section 4.2.1.1), and whose key verifies its signature;
 * stop at a root of the trusted set (by thumbprint, or by name and key when the server did not send
 * it) or at a self-signed certificate; stop cycles by thumbprint.
 */
import { DecodeError } from '../wire/errors.js';
import { equalBytes } from '../wire/hex.js';
import { parseCertificate } from './der.js';
import { displayName, sameName } from './dn.js';
import { matchesHostname } from './hostname.js';
import { SignatureAlgorithm } from './oids.js';
import { loadDocumentedRoots, type TrustedRoot } from './roots.js';
import { verifyCertificateSignature, type SignatureCheck } from './signature.js';
import type { CertInfo } from './types.js';

/** Stable finding codes (`--json` users key on them). */
export type ChainFindingCode =
  | 'empty-chain'
  | 'too-many-certificates'
  | 'unparseable-certificate'
  | 'duplicate-certificate'
  | 'extra-certificates'
  | 'out-of-order'
  | 'missing-intermediate'
  | 'bad-signature'
  | 'unsupported-signature'
  | 'self-signed-leaf'
  | 'anchor-not-documented'
  | 'likely-tls-inspection'
  | 'root-expired'
  | 'expired'
  | 'not-yet-valid'
  | 'not-a-ca'
  | 'path-length-exceeded'
  | 'weak-key'
  | 'sha1-signature'
  | 'md5-signature'
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

/** The root a path ends at. */
export interface ChainAnchor {
  readonly name: string;
  readonly sha1: string;
  /** True when the root is one of the documented roots. */
  readonly documented: boolean;
  /** True when the root is past its notAfter at the check time. */
  readonly expired: boolean;
  /** True when the root is in the `roots` the check was given; false for a self-signed root found only in what the server sent. */
  readonly trusted: boolean;
  /** True when the server sent the root; false when it came from `roots`. */
  readonly sent: boolean;
}

/** What `checkChain` found: the path, its anchor, the verdicts and the findings. */
export interface ChainReport {
  /** Where the path ends: a root of `roots`, or a self-signed certificate the server sent; `null` when it ends elsewhere. */
  readonly anchor: ChainAnchor | null;
  /** True when the path is complete, anchored in `roots`, and every signature on it verifies. Validity dates, names and key strength are findings, not part of this. */
  readonly verified: boolean;
  /** True when the path reaches a root of `roots` or a self-signed certificate (no missing intermediate). */
  readonly complete: boolean;
  /** Whether the leaf names `opts.host` (RFC 6125); `null` when no host was given. */
  readonly hostnameMatch: boolean | null;
  /** The path in chain order, leaf first; ends with the anchor's certificate when it is known (sent or from `roots`). */
  readonly certificates: CertInfo[];
  /** Certificates the server sent that are not on the path (unrelated extras, duplicates excluded). */
  readonly unused: CertInfo[];
  readonly findings: Finding[];
}

/** Inputs of `checkChain` besides the certificates. */
export interface CheckChainOptions {
  /** Host name or IP address the client connected to; enables the name check. */
  readonly host?: string;
  /** Time at which validity is judged; defaults to now. */
  readonly at?: Date;
  /** Roots a path may be anchored in; defaults to the documented roots. */
  readonly roots?: readonly TrustedRoot[];
}

/**
 * Most certificates we look at from one server. TLS servers send 1–5; the path search verifies up
 * to n² signatures, so a hostile list must not be long.
 */
export const MAX_CHAIN_CERTIFICATES = 32;

/** Longest path we build, leaf and root included (real Web PKI paths have 2–4 certificates). */
export const MAX_PATH_LENGTH = 10;

/** Smallest RSA/DSA modulus we call strong (CA/B Forum Baseline Requirements, Section 6.1.5). */
export const MIN_RSA_BITS = 2048;

/** Smallest EC key we call strong (CA/B Forum Baseline Requirements, Section 6.1.5: P-256). */
export const MIN_EC_BITS = 256;

const rootCertCache = new WeakMap<TrustedRoot, CertInfo | null>();

function rootCert(root: TrustedRoot): CertInfo | null {
  let c = rootCertCache.get(root);
  if (c === undefined) {
    c = null;
    if (root.der) {
      try {
        c = parseCertificate(root.der);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }
    rootCertCache.set(root, c);
  }
  return c;
}

/**
 * Returns the report for the certificates `ders` a server sent (leaf first, as in the TLS
 * Certificate message: RFC 8446, Section 4.4.2; RFC 5246, Section 7.4.2). The rest may come in
 * any order and include extras; the root may be missing. See `ChainReport` for what is decided.
 */
export function checkChain(ders: readonly Uint8Array[], opts: CheckChainOptions = {}): ChainReport {
  const at = opts.at ?? new Date();
  const roots = opts.roots ?? loadDocumentedRoots();
  const findings: Finding[] = [];
  const add = (code: ChainFindingCode, severity: Severity, message: string, certificate?: number): void => {
    findings.push(certificate === undefined ? { code, severity, message } : { code, severity, message, certificate });
  };

  if (ders.length === 0) {
    add('empty-chain', 'error', 'the server sent no certificate');
    return { anchor: null, verified: false, complete: false, hostnameMatch: opts.host === undefined ? null : false, certificates: [], unused: [], findings };
  }
  if (ders.length > MAX_CHAIN_CERTIFICATES) {
    add('too-many-certificates', 'error', `the server sent ${ders.length} certificates; only the first ${MAX_CHAIN_CERTIFICATES} were examined`);
  }

  // Decode what was sent; drop duplicates (same SHA-256) and what cannot be decoded.
  const sent: { cert: CertInfo; index: number }[] = [];
  const seen = new Set<string>();
  ders.slice(0, MAX_CHAIN_CERTIFICATES).forEach((der, index) => {
    let cert: CertInfo;
    try {
      cert = parseCertificate(der);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      add('unparseable-certificate', 'error', `certificate #${index} sent by the server cannot be decoded: ${e.message}`);
      return;
    }
    if (seen.has(cert.sha256)) {
      add('duplicate-certificate', 'info', `certificate #${index} (${displayName(cert.subject)}) was sent more than once`);
      return;
    }
    seen.add(cert.sha256);
    sent.push({ cert, index });
  });
  const leafEntry = sent[0];
  if (!leafEntry || leafEntry.index !== 0) {
    return { anchor: null, verified: false, complete: false, hostnameMatch: opts.host === undefined ? null : false, certificates: [], unused: sent.map((s) => s.cert), findings };
  }

  const trustedByThumbprint = (c: CertInfo): TrustedRoot | undefined =>
    roots.find((r) => r.sha1 === c.sha1 || (r.sha256 !== null && r.sha256 === c.sha256)) ??
    roots.find((r) => {
      // Same name and same key is the same trust anchor (RFC 5280, Section 6.1.1 (d)): a re-issued or cross-signed copy.
      const rc = rootCert(r);
      return rc !== null && sameName(rc.subject, c.subject) && equalBytes(rc.spki, c.spki);
    });

  // Build the path.
  const path: CertInfo[] = [leafEntry.cert];
  const links: SignatureCheck[] = []; // links[i]: path[i] checked with path[i + 1]'s key
  const used = new Set<string>([leafEntry.cert.sha256]);
  let anchorRoot: TrustedRoot | undefined;
  let anchorSent = true;
  let selfSignedTop = false;
  for (;;) {
    const current = path[path.length - 1]!;
    const trusted = trustedByThumbprint(current);
    if (trusted) {
      anchorRoot = trusted;
      break;
    }
    if (path.length >= MAX_PATH_LENGTH) break;
    // Issuer candidates: sent certificates first (in the order sent), then roots not sent.
    const candidates: { cert: CertInfo; root?: TrustedRoot }[] = [];
    for (const s of sent) if (!used.has(s.cert.sha256) && couldIssue(s.cert, current)) candidates.push({ cert: s.cert });
    for (const r of roots) {
      const rc = rootCert(r);
      if (rc && !used.has(rc.sha256) && couldIssue(rc, current)) candidates.push({ cert: rc, root: r });
    }
    let chosen: { cert: CertInfo; root?: TrustedRoot; check: SignatureCheck } | undefined;
    for (const c of candidates) {
      const check = verifyCertificateSignature(current, c.cert);
      if (check.status === 'valid') {
        chosen = { ...c, check };
        break;
      }
      chosen ??= { ...c, check };
    }
    if (!chosen) {
      if (current.selfIssued && verifyCertificateSignature(current, current).status === 'valid') selfSignedTop = true;
      break;
    }
    path.push(chosen.cert);
    links.push(chosen.check);
    used.add(chosen.cert.sha256);
    if (chosen.root) {
      anchorRoot = chosen.root;
      anchorSent = false;
      break;
    }
  }

  const top = path[path.length - 1]!;
  const topIndex = path.length - 1;
  const complete = anchorRoot !== undefined || selfSignedTop;
  const selfSignedLeaf = selfSignedTop && path.length === 1;
  const isAnchorPosition = (i: number): boolean => i === topIndex && complete && !selfSignedLeaf;

  // Anchor.
  let anchor: ChainAnchor | null = null;
  if (anchorRoot) {
    const notAfter = anchorRoot.notAfter ?? top.notAfter;
    anchor = {
      name: anchorRoot.name,
      sha1: anchorRoot.sha1,
      documented: anchorRoot.documented,
      expired: at.getTime() > notAfter.getTime(),
      trusted: true,
      sent: anchorSent,
    };
  } else if (selfSignedTop && !selfSignedLeaf) {
    anchor = { name: displayName(top.subject), sha1: top.sha1, documented: false, expired: at.getTime() > top.notAfter.getTime(), trusted: false, sent: true };
  }

  // Path-level findings.
  if (selfSignedLeaf) {
    add('self-signed-leaf', 'error', `the leaf ${displayName(top.subject)} is self-signed and not a root of the set`, 0);
  } else if (!complete) {
    add(
      'missing-intermediate',
      'error',
      path.length >= MAX_PATH_LENGTH
        ? `no root reached within ${MAX_PATH_LENGTH} certificates`
        : `the issuer of ${displayName(top.subject)} (${top.issuer.rfc4514}) was not sent and is not a root of the set`,
      topIndex,
    );
  }
  if (anchor && !anchor.documented) {
    add('anchor-not-documented', 'warning', `the chain ends at ${anchor.name} (SHA-1 ${anchor.sha1}), which is not a documented root`, topIndex);
  }
  links.forEach((check, i) => {
    if (check.status === 'invalid') add('bad-signature', 'error', `${displayName(path[i]!.subject)}: ${check.detail}`, i);
    else if (check.status === 'unsupported') add('unsupported-signature', 'warning', `${displayName(path[i]!.subject)}: ${check.detail}`, i);
  });
  const signaturesValid = links.every((c) => c.status === 'valid');
  if (anchor && !anchor.trusted && signaturesValid) {
    add(
      'likely-tls-inspection',
      'warning',
      `the chain verifies up to ${anchor.name}, a self-signed root that is not in the root set: this is what a TLS-inspecting proxy presents`,
      topIndex,
    );
  }

  // Per-certificate findings.
  let nonSelfIssuedBelow = 0; // RFC 5280, Section 6.1.4 (l): intermediates counted toward pathLenConstraint
  path.forEach((cert, i) => {
    const name = displayName(cert.subject);
    const anchorHere = isAnchorPosition(i);
    if (at.getTime() > cert.notAfter.getTime()) {
      if (anchorHere) add('root-expired', 'error', `the root ${anchor?.name ?? name} expired on ${cert.notAfter.toISOString()}`, i);
      else add('expired', 'error', `${name} expired on ${cert.notAfter.toISOString()}`, i);
    } else if (anchorHere && anchorRoot?.notAfter && at.getTime() > anchorRoot.notAfter.getTime()) {
      add('root-expired', 'error', `the root ${anchorRoot.name} expired on ${anchorRoot.notAfter.toISOString()}`, i);
    }
    if (at.getTime() < cert.notBefore.getTime()) add('not-yet-valid', 'error', `${name} is not valid before ${cert.notBefore.toISOString()}`, i);
    const weak = weakKey(cert);
    if (weak) add('weak-key', 'error', `${name} has a ${weak}`, i);
    // The anchor's own signature is not part of the path (RFC 5280, Section 6.1: trust anchors are inputs).
    if (i < topIndex || (!complete && i === topIndex)) {
      const hash = SignatureAlgorithm[cert.signatureAlgorithmOid]?.hash;
      if (hash === 'sha1') add('sha1-signature', 'error', `${name} is signed with ${cert.signatureAlgorithm}`, i);
      else if (hash === 'md5' || hash === 'md2') add('md5-signature', 'error', `${name} is signed with ${cert.signatureAlgorithm}`, i);
    }
    if (i > 0) {
      // RFC 5280, Section 6.1.4 (k) and (n): an intermediate must be a CA allowed to sign
      // certificates. A trust anchor is an input, not a path certificate (Section 6.1.1 (d)): only
      // an explicit cA=false is reported for it.
      const bc = cert.basicConstraints;
      if (bc ? !bc.ca : !anchorHere) {
        add('not-a-ca', 'error', `${name} issues ${displayName(path[i - 1]!.subject)} but is not a CA (basicConstraints ${bc ? 'cA=false' : 'absent'})`, i);
      } else if (!anchorHere && cert.keyUsage && !cert.keyUsage.includes('keyCertSign')) {
        add('not-a-ca', 'error', `${name} issues ${displayName(path[i - 1]!.subject)} but its keyUsage lacks keyCertSign (RFC 5280, Section 4.2.1.3)`, i);
      }
      if (bc?.pathLen !== null && bc?.pathLen !== undefined && nonSelfIssuedBelow > bc.pathLen) {
        add('path-length-exceeded', 'error', `${name} allows ${bc.pathLen} intermediate CA(s) below it, the path has ${nonSelfIssuedBelow}`, i);
      }
      if (!cert.selfIssued) nonSelfIssuedBelow++;
    }
  });

  // What the server sent versus the path.
  const onPath = new Set(path.map((c) => c.sha256));
  const unused = sent.filter((s) => !onPath.has(s.cert.sha256)).map((s) => s.cert);
  if (unused.length > 0) {
    add('extra-certificates', 'info', `the server sent ${unused.length} certificate(s) not on the path: ${unused.map((c) => displayName(c.subject)).join(', ')}`);
  }
  const sentOrder = path.map((c) => sent.find((s) => s.cert.sha256 === c.sha256)?.index).filter((x): x is number => x !== undefined);
  if (sentOrder.some((v, i) => i > 0 && v < sentOrder[i - 1]!)) {
    add('out-of-order', 'warning', `the server sent the chain out of order (sent positions in path order: ${sentOrder.join(', ')}); RFC 5246, Section 7.4.2 requires each certificate to certify the one before`);
  }

  // The name check.
  let hostnameMatch: boolean | null = null;
  if (opts.host !== undefined) {
    hostnameMatch = matchesHostname(leafEntry.cert, opts.host);
    if (!hostnameMatch) {
      const leaf = leafEntry.cert;
      const names = leaf.san.dns.length + leaf.san.ip.length > 0 ? [...leaf.san.dns, ...leaf.san.ip].join(', ') : `CN ${displayName(leaf.subject)}`;
      add('name-mismatch', 'error', `the certificate is not valid for ${opts.host} (it names ${names})`, 0);
    }
  }

  return {
    anchor,
    verified: complete && anchor !== null && anchor.trusted && signaturesValid,
    complete,
    hostnameMatch,
    certificates: path,
    unused,
    findings,
  };
}

/**
 * True when `issuer` may have issued `cert`: its subject is `cert`'s issuer name and, when both key
 * identifiers are present, its SubjectKeyIdentifier equals `cert`'s AuthorityKeyIdentifier.
 */
function couldIssue(issuer: CertInfo, cert: CertInfo): boolean {
  if (!sameName(issuer.subject, cert.issuer)) return false;
  const aki = cert.authorityKeyId;
  const ski = issuer.subjectKeyId;
  return aki === null || ski === null || aki === ski;
}

/** Returns a description of a key below `MIN_RSA_BITS`/`MIN_EC_BITS`, or `null` when the key is strong enough or its size unknown. */
function weakKey(cert: CertInfo): string | null {
  const bits = cert.keyBits;
  if (bits === null) return null;
  if ((cert.keyType === 'RSA' || cert.keyType === 'RSA-PSS' || cert.keyType === 'DSA') && bits < MIN_RSA_BITS) {
    return `${bits}-bit ${cert.keyType} key (minimum ${MIN_RSA_BITS})`;
  }
  if (cert.keyType === 'EC' && bits < MIN_EC_BITS) return `${bits}-bit EC key (minimum ${MIN_EC_BITS})`;
  return null;
}
