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
 */
import type { AttemptResult } from '../probe/attempt.js';
import { describeOutcome, isConnectFailure, type OutcomeKind } from '../probe/outcome.js';
import { isSetupEnd } from '../probe/transport.js';
import { clientHelloVerdict, isLegacyLimited, type ClientFacts } from './client-verdict.js';
import type { HelloCause } from './hello-bisect.js';
import type { ProbeVersion } from '../probe/profiles.js';
import type { AddressScan } from '../probe/scan.js';
import { displayName, PROTOCOL_VERSIONS } from '../tls/registry.js';
import { tls12ClientRemediation, type Remediation } from './remediation.js';
import type { WindowsVersion } from './windows-versions.js';

export type { Remediation } from './remediation.js';

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

const LEGACY_VERSIONS: readonly ProbeVersion[] = ['TLS1.0', 'TLS1.1'];
const MODERN_VERSIONS: readonly ProbeVersion[] = ['TLS1.2', 'TLS1.3'];

/** Returns 'TLS 1.2' for 'TLS1.2'. */
export function versionLabel(v: ProbeVersion): string {
  return v.replace(/^(TLS|SSL)/, '$1 ');
}

/** Returns one evidence row for an attempt. */
export function evidenceOf(r: AttemptResult, label: string = r.version): Evidence {
  let detail: string;
  if (r.outcome === 'negotiated') {
    const v =
      r.negotiatedVersion === null ? versionLabel(r.version) : displayName(PROTOCOL_VERSIONS, r.negotiatedVersion);
    detail = `ServerHello: ${v}${r.cipherSuiteName ? `, ${r.cipherSuiteName}` : ''}${r.helloRetryRequest ? ' (after a HelloRetryRequest)' : ''}`;
  } else if (r.outcome === 'alert' && r.alert) {
    detail = `${describeOutcome(r.outcome)}: ${r.alert.levelName} ${r.alert.name} (${r.alert.description})`;
  } else {
    detail = describeOutcome(r.outcome, r.errorCode);
    if (r.error) detail += ` — ${r.error}`;
  }
  return {
    attempt: label,
    outcome: r.outcome,
    detail,
    elapsedMs: r.elapsedMs,
    bytesReceived: r.bytesReceived,
    alert: r.alert?.name ?? null,
    errorCode: r.errorCode,
  };
}

/** The attempts of a scan that ran, by version. */
function attemptsOf(scan: AddressScan | null | undefined): Map<ProbeVersion, AttemptResult> {
  const out = new Map<ProbeVersion, AttemptResult>();
  if (!scan) return out;
  scan.probedVersions.forEach((v, i) => {
    const r = scan.versions[i];
    if (r) out.set(v, r);
  });
  return out;
}

