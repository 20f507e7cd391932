/**
 * Tables for people: whole tables drawn with cli-table3 (its only import in tlsprobe), and tables
 * streamed row by row with fixed column widths, for outputs too long to hold (cli-table3 lays a
 * table out in time quadratic in its rows). Colours off: output goes to logs and tickets as often
 * as to terminals.
 */
import Table from 'cli-table3';

type Cell = string | number | null;

/** Returns a drawn table with `head` and `rows`. */
export function renderTable(head: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const t = new Table({ head: [...head], style: { head: [], border: [], compact: true }, wordWrap: true });
  for (const r of rows) t.push(r.map((c) => (c === null ? '' : String(c))));
  return t.toString();
}

/**
 * Returns a drawn table with `head` and `rows`, each column as wide as its widest cell: the layout
 * of `renderTable` (for cells without wide characters) in time linear in the rows.
 */
export function drawTable(head: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = (c: Cell | undefined): string => (c === null || c === undefined ? '' : String(c));
  const widths = head.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, text(r[i]).length);
  const t = streamedTable(head, widths);
  return [t.top(), ...rows.map((r) => t.row(r)), t.bottom()].join('\n');
}

/** A table drawn a row at a time: `top()` once, `row()` per row, `bottom()` once. */
export interface StreamedTable {
  top(): string;
  row(cells: readonly Cell[]): string;
  bottom(): string;
}

/**
 * Returns a streamed table with `head` and fixed column `widths` (characters of content); a longer
 * cell wraps within its column, at a space when there is one. Drawn with cli-table3's compact border.
 */
export function streamedTable(head: readonly string[], widths: readonly number[]): StreamedTable {
  const rule = (l: string, m: string, r: string): string =>
    `${l}${widths.map((w) => '─'.repeat(w + 2)).join(m)}${r}`;
  const lines = (cells: readonly Cell[]): string => {
    const wrapped = widths.map((w, i) => wrap(cells[i] === null || cells[i] === undefined ? '' : String(cells[i]), w));
    const height = Math.max(...wrapped.map((w) => w.length));
    const out: string[] = [];
    for (let k = 0; k < height; k++) out.push(`│${wrapped.map((w, i) => ` ${(w[k] ?? '').padEnd(widths[i]!)} `).join('│')}│`);
    return out.join('\n');
  };
  return {
    top: () => `${rule('┌', '┬', '┐')}\n${lines(head)}\n${rule('├', '┼', '┤')}`,
    row: lines,
    bottom: () => rule('└', '┴', '┘'),
  };
}

/** Returns `text` cut into lines of at most `width` characters, at spaces where possible. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width);
    const cut = space > 0 ? space : width;
    out.push(rest.slice(0, cut));
    rest = rest.slice(space > 0 ? cut + 1 : cut);
  }
  out.push(rest);
  return out;
}
