/**
 * Adds decoded certificate fields and the chain check to a probe's JSON, and reads the `--roots`
 * and `--at` options shared by commands that check chains.
 */
import type { JsonObject } from '../report/decode-view.js';
import type { ScanResult } from '../probe/scan.js';
import { parseCertificate } from '../x509/der.js';
import { checkChain, prepareAnchors, type ChainReport } from '../x509/chain.js';
import { loadBundle, loadDocumentedRoots, loadOsRoots, loadSystemRoots, type TrustedRoot } from '../x509/roots.js';
import { certInfoToJson, chainToJson } from '../report/chain-view.js';
import { certificateToJson } from '../report/probe-view.js';
import { DecodeError } from '../wire/errors.js';
import { UserError } from './exit-codes.js';
import { atOption } from './dates.js';

export { atOption };

/** Returns the trust anchors for `--roots` (FILE, DIR, or `system`); the documented set by default. */
export function rootsOption(value: string | undefined): TrustedRoot[] {
  if (value === undefined) return loadDocumentedRoots();
  // `system`: Node's bundled public roots and the operating system's store (issue 12).
  if (value === 'system') {
    const node = loadSystemRoots();
    const known = new Set(node.map((r) => r.sha1));
    return [...node, ...loadOsRoots().filter((r) => !known.has(r.sha1))];
  }
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

/** How a command chose its trust anchors and limits: CLI option text, or (lab, tests) the roots themselves. */
export interface ChainOptions {
  readonly at?: string | undefined;
  /** `--roots`: FILE, DIR or `system`; absent for the documented set (with Node's public roots recognised). */
  readonly roots?: string | undefined;
  /** Trust anchors given directly (the lab's own root); takes precedence over `roots`. */
  readonly rootSet?: readonly TrustedRoot[] | undefined;
  /** Most intermediates allowed on a path. */
  readonly maxIntermediates?: number | undefined;
}

/**
 * Returns the chain report of `ders` against the chosen roots: the one validation every command
 * (chain, probe, diagnose, lab) and the x509-limbo test use.
 */
export function chainReport(ders: readonly Uint8Array[], host: string | undefined, opts: ChainOptions): ChainReport {
  const at = atOption(opts.at);
  const roots = opts.rootSet ?? (opts.roots === undefined ? undefined : rootsOption(opts.roots));
  return checkChain(ders, {
    ...(host ? { host } : {}),
    ...(at ? { at } : {}),
    ...(roots ? { roots } : {}),
    ...(opts.maxIntermediates !== undefined ? { maxIntermediates: opts.maxIntermediates } : {}),
  });
}

/**
 * Does ahead of time, for `chainReport` with these options, the work that does not depend on the
 * chain: the trust anchors read, parsed and indexed (the documented roots and Node's store; with
 * `--roots`, Node's store only: the file is read by the check itself, which reports what is wrong
 * with it). Called while a scan waits on the network. Never throws: a failure here is met again,
 * and reported, by the check.
 */
export function prepareChainCheck(opts: ChainOptions): void {
  try {
    prepareAnchors(opts.rootSet || opts.roots !== undefined ? { roots: opts.rootSet ?? [] } : {});
  } catch {
    // chainReport meets it again, at the point where it is reported.
  }
}

/**
 * True when a chain is fine for the client asked about (issue 12's exit 0): it validates with no
 * error finding, and, when the roots are the default, ends at a documented root.
 */
export function chainOk(report: ChainReport, opts: ChainOptions): boolean {
  const rootsGiven = opts.rootSet !== undefined || opts.roots !== undefined;
  return report.valid && (rootsGiven || report.anchor?.documented === true);
}

/** Returns `json` (a probe target object) with decoded certificates and `"chain"` added. */
export async function enrichWithChain(
  json: JsonObject,
  scan: ScanResult,
  opts: ChainOptions & { host: string },
): Promise<JsonObject> {
  const first = scan.addresses[0];
  if (!first || first.certificates.length === 0) return json;
  const report = chainReport(first.certificates, scan.sni ?? opts.host, opts);
  return { ...json, certificates: first.certificates.map(certificateJson), chain: chainToJson(report) };
}
