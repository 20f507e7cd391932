import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/run.js';
import type { CliContext } from '../../src/cli/context.js';
import { HAS_CLI, runCli, tlsprobe } from '../helpers/cli.js';

const ctx: CliContext = { out: () => undefined, err: () => undefined, setExitCode: () => undefined, isTty: false };

describe('the lazy command table', () => {
  it.each(COMMANDS.map((c) => [c.command, c] as const))('declares %s exactly as its module does', async (_name, entry) => {
    const module = await entry.load(ctx, async () => undefined);
    expect(entry.command).toBe(module.command);
    expect(entry.aliases).toEqual(module.aliases ?? []);
    expect(entry.describe).toBe(module.describe);
  });

  // yargs prints help with console.log, so these two run the built CLI.
  it.skipIf(!HAS_CLI)('lists every command with its description in the top-level help', async () => {
    const { code, stdout } = await tlsprobe(['--help']);
    expect(code).toBe(0);
    const flat = stdout.replace(/\s+/g, ' ');
    for (const c of COMMANDS) {
      expect(stdout).toContain(`tlsprobe ${c.command}`);
      expect(flat).toContain(c.describe.split(' ').slice(0, 6).join(' '));
    }
  });

  it.skipIf(!HAS_CLI)('runs a command named by its alias and shows its own options in its help', async () => {
    const { code, stdout } = await tlsprobe(['pcap', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--keylog');
  });

  it('rejects a mistyped command with exit code 2, one line and the command it resembles', async () => {
    const { code, stderr } = await runCli(['prob', 'example.com']);
    expect(code).toBe(2);
    expect(stderr).toBe('tlsprobe: Did you mean probe?\nTry --help for usage.\n');
  });

  it('rejects a mistyped option before the command does anything', async () => {
    // Were the handler run, the probe of port 1 would print a refused connection to stdout.
    const { code, stdout, stderr } = await runCli(['probe', '127.0.0.1:1', '--timout', '1', '--json']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^tlsprobe: Unknown arguments?: timout/);
  });
});
