/**
 * Adds decoded certificate fields and the chain check to a probe's JSON, and reads the `--roots`
 * and `--at` options shared by commands that check chains.
 */
import type { JsonObject } from '../report/decode-view.js';
import type { ScanResult } from '../probe/scan.js';
import { parseCertificate } from '../x509/der.js';
import { checkChain, type ChainReport } from '../x509/chain.js';
import { loadBundle, loadDocumentedRoots, loadSystemRoots, type TrustedRoot } from '../x509/roots.js';
import { certInfoToJson, chainToJson } from '../report/chain-view.js';
import { certificateToJson } from '../report/probe-view.js';
import { DecodeError } from '../wire/errors.js';
import { UserError } from './exit-codes.js';
import { atOption } from './dates.js';

export { atOption };

/** Returns the trust anchors for `--roots` (FILE, DIR, or `system`); the documented set by default. */
export function rootsOption(value: string | undefined): TrustedRoot[] {
  if (value === undefined) return loadDocumentedRoots();
  if (value === 'system') return loadSystemRoots();
  try {
    const roots = loadBundle(value);
    if (roots.length === 0) throw new UserError(`--roots ${value}: no certificates found`);
    return roots;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`--roots ${value}: ${(e as Error).message}`);
  }
}


/** Returns the certificate JSON with decoded fields when the DER parses, else thumbprints only. */
export function certificateJson(der: Uint8Array): JsonObject {
  try {
    return certInfoToJson(parseCertificate(der));
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { ...certificateToJson(der), error: e.toJSON() };
  }
}

/** Returns the chain report of `ders` against the chosen roots. */
export function chainReport(ders: readonly Uint8Array[], host: string | undefined, opts: { at?: string; roots?: string }): ChainReport {
  const at = atOption(opts.at);
  return checkChain(ders, { ...(host ? { host } : {}), ...(at ? { at } : {}), roots: rootsOption(opts.roots) });
}

/** Returns `json` (a probe target object) with decoded certificates and `"chain"` added. */
export async function enrichWithChain(json: JsonObject, scan: ScanResult, opts: { host: string; at?: string | undefined; roots?: string | undefined }): Promise<JsonObject> {
  const first = scan.addresses[0];
  if (!first || first.certificates.length === 0) return json;
  const report = chainReport(first.certificates, scan.sni ?? opts.host, opts);
  return { ...json, certificates: first.certificates.map(certificateJson), chain: chainToJson(report) };
}
