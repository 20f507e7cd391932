/**
 * The verdict rules, one small function each: every rule reads the facts a scan gathered
 * (`VerdictFacts`) and returns the verdict it finds, or null. `VERDICT_RULES` lists them in the order
 * their verdicts are gathered; `decideVerdict` (verdict.ts) runs them all and ranks what holds.
 * `unreachableVerdict` is the rule for a scan in which no ClientHello reached the endpoint, which
 * ends the diagnosis on its own.
 */
import type { AttemptResult } from '../probe/attempt.js';
import { describeOutcome, type OutcomeKind } from '../probe/outcome.js';
import type { ProbeVersion } from '../probe/profiles.js';
import { isSetupEnd } from '../probe/transport.js';
import { clientHelloVerdict, type ClientFacts } from './client-verdict.js';
import type { HelloCause } from './hello-bisect.js';
import { tls12ClientRemediation, type Remediation } from './remediation.js';
import { evidenceOf, joinVersions, versionLabel } from './verdict-evidence.js';
import type { Verdict, VerdictCode, VerdictInput } from './verdict-types.js';

const LEGACY_VERSIONS: readonly ProbeVersion[] = ['TLS1.0', 'TLS1.1'];
export const MODERN_VERSIONS: readonly ProbeVersion[] = ['TLS1.2', 'TLS1.3'];

/** A verdict that holds, with what to do about it. */
export interface HeldVerdict {
  readonly verdict: Verdict;
  readonly remediation: readonly Remediation[];
}

/** What the rules read: the input and the attempts of its scans, by version, gathered once. */
export interface VerdictFacts {
  readonly input: VerdictInput;
  /** `host:port`, or 'the endpoint'. */
  readonly where: string;
  readonly client: ClientFacts | null;
  /** The attempts of `input.withSni`, `input.withoutSni` and `input.direct`. */
  readonly attempts: ReadonlyMap<ProbeVersion, AttemptResult>;
  readonly noSni: ReadonlyMap<ProbeVersion, AttemptResult>;
  readonly direct: ReadonlyMap<ProbeVersion, AttemptResult>;
  /** The attempts with SNI that got past TCP connect. */
  readonly connected: readonly AttemptResult[];
  /** How the connected attempts ended. */
  readonly outcomes: ReadonlySet<OutcomeKind>;
  /** TLS 1.2 and 1.3, those that completed a handshake. */
  readonly modernOk: readonly ProbeVersion[];
}

/** Returns the verdict a rule finds in the facts, or null when it does not hold. */
export type VerdictRule = (f: VerdictFacts) => HeldVerdict | null;

function held(
  code: VerdictCode,
  summary: string,
  remediation: readonly Remediation[] = [],
  extra: { cause?: HelloCause } = {},
): HeldVerdict {
  return { verdict: { code, summary, ...extra }, remediation };
}

/** True when the attempt with SNI at `v` completed a handshake. */
function ok(f: VerdictFacts, v: ProbeVersion): boolean {
  return f.attempts.get(v)?.supported === true;
}

/** True when every connected attempt ended in `o`. */
function only(f: VerdictFacts, o: OutcomeKind): boolean {
  return f.outcomes.size === 1 && f.outcomes.has(o);
}

/** True when no TLS 1.2/1.3 hello and no other hello completed a handshake. */
function nothingNegotiates(f: VerdictFacts): boolean {
  return f.modernOk.length === 0 && !f.connected.some((r) => r.outcome === 'negotiated');
}

function probedList(f: VerdictFacts): string {
  return joinVersions(f.connected.map((r) => r.version));
}

/** TLS 1.0/1.1 attempts refused while TLS 1.2 works (empty when TLS 1.2 does not). */
function legacyRefused(f: VerdictFacts): AttemptResult[] {
  if (f.modernOk.length === 0 || !ok(f, 'TLS1.2')) return [];
  return LEGACY_VERSIONS.map((v) => f.attempts.get(v)).filter(
    (r): r is AttemptResult => r !== undefined && !r.supported,
  );
}

/** The legacy hellos refused by a reset, an alert, or a silent close or timeout. */
function legacyEndings(f: VerdictFacts): {
  resets: AttemptResult[];
  alerts: AttemptResult[];
  dropped: AttemptResult[];
} {
  const legacy = legacyRefused(f);
  return {
    resets: legacy.filter((r) => r.outcome === 'reset'),
    alerts: legacy.filter((r) => r.outcome === 'alert'),
    dropped: legacy.filter((r) => r.outcome === 'closed' || r.outcome === 'timeout'),
  };
}

