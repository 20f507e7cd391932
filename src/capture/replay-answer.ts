/**
 * A server's answer to a replayed ClientHello, in terms both sides of a replay share: `answerFromFacts`
 * reads it from a captured connection, `answerFromAttempt` from a live attempt, and `compareAnswers`
 * lists the fields on which the two differ.
 */
import { thumbprint } from '../x509/thumbprint.js';
import { alertName } from '../tls/alert.js';
import { negotiatedVersion, serverKeyShareGroup } from '../tls/server-hello.js';
import { ProtocolVersion } from '../tls/registry.js';
import type { ConnectionFacts } from './sessions.js';
import type { AttemptResult } from '../probe/attempt.js';
import type { OutcomeKind } from '../tls/outcome.js';

/** A server's answer to one ClientHello, in the terms both sides of a replay can be compared in. */
export interface ServerAnswer {
  readonly outcome: OutcomeKind;
  readonly negotiatedVersion: number | null;
  readonly cipherSuite: number | null;
  /** TLS 1.3 key_share group, or the ServerKeyExchange curve. */
  readonly group: number | null;
  readonly helloRetryRequest: boolean;
  /** ServerHello extension types in wire order; null without a ServerHello. */
  readonly serverHelloExtensions: readonly number[] | null;
  /** EncryptedExtensions types (TLS 1.3); null when not seen (not TLS 1.3, or not decrypted). */
  readonly encryptedExtensions: readonly number[] | null;
  readonly alert: { readonly level: number; readonly description: number; readonly name: string } | null;
  /** Certificates as sent; null when they could not be seen (TLS 1.3 without keys, or no Certificate). */
  readonly certificates: readonly Uint8Array[] | null;
  /** Why something is unknown (encrypted without keys, capture ended, gap in the capture). */
  readonly notes: readonly string[];
}

/** One field on which the captured and the live answers differ. */
export interface Difference {
  readonly field: string;
  readonly captured: unknown;
  readonly live: unknown;
}

/**
 * Returns the server's alert that answered the hello: one sent before the client said anything
 * more than its hello(s) (and a middlebox-compatibility ChangeCipherSpec, RFC 8446, Appendix D.4).
 * A later alert (close_notify after a finished handshake) is not part of the answer a live attempt
 * sees.
 */
function answerAlert(c: ConnectionFacts): ConnectionFacts['alerts'][number] | undefined {
  for (const m of c.messages) {
    if (m.from === 'client' && m.type !== 'client_hello' && m.type !== 'change_cipher_spec') return undefined;
    if (m.from === 'server' && m.type === 'alert')
      return c.alerts.find((a) => a.from === 'server' && a.frame === m.frame);
  }
  return undefined;
}

/**
 * Returns the server's answer in a captured connection, in the terms a live attempt reports: a
 * ServerHello is 'negotiated' (or 'mismatch') whether or not the rest of the handshake was captured,
 * as `attempt()` stops after the server's first flight; otherwise the server's alert, its RST or
 * FIN. Unknown facts are null: the TLS 1.2 ServerKeyExchange curve and EncryptedExtensions are not
 * among the facts `analyzeCapture` keeps, and TLS 1.3 certificates need the connection's secrets.
 */
