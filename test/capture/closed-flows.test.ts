/**
 * closed-flows.ts: the reassembler's memory of closed flows in flat arrays, held to a plain model
 * (an array in close order: a flow is remembered until `capacity` more flows have closed after it,
 * its port pair is used again, or it is forgotten as the oldest) over random operations, with few distinct addresses and ports so that
 * port pairs are reused, hash chains are long and forgotten flows leave holes in the ring.
 */
import { describe, expect, it } from 'vitest';
import {
  type ClosingFlow,
  MAX_ISNS,
  clearClosed,
  closedHadIsn,
  findClosed,
  flowHash,
  forgetClosed,
  forgetOldestClosed,
  isClosedClient,
  newClosedFlows,
  rememberClosed,
} from '../../src/capture/closed-flows.js';
import { addressHash } from '../../src/capture/tcp-header.js';
import { Rng } from '../helpers/random.js';

/** A flow key's hash, as the reassembler computes it from the addresses' texts. */
const keyHash = (lo: string, hi: string, ports: number): number => flowHash(addressHash(lo), addressHash(hi), ports);

/** `findClosed` with the key's hash, as the reassembler computes it once per segment. */
const found = (t: Parameters<typeof findClosed>[0], lo: string, hi: string, ports: number): number =>
  findClosed(t, lo, hi, ports, keyHash(lo, hi, ports));

function closing(rng: Rng, addrs: number, ports: number): ClosingFlow {
  const lo = `10.0.0.${rng.int(addrs)}`;
  const hi = `10.0.1.${rng.int(addrs)}`;
  const loPort = 1 + rng.int(ports);
  const hiPort = 443;
  const isns = (): number[] => Array.from({ length: rng.int(MAX_ISNS + 3) }, () => rng.int(2 ** 32));
  return {
    lo,
    hi,
    ports: loPort * 65536 + hiPort,
    hash: keyHash(lo, hi, loPort * 65536 + hiPort),
    client: rng.bool() ? { addr: lo, port: loPort } : { addr: hi, port: hiPort },
    clientIsns: isns(),
    serverIsns: isns(),
  };
}

const sameKey = (a: ClosingFlow, b: ClosingFlow): boolean => a.lo === b.lo && a.hi === b.hi && a.ports === b.ports;

describe('closed flows', () => {
  for (const capacity of [0, 1, 2, 7, 64]) {
    it(`finds what a model in close order holds (capacity ${capacity}, 3,000 random operations)`, () => {
      const rng = new Rng(1000 + capacity);
      const t = newClosedFlows(capacity);
      let model: ClosingFlow[] = [];
      let closes = 0;
      const closedAt = new Map<ClosingFlow, number>();
      for (let step = 0; step < 3000; step++) {
        const op = rng.int(10);
        if (op < 6) {
          const c = closing(rng, 3, 6);
          rememberClosed(t, c);
          closedAt.set(c, closes++);
          if (capacity > 0) {
            model = model.filter((m) => !sameKey(m, c) && closedAt.get(m)! > closes - 1 - capacity);
            model.push(c);
          }
        } else if (op < 8) {
          // A SYN on a remembered port pair forgets that flow.
          const c = closing(rng, 3, 6);
          const p = found(t, c.lo, c.hi, c.ports);
          const i = model.findIndex((m) => sameKey(m, c));
          expect(p !== -1).toBe(i !== -1);
          if (p !== -1) {
            forgetClosed(t, p);
            model.splice(i, 1);
          }
        } else if (op < 9) {
          expect(forgetOldestClosed(t)).toBe(model.length > 0);
          model.shift();
        } else {
          const c = closing(rng, 3, 6);
          const p = found(t, c.lo, c.hi, c.ports);
          const m = model.find((x) => sameKey(x, c));
          expect(p !== -1).toBe(m !== undefined);
        }
        expect(t.size).toBe(model.length);
        if (capacity > 8 && step % 25 !== 0) continue;
        for (const m of model) {
          const p = found(t, m.lo, m.hi, m.ports);
          expect(p).not.toBe(-1);
          expect(isClosedClient(t, p, m.client.addr, m.client.port)).toBe(true);
          const serverAddr = m.client.addr === m.lo ? m.hi : m.lo;
          const serverPort = m.client.addr === m.lo ? m.ports % 65536 : Math.floor(m.ports / 65536);
          expect(isClosedClient(t, p, serverAddr, serverPort)).toBe(false);
          for (const [client, isns] of [
            [true, m.clientIsns],
            [false, m.serverIsns],
          ] as const) {
            for (const [i, isn] of isns.entries()) expect(closedHadIsn(t, p, client, isn)).toBe(i < MAX_ISNS);
          }
        }
      }
      clearClosed(t);
      expect(t.size).toBe(0);
      for (const m of model) expect(found(t, m.lo, m.hi, m.ports)).toBe(-1);
    });
  }

  it('tells an ISN the flow did not use from one it did, per direction', () => {
    const t = newClosedFlows(4);
    const c: ClosingFlow = {
      lo: '192.0.2.1',
      hi: '192.0.2.2',
      ports: 50000 * 65536 + 443,
      hash: keyHash('192.0.2.1', '192.0.2.2', 50000 * 65536 + 443),
      client: { addr: '192.0.2.1', port: 50000 },
      clientIsns: [1000, 4_000_000_000],
      serverIsns: [7],
    };
    rememberClosed(t, c);
    const p = found(t, c.lo, c.hi, c.ports);
    expect(closedHadIsn(t, p, true, 4_000_000_000)).toBe(true);
    expect(closedHadIsn(t, p, true, 7)).toBe(false);
    expect(closedHadIsn(t, p, false, 7)).toBe(true);
    expect(found(t, c.lo, c.hi, 50001 * 65536 + 443)).toBe(-1);
    expect(found(t, c.hi, c.lo, c.ports)).toBe(-1);
  });
});
