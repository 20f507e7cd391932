/**
 * The `tlsprobe` command: yargs root, global options, exit codes. Every failure goes through one
 * path (failure.ts): one line on stderr, or `{ "error": … }` under --json; never a stack trace.
 * Text output is escaped as a whole (report/escape.ts); SIGINT/SIGTERM abort `ctx.signal`.
 */
import { setMaxListeners } from 'node:events';
import { CliError, ExitCode, UsageError } from './exit-codes.js';
import { outputMode, reportFailure, toCliError } from './failure.js';
import { escapeJsonText, escapeText } from '../report/escape.js';
import type { CommandModule } from 'yargs';
import type { CliContext } from './context.js';
import { requireYargs, type Yargs } from './yargs-cjs.js';
import { ABOUT, USAGE, examplesEpilog, helpWidth, packageVersion, renderTopLevelHelp } from './top-help.js';

type Parser = ReturnType<Yargs>;

/** The yargs factory, required on first use (yargs-cjs.ts says why its CommonJS build). */
let yargsModule: Yargs | undefined;
async function loadYargs(): Promise<Yargs> {
  yargsModule ??= await requireYargs();
  return yargsModule;
}

/** One command of the CLI: what the top-level help lists, and how to load the whole command. */
export interface CommandEntry {
  /** The yargs command string (name and positionals), as the command's module declares it. */
  readonly command: string;
  readonly aliases: readonly string[];
  readonly describe: string;
  /** Imports the command's module and returns its yargs command (builder, handler). */
  // biome-ignore lint/suspicious/noExplicitAny: each command's parsed-argument type differs; yargs' CommandModule is invariant in it
  readonly load: (ctx: CliContext, waitForStop: () => Promise<void>) => Promise<CommandModule<object, any>>;
}

/**
 * Every command, in help order. Only the command being run is imported (with what it imports);
 * the others are registered by name and description, which is all the top-level help and yargs'
 * "did you mean" need. A test checks that each entry matches its module's own declaration.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    command: 'decode [file]',
    aliases: [],
    describe: 'Decode TLS records or handshake messages (raw bytes or hex) into a readable tree',
    load: async (ctx) => (await import('./commands/decode.js')).decodeCommand(ctx),
  },
  {
    command: 'probe [hosts..]',
    aliases: [],
    describe: 'Probe endpoints per TLS version over raw sockets and report how each attempt ended',
    load: async (ctx) => (await import('./commands/probe.js')).probeCommand(ctx),
  },
  {
    command: 'diagnose [targets..]',
    aliases: [],
    describe: 'Explain a failing TLS connection (error 10054, resets, alerts) with evidence and the fix',
    load: async (ctx) => (await import('./commands/diagnose.js')).diagnoseCommand(ctx),
  },
  {
    command: 'clients [target]',
    aliases: [],
    describe:
      "List simulated clients (Windows SChannel, .NET, OpenSSL, browser), or send each one's ClientHello to an endpoint",
    load: async (ctx) => (await import('./commands/clients.js')).clientsCommand(ctx),
  },
  {
    command: 'registry [file]',
    aliases: [],
    describe:
      "Check a Windows registry export (.reg or saved `reg query` output), or with --live this machine's registry, for the SChannel, .NET and WinHTTP TLS 1.2 settings",
    load: async (ctx) => (await import('./commands/registry.js')).registryCommand(ctx),
  },
  {
    command: 'chain <source>',
    aliases: [],
    describe:
      'Check a certificate chain (PEM/DER file, or the one an endpoint sends) against the documented root CA set',
    load: async (ctx) => (await import('./commands/chain.js')).chainCommand(ctx),
  },
  {
    command: 'roots',
    aliases: [],
    describe: 'List the documented root CA set, or check which of it a trust store holds (--bundle)',
    load: async (ctx) => (await import('./commands/roots.js')).rootsCommand(ctx),
  },
  {
    command: 'replay <file>',
    aliases: [],
    describe: 'Send a captured ClientHello (pcap, pcapng, hex or binary) to a live server and compare the answers',
    load: async (ctx) => (await import('./commands/replay.js')).replayCommand(ctx),
  },
  {
    command: 'capture <file>',
    aliases: ['pcap'],
    describe: 'List the TLS connections in a pcap/pcapng capture: hellos, certificates, alerts, how each ended',
    load: async (ctx) => (await import('./commands/capture.js')).captureCommand(ctx),
  },
  {
    command: 'schema [command]',
    aliases: [],
    describe: "Print the JSON Schema (draft 2020-12) of a command's --json/--ndjson output",
    load: async (ctx) => (await import('./commands/schema.js')).schemaCommand(ctx),
  },
  {
    command: 'lab',
    aliases: [],
    describe: 'Start local TLS endpoints on loopback (modern, TLS 1.3-only, legacy, reset/alert/silent misbehaviours)',
    load: async (ctx, wait) => (await import('./commands/lab.js')).labCommand(ctx, wait),
  },
];

/** The entry of the command `argv` names (its first word that is not an option), or null. */
function chosenCommand(argv: readonly string[]): CommandEntry | null {
  const word = argv.find((a) => !a.startsWith('-'));
  if (word === undefined) return null;
  return COMMANDS.find((c) => c.command.split(' ')[0] === word || c.aliases.includes(word)) ?? null;
}

