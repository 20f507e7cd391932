/**
 * Every command that reads a file takes `-` for standard input and says the same as from the file
 * (yargs turns a lone `-` into an empty string; run.ts gives it back). The built CLI is spawned, as
 * standard input is the point. `capture -` and `replay -` have their own tests (capture-stdin,
 * replay-cli): their inputs are streams.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
