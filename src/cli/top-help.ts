/**
 * The top-level `tlsprobe --help` screen and `--version`, written without loading yargs: they need
 * no parser, only the command table, and yargs (with cliui, y18n and friends) is most of what the
 * CLI's start-up costs (BENCHMARKS.md, `tlsprobe --help` start-up). The layout is yargs' own, line
 * for line: a test renders both at several widths and compares them. Narrower terminals than
 * `MIN_FAST_HELP_WIDTH` go through yargs.
 */
import { readFileSync } from 'node:fs';
import { wrapWords } from '../report/fit.js';
import { packageFileUrl } from '../io/package-file.js';

export { wrapWords };

/** What the top-level help needs of a command. */
export interface HelpCommand {
  readonly command: string;
  readonly aliases: readonly string[];
  readonly describe: string;
}

export const USAGE = '$0 <command> [options]';
export const ABOUT =
  'Looks at TLS handshakes byte by byte: builds ClientHellos, probes endpoints per version, decodes what comes back.';

/**
 * The top-level examples, one per line (yargs prints an epilog as given, lines under 80 columns);
 * a test runs each of them against the lab (test/cli/help-examples.test.ts).
 */
export const EXAMPLES: readonly (readonly [string, string])[] = [
  ['tlsprobe probe example.com', 'how each TLS version ends'],
  ['tlsprobe probe example.com --ladder', 'each attempt as an exchange'],
  ['tlsprobe diagnose example.com --os 2012r2', 'why Windows gets 10054'],
  ['tlsprobe diagnose example.com --html case.html', 'a report to attach to a case'],
  ['tlsprobe capture dump.pcapng --failed', 'the handshakes that failed'],
  ['tlsprobe schema probe', 'JSON Schema of probe --json'],
];

/** The examples block printed after the options (and how to read exit codes). */
export function examplesEpilog(): string {
  const left = Math.max(...EXAMPLES.map(([c]) => c.length)) + 2;
  return [
    'Examples:',
    ...EXAMPLES.map(([c, d]) => `  ${c.padEnd(left)}${d}`),
    '',
    'Exit codes: 0 fine, 1 problem found, 2 usage or input error (README.md).',
  ].join('\n');
}

/** Below this width yargs' layout changes shape (columns squeezed); the fast path leaves it to yargs. */
export const MIN_FAST_HELP_WIDTH = 80;

/** The help width the CLI uses: the terminal's, at most 110; 100 when not a terminal. */
export function helpWidth(columns: number | undefined): number {
  return Math.min(110, columns || 100);
}

/** A row with `left` padded to `leftWidth`, `text` wrapped in the rest, and `hint` right-aligned on its last line. */
function row(left: string, leftWidth: number, text: string, hint: string | null, width: number): string[] {
  const body = wrapWords(text, width - leftWidth);
  const rows = body.map((t, i) => (i === 0 ? left.padEnd(leftWidth) : ' '.repeat(leftWidth)) + t);
  if (hint !== null) {
    const last = rows[rows.length - 1]!;
    // yargs puts the hint after two spaces of padding, on the last line when it fits.
    if (last.length + 2 + hint.length <= width)
      rows[rows.length - 1] = last + ' '.repeat(width - last.length - hint.length) + hint;
    else rows.push(' '.repeat(width - hint.length) + hint);
  }
  return rows;
}

/**
 * Returns the top-level help text (no trailing newline) for `commands` at `width` columns, or null
 * for a layout this renderer does not draw (narrower than MIN_FAST_HELP_WIDTH, or a command longer
 * than half the width, which yargs wraps inside its column): the caller then asks yargs.
 */
export function renderTopLevelHelp(
  commands: readonly HelpCommand[],
  width: number,
  epilog: string | null = null,
): string | null {
  const name = 'tlsprobe';
  const longest = Math.max(...commands.map((c) => `${name} ${c.command}`.length));
  // yargs caps the command column at half the width (usage.js maxWidth) and wraps longer commands in it.
  if (width < MIN_FAST_HELP_WIDTH || longest > Math.floor(width * 0.5)) return null;
  const lines = [USAGE.replace('$0', name), '', ...wrapWords(ABOUT, width), '', 'Commands:'];
  const leftWidth = longest + 4;
  for (const c of commands) {
    const hint = c.aliases.length > 0 ? `[aliases: ${c.aliases.join(', ')}]` : null;
    lines.push(...row(`  ${name} ${c.command}`, leftWidth, c.describe, hint, width));
  }
  const options: [string, string][] = [
    ['      --version', 'Show version number'],
    ['  -h, --help', 'Show help'],
  ];
  const optionWidth = Math.max(...options.map(([o]) => o.length)) + 2;
  lines.push('', 'Options:', ...options.flatMap(([o, d]) => row(o, optionWidth, d, '[boolean]', width)));
  // yargs prints the epilog's lines as they are when they fit (examplesEpilog keeps them under 80).
  if (epilog !== null) {
    const long = epilog.split('\n').find((l) => l.length > width);
    if (long !== undefined) return null;
    lines.push('', ...epilog.split('\n'));
  }
  return lines.join('\n');
}

/** Returns the package's version, as yargs' `--version` prints it. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(packageFileUrl('package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
