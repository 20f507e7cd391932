/** Runs the built CLI (dist/, made by `npm ci`) as a user would, asynchronously. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from './fixtures.js';
import { validateCliOutput } from './schema.js';

export const REPO_ROOT = join(FIXTURES_DIR, '..');
export const CLI = join(REPO_ROOT, 'dist/cli/main.js');
/** False before the first build: CLI tests skip rather than fail on a missing dist/. */
export const HAS_CLI = existsSync(CLI);

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where and with what environment `tlsprobe()` runs (default: the repository root, this environment). */
export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Resolves with the exit code and output of `tlsprobe ARGS` run from the repository root. */
export function tlsprobe(args: readonly string[], input?: string | Uint8Array, opts: SpawnOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      // Every JSON output a test produces is checked against its command's schema.
      try {
        validateCliOutput(args, stdout);
      } catch (e) {
        reject(e);
        return;
      }
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/**
 * Resolves with the exit code and output of `tlsprobe ARGS` run in this process (no spawn: faster,
 * and the source is tested without a build).
 */
export async function runCli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { run } = await import('../../src/cli/run.js');
  let stdout = '';
  let stderr = '';
  const code = await run(args, { out: (t) => (stdout += t + '\n'), err: (t) => (stderr += t + '\n'), setExitCode: () => undefined, isTty: false });
  validateCliOutput(args, stdout);
  return { code, stdout, stderr };
}
