import { spawnSync } from 'node:child_process';
import { createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, hkdfSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SUPPORTED_KEY_SHARE_GROUPS,
  applicationSecrets,
  binderKey,
  deriveSecret,
  digestBytes,
  earlySecret,
  earlySecrets,
  finishedVerifyData,
  generateKeyShare,
  handshakeSecrets,
  hashForSuite,
  hkdfExpand,
  hkdfExpandLabel,
  hkdfExtract,
  hkdfLabel,
  keyShareFromPrivateKey,
  messageHash,
  resumptionMasterSecret,
  resumptionPsk,
  trafficKeys,
  transcriptHash,
  type HashName,
  type KeyShareKeyPair,
} from '../../src/tls/key-schedule.js';
import { decryptRecord, encryptRecord, newProtectionState, type ProtectionState } from '../../src/tls/protection.js';
import { DecodeError, EncodeError } from '../../src/wire/errors.js';
import { fromHex, toHex } from '../../src/wire/hex.js';
import { hasCorpusFile, readCorpusJson } from '../helpers/corpus.js';
import { Rng } from '../helpers/random.js';

// ---------------------------------------------------------------------------------------------
// RFC 8448 traces, as parsed into the corpus (see the file's `_note`).

interface TraceItem {
  readonly label: string;
  readonly octets: number | null;
  readonly hex?: string;
  readonly text?: string;
}
interface TraceStep {
  readonly actor: 'client' | 'server';
  readonly action: string;
  readonly items: readonly TraceItem[];
}
interface TraceSection {
  readonly section: number;
  readonly title: string;
  readonly steps: readonly TraceStep[];
}

const RFC8448 = 'rfc8448/rfc8448-traces.parsed.json';
const haveTraces = hasCorpusFile(RFC8448);
const sections: readonly TraceSection[] = haveTraces
  ? readCorpusJson<{ sections: TraceSection[] }>(RFC8448).sections
  : [];

function section(n: number): TraceSection {
  const s = sections.find((x) => x.section === n);
  if (!s) throw new Error(`RFC 8448 section ${n} missing from the corpus`);
  return s;
}

function item(step: TraceStep, label: string): Uint8Array {
  const it = step.items.find((i) => i.label === label);
  if (!it || it.hex === undefined) throw new Error(`step "${step.action}" has no hex item "${label}"`);
  return fromHex(it.hex);
}

/** The first step (with values) whose action starts with `prefix`, optionally for one actor. */
function step(sec: TraceSection, prefix: string, actor?: 'client' | 'server'): TraceStep {
  const s = sec.steps.find((x) => x.items.length > 0 && x.action.startsWith(prefix) && (!actor || x.actor === actor));
  if (!s) throw new Error(`section ${sec.section} has no step "${prefix}"`);
  return s;
}

interface Message {
  readonly actor: 'client' | 'server';
  readonly type: number;
  readonly bytes: Uint8Array;
}

/**
 * The handshake messages of a section in the order they are sent. Where the RFC prints a truncated
 * ClientHello (the PSK binder computation of Section 4), the full message comes from the record.
 */
