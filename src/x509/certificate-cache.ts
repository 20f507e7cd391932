/**
 * Decoded certificates remembered by SHA-256: a capture repeats the same few certificates on
 * every connection to a server, and decoding each copy again is most of what rendering it costs.
 */
import { DecodeError } from '../wire/errors.js';
import { parseCertificate } from './der.js';
import { thumbprint } from './thumbprint.js';
import type { CertInfo } from './types.js';

/**
 * Distinct certificates remembered (oldest forgotten first). A capture holds a handful of servers'
 * chains; 4,096 certificates (a few MB of decoded fields) cover any real one while bounding what a
 * capture of forged certificates can make us keep.
 */
export const MAX_CACHED_CERTIFICATES = 4096;

/** One certificate as sent: decoded, or the error that stopped decoding it. Its bytes are a copy. */
export type ParsedCertificate =
  | { readonly sha256: string; readonly cert: CertInfo; readonly error: null }
  | {
      readonly sha256: string;
      readonly cert: null;
      readonly error: DecodeError;
      readonly der: Uint8Array;
      readonly sha1: string;
    };

export interface CertificateCache {
  /** Returns the certificate `der` decoded, from the cache when its SHA-256 was seen before. */
  parse(der: Uint8Array): ParsedCertificate;
}

/** Returns an empty cache of at most `limit` certificates. */
export function createCertificateCache(limit = MAX_CACHED_CERTIFICATES): CertificateCache {
  const known = new Map<string, ParsedCertificate>();
  return {
    parse(der) {
      const sha256 = thumbprint(der, 'sha256');
      const hit = known.get(sha256);
      if (hit) return hit;
      // A copy: `der` may be a view into a larger buffer the cache must not keep alive.
      const own = der.slice();
      let parsed: ParsedCertificate;
      try {
        parsed = { sha256, cert: parseCertificate(own), error: null };
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        parsed = { sha256, cert: null, error: e, der: own, sha1: thumbprint(own, 'sha1') };
      }
      if (known.size >= limit) known.delete(known.keys().next().value!);
      known.set(sha256, parsed);
      return parsed;
    },
  };
}
