/**
 * The yargs the bundle holds (scripts/build-bundle.mjs, `yargsForBundle`): the installed CommonJS
 * build with the parts of its platform shim that only help, usage errors and `commandDir` use
 * (cliui and its string-width, wrap-ansi, ansi-styles; get-caller-file, require-directory) required
 * at their first call. Checked by running the transformed build with a `require` that records what
 * it is asked for: a probe's command line parses without them, help still renders with them.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YARGS_LAZY, yargsForBundle } from '../../scripts/build-bundle.mjs';

const realRequire = createRequire(import.meta.url);
/** The file the bundler reads (yargs' `exports` do not name it: found from its package.json). */
const YARGS_BUILD = join(dirname(realRequire.resolve('yargs/package.json')), 'build/index.cjs');
const LAZY = ['cliui', 'string-width', 'get-caller-file', 'require-directory'];

type YargsFactory = typeof import('yargs/yargs');

/** Returns the yargs factory of the transformed build, and the ids its `require` was asked for. */
function transformedYargs(): { yargs: YargsFactory; required: string[] } {
  const required: string[] = [];
  const buildRequire = createRequire(YARGS_BUILD);
  const req = Object.assign(
    (id: string) => {
      required.push(id);
      return buildRequire(id);
    },
    { resolve: buildRequire.resolve, main: undefined },
  );
  const module = { exports: {} as { Yargs: (argv: string[], cwd: string) => ReturnType<YargsFactory> } };
  new Function('require', 'module', 'exports', yargsForBundle(readFileSync(YARGS_BUILD, 'utf8')))(
    req,
    module,
    module.exports,
  );
  // The factory as yargs/yargs exports it (argv only; its statics are not used here).
  const yargs = ((argv: string[]) => module.exports.Yargs(argv, process.cwd())) as unknown as YargsFactory;
  return { yargs, required };
}

describe('yargs in the bundle', () => {
  it('replaces each lazy part once in the installed yargs build', () => {
    const text = readFileSync(YARGS_BUILD, 'utf8');
    for (const [from] of YARGS_LAZY) expect(text.split(from).length - 1, from).toBe(1);
    const out = yargsForBundle(text);
    for (const [from, to] of YARGS_LAZY) {
      expect(out).not.toContain(from);
      expect(out).toContain(to);
    }
  });

  it('parses a command line without requiring what only help uses, and requires it for help', async () => {
    const { yargs, required } = transformedYargs();
    let ran = false;
    const parser = yargs(['probe', '127.0.0.1:443', '--json']);
    // As run.ts's skipHelpCache: yargs would render the help after each handler, for nothing.
    const internal = (
      parser as unknown as { getInternalMethods: () => { getUsageInstance: () => { cacheHelpMessage: () => void } } }
    ).getInternalMethods();
    internal.getUsageInstance().cacheHelpMessage = () => {};
    const argv = await parser
      .command(
        'probe [hosts..]',
        'probe',
        (y) => y.option('json', { type: 'boolean' }),
        () => {
          ran = true;
        },
      )
      .strict()
      .exitProcess(false)
      .parseAsync();
    expect(ran).toBe(true);
    expect(argv.json).toBe(true);
    expect(required.filter((id) => LAZY.includes(id))).toEqual([]);

    const help = await yargs([]).command('probe [hosts..]', 'probe').exitProcess(false).getHelp();
    expect(help).toContain('probe [hosts..]');
    expect(required).toContain('cliui');
    expect(required).toContain('string-width');
  });
});
