/**
 * Returns the compact view of a captured connection: what each `tlsprobe capture --ndjson` line
 * holds (docs/capture-ndjson.md describes every field). Each fact once: registry values are numbers,
 * with a name only where a person reads it (the negotiated version and suite, alert descriptions,
 * the outcome); extensions are listed by type, and the few whose contents matter to a reader of
 * handshakes (versions, groups, signature schemes, key shares, ALPN, point formats) are given once,
 * beside them. Fields that are null, false or empty on an ordinary connection are left out then
 * (their absence means exactly that). `names` adds the registry names beside every number list;
 * `fingerprints` adds JA3, JA3S and JA4. Nothing is judged here: the chain check and fingerprints
 * come in from src/capture/assess.ts.
 *
 * Certificates and chain reports are shared by many connections of one capture (the assessor's
 * caches hand back the same objects), so their JSON text is made once per object and reused.
 */
import type { ChainJudgement } from '../capture/assess.js';
import type { ConnectionFingerprints } from '../capture/fingerprint.js';
import type { AlertFact, ClientHelloFact, ConnectionFacts, ServerHelloFact } from '../capture/facts.js';
import { connectionSni, endpointText } from '../capture/facts.js';
import type { Ja3 } from '../capture/fingerprint.js';
import { alertLevelName, alertName } from '../tls/alert.js';
import type { ClientHello } from '../tls/client-hello.js';
import { clientServerName } from '../tls/client-hello.js';
import { findExtension } from '../tls/extensions.js';
import type { Extension } from '../tls/extensions.js';
import {
  CIPHER_SUITES,
  EXTENSION_TYPES,
  NAMED_GROUPS,
  PROTOCOL_VERSIONS,
  SIGNATURE_SCHEMES,
  displayName,
} from '../tls/registry.js';
import type { Registry } from '../tls/registry.js';
import type { ServerHello } from '../tls/server-hello.js';
import { downgradeSentinel, negotiatedVersion, serverKeyShareGroup } from '../tls/server-hello.js';
import { toHex } from '../wire/hex.js';
import type { ChainReport } from '../x509/chain.js';
import type { ParsedCertificate } from '../x509/certificate-cache.js';
import type { CertInfo } from '../x509/types.js';
import { anchorToJson, chainVerdict } from './chain-view.js';
import { decryptionToJson, endToJson } from './capture-view.js';
import { clientHelloFindings } from './decode-view.js';
import type { Json, JsonObject } from './decode-view.js';

/** What a compact line shows beyond the default. */
export interface CompactOptions {
  /** Registry names beside the number lists (`cipherSuiteNames`, `extensionNames`, …). */
  readonly names: boolean;
  /** JA3 and JA4 on the ClientHello, JA3S on the ServerHello. */
  readonly fingerprints: boolean;
}

/** What was decided about the connection (src/capture/assess.ts) that the compact line shows. */
export interface CompactAssessment {
  readonly certificates: readonly ParsedCertificate[];
  readonly clientCertificates: readonly ParsedCertificate[];
  readonly chain: ChainJudgement | null;
  /** Null unless `CompactOptions.fingerprints`. */
  readonly fingerprints: ConnectionFingerprints | null;
}

/** Milliseconds from the connection's first packet to `us` (µs), as a short decimal. */
const msSince = (c: ConnectionFacts, us: number): number => (us - c.startTimestampUs) / 1000;

const names = (reg: Registry, values: readonly number[]): string[] => values.map((v) => displayName(reg, v));

/**
 * Returns a readonly list of the facts as a JSON value without copying it: the line is written
 * before anything could change it, and JSON.stringify only reads.
 */
const list = <T extends number | string>(v: readonly T[] | null | undefined): Json => (v ?? null) as T[] | null;

/** Sets `o[key] = value` unless `value` is null, false or an empty array (absent means exactly that). */
function put(o: JsonObject, key: string, value: Json): void {
  if (value === null || value === false || (Array.isArray(value) && value.length === 0)) return;
  o[key] = value;
}

