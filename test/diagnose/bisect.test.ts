/**
 * ClientHello bisection against lab endpoints whose trigger is known: reset-legacy resets on the
 * version, picky-size on a 256–511 byte record, picky-scsv on a TLS 1.2 hello without the
 * renegotiation SCSV. Bisection must name exactly that cause.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bisectHello } from '../../src/diagnose/bisect.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { buildClientHello, suitesForVersion, type HelloOptions } from '../../src/probe/profiles.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ names: ['reset-legacy', 'picky-size', 'picky-scsv', 'legacy', 'tls13-only'] });
});
afterAll(async () => {
  await lab?.close();
});

function target(name: string) {
  const e = lab.endpoint(name);
  return { host: 'localhost', address: e.host, port: e.port };
}

const OPTS = { readTimeoutMs: 3000 };

describe('bisectHello', () => {
  it('names the version as the cause against reset-legacy', async () => {
    const r = await bisectHello(
      target('reset-legacy'),
      { version: 'TLS1.0', sni: 'localhost' },
      { version: 'TLS1.2', sni: 'localhost' },
      OPTS,
    );
    expect(r.failing).toBe('reset');
    expect(r.working).toBe('negotiated');
    expect(r.cause?.dimension).toBe('version');
    // The suite list and the size were tried first and did not help: the version gate is the cause.
    expect(r.steps.find((s) => s.dimension === 'cipher-suites')).toMatchObject({ success: false, outcome: 'reset' });
    expect(r.steps.find((s) => s.dimension === 'version')?.success).toBe(true);
    expect(r.connections).toBe(2 + r.steps.length);
    expect(r.note).toBeNull();
  });

  it('names the hello size as the cause against picky-size, before the suite list that also changes the size', async () => {
    let failing: HelloOptions | null = null;
    for (let n = 1; n < 200 && !failing; n++) {
      const h: HelloOptions = {
        version: 'TLS1.2',
        sni: 'localhost',
        cipherSuites: suitesForVersion('TLS1.2').slice(0, n),
        padTo: null,
      };
      const size = buildClientHello(h).record.length;
      if (size >= 300 && size <= 480) failing = h;
    }
    expect(failing).not.toBeNull();
    const working: HelloOptions = { version: 'TLS1.2', sni: 'localhost' };
    const r = await bisectHello(target('picky-size'), failing!, working, OPTS);
    expect(r.failing).toBe('reset');
    expect(r.failingBytes).toBeGreaterThanOrEqual(256);
    expect(r.failingBytes).toBeLessThanOrEqual(511);
    expect(r.cause?.dimension).toBe('size');
    const sizeSteps = r.steps.filter((s) => s.dimension === 'size');
    expect(sizeSteps.every((s) => s.helloBytes >= 512 && s.success)).toBe(true);
    // The longer suite list works too, but only because it makes the hello bigger: it ranks later.
    expect(r.steps.find((s) => s.dimension === 'cipher-suite-count')?.success).toBe(true);
  });

  it('names the renegotiation SCSV as the cause against picky-scsv', async () => {
    const failing: HelloOptions = { version: 'TLS1.2', sni: 'localhost', renegotiationScsv: false };
    const r = await bisectHello(target('picky-scsv'), failing, { version: 'TLS1.2', sni: 'localhost' }, OPTS);
    expect(r.failing).toBe('reset');
    expect(r.cause).toEqual({
      dimension: 'renegotiation-scsv',
      change: expect.stringMatching(/^add TLS_EMPTY_RENEGOTIATION_INFO_SCSV/),
    });
    expect(r.steps).toHaveLength(1);
  });

  it('tries a TLS 1.3 version change with the TLS 1.3 suites', async () => {
    const r = await bisectHello(
      target('tls13-only'),
      { version: 'TLS1.2', sni: 'localhost' },
      { version: 'TLS1.3', sni: 'localhost' },
      OPTS,
    );
    expect(r.failing).toBe('alert');
    expect(r.cause?.dimension).toBe('version');
    expect(r.cause?.change).toMatch(/with the TLS 1\.3 suites/);
  });

  it('stops with a note when the failing hello succeeds', async () => {
    const r = await bisectHello(
      target('legacy'),
      { version: 'TLS1.0', sni: 'localhost' },
      { version: 'TLS1.2', sni: 'localhost' },
      OPTS,
    );
    expect(r.failing).toBe('negotiated');
    expect(r.steps).toEqual([]);
    expect(r.cause).toBeNull();
    expect(r.note).toMatch(/failing hello succeeded/);
    expect(r.connections).toBe(2);
  });

  it('stops with a note when the working hello fails', async () => {
    const r = await bisectHello(
      target('reset-legacy'),
      { version: 'TLS1.0', sni: 'localhost' },
      { version: 'TLS1.1', sni: 'localhost' },
      OPTS,
    );
    expect(r.working).toBe('reset');
    expect(r.cause).toBeNull();
    expect(r.note).toMatch(/working hello failed too \(reset\)/);
  });
});
