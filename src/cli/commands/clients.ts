/** `tlsprobe clients [HOST[:PORT]]`: the client profiles, or what each would get from an endpoint. */
import type { Argv, CommandModule } from 'yargs';
import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { parseTarget } from '../target.js';
import { connectOptions, scanOptionsFrom, type ProbeArgs } from './probe.js';
import { HTML_OPTION } from '../report-options.js';
import { envelope } from '../../report/envelope.js';

interface ClientsArgs extends Partial<ProbeArgs> {
  target?: string;
  json: boolean;
  html?: string;
}

export function clientsCommand(ctx: CliContext): CommandModule<object, ClientsArgs> {
  return {
    command: 'clients [target]',
    describe: 'List simulated clients (Windows SChannel, .NET, OpenSSL, browser), or send each one\'s ClientHello to an endpoint',
    builder: (y: Argv) =>
      connectOptions(
        y
          .positional('target', { type: 'string', describe: 'HOST[:PORT]: simulate every client against it' })
          .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
          .option('html', HTML_OPTION),
      )
        .example('$0 clients', 'the profiles and what they offer')
        .example('$0 clients backup.example.net', 'which client configurations would get error 10054')
        .epilog('With a target: exit code 1 when any simulated client would fail, 0 when all connect.') as unknown as Argv<ClientsArgs>,
    handler: async (args) => {
      const { CLIENT_PROFILES, simulateClient } = await import('../../diagnose/clients.js');
      const { renderTable } = await import('../../report/table.js');
      if (args.target === undefined) {
        const list = { clients: CLIENT_PROFILES.map((p) => ({ name: p.name, aliases: p.aliases, title: p.title, description: p.description, versions: p.versions, source: p.source })) };
        if (args.html !== undefined) {
          const html = await import('../html-out.js');
          await html.writeHtmlReport(ctx, args.html, { title: 'tlsprobe clients', command: html.commandLine(), generatedAt: new Date(), sections: [html.clientsSection(list as never)], raw: list }, []);
        }
        if (args.json) {
          ctx.out(JSON.stringify(envelope('clients', list), null, 2));
        } else {
          ctx.out(renderTable(['Name', 'Client', 'Offers'], CLIENT_PROFILES.map((p) => [p.name, p.title, p.versions.join(' ')])));
          const { fitBlocks } = await import('../../report/fit.js');
          ctx.out(fitBlocks(['Use: tlsprobe clients HOST[:PORT], or tlsprobe diagnose HOST --client NAME']));
        }
        return;
      }
      const spec = parseTarget(args.target);
      const { resolveHost } = await import('../../probe/transport.js');
      const { defaultSni } = await import('../../probe/scan.js');
      const options = scanOptionsFrom(args, spec.port);
      const resolved = await resolveHost(spec.host);
      if (!resolved.ok) {
        ctx.setExitCode(ExitCode.failure);
        ctx.out(`${spec.host}: ${resolved.message} (${resolved.errorCode})`);
        return;
      }
      const target = { host: spec.host, address: resolved.addresses[0]!.address, port: spec.port };
      const sni = options.sni === undefined ? defaultSni(spec.host) : options.sni;
      const attemptOpts = {
        ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
        ...(options.readTimeoutMs !== undefined ? { readTimeoutMs: options.readTimeoutMs } : {}),
      };
      const sims = [];
      for (const p of CLIENT_PROFILES) sims.push(await simulateClient(target, p, sni, attemptOpts));
      if (sims.some((s) => s.verdict !== 'connects')) ctx.setExitCode(ExitCode.failure);
      const json = { target: { host: spec.host, port: spec.port, address: target.address, sni }, clients: sims.map((s) => ({ profile: s.profile, verdict: s.verdict, gets10054: s.gets10054, outcome: s.attempt.outcome, cipherSuiteName: s.attempt.cipherSuiteName, negotiatedVersion: s.attempt.negotiatedVersion, summary: s.summary })) };
      if (args.html !== undefined) {
        const [html, { attemptToJson }] = await Promise.all([import('../html-out.js'), import('../../report/probe-view.js')]);
        const attempts = sims.map((s) => attemptToJson(s.attempt.version, s.attempt));
        await html.writeHtmlReport(ctx, args.html, { title: `tlsprobe clients: ${spec.host}:${spec.port}`, command: html.commandLine(), generatedAt: new Date(), sections: [html.clientsSection(json as never, attempts)], raw: json }, []);
      }
      if (args.json) {
        ctx.out(JSON.stringify(envelope('clients', json), null, 2));
        return;
      }
      ctx.out(renderTable(['Client', 'Result', 'Error 10054?', 'Detail'], sims.map((s) => [s.profile, s.verdict, s.gets10054 ? 'YES' : 'no', s.summary])));
    },
  };
}
