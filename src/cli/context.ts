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
  /** Resolves once what `out` wrote has been taken by the reader (default: at once). */
  readonly outputDrained?: () => Promise<void>;
  /** Resolves when a long-running command (the lab) should stop; default: on SIGINT/SIGTERM. */
  readonly waitForStop?: () => Promise<void>;
}
