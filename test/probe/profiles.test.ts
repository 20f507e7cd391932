/**
 * ClientHello profiles: hellos made from a kept encoding (a template with fresh random, session id
 * and key shares written in) must be byte for byte what the ClientHello codec makes of the same
 * hello, whatever the options. The codec (src/tls/client-hello.ts, checked against tshark and real
 * stacks in test/tls) is the oracle here.
 */
import { describe, expect, it } from 'vitest';
import {
  buildClientHello,
  DEFAULT_GROUPS,
  DEFAULT_SIGNATURE_SCHEMES,
  HELLO_TEMPLATE_CACHE,
  KEY_SHARE_REUSE,
  PROBE_VERSIONS,
  suitesForVersion,
  VERSION_CODE,
  type BuiltHello,
  type HelloOptions,
  type ProbeVersion,
} from '../../src/probe/profiles.js';
import { encodeClientHello, parseClientHello } from '../../src/tls/client-hello.js';
import { findExtension } from '../../src/tls/extensions.js';
import { generateKeyShare, SUPPORTED_KEY_SHARE_GROUPS, type KeyShareKeyPair } from '../../src/tls/key-schedule.js';
import { encodeRecords } from '../../src/tls/record.js';
import { cipherSuiteInfo, CIPHER_SUITES, ContentType, NamedGroup, ProtocolVersion } from '../../src/tls/registry.js';
import { toHex } from '../../src/wire/hex.js';
import { Rng } from '../helpers/random.js';

/** The record version buildClientHello uses when none is given. */
function recordVersionOf(o: HelloOptions): number {
  return o.recordVersion ?? (o.version === 'SSL3.0' ? ProtocolVersion.SSL3_0 : ProtocolVersion.TLS1_0);
}

/** Checks that `b` is exactly what the codec makes of `b.hello`, and that its shares are its key pairs'. */
function expectSelfConsistent(b: BuiltHello, o: HelloOptions): void {
  expect(toHex(b.message)).toBe(toHex(encodeClientHello(b.hello)));
  expect(toHex(b.record)).toBe(toHex(encodeRecords(ContentType.handshake, recordVersionOf(o), b.message)));
  const parsed = parseClientHello(b.message);
  expect(toHex(parsed.random)).toBe(toHex(b.hello.random));
  expect(toHex(parsed.sessionId)).toBe(toHex(b.hello.sessionId));
  const shares = findExtension(parsed.extensions, 'key_share')?.shares ?? [];
  expect(shares.map((s) => [s.group, toHex(s.keyExchange)])).toEqual(
    b.keyPairs.map((p) => [p.group, toHex(p.publicKey)]),
  );
}

/** Returns random but valid hello options: any version, SNI or none, subsets of suites and groups, padding choices. */
function randomOptions(rng: Rng): HelloOptions {
  const version = rng.pick(PROBE_VERSIONS);
  const all = suitesForVersion(version);
  const o: { -readonly [K in keyof HelloOptions]: HelloOptions[K] } = {
    version,
    sni: rng.pick([null, 'localhost', 'a.example', 'x'.repeat(rng.int(200) + 1)]),
  };
  if (rng.bool()) o.cipherSuites = all.filter(() => rng.bool()).slice(0, rng.int(all.length) + 1);
  if (rng.bool()) o.renegotiationScsv = rng.bool();
  if (rng.bool()) o.groups = DEFAULT_GROUPS.filter(() => rng.bool());
  if (version === 'TLS1.3' && rng.bool()) o.keyShareGroups = SUPPORTED_KEY_SHARE_GROUPS.filter(() => rng.int(3) === 0);
  if (rng.bool()) o.signatureSchemes = DEFAULT_SIGNATURE_SCHEMES.slice(rng.int(DEFAULT_SIGNATURE_SCHEMES.length));
  if (rng.bool()) o.alpn = rng.pick([null, [], ['h2'], ['h2', 'http/1.1']]);
  if (rng.bool()) o.recordVersion = rng.pick([ProtocolVersion.TLS1_0, ProtocolVersion.TLS1_2]);
  if (rng.bool()) o.padTo = rng.pick([null, 512, 600, 1200, 100]);
  if (rng.int(4) === 0) o.sessionId = rng.bytes(rng.int(33));
  return o;
}

