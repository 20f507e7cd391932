/**
 * chrome-current: a real X25519MLKEM768 key share, checked against Chromium 137's real share (its
 * ML-KEM half passes FIPS 203's modulus check only in the draft's order), a handshake completed with
 * a server that selects the hybrid, and the reset a middlebox gives a hello larger than one segment.
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findClientProfile, simulateClient } from '../../src/diagnose/clients.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { buildFromPrebuilt } from '../../src/probe/profiles.js';
import { findExtension } from '../../src/tls/extensions.js';
import {
  encapsulateX25519MlKem768,
  generateX25519MlKem768KeyShare,
  splitX25519MlKem768ClientShare,
  X25519MLKEM768_CLIENT_SHARE_BYTES,
  X25519MLKEM768_SERVER_SHARE_BYTES,
} from '../../src/tls/hybrid-key-share.js';
import { parseClientHello } from '../../src/tls/client-hello.js';
import { generateKeyShare } from '../../src/tls/key-schedule.js';
import { DecodeError } from '../../src/wire/errors.js';
import { toHex } from '../../src/wire/hex.js';
import { hasCorpusFile, NO_CORPUS, readCorpusJson } from '../helpers/corpus.js';
import { startHybridServer, type HybridServer } from '../helpers/hybrid-server.js';

const chrome = () => findClientProfile('chrome-current')!;

describe('X25519MLKEM768 key share', () => {
  it('agrees on one 64-byte secret with the server side, and rejects shares of the wrong size', () => {
    const client = generateX25519MlKem768KeyShare();
    expect(client.publicKey.length).toBe(X25519MLKEM768_CLIENT_SHARE_BYTES);
    const { serverShare, sharedSecret } = encapsulateX25519MlKem768(client.publicKey);
    expect(serverShare.length).toBe(X25519MLKEM768_SERVER_SHARE_BYTES);
    expect(toHex(client.computeSecret(serverShare))).toBe(toHex(sharedSecret));
    expect(sharedSecret.length).toBe(64);
    expect(() => client.computeSecret(serverShare.subarray(1))).toThrow(DecodeError);
    expect(() => encapsulateX25519MlKem768(client.publicKey.subarray(0, 1215))).toThrow(DecodeError);
  });

  it('puts ML-KEM first in the shares and in the secret, X25519 second (draft-ietf-tls-ecdhe-mlkem, Section 3)', () => {
    const client = generateX25519MlKem768KeyShare();
    const { encapsulationKey, x25519 } = splitX25519MlKem768ClientShare(client.publicKey);
    // A server built by hand from the two halves, independently of encapsulateX25519MlKem768.
    const kem = ml_kem768.encapsulate(encapsulationKey);
    const ecdh = generateKeyShare(0x001d);
    const secret = client.computeSecret(Uint8Array.from([...kem.cipherText, ...ecdh.publicKey]));
    expect(toHex(secret)).toBe(toHex(Uint8Array.from([...kem.sharedSecret, ...ecdh.computeSecret(x25519)])));
  });
});

const CORPUS_FILE = 'client-hellos/testssl-client-simulation.json';
describe.skipIf(!hasCorpusFile(CORPUS_FILE))("against Chromium 137's real hello", () => {
  it('splits its real 1,216-byte share the same way: its first 1,184 bytes are a valid ML-KEM-768 key, its last 1,184 are not', () => {
    const c = readCorpusJson<{ clients: { names: string; handshakebytes: string }[] }>(CORPUS_FILE).clients.find(
      (x) => x.names === 'Chromium 137 (Win 11)',
    )!;
    const hello = parseClientHello(Buffer.from(c.handshakebytes, 'hex').subarray(5));
    const share = findExtension(hello.extensions, 'key_share')!.shares!.find((s) => s.group === 0x11ec)!;
    expect(share.keyExchange.length).toBe(X25519MLKEM768_CLIENT_SHARE_BYTES);
    expect(encapsulateX25519MlKem768(share.keyExchange).serverShare.length).toBe(X25519MLKEM768_SERVER_SHARE_BYTES);
    // The other order (X25519 first) would put 32 bytes of X25519 key into the ML-KEM key's coefficients.
    expect(() => ml_kem768.encapsulate(share.keyExchange.subarray(32))).toThrow();
  });
});
if (!hasCorpusFile(CORPUS_FILE)) console.warn(NO_CORPUS);

describe('chrome-current', () => {
  it('sends GREASE, the hybrid share beside x25519, and a hello larger than one TCP segment', () => {
    const built = chrome().build('backup.example');
    const record = buildFromPrebuilt(built).record;
    expect(record.length).toBeGreaterThan(1400);
    expect(record.length).toBeGreaterThan(1460);
    const shares = findExtension(built.hello.extensions, 'key_share')!.shares!;
    expect(shares.map((s) => s.group).slice(1)).toEqual([0x11ec, 0x001d]);
    expect(shares[0]!.group & 0x0f0f).toBe(0x0a0a);
    expect(shares[1]!.keyExchange.length).toBe(1216);
    expect(built.hello.cipherSuites[0]! & 0x0f0f).toBe(0x0a0a);
    expect(built.hello.extensions!.some((e) => e.type === 0xfe0d)).toBe(true);
  });

  let lab: Lab;
  let server: HybridServer;
  beforeAll(async () => {
    lab = await startLab({ names: ['picky-large', 'modern'] });
    server = await startHybridServer(lab.pki);
  });
  afterAll(async () => {
    await server?.close();
    await lab?.close();
  });

  it('completes a TLS 1.3 handshake with a server that selects X25519MLKEM768: the certificates decrypt', async () => {
    const s = await simulateClient(
      { host: 'localhost', address: '127.0.0.1', port: server.port },
      chrome(),
      'localhost',
      { readTimeoutMs: 10_000 },
    );
    expect(server.selected).toEqual([0x11ec]);
    expect(s.verdict).toBe('connects');
    expect(s.attempt.negotiatedVersion).toBe(0x0304);
    expect(s.attempt.certificates.map((c) => toHex(c))).toEqual([
      toHex(lab.pki.leaf.der),
      toHex(lab.pki.intermediate.der),
    ]);
  });

  it('is reset by picky-large, where the unpadded OpenSSL and the 512-byte Chrome hellos connect', async () => {
    const e = lab.endpoint('picky-large');
    const target = { host: 'localhost', address: e.host, port: e.port };
    const big = await simulateClient(target, chrome(), 'localhost', { readTimeoutMs: 5000 });
    expect(big.verdict).toBe('gets-10054');
    for (const n of ['chrome', 'openssl-3', 'win2019']) {
      const small = await simulateClient(target, findClientProfile(n)!, 'localhost', { readTimeoutMs: 5000 });
      expect(small.verdict, n).toBe('connects');
    }
    // The same hello goes through to an endpoint without the trait (the modern lab server has no ML-KEM: x25519 is picked).
    const m = lab.endpoint('modern');
    const ok = await simulateClient({ host: 'localhost', address: m.host, port: m.port }, chrome(), 'localhost', {
      readTimeoutMs: 5000,
    });
    expect(ok.verdict).toBe('connects');
  });
});
