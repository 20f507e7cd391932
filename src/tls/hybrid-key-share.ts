/**
 * X25519MLKEM768 (NamedGroup 0x11ec), the hybrid key exchange Chrome, Firefox and Edge send first:
 * `generateX25519MlKem768KeyShare` returns a client `KeyShareKeyPair`, `encapsulateX25519MlKem768`
 * the server's answer to a client share. ML-KEM-768 (FIPS 203) comes from @noble/post-quantum
 * (node:crypto has none); X25519 from node:crypto. Both throw `DecodeError('bad-value')` for a peer
 * share of the wrong length or an encapsulation key that fails FIPS 203's modulus check.
 *
 * draft-ietf-tls-ecdhe-mlkem, Section 3 (wire forms, ML-KEM first for X25519MLKEM768):
 *   client key_exchange = ML-KEM-768 encapsulation key (1184) || X25519 public key (32)
 *   server key_exchange = ML-KEM-768 ciphertext (1088)       || X25519 public key (32)
 *   shared secret       = ML-KEM-768 shared secret (32)      || X25519 shared secret (32)
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { DecodeError } from '../wire/errors.js';
import { concatBytes } from '../wire/hex.js';
import { generateKeyShare, type KeyShareKeyPair } from './key-schedule.js';
import { NamedGroup } from './registry.js';

/** FIPS 203, Table 3: ML-KEM-768 sizes. */
export const MLKEM768_ENCAPSULATION_KEY_BYTES = 1184;
export const MLKEM768_CIPHERTEXT_BYTES = 1088;
const X25519_BYTES = 32;
/** The client's and the server's X25519MLKEM768 key_exchange lengths. */
export const X25519MLKEM768_CLIENT_SHARE_BYTES = MLKEM768_ENCAPSULATION_KEY_BYTES + X25519_BYTES;
export const X25519MLKEM768_SERVER_SHARE_BYTES = MLKEM768_CIPHERTEXT_BYTES + X25519_BYTES;

const PATH = 'KeyShareEntry/key_exchange';

function bad(detail: string): never {
  throw new DecodeError('bad-value', detail, 0, PATH);
}

/** Returns a fresh X25519MLKEM768 client key pair; `computeSecret` takes the server's share. */
export function generateX25519MlKem768KeyShare(): KeyShareKeyPair {
  const { publicKey: ek, secretKey: dk } = ml_kem768.keygen();
  const ecdh = generateKeyShare(NamedGroup.x25519);
  return {
    group: NamedGroup.X25519MLKEM768,
    publicKey: concatBytes(ek, ecdh.publicKey),
    computeSecret(peer: Uint8Array): Uint8Array {
      if (peer.length !== X25519MLKEM768_SERVER_SHARE_BYTES)
        bad(`X25519MLKEM768 server share must be ${X25519MLKEM768_SERVER_SHARE_BYTES} bytes, got ${peer.length}`);
      const kem = ml_kem768.decapsulate(peer.subarray(0, MLKEM768_CIPHERTEXT_BYTES), dk);
      return concatBytes(kem, ecdh.computeSecret(peer.subarray(MLKEM768_CIPHERTEXT_BYTES)));
    },
  };
}

/** Splits a client X25519MLKEM768 share; throws DecodeError for a wrong length. */
export function splitX25519MlKem768ClientShare(share: Uint8Array): {
  encapsulationKey: Uint8Array;
  x25519: Uint8Array;
} {
  if (share.length !== X25519MLKEM768_CLIENT_SHARE_BYTES)
    bad(`X25519MLKEM768 client share must be ${X25519MLKEM768_CLIENT_SHARE_BYTES} bytes, got ${share.length}`);
  return {
    encapsulationKey: share.subarray(0, MLKEM768_ENCAPSULATION_KEY_BYTES),
    x25519: share.subarray(MLKEM768_ENCAPSULATION_KEY_BYTES),
  };
}

/**
 * Returns the server's share for a client X25519MLKEM768 share and the shared secret both sides
 * derive. Throws DecodeError when the share has the wrong length, its encapsulation key fails the
 * FIPS 203 (Section 7.2) modulus check, or its X25519 half is unusable.
 */
export function encapsulateX25519MlKem768(clientShare: Uint8Array): {
  serverShare: Uint8Array;
  sharedSecret: Uint8Array;
} {
  const { encapsulationKey, x25519 } = splitX25519MlKem768ClientShare(clientShare);
  let kem: { cipherText: Uint8Array; sharedSecret: Uint8Array };
  try {
    kem = ml_kem768.encapsulate(encapsulationKey);
  } catch (e) {
    bad(`ML-KEM-768 encapsulation key rejected: ${(e as Error).message}`);
  }
  const ecdh = generateKeyShare(NamedGroup.x25519);
  const ss = ecdh.computeSecret(x25519);
  return { serverShare: concatBytes(kem.cipherText, ecdh.publicKey), sharedSecret: concatBytes(kem.sharedSecret, ss) };
}
