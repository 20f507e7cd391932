/**
 * Path building with backtracking (RFC 4158; RFC 5280, Section 6 takes the path as input): yields,
 * one at a time, every candidate path from a leaf through the certificates a server sent to a trust
 * anchor, so the caller can validate each and stop at the first valid one. Trusted roots are tried
 * before sent certificates at each step (a sent, expired cross-signed copy of a root is then only a
 * fallback: the "chain of pain"), and a path ends at the first trusted root it reaches.
 *
 * Bounded against hostile inputs: no certificate, and no subject+key pair, appears twice on one path
 * (loops and cross-signing cycles); a path has at most `MAX_PATH_LENGTH` certificates; the whole
 * search expands at most `MAX_BUILD_STEPS` issuer candidates (each a signature check) and yields at
 * most `MAX_CANDIDATE_PATHS` paths. Never throws.
 */
import { equalBytes } from '../wire/hex.js';
import { sameName } from './dn.js';
import type { TrustedRoot } from './roots.js';
import { verifyCertificateSignature, type SignatureCheck } from './signature.js';
import type { CertInfo, DistinguishedName } from './types.js';

/** Longest path we build, leaf and anchor included (Web PKI paths have 2–4 certificates). */
export const MAX_PATH_LENGTH = 10;

/**
 * Most issuer candidates the search examines (each costs a signature check, ~0.05–1 ms cold). Real
 * chains need a handful (a cross-signed chain of pain, under ten); x509-limbo's pathological chains
 * of same-named CAs would otherwise need exponentially many. 64 keeps the worst case near 50 ms.
 */
export const MAX_BUILD_STEPS = 64;

/** Most complete or dead-end paths yielded; a real server offers at most a few alternatives. */
export const MAX_CANDIDATE_PATHS = 24;

/** A trust anchor with its decoded certificate, when one is known. */
export interface AnchorEntry {
  readonly root: TrustedRoot;
  readonly cert: CertInfo | null;
  /** `nameKey` of the certificate's subject ('' without a certificate). */
  readonly subjectKey: string;
}

/** Trust anchors by subject and by thumbprint, so a step costs a lookup rather than a scan of ~150 roots. */
export interface AnchorIndex {
  /** Anchors whose subject has this `nameKey`, in preference order. */
  bySubject(key: string): readonly AnchorEntry[];
  /** The anchor with this SHA-1 or SHA-256 thumbprint. */
  byThumbprint(hash: string): AnchorEntry | undefined;
}

/** The maps of one list of anchors. */
interface AnchorMaps {
  readonly bySubject: ReadonlyMap<string, readonly AnchorEntry[]>;
  readonly byThumbprint: ReadonlyMap<string, AnchorEntry>;
}

function mapAnchors(entries: readonly AnchorEntry[]): AnchorMaps {
  const bySubject = new Map<string, AnchorEntry[]>();
  const byThumbprint = new Map<string, AnchorEntry>();
  for (const e of entries) {
    if (e.cert) {
      const list = bySubject.get(e.subjectKey);
      if (list) list.push(e);
      else bySubject.set(e.subjectKey, [e]);
    }
    if (!byThumbprint.has(e.root.sha1)) byThumbprint.set(e.root.sha1, e);
    if (e.root.sha256 !== null && !byThumbprint.has(e.root.sha256)) byThumbprint.set(e.root.sha256, e);
  }
  return { bySubject, byThumbprint };
}

const NONE: readonly AnchorEntry[] = [];

/**
 * Returns the index of two tiers of anchors: `first` (a check's own roots, few, mapped per call)
 * before `second` (a large shared set such as Node's public roots, mapped once by the caller with
 * `mapAnchors` and passed in); a `second` entry that is also in `first` is found as the `first` one.
 */
export function indexAnchors(first: readonly AnchorEntry[], second: AnchorMaps | null = null): AnchorIndex {
  const a = mapAnchors(first);
  const inFirst = (e: AnchorEntry): boolean => a.byThumbprint.has(e.root.sha1);
  return {
    bySubject(key) {
      const x = a.bySubject.get(key) ?? NONE;
      const y = second?.bySubject.get(key)?.filter((e) => !inFirst(e)) ?? NONE;
      return y.length === 0 ? x : [...x, ...y];
    },
    byThumbprint(hash) {
      return a.byThumbprint.get(hash) ?? second?.byThumbprint.get(hash);
    },
  };
}

export { mapAnchors, type AnchorMaps };

/**
 * Returns a key equal for two Names exactly when `sameName` holds (RFC 5280, Section 7.1 as dn.ts
 * implements it: same attribute types in order, values equal after trimming, collapsing spaces and
 * case folding).
 */
export function nameKey(name: DistinguishedName): string {
  let k = '';
  for (const p of name.parts) {
    const v = p.value;
    // Most values have no outer or doubled whitespace: skip the regex for them.
    const plain =
      v.length === 0 || (v.charCodeAt(0) > 0x20 && v.charCodeAt(v.length - 1) > 0x20 && !/\s\s|[\t\n\r\f\v]/.test(v));
    k += `${p.oid}\u0000${(plain ? v : v.trim().replace(/\s+/g, ' ')).toLowerCase()}\u0001`;
  }
  return k;
}

