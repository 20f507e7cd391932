import { describe, expect, it } from 'vitest';
import { Rng } from '../helpers/random.js';
import { Reader } from '../../src/wire/reader.js';
import { Writer } from '../../src/wire/writer.js';
import { DecodeError } from '../../src/wire/errors.js';
import { type ExtensionContext, readExtension, writeExtension } from '../../src/tls/extensions.js';
import { encodeClientHello, parseClientHello } from '../../src/tls/client-hello.js';
import { encodeServerHello, parseServerHello } from '../../src/tls/server-hello.js';
import { readCertificateBody, writeCertificateBody } from '../../src/tls/certificate.js';
import { readAlert, writeAlert } from '../../src/tls/alert.js';
import { readRecord, writeRecord } from '../../src/tls/record.js';
import { encodeHandshakeMessage, parseHandshakeMessage } from '../../src/tls/handshake.js';
import {
  CLIENT_EXTENSION_KINDS,
  randomCertificateMessage,
  randomClientHello,
  randomExtension,
  randomServerHello,
} from '../helpers/tls-gen.js';

const SEED = 0x7154_2026;
const ROUNDS = 150;

/** Asserts that every strict prefix of `bytes` fails to decode with `truncated`. */
function expectEveryPrefixTruncated(bytes: Uint8Array, read: (b: Uint8Array) => unknown): void {
  for (let n = 0; n < bytes.length; n++) {
    let error: unknown = null;
    try {
      read(bytes.subarray(0, n));
    } catch (e) {
      error = e;
    }
    if (!(error instanceof DecodeError) || error.code !== 'truncated') {
      throw new Error(
        `prefix of ${n}/${bytes.length} bytes gave ${error instanceof DecodeError ? error.code : String(error)}`,
      );
    }
  }
}

function encode(fn: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  fn(w);
  return w.finish();
}

describe('extension codecs', () => {
  const contexts: ExtensionContext[] = ['client_hello', 'server_hello', 'hello_retry_request'];
  for (const kind of CLIENT_EXTENSION_KINDS) {
    it(`round-trips random ${kind} extensions and rejects every truncation`, () => {
      const rng = new Rng(SEED ^ kind.length);
      for (let i = 0; i < 40; i++) {
        const ctx = rng.pick(contexts);
        if (ctx === 'hello_retry_request' && kind !== 'key_share') continue;
        const ext = randomExtension(rng, kind, ctx);
        const bytes = encode((w) => writeExtension(w, ext, ctx));
        const read = (b: Uint8Array) => {
          const r = new Reader(b, 'ext');
          const e = readExtension(r, ctx);
          r.end();
          return e;
        };
        expect(read(bytes)).toEqual(ext);
        expectEveryPrefixTruncated(bytes, read);
      }
    });
  }

  it('keeps a known extension that does not decode as raw, with the error', () => {
    // supported_groups with an odd-length list
    const bytes = Uint8Array.from([0x00, 0x0a, 0x00, 0x03, 0x00, 0x01, 0x17]);
    const e = readExtension(new Reader(bytes, 'ClientHello/extensions'), 'client_hello');
    expect(e.kind).toBe('raw');
    if (e.kind !== 'raw') throw new Error();
    expect(e.error?.code).toBe('length-out-of-range');
    expect(e.error?.path).toBe('ClientHello/extensions/supported_groups/named_group_list');
    expect(encode((w) => writeExtension(w, e, 'client_hello'))).toEqual(bytes);
  });
});

describe('ClientHello', () => {
  it('round-trips seeded random hellos and rejects every strict prefix', () => {
    const rng = new Rng(SEED);
    for (let i = 0; i < ROUNDS; i++) {
      const ch = randomClientHello(rng);
      const bytes = encodeClientHello(ch);
      expect(parseClientHello(bytes)).toEqual(ch);
      if (i < 30) expectEveryPrefixTruncated(bytes, (b) => parseClientHello(b));
    }
  });

  it('rejects a session id longer than 32 bytes', () => {
    const ch = randomClientHello(new Rng(1));
    const bytes = encodeClientHello({ ...ch, sessionId: new Uint8Array(33) });
    expect(() => parseClientHello(bytes)).toThrow(/length 33 above maximum 32/);
  });

  it('rejects an empty cipher suite list', () => {
    const ch = randomClientHello(new Rng(2));
    const bytes = encodeClientHello({ ...ch, cipherSuites: [] });
    try {
      parseClientHello(bytes);
      expect.unreachable();
    } catch (e) {
      expect((e as DecodeError).code).toBe('length-out-of-range');
      expect((e as DecodeError).path).toBe('ClientHello/cipher_suites');
      expect((e as DecodeError).offset).toBe(4 + 2 + 32 + 1 + ch.sessionId.length);
    }
  });

  it('refuses a message that is not a ClientHello', () => {
    const bytes = encodeServerHello(randomServerHello(new Rng(3)));
    expect(() => parseClientHello(bytes)).toThrow(DecodeError);
  });
});

