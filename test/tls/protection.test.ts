import { spawnSync } from 'node:child_process';
import { createCipheriv, createPrivateKey, createPublicKey, diffieHellman, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as tlsCreateServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applicationSecrets,
  exportKeyingMaterial,
  finishedVerifyData,
  handshakeSecrets,
  hashForSuite,
  keyShareFromPrivateKey,
  trafficKeys,
  transcriptHash,
  type HashName,
} from '../../src/tls/key-schedule.js';
import { parseKeyLog } from '../../src/tls/keylog.js';
import {
  MAX_CIPHERTEXT_LENGTH,
  MAX_INNER_PLAINTEXT_LENGTH,
  decryptRecord,
  encryptRecord,
  newProtectionState,
  recordNonce,
  type ProtectionState,
} from '../../src/tls/protection.js';
import { DecodeError, EncodeError } from '../../src/wire/errors.js';
import { fromHex, toHex } from '../../src/wire/hex.js';
import { corpusPath, hasCorpusFile, readCorpus, readCorpusJson } from '../helpers/corpus.js';
import { Rng } from '../helpers/random.js';

const SUITES = [
  { name: 'TLS_AES_128_GCM_SHA256', value: 0x1301, keyLength: 16, tagLength: 16 },
  { name: 'TLS_AES_256_GCM_SHA384', value: 0x1302, keyLength: 32, tagLength: 16 },
  { name: 'TLS_CHACHA20_POLY1305_SHA256', value: 0x1303, keyLength: 32, tagLength: 16 },
  { name: 'TLS_AES_128_CCM_SHA256', value: 0x1304, keyLength: 16, tagLength: 16 },
  { name: 'TLS_AES_128_CCM_8_SHA256', value: 0x1305, keyLength: 16, tagLength: 8 },
] as const;

function split(record: Uint8Array): [Uint8Array, Uint8Array] {
  return [record.subarray(0, 5), record.subarray(5)];
}

/** The DecodeError code `f` throws, or a description of what else happened. */
function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof DecodeError ? e.code : `not a DecodeError: ${String(e)}`;
  }
  return 'no error';
}

describe('recordNonce', () => {
  const iv = fromHex('000102030405060708090a0b');

  it('is the IV itself at sequence number 0', () => {
    expect(toHex(recordNonce(iv, 0n))).toBe(toHex(iv));
  });

  it('XORs the big-endian sequence number into the last 8 bytes (RFC 8446, Section 5.3)', () => {
    expect(toHex(recordNonce(iv, 1n))).toBe('000102030405060708090a0a');
    expect(toHex(recordNonce(iv, 0x0102030405060708n))).toBe('00010203' + '050705030d0f0d03');
    expect(toHex(recordNonce(iv, 2n ** 64n - 1n))).toBe('00010203' + 'fbfaf9f8f7f6f5f4');
  });

  it('XORs only the low-order bytes of the sequence number into an IV shorter than 8 bytes, and leaves the IV as it was', () => {
    const short = fromHex('00000000');
    expect(toHex(recordNonce(short, 0x0102030405060708n))).toBe('05060708');
    expect(toHex(recordNonce(iv, 0x8000000000000001n))).toBe('00010203' + '840506070809' + '0a0a');
    expect(toHex(iv)).toBe('000102030405060708090a0b');
  });

  it('refuses sequence numbers outside 0..2^64-1', () => {
    expect(() => recordNonce(iv, 2n ** 64n)).toThrow(RangeError);
    expect(() => recordNonce(iv, -1n)).toThrow(RangeError);
  });
});

describe('newProtectionState', () => {
  it('starts at sequence number 0', () => {
    expect(newProtectionState(0x1301, { key: new Uint8Array(16), iv: new Uint8Array(12) }).seq).toBe(0n);
  });

  it('rejects unknown suites and keys or IVs of the wrong length', () => {
    expect(() => newProtectionState(0xc02f, { key: new Uint8Array(16), iv: new Uint8Array(12) })).toThrow(TypeError);
    expect(() => newProtectionState(0x1302, { key: new Uint8Array(16), iv: new Uint8Array(12) })).toThrow(TypeError);
    expect(() => newProtectionState(0x1301, { key: new Uint8Array(16), iv: new Uint8Array(8) })).toThrow(TypeError);
  });
});

