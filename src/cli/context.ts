/** What a command needs from its surroundings, injected so tests can capture output. */
export interface CliContext {
  /** Writes a line (or block) to standard output. */
  out(text: string): void;
  /** Writes a line to standard error. */
  err(text: string): void;
  /** Sets the process exit code (the highest wins). */
  setExitCode(code: number): void;
  /** True when stderr is a terminal (progress lines). */
  readonly isTty: boolean;
  /**
   * Aborts when the user stops the process (SIGINT/SIGTERM; `run` sets it up when absent). A command
   * that watches it stops starting work, ends what is open and throws `CliError('interrupted')`
   * with what it finished; one that does not is cut off after `INTERRUPT_GRACE_MS` (run.ts).
   */
  readonly signal?: AbortSignal;
  /**
   * Declares that the command watches `signal` and reports the interruption itself (after writing
   * what it finished), so `run` does not cut it off after `INTERRUPT_GRACE_MS`. A second signal
   * still ends the process at once.
   */
  readonly watchesSignal?: () => void;
  /** Resolves once what `out` wrote has been taken by the reader (default: at once). */
  readonly outputDrained?: () => Promise<void>;
  /** Resolves when a long-running command (the lab) should stop; default: when `signal` aborts. */
  readonly waitForStop?: () => Promise<void>;
}
