/**
 * The handshake ladder (`--ladder`) of probe, diagnose and replay, drawn from real attempts against
 * the lab: a reset after the ClientHello is a RST rung under the hello, a handshake a ServerHello
 * rung, a closed port one refused rung; the rungs follow the JSON the same run prints.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { attemptLadder, renderLadderText } from '../../src/report/ladder.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { runCli } from '../helpers/cli.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ names: ['reset-legacy', 'alert-legacy', 'silent-close'] });
});
afterAll(async () => {
  await lab?.close();
});
const at = (name: string) => `127.0.0.1:${lab.endpoint(name).port}`;

/** Returns the ladder block of a text report: the lines after "Handshake ladder". */
const ladderOf = (stdout: string) => stdout.slice(stdout.indexOf('Handshake ladder')).split('\n');

describe('--ladder', () => {
  it('probe: the reset comes right after the ClientHello, the handshakes end in a ServerHello', async () => {
    const json = JSON.parse((await runCli(['probe', at('reset-legacy'), '--sni', 'localhost', '--json'])).stdout)
      .results[0];
    const r = await runCli(['probe', at('reset-legacy'), '--sni', 'localhost', '--ladder']);
    // The lab's root is not among the documented roots (no --roots here): a problem found, exit 1.
    expect(r.code).toBe(1);
    const lines = ladderOf(r.stdout);
    const tls10 = lines.indexOf('TLS1.0: reset');
    expect(tls10).toBeGreaterThan(0);
    expect(lines[tls10 + 1]).toMatch(/ms {2}client ── TCP connect \(SYN\) ─+▶ server$/);
    const size = json.versions.find((v: { version: string }) => v.version === 'TLS1.0').helloBytes;
    expect(lines[tls10 + 2]).toMatch(new RegExp(`client ── ClientHello TLS1\\.0, ${size} bytes ─+▶ server$`));
    expect(lines[tls10 + 3]).toMatch(/^\s+\d+\.\d ms {2}client ◀─ TCP RST \(Windows: error 10054\) ─+ server$/);
    expect(lines[lines.indexOf('TLS1.3: negotiated') + 3]).toMatch(/client ◀─ ServerHello TLS 1\.3, TLS_/);
  }, 120_000);

  it('diagnose: alerts and closes get their own rungs', async () => {
    const alert = ladderOf((await runCli(['diagnose', at('alert-legacy'), '--sni', 'localhost', '--ladder'])).stdout);
    expect(alert.join('\n')).toMatch(/◀─ Alert fatal \w+ \(\d+\)/);
    const closed = ladderOf((await runCli(['diagnose', at('silent-close'), '--sni', 'localhost', '--ladder'])).stdout);
    expect(closed.join('\n')).toMatch(/◀─ TCP FIN, no TLS answer/);
  }, 120_000);

  it('replay: the live attempt of the replayed hello', async () => {
    const r = await runCli([
      'replay',
      join(FIXTURES_DIR, 'hello/openssl-s_client-tls12.hex'),
      '--to',
      at('reset-legacy'),
      '--ladder',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Handshake ladder \(live\):\nreplayed TLS1\.2 hello: negotiated/);
  }, 120_000);

  it('draws a connect failure as one refused rung, and a timeout as no arrow', () => {
    const refused = attemptLadder('TLS1.2', {
      version: 'TLS1.2',
      outcome: 'connect-refused',
      errorCode: 'ECONNREFUSED',
      elapsedMs: 0.4,
    });
    expect(refused.rungs).toEqual([
      { direction: 'none', kind: 'refused', label: 'TCP connect refused (ECONNREFUSED)', ms: 0.4 },
    ]);
    const silent = attemptLadder('TLS1.2', {
      version: 'TLS1.2',
      outcome: 'timeout',
      elapsedMs: 5000,
      connectMs: 1,
      helloBytes: 300,
    });
    const text = renderLadderText([silent], 80);
    expect(text).toMatch(/5000\.0 ms {2}client {4}nothing \(read timeout\) +server/);
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(attemptLadder('TLS1.0', { version: 'TLS1.0', outcome: null, notRun: 'budget' }).rungs).toEqual([]);
  });
});