function joinVersions(vs: readonly ProbeVersion[]): string {
  const labels = vs.map(versionLabel);
  return labels.length <= 1 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}`;
}

/**
 * Returns the diagnosis for the facts in `input`. Throws TypeError when `input` has neither a scan
 * nor a DNS error (nothing to decide from).
 */
export function decideVerdict(input: VerdictInput): Diagnosis {
  const where = input.host ? `${input.host}${input.port !== undefined ? `:${input.port}` : ''}` : 'the endpoint';
  const os = input.os ?? null;
  const holding: { verdict: Verdict; remediation: Remediation[] }[] = [];
  const add = (
    code: VerdictCode,
    summary: string,
    remediation: Remediation[] = [],
    extra: { cause?: HelloCause } = {},
  ): void => {
    holding.push({ verdict: { code, summary, ...extra }, remediation });
  };
  const client = input.client ?? null;

  if (input.dnsError) {
    add(
      'endpoint-unreachable',
      `${input.host ? `The name ${input.host}` : 'The host name'} did not resolve (${input.dnsError.code}): no connection was made, so this is not a TLS problem.`,
      [
        {
          kind: 'network',
          text: `Check the DNS server this machine uses (and split DNS or private endpoints for cloud names): ${input.dnsError.message}.`,
        },
      ],
    );
    return finish(holding, [], client);
  }
  if (!input.withSni) throw new TypeError('decideVerdict needs a scan (withSni) or a DNS error');

  const attempts = attemptsOf(input.withSni);
  const noSni = attemptsOf(input.withoutSni);
  const direct = attemptsOf(input.direct);
  const proxied = input.via !== undefined;
  const evidence: Evidence[] = [
    ...[...attempts.values()].map((r) => evidenceOf(r, proxied ? `${r.version} via proxy` : r.version)),
    ...[...noSni.values()].map((r) => evidenceOf(r, `${r.version} without SNI${proxied ? ' via proxy' : ''}`)),
    ...[...direct.values()].map((r) => evidenceOf(r, `${r.version} direct`)),
    ...(client && client.name !== 'default'
      ? [evidenceOf(client.attempt, `client ${client.name}${proxied ? ' via proxy' : ''}`)]
      : []),
  ];
  const all = [...attempts.values()];
  const connected = all.filter((r) => !isConnectFailure(r.outcome));
  if (all.length === 0) throw new TypeError('decideVerdict was given a scan in which no attempt ran');

  if (connected.length === 0 && proxied) {
    const pv = proxyPathVerdict(all[0]!, direct, input.via ?? 'the proxy', where);
    if (pv) {
      add(pv.code, pv.summary, pv.remediation);
      return finish(holding, evidence, client);
    }
  }
  if (connected.length === 0) {
    const first = all[0]!;
    const how =
      first.outcome === 'connect-timeout'
        ? 'the TCP connection timed out (no answer to SYN)'
        : `the TCP connection was refused or unreachable${first.errorCode ? ` (${first.errorCode})` : ''}`;
    add(
      'endpoint-unreachable',
      `No ClientHello reached ${where}: ${how}. This is not a TLS problem; no TLS setting changes it.`,
      [
        {
          kind: 'network',
          text:
            first.outcome === 'connect-timeout'
              ? `Outbound TCP to ${where} is dropped: check the firewall, proxy requirements and routing for this port.`
              : `Nothing accepted the connection on ${where}: check the address and port, and whether a firewall rejects the port outbound.`,
        },
      ],
    );
    return finish(holding, evidence, client);
  }

  // The proxy: a reset through it where the direct hello got a TLS answer (a handshake or an alert)
  // is the proxy's doing. That is the 10054 a client behind the proxy sees.
  const proxyResets = [...direct.entries()].filter(
    ([v, d]) => attempts.get(v)?.outcome === 'reset' && (d.outcome === 'negotiated' || d.outcome === 'alert'),
  );
  if (proxyResets.length > 0) {
    const via = input.via ?? 'the proxy';
    const directly = proxyResets
      .map(
        ([v, d]) =>
          `${versionLabel(v)}: ${d.outcome === 'negotiated' ? 'handshake accepted' : `${d.alert?.name ?? 'an'} alert`}`,
      )
      .join('; ');
    add(
      'proxy-resets',
      `Through the proxy ${via}, the ${joinVersions(proxyResets.map(([v]) => v))} ClientHello to ${where} is answered with a TCP reset (error 10054, WSAECONNRESET), while the same hello sent directly gets a TLS answer (${directly}). The proxy resets or inspects this TLS traffic; the endpoint is not the cause.`,
      [
        {
          kind: 'network',
          text: `The proxy ${via} resets or inspects TLS to ${where}: bypass it for these hosts (add ${input.host ?? 'the endpoint'} to its bypass or no-inspection list, or let the client connect directly), or ask its administrators which rule resets the handshake.`,
        },
      ],
    );
  }

  const ok = (v: ProbeVersion): boolean => attempts.get(v)?.supported === true;
  const modernOk = MODERN_VERSIONS.filter(ok);
  const outcomes = new Set(connected.map((r) => r.outcome));
  const only = (o: OutcomeKind): boolean => outcomes.size === 1 && outcomes.has(o);
  const probedList = joinVersions(connected.map((r) => r.version));

  if (modernOk.length === 0 && !connected.some((r) => r.outcome === 'negotiated')) {
    if (outcomes.has('malformed')) {
      add(
        'not-tls',
        `Something other than a TLS server answers on ${where}: the reply to the ClientHello is not TLS.`,
        [
          {
            kind: 'network',
            text: 'Check the port, and whether this network requires an HTTP proxy (a proxy or captive portal answers in plain HTTP).',
          },
        ],
      );
    } else if (only('reset')) {
      add(
        'reset-always',
        `Every ClientHello (${probedList}) was answered with a TCP reset, TLS 1.2 included: a firewall, IPS or proxy between this machine and ${where} cuts the connection. This is not about TLS versions: enabling TLS 1.2 on the client will not help.`,
        [
          {
            kind: 'network',
            text: `Check the firewall, IPS and proxy rules for ${where} (many filter on the SNI name); try from another network to confirm.`,
          },
        ],
      );
    } else if (only('closed')) {
      add(
        'closed-always',
        `Every ClientHello (${probedList}) was met with a silent close (FIN, no TLS answer): something in front of ${where} drops TLS, or the service is not TLS.`,
        [{ kind: 'network', text: `Check the service behind ${where} and any proxy or load balancer in front of it.` }],
      );
    } else if (only('timeout')) {
      add(
        'timeout-always',
        `${where} accepted the TCP connection but never answered any ClientHello (${probedList}): a middlebox swallows TLS, or the service does not speak TLS first.`,
        [
          {
            kind: 'network',
            text: 'Check for a proxy that must be used explicitly, and for deep packet inspection that holds TLS traffic.',
          },
        ],
      );
    } else {
      const refused = connected
        .map((r) => `${versionLabel(r.version)}: ${r.alert ? r.alert.name : r.outcome}`)
        .join('; ');
      add('no-tls12', `No TLS version completed a handshake with ${where} (${refused}).`, [
        {
          kind: 'network',
          text: `The endpoint refuses every version offered: check its configuration with its owner, and whether a proxy answers for it.`,
        },
      ]);
    }
  } else if (modernOk.length === 0) {
    const working = connected.filter((r) => r.supported).map((r) => r.version);
    add(
      'no-tls12',
      `${where} does not accept TLS 1.2 or 1.3; it completes handshakes only with ${joinVersions(working)}. Clients that require TLS 1.2 cannot connect; the fix is on the server.`,
      [
        {
          kind: 'network',
          text: 'Ask the endpoint owner to enable TLS 1.2; check that no proxy answers in its place.',
        },
      ],
    );
  } else {
    // TLS 1.2 or 1.3 works. What happens to older hellos decides the 10054 question.
    // Older hellos matter only when TLS 1.2 works: then enabling TLS 1.2 on the client is the fix.
    const legacy = ok('TLS1.2')
      ? LEGACY_VERSIONS.map((v) => attempts.get(v)).filter((r): r is AttemptResult => r !== undefined && !r.supported)
      : [];
    const modernText = joinVersions(modernOk);
    if (!ok('TLS1.2')) {
      const r12 = attempts.get('TLS1.2');
      add(
        'no-tls12',
        `${where} accepts only TLS 1.3; a TLS 1.2 ClientHello ${r12 ? `got: ${evidenceOf(r12).detail}` : 'was not tried'}. Clients without TLS 1.3 (Windows before Server 2022 and Windows 11) cannot connect.`,
        [
          {
            kind: 'update',
            text: 'Use a client with TLS 1.3 (Windows Server 2022, Windows 11, a current .NET or OpenSSL), or ask the endpoint owner to keep TLS 1.2.',
          },
        ],
      );
    }
    const resets = legacy.filter((r) => r.outcome === 'reset');
    const alerts = legacy.filter((r) => r.outcome === 'alert');
    const dropped = legacy.filter((r) => r.outcome === 'closed' || r.outcome === 'timeout');
    const clientFix = tls12ClientRemediation(os);
    if (resets.length > 0) {
      add(
        'legacy-version-reset',
        `${where} accepts ${modernText} but resets the TCP connection after a ${joinVersions(resets.map((r) => r.version))} ClientHello. A client that cannot offer TLS 1.2 sees exactly this as error 10054 (WSAECONNRESET, "connection reset by peer"): enable TLS 1.2 on the client (SChannel and .NET Framework).`,
        clientFix,
      );
    } else if (alerts.length > 0) {
      const names = [...new Set(alerts.map((r) => r.alert?.name ?? 'alert'))].join(', ');
      add(
        'legacy-version-alert',
        `${where} accepts ${modernText} and refuses ${joinVersions(alerts.map((r) => r.version))} with a TLS alert (${names}). Clients without TLS 1.2 fail with a TLS error (SChannel: "the client and server cannot communicate, because they do not possess a common algorithm"), not 10054: enable TLS 1.2 on the client.`,
        clientFix,
      );
    } else if (dropped.length > 0) {
      add(
        'legacy-version-dropped',
        `${where} accepts ${modernText} and ${dropped.every((r) => r.outcome === 'timeout') ? 'never answers' : 'silently closes'} ${joinVersions(dropped.map((r) => r.version))} ClientHellos. Clients without TLS 1.2 hang or see the connection closed: enable TLS 1.2 on the client.`,
        clientFix,
      );
    }
    if (resets.length + alerts.length + dropped.length === 0 && ok('TLS1.2')) {
      const legacyOk = LEGACY_VERSIONS.filter(ok);
      add(
        'tls12-ok',
        `${where} completes TLS 1.2 handshakes${ok('TLS1.3') ? ' (and TLS 1.3)' : ''}${legacyOk.length ? `, and still accepts ${joinVersions(legacyOk)}` : ''}: a client with TLS 1.2 enabled can connect, and TLS versions do not explain a 10054 here.`,
      );
    }

    // SNI: the same modern hellos without server_name.
    if (noSni.size > 0) {
      const noSniOk = MODERN_VERSIONS.filter((v) => noSni.get(v)?.supported === true);
      if (noSniOk.length === 0) {
        const how = [...noSni.values()]
          .map((r) => `${versionLabel(r.version)}: ${r.alert ? r.alert.name : r.outcome}`)
          .join('; ');
        add(
          'sni-required',
          `${where} completes a handshake only when the ClientHello names the server (SNI); without it: ${how}. Clients that connect by IP address, or very old ones that send no SNI, fail.`,
          [
            {
              kind: 'update',
              text: 'Connect by host name, not by IP address, so the client sends SNI; SChannel sends SNI from Windows Vista / Server 2008 on.',
            },
          ],
        );
      }
    }
  }

  // The chain: only meaningful when a handshake returned certificates.
  const chain = input.chain;
  if (chain) {
    const inspection = chain.findings.find((f) => f.code === 'likely-tls-inspection');
    if (inspection) {
      add(
        'likely-tls-inspection',
        `The certificate ${where} presented is issued by ${chain.anchor?.name ?? 'an unknown root'}, not a public CA: a TLS-inspecting proxy or security product sits in the path${inspection.message ? ` (${inspection.message})` : ''}. The versions and resets seen are the proxy's answers, not necessarily the endpoint's.`,
        [
          {
            kind: 'network',
            text: `Add ${where} to the inspection bypass list of the proxy or security product; services that pin certificates fail behind inspection.`,
          },
          {
            kind: 'trust-store',
            text: 'If inspection must stay, the inspecting root must be in the machine store (Local Computer\\Trusted Root Certification Authorities), not only the user store.',
          },
        ],
      );
    } else if (!chain.verified || chain.valid === false) {
      const codes = chain.findings.map((f) => f.code);
      const rejected = chain.verified ? chain.findings.find((f) => f.severity === 'error') : undefined;
      const why = rejected
        ? `a strict validator rejects it (${rejected.code}${rejected.message ? `: ${rejected.message}` : ''})`
        : codes.includes('missing-intermediate')
          ? 'an intermediate certificate is missing'
          : codes.includes('root-expired')
            ? 'the root it ends at has expired'
            : chain.anchor
              ? `it ends at ${chain.anchor.name}, which is not a trusted root`
              : 'it does not lead to a trusted root';
      add('chain-untrusted', `The certificate chain ${where} sent does not verify: ${why}.`, [
        {
          kind: 'trust-store',
          text: "Update the machine's root certificates (Windows Update, or `certutil -generateSSTFromWU roots.sst` and import on offline machines), and install any missing intermediate.",
        },
      ]);
    }
  }

  if (client) addClientVerdict(client, where, modernOk.length > 0, (v) => attempts.get(v) !== undefined && !ok(v), add);
  return finish(holding, evidence, client);
}

/**
 * Adds client-hello-rejected when the client asked about fails for its hello: an explicit client
 * when the endpoint accepts modern hellos or a smaller reference was found; the default client only
 * when bisection named a cause while no TLS 1.2/1.3 hello of the scan worked.
 */
function addClientVerdict(
  client: ClientFacts,
  where: string,
  modernWorks: boolean,
  refused: (v: ProbeVersion) => boolean,
  add: (code: VerdictCode, summary: string, remediation: Remediation[], extra: { cause?: HelloCause }) => void,
): void {
  const cause = client.bisection?.cause ?? null;
  if (client.name !== 'default') {
    if (!modernWorks && cause === null) return;
    const cv = clientHelloVerdict(client, where, client.versions.some(refused));
    if (cv) add('client-hello-rejected', cv.summary, cv.remediation, { cause: cv.cause });
    return;
  }
  // tlsprobe's own TLS 1.2/1.3 hellos fail while another hello works, for a reason bisection named.
  if (modernWorks || cause === null || cause.code === 'unknown') return;
  const cv = clientHelloVerdict(client, where, false);
  if (cv) add('client-hello-rejected', cv.summary, cv.remediation, { cause: cv.cause });
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
 * Returns proxy-unreachable or proxy-refused when the proxied attempt `first` ended before the proxy
 * opened a tunnel, with the direct attempts beside it; null when the proxy is not to blame.
 */
function proxyPathVerdict(
  first: AttemptResult,
  direct: Map<ProbeVersion, AttemptResult>,
  via: string,
  where: string,
): { code: VerdictCode; summary: string; remediation: Remediation[] } | null {
  const directText = direct.size
    ? [...direct.values()].map((d) => `${versionLabel(d.version)}: ${evidenceOf(d).detail}`).join('; ')
    : 'not tried';
  const directOk = [...direct.values()].some((d) => d.outcome === 'negotiated' || d.outcome === 'alert');
  const paths = directOk
    ? `The proxy path fails; the direct path to ${where} works (${directText}).`
    : `The direct path to ${where} fails too (${directText}).`;
  if (isSetupEnd(first.end) || (first.phase === 'proxy' && first.end !== 'dns-error')) {
    const reply = first.error ?? `the proxy ended the connection (${first.end})`;
    return {
      code: 'proxy-refused',
      summary: `The proxy ${via} refused to open a tunnel to ${where}${first.errorCode ? ` (${first.errorCode})` : ''}: ${reply}. No ClientHello reached the endpoint. ${paths}`,
      remediation: [
        {
          kind: 'network',
          text: `Ask the administrators of ${via} to allow CONNECT to ${where} (or give the credentials it asks for)${directOk ? ', or let the client connect directly, as the direct attempts show it can' : ''}.`,
        },
      ],
    };
  }
  if (first.phase === 'connect' || first.phase === 'proxy') {
    const how =
      first.outcome === 'connect-timeout'
        ? 'the TCP connection to it timed out'
        : `${describeOutcome(first.outcome, first.errorCode)}${first.error ? ` — ${first.error}` : ''}`;
    return {
      code: 'proxy-unreachable',
      summary: `The proxy ${via} could not be reached: ${how}. No ClientHello reached ${where} through it; this is not a TLS problem. ${paths}`,
      remediation: [
        {
          kind: 'network',
          text: `Check the proxy address and port (${via}), and that it runs and is reachable from this machine${directOk ? '; or connect directly, which works' : ''}.`,
        },
      ],
    };
  }
  return null;
}

function finish(
  holding: readonly { verdict: Verdict; remediation: Remediation[] }[],
  evidence: Evidence[],
  client: ClientFacts | null = null,
): Diagnosis {
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