// ---------------------------------------------------------------------------------------------
// No ClientHello reached the endpoint

/** endpoint-unreachable for a name that did not resolve. */
export function dnsVerdict(
  input: VerdictInput,
  dnsError: { readonly code: string; readonly message: string },
): HeldVerdict {
  return held(
    'endpoint-unreachable',
    `${input.host ? `The name ${input.host}` : 'The host name'} did not resolve (${dnsError.code}): no connection was made, so this is not a TLS problem.`,
    [
      {
        kind: 'network',
        text: `Check the DNS server this machine uses (and split DNS or private endpoints for cloud names): ${dnsError.message}.`,
      },
    ],
  );
}

/**
 * Returns the verdict for a scan in which no attempt got past TCP connect (`first` is its first
 * attempt): the proxy's failure when one is to blame, else endpoint-unreachable.
 */
export function unreachableVerdict(f: VerdictFacts, first: AttemptResult): HeldVerdict {
  if (f.input.via !== undefined) {
    const pv = proxyPathVerdict(first, f.direct, f.input.via ?? 'the proxy', f.where);
    if (pv) return pv;
  }
  const how =
    first.outcome === 'connect-timeout'
      ? 'the TCP connection timed out (no answer to SYN)'
      : `the TCP connection was refused or unreachable${first.errorCode ? ` (${first.errorCode})` : ''}`;
  return held(
    'endpoint-unreachable',
    `No ClientHello reached ${f.where}: ${how}. This is not a TLS problem; no TLS setting changes it.`,
    [
      {
        kind: 'network',
        text:
          first.outcome === 'connect-timeout'
            ? `Outbound TCP to ${f.where} is dropped: check the firewall, proxy requirements and routing for this port.`
            : `Nothing accepted the connection on ${f.where}: check the address and port, and whether a firewall rejects the port outbound.`,
      },
    ],
  );
}

/**
 * Returns proxy-unreachable or proxy-refused when the proxied attempt `first` ended before the proxy
 * opened a tunnel, with the direct attempts beside it; null when the proxy is not to blame.
 */
