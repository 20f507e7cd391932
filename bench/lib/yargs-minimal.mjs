// The floor under any yargs CLI's start-up: yargs with one command, the same global options as
// tlsprobe (help, version, strict, wrap), nothing else imported. Timed by bench/cli.mjs.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

await yargs(hideBin(process.argv))
  .scriptName('minimal')
  .command('run', 'does nothing', () => {}, () => {})
  .demandCommand(1)
  .strict()
  .help()
  .version()
  .wrap(Math.min(110, process.stdout.columns || 100))
  .parseAsync();
