/**
 * The evidence of a diagnosis: one row per attempt (`evidenceOf`), and the words the verdicts use
 * for versions.
 */
import type { AttemptResult } from '../probe/attempt.js';
import { describeOutcome } from '../probe/outcome.js';
import type { ProbeVersion } from '../probe/profiles.js';
import type { AddressScan } from '../probe/scan.js';
import { displayName, PROTOCOL_VERSIONS } from '../tls/registry.js';
import type { Evidence } from './verdict-types.js';

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
export function attemptsOf(scan: AddressScan | null | undefined): Map<ProbeVersion, AttemptResult> {
  const out = new Map<ProbeVersion, AttemptResult>();
  if (!scan) return out;
  scan.probedVersions.forEach((v, i) => {
    const r = scan.versions[i];
    if (r) out.set(v, r);
  });
  return out;
}

/** Returns versions as a list in words: "TLS 1.0, TLS 1.1 and TLS 1.2". */
export function joinVersions(vs: readonly ProbeVersion[]): string {
  const labels = vs.map(versionLabel);
  return labels.length <= 1 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}`;
}
