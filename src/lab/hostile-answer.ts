/**
 * The hostile lab's server side of a handshake, built from our own codecs: `answer` returns the
 * ServerHello a plain server would send for a ClientHello (TLS 1.3 with a real key share and the
 * handshake keys to encrypt what follows), and the helpers here frame records, handshake messages
 * and certificates for the behaviours in hostile-behaviours.ts to send, whole or cut.
 */
import { randomBytes } from 'node:crypto';
import { Writer } from '../wire/writer.js';
import { concatBytes } from '../wire/hex.js';
import { writeRecord } from '../tls/record.js';
import { writeAlert } from '../tls/alert.js';
import { writeHandshake } from '../tls/handshake-header.js';
import { type ClientHello, encodeClientHello, highestOfferedVersion } from '../tls/client-hello.js';
import { type ServerHello, encodeServerHello, HELLO_RETRY_REQUEST_RANDOM } from '../tls/server-hello.js';
import { findExtension, writeExtensions, type Extension } from '../tls/extensions.js';
import { writeCertificateBody, type CertificateEntry } from '../tls/certificate.js';
import { isGrease } from '../tls/grease.js';
import { ContentType, HandshakeType, ProtocolVersion } from '../tls/registry.js';
import {
  generateKeyShare,
  handshakeSecrets,
  hashForSuite,
  SUPPORTED_KEY_SHARE_GROUPS,
  trafficKeys,
  transcriptHash,
} from '../tls/key-schedule.js';
import { encryptRecord, newProtectionState, type ProtectionState } from '../tls/protection.js';

/** The server's side of a handshake so far: the ServerHello and how to send the messages after it. */
export interface Answer {
  readonly tls13: boolean;
  readonly suite: number;
  /** The ServerHello handshake message (header included). */
  readonly serverHelloMessage: Uint8Array;
  /** The ServerHello in one plaintext record. */
  readonly serverHelloRecord: Uint8Array;
  /** Returns records carrying `message`: encrypted under the server handshake key in TLS 1.3, else plaintext. */
  handshake(message: Uint8Array): Uint8Array;
}

/** Ways a hostile behaviour bends the answer a plain server would give. */
export interface AnswerTweaks {
  /** Select this cipher suite whatever was offered. */
  readonly suite?: number;
  /** Select the version above the highest offered. */
  readonly versionAbove?: boolean;
  /** Send a 31-byte x25519 key share (TLS 1.3). */
  readonly badShare?: boolean;
}

/** Suites that are signalling values, not ciphers (RFC 5746 and RFC 7507). */
const SIGNALLING_SUITES: ReadonlySet<number> = new Set([0x00ff, 0x5600]);

/** TLS 1.3 suites we can run the key schedule for, in our preference order. */
const TLS13_SUITES: readonly number[] = [0x1301, 0x1302, 0x1303];

/** Returns the ServerHello a plain server would send for `ch` (version and suite it offered), with the keys to go on in TLS 1.3. */
export function answer(ch: ClientHello, tweaks: AnswerTweaks = {}): Answer {
  const offered = findExtension(ch.extensions, 'supported_versions')?.versions ?? null;
  const highest = highestOfferedVersion(ch);
  const share = findExtension(ch.extensions, 'key_share')?.shares?.find(
    (s) => SUPPORTED_KEY_SHARE_GROUPS.includes(s.group) && !isGrease(s.group),
  );
  const suite13 = ch.cipherSuites.find((s) => TLS13_SUITES.includes(s));
  const tls13 = offered?.includes(ProtocolVersion.TLS1_3) === true && share !== undefined && suite13 !== undefined;
  const random = randomBytes(32);
  if (tls13) {
    const suite = tweaks.suite ?? suite13;
    const pair = generateKeyShare(share.group);
    const keyExchange = tweaks.badShare ? pair.publicKey.subarray(0, pair.publicKey.length - 1) : pair.publicKey;
    const extensions: Extension[] = [
      {
        kind: 'supported_versions',
        type: 0x002b,
        versions: null,
        selected: tweaks.versionAbove ? ProtocolVersion.TLS1_3 + 1 : ProtocolVersion.TLS1_3,
      },
      { kind: 'key_share', type: 0x0033, shares: [{ group: share.group, keyExchange }], selectedGroup: null },
    ];
    const sh: ServerHello = {
      legacyVersion: ProtocolVersion.TLS1_2,
      random,
      sessionId: ch.sessionId,
      cipherSuite: suite,
      compressionMethod: 0,
      extensions,
    };
    const serverHelloMessage = encodeServerHello(sh);
    let state: ProtectionState | null = null;
    const hash = hashForSuite(suite);
    if (hash && !tweaks.badShare) {
      // RFC 8446, Section 7.1: handshake secrets from the (EC)DHE secret and Transcript-Hash(ClientHello, ServerHello).
      const shared = pair.computeSecret(share.keyExchange);
      const secrets = handshakeSecrets(hash, shared, transcriptHash(hash, [encodeClientHello(ch), serverHelloMessage]));
      state = newProtectionState(suite, trafficKeys(hash, suite, secrets.serverHandshakeTrafficSecret));
    }
    return {
      tls13: true,
      suite,
      serverHelloMessage,
      serverHelloRecord: record(ContentType.handshake, ProtocolVersion.TLS1_2, serverHelloMessage),
      handshake(message) {
        if (!state) return record(ContentType.handshake, ProtocolVersion.TLS1_2, message);
        const out: Uint8Array[] = [];
        for (let o = 0; o < message.length || o === 0; o += 16384)
          out.push(encryptRecord(state, ContentType.handshake, message.subarray(o, o + 16384)));
        return concatBytes(...out);
      },
    };
  }
  // TLS 1.2 and below: the client's legacy_version (at most TLS 1.2), the first real suite it offered.
  const version = tweaks.versionAbove
    ? Math.min(highest, ProtocolVersion.TLS1_2) + 1
    : Math.min(ch.legacyVersion, ProtocolVersion.TLS1_2);
  const suite =
    tweaks.suite ??
    ch.cipherSuites.find((s) => !SIGNALLING_SUITES.has(s) && !isGrease(s) && !TLS13_SUITES.includes(s)) ??
    0x002f;
  const sh: ServerHello = {
    legacyVersion: version,
    random,
    sessionId: ch.sessionId,
    cipherSuite: suite,
    compressionMethod: 0,
    extensions: null,
  };
  const serverHelloMessage = encodeServerHello(sh);
  const recordVersion = Math.min(version, ProtocolVersion.TLS1_2);
  return {
    tls13: false,
    suite,
    serverHelloMessage,
    serverHelloRecord: record(ContentType.handshake, recordVersion, serverHelloMessage),
    handshake: (message) => record(ContentType.handshake, recordVersion, message),
  };
}

