/**
 * The handshake message header (RFC 8446, Section 4; RFC 5246, Section 7.4):
 *
 *     struct { HandshakeType msg_type; uint24 length; select (msg_type) { ... } body; } Handshake;
 */
import type { Reader } from '../wire/reader.js';
import type { Writer } from '../wire/writer.js';

/**
 * Largest handshake message body we buffer. A peer controls the 24-bit length, so without a cap one
 * header could make us hold 16 MiB. Certificate chains are the largest real messages; 256 KiB holds
 * the longest we know of with room to spare (Go caps Certificate at the same size).
 */
export const MAX_HANDSHAKE_MESSAGE = 256 * 1024;

export const HANDSHAKE_HEADER_LENGTH = 4;

export interface HandshakeHeader {
  readonly msgType: number;
  readonly length: number;
}

/** Returns the header read from `r` (4 bytes), or throws `truncated`. */
export function readHandshakeHeader(r: Reader): HandshakeHeader {
  const msgType = r.u8('msg_type');
  const length = r.u24('length');
  return { msgType, length };
}

/**
 * Returns the body reader of one whole handshake message read from `r`, and its type. Throws
 * `too-large` when the claimed length exceeds MAX_HANDSHAKE_MESSAGE.
 */
export function readHandshakeFrame(r: Reader, path: string): { msgType: number; body: Reader } {
  const at = r.offset;
  const msgType = r.u8('msg_type');
  const length = r.u24('length');
  if (length > MAX_HANDSHAKE_MESSAGE) {
    r.fail(
      'too-large',
      `handshake message length ${length} exceeds the cap of ${MAX_HANDSHAKE_MESSAGE}`,
      'length',
      at + 1,
    );
  }
  return { msgType, body: r.fixed(length, path) };
}

/** Writes a handshake message: type, then `fn`'s body behind a back-patched 24-bit length. */
export function writeHandshake(w: Writer, msgType: number, fn: (w: Writer) => void): void {
  w.u8(msgType).prefixed(3, fn);
}