describe.each(SUITES)('encryptRecord / decryptRecord with $name', ({ value, keyLength, tagLength }) => {
  it('round-trips contents of many lengths, advancing the sequence number on both sides', () => {
    const rng = new Rng(value);
    const keys = { key: rng.bytes(keyLength), iv: rng.bytes(12) };
    const tx = newProtectionState(value, keys);
    const rx = newProtectionState(value, keys);
    const lengths = [0, 1, 2, 15, 16, 17, 255, 1000, 2 ** 14];
    for (const [i, n] of lengths.entries()) {
      const content = rng.bytes(n);
      const type = [21, 22, 23][i % 3]!;
      const record = encryptRecord(tx, type, content);
      expect(record).toHaveLength(5 + n + 1 + tagLength);
      expect(toHex(record.subarray(0, 3))).toBe('170303');
      expect((record[3]! << 8) | record[4]!).toBe(n + 1 + tagLength);
      const plain = decryptRecord(rx, ...split(record));
      expect(plain.contentType).toBe(type);
      expect(toHex(plain.content)).toBe(toHex(content));
      expect(plain.paddingLength).toBe(0);
    }
    expect(tx.seq).toBe(BigInt(lengths.length));
    expect(rx.seq).toBe(BigInt(lengths.length));
  });

  it('strips zero padding and reports its length', () => {
    const rng = new Rng(value + 1);
    const keys = { key: rng.bytes(keyLength), iv: rng.bytes(12) };
    const content = fromHex('0100'); // an alert ending in a zero byte: the type byte marks the end
    const record = encryptRecord(newProtectionState(value, keys), 21, content, 100);
    expect(record).toHaveLength(5 + 2 + 1 + 100 + tagLength);
    const plain = decryptRecord(newProtectionState(value, keys), ...split(record));
    expect(plain).toMatchObject({ contentType: 21, paddingLength: 100 });
    expect(toHex(plain.content)).toBe('0100');
  });

  it('throws decrypt-failed on a flipped byte anywhere and leaves the sequence number alone', () => {
    const rng = new Rng(value + 2);
    const keys = { key: rng.bytes(keyLength), iv: rng.bytes(12) };
    const record = encryptRecord(newProtectionState(value, keys), 23, rng.bytes(40));
    // legacy_record_version (AAD), the body, the last byte of the tag.
    for (const at of [1, 2, 5, 20, record.length - 1]) {
      const bad = record.slice();
      bad[at] = bad[at]! ^ 0x01;
      const rx = newProtectionState(value, keys);
      expect(codeOf(() => decryptRecord(rx, ...split(bad)))).toBe('decrypt-failed');
      expect(rx.seq).toBe(0n);
    }
  });

  it('throws decrypt-failed under the wrong key or the wrong sequence number', () => {
    const rng = new Rng(value + 3);
    const keys = { key: rng.bytes(keyLength), iv: rng.bytes(12) };
    const record = encryptRecord(newProtectionState(value, keys), 23, rng.bytes(10));
    const wrongKey = newProtectionState(value, { key: rng.bytes(keyLength), iv: keys.iv });
    expect(codeOf(() => decryptRecord(wrongKey, ...split(record)))).toBe('decrypt-failed');
    const wrongSeq = newProtectionState(value, keys);
    wrongSeq.seq = 1n;
    expect(codeOf(() => decryptRecord(wrongSeq, ...split(record)))).toBe('decrypt-failed');
    wrongSeq.seq = 0n;
    expect(decryptRecord(wrongSeq, ...split(record)).contentType).toBe(23);
  });

  it('uses the sequence number far above 2^32 (all 8 bytes reach the nonce)', () => {
    const rng = new Rng(value + 4);
    const keys = { key: rng.bytes(keyLength), iv: rng.bytes(12) };
    const tx = newProtectionState(value, keys);
    tx.seq = 0x0123456789abcdefn;
    const record = encryptRecord(tx, 23, rng.bytes(10));
    const rx = newProtectionState(value, keys);
    rx.seq = 0x0123456789abcdefn ^ (1n << 60n);
    expect(codeOf(() => decryptRecord(rx, ...split(record)))).toBe('decrypt-failed');
    rx.seq = 0x0123456789abcdefn;
    decryptRecord(rx, ...split(record));
    expect(rx.seq).toBe(0x0123456789abcdf0n);
  });
});