function handshakeMessages(sec: TraceSection): Message[] {
  const out: Message[] = [];
  sec.steps.forEach((s, i) => {
    const m = /^construct an? (\S+) handshake message/.exec(s.action);
    if (!m || s.items.length === 0) return;
    let bytes = item(s, m[1]!);
    const declared = 4 + ((bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!);
    if (bytes.byteLength < declared) {
      const send = sec.steps
        .slice(i + 1)
        .find((x) => x.actor === s.actor && x.action.startsWith('send handshake record'));
      bytes = item(send!, 'payload').subarray(0, declared);
    }
    expect(bytes.byteLength).toBe(declared);
    out.push({ actor: s.actor, type: bytes[0]!, bytes });
  });
  return out;
}

const GROUP_BY_NAME: Readonly<Record<string, number>> = { x25519: 0x001d, 'P-256': 0x0017 };

interface Trace {
  readonly sec: TraceSection;
  readonly messages: readonly Message[];
  /** Transcript messages, with ClientHello1 replaced by message_hash after a HelloRetryRequest. */
  readonly transcript: readonly Uint8Array[];
  readonly serverHelloIndex: number;
  readonly serverFinishedIndex: number;
  readonly clientFinishedIndex: number;
  readonly client: KeyShareKeyPair;
  readonly server: KeyShareKeyPair;
  readonly clientPublic: Uint8Array;
  readonly serverPublic: Uint8Array;
  readonly psk: Uint8Array | undefined;
}

const H: HashName = 'sha256'; // every RFC 8448 trace negotiates TLS_AES_128_GCM_SHA256
const SUITE = 0x1301;

function hashUpTo(t: Trace, endExclusive: number): Uint8Array {
  return transcriptHash(H, t.transcript.slice(0, endExclusive));
}

function loadTrace(n: number, psk?: Uint8Array): Trace {
  const sec = section(n);
  const messages = handshakeMessages(sec);
  const transcript = messages.map((m) => m.bytes);
  const clientHellos = messages.filter((m) => m.type === 1);
  if (clientHellos.length === 2) transcript[0] = messageHash(H, clientHellos[0]!.bytes); // RFC 8446, 4.4.1
  const lastIndex = (pred: (m: Message) => boolean): number => messages.map(pred).lastIndexOf(true);
  const pairs = sec.steps.filter((s) => /^create an ephemeral \S+ key pair/.test(s.action) && s.items.length > 0);
  const lastPair = (actor: 'client' | 'server'): TraceStep => pairs.filter((s) => s.actor === actor).at(-1)!;
  const keyPair = (s: TraceStep): KeyShareKeyPair => {
    const group = GROUP_BY_NAME[/^create an ephemeral (\S+) key pair/.exec(s.action)![1]!]!;
    return keyShareFromPrivateKey(group, item(s, 'private key'));
  };
  return {
    sec,
    messages,
    transcript,
    serverHelloIndex: lastIndex((m) => m.type === 2),
    serverFinishedIndex: messages.findIndex((m) => m.type === 20 && m.actor === 'server'),
    clientFinishedIndex: lastIndex((m) => m.type === 20 && m.actor === 'client'),
    client: keyPair(lastPair('client')),
    server: keyPair(lastPair('server')),
    clientPublic: item(lastPair('client'), 'public key'),
    serverPublic: item(lastPair('server'), 'public key'),
    psk,
  };
}

/** The resumption PSK that Section 3's NewSessionTicket establishes, computed from Section 3. */
function section3Psk(): Uint8Array {
  const t = loadTrace(3);
  const shared = t.client.computeSecret(t.serverPublic);
  const hs = handshakeSecrets(H, shared, hashUpTo(t, t.serverHelloIndex + 1));
  const res = resumptionMasterSecret(H, hs.masterSecret, hashUpTo(t, t.clientFinishedIndex + 1));
  const nst = t.messages.find((m) => m.type === 4)!.bytes;
  // NewSessionTicket: type(1) length(3) ticket_lifetime(4) ticket_age_add(4) ticket_nonce<0..255>
  const nonce = nst.subarray(13, 13 + nst[12]!);
  return resumptionPsk(H, res, nonce);
}

// ---------------------------------------------------------------------------------------------

describe('hkdfExtract / hkdfExpand', () => {
  // RFC 5869, Appendix A.1 (Test Case 1, SHA-256).
  it('reproduces RFC 5869 test case 1', () => {
    const prk = hkdfExtract('sha256', fromHex('000102030405060708090a0b0c'), new Uint8Array(22).fill(0x0b));
    expect(toHex(prk)).toBe('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
    expect(toHex(hkdfExpand('sha256', prk, fromHex('f0f1f2f3f4f5f6f7f8f9'), 42))).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  // RFC 5869, Appendix A.3 (Test Case 3: zero-length salt and info).
  it('treats an empty salt as HashLen zeros (RFC 5869 test case 3)', () => {
    const prk = hkdfExtract('sha256', new Uint8Array(0), new Uint8Array(22).fill(0x0b));
    expect(toHex(prk)).toBe('19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04');
    expect(toHex(hkdfExpand('sha256', prk, new Uint8Array(0), 42))).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });

  it('agrees with node:crypto hkdfSync for random inputs and lengths', () => {
    const rng = new Rng(8446);
    for (const hash of ['sha256', 'sha384'] as const) {
      for (let i = 0; i < 40; i++) {
        const salt = rng.bytes(1 + rng.int(64));
        const ikm = rng.bytes(rng.int(80));
        const info = rng.bytes(rng.int(100));
        const length = 1 + rng.int(300);
        const expected = new Uint8Array(hkdfSync(hash, ikm, salt, info, length));
        expect(toHex(hkdfExpand(hash, hkdfExtract(hash, salt, ikm), info, length))).toBe(toHex(expected));
      }
    }
  });

  it('rejects an output longer than 255 blocks', () => {
    expect(() => hkdfExpand('sha256', new Uint8Array(32), new Uint8Array(0), 255 * 32 + 1)).toThrow(TypeError);
    expect(hkdfExpand('sha256', new Uint8Array(32), new Uint8Array(0), 255 * 32)).toHaveLength(255 * 32);
  });
});

describe('hkdfLabel', () => {
  it('rejects an empty label', () => {
    expect(() => hkdfLabel('', new Uint8Array(0), 32)).toThrow(TypeError);
  });

  it('rejects a context longer than 255 bytes', () => {
    expect(() => hkdfLabel('key', new Uint8Array(256), 16)).toThrow(EncodeError);
  });

  it('rejects a label longer than 255 bytes with its prefix, and a length beyond 16 bits', () => {
    expect(() => hkdfLabel('x'.repeat(250), new Uint8Array(0), 16)).toThrow(EncodeError);
    expect(() => hkdfLabel('key', new Uint8Array(0), 0x10000)).toThrow(EncodeError);
  });

  it('lays out length, "tls13 " + label in UTF-8 and context, each after its length (RFC 8446, Section 7.1)', () => {
    const context = Uint8Array.from({ length: 255 }, (_, i) => i);
    for (const label of ['key', 'c hs traffic', 'exporter é', 'x'.repeat(249)]) {
      const full = Buffer.from(`tls13 ${label}`, 'utf8');
      const want = Buffer.concat([
        Buffer.from([0x01, 0x02, full.length]),
        full,
        Buffer.from([context.length]),
        context,
      ]);
      const got = hkdfLabel(label, context, 0x0102);
      expect(toHex(got)).toBe(want.toString('hex'));
      // Each call returns bytes of its own, even for a label seen before.
      got.fill(0);
      expect(toHex(hkdfLabel(label, context, 0x0102))).toBe(want.toString('hex'));
    }
  });
});

describe('digestBytes', () => {
  it('returns the digest() bytes of HMACs and hashes, every byte value included', () => {
    const rng = new Rng(31);
    for (let i = 0; i < 200; i++) {
      const key = rng.bytes(1 + rng.int(64));
      const data = rng.bytes(rng.int(300));
      for (const hash of ['md5', 'sha1', 'sha256', 'sha384'] as const) {
        expect(toHex(digestBytes(createHmac(hash, key).update(data)))).toBe(
          createHmac(hash, key).update(data).digest('hex'),
        );
        expect(toHex(digestBytes(createHash(hash).update(data)))).toBe(createHash(hash).update(data).digest('hex'));
      }
    }
  });
});

describe('transcriptHash', () => {
  it('hashes no messages to Hash("")', () => {
    // SHA-256("") as RFC 8448 prints it for every "tls13 derived" step.
    expect(toHex(transcriptHash('sha256', []))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('hashes the concatenation, not the messages one by one', () => {
    const a = fromHex('0100000101');
    const b = fromHex('02000000');
    expect(toHex(transcriptHash('sha384', [a, b]))).toBe(
      toHex(transcriptHash('sha384', [fromHex('010000010102000000')])),
    );
  });
});

describe('hashForSuite', () => {
  it('maps the five TLS 1.3 suites to their hash and rejects others', () => {
    expect(hashForSuite(0x1301)).toBe('sha256');
    expect(hashForSuite(0x1302)).toBe('sha384');
    expect(hashForSuite(0x1303)).toBe('sha256');
    expect(hashForSuite(0x1304)).toBe('sha256');
    expect(hashForSuite(0x1305)).toBe('sha256');
    expect(hashForSuite(0xc02f)).toBeNull();
  });
});

describe('trafficKeys', () => {
  it('sizes the key for the suite and the IV at 12 bytes', () => {
    const secret = new Uint8Array(48).fill(7);
    expect(trafficKeys('sha256', 0x1301, secret.subarray(0, 32)).key).toHaveLength(16);
    expect(trafficKeys('sha384', 0x1302, secret).key).toHaveLength(32);
    expect(trafficKeys('sha256', 0x1303, secret.subarray(0, 32)).key).toHaveLength(32);
    expect(trafficKeys('sha256', 0x1304, secret.subarray(0, 32)).iv).toHaveLength(12);
  });

  it('rejects a suite that is not TLS 1.3 or does not use the hash', () => {
    expect(() => trafficKeys('sha256', 0xc02f, new Uint8Array(32))).toThrow(TypeError);
    expect(() => trafficKeys('sha256', 0x1302, new Uint8Array(32))).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------

// Skips when ../shared/corpus is absent (see test/helpers/corpus.ts).
describe.skipIf(!haveTraces)('RFC 8448 traces', () => {
  it('lists the five handshake sections this test walks', () => {
    expect(sections.map((s) => s.section)).toEqual(expect.arrayContaining([3, 4, 5, 6, 7]));
  });

  describe.each([
    { n: 3, title: 'Simple 1-RTT Handshake' },
    { n: 4, title: 'Resumed 0-RTT Handshake' },
    { n: 5, title: 'HelloRetryRequest' },
    { n: 6, title: 'Client Authentication' },
    { n: 7, title: 'Compatibility Mode' },
  ])('section $n ($title)', ({ n, title }) => {
    const trace = (): Trace => loadTrace(n, n === 4 ? section3Psk() : undefined);

    it('is the section the test expects', () => {
      expect(section(n).title).toBe(title);
    });

    it('derives the RFC public keys and shared secret from the private keys', () => {
      const t = trace();
      expect(toHex(t.client.publicKey)).toBe(toHex(t.clientPublic));
      expect(toHex(t.server.publicKey)).toBe(toHex(t.serverPublic));
      const shared = item(step(t.sec, 'extract secret "handshake"'), 'IKM');
      expect(toHex(t.client.computeSecret(t.serverPublic))).toBe(toHex(shared));
      expect(toHex(t.server.computeSecret(t.clientPublic))).toBe(toHex(shared));
    });

    it('reproduces every HKDF-Expand-Label step, label encoding included', () => {
      const t = trace();
      let checked = 0;
      for (const s of t.sec.steps) {
        const label = /"tls13 ([^"]+)"/.exec(s.action)?.[1];
        if (s.items.some((i) => i.label === 'key info')) {
          const prk = item(s, 'PRK');
          const keys = trafficKeys(H, SUITE, prk);
          expect(toHex(hkdfLabel('key', new Uint8Array(0), 16))).toBe(toHex(item(s, 'key info')));
          expect(toHex(hkdfLabel('iv', new Uint8Array(0), 12))).toBe(toHex(item(s, 'iv info')));
          expect(toHex(keys.key)).toBe(toHex(item(s, 'key expanded')));
          expect(toHex(keys.iv)).toBe(toHex(item(s, 'iv expanded')));
          checked++;
        } else if (label && s.items.some((i) => i.label === 'info')) {
          const prk = item(s, 'PRK');
          const context = item(s, 'hash');
          const expanded = item(s, 'expanded');
          expect(toHex(hkdfLabel(label, context, expanded.byteLength))).toBe(toHex(item(s, 'info')));
          expect(toHex(hkdfExpandLabel(H, prk, label, context, expanded.byteLength))).toBe(toHex(expanded));
          if (expanded.byteLength === 32 && label !== 'finished') {
            expect(toHex(deriveSecret(H, prk, label, context))).toBe(toHex(expanded));
          }
          checked++;
        } else if (s.action.startsWith('extract secret') && s.items.some((i) => i.label === 'secret')) {
          const salt = s.items.find((i) => i.label === 'salt')!;
          const saltBytes = salt.hex === undefined ? new Uint8Array(0) : fromHex(salt.hex); // "0 (all zero octets)"
          expect(toHex(hkdfExtract(H, saltBytes, item(s, 'IKM')))).toBe(toHex(item(s, 'secret')));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(15);
    });

    it('hashes the transcript to the RFC values at ServerHello, server Finished and client Finished', () => {
      const t = trace();
      expect(toHex(hashUpTo(t, t.serverHelloIndex + 1))).toBe(
        toHex(item(step(t.sec, 'derive secret "tls13 c hs traffic"'), 'hash')),
      );
      expect(toHex(hashUpTo(t, t.serverFinishedIndex + 1))).toBe(
        toHex(item(step(t.sec, 'derive secret "tls13 c ap traffic"'), 'hash')),
      );
      expect(toHex(hashUpTo(t, t.clientFinishedIndex + 1))).toBe(
        toHex(item(step(t.sec, 'derive secret "tls13 res master"'), 'hash')),
      );
    });

    it('computes the key schedule from the shared secret alone', () => {
      const t = trace();
      const hs = handshakeSecrets(
        H,
        t.client.computeSecret(t.serverPublic),
        hashUpTo(t, t.serverHelloIndex + 1),
        t.psk,
      );
      expect(toHex(hs.earlySecret)).toBe(toHex(item(step(t.sec, 'extract secret "early"'), 'secret')));
      expect(toHex(hs.handshakeSecret)).toBe(toHex(item(step(t.sec, 'extract secret "handshake"'), 'secret')));
      expect(toHex(hs.clientHandshakeTrafficSecret)).toBe(
        toHex(item(step(t.sec, 'derive secret "tls13 c hs traffic"'), 'expanded')),
      );
      expect(toHex(hs.serverHandshakeTrafficSecret)).toBe(
        toHex(item(step(t.sec, 'derive secret "tls13 s hs traffic"'), 'expanded')),
      );
      expect(toHex(hs.masterSecret)).toBe(toHex(item(step(t.sec, 'extract secret "master"'), 'secret')));

      const app = applicationSecrets(H, hs.masterSecret, hashUpTo(t, t.serverFinishedIndex + 1));
      expect(toHex(app.clientApplicationTrafficSecret)).toBe(
        toHex(item(step(t.sec, 'derive secret "tls13 c ap traffic"'), 'expanded')),
      );
      expect(toHex(app.serverApplicationTrafficSecret)).toBe(
        toHex(item(step(t.sec, 'derive secret "tls13 s ap traffic"'), 'expanded')),
      );
      expect(toHex(app.exporterMasterSecret)).toBe(
        toHex(item(step(t.sec, 'derive secret "tls13 exp master"'), 'expanded')),
      );

      const res = resumptionMasterSecret(H, hs.masterSecret, hashUpTo(t, t.clientFinishedIndex + 1));
      expect(toHex(res)).toBe(toHex(item(step(t.sec, 'derive secret "tls13 res master"'), 'expanded')));
    });

    it('computes both Finished messages', () => {
      const t = trace();
      const hs = handshakeSecrets(
        H,
        t.client.computeSecret(t.serverPublic),
        hashUpTo(t, t.serverHelloIndex + 1),
        t.psk,
      );
      const serverFinished = finishedVerifyData(H, hs.serverHandshakeTrafficSecret, hashUpTo(t, t.serverFinishedIndex));
      const clientFinished = finishedVerifyData(H, hs.clientHandshakeTrafficSecret, hashUpTo(t, t.clientFinishedIndex));
      expect(toHex(serverFinished)).toBe(
        toHex(item(step(t.sec, 'calculate finished "tls13 finished"', 'server'), 'finished')),
      );
      expect(toHex(clientFinished)).toBe(
        toHex(item(step(t.sec, 'calculate finished "tls13 finished"', 'client'), 'finished')),
      );
      expect(toHex(serverFinished)).toBe(toHex(t.messages[t.serverFinishedIndex]!.bytes.subarray(4)));
      expect(toHex(clientFinished)).toBe(toHex(t.messages[t.clientFinishedIndex]!.bytes.subarray(4)));
    });

    it('decrypts every protected record to the RFC plaintext and encrypts it back byte for byte', () => {
      const t = trace();
      const hs = handshakeSecrets(
        H,
        t.client.computeSecret(t.serverPublic),
        hashUpTo(t, t.serverHelloIndex + 1),
        t.psk,
      );
      const app = applicationSecrets(H, hs.masterSecret, hashUpTo(t, t.serverFinishedIndex + 1));
      const state = (secret: Uint8Array): ProtectionState => newProtectionState(SUITE, trafficKeys(H, SUITE, secret));
      const epochs: Record<'client' | 'server', ProtectionState[]> = {
        client: [state(hs.clientHandshakeTrafficSecret), state(app.clientApplicationTrafficSecret)],
        server: [state(hs.serverHandshakeTrafficSecret), state(app.serverApplicationTrafficSecret)],
      };
      if (t.psk) {
        const fullClientHello = t.messages[0]!.bytes;
        const early = earlySecrets(H, earlySecret(H, t.psk), transcriptHash(H, [fullClientHello]));
        epochs.client.unshift(state(early.clientEarlyTrafficSecret));
      }
      const current = { client: 0, server: 0 };
      let protectedRecords = 0;
      for (const s of t.sec.steps) {
        const kind = /^send (\S+) record/.exec(s.action)?.[1];
        if (!kind || s.items.length === 0) continue;
        const record = item(s, 'complete record');
        if (record[0] !== 23) continue; // plaintext records: ClientHello, ServerHello, change_cipher_spec
        const payload = item(s, 'payload');
        const contentType = { handshake: 22, application_data: 23, alert: 21 }[kind]!;
        // The receiver moves to the next epoch when a record fails under the current one.
        let plain;
        let used: ProtectionState | undefined;
        for (;;) {
          used = epochs[s.actor][current[s.actor]];
          if (!used) throw new Error(`no epoch of the ${s.actor} decrypts "${s.action}"`);
          const seq = used.seq;
          try {
            plain = decryptRecord(used, record.subarray(0, 5), record.subarray(5));
          } catch (e) {
            expect(e).toBeInstanceOf(DecodeError);
            expect((e as DecodeError).code).toBe('decrypt-failed');
            expect(used.seq).toBe(seq);
            current[s.actor]++;
            continue;
          }
          expect(used.seq).toBe(seq + 1n);
          break;
        }
        expect(plain.contentType).toBe(contentType);
        expect(toHex(plain.content)).toBe(toHex(payload));
        const again = { ...used, seq: used.seq - 1n };
        expect(toHex(encryptRecord(again, contentType, payload, plain.paddingLength))).toBe(toHex(record));
        protectedRecords++;
      }
      // At least the server's handshake flight, the client Finished and both close_notify alerts.
      expect(protectedRecords).toBeGreaterThanOrEqual(4);
    });

    if (n === 4) {
      it('derives the PSK from Section 3 and the binder, early traffic and early exporter secrets', () => {
        const t = trace();
        const early = earlySecret(H, t.psk);
        expect(toHex(t.psk!)).toBe(toHex(item(step(t.sec, 'extract secret "early"'), 'IKM')));
        expect(toHex(early)).toBe(toHex(item(step(t.sec, 'extract secret "early"'), 'secret')));

        const binderStep = step(t.sec, 'calculate PSK binder');
        const key = binderKey(H, early, 'res');
        expect(toHex(key)).toBe(toHex(item(binderStep, 'PRK')));
        const truncatedHello = item(binderStep, 'ClientHello prefix');
        expect(toHex(transcriptHash(H, [truncatedHello]))).toBe(toHex(item(binderStep, 'binder hash')));
        const binder = finishedVerifyData(H, key, transcriptHash(H, [truncatedHello]));
        expect(toHex(binder)).toBe(toHex(item(binderStep, 'finished')));
        // The binder is the last field of the full ClientHello.
        expect(toHex(t.messages[0]!.bytes.subarray(-32))).toBe(toHex(binder));
        expect(toHex(binderKey(H, early, 'ext'))).not.toBe(toHex(key));

        const secrets = earlySecrets(H, early, transcriptHash(H, [t.messages[0]!.bytes]));
        expect(toHex(secrets.clientEarlyTrafficSecret)).toBe(
          toHex(item(step(t.sec, 'derive secret "tls13 c e traffic"'), 'expanded')),
        );
        expect(toHex(secrets.earlyExporterMasterSecret)).toBe(
          toHex(item(step(t.sec, 'derive secret "tls13 e exp master"'), 'expanded')),
        );
      });
    }

    if (n === 3) {
      it('derives the resumption PSK from the NewSessionTicket nonce', () => {
        const s = step(section(3), 'generate resumption secret "tls13 resumption"');
        expect(toHex(section3Psk())).toBe(toHex(item(s, 'expanded')));
      });
    }

    if (n === 5) {
      it('replaces ClientHello1 with a message_hash message after the HelloRetryRequest', () => {
        const t = trace();
        const ch1 = t.messages[0]!.bytes;
        const mh = messageHash(H, ch1);
        expect(toHex(mh.subarray(0, 4))).toBe('fe000020'); // message_hash(254), length 32
        expect(toHex(mh.subarray(4))).toBe(toHex(transcriptHash(H, [ch1])));
        // Without the substitution the RFC's handshake transcript hash is not reproduced.
        const plain = transcriptHash(
          H,
          t.messages.slice(0, t.serverHelloIndex + 1).map((m) => m.bytes),
        );
        expect(toHex(plain)).not.toBe(toHex(item(step(t.sec, 'derive secret "tls13 c hs traffic"'), 'hash')));
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** DER SubjectPublicKeyInfo of a raw key_exchange, built with node:crypto's JWK import. */
function spkiPem(group: number, publicKey: Uint8Array): string {
  const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  const jwk =
    group === 0x001d
      ? { kty: 'OKP', crv: 'X25519', x: b64url(publicKey) }
      : { kty: 'EC', crv: 'P-256', x: b64url(publicKey.subarray(1, 33)), y: b64url(publicKey.subarray(33)) };
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
}

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe('generateKeyShare', () => {
  it.each(SUPPORTED_KEY_SHARE_GROUPS.map((g) => ({ group: g, hex: `0x${g.toString(16).padStart(4, '0')}` })))(
    'agrees on a secret between two fresh key pairs of group $hex',
    ({ group }) => {
      const a = generateKeyShare(group);
      const b = generateKeyShare(group);
      expect(a.group).toBe(group);
      const s1 = a.computeSecret(b.publicKey);
      const s2 = b.computeSecret(a.publicKey);
      expect(toHex(s1)).toBe(toHex(s2));
      expect(toHex(a.publicKey)).not.toBe(toHex(b.publicKey));
      const expectedLength = { 0x1d: 32, 0x1e: 56, 0x17: 65, 0x18: 97, 0x19: 133 }[group];
      expect(a.publicKey).toHaveLength(expectedLength!);
      if (group >= 0x17 && group <= 0x19) expect(a.publicKey[0]).toBe(0x04);
    },
  );

  it('throws TypeError for groups it does not implement', () => {
    expect(() => generateKeyShare(0x0100)).toThrow(TypeError); // ffdhe2048
    expect(() => generateKeyShare(0x11ec)).toThrow(TypeError); // X25519MLKEM768
    expect(() => generateKeyShare(0x0a0a)).toThrow(TypeError); // GREASE
  });

  it('rejects peer keys of the wrong length or form with a typed error', () => {
    const x = generateKeyShare(0x001d);
    const p = generateKeyShare(0x0017);
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof DecodeError ? e.code : `other: ${String(e)}`;
      }
      return undefined;
    };
    expect(code(() => x.computeSecret(new Uint8Array(31)))).toBe('bad-value');
    expect(code(() => p.computeSecret(new Uint8Array(65)))).toBe('bad-value'); // legacy_form 0
    const compressed = new Uint8Array(33);
    compressed[0] = 0x02;
    expect(code(() => p.computeSecret(compressed))).toBe('bad-value');
    const offCurve = p.publicKey.slice();
    offCurve[64] = offCurve[64]! ^ 1;
    expect(code(() => p.computeSecret(offCurve))).toBe('bad-value');
    // RFC 7748, Section 6.1: the all-zero u-coordinate is a small-order point.
    expect(code(() => x.computeSecret(new Uint8Array(32)))).toBe('bad-value');
  });

  it('agrees with a key pair imported independently through JWK (RFC 8448 Section 3 keys)', () => {
    // RFC 8448, Section 3: client and server ephemeral x25519 keys.
    const clientPriv = fromHex('49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005');
    const clientPub = fromHex('99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c');
    const serverPub = fromHex('c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f');
    const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
    const priv = createPrivateKey({
      key: { kty: 'OKP', crv: 'X25519', d: b64url(clientPriv), x: b64url(clientPub) },
      format: 'jwk',
    });
    const pub = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(serverPub) }, format: 'jwk' });
    const independent = diffieHellman({ privateKey: priv, publicKey: pub });
    const ours = keyShareFromPrivateKey(0x001d, clientPriv);
    expect(toHex(ours.publicKey)).toBe(toHex(clientPub));
    expect(toHex(ours.computeSecret(serverPub))).toBe(independent.toString('hex'));
  });

  it('rejects a private key of the wrong length', () => {
    expect(() => keyShareFromPrivateKey(0x001d, new Uint8Array(31))).toThrow(TypeError);
    expect(() => keyShareFromPrivateKey(0x0018, new Uint8Array(32))).toThrow(TypeError);
  });

  describe.skipIf(!hasOpenssl)('interop with openssl (skipped when openssl is missing)', () => {
    it.each([
      { name: 'x25519', group: 0x001d, genpkey: ['-algorithm', 'X25519'], rawLength: 32 },
      {
        name: 'P-256',
        group: 0x0017,
        genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
        rawLength: 65,
      },
    ])('derives the same $name secret as openssl pkeyutl -derive', ({ group, genpkey, rawLength }) => {
      const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-ks-'));
      try {
        const privPath = join(dir, 'priv.pem');
        const run = (args: string[]): Buffer => {
          const r = spawnSync('openssl', args);
          if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr.toString()}`);
          return r.stdout;
        };
        run(['genpkey', ...genpkey, '-out', privPath]);
        const spkiDer = run(['pkey', '-in', privPath, '-pubout', '-outform', 'DER']);
        // The key_exchange form is the tail of the SubjectPublicKeyInfo BIT STRING.
        const opensslPublic = new Uint8Array(spkiDer.subarray(spkiDer.length - rawLength));
        const ours = generateKeyShare(group);
        const ourSecret = ours.computeSecret(opensslPublic);
        const peerPath = join(dir, 'peer.pem');
        writeFileSync(peerPath, spkiPem(group, ours.publicKey));
        const outPath = join(dir, 'secret.bin');
        run(['pkeyutl', '-derive', '-inkey', privPath, '-peerkey', peerPath, '-out', outPath]);
        expect(toHex(ourSecret)).toBe(readFileSync(outPath).toString('hex'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
