/**
 * The JSON view of a scan: what `tlsprobe probe --json` prints. Field names are a contract.
 */
import { toHex } from '../wire/hex.js';
import { thumbprint } from '../x509/thumbprint.js';
import type { AttemptResult } from '../probe/attempt.js';
import type { AddressScan, ScanResult } from '../probe/scan.js';
import type { ProbeVersion } from '../probe/profiles.js';
import { CIPHER_SUITES, NAMED_GROUPS, PROTOCOL_VERSIONS, displayName } from '../tls/registry.js';
import type { JsonObject } from './decode-view.js';

/** Windows' name for a TCP reset seen by a client (what a backup agent logs). */
export const WINDOWS_RESET = '10054 (WSAECONNRESET: an existing connection was forcibly closed by the remote host)';

/** Returns the JSON of one version attempt (the contract's fields plus evidence). */
export function attemptToJson(version: ProbeVersion, r: AttemptResult | null): JsonObject {
  if (!r) {
    return {
      version,
      supported: false,
      outcome: null,
      notRun: 'connection budget exhausted',
      alert: null,
      cipherSuite: null,
      cipherSuiteName: null,
      group: null,
      groupName: null,
      elapsedMs: null,
      timing: null,
      helloBytes: null,
    };
  }
  return {
    version,
    supported: r.supported,
    outcome: r.outcome,
    alert: r.alert ? { level: r.alert.level, description: r.alert.description, name: r.alert.name } : null,
    cipherSuite: r.cipherSuite,
    cipherSuiteName: r.cipherSuiteName,
    group: r.group,
    groupName: r.group === null ? null : displayName(NAMED_GROUPS, r.group),
    elapsedMs: r.elapsedMs,
    timing: {
      connectMs: r.timing.connectMs,
      firstByteMs: r.timing.firstByteMs,
      lastByteMs: r.timing.lastByteMs,
      closedMs: r.timing.closedMs,
    },
    // The ClientHello as sent: its handshake message plus the 5-byte record header.
    helloBytes: r.helloSent.length + 5,
    negotiatedVersion: r.negotiatedVersion,
    negotiatedVersionName: r.negotiatedVersion === null ? null : displayName(PROTOCOL_VERSIONS, r.negotiatedVersion),
    helloRetryRequest: r.helloRetryRequest,
    downgradeSentinel: r.downgradeSentinel,
    end: r.end,
    errorCode: r.errorCode,
    windowsError: r.outcome === 'reset' ? WINDOWS_RESET : null,
    bytesReceived: r.bytesReceived,
    firstBytes: r.firstBytes,
    error: r.error,
  };
}

/** Returns the JSON of one certificate as sent: DER and thumbprints. */
export function certificateToJson(der: Uint8Array): JsonObject {
  return {
    der: toHex(der),
    sha1: thumbprint(der, 'sha1'),
    sha256: thumbprint(der, 'sha256'),
  };
}

function addressToJson(scan: ScanResult, a: AddressScan): JsonObject {
  const out: JsonObject = {
    target: { host: scan.host, port: scan.port, address: a.address, sni: scan.sni },
    versions: a.probedVersions.map((v, i) => attemptToJson(v, a.versions[i] ?? null)),
    certificates: a.certificates.map(certificateToJson),
    certificatesFrom: a.certificatesFrom,
    connections: a.connections,
    predictedConnections: a.predictedConnections,
    incomplete: a.incomplete,
  };
  if (a.ciphers) {
    out.cipherSuites = Object.fromEntries(a.ciphers.map((c) => [c.version, [...c.accepted]]));
    out.cipherSuiteNames = Object.fromEntries(
      a.ciphers.map((c) => [c.version, c.accepted.map((s) => displayName(CIPHER_SUITES, s))]),
    );
    out.serverPreference = Object.fromEntries(a.ciphers.map((c) => [c.version, c.serverPreference]));
  }
  if (a.groups) {
    out.groups = Object.fromEntries(a.groups.map((g) => [g.version, [...g.accepted]]));
    out.groupNames = Object.fromEntries(
      a.groups.map((g) => [g.version, g.accepted.map((x) => displayName(NAMED_GROUPS, x))]),
    );
    out.hybridGroups = [...new Set(a.groups.flatMap((g) => g.hybrid))];
  }
  return out;
}

/**
 * Returns the JSON for one scanned target: the first (or only) address's result, with `addresses`
 * (every address's result) and `differences` when several were scanned.
 */
export function scanToJson(scan: ScanResult): JsonObject {
  if (scan.dnsError) {
    return {
      target: { host: scan.host, port: scan.port, address: null, sni: scan.sni },
      versions: [],
      certificates: [],
      error: { code: 'dns-error', message: `${scan.host}: ${scan.dnsError.message} (${scan.dnsError.code})` },
    };
  }
  const first = addressToJson(scan, scan.addresses[0]!);
  if (scan.addresses.length > 1) {
    first.addresses = scan.addresses.map((a) => addressToJson(scan, a));
    first.differences = [...scan.differences];
  }
  return first;
}

/** True when the target could not be reached at all (DNS, or every attempt failed to connect). */
export function unreachable(scan: ScanResult): boolean {
  if (scan.dnsError) return true;
  return scan.addresses.every((a) =>
    a.versions.every((r) => !r || ['connect-refused', 'connect-timeout', 'dns-error'].includes(r.outcome)),
  );
}
