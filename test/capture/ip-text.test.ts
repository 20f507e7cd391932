/**
 * ipv4Text: the dotted text of an address, from a direct-mapped cache of texts. More distinct
 * addresses than the cache has slots, in two different orders, so slots are shared and replaced.
 */
import { describe, expect, it } from 'vitest';
import { ipv4Text } from '../../src/capture/ip.js';
import { Rng } from '../helpers/random.js';

const dotted = (a: number): string => [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff].join('.');

describe('ipv4Text', () => {
  it('gives the dotted text of 100,000 random addresses, in order and again shuffled', () => {
    const rng = new Rng(4);
    const addrs = Array.from({ length: 100_000 }, () => rng.int(2 ** 32) >>> 0);
    const wrong = (): number[] => addrs.filter((a) => ipv4Text(a) !== dotted(a));
    expect(wrong()).toEqual([]);
    for (let i = addrs.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [addrs[i], addrs[j]] = [addrs[j]!, addrs[i]!];
    }
    expect(wrong()).toEqual([]);
  });

  it('gives the edges of the address space and the same string for the same address', () => {
    for (const a of [0, 1, 0x7f000001, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff])
      expect(ipv4Text(a)).toBe(dotted(a));
    expect(ipv4Text(0xc0000201)).toBe('192.0.2.1');
    // Alternating addresses that may share a slot never give each other's text.
    for (let i = 0; i < 1000; i++) {
      expect(ipv4Text(0x0a000000 + i)).toBe(dotted(0x0a000000 + i));
      expect(ipv4Text(0xc0a80000 + i)).toBe(dotted(0xc0a80000 + i));
    }
  });
});
