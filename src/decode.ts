/**
 * The library's `decode()`: bytes in, the JSON view that `tlsprobe decode --json` prints out.
 */
import { decodeStream } from './tls/stream.js';
import { streamToJson, type DecodeResult } from './report/decode-view.js';

/**
 * Returns `{ messages: [...] }` for a TLS record stream, bare handshake messages, or an SSLv2-compatible
 * ClientHello. Throws only `DecodeError` on bad input (with `code`, `offset` and `path`).
 */
export function decode(bytes: Uint8Array): DecodeResult {
  return streamToJson(decodeStream(bytes));
}
