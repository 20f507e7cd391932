#!/usr/bin/env node
/** The `tlsprobe` executable: runs the CLI on the process's arguments and sets the exit code. */
import { once } from 'node:events';
import { run } from './run.js';

process.exitCode = await run(process.argv.slice(2), {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  setExitCode: () => {},
  isTty: Boolean(process.stderr.isTTY),
  // A pipe to a slower reader buffers what `out` writes: long outputs wait for it to drain.
  outputDrained: () =>
    process.stdout.writableNeedDrain ? once(process.stdout, 'drain').then(() => undefined) : Promise.resolve(),
});
