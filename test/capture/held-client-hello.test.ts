/**
 * The client's ClientHello held as bytes while its connection is in flight (capture/connection.ts,
 * `HeldClientHello`): `feedHandshake` checks its framing on arrival with `viewClientHello` instead of
 * reading it whole, and reads it when the facts are made. That is only right when the check throws
 * exactly where and what the read it replaces throws (the problem line quotes the message), for
 * every whole message the handshake assembler can hand over, and when the hello read later is the
 * one the eager read gave. Both are checked here on the fuzz seeds' real hellos and 3,000 mutations.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/capture/sessions.js';
import { HeldClientHello, clientHelloFact } from '../../src/capture/connection.js';
import { viewClientHello } from '../../src/tls/client-hello.js';
import { readHandshakeMessage } from '../../src/tls/handshake.js';
import { DecodeError } from '../../src/wire/errors.js';
import { Reader } from '../../src/wire/reader.js';
import { toHex } from '../../src/wire/hex.js';
import { FUZZ_SEED, fuzzRuns, inputArb } from '../fuzz/mutate.js';
import { handshakeSeeds } from '../fuzz/seeds.js';
import { openCaptureFile } from '../../src/capture/source.js';
import { FIXTURES_DIR, loadHexFixture } from '../helpers/fixtures.js';
import { makePcap } from '../helpers/pcap-writer.js';

type Outcome = { ok: true } | { ok: false; code: string; offset: number; path: string; message: string };

function outcome(f: () => unknown): Outcome {
  try {
    f();
    return { ok: true };
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { ok: false, code: e.code, offset: e.offset, path: e.path, message: e.message };
  }
}

/** `bytes` as the assembler hands a ClientHello on: type 1, the header's length that of the body. */
function asMessage(bytes: Uint8Array): Uint8Array {
  const m = new Uint8Array(Math.max(4, bytes.length));
  m.set(bytes);
  const n = m.length - 4;
  m[0] = 1;
  m[1] = n >> 16;
  m[2] = (n >> 8) & 0xff;
  m[3] = n & 0xff;
  return m;
}

/** What the capture did before the hellos were held: the whole read, the reader `feedHandshake` makes. */
const eagerRead = (m: Uint8Array) => readHandshakeMessage(new Reader(m, '', 0), {});

function expectSame(m: Uint8Array): boolean {
  const eager = outcome(() => eagerRead(m));
  expect(outcome(() => viewClientHello(m))).toEqual(eager);
  if (!eager.ok) return false;
  const body = eagerRead(m);
  expect(body.kind).toBe('client_hello');
  const held = new HeldClientHello(m, m, 7, 8);
  expect(held.hello).toEqual(body.kind === 'client_hello' ? body.body : null);
  return true;
}

const seedMessages = async (): Promise<Uint8Array[]> =>
  (await handshakeSeeds()).filter((h) => h.raw[0] === 1).map((h) => asMessage(h.raw));

describe('HeldClientHello', () => {
  it('is checked on arrival exactly as the whole read checks it, on the real ClientHellos of the fuzz seeds and each strict prefix of their bodies', async () => {
    const seeds = await seedMessages();
    expect(seeds.length).toBeGreaterThan(5);
    let rejected = 0;
    for (const m of seeds) {
      expect(expectSame(m)).toBe(true);
      // Each shorter body, as a whole message of its own length.
      for (let n = 4; n < m.length; n++) if (!expectSame(asMessage(m.subarray(0, n)))) rejected++;
    }
    expect(rejected).toBeGreaterThan(seeds.length);
  }, 120_000);

  it('throws what the whole read throws on mutated and random messages', async () => {
    const seeds = await seedMessages();
    const real = new Set(seeds.map((s) => toHex(s)));
    const numRuns = fuzzRuns(3000);
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(
        inputArb(seeds)
          .map(asMessage)
          .filter((m) => !real.has(toHex(m))),
        (m) => {
          if (expectSame(m)) accepted++;
          else rejected++;
        },
      ),
      { seed: FUZZ_SEED ^ 0x3c, numRuns },
    );
    // Both kinds were drawn: messages the check lets through and messages it stops.
    expect(accepted).toBeGreaterThan(numRuns / 20);
    expect(rejected).toBeGreaterThan(numRuns / 20);
  }, 120_000);

  it('reaches the facts as a plain object with the hello read, its fields in their order', async () => {
    // With and without keys (tls13-dsb's are in the file: its hello is read on arrival for its random).
    let seen = 0;
    for (const name of ['segmented-hello.pcapng', 'alert.pcapng', 'tls13-dsb.pcapng', 'tls12-keylog.pcapng']) {
      const r = await analyzeCapture(openCaptureFile(join(FIXTURES_DIR, 'pcap', name)));
      for (const c of r.connections!) {
        const h = c.clientHello;
        if (h === null) continue;
        seen++;
        expect(h).not.toBeInstanceOf(HeldClientHello);
        expect(Object.keys(h)).toEqual(['format', 'hello', 'message', 'records', 'frame', 'timestampUs']);
        const eager = eagerRead(h.message);
        expect(eager.kind === 'client_hello' && h.hello).toEqual(eager.kind === 'client_hello' && eager.body);
      }
    }
    expect(seen).toBeGreaterThanOrEqual(4);
    const m = (await seedMessages())[0]!;
    const held = new HeldClientHello(m, m, 1, 2);
    const fact = clientHelloFact(held);
    expect(fact).toEqual({ format: 'tls', hello: held.hello, message: m, records: m, frame: 1, timestampUs: 2 });
    expect(Object.getPrototypeOf(fact)).toBe(Object.prototype);
    expect(clientHelloFact(null)).toBeNull();
  });
  it("reports a client's broken ClientHello when it arrives, with the message the whole read gives", async () => {
    const record = loadHexFixture('hello/openssl-s_client-tls12.hex').slice();
    // RFC 5246, Section 7.4.1.2: record header 5, handshake header 4, version 2, random 32, session_id.
    const suitesAt = 5 + 4 + 2 + 32 + 1 + record[5 + 4 + 2 + 32]!;
    record[suitesAt + 1] = record[suitesAt + 1]! | 1; // an odd cipher_suites length
    const message = record.subarray(5);
    const eager = outcome(() => eagerRead(message));
    expect(eager.ok).toBe(false);
    const alert = Uint8Array.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32]);
    const r = await analyzeCapture(
      new Uint8Array(
        makePcap([
          { fromClient: true, payload: record },
          { fromClient: false, payload: alert },
        ]),
      ),
    );
    const c = r.connections![0]!;
    expect(c.clientHello).toBeNull();
    expect(c.problems).toEqual([
      { from: 'client', code: 'handshake-decode-error', message: `client_hello: ${!eager.ok && eager.message}` },
    ]);
  });
});
