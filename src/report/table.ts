/**
 * Tables for people, drawn with cli-table3 (its only import in tlsprobe). Colours off: output goes
 * to logs and tickets as often as to terminals. A table fits the output width (fit.ts): when the
 * cells' natural widths do not fit, the widest columns give up space first and their cells wrap at
 * spaces (long words such as thumbprints are split), so no line is longer than the width.
 * Tables too long to hold are streamed row by row with fixed column widths (`streamedTable`):
 * cli-table3 lays a table out in time quadratic in its rows.
 */
import Table from 'cli-table3';
import { escapeText } from './escape.js';
import { outputWidth, wrapWords } from './fit.js';

/** Narrowest a column is squeezed to before headers' words are split (content plus padding). */
const MIN_COLUMN = 8;

/** Narrowest a column is ever squeezed to: one character and its padding. */
const LAST_RESORT_COLUMN = 3;

/**
 * Returns column widths (padding included) whose table fits `width`, or the natural ones when they
 * fit. The widest column gives up space first, down to `floors` (the header's longest word, so
 * headers stay whole); only a table that still does not fit goes below them.
 */
export function fitColumns(
  natural: readonly number[],
  width: number,
  floors: readonly number[] = natural.map(() => MIN_COLUMN),
): number[] {
  const widths = [...natural];
  let excess = widths.reduce((a, b) => a + b, 0) + widths.length + 1 - width;
  for (const floor of [
    (i: number) => Math.min(natural[i]!, Math.max(MIN_COLUMN, floors[i]!)),
    () => LAST_RESORT_COLUMN,
  ]) {
    while (excess > 0) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++)
        if (widths[i]! > floor(i) && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      if (widest < 0) break;
      widths[widest]!--;
      excess--;
    }
  }
  return widths;
}

/**
 * Returns a drawn table with `head` and `rows`, at most `width` columns wide (default: the output
 * width). A table whose headers cannot all stay whole at that width (many columns on a narrow
 * terminal) is printed as one block per row instead, a "Header  value" line per cell. Every cell is
 * escaped (escape.ts) before it is measured: an ESC sequence would otherwise count as zero width
 * and reach the terminal.
 */
export function renderTable(
  head: readonly string[],
  rows: readonly (readonly (string | number | null)[])[],
  width: number = outputWidth(),
): string {
  const cells = rows.map((r) => r.map((c) => (c === null ? '' : escapeText(String(c)))));
  head = head.map((h) => escapeText(h));
  const natural = head.map(
    (h, i) => 2 + Math.max(...[h, ...cells.map((r) => r[i] ?? '')].flatMap((c) => c.split('\n')).map((l) => l.length)),
  );
  const floors = headFloors(head, natural);
  if (!floorsFit(floors, width)) return renderRecords(head, cells, width);
  const widths = fitColumns(natural, width, floors);
  const wrap = (c: string, i: number) =>
    c
      .split('\n')
      .flatMap((l) => (l === '' ? [''] : wrapWords(l, widths[i]! - 2)))
      .join('\n');
  const t = new Table({
    head: head.map(wrap),
    colWidths: widths,
    style: { head: [], border: [], compact: true },
    wordWrap: false,
  });
  for (const r of cells) t.push(r.map(wrap));
  return t.toString();
}

/** Returns the column floors of `head` (padding included): its longest word, at least MIN_COLUMN, at most `natural`. */
function headFloors(head: readonly string[], natural: readonly number[]): number[] {
  return head.map((h, i) =>
    Math.min(natural[i]!, Math.max(MIN_COLUMN, 2 + Math.max(...h.split(/\s+/).map((w) => w.length)))),
  );
}

/** Returns true when a table whose columns are at least `floors` wide (padding included) fits `width`. */
function floorsFit(floors: readonly number[], width: number): boolean {
  return floors.reduce((a, b) => a + b, 0) + floors.length + 1 <= width;
}

