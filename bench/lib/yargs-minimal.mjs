// The floor under any yargs CLI's start-up: yargs with one command, the same global options as
// tlsprobe (help, version, strict, wrap), nothing else imported. Timed by bench/cli.mjs.
// Loaded as tlsprobe loads it (src/cli/run.ts): yargs' CommonJS build.
import { createRequire } from 'node:module';

const yargs = createRequire(import.meta.url)('yargs/yargs');

await yargs(process.argv.slice(2))
  .scriptName('minimal')
  .command(
    'run',
    'does nothing',
    () => {},
    () => {},
  )
  .demandCommand(1)
  .strict()
  .help()
  .version()
  .wrap(Math.min(110, process.stdout.columns || 100))
  .parseAsync();
