/**
 * Certificate thumbprints: returns the lowercase hex SHA-1 or SHA-256 of DER bytes via node:crypto.
 */
import * as crypto from 'node:crypto';

/** Hashes we take thumbprints with. */
export type ThumbprintHash = 'sha1' | 'sha256';

// crypto.hash (Node 20.12+) is the one-shot form of createHash(): same digest, no Hash object.
const oneShot: ((alg: string, data: Uint8Array, enc: 'hex') => string) | undefined =
  typeof crypto.hash === 'function' ? crypto.hash : undefined;

/** Returns the lowercase hex `alg` digest of `der` (no copy of the input). */
export function thumbprint(der: Uint8Array, alg: ThumbprintHash): string {
  if (oneShot) return oneShot(alg, der, 'hex');
  return crypto.createHash(alg).update(der).digest('hex');
}

/** Returns `text` as a bare lowercase hex thumbprint: `AB:CD …`, spaces and `sha1 Fingerprint=` prefixes removed. */
export function normalizeThumbprint(text: string): string {
  return text.replace(/^.*=/, '').replace(/[\s:]/g, '').toLowerCase();
}
