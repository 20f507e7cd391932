/**
 * The CLI's one error path: whatever a command throws becomes a `CliError`, printed as one line on
 * stderr (`tlsprobe: MESSAGE`, "Try --help for usage." only after a usage error) or, under --json or
 * --ndjson, as `{ "schemaVersion", "command", "error": { "code", "message" } }` on stdout, plus what the command finished
 * before failing. Never a stack trace for anything a user, a file or a server can cause; a bug
 * prints one line too (and its stack only with TLSPROBE_DEBUG=1).
 */
import { DecodeError } from '../wire/errors.js';
import { CliError, ExitCode, UsageError } from './exit-codes.js';
import { escapeText } from '../report/escape.js';
import { SCHEMA_VERSION } from '../report/envelope.js';

/** What a command line asked for the output: JSON (one document), NDJSON (one object a line), or text. */
export type OutputMode = 'json' | 'ndjson' | 'text';

/** Returns the output mode of `argv`: `--json` / `--ndjson` before a `--`, else text. */
export function outputMode(argv: readonly string[]): OutputMode {
  const end = argv.indexOf('--');
  const opts = end < 0 ? argv : argv.slice(0, end);
  if (opts.includes('--ndjson')) return 'ndjson';
  if (opts.includes('--json') || opts.some((a) => a.startsWith('--json=')))
    return opts.includes('--json=false') ? 'text' : 'json';
  return 'text';
}

/** Plain words for the file system errors a user meets, by `errno` code. */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  EPIPE: 'broken pipe',
};

/** Returns "no space left on device (ENOSPC)" for a Node system error, else its message. */
export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (code && ERRNO_WORDS[code]) return `${ERRNO_WORDS[code]} (${code})`;
  return err instanceof Error ? err.message : String(e);
}

/** True for an error a Node system call raised (it has an `E…` code and a syscall). */
function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  const err = e as NodeJS.ErrnoException;
  return (
    err instanceof Error &&
    typeof err.code === 'string' &&
    /^E[A-Z0-9]+$/.test(err.code) &&
    typeof err.syscall === 'string'
  );
}

/**
 * Returns `e` as a CliError: itself when it is one; a DecodeError (broken input) as `bad-input`;
 * a system error (a file that cannot be opened, a write that fails) as `bad-input` or
 * `output-unwritable` naming the path; anything else as `internal` (a bug).
 */
export function toCliError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof DecodeError) return new CliError('bad-input', `cannot decode the input: ${e.message}`);
  if (isSystemError(e)) {
    const path = typeof e.path === 'string' ? ` ${e.path}` : '';
    const writing =
      e.syscall === 'write' ||
      e.syscall === 'rename' ||
      e.code === 'ENOSPC' ||
      e.code === 'EDQUOT' ||
      e.code === 'EROFS';
    return writing
      ? new CliError('output-unwritable', `cannot write${path || ' output'}: ${errnoText(e)}`)
      : new CliError('bad-input', `cannot ${e.syscall ?? 'read'}${path}: ${errnoText(e)}`);
  }
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new CliError('internal', `internal error (a bug in tlsprobe, please report it): ${firstLine(message)}`, {
    exitCode: ExitCode.internal,
  });
}

function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return nl < 0 ? text : `${text.slice(0, nl)} …`;
}

/**
 * Returns the JSON of a failure: the command's envelope (`schemaVersion`, `command` when known)
 * with what it finished (`partial`) and `error: { code, message }`.
 */
export function jsonError(error: CliError, command: string | null = null): Record<string, unknown> {
  return {
    schemaVersion: SCHEMA_VERSION,
    ...(command !== null ? { command } : {}),
    ...(error.partial ?? {}),
    error: { code: error.code, message: error.message },
  };
}

/**
 * Prints `error` the one way the CLI prints failures (see the module comment) through `out`/`err`,
 * and returns its exit code.
 */
export function reportFailure(
  error: CliError,
  mode: OutputMode,
  io: { out(text: string): void; err(text: string): void },
  cause?: unknown,
  command: string | null = null,
): ExitCode {
  if (mode === 'text') {
    io.err(`tlsprobe: ${escapeText(error.message)}`);
    if (error instanceof UsageError || error.code === 'usage') io.err('Try --help for usage.');
  } else {
    if (!error.jsonPrinted) io.out(JSON.stringify(jsonError(error, command), null, mode === 'json' ? 2 : undefined));
    // Scripts read stdout; a person watching still gets the one line.
    io.err(`tlsprobe: ${escapeText(error.message)}`);
  }
  if (error.code === 'internal' && process.env.TLSPROBE_DEBUG && cause instanceof Error && cause.stack)
    io.err(cause.stack);
  return error.exitCode;
}