/** The extension lists a reader of handshakes looks at, given once beside the list of types. */
function clientExtensionFacts(ch: ClientHello, o: JsonObject, opts: CompactOptions): void {
  const exts = ch.extensions;
  const sigs = exts?.find((e) => e.kind === 'signature_algorithms' && e.type === 0x000d) as
    | Extract<Extension, { kind: 'signature_algorithms' }>
    | undefined;
  const versions = findExtension(exts, 'supported_versions')?.versions ?? null;
  const groups = findExtension(exts, 'supported_groups')?.groups ?? null;
  const shares = findExtension(exts, 'key_share')?.shares?.map((s) => s.group) ?? null;
  put(o, 'supportedVersions', list(versions));
  put(o, 'supportedGroups', list(groups));
  put(o, 'keyShares', shares);
  put(o, 'signatureAlgorithms', list(sigs?.schemes));
  put(o, 'alpn', list(findExtension(exts, 'alpn')?.protocols));
  put(o, 'ecPointFormats', list(findExtension(exts, 'ec_point_formats')?.formats));
  if (!opts.names) return;
  put(o, 'supportedVersionNames', versions ? names(PROTOCOL_VERSIONS, versions) : null);
  put(o, 'supportedGroupNames', groups ? names(NAMED_GROUPS, groups) : null);
  put(o, 'keyShareNames', shares ? names(NAMED_GROUPS, shares) : null);
  put(o, 'signatureAlgorithmNames', sigs ? names(SIGNATURE_SCHEMES, sigs.schemes) : null);
}

/** Returns the compact ClientHello; `serverName` only when `withName` (the first hello's is the line's `sni`). */
export function compactClientHello(
  c: ConnectionFacts,
  f: ClientHelloFact,
  prints: ConnectionFingerprints['clientHello'],
  opts: CompactOptions,
  withName: boolean,
): JsonObject {
  const o: JsonObject = { frame: f.frame, ms: msSince(c, f.timestampUs), format: f.format };
  if (f.format === 'sslv2') {
    const h = f.hello;
    o.legacyVersion = h.version;
    o.cipherSpecs = list(h.cipherSpecs);
    o.sessionId = toHex(h.sessionId);
    o.challenge = toHex(h.challenge);
    return o;
  }
  const ch = f.hello;
  o.legacyVersion = ch.legacyVersion;
  o.random = toHex(ch.random);
  o.sessionId = toHex(ch.sessionId);
  o.cipherSuites = list(ch.cipherSuites);
  o.compressionMethods = list(ch.compressionMethods);
  const types = ch.extensions?.map((e) => e.type) ?? [];
  o.extensions = types;
  if (opts.names) {
    o.cipherSuiteNames = names(CIPHER_SUITES, ch.cipherSuites);
    o.extensionNames = names(EXTENSION_TYPES, types);
  }
  if (withName) put(o, 'serverName', clientServerName(ch));
  clientExtensionFacts(ch, o, opts);
  // Finding is an interface: no index signature, so TS will not take its all-JSON fields as Json
  put(o, 'findings', clientHelloFindings(ch) as unknown as Json);
  if (prints) {
    o.ja3 = prints.ja3?.text ?? null;
    o.ja3Hash = prints.ja3?.hash ?? null;
    o.ja4 = prints.ja4?.fingerprint ?? null;
  }
  return o;
}

/**
 * Returns the compact ServerHello or HelloRetryRequest. A ServerHello's version and suite are the
 * connection's (`version`, `cipherSuite` on the line); a HelloRetryRequest carries its own.
 */
export function compactServerHello(
  c: ConnectionFacts,
  f: ServerHelloFact,
  print: Ja3 | null,
  opts: CompactOptions,
  retry: boolean,
): JsonObject {
  const sh: ServerHello = f.hello;
  const o: JsonObject = { frame: f.frame, ms: msSince(c, f.timestampUs), legacyVersion: sh.legacyVersion };
  if (retry) {
    o.version = negotiatedVersion(sh);
    o.cipherSuite = sh.cipherSuite;
  } else {
    o.random = toHex(sh.random);
  }
  o.sessionId = toHex(sh.sessionId);
  o.compressionMethod = sh.compressionMethod;
  const types = sh.extensions?.map((e) => e.type) ?? [];
  o.extensions = types;
  if (opts.names) o.extensionNames = names(EXTENSION_TYPES, types);
  const group = serverKeyShareGroup(sh);
  put(o, 'keyShareGroup', group);
  if (opts.names && group !== null) o.keyShareGroupName = displayName(NAMED_GROUPS, group);
  put(o, 'alpn', list(findExtension(sh.extensions, 'alpn')?.protocols));
  // decode's ServerHello findings (HRR, downgrade sentinel, compression) say what these fields say.
  put(o, 'downgradeSentinel', downgradeSentinel(sh));
  if (print) {
    o.ja3s = print.text;
    o.ja3sHash = print.hash;
  }
  return o;
}

function compactAlert(c: ConnectionFacts, a: AlertFact, opts: CompactOptions): JsonObject {
  const o: JsonObject = { from: a.from, level: a.level, description: a.description };
  o.name = a.description === null ? null : alertName(a.description);
  if (opts.names) o.levelName = a.level === null ? null : alertLevelName(a.level);
  put(o, 'encrypted', a.encrypted);
  put(o, 'decrypted', a.decrypted);
  o.frame = a.frame;
  o.ms = msSince(c, a.timestampUs);
  return o;
}

