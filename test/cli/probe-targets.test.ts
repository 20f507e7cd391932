/**
 * `tlsprobe probe --targets FILE`: a fleet of lab endpoints (two labs, so each behaviour runs on two
 * ports) scanned from one list, NDJSON streamed one line per target plus a summary, each target's
 * result equal to what its endpoint is configured to accept; and the list's own errors (bad lines
 * with their numbers, a missing file, an empty list) as one line and exit code 2.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_ENDPOINT_SPECS, startLab, type Lab, type LabEndpointName } from '../../src/lab/lab.js';
import { parseTargetList, readTargetList, describeTargetListError } from '../../src/cli/target-list.js';
import { HAS_CLI, tlsprobe } from '../helpers/cli.js';

const NAMES: readonly LabEndpointName[] = ['modern', 'tls13-only', 'legacy', 'reset-legacy', 'alert-legacy'];
const labs: Lab[] = [];
let dir = '';
beforeAll(async () => {
  labs.push(await startLab({ names: [...NAMES] }), await startLab({ names: [...NAMES] }));
  dir = mkdtempSync(join(tmpdir(), 'tlsprobe-targets-'));
});
afterAll(async () => {
  await Promise.all(labs.map((l) => l.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('parseTargetList', () => {
  it('takes HOST[:PORT] lines, skipping blank lines and # comments, and keeps line numbers', () => {
    const r = parseTargetList('# fleet\n\nexample.com\n  10.0.0.5:8443   # backup\r\n[::1]:443\n', 'list.txt');
    expect(r).toEqual({
      ok: true,
      targets: [
        { host: 'example.com', port: 443, line: 3 },
        { host: '10.0.0.5', port: 8443, line: 4 },
        { host: '::1', port: 443, line: 5 },
      ],
    });
  });

  it('reports every bad line with its number, and the first one in the message', () => {
    const r = parseTargetList('good.example\nhttps://x.example/\nhost:99999\nok.example:8443\nbad host\n', 'fleet.txt');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe('bad-lines');
    expect(r.error.kind === 'bad-lines' && r.error.lines.map((l) => l.line)).toEqual([2, 3, 5]);
    expect(describeTargetListError(r.error)).toMatch(
      /^fleet\.txt:2: "https:\/\/x\.example\/": .*URL.* \(and 2 more bad lines: 3, 5\)$/,
    );
  });

  it('escapes control characters from the file in the message', () => {
    const r = parseTargetList('evil\x1b]0;owned\x07.example\n', 'f.txt');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const line = describeTargetListError(r.error);
    expect(line).not.toMatch(/[\x00-\x1f\x7f]/);
    expect(line).toMatch(/^f\.txt:1: /);
  });

  it('calls a list of only comments empty, and a missing file unreadable', async () => {
    const r = parseTargetList('# nothing\n\n', 'e.txt');
    expect(r.ok === false && r.error.kind).toBe('empty');
    const m = await readTargetList(join(dir, 'missing.txt'));
    expect(m.ok === false && m.error.kind === 'unreadable' && m.error.code).toBe('ENOENT');
  });
});

describe.skipIf(!HAS_CLI)('tlsprobe probe --targets (built CLI)', () => {
  it('streams one NDJSON line per endpoint of a 10-endpoint fleet, each equal to its configuration, then a summary', async () => {
    const entries = labs.flatMap((lab) => NAMES.map((name) => ({ name, port: lab.endpoint(name).port })));
    const list = file(
      'fleet.txt',
      ['# two labs, five behaviours each', '', ...entries.map((e) => `127.0.0.1:${e.port}   # ${e.name}`)].join('\n'),
    );
    // Both labs' roots as the anchors: every endpoint then is fine for a current client (exit 0).
    const roots = file('lab-roots.pem', labs.map((l) => l.pki.root.pem).join(''));
    const r = await tlsprobe([
      'probe',
      '--targets',
      list,
      '--ndjson',
      '--sni',
      'localhost',
      '--versions',
      'TLS1.0,TLS1.1,TLS1.2,TLS1.3',
      '--parallel',
      '4',
      '--roots',
      roots,
    ]);
    expect(r.stderr).toBe('');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(entries.length + 1);
    for (const l of lines) expect(l).toMatchObject({ schemaVersion: '1.0', command: 'probe' });
    const byPort = new Map(lines.slice(0, -1).map((l) => [l.results[0].target.port as number, l.results[0]]));
    expect([...byPort.keys()].sort()).toEqual(entries.map((e) => e.port).sort());
    for (const e of entries) {
      const accepted = byPort
        .get(e.port)!
        .versions.filter((v: { supported: boolean }) => v.supported)
        .map((v: { version: string }) => v.version);
      expect({ name: e.name, accepted }).toEqual({ name: e.name, accepted: LAB_ENDPOINT_SPECS[e.name].versions });
    }
    expect(lines.at(-1).summary).toMatchObject({
      targets: entries.length,
      reachable: entries.length,
      unreachable: 0,
      connections: entries.length * 4,
    });
    expect(r.code).toBe(0);
  });

  it('adds the list to the targets named on the command line, in order for --json', async () => {
    const a = labs[0]!.endpoint('modern').port;
    const b = labs[1]!.endpoint('tls13-only').port;
    const list = file('two.txt', `127.0.0.1:${b}\n`);
    const roots = file('lab-roots-2.pem', labs.map((l) => l.pki.root.pem).join(''));
    const r = await tlsprobe([
      'probe',
      `127.0.0.1:${a}`,
      '--targets',
      list,
      '--json',
      '--versions',
      'TLS1.3',
      '--roots',
      roots,
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).results.map((j: { target: { port: number } }) => j.target.port)).toEqual([a, b]);
  });

  it('rejects a list with bad lines before connecting: one line naming file and line, exit 2', async () => {
    const list = file('bad.txt', `127.0.0.1:${labs[0]!.endpoint('modern').port}\n\nnot a host\n`);
    const r = await tlsprobe(['probe', '--targets', list, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/bad\.txt:3: "not a host": /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects --parallel that is not a positive whole number before connecting', async () => {
    const list = file('one.txt', `127.0.0.1:${labs[0]!.endpoint('modern').port}\n`);
    for (const bad of ['0', '1.5', '-2']) {
      const r = await tlsprobe(['probe', '--targets', list, '--parallel', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--parallel takes a positive whole number/);
    }
  });

  it('rejects a missing list and no target at all with exit 2', async () => {
    const missing = await tlsprobe(['probe', '--targets', join(dir, 'nope.txt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the target list .*nope\.txt: no such file/);
    const none = await tlsprobe(['probe']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/name a HOST\[:PORT\] to probe, or --targets FILE/);
  });
});