/** Returns one row as a block: the first cell as a title, then each other cell under its header, wrapped to `width`. */
function renderRecord(head: readonly string[], r: readonly string[], width: number): string {
  const label = Math.min(Math.floor(width / 3), 2 + Math.max(...head.map((h) => h.length)));
  const lines = [`${head[0]} ${r[0] ?? ''}`];
  for (let i = 1; i < head.length; i++) {
    const value = (r[i] ?? '').split('\n').flatMap((l) => wrapWords(l, width - label - 2));
    const name = head[i]!.length > label - 2 ? `${head[i]!.slice(0, label - 3)}…` : head[i]!;
    value.forEach((v, k) => {
      lines.push(`  ${(k === 0 ? name : '').padEnd(label)}${v}`);
    });
    if (value.length === 0) lines.push(`  ${name}`);
  }
  return lines.join('\n');
}

/** Returns the rows as blocks (`renderRecord`), a blank line between them. */
function renderRecords(head: readonly string[], cells: readonly (readonly string[])[], width: number): string {
  return cells.map((r) => renderRecord(head, r, width)).join('\n\n');
}

type Cell = string | number | null;

/**
 * Returns a drawn table with `head` and `rows`, each column as wide as its widest cell and the
 * whole fitted to `width` as `renderTable` fits it (for cells without wide characters), in time
 * linear in the rows.
 */
export function drawTable(
  head: readonly string[],
  rows: readonly (readonly Cell[])[],
  width: number = outputWidth(),
): string {
  const text = (c: Cell | undefined): string => (c === null || c === undefined ? '' : escapeText(String(c)));
  const widths = head.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, text(r[i]).length);
  const t = streamedTable(head, widths, width);
  return [t.top(), ...rows.map((r) => t.row(r)), t.bottom()].filter((part) => part !== '').join('\n');
}

/** A table drawn a row at a time: `top()` once, `row()` per row, `bottom()` once. */
export interface StreamedTable {
  top(): string;
  row(cells: readonly Cell[]): string;
  bottom(): string;
}

/**
 * Returns a streamed table with `head` and column `widths` (characters of content) narrowed to fit
 * `width` as `renderTable` narrows them; a longer cell wraps within its column, at a space when
 * there is one. Drawn with cli-table3's compact border. When the headers cannot stay whole at that
 * width, each row is a block of "Header  value" lines instead (top and bottom are then empty).
 */
export function streamedTable(
  head: readonly string[],
  wanted: readonly number[],
  width: number = outputWidth(),
): StreamedTable {
  const natural = wanted.map((w) => w + 2);
  const floors = headFloors(head, natural);
  if (!floorsFit(floors, width)) {
    const escaped = head.map((h) => escapeText(h));
    return {
      top: () => '',
      row: (cells) =>
        `${renderRecord(
          escaped,
          cells.map((c) => (c === null || c === undefined ? '' : escapeText(String(c)))),
          width,
        )}\n`,
      bottom: () => '',
    };
  }
  const widths = fitColumns(natural, width, floors).map((w) => w - 2);
  const rule = (l: string, m: string, r: string): string => `${l}${widths.map((w) => '─'.repeat(w + 2)).join(m)}${r}`;
  const lines = (cells: readonly Cell[]): string => {
    const wrapped = widths.map((w, i) =>
      wrapWords(cells[i] === null || cells[i] === undefined ? '' : escapeText(String(cells[i])), w),
    );
    const height = Math.max(1, ...wrapped.map((w) => w.length));
    const out: string[] = [];
    for (let k = 0; k < height; k++)
      out.push(`│${wrapped.map((w, i) => ` ${(w[k] ?? '').padEnd(widths[i]!)} `).join('│')}│`);
    return out.join('\n');
  };
  return {
    top: () => `${rule('┌', '┬', '┐')}\n${lines(head.map((h) => escapeText(h)))}\n${rule('├', '┼', '┤')}`,
    row: lines,
    bottom: () => rule('└', '┴', '┘'),
  };
}
