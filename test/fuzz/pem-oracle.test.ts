/**
 * The linear PEM scanner (issue 8) against the regular expression it replaced, kept here as the
 * oracle: on texts built from boundary lines of both labels, other labels, base64 and junk, both
 * must find the same blocks, or fail with the same error at the same offset.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/wire/errors.js';
import { MAX_PEM_CERTIFICATES, pemToDer } from '../../src/x509/pem.js';
import { CI_SEED, fuzzRuns } from './mutate.js';

/** The pre-issue-8 pemToDer, verbatim but for its name: quadratic on unterminated BEGIN lines. */
const BLOCK = /-----BEGIN (X509 CERTIFICATE|CERTIFICATE)-----([\s\S]*?)-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;
function regexPemToDer(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(BLOCK)) {
    if (out.length >= MAX_PEM_CERTIFICATES)
      throw new DecodeError('too-large', `more than ${MAX_PEM_CERTIFICATES} certificates`, m.index ?? 0, 'PEM');
    const body = m[2]!.replace(/[\s]+/g, '');
    if (!BASE64_BODY.test(body) || body.length % 4 !== 0) {
      throw new DecodeError(
        'bad-value',
        'certificate block is not base64 (RFC 7468, Section 3)',
        m.index ?? 0,
        `PEM/${out.length}`,
      );
    }
    const buf = Buffer.from(body, 'base64');
    out.push(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  }
  return out;
}

const TOKENS = [
  '-----BEGIN CERTIFICATE-----',
  '-----END CERTIFICATE-----',
  '-----BEGIN X509 CERTIFICATE-----',
  '-----END X509 CERTIFICATE-----',
  '-----BEGIN TRUSTED CERTIFICATE-----',
  '-----END TRUSTED CERTIFICATE-----',
  '-----BEGIN PRIVATE KEY-----',
  'MAA=',
  'MIIB',
  'AAAAAAAA',
  '!!',
  '\n',
  '\r\n',
  ' ',
  '-----',
  'CERTIFICATE',
];

function outcome(f: () => Uint8Array[]): string {
  try {
    return JSON.stringify(f().map((d) => Buffer.from(d).toString('hex')));
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return `${e.code}@${e.offset}:${e.path}`;
  }
}

describe('pemToDer', () => {
  it('finds exactly the blocks the regular expression it replaced found', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        expect(outcome(() => pemToDer(text))).toBe(outcome(() => regexPemToDer(text)));
      }),
      { seed: CI_SEED, numRuns: fuzzRuns(3000) },
    );
  });
});
