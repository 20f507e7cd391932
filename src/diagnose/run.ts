/**
 * Runs what a diagnosis needs and decides it: `runDiagnosis` resolves with the version scan, the
 * TLS 1.2/1.3 retry without SNI (when it was worth running), and the `Diagnosis`; it never rejects
 * for network outcomes (DNS failure, refusals and resets are verdicts, not exceptions).
 *
 * Connections: one per protocol version (five), plus two without SNI when a version with SNI
 * completed a handshake and an SNI was sent (otherwise "works only with SNI" cannot be told).
 */
import { scan, defaultSni, type ScanResult } from '../probe/scan.js';
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
}

export interface DiagnosisRun {
  readonly scan: ScanResult;
  readonly noSniScan: ScanResult | null;
  readonly diagnosis: Diagnosis;
}

/** Returns the scans run for `host` and the diagnosis decided from them. */
export async function runDiagnosis(host: string, opts: RunDiagnosisOptions): Promise<DiagnosisRun> {
  const sni = opts.sni === undefined ? defaultSni(host) : opts.sni;
  const common = {
    port: opts.port,
    ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
    ...(opts.readTimeoutMs !== undefined ? { readTimeoutMs: opts.readTimeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const main = await scan(host, { ...common, sni });
  const base = { host, port: opts.port, os: opts.os ?? null };
  if (main.dnsError) {
    return { scan: main, noSniScan: null, diagnosis: decideVerdict({ ...base, withSni: null, dnsError: main.dnsError }) };
  }
  const first = main.addresses[0] ?? null;
  const anyHandshake = first?.versions.some((r) => r?.supported) ?? false;

  let noSniScan: ScanResult | null = null;
  if (sni !== null && anyHandshake && first) {
    // Same address as the first scan, so a multi-address name cannot make SNI look required.
    noSniScan = await scan(first.address, { ...common, sni: null, versions: ['TLS1.2', 'TLS1.3'] });
  }

  const chain = first && first.certificates.length > 0 && opts.chainCheck ? opts.chainCheck([...first.certificates], sni ?? host) : null;
  const diagnosis = decideVerdict({
    ...base,
    withSni: first,
    withoutSni: noSniScan?.addresses[0] ?? null,
    chain,
  });
  return { scan: main, noSniScan, diagnosis };
}
