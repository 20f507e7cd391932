/**
 * The generated suite-facts table (src/tls/suite-facts-data.ts, scripts/gen-suite-facts.mjs) against
 * the parser it was made from (`describeSuiteName`): one row per registered suite, and every suite's
 * facts from `cipherSuiteInfo` equal to what the name parses to, key order included (they reach
 * `--json` output).
 */
import { describe, expect, it } from 'vitest';
import { CIPHER_SUITES, cipherSuiteInfo } from '../../src/tls/registry.js';
import { SUITE_FACTS } from '../../src/tls/suite-facts-data.js';
import { describeSuiteName } from '../../src/tls/suite-names.js';

describe('SUITE_FACTS', () => {
  it('has one row per registered cipher suite, in value order', () => {
    const values = SUITE_FACTS.map((r) => r[0]);
    expect(values).toEqual([...CIPHER_SUITES.keys()].sort((a, b) => a - b));
  });
});

describe('cipherSuiteInfo', () => {
  it('gives, for every registered suite, what describeSuiteName parses from its name', () => {
    for (const [value, name] of CIPHER_SUITES)
      expect(JSON.stringify(cipherSuiteInfo(value)), name).toBe(JSON.stringify(describeSuiteName(value, name)));
  });

  it('returns null for values in no table (unknown, GREASE)', () => {
    expect(cipherSuiteInfo(0x0a0a)).toBeNull();
    expect(cipherSuiteInfo(0x5600 + 0x99)).toBeNull();
  });
});
