/**
 * `tlsprobe diagnose HOST[:PORT]`: why does a client get error 10054 (or another failure) against
 * this endpoint, with evidence and the fix.
 */
import type { Argv, CommandModule, Options } from 'yargs';
import type { JsonObject } from '../../report/decode-view.js';
import { ExitCode, UserError } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { parseTarget } from '../target.js';
import { connectOptions, ladderText, scanOptionsFrom, type ProbeArgs } from './probe.js';
import { osOption } from './registry.js';
import { revocationOptions, type RevocationArgs } from '../revocation-options.js';
import { parseWindowsVersion, WINDOWS_VERSION_INFO, type WindowsVersion } from '../../diagnose/windows-versions.js';
import type { LocalRegistry } from '../../diagnose/local-registry.js';
import type { Diagnosis } from '../../diagnose/verdict-types.js';
import type { ChainReport } from '../../x509/chain.js';
import type { ClientFacts } from '../../diagnose/client-verdict.js';
import type { ClientLike, DiagnosisRun } from '../../diagnose/run.js';
import type { ClientProfile } from '../../diagnose/clients.js';
import { envelope } from '../../report/envelope.js';
import { HTML_OPTION, LADDER_OPTION } from '../report-options.js';

/** Verdicts that mean the network failed before any TLS: exit code 3. */
const NETWORK_VERDICTS: ReadonlySet<string> = new Set(['endpoint-unreachable', 'proxy-unreachable', 'proxy-refused']);

/** Returns the exit code of a diagnosis: 3 when no TLS happened, 0 when fine for the client asked about, else 1. */
export function diagnosisExitCode(d: {
  readonly verdict: { readonly code: string };
  readonly fine: boolean;
}): ExitCode {
  if (NETWORK_VERDICTS.has(d.verdict.code)) return ExitCode.network;
  return d.fine ? ExitCode.ok : ExitCode.failure;
}

/** Returns the client whose ClientHello is in FILE (`--client-hello`); UserError when it holds none. */
async function clientHelloOption(file: string): Promise<ClientLike> {
  if (file === '') throw new UserError('--client-hello needs a FILE');
  const { hexOrBinary, readInput } = await import('../io.js');
  const { clientFromHello } = await import('../../diagnose/client-from-hello.js');
  const { DecodeError } = await import('../../wire/errors.js');
  try {
    return clientFromHello(
      hexOrBinary(readInput(file)),
      `the client whose ClientHello is in ${file === '-' ? 'standard input' : file}`,
    );
  } catch (e) {
    if (e instanceof DecodeError)
      throw new UserError(
        `--client-hello ${file}: ${e.path || 'input'} at offset ${e.offset}: ${e.detail} (${e.code})`,
      );
    throw e;
  }
}

/** Returns the JSON of the client asked about, as tried. */
function clientJson(c: ClientFacts): JsonObject {
  const a = c.attempt;
  return {
    profile: c.name,
    title: c.title,
    outcome: a.outcome,
    connects: a.outcome === 'negotiated',
    gets10054: a.outcome === 'reset',
    verdict: a.outcome === 'negotiated' ? 'connects' : a.outcome === 'reset' ? 'gets-10054' : 'fails-otherwise',
    // The hello as sent: its handshake message plus the 5-byte record header (as probe's attempts say it).
    helloBytes: a.helloSent.length + 5,
    alert: a.alert?.name ?? null,
  };
}

interface DiagnoseArgs extends Partial<ProbeArgs>, RevocationArgs {
  targets?: string[];
  json: boolean;
  os?: string;
  bisect: boolean;
  client?: string;
  'client-hello'?: string;
  profile?: string;
  at?: string;
  roots?: string;
}

/** Returns one diagnosis as `results[]` of diagnose --json holds it. */
function diagnosisJson(d: Diagnosis, probe: JsonObject): JsonObject {
  return {
    target: probe.target as JsonObject,
    // the diagnosis types are interfaces: no index signature, so TS will not take them as JsonObject
    verdict: { ...d.verdict } as unknown as JsonObject,
    fine: d.fine,
    evidence: d.evidence.map((e) => ({ ...e })) as unknown as JsonObject[], // as verdict
    remediation: d.remediation.map((r) => ({ ...r })) as unknown as JsonObject[], // as verdict
    secondary: d.secondary.map((v) => ({ ...v })) as unknown as JsonObject[], // as verdict
    probe,
  };
}

