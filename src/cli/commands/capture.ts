/** `tlsprobe capture FILE` (alias `pcap`): every TLS connection in a pcap/pcapng file, one row or JSON object each. */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { CliError, UserError } from '../exit-codes.js';
import { readFailureText } from '../io.js';
import type { JsonObject } from '../../report/decode-view.js';
import { deprecatedAlias } from '../deprecated.js';
import { HTML_OPTION } from '../report-options.js';
import type { CliContext } from '../context.js';
import { DEFAULT_TABLE_ROWS } from '../../report/row-window.js';
import type { AnalyzeResult } from '../../capture/facts.js';
import type { CaptureView } from '../capture-output.js';
import type { Assessor } from '../../capture/assess.js';

interface CaptureArgs {
  file: string;
  json: boolean;
  ndjson: boolean;
  keylog?: string;
  'filter-host'?: string;
  port?: number;
  'filter-sni'?: string;
  /** Deprecated spellings of --filter-host and --filter-sni (hidden, they warn). */
  host?: string;
  sni?: string;
  failed: boolean;
  fingerprints: boolean;
  names: boolean;
  rows: number;
  at?: string;
  roots?: string;
  html?: string;
}

/**
 * Files at least this large get a progress bar on a terminal: reading and reassembling runs at
 * tens of MB per second, so smaller files finish before a bar would tell anything.
 */
export const PROGRESS_MIN_BYTES = 32 * 1024 * 1024;

/** Redraws of the progress bar: one per percent at most, so a huge file does not flood the terminal. */
const PROGRESS_STEPS = 100;

const PROGRESS_WIDTH = 30;

/** Returns the chunks of `source`, calling `onBytes` with the running total after each. */
async function* counted(source: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const chunk of source) {
    n += chunk.length;
    onBytes(n);
    yield chunk;
  }
}

/**
 * Returns the chunks of `source`, each once the output written so far has drained: rows and JSON
 * are written as connections end, and a reader slower than the analysis must not make them pile
 * up in memory.
 */
async function* paced(
  source: AsyncIterable<Uint8Array>,
  ctx: CliContext,
  view: CaptureView,
): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  // Interrupted (Ctrl-C): stop at once, even while waiting on a pipe that stays silent, so the
  // command closes what it printed (captureCommand).
  const stopped = ctx.signal ? abortion(ctx.signal) : null;
  for (;;) {
    const next = await (stopped ? Promise.race([it.next(), stopped]) : it.next());
    if (next.done) return;
    view.flush();
    if (ctx.outputDrained) await ctx.outputDrained();
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    yield next.value;
  }
}

/** A promise that rejects with the signal's reason once it aborts (handled, so never unhandled). */
function abortion(signal: AbortSignal): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  p.catch(() => {});
  return p;
}

