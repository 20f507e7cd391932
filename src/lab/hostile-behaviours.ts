/**
 * What each hostile behaviour does to a connection, by family: how the connection ends, lengths
 * that lie, pace, protocol violations, certificate abuse, replies that are not TLS, and TLS 1.3
 * cryptography that fails. `BEHAVIOUR_SCRIPTS` maps every behaviour name of `HOSTILE_BEHAVIOURS`
 * (hostile.ts, which says what a probe must report for each) to its script.
 */
import { randomBytes } from 'node:crypto';
import { concatBytes } from '../wire/hex.js';
import { AlertDescription, AlertLevel, ContentType, HandshakeType, ProtocolVersion } from '../tls/registry.js';
import {
  type Answer,
  alertRecord,
  answer,
  encodeHandshakeBody,
  encryptedExtensionsMessage,
  fakeCertificate,
  hashLength,
  helloRetryRequestRecord,
  record,
  writeCertificate,
} from './hostile-answer.js';
import { type Conn, fin, flood, onHello, reset, send } from './hostile-conn.js';
import { deepDer, inconsistentDer } from './hostile-der.js';

/** Certificates in the certificate-flood behaviour: 100 times the parser's MAX_CERTIFICATES. */
export const FLOOD_CERTIFICATES = 10_000;

/** Nesting depth of the deep-der certificate: far past MAX_DER_DEPTH (32). */
export const DEEP_DER_LEVELS = 10_000;

/** What a behaviour does with one accepted connection. */
export type BehaviourScript = (c: Conn) => void;

/** Resets and FINs at each stage of the handshake. */
const CONNECTION_ENDINGS: Readonly<Record<string, BehaviourScript>> = {
  'rst-on-accept': (c) => reset(c),
  'rst-after-client-hello': (c) => onHello(c, () => reset(c)),
  'rst-mid-server-hello': (c) =>
    onHello(c, (ch) => {
      const sh = answer(ch).serverHelloRecord;
      send(c, sh.subarray(0, sh.length >> 1), () => c.after(50, () => reset(c)));
    }),
  'rst-after-server-hello': (c) =>
    onHello(c, (ch) => send(c, answer(ch).serverHelloRecord, () => c.after(100, () => reset(c)))),
  'fin-on-accept': (c) => fin(c),
  'fin-after-client-hello': (c) => onHello(c, () => fin(c)),
  'fin-mid-server-hello': (c) =>
    onHello(c, (ch) => {
      const sh = answer(ch).serverHelloRecord;
      send(c, sh.subarray(0, sh.length >> 1), () => fin(c));
    }),
  'fin-after-server-hello': (c) => onHello(c, (ch) => send(c, answer(ch).serverHelloRecord, () => fin(c))),
  'fin-mid-certificate': (c) =>
    onHello(c, (ch) => {
      const a = answer(ch);
      const cert = a.handshake(
        encodeHandshakeBody(HandshakeType.certificate, (w) => writeCertificate(w, a.tls13, [fakeCertificate(600)])),
      );
      send(
        c,
        concatBytes(
          a.serverHelloRecord,
          a.tls13 ? a.handshake(encryptedExtensionsMessage()) : new Uint8Array(0),
          cert.subarray(0, cert.length >> 1),
        ),
        () => fin(c),
      );
    }),
};

/** Record and handshake headers whose lengths promise more than ever comes. */
const LYING_LENGTHS: Readonly<Record<string, BehaviourScript>> = {
  // RFC 8446, Section 4: uint24 length. 0xffffff = 16 MiB - 1, far past MAX_HANDSHAKE_MESSAGE.
  'claims-16mb': (c) =>
    onHello(c, () =>
      send(
        c,
        record(
          ContentType.handshake,
          ProtocolVersion.TLS1_2,
          Uint8Array.from([HandshakeType.server_hello, 0xff, 0xff, 0xff, 0x03, 0x03]),
        ),
      ),
    ),
  'record-claims-64k': (c) =>
    onHello(c, () =>
      send(c, Uint8Array.from([ContentType.handshake, 0x03, 0x03, 0xff, 0xff, HandshakeType.server_hello, 0x00, 0x00])),
    ),
  'stalled-record': (c) =>
    onHello(c, () => {
      const head = Uint8Array.from([ContentType.handshake, 0x03, 0x03, 0x40, 0x00]);
      send(c, concatBytes(head, new Uint8Array(100)));
    }),
};

/** Too slow or too fast: a byte per interval, endless empty records at full speed or one per interval. */
const PACING: Readonly<Record<string, BehaviourScript>> = {
  'drip-server-hello': (c) =>
    onHello(c, (ch) => {
      const a = answer(ch);
      const bytes = a.tls13
        ? a.serverHelloRecord
        : concatBytes(a.serverHelloRecord, a.handshake(encodeHandshakeBody(HandshakeType.server_hello_done, () => {})));
      let i = 0;
      const step = (): void => {
        if (i >= bytes.length) {
          fin(c);
          return;
        }
        send(c, bytes.subarray(i, i + 1));
        i++;
        c.after(c.paceMs, step);
      };
      step();
    }),
  'empty-records-flood': (c) =>
    onHello(c, () => flood(c, record(ContentType.handshake, ProtocolVersion.TLS1_2, new Uint8Array(0)))),
  'empty-records-trickle': (c) =>
    onHello(c, () => {
      const empty = record(ContentType.handshake, ProtocolVersion.TLS1_2, new Uint8Array(0));
      const step = (): void => {
        send(c, empty);
        c.after(c.paceMs, step);
      };
      step();
    }),
};

