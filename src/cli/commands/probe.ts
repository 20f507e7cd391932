/** `tlsprobe probe HOST[:PORT]...`: which versions, suites and groups an endpoint accepts, and how refusals fail. */
import type { Argv, CommandModule, Options } from 'yargs';
import type { ScanOptions, ScanResult } from '../../probe/scan.js';
import type { JsonObject } from '../../report/decode-view.js';
import type { TracedAttempt } from '../../capture/pcapng-writer.js';
import { PROBE_VERSIONS, type ProbeVersion } from '../../probe/versions.js';
import { parseProxyUrl, type Via } from '../../probe/proxy.js';
import { parseStarttlsProtocol, type StarttlsProtocol } from '../../probe/starttls.js';
import { CliError, ExitCode, UserError } from '../exit-codes.js';
import { checkOutputPath } from '../io.js';
import type { CliContext } from '../context.js';
import { parseTarget, secondsOption, type TargetSpec } from '../target.js';
import { performance } from 'node:perf_hooks';
import { HTML_OPTION, LADDER_OPTION } from '../report-options.js';
import { envelope } from '../../report/envelope.js';

/** The options of `probe` that other connecting commands share (their own positionals apart). */
export interface ProbeArgs {
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
    .option('timeout', {
      type: 'number',
      describe: 'read timeout in seconds (decimals allowed): how long to wait for an answer',
      default: undefined,
    })
    .option('connect-timeout', { type: 'number', describe: 'TCP connect timeout in seconds (decimals allowed)' })
    .option('sni', {
      type: 'string',
      describe: 'server name to send (default: the host name; none for IP addresses); --no-sni sends none',
    })
    .option('proxy', {
      type: 'string',
      describe: 'connect through a proxy: http://[user:pass@]host:port (HTTP CONNECT) or socks5://host:port',
    })
    .option('starttls', {
      type: 'string',
      describe: 'upgrade a plain connection first: smtp, imap, pop3, ftp, ldap, postgres or xmpp',
    });
}

/** Returns the scan options shared by connecting commands, validated. */
export function scanOptionsFrom(args: Partial<ProbeArgs>, port: number): ScanOptions {
  // yargs makes a repeated string option an array: one hello carries one server name here.
  if (Array.isArray(args.sni)) throw new UserError(`--sni given ${args.sni.length} times: give one NAME (or --no-sni)`);
  if (args.sni === '') throw new UserError('--sni needs a NAME (use --no-sni to send none)');
  const readTimeoutMs = secondsOption(args.timeout, 'timeout');
  const connectTimeoutMs = secondsOption(args['connect-timeout'], 'connect-timeout');
  let versions: ProbeVersion[] | undefined;
  if (args.versions) {
    versions = args.versions
      .flatMap((v) => v.split(','))
      .map((v) => {
        const norm = v
          .trim()
          .toUpperCase()
          .replace(/^TLSV?/, 'TLS')
          .replace(/^SSLV?/, 'SSL');
        const found = PROBE_VERSIONS.find(
          (p) => p.toUpperCase() === norm || p.replace('.', '').toUpperCase() === norm.replace('.', ''),
        );
        if (!found) throw new UserError(`unknown version "${v}": use ${PROBE_VERSIONS.join(', ')}`);
        return found;
      });
  }
  const positive = (v: number | undefined, name: string, integer: boolean) => {
    if (v === undefined) return undefined;
    if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
      throw new UserError(`--${name} takes a positive ${integer ? 'whole ' : ''}number (got ${v})`);
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
    ...(positive(args['max-connections'], 'max-connections', true) !== undefined
      ? { maxConnections: args['max-connections']! }
      : {}),
    ...(positive(args.rate, 'rate', false) !== undefined ? { rate: args.rate! } : {}),
    ...(positive(args.concurrency, 'concurrency', true) !== undefined ? { concurrency: args.concurrency! } : {}),
  };
}

/** The arguments of `probe` itself. */
interface ProbeCommandArgs extends ProbeArgs {
  hosts?: string[];
  /** A file of HOST[:PORT] lines (`--targets FILE`, as sslscan takes). */
  targets?: string;
  parallel?: number;
}

/** Targets probed at once by default: a fleet's scans overlap their round trips; each target keeps its own per-host limits. */
export const DEFAULT_PARALLEL_TARGETS = 16;

/**
 * The options of `probe` itself, in help order (`connectOptions` adds the shared ones after them):
 * a table, so the builder stays one expression.
 */
