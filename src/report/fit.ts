/**
 * Fitting text to the terminal: the width to draw for, and prose wrapped at spaces. Tables use the
 * same width (table.ts), so `COLUMNS=80 tlsprobe …` prints no line longer than 80 characters.
 */

/** Width used when neither COLUMNS nor a terminal says (output piped to a file or a log). */
export const DEFAULT_WIDTH = 100;

/** Narrowest width honoured: below it tables could not show one short word per column. */
export const MIN_WIDTH = 40;

/**
 * Returns the width to draw for: `COLUMNS` when set to a number (the shell's, or the user's
 * override), else the terminal's width, else DEFAULT_WIDTH; never below MIN_WIDTH.
 */
export function outputWidth(
  env: NodeJS.ProcessEnv = process.env,
  columns: number | undefined = process.stdout.columns,
): number {
  const fromEnv = Number.parseInt(env.COLUMNS ?? '', 10);
  const w = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : columns && columns > 0 ? columns : DEFAULT_WIDTH;
  return Math.max(MIN_WIDTH, w);
}

/** Returns `text` broken into lines of at most `width` characters, at spaces (greedy), words longer than a line split. */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(' ')) {
    while (word.length > width) {
      if (line !== '') lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = '';
    }
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * Returns `text` (which may hold newlines) wrapped to `width`; lines after the first of each
 * paragraph are indented by `indent` spaces (for "- item" lists and "Label: text" lines).
 */
export function wrapProse(text: string, width: number, indent = 0): string {
  const pad = ' '.repeat(indent);
  return text
    .split('\n')
    .map((para) => {
      if (para.length <= width) return para;
      const first = wrapWords(para, width);
      const head = first[0]!;
      const rest = wrapWords(para.slice(head.length).trimStart(), Math.max(1, width - indent)).map((l) => pad + l);
      return [head, ...rest].join('\n');
    })
    .join('\n');
}

/**
 * Returns `blocks` joined by newlines, each one-line block (prose) wrapped to `width` with its
 * continuation lines indented by `indent`; blocks of several lines (drawn tables) are left as they are.
 */
export function fitBlocks(blocks: readonly string[], width: number = outputWidth(), indent = 2): string {
  return blocks.map((b) => (b.includes('\n') ? b : wrapProse(b, width, indent))).join('\n');
}
