/**
 * Tables for people, drawn with cli-table3 (its only import in tlsprobe). Colours off: output goes
 * to logs and tickets as often as to terminals.
 */
import Table from 'cli-table3';

/** Returns a drawn table with `head` and `rows`. */
export function renderTable(head: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  const t = new Table({ head: [...head], style: { head: [], border: [], compact: true }, wordWrap: true });
  for (const r of rows) t.push(r.map((c) => (c === null ? '' : String(c))));
  return t.toString();
}
