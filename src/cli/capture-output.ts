/**
 * Returns the output side of `tlsprobe capture`: connections written as the analysis hands them
 * on, so memory stays flat and time linear whatever the number of connections. `--ndjson` writes
 * a line per connection; `--json` streams its `connections` array (one element held, for the comma)
 * and ends with the summary; the table keeps a bounded window of rows (failed connections first)
 * and draws it at the end with a summary, or with `--rows 0` draws every row as it comes.
 */
import { fingerprintConnection } from '../capture/fingerprint.js';
import type { Assessor } from '../capture/assess.js';
import type { CaptureOutcome, ConnectionFacts } from '../capture/facts.js';
import type { DecodeStats } from '../capture/decode-state.js';
import { LinkType } from '../capture/link-layer.js';
import {
  connectionRow,
  connectionToJson,
  renderConnectionsTable,
  streamedConnectionsTable,
} from '../report/capture-view.js';
import type { ConnectionRow } from '../report/capture-view.js';
import { compactConnectionText } from '../report/capture-compact.js';
import { createRowWindow } from '../report/row-window.js';
import type { CliContext } from './context.js';
import { SCHEMA_VERSION } from '../report/envelope.js';
import type { JsonObject } from '../report/decode-view.js';

/** Returns the JSON of one connection as `--json` and the HTML report show it. */
export function connectionJson(c: ConnectionFacts, assessor: Assessor): JsonObject {
  return connectionToJson(c, assessor.assess(c));
}

export interface CaptureViewSettings {
  readonly mode: 'table' | 'json' | 'ndjson';
  /** Table rows kept (0: every row, streamed). */
  readonly rows: number;
  /** The table's fingerprint columns; JA3/JA3S/JA4 on the NDJSON lines. */
  readonly fingerprints: boolean;
  /** Registry names beside the number lists of the NDJSON lines. */
  readonly names: boolean;
  /** Judges the connections for the JSON views; the table judges nothing (null then). */
  readonly assessor: Assessor | null;
}

export interface CaptureSummary {
  readonly format: string;
  readonly packets: number;
  readonly flows: number;
  readonly tlsConnections: number;
  readonly decrypted: number;
  readonly keyLogErrors: number;
  readonly truncated: boolean;
  readonly keyLogGiven: boolean;
}

export interface CaptureView {
  /**
   * The order the view needs connections in: `index` (as they started) when it writes them as
   * they come in that order; `end` (as they end) when it orders them itself or needs no order.
   * In index order the analysis holds an ended connection back while one that started before it
   * is still open, up to MAX_ORDER_WINDOW of them (report-order.ts).
   */
  readonly order: 'index' | 'end';
  add(c: ConnectionFacts): void;
  /** Writes what is held back for a batched write (NDJSON lines); called between input chunks. */
  flush(): void;
  finish(s: CaptureSummary): void;
  /**
   * The capture turned out unreadable (`bad-input`) or the run was interrupted (`interrupted`):
   * closes a JSON document already begun with `error` and returns true, or returns false when
   * nothing was begun (the CLI's error path prints the error).
   */
  abort(code: 'bad-input' | 'interrupted', problem: string): boolean;
}

/** The assessor of a JSON view, which always has one (the command makes it for these views). */
function judge(settings: CaptureViewSettings): Assessor {
  if (settings.assessor === null) throw new Error(`the ${settings.mode} view needs an assessor`);
  return settings.assessor;
}

/** Returns `text` with every line but the first indented by `n` spaces, the first too when `first`. */
function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return `${pad}${text.replaceAll('\n', `\n${pad}`)}`;
}

/** Returns the view for `settings.mode` (see the file comment). */
export function createCaptureView(ctx: CliContext, settings: CaptureViewSettings): CaptureView {
  if (settings.mode === 'ndjson') return ndjsonView(ctx, settings);
  if (settings.mode === 'json') return jsonView(ctx, settings);
  return tableView(ctx, settings);
}

/**
 * Lines written at once, in bytes of text: one write per line costs more than building the line,
 * and 64 KiB is what a pipe takes in one go.
 */
export const NDJSON_BATCH_BYTES = 64 * 1024;

/**
 * `--ndjson`: one compact envelope a line (report/capture-compact.ts), written in batches of about
 * NDJSON_BATCH_BYTES and whenever the next input chunk is read (`flush`), so lines never wait long.
 */
function ndjsonView(ctx: CliContext, settings: CaptureViewSettings): CaptureView {
  const head = `{"schemaVersion":${JSON.stringify(SCHEMA_VERSION)},"command":"capture","connections":[`;
  const opts = { names: settings.names, fingerprints: settings.fingerprints };
  const assessor = judge(settings);
  let batch = '';
  const flush = (): void => {
    if (batch === '') return;
    // ctx.out ends the text with the newline of the last line.
    ctx.out(batch.slice(0, -1));
    batch = '';
  };
  return {
    order: 'end',
    add(c) {
      const certificates = assessor.certificates(c.certificates);
      const line = compactConnectionText(
        c,
        {
          certificates,
          clientCertificates: assessor.certificates(c.clientCertificates),
          chain: assessor.chain(c, certificates),
          fingerprints: opts.fingerprints ? fingerprintConnection(c) : null,
        },
        opts,
      );
      batch += `${head}${line}]}\n`;
      if (batch.length >= NDJSON_BATCH_BYTES) flush();
    },
    flush,
    finish: flush,
    abort() {
      flush();
      return false;
    },
  };
}