/** Returns the yargs options of `capture`. */
function captureOptions(y: Argv): Argv<CaptureArgs> {
  return (
    y
      .positional('file', {
        type: 'string',
        describe: 'a pcap or pcapng file (gzip-compressed is fine), a named pipe, or - for standard input',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print { "connections": [...] } once the file is read',
      })
      .option('ndjson', {
        type: 'boolean',
        default: false,
        describe:
          'print one compact connection per line as each connection ends (memory stays flat; ' +
          'shape: docs/capture-ndjson.md)',
      })
      .option('keylog', {
        type: 'string',
        describe: 'NSS key log file (SSLKEYLOGFILE) to decrypt TLS 1.3 certificates and the Finished messages',
      })
      .option('filter-host', {
        type: 'string',
        describe: 'only connections with this address at either end, or this SNI',
      })
      .option('port', { type: 'number', describe: 'only connections with this port at either end' })
      .option('filter-sni', {
        type: 'string',
        describe: 'only connections whose SNI matches (case-insensitive, * wildcards)',
      })
      // Before 0.2 these filters were --host and --sni, which elsewhere mean "send this name".
      .option('host', { type: 'string', hidden: true })
      .option('sni', { type: 'string', hidden: true })
      .option('failed', {
        type: 'boolean',
        default: false,
        describe: 'only connections that did not complete a handshake',
      })
      .option('rows', {
        type: 'number',
        default: DEFAULT_TABLE_ROWS,
        describe:
          'table rows shown, failed connections first, with a summary of the rest; 0: every connection, ' +
          'a row printed as each ends',
      })
      .option('fingerprints', {
        type: 'boolean',
        default: false,
        describe: 'add JA3, JA3S and JA4 columns to the table (and to each --ndjson line)',
      })
      .option('names', {
        type: 'boolean',
        default: false,
        describe: 'with --ndjson: registry names beside every list of numbers (suites, extensions, groups…)',
      })
      .option('at', {
        type: 'string',
        describe: 'judge certificate validity at this date (ISO 8601; default: when the connection was captured)',
      })
      .option('roots', {
        type: 'string',
        describe: 'trust anchors: a PEM bundle FILE or directory, or "system" (default: the documented root set)',
      })
      .option('html', HTML_OPTION)
      .example('$0 capture backup-failure.pcapng', 'one row per TLS connection')
      .example('$0 capture dump.pcap --failed --port 443', 'only the handshakes that failed, on port 443')
      .example('$0 capture dump.pcapng --keylog sslkeys.log --json', 'decrypt TLS 1.3 certificates; JSON out')
      .epilog(
        'TLS is recognised by content on any port, after STARTTLS or proxy preambles too. Outcomes: negotiated ' +
          '(handshake completed), alert, reset (TCP RST: error 10054 on Windows), closed (FIN), timeout (still ' +
          'open when the capture ends), malformed (not TLS), mismatch (the server chose what was not offered). ' +
          'A key log embedded in the pcapng file (Decryption Secrets Block) is used as well as --keylog. ' +
          'Exit code 0 when the file was read, 2 on usage errors or a file that is not a capture.',
        // the chain's inferred options type is not assignable to CaptureArgs, the shape the handler reads
      ) as unknown as Argv<CaptureArgs>
  );
}

/**
 * Returns what judges the connections (chains, fingerprints) for the views that show judgements
 * (--json, --ndjson, --html), or null for the table, which shows none: then the certificate
 * validator and its trust anchors are not even loaded (~0.1 s of a small capture's run). --roots
 * and --at are still read when given, so a wrong one is reported whatever the view.
 */
async function assessorFor(args: CaptureArgs): Promise<Assessor | null> {
  const judging = args.json || args.ndjson || args.html !== undefined;
  if (!judging && args.roots === undefined && args.at === undefined) return null;
  const { createAssessor } = await import('../../capture/assess.js');
  const { rootsOption, atOption } = await import('../chain-enrich.js');
  const at = atOption(args.at);
  const roots = rootsOption(args.roots);
  return judging ? createAssessor({ roots, ...(at ? { at } : {}) }) : null;
}

/** Returns `file`'s text (`what` names it in the error), or throws UserError. */
function readUserFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${what}${file}: ${errnoMessage(e)}`);
  }
}

const errnoMessage = (e: unknown): string => readFailureText((e as NodeJS.ErrnoException).code, (e as Error).message);

/**
 * `-` is standard input, and so is /dev/stdin: read through the process's own stream, as that may be
 * a socket (a parent's pipe), which cannot be opened.
 */
const isStdin = (file: string): boolean => file === '-' || file === '/dev/stdin';

/** The capture's name in messages and reports. */
const captureName = (file: string): string => (file === '-' ? 'standard input' : file);

/**
 * Returns the size of the capture file (0 for standard input or a pipe, whose size is unknown), or
 * throws UserError when it cannot be read as a stream of bytes: missing, a directory, a socket.
 */
function captureSize(file: string): number {
  if (isStdin(file)) return 0;
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${errnoMessage(e)}`);
  }
  if (st.isDirectory()) throw new UserError(`${file}: is a directory, not a capture file`);
  if (st.isFile()) return st.size;
  // A named pipe (tcpdump -w fifo), /dev/stdin or another character device: read as a stream.
  if (st.isFIFO() || st.isCharacterDevice()) return 0;
  throw new UserError(`${file}: not a file or a pipe (give - to read standard input)`);
}

