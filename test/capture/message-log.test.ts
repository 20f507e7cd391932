/**
 * connection.ts's message log: entries packed as numbers (type id, direction, decrypted flag, frame,
 * timestamp), read back as `MessageEvent` facts, capped at MAX_MESSAGES_PER_CONNECTION, and the
 * last entry up to a frame (what `endOf` reports a connection ended after). Held to a plain list of
 * objects over random entries.
 */
import { describe, expect, it } from 'vitest';
import {
  type Conn,
  MAX_MESSAGES_PER_CONNECTION,
  lastMessage,
  logMessage,
  messageEvents,
  newConn,
} from '../../src/capture/connection.js';
import type { MessageEvent } from '../../src/capture/facts.js';
import type { Flow } from '../../src/capture/tcp.js';
import { Rng } from '../helpers/random.js';

const TYPES = ['client_hello', 'server_hello', 'alert', 'application_data', 'handshake_0xfe', 'change_cipher_spec'];

function conn(): Conn {
  // The log reads nothing of the flow, the key source or the layers.
  const unused = {} as Flow;
  return newConn(
    unused,
    { given: false, lookup: () => undefined, refresh: () => {}, errors: () => 0 },
    { walk: () => {}, feedHandshake: () => {} },
  );
}

describe('message log', () => {
  for (const seed of [1, 2, 3]) {
    it(`reads back what was logged, in order, up to the cap (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const c = conn();
      const model: MessageEvent[] = [];
      let frame = 1;
      // Microsecond timestamps of today are past 2^50: they must come back exactly.
      let ts = 1_765_000_000_000_000 + rng.int(1_000_000);
      for (let i = 0; i < MAX_MESSAGES_PER_CONNECTION + 20; i++) {
        frame += rng.int(3);
        ts += rng.int(5000);
        const s = rng.bool() ? c.sides.client : c.sides.server;
        s.frame = frame;
        s.timestampUs = ts;
        const type = TYPES[rng.int(TYPES.length)]!;
        const decrypted = rng.bool();
        logMessage(c, s, type, decrypted);
        if (model.length < MAX_MESSAGES_PER_CONNECTION)
          model.push({ from: s.dir, type, decrypted, frame, timestampUs: ts });
        if (rng.int(8) === 0) {
          const upTo = rng.int(frame + 2);
          const expected = model.filter((m) => m.frame <= upTo).at(-1) ?? null;
          const got = lastMessage(c, upTo);
          expect(got && { ...got }).toEqual(
            expected && { from: expected.from, type: expected.type, timestampUs: expected.timestampUs },
          );
        }
      }
      expect(messageEvents(c)).toEqual(model);
      expect(model).toHaveLength(MAX_MESSAGES_PER_CONNECTION);
      const last = model.at(-1)!;
      expect(lastMessage(c, null)).toEqual({ from: last.from, type: last.type, timestampUs: last.timestampUs });
    });
  }

  it('has no last message before the first one', () => {
    const c = conn();
    expect(lastMessage(c, null)).toBeNull();
    c.sides.server.frame = 10;
    c.sides.server.timestampUs = 5;
    logMessage(c, c.sides.server, 'alert', false);
    expect(lastMessage(c, 9)).toBeNull();
    expect(lastMessage(c, 10)).toEqual({ from: 'server', type: 'alert', timestampUs: 5 });
    expect(messageEvents(c)).toEqual([{ from: 'server', type: 'alert', decrypted: false, frame: 10, timestampUs: 5 }]);
  });
});