/** The options of `diagnose` besides the connect and revocation options, in help order. */
const DIAGNOSE_OPTIONS = {
  json: {
    type: 'boolean',
    default: false,
    describe:
      'print JSON: { schemaVersion, command, results: [{ target, verdict, fine, evidence, remediation, probe }] }',
  },
  os: {
    type: 'string',
    describe:
      "the failing client's Windows version (2008, 2008r2, 7, 2012, 2012r2, 8.1, 2016, 2019, 2022, 10, 11), or a client configuration from `tlsprobe clients` (e.g. win2008-kb4019276): narrows the fix",
  },
  ladder: LADDER_OPTION,
  html: HTML_OPTION,
  bisect: {
    type: 'boolean',
    default: false,
    describe: 'find the smallest ClientHello change that turns the failure into success',
  },
  client: {
    type: 'string',
    describe: 'the client asked about: a client profile (see `tlsprobe clients`), e.g. win7-schannel or win2022',
  },
  'client-hello': {
    type: 'string',
    describe:
      'the client asked about, by its own ClientHello: a FILE of raw bytes or hex (a record as captured, or the handshake message); - reads standard input',
  },
  profile: {
    type: 'string',
    describe: 'diagnose every endpoint of a service profile, e.g. azure-backup, plus control endpoints',
  },
  at: {
    type: 'string',
    describe: 'judge certificate validity at this date (ISO 8601; default now)',
  },
  roots: {
    type: 'string',
    describe: 'trust anchors: PEM bundle FILE/DIR or "system" (default: the documented root set)',
  },
} as const satisfies Record<string, Options>;

const DIAGNOSE_EPILOG =
  'Verdict codes (stable): legacy-version-reset, legacy-version-alert, legacy-version-dropped, tls12-ok, ' +
  'no-tls12, endpoint-unreachable, reset-always, closed-always, timeout-always, not-tls, chain-untrusted, ' +
  'likely-tls-inspection, sni-required, proxy-resets, proxy-unreachable, proxy-refused (with --proxy: direct and proxied attempts are compared), ' +
  'client-hello-rejected (with verdict.cause: hello-size, renegotiation-scsv, sni, cipher-suites, groups, signature-algorithms, key-share-size, extension, unknown). ' +
  'Exit code 0 when the endpoint is fine for the client asked about (--client, or a current TLS 1.2+ client: legacy-version-* verdicts are then information), ' +
  '1 when a problem was found, 2 on usage errors, 3 when the network failed before any TLS (DNS, refused, unreachable, proxy).';

export function diagnoseCommand(ctx: CliContext): CommandModule<object, DiagnoseArgs> {
  return {
    command: 'diagnose [targets..]',
    describe: 'Explain a failing TLS connection (error 10054, resets, alerts) with evidence and the fix',
    builder: (y: Argv) =>
      revocationOptions(
        connectOptions(
          y
            .positional('targets', {
              type: 'string',
              array: true,
              describe: 'HOST[:PORT] (default port 443); with --profile, concrete names for its wildcards',
            })
            .options(DIAGNOSE_OPTIONS),
        ),
      )
        .example('$0 diagnose backup.example.net', 'verdict, evidence and remediation')
        .example(
          '$0 diagnose backup.example.net --os 2008r2 --client win7-schannel',
          'would a Windows 7 / 2008 R2 client get 10054?',
        )
        .example('$0 diagnose backup.example.net --bisect', 'which ClientHello change makes the reset go away')
        .example(
          '$0 diagnose --profile azure-backup myvault.blob.core.windows.net',
          'the endpoints a backup agent needs',
        )
        .epilog(DIAGNOSE_EPILOG) as unknown as Argv<DiagnoseArgs>, // the chain's inferred options type is not assignable to DiagnoseArgs, the shape the handler reads
    handler: (args) => runDiagnose(ctx, args),
  };
}

