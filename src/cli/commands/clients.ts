/** `tlsprobe clients [HOST[:PORT]]`: the client profiles, or what each would get from an endpoint. */
import type { Argv, CommandModule, Options } from 'yargs';
import type { CliContext } from '../context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { parseTarget } from '../target.js';
import { connectOptions, scanOptionsFrom, type ProbeArgs } from './probe.js';
import { HTML_OPTION } from '../report-options.js';
import { envelope } from '../../report/envelope.js';

interface ClientsArgs extends Partial<ProbeArgs> {
  target?: string;
  json: boolean;
  html?: string;
}

/** The options of `clients` besides the connect options, in help order. */
const CLIENTS_OPTIONS = {
  json: { type: 'boolean', default: false, describe: 'print JSON' },
  html: HTML_OPTION,
} as const satisfies Record<string, Options>;

export function clientsCommand(ctx: CliContext): CommandModule<object, ClientsArgs> {
  return {
    command: 'clients [target]',
    describe:
      "List simulated clients (Windows SChannel, .NET, OpenSSL, browser), or send each one's ClientHello to an endpoint",
    builder: (y: Argv) =>
      connectOptions(
        y
          .positional('target', { type: 'string', describe: 'HOST[:PORT]: simulate every client against it' })
          .options(CLIENTS_OPTIONS),
      )
        .example('$0 clients', 'the profiles and what they offer')
        .example('$0 clients backup.example.net', 'which client configurations would get error 10054')
        .epilog(
          'With a target: exit code 1 when any simulated client would fail, 0 when all connect, 3 when the target cannot be reached (DNS, refused, unreachable).',
        ) as unknown as Argv<ClientsArgs>, // the chain's inferred options type is not assignable to ClientsArgs, the shape the handler reads
    handler: async (args) => {
      if (args.target === undefined) await listClients(ctx, args);
      else await simulateClients(ctx, args, args.target);
    },
  };
}

/** Prints the client profiles and what each offers (table, --json, --html). */
async function listClients(ctx: CliContext, args: ClientsArgs): Promise<void> {
  const { CLIENT_PROFILES } = await import('../../diagnose/clients.js');
  const { renderTable } = await import('../../report/table.js');
  const list = {
    clients: CLIENT_PROFILES.map((p) => ({
      name: p.name,
      title: p.title,
      fidelity: p.fidelity,
      source: p.source,
      reference: p.reference,
      aliases: p.aliases,
      description: p.description,
      versions: p.versions,
      configuration: p.configuration,
    })),
  };
  if (args.html !== undefined) {
    const html = await import('../html-out.js');
    await html.writeHtmlReport(
      ctx,
      args.html,
      {
        title: 'tlsprobe clients',
        sections: [html.clientsSection(list as never)],
        raw: list,
      },
      [],
    );
  }
  if (args.json) {
    ctx.out(JSON.stringify(envelope('clients', list), null, 2));
  } else {
    ctx.out(
      renderTable(
        ['Name', 'Client', 'Fidelity', 'Offers'],
        CLIENT_PROFILES.map((p) => [p.name, p.title, p.fidelity, p.versions.join(' ')]),
      ),
    );
    const { fitBlocks } = await import('../../report/fit.js');
    ctx.out(fitBlocks(['Use: tlsprobe clients HOST[:PORT], or tlsprobe diagnose HOST --client NAME']));
  }
}

/**
 * Sends every client profile's ClientHello to `targetArg` and prints what each gets; exit code 1 when
 * any would fail, 3 when none reaches the target.
 */
async function simulateClients(ctx: CliContext, args: ClientsArgs, targetArg: string): Promise<void> {
  const { CLIENT_PROFILES, simulateClient, profileRemediation } = await import('../../diagnose/clients.js');
  const { renderTable } = await import('../../report/table.js');
  const spec = parseTarget(targetArg);
  ctx.watchesSignal?.();
  const { resolveHost } = await import('../../probe/transport.js');
  const { defaultSni } = await import('../../probe/scan.js');
  const options = scanOptionsFrom(args, spec.port);
  const resolved = await resolveHost(spec.host);
  if (!resolved.ok) throw new CliError('network', `${spec.host}: ${resolved.message} (${resolved.errorCode})`);
  const target = { host: spec.host, address: resolved.addresses[0]!.address, port: spec.port };
  const sni = options.sni === undefined ? defaultSni(spec.host) : options.sni;
  const attemptOpts = {
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.readTimeoutMs !== undefined ? { readTimeoutMs: options.readTimeoutMs } : {}),
  };
  const sims = [];
  for (const p of CLIENT_PROFILES) {
    if (ctx.signal?.aborted) break;
    const sim = await simulateClient(target, p, sni, {
      ...attemptOpts,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    sims.push({ sim, profile: p, remediation: sim.verdict === 'connects' ? [] : profileRemediation(p) });
  }
  if (ctx.signal?.aborted)
    throw new CliError(
      'interrupted',
      `interrupted after ${sims.filter(({ sim }) => sim.attempt.end !== 'aborted').length} of ${CLIENT_PROFILES.length} clients`,
    );
  const { isConnectFailure } = await import('../../probe/outcome.js');
  if (sims.every(({ sim }) => isConnectFailure(sim.attempt.outcome))) ctx.setExitCode(ExitCode.network);
  else if (sims.some(({ sim }) => sim.verdict !== 'connects')) ctx.setExitCode(ExitCode.failure);
  const clients = sims.map(({ sim: s, profile: p, remediation }) => ({
    profile: s.profile,
    title: p.title,
    fidelity: p.fidelity,
    verdict: s.verdict,
    gets10054: s.gets10054,
    outcome: s.attempt.outcome,
    cipherSuiteName: s.attempt.cipherSuiteName,
    negotiatedVersion: s.attempt.negotiatedVersion,
    summary: s.summary,
    state: p.configuration?.state ?? null,
    remediation,
  }));
  const json = { target: { host: spec.host, port: spec.port, address: target.address, sni }, clients };
  if (args.html !== undefined) {
    const [html, { attemptToJson }] = await Promise.all([
      import('../html-out.js'),
      import('../../report/probe-view.js'),
    ]);
    const attempts = sims.map(({ sim: s }) => attemptToJson(s.attempt.version, s.attempt));
    await html.writeHtmlReport(
      ctx,
      args.html,
      {
        title: `tlsprobe clients: ${spec.host}:${spec.port}`,
        sections: [html.clientsSection(json as never, attempts)],
        raw: json,
      },
      [],
    );
  }
  if (args.json) {
    ctx.out(JSON.stringify(envelope('clients', json), null, 2));
    return;
  }
  ctx.out(
    renderTable(
      ['Client', 'Result', 'Error 10054?', 'Stands for', 'Detail'],
      sims.map(({ sim: s, profile: p }) => [
        s.profile,
        s.verdict,
        s.gets10054 ? 'YES' : 'no',
        p.configuration?.state ?? p.title,
        s.summary,
      ]),
    ),
  );
  const failing = sims.filter((x) => x.remediation.length > 0);
  if (failing.length) {
    const { fitBlocks } = await import('../../report/fit.js');
    ctx.out(
      fitBlocks([
        'What each failing configuration needs:',
        ...failing.flatMap(({ profile: p, remediation }) =>
          remediation.map((r) => `- ${p.name} [${r.kind}] ${r.text}`),
        ),
      ]),
    );
  }
}