const PROBE_OPTIONS = {
  targets: {
    type: 'string',
    describe:
      'also probe the targets in FILE: one HOST[:PORT] a line, # comments and blank lines ignored (- for stdin)',
  },
  parallel: {
    type: 'number',
    describe: `targets probed at once (default ${DEFAULT_PARALLEL_TARGETS})`,
  },
  json: {
    type: 'boolean',
    default: false,
    describe: 'print JSON: { schemaVersion, command, results: [one per target] } (tlsprobe schema probe)',
  },
  ndjson: {
    type: 'boolean',
    default: false,
    describe: 'print one JSON envelope per line, one target in each; with several targets a last line { summary }',
  },
  ladder: LADDER_OPTION,
  html: HTML_OPTION,
  versions: {
    type: 'string',
    array: true,
    describe: 'versions to probe (default all): SSL3.0 TLS1.0 TLS1.1 TLS1.2 TLS1.3',
  },
  ciphers: {
    type: 'boolean',
    default: false,
    describe: 'enumerate accepted cipher suites per version, in server preference order',
  },
  groups: {
    type: 'boolean',
    default: false,
    describe: 'enumerate accepted named groups, post-quantum hybrids included',
  },
  'max-connections': { type: 'number', describe: 'stop after this many connections per address' },
  rate: {
    type: 'number',
    describe: 'at most this many new connections per second (decimals allowed)',
  },
  concurrency: { type: 'number', describe: 'connections in flight per address (default 5)' },
  'all-addresses': {
    type: 'boolean',
    default: false,
    describe: 'probe every address behind the name and flag the ones that answer differently',
  },
  at: { type: 'string', describe: 'check certificate validity at this date (ISO 8601; default now)' },
  roots: {
    type: 'string',
    describe: 'trust anchors: a PEM bundle FILE, or "system" for Node\'s bundle (default: the documented root set)',
  },
  pcap: {
    type: 'string',
    describe: 'write the version probes as a pcapng FILE (TLS 1.3 secrets embedded: Wireshark opens it decrypted)',
  },
  keylog: {
    type: 'string',
    describe: 'append the TLS 1.3 secrets to FILE in NSS key log format (SSLKEYLOGFILE)',
  },
} satisfies Record<string, Options>;

/** Returns `probe`'s parser: its positional, its options, the shared connect options, examples and epilog. */
function probeBuilder(y: Argv): Argv<ProbeCommandArgs> {
  return connectOptions(
    y
      .positional('hosts', {
        type: 'string',
        array: true,
        describe: 'HOST[:PORT] (default port 443); IPv6 as [ADDR]:PORT',
      })
      .options(PROBE_OPTIONS),
  )
    .example('$0 probe example.com', 'versions, suites and certificates of example.com:443')
    .example('$0 probe 10.0.0.5:8443 --no-sni --json', 'an IP endpoint, JSON out')
    .example('$0 probe backup.example.net --ciphers --groups', 'also enumerate suites and groups')
    .example(
      '$0 probe --targets hosts.txt --ndjson',
      'a fleet: one JSON line per target as each finishes, then a summary line',
    )
    .epilog(
      'Each version gets one ClientHello of its own, sent over a plain TCP socket. Results: negotiated, ' +
        'alert (which one), reset (TCP RST: what Windows clients report as error 10054), closed (FIN without ' +
        'a TLS answer), timeout, connect-refused, connect-timeout, dns-error, malformed (not TLS), mismatch ' +
        '(the server chose something not offered). Exit code 0 when a current TLS 1.2+ client would connect ' +
        '(TLS 1.2 or 1.3 negotiated, the chain verified against the documented roots or --roots), 1 when a problem ' +
        'was found, 2 on usage errors, 3 when a target could not be reached before any TLS (DNS, refused, unreachable), ' +
        '130 when interrupted (what finished is printed and written to --pcap/--keylog).',
    ) as unknown as Argv<ProbeCommandArgs>; // the chain's inferred options type is not assignable to ProbeCommandArgs, the shape the handler reads
}

export function probeCommand(ctx: CliContext): CommandModule<object, ProbeCommandArgs> {
  return {
    command: 'probe [hosts..]',
    describe: 'Probe endpoints per TLS version over raw sockets and report how each attempt ended',
    builder: probeBuilder,
    handler: (args) => probeHandler(ctx, args),
  };
}

