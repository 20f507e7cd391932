/**
 * Hello gate for scripted lab endpoints: resolves with the ClientHello a raw socket sent (or why
 * there is none), never rejects.
 *
 * The misbehaving lab endpoints (reset-legacy, alert-legacy, silent-close) must see the whole
 * ClientHello before deciding what to do, as SChannel or a middlebox does: a reset that arrives
 * while the client is still sending looks different on the wire. `scanClientHello` reads TLS
 * records from the bytes buffered so far, joins handshake fragments, and parses the ClientHello
 * once it is complete (an SSL 2.0-format hello is recognised too); `readClientHello` feeds it
 * from a socket. The consumed bytes are returned so
 * the socket can be handed on to a real TLS server with them unshifted.
 */
import type { Socket } from 'node:net';
import { isDecodeError } from '../wire/errors.js';
import { concatBytes } from '../wire/hex.js';
import { Reader } from '../wire/reader.js';
import { type ClientHello, highestOfferedVersion, viewClientHello } from '../tls/client-hello.js';
import { HANDSHAKE_HEADER_LENGTH, readHandshakeHeader } from '../tls/handshake-header.js';
import { readRecord } from '../tls/record.js';
import { looksLikeSslV2ClientHello, readSslV2ClientHello } from '../tls/sslv2.js';
import { ContentType, HandshakeType } from '../tls/registry.js';

/**
 * Largest ClientHello message the gate waits for (header included): 64 KiB. Real hellos are a few
 * KiB even with post-quantum key shares and RFC 7685 padding; 64 KiB leaves room for deliberately
 * large test hellos while a client claiming a 16 MiB hello cannot make the lab buffer it.
 */
export const MAX_GATE_HELLO = 64 * 1024;

/**
 * Largest number of raw bytes the gate buffers before giving up: 256 KiB. A 64 KiB hello split
 * into small records costs 5 header bytes per fragment; 256 KiB still fits it in fragments of
 * 2 bytes or more, and bounds what a peer sending endless records can make us hold.
 */
export const MAX_GATE_BYTES = 256 * 1024;

/** How long the gate waits for a whole ClientHello before dropping the connection: 30 s, like a server's handshake timeout. */
export const GATE_HELLO_WAIT_MS = 30_000;

/** What the buffered bytes hold so far. */
export type HelloScan =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'hello'; readonly hello: ClientHello; readonly highestVersion: number }
  /** An SSL 2.0-format ClientHello (RFC 5246, Appendix E.2): only pre-TLS 1.2 clients send one. */
  | { readonly kind: 'sslv2-hello'; readonly version: number }
  | { readonly kind: 'not-a-hello'; readonly reason: string };

/** What a socket sent before the gate decided. `consumed` holds every byte read from the socket. */
export type HelloGateResult =
  | {
      readonly kind: 'hello';
      readonly hello: ClientHello;
      readonly highestVersion: number;
      readonly consumed: Uint8Array;
    }
  | { readonly kind: 'sslv2-hello'; readonly version: number; readonly consumed: Uint8Array }
  | { readonly kind: 'not-a-hello'; readonly reason: string; readonly consumed: Uint8Array }
  /** The peer closed, reset, or stayed silent past the wait before a whole hello arrived. */
  | { readonly kind: 'gone'; readonly consumed: Uint8Array };

const NEED_MORE: HelloScan = { kind: 'need-more' };

/**
 * Returns whether `buffered` (the bytes a client sent so far) holds a whole ClientHello, needs more
 * bytes, or is not a TLS ClientHello at all. Never throws for any input.
 *
 * RFC 8446, Section 5.1: handshake messages may be fragmented across records of type handshake
 * (22); the ClientHello must come first. The highest version is the largest non-GREASE entry of
 * supported_versions when present, else legacy_version (RFC 8446, Section 4.2.1).
 */
