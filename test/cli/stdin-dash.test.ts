/**
 * Every command that reads a file takes `-` for standard input and says the same as from the file,
 * as a positional argument and as the value of an option (yargs turns a lone `-` into an empty
 * string in both places; run.ts gives it back). The built CLI is spawned, as
 * standard input is the point. `capture -` and `replay -` have their own tests (capture-stdin,
 * replay-cli): their inputs are streams.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HAS_CLI, tlsprobe } from '../helpers/cli.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

const CASES: readonly (readonly [command: string, file: string])[] = [
  ['decode', 'hello/openssl-s_client-tls13.hex'],
  ['registry', 'reg/10.configured.utf8.reg'],
  ['chain', 'pcap/chain.pem'],
  ['capture', 'pcap/alert.pcapng'],
];

describe.skipIf(!HAS_CLI)('- reads standard input', () => {
  for (const [command, rel] of CASES) {
    it(`${command} - says what ${command} FILE says`, async () => {
      const file = join(FIXTURES_DIR, rel);
      const fromFile = await tlsprobe([command, file, '--json']);
      const fromStdin = await tlsprobe([command, '-', '--json'], readFileSync(file));
      expect(fromStdin.stderr).toBe(fromFile.stderr.replaceAll(file, '-'));
      expect(fromStdin.code).toBe(fromFile.code);
      expect(JSON.parse(fromStdin.stdout)).toEqual(JSON.parse(fromFile.stdout.replaceAll(file, '-')));
      expect(JSON.parse(fromStdin.stdout)).not.toHaveProperty('error');
    });
  }
});

describe.skipIf(!HAS_CLI)('- as the value of an option reads standard input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-stdin-dash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Port 1 on loopback refuses at once: each run ends as unreachable (exit 3), after reading its input.
  const cases: readonly (readonly [name: string, before: readonly string[], option: string, input: string])[] = [
    ['probe --targets -', ['probe', '--json'], '--targets', '127.0.0.1:1\n'],
    [
      'diagnose --client-hello -',
      ['diagnose', '127.0.0.1:1', '--json'],
      '--client-hello',
      readFileSync(join(FIXTURES_DIR, 'hello/openssl-s_client-tls12.hex'), 'utf8'),
    ],
  ];
  for (const [name, before, option, input] of cases) {
    it(`${name} says what it says with a FILE`, async () => {
      const file = join(dir, `${option.slice(2)}.txt`);
      writeFileSync(file, input);
      const fromFile = await tlsprobe([...before, option, file]);
      const fromStdin = await tlsprobe([...before, option, '-'], input);
      expect(fromFile.code).toBe(3);
      expect(fromStdin.code).toBe(fromFile.code);
      const stable = (out: string): unknown =>
        // The file is named by its path, standard input as such.
        JSON.parse(out.replaceAll(file, '-').replaceAll('standard input', '-'), (k, v: unknown) =>
          /Ms$|^ms$|^elapsed/.test(k) ? 0 : v,
        );
      expect(stable(fromStdin.stdout)).toEqual(stable(fromFile.stdout));
      expect(JSON.parse(fromStdin.stdout)).not.toHaveProperty('error');
    }, 60_000);
  }
});
