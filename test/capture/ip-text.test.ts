/**
 * ipv4Text and ipv6Text: the text of an address, from a direct-mapped cache of texts. More distinct
 * addresses than the cache has slots, in two different orders, so slots are shared and replaced.
 */
import { describe, expect, it } from 'vitest';
import { ipv4Text, ipv6Text } from '../../src/capture/ip.js';
import { formatIp } from '../../src/wire/ip.js';
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

describe('ipv6Text', () => {
  const bytesOf = (words: readonly number[]): Uint8Array => {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    for (const [i, w] of words.entries()) v.setUint32(i * 4, w >>> 0);
    return b;
  };

  it('gives the RFC 5952 text of 100,000 random addresses, in order and again shuffled', () => {
    const rng = new Rng(6);
    // Half fully random, half with zero runs (the compressed forms).
    const addrs = Array.from({ length: 100_000 }, (_, i) =>
      bytesOf([0x20010db8, i % 2 ? 0 : rng.int(2 ** 32), i % 3 ? 0 : rng.int(2 ** 32), rng.int(2 ** 32)]),
    );
    const wrong = (): Uint8Array[] => addrs.filter((a) => ipv6Text(a) !== formatIp(a));
    expect(wrong()).toEqual([]);
    for (let i = addrs.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [addrs[i], addrs[j]] = [addrs[j]!, addrs[i]!];
    }
    expect(wrong()).toEqual([]);
  });

  it('tells apart addresses that differ in one 32-bit word only, whichever word', () => {
    // 4 × 40,000 addresses against 16,384 slots: many share a slot with one differing in one word.
    for (let k = 0; k < 4; k++) {
      for (let i = 0; i < 40_000; i++) {
        const words = [0x20010db8, 0x00000001, 0x00000002, 0x00000003];
        words[k] = (words[k]! + i * 0x10001) >>> 0;
        const b = bytesOf(words);
        expect(ipv6Text(b)).toBe(formatIp(b));
      }
    }
  });

  it('reads the address from a view into a larger packet, and gives the same string for the same address', () => {
    const packet = new Uint8Array(64);
    packet.set(bytesOf([0x20010db8, 0, 0, 1]), 8);
    packet.set(bytesOf([0xfe800000, 0, 0x0200_5eff, 0xfe000001]), 24);
    expect(ipv6Text(packet.subarray(8, 24))).toBe('2001:db8::1');
    expect(ipv6Text(packet.subarray(24, 40))).toBe('fe80::200:5eff:fe00:1');
    expect(ipv6Text(packet.subarray(8, 24))).toBe(ipv6Text(bytesOf([0x20010db8, 0, 0, 1])));
    expect(ipv6Text(bytesOf([0, 0, 0, 0]))).toBe('::');
    expect(ipv6Text(bytesOf([0, 0, 0xffff, 0xc0000201]))).toBe(formatIp(bytesOf([0, 0, 0xffff, 0xc0000201])));
  });
});