/** `--json`: the text of JSON.stringify(envelope('capture', { connections, summary }), null, 2), written as it goes. */
function jsonView(ctx: CliContext, settings: CaptureViewSettings): CaptureView {
  const assessor = judge(settings);
  let held: string | null = null;
  let shown = 0;
  const head = `{\n  "schemaVersion": ${JSON.stringify(SCHEMA_VERSION)},\n  "command": "capture",\n  "connections": [`;
  const close = (): void => {
    if (held === null) ctx.out(`${head}],`);
    else ctx.out(`${held}\n  ],`);
    held = null;
  };
  return {
    order: 'index',
    add(c) {
      const text = indent(JSON.stringify(connectionJson(c, assessor), null, 2), 4);
      ctx.out(held === null ? head : `${held},`);
      held = text;
      shown++;
    },
    finish(s) {
      close();
      const summary = {
        format: s.format,
        packets: s.packets,
        flows: s.flows,
        tlsConnections: s.tlsConnections,
        shown,
        decrypted: s.decrypted,
        keyLogErrors: s.keyLogErrors,
        truncated: s.truncated,
      };
      ctx.out(`  "summary": ${indent(JSON.stringify(summary, null, 2), 2).trimStart()}\n}`);
    },
    flush: () => undefined,
    abort(code, problem) {
      if (shown === 0) return false;
      close();
      ctx.out(`  "error": ${JSON.stringify({ code, message: problem })}\n}`);
      return true;
    },
  };
}

const ORDER: readonly CaptureOutcome[] = ['negotiated', 'alert', 'reset', 'closed', 'timeout', 'malformed', 'mismatch'];

/** The table: a bounded window of rows drawn at the end, or (`rows` 0) every row as it comes. */
function tableView(ctx: CliContext, settings: CaptureViewSettings): CaptureView {
  const row = (c: ConnectionFacts): ConnectionRow =>
    connectionRow(c, settings.fingerprints ? fingerprintConnection(c) : null);
  const window = settings.rows > 0 ? createRowWindow<ConnectionRow>(settings.rows) : null;
  const streamed = settings.rows > 0 ? null : streamedConnectionsTable({ fingerprints: settings.fingerprints });
  const outcomes = new Map<CaptureOutcome, number>();
  let matched = 0;
  return {
    // The window keeps its rows by index whatever order they come in (row-window.ts); rows printed
    // as they come must come by index.
    order: window ? 'end' : 'index',
    add(c) {
      matched++;
      outcomes.set(c.outcome, (outcomes.get(c.outcome) ?? 0) + 1);
      if (window) window.add(c.index, c.outcome !== 'negotiated', () => row(c));
      else {
        const top = matched === 1 ? streamed!.top() : '';
        if (top !== '') ctx.out(top);
        ctx.out(streamed!.row(row(c)));
      }
    },
    finish(s) {
      let shown = matched;
      if (window) {
        const rows = window.rows();
        shown = rows.length;
        if (rows.length > 0) ctx.out(renderConnectionsTable(rows, { fingerprints: settings.fingerprints }));
      } else if (matched > 0 && streamed!.bottom() !== '') ctx.out(streamed!.bottom());
      const cut = shown < matched;
      const filtered = cut
        ? `, ${shown} of ${matched} shown (failed connections first; --rows N or --rows 0 for more)`
        : matched !== s.tlsConnections
          ? `, ${shown} shown`
          : '';
      const keyNote = s.keyLogGiven || s.decrypted > 0 ? `; ${s.decrypted} decrypted` : '';
      const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
      ctx.out(
        `${plural(s.tlsConnections, 'TLS connection')} in ${plural(s.flows, 'TCP flow')} (${s.packets} packets)` +
          `${filtered}${keyNote}${s.truncated ? '; the file ends mid-record' : ''}`,
      );
      const counts = ORDER.filter((o) => outcomes.has(o)).map((o) => `${o} ${outcomes.get(o)}`);
      if (cut) ctx.out(`outcomes: ${counts.join(', ')}`);
    },
    flush: () => undefined,
    abort: () => false,
  };
}

/** Link types the packet decoder reads (capture/link-layer.ts). */
const DECODED_LINK_TYPES: ReadonlySet<number> = new Set(Object.values(LinkType));

/**
 * Returns what to tell a user about the packets the decoder could not read, from its counters and
 * the capture's interfaces: a line for those whose link layer is not decoded (naming the link types
 * not read) and one for those encrypted below TCP; none when every packet was read. A capture that
 * gives "0 TLS connections" says why.
 */
export function unreadPacketsNotes(
  stats: Pick<DecodeStats, 'unsupportedLinkType' | 'encrypted'>,
  linkTypes: readonly number[],
): string[] {
  const notes: string[] = [];
  const packets = (n: number): string => `${n} packet${n === 1 ? '' : 's'}`;
  if (stats.unsupportedLinkType > 0) {
    const unknown = [...new Set(linkTypes.filter((t) => !DECODED_LINK_TYPES.has(t)))].sort((a, b) => a - b);
    const what =
      unknown.length > 0
        ? `link type ${unknown.join(', ')} is not decoded`
        : 'their link layer is not decoded (an 802.11 fragment or A-MSDU, or a link type inside PKTAP or PPI)';
    notes.push(`${packets(stats.unsupportedLinkType)} not read: ${what}`);
  }
  if (stats.encrypted > 0)
    notes.push(
      `${packets(stats.encrypted)} not read: encrypted below TCP (IPsec ESP, protected Wi-Fi frames); ` +
        "capture on the VPN's own interface, or decrypt the capture first (Wireshark can, given the keys)",
    );
  return notes;
}