/** Returns `source` with a progress bar on stderr when a person watches a large file being read. */
async function withProgress(
  ctx: CliContext,
  source: AsyncIterable<Uint8Array>,
  file: string,
  size: number,
): Promise<{ source: AsyncIterable<Uint8Array>; shown: boolean }> {
  if (!(ctx.isTty && size >= PROGRESS_MIN_BYTES && Boolean(process.stderr.isTTY))) return { source, shown: false };
  const { isGzip } = await import('../../capture/source.js');
  const head = new Uint8Array(2);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 2, 0);
  } finally {
    closeSync(fd);
  }
  const gz = isGzip(head);
  let shown = -1;
  const counting = counted(source, (n) => {
    // A gzip file's decompressed size is unknown up front: show megabytes instead of a bar.
    const step = gz ? Math.floor(n / (16 << 20)) : Math.floor((n / size) * PROGRESS_STEPS);
    if (step === shown) return;
    shown = step;
    const text = gz
      ? `reading ${file}: ${(n / 1e6).toFixed(0)} MB decompressed`
      : `[${'#'.repeat(Math.round((n / size) * PROGRESS_WIDTH)).padEnd(PROGRESS_WIDTH)}] ${Math.min(100, Math.round((n / size) * 100))}%`;
    process.stderr.write(`\r${text}`);
  });
  return { source: counting, shown: true };
}

/** Writes the --html report of the connections kept. */
async function writeCaptureHtml(
  ctx: CliContext,
  args: CaptureArgs,
  rows: JsonObject[],
  result: AnalyzeResult,
): Promise<void> {
  const s = result.stats;
  const json = {
    connections: rows,
    summary: {
      format: result.meta.format,
      packets: s.packets,
      flows: s.flows,
      tlsConnections: s.connections,
      shown: rows.length,
      decrypted: s.decryptedConnections,
      keyLogErrors: s.keyLogErrors,
      truncated: result.meta.truncated,
    },
  };
  const html = await import('../html-out.js');
  await html.writeHtmlReport(
    ctx,
    args.html!,
    {
      title: `tlsprobe capture: ${captureName(args.file)}`,
      sections: [html.captureSection(captureName(args.file), json as never)],
      raw: json,
    },
    [isStdin(args.file) ? '-' : args.file, args.keylog, args.roots],
  );
}