/** Runs `probe`: every target, up to --parallel at once, then the output and the files asked for. */
async function probeHandler(ctx: CliContext, args: ProbeCommandArgs): Promise<void> {
  if (args.json && args.ndjson) throw new UserError('give --json or --ndjson, not both');
  const specs: TargetSpec[] = (args.hosts ?? []).map((t) => parseTarget(t));
  if (args.targets !== undefined) {
    if (args.targets === '') throw new UserError('--targets needs a FILE');
    const { readTargetList, describeTargetListError } = await import('../target-list.js');
    const list = await readTargetList(args.targets);
    if (!list.ok) throw new UserError(describeTargetListError(list.error));
    specs.push(...list.targets.map((t) => ({ host: t.host, port: t.port })));
  }
  if (specs.length === 0) throw new UserError('name a HOST[:PORT] to probe, or --targets FILE');
  const parallel = args.parallel ?? DEFAULT_PARALLEL_TARGETS;
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new UserError(`--parallel takes a positive whole number (got ${parallel})`);
  // Checked once, before any connection: a bad option fails the run, not the first target.
  const optionsFor = (port: number) => scanOptionsFrom(args, port);
  const announce = optionsFor(443);
  // Heavy modules load when a command runs, so `--help` starts fast. Before the first connection,
  // only the scan; what only the end needs (the views, the chain check and its trust anchors, the
  // tables for text output) loads and is prepared once the first connections are under way.
  const text = !args.json && !args.ndjson;
  const { scan } = await import('../../probe/scan.js');
  let reporting: Promise<Reporting> | null = null;
  const report = (): Promise<Reporting> => {
    if (reporting === null) {
      reporting = loadReporting(text, args.roots);
      // Awaited by every target after its scan; until then a failure must not count as unhandled.
      reporting.catch(() => {});
    }
    return reporting;
  };
  // Output paths are checked before any connection: a scan must not run only to fail at the end.
  if (args.pcap !== undefined)
    checkOutputPath(args.pcap, '--pcap', { existing: 'replace', inputs: args.roots ? [args.roots] : [] });
  if (args.keylog !== undefined) checkOutputPath(args.keylog, '--keylog', { existing: 'append' });
  const trace = args.pcap !== undefined || args.keylog !== undefined;
  const writer = trace ? await import('../../capture/pcapng-writer.js') : null;
  const planned = (announce.ciphers || announce.groups) && text;
  const started = performance.now();
  // SIGINT/SIGTERM: no new target starts, open connections end as 'aborted', and what finished is kept.
  const signal = ctx.signal;
  ctx.watchesSignal?.();

  /** Scans one target: its JSON, its traced attempts, its exit code; null when the signal cut it short. */
  const probeOne = async (spec: TargetSpec) => {
    const options = optionsFor(spec.port);
    let result;
    try {
      const scanning = scan(spec.host, {
        ...options,
        ...(trace ? { trace } : {}),
        ...(signal ? { signal } : {}),
        ...(planned
          ? {
              onPlan: (p: { address: string; predictedConnections: number }) =>
                ctx.err(
                  `${spec.host} (${p.address}): at most ${p.predictedConnections} connections planned${options.maxConnections ? `, capped at ${options.maxConnections}` : ''}`,
                ),
            }
          : {}),
      });
      // The scan's first connection starts within this turn of the event loop (a name's lookup,
      // off the main thread, is under way): the rest loads and prepares while the scan waits.
      setImmediate(() => void report());
      result = await scanning;
    } catch (e) {
      if (signal?.aborted) return null;
      throw e;
    }
    // A scan the signal cut short is not a result: it is left out, as the targets not started.
    if (signal?.aborted) return null;
    const { scanToJson, unreachable, enrichWithChain } = await report();
    const json = await enrichWithChain(scanToJson(result), result, {
      host: spec.host,
      at: args.at,
      roots: args.roots,
    });
    const connections = result.addresses.reduce((n, a) => n + a.connections, 0);
    const down = unreachable(result);
    const ladder = text && args.ladder ? await ladderText(json) : null;
    const { renderProbeText } = await report();
    return {
      json,
      text: renderProbeText ? renderProbeText(json) : '',
      ladder,
      traced: writer ? writer.tracedAttempts(result) : [],
      down,
      connections,
      code: probeExitCode(result, json, args.roots !== undefined, down),
    };
  };

  const done = await probeTargets(ctx, specs, parallel, probeOne, {
    signal,
    ndjson: args.ndjson,
    render: text ? (o) => o.text + (o.ladder ? `\n${o.ladder}` : '') : null,
  });
  const writeFiles = () => writeProbeFiles(ctx, args, specs, done, writer);
  if (signal?.aborted) {
    await writeFiles();
    const partial = args.json ? { results: done.map((o) => o.json) } : undefined;
    throw new CliError(
      'interrupted',
      `interrupted after ${done.length} of ${specs.length} target${specs.length === 1 ? '' : 's'}`,
      partial ? { partial } : {},
    );
  }
  if (args.json) ctx.out(JSON.stringify(envelope('probe', { results: done.map((o) => o.json) }), null, 2));
  if (specs.length > 1 && !args.json) {
    const summary = fleetSummary(done, performance.now() - started);
    if (args.ndjson) ctx.out(JSON.stringify(envelope('probe', { results: [], summary })));
    else
      ctx.out(
        `\n${summary.targets} targets: ${summary.reachable} reachable, ${summary.unreachable} unreachable; ${summary.connections} connections in ${(summary.elapsedMs / 1000).toFixed(2)} s`,
      );
  }
  await writeFiles();
}

