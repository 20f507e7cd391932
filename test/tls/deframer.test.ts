import { describe, expect, it } from 'vitest';
import { createHandshakeAssembler, createRecordDeframer } from '../../src/tls/deframer.js';
import { encodeRecords } from '../../src/tls/record.js';
import { decodeStream } from '../../src/tls/stream.js';
import { DecodeError } from '../../src/wire/errors.js';
import { concatBytes, toHex } from '../../src/wire/hex.js';
import { loadHexFixture } from '../helpers/fixtures.js';
import { Rng } from '../helpers/random.js';

/** Feeds `bytes` to a deframer + assembler in the given chunk sizes; returns the messages as hex. */
function deframe(bytes: Uint8Array, chunkSizes: (i: number) => number): { records: number; messages: string[] } {
  const d = createRecordDeframer();
  const a = createHandshakeAssembler();
  const messages: string[] = [];
  let records = 0;
  for (let o = 0, i = 0; o < bytes.length; i++) {
    const n = Math.max(1, chunkSizes(i));
    for (const rec of d.push(bytes.slice(o, o + n))) {
      records++;
      if (rec.type === 22)
        for (const m of a.push(rec.fragment, rec.offset + 5)) messages.push(`${m.offset}:${toHex(m.raw)}`);
    }
    o += n;
  }
  expect(d.pendingBytes).toBe(0);
  expect(a.pendingBytes).toBe(0);
  return { records, messages };
}

describe('record deframer and handshake assembler', () => {
  const flight = loadHexFixture('server/openssl-s_server-tls12.hex');
  // Only the clear part: ServerHello..ServerHelloDone plus the ticket (the tail after CCS is encrypted).
  const clear = flight.subarray(0, decodeStream(flight).find((i) => i.kind === 'change_cipher_spec')!.offset as number);

  it('gives the same records and messages whatever the chunking, down to one byte at a time', () => {
    const whole = deframe(clear, () => clear.length);
    expect(whole.messages.length).toBe(5);
    expect(deframe(clear, () => 1)).toEqual(whole);
    const rng = new Rng(42);
    for (let k = 0; k < 20; k++) expect(deframe(clear, () => 1 + rng.int(200))).toEqual(whole);
  });

  it('reassembles handshake messages split across records of every size', () => {
    // Re-frame the same handshake bytes into records of 1..50 bytes.
    const hs = concatBytes(...decodeStream(clear).flatMap((i) => (i.kind === 'handshake' ? [i.message.raw] : [])));
    for (const size of [1, 2, 3, 7, 50]) {
      const records = encodeRecords(22, 0x0303, hs, size);
      const { messages } = deframe(records, () => 64);
      expect(messages.map((m) => m.split(':')[1]).join('')).toBe(toHex(hs));
    }
  });

  it('reports the absolute offset of each message in the stream', () => {
    const { messages } = deframe(clear, () => 7);
    expect(messages[0]!.startsWith('5:')).toBe(true);
  });

  it('rejects a record header that announces more than the cap before buffering it', () => {
    const d = createRecordDeframer();
    expect(() => d.push(Uint8Array.from([0x16, 0x03, 0x03, 0x48, 0x01]))).toThrow(
      expect.objectContaining({ code: 'too-large' }),
    );
    // The stream cannot be resynchronised: later pushes fail the same way.
    expect(() => d.push(Uint8Array.from([0]))).toThrow(DecodeError);
  });

  it('rejects bytes that are not a TLS record (an HTTP reply)', () => {
    const d = createRecordDeframer();
    expect(() => d.push(new TextEncoder().encode('HTTP/1.1 400 Bad Request\r\n'))).toThrow(
      expect.objectContaining({ code: 'bad-value', offset: 0 }),
    );
  });

  it('rejects a handshake header that claims 16 MiB', () => {
    const a = createHandshakeAssembler();
    expect(() => a.push(Uint8Array.from([11, 0xff, 0xff, 0xff]), 5)).toThrow(
      expect.objectContaining({ code: 'too-large', offset: 6 }),
    );
  });

  it('holds an alert between fragments of one handshake message without losing either', () => {
    const hs = decodeStream(clear).flatMap((i) => (i.kind === 'handshake' ? [i.message.raw] : []))[1]!; // Certificate
    const half = hs.length >> 1;
    const bytes = concatBytes(
      encodeRecords(22, 0x0303, hs.subarray(0, half)),
      Uint8Array.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00]),
      encodeRecords(22, 0x0303, hs.subarray(half)),
    );
    const kinds = decodeStream(bytes).map((i) => (i.kind === 'handshake' ? i.message.kind : i.kind));
    expect(kinds).toEqual(['alert', 'certificate']);
  });
});

describe('decodeStream framing errors', () => {
  it('names the offset and field of a truncated record', () => {
    const bytes = loadHexFixture('hello/openssl-s_client-tls13.hex');
    try {
      decodeStream(bytes.subarray(0, bytes.length - 3));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).code).toBe('truncated');
      expect((e as DecodeError).path).toBe('record/fragment');
      expect((e as DecodeError).offset).toBe(5);
    }
  });

  it('refuses input that is neither records, handshake messages nor SSLv2', () => {
    expect(() => decodeStream(new TextEncoder().encode('GET / HTTP/1.1\r\n'))).toThrow(
      expect.objectContaining({ code: 'bad-value', offset: 0 }),
    );
    expect(() => decodeStream(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'truncated' }));
  });
});
