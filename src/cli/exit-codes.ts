/**
 * Exit codes of the `tlsprobe` command, one meaning each, and the errors a command throws to end
 * with one of them. A command never prints its own failure: it throws a `CliError`, and `run`
 * (src/cli/run.ts) prints it as one line on stderr (or `{ "error": … }` on stdout under --json).
 */
export const ExitCode = {
  /** Everything ran; results are in the output. */
  ok: 0,
  /** A check found a problem the command reports as failure (see each command's epilog). */
  failure: 1,
  /** The user's input was wrong: bad arguments, unreadable or malformed file, unwritable output path. */
  usage: 2,
  /** The network failed before TLS began: DNS, connection refused, unreachable, connect timeout. */
  network: 3,
  /** A bug in tlsprobe (an exception nobody expected). */
  internal: 70,
  /** SIGINT or SIGTERM stopped the command (128 + SIGINT's number, as the shell reports it). */
  interrupted: 130,
  /**
   * Standard output was closed by its reader (`tlsprobe … | head`): the process ends quietly with
   * the status the shell reports for a process killed by SIGPIPE (128 + 13), as `cat` or `yes` do.
   */
  brokenPipe: 141,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Stable kebab-case codes of `{ "error": { "code" } }` under --json (scripts key on them):
 * `usage` (bad arguments; the text line adds "Try --help"), `bad-input` (a file or value that cannot
 * be read or decoded), `output-unwritable` (an output path or stdout cannot be written), `network`
 * (nothing reached TLS), `not-found` (the thing asked for is not there: no certificates, no
 * ClientHello), `interrupted`, `internal`.
 */
export type CliErrorCode =
  | 'usage'
  | 'bad-input'
  | 'output-unwritable'
  | 'network'
  | 'not-found'
  | 'interrupted'
  | 'internal';

export interface CliErrorOptions {
  readonly exitCode?: ExitCode;
  /** What the command finished before failing; under --json it is printed beside `error`. */
  readonly partial?: Readonly<Record<string, unknown>>;
  /** The command already ended its JSON output with this error (a streamed document): nothing more goes to stdout. */
  readonly jsonPrinted?: boolean;
}

/** A failure the CLI reports as one line (never a stack trace) and ends with `exitCode`. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly exitCode: ExitCode;
  readonly partial: Readonly<Record<string, unknown>> | undefined;
  readonly jsonPrinted: boolean;
  constructor(
    readonly code: CliErrorCode,
    message: string,
    opts: CliErrorOptions = {},
  ) {
    super(message);
    this.exitCode = opts.exitCode ?? defaultExit(code);
    this.partial = opts.partial;
    this.jsonPrinted = opts.jsonPrinted ?? false;
  }
}

function defaultExit(code: CliErrorCode): ExitCode {
  switch (code) {
    case 'network':
      return ExitCode.network;
    case 'interrupted':
      return ExitCode.interrupted;
    case 'internal':
      return ExitCode.internal;
    case 'not-found':
      return ExitCode.failure;
    default:
      return ExitCode.usage;
  }
}

/**
 * An error caused by the user's input (a file, a value): one line, exit 2 unless stated, code
 * `bad-input` (or `network` / `not-found` by the exit code given). No "Try --help": the command line
 * was understood.
 */
export class UserError extends CliError {
  override readonly name: string = 'UserError';
  constructor(message: string, exitCode: ExitCode = ExitCode.usage) {
    super(
      exitCode === ExitCode.network ? 'network' : exitCode === ExitCode.failure ? 'not-found' : 'bad-input',
      message,
      { exitCode },
    );
  }
}

/** A mistake on the command line (an option's value, a missing argument): the line adds "Try --help". */
export class UsageError extends CliError {
  override readonly name: string = 'UsageError';
  constructor(message: string) {
    super('usage', message);
  }
}
