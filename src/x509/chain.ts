/**
 * Chain checking: returns a `ChainReport` for the certificates a server sent — the path from the
 * leaf to a root, whether every signature on it verifies, where it is anchored, whether it passes
 * RFC 5280 path validation and the CA/B Forum server profile, and findings for everything odd.
 * Never throws: undecodable certificates become findings.
 *
 * Paths come from `buildPaths` (path-builder.ts: depth first, trusted roots before sent copies,
 * bounded), each is validated by `validatePath` (path-validation.ts), and the first valid one is
 * the answer; when none is valid, the best-anchored one with the fewest errors is reported and the
 * others are listed as `alternative-path-rejected`. Roots come in three kinds: the trusted set
 * (`roots`: the documented roots by default), public roots the check recognises (`publicRoots`:
 * Node's bundled Mozilla store by default; trusted too when `roots` is the default, so that a chain
 * to a public root outside the documented set says so by name instead of `missing-intermediate`),
 * and self-signed certificates the server sent (never trusted: `likely-tls-inspection`).
 */
import { DecodeError } from '../wire/errors.js';
import { parseCertificate } from './der.js';
import { displayName } from './dn.js';
import type { ChainFindingCode, Finding, Severity } from './chain-findings.js';
import { certExtras, type CertExtras } from './extensions.js';
import {
  MAX_PATH_LENGTH,
  buildPaths,
  indexAnchors,
  mapAnchors,
  nameKey,
  type AnchorEntry,
  type AnchorIndex,
  type AnchorMaps,
  type BuildStats,
  type CandidatePath,
} from './path-builder.js';
import { validatePath } from './path-validation.js';
import { checkTime, reached, type CheckTime } from './check-time.js';
import { loadDocumentedRoots, nodeRoots, parsedRootCertificate, type TrustedRoot } from './roots.js';
import type { CertInfo } from './types.js';

export type { ChainFindingCode, Finding, Severity } from './chain-findings.js';
export { MAX_PATH_LENGTH } from './path-builder.js';
export { MIN_RSA_BITS } from './web-pki.js';

/** The root a path ends at. */
export interface ChainAnchor {
  readonly name: string;
  readonly sha1: string;
  /** True when the root is one of the documented roots. */
  readonly documented: boolean;
  /** True when the root is past its notAfter at the check time. */
  readonly expired: boolean;
  /** True when the root is trusted for this check (in `roots`, or a public root when `roots` is the default). */
  readonly trusted: boolean;
  /** True when the server sent the root; false when it came from a root store. */
  readonly sent: boolean;
  /** True when the root is one of the recognised public roots (`publicRoots`). */
  readonly public: boolean;
}

/** What `checkChain` found: the path, its anchor, the verdicts and the findings. */
export interface ChainReport {
  /** Where the path ends: a root of a store, or a self-signed certificate the server sent; `null` when it ends elsewhere. */
  readonly anchor: ChainAnchor | null;
  /** True when the path is complete, anchored in a trusted root, and every signature on it verifies. */
  readonly verified: boolean;
  /** True when `verified` and no finding is an error: the verdict of a strict RFC 5280 + CA/B Forum validator. */
  readonly valid: boolean;
  /** True when the path reaches a root or a self-signed certificate (no missing intermediate). */
  readonly complete: boolean;
  /** Whether the leaf's subjectAltName names `opts.host`; `null` when no host was given. */
  readonly hostnameMatch: boolean | null;
  /** The path in chain order, leaf first; ends with the anchor's certificate when it is known. */
  readonly certificates: CertInfo[];
  /** Certificates the server sent that are not on the path (unrelated extras, duplicates excluded). */
  readonly unused: CertInfo[];
  /** How many candidate paths were examined (1 for an ordinary chain). */
  readonly pathsExamined: number;
  readonly findings: Finding[];
}

/** Inputs of `checkChain` besides the certificates. */
export interface CheckChainOptions {
  /** Host name or IP address the client connected to; enables the name check. */
  readonly host?: string;
  /** Time at which validity is judged; defaults to now. */
  readonly at?: Date;
  /** Trusted roots; defaults to the documented roots. */
  readonly roots?: readonly TrustedRoot[];
  /**
   * Public roots recognised by name (default: Node's bundled store, `tls.rootCertificates`). They
   * are trusted when `roots` is left to its default, and only recognised when `roots` is given.
   */
  readonly publicRoots?: readonly TrustedRoot[];
  /** Most intermediates a path may have (x509-limbo's max_chain_depth); unlimited by default. */
  readonly maxIntermediates?: number;
}

/**
 * Most certificates we look at from one server. TLS servers send 1–5; the path search verifies a
 * signature per issuer candidate, so a hostile list must not be long.
 */
