/** `tlsprobe capture FILE` (alias `pcap`): every TLS connection in a pcap/pcapng file, one row or JSON object each. */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { CliError, UserError } from '../exit-codes.js';
import type { JsonObject } from '../../report/decode-view.js';
import { deprecatedAlias } from '../deprecated.js';
import { HTML_OPTION } from '../report-options.js';
import type { CliContext } from '../context.js';
import { DEFAULT_TABLE_ROWS } from '../../report/row-window.js';

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
async function* paced(source: AsyncIterable<Uint8Array>, ctx: CliContext): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    if (ctx.outputDrained) await ctx.outputDrained();
    yield chunk;
  }
}

export function captureCommand(ctx: CliContext): CommandModule<object, CaptureArgs> {
  return {
    command: 'capture <file>',
    aliases: ['pcap'],
    describe: 'List the TLS connections in a pcap/pcapng capture: hellos, certificates, alerts, how each ended',
    builder: (y: Argv) =>
      y
        .positional('file', { type: 'string', describe: 'a pcap or pcapng file (gzip-compressed is fine)' })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'print { "connections": [...] } once the file is read',
        })
        .option('ndjson', {
          type: 'boolean',
          default: false,
          describe: 'print one connection object per line as each connection ends (memory stays flat)',
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
          describe: 'add JA3, JA3S and JA4 columns to the table',
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
        ) as unknown as Argv<CaptureArgs>, // the chain's inferred options type is not assignable to CaptureArgs, the shape the handler reads
    handler: async (args) => {
      const filterHost = deprecatedAlias(ctx, args['filter-host'], args.host, '--host', '--filter-host');
      const filterSni = deprecatedAlias(ctx, args['filter-sni'], args.sni, '--sni', '--filter-sni');
      if (args.json && args.ndjson) throw new UserError('give --json or --ndjson, not both');
      if (!Number.isInteger(args.rows) || args.rows < 0)
        throw new UserError(`--rows takes a whole number, 0 for all (got ${args.rows})`);
      if (args.port !== undefined && (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535)) {
        throw new UserError(`--port takes a port number 0-65535 (got ${args.port})`);
      }
      let size: number;
      try {
        const st = statSync(args.file);
        if (!st.isFile()) throw new UserError(`${args.file}: not a file`);
        size = st.size;
      } catch (e) {
        if (e instanceof UserError) throw e;
        throw new UserError(
          `cannot read ${args.file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
        );
      }
      let keyLog: string | undefined;
      if (args.keylog !== undefined) {
        try {
          keyLog = readFileSync(args.keylog, 'utf8');
        } catch (e) {
          throw new UserError(
            `cannot read --keylog ${args.keylog}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
          );
        }
      }
      // Heavy modules load when the command runs, so `--help` starts fast.
      const { openCaptureFile, isGzip } = await import('../../capture/source.js');
      const { analyzeCapture } = await import('../../capture/sessions.js');
      const { connectionMatches } = await import('../../report/capture-view.js');
      const { createCaptureView } = await import('../capture-output.js');
      const { rootsOption, atOption } = await import('../chain-enrich.js');
      const { DecodeError } = await import('../../wire/errors.js');
      const roots = rootsOption(args.roots);
      const at = atOption(args.at);
      const filters = {
        ...(filterHost !== undefined ? { host: filterHost } : {}),
        ...(args.port !== undefined ? { port: args.port } : {}),
        ...(filterSni !== undefined ? { sni: filterSni } : {}),
        failed: args.failed,
      };

      let source: AsyncIterable<Uint8Array> = paced(openCaptureFile(args.file), ctx);
      const progress = ctx.isTty && size >= PROGRESS_MIN_BYTES && Boolean(process.stderr.isTTY);
      if (progress) {
        const head = new Uint8Array(2);
        const fd = openSync(args.file, 'r');
        try {
          readSync(fd, head, 0, 2, 0);
        } finally {
          closeSync(fd);
        }
        const gz = isGzip(head);
        let shown = -1;
        source = counted(source, (n) => {
          // A gzip file's decompressed size is unknown up front: show megabytes instead of a bar.
          const step = gz ? Math.floor(n / (16 << 20)) : Math.floor((n / size) * PROGRESS_STEPS);
          if (step === shown) return;
          shown = step;
          const text = gz
            ? `reading ${args.file}: ${(n / 1e6).toFixed(0)} MB decompressed`
            : `[${'#'.repeat(Math.round((n / size) * PROGRESS_WIDTH)).padEnd(PROGRESS_WIDTH)}] ${Math.min(100, Math.round((n / size) * 100))}%`;
          process.stderr.write(`\r${text}`);
        });
      }

      const assess = { roots, ...(at ? { at } : {}) };
      const view = createCaptureView(ctx, {
        mode: args.ndjson ? 'ndjson' : args.json ? 'json' : 'table',
        rows: args.rows,
        fingerprints: args.fingerprints,
        assess,
      });
      // --html keeps every shown connection for the report (the other outputs stream and keep none).
      const htmlRows: JsonObject[] | null = args.html !== undefined ? [] : null;
      const htmlJson = htmlRows ? (await import('../capture-output.js')).connectionJson : null;
      let result;
      try {
        result = await analyzeCapture(source, {
          ...(keyLog !== undefined ? { keyLog } : {}),
          // --ndjson prints connections as they end; the JSON array and the table go by index.
          order: args.ndjson ? 'end' : 'index',
          onConnection: (c) => {
            if (!connectionMatches(c, filters)) return;
            view.add(c);
            if (htmlRows) htmlRows.push(htmlJson!(c, assess));
          },
        });
      } catch (e) {
        if (e instanceof DecodeError) {
          const problem = `${args.file}: not a readable pcap/pcapng capture: ${e.detail} (${e.code} at offset ${e.offset})`;
          const printed = view.abort(problem);
          throw new CliError('bad-input', problem, { jsonPrinted: printed });
        }
        throw e;
      } finally {
        if (progress) process.stderr.write('\n');
      }
      const s = result.stats;
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
      if (htmlRows) {
        const json = {
          connections: htmlRows,
          summary: {
            format: result.meta.format,
            packets: s.packets,
            flows: s.flows,
            tlsConnections: s.connections,
            shown: htmlRows.length,
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
            title: `tlsprobe capture: ${args.file}`,
            command: html.commandLine(),
            generatedAt: new Date(),
            sections: [html.captureSection(args.file, json as never)],
            raw: json,
          },
          [args.file, args.keylog, args.roots],
        );
      }
      if (s.keyLogErrors > 0) ctx.err(`${s.keyLogErrors} key log line(s) could not be used`);
    },
  };
}
