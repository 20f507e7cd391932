/**
 * Returns the JSON and table views of captured TLS connections: what `tlsprobe capture --json`,
 * `--ndjson` and the default table print. Field names are a contract (other tools read them);
 * bytes become lowercase hex and registry values stay numbers with a `…Name` sibling. Nothing is
 * judged here: fingerprints and the chain check come in as a `ConnectionAssessment`
 * (src/capture/assess.ts).
 */
import type { ConnectionFacts, ClientHelloFact, ServerHelloFact, AlertFact, CaptureOutcome } from '../capture/facts.js';
import { connectionSni, endpointText } from '../capture/facts.js';
import type { ConnectionAssessment } from '../capture/assess.js';
import type { ClientHelloFingerprints, ConnectionFingerprints } from '../capture/fingerprint.js';
import type { Ja3 } from '../capture/fingerprint.js';
import { alertLevelName, alertName } from '../tls/alert.js';
import { CIPHER_SUITES, PROTOCOL_VERSIONS, displayName } from '../tls/registry.js';
import { toHex } from '../wire/hex.js';
import type { ParsedCertificate } from '../x509/certificate-cache.js';
import { certInfoToJson, chainToJson } from './chain-view.js';
import { clientHelloToJson, serverHelloToJson } from './decode-view.js';
import type { Json, JsonObject } from './decode-view.js';
import { drawTable, streamedTable } from './table.js';
import type { StreamedTable } from './table.js';

export { connectionSni };

const iso = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();

const hex4 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;

/** Returns the JSON of a ClientHello fact: decode's ClientHello object plus `ja3`, `ja3Hash`, `ja4`. */
export function clientHelloFactToJson(f: ClientHelloFact, prints: ClientHelloFingerprints | null): JsonObject {
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
  const j3 = prints?.ja3 ?? null;
  const j4 = prints?.ja4 ?? null;
  return {
    format: 'tls',
    ...clientHelloToJson(f.hello),
    ja3: j3?.text ?? null,
    ja3Hash: j3?.hash ?? null,
    ja4: j4?.fingerprint ?? null,
    ja4Raw: j4?.raw ?? null,
    ...seen,
  };
}

