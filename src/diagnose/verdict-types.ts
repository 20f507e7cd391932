/**
 * The terms of a diagnosis: the stable verdict codes, what `decideVerdict` (verdict.ts) is given
 * (`VerdictInput`) and what it returns (`Diagnosis`: the verdict, the evidence, the remediation).
 */
import type { AddressScan } from '../probe/scan.js';
import type { OutcomeKind } from '../probe/outcome.js';
import type { ClientFacts } from './client-verdict.js';
import type { HelloCause } from './hello-bisect.js';
import type { Remediation } from './remediation.js';
import type { WindowsVersion } from './windows-versions.js';

/** Stable verdict codes (`--json` users key on them), most specific first. */
export const VERDICT_CODES = [
  'endpoint-unreachable',
  'proxy-unreachable',
  'proxy-refused',
  'not-tls',
  'proxy-resets',
  'client-hello-rejected',
  'reset-always',
  'closed-always',
  'timeout-always',
  'likely-tls-inspection',
  'legacy-version-reset',
  'legacy-version-alert',
  'legacy-version-dropped',
  'no-tls12',
  'chain-untrusted',
  'sni-required',
  'tls12-ok',
] as const;

export type VerdictCode = (typeof VERDICT_CODES)[number];

/** One attempt as the diagnosis reports it. */
export interface Evidence {
  /** What was tried, e.g. 'TLS1.0' or 'TLS1.2 without SNI'. */
  readonly attempt: string;
  readonly outcome: OutcomeKind;
  /** What happened, in words (the alert, the suite negotiated, the socket error). */
  readonly detail: string;
  readonly elapsedMs: number | null;
  readonly bytesReceived: number;
  readonly alert?: string | null;
  readonly errorCode?: string | null;
}

export interface Verdict {
  readonly code: VerdictCode;
  readonly summary: string;
  /** client-hello-rejected: what in the client's hello is refused (from bisecting that hello). */
  readonly cause?: HelloCause;
  /** True for a verdict that is information for the client asked about, not a problem it has. */
  readonly information?: boolean;
}

export interface Diagnosis {
  readonly verdict: Verdict;
  readonly evidence: readonly Evidence[];
  readonly remediation: readonly Remediation[];
  /** Other verdicts that also hold, most specific first. */
  readonly secondary: readonly Verdict[];
  /**
   * True when the endpoint is fine for the client asked about (the `client`, or by default a current
   * TLS 1.2+ client): every verdict that holds is information. Exit code 0 when true.
   */
  readonly fine: boolean;
}

/** What the verdict needs from a chain check (x509/chain's `ChainReport` fits). */
export interface ChainLike {
  readonly anchor: { readonly name: string } | null;
  readonly verified: boolean;
  /** False when a strict RFC 5280 + CA/B Forum validator rejects the chain although it verifies (issue 18). */
  readonly valid?: boolean;
  readonly findings: readonly { readonly code: string; readonly message?: string; readonly severity?: string }[];
}

export interface VerdictInput {
  /** The scan of the first address, with SNI as the user's client would send it. */
  readonly withSni: AddressScan | null;
  /** TLS 1.2/1.3 attempts without SNI, when they were run. */
  readonly withoutSni?: AddressScan | null;
  /**
   * When `withSni` went through a proxy: the same hellos (some versions) sent directly, to tell the
   * proxy's doing from the endpoint's.
   */
  readonly direct?: AddressScan | null;
  /** The proxy `withSni` went through, as shown to users (no password: proxy.ts `formatVia`). */
  readonly via?: string;
  readonly dnsError?: { readonly code: string; readonly message: string } | null;
  readonly chain?: ChainLike | null;
  /** The client's Windows version, to narrow the remediation. */
  readonly os?: WindowsVersion | null;
  /** The client asked about (a profile's own hello, or tlsprobe's default hellos), when it was tried. */
  readonly client?: ClientFacts | null;
  /** Host and port, for the summaries (default: unnamed). */
  readonly host?: string;
  readonly port?: number;
}
