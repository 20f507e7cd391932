/** `tlsprobe roots`: the documented root CA set, and which of it a client's trust store holds. */
import type { Argv, CommandModule } from 'yargs';
import { ExitCode, UserError } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { atOption } from '../dates.js';
import { envelope } from '../../report/envelope.js';

interface RootsArgs {
  bundle?: string;
  json: boolean;
  at?: string;
}

export function rootsCommand(ctx: CliContext): CommandModule<object, RootsArgs> {
  return {
    command: 'roots',
    describe: 'List the documented root CA set, or check which of it a trust store holds (--bundle)',
    builder: (y: Argv) =>
      y
        .option('bundle', {
          type: 'string',
          describe: 'a PEM bundle file or a directory of certificates (e.g. /etc/ssl/certs)',
        })
        .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
        .option('at', { type: 'string', describe: 'judge expiry at this date (ISO 8601; default now)' })
        .example('$0 roots', 'the six documented roots with SHA-1 thumbprints and expiry')
        .example('$0 roots --bundle /etc/ssl/certs', 'which documented roots this machine trusts')
        .epilog(
          'With --bundle, exit code 1 when a documented, unexpired root is missing from the bundle.',
        ) as unknown as Argv<RootsArgs>, // the chain's inferred options type is not assignable to RootsArgs, the shape the handler reads
    handler: async (args) => {
      const { compareBundle, loadBundle, loadDocumentedRoots } = await import('../../x509/roots.js');
      const { renderTable } = await import('../../report/table.js');
      const at = atOption(args.at) ?? new Date();
      const documented = loadDocumentedRoots();
      if (args.bundle === undefined) {
        const roots = documented.map((r) => ({
          name: r.name,
          sha1: r.sha1,
          sha256: r.sha256,
          notBefore: r.notBefore?.toISOString() ?? null,
          notAfter: r.notAfter?.toISOString() ?? null,
          expired: r.notAfter ? r.notAfter < at : null,
        }));
        if (args.json) ctx.out(JSON.stringify(envelope('roots', { roots }), null, 2));
        else
          ctx.out(
            renderTable(
              ['Root', 'SHA-1', 'Expires', 'Status'],
              roots.map((r) => [r.name, r.sha1, (r.notAfter ?? '').slice(0, 10), r.expired ? 'EXPIRED' : 'valid']),
            ),
          );
        return;
      }
      let bundle;
      try {
        bundle = loadBundle(args.bundle);
      } catch (e) {
        throw new UserError(`--bundle ${args.bundle}: ${(e as Error).message}`);
      }
      const rows = compareBundle(bundle, at);
      if (rows.some((r) => !r.present && r.expired !== true)) ctx.setExitCode(ExitCode.failure);
      if (args.json) {
        ctx.out(
          JSON.stringify(envelope('roots', { bundle: args.bundle, certificates: bundle.length, roots: rows }), null, 2),
        );
        return;
      }
      ctx.out(`${args.bundle}: ${bundle.length} certificates`);
      ctx.out(
        renderTable(
          ['Root', 'SHA-1', 'In bundle', 'Expired'],
          rows.map((r) => [r.name, r.sha1, r.present ? 'yes' : 'MISSING', r.expired ? 'yes' : 'no']),
        ),
      );
      const missing = rows.filter((r) => !r.present && r.expired !== true);
      if (missing.length)
        ctx.out(
          `Missing: ${missing.map((r) => r.name).join(', ')}: clients using this store cannot verify endpoints that chain to them.`,
        );
    },
  };
}
