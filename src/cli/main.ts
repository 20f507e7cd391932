#!/usr/bin/env node
/**
 * The `tlsprobe` executable: runs the CLI on the process's arguments and sets the exit code.
 *
 * Standard output that fails: EPIPE (the reader went away, `tlsprobe … | head`) ends the process
 * quietly with ExitCode.brokenPipe (141, what the shell reports for SIGPIPE); any other write error
 * (ENOSPC on a full disk, EIO) prints one line on stderr and exits 2.
 */
import { ExitCode } from './exit-codes.js';
import { errnoText, outputMode, reportFailure, toCliError } from './failure.js';
import { once } from 'node:events';
import { run } from './run.js';
import { escapeJsonText } from '../report/escape.js';

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(ExitCode.brokenPipe);
  process.stderr.write(`tlsprobe: cannot write standard output: ${errnoText(e)}\n`);
  process.exit(ExitCode.usage);
});
// Nowhere left to report a failing stderr: its errors are dropped, never thrown as a stack trace.
process.stderr.on('error', () => {});

// An error no command caught (an 'error' event on a stream nobody listened to, a stray rejection)
// still ends as one line through the CLI's error path, typed when it is a file or network error.
const lastResort = (e: unknown): void => {
  const mode = outputMode(process.argv.slice(2));
  const code = reportFailure(
    toCliError(e),
    mode,
    { out: (t) => process.stdout.write(`${escapeJsonText(t)}\n`), err: (t) => process.stderr.write(`${t}\n`) },
    e,
  );
  process.stdout.write('', () => process.exit(code));
};
process.on('uncaughtException', lastResort);
process.on('unhandledRejection', lastResort);

const code = await run(process.argv.slice(2), {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  setExitCode: () => {},
  isTty: Boolean(process.stderr.isTTY),
  // A pipe to a slower reader buffers what `out` writes: long outputs wait for it to drain.
  outputDrained: () =>
    process.stdout.writableNeedDrain ? once(process.stdout, 'drain').then(() => undefined) : Promise.resolve(),
});
process.exitCode = code;
// An interrupted command may leave sockets or timers behind on purpose: end once output is out.
if (code === ExitCode.interrupted) process.stdout.write('', () => process.exit(code));
