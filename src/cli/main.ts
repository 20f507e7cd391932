#!/usr/bin/env node
/** The `tlsprobe` executable: runs the CLI on the process's arguments and sets the exit code. */
import { hideBin } from 'yargs/helpers';
import { run } from './run.js';

process.exitCode = await run(hideBin(process.argv), {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  setExitCode: () => {},
  isTty: Boolean(process.stderr.isTTY),
});
