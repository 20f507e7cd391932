/**
 * The revocation options shared by `chain` and `diagnose`: `--crl FILE` (repeatable) and
 * `--check-revocation`; `revocationSection` returns the `"revocation"` JSON of a checked chain and
 * whether it holds an error, and `mergeRevocation` folds it into a chain JSON (findings and verdict).
 */
import type { Argv } from 'yargs';
import type { JsonObject } from '../report/decode-view.js';
import type { ChainReport } from '../x509/chain.js';
import type { CrlInfo } from '../x509/revocation-adapter.js';
import { DecodeError } from '../wire/errors.js';
import { UserError } from './exit-codes.js';
import { readInput } from './io.js';

export interface RevocationArgs {
  crl?: string[];
  'check-revocation'?: boolean;
  proxy?: string;
  timeout?: number;
}

/** Adds `--crl` and `--check-revocation`. */
export function revocationOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('crl', {
      type: 'string',
      array: true,
      nargs: 1,
      describe:
        'apply this CRL (DER or PEM; repeatable): issuer, signature, CRL number, dates and critical extensions are checked',
    })
    .option('check-revocation', {
      type: 'boolean',
      default: false,
      describe:
        'fetch the CRL distribution points and OCSP URLs the certificates name (http only, through --proxy when given) and report each',
    });
}

/** True when the user asked for any revocation work. */
export function wantsRevocation(args: RevocationArgs): boolean {
  return (args.crl?.length ?? 0) > 0 || args['check-revocation'] === true;
}

/** Returns the decoded CRLs of the `--crl` files; throws UserError naming the file that is not a CRL. */
export async function readCrlFiles(files: readonly string[]): Promise<CrlInfo[]> {
  const { readCrlBytes } = await import('../x509/crl-pem.js');
  const { parseCrl } = await import('../x509/revocation-adapter.js');
  const out: CrlInfo[] = [];
  for (const file of files) {
    try {
      for (const der of readCrlBytes(readInput(file))) out.push(parseCrl(der));
    } catch (e) {
      if (e instanceof DecodeError) throw new UserError(`--crl ${file}: not a CRL: ${e.message}`);
      throw e;
    }
  }
  return out;
}

/**
 * Returns the `"revocation"` JSON for `report` (URLs of every path certificate, the given CRLs applied,
 * and with `--check-revocation` every URL fetched) and whether it holds an error finding.
 */
export async function revocationSection(
  report: ChainReport,
  args: RevocationArgs,
  at: Date,
): Promise<{ json: JsonObject; error: boolean }> {
  const { revocationOf } = await import('../x509/revocation.js');
  const { revocationToJson } = await import('../report/revocation-view.js');
  const rev = revocationOf(report, await readCrlFiles(args.crl ?? []), at);
  let online = null;
  if (args['check-revocation']) {
    const { checkRevocationOnline } = await import('../probe/revocation-check.js');
    const { parseProxyUrl } = await import('../probe/proxy.js');
    let via;
    try {
      via = args.proxy !== undefined ? parseProxyUrl(args.proxy) : undefined;
    } catch (e) {
      if (e instanceof TypeError) throw new UserError(e.message);
      throw e;
    }
    const timeoutMs =
      args.timeout !== undefined && Number.isFinite(args.timeout) && args.timeout > 0 ? args.timeout * 1000 : undefined;
    online = await checkRevocationOnline(report, rev, {
      at,
      ...(via ? { via } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
  }
  const json = revocationToJson(rev, online);
  return { json, error: (json.findings as JsonObject[]).some((f) => f.severity === 'error') };
}

/** Returns `certificate` (a certificate JSON of `der`) with its CRL distribution points, OCSP and caIssuers URLs added. */
export async function withRevocationUrls(certificate: JsonObject, der: Uint8Array): Promise<JsonObject> {
  const { urlsOf } = await import('../x509/revocation.js');
  const { revocationUrlsToJson } = await import('../report/revocation-view.js');
  return { ...certificate, ...revocationUrlsToJson(urlsOf({ der })) };
}

/** Returns `chain` (a chain JSON) with `revocation` added, its findings appended, and the verdict saying when a certificate is revoked or unchecked. */
export function mergeRevocation(chain: JsonObject, revocation: JsonObject): JsonObject {
  const findings = revocation.findings as JsonObject[];
  const revoked = findings.find((f) => f.code === 'revoked');
  const firstError = findings.find((f) => f.severity === 'error');
  const verdict = revoked
    ? `REVOKED: ${String(revoked.message)}`
    : firstError
      ? `${String(chain.verdict)}; revocation: ${String(firstError.message)}`
      : chain.verdict;
  return {
    ...chain,
    findings: [...(chain.findings as JsonObject[]), ...findings],
    verdict: verdict ?? null,
    revocation,
  };
}
