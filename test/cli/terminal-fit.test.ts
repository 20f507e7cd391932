/**
 * The text reports fit the terminal: with COLUMNS=80 (and 60) no line of probe, diagnose, clients
 * or capture is longer than the width, tables and prose alike; the table words are the JSON's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { fitColumns, renderTable } from '../../src/report/table.js';
import { outputWidth, wrapProse } from '../../src/report/fit.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { HAS_CLI, tlsprobe } from '../helpers/cli.js';

const longest = (text: string) => Math.max(...text.split('\n').map((l) => l.length));

describe('fitting', () => {
  it('takes the width from COLUMNS, then the terminal, then 100', () => {
    expect(outputWidth({ COLUMNS: '80' }, 200)).toBe(80);
    expect(outputWidth({}, 132)).toBe(132);
    expect(outputWidth({}, undefined)).toBe(100);
    expect(outputWidth({ COLUMNS: 'wide' }, undefined)).toBe(100);
  });

  it('squeezes the widest column first and wraps its cells', () => {
    expect(fitColumns([10, 50, 10], 60)).toEqual([10, 36, 10]);
    const t = renderTable(
      ['Name', 'Detail'],
      [
        ['a', 'word '.repeat(40).trim()],
        ['b', 'x'.repeat(90)],
      ],
      50,
    );
    expect(longest(t)).toBeLessThanOrEqual(50);
    expect(t.replace(/[│\s]/g, '')).toContain('x'.repeat(20));
  });

  it('prints rows as blocks when the headers cannot stay whole', () => {
    const head = Array.from({ length: 12 }, (_, i) => `Heading${i}`);
    const t = renderTable(head, [head.map((h) => `${h}-value`)], 60);
    expect(longest(t)).toBeLessThanOrEqual(60);
    expect(t).toContain('Heading5');
    expect(t).toContain('Heading5-value');
  });

  it('wraps prose with an indent after the first line', () => {
    expect(
      wrapProse(`- [registry] ${'word '.repeat(30).trim()}`, 40, 2)
        .split('\n')
        .slice(1)
        .every((l) => l.startsWith('  ') && l.length <= 40),
    ).toBe(true);
  });
});

describe.skipIf(!HAS_CLI)('COLUMNS=80 output of the built CLI', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ names: ['modern', 'reset-legacy'] });
  });
  afterAll(async () => {
    await lab?.close();
  });

  const at = (name: string) => `127.0.0.1:${lab.endpoint(name).port}`;
  const cases: [string, () => string[]][] = [
    ['probe', () => ['probe', at('reset-legacy'), '--sni', 'localhost', '--ciphers']],
    ['probe --ladder', () => ['probe', at('reset-legacy'), '--sni', 'localhost', '--ladder']],
    [
      'diagnose',
      () => [
        'diagnose',
        at('reset-legacy'),
        '--sni',
        'localhost',
        '--os',
        '2008r2',
        '--client',
        'win7-schannel',
        '--bisect',
      ],
    ],
    ['clients', () => ['clients']],
    ['clients HOST', () => ['clients', at('reset-legacy'), '--sni', 'localhost']],
    ['capture', () => ['capture', join(FIXTURES_DIR, 'pcap', 'reset-after-hello.pcapng'), '--fingerprints']],
  ];
  for (const width of [80, 60]) {
    it.each(cases)(
      `%s has no line over ${width} characters`,
      async (_name, args) => {
        const r = await tlsprobe(args(), undefined, { env: { ...process.env, COLUMNS: String(width) } });
        expect(r.stderr).not.toMatch(/internal error/);
        expect(r.stdout.length).toBeGreaterThan(0);
        const over = r.stdout.split('\n').filter((l) => l.length > width);
        expect(over).toEqual([]);
      },
      120_000,
    );
  }

  it('says negotiated in the table where the JSON says negotiated', async () => {
    const text = await tlsprobe(['probe', at('modern'), '--sni', 'localhost', '--versions', 'TLS1.2']);
    expect(text.stdout).toMatch(/TLS1\.2\s+│ negotiated/);
    expect(text.stdout).not.toMatch(/accepted/);
  }, 120_000);
});