const certificateText = new WeakMap<CertInfo, string>();

/** Returns the JSON text of one certificate: thumbprint, names and validity, or why it did not decode. */
function certificateJson(p: ParsedCertificate): string {
  if (!p.cert) return JSON.stringify({ sha256: p.sha256, error: p.error.toJSON() });
  let text = certificateText.get(p.cert);
  if (text === undefined) {
    const c = p.cert;
    text = JSON.stringify({
      sha256: c.sha256,
      subject: c.subject.rfc4514,
      issuer: c.issuer.rfc4514,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
    });
    certificateText.set(c, text);
  }
  return text;
}

const chainText = new WeakMap<ChainReport, string>();

/** Returns the JSON text of a chain report: the verdict, its flags and the findings by code. */
function chainJson(r: ChainReport): string {
  let text = chainText.get(r);
  if (text === undefined) {
    text = JSON.stringify({
      valid: r.valid,
      verified: r.verified,
      complete: r.complete,
      hostnameMatch: r.hostnameMatch,
      anchor: anchorToJson(r.anchor),
      findings: r.findings.map((f) => ({
        code: f.code,
        severity: f.severity,
        ...(f.certificate !== undefined ? { certificate: f.certificate } : {}),
      })),
      verdict: chainVerdict(r),
    });
    chainText.set(r, text);
  }
  return text;
}

/** Returns the `"chain"` text, with `checkedAt` when validity was judged at another time than the start. */
function judgementJson(c: ConnectionFacts, j: ChainJudgement): string {
  const text = chainJson(j.report);
  if (j.at.getTime() === Math.floor(c.startTimestampUs / 1000)) return text;
  return `${text.slice(0, -1)},"checkedAt":${JSON.stringify(j.at.toISOString())}}`;
}

/** Returns the compact JSON text of one connection (one `connections[]` element of an NDJSON line). */
export function compactConnectionText(c: ConnectionFacts, a: CompactAssessment, opts: CompactOptions): string {
  const fp = a.fingerprints;
  const o: JsonObject = {
    index: c.index,
    client: endpointText(c.client),
    server: endpointText(c.server),
    startTime: new Date(Math.floor(c.startTimestampUs / 1000)).toISOString(),
    sni: connectionSni(c),
    outcome: c.outcome,
    version: c.version,
  };
  if (c.version !== null) o.versionName = displayName(PROTOCOL_VERSIONS, c.version);
  o.cipherSuite = c.cipherSuite;
  if (c.cipherSuite !== null) o.cipherSuiteName = displayName(CIPHER_SUITES, c.cipherSuite);
  o.handshakeComplete = c.handshakeComplete;
  o.clientHello = c.clientHello ? compactClientHello(c, c.clientHello, fp?.clientHello ?? null, opts, false) : null;
  if (c.helloRetryRequest)
    o.helloRetryRequest = compactServerHello(c, c.helloRetryRequest, fp?.helloRetryRequest ?? null, opts, true);
  if (c.retryClientHello)
    o.retryClientHello = compactClientHello(c, c.retryClientHello, fp?.retryClientHello ?? null, opts, true);
  o.serverHello = c.serverHello ? compactServerHello(c, c.serverHello, fp?.serverHello ?? null, opts, false) : null;
  put(o, 'sslv2ServerHello', c.sslv2ServerHello);
  o.alerts = c.alerts.map((al) => compactAlert(c, al, opts));
  o.end = endToJson(c.end);
  put(
    o,
    'problems',
    c.problems.map((p) => ({ from: p.from, code: p.code, message: p.message })),
  );
  put(o, 'serverFirstBytes', c.serverEvidence ? toHex(c.serverEvidence) : null);
  if (c.decryption) o.decryption = decryptionToJson(c.decryption);
  if (c.tlsOffset.client !== 0 || c.tlsOffset.server !== 0)
    o.tlsOffset = { client: c.tlsOffset.client, server: c.tlsOffset.server };
  o.bytes = { client: c.bytes.client, server: c.bytes.server };
  put(o, 'certificatesDecrypted', c.certificatesDecrypted);
  // The shared parts last, spliced in as text made once per certificate and per chain report.
  let text = `${JSON.stringify(o).slice(0, -1)},"certificates":[${a.certificates.map(certificateJson).join(',')}]`;
  text += `,"chain":${a.chain ? judgementJson(c, a.chain) : 'null'}`;
  if (a.clientCertificates.length > 0)
    text += `,"clientCertificates":[${a.clientCertificates.map(certificateJson).join(',')}]`;
  return `${text}}`;
}
