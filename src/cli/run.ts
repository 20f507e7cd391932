/**
 * The `tlsprobe` command: yargs root, global options, exit codes. User mistakes print one line and
 * exit 2; only bugs print a stack trace.
 */
import yargs from 'yargs';
import { ExitCode, UserError } from './exit-codes.js';
import type { CliContext } from './context.js';
import { decodeCommand } from './commands/decode.js';
import { probeCommand } from './commands/probe.js';
import { labCommand } from './commands/lab.js';
import { chainCommand } from './commands/chain.js';
import { rootsCommand } from './commands/roots.js';
import { replayCommand } from './commands/replay.js';
import { captureCommand } from './commands/capture.js';
import { diagnoseCommand } from './commands/diagnose.js';
import { clientsCommand } from './commands/clients.js';
import { registryCommand } from './commands/registry.js';

/** Resolves when the user stops the process (Ctrl-C or SIGTERM). */
function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Runs the CLI with `argv` and resolves to the exit code. */
export async function run(argv: readonly string[], ctx: CliContext): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const context: CliContext = {
    ...ctx,
    setExitCode(code) {
      exitCode = Math.max(exitCode, code);
      ctx.setExitCode(code);
    },
  };
  let failure: unknown = null;
  const parser = yargs([...argv])
    .scriptName('tlsprobe')
    .usage('$0 <command> [options]\n\nLooks at TLS handshakes byte by byte: builds ClientHellos, probes endpoints per version, decodes what comes back.')
    .command(decodeCommand(context))
    .command(probeCommand(context))
    .command(diagnoseCommand(context))
    .command(clientsCommand(context))
    .command(registryCommand(context))
    .command(chainCommand(context))
    .command(rootsCommand(context))
    .command(replayCommand(context))
    .command(captureCommand(context))
    .command(labCommand(context, ctx.waitForStop ?? waitForSignal))
    .demandCommand(1, 'name a command (see --help)')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      failure = err ?? new UserError(msg);
    })
    .exitProcess(false);
  try {
    await parser.parseAsync();
  } catch (e) {
    failure = failure ?? e;
  }
  if (failure !== null) {
    if (failure instanceof UserError) {
      ctx.err(`tlsprobe: ${failure.message}`);
      if (!argv.includes('--help')) ctx.err('Try --help for usage.');
      return Math.max(exitCode, failure.exitCode);
    }
    ctx.err(`tlsprobe: internal error: ${(failure as Error)?.stack ?? String(failure)}`);
    return ExitCode.internal;
  }
  return exitCode;
}