export function scanClientHello(buffered: Uint8Array): HelloScan {
  if (buffered.length > MAX_GATE_BYTES)
    return { kind: 'not-a-hello', reason: `more than ${MAX_GATE_BYTES} bytes without a whole ClientHello` };
  // An SSL 2.0-format record header has the high bit set (RFC 5246, Appendix E.2); a TLS record
  // starts with a content type below 0x80. Three bytes tell an SSL 2.0 client-hello apart.
  if (buffered.length > 0 && (buffered[0]! & 0x80) !== 0) {
    if (buffered.length < 3) return NEED_MORE;
    if (looksLikeSslV2ClientHello(buffered)) return scanSslV2Hello(buffered);
  }
  const r = new Reader(buffered, 'records');
  const fragments: Uint8Array[] = [];
  let have = 0;
  let messageLength: number | null = null;
  while (messageLength === null || have < messageLength) {
    if (!r.anyLeft) return NEED_MORE;
    // Judge the header as soon as its bytes arrive, so that plain HTTP is recognised without
    // waiting for the length its first bytes would claim.
    const header = r.peek(2);
    if (header[0] !== ContentType.handshake) {
      return { kind: 'not-a-hello', reason: `record type ${header[0]} before a whole ClientHello` };
    }
    if (header.length >= 2 && header[1] !== 0x03) {
      return { kind: 'not-a-hello', reason: `record version major ${header[1]} is not 3 (SSL 3.0/TLS)` };
    }
    let record;
    try {
      record = readRecord(r);
    } catch (e) {
      if (isDecodeError(e) && e.code === 'truncated') return NEED_MORE;
      if (isDecodeError(e)) return { kind: 'not-a-hello', reason: e.message };
      throw e;
    }
    fragments.push(record.fragment);
    have += record.fragment.length;
    if (messageLength === null && have >= HANDSHAKE_HEADER_LENGTH) {
      const { msgType, length: bodyLength } = readHandshakeHeader(new Reader(concatBytes(...fragments), 'ClientHello'));
      if (msgType !== HandshakeType.client_hello)
        return { kind: 'not-a-hello', reason: `handshake type ${msgType} is not client_hello` };
      const length = HANDSHAKE_HEADER_LENGTH + bodyLength;
      if (length > MAX_GATE_HELLO)
        return { kind: 'not-a-hello', reason: `ClientHello of ${length} bytes exceeds ${MAX_GATE_HELLO}` };
      messageLength = length;
    }
  }
  try {
    // A lazy view (every length prefix checked): the gate's callers read a field or two of it.
    const hello = viewClientHello(concatBytes(...fragments).subarray(0, messageLength));
    return { kind: 'hello', hello, highestVersion: highestOfferedVersion(hello) };
  } catch (e) {
    if (isDecodeError(e)) return { kind: 'not-a-hello', reason: e.message };
    throw e;
  }
}

function scanSslV2Hello(buffered: Uint8Array): HelloScan {
  try {
    return { kind: 'sslv2-hello', version: readSslV2ClientHello(new Reader(buffered, 'V2ClientHello')).version };
  } catch (e) {
    if (isDecodeError(e) && e.code === 'truncated') return NEED_MORE;
    if (isDecodeError(e)) return { kind: 'not-a-hello', reason: e.message };
    throw e;
  }
}

/**
 * Returns what `socket` sent once a whole ClientHello arrived, once the bytes can no longer be one,
 * or once the peer went away (or `waitMs` passed); never rejects. On return the socket is paused,
 * the gate's listeners are removed and nothing was written to it.
 */
export function readClientHello(socket: Socket, waitMs = GATE_HELLO_WAIT_MS): Promise<HelloGateResult> {
  return new Promise<HelloGateResult>((resolve) => {
    const chunks: Uint8Array[] = [];
    let settled = false;
    const consumed = (): Uint8Array => concatBytes(...chunks);

    const settle = (r: HelloGateResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.pause();
      socket.removeListener('data', onData);
      socket.removeListener('end', onGone);
      socket.removeListener('error', onGone);
      socket.removeListener('close', onGone);
      resolve(r);
    };

    // Scanning everything held on every chunk is quadratic for a client that drips its hello one
    // byte at a time, so once the headers say how long the hello is at least, wait for that much.
    let total = 0;
    let bound = 0;
    const onData = (buf: Buffer): void => {
      chunks.push(buf);
      total += buf.length;
      if (total < bound) return;
      const all = consumed();
      const scan = scanClientHello(all);
      if (scan.kind !== 'need-more') {
        settle({ ...scan, consumed: all });
        return;
      }
      chunks.length = 0;
      chunks.push(all);
      bound = helloLowerBound(all);
    };
    const onGone = (): void => settle({ kind: 'gone', consumed: consumed() });

    const timer = setTimeout(onGone, waitMs);
    socket.on('data', onData);
    socket.on('end', onGone);
    socket.on('error', onGone);
    socket.on('close', onGone);
  });
}

/**
 * Returns the fewest bytes that can hold the whole hello `head` starts (0 when the headers are not
 * all there yet): an SSLv2 record's 2-byte header plus its length, or a TLS record header plus the
 * handshake header plus the handshake body (more records only add headers).
 */
function helloLowerBound(head: Uint8Array): number {
  if (head.length >= 2 && (head[0]! & 0x80) !== 0) return 2 + (((head[0]! & 0x7f) << 8) | head[1]!);
  if (head.length < 9) return 0;
  // Only when the first record holds the whole handshake header: otherwise bytes 6..8 are not it.
  if (((head[3]! << 8) | head[4]!) < 4) return 0;
  return Math.min(MAX_GATE_BYTES, 5 + 4 + ((head[6]! << 16) | (head[7]! << 8) | head[8]!));
}