describe('buildClientHello', () => {
  it('makes hellos that encode to exactly their bytes, first and repeated, over seeded random options', () => {
    const rng = new Rng(0x7e11);
    for (let i = 0; i < 150; i++) {
      const o = randomOptions(rng);
      const built = [buildClientHello(o), buildClientHello(o), buildClientHello(o)];
      for (const b of built) expectSelfConsistent(b, o);
      // Same options, same layout: only the per-connection bytes may differ.
      expect(new Set(built.map((b) => b.record.length)).size).toBe(1);
      expect(toHex(built[1]!.hello.random)).not.toBe(toHex(built[2]!.hello.random));
    }
  });

  it('gives the same bytes from a template as from scratch when random, session id and key pairs are given', () => {
    const rng = new Rng(0x5eed);
    for (const version of PROBE_VERSIONS) {
      const pairs =
        version === 'TLS1.3' ? [generateKeyShare(NamedGroup.x25519), generateKeyShare(NamedGroup.secp256r1)] : [];
      const o: HelloOptions = {
        version,
        sni: 'template.example',
        keyShareGroups: version === 'TLS1.3' ? [NamedGroup.x25519, NamedGroup.secp256r1] : undefined,
        random: rng.bytes(32),
        sessionId: rng.bytes(32),
        keyPairs: pairs,
      };
      const first = buildClientHello(o);
      const again = buildClientHello(o);
      expect(toHex(again.record)).toBe(toHex(first.record));
      expect(again.hello).toEqual(first.hello);
      expect(again.keyPairs).toEqual(first.keyPairs);
      expectSelfConsistent(again, o);
    }
  });

  it('writes each hello its own random and TLS 1.3 session id, across many hellos', () => {
    const randoms = new Set<string>();
    const sessionIds = new Set<string>();
    const n = 300; // 300 × 64 bytes: several refills of the random pool
    const built: BuiltHello[] = [];
    for (let i = 0; i < n; i++) {
      const b = buildClientHello({ version: 'TLS1.3', sni: null });
      expect(b.hello.sessionId.length).toBe(32);
      randoms.add(toHex(b.hello.random));
      sessionIds.add(toHex(b.hello.sessionId));
      built.push(b);
    }
    expect(randoms.size).toBe(n);
    expect(sessionIds.size).toBe(n);
    expect([...randoms].some((r) => sessionIds.has(r))).toBe(false);
    // Every byte is fresh, not only some: each position of each field takes many values.
    for (let at = 0; at < 32; at++) {
      expect(new Set(built.map((b) => b.hello.random[at])).size).toBeGreaterThan(64);
      expect(new Set(built.map((b) => b.hello.sessionId[at])).size).toBeGreaterThan(64);
    }
    expect(buildClientHello({ version: 'TLS1.2', sni: null }).hello.sessionId.length).toBe(0);
  });

  it('sends the share of the key pair it returns, also when the pair rotates', () => {
    const o: HelloOptions = { version: 'TLS1.3', sni: 'localhost' };
    const keys = new Set<string>();
    for (let i = 0; i <= KEY_SHARE_REUSE; i++) {
      const b = buildClientHello(o);
      expectSelfConsistent(b, o);
      expect(b.keyPairs.map((p) => p.group)).toEqual([NamedGroup.x25519]);
      keys.add(toHex(b.keyPairs[0]!.publicKey));
    }
    expect(keys.size).toBeGreaterThanOrEqual(2);
  });

  it('encodes from scratch when a given key pair does not fit the kept layout', () => {
    const o: HelloOptions = { version: 'TLS1.3', sni: 'fit.example', keyShareGroups: [NamedGroup.x25519], padTo: null };
    expectSelfConsistent(buildClientHello(o), o);
    const odd: KeyShareKeyPair = {
      group: NamedGroup.x25519,
      publicKey: new Uint8Array(31).fill(7),
      computeSecret: () => new Uint8Array(32),
    };
    const b = buildClientHello({ ...o, keyPairs: [odd] });
    expectSelfConsistent(b, o);
    expect(b.record.length).toBe(buildClientHello(o).record.length - 1);
  });

  it('keeps the padding of a padded layout (RFC 7685): an exact size, and 512 for the F5 range', () => {
    for (let i = 0; i < 3; i++)
      expect(buildClientHello({ version: 'TLS1.2', sni: 'pad.example', padTo: 700 }).record.length).toBe(700);
    const suites = suitesForVersion('TLS1.2');
    for (let n = 1; n < 120; n += 7) {
      const o: HelloOptions = { version: 'TLS1.2', sni: 'f5.example', cipherSuites: suites.slice(0, n) };
      const unpadded = buildClientHello({ ...o, padTo: null }).record.length;
      const expected = unpadded >= 256 && unpadded <= 508 ? 512 : unpadded;
      for (let k = 0; k < 2; k++) expect(buildClientHello(o).record.length).toBe(expected);
    }
  });

  it('still builds right after more distinct hellos than it keeps layouts for', () => {
    const suites = suitesForVersion('TLS1.2');
    const first: HelloOptions = { version: 'TLS1.2', sni: 'first.example', cipherSuites: suites.slice(0, 3) };
    expectSelfConsistent(buildClientHello(first), first);
    for (let n = 4; n < 4 + 2 * HELLO_TEMPLATE_CACHE; n++) {
      const o: HelloOptions = { version: 'TLS1.2', sni: null, cipherSuites: suites.slice(0, n) };
      expectSelfConsistent(buildClientHello(o), o);
    }
    expectSelfConsistent(buildClientHello(first), first);
  });
});

describe('suitesForVersion', () => {
  it('offers only suites the registry says run at that version, TLS 1.3 suites only at TLS 1.3', () => {
    for (const version of PROBE_VERSIONS) {
      const code = VERSION_CODE[version];
      const suites = suitesForVersion(version);
      expect(suites.length).toBeGreaterThan(0);
      expect(new Set(suites).size).toBe(suites.length);
      for (const s of suites) {
        const info = cipherSuiteInfo(s)!;
        expect(CIPHER_SUITES.has(s)).toBe(true);
        expect(info.tls13).toBe(version === 'TLS1.3');
        if (version !== 'TLS1.3') expect(code >= info.minVersion && code <= info.maxVersion).toBe(true);
      }
    }
  });

  it('puts forward-secret AEAD suites first and returns a copy the caller may change', () => {
    const v: ProbeVersion = 'TLS1.2';
    const list = suitesForVersion(v);
    const first = cipherSuiteInfo(list[0]!)!;
    expect(first.keyExchange).toBe('ECDHE');
    expect(first.aead).toBe(true);
    const n = list.length;
    list.length = 0;
    expect(suitesForVersion(v).length).toBe(n);
  });
});