/**
 * Gives back the `-` (standard input) that yargs turns into an empty string when it is the value of
 * a string option (`probe --targets -`, `diagnose --client-hello -`) or stands for a positional
 * argument (`capture -`, `chain -`, `registry -`): with a lone `-` on the command line, an empty value
 * of such an option (the one named just before the `-`) or of one of the command's positionals was
 * that `-`.
 */
function keepStdinDash(parser: Parser, argv: readonly string[], chosen: CommandEntry | null): void {
  if (!argv.includes('-')) return;
  const names = chosen ? [...chosen.command.matchAll(/[<[]([\w-]+)(?:\.\.)?[>\]]/g)].map((m) => m[1]!) : [];
  argv.forEach((a, i) => {
    const option = /^--?([^-=][^=]*)$/.exec(a);
    if (option && argv[i + 1] === '-')
      names.push(
        option[1]!,
        option[1]!.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()),
      );
  });
  parser.middleware((a) => {
    for (const name of names) {
      const v = a[name];
      if (v === '') a[name] = '-';
      else if (Array.isArray(v)) a[name] = v.map((x: unknown) => (x === '' ? '-' : x));
    }
  }, true);
}

/**
 * Stops yargs from rendering a command's whole help text each time the command runs: yargs 17 does
 * it after starting the handler (`cacheHelpMessage`), for a later `showHelp()` that tlsprobe never
 * calls (help is printed only for --help, which does not go through the cache, and failures print
 * one line). It took ~20 ms of a ~400 ms `probe --ciphers`, blocking the event loop while the first
 * connections were in flight. Left alone when this yargs has no such method.
 */
function skipHelpCache(parser: Parser): void {
  // yargs' internal methods are not in its types; every step below is optional-chained
  const internal = (
    parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } }
  ).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

/** yargs' message for a usage mistake, with option names written as the user types them. */
function userMessage(msg: string): string {
  // "Missing required argument: to" names a demanded option: say "--to".
  const missing = /^Missing required arguments?: ([^\n]*)/.exec(msg);
  if (missing)
    return `missing required option ${missing[1]!
      .split(', ')
      .map((n) => `--${n}`)
      .join(', ')}`;
  return msg;
}

/**
 * Registers the commands (`chosen` whole, the others by name and description) and the global
 * options on `parser`; the same set-up serves `run` and the help comparison in the tests.
 */
// biome-ignore lint/suspicious/noExplicitAny: as CommandEntry.load: any command's module
function configure(parser: Parser, width: number, chosen: CommandModule<object, any> | null): Parser {
  for (const entry of COMMANDS) {
    if (chosen !== null && entry.command === chosen.command) parser.command(chosen);
    else
      parser.command({ command: entry.command, aliases: entry.aliases, describe: entry.describe, handler: () => {} });
  }
  if (chosen === null) parser.epilog(examplesEpilog());
  return parser
    .scriptName('tlsprobe')
    .usage(`${USAGE}\n\n${ABOUT}`)
    .demandCommand(1, 'name a command (see --help)')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .wrap(width);
}

/** Returns the top-level help as yargs renders it at `width` columns (what top-help.ts must match). */
export async function yargsTopLevelHelp(width: number): Promise<string> {
  return configure((await loadYargs())([]), width, null).getHelp();
}

