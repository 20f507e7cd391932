/**
 * Returns binary heaps ordered by a numeric key: what keeps a bounded window of connections in
 * order (report order, the table's shown rows) at O(log n) per connection instead of a sort or a
 * scan per connection.
 */

/** A binary heap whose `peek`/`pop` give the item with the smallest `key` (the largest if `max`). */
export interface Heap<T> {
  readonly size: number;
  push(item: T): void;
  peek(): T | undefined;
  pop(): T | undefined;
  /** Removes and returns every item, in heap order. */
  drain(): T[];
}

/** Returns an empty heap over `key` (smallest first, or largest first when `max`). */
export function createHeap<T>(key: (item: T) => number, max = false): Heap<T> {
  const items: T[] = [];
  const before = max ? (a: T, b: T): boolean => key(a) > key(b) : (a: T, b: T): boolean => key(a) < key(b);
  const up = (i: number): void => {
    const x = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(x, items[p]!)) break;
      items[i] = items[p]!;
      i = p;
    }
    items[i] = x;
  };
  const down = (i: number): void => {
    const n = items.length;
    const x = items[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && before(items[c + 1]!, items[c]!)) c++;
      if (!before(items[c]!, x)) break;
      items[i] = items[c]!;
      i = c;
    }
    items[i] = x;
  };
  const heap: Heap<T> = {
    get size() {
      return items.length;
    },
    push(item) {
      items.push(item);
      up(items.length - 1);
    },
    peek: () => items[0],
    pop() {
      const top = items[0];
      const last = items.pop();
      if (items.length > 0 && last !== undefined) {
        items[0] = last;
        down(0);
      }
      return top;
    },
    drain() {
      const out: T[] = [];
      while (items.length > 0) out.push(heap.pop()!);
      return out;
    },
  };
  return heap;
}
