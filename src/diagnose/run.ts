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
import { scan, defaultSni, type ScanOptions, type ScanResult } from '../probe/scan.js';
import { formatVia, type Via } from '../probe/proxy.js';
import type { StarttlsProtocol } from '../probe/starttls.js';
import { decideVerdict, type ChainLike, type Diagnosis } from './verdict.js';
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
}

export interface DiagnosisRun {
  /** The scan as the client makes it: through `via` when one is given. */
  readonly scan: ScanResult;
  readonly noSniScan: ScanResult | null;
  /** With `via`: the same host reached directly (TLS 1.0 and TLS 1.2 only); else null. */
  readonly directScan: ScanResult | null;
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
    return { scan: main, noSniScan: null, directScan, diagnosis: decideVerdict({ ...base, withSni: null, dnsError: main.dnsError }) };
  }
  const first = main.addresses[0] ?? null;
  const anyHandshake = first?.versions.some((r) => r?.supported) ?? false;

  let noSniScan: ScanResult | null = null;
  if (sni !== null && anyHandshake && first) {
    // Same address as the first scan, so a multi-address name cannot make SNI look required.
    noSniScan = await scan(first.address, { ...proxied, sni: null, versions: ['TLS1.2', 'TLS1.3'] });
  }

  const chain = first && first.certificates.length > 0 && opts.chainCheck ? opts.chainCheck([...first.certificates], sni ?? host) : null;
  const diagnosis = decideVerdict({
    ...base,
    withSni: first,
    withoutSni: noSniScan?.addresses[0] ?? null,
    ...direct,
    chain,
  });
  return { scan: main, noSniScan, directScan, diagnosis };
}