/** What a probe needs once a target's scan is done: its views, the chain check and (text output) the tables. */
interface Reporting {
  readonly scanToJson: typeof import('../../report/probe-view.js').scanToJson;
  readonly unreachable: typeof import('../../report/probe-view.js').unreachable;
  readonly enrichWithChain: typeof import('../chain-enrich.js').enrichWithChain;
  /** The text view; null for --json and --ndjson. */
  readonly renderProbeText: typeof import('../../report/probe-text.js').renderProbeText | null;
}

/**
 * Loads what the end of a probe needs, together so that their file reads overlap, then prepares the
 * chain check's trust anchors (`prepareChainCheck`): a scan calls it while its connections wait.
 */
async function loadReporting(text: boolean, roots: string | undefined): Promise<Reporting> {
  const [{ scanToJson, unreachable }, { enrichWithChain, prepareChainCheck }, textView] = await Promise.all([
    import('../../report/probe-view.js'),
    import('../chain-enrich.js'),
    text ? import('../../report/probe-text.js') : null,
  ]);
  prepareChainCheck({ roots });
  return { scanToJson, unreachable, enrichWithChain, renderProbeText: textView?.renderProbeText ?? null };
}

/** What `probeTargets` needs of one target's outcome. */
interface TargetOutcome {
  readonly json: JsonObject;
  readonly ladder: string | null;
  readonly code: ExitCode;
}

/**
 * Resolves with the outcomes of `specs` probed by `probeOne`, up to `parallel` at once, in the
 * targets' order (the ones the signal stopped left out), after setting the worst exit code as they
 * finish. NDJSON lines are written as each target finishes (a fleet streams); text (`render`) keeps
 * the order of the targets.
 */
async function probeTargets<O extends TargetOutcome>(
  ctx: CliContext,
  specs: readonly TargetSpec[],
  parallel: number,
  probeOne: (spec: TargetSpec) => Promise<O | null>,
  out: {
    readonly signal: AbortSignal | undefined;
    readonly ndjson: boolean;
    readonly render: ((o: O) => string) | null;
  },
): Promise<O[]> {
  const { signal, render } = out;
  const outcomes: (O | undefined)[] = new Array(specs.length);
  let printed = 0;
  let next = 0;
  let finished = 0;
  let worst: ExitCode = ExitCode.ok;
  const flushInOrder = (): void => {
    while (printed < specs.length && outcomes[printed] !== undefined) {
      if (render) ctx.out(render(outcomes[printed]!) + (printed < specs.length - 1 ? '\n' : ''));
      printed++;
    }
  };
  const lane = async (): Promise<void> => {
    while (next < specs.length && !signal?.aborted) {
      const i = next++;
      const spec = specs[i]!;
      if (ctx.isTty && specs.length > 1)
        ctx.err(`[${finished + 1}/${specs.length}] probing ${spec.host}:${spec.port}…`);
      const o = await probeOne(spec);
      if (o === null) return;
      outcomes[i] = o;
      finished++;
      if (o.code > worst) {
        worst = o.code;
        ctx.setExitCode(worst);
      }
      if (out.ndjson) ctx.out(JSON.stringify(envelope('probe', { results: [o.json] })));
      else if (render) flushInOrder();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, specs.length) }, lane));
  return outcomes.filter((o): o is O => o !== undefined);
}