type ChainCheck = (ders: Uint8Array[], host: string) => ChainReport;
type ScanOptionsOf = ReturnType<typeof scanOptionsFrom>;
type AddressScanOf = DiagnosisRun['scan']['addresses'][number];

/** Runs `diagnose`: one target, or every endpoint of a service profile (`--profile`). */
async function runDiagnose(ctx: CliContext, args: DiagnoseArgs): Promise<void> {
  const { os, clientArg } = await resolveOsArgument(args);
  const targets = args.targets ?? [];
  if (args.profile === undefined && targets.length !== 1)
    throw new UserError('give one HOST[:PORT] to diagnose (or --profile NAME)');
  const { chainReport } = await import('../chain-enrich.js');
  const chainCheck: ChainCheck = (ders, host) => chainReport(ders, host, args);
  if (args.profile !== undefined) await diagnoseProfile(ctx, args, args.profile, targets, os, chainCheck);
  else await diagnoseTarget(ctx, args, targets[0]!, os, clientArg, chainCheck);
}

/** Returns the Windows version of `--os` and the client asked about: `--os` may name a client configuration, which implies `--client`. */
async function resolveOsArgument(
  args: DiagnoseArgs,
): Promise<{ os: WindowsVersion | null; clientArg: string | undefined }> {
  let osArg = args.os;
  let clientArg = args.client;
  if (osArg !== undefined && parseWindowsVersion(osArg) === null) {
    const { findClientProfile } = await import('../../diagnose/clients.js');
    const configured = findClientProfile(osArg);
    if (configured?.configuration) {
      clientArg ??= configured.name;
      osArg = configured.configuration.os;
    }
  }
  return { os: osOption(osArg), clientArg };
}

/** Diagnoses every endpoint of a service profile and prints the table and the conclusion. */
async function diagnoseProfile(
  ctx: CliContext,
  args: DiagnoseArgs,
  profileName: string,
  targets: readonly string[],
  os: WindowsVersion | null,
  chainCheck: ChainCheck,
): Promise<void> {
  const { runDiagnosis } = await import('../../diagnose/run.js');
  const { scanToJson } = await import('../../report/probe-view.js');
  const { renderTable } = await import('../../report/table.js');
  const { expandEndpointProfile, concludeEndpoints } = await import('../../diagnose/endpoint-profiles.js');
  let expanded;
  try {
    expanded = expandEndpointProfile(
      profileName,
      targets.map((t) => parseTarget(t).host),
    );
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(e.message);
    throw e;
  }
  const results = [];
  const diagnoses: JsonObject[] = [];
  const rows: (string | number)[][] = [];
  for (const p of expanded.probes) {
    if (ctx.isTty) ctx.err(`diagnosing ${p.host}:${p.port}…`);
    const run = await runDiagnosis(p.host, { ...scanOptionsFrom(args, p.port), os, chainCheck });
    results.push({ host: p.host, port: p.port, role: p.role, verdict: run.diagnosis.verdict.code });
    diagnoses.push(diagnosisJson(run.diagnosis, scanToJson(run.scan)));
    rows.push([`${p.host}:${p.port}`, p.role, run.diagnosis.verdict.code, run.diagnosis.verdict.summary]);
  }
  const conclusion = concludeEndpoints(results);
  if (conclusion.code !== 'all-ok') ctx.setExitCode(ExitCode.failure);
  const needs = expanded.needsConcreteName.map((e) => e.pattern);
  const raw = { profile: expanded.profile.name, endpoints: results, needsConcreteName: needs, conclusion };
  if (args.html !== undefined) {
    const html = await import('../html-out.js');
    const section = {
      heading: `Profile ${expanded.profile.name}`,
      verdict: { code: conclusion.code, summary: conclusion.summary, ok: conclusion.code === 'all-ok' },
      remediation: [],
      regFix: null,
      ladders: [],
      certificates: [],
      chain: null,
      tables: [
        {
          caption: 'Endpoints',
          head: ['Endpoint', 'Role', 'Verdict', 'Summary'],
          rows: rows.map((r) => r.map(String)),
        },
      ],
    };
    await html.writeHtmlReport(
      ctx,
      args.html,
      {
        title: `tlsprobe diagnose --profile ${expanded.profile.name}`,
        sections: [section],
        raw,
      },
      [args.roots],
    );
  }
  if (args.json) {
    ctx.out(
      JSON.stringify(
        envelope('diagnose', {
          results: diagnoses,
          profile: { name: expanded.profile.name, endpoints: results, needsConcreteName: needs, conclusion },
        }),
        null,
        2,
      ),
    );
    return;
  }
  const { fitBlocks } = await import('../../report/fit.js');
  const blocks = [renderTable(['Endpoint', 'Role', 'Verdict', 'Summary'], rows)];
  if (needs.length) blocks.push(`Wildcards without a concrete name (give them as arguments): ${needs.join(', ')}`);
  blocks.push(`Conclusion (${conclusion.code}): ${conclusion.summary}`);
  ctx.out(fitBlocks(blocks));
}

