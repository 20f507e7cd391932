/**
 * Returns the order in which analyzed connections are handed on: by `index` (the flow's number,
 * Wireshark's `tcp.stream`), as a capture's connections end in another order than they start.
 *
 * A connection's facts wait only while a connection that started before it is still open, and
 * only within a window of `MAX_ORDER_WINDOW` flows: past it, the oldest open flow is given up on
 * (its facts are handed on when it ends, out of order), so what is held stays bounded however long
 * one early connection lasts. Each connection costs O(log window).
 */
import { createHeap } from './min-heap.js';

/**
 * Flows (TLS or not) that may start while an earlier one is still open before that one's place in
 * the order is given up. A busy server's capture has a few hundred connections in flight; 8192
 * keeps every ordinary capture in order while holding at most 8192 connections' facts (a few KiB
 * each) behind a connection that lasts the whole capture.
 */
export const MAX_ORDER_WINDOW = 8192;

/** One flow's place in the order. */
export interface OrderTicket {
  readonly id: number;
  done: boolean;
}

export interface ReportOrder<T extends { readonly index: number }> {
  /** A flow started (flows start in increasing `id`). */
  start(id: number): OrderTicket;
  /** The flow ended, with its facts or null when it is not reported. */
  end(ticket: OrderTicket, facts: T | null): void;
  /** Hands on everything still held (the capture is read). */
  finish(): void;
  /** The most facts held at once, and how many flows lost their place to the window. */
  readonly peakHeld: number;
  readonly givenUp: number;
}

/** Returns an order that calls `emit` with each connection's facts, by index (see the file comment). */
export function createReportOrder<T extends { readonly index: number }>(
  emit: (facts: T) => void,
  window = MAX_ORDER_WINDOW,
): ReportOrder<T> {
  const queue: OrderTicket[] = [];
  let head = 0;
  const held = createHeap<T>((t) => t.index);
  let peakHeld = 0;
  let givenUp = 0;
  const release = (): void => {
    while (head < queue.length && queue[head]!.done) head++;
    while (queue.length - head > window) {
      if (!queue[head]!.done) givenUp++;
      head++;
    }
    while (head < queue.length && queue[head]!.done) head++;
    const low = head < queue.length ? queue[head]!.id : Number.POSITIVE_INFINITY;
    while (held.size > 0 && held.peek()!.index < low) emit(held.pop()!);
    if (head >= 1024 && head * 2 >= queue.length) {
      queue.splice(0, head);
      head = 0;
    }
  };
  return {
    start(id) {
      const t: OrderTicket = { id, done: false };
      queue.push(t);
      release();
      return t;
    },
    end(ticket, facts) {
      ticket.done = true;
      if (facts !== null) {
        held.push(facts);
        if (held.size > peakHeld) peakHeld = held.size;
      }
      release();
    },
    finish() {
      for (const f of held.drain()) emit(f);
      queue.length = 0;
      head = 0;
    },
    get peakHeld() {
      return peakHeld;
    },
    get givenUp() {
      return givenUp;
    },
  };
}
