/**
 * Returns the window of table rows a capture view keeps: at most `limit` rows, the failed
 * connections first, then the earliest (lowest index). Memory is O(limit) and each row costs
 * O(log limit), however many connections the capture holds; what was left out is counted.
 */
import { createHeap } from '../capture/min-heap.js';

/** Rows the table view shows by default; `--rows` lifts it (a whole table is laid out in O(rows²)). */
export const DEFAULT_TABLE_ROWS = 1000;

interface Kept<R> {
  readonly index: number;
  readonly row: R;
}

export interface RowWindow<R> {
  /**
   * Offers the row of connection `index`; `failed` rows are kept in preference to the others.
   * `row` makes it, and is called only when the window keeps it: on a large capture most rows are
   * never shown, and making each one cost more than the window itself.
   */
  add(index: number, failed: boolean, row: () => R): void;
  /** Returns the rows kept, by index. */
  rows(): R[];
  /** Rows offered and not kept. */
  readonly dropped: number;
}

/** Returns an empty window of at most `limit` rows (see the file comment). */
export function createRowWindow<R>(limit: number): RowWindow<R> {
  // Largest index on top: the first row to give up within each class.
  const failed = createHeap<Kept<R>>((k) => k.index, true);
  const others = createHeap<Kept<R>>((k) => k.index, true);
  let dropped = 0;
  return {
    add(index, isFailed, row) {
      if (failed.size + others.size >= limit) {
        // Full: the row is kept only if it displaces the last row of the class given up first.
        const victims = others.size > 0 ? others : failed;
        const last = victims.peek()!;
        const displaces = isFailed
          ? victims === others || index < last.index
          : victims === others && index < last.index;
        dropped++;
        if (!displaces) return;
        victims.pop();
      }
      (isFailed ? failed : others).push({ index, row: row() });
    },
    rows() {
      return [...failed.drain(), ...others.drain()].sort((a, b) => a.index - b.index).map((k) => k.row);
    },
    get dropped() {
      return dropped;
    },
  };
}