/** Writes what finished to --pcap/--keylog and --html (also after an interrupt). */
async function writeProbeFiles(
  ctx: CliContext,
  args: ProbeCommandArgs,
  specs: readonly TargetSpec[],
  done: readonly { readonly json: JsonObject; readonly traced: readonly TracedAttempt[] }[],
  writer: typeof import('../../capture/pcapng-writer.js') | null,
): Promise<void> {
  if (writer) {
    await writeTraces(
      ctx,
      writer,
      done.flatMap((o) => o.traced),
      args.pcap,
      args.keylog,
    );
  }
  if (args.html !== undefined) {
    const html = await import('../html-out.js');
    const sections = done.map((o) => html.probeSection(o.json as never));
    await html.writeHtmlReport(
      ctx,
      args.html,
      {
        title: `tlsprobe probe: ${specs.map((t) => `${t.host}:${t.port}`).join(', ')}`,
        sections,
        raw: done.length === 1 ? done[0]!.json : done.map((o) => o.json),
      },
      [args.roots, args.pcap, args.keylog, args.targets],
    );
  }
}

/** Versions a current client offers: one of them negotiated means a current client connects. */
const CURRENT_VERSIONS: readonly string[] = ['TLS1.2', 'TLS1.3'];

/**
 * Returns the exit code of one probed target: 3 when nothing connected (`unreachable`), 1 when no
 * current version (of those probed; any version when none was) negotiated, or the chain sent does not
 * verify (against the documented roots, or any anchor of `--roots` when `rootsGiven`), else 0.
 */
export function probeExitCode(
  result: ScanResult,
  json: JsonObject,
  rootsGiven: boolean,
  unreachable: boolean,
): ExitCode {
  if (unreachable) return ExitCode.network;
  const attempts = result.addresses.flatMap((a) =>
    a.versions.filter((r): r is NonNullable<typeof r> => r !== null && r !== undefined),
  );
  const current = attempts.filter((r) => CURRENT_VERSIONS.includes(r.version));
  const judged = current.length > 0 ? current : attempts;
  if (!judged.some((r) => r.outcome === 'negotiated')) return ExitCode.failure;
  const chain = json.chain as Parameters<typeof chainIsFine>[0] | undefined;
  if (chain && !chainIsFine(chain, rootsGiven)) return ExitCode.failure;
  return ExitCode.ok;
}

/**
 * Returns true when a chain (its JSON) passes path validation (`valid`: signatures and RFC 5280
 * checks) with no error finding, to a documented root or to one of the `--roots` given.
 */
export function chainIsFine(
  chain: {
    verified?: boolean;
    valid?: boolean;
    anchor?: { documented?: boolean } | null;
    findings?: readonly { severity?: string }[];
  },
  rootsGiven: boolean,
): boolean {
  if (chain.verified !== true || chain.valid === false) return false;
  if ((chain.findings ?? []).some((f) => f.severity === 'error')) return false;
  return rootsGiven || chain.anchor?.documented === true;
}

/** What a fleet run ends with: how many targets answered, the connections made and the time taken. */
export interface FleetSummary {
  readonly targets: number;
  readonly reachable: number;
  readonly unreachable: number;
  readonly connections: number;
  readonly elapsedMs: number;
}

function fleetSummary(
  done: readonly { readonly down: boolean; readonly connections: number }[],
  elapsedMs: number,
): FleetSummary {
  const unreachable = done.filter((o) => o.down).length;
  return {
    targets: done.length,
    reachable: done.length - unreachable,
    unreachable,
    connections: done.reduce((n, o) => n + o.connections, 0),
    elapsedMs: Math.round(elapsedMs),
  };
}

/** Returns the text ladder of a probe's JSON view, fitted to the output width. */
export async function ladderText(probe: object): Promise<string> {
  const [{ probeLadders, renderLadderText }, { outputWidth }] = await Promise.all([
    import('../../report/ladder.js'),
    import('../../report/fit.js'),
  ]);
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
  if (pcap !== undefined)
    await attempt(pcap, `capture of ${traced.length} connections`, () =>
      writeFileAtomic(pcap, encodeProbeCapture(traced)),
    );
  const secrets = traced.reduce((n, t) => n + t.trace.secrets.length, 0);
  if (keylog !== undefined)
    await attempt(keylog, `${secrets} TLS 1.3 secrets`, () => appendFileAtomic(keylog, probeKeyLog(traced)));
}
