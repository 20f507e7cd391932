/**
 * Returns the JSON and table views of captured TLS connections: what `tlsprobe capture --json`,
 * `--ndjson` and the default table print. Field names are a contract (other tools read them);
 * bytes become lowercase hex and registry values stay numbers with a `…Name` sibling. Certificate
 * chains are judged here (a view needs the roots and the date; the facts do not).
 */
import { createHash } from 'node:crypto';
import type { ConnectionFacts, ClientHelloFact, ServerHelloFact, AlertFact, CaptureOutcome } from '../capture/sessions.js';
import { endpointText } from '../capture/sessions.js';
import { ja3, ja3s, ja4 } from '../capture/fingerprint.js';
import { clientServerName } from '../tls/client-hello.js';
import { alertLevelName, alertName } from '../tls/alert.js';
import { CIPHER_SUITES, PROTOCOL_VERSIONS, displayName } from '../tls/registry.js';
import { toHex } from '../wire/hex.js';
import { DecodeError } from '../wire/errors.js';
import { parseCertificate } from '../x509/der.js';
import { checkChain } from '../x509/chain.js';
import type { TrustedRoot } from '../x509/roots.js';
import { certInfoToJson, chainToJson } from './chain-view.js';
import { clientHelloToJson, serverHelloToJson } from './decode-view.js';
import type { Json, JsonObject } from './decode-view.js';
import { renderTable } from './table.js';

export interface CaptureViewOptions {
  /** Trust anchors for the chain check (default: the documented root set). */
  readonly roots?: readonly TrustedRoot[];
  /** Date at which certificate validity is judged (default: the connection's start time). */
  readonly at?: Date;
}

const iso = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();

const hex4 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;

/** Returns the SNI host name of the first ClientHello, or null. */
export function connectionSni(c: ConnectionFacts): string | null {
  return c.clientHello?.format === 'tls' ? clientServerName(c.clientHello.hello) : null;
}

/** Returns the JSON of a ClientHello fact: decode's ClientHello object plus `ja3`, `ja3Hash`, `ja4`. */
export function clientHelloFactToJson(f: ClientHelloFact): JsonObject {
  const seen = { frame: f.frame, time: iso(f.timestampUs) };
  if (f.format === 'sslv2') {
    const h = f.hello;
    return {
      format: 'sslv2',
      legacyVersion: h.version,
      legacyVersionName: displayName(PROTOCOL_VERSIONS, h.version),
      cipherSpecs: [...h.cipherSpecs],
      // RFC 5246, Appendix E.2: the specs whose first byte is zero are TLS cipher suites.
      cipherSuites: h.cipherSpecs.filter((s) => s >> 16 === 0),
      sessionId: toHex(h.sessionId),
      challenge: toHex(h.challenge),
      ja3: null,
      ja3Hash: null,
      ja4: null,
      ...seen,
    };
  }
  const j3 = ja3(f.hello);
  const j4 = ja4(f.hello);
  return { format: 'tls', ...clientHelloToJson(f.hello), ja3: j3.text, ja3Hash: j3.hash, ja4: j4.fingerprint, ja4Raw: j4.raw, ...seen };
}

/** Returns the JSON of a ServerHello fact: decode's ServerHello object plus `ja3s`, `ja3sHash`. */
export function serverHelloFactToJson(f: ServerHelloFact): JsonObject {
  const j = ja3s(f.hello);
  return { ...serverHelloToJson(f.hello), ja3s: j.text, ja3sHash: j.hash, frame: f.frame, time: iso(f.timestampUs) };
}

function alertToJson(a: AlertFact): JsonObject {
  return {
    from: a.from,
    level: a.level,
    levelName: a.level === null ? null : alertLevelName(a.level),
    description: a.description,
    name: a.description === null ? null : alertName(a.description),
    encrypted: a.encrypted,
    decrypted: a.decrypted,
    frame: a.frame,
    time: iso(a.timestampUs),
  };
}

/** Returns the JSON of one certificate: decoded fields when the DER parses, thumbprints always. */
export function capturedCertificateToJson(der: Uint8Array): JsonObject {
  try {
    return certInfoToJson(parseCertificate(der));
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return {
      der: toHex(der),
      sha1: createHash('sha1').update(der).digest('hex'),
      sha256: createHash('sha256').update(der).digest('hex'),
      subject: null,
      issuer: null,
      error: e.toJSON(),
    };
  }
}