/** Returns the client asked about (`--client` or `--client-hello`), and its profile when it is a named one. */
async function askedClient(
  args: DiagnoseArgs,
  clientArg: string | undefined,
): Promise<{ profile: ClientLike | undefined; named: ClientProfile | undefined }> {
  if (clientArg !== undefined && args['client-hello'] !== undefined)
    throw new UserError('give --client or --client-hello, not both');
  let profile: ClientLike | undefined;
  if (args['client-hello'] !== undefined) profile = await clientHelloOption(args['client-hello']);
  let named: ClientProfile | undefined;
  if (clientArg !== undefined) {
    const { findClientProfile, CLIENT_PROFILES } = await import('../../diagnose/clients.js');
    profile = named = findClientProfile(clientArg);
    if (!profile)
      throw new UserError(`unknown client "${clientArg}": known are ${CLIENT_PROFILES.map((p) => p.name).join(', ')}`);
  }
  return { profile, named };
}

/** Diagnoses one target and prints the verdict, evidence and fix (text, --json, --html). */
async function diagnoseTarget(
  ctx: CliContext,
  args: DiagnoseArgs,
  targetArg: string,
  os: WindowsVersion | null,
  clientArg: string | undefined,
  chainCheck: ChainCheck,
): Promise<void> {
  const { runDiagnosis } = await import('../../diagnose/run.js');
  const { scanToJson } = await import('../../report/probe-view.js');
  const spec = parseTarget(targetArg);
  const options = scanOptionsFrom(args, spec.port);
  const { profile, named } = await askedClient(args, clientArg);
  // On Windows, this machine's registry is the client's: read it, and take its version unless --os says.
  const { readLocalRegistry } = await import('../../diagnose/local-registry.js');
  const local = await readLocalRegistry(os);
  const run = await runDiagnosis(spec.host, {
    ...options,
    os: os ?? local?.os ?? null,
    chainCheck,
    ...(profile ? { client: profile } : {}),
  });
  const d = run.diagnosis;
  const probe = scanToJson(run.scan);
  const out = diagnosisJson(d, probe);
  if (run.client && profile) out.client = await askedClientJson(run.client, named);
  if (local) out.localRegistry = local as unknown as JsonObject; // an interface (no index signature)
  const first = run.scan.addresses[0];
  if (first && first.certificates.length > 0 && (args['check-revocation'] || (args.crl?.length ?? 0) > 0)) {
    // The chain the diagnosis judged, with its revocation endpoints checked as a Windows client would.
    const { atOption } = await import('../dates.js');
    const { revocationSection } = await import('../revocation-options.js');
    const revocation = await revocationSection(
      chainCheck([...first.certificates], run.scan.sni ?? spec.host),
      args,
      atOption(args.at) ?? new Date(),
    );
    out.revocation = revocation.json;
    if (revocation.error) ctx.setExitCode(ExitCode.failure);
  }
  if (first && args.bisect) out.bisect = await bisectionJson(run, first, spec, options);
  const machineProblem = machineProblemOf(d, local, profile, os);
  if (machineProblem !== null) out.fine = false;
  ctx.setExitCode(diagnosisExitCode({ verdict: d.verdict, fine: d.fine && machineProblem === null }));
  if (args.html !== undefined) {
    const html = await import('../html-out.js');
    const { enrichWithChain } = await import('../chain-enrich.js');
    const section = html.diagnoseSection(
      out,
      await enrichWithChain(scanToJson(run.scan), run.scan, { host: spec.host, at: args.at, roots: args.roots }),
    );
    await html.writeHtmlReport(
      ctx,
      args.html,
      {
        title: `tlsprobe diagnose: ${spec.host}:${spec.port}`,
        sections: [section],
        raw: out,
      },
      [args.roots, args['client-hello']],
    );
  }
  if (args.json) {
    ctx.out(JSON.stringify(envelope('diagnose', { results: [out] }), null, 2));
    return;
  }
  const lines = await diagnosisLines(`${spec.host}:${spec.port}`, d, out, machineProblem, local);
  if (args.ladder) lines.push(await ladderText(probe));
  const { fitBlocks } = await import('../../report/fit.js');
  ctx.out(fitBlocks(lines));
}

