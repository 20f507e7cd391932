/**
 * Tables for people, drawn with cli-table3 (its only import in tlsprobe). Colours off: output goes
 * to logs and tickets as often as to terminals.
 */
import Table from 'cli-table3';
import { escapeText } from './escape.js';

/**
 * Returns a drawn table with `head` and `rows`. Every cell is escaped (escape.ts) before it is
 * measured: cli-table3 would otherwise count an ESC sequence as zero width and pass it through.
 */
export function renderTable(head: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  const t = new Table({ head: head.map((h) => escapeText(h)), style: { head: [], border: [], compact: true }, wordWrap: true });
  for (const r of rows) t.push(r.map((c) => (c === null ? '' : escapeText(String(c)))));
  return t.toString();
}
