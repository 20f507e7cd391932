/**
 * `--check-revocation`: `checkRevocationOnline` fetches every CRL distribution point and OCSP URL
 * named by the certificates of a checked path (and nothing else), and returns each endpoint as
 * reachable/unreachable/revoked/good, with the Windows error a CryptoAPI/SChannel client would report
 * when it cannot learn a certificate's status, plus findings. Resolves; never rejects for anything a
 * network or responder can do.
 *
 * Windows errors are the HRESULTs of [MS-ERREF] "Windows Error Codes", Section 2.1.1 "HRESULT
 * Values" (CRYPT_E_REVOCATION_OFFLINE also appears in [MS-WCCE] among the CA signing certificate
 * status values): CRYPT_E_REVOKED, CRYPT_E_NO_REVOCATION_CHECK, CRYPT_E_REVOCATION_OFFLINE.
 */
import type { ChainReport } from '../x509/chain.js';
import { applyCrls } from '../x509/crl.js';
import { readCrlBytes } from '../x509/crl-pem.js';
import { displayName } from '../x509/dn.js';
import { checkOcspResponse, ocspRequestFor } from '../x509/ocsp.js';
import { MAX_CRL_BYTES, MAX_OCSP_RESPONSE_BYTES, parseCrl } from '../x509/revocation-adapter.js';
import type { RevocationReport, CertificateRevocation } from '../x509/revocation.js';
import { reasonName, type RevocationFinding } from '../x509/revocation-types.js';
import { DecodeError } from '../wire/errors.js';
import { httpFetch, type FetchResult } from './revocation-fetch.js';
import type { Via } from './proxy.js';

/** A Windows error a client reports for a certificate's revocation status. */
export interface WindowsRevocationError {
  readonly name: 'CRYPT_E_REVOKED' | 'CRYPT_E_NO_REVOCATION_CHECK' | 'CRYPT_E_REVOCATION_OFFLINE';
  /** The HRESULT as `0x8009201x`. */
  readonly hresult: string;
  /** The system message text ([MS-ERREF], Section 2.1.1). */
  readonly message: string;
}

export const WINDOWS_REVOCATION_ERRORS: Readonly<Record<WindowsRevocationError['name'], WindowsRevocationError>> = {
  CRYPT_E_REVOKED: { name: 'CRYPT_E_REVOKED', hresult: '0x80092010', message: 'The certificate is revoked.' },
  CRYPT_E_NO_REVOCATION_CHECK: {
    name: 'CRYPT_E_NO_REVOCATION_CHECK',
    hresult: '0x80092012',
    message: 'The revocation function was unable to check revocation for the certificate.',
  },
  CRYPT_E_REVOCATION_OFFLINE: {
    name: 'CRYPT_E_REVOCATION_OFFLINE',
    hresult: '0x80092013',
    message: 'The revocation function was unable to check revocation because the revocation server was offline.',
  },
};

/** What one URL gave. `not-fetched`: a scheme we do not fetch (ldap:, https:, …), listed but not tried. */
export type EndpointState = 'reachable' | 'unreachable' | 'revoked' | 'good' | 'not-fetched';

/** One fetched (or skipped) CRL or OCSP URL. */
export interface RevocationEndpoint {
  readonly certificate: number;
  readonly kind: 'crl' | 'ocsp';
  readonly url: string;
  readonly state: EndpointState;
  /** Why: the network failure, the HTTP status, the check that failed, or the status and its source. */
  readonly detail: string;
  readonly httpStatus: number | null;
  readonly elapsedMs: number;
  /** The Windows error for this endpoint alone: offline when unreachable, no-check when the answer is unusable. */
  readonly windowsError: WindowsRevocationError | null;
  /** When `revoked`: the date and CRLReason the CRL or OCSP answer gave. */
  readonly revocationDate: Date | null;
  readonly reason: number | null;
}

/** The result of `--check-revocation`. */
export interface OnlineRevocation {
  readonly endpoints: readonly RevocationEndpoint[];
  /** `report.certificates` with statuses updated from what was fetched, and the Windows error per certificate. */
  readonly certificates: readonly (CertificateRevocation & { readonly windowsError: WindowsRevocationError | null })[];
  readonly findings: readonly RevocationFinding[];
}

export interface OnlineRevocationOptions {
  readonly at: Date;
  readonly via?: Via;
  readonly timeoutMs?: number;
}

/**
 * Returns the online revocation status of each certificate of `chain`'s path (the anchor excluded),
 * fetching the URLs listed in `rev` one at a time (a client does the same, in order), judged at `opts.at`.
 */