/** Returns a HelloRetryRequest (RFC 8446, Section 4.1.4) for `ch`, asking for a group it can compute. */
export function helloRetryRequestRecord(ch: ClientHello): Uint8Array {
  const groups = findExtension(ch.extensions, 'supported_groups')?.groups ?? [];
  const group = groups.find((g) => SUPPORTED_KEY_SHARE_GROUPS.includes(g)) ?? 0x001d;
  const suite =
    ch.cipherSuites.find((s) => TLS13_SUITES.includes(s)) ??
    ch.cipherSuites.find((s) => !SIGNALLING_SUITES.has(s) && !isGrease(s)) ??
    0x1301;
  const hrr: ServerHello = {
    legacyVersion: ProtocolVersion.TLS1_2,
    random: HELLO_RETRY_REQUEST_RANDOM,
    sessionId: ch.sessionId,
    cipherSuite: suite,
    compressionMethod: 0,
    extensions: [
      { kind: 'supported_versions', type: 0x002b, versions: null, selected: ProtocolVersion.TLS1_3 },
      { kind: 'key_share', type: 0x0033, shares: null, selectedGroup: group },
    ],
  };
  return record(ContentType.handshake, ProtocolVersion.TLS1_2, encodeServerHello(hrr));
}

/** Returns plaintext records of `type` carrying `payload` (split at 2^14; one empty record for an empty payload). */
export function record(type: number, version: number, payload: Uint8Array): Uint8Array {
  const w = new Writer(payload.length + 16);
  if (payload.length === 0) writeRecord(w, { type, version, fragment: payload });
  for (let o = 0; o < payload.length; o += 16384)
    writeRecord(w, { type, version, fragment: payload.subarray(o, o + 16384) });
  return w.finish();
}

/** Returns one plaintext alert record (RFC 8446, Section 6). */
export function alertRecord(level: number, description: number): Uint8Array {
  const w = new Writer(2);
  writeAlert(w, { level, description });
  return record(ContentType.alert, ProtocolVersion.TLS1_2, w.finish());
}

/** Returns a handshake message of `msgType` (header included) whose body `body` writes. */
export function encodeHandshakeBody(msgType: number, body: (w: Writer) => void): Uint8Array {
  const w = new Writer(64);
  writeHandshake(w, msgType, body);
  return w.finish();
}

/** EncryptedExtensions with no extension (RFC 8446, Section 4.3.1). */
export function encryptedExtensionsMessage(): Uint8Array {
  return encodeHandshakeBody(HandshakeType.encrypted_extensions, (w) => writeExtensions(w, [], 'encrypted_extensions'));
}

/** Writes a Certificate body holding `ders`: with the TLS 1.3 context and per-entry extensions when `tls13`. */
export function writeCertificate(w: Writer, tls13: boolean, ders: readonly Uint8Array[]): void {
  const entries: CertificateEntry[] = ders.map((der) => ({ der, extensions: tls13 ? [] : null }));
  writeCertificateBody(w, { context: tls13 ? new Uint8Array(0) : null, entries });
}

/** Returns the length of the Finished verify_data of TLS 1.3 `suite`: its hash length. */
export function hashLength(suite: number): number {
  return hashForSuite(suite) === 'sha384' ? 48 : 32;
}

/** A DER-looking blob of `n` bytes (a SEQUENCE of zeros) for messages whose content does not matter. */
export function fakeCertificate(n: number): Uint8Array {
  const out = new Uint8Array(n);
  out[0] = 0x30;
  out[1] = 0x82;
  out[2] = (n - 4) >> 8;
  out[3] = (n - 4) & 0xff;
  return out;
}
