import { describe, expect, it } from 'vitest';
import { COMMANDS, yargsTopLevelHelp } from '../../src/cli/run.js';
import {
  ABOUT,
  MIN_FAST_HELP_WIDTH,
  USAGE,
  examplesEpilog,
  packageVersion,
  renderTopLevelHelp,
  wrapWords,
} from '../../src/cli/top-help.js';
import { readFileSync } from 'node:fs';
import type { CliContext } from '../../src/cli/context.js';
import { HAS_CLI, runCli, tlsprobe } from '../helpers/cli.js';

const ctx: CliContext = { out: () => undefined, err: () => undefined, setExitCode: () => undefined, isTty: false };

describe('the lazy command table', () => {
  it.each(COMMANDS.map((c) => [c.command, c] as const))(
    'declares %s exactly as its module does',
    async (_name, entry) => {
      const module = await entry.load(ctx, async () => undefined);
      expect(entry.command).toBe(module.command);
      expect(entry.aliases).toEqual(module.aliases ?? []);
      expect(entry.describe).toBe(module.describe);
    },
  );

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
    // Were the handler run, the probe of port 1 would print a refused connection to stdout; under
    // --json the only output is the error object (issue 14: --json always prints JSON).
    const { code, stdout, stderr } = await runCli(['probe', '127.0.0.1:1', '--timout', '1', '--json']);
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({
      schemaVersion: '1.0',
      command: 'probe',
      error: { code: 'usage', message: expect.stringMatching(/^Unknown arguments?: timout/) },
    });
    expect(stderr).toMatch(/^tlsprobe: Unknown arguments?: timout/);
  });
});

describe('the top-level help without yargs', () => {
  it.each([MIN_FAST_HELP_WIDTH, 90, 100, 104, 110])(
    'is what yargs renders, line for line, at %i columns',
    async (width) => {
      expect(renderTopLevelHelp(COMMANDS, width, examplesEpilog())).toBe(await yargsTopLevelHelp(width));
    },
  );

  it('still matches yargs when a description wraps differently or a command has several aliases', async () => {
    // The layout rules (column width from the longest command, hints on the last line or below)
    // checked on made-up commands against yargs itself, through the same table-driven renderer.
    const { default: yargs } = await import('yargs/yargs' as string);
    const commands = [
      { command: 'x <a>', aliases: ['y', 'z'], describe: 'word '.repeat(40).trim() },
      {
        command: 'c',
        aliases: ['cc'],
        describe: 'exactly enough words to end close to the right edge of the screen here ok',
      },
    ];
    for (const width of [80, 100, 110]) {
      // biome-ignore lint/suspicious/noExplicitAny: the bare yargs factory, as src/cli/run.ts loads it
      const p = (yargs as (a: string[]) => any)([]).scriptName('tlsprobe').usage(`${USAGE}\n\n${ABOUT}`);
      for (const c of commands) p.command({ ...c, handler: () => {} });
      const expected: string = await p.help().alias('h', 'help').version().wrap(width).getHelp();
      expect(renderTopLevelHelp(commands, width)).toBe(expected);
    }
    // A command longer than half the width is wrapped inside its column by yargs: left to yargs.
    expect(
      renderTopLevelHelp(
        [...commands, { command: 'a-much-longer-command-name-than-half [b..]', aliases: [], describe: 'short' }],
        80,
      ),
    ).toBeNull();
    expect(renderTopLevelHelp(COMMANDS, MIN_FAST_HELP_WIDTH - 1)).toBeNull();
  });

  it('wraps at spaces and splits a word longer than the line', () => {
    expect(wrapWords('aa bb cc', 5)).toEqual(['aa bb', 'cc']);
    expect(wrapWords('abcdefghij k', 4)).toEqual(['abcd', 'efgh', 'ij k']);
  });

  it('prints --version from package.json, as yargs does', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(packageVersion()).toBe(pkg.version);
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${pkg.version}\n`);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('tlsprobe capture <file>');
  });
});