function proxyPathVerdict(
  first: AttemptResult,
  direct: ReadonlyMap<ProbeVersion, AttemptResult>,
  via: string,
  where: string,
): HeldVerdict | null {
  const directText = direct.size
    ? [...direct.values()].map((d) => `${versionLabel(d.version)}: ${evidenceOf(d).detail}`).join('; ')
    : 'not tried';
  const directOk = [...direct.values()].some((d) => d.outcome === 'negotiated' || d.outcome === 'alert');
  const paths = directOk
    ? `The proxy path fails; the direct path to ${where} works (${directText}).`
    : `The direct path to ${where} fails too (${directText}).`;
  if (isSetupEnd(first.end) || (first.phase === 'proxy' && first.end !== 'dns-error')) {
    const reply = first.error ?? `the proxy ended the connection (${first.end})`;
    return held(
      'proxy-refused',
      `The proxy ${via} refused to open a tunnel to ${where}${first.errorCode ? ` (${first.errorCode})` : ''}: ${reply}. No ClientHello reached the endpoint. ${paths}`,
      [
        {
          kind: 'network',
          text: `Ask the administrators of ${via} to allow CONNECT to ${where} (or give the credentials it asks for)${directOk ? ', or let the client connect directly, as the direct attempts show it can' : ''}.`,
        },
      ],
    );
  }
  if (first.phase === 'connect' || first.phase === 'proxy') {
    const how =
      first.outcome === 'connect-timeout'
        ? 'the TCP connection to it timed out'
        : `${describeOutcome(first.outcome, first.errorCode)}${first.error ? ` — ${first.error}` : ''}`;
    return held(
      'proxy-unreachable',
      `The proxy ${via} could not be reached: ${how}. No ClientHello reached ${where} through it; this is not a TLS problem. ${paths}`,
      [
        {
          kind: 'network',
          text: `Check the proxy address and port (${via}), and that it runs and is reachable from this machine${directOk ? '; or connect directly, which works' : ''}.`,
        },
      ],
    );
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The rules, in the order their verdicts are gathered

/**
 * proxy-resets: a reset through the proxy where the direct hello got a TLS answer (a handshake or an
 * alert) is the proxy's doing. That is the 10054 a client behind the proxy sees.
 */
const proxyResets: VerdictRule = (f) => {
  const resets = [...f.direct.entries()].filter(
    ([v, d]) => f.attempts.get(v)?.outcome === 'reset' && (d.outcome === 'negotiated' || d.outcome === 'alert'),
  );
  if (resets.length === 0) return null;
  const via = f.input.via ?? 'the proxy';
  const directly = resets
    .map(
      ([v, d]) =>
        `${versionLabel(v)}: ${d.outcome === 'negotiated' ? 'handshake accepted' : `${d.alert?.name ?? 'an'} alert`}`,
    )
    .join('; ');
  return held(
    'proxy-resets',
    `Through the proxy ${via}, the ${joinVersions(resets.map(([v]) => v))} ClientHello to ${f.where} is answered with a TCP reset (error 10054, WSAECONNRESET), while the same hello sent directly gets a TLS answer (${directly}). The proxy resets or inspects this TLS traffic; the endpoint is not the cause.`,
    [
      {
        kind: 'network',
        text: `The proxy ${via} resets or inspects TLS to ${f.where}: bypass it for these hosts (add ${f.input.host ?? 'the endpoint'} to its bypass or no-inspection list, or let the client connect directly), or ask its administrators which rule resets the handshake.`,
      },
    ],
  );
};

/** not-tls: nothing negotiates and some reply is not TLS. */
const notTls: VerdictRule = (f) =>
  nothingNegotiates(f) && f.outcomes.has('malformed')
    ? held(
        'not-tls',
        `Something other than a TLS server answers on ${f.where}: the reply to the ClientHello is not TLS.`,
        [
          {
            kind: 'network',
            text: 'Check the port, and whether this network requires an HTTP proxy (a proxy or captive portal answers in plain HTTP).',
          },
        ],
      )
    : null;

/** reset-always: every hello, TLS 1.2 included, is reset. */
const resetAlways: VerdictRule = (f) =>
  nothingNegotiates(f) && only(f, 'reset')
    ? held(
        'reset-always',
        `Every ClientHello (${probedList(f)}) was answered with a TCP reset, TLS 1.2 included: a firewall, IPS or proxy between this machine and ${f.where} cuts the connection. This is not about TLS versions: enabling TLS 1.2 on the client will not help.`,
        [
          {
            kind: 'network',
            text: `Check the firewall, IPS and proxy rules for ${f.where} (many filter on the SNI name); try from another network to confirm.`,
          },
        ],
      )
    : null;

/** closed-always: every hello is met with a FIN and no TLS answer. */
const closedAlways: VerdictRule = (f) =>
  nothingNegotiates(f) && only(f, 'closed')
    ? held(
        'closed-always',
        `Every ClientHello (${probedList(f)}) was met with a silent close (FIN, no TLS answer): something in front of ${f.where} drops TLS, or the service is not TLS.`,
        [
          {
            kind: 'network',
            text: `Check the service behind ${f.where} and any proxy or load balancer in front of it.`,
          },
        ],
      )
    : null;

/** timeout-always: the connection is accepted but no hello is ever answered. */
const timeoutAlways: VerdictRule = (f) =>
  nothingNegotiates(f) && only(f, 'timeout')
    ? held(
        'timeout-always',
        `${f.where} accepted the TCP connection but never answered any ClientHello (${probedList(f)}): a middlebox swallows TLS, or the service does not speak TLS first.`,
        [
          {
            kind: 'network',
            text: 'Check for a proxy that must be used explicitly, and for deep packet inspection that holds TLS traffic.',
          },
        ],
      )
    : null;

/** no-tls12: nothing negotiates, for mixed reasons none of the rules above names. */
const nothingCompletes: VerdictRule = (f) => {
  if (!nothingNegotiates(f) || f.outcomes.has('malformed')) return null;
  if (only(f, 'reset') || only(f, 'closed') || only(f, 'timeout')) return null;
  const refused = f.connected
    .map((r) => `${versionLabel(r.version)}: ${r.alert ? r.alert.name : r.outcome}`)
    .join('; ');
  return held('no-tls12', `No TLS version completed a handshake with ${f.where} (${refused}).`, [
    {
      kind: 'network',
      text: `The endpoint refuses every version offered: check its configuration with its owner, and whether a proxy answers for it.`,
    },
  ]);
};

/** no-tls12: only versions older than TLS 1.2 complete a handshake. */
const onlyLegacyVersions: VerdictRule = (f) => {
  if (f.modernOk.length > 0 || nothingNegotiates(f)) return null;
  const working = f.connected.filter((r) => r.supported).map((r) => r.version);
  return held(
    'no-tls12',
    `${f.where} does not accept TLS 1.2 or 1.3; it completes handshakes only with ${joinVersions(working)}. Clients that require TLS 1.2 cannot connect; the fix is on the server.`,
    [
      {
        kind: 'network',
        text: 'Ask the endpoint owner to enable TLS 1.2; check that no proxy answers in its place.',
      },
    ],
  );
};

/** no-tls12: TLS 1.3 works, TLS 1.2 does not. */
const onlyTls13: VerdictRule = (f) => {
  if (f.modernOk.length === 0 || ok(f, 'TLS1.2')) return null;
  const r12 = f.attempts.get('TLS1.2');
  return held(
    'no-tls12',
    `${f.where} accepts only TLS 1.3; a TLS 1.2 ClientHello ${r12 ? `got: ${evidenceOf(r12).detail}` : 'was not tried'}. Clients without TLS 1.3 (Windows before Server 2022 and Windows 11) cannot connect.`,
    [
      {
        kind: 'update',
        text: 'Use a client with TLS 1.3 (Windows Server 2022, Windows 11, a current .NET or OpenSSL), or ask the endpoint owner to keep TLS 1.2.',
      },
    ],
  );
};

/**
 * legacy-version-reset, -alert or -dropped: TLS 1.2 works and older hellos are refused; what happens
 * to them decides the 10054 question, and enabling TLS 1.2 on the client is the fix.
 */
const legacyVersionRefused: VerdictRule = (f) => {
  const { resets, alerts, dropped } = legacyEndings(f);
  const modernText = joinVersions(f.modernOk);
  const clientFix = tls12ClientRemediation(f.input.os ?? null);
  if (resets.length > 0) {
    return held(
      'legacy-version-reset',
      `${f.where} accepts ${modernText} but resets the TCP connection after a ${joinVersions(resets.map((r) => r.version))} ClientHello. A client that cannot offer TLS 1.2 sees exactly this as error 10054 (WSAECONNRESET, "connection reset by peer"): enable TLS 1.2 on the client (SChannel and .NET Framework).`,
      clientFix,
    );
  }
  if (alerts.length > 0) {
    const names = [...new Set(alerts.map((r) => r.alert?.name ?? 'alert'))].join(', ');
    return held(
      'legacy-version-alert',
      `${f.where} accepts ${modernText} and refuses ${joinVersions(alerts.map((r) => r.version))} with a TLS alert (${names}). Clients without TLS 1.2 fail with a TLS error (SChannel: "the client and server cannot communicate, because they do not possess a common algorithm"), not 10054: enable TLS 1.2 on the client.`,
      clientFix,
    );
  }
  if (dropped.length > 0) {
    return held(
      'legacy-version-dropped',
      `${f.where} accepts ${modernText} and ${dropped.every((r) => r.outcome === 'timeout') ? 'never answers' : 'silently closes'} ${joinVersions(dropped.map((r) => r.version))} ClientHellos. Clients without TLS 1.2 hang or see the connection closed: enable TLS 1.2 on the client.`,
      clientFix,
    );
  }
  return null;
};

/** tls12-ok: TLS 1.2 works and no older hello is reset, refused with an alert or dropped. */
const tls12Ok: VerdictRule = (f) => {
  if (f.modernOk.length === 0 || !ok(f, 'TLS1.2')) return null;
  const { resets, alerts, dropped } = legacyEndings(f);
  if (resets.length + alerts.length + dropped.length > 0) return null;
  const legacyOk = LEGACY_VERSIONS.filter((v) => ok(f, v));
  return held(
    'tls12-ok',
    `${f.where} completes TLS 1.2 handshakes${ok(f, 'TLS1.3') ? ' (and TLS 1.3)' : ''}${legacyOk.length ? `, and still accepts ${joinVersions(legacyOk)}` : ''}: a client with TLS 1.2 enabled can connect, and TLS versions do not explain a 10054 here.`,
  );
};

/** sni-required: the modern hellos that work with server_name fail without it. */
const sniRequired: VerdictRule = (f) => {
  if (f.modernOk.length === 0 || f.noSni.size === 0) return null;
  if (MODERN_VERSIONS.some((v) => f.noSni.get(v)?.supported === true)) return null;
  const how = [...f.noSni.values()]
    .map((r) => `${versionLabel(r.version)}: ${r.alert ? r.alert.name : r.outcome}`)
    .join('; ');
  return held(
    'sni-required',
    `${f.where} completes a handshake only when the ClientHello names the server (SNI); without it: ${how}. Clients that connect by IP address, or very old ones that send no SNI, fail.`,
    [
      {
        kind: 'update',
        text: 'Connect by host name, not by IP address, so the client sends SNI; SChannel sends SNI from Windows Vista / Server 2008 on.',
      },
    ],
  );
};

/** likely-tls-inspection or chain-untrusted, from the chain check (only when a handshake returned certificates). */
const chainVerdict: VerdictRule = (f) => {
  const chain = f.input.chain;
  if (!chain) return null;
  const inspection = chain.findings.find((x) => x.code === 'likely-tls-inspection');
  if (inspection) {
    return held(
      'likely-tls-inspection',
      `The certificate ${f.where} presented is issued by ${chain.anchor?.name ?? 'an unknown root'}, not a public CA: a TLS-inspecting proxy or security product sits in the path${inspection.message ? ` (${inspection.message})` : ''}. The versions and resets seen are the proxy's answers, not necessarily the endpoint's.`,
      [
        {
          kind: 'network',
          text: `Add ${f.where} to the inspection bypass list of the proxy or security product; services that pin certificates fail behind inspection.`,
        },
        {
          kind: 'trust-store',
          text: 'If inspection must stay, the inspecting root must be in the machine store (Local Computer\\Trusted Root Certification Authorities), not only the user store.',
        },
      ],
    );
  }
  if (chain.verified && chain.valid !== false) return null;
  const codes = chain.findings.map((x) => x.code);
  const rejected = chain.verified ? chain.findings.find((x) => x.severity === 'error') : undefined;
  const why = rejected
    ? `a strict validator rejects it (${rejected.code}${rejected.message ? `: ${rejected.message}` : ''})`
    : codes.includes('missing-intermediate')
      ? 'an intermediate certificate is missing'
      : codes.includes('root-expired')
        ? 'the root it ends at has expired'
        : chain.anchor
          ? `it ends at ${chain.anchor.name}, which is not a trusted root`
          : 'it does not lead to a trusted root';
  return held('chain-untrusted', `The certificate chain ${f.where} sent does not verify: ${why}.`, [
    {
      kind: 'trust-store',
      text: "Update the machine's root certificates (Windows Update, or `certutil -generateSSTFromWU roots.sst` and import on offline machines), and install any missing intermediate.",
    },
  ]);
};

/**
 * client-hello-rejected when the client asked about fails for its hello: an explicit client when
 * the endpoint accepts modern hellos or a smaller reference was found; the default client only when
 * bisection named a cause while no TLS 1.2/1.3 hello of the scan worked.
 */
const clientHelloRejected: VerdictRule = (f) => {
  const client = f.client;
  if (!client) return null;
  const modernWorks = f.modernOk.length > 0;
  const cause = client.bisection?.cause ?? null;
  let cv: ReturnType<typeof clientHelloVerdict>;
  if (client.name !== 'default') {
    if (!modernWorks && cause === null) return null;
    const refused = (v: ProbeVersion): boolean => f.attempts.get(v) !== undefined && !ok(f, v);
    cv = clientHelloVerdict(client, f.where, client.versions.some(refused));
  } else {
    // tlsprobe's own TLS 1.2/1.3 hellos fail while another hello works, for a reason bisection named.
    if (modernWorks || cause === null || cause.code === 'unknown') return null;
    cv = clientHelloVerdict(client, f.where, false);
  }
  return cv ? held('client-hello-rejected', cv.summary, cv.remediation, { cause: cv.cause }) : null;
};

/** Every rule, in the order their verdicts are gathered (`decideVerdict` ranks them by `VERDICT_CODES`). */
export const VERDICT_RULES: readonly VerdictRule[] = [
  proxyResets,
  notTls,
  resetAlways,
  closedAlways,
  timeoutAlways,
  nothingCompletes,
  onlyLegacyVersions,
  onlyTls13,
  legacyVersionRefused,
  tls12Ok,
  sniRequired,
  chainVerdict,
  clientHelloRejected,
];
