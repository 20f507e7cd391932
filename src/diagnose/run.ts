/**
 * Runs what a diagnosis needs and decides it: `runDiagnosis` resolves with the version scan, the
 * TLS 1.2/1.3 retry without SNI (when it was worth running), and the `Diagnosis`; it never rejects
 * for network outcomes (DNS failure, refusals and resets are verdicts, not exceptions).
 *
 * Connections: one per protocol version (five), plus two without SNI when a version with SNI
 * completed a handshake and an SNI was sent (otherwise "works only with SNI" cannot be told).
 * With a proxy (`via`), those go through the proxy, and two more go direct (TLS 1.0 and TLS 1.2),
 * so that a proxy that resets or inspects TLS — a common cause of 10054 — shows as the difference.
 */
import { attemptOptionsOf, scan, defaultSni, type ScanOptions, type ScanResult } from '../probe/scan.js';
import { formatVia, type Via } from '../probe/proxy.js';
import type { StarttlsProtocol } from '../probe/starttls.js';
import { attempt, type AttemptOptions, type AttemptResult } from '../probe/attempt.js';
import { buildClientHello, type HelloOptions, type PrebuiltHello, type ProbeVersion } from '../probe/profiles.js';
import { NamedGroup, SignatureScheme } from '../tls/registry.js';
import type { AddressScan } from '../probe/scan.js';
import type { ClientFacts } from './client-verdict.js';
import { bisectClientHello } from './hello-bisect.js';
import { decideVerdict } from './verdict.js';
import type { ChainLike, Diagnosis } from './verdict-types.js';
import type { WindowsVersion } from './windows-versions.js';

export interface RunDiagnosisOptions {
  readonly port: number;
  /** SNI to send: undefined = the host when it is a name; null = none. */
  readonly sni?: string | null;
  readonly connectTimeoutMs?: number;
  readonly readTimeoutMs?: number;
  /** The client's Windows version, to narrow the remediation. */
  readonly os?: WindowsVersion | null;
  /** Checks the certificates the server sent (x509/chain's `checkChain` fits); null when it cannot tell. */
  readonly chainCheck?: (ders: Uint8Array[], host: string) => ChainLike | null;
  readonly signal?: AbortSignal;
  /** Diagnose through this proxy, and compare with direct TLS 1.0 and TLS 1.2 attempts. */
  readonly via?: Via;
  /** Upgrade every connection with this protocol's STARTTLS dialogue. */
  readonly starttls?: StarttlsProtocol;
  /**
   * The client asked about (a `tlsprobe clients` profile): its own ClientHello is sent, and bisected
   * when it fails where another hello succeeds. Default: tlsprobe's TLS 1.3/1.2 hellos.
   */
  readonly client?: ClientLike;
}

/** What the diagnosis needs of a client profile (diagnose/clients.ts `ClientProfile` fits). */
export interface ClientLike {
  readonly name: string;
  readonly title: string;
  readonly versions: readonly ProbeVersion[];
  build(sni: string | null): PrebuiltHello;
}

export interface DiagnosisRun {
  /** The scan as the client makes it: through `via` when one is given. */
  readonly scan: ScanResult;
  readonly noSniScan: ScanResult | null;
  /** With `via`: the same host reached directly (TLS 1.0 and TLS 1.2 only); else null. */
  readonly directScan: ScanResult | null;
  /** The client asked about, as tried (null when nothing connected). */
  readonly client: ClientFacts | null;
  readonly diagnosis: Diagnosis;
}

/** The versions tried directly when a proxy is in use: the legacy hello behind most 10054s, and TLS 1.2. */
const DIRECT_VERSIONS = ['TLS1.0', 'TLS1.2'] as const;

