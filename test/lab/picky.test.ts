/**
 * The picky lab endpoints: each resets exactly the hellos with its trait (a 256–511 byte record, or
 * a TLS 1.2 hello without any renegotiation signal) and serves every other hello with a real TLS stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import {
  firstRecordSize,
  handshakeFailureAlert,
  helloHasTrait,
  isPickySize,
  lacksRenegotiationSignal,
  ruleOfTrait,
  type PickyRule,
} from '../../src/lab/picky.js';
import { PICKY_LARGE_MIN } from '../../src/lab/endpoints.js';
import { attempt } from '../../src/probe/attempt.js';
import { buildClientHello, suitesForVersion, type HelloOptions } from '../../src/probe/profiles.js';
import { highestOfferedVersion, parseClientHello } from '../../src/tls/client-hello.js';
import { fromHex } from '../../src/wire/hex.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ names: ['picky-size', 'picky-scsv', 'picky-sni'] });
});
afterAll(async () => {
  await lab?.close();
});

function target(name: string) {
  const e = lab.endpoint(name);
  return { host: 'localhost', address: e.host, port: e.port };
}

/** A TLS 1.2 hello of `suites` suites, never padded, so its size is whatever the suites make it. */
function unpadded(suites: number): HelloOptions {
  return {
    version: 'TLS1.2',
    sni: 'localhost',
    cipherSuites: suitesForVersion('TLS1.2').slice(0, suites),
    padTo: null,
  };
}

/** Returns an unpadded TLS 1.2 hello whose record size lands inside 256–511 bytes. */
function helloInHangRange(): HelloOptions {
  for (let n = 1; n < 200; n++) {
    const size = buildClientHello(unpadded(n)).record.length;
    if (size >= 300 && size <= 480) return unpadded(n);
  }
  throw new Error('no suite count gives a 300–480 byte hello');
}

describe('picky-size predicates', () => {
  it('takes the range 256–511 inclusive from RFC 7685', () => {
    expect([255, 256, 511, 512].map(isPickySize)).toEqual([false, true, true, false]);
  });

  it('reads the first record length from its header, header included', () => {
    const built = buildClientHello(helloInHangRange());
    expect(firstRecordSize(built.record)).toBe(built.record.length);
    expect(firstRecordSize(Uint8Array.from([0x17, 3, 3, 0, 1]))).toBeNull();
  });
});

describe('size rules', () => {
  it('measure the first record: picky-size takes 256–511 bytes, picky-large anything past one segment (from PICKY_LARGE_MIN)', () => {
    const h = parseClientHello(buildClientHello(helloInHangRange()).record.subarray(5));
    const large: PickyRule = { kind: 'size', min: PICKY_LARGE_MIN, max: Number.POSITIVE_INFINITY };
    expect([PICKY_LARGE_MIN - 1, PICKY_LARGE_MIN, 1725].map((n) => helloHasTrait(large, h, 0x0303, n))).toEqual([
      false,
      true,
      true,
    ]);
    expect([255, 256, 511, 512].map((n) => helloHasTrait(ruleOfTrait('size'), h, 0x0303, n))).toEqual([
      false,
      true,
      true,
      false,
    ]);
  });
});

describe('picky-size endpoint', () => {
  it('resets a hello whose record is 256–511 bytes', async () => {
    const h = helloInHangRange();
    const size = buildClientHello(h).record.length;
    expect(isPickySize(size)).toBe(true);
    const r = await attempt(target('picky-size'), h, { readTimeoutMs: 3000 });
    expect(r.outcome).toBe('reset');
    expect(r.errorCode).toBe('ECONNRESET');
  });

  it('serves the same hello padded to 512 bytes', async () => {
    const h = { ...helloInHangRange(), padTo: 512 };
    expect(buildClientHello(h).record.length).toBe(512);
    const r = await attempt(target('picky-size'), h);
    expect(r.outcome).toBe('negotiated');
    expect(r.negotiatedVersion).toBe(0x0303);
  });

  it('serves a hello below 256 bytes', async () => {
    const h: HelloOptions = { ...unpadded(4), groups: [0x001d, 0x0017], signatureSchemes: [0x0804, 0x0401, 0x0403] };
    expect(buildClientHello(h).record.length).toBeLessThan(256);
    const r = await attempt(target('picky-size'), h);
    expect(r.outcome).toBe('negotiated');
  });
});

