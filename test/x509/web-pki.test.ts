import { describe, expect, it } from 'vitest';
import { dnsNameSyntaxError, isPublicSuffix } from '../../src/x509/web-pki.js';

// tldts is required on first use (x509/tldts-cjs.ts, issue 16): the answers are the list's.
describe('isPublicSuffix', () => {
  it('finds ICANN suffixes, single labels and registrable names', () => {
    expect(isPublicSuffix('co.uk')).toBe(true);
    expect(isPublicSuffix('com')).toBe(true);
    expect(isPublicSuffix('example.co.uk')).toBe(false);
    // The private section is not applied (Chromium's EXCLUDE_PRIVATE_REGISTRIES).
    expect(isPublicSuffix('github.io')).toBe(false);
  });
});

describe('dnsNameSyntaxError', () => {
  it('rejects a wildcard over a public suffix and accepts one over a registrable name', () => {
    expect(dnsNameSyntaxError('*.co.uk')).toBe('is a wildcard over the public suffix co.uk (CA/B BR 3.2.2.6)');
    expect(dnsNameSyntaxError('*.example.co.uk')).toBeNull();
  });
});
