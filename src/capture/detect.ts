/**
 * Returns where TLS starts in each direction of a flow, recognised by content on any port: a
 * ClientHello record (or an SSLv2-compatible hello) at the start of the client's stream, or within
 * its first `MAX_TLS_SEARCH_BYTES` when a plaintext protocol comes first (STARTTLS in
 * SMTP/IMAP/LDAP/…, an HTTP CONNECT or SOCKS preamble). A flow whose client never sends one is not
 * TLS, unless its server's stream starts with a ServerHello (the capture missed the client's first
 * segment). Once found, the bytes go to the record layer (`ConnectionLayers.walk`).
 */
import { Reader } from '../wire/reader.js';
import { DecodeError } from '../wire/errors.js';
import { concatBytes } from '../wire/hex.js';
import { readSslV2ClientHello } from '../tls/sslv2.js';
import { MAX_RECORD_FRAGMENT, isKnownContentType } from '../tls/record.js';
import { ContentType, HandshakeType } from '../tls/registry.js';
import { MAX_EVIDENCE_BYTES, problem, logMessage } from './connection.js';
import type { Side, Conn } from './connection.js';
import { lookUpKeys } from './session-keys.js';
import { factCopy } from './slabs.js';

/**
 * Bytes of each direction examined for the start of TLS before the flow is declared not TLS. A
 * STARTTLS exchange, an HTTP CONNECT or a SOCKS greeting takes a few hundred bytes before the
 * ClientHello; 16 KiB covers them many times over while a bulk non-TLS flow costs at most this
 * much buffering, once.
 */
export const MAX_TLS_SEARCH_BYTES = 16 * 1024;

/** RFC 8446, Section 5.1 record header with handshake content starting with `msgType`, version 3.x. */
export function handshakeRecordAt(b: Uint8Array, i: number, msgType: number): boolean {
  if (b.length - i < 6) return false;
  const len = (b[i + 3]! << 8) | b[i + 4]!;
  return (
    b[i] === ContentType.handshake &&
    b[i + 1] === 3 &&
    b[i + 2]! <= 4 &&
    len >= 4 &&
    len <= MAX_RECORD_FRAGMENT &&
    b[i + 5] === msgType
  );
}

/** A ClientHello record: its legacy_version's major byte must be 3 too (RFC 5246, Appendix E.1). */
export function clientHelloRecordAt(b: Uint8Array, i: number): boolean {
  return b.length - i >= 10 && handshakeRecordAt(b, i, HandshakeType.client_hello) && b[i + 9] === 3;
}

/**
 * A ClientHello record at the very start of a stream: there the header alone is evidence enough, so
 * a first record holding only a few bytes of the hello (fragmented handshakes) is recognised too.
 */
export function clientHelloStart(b: Uint8Array): boolean {
  if (b.length < 6) return false;
  const len = (b[3]! << 8) | b[4]!;
  return (
    b[0] === ContentType.handshake &&
    b[1] === 3 &&
    b[2]! <= 4 &&
    len >= 1 &&
    len <= MAX_RECORD_FRAGMENT &&
    b[5] === HandshakeType.client_hello
  );
}

/** An alert record (two-byte body, level warning or fatal). */
export function alertRecordAt(b: Uint8Array, i: number): boolean {
  return (
    b.length - i >= 7 &&
    b[i] === ContentType.alert &&
    b[i + 1] === 3 &&
    b[i + 2]! <= 4 &&
    b[i + 3] === 0 &&
    b[i + 4] === 2 &&
    (b[i + 5] === 1 || b[i + 5] === 2)
  );
}

/**
 * An SSLv2-format record (2-byte header with the high bit set) carrying CLIENT-HELLO (type 1:
 * msg_type, version 0x0002 or 3.x; RFC 5246, Appendix E.2) or SERVER-HELLO (type 4: msg_type,
 * session_id_hit, certificate_type, server_version 0x0002; the SSL 2.0 draft, Section 2.6).
 */
export function sslv2HelloAt(b: Uint8Array, msgType: 1 | 4): boolean {
  if (b.length < 7 || (b[0]! & 0x80) === 0 || b[2] !== msgType) return false;
  return msgType === 1 ? b[3] === 3 || (b[3] === 0 && b[4] === 2) : b[5] === 0 && b[6] === 2;
}

export function indexOf(b: Uint8Array, from: number, test: (b: Uint8Array, i: number) => boolean): number {
  for (let i = from; i < b.length; i++) if (test(b, i)) return i;
  return -1;
}

/** Replaces the view `bytes` by a copy if the side still holds it (see `onData`). */
export function ownPending(s: Side, bytes: Uint8Array): void {
  const i = s.pending.lastIndexOf(bytes);
  if (i >= 0) s.pending[i] = bytes.slice();
}

export function joinedPending(s: Side): Uint8Array {
  if (s.pending.length > 1) s.pending = [concatBytes(...s.pending)];
  return s.pending[0] ?? new Uint8Array(0);
}

/** The flow can be forgotten: neither side is (or can still become) TLS. */
export function isIgnorable(c: Conn): boolean {
  const { client, server } = c.sides;
  return client.mode === 'ignore' && server.mode === 'ignore' && !isTls(c);
}

/** The connection is reported: TLS was seen on either side. */
export function isTls(c: Conn): boolean {
  return (
    c.clientHello !== null ||
    c.serverHello !== null ||
    c.sides.client.tlsStart !== null ||
    c.sides.server.tlsStart !== null
  );
}

