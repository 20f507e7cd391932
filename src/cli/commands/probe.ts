/** `tlsprobe probe HOST[:PORT]...`: which versions, suites and groups an endpoint accepts, and how refusals fail. */
import type { Argv, CommandModule } from 'yargs';
import type { ScanOptions } from '../../probe/scan.js';
import type { TracedAttempt } from '../../capture/pcapng-writer.js';
import { PROBE_VERSIONS, type ProbeVersion } from '../../probe/versions.js';
import { parseProxyUrl, type Via } from '../../probe/proxy.js';
import { parseStarttlsProtocol, type StarttlsProtocol } from '../../probe/starttls.js';
import { ExitCode, UserError } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { parseTarget, secondsOption } from '../target.js';
import { HTML_OPTION, LADDER_OPTION } from '../report-options.js';
import { envelope } from '../../report/envelope.js';

export interface ProbeArgs {
  targets: string[];
  json: boolean;
  ndjson: boolean;
  /** A name, or false for --no-sni (yargs negation). */
  sni?: string | false;
  proxy?: string;
  starttls?: string;
  timeout?: number;
  'connect-timeout'?: number;
  versions?: string[];
  ciphers: boolean;
  groups: boolean;
  'max-connections'?: number;
  rate?: number;
  concurrency?: number;
  'all-addresses': boolean;
  at?: string;
  roots?: string;
  pcap?: string;
  keylog?: string;
  ladder?: boolean;
  html?: string;
}

/** Adds the options every connecting command shares (probe, diagnose, chain). */
export function connectOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('timeout', { type: 'number', describe: 'read timeout in seconds (decimals allowed): how long to wait for an answer', default: undefined })
    .option('connect-timeout', { type: 'number', describe: 'TCP connect timeout in seconds (decimals allowed)' })
    .option('sni', { type: 'string', describe: 'server name to send (default: the host name; none for IP addresses); --no-sni sends none' })
    .option('proxy', { type: 'string', describe: 'connect through a proxy: http://[user:pass@]host:port (HTTP CONNECT) or socks5://host:port' })
    .option('starttls', { type: 'string', describe: 'upgrade a plain connection first: smtp, imap, pop3, ftp, ldap, postgres or xmpp' });
}

/** Returns the scan options shared by connecting commands, validated. */
export function scanOptionsFrom(args: Partial<ProbeArgs>, port: number): ScanOptions {
  if (args.sni === '') throw new UserError('--sni needs a NAME (use --no-sni to send none)');
  const readTimeoutMs = secondsOption(args.timeout, 'timeout');
  const connectTimeoutMs = secondsOption(args['connect-timeout'], 'connect-timeout');
  let versions: ProbeVersion[] | undefined;
  if (args.versions) {
    versions = args.versions.flatMap((v) => v.split(',')).map((v) => {
      const norm = v.trim().toUpperCase().replace(/^TLSV?/, 'TLS').replace(/^SSLV?/, 'SSL');
      const found = PROBE_VERSIONS.find((p) => p.toUpperCase() === norm || p.replace('.', '').toUpperCase() === norm.replace('.', ''));
      if (!found) throw new UserError(`unknown version "${v}": use ${PROBE_VERSIONS.join(', ')}`);
      return found;
    });
  }
  const positive = (v: number | undefined, name: string, integer: boolean) => {
    if (v === undefined) return undefined;
    if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) throw new UserError(`--${name} takes a positive ${integer ? 'whole ' : ''}number (got ${v})`);
    return v;
  };
  let via: Via | undefined;
  let starttls: StarttlsProtocol | undefined;
  try {
    if (args.proxy !== undefined) via = parseProxyUrl(args.proxy);
    if (args.starttls !== undefined) starttls = parseStarttlsProtocol(args.starttls);
  } catch (e) {
    if (e instanceof TypeError) throw new UserError(e.message);
    throw e;
  }
  return {
    port,
    ...(via ? { via } : {}),
    ...(starttls ? { starttls } : {}),
    ...(args.sni === false ? { sni: null } : args.sni !== undefined ? { sni: args.sni } : {}),
    ...(readTimeoutMs !== undefined ? { readTimeoutMs } : {}),
    ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
    ...(versions ? { versions } : {}),
    ciphers: Boolean(args.ciphers),
    groups: Boolean(args.groups),
    allAddresses: Boolean(args['all-addresses']),
    ...(positive(args['max-connections'], 'max-connections', true) !== undefined ? { maxConnections: args['max-connections']! } : {}),
    ...(positive(args.rate, 'rate', false) !== undefined ? { rate: args.rate! } : {}),
    ...(positive(args.concurrency, 'concurrency', true) !== undefined ? { concurrency: args.concurrency! } : {}),
  };
}