/** One candidate path, leaf first. */
export interface CandidatePath {
  readonly certs: readonly CertInfo[];
  /** links[i]: certs[i]'s signature checked with certs[i + 1]'s key. */
  readonly links: readonly SignatureCheck[];
  /** The trusted root the path ends at (its certificate is the last of `certs` when known), or null. */
  readonly anchor: AnchorEntry | null;
  /** True when the last certificate is self-signed (a verifying self-signature) but not a trusted root. */
  readonly selfSignedTop: boolean;
  /** True when the path stopped at MAX_PATH_LENGTH. */
  readonly tooLong: boolean;
}

/** What the search saw besides the paths. */
export interface BuildStats {
  steps: number;
  /** True when a cap (steps or paths) cut the search short. */
  truncated: boolean;
}

/**
 * True when `issuer` may have issued `cert`: its subject is `cert`'s issuer name (RFC 5280, Section
 * 7.1) and, when both key identifiers are present, its SubjectKeyIdentifier equals `cert`'s
 * AuthorityKeyIdentifier (Section 4.2.1.1).
 */
export function couldIssue(issuer: CertInfo, cert: CertInfo): boolean {
  if (!sameName(issuer.subject, cert.issuer)) return false;
  const aki = cert.authorityKeyId;
  const ski = issuer.subjectKeyId;
  return aki === null || ski === null || aki === ski;
}

/** Returns the anchor `cert` is, by thumbprint (the same certificate as a root of the set). */
function anchorByThumbprint(cert: CertInfo, anchors: AnchorIndex): AnchorEntry | undefined {
  return anchors.byThumbprint(cert.sha1) ?? anchors.byThumbprint(cert.sha256);
}

/**
 * Yields candidate paths from `leaf` through `pool` (the other sent certificates, in the order
 * sent) to `anchors`, depth first: trusted roots before sent certificates, verifying issuers before
 * ones whose signature fails. A path that cannot be extended is yielded as it is (incomplete, or
 * ending at a self-signed certificate outside the set).
 */
export function* buildPaths(
  leaf: CertInfo,
  pool: readonly CertInfo[],
  anchors: AnchorIndex,
  stats: BuildStats,
): Generator<CandidatePath> {
  let yielded = 0;
  const path: CertInfo[] = [leaf];
  const links: SignatureCheck[] = [];

  // Explicit recursion over the path; returns false once a cap is hit.
  function* extend(): Generator<CandidatePath, boolean> {
    const current = path[path.length - 1]!;
    const asAnchor = anchorByThumbprint(current, anchors);
    if (asAnchor) {
      yielded++;
      yield { certs: [...path], links: [...links], anchor: asAnchor, selfSignedTop: false, tooLong: false };
      return yielded < MAX_CANDIDATE_PATHS;
    }
    if (path.length >= MAX_PATH_LENGTH) {
      yielded++;
      yield { certs: [...path], links: [...links], anchor: null, selfSignedTop: false, tooLong: true };
      return yielded < MAX_CANDIDATE_PATHS;
    }
    const candidates: { cert: CertInfo; anchor: AnchorEntry | null; check: SignatureCheck }[] = [];
    const consider = (cert: CertInfo, anchor: AnchorEntry | null): boolean => {
      if (!couldIssue(cert, current) || onPath(cert) || candidates.some((x) => x.cert.sha256 === cert.sha256))
        return true;
      if (stats.steps >= MAX_BUILD_STEPS) return false;
      stats.steps++;
      candidates.push({ cert, anchor, check: verifyCertificateSignature(current, cert) });
      return true;
    };
    let capped = false;
    for (const a of anchors.bySubject(nameKey(current.issuer))) if (!consider(a.cert!, a)) capped = true;
    for (const c of pool) if (!capped && !consider(c, null)) capped = true;
    if (capped) stats.truncated = true;
    // Verifying issuers first (stable: anchors, then sent order); a failing one only when none verifies.
    const valid = candidates.filter((c) => c.check.status === 'valid');
    const tried = valid.length > 0 ? valid : candidates.slice(0, 1);
    for (const c of tried) {
      path.push(c.cert);
      links.push(c.check);
      let go: boolean;
      if (c.anchor) {
        yielded++;
        yield { certs: [...path], links: [...links], anchor: c.anchor, selfSignedTop: false, tooLong: false };
        go = yielded < MAX_CANDIDATE_PATHS;
      } else {
        go = yield* extend();
      }
      path.pop();
      links.pop();
      if (!go) {
        stats.truncated = true;
        return false;
      }
    }
    if (tried.length === 0) {
      const selfSigned = current.selfIssued && verifyCertificateSignature(current, current).status === 'valid';
      yielded++;
      yield { certs: [...path], links: [...links], anchor: null, selfSignedTop: selfSigned, tooLong: false };
      if (yielded >= MAX_CANDIDATE_PATHS) {
        stats.truncated = true;
        return false;
      }
    }
    return !capped;
  }

  function onPath(cert: CertInfo): boolean {
    // The same certificate, or the same CA (subject and key) again: a loop (RFC 4158, Section 5.2).
    return path.some(
      (p) => p.sha256 === cert.sha256 || (sameName(p.subject, cert.subject) && equalBytes(p.spki, cert.spki)),
    );
  }

  yield* extend();
}