describe('ServerHello', () => {
  it('round-trips seeded random ServerHellos and HelloRetryRequests and rejects every strict prefix', () => {
    const rng = new Rng(SEED + 1);
    for (let i = 0; i < ROUNDS; i++) {
      const sh = randomServerHello(rng);
      const bytes = encodeServerHello(sh);
      expect(parseServerHello(bytes)).toEqual(sh);
      if (i < 30) expectEveryPrefixTruncated(bytes, (b) => parseServerHello(b));
    }
  });
});

describe('Certificate', () => {
  for (const [form, version] of [
    ['TLS 1.2', 0x0303],
    ['TLS 1.3', 0x0304],
  ] as const) {
    it(`round-trips the ${form} form and rejects every strict prefix`, () => {
      const rng = new Rng(SEED + version);
      for (let i = 0; i < 60; i++) {
        const m = randomCertificateMessage(rng, version === 0x0304);
        const bytes = encode((w) => writeCertificateBody(w, m));
        const read = (b: Uint8Array) => {
          const r = new Reader(b, 'Certificate');
          return readCertificateBody(r, version);
        };
        expect(read(bytes)).toEqual(m);
        expectEveryPrefixTruncated(bytes, read);
      }
    });
  }

  it('caps the number of certificates in one message', () => {
    const m = {
      context: null,
      entries: Array.from({ length: 101 }, () => ({ der: new Uint8Array([0x30]), extensions: null })),
    };
    const bytes = encode((w) => writeCertificateBody(w, m));
    expect(() => readCertificateBody(new Reader(bytes), 0x0303)).toThrow(/more than 100 certificates/);
  });
});

describe('Alert and record', () => {
  it('round-trips every alert and rejects truncation', () => {
    for (let level = 1; level <= 2; level++) {
      for (let d = 0; d < 256; d += 7) {
        const bytes = encode((w) => writeAlert(w, { level, description: d }));
        expect(readAlert(new Reader(bytes))).toEqual({ level, description: d });
        expectEveryPrefixTruncated(bytes, (b) => readAlert(new Reader(b)));
      }
    }
  });

  it('round-trips records and rejects every strict prefix', () => {
    const rng = new Rng(SEED + 7);
    for (let i = 0; i < 40; i++) {
      const rec = {
        type: 20 + rng.int(5),
        version: rng.pick([0x0300, 0x0301, 0x0303]),
        fragment: rng.bytes(rng.int(600)),
      };
      const bytes = encode((w) => writeRecord(w, rec));
      expect(readRecord(new Reader(bytes))).toEqual({ ...rec, offset: 0 });
      expectEveryPrefixTruncated(bytes, (b) => readRecord(new Reader(b)));
    }
  });

  it('rejects a record that claims more than 2^14 + 2048 bytes before buffering it', () => {
    const bytes = Uint8Array.from([0x16, 0x03, 0x03, 0xff, 0xff]);
    expect(() => readRecord(new Reader(bytes))).toThrow(expect.objectContaining({ code: 'too-large', offset: 3 }));
  });
});

describe('handshake dispatch', () => {
  it('re-encodes every message kind it decodes byte for byte', () => {
    const rng = new Rng(SEED + 9);
    const messages = [
      encodeClientHello(randomClientHello(rng)),
      encodeServerHello(randomServerHello(rng)),
      Uint8Array.from([14, 0, 0, 0]), // ServerHelloDone
      Uint8Array.from([20, 0, 0, 3, 1, 2, 3]), // Finished
      Uint8Array.from([15, 0, 0, 6, 0x08, 0x04, 0, 2, 0xaa, 0xbb]), // CertificateVerify
      Uint8Array.from([8, 0, 0, 2, 0, 0]), // EncryptedExtensions, empty
      Uint8Array.from([99, 0, 0, 2, 9, 9]), // unknown type
    ];
    for (const bytes of messages) {
      const m = parseHandshakeMessage(bytes);
      expect(m.raw).toEqual(bytes);
      expect(encodeHandshakeMessage(m)).toEqual(bytes);
    }
  });
});