/** Returns the JSON of the client asked about; a named profile also says which configuration it stands for and what it needs. */
async function askedClientJson(c: ClientFacts, named: ClientProfile | undefined): Promise<JsonObject> {
  const client = clientJson(c);
  if (named) {
    // A named profile stands for a configuration of the guidance: say which, and what it needs when it fails.
    const { profileRemediation } = await import('../../diagnose/clients.js');
    client.fidelity = named.fidelity;
    client.state = named.configuration?.state ?? null;
    client.remediation = (client.connects ? [] : profileRemediation(named)).map((r) => ({
      ...r,
    })) as unknown as JsonObject[]; // Remediation is an interface (no index signature)
  }
  return client;
}

/** Returns `--bisect`'s JSON: the client's own bisection, or a bisection from a failing legacy hello towards a working one. */
async function bisectionJson(
  run: DiagnosisRun,
  first: AddressScanOf,
  spec: { host: string; port: number },
  options: ScanOptionsOf,
): Promise<JsonObject> {
  // The hello that failed is the client's own: its bisection is the one the verdict used.
  if (run.client?.bisection) return run.client.bisection as unknown as JsonObject; // an interface (no index signature)
  const target = { host: spec.host, address: first.address, port: spec.port };
  const attemptOpts = {
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.readTimeoutMs !== undefined ? { readTimeoutMs: options.readTimeoutMs } : {}),
    ...(options.via ? { via: options.via } : {}),
  };
  const { bisectHello } = await import('../../diagnose/bisect.js');
  const failing = first.versions.find((r) => r && (r.version === 'TLS1.0' || r.version === 'TLS1.1') && !r.supported);
  const working = first.versions.find((r) => r?.supported && (r.version === 'TLS1.2' || r.version === 'TLS1.3'));
  if (!failing || !working) {
    return {
      note: !failing
        ? 'no hello failed: nothing to bisect'
        : 'no modern attempt worked: no working hello to bisect towards',
    };
  }
  return (await bisectHello(
    target,
    { version: failing.version, sni: run.scan.sni },
    { version: working.version, sni: run.scan.sni },
    attemptOpts,
  )) as unknown as JsonObject; // an interface (no index signature)
}

/**
 * Returns why a legacy-version verdict is a problem for the client asked about, or null. On Windows
 * this machine is the client: such a verdict is its problem when its own registry leaves TLS 1.2 off
 * for SChannel or .NET (issue 13), whatever a current client would do. Likewise `--os` alone names
 * the client's Windows: one whose TLS 1.2 client is off by default.
 */
function machineProblemOf(
  d: Diagnosis,
  local: LocalRegistry | null,
  profile: ClientLike | undefined,
  os: WindowsVersion | null,
): string | null {
  if (!d.verdict.code.startsWith('legacy-version')) return null;
  const registryFails =
    local !== null && local.tls12 !== null && (local.tls12 !== 'enabled' || local.dotnetStrongCrypto === false);
  const osFails = profile === undefined && os !== null && WINDOWS_VERSION_INFO[os].tls12ClientDefault !== 'enabled';
  if (!registryFails && !osFails) return null;
  return osFails && os !== null
    ? `${WINDOWS_VERSION_INFO[os].label} (--os) does not offer TLS 1.2 by default`
    : "this machine's registry leaves TLS 1.2 off";
}

