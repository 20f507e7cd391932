import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/wire/hex.js';
import { escapeValue, formatRfc4514, sameName, type RdnMember } from '../../src/x509/dn.js';
import type { DistinguishedName } from '../../src/x509/types.js';

const m = (type: string, oid: string, value: string, hex = false): RdnMember => ({ part: { type, oid, value }, hex });

describe('formatRfc4514', () => {
  // RFC 4514, Section 4 examples (RDNs given here in DER order, most significant first).
  it('writes RDNs last first, joined by commas', () => {
    expect(
      formatRfc4514([
        [m('DC', '0.9.2342.19200300.100.1.25', 'net')],
        [m('DC', '0.9.2342.19200300.100.1.25', 'example')],
        [m('UID', '0.9.2342.19200300.100.1.1', 'jsmith')],
      ]),
    ).toBe('UID=jsmith,DC=example,DC=net');
  });

  it('joins the members of a multi-valued RDN with a plus sign', () => {
    expect(
      formatRfc4514([
        [m('DC', '0.9.2342.19200300.100.1.25', 'net')],
        [m('OU', '2.5.4.11', 'Sales'), m('CN', '2.5.4.3', 'J.  Smith')],
      ]),
    ).toBe('OU=Sales+CN=J.  Smith,DC=net');
  });

  it('escapes special characters', () => {
    expect(
      formatRfc4514([[m('DC', '0.9.2342.19200300.100.1.25', 'net')], [m('CN', '2.5.4.3', 'James "Jim" Smith, III')]]),
    ).toBe('CN=James \\"Jim\\" Smith\\, III,DC=net');
    expect(escapeValue('Before\rAfter').toLowerCase()).toBe('before\\0dafter');
    expect(escapeValue('#start')).toBe('\\#start');
    expect(escapeValue(' both ')).toBe('\\ both\\ ');
    expect(escapeValue('a+b;c<d>e\\f')).toBe('a\\+b\\;c\\<d\\>e\\\\f');
    expect(escapeValue('mid#dle mid')).toBe('mid#dle mid');
  });

  it('writes a value of unknown type as # and hex, unescaped', () => {
    expect(
      formatRfc4514([
        [m('DC', '0.9.2342.19200300.100.1.25', 'com')],
        [m('1.3.6.1.4.1.1466.0', '1.3.6.1.4.1.1466.0', '#04024869', true)],
      ]),
    ).toBe('1.3.6.1.4.1.1466.0=#04024869,DC=com');
  });
});

describe('sameName', () => {
  const dn = (der: string, parts: [string, string][]): DistinguishedName => ({
    rfc4514: '',
    der: fromHex(der),
    parts: parts.map(([oid, value]) => ({ type: oid, oid, value })),
  });

  it('matches identical DER and, failing that, values compared caselessly with collapsed spaces (RFC 5280, Section 7.1)', () => {
    expect(sameName(dn('3000', []), dn('3000', []))).toBe(true);
    expect(sameName(dn('01', [['2.5.4.3', 'Test  CA ']]), dn('02', [['2.5.4.3', 'test ca']]))).toBe(true);
    expect(sameName(dn('01', [['2.5.4.3', 'Test CA']]), dn('02', [['2.5.4.10', 'Test CA']]))).toBe(false);
    expect(sameName(dn('01', [['2.5.4.3', 'Test CA']]), dn('02', [['2.5.4.3', 'Test CA 2']]))).toBe(false);
    expect(
      sameName(
        dn('01', [['2.5.4.3', 'A']]),
        dn('02', [
          ['2.5.4.3', 'A'],
          ['2.5.4.3', 'B'],
        ]),
      ),
    ).toBe(false);
  });
});
