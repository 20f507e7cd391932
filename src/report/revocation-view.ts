/**
 * The JSON and text views of revocation (`"revocation"` inside `"chain"`, and the URL fields added to
 * each certificate). Field names are a contract; nothing here decides anything.
 */
import type { OnlineRevocation } from '../probe/revocation-check.js';
import { escapeText } from './escape.js';
import type { RevocationUrls } from '../x509/revocation-adapter.js';
import type { RevocationReport } from '../x509/revocation.js';
import { reasonName } from '../x509/revocation-types.js';
import type { JsonObject } from './decode-view.js';

/** Returns the revocation date and reason fields (`null` unless revoked): the reason as CRLReason code and name. */
function revokedJson(
  x: { readonly revocationDate: Date | null; readonly reason: number | null },
  revoked: boolean,
): JsonObject {
  return {
    revocationDate: revoked && x.revocationDate ? x.revocationDate.toISOString() : null,
    reasonCode: revoked ? x.reason : null,
    reason: revoked && x.reason !== null ? reasonName(x.reason) : null,
  };
}

/** Returns the URL fields of one certificate: `crlDistributionPoints`, `ocspUrls`, `caIssuersUrls`. */
export function revocationUrlsToJson(u: RevocationUrls): JsonObject {
  return { crlDistributionPoints: [...u.crl], ocspUrls: [...u.ocsp], caIssuersUrls: [...u.caIssuers] };
}

/** Returns the `"revocation"` object: per path certificate, given CRLs, fetched endpoints (null when not checked online), findings. */
export function revocationToJson(r: RevocationReport, online: OnlineRevocation | null): JsonObject {
  const certs = online?.certificates ?? r.certificates;
  return {
    checkedOnline: online !== null,
    certificates: certs.map((c) => ({
      certificate: c.certificate,
      sha1: c.sha1,
      serialNumber: c.serialNumber,
      ...revocationUrlsToJson(c.urls),
      anchor: c.anchor,
      status: c.status,
      source: c.source,
      ...revokedJson(c, c.status === 'revoked'),
      ...('windowsError' in c ? { windowsError: c.windowsError ? { ...c.windowsError } : null } : {}),
    })),
    crls: r.crls.map((c) => ({
      sha256: c.sha256,
      issuer: c.issuer,
      crlNumber: c.crlNumber,
      thisUpdate: c.thisUpdate.toISOString(),
      nextUpdate: c.nextUpdate ? c.nextUpdate.toISOString() : null,
      entries: c.entries,
      used: c.used,
      problems: [...c.problems],
    })),
    endpoints: online
      ? online.endpoints.map((e) => ({
          certificate: e.certificate,
          kind: e.kind,
          url: e.url,
          state: e.state,
          detail: e.detail,
          httpStatus: e.httpStatus,
          elapsedMs: Math.round(e.elapsedMs),
          ...revokedJson(e, e.state === 'revoked'),
          windowsError: e.windowsError ? { ...e.windowsError } : null,
        }))
      : null,
    findings: [...r.findings, ...(online?.findings ?? [])].map((f) => ({
      code: f.code,
      severity: f.severity,
      message: f.message,
      ...(f.certificate !== undefined ? { certificate: f.certificate } : {}),
    })),
  };
}

/** Returns text lines for people: one per certificate with its status, one per endpoint; wire text escaped (`escapeText`). */
export function revocationText(json: JsonObject): string[] {
  const clean = (t: string): string => escapeText(t);
  const lines: string[] = [];
  for (const c of json.certificates as JsonObject[]) {
    if (c.anchor) continue;
    const urls = [...(c.crlDistributionPoints as string[]), ...(c.ocspUrls as string[])];
    const win = c.windowsError as JsonObject | null | undefined;
    lines.push(
      `Revocation #${String(c.certificate)}: ${String(c.status)}${c.source ? ` (${String(c.source)})` : ''}${win ? ` — Windows: ${String(win.name)} ${String(win.hresult)}` : ''}${urls.length ? '' : ' — no CRL or OCSP URL'}`,
    );
  }
  for (const e of (json.endpoints as JsonObject[] | null) ?? []) {
    lines.push(
      `  ${String(e.kind).toUpperCase().padEnd(4)} ${clean(String(e.url))}: ${String(e.state)} — ${clean(String(e.detail))}`,
    );
  }
  return lines;
}