export const MAX_CHAIN_CERTIFICATES = 32;

const rootCertCache = new WeakMap<TrustedRoot, CertInfo | null>();

function rootCert(root: TrustedRoot): CertInfo | null {
  let c = rootCertCache.get(root);
  if (c === undefined) {
    c = parsedRootCertificate(root) ?? null;
    if (c === null && root.der) {
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

/** One evaluated candidate. */
interface Evaluated {
  readonly candidate: CandidatePath;
  readonly anchor: ChainAnchor | null;
  readonly findings: Finding[];
  readonly complete: boolean;
  readonly verified: boolean;
  readonly valid: boolean;
}

/** Anchors for a check, each with whether it is trusted and public. */
interface AnchorSet {
  readonly index: AnchorIndex;
  readonly isTrusted: (e: AnchorEntry) => boolean;
  readonly isPublic: (e: AnchorEntry) => boolean;
}

const entryCache = new WeakMap<TrustedRoot, AnchorEntry>();

/** Extras of root certificates (few, long-lived objects: a WeakMap is cheap here, unlike per-check certificates). */
const anchorExtras = new WeakMap<CertInfo, CertExtras>();

/** Returns the anchor entry of `root` (decoded once per TrustedRoot: root sets are long-lived). */
function anchorEntry(root: TrustedRoot): AnchorEntry {
  let e = entryCache.get(root);
  if (!e) {
    const cert = rootCert(root);
    e = { root, cert, subjectKey: cert ? nameKey(cert.subject) : '' };
    entryCache.set(root, e);
  }
  return e;
}

/** The public tier's entries and maps, built once per root list (Node's roots: one shared array). */
interface PublicTier {
  readonly maps: AnchorMaps;
  readonly sha1s: ReadonlySet<string>;
}

const publicTierCache = new WeakMap<readonly TrustedRoot[], PublicTier>();

function publicTier(roots: readonly TrustedRoot[]): PublicTier {
  let t = publicTierCache.get(roots);
  if (!t) {
    t = { maps: mapAnchors(roots.map(anchorEntry)), sha1s: new Set(roots.map((r) => r.sha1)) };
    publicTierCache.set(roots, t);
  }
  return t;
}

function anchorSet(opts: CheckChainOptions): AnchorSet {
  const trustedEntries = (opts.roots ?? loadDocumentedRoots()).map(anchorEntry);
  const pub = publicTier(opts.publicRoots ?? nodeRoots());
  const trustPublic = opts.roots === undefined;
  const trustedSha1 = new Set(trustedEntries.map((e) => e.root.sha1));
  const publicSha1 = pub.sha1s;
  return {
    index: indexAnchors(trustedEntries, pub.maps),
    isTrusted: (e) => trustedSha1.has(e.root.sha1) || (trustPublic && publicSha1.has(e.root.sha1)),
    isPublic: (e) => publicSha1.has(e.root.sha1),
  };
}

/**
 * Builds now what a check with these roots builds first (each once per process): the documented
 * roots read and parsed, Node's store parsed (~140 roots), both indexed by subject. A scan calls it
 * while its connections wait on the network, so the check at the end starts with them in hand.
 * Throws what `checkChain` would throw for the same options.
 */
export function prepareAnchors(opts: Pick<CheckChainOptions, 'roots' | 'publicRoots'> = {}): void {
  anchorSet(opts);
}

/**
 * Returns the report for the certificates `ders` a server sent (leaf first, as in the TLS
 * Certificate message: RFC 8446, Section 4.4.2; RFC 5246, Section 7.4.2). The rest may come in
 * any order and include extras; the root may be missing. See `ChainReport` for what is decided.
 */
export function checkChain(ders: readonly Uint8Array[], opts: CheckChainOptions = {}): ChainReport {
  return checkChainSpan(ders, opts).report;
}

/** A chain report and the span of check times [`from`, `until`) (ms since the epoch) that give the same report. */
export interface SpannedChainReport {
  readonly report: ChainReport;
  readonly from: number;
  readonly until: number;
}

/** Returns `checkChain`'s report and the span of check times around `opts.at` that give the same report. */
export function checkChainSpan(ders: readonly Uint8Array[], opts: CheckChainOptions = {}): SpannedChainReport {
  const at = checkTime(opts.at ?? new Date());
  const report = judge(ders, opts, at);
  return { report, from: at.from, until: at.until };
}

/** Returns the report of `checkChain`, the check time's span narrowed by every validity bound compared. */
function judge(ders: readonly Uint8Array[], opts: CheckChainOptions, at: CheckTime): ChainReport {
  const findings: Finding[] = [];
  const add = (code: ChainFindingCode, severity: Severity, message: string, certificate?: number): void => {
    findings.push(certificate === undefined ? { code, severity, message } : { code, severity, message, certificate });
  };
  const empty = (unused: CertInfo[]): ChainReport => ({
    anchor: null,
    verified: false,
    valid: false,
    complete: false,
    hostnameMatch: opts.host === undefined ? null : false,
    certificates: [],
    unused,
    pathsExamined: 0,
    findings,
  });

  if (ders.length === 0) {
    add('empty-chain', 'error', 'the server sent no certificate');
    return empty([]);
  }
  if (ders.length > MAX_CHAIN_CERTIFICATES) {
    add(
      'too-many-certificates',
      'error',
      `the server sent ${ders.length} certificates; only the first ${MAX_CHAIN_CERTIFICATES} were examined`,
    );
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
      add(
        'unparseable-certificate',
        'error',
        `certificate #${index} sent by the server cannot be decoded: ${e.message}`,
      );
      return;
    }
    if (seen.has(cert.sha256)) {
      add(
        'duplicate-certificate',
        'info',
        `certificate #${index} (${displayName(cert.subject)}) was sent more than once`,
      );
      return;
    }
    seen.add(cert.sha256);
    sent.push({ cert, index });
  });
  const leafEntry = sent[0];
  if (leafEntry?.index !== 0) return empty(sent.map((s) => s.cert));
  const leaf = leafEntry.cert;

  // Build and validate candidate paths until one is valid.
  const anchors = anchorSet(opts);
  const stats: BuildStats = { steps: 0, truncated: false };
  const evaluated: Evaluated[] = [];
  const memo = new Map<CertInfo, CertExtras>();
  for (const candidate of buildPaths(
    leaf,
    sent.slice(1).map((s) => s.cert),
    anchors.index,
    stats,
  )) {
    const ev = evaluate(candidate, anchors, sent, at, opts, memo);
    evaluated.push(ev);
    if (ev.valid) break;
  }
  const chosen = evaluated.find((e) => e.valid) ?? [...evaluated].sort(rank)[0]!;
  findings.push(...chosen.findings);
  for (const other of evaluated) {
    if (other === chosen) continue;
    const why = other.findings.find((f) => f.severity === 'error');
    const names = other.candidate.certs.map((c) => displayName(c.subject)).join(' <- ');
    add(
      'alternative-path-rejected',
      'info',
      `another path was rejected: ${names}${why ? ` (${why.code}: ${why.message})` : ''}`,
    );
  }
  if (stats.truncated && !chosen.valid) {
    add(
      'path-search-truncated',
      'warning',
      `the path search stopped after ${stats.steps} issuer candidates and ${evaluated.length} paths (caps against hostile chains); a valid path may exist beyond them`,
    );
  }

  // What the server sent versus the path.
  const path = chosen.candidate.certs;
  const onPath = new Set(path.map((c) => c.sha256));
  const unused = sent.filter((s) => !onPath.has(s.cert.sha256)).map((s) => s.cert);
  if (unused.length > 0) {
    add(
      'extra-certificates',
      'info',
      `the server sent ${unused.length} certificate(s) not on the path: ${unused.map((c) => displayName(c.subject)).join(', ')}`,
    );
  }
  const sentOrder = path
    .map((c) => sent.find((s) => s.cert.sha256 === c.sha256)?.index)
    .filter((x): x is number => x !== undefined);
  if (sentOrder.some((v, i) => i > 0 && v < sentOrder[i - 1]!)) {
    add(
      'out-of-order',
      'warning',
      `the server sent the chain out of order (sent positions in path order: ${sentOrder.join(', ')}); RFC 5246, Section 7.4.2 requires each certificate to certify the one before`,
    );
  }

  const hostnameMatch = opts.host === undefined ? null : !chosen.findings.some((f) => f.code === 'name-mismatch');
  const valid = chosen.valid && !findings.some((f) => f.severity === 'error');
  return {
    anchor: chosen.anchor,
    verified: chosen.verified,
    valid,
    complete: chosen.complete,
    hostnameMatch,
    certificates: [...path],
    unused,
    pathsExamined: evaluated.length,
    findings,
  };
}

/** Orders rejected candidates: trusted and complete first, then fewer errors, then shorter. */
function rank(a: Evaluated, b: Evaluated): number {
  const tier = (e: Evaluated): number => (e.verified ? 0 : e.anchor?.trusted ? 1 : e.complete ? 2 : 3);
  const errors = (e: Evaluated): number => e.findings.filter((f) => f.severity === 'error').length;
  return tier(a) - tier(b) || errors(a) - errors(b) || a.candidate.certs.length - b.candidate.certs.length;
}

/** Returns the anchor, path-level findings and `validatePath` findings of one candidate. */
function evaluate(
  candidate: CandidatePath,
  anchors: AnchorSet,
  sent: readonly { cert: CertInfo }[],
  at: CheckTime,
  opts: CheckChainOptions,
  memo: Map<CertInfo, CertExtras>,
): Evaluated {
  const findings: Finding[] = [];
  const add = (code: ChainFindingCode, severity: Severity, message: string, certificate?: number): void => {
    findings.push(certificate === undefined ? { code, severity, message } : { code, severity, message, certificate });
  };
  const path = candidate.certs;
  const top = path[path.length - 1]!;
  const topIndex = path.length - 1;
  const selfSignedLeaf = candidate.selfSignedTop && path.length === 1;
  const complete = candidate.anchor !== null || candidate.selfSignedTop;

  let anchor: ChainAnchor | null = null;
  const entry = candidate.anchor;
  if (entry) {
    const notAfter = entry.root.notAfter ?? top.notAfter;
    anchor = {
      name: entry.root.name,
      sha1: entry.root.sha1,
      documented: entry.root.documented,
      expired: reached(at, notAfter.getTime() + 1000),
      trusted: anchors.isTrusted(entry),
      sent: sent.some((s) => s.cert.sha256 === top.sha256),
      public: anchors.isPublic(entry),
    };
  } else if (candidate.selfSignedTop && !selfSignedLeaf) {
    anchor = {
      name: displayName(top.subject),
      sha1: top.sha1,
      documented: false,
      expired: reached(at, top.notAfter.getTime() + 1000),
      trusted: false,
      sent: true,
      public: false,
    };
  }

  if (selfSignedLeaf) {
    add(
      'self-signed-leaf',
      'error',
      `the leaf ${displayName(top.subject)} is self-signed and not a root of the set`,
      0,
    );
  } else if (!complete) {
    add(
      'missing-intermediate',
      'error',
      candidate.tooLong
        ? `no root reached within ${MAX_PATH_LENGTH} certificates`
        : `the issuer of ${displayName(top.subject)} (${top.issuer.rfc4514}) was not sent and is in no root store (documented, Node's public roots${opts.roots ? ', the given roots' : ''})`,
      topIndex,
    );
  }
  if (anchor && !anchor.documented) {
    const what = anchor.public
      ? anchor.trusted
        ? "a public root (Node's bundled store) but not a documented one"
        : "a public root (Node's bundled store) that is not among the given roots"
      : anchor.trusted
        ? 'a root of the given set but not a documented one'
        : 'a self-signed certificate the server sent, in no root store';
    add(
      'anchor-not-documented',
      anchor.public && !anchor.trusted ? 'error' : 'warning',
      `the chain ends at ${anchor.name} (subject ${top.subject.rfc4514 || '(empty)'}, SHA-1 ${anchor.sha1}): ${what}`,
      topIndex,
    );
  }
  candidate.links.forEach((check, i) => {
    if (check.status === 'invalid')
      add('bad-signature', 'error', `${displayName(path[i]!.subject)}: ${check.detail}`, i);
    else if (check.status === 'unsupported')
      add('unsupported-signature', 'warning', `${displayName(path[i]!.subject)}: ${check.detail}`, i);
  });
  const signaturesValid = candidate.links.every((c) => c.status === 'valid');
  if (anchor && !anchor.trusted && !anchor.public && signaturesValid) {
    add(
      'likely-tls-inspection',
      'warning',
      `the chain verifies up to ${anchor.name}, a self-signed root that is in no root store: this is what a TLS-inspecting proxy presents`,
      topIndex,
    );
  }
  const anchorIndex = complete && !selfSignedLeaf ? topIndex : entry && path.length === 1 ? 0 : -1;
  // A root of a store is long-lived: its extras are read once, not once per check.
  if (entry?.cert && entry.cert === top && !memo.has(top)) {
    let x = anchorExtras.get(top);
    if (!x) {
      x = certExtras(top);
      anchorExtras.set(top, x);
    }
    memo.set(top, x);
  }
  findings.push(
    ...validatePath(path, {
      at,
      anchorIndex,
      memo,
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.maxIntermediates !== undefined ? { maxIntermediates: opts.maxIntermediates } : {}),
    }),
  );
  if (
    anchor?.expired &&
    !findings.some((f) => f.code === 'root-expired' || (f.code === 'expired' && f.certificate === topIndex))
  ) {
    add(
      'root-expired',
      'error',
      `the root ${anchor.name} expired on ${(entry?.root.notAfter ?? top.notAfter).toISOString()}`,
      topIndex,
    );
  }
  const verified = complete && anchor?.trusted === true && signaturesValid;
  const valid = verified && !findings.some((f) => f.severity === 'error');
  return { candidate, anchor, findings, complete, verified, valid };
}