describe('decryptRecord limits and framing', () => {
  const rng = new Rng(5);
  const keys = { key: rng.bytes(16), iv: rng.bytes(12) };
  const state = (): ProtectionState => newProtectionState(0x1301, keys);

  /** Seals an arbitrary TLSInnerPlaintext, bypassing encryptRecord's own checks. */
  function sealRaw(inner: Uint8Array, seq = 0n): Uint8Array {
    const header = Uint8Array.of(23, 3, 3, (inner.length + 16) >> 8, (inner.length + 16) & 0xff);
    const c = createCipheriv('aes-128-gcm', keys.key, recordNonce(keys.iv, seq), { authTagLength: 16 });
    c.setAAD(header);
    return new Uint8Array(Buffer.concat([header, c.update(inner), c.final(), c.getAuthTag()]));
  }

  it('rejects an inner plaintext with no non-zero byte as unexpected-message', () => {
    const s = state();
    expect(codeOf(() => decryptRecord(s, ...split(sealRaw(new Uint8Array(20)))))).toBe('unexpected-message');
    expect(codeOf(() => decryptRecord(s, ...split(sealRaw(new Uint8Array(0)))))).toBe('unexpected-message');
    expect(s.seq).toBe(0n);
  });

  it('rejects an inner plaintext over 2^14+1 bytes as too-large even inside the ciphertext cap', () => {
    const inner = new Uint8Array(MAX_INNER_PLAINTEXT_LENGTH + 1);
    inner[0] = 23;
    const record = sealRaw(inner);
    expect(record.length - 5).toBeLessThanOrEqual(MAX_CIPHERTEXT_LENGTH);
    expect(codeOf(() => decryptRecord(state(), ...split(record)))).toBe('too-large');
    const atCap = new Uint8Array(MAX_INNER_PLAINTEXT_LENGTH);
    atCap[atCap.length - 1] = 23;
    expect(decryptRecord(state(), ...split(sealRaw(atCap))).content).toHaveLength(2 ** 14);
  });

  it('rejects a ciphertext over 2^14+256 bytes before decrypting', () => {
    const n = MAX_CIPHERTEXT_LENGTH + 1;
    const header = Uint8Array.of(23, 3, 3, n >> 8, n & 0xff);
    expect(codeOf(() => decryptRecord(state(), header, new Uint8Array(n)))).toBe('too-large');
  });

  it('rejects a header whose length disagrees with the ciphertext', () => {
    const record = sealRaw(Uint8Array.of(1, 2, 23));
    expect(codeOf(() => decryptRecord(state(), record.subarray(0, 5), record.subarray(5, -1)))).toBe(
      'length-out-of-range',
    );
  });

  it('rejects a ciphertext shorter than the tag as truncated', () => {
    expect(codeOf(() => decryptRecord(state(), Uint8Array.of(23, 3, 3, 0, 15), new Uint8Array(15)))).toBe('truncated');
  });

  it('rejects an outer type other than application_data', () => {
    const record = sealRaw(Uint8Array.of(1, 23)).slice();
    record[0] = 22;
    expect(codeOf(() => decryptRecord(state(), ...split(record)))).toBe('bad-value');
  });

  it('names the field and offset of a failed decryption', () => {
    const record = sealRaw(Uint8Array.of(1, 23)).slice();
    record[7] = record[7]! ^ 0xff;
    try {
      decryptRecord(state(), ...split(record));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).path).toBe('TLSCiphertext/encrypted_record');
      expect((e as DecodeError).offset).toBe(5);
    }
  });

  it('throws TypeError for a header that is not 5 bytes', () => {
    expect(() => decryptRecord(state(), new Uint8Array(4), new Uint8Array(20))).toThrow(TypeError);
  });
});