export function captureCommand(ctx: CliContext): CommandModule<object, CaptureArgs> {
  return {
    command: 'capture <file>',
    aliases: ['pcap'],
    describe: 'List the TLS connections in a pcap/pcapng capture: hellos, certificates, alerts, how each ended',
    builder: captureOptions,
    handler: async (args) => {
      const filterHost = deprecatedAlias(ctx, args['filter-host'], args.host, '--host', '--filter-host');
      const filterSni = deprecatedAlias(ctx, args['filter-sni'], args.sni, '--sni', '--filter-sni');
      if (args.json && args.ndjson) throw new UserError('give --json or --ndjson, not both');
      if (!Number.isInteger(args.rows) || args.rows < 0)
        throw new UserError(`--rows takes a whole number, 0 for all (got ${args.rows})`);
      if (args.port !== undefined && (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535)) {
        throw new UserError(`--port takes a port number 0-65535 (got ${args.port})`);
      }
      if (args.names && !args.ndjson) throw new UserError('--names goes with --ndjson (--json always has the names)');
      const size = captureSize(args.file);
      const keyLog = args.keylog !== undefined ? readUserFile(args.keylog, '--keylog ') : undefined;
      // Heavy modules load when the command runs, so `--help` starts fast.
      const { captureBytes, openCaptureFile } = await import('../../capture/source.js');
      const { analyzeCapture } = await import('../../capture/sessions.js');
      const { connectionMatches } = await import('../../report/capture-view.js');
      const { createCaptureView, connectionJson, unreadPacketsNotes } = await import('../capture-output.js');
      const { DecodeError } = await import('../../wire/errors.js');
      const assessor = await assessorFor(args);
      const filters = {
        ...(filterHost !== undefined ? { host: filterHost } : {}),
        ...(args.port !== undefined ? { port: args.port } : {}),
        ...(filterSni !== undefined ? { sni: filterSni } : {}),
        failed: args.failed,
      };
      // Ctrl-C stops the reading between chunks (paced), and the view closes what it began.
      ctx.watchesSignal?.();
      const view = createCaptureView(ctx, {
        mode: args.ndjson ? 'ndjson' : args.json ? 'json' : 'table',
        rows: args.rows,
        fingerprints: args.fingerprints,
        names: args.names,
        assessor,
      });
      const progress = await withProgress(
        ctx,
        paced(
          isStdin(args.file) ? captureBytes(process.stdin) : openCaptureFile(args.file, { reuseChunks: true }),
          ctx,
          view,
        ),
        args.file,
        size,
      );
      // --html keeps every shown connection for the report (the other outputs stream and keep none).
      const htmlRows: JsonObject[] | null = args.html !== undefined ? [] : null;
      let result: AnalyzeResult;
      try {
        result = await analyzeCapture(progress.source, {
          ...(keyLog !== undefined ? { keyLog } : {}),
          // --ndjson prints connections as they end, the table's row window orders its rows itself;
          // the JSON array, a table printed row by row and the HTML report go by index.
          order: htmlRows !== null ? 'index' : view.order,
          onConnection: (c) => {
            if (!connectionMatches(c, filters)) return;
            view.add(c);
            if (htmlRows) htmlRows.push(connectionJson(c, assessor!));
          },
        });
      } catch (e) {
        if (e instanceof DecodeError) {
          // A file whose first bytes say nothing we know (the detail ends at its magic number) may
          // still say what it is by its name (.etl).
          const unknown = e.path === 'capture/magic' && /\(magic 0x[0-9a-f]{8}\)$/.test(e.detail) && args.file !== '-';
          const byName = unknown ? (await import('../../capture/file-kind.js')).describeByName(args.file) : null;
          const detail = byName === null ? e.detail : `${e.detail}: ${byName}`;
          const problem = `${captureName(args.file)}: not a readable pcap/pcapng capture: ${detail} (${e.code} at offset ${e.offset})`;
          const printed = view.abort('bad-input', problem);
          throw new CliError('bad-input', problem, { jsonPrinted: printed });
        }
        if (e instanceof CliError && e.code === 'interrupted') {
          // The --json document already begun ends with the error instead of a second document.
          throw new CliError('interrupted', e.message, { jsonPrinted: view.abort('interrupted', e.message) });
        }
        throw e;
      } finally {
        if (progress.shown) process.stderr.write('\n');
      }
      const s = result.stats;
      // Framing that broke after the first packet: what came before it is shown, then the error
      // (exit 2). The JSON document ends with the error instead of the summary, as when reading fails.
      const damage = result.meta.damaged;
      const damageProblem =
        damage === null
          ? null
          : `${captureName(args.file)}: damaged at offset ${damage.offset}, only the ${
              result.meta.packets === 1 ? '1 packet before it was' : `${result.meta.packets} packets before it were`
            } read: ${damage.reason}`;
      if (damageProblem !== null && (args.json || args.ndjson)) {
        throw new CliError('bad-input', damageProblem, { jsonPrinted: view.abort('bad-input', damageProblem) });
      }
      view.finish({
        format: result.meta.format,
        packets: s.packets,
        flows: s.flows,
        tlsConnections: s.connections,
        decrypted: s.decryptedConnections,
        keyLogErrors: s.keyLogErrors,
        truncated: result.meta.truncated,
        keyLogGiven: keyLog !== undefined,
      });
      const linkTypes = result.meta.interfaces.map((i) => i.linkType);
      for (const note of unreadPacketsNotes(s.decode, linkTypes)) ctx.err(note);
      if (damageProblem !== null) throw new CliError('bad-input', damageProblem);
      if (htmlRows) await writeCaptureHtml(ctx, args, htmlRows, result);
      if (s.keyLogErrors > 0) ctx.err(`${s.keyLogErrors} key log line(s) could not be used`);
    },
  };
}