/** Returns the JSON of one connection (the `connections[]` element of the contract). */
export function connectionToJson(c: ConnectionFacts, opts: CaptureViewOptions = {}): JsonObject {
  const sni = connectionSni(c);
  const at = opts.at ?? new Date(Math.floor(c.startTimestampUs / 1000));
  const chain =
    c.certificates.length > 0
      ? chainToJson(checkChain(c.certificates, { ...(sni ? { host: sni } : {}), at, ...(opts.roots ? { roots: opts.roots } : {}) }))
      : null;
  const d = c.decryption;
  const finished = (f: { verifyData: Uint8Array; verified: boolean | null } | null): Json => (f ? { verifyData: toHex(f.verifyData), verified: f.verified } : null);
  return {
    index: c.index,
    client: endpointText(c.client),
    server: endpointText(c.server),
    startTime: iso(c.startTimestampUs),
    sni,
    clientHello: c.clientHello ? clientHelloFactToJson(c.clientHello) : null,
    helloRetryRequest: c.helloRetryRequest ? serverHelloFactToJson(c.helloRetryRequest) : null,
    retryClientHello: c.retryClientHello ? clientHelloFactToJson(c.retryClientHello) : null,
    serverHello: c.serverHello ? serverHelloFactToJson(c.serverHello) : null,
    sslv2ServerHello: c.sslv2ServerHello,
    version: c.version,
    versionName: c.version === null ? null : displayName(PROTOCOL_VERSIONS, c.version),
    cipherSuite: c.cipherSuite,
    cipherSuiteName: c.cipherSuite === null ? null : displayName(CIPHER_SUITES, c.cipherSuite),
    certificates: c.certificates.map(capturedCertificateToJson),
    certificatesDecrypted: c.certificatesDecrypted,
    chain,
    chainCheckedAt: chain ? at.toISOString() : null,
    clientCertificates: c.clientCertificates.map(capturedCertificateToJson),
    alerts: c.alerts.map(alertToJson),
    end: {
      kind: c.end.kind,
      by: c.end.by,
      afterMessage: c.end.afterMessage,
      afterMessageFrom: c.end.afterMessageFrom,
      msAfterMessage: c.end.msAfterMessage,
      msSinceStart: c.end.msSinceStart,
      frame: c.end.frame,
    },
    handshakeComplete: c.handshakeComplete,
    outcome: c.outcome,
    messages: c.messages.map((m) => ({ from: m.from, type: m.type, frame: m.frame, decrypted: m.decrypted })),
    problems: c.problems.map((p) => ({ from: p.from, code: p.code, message: p.message })),
    serverFirstBytes: c.serverEvidence ? toHex(c.serverEvidence) : null,
    decryption: d
      ? { keys: d.keys, status: d.status, detail: d.detail, clientFinished: finished(d.clientFinished), serverFinished: finished(d.serverFinished), messages: [...d.messages] }
      : null,
    tlsOffset: { client: c.tlsOffset.client, server: c.tlsOffset.server },
    bytes: { client: c.bytes.client, server: c.bytes.server },
  };
}

/** What `tlsprobe capture` filters on. */
export interface CaptureFilters {
  /** An address (either endpoint) or a name (matched against the SNI). */
  readonly host?: string;
  /** A port of either endpoint. */
  readonly port?: number;
  /** SNI pattern: exact (case-insensitive), or with `*` wildcards. */
  readonly sni?: string;
  /** Only connections whose outcome is not `negotiated`. */
  readonly failed?: boolean;
}

function wildcard(pattern: string): RegExp {
  const body = pattern
    .toLowerCase()
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** Returns true when the connection passes every filter given. */
export function connectionMatches(c: ConnectionFacts, f: CaptureFilters): boolean {
  const sni = connectionSni(c)?.toLowerCase() ?? null;
  if (f.host !== undefined) {
    const h = f.host.replace(/^\[|\]$/g, '').toLowerCase();
    if (c.client.addr.toLowerCase() !== h && c.server.addr.toLowerCase() !== h && sni !== h) return false;
  }
  if (f.port !== undefined && c.client.port !== f.port && c.server.port !== f.port) return false;
  if (f.sni !== undefined && (sni === null || !wildcard(f.sni).test(sni))) return false;
  if (f.failed && c.outcome === 'negotiated') return false;
  return true;
}

const OUTCOME_NOTES: Readonly<Record<CaptureOutcome, string>> = {
  negotiated: 'handshake completed',
  alert: 'TLS alert',
  reset: 'TCP reset',
  closed: 'closed (FIN)',
  timeout: 'open at end of capture',
  malformed: 'not TLS / broken',
  mismatch: 'server chose what was not offered',
};

function endText(j: JsonObject): string {
  const e = j.end as JsonObject;
  if (e.kind === 'open') return 'open';
  const after = e.afterMessage ? ` after ${e.afterMessageFrom} ${e.afterMessage}` : '';
  const ms = typeof e.msAfterMessage === 'number' ? ` (+${Math.round(e.msAfterMessage)} ms)` : '';
  return `${String(e.kind).toUpperCase()} by ${e.by}${after}${ms}`;
}

function alertsText(j: JsonObject): string {
  return (j.alerts as JsonObject[]).map((a) => `${a.from === 'client' ? 'C' : 'S'}:${a.name ?? 'encrypted'}`).join(' ');
}

/** Returns the per-connection table (one row per connection JSON), fingerprints as extra columns on request. */
export function renderConnectionsTable(rows: readonly JsonObject[], opts: { fingerprints?: boolean } = {}): string {
  const head = ['#', 'Client', 'Server', 'SNI', 'Version', 'Cipher suite', 'Certs', 'Alerts', 'End', 'Outcome'];
  if (opts.fingerprints) head.push('JA3', 'JA3S', 'JA4');
  return renderTable(
    head,
    rows.map((j) => {
      const ch = j.clientHello as JsonObject | null;
      const sh = j.serverHello as JsonObject | null;
      const suite = typeof j.cipherSuite === 'number' ? String(j.cipherSuiteName ?? hex4(j.cipherSuite)) : '';
      const row: (string | number | null)[] = [
        j.index as number,
        j.client as string,
        j.server as string,
        (j.sni as string | null) ?? '',
        (j.versionName as string | null) ?? '',
        suite,
        (j.certificates as Json[]).length,
        alertsText(j),
        endText(j),
        `${j.outcome as string} (${OUTCOME_NOTES[j.outcome as CaptureOutcome]})`,
      ];
      if (opts.fingerprints) row.push((ch?.ja3Hash as string | null) ?? '', (sh?.ja3sHash as string | null) ?? '', (ch?.ja4 as string | null) ?? '');
      return row;
    }),
  );
}