describe('encryptRecord argument checks', () => {
  const s = (): ProtectionState => newProtectionState(0x1301, { key: new Uint8Array(16), iv: new Uint8Array(12) });

  it('refuses content type 0, which would read back as padding', () => {
    expect(() => encryptRecord(s(), 0, new Uint8Array(1))).toThrow(TypeError);
    expect(() => encryptRecord(s(), 256, new Uint8Array(1))).toThrow(TypeError);
  });

  it('refuses an inner plaintext over 2^14+1 bytes', () => {
    expect(() => encryptRecord(s(), 23, new Uint8Array(2 ** 14), 1)).toThrow(EncodeError);
    expect(() => encryptRecord(s(), 23, new Uint8Array(2 ** 14 + 1))).toThrow(EncodeError);
    expect(() => encryptRecord(s(), 23, new Uint8Array(2 ** 14))).not.toThrow();
  });

  it('refuses to wrap the sequence number', () => {
    const st = s();
    st.seq = 2n ** 64n;
    expect(() => encryptRecord(st, 23, new Uint8Array(1))).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// RFC 8448, Section 3, with the keys the RFC prints (independent of our key schedule).

interface TraceStep {
  readonly actor: string;
  readonly action: string;
  readonly items: readonly { label: string; hex?: string }[];
}
const RFC8448 = 'rfc8448/rfc8448-traces.parsed.json';

describe.skipIf(!hasCorpusFile(RFC8448))('RFC 8448 Section 3 records (skipped without ../shared/corpus)', () => {
  const steps = (): readonly TraceStep[] =>
    readCorpusJson<{ sections: { section: number; steps: TraceStep[] }[] }>(RFC8448).sections.find(
      (s) => s.section === 3,
    )!.steps;
  const hex = (step: TraceStep, label: string): Uint8Array => fromHex(step.items.find((i) => i.label === label)!.hex!);
  const find = (actor: string, action: string, nth = 0): TraceStep =>
    steps().filter((s) => s.actor === actor && s.action.startsWith(action) && s.items.length > 0)[nth]!;
  const stateFrom = (keysStep: TraceStep): ProtectionState =>
    newProtectionState(0x1301, { key: hex(keysStep, 'key expanded'), iv: hex(keysStep, 'iv expanded') });

  it('decrypts the server handshake record to EncryptedExtensions…Finished and encrypts it back', () => {
    const record = hex(find('server', 'send handshake record', 1), 'complete record');
    const payload = hex(find('server', 'send handshake record', 1), 'payload');
    const rx = stateFrom(find('server', 'derive write traffic keys for handshake data'));
    const plain = decryptRecord(rx, ...split(record));
    expect(plain.contentType).toBe(22);
    expect(plain.paddingLength).toBe(0);
    expect(toHex(plain.content)).toBe(toHex(payload));
    expect(plain.content[0]).toBe(8); // EncryptedExtensions first
    expect(rx.seq).toBe(1n);
    const tx = stateFrom(find('server', 'derive write traffic keys for handshake data'));
    expect(toHex(encryptRecord(tx, 22, payload))).toBe(toHex(record));
  });

  it('decrypts the server application records at sequence numbers 0, 1 and 2', () => {
    const rx = stateFrom(find('server', 'derive write traffic keys for application data'));
    const ticket = find('server', 'send handshake record', 2);
    const data = find('server', 'send application_data record');
    const alert = find('server', 'send alert record');
    const expected: [TraceStep, number][] = [
      [ticket, 22],
      [data, 23],
      [alert, 21],
    ];
    for (const [step, type] of expected) {
      const plain = decryptRecord(rx, ...split(hex(step, 'complete record')));
      expect(plain.contentType).toBe(type);
      expect(toHex(plain.content)).toBe(toHex(hex(step, 'payload')));
    }
    expect(rx.seq).toBe(3n);
  });

  it('decrypts the alert directly once the sequence number is set to 2, and not at 1', () => {
    const alert = hex(find('server', 'send alert record'), 'complete record');
    const rx = stateFrom(find('server', 'derive write traffic keys for application data'));
    rx.seq = 1n;
    expect(codeOf(() => decryptRecord(rx, ...split(alert)))).toBe('decrypt-failed');
    rx.seq = 2n;
    expect(toHex(decryptRecord(rx, ...split(alert)).content)).toBe('0100'); // close_notify
  });

  it('decrypts the client Finished, application data and alert with the client keys', () => {
    const hs = stateFrom(find('server', 'derive read traffic keys for handshake data'));
    const fin = find('client', 'send handshake record', 1);
    expect(toHex(decryptRecord(hs, ...split(hex(fin, 'complete record'))).content)).toBe(toHex(hex(fin, 'payload')));
    const app = stateFrom(find('client', 'derive write traffic keys for application data'));
    for (const action of ['send application_data record', 'send alert record']) {
      const s = find('client', action);
      expect(toHex(decryptRecord(app, ...split(hex(s, 'complete record'))).content)).toBe(toHex(hex(s, 'payload')));
    }
  });

  it('rejects the server handshake record with one byte flipped', () => {
    const record = hex(find('server', 'send handshake record', 1), 'complete record').slice();
    record[300] = record[300]! ^ 0x80;
    const rx = stateFrom(find('server', 'derive write traffic keys for handshake data'));
    expect(codeOf(() => decryptRecord(rx, ...split(record)))).toBe('decrypt-failed');
    expect(rx.seq).toBe(0n);
  });
});

// ---------------------------------------------------------------------------------------------
// The Illustrated TLS 1.3 Connection: TLS_AES_256_GCM_SHA384 over x25519, with every record and
// its plaintext published separately, and an NSS key log.

const CAPS = 'illustrated-tls13/captures/caps';

describe.skipIf(!hasCorpusFile(CAPS))(
  'Illustrated TLS 1.3 trace (AES-256-GCM, SHA-384; skipped without ../shared/corpus)',
  () => {
    const cap = (name: string): Uint8Array => new Uint8Array(readCorpus(`${CAPS}/${name}`));
    const H: HashName = 'sha384';
    const SUITE = 0x1302;

    /** Handshake messages, without record headers or the inner content type byte. */
    const msg = {
      clientHello: (): Uint8Array => cap('clienthello').subarray(5),
      serverHello: (): Uint8Array => cap('serverhello').subarray(5),
      inner: (name: string): Uint8Array => cap(name).subarray(0, -1),
    };

    function secrets() {
      const pem = (f: string): string => readFileSync(corpusPath(`illustrated-tls13/site/files/${f}`), 'utf8');
      const clientPriv = createPrivateKey(pem('client-ephemeral-private.key'));
      const serverPub = createPublicKey(pem('server-ephemeral-public.key'));
      const shared = new Uint8Array(diffieHellman({ privateKey: clientPriv, publicKey: serverPub }));
      // The same secret through our key share, from the raw private scalar (JWK "d").
      const d = Buffer.from(clientPriv.export({ format: 'jwk' }).d!, 'base64url');
      const x = Buffer.from(serverPub.export({ format: 'jwk' }).x!, 'base64url');
      expect(toHex(keyShareFromPrivateKey(0x001d, d).computeSecret(x))).toBe(toHex(shared));
      const helloHash = transcriptHash(H, [msg.clientHello(), msg.serverHello()]);
      return handshakeSecrets(H, shared, helloHash);
    }

    const keylog = () => parseKeyLog(readFileSync(corpusPath('illustrated-tls13/captures/keylog.txt'), 'utf8'));
    const clientRandom = (): Uint8Array => msg.clientHello().subarray(6, 38);

    it('negotiated TLS_AES_256_GCM_SHA384, which uses SHA-384', () => {
      const sh = msg.serverHello();
      const sessionIdLength = sh[4 + 2 + 32]!;
      const at = 4 + 2 + 32 + 1 + sessionIdLength;
      expect((sh[at]! << 8) | sh[at + 1]!).toBe(SUITE);
      expect(hashForSuite(SUITE)).toBe(H);
    });

    it('derives the handshake traffic secrets of the key log from the ephemeral keys', () => {
      const hs = secrets();
      const log = keylog();
      expect(log.errors).toEqual([]);
      expect(toHex(hs.serverHandshakeTrafficSecret)).toBe(
        toHex(log.lookup(clientRandom(), 'SERVER_HANDSHAKE_TRAFFIC_SECRET')!),
      );
      expect(toHex(hs.clientHandshakeTrafficSecret)).toBe(
        toHex(log.lookup(clientRandom(), 'CLIENT_HANDSHAKE_TRAFFIC_SECRET')!),
      );
    });

    it('decrypts the server flight to the published plaintexts and encrypts it back', () => {
      const hs = secrets();
      const rx = newProtectionState(SUITE, trafficKeys(H, SUITE, hs.serverHandshakeTrafficSecret));
      for (const [enc, plain] of [
        ['serverencextensions', 'serverextensions'],
        ['serverenccert', 'servercert'],
        ['serverenccertverify', 'servercertverify'],
        ['serverencfinished', 'serverfinished'],
      ] as const) {
        const seq = rx.seq;
        const out = decryptRecord(rx, ...split(cap(enc)));
        expect(toHex(out.content) + out.contentType.toString(16)).toBe(toHex(cap(plain)));
        const tx = newProtectionState(SUITE, trafficKeys(H, SUITE, hs.serverHandshakeTrafficSecret));
        tx.seq = seq;
        expect(toHex(encryptRecord(tx, out.contentType, out.content, out.paddingLength))).toBe(toHex(cap(enc)));
      }
      expect(rx.seq).toBe(4n);
    });

    it('checks both Finished messages and derives the application secrets of the key log', () => {
      const hs = secrets();
      const flight = ['serverextensions', 'servercert', 'servercertverify'].map(msg.inner);
      const upToCv = [msg.clientHello(), msg.serverHello(), ...flight];
      const serverFinished = msg.inner('serverfinished');
      expect(toHex(finishedVerifyData(H, hs.serverHandshakeTrafficSecret, transcriptHash(H, upToCv)))).toBe(
        toHex(serverFinished.subarray(4)),
      );
      const upToServerFinished = [...upToCv, serverFinished];
      const clientFinished = msg.inner('clientfinished');
      expect(toHex(finishedVerifyData(H, hs.clientHandshakeTrafficSecret, transcriptHash(H, upToServerFinished)))).toBe(
        toHex(clientFinished.subarray(4)),
      );
      const app = applicationSecrets(H, hs.masterSecret, transcriptHash(H, upToServerFinished));
      const log = keylog();
      expect(toHex(app.serverApplicationTrafficSecret)).toBe(
        toHex(log.lookup(clientRandom(), 'SERVER_TRAFFIC_SECRET_0')!),
      );
      expect(toHex(app.clientApplicationTrafficSecret)).toBe(
        toHex(log.lookup(clientRandom(), 'CLIENT_TRAFFIC_SECRET_0')!),
      );
      expect(toHex(app.exporterMasterSecret)).toBe(toHex(log.lookup(clientRandom(), 'EXPORTER_SECRET')!));
    });

    it('decrypts the tickets, "ping" and "pong" with the application keys', () => {
      const log = keylog();
      const server = newProtectionState(
        SUITE,
        trafficKeys(H, SUITE, log.lookup(clientRandom(), 'SERVER_TRAFFIC_SECRET_0')!),
      );
      for (const [enc, plain] of [
        ['serverencticket1', 'serverticket1'],
        ['serverencticket2', 'serverticket2'],
        ['serverencdata', 'serverdata'],
      ] as const) {
        const out = decryptRecord(server, ...split(cap(enc)));
        expect(toHex(out.content) + out.contentType.toString(16)).toBe(toHex(cap(plain)));
      }
      const clientHs = newProtectionState(
        SUITE,
        trafficKeys(H, SUITE, log.lookup(clientRandom(), 'CLIENT_HANDSHAKE_TRAFFIC_SECRET')!),
      );
      expect(toHex(decryptRecord(clientHs, ...split(cap('clientencfinished'))).content)).toBe(
        toHex(msg.inner('clientfinished')),
      );
      const client = newProtectionState(
        SUITE,
        trafficKeys(H, SUITE, log.lookup(clientRandom(), 'CLIENT_TRAFFIC_SECRET_0')!),
      );
      expect(Buffer.from(decryptRecord(client, ...split(cap('clientencdata'))).content).toString()).toBe('ping');
    });
  },
);

// ---------------------------------------------------------------------------------------------
// Live sessions between node:tls (OpenSSL) peers on loopback, recorded by a relay in between; the
// client's `keylog` event gives the secrets. OpenSSL is the oracle for every suite, CCM included.

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

interface Session {
  readonly clientToServer: Uint8Array;
  readonly serverToClient: Uint8Array;
  readonly keylog: string;
  readonly exported: Uint8Array;
  readonly sent: Uint8Array;
}

const EXPORTER_LABEL = 'EXPERIMENTAL tlsprobe test';
const EXPORTER_CONTEXT = Buffer.from('context value');

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function recordSession(suite: string, key: Buffer, cert: Buffer, sent: Buffer): Promise<Session> {
  const tlsServer = tlsCreateServer({ key, cert, minVersion: 'TLSv1.3', ciphers: suite }, (s) => {
    let got = 0;
    s.on('data', (d: Buffer) => {
      got += d.length;
      s.write(d);
      if (got >= sent.length) s.end();
    });
    s.on('error', () => {});
  });
  const tlsPort = await listen(tlsServer);
  const c2s: Buffer[] = [];
  const s2c: Buffer[] = [];
  let relayClosed!: () => void;
  const relayDone = new Promise<void>((r) => (relayClosed = r));
  const relay = createServer((down) => {
    const up = netConnect(tlsPort, '127.0.0.1');
    let open = 2;
    const closed = (): void => {
      if (--open === 0) relayClosed();
    };
    down.on('data', (d: Buffer) => {
      c2s.push(d);
      up.write(d);
    });
    up.on('data', (d: Buffer) => {
      s2c.push(d);
      down.write(d);
    });
    down.on('end', () => up.end());
    up.on('end', () => down.end());
    down.on('close', closed);
    up.on('close', closed);
    down.on('error', () => {});
    up.on('error', () => {});
  });
  const relayPort = await listen(relay);
  try {
    const lines: string[] = [];
    let exported: Buffer | undefined;
    await new Promise<void>((resolve, reject) => {
      const c: TLSSocket = tlsConnect({
        host: '127.0.0.1',
        port: relayPort,
        rejectUnauthorized: false,
        ciphers: suite,
        minVersion: 'TLSv1.3',
      });
      c.on('keylog', (line: Buffer) => lines.push(line.toString()));
      c.on('secureConnect', () => {
        exported = c.exportKeyingMaterial(32, EXPORTER_LABEL, EXPORTER_CONTEXT);
        c.write(sent);
      });
      c.on('data', () => {});
      c.on('end', () => c.end());
      c.on('close', () => resolve());
      c.on('error', reject);
    });
    await relayDone;
    return {
      clientToServer: new Uint8Array(Buffer.concat(c2s)),
      serverToClient: new Uint8Array(Buffer.concat(s2c)),
      keylog: lines.join(''),
      exported: new Uint8Array(exported!),
      sent: new Uint8Array(sent),
    };
  } finally {
    relay.close();
    tlsServer.close();
  }
}

/** Splits a byte stream into TLSPlaintext/TLSCiphertext records (type, header, body). */
function records(stream: Uint8Array): { type: number; header: Uint8Array; body: Uint8Array; whole: Uint8Array }[] {
  const out = [];
  for (let o = 0; o < stream.length; ) {
    const n = (stream[o + 3]! << 8) | stream[o + 4]!;
    out.push({
      type: stream[o]!,
      header: stream.subarray(o, o + 5),
      body: stream.subarray(o + 5, o + 5 + n),
      whole: stream.subarray(o, o + 5 + n),
    });
    o += 5 + n;
  }
  return out;
}

/** Pulls whole handshake messages (4-byte header + body) off the front of `buf`. */
function takeMessages(buf: { bytes: Uint8Array }): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (;;) {
    const b = buf.bytes;
    if (b.length < 4) return out;
    const n = 4 + ((b[1]! << 16) | (b[2]! << 8) | b[3]!);
    if (b.length < n) return out;
    out.push(b.slice(0, n));
    buf.bytes = b.subarray(n);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

describe.skipIf(!hasOpenssl)(
  'records of live node:tls sessions (skipped when openssl is missing to make a certificate)',
  () => {
    let dir = '';
    let key = Buffer.alloc(0);
    let cert = Buffer.alloc(0);

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'tlsprobe-prot-'));
      const r = spawnSync('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
      ]);
      if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr.toString()}`);
      key = readFileSync(join(dir, 'key.pem'));
      cert = readFileSync(join(dir, 'cert.pem'));
    });

    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it.each(SUITES)('decrypts every record of a $name session and matches OpenSSL', async ({ name, value }) => {
      // 40 000 bytes force several full-size records each way.
      const sent = randomBytes(40_000);
      const session = await recordSession(name, key, cert, sent);
      const log = parseKeyLog(session.keylog);
      expect(log.errors).toEqual([]);

      const c2s = records(session.clientToServer);
      const s2c = records(session.serverToClient);
      expect(c2s[0]!.type).toBe(22);
      expect(s2c[0]!.type).toBe(22);
      const clientHello = c2s[0]!.body; // OpenSSL sends the ClientHello in one record
      const serverHello = s2c[0]!.body;
      const random = clientHello.subarray(6, 38);
      const sidLength = serverHello[4 + 2 + 32]!;
      const suiteAt = 4 + 2 + 32 + 1 + sidLength;
      expect((serverHello[suiteAt]! << 8) | serverHello[suiteAt + 1]!).toBe(value);
      const hash = hashForSuite(value)!;
      const secret = (label: string): Uint8Array => {
        const s = log.lookup(random, label);
        if (!s) throw new Error(`key log has no ${label}`);
        return s;
      };
      const state = (label: string): ProtectionState =>
        newProtectionState(value, trafficKeys(hash, value, secret(label)));

      const transcript: Uint8Array[] = [clientHello, serverHello];
      /** Decrypts one direction: handshake keys until that side's Finished, then application keys. */
      const walk = (
        recs: ReturnType<typeof records>,
        hsLabel: string,
        appLabel: string,
        onFinished: (m: Uint8Array) => void,
      ): Uint8Array => {
        let current = state(hsLabel);
        let inHandshake = true;
        const pending: { bytes: Uint8Array } = { bytes: new Uint8Array(0) };
        const appData: Uint8Array[] = [];
        for (const r of recs.slice(1)) {
          if (r.type === 20) continue; // middlebox-compatibility change_cipher_spec
          expect(r.type).toBe(23);
          const seq = current.seq;
          const plain = decryptRecord(current, r.header, r.body);
          const again = { ...current, seq };
          expect(toHex(encryptRecord(again, plain.contentType, plain.content, plain.paddingLength))).toBe(
            toHex(r.whole),
          );
          if (plain.contentType === 23) appData.push(plain.content);
          if (plain.contentType !== 22 || !inHandshake) continue;
          pending.bytes = concat([pending.bytes, plain.content]);
          for (const m of takeMessages(pending)) {
            if (m[0] === 20) {
              onFinished(m);
              current = state(appLabel);
              inHandshake = false;
            }
            transcript.push(m);
          }
        }
        return concat(appData);
      };

      let serverFinishedChecked = false;
      const fromServer = walk(s2c, 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0', (fin) => {
        const expected = finishedVerifyData(
          hash,
          secret('SERVER_HANDSHAKE_TRAFFIC_SECRET'),
          transcriptHash(hash, transcript),
        );
        expect(toHex(fin.subarray(4))).toBe(toHex(expected));
        serverFinishedChecked = true;
      });
      let clientFinishedChecked = false;
      const fromClient = walk(c2s, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', (fin) => {
        // The server's flight is already in the transcript: the client's Finished covers it.
        const expected = finishedVerifyData(
          hash,
          secret('CLIENT_HANDSHAKE_TRAFFIC_SECRET'),
          transcriptHash(hash, transcript),
        );
        expect(toHex(fin.subarray(4))).toBe(toHex(expected));
        clientFinishedChecked = true;
      });
      expect(serverFinishedChecked && clientFinishedChecked).toBe(true);
      expect(toHex(fromClient)).toBe(toHex(session.sent));
      expect(toHex(fromServer)).toBe(toHex(session.sent));

      // RFC 8446, Section 7.5, against OpenSSL's SSL_export_keying_material.
      const exported = exportKeyingMaterial(hash, secret('EXPORTER_SECRET'), EXPORTER_LABEL, EXPORTER_CONTEXT, 32);
      expect(toHex(exported)).toBe(toHex(session.exported));
    });
  },
);
