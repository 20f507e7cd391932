/**
 * Every client profile against its reference hello or fingerprint (../shared/corpus/client-hellos),
 * field by field: record version, client version, offered versions, suites in order, extensions in
 * order, groups, signature schemes, point formats. Any difference must be listed in the profile's
 * `differences` (with its reason), and every field the reference does not record in `modelled`;
 * nothing else may differ, and nothing listed may be stale. Skips when the corpus is absent.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_PROFILES } from '../../src/diagnose/clients.js';
import { diffHelloFields, helloFields, unrecordedFields } from '../../src/diagnose/client-profiles/compare.js';
import { parseClientHello, encodeClientHello } from '../../src/tls/client-hello.js';
import { NO_CORPUS } from '../helpers/corpus.js';
import { hasReferences, referenceFields } from '../helpers/client-references.js';

describe('profile fidelity data', () => {
  it('says how each profile was made: captured and derived name a reference, modelled cites sources', () => {
    for (const p of CLIENT_PROFILES) {
      expect(['captured', 'derived', 'modelled'], p.name).toContain(p.fidelity);
      expect(p.source.length, p.name).toBeGreaterThan(20);
      for (const d of p.differences) expect(d.because.length, `${p.name} ${d.field}`).toBeGreaterThan(10);
      for (const m of p.modelled) expect(m.because.length, `${p.name} ${m.field}`).toBeGreaterThan(10);
      if (p.fidelity === 'modelled') expect(p.reference, p.name).toBeNull();
      else expect(p.reference, p.name).not.toBeNull();
      // captured: nothing differs, and only the record version (which fingerprints often omit) is modelled.
      if (p.fidelity === 'captured') {
        expect(p.differences, p.name).toEqual([]);
        expect(
          p.modelled.filter((m) => m.field !== 'recordVersion'),
          p.name,
        ).toEqual([]);
      }
      if (p.fidelity === 'derived')
        expect(
          p.differences.length + p.modelled.filter((m) => m.field !== 'recordVersion').length,
          p.name,
        ).toBeGreaterThan(0);
    }
  });
});

describe.skipIf(!hasReferences)('every profile against its reference, field by field', () => {
  for (const p of CLIENT_PROFILES) {
    if (p.reference === null) continue;
    it(`${p.name} differs from ${p.reference.kind} "${p.reference.id}" exactly as listed`, () => {
      const ref = referenceFields(p.reference!);
      const built = p.build('reference.example');
      // Compare what goes on the wire: encode and parse back.
      const ours = helloFields(
        parseClientHello(encodeClientHello(built.hello)),
        built.recordVersion ?? built.hello.legacyVersion,
      );
      const expected = p.differences.map((d) => {
        const { because: _because, ...rest } = d;
        return 'added' in rest ? { ...rest, added: [...rest.added], removed: [...rest.removed] } : rest;
      });
      expect(diffHelloFields(ours, ref)).toEqual(expected);
      expect(unrecordedFields(ref).sort()).toEqual(p.modelled.map((m) => m.field).sort());
    });
  }
});
if (!hasReferences) console.warn(NO_CORPUS);
