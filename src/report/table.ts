/**
 * Tables for people, drawn with cli-table3 (its only import in tlsprobe). Colours off: output goes
 * to logs and tickets as often as to terminals. A table fits the output width (fit.ts): when the
 * cells' natural widths do not fit, the widest columns give up space first and their cells wrap at
 * spaces (long words such as thumbprints are split), so no line is longer than the width.
 */
import Table from 'cli-table3';
import { outputWidth, wrapWords } from './fit.js';

/** Narrowest a column is squeezed to (content plus one space of padding each side). */
const MIN_COLUMN = 8;

/** Returns column widths (padding included) whose table fits `width`, or the natural ones when they fit. */
export function fitColumns(natural: readonly number[], width: number): number[] {
  const borders = natural.length + 1;
  const widths = [...natural];
  let excess = widths.reduce((a, b) => a + b, 0) + borders - width;
  while (excess > 0) {
    // Take one column from the widest column that can still give.
    let widest = -1;
    for (let i = 0; i < widths.length; i++) if (widths[i]! > MIN_COLUMN && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    if (widest < 0) break;
    widths[widest]!--;
    excess--;
  }
  return widths;
}

/** Returns a drawn table with `head` and `rows`, at most `width` columns wide (default: the output width). */
export function renderTable(head: readonly string[], rows: readonly (readonly (string | number | null)[])[], width: number = outputWidth()): string {
  const cells = rows.map((r) => r.map((c) => (c === null ? '' : String(c))));
  const natural = head.map((h, i) => 2 + Math.max(...[h, ...cells.map((r) => r[i] ?? '')].flatMap((c) => c.split('\n')).map((l) => l.length)));
  const widths = fitColumns(natural, width);
  const wrap = (c: string, i: number) => c.split('\n').flatMap((l) => (l === '' ? [''] : wrapWords(l, widths[i]! - 2))).join('\n');
  const t = new Table({ head: head.map(wrap), colWidths: widths, style: { head: [], border: [], compact: true }, wordWrap: false });
  for (const r of cells) t.push(r.map(wrap));
  return t.toString();
}
