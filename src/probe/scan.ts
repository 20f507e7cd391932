/**
 * Scans one target: resolves it once, runs one attempt per protocol version (in parallel under the
 * per-host limiter), optionally enumerates cipher suites and groups, and keeps the certificates the
 * server sent for the highest accepted version. With `allAddresses`, every address behind the name
 * is scanned and addresses that answer differently are flagged (load-balanced endpoints do that).
 *
 * This layer decides; it formats nothing (report/ does).
 */
import { isIP } from 'node:net';
import { attempt, type AttemptOptions, type AttemptResult, type ProbeTarget } from './attempt.js';
import { PROBE_VERSIONS, VERSION_CODE, suitesForVersion, type ProbeVersion } from './profiles.js';
import { resolveHost, type LookupAll, type ResolvedAddress, type ResolveResult } from './transport.js';
import type { Via } from './proxy.js';
import type { StarttlsProtocol } from './starttls.js';
import { createLimiter, isBudgetExhausted, type Limiter } from './limiter.js';
import {
  enumerateCiphers,
  enumerateGroups,
  predictCipherConnections,
  predictGroupConnections,
  type CipherEnumeration,
  type GroupEnumeration,
} from './enumerate.js';

export interface ScanOptions {
  readonly port: number;
  /** SNI to send: undefined = the host when it is a name (never for IP literals); null = none. */
  readonly sni?: string | null;
  readonly versions?: readonly ProbeVersion[];
  readonly connectTimeoutMs?: number;
  readonly readTimeoutMs?: number;
  /** Connections in flight to one address at once. */
  readonly concurrency?: number;
  /** Connection starts per second. */
  readonly rate?: number;
  /** Total connections per address. */
  readonly maxConnections?: number;
  readonly ciphers?: boolean;
  readonly groups?: boolean;
  readonly allAddresses?: boolean;
  readonly signal?: AbortSignal;
  /** Keep each version attempt's bytes and TLS 1.3 secrets (`AttemptResult.trace`), for --pcap/--keylog. */
  readonly trace?: boolean;
  /**
   * Reach the host through this proxy: the host is not resolved here but named to the proxy (one
   * "address", the name itself), as real clients behind a proxy do.
   */
  readonly via?: Via;
  /** Upgrade every connection with this protocol's STARTTLS dialogue before the ClientHello. */
  readonly starttls?: StarttlsProtocol;
  /** Name resolution (default the system resolver); tests inject their own. */
  readonly lookup?: LookupAll;
  /** Called once the plan is known, with the predicted number of connections per address. */
  readonly onPlan?: (plan: { address: string; predictedConnections: number }) => void;
}

/** Default connections in flight per host: enough to run the five version probes at once. */
export const DEFAULT_CONCURRENCY = 5;

export interface AddressScan {
  readonly address: string;
  readonly family: 4 | 6;
  /** The versions probed, in the order of `versions`. */
  readonly probedVersions: readonly ProbeVersion[];
  /** One attempt per version, oldest first; null where the budget ran out before it ran. */
  readonly versions: readonly (AttemptResult | null)[];
  /** The certificates of the highest accepted version, as sent. */
  readonly certificates: readonly Uint8Array[];
  readonly certificatesFrom: ProbeVersion | null;
  readonly ciphers: readonly CipherEnumeration[] | null;
  readonly groups: readonly GroupEnumeration[] | null;
  readonly connections: number;
  readonly predictedConnections: number;
  /** Why the scan stopped early (budget), or null. */
  readonly incomplete: string | null;
}

export interface ScanResult {
  readonly host: string;
  readonly port: number;
  readonly sni: string | null;
  /** Name resolution failure; then `addresses` is empty. */
  readonly dnsError: { readonly code: string; readonly message: string } | null;
  readonly addresses: readonly AddressScan[];
  /** Human-readable differences between addresses (empty when one address or all agree). */
  readonly differences: readonly string[];
}

/** Returns the SNI to send for `host` when the user did not say: the name itself, never an IP literal. */
export function defaultSni(host: string): string | null {
  return isIP(host) ? null : host.replace(/\.$/, '');
}

/**
 * Returns the scan of `host` (a name or IP literal); never rejects for network outcomes. DNS failure
 * comes back as `dnsError`.
 */
export async function scan(host: string, opts: ScanOptions): Promise<ScanResult> {
  const sni = opts.sni === undefined ? defaultSni(host) : opts.sni;
  const resolved: ResolveResult = opts.via
    ? { ok: true, host, addresses: [{ address: host, family: isIP(host) === 6 ? 6 : 4 }] }
    : await (opts.lookup ? resolveHost(host, opts.lookup) : resolveHost(host));
  if (!resolved.ok) {
    return {
      host,
      port: opts.port,
      sni,
      dnsError: { code: resolved.errorCode, message: resolved.message },
      addresses: [],
      differences: [],
    };
  }
  const targets = opts.allAddresses ? resolved.addresses : resolved.addresses.slice(0, 1);
  const addresses = await Promise.all(targets.map((a) => scanAddress(host, a, sni, opts)));
  return { host, port: opts.port, sni, dnsError: null, addresses, differences: compareAddresses(addresses) };
}