export function probeCommand(ctx: CliContext): CommandModule<object, ProbeArgs> {
  return {
    command: 'probe <targets..>',
    describe: 'Probe endpoints per TLS version over raw sockets and report how each attempt ended',
    builder: (y: Argv) =>
      connectOptions(
        y
          .positional('targets', { type: 'string', array: true, describe: 'HOST[:PORT] (default port 443); IPv6 as [ADDR]:PORT' })
          .option('json', { type: 'boolean', default: false, describe: 'print JSON: { schemaVersion, command, results: [one per target] } (tlsprobe schema probe)' })
          .option('ndjson', { type: 'boolean', default: false, describe: 'print one JSON envelope per line, one target in each' })
          .option('ladder', LADDER_OPTION)
          .option('html', HTML_OPTION)
          .option('versions', { type: 'string', array: true, describe: 'versions to probe (default all): SSL3.0 TLS1.0 TLS1.1 TLS1.2 TLS1.3' })
          .option('ciphers', { type: 'boolean', default: false, describe: 'enumerate accepted cipher suites per version, in server preference order' })
          .option('groups', { type: 'boolean', default: false, describe: 'enumerate accepted named groups, post-quantum hybrids included' })
          .option('max-connections', { type: 'number', describe: 'stop after this many connections per address' })
          .option('rate', { type: 'number', describe: 'at most this many new connections per second (decimals allowed)' })
          .option('concurrency', { type: 'number', describe: 'connections in flight per address (default 5)' })
          .option('all-addresses', { type: 'boolean', default: false, describe: 'probe every address behind the name and flag the ones that answer differently' })
          .option('at', { type: 'string', describe: 'check certificate validity at this date (ISO 8601; default now)' })
          .option('roots', { type: 'string', describe: 'trust anchors: a PEM bundle FILE, or "system" for Node\'s bundle (default: the documented root set)' })
          .option('pcap', { type: 'string', describe: 'write the version probes as a pcapng FILE (TLS 1.3 secrets embedded: Wireshark opens it decrypted)' })
          .option('keylog', { type: 'string', describe: 'append the TLS 1.3 secrets to FILE in NSS key log format (SSLKEYLOGFILE)' }),
      )
        .example('$0 probe example.com', 'versions, suites and certificates of example.com:443')
        .example('$0 probe 10.0.0.5:8443 --no-sni --json', 'an IP endpoint, JSON out')
        .example('$0 probe backup.example.net --ciphers --groups', 'also enumerate suites and groups')
        .epilog(
          'Each version gets one ClientHello of its own, sent over a plain TCP socket. Results: negotiated, ' +
            'alert (which one), reset (TCP RST: what Windows clients report as error 10054), closed (FIN without ' +
            'a TLS answer), timeout, connect-refused, connect-timeout, dns-error, malformed (not TLS), mismatch ' +
            '(the server chose something not offered). Exit code 0 when every probe ran, 1 when a target could ' +
            'not be reached, 2 on usage errors.',
        ) as unknown as Argv<ProbeArgs>,
    handler: async (args) => {
      const specs = args.targets.map((t) => parseTarget(t));
      if (args.json && args.ndjson) throw new UserError('give --json or --ndjson, not both');
      // Heavy modules load when a command runs, so `--help` starts fast; together, so their file
      // reads overlap; the tables (cli-table3, ~20 ms to load) only for text output.
      const text = !args.json && !args.ndjson;
      const [{ scan }, { scanToJson, unreachable }, { enrichWithChain }, textView] = await Promise.all([
        import('../../probe/scan.js'),
        import('../../report/probe-view.js'),
        import('../chain-enrich.js'),
        text ? import('../../report/probe-text.js') : null,
      ]);
      if (args.pcap === '' || args.keylog === '') throw new UserError('--pcap and --keylog need a FILE');
      const trace = args.pcap !== undefined || args.keylog !== undefined;
      const writer = trace ? await import('../../capture/pcapng-writer.js') : null;
      const traced: TracedAttempt[] = [];
      const outputs: object[] = [];
      const htmlSections: object[] = [];
      let done = 0;
      for (const spec of specs) {
        const options = scanOptionsFrom(args, spec.port);
        if (ctx.isTty && specs.length > 1) ctx.err(`[${done + 1}/${specs.length}] probing ${spec.host}:${spec.port}…`);
        const announce = (options.ciphers || options.groups) && !args.json && !args.ndjson;
        const result = await scan(spec.host, {
          ...options,
          ...(trace ? { trace } : {}),
          ...(announce ? { onPlan: (p: { address: string; predictedConnections: number }) => ctx.err(`${spec.host} (${p.address}): at most ${p.predictedConnections} connections planned${options.maxConnections ? `, capped at ${options.maxConnections}` : ''}`) } : {}),
        });
        const json = await enrichWithChain(scanToJson(result), result, { host: spec.host, at: args.at, roots: args.roots });
        if (writer) traced.push(...writer.tracedAttempts(result));
        done++;
        if (unreachable(result)) ctx.setExitCode(ExitCode.failure);
        if (args.html !== undefined) htmlSections.push(json);
        if (args.ndjson) ctx.out(JSON.stringify(envelope('probe', { results: [json] })));
        else if (args.json) outputs.push(json);
        else ctx.out(textView!.renderProbeText(json) + (args.ladder ? `\n${await ladderText(json)}` : '') + (done < specs.length ? '\n' : ''));
      }
      if (args.json) ctx.out(JSON.stringify(envelope('probe', { results: outputs }), null, 2));
      if (writer) await writeTraces(ctx, writer, traced, args.pcap, args.keylog);
      if (args.html !== undefined) {
        const html = await import('../html-out.js');
        const sections = htmlSections.map((j) => html.probeSection(j as never));
        await html.writeHtmlReport(ctx, args.html, { title: `tlsprobe probe: ${specs.map((t) => `${t.host}:${t.port}`).join(', ')}`, command: html.commandLine(), generatedAt: new Date(), sections, raw: specs.length === 1 ? htmlSections[0] : htmlSections }, [args.roots, args.pcap, args.keylog]);
      }
    },
  };
}