/** Returns the text report of one diagnosis, block by block (the ladder aside). */
async function diagnosisLines(
  where: string,
  d: Diagnosis,
  out: JsonObject,
  machineProblem: string | null,
  local: LocalRegistry | null,
): Promise<string[]> {
  const { renderTable } = await import('../../report/table.js');
  const lines: string[] = [];
  lines.push(
    `${where}: ${d.verdict.code}${d.verdict.cause ? ` (cause: ${d.verdict.cause.code})` : ''}${d.fine ? ' — fine for a current TLS 1.2+ client' : ''}`,
  );
  lines.push(`${d.verdict.information && !d.fine ? 'Information: ' : ''}${d.verdict.summary}`);
  if (machineProblem !== null) lines.push(`A problem for the client asked about: ${machineProblem}.`);
  for (const v of d.secondary) lines.push(`${v.information ? 'Information' : 'Also'}: ${v.code}: ${v.summary}`);
  lines.push('Evidence:');
  lines.push(
    renderTable(
      ['Attempt', 'Outcome', 'Detail', 'ms', 'Bytes'],
      d.evidence.map((e) => [
        e.attempt,
        e.outcome,
        e.detail,
        e.elapsedMs === null ? '' : e.elapsedMs.toFixed(1),
        e.bytesReceived,
      ]),
    ),
  );
  if (out.client) lines.push(...clientLines(out.client as JsonObject));
  if (out.bisect) lines.push(...bisectionLines(out.bisect, renderTable));
  if (out.revocation) {
    const { revocationText } = await import('../../report/revocation-view.js');
    const { escapeText } = await import('../../report/escape.js');
    const rev = out.revocation as JsonObject;
    for (const f of rev.findings as JsonObject[])
      lines.push(`Revocation ${String(f.severity)} ${String(f.code)}: ${escapeText(String(f.message))}`);
    lines.push(...revocationText(rev));
  }
  if (local) lines.push(`This machine's registry: ${local.summary}`);
  if (d.remediation.length) {
    lines.push('What to change:');
    for (const r of d.remediation) lines.push(`- [${r.kind}] ${r.text}`);
  }
  return lines;
}

/** Returns the lines about the client asked about, from its JSON. */
function clientLines(c: JsonObject): string[] {
  const lines = [
    `Client ${String(c.title)}: ${c.connects ? 'connects' : `fails (${String(c.outcome)}${c.alert ? `, ${String(c.alert)}` : ''})`}.`,
  ];
  if (c.state) lines.push(`It stands for: ${String(c.state)}.`);
  // read back from the JSON built above: remediation entries are { kind, text }
  const needs = (c.remediation ?? []) as unknown as { kind: string; text: string }[];
  if (needs.length) {
    lines.push('What this client needs:');
    for (const r of needs) lines.push(`- [${r.kind}] ${r.text}`);
  }
  return lines;
}

/** Returns the lines of `--bisect`, from its JSON. */
function bisectionLines(
  bisect: unknown,
  renderTable: (head: string[], rows: (string | number)[][]) => string,
): string[] {
  const b = bisect as {
    note?: string | null;
    cause?: { dimension?: string; code?: string; change?: string; detail?: string } | null;
    steps?: { dimension: string; change: string; outcome: string; success: boolean }[];
    connections?: number;
  };
  const lines: string[] = [];
  if (b.steps) {
    lines.push('Bisection (one change at a time to the failing hello):');
    lines.push(
      renderTable(
        ['Dimension', 'Change', 'Outcome'],
        b.steps.map((s) => [s.dimension, s.change, `${s.outcome}${s.success ? ' (works)' : ''}`]),
      ),
    );
  }
  lines.push(
    b.cause
      ? `Bisection: ${b.cause.change ?? b.cause.detail} (${b.cause.dimension ?? b.cause.code}).`
      : `Bisection: ${b.note ?? 'no single change made it work'}`,
  );
  return lines;
}