/** Returns the JSON of a ServerHello fact: decode's ServerHello object plus `ja3s`, `ja3sHash`. */
export function serverHelloFactToJson(f: ServerHelloFact, j: Ja3 | null): JsonObject {
  return {
    ...serverHelloToJson(f.hello),
    ja3s: j?.text ?? null,
    ja3sHash: j?.hash ?? null,
    frame: f.frame,
    time: iso(f.timestampUs),
  };
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
export function capturedCertificateToJson(p: ParsedCertificate): JsonObject {
  if (p.cert) return certInfoToJson(p.cert);
  return {
    der: toHex(p.der),
    sha1: p.sha1,
    sha256: p.sha256,
    subject: null,
    issuer: null,
    error: p.error.toJSON(),
  };
}

/** Returns the JSON of one connection (the `connections[]` element of the contract). */
export function connectionToJson(c: ConnectionFacts, a: ConnectionAssessment): JsonObject {
  const sni = connectionSni(c);
  const fp: ConnectionFingerprints = a.fingerprints;
  const chain = a.chain ? chainToJson(a.chain.report) : null;
  return {
    index: c.index,
    client: endpointText(c.client),
    server: endpointText(c.server),
    startTime: iso(c.startTimestampUs),
    sni,
    clientHello: c.clientHello ? clientHelloFactToJson(c.clientHello, fp.clientHello) : null,
    helloRetryRequest: c.helloRetryRequest ? serverHelloFactToJson(c.helloRetryRequest, fp.helloRetryRequest) : null,
    retryClientHello: c.retryClientHello ? clientHelloFactToJson(c.retryClientHello, fp.retryClientHello) : null,
    serverHello: c.serverHello ? serverHelloFactToJson(c.serverHello, fp.serverHello) : null,
    sslv2ServerHello: c.sslv2ServerHello,
    version: c.version,
    versionName: c.version === null ? null : displayName(PROTOCOL_VERSIONS, c.version),
    cipherSuite: c.cipherSuite,
    cipherSuiteName: c.cipherSuite === null ? null : displayName(CIPHER_SUITES, c.cipherSuite),
    certificates: a.certificates.map(capturedCertificateToJson),
    certificatesDecrypted: c.certificatesDecrypted,
    chain,
    chainCheckedAt: a.chain ? a.chain.at.toISOString() : null,
    clientCertificates: a.clientCertificates.map(capturedCertificateToJson),
    alerts: c.alerts.map(alertToJson),
    end: endToJson(c.end),
    handshakeComplete: c.handshakeComplete,
    outcome: c.outcome,
    messages: c.messages.map((m) => ({ from: m.from, type: m.type, frame: m.frame, decrypted: m.decrypted })),
    problems: c.problems.map((p) => ({ from: p.from, code: p.code, message: p.message })),
    serverFirstBytes: c.serverEvidence ? toHex(c.serverEvidence) : null,
    decryption: c.decryption ? decryptionToJson(c.decryption) : null,
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

/** What decryption with the key log gave, as JSON (the same object in --json and in the NDJSON line). */
export function decryptionToJson(d: NonNullable<ConnectionFacts['decryption']>): JsonObject {
  const finished = (f: { verifyData: Uint8Array; verified: boolean | null } | null): Json =>
    f ? { verifyData: toHex(f.verifyData), verified: f.verified } : null;
  return {
    keys: d.keys,
    status: d.status,
    detail: d.detail,
    clientFinished: finished(d.clientFinished),
    serverFinished: finished(d.serverFinished),
    messages: [...d.messages],
  };
}

/** How the connection ended, as JSON (the same object in --json and in the NDJSON line). */
export function endToJson(e: ConnectionFacts['end']): JsonObject {
  return {
    kind: e.kind,
    by: e.by,
    afterMessage: e.afterMessage,
    afterMessageFrom: e.afterMessageFrom,
    msAfterMessage: e.msAfterMessage,
    msSinceStart: e.msSinceStart,
    frame: e.frame,
  };
}

/** One row of the connection table, cells in `connectionTableHead` order. */
export type ConnectionRow = readonly (string | number)[];

const TABLE_HEAD = ['#', 'Client', 'Server', 'SNI', 'Version', 'Cipher suite', 'Certs', 'Alerts', 'End', 'Outcome'];
const FINGERPRINT_HEAD = ['JA3', 'JA3S', 'JA4'];

/** Column widths of the streamed table: an IPv4 endpoint, a long suite name, a 36-character JA4. */
const TABLE_WIDTHS = [7, 21, 21, 30, 9, 45, 5, 24, 52, 34];
const FINGERPRINT_WIDTHS = [32, 32, 36];

/** Returns the table's column titles (the fingerprint columns on request). */
export function connectionTableHead(fingerprints = false): string[] {
  return fingerprints ? [...TABLE_HEAD, ...FINGERPRINT_HEAD] : [...TABLE_HEAD];
}

function endText(e: ConnectionFacts['end']): string {
  if (e.kind === 'open') return 'open';
  const after = e.afterMessage ? ` after ${e.afterMessageFrom} ${e.afterMessage}` : '';
  const ms = typeof e.msAfterMessage === 'number' ? ` (+${Math.round(e.msAfterMessage)} ms)` : '';
  return `${e.kind.toUpperCase()} by ${e.by}${after}${ms}`;
}

function alertsText(alerts: readonly AlertFact[]): string {
  const name = (a: AlertFact): string => (a.description === null ? null : alertName(a.description)) ?? 'encrypted';
  return alerts.map((a) => `${a.from === 'client' ? 'C' : 'S'}:${name(a)}`).join(' ');
}

/**
 * Returns the table row of a connection, straight from its facts (the table shows none of what
 * the JSON view decodes); the fingerprint columns when `prints` is given.
 */
export function connectionRow(c: ConnectionFacts, prints: ConnectionFingerprints | null = null): ConnectionRow {
  const suite = c.cipherSuite === null ? '' : String(displayName(CIPHER_SUITES, c.cipherSuite) ?? hex4(c.cipherSuite));
  const row: (string | number)[] = [
    c.index,
    endpointText(c.client),
    endpointText(c.server),
    connectionSni(c) ?? '',
    c.version === null ? '' : displayName(PROTOCOL_VERSIONS, c.version),
    suite,
    c.certificates.length,
    alertsText(c.alerts),
    endText(c.end),
    `${c.outcome} (${OUTCOME_NOTES[c.outcome]})`,
  ];
  if (prints) {
    row.push(
      prints.clientHello?.ja3?.hash ?? '',
      prints.serverHello?.hash ?? '',
      prints.clientHello?.ja4?.fingerprint ?? '',
    );
  }
  return row;
}

/** Returns the per-connection table of `rows` (from `connectionRow`), drawn whole in linear time. */
export function renderConnectionsTable(rows: readonly ConnectionRow[], opts: { fingerprints?: boolean } = {}): string {
  return drawTable(connectionTableHead(opts.fingerprints), rows);
}

/** Returns the per-connection table drawn a row at a time, for rows printed as connections end. */
export function streamedConnectionsTable(opts: { fingerprints?: boolean } = {}): StreamedTable {
  const widths = opts.fingerprints ? [...TABLE_WIDTHS, ...FINGERPRINT_WIDTHS] : TABLE_WIDTHS;
  return streamedTable(connectionTableHead(opts.fingerprints), widths);
}
