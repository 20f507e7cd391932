/**
 * Picky lab endpoints: `gatePicky` returns a connection handler that reads the whole ClientHello,
 * resets the connection when the hello has the trait a known middlebox bug trips on, and otherwise
 * hands the socket, bytes put back, to a real Node TLS server. Never throws.
 *
 * Four traits, each one a failure seen in the field in front of otherwise healthy servers:
 * - `size`: the first record is 256–511 bytes long. Some F5 BIG-IP versions hang or drop exactly
 *   these hellos; RFC 7685 (Section 1) was written for them, and clients pad around the range.
 * - `large`: the hello is larger than one TCP segment (1,460 bytes on a 1,500-byte MTU path).
 *   Since browsers send X25519MLKEM768 key shares (2024), hellos of ~1.7 KB span two segments, and
 *   middleboxes that inspect only the first segment, or expect the whole hello in it, reset them.
 *   `size` and `large` are one mechanism with two byte ranges (`SIZE_TRAITS`).
 * - `scsv`: a TLS 1.2 hello that carries neither TLS_EMPTY_RENEGOTIATION_INFO_SCSV nor the
 *   renegotiation_info extension (RFC 5746, Section 3.4 says a client MUST send one of them). Some
 *   hardened Windows front ends reset such hellos.
 * - `sni`: a hello without server_name (RFC 6066, Section 3). Multi-tenant front ends that pick the
 *   certificate by name refuse it; this one answers a fatal handshake_failure alert, as CDNs do.
 *
 * `size` and `scsv` reset (RST, WSAECONNRESET 10054 on Windows) like the real devices, after the
 * whole hello has arrived, so the client sees the same thing a reset-legacy endpoint would produce.
 */
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { writeAlert } from '../tls/alert.js';
import { clientServerName, type ClientHello } from '../tls/client-hello.js';
import { findExtension } from '../tls/extensions.js';
import { writeRecord } from '../tls/record.js';
import { AlertDescription, AlertLevel, ContentType, ProtocolVersion } from '../tls/registry.js';
import { Writer } from '../wire/writer.js';
import { readClientHello } from './hello-gate.js';

/** The hello trait a picky endpoint resets (the three named lab traits). */
export type PickyTrait = 'size' | 'scsv' | 'sni';

/**
 * A hello trait, parameterised, that a picky endpoint refuses. Each is a middlebox or front-end
 * failure seen in the field; the parameters let one gate stand for devices with other thresholds.
 * - `size`: the first record is `min`..`max` bytes (inclusive; `max` Infinity: and larger, e.g. a
 *   device that drops hellos spanning more than one TCP segment, about 1,400 bytes).
 * - `scsv`: a TLS 1.2 hello without any renegotiation signal (RFC 5746, Section 3.4).
 * - `sni`: a hello without server_name; answered with a handshake_failure alert, not a reset.
 * - `extension`: a hello carrying extension `type`.
 * - `group`: a hello listing `group` in supported_groups or key_share.
 * - `key-share-size`: a key_share extension whose body exceeds `maxBytes`.
 * - `cipher-suite`: a hello offering `suite`.
 * - `signature-scheme`: a hello listing `scheme` in signature_algorithms.
 */
export type PickyRule =
  | { readonly kind: 'size'; readonly min: number; readonly max: number }
  | { readonly kind: 'scsv' }
  | { readonly kind: 'sni' }
  | { readonly kind: 'extension'; readonly type: number }
  | { readonly kind: 'group'; readonly group: number }
  | { readonly kind: 'key-share-size'; readonly maxBytes: number }
  | { readonly kind: 'cipher-suite'; readonly suite: number }
  | { readonly kind: 'signature-scheme'; readonly scheme: number };

/** Returns the rule a named trait stands for. */
export function ruleOfTrait(trait: PickyTrait): PickyRule {
  if (trait === 'size') return { kind: 'size', min: PICKY_SIZE_MIN, max: PICKY_SIZE_MAX };
  return { kind: trait };
}

/**
 * Returns true when `hello` (whose first record, header included, is `recordBytes` long, and whose
 * highest offered version is `highestVersion`) has the trait `rule` refuses. `sni` is not a reset
 * trait and is answered by `gatePicky` itself.
 */
export function helloHasTrait(
  rule: PickyRule,
  hello: ClientHello,
  highestVersion: number,
  recordBytes: number,
): boolean {
  const exts = hello.extensions ?? [];
  switch (rule.kind) {
    case 'size':
      return recordBytes >= rule.min && recordBytes <= rule.max;
    case 'scsv':
      return lacksRenegotiationSignal(hello, highestVersion);
    case 'sni':
      return clientServerName(hello) === null;
    case 'extension':
      return exts.some((e) => e.type === rule.type);
    case 'group': {
      const groups = findExtension(exts, 'supported_groups');
      const shares = findExtension(exts, 'key_share');
      return (
        (groups?.groups.includes(rule.group) ?? false) || (shares?.shares?.some((s) => s.group === rule.group) ?? false)
      );
    }
    case 'key-share-size': {
      const shares = findExtension(exts, 'key_share');
      // RFC 8446, Section 4.2.8: client_shares<0..2^16-1>, each entry group(2) + key_exchange<1..2^16-1>.
      const body = shares?.shares ? 2 + shares.shares.reduce((n, s) => n + 4 + s.keyExchange.length, 0) : 0;
      return body > rule.maxBytes;
    }
    case 'cipher-suite':
      return hello.cipherSuites.includes(rule.suite);
    case 'signature-scheme':
      return findExtension(exts, 'signature_algorithms')?.schemes.includes(rule.scheme) ?? false;
  }
}