describe('picky-scsv predicates', () => {
  it('flags only TLS 1.2 hellos with neither the SCSV nor renegotiation_info', () => {
    const bare = buildClientHello({ version: 'TLS1.2', sni: null, renegotiationScsv: false }).hello;
    const scsv = buildClientHello({ version: 'TLS1.2', sni: null }).hello;
    const withExt = {
      ...bare,
      extensions: [
        ...(bare.extensions ?? []),
        { kind: 'renegotiation_info' as const, type: 0xff01 as const, renegotiatedConnection: new Uint8Array(0) },
      ],
    };
    expect(lacksRenegotiationSignal(bare, 0x0303)).toBe(true);
    expect(lacksRenegotiationSignal(scsv, 0x0303)).toBe(false);
    const tls13 = parseClientHello(
      buildClientHello({ version: 'TLS1.3', sni: null, renegotiationScsv: false }).message,
    );
    expect(lacksRenegotiationSignal(tls13, highestOfferedVersion(tls13))).toBe(false);
    expect(lacksRenegotiationSignal(withExt, 0x0303)).toBe(false);
  });
});

describe('picky-scsv endpoint', () => {
  it('resets a TLS 1.2 hello without the renegotiation SCSV', async () => {
    const r = await attempt(
      target('picky-scsv'),
      { version: 'TLS1.2', sni: 'localhost', renegotiationScsv: false },
      { readTimeoutMs: 3000 },
    );
    expect(r.outcome).toBe('reset');
  });

  it('serves a TLS 1.2 hello with the SCSV, and one with renegotiation_info instead', async () => {
    const withScsv = await attempt(target('picky-scsv'), { version: 'TLS1.2', sni: 'localhost' });
    expect(withScsv.outcome).toBe('negotiated');
    const bare = buildClientHello({ version: 'TLS1.2', sni: 'localhost', renegotiationScsv: false }).hello;
    const hello = {
      ...bare,
      extensions: [
        ...(bare.extensions ?? []),
        { kind: 'renegotiation_info' as const, type: 0xff01 as const, renegotiatedConnection: new Uint8Array(0) },
      ],
    };
    const withExt = await attempt(target('picky-scsv'), { version: 'TLS1.2', hello });
    expect(withExt.outcome).toBe('negotiated');
  });

  it('serves a TLS 1.3 hello without the SCSV', async () => {
    const r = await attempt(target('picky-scsv'), { version: 'TLS1.3', sni: 'localhost', renegotiationScsv: false });
    expect(r.outcome).toBe('negotiated');
    expect(r.negotiatedVersion).toBe(0x0304);
  });
});

describe('picky-sni endpoint', () => {
  it('writes handshake_failure as a fatal alert record: type 21, length 2, level 2, description 40', () => {
    // RFC 5246, Section 6.2.1 and 7.2: ContentType alert(21), fatal(2), handshake_failure(40).
    expect(handshakeFailureAlert(0x0301)).toEqual(fromHex('15 03 01 00 02 02 28'));
    expect(handshakeFailureAlert(0x0304)).toEqual(fromHex('15 03 03 00 02 02 28'));
  });

  it('refuses a hello without SNI with a handshake_failure alert and serves one with SNI', async () => {
    const without = await attempt(target('picky-sni'), { version: 'TLS1.2', sni: null });
    expect(without.outcome).toBe('alert');
    expect(without.alert?.name).toBe('handshake_failure');
    const withSni = await attempt(target('picky-sni'), { version: 'TLS1.0', sni: 'localhost' });
    expect(withSni.outcome).toBe('negotiated');
    expect(withSni.negotiatedVersion).toBe(0x0301);
  });
});
