/**
 * Verdicts: `decideVerdict` returns a `Diagnosis` (a stable verdict code, a plain-language summary,
 * the evidence, and what to do) from the facts a scan gathered; it throws TypeError only when it is
 * given no facts at all (no scan and no DNS error).
 *
 * The question behind every rule is the one users arrive with: "my client gets error 10054
 * (WSAECONNRESET, connection reset by peer) — why?" The answer depends on how each version's
 * ClientHello ended, so the rules read outcomes, never guess from one:
 * - TLS 1.2 works, TLS 1.0/1.1 are reset → `legacy-version-reset`: clients that cannot offer TLS 1.2
 *   get exactly 10054; the fix is on the client (SChannel and .NET registry settings, KBs).
 * - every version reset, TLS 1.2 included → `reset-always`: a firewall or proxy, not TLS versions.
 * - nothing connects → `endpoint-unreachable`: DNS, refused, connect timeout; not a TLS problem.
 * - the certificate chain (from x509/chain's `ChainReport`) decides `chain-untrusted` and
 *   `likely-tls-inspection`; a retry without SNI decides `sni-required`.
 * - through a proxy, a hello that is reset while the same hello sent directly gets a TLS answer →
 *   `proxy-resets`: the proxy resets or inspects TLS; the fix is to bypass it for these hosts.
 * Every verdict that holds is reported: the most specific one first, the others in `secondary`.
 *
 * The rules are verdict-rules.ts, one function each; the terms (codes, input, diagnosis) are
 * verdict-types.ts; the evidence rows are verdict-evidence.ts.
 */
import { isConnectFailure } from '../probe/outcome.js';
import { isLegacyLimited, type ClientFacts } from './client-verdict.js';
import type { Remediation } from './remediation.js';
import { attemptsOf, evidenceOf } from './verdict-evidence.js';
import {
  type HeldVerdict,
  MODERN_VERSIONS,
  VERDICT_RULES,
  type VerdictFacts,
  dnsVerdict,
  unreachableVerdict,
} from './verdict-rules.js';
import { VERDICT_CODES, type Diagnosis, type Evidence, type VerdictCode, type VerdictInput } from './verdict-types.js';

export type { Remediation } from './remediation.js';

/**
 * Returns the diagnosis for the facts in `input`. Throws TypeError when `input` has neither a scan
 * nor a DNS error (nothing to decide from).
 */
export function decideVerdict(input: VerdictInput): Diagnosis {
  const client = input.client ?? null;
  if (input.dnsError) return finish([dnsVerdict(input, input.dnsError)], [], client);
  if (!input.withSni) throw new TypeError('decideVerdict needs a scan (withSni) or a DNS error');

  const f = gatherFacts(input, client);
  const evidence = evidenceRows(f);
  const all = [...f.attempts.values()];
  if (all.length === 0) throw new TypeError('decideVerdict was given a scan in which no attempt ran');
  if (f.connected.length === 0) return finish([unreachableVerdict(f, all[0]!)], evidence, client);
  const holding = VERDICT_RULES.flatMap((rule) => rule(f) ?? []);
  return finish(holding, evidence, client);
}

/** Returns the facts the rules read: the attempts of each scan by version, and what they add up to. */
function gatherFacts(input: VerdictInput, client: ClientFacts | null): VerdictFacts {
  const attempts = attemptsOf(input.withSni);
  const connected = [...attempts.values()].filter((r) => !isConnectFailure(r.outcome));
  return {
    input,
    where: input.host ? `${input.host}${input.port !== undefined ? `:${input.port}` : ''}` : 'the endpoint',
    client,
    attempts,
    noSni: attemptsOf(input.withoutSni),
    direct: attemptsOf(input.direct),
    connected,
    outcomes: new Set(connected.map((r) => r.outcome)),
    modernOk: MODERN_VERSIONS.filter((v) => attempts.get(v)?.supported === true),
  };
}

/** Returns the evidence rows: the attempts with SNI, without SNI, direct, and the client's own. */
function evidenceRows(f: VerdictFacts): Evidence[] {
  const proxied = f.input.via !== undefined;
  const client = f.client;
  return [
    ...[...f.attempts.values()].map((r) => evidenceOf(r, proxied ? `${r.version} via proxy` : r.version)),
    ...[...f.noSni.values()].map((r) => evidenceOf(r, `${r.version} without SNI${proxied ? ' via proxy' : ''}`)),
    ...[...f.direct.values()].map((r) => evidenceOf(r, `${r.version} direct`)),
    ...(client && client.name !== 'default'
      ? [evidenceOf(client.attempt, `client ${client.name}${proxied ? ' via proxy' : ''}`)]
      : []),
  ];
}

/** Verdicts that are information for a current TLS 1.2+ client, not a problem it has. */
const INFORMATION_CODES: ReadonlySet<VerdictCode> = new Set([
  'tls12-ok',
  'legacy-version-reset',
  'legacy-version-alert',
  'legacy-version-dropped',
  'sni-required',
]);

/**
 * Returns true when `code` is information for `client`: the legacy-version verdicts are problems only
 * for a client limited to TLS 1.0/1.1 that does not connect.
 */
function isInformation(code: VerdictCode, client: ClientFacts | null): boolean {
  if (!INFORMATION_CODES.has(code)) return false;
  if (
    code.startsWith('legacy-version-') &&
    client &&
    client.name !== 'default' &&
    isLegacyLimited(client) &&
    client.attempt.outcome !== 'negotiated'
  )
    return false;
  return true;
}

/**
 * Returns the diagnosis from the verdicts that hold: ranked by `VERDICT_CODES`, marked as information
 * where they are (`isInformation`), with their remediation once each.
 */
function finish(holding: readonly HeldVerdict[], evidence: Evidence[], client: ClientFacts | null = null): Diagnosis {
  const rank = (c: VerdictCode): number => VERDICT_CODES.indexOf(c);
  const marked = holding.map((h) =>
    isInformation(h.verdict.code, client) ? { ...h, verdict: { ...h.verdict, information: true } } : h,
  );
  const sorted = [...marked].sort((a, b) => rank(a.verdict.code) - rank(b.verdict.code));
  const primary = sorted[0];
  if (!primary) throw new TypeError('no verdict holds: decideVerdict was given a scan without attempts');
  const fine = sorted.every((h) => h.verdict.information === true);
  const remediation: Remediation[] = [];
  const seen = new Set<string>();
  const clientRejected = sorted.some((h) => h.verdict.code === 'client-hello-rejected');
  for (const h of sorted) {
    // A client that offers TLS 1.2 and is refused for its hello gets that cause's fix only: the TLS 1.2
    // registry keys of the (informational) legacy verdicts change nothing for it.
    if (clientRejected && h.verdict.information) continue;
    for (const r of h.remediation) {
      if (seen.has(r.text)) continue;
      seen.add(r.text);
      remediation.push(r);
    }
  }
  return { verdict: primary.verdict, evidence, remediation, secondary: sorted.slice(1).map((h) => h.verdict), fine };
}