/** Well-framed handshakes that break the protocol: interleaving, choices never offered, an endless retry. */
const PROTOCOL_VIOLATIONS: Readonly<Record<string, BehaviourScript>> = {
  'alert-interleaved': (c) =>
    onHello(c, (ch) => {
      const msg = answer(ch).serverHelloMessage;
      const half = msg.length >> 1;
      send(
        c,
        concatBytes(
          record(ContentType.handshake, ProtocolVersion.TLS1_2, msg.subarray(0, half)),
          alertRecord(AlertLevel.warning, AlertDescription.unrecognized_name),
          record(ContentType.handshake, ProtocolVersion.TLS1_2, msg.subarray(half)),
        ),
      );
    }),
  'unoffered-suite': (c) => onHello(c, (ch) => send(c, answer(ch, { suite: 0x0000 }).serverHelloRecord, () => fin(c))),
  'unoffered-version': (c) =>
    onHello(c, (ch) => send(c, answer(ch, { versionAbove: true }).serverHelloRecord, () => fin(c))),
  'hrr-loop': (c) => helloRetryLoop(c),
};

/** Whole first flights whose certificates are too many, too deep or self-contradicting. */
const CERTIFICATE_ABUSE: Readonly<Record<string, BehaviourScript>> = {
  'certificate-flood': (c) => {
    const entries = Array.from({ length: FLOOD_CERTIFICATES }, () => Uint8Array.from([0x30]));
    onHello(c, (ch) => sendWholeFlight(c, answer(ch), entries));
  },
  'deep-der': (c) => onHello(c, (ch) => sendWholeFlight(c, answer(ch), [deepDer(DEEP_DER_LEVELS)])),
  'inconsistent-der': (c) => onHello(c, (ch) => sendWholeFlight(c, answer(ch), inconsistentDer())),
};

/** Replies that are not TLS at all. */
const NOT_TLS: Readonly<Record<string, BehaviourScript>> = {
  'http-reply': (c) =>
    onHello(c, () =>
      send(
        c,
        new TextEncoder().encode(
          'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request',
        ),
        () => fin(c),
      ),
    ),
  garbage: (c) =>
    onHello(c, () => {
      const g = randomBytes(512);
      g[0] = 0xff;
      send(c, g, () => fin(c));
    }),
};

/** TLS 1.3 whose cryptography fails after a well-formed ServerHello. */
const BAD_CRYPTOGRAPHY: Readonly<Record<string, BehaviourScript>> = {
  'tls13-bad-records': (c) =>
    onHello(c, (ch) => {
      const a = answer(ch);
      // Well-formed application_data records (RFC 8446, Section 5.2) whose ciphertext is random:
      // the AEAD tag cannot verify under any key.
      const bad = concatBytes(
        ...[40, 300, 17].map((n) => record(ContentType.application_data, ProtocolVersion.TLS1_2, randomBytes(n))),
      );
      send(c, concatBytes(a.serverHelloRecord, bad), () => fin(c));
    }),
  'tls13-bad-key-share': (c) =>
    onHello(c, (ch) => send(c, answer(ch, { badShare: true }).serverHelloRecord, () => fin(c))),
};

/** Every behaviour's script, by behaviour name. */
export const BEHAVIOUR_SCRIPTS: Readonly<Record<string, BehaviourScript>> = {
  ...CONNECTION_ENDINGS,
  ...LYING_LENGTHS,
  ...PACING,
  ...PROTOCOL_VIOLATIONS,
  ...CERTIFICATE_ABUSE,
  ...NOT_TLS,
  ...BAD_CRYPTOGRAPHY,
};

/** Answers every ClientHello (the retry included) with a HelloRetryRequest. */
function helloRetryLoop(c: Conn): void {
  onHello(c, (ch) => {
    send(c, helloRetryRequestRecord(ch));
    // The retry arrives on the same connection: answer each further handshake record the same way.
    c.socket.on('data', () => {
      if (!c.gone) send(c, helloRetryRequestRecord(ch));
    });
  });
}

/** Sends the whole first flight with `certificates`: TLS 1.3 encrypted (EE, Certificate, CV, Finished); before: Certificate, ServerHelloDone. */
function sendWholeFlight(c: Conn, a: Answer, certificates: readonly Uint8Array[]): void {
  const cert = encodeHandshakeBody(HandshakeType.certificate, (w) => writeCertificate(w, a.tls13, certificates));
  const parts: Uint8Array[] = [a.serverHelloRecord];
  if (a.tls13) {
    parts.push(a.handshake(encryptedExtensionsMessage()));
    parts.push(a.handshake(cert));
    // CertificateVerify (RFC 8446, Section 4.4.3) with a signature nobody will check, then Finished.
    parts.push(
      a.handshake(encodeHandshakeBody(HandshakeType.certificate_verify, (w) => w.u16(0x0804).vec(2, randomBytes(256)))),
    );
    parts.push(
      a.handshake(encodeHandshakeBody(HandshakeType.finished, (w) => w.bytes(randomBytes(hashLength(a.suite))))),
    );
  } else {
    parts.push(a.handshake(cert));
    parts.push(a.handshake(encodeHandshakeBody(HandshakeType.server_hello_done, () => {})));
  }
  send(c, concatBytes(...parts), () => fin(c));
}
