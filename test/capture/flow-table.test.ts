/**
 * flow-table.ts: the live flows' index (positions in flat arrays, found by a chained hash, linked in
 * activity order), held to a plain model (a map by `lo|hi|ports`, and the order flows were added
 * in) over random adds and drops. Few distinct addresses and ports, so chains are long, positions
 * are freed and reused, and the arrays grow past their first capacity.
 */
import { describe, expect, it } from 'vitest';
import type { FlowState, TcpState } from '../../src/capture/flow-table.js';
import {
  countTracked,
  drop,
  flowAt,
  liveFlows,
  newFlowTable,
  slotAt,
  slotOf,
  tableAdd,
} from '../../src/capture/flow-table.js';
import { flowHash } from '../../src/capture/closed-flows.js';
import { addressHash } from '../../src/capture/tcp-header.js';
import { Rng } from '../helpers/random.js';

/** A flow key's hash, as the reassembler computes it from the addresses' texts. */
const keyHash = (lo: string, hi: string, ports: number): number => flowHash(addressHash(lo), addressHash(hi), ports);

/** A flow with only what the index reads: its key. */
function flow(lo: string, hi: string, ports: number): FlowState {
  // The table never looks at the rest of a FlowState, so the test builds no more of it.
  return { key: { lo, hi, ports, hash: keyHash(lo, hi, ports) } } as unknown as FlowState;
}

/**
 * The positions the hash chains reach and the activity order links, each counted once, and the
 * positions holding a flow: a position left behind in a chain or a link shows here.
 */
function indexed(t: ReturnType<typeof newFlowTable>): { chained: number; linked: number; held: number } {
  let chained = 0;
  for (const head of t.buckets) for (let p = head; p !== -1; p = t.chain[p]!) chained++;
  let linked = 0;
  for (let p = t.oldest; p !== -1 && linked <= t.capacity; p = t.newer[p]!) linked++;
  const held = t.entry.filter((f) => f !== undefined).length;
  return { chained, linked, held };
}

describe('the live flow table', () => {
  it('finds exactly the flows the model holds, in the order they came, through 20,000 adds and drops', () => {
    for (const [addrs, ports] of [
      [1, 1],
      [2, 3],
      [3, 2],
      [8, 8],
    ] as const) {
      const rng = new Rng(11 + addrs * 7 + ports);
      const table = newFlowTable(16);
      // drop() and countTracked() read the table and set the tracked-flows counter; nothing else of the state.
      const st = { table, stats: { trackedFlows: 0 } } as unknown as TcpState;
      const model = new Map<string, FlowState>();
      const firstCapacity = table.capacity;
      let most = 0;
      const wrong: string[] = [];
      const name = (k: FlowState['key']): string => `${k.lo}|${k.hi}|${k.ports}`;
      const key = (): [string, string, number] => [
        `10.0.0.${rng.int(addrs)}`,
        `10.0.1.${rng.int(addrs)}`,
        (1 + rng.int(ports)) * 65536 + 443,
      ];
      for (let i = 0; i < 5_000; i++) {
        const [lo, hi, p] = key();
        const held = model.get(`${lo}|${hi}|${p}`);
        if (held) {
          if (rng.bool()) {
            drop(st, held);
            model.delete(name(held.key));
          }
        } else if (rng.int(3) > 0) {
          const f = flow(lo, hi, p);
          expect(slotAt(table, lo, hi, p, keyHash(lo, hi, p))).toBe(-1);
          // As the reassembler adds a flow (tcp.ts, newFlow).
          tableAdd(table, f);
          countTracked(st);
          model.set(name(f.key), f);
        }
        // The key just used, and every few operations every key of the small space: found exactly
        // when the model holds it, and as that flow (mismatches gathered, one expect at the end).
        const check = (a: string, b: string, q: number): void => {
          const k = `${a}|${b}|${q}`;
          const at = slotAt(table, a, b, q, keyHash(a, b, q));
          if ((at === -1 ? undefined : flowAt(table, at)) !== model.get(k)) wrong.push(`${i}: ${k}`);
        };
        check(lo, hi, p);
        if (i % 25 === 0)
          for (let a = 0; a < addrs; a++)
            for (let b = 0; b < addrs; b++)
              for (let q = 1; q <= ports; q++) check(`10.0.0.${a}`, `10.0.1.${b}`, q * 65536 + 443);
        if (table.size !== model.size || st.stats.trackedFlows !== model.size) wrong.push(`${i}: size`);
        most = Math.max(most, model.size);
        if (i % 25 === 0) {
          const n = indexed(table);
          if (n.chained !== model.size || n.linked !== model.size || n.held !== model.size)
            wrong.push(`${i}: ${JSON.stringify(n)} positions for ${model.size} flows`);
        }
      }
      expect(wrong).toEqual([]);
      // The largest key space holds more flows at once than a new table has room for: it grew.
      if (addrs === 8) expect(most).toBeGreaterThan(firstCapacity);
      // Freed positions are used again: no more were handed out than flows were ever held at once.
      expect(table.used).toBeLessThanOrEqual(most);
      // A Map iterates in insertion order: the order the live flows were added in.
      expect(liveFlows(table)).toEqual([...model.values()]);
      for (const f of model.values()) expect(flowAt(table, slotOf(table, f))).toBe(f);
      // A flow with the same key that is not the one in the table is not found as itself.
      const [first] = model.values();
      if (first) expect(slotOf(table, flow(first.key.lo, first.key.hi, first.key.ports))).toBe(-1);
    }
  });
});
