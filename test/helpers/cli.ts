/** Runs the built CLI (dist/, made by `npm ci`) as a user would, asynchronously. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FIXTURES_DIR } from './fixtures.js';
import { validateCliOutput } from './schema.js';

export const REPO_ROOT = join(FIXTURES_DIR, '..');
/**
 * The CLI the tests run: dist/cli/main.js (tsc's output), or the file named by $TLSPROBE_TEST_CLI,
 * e.g. `TLSPROBE_TEST_CLI=dist/bundle/tlsprobe.js` to run the CLI tests against the bundled CLI.
 */
export const CLI = resolve(REPO_ROOT, process.env.TLSPROBE_TEST_CLI ?? 'dist/cli/main.js');
/** False before the first build: CLI tests skip rather than fail on a missing dist/. */
export const HAS_CLI = existsSync(CLI);

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Throws when `stderr` holds a stack trace: whatever a test makes the CLI do, a user, a file or a
 * server caused it, and the CLI answers those with one line (issue 14). Every run through these
 * helpers is checked, so no CLI test can pass with a stack trace on stderr.
 */
export function assertNoStackTrace(stderr: string, args: readonly string[]): void {
  if (/^\s{4}at /m.test(stderr)) throw new Error(`tlsprobe ${args.join(' ')} printed a stack trace:\n${stderr}`);
}

/** Where and with what environment `tlsprobe()` runs (default: the repository root, this environment). */
export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Resolves with the exit code and output (decoded as UTF-8) of `node ARGV`, stdin given `input` or closed. */
export function runNode(
  argv: readonly string[],
  input?: string | Uint8Array,
  opts: SpawnOptions = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...argv], { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/**
 * Resolves with the exit code and output of `tlsprobe ARGS` run from the repository root; rejects
 * when stderr holds a stack trace or a JSON output does not match its command's schema.
 */
export async function tlsprobe(
  args: readonly string[],
  input?: string | Uint8Array,
  opts: SpawnOptions = {},
): Promise<CliRun> {
  const r = await runNode([CLI, ...args], input, opts);
  assertNoStackTrace(r.stderr, args);
  validateCliOutput(args, r.stdout);
  return r;
}

/**
 * Resolves with the exit code and output of `tlsprobe ARGS` run in this process (no spawn: faster,
 * and the source is tested without a build).
 */
export async function runCli(
  args: readonly string[],
  signal?: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { run } = await import('../../src/cli/run.js');
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    out: (t) => (stdout += `${t}\n`),
    err: (t) => (stderr += `${t}\n`),
    setExitCode: () => undefined,
    isTty: false,
    ...(signal ? { signal } : {}),
  });
  assertNoStackTrace(stderr, args);
  validateCliOutput(args, stdout);
  return { code, stdout, stderr };
}
