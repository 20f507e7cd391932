/**
 * PEM certificates (RFC 7468, Section 5): returns the DER of every `CERTIFICATE` block in a text and
 * the PEM text of a DER certificate; throws `DecodeError` on a block whose body is not base64.
 */
import { DecodeError } from '../wire/errors.js';

/**
 * Most certificate blocks we take from one text. Debian's ca-certificates.crt holds ~150 and a
 * server chain ~5; a cap keeps a hostile or mistaken multi-gigabyte input from building a huge list.
 */
export const MAX_PEM_CERTIFICATES = 10_000;

// RFC 7468, Section 3: pre-encapsulation boundary, base64 body, post-encapsulation boundary with the
// same label. "X509 CERTIFICATE" is the historical label RFC 7468, Section 5.3 says to accept.
const BLOCK = /-----BEGIN (X509 CERTIFICATE|CERTIFICATE)-----([\s\S]*?)-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Returns the DER bytes of each `CERTIFICATE` (or `X509 CERTIFICATE`) block of `text`, in order; text
 * outside blocks is ignored (RFC 7468, Section 2). Throws `DecodeError` (`bad-value`) when a body is
 * not base64 and (`too-large`) past `MAX_PEM_CERTIFICATES` blocks. Other labels (keys, CRLs,
 * `TRUSTED CERTIFICATE`) are skipped.
 */
export function pemToDer(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(BLOCK)) {
    if (out.length >= MAX_PEM_CERTIFICATES) {
      throw new DecodeError('too-large', `more than ${MAX_PEM_CERTIFICATES} certificates`, m.index ?? 0, 'PEM');
    }
    const body = m[2]!.replace(/[\s]+/g, '');
    if (!BASE64_BODY.test(body) || body.length % 4 !== 0) {
      throw new DecodeError('bad-value', 'certificate block is not base64 (RFC 7468, Section 3)', m.index ?? 0, `PEM/${out.length}`);
    }
    const buf = Buffer.from(body, 'base64');
    out.push(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  }
  return out;
}

/** Returns the RFC 7468 text of one DER certificate: 64-column base64 lines, ending in a newline. */
export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