export function startRecords(c: Conn, s: Side, at: number): void {
  const buf = joinedPending(s);
  s.tlsStart = s.pendingOffset + at;
  s.mode = 'records';
  s.pending = [];
  s.pendingLength = 0;
  if (at < buf.length) c.layers.walk(c, s, buf.subarray(at));
}

export function ignoreSide(s: Side): void {
  s.mode = 'ignore';
  s.pending = [];
  s.pendingLength = 0;
}

/** Looks for the start of TLS in each side's held bytes, and starts parsing where found. */
export function detect(c: Conn): void {
  const cs = c.sides.client;
  const ss = c.sides.server;
  if (cs.mode === 'detect' && cs.pendingLength > 0) {
    if (maybeSwap(c)) {
      detect(c);
      return;
    }
    const b = joinedPending(cs);
    if (cs.pendingOffset === 0 && sslv2HelloAt(b, 1)) {
      const length = ((b[0]! & 0x7f) << 8) | b[1]!;
      if (b.length >= 2 + length) readSslV2Hello(c, cs, 2 + length);
      else if (b.length >= MAX_TLS_SEARCH_BYTES) ignoreSide(cs);
    } else {
      // At offset 0, or after a plaintext preamble (STARTTLS, HTTP CONNECT, SOCKS). A match needs
      // ten bytes, so the last nine are looked at again when more arrive.
      const at =
        cs.pendingOffset === 0 && clientHelloStart(b)
          ? 0
          : indexOf(b, Math.max(0, cs.scanned - 9), clientHelloRecordAt);
      cs.scanned = b.length;
      if (at >= 0) startRecords(c, cs, at);
      else if (b.length >= MAX_TLS_SEARCH_BYTES) ignoreSide(cs);
    }
  }
  if (ss.mode === 'detect' && ss.pendingLength > 0) {
    const b = joinedPending(ss);
    const clientAtZero = cs.tlsStart === 0;
    if (clientAtZero && ss.pendingOffset === 0) {
      if (b.length < 3) return;
      if (isKnownContentType(b[0]!) && b[1] === 3) startRecords(c, ss, 0);
      else if (sslv2HelloAt(b, 4)) {
        c.sslv2ServerHello = true;
        logMessage(c, ss, 'sslv2_server_hello', false);
        ignoreSide(ss);
      } else {
        // RFC 8446, Section 5.1 leaves a server no other first bytes: this answer is not TLS.
        c.serverEvidence = b.slice(0, MAX_EVIDENCE_BYTES);
        problem(c, 'server', 'not-tls', 'the server answered the ClientHello with bytes that are not a TLS record');
        ignoreSide(ss);
        ss.mode = 'done';
      }
    } else {
      // After a preamble, or with no ClientHello seen: the server's TLS starts with its ServerHello
      // or an alert (the capture may also have missed the client's first segment).
      const at = indexOf(
        b,
        Math.max(0, ss.scanned - 6),
        (x, i) => handshakeRecordAt(x, i, HandshakeType.server_hello) || (cs.tlsStart !== null && alertRecordAt(x, i)),
      );
      ss.scanned = b.length;
      if (at >= 0 && (cs.tlsStart !== null || at === 0)) startRecords(c, ss, at);
      else if (b.length >= MAX_TLS_SEARCH_BYTES || (cs.mode === 'ignore' && b.length >= 6)) ignoreSide(ss);
    }
  }
}

/**
 * Swaps the TLS roles when the TCP roles were only guessed (no SYN in the capture) and the flow's
 * "server" is the one whose stream starts with a ClientHello. Returns true when it swapped.
 */
export function maybeSwap(c: Conn): boolean {
  const f = c.flow;
  if (c.swap || f.roles === 'syn' || f.roles === 'syn-ack') return false;
  const cs = c.sides.client;
  const ss = c.sides.server;
  if (
    ss.mode !== 'detect' ||
    ss.pendingOffset !== 0 ||
    ss.pendingLength < 10 ||
    cs.pendingOffset !== 0 ||
    cs.pendingLength < 6
  )
    return false;
  if (
    !clientHelloRecordAt(joinedPending(ss), 0) ||
    !handshakeRecordAt(joinedPending(cs), 0, HandshakeType.server_hello)
  )
    return false;
  c.swap = true;
  c.sides.client = { ...ss, dir: 'client', helloRecords: [], scanned: 0 };
  c.sides.server = { ...cs, dir: 'server', helloRecords: null, scanned: 0 };
  return true;
}

/** Reads the SSLv2-compatible ClientHello of `length` bytes at the start of the side's bytes. */
export function readSslV2Hello(c: Conn, s: Side, length: number): void {
  const b = joinedPending(s);
  try {
    const record = factCopy(b.subarray(0, length));
    const hello = readSslV2ClientHello(new Reader(record, 'SSLv2ClientHello'));
    c.clientHello = {
      format: 'sslv2',
      hello: { ...hello, raw: record },
      message: record,
      records: record,
      frame: s.frame,
      timestampUs: s.timestampUs,
    };
    logMessage(c, s, 'sslv2_client_hello', false);
    lookUpKeys(c, record.subarray(2));
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    problem(c, s.dir, 'bad-record', `SSLv2-compatible ClientHello: ${e.message}`);
    c.clientBroken = true;
  }
  s.helloRecords = null;
  // TLS records may follow an SSLv2 hello in the same stream.
  startRecords(c, s, length);
  s.tlsStart = 0;
}
