/**
 * CRL files: `readCrlBytes` returns the DER of every `X509 CRL` block of a PEM text (RFC 7468,
 * Section 6), or the input itself when it is DER; throws `DecodeError` for anything else.
 */
import { DecodeError } from '../wire/errors.js';

/** Most CRL blocks we take from one file: CRL bundles hold one per CA, a few dozen at most. */
export const MAX_PEM_CRLS = 1000;

const BEGIN = '-----BEGIN X509 CRL-----';
const END = '-----END X509 CRL-----';
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Returns the DER CRLs in `bytes`: each `X509 CRL` PEM block in order (text outside blocks ignored,
 * RFC 7468, Section 2), or `[bytes]` when it starts like DER (a SEQUENCE). Throws `DecodeError` when
 * a body is not base64, when there are more than `MAX_PEM_CRLS` blocks, or when neither form is found.
 */
export function readCrlBytes(bytes: Uint8Array): Uint8Array[] {
  if (bytes[0] === 0x30) return [bytes];
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const out: Uint8Array[] = [];
  for (let at = text.indexOf(BEGIN); at >= 0; ) {
    const e = text.indexOf(END, at + BEGIN.length);
    if (e < 0)
      throw new DecodeError('truncated', 'X509 CRL block without its END line (RFC 7468, Section 3)', at, 'PEM');
    if (out.length >= MAX_PEM_CRLS) throw new DecodeError('too-large', `more than ${MAX_PEM_CRLS} CRLs`, at, 'PEM');
    const body = text.slice(at + BEGIN.length, e).replace(/\s+/g, '');
    if (!BASE64_BODY.test(body) || body.length % 4 !== 0)
      throw new DecodeError('bad-value', 'X509 CRL block is not base64 (RFC 7468, Section 3)', at, `PEM/${out.length}`);
    const buf = Buffer.from(body, 'base64');
    out.push(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    at = text.indexOf(BEGIN, e + END.length);
  }
  if (out.length === 0)
    throw new DecodeError('bad-value', 'neither DER nor PEM with -----BEGIN X509 CRL----- blocks', 0, 'CRL');
  return out;
}
