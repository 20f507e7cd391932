/**
 * Returns the facts reported for a connection once it is over: how it ended (FIN, RST, still open),
 * its outcome in the shared taxonomy (src/tls/outcome.ts: negotiated, alert, reset, closed,
 * timeout, malformed, mismatch), what decryption achieved, and the `ConnectionFacts` themselves.
 */
import type { CaptureOutcome, ConnectionFacts, DecryptionFacts, EndFact } from './facts.js';
import type { Direction } from './tcp.js';
import { clientSupportedVersions } from '../tls/client-hello.js';
import { negotiatedVersion } from '../tls/server-hello.js';
import { other, handshakeComplete, lastMessage, messageEvents, clientHelloFact } from './connection.js';
import type { Conn } from './connection.js';

export function offered(c: Conn): { versions: (v: number) => boolean; suites: readonly number[] } | null {
  const ch = c.retryClientHello ?? c.clientHello;
  if (!ch) return null;
  if (ch.format === 'sslv2') {
    // RFC 5246, Appendix E.2: V2CipherSpecs whose first byte is zero are TLS cipher suites.
    return { versions: (v) => v <= ch.hello.version, suites: ch.hello.cipherSpecs.filter((s) => s >> 16 === 0) };
  }
  const listed = clientSupportedVersions(ch.hello);
  const legacy = ch.hello.legacyVersion;
  return { versions: listed ? (v) => listed.includes(v) : (v) => v <= legacy, suites: ch.hello.cipherSuites };
}

export function classify(c: Conn, end: EndFact): CaptureOutcome {
  if (c.failureAlert) return 'alert';
  if (c.clientBroken || c.serverEvidence !== null) return 'malformed';
  if (c.serverHello) {
    const o = offered(c);
    const sh = c.serverHello.hello;
    if (o && (!o.versions(negotiatedVersion(sh)) || !o.suites.includes(sh.cipherSuite))) return 'mismatch';
    if (handshakeComplete(c)) return 'negotiated';
  } else if (c.sslv2ServerHello) {
    return 'negotiated';
  }
  return end.kind === 'rst' ? 'reset' : end.kind === 'fin' ? 'closed' : 'timeout';
}

export function endOf(c: Conn): EndFact {
  const f = c.flow;
  const map = (d: Direction): Direction => (c.swap ? other(d) : d);
  const ev = f.flags.find((x) => x.kind === 'rst') ?? f.flags.find((x) => x.kind === 'fin');
  const ts = ev ? ev.timestampUs : f.lastTimestampUs;
  const last = lastMessage(c, ev ? ev.frame : null);
  return {
    kind: ev ? (ev.kind as 'fin' | 'rst') : 'open',
    by: ev ? map(ev.from) : null,
    frame: ev ? ev.frame : null,
    timestampUs: ts,
    afterMessage: last?.type ?? null,
    afterMessageFrom: last?.from ?? null,
    msAfterMessage: last ? (ts - last.timestampUs) / 1000 : null,
    msSinceStart: (ts - f.firstTimestampUs) / 1000,
  };
}

export function decryptionOf(c: Conn, keysGiven: boolean): DecryptionFacts | null {
  if (!keysGiven) return null;
  const cs = c.sides.client;
  const ss = c.sides.server;
  // One literal with the fields in a fixed order (an object spread per connection showed in the profile).
  const facts = (status: DecryptionFacts['status'], detail: string | null): DecryptionFacts => ({
    keys: c.secrets,
    clientFinished: cs.finished,
    serverFinished: ss.finished,
    messages: c.decryptedMessages,
    status,
    detail,
  });
  if (c.secrets === 'none')
    return facts(
      'no-keys',
      c.clientHello
        ? 'the key log has no secret for this client random'
        : 'no ClientHello, so no client random to look up',
    );
  if (c.decryptionUnsupported) return facts('unsupported', c.decryptionUnsupported);
  const opened = cs.decryptedRecords + ss.decryptedRecords;
  if (cs.finished && ss.finished) return facts('decrypted', null);
  if (opened > 0) return facts('partial', 'some handshake records were not in the capture or did not open');
  const tried = cs.tls12Failed || ss.tls12Failed || cs.failedDecrypts + ss.failedDecrypts > 0;
  if (tried) return facts('failed', 'records did not authenticate with the logged secrets');
  return facts('nothing-encrypted', 'no protected handshake record was captured');
}

export function finish(c: Conn, keysGiven: boolean): ConnectionFacts {
  const f = c.flow;
  const map = (d: Direction): Direction => (c.swap ? other(d) : d);
  const end = endOf(c);
  return {
    index: f.id,
    client: c.swap ? f.server : f.client,
    server: c.swap ? f.client : f.server,
    ipVersion: f.ipVersion,
    startTimestampUs: f.firstTimestampUs,
    lastTimestampUs: f.lastTimestampUs,
    tlsOffset: { client: c.sides.client.tlsStart, server: c.sides.server.tlsStart },
    clientHello: clientHelloFact(c.clientHello),
    helloRetryRequest: c.helloRetryRequest,
    retryClientHello: clientHelloFact(c.retryClientHello),
    serverHello: c.serverHello,
    sslv2ServerHello: c.sslv2ServerHello,
    version: c.version,
    cipherSuite: c.cipherSuite,
    certificates: c.certificates,
    certificatesDecrypted: c.certificatesDecrypted,
    clientCertificates: c.clientCertificates,
    alerts: c.alerts,
    messages: messageEvents(c),
    handshakeComplete: handshakeComplete(c),
    end,
    outcome: classify(c, end),
    problems: c.problems,
    serverEvidence: c.serverEvidence,
    decryption: decryptionOf(c, keysGiven),
    bytes: { client: f.stats[map('client')].deliveredBytes, server: f.stats[map('server')].deliveredBytes },
  };
}