async function scanAddress(
  host: string,
  addr: ResolvedAddress,
  sni: string | null,
  opts: ScanOptions,
): Promise<AddressScan> {
  const versions = opts.versions ?? PROBE_VERSIONS;
  const limiter: Limiter = createLimiter({
    concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
    ...(opts.rate !== undefined ? { rate: opts.rate } : {}),
    ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const target: ProbeTarget = { host, address: addr.address, port: opts.port };
  const attemptOpts = attemptOptionsOf(opts);
  const versionAttemptOpts: AttemptOptions = { ...attemptOpts, ...(opts.trace ? { trace: true } : {}) };

  // Each version's enumerations start as soon as its own probe says it is accepted, not once every
  // version probe has ended (a silent or slow version would hold the rest). Announced up front: the
  // most connections possible, as if every version were accepted.
  const enumerating = opts.ciphers || opts.groups;
  const groupVersion = (v: ProbeVersion): v is 'TLS1.3' | 'TLS1.2' => v === 'TLS1.3' || v === 'TLS1.2';
  const plan = (vs: readonly ProbeVersion[]): number =>
    (opts.ciphers ? vs.reduce((n, v) => n + predictCipherConnections(v, suitesForVersion(v)), 0) : 0) +
    (opts.groups ? vs.filter(groupVersion).reduce((n, v) => n + predictGroupConnections(v), 0) : 0);
  opts.onPlan?.({ address: addr.address, predictedConnections: versions.length + (enumerating ? plan(versions) : 0) });
  const ctx = { target, sni, attempt: attemptOpts, limiter };
  const cipherRuns = new Map<ProbeVersion, Promise<CipherEnumeration>>();
  const groupRuns = new Map<ProbeVersion, Promise<GroupEnumeration>>();
  const results = await Promise.all(
    versions.map(async (version) => {
      const r = await limiter.run(() => attempt(target, { version, sni }, versionAttemptOpts));
      if (isBudgetExhausted(r)) return null;
      if (r.supported && opts.ciphers)
        cipherRuns.set(
          version,
          enumerateCiphers(ctx, version, undefined, { offered: suitesForVersion(version), result: r }),
        );
      if (r.supported && opts.groups && groupVersion(version)) groupRuns.set(version, enumerateGroups(ctx, version));
      return r;
    }),
  );
  let incomplete: string | null = results.some((r) => r === null)
    ? 'the connection budget ran out during the version probes'
    : null;

  const accepted = versions.filter((_, i) => results[i]?.supported);
  const highest = accepted.length ? accepted.reduce((a, b) => (VERSION_CODE[b] > VERSION_CODE[a] ? b : a)) : null;
  const highestResult = highest ? results[versions.indexOf(highest)]! : null;
  const predicted = versions.length + (enumerating ? plan(accepted) : 0);

  let ciphers: CipherEnumeration[] | null = null;
  let groups: GroupEnumeration[] | null = null;
  if (enumerating && accepted.length > 0) {
    if (opts.ciphers) ciphers = await Promise.all(accepted.map((v) => cipherRuns.get(v)!));
    // Reported TLS 1.3 first, as before.
    if (opts.groups)
      groups = await Promise.all(
        (['TLS1.3', 'TLS1.2'] as const).filter((v) => groupRuns.has(v)).map((v) => groupRuns.get(v)!),
      );
    if (incomplete === null && [...(ciphers ?? []), ...(groups ?? [])].some((e) => !e.complete)) {
      incomplete = `stopped at the connection limit (${opts.maxConnections}): enumeration is partial`;
    }
  }

  return {
    address: addr.address,
    family: addr.family,
    probedVersions: versions,
    versions: results,
    certificates: highestResult?.certificates ?? [],
    certificatesFrom: highest,
    ciphers,
    groups,
    connections: limiter.used,
    predictedConnections: predicted,
    incomplete,
  };
}

/** Returns one line per version (and per enumeration) on which addresses disagree. */
function compareAddresses(scans: readonly AddressScan[]): string[] {
  if (scans.length < 2) return [];
  const out: string[] = [];
  const first = scans[0]!;
  first.versions.forEach((r, i) => {
    const answers = scans.map((s) => {
      const x = s.versions[i];
      return x ? `${x.outcome}${x.alert ? `:${x.alert.name}` : ''}` : 'not-run';
    });
    if (new Set(answers).size > 1) {
      const version = first.probedVersions[i] ?? r?.version;
      out.push(`${version}: ${scans.map((s, k) => `${s.address} ${answers[k]}`).join(', ')}`);
    }
  });
  const certs = scans.map((s) => s.certificates.map((c) => Buffer.from(c).toString('base64')).join(','));
  if (new Set(certs).size > 1) out.push('certificate chains differ between addresses');
  return out;
}

/** Returns the options of one attempt that a scan's options carry (timeouts, stop signal, proxy, STARTTLS). */
export function attemptOptionsOf(
  opts: Pick<ScanOptions, 'connectTimeoutMs' | 'readTimeoutMs' | 'signal' | 'via' | 'starttls'>,
): AttemptOptions {
  return {
    ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
    ...(opts.readTimeoutMs !== undefined ? { readTimeoutMs: opts.readTimeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.via ? { via: opts.via } : {}),
    ...(opts.starttls ? { starttls: opts.starttls } : {}),
  };
}
