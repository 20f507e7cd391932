/**
 * yargs 17's CommonJS build, loaded with `require` when a command line needs parsing (the top-level
 * `--help` and `--version` do not: top-help.ts): the ESM entry points of yargs (17's `index.mjs`,
 * all of 18) load as dozens of ES modules and cost 100–130 ms more at every start on these machines
 * (BENCHMARKS.md, `tlsprobe --help` start-up).
 *
 * The bundled CLI (scripts/build-bundle.mjs) puts this same CommonJS build inside the bundle, in a
 * chunk of its own: it replaces this module with one that imports that chunk.
 */
import { createRequire } from 'node:module';

export type Yargs = typeof import('yargs/yargs');

/**
 * Resolves with yargs' `yargs/yargs` factory, as its CommonJS build exports it. Asynchronous for the
 * bundle's sake: there yargs is a chunk of its own, imported only by a command line that needs it.
 */
export async function requireYargs(): Promise<Yargs> {
  return createRequire(import.meta.url)('yargs/yargs') as Yargs;
}
