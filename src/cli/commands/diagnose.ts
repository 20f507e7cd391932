/**
 * `tlsprobe diagnose HOST[:PORT]`: why does a client get error 10054 (or another failure) against
 * this endpoint, with evidence and the fix.
 */
import type { Argv, CommandModule } from 'yargs';
import type { JsonObject } from '../../report/decode-view.js';
import { ExitCode, UserError } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { parseTarget } from '../target.js';
import { connectOptions, ladderText, scanOptionsFrom, type ProbeArgs } from './probe.js';
import { osOption } from './registry.js';
import { revocationOptions, type RevocationArgs } from '../revocation-options.js';
import { parseWindowsVersion, WINDOWS_VERSION_INFO, type WindowsVersion } from '../../diagnose/windows-versions.js';
import type { Diagnosis } from '../../diagnose/verdict-types.js';
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
async function clientHelloOption(file: string): Promise<import('../../diagnose/run.js').ClientLike> {
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
function clientJson(c: import('../../diagnose/client-verdict.js').ClientFacts): JsonObject {
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
            .option('json', {
              type: 'boolean',
              default: false,
              describe:
                'print JSON: { schemaVersion, command, results: [{ target, verdict, fine, evidence, remediation, probe }] }',
            })
            .option('os', {
              type: 'string',
              describe:
                "the failing client's Windows version (2008, 2008r2, 7, 2012, 2012r2, 8.1, 2016, 2019, 2022, 10, 11), or a client configuration from `tlsprobe clients` (e.g. win2008-kb4019276): narrows the fix",
            })
            .option('ladder', LADDER_OPTION)
            .option('html', HTML_OPTION)
            .option('bisect', {
              type: 'boolean',
              default: false,
              describe: 'find the smallest ClientHello change that turns the failure into success',
            })
            .option('client', {
              type: 'string',
              describe:
                'the client asked about: a client profile (see `tlsprobe clients`), e.g. win7-schannel or win2022',
            })
            .option('client-hello', {
              type: 'string',
              describe:
                'the client asked about, by its own ClientHello: a FILE of raw bytes or hex (a record as captured, or the handshake message); - reads standard input',
            })
            .option('profile', {
              type: 'string',
              describe: 'diagnose every endpoint of a service profile, e.g. azure-backup, plus control endpoints',
            })
            .option('at', {
              type: 'string',
              describe: 'judge certificate validity at this date (ISO 8601; default now)',
            })
            .option('roots', {
              type: 'string',
              describe: 'trust anchors: PEM bundle FILE/DIR or "system" (default: the documented root set)',
            }),
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
        .epilog(
          'Verdict codes (stable): legacy-version-reset, legacy-version-alert, legacy-version-dropped, tls12-ok, ' +
            'no-tls12, endpoint-unreachable, reset-always, closed-always, timeout-always, not-tls, chain-untrusted, ' +
            'likely-tls-inspection, sni-required, proxy-resets, proxy-unreachable, proxy-refused (with --proxy: direct and proxied attempts are compared), ' +
            'client-hello-rejected (with verdict.cause: hello-size, renegotiation-scsv, sni, cipher-suites, groups, signature-algorithms, key-share-size, extension, unknown). ' +
            'Exit code 0 when the endpoint is fine for the client asked about (--client, or a current TLS 1.2+ client: legacy-version-* verdicts are then information), ' +
            '1 when a problem was found, 2 on usage errors, 3 when the network failed before any TLS (DNS, refused, unreachable, proxy).',
        ) as unknown as Argv<DiagnoseArgs>, // the chain's inferred options type is not assignable to DiagnoseArgs, the shape the handler reads
    handler: async (args) => {
      // --os names a Windows version, or a client configuration (which implies --client).
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
      const os = osOption(osArg);
      const targets = args.targets ?? [];
      if (args.profile === undefined && targets.length !== 1)
        throw new UserError('give one HOST[:PORT] to diagnose (or --profile NAME)');
      const { runDiagnosis } = await import('../../diagnose/run.js');
      const { chainReport } = await import('../chain-enrich.js');
      const { scanToJson } = await import('../../report/probe-view.js');
      const { renderTable } = await import('../../report/table.js');
      const chainCheck = (ders: Uint8Array[], host: string) => chainReport(ders, host, args);

      if (args.profile !== undefined) {
        const { expandEndpointProfile, concludeEndpoints } = await import('../../diagnose/endpoint-profiles.js');
        let expanded;
        try {
          expanded = expandEndpointProfile(
            args.profile,
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
              command: html.commandLine(),
              generatedAt: new Date(),
              sections: [section],
              raw: { profile: expanded.profile.name, endpoints: results, needsConcreteName: needs, conclusion },
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
        if (needs.length)
          blocks.push(`Wildcards without a concrete name (give them as arguments): ${needs.join(', ')}`);
        blocks.push(`Conclusion (${conclusion.code}): ${conclusion.summary}`);
        ctx.out(fitBlocks(blocks));
        return;
      }

      const spec = parseTarget(targets[0]!);
      const options = scanOptionsFrom(args, spec.port);
      let profile: import('../../diagnose/run.js').ClientLike | undefined;
      if (clientArg !== undefined && args['client-hello'] !== undefined)
        throw new UserError('give --client or --client-hello, not both');
      if (args['client-hello'] !== undefined) profile = await clientHelloOption(args['client-hello']);
      let named: import('../../diagnose/clients.js').ClientProfile | undefined;
      if (clientArg !== undefined) {
        const { findClientProfile, CLIENT_PROFILES } = await import('../../diagnose/clients.js');
        profile = named = findClientProfile(clientArg);
        if (!profile)
          throw new UserError(
            `unknown client "${clientArg}": known are ${CLIENT_PROFILES.map((p) => p.name).join(', ')}`,
          );
      }
      // On Windows, this machine's registry is the client's: read it, and take its version unless --os says.
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
      if (run.client && profile) {
        const client = clientJson(run.client);
        if (named) {
          // A named profile stands for a configuration of the guidance: say which, and what it needs when it fails.
          const { profileRemediation } = await import('../../diagnose/clients.js');
          client.fidelity = named.fidelity;
          client.state = named.configuration?.state ?? null;
          client.remediation = (client.connects ? [] : profileRemediation(named)).map((r) => ({
            ...r,
          })) as unknown as JsonObject[]; // Remediation is an interface (no index signature)
        }
        out.client = client;
      }
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
      if (first && args.bisect) {
        if (run.client?.bisection) {
          // The hello that failed is the client's own: its bisection is the one the verdict used.
          out.bisect = run.client.bisection as unknown as JsonObject; // an interface (no index signature)
        } else {
          const target = { host: spec.host, address: first.address, port: spec.port };
          const attemptOpts = {
            ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
            ...(options.readTimeoutMs !== undefined ? { readTimeoutMs: options.readTimeoutMs } : {}),
            ...(options.via ? { via: options.via } : {}),
          };
          const { bisectHello } = await import('../../diagnose/bisect.js');
          const failing = first.versions.find(
            (r) => r && (r.version === 'TLS1.0' || r.version === 'TLS1.1') && !r.supported,
          );
          const working = first.versions.find(
            (r) => r?.supported && (r.version === 'TLS1.2' || r.version === 'TLS1.3'),
          );
          if (!failing || !working) {
            out.bisect = {
              note: !failing
                ? 'no hello failed: nothing to bisect'
                : 'no modern attempt worked: no working hello to bisect towards',
            };
          } else {
            out.bisect = (await bisectHello(
              target,
              { version: failing.version, sni: run.scan.sni },
              { version: working.version, sni: run.scan.sni },
              attemptOpts,
            )) as unknown as JsonObject; // an interface (no index signature)
          }
        }
      }
      // On Windows this machine is the client: a legacy-version verdict is its problem when its own
      // registry leaves TLS 1.2 off for SChannel or .NET (issue 13), whatever a current client would do.
      // Likewise `--os` alone names the client's Windows: one whose TLS 1.2 client is off by default.
      const legacy = d.verdict.code.startsWith('legacy-version');
      const registryFails =
        local !== null && local.tls12 !== null && (local.tls12 !== 'enabled' || local.dotnetStrongCrypto === false);
      const osFails = profile === undefined && os !== null && WINDOWS_VERSION_INFO[os].tls12ClientDefault !== 'enabled';
      const machineFails = legacy && (registryFails || osFails);
      if (machineFails) out.fine = false;
      ctx.setExitCode(diagnosisExitCode({ verdict: d.verdict, fine: d.fine && !machineFails }));
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
            command: html.commandLine(),
            generatedAt: new Date(),
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
      const lines: string[] = [];
      lines.push(
        `${spec.host}:${spec.port}: ${d.verdict.code}${d.verdict.cause ? ` (cause: ${d.verdict.cause.code})` : ''}${d.fine ? ' — fine for a current TLS 1.2+ client' : ''}`,
      );
      lines.push(`${d.verdict.information && !d.fine ? 'Information: ' : ''}${d.verdict.summary}`);
      if (machineFails) {
        const why =
          osFails && os !== null
            ? `${WINDOWS_VERSION_INFO[os].label} (--os) does not offer TLS 1.2 by default`
            : "this machine's registry leaves TLS 1.2 off";
        lines.push(`A problem for the client asked about: ${why}.`);
      }
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
      if (out.client) {
        const c = out.client as JsonObject;
        lines.push(
          `Client ${String(c.title)}: ${c.connects ? 'connects' : `fails (${String(c.outcome)}${c.alert ? `, ${String(c.alert)}` : ''})`}.`,
        );
        if (c.state) lines.push(`It stands for: ${String(c.state)}.`);
        // read back from the JSON built above: remediation entries are { kind, text }
        const needs = (c.remediation ?? []) as unknown as { kind: string; text: string }[];
        if (needs.length) {
          lines.push('What this client needs:');
          for (const r of needs) lines.push(`- [${r.kind}] ${r.text}`);
        }
      }
      if (out.bisect) {
        const b = out.bisect as {
          note?: string | null;
          cause?: { dimension?: string; code?: string; change?: string; detail?: string } | null;
          steps?: { dimension: string; change: string; outcome: string; success: boolean }[];
          connections?: number;
        };
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
      }
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
      if (args.ladder) lines.push(await ladderText(probe));
      const { fitBlocks } = await import('../../report/fit.js');
      ctx.out(fitBlocks(lines));
    },
  };
}

/** What `diagnose` says about the registry of the Windows machine it runs on. */
interface LocalRegistry {
  readonly os: WindowsVersion | null;
  readonly tls12: string | null;
  readonly dotnetStrongCrypto: boolean | null;
  readonly winhttp: readonly { path: string; status: string }[];
  readonly summary: string;
}

/**
 * Returns the live registry's verdict when running on Windows (see live-registry.ts), null
 * elsewhere; a registry that cannot be read becomes a summary, never an error of the diagnosis.
 */
async function readLocalRegistry(os: WindowsVersion | null): Promise<LocalRegistry | null> {
  const { effectivePlatform, readLiveRegistry, checkWinHttp, LiveRegistryError } = await import(
    '../../diagnose/live-registry.js'
  );
  if (effectivePlatform() !== 'win32') return null;
  try {
    const live = await readLiveRegistry();
    const { checkRegistry } = await import('../../diagnose/registry.js');
    const version = os ?? live.detected?.version ?? null;
    const report = checkRegistry(live.snapshot, version);
    const winhttp = checkWinHttp(live.snapshot, version).map((c) => ({ path: c.path, status: c.status }));
    const bad = report.checks
      .filter((c) => c.status === 'missing' || c.status === 'wrong')
      .map((c) => `${c.path}\\${c.name}`);
    const badHttp = winhttp
      .filter((c) => c.status === 'missing' || c.status === 'wrong')
      .map((c) => `${c.path}\\DefaultSecureProtocols`);
    const all = [...bad, ...badHttp];
    const summary = `${version ?? 'unknown Windows version'}; SChannel TLS 1.2 client ${report.tls12}; ${all.length ? `to set: ${all.join(', ')}` : 'every TLS 1.2 value in place'} (tlsprobe registry --live for the fix).`;
    return { os: version, tls12: report.tls12, dotnetStrongCrypto: report.dotnetStrongCrypto, winhttp, summary };
  } catch (e) {
    if (!(e instanceof LiveRegistryError)) throw e;
    return { os: null, tls12: null, dotnetStrongCrypto: null, winhttp: [], summary: `not read: ${e.message}` };
  }
}
