import { describe, expect, it } from 'vitest';
import { matchesDnsPattern } from '../../src/x509/hostname.js';
import { formatIp, parseIp } from '../../src/wire/ip.js';

describe('matchesDnsPattern', () => {
  // Cases from RFC 6125, Section 6.4.3 and the CA/B Forum rules on wildcards.
  const cases: [string, string, boolean][] = [
    ['www.example.com', 'www.example.com', true],
    ['WWW.Example.Com', 'www.example.COM', true],
    ['www.example.com.', 'www.example.com', true],
    ['www.example.com', 'www.example.com.', true],
    ['*.example.com', 'foo.example.com', true],
    ['*.example.com', 'bar.foo.example.com', false],
    ['*.example.com', 'example.com', false],
    ['*.example.com', '.example.com', false],
    ['f*.example.com', 'foo.example.com', false],
    ['*oo.example.com', 'foo.example.com', false],
    ['w*w.example.com', 'www.example.com', false],
    ['www.*.example.com', 'www.foo.example.com', false],
    ['*.com', 'example.com', false],
    ['*', 'localhost', false],
    ['example.com', 'www.example.com', false],
    ['', '', false],
    ['www.example.com', 'www..example.com', false],
  ];
  it.each(cases)('pattern %s against host %s is %s', (pattern, host, want) => {
    expect(matchesDnsPattern(pattern, host)).toBe(want);
  });
});

describe('formatIp and parseIp', () => {
  it('writes IPv4 dotted and IPv6 per RFC 5952', () => {
    expect(formatIp(new Uint8Array([192, 0, 2, 1]))).toBe('192.0.2.1');
    // RFC 5952, Section 4: lowercase, no leading zeros, longest zero run compressed, a single zero group not.
    expect(formatIp(parseIp('2001:0db8:0000:0000:0000:0000:0000:0001')!)).toBe('2001:db8::1');
    expect(formatIp(parseIp('2001:db8:0:1:1:1:1:1')!)).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIp(parseIp('2001:0:0:1:0:0:0:1')!)).toBe('2001:0:0:1::1');
    expect(formatIp(parseIp('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(formatIp(parseIp('::')!)).toBe('::');
    expect(formatIp(parseIp('::ffff:192.0.2.1')!)).toBe('::ffff:c000:201');
    expect(formatIp(new Uint8Array([1, 2, 3]))).toBe('#010203');
  });

  it('returns null for what is not an address', () => {
    for (const s of ['example.com', '1.2.3', '256.1.1.1', '[::1]', 'fe80::1%eth0', '']) expect(parseIp(s)).toBeNull();
  });
});
