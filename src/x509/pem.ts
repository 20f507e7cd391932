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
const LABELS = ['CERTIFICATE', 'X509 CERTIFICATE'] as const;
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/** Search state of one scan: where each label's next BEGIN was found, and labels with no END left. */
interface Scan {
  readonly nextBegin: Map<string, number>;
  readonly dead: Set<string>;
}

/**
 * Returns the next block at or after `from`: its index and body and where scanning resumes, or null
 * when none is left. Linear in the text over a whole scan: a label's BEGIN position is remembered
 * until scanning passes it, each END search covers only that block's body, and a label with no
 * BEGIN or no END left is not searched again (a lazy regular expression rescanned to the end of
 * the text for every unterminated BEGIN, which made a text of BEGIN lines quadratic).
 */
function nextBlock(text: string, from: number, scan: Scan): { index: number; body: string; next: number } | null {
  let at = from;
  for (;;) {
    let best: { index: number; label: string } | null = null;
    for (const label of LABELS) {
      if (scan.dead.has(label)) continue;
      let i = scan.nextBegin.get(label) ?? -1;
      if (i < at) {
        i = text.indexOf(`-----BEGIN ${label}-----`, at);
        if (i < 0) {
          scan.dead.add(label);
          continue;
        }
        scan.nextBegin.set(label, i);
      }
      if (best === null || i < best.index) best = { index: i, label };
    }
    if (best === null) return null;
    const bodyStart = best.index + `-----BEGIN ${best.label}-----`.length;
    const end = `-----END ${best.label}-----`;
    const e = text.indexOf(end, bodyStart);
    if (e < 0) {
      // No END of this label after this BEGIN, so none after any later BEGIN of it either.
      scan.dead.add(best.label);
      at = best.index + 1;
      continue;
    }
    return { index: best.index, body: text.slice(bodyStart, e), next: e + end.length };
  }
}

/**
 * Returns the DER bytes of each `CERTIFICATE` (or `X509 CERTIFICATE`) block of `text`, in order; text
 * outside blocks is ignored (RFC 7468, Section 2). Throws `DecodeError` (`bad-value`) when a body is
 * not base64 and (`too-large`) past `MAX_PEM_CERTIFICATES` blocks. Other labels (keys, CRLs,
 * `TRUSTED CERTIFICATE`) are skipped. Runs in time linear in the length of `text`.
 */
export function pemToDer(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const scan: Scan = { nextBegin: new Map(), dead: new Set() };
  for (let block = nextBlock(text, 0, scan); block !== null; block = nextBlock(text, block.next, scan)) {
    if (out.length >= MAX_PEM_CERTIFICATES) {
      throw new DecodeError('too-large', `more than ${MAX_PEM_CERTIFICATES} certificates`, block.index, 'PEM');
    }
    const body = block.body.replace(/[\s]+/g, '');
    if (!BASE64_BODY.test(body) || body.length % 4 !== 0) {
      throw new DecodeError(
        'bad-value',
        'certificate block is not base64 (RFC 7468, Section 3)',
        block.index,
        `PEM/${out.length}`,
      );
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