/** Returns the scans run for `host` and the diagnosis decided from them. */
export async function runDiagnosis(host: string, opts: RunDiagnosisOptions): Promise<DiagnosisRun> {
  const sni = opts.sni === undefined ? defaultSni(host) : opts.sni;
  const common = {
    port: opts.port,
    ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
    ...(opts.readTimeoutMs !== undefined ? { readTimeoutMs: opts.readTimeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.starttls ? { starttls: opts.starttls } : {}),
  } satisfies Partial<ScanOptions>;
  const proxied = opts.via ? { ...common, via: opts.via } : common;
  // The direct comparison runs alongside the proxied scan: they use different first hops.
  const [main, directScan] = await Promise.all([
    scan(host, { ...proxied, sni }),
    opts.via ? scan(host, { ...common, sni, versions: DIRECT_VERSIONS }) : Promise.resolve(null),
  ]);
  const base = { host, port: opts.port, os: opts.os ?? null, ...(opts.via ? { via: formatVia(opts.via) } : {}) };
  const direct = directScan ? { direct: directScan.addresses[0] ?? null } : {};
  if (main.dnsError) {
    return {
      scan: main,
      noSniScan: null,
      directScan,
      client: null,
      diagnosis: decideVerdict({ ...base, withSni: null, dnsError: main.dnsError }),
    };
  }
  const first = main.addresses[0] ?? null;
  const anyHandshake = first?.versions.some((r) => r?.supported) ?? false;

  let noSniScan: ScanResult | null = null;
  if (sni !== null && anyHandshake && first) {
    // Same address as the first scan, so a multi-address name cannot make SNI look required.
    noSniScan = await scan(first.address, { ...proxied, sni: null, versions: ['TLS1.2', 'TLS1.3'] });
  }

  const chain =
    first && first.certificates.length > 0 && opts.chainCheck
      ? opts.chainCheck([...first.certificates], sni ?? host)
      : null;
  const attemptOpts = attemptOptionsOf(opts);
  const client = first ? await tryClient(host, opts.port, first, sni, opts.client, attemptOpts) : null;
  const diagnosis = decideVerdict({
    ...base,
    withSni: first,
    withoutSni: noSniScan?.addresses[0] ?? null,
    ...direct,
    chain,
    client,
  });
  return { scan: main, noSniScan, directScan, client, diagnosis };
}

/** Versions whose scan hello may serve as the reference a failing hello is bisected towards, best first. */
const REFERENCE_ORDER: readonly ProbeVersion[] = ['TLS1.3', 'TLS1.2', 'TLS1.1', 'TLS1.0'];

/** Returns the scan's attempt for `v`, if it ran. */
function scanned(s: AddressScan, v: ProbeVersion): AttemptResult | undefined {
  const i = s.probedVersions.indexOf(v);
  return i < 0 ? undefined : (s.versions[i] ?? undefined);
}

/**
 * Returns the facts about the client asked about at `first`'s address: the profile's hello sent once
 * (or, by default, the scan's TLS 1.3/1.2 attempts), bisected against a scan hello that negotiated
 * when it failed. Null when nothing connected, or when the default client has nothing to bisect.
 */
async function tryClient(
  host: string,
  port: number,
  first: AddressScan,
  sni: string | null,
  profile: ClientLike | undefined,
  opts: AttemptOptions,
): Promise<ClientFacts | null> {
  const target = { host, address: first.address, port };
  let ref: HelloOptions | null | undefined; // undefined: not looked for yet
  const reference = async (): Promise<HelloOptions | null> => {
    if (ref === undefined) ref = await findReference(target, first, sni, opts);
    return ref;
  };
  const prebuilt = (o: HelloOptions): PrebuiltHello => {
    const b = buildClientHello(o);
    return { version: o.version, hello: b.hello, keyPairs: b.keyPairs };
  };
  if (profile) {
    const hello = profile.build(sni);
    const a = await attempt(target, hello, opts);
    const modern = profile.versions.includes('TLS1.2') || profile.versions.includes('TLS1.3');
    const legacyRefusedToo =
      !modern &&
      profile.versions.some((v) => scanned(first, v) !== undefined && scanned(first, v)?.outcome !== 'negotiated');
    const r =
      a.outcome !== 'negotiated' && !legacyRefusedToo && !isConnectFailureOutcome(a.outcome) ? await reference() : null;
    const bisection = r ? await bisectClientHello(target, hello, prebuilt(r), opts) : null;
    return {
      name: profile.name,
      title: profile.title,
      versions: profile.versions,
      attempt: a,
      bisection,
      referenceVersion: r?.version ?? null,
    };
  }
  // The default client: a current client offering TLS 1.3 and 1.2. Only when neither of the scan's
  // hellos worked but another hello does is there a hello of its own to bisect.
  const modern = scanned(first, 'TLS1.3') ?? scanned(first, 'TLS1.2');
  if (!modern) return null;
  const failed = ['TLS1.2', 'TLS1.3'].every((v) => scanned(first, v as ProbeVersion)?.outcome !== 'negotiated');
  let bisection = null;
  const r = failed && !isConnectFailureOutcome(modern.outcome) ? await reference() : null;
  if (r) bisection = await bisectClientHello(target, prebuilt({ version: 'TLS1.2', sni }), prebuilt(r), opts);
  return {
    name: 'default',
    title: "A current TLS 1.2+ client (tlsprobe's TLS 1.2 hello)",
    versions: ['TLS1.2', 'TLS1.3'],
    attempt: scanned(first, 'TLS1.2') ?? modern,
    bisection,
    referenceVersion: r?.version ?? null,
  };
}

/**
 * Smaller hellos tried, one connection each, when none of the scan's hellos completed a handshake
 * yet the endpoint took connections: a device that refuses one group or scheme every full hello
 * carries lets one of these through, and it becomes the reference to bisect towards.
 */
const FALLBACK_REFERENCES: readonly Omit<HelloOptions, 'sni'>[] = [
  { version: 'TLS1.2', groups: [NamedGroup.x25519] },
  { version: 'TLS1.2', groups: [NamedGroup.secp256r1] },
  {
    version: 'TLS1.2',
    groups: [NamedGroup.x25519, NamedGroup.secp256r1],
    signatureSchemes: [
      SignatureScheme.rsa_pss_rsae_sha256,
      SignatureScheme.rsa_pkcs1_sha256,
      SignatureScheme.ecdsa_secp256r1_sha256,
    ],
  },
  { version: 'TLS1.3', groups: [NamedGroup.x25519] },
];

/**
 * Returns the options of a hello the endpoint accepts: the scan's best that negotiated, else the
 * first of `FALLBACK_REFERENCES` that does when the endpoint took connections; null when none does.
 */
async function findReference(
  target: { host: string; address: string; port: number },
  first: AddressScan,
  sni: string | null,
  opts: AttemptOptions,
): Promise<HelloOptions | null> {
  const v = REFERENCE_ORDER.find((x) => scanned(first, x)?.outcome === 'negotiated');
  if (v) return { version: v, sni };
  if (!first.versions.some((r) => r && !isConnectFailureOutcome(r.outcome))) return null;
  for (const f of FALLBACK_REFERENCES) {
    const o: HelloOptions = { ...f, sni };
    if ((await attempt(target, o, opts)).outcome === 'negotiated') return o;
  }
  return null;
}

function isConnectFailureOutcome(o: AttemptResult['outcome']): boolean {
  return o === 'connect-refused' || o === 'connect-timeout' || o === 'dns-error';
}