export async function checkRevocationOnline(
  chain: ChainReport,
  rev: RevocationReport,
  opts: OnlineRevocationOptions,
): Promise<OnlineRevocation> {
  const path = chain.certificates;
  const endpoints: RevocationEndpoint[] = [];
  const findings: RevocationFinding[] = [];
  const certificates: OnlineRevocation['certificates'][number][] = [];
  for (const c of rev.certificates) {
    if (c.anchor) {
      certificates.push({ ...c, windowsError: null });
      continue;
    }
    const cert = path[c.certificate]!;
    const issuer = path[c.certificate + 1] ?? null;
    const mine: RevocationEndpoint[] = [];
    const fetchOpts = {
      ...(opts.via ? { via: opts.via } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    };
    for (const url of c.urls.crl) {
      const base = { certificate: c.certificate, kind: 'crl' as const, url };
      if (!/^http:/i.test(url)) {
        mine.push(notFetched(base, 'only http: URLs are fetched'));
        continue;
      }
      const got = await httpFetch(url, {
        method: 'GET',
        accept: 'application/pkix-crl',
        maxBytes: MAX_CRL_BYTES,
        ...fetchOpts,
      });
      mine.push({ ...base, revocationDate: null, reason: null, ...judgeCrl(got, path, c.certificate, opts.at) });
    }
    for (const url of c.urls.ocsp) {
      const base = { certificate: c.certificate, kind: 'ocsp' as const, url };
      if (!/^http:/i.test(url)) {
        mine.push(notFetched(base, 'only http: URLs are fetched'));
        continue;
      }
      if (issuer === null) {
        mine.push(notFetched(base, 'the issuer certificate is not on the path, so no OCSP request can be made'));
        continue;
      }
      // RFC 6960, Appendix A.1: POST with Content-Type application/ocsp-request.
      const got = await httpFetch(url, {
        method: 'POST',
        body: ocspRequestFor(cert, issuer),
        contentType: 'application/ocsp-request',
        accept: 'application/ocsp-response',
        maxBytes: MAX_OCSP_RESPONSE_BYTES,
        ...fetchOpts,
      });
      mine.push({ ...base, revocationDate: null, reason: null, ...judgeOcsp(got, cert, issuer, opts.at) });
    }
    endpoints.push(...mine);
    certificates.push(summarize(c, mine, displayName(cert.subject), findings));
  }
  return { endpoints, certificates, findings };
}

type Judged = Pick<RevocationEndpoint, 'state' | 'detail' | 'httpStatus' | 'elapsedMs' | 'windowsError'> &
  Partial<Pick<RevocationEndpoint, 'revocationDate' | 'reason'>>;

function unreachable(got: Extract<FetchResult, { ok: false }>): Judged {
  return {
    state: 'unreachable',
    detail: `${got.failure}: ${got.detail}`,
    httpStatus: got.status,
    elapsedMs: got.elapsedMs,
    windowsError: WINDOWS_REVOCATION_ERRORS.CRYPT_E_REVOCATION_OFFLINE,
  };
}

function unusable(got: Extract<FetchResult, { ok: true }>, detail: string): Judged {
  return {
    state: 'reachable',
    detail,
    httpStatus: got.status,
    elapsedMs: got.elapsedMs,
    windowsError: WINDOWS_REVOCATION_ERRORS.CRYPT_E_NO_REVOCATION_CHECK,
  };
}

/** Returns what a fetched CRL says about `path[i]`, after the same checks as `--crl` (crl.ts). */
function judgeCrl(got: FetchResult, path: ChainReport['certificates'], i: number, at: Date): Judged {
  if (!got.ok) return unreachable(got);
  let crl;
  try {
    const ders = readCrlBytes(got.body);
    if (ders.length !== 1) return unusable(got, `${ders.length} CRLs in one answer`);
    crl = parseCrl(ders[0]!);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return unusable(got, `the answer is not a CRL: ${e.message}`);
  }
  const applied = applyCrls(path.slice(i, i + 2), [crl], at, false);
  const st = applied.statuses[0]!;
  const problems = applied.findings.filter((f) => f.code !== 'revoked');
  const base = { httpStatus: got.status, elapsedMs: got.elapsedMs };
  if (st.status === 'revoked')
    return {
      ...base,
      revocationDate: st.revocationDate,
      reason: st.reason,
      state: 'revoked',
      detail: `listed since ${st.revocationDate?.toISOString()} (${reasonName(st.reason)}), CRL number ${crl.crlNumber ?? '(none)'}`,
      windowsError: WINDOWS_REVOCATION_ERRORS.CRYPT_E_REVOKED,
    };
  if (st.status === 'good')
    return {
      ...base,
      state: 'good',
      detail: `not listed in CRL number ${crl.crlNumber ?? '(none)'} (${crl.entries.length} entries, next update ${crl.nextUpdate?.toISOString() ?? 'none'})`,
      windowsError: null,
    };
  return unusable(got, `the CRL cannot be used: ${problems.map((f) => f.message).join('; ') || 'no applicable CRL'}`);
}

/** Returns what a fetched OCSP answer says about `cert` (ocsp.ts checks). */
function judgeOcsp(
  got: FetchResult,
  cert: ChainReport['certificates'][number],
  issuer: ChainReport['certificates'][number],
  at: Date,
): Judged {
  if (!got.ok) return unreachable(got);
  const v = checkOcspResponse(got.body, cert, issuer, at);
  const base = { httpStatus: got.status, elapsedMs: got.elapsedMs };
  const signer =
    v.signer === 'delegated'
      ? ', signed by a delegated responder'
      : v.signer === 'issuer'
        ? ', signed by the issuing CA'
        : '';
  if (v.status === 'revoked')
    return {
      ...base,
      revocationDate: v.revocationTime,
      reason: v.reason,
      state: 'revoked',
      detail: `${v.detail}${signer}`,
      windowsError: WINDOWS_REVOCATION_ERRORS.CRYPT_E_REVOKED,
    };
  if (v.status === 'good')
    return {
      ...base,
      state: 'good',
      detail: `good${signer}, next update ${v.nextUpdate?.toISOString() ?? 'none'}`,
      windowsError: null,
    };
  return unusable(
    got,
    v.status === 'unknown'
      ? `the responder does not know this certificate${signer}`
      : `the response cannot be used: ${v.detail}`,
  );
}

/** Returns the certificate's status from its endpoints and adds the findings a client's failure would produce. */
function summarize(
  c: CertificateRevocation,
  mine: readonly RevocationEndpoint[],
  name: string,
  findings: RevocationFinding[],
): OnlineRevocation['certificates'][number] {
  const add = (f: Omit<RevocationFinding, 'certificate'>): void => {
    findings.push({ ...f, certificate: c.certificate });
  };
  const revoked = mine.find((e) => e.state === 'revoked');
  const good = mine.find((e) => e.state === 'good');
  const fetched = mine.filter((e) => e.state !== 'not-fetched');
  const down = fetched.filter((e) => e.state === 'unreachable');
  if (revoked) {
    add({
      code: 'revoked',
      severity: 'error',
      message: `${name} is revoked according to ${revoked.url}: ${revoked.detail} (Windows: ${fmt(WINDOWS_REVOCATION_ERRORS.CRYPT_E_REVOKED)})`,
    });
    return {
      ...c,
      status: 'revoked',
      source: revoked.kind === 'ocsp' ? 'ocsp' : 'crl-fetched',
      revocationDate: revoked.revocationDate,
      reason: revoked.reason,
      windowsError: WINDOWS_REVOCATION_ERRORS.CRYPT_E_REVOKED,
    };
  }
  for (const e of fetched.filter((x) => x.state === 'reachable')) {
    add({
      code: 'revocation-response-invalid',
      severity: 'warning',
      message: `${e.kind.toUpperCase()} ${e.url} for ${name}: ${e.detail}`,
    });
  }
  if (good) {
    for (const e of down)
      add({
        code: 'revocation-endpoint-unreachable',
        severity: 'warning',
        message: `${e.kind.toUpperCase()} ${e.url} for ${name} is unreachable (${e.detail}); ${good.url} answered`,
      });
    return {
      ...c,
      status: c.status === 'revoked' ? 'revoked' : 'good',
      source: c.status === 'revoked' ? c.source : good.kind === 'ocsp' ? 'ocsp' : 'crl-fetched',
      windowsError: null,
    };
  }
  if (fetched.length > 0 && down.length === fetched.length) {
    const err = WINDOWS_REVOCATION_ERRORS.CRYPT_E_REVOCATION_OFFLINE;
    add({
      code: 'revocation-offline',
      severity: 'error',
      message: `no CRL or OCSP endpoint of ${name} answered (${down.map((e) => `${e.url}: ${e.detail}`).join('; ')}): a Windows client checking revocation fails with ${fmt(err)}`,
    });
    return { ...c, windowsError: err };
  }
  if (mine.length > 0 && fetched.length === 0) {
    // ldap:, https:, … only (or OCSP without the issuer): a Windows client may well fetch these, so no Windows error is claimed.
    add({
      code: 'revocation-unchecked',
      severity: 'warning',
      message: `the revocation status of ${name} was not checked: ${mine.map((e) => `${e.url}: ${e.detail}`).join('; ')}`,
    });
    return { ...c, windowsError: null };
  }
  const err = WINDOWS_REVOCATION_ERRORS.CRYPT_E_NO_REVOCATION_CHECK;
  const why =
    mine.length === 0 ? 'it names no CRL distribution point and no OCSP URL' : 'no endpoint gave a usable answer';
  add({
    code: 'revocation-unchecked',
    severity: mine.length === 0 ? 'warning' : 'error',
    message: `the revocation status of ${name} cannot be checked: ${why}; a Windows client checking revocation reports ${fmt(err)}`,
  });
  return { ...c, windowsError: c.status === 'unknown' ? err : null };
}

function fmt(e: WindowsRevocationError): string {
  return `${e.name} (${e.hresult}) "${e.message}"`;
}

/** Returns the endpoint record of a URL that is not fetched, saying why. */
function notFetched(
  base: Pick<RevocationEndpoint, 'certificate' | 'kind' | 'url'>,
  detail: string,
): RevocationEndpoint {
  return {
    ...base,
    state: 'not-fetched',
    detail,
    httpStatus: null,
    elapsedMs: 0,
    windowsError: null,
    revocationDate: null,
    reason: null,
  };
}