/** Returns the text ladder of a probe's JSON view, fitted to the output width. */
export async function ladderText(probe: object): Promise<string> {
  const [{ probeLadders, renderLadderText }, { outputWidth }] = await Promise.all([import('../../report/ladder.js'), import('../../report/fit.js')]);
  return `Handshake ladder:\n${renderLadderText(probeLadders(probe as never), outputWidth())}`;
}

/** Writes the traced probes to the --pcap and --keylog files (atomically); throws UserError when one cannot be written. */
async function writeTraces(
  ctx: CliContext,
  writer: typeof import('../../capture/pcapng-writer.js'),
  traced: readonly TracedAttempt[],
  pcap: string | undefined,
  keylog: string | undefined,
): Promise<void> {
  const { encodeProbeCapture, probeKeyLog, writeFileAtomic, appendFileAtomic } = writer;
  const attempt = async (file: string, what: string, write: () => Promise<void>) => {
    try {
      await write();
      ctx.err(`${what} written to ${file}`);
    } catch (e) {
      throw new UserError(`cannot write ${file}: ${(e as Error).message}`);
    }
  };
  if (pcap !== undefined) await attempt(pcap, `capture of ${traced.length} connections`, () => writeFileAtomic(pcap, encodeProbeCapture(traced)));
  const secrets = traced.reduce((n, t) => n + t.trace.secrets.length, 0);
  if (keylog !== undefined) await attempt(keylog, `${secrets} TLS 1.3 secrets`, () => appendFileAtomic(keylog, probeKeyLog(traced)));
}