export function answerFromFacts(c: ConnectionFacts): ServerAnswer {
  const notes: string[] = c.problems.map((p) => `${p.from}: ${p.message}`);
  const sh = c.serverHello?.hello ?? null;
  const hrr = c.helloRetryRequest?.hello ?? null;
  const serverAlert = answerAlert(c);
  const alert =
    serverAlert && serverAlert.description !== null && serverAlert.level !== null
      ? { level: serverAlert.level, description: serverAlert.description, name: alertName(serverAlert.description) }
      : null;
  const tls13 = sh !== null && negotiatedVersion(sh) === ProtocolVersion.TLS1_3;
  let outcome: OutcomeKind;
  if (sh) outcome = c.outcome === 'mismatch' ? 'mismatch' : 'negotiated';
  else if (hrr)
    outcome = 'negotiated'; // as attempt(): a HelloRetryRequest shows TLS 1.3 is there
  else if (serverAlert) outcome = 'alert';
  else if (c.outcome === 'malformed') outcome = 'malformed';
  else if (c.end.by === 'server' && c.end.kind === 'rst') outcome = 'reset';
  else if (c.end.by === 'server' && c.end.kind === 'fin') outcome = 'closed';
  else {
    outcome = 'timeout';
    notes.push(
      c.end.by === 'client'
        ? 'the client closed before the server answered'
        : 'no answer from the server in the capture',
    );
  }
  if (serverAlert && alert === null) notes.push('the server sent an encrypted alert that no key log opens');
  if (tls13 && !c.certificatesDecrypted)
    notes.push(
      c.decryption?.detail ??
        "the TLS 1.3 flight is encrypted and no key log has this connection's secrets: certificates unknown",
    );
  return {
    outcome,
    negotiatedVersion: c.version,
    cipherSuite: c.cipherSuite,
    group: tls13 ? serverKeyShareGroup(sh) : hrr ? serverKeyShareGroup(hrr) : null,
    helloRetryRequest: hrr !== null,
    serverHelloExtensions: sh ? (sh.extensions ?? []).map((e) => e.type) : null,
    encryptedExtensions: null,
    alert,
    certificates: c.certificates.length > 0 ? c.certificates : null,
    notes,
  };
}

/** Returns the live attempt in the terms of a captured answer. */
export function answerFromAttempt(r: AttemptResult): ServerAnswer {
  const notes: string[] = [];
  const tls13 = r.negotiatedVersion === ProtocolVersion.TLS1_3 && r.serverHello !== null;
  if (tls13 && r.encryptedExtensions === null) notes.push(r.error ?? 'the TLS 1.3 flight was not decrypted');
  return {
    outcome: r.outcome,
    negotiatedVersion: r.negotiatedVersion,
    cipherSuite: r.cipherSuite,
    group: r.group,
    helloRetryRequest: r.helloRetryRequest,
    serverHelloExtensions: r.serverHello ? (r.serverHello.extensions ?? []).map((e) => e.type) : null,
    encryptedExtensions: r.encryptedExtensions ? r.encryptedExtensions.map((e) => e.type) : null,
    alert: r.alert ? { level: r.alert.level, description: r.alert.description, name: r.alert.name } : null,
    certificates: r.messages.includes('certificate') ? r.certificates : null,
    notes,
  };
}

/** Returns the SHA-1 thumbprint (hex) of a DER certificate. */
export function sha1Hex(der: Uint8Array): string {
  return thumbprint(der, 'sha1');
}

/**
 * Returns the fields on which two answers differ: outcome, version, suite, group, HelloRetryRequest,
 * ServerHello and EncryptedExtensions extension types, alert, certificate SHA-1s. Group,
 * EncryptedExtensions and certificates unknown on one side (null: encrypted without keys, or not
 * among the captured facts) are not compared.
 */
export function compareAnswers(captured: ServerAnswer, live: ServerAnswer): Difference[] {
  const out: Difference[] = [];
  const field = (name: string, a: unknown, b: unknown, skipUnknown = false) => {
    if (skipUnknown && (a === null || b === null)) return;
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ field: name, captured: a, live: b });
  };
  field('outcome', captured.outcome, live.outcome);
  field('negotiatedVersion', captured.negotiatedVersion, live.negotiatedVersion);
  field('cipherSuite', captured.cipherSuite, live.cipherSuite);
  field('group', captured.group, live.group, true);
  field('helloRetryRequest', captured.helloRetryRequest, live.helloRetryRequest);
  field('serverHelloExtensions', captured.serverHelloExtensions, live.serverHelloExtensions);
  field('encryptedExtensions', captured.encryptedExtensions, live.encryptedExtensions, true);
  field('alert', captured.alert?.name ?? null, live.alert?.name ?? null);
  field('certificates', captured.certificates?.map(sha1Hex) ?? null, live.certificates?.map(sha1Hex) ?? null, true);
  return out;
}