/**
 * How long a command may take to finish or abort its open connections after SIGINT/SIGTERM before
 * `run` reports the interruption itself (a command that watches `ctx.signal` reports sooner).
 */
export const INTERRUPT_GRACE_MS = 1000;

/**
 * Returns an AbortSignal that fires on the first SIGINT or SIGTERM, and a function that removes the
 * handlers. A second signal ends the process at once with exit code 130.
 */
function processStopSignal(): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  // Every connection in flight listens for the stop (a fleet of parallel scans holds hundreds):
  // listeners are removed as connections end, so there is no leak for Node's warning to guard against.
  setMaxListeners(0, ctl.signal);
  const onSignal = (name: NodeJS.Signals) => {
    if (ctl.signal.aborted) process.exit(ExitCode.interrupted);
    ctl.abort(new CliError('interrupted', `interrupted (${name})`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ctl.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}

/**
 * Resolves `INTERRUPT_GRACE_MS` after `signal` aborts, with the interruption to report; never when
 * the command said it watches the signal (`watching()`): it reports for itself.
 */
async function graceAfter(signal: AbortSignal, watching: () => boolean): Promise<CliError> {
  await aborted(signal);
  await new Promise((r) => setTimeout(r, INTERRUPT_GRACE_MS).unref());
  if (watching()) await new Promise(() => {});
  return signal.reason instanceof CliError ? signal.reason : new CliError('interrupted', 'interrupted');
}

/** Runs the CLI with `argv` and resolves to the exit code. */
export async function run(argv: readonly string[], ctx: CliContext): Promise<number> {
  const mode = outputMode(argv);
  // Everything printed passes the escaper once more: a renderer that forgot cannot leak ESC or CSI.
  const out = (t: string) => ctx.out(mode === 'text' ? escapeText(t, { keepNewlines: true }) : escapeJsonText(t));
  const err = (t: string) => ctx.err(escapeText(t, { keepNewlines: true }));
  const stop = ctx.signal ? { signal: ctx.signal, dispose: () => {} } : processStopSignal();
  try {
    return await runCommand(
      argv,
      { ...ctx, out, err, signal: stop.signal, waitForStop: ctx.waitForStop ?? (() => aborted(stop.signal)) },
      mode,
    );
  } finally {
    stop.dispose();
  }
}

async function runCommand(
  argv: readonly string[],
  ctx: CliContext & { signal: AbortSignal },
  mode: ReturnType<typeof outputMode>,
): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let watching = false;
  const context: CliContext = {
    ...ctx,
    watchesSignal: () => {
      watching = true;
    },
    setExitCode(code) {
      exitCode = Math.max(exitCode, code);
      ctx.setExitCode(code);
    },
  };
  const width = helpWidth(process.stdout.columns);
  // The two answers that need no parser: printed without loading yargs (top-help.ts).
  const help =
    argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')
      ? renderTopLevelHelp(COMMANDS, width, examplesEpilog())
      : null;
  if (help !== null) {
    ctx.out(help);
    return ExitCode.ok;
  }
  if (argv.length === 1 && argv[0] === '--version') {
    ctx.out(packageVersion());
    return ExitCode.ok;
  }
  let failure: unknown = null;
  try {
    const chosen = chosenCommand(argv);
    const parser = configure(
      (await loadYargs())([...argv]),
      width,
      chosen === null ? null : await chosen.load(context, ctx.waitForStop!),
    );
    parser
      .fail((msg, e) => {
        // Throw, so that yargs stops here: a fail callback that returns lets yargs go on and run the
        // command's handler with the options it just rejected (a probe with a mistyped option).
        failure = e ?? new UsageError(userMessage(msg));
        throw failure;
      })
      .exitProcess(false);
    skipHelpCache(parser);
    keepStdinDash(parser, argv, chosen);
    // A command that does not watch ctx.signal is cut off INTERRUPT_GRACE_MS after the signal.
    const interrupted = graceAfter(ctx.signal, () => watching);
    const outcome = await Promise.race([parser.parseAsync().then(() => null), interrupted]);
    if (outcome instanceof CliError) failure = outcome;
  } catch (e) {
    failure = failure ?? e;
  }
  if (failure === null) return exitCode;
  const error = toCliError(failure);
  const code = reportFailure(error, mode, ctx, failure, chosenCommand(argv)?.command.split(' ')[0] ?? null);
  return Math.max(exitCode, code);
}
