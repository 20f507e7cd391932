/** Exit codes of the `tlsprobe` command, one meaning each. */
export const ExitCode = {
  /** Everything ran; results are in the output. */
  ok: 0,
  /** A target could not be reached, or a check found a problem the command reports as failure. */
  failure: 1,
  /** The user's input was wrong: bad arguments, unreadable file, undecodable bytes. */
  usage: 2,
  /** The network failed before any TLS: DNS, connection refused, unreachable (a proxy included). */
  network: 3,
  /** A bug in tlsprobe (an exception nobody expected). */
  internal: 70,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error caused by the user's input. The CLI prints its message on one line, without a stack
 * trace, and exits with `exitCode` (2 unless stated).
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.usage,
  ) {
    super(message);
  }
}
