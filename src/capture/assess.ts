/**
 * Returns what is decided about a captured connection's facts before report/ renders them: the
 * fingerprints of its hellos (JA3, JA3S, JA4) and the check of the server's certificate chain
 * (facts → decisions → report, STYLE §5.9). Each part is computed only when asked for, so a view
 * that shows neither pays for neither.
 */
import { checkChain } from '../x509/chain.js';
import type { ChainReport } from '../x509/chain.js';
import { createCertificateCache } from '../x509/certificate-cache.js';
import type { ParsedCertificate } from '../x509/certificate-cache.js';
import { createChainCache } from '../x509/chain-cache.js';
import type { TrustedRoot } from '../x509/roots.js';
import { type ConnectionFingerprints, fingerprintConnection } from './fingerprint.js';
import { type ConnectionFacts, connectionSni } from './facts.js';

export interface ChainJudgement {
  readonly report: ChainReport;
  /** The date validity was judged at. */
  readonly at: Date;
}

export interface ConnectionAssessment {
  readonly fingerprints: ConnectionFingerprints;
  /** Null when the server sent no certificate (or none could be read). */
  readonly chain: ChainJudgement | null;
  /** The server's certificates decoded, in the order sent. */
  readonly certificates: readonly ParsedCertificate[];
  readonly clientCertificates: readonly ParsedCertificate[];
}

export interface AssessOptions {
  /** Trust anchors for the chain check (default: the documented root set). */
  readonly roots?: readonly TrustedRoot[];
  /** Date at which certificate validity is judged (default: the connection's start time). */
  readonly at?: Date;
}

/** Returns the date a connection's chain is judged at: `opts.at`, or when the connection started. */
function judgedAt(c: ConnectionFacts, opts: AssessOptions): Date {
  return opts.at ?? new Date(Math.floor(c.startTimestampUs / 1000));
}

/** Returns the check of the server's chain against the SNI, at `opts.at` or the connection's start. */
export function judgeChain(c: ConnectionFacts, opts: AssessOptions = {}): ChainJudgement | null {
  if (c.certificates.length === 0) return null;
  const sni = connectionSni(c);
  const at = judgedAt(c, opts);
  const report = checkChain(c.certificates, {
    ...(sni ? { host: sni } : {}),
    at,
    ...(opts.roots ? { roots: opts.roots } : {}),
  });
  return { report, at };
}

/**
 * Judges the connections of one capture: the same answers as `judgeChain` and `fingerprintConnection`,
 * with each distinct certificate decoded once and each distinct chain checked once per host and span
 * of validity (x509/certificate-cache.ts, x509/chain-cache.ts), so that many connections to one
 * server cost little more than one.
 */
export interface Assessor {
  /** Returns the server's (or client's) certificates of `c` decoded. */
  certificates(ders: readonly Uint8Array[]): ParsedCertificate[];
  /** Returns the chain check of `c` given its decoded server certificates; null when there are none. */
  chain(c: ConnectionFacts, certificates: readonly ParsedCertificate[]): ChainJudgement | null;
  /** Returns everything decided about `c`, fingerprints included. */
  assess(c: ConnectionFacts): ConnectionAssessment;
}

/** Returns an assessor with empty caches, judging with `opts`. */
export function createAssessor(opts: AssessOptions = {}): Assessor {
  const certs = createCertificateCache();
  const chains = createChainCache(opts.roots ? { roots: opts.roots } : {});
  const certificates = (ders: readonly Uint8Array[]): ParsedCertificate[] => ders.map((d) => certs.parse(d));
  const chain = (c: ConnectionFacts, parsed: readonly ParsedCertificate[]): ChainJudgement | null => {
    if (c.certificates.length === 0) return null;
    const at = judgedAt(c, opts);
    const report = chains.check(
      c.certificates,
      parsed.map((p) => p.sha256),
      connectionSni(c) || undefined,
      at,
    );
    return { report, at };
  };
  return {
    certificates,
    chain,
    assess(c) {
      const server = certificates(c.certificates);
      return {
        fingerprints: fingerprintConnection(c),
        chain: chain(c, server),
        certificates: server,
        clientCertificates: certificates(c.clientCertificates),
      };
    },
  };
}

/** Returns the fingerprints, certificates and chain check of one connection (no cache kept). */
export function assessConnection(c: ConnectionFacts, opts: AssessOptions = {}): ConnectionAssessment {
  return createAssessor(opts).assess(c);
}