/** RFC 7685, Section 1: ClientHello records of 256–511 bytes (inclusive) hang some servers. */
export const PICKY_SIZE_MIN = 256;
export const PICKY_SIZE_MAX = 511;

/** One TCP segment on an Ethernet path: MSS = 1,500-byte MTU − 20 (IPv4) − 20 (TCP) = 1,460 bytes. */
export const ONE_SEGMENT_BYTES = 1460;

/** A size trait: which bytes it measures and the inclusive range it resets. */
export interface SizeTrait {
  /** `first-record`: the first record, header included; `hello`: every byte up to the end of the ClientHello. */
  readonly measure: 'first-record' | 'hello';
  readonly min: number;
  readonly max: number;
}

export const SIZE_TRAITS: { readonly size: SizeTrait; readonly large: SizeTrait } = {
  size: { measure: 'first-record', min: PICKY_SIZE_MIN, max: PICKY_SIZE_MAX },
  large: { measure: 'hello', min: ONE_SEGMENT_BYTES + 1, max: Number.POSITIVE_INFINITY },
};

/** Returns true when the hello in `consumed` (its bytes as read) falls in `trait`'s range. */
export function hasSizeTrait(consumed: Uint8Array, trait: SizeTrait): boolean {
  const size = trait.measure === 'hello' ? consumed.length : firstRecordSize(consumed);
  return size !== null && size >= trait.min && size <= trait.max;
}

/** RFC 5746, Section 3.3: the signalling cipher suite value. */
const TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;

/**
 * Returns the length of the first TLS record in `bytes` (5-byte header included), or null when the
 * bytes do not start with a whole handshake record header.
 */
export function firstRecordSize(bytes: Uint8Array): number | null {
  if (bytes.length < 5 || bytes[0] !== ContentType.handshake) return null;
  return 5 + ((bytes[3]! << 8) | bytes[4]!);
}

/** Returns true when a first record of `size` bytes falls in the range the `size` endpoint resets. */
export function isPickySize(size: number): boolean {
  return size >= PICKY_SIZE_MIN && size <= PICKY_SIZE_MAX;
}

/**
 * Returns true when `hello` offers TLS 1.2 (as its highest version, `highestVersion`) without the
 * renegotiation SCSV and without renegotiation_info: what the `scsv` endpoint resets.
 */
export function lacksRenegotiationSignal(hello: ClientHello, highestVersion: number): boolean {
  if (highestVersion !== ProtocolVersion.TLS1_2) return false;
  if (hello.cipherSuites.includes(TLS_EMPTY_RENEGOTIATION_INFO_SCSV)) return false;
  return findExtension(hello.extensions, 'renegotiation_info') === undefined;
}

/**
 * Returns a handler that resets connections whose ClientHello has `trait` and relays every other
 * connection to `tlsServer` (a non-listening Node tls.Server) with the consumed bytes unshifted.
 * Bytes that are not a ClientHello go to the TLS stack too, which answers them as a real one would.
 */
export function gatePicky(tlsServer: TlsServer, trait: PickyTrait | PickyRule): (socket: Socket) => void {
  const rule = typeof trait === 'string' ? ruleOfTrait(trait) : trait;
  return (socket) => {
    void readClientHello(socket).then((got) => {
      if (got.kind === 'gone') {
        socket.destroy();
        return;
      }
      let refuse = false;
      if (got.kind === 'hello') {
        const size = firstRecordSize(got.consumed) ?? got.consumed.length;
        if (rule.kind === 'sni') {
          if (clientServerName(got.hello) === null) {
            socket.end(handshakeFailureAlert(got.hello.legacyVersion));
            socket.resume(); // drain whatever else the client sends until it closes
            return;
          }
        } else {
          refuse = helloHasTrait(rule, got.hello, got.highestVersion, size);
        }
      }
      if (refuse) {
        // SO_LINGER 0 then close: the kernel sends RST (ECONNRESET / WSAECONNRESET 10054).
        socket.resetAndDestroy();
        return;
      }
      socket.unshift(Buffer.from(got.consumed));
      tlsServer.emit('connection', socket);
    });
  };
}

/**
 * Returns a fatal handshake_failure alert record (RFC 5246, Section 7.2.2; RFC 8446, Section 6.2)
 * in the record version a TLS 1.2 stack uses for the refusal: the client's legacy_version, kept
 * within SSL 3.0 .. TLS 1.2.
 */
export function handshakeFailureAlert(clientLegacyVersion: number): Uint8Array {
  const version = Math.min(Math.max(clientLegacyVersion, ProtocolVersion.SSL3_0), ProtocolVersion.TLS1_2);
  const body = new Writer(2);
  writeAlert(body, { level: AlertLevel.fatal, description: AlertDescription.handshake_failure });
  const w = new Writer(7);
  writeRecord(w, { type: ContentType.alert, version, fragment: body.finish() });
  return w.finish();
}
