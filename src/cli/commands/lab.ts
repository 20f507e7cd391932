/** `tlsprobe lab`: local endpoints that behave like real ones, on loopback, for trying the tool and for tests. */
import type { Argv, CommandModule } from 'yargs';
import type { Lab } from '../../lab/lab.js';
import { UserError } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { deprecatedAlias } from '../deprecated.js';

interface LabArgs {
  demo: boolean;
  hostile: boolean;
  json: boolean;
  listen?: string;
  /** Deprecated spelling of --listen (hidden, warns). */
  host?: string;
  names?: string[];
  timeout: number;
}

export function labCommand(ctx: CliContext, waitForStop: () => Promise<void>): CommandModule<object, LabArgs> {
  return {
    command: 'lab',
    describe: 'Start local TLS endpoints on loopback (modern, TLS 1.3-only, legacy, reset/alert/silent misbehaviours)',
    builder: (y: Argv) =>
      y
        .option('demo', {
          type: 'boolean',
          default: false,
          describe: 'probe every lab endpoint, print the results, and stop (what npm start runs)',
        })
        .option('hostile', {
          type: 'boolean',
          default: false,
          describe:
            'start the hostile lab instead: 26 misbehaving servers (resets mid-message, 16 MB length claims, drip feeds, HRR loops, 10,000 certificates, bad DER, failing TLS 1.3 records, …)',
        })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'print the port map (or, with --demo, the probe results) as JSON',
        })
        .option('listen', { type: 'string', describe: 'loopback address to listen on: 127.0.0.1 (default) or ::1' })
        // Before 0.2 this was --host, which elsewhere names the host to check a certificate against.
        .option('host', { type: 'string', hidden: true })
        .option('names', {
          type: 'string',
          array: true,
          describe: 'endpoints to start, by name (default all; the port map lists them)',
        })
        .option('timeout', {
          type: 'number',
          default: 1,
          describe: 'with --demo: read timeout in seconds for each probe',
        })
        .example('$0 lab', 'start the lab and print the port map; Ctrl-C stops it')
        .example('$0 lab --demo', 'start, probe every endpoint, print, stop')
        .example(
          '$0 lab --hostile --demo',
          'probe every hostile behaviour and show that each gets a classified outcome',
        )
        .epilog(
          'The lab makes its own root CA, intermediate and leaf at start; it listens only on loopback.',
        ) as unknown as Argv<LabArgs>, // the chain's inferred options type is not assignable to LabArgs, the shape the handler reads
    handler: async (args) => {
      args.listen = deprecatedAlias(ctx, args.listen, args.host, '--host', '--listen') ?? '127.0.0.1';
      if (args.hostile) return hostile(ctx, args, waitForStop);
      const { formatPortMap, startLab } = await import('../../lab/lab.js');
      const { scan } = await import('../../probe/scan.js');
      const { scanToJson } = await import('../../report/probe-view.js');
      const { renderProbeText } = await import('../../report/probe-text.js');
      const { enrichWithChain } = await import('../chain-enrich.js');
      const { parseCertificate } = await import('../../x509/der.js');
      const { toTrustedRoot } = await import('../../x509/roots.js');
      let lab: Lab;
      try {
        lab = await startLab({
          host: args.listen,
          ...(args.names ? { names: args.names.flatMap((n) => n.split(',')) } : {}),
        });
      } catch (e) {
        if (e instanceof RangeError) throw new UserError(e.message);
        throw e;
      }
      try {
        if (!args.demo) {
          // The lab's root as a file for --roots, so probes of the lab trust it (removed at stop).
          const { mkdtempSync, rmSync } = await import('node:fs');
          const { tmpdir } = await import('node:os');
          const { join } = await import('node:path');
          const { writeFileAtomic } = await import('../../io/atomic-file.js');
          const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-lab-'));
          const rootFile = join(dir, 'lab-root.pem');
          try {
            await writeFileAtomic(rootFile, lab.pki.root.pem, 0o644);
            ctx.out(
              args.json
                ? JSON.stringify({ ...portMapJson(lab), rootPem: rootFile }, null, 2)
                : `${formatPortMap(lab)}\n\nProbe them with: tlsprobe probe ${lab.endpoints[0]?.host}:PORT --sni localhost --roots ${rootFile}\nCtrl-C stops the lab.`,
            );
            await waitForStop();
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
          return;
        }
        if (!args.json) ctx.out(`${formatPortMap(lab)}\n`);
        // The lab's chain is checked against the lab's own root (issue 12): a client of the lab
        // trusts it, so each endpoint's headline is its behaviour, not an untrusted root.
        // The revocation endpoints have PKIs of their own (same names, other keys): their roots too.
        const { revokedPki, offlinePki } = lab.revocation;
        const labRoots = [lab.pki, revokedPki, offlinePki].flatMap((p) =>
          p ? [toTrustedRoot(parseCertificate(p.root.der))] : [],
        );
        const results: object[] = [];
        const overview: string[][] = [];
        for (const e of lab.endpoints) {
          const address = e.host.includes(':') ? `[${e.host}]` : e.host;
          const result = await scan(e.host, {
            port: e.port,
            sni: 'localhost',
            readTimeoutMs: Math.round(args.timeout * 1000),
          });
          const json = await enrichWithChain(scanToJson(result), result, { host: 'localhost', rootSet: labRoots });
          if (args.json) results.push({ endpoint: e.name, description: e.description, ...json });
          else
            ctx.out(
              `== ${e.name}: ${e.description}\n$ tlsprobe probe ${address}:${e.port} --sni localhost\n${renderProbeText(json)}\n`,
            );
          const versions = (json.versions as { version: string; supported: boolean; outcome: string | null }[]) ?? [];
          overview.push([e.name, ...versions.map((v) => (v.supported ? 'ok' : String(v.outcome)))]);
        }
        if (args.json) ctx.out(JSON.stringify(results, null, 2));
        else {
          const { renderTable } = await import('../../report/table.js');
          ctx.out('Summary (one ClientHello per version, each endpoint):');
          ctx.out(renderTable(['Endpoint', 'SSL3.0', 'TLS1.0', 'TLS1.1', 'TLS1.2', 'TLS1.3'], overview));
          ctx.out(
            'Next: tlsprobe diagnose 127.0.0.1:PORT --sni localhost, or tlsprobe probe example.com for a real host.',
          );
        }
      } finally {
        await lab.close();
      }
    },
  };
}

function portMapJson(lab: Lab): object {
  return {
    endpoints: lab.endpoints.map((e) => ({
      name: e.name,
      host: e.host,
      port: e.port,
      description: e.description,
      versions: [...e.versions],
    })),
    rootCertificate: lab.pki.root.pem,
    // The CRL/OCSP responder the lab certificates name (the revoked and revocation-offline endpoints send chains of their own roots).
    revocationResponder: { host: lab.revocation.responder.host, port: lab.revocation.responder.port },
  };
}

/** `lab --hostile`: the misbehaving servers; with --demo, one TLS 1.3 probe each against what it should yield. */
async function hostile(ctx: CliContext, args: LabArgs, waitForStop: () => Promise<void>): Promise<void> {
  const { startHostileLab, formatHostileMap } = await import('../../lab/hostile.js');
  const { attempt } = await import('../../probe/attempt.js');
  const { renderTable } = await import('../../report/table.js');
  let lab;
  try {
    lab = await startHostileLab({ host: args.listen! });
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(e.message);
    throw e;
  }
  try {
    if (!args.demo) {
      ctx.out(
        args.json
          ? JSON.stringify({ endpoints: lab.endpoints }, null, 2)
          : `${formatHostileMap(lab)}\nCtrl-C stops the lab.`,
      );
      await waitForStop();
      return;
    }
    const readTimeoutMs = Math.round(args.timeout * 1000);
    const rows = await Promise.all(
      lab.endpoints.map(async (e) => {
        const t0 = performance.now();
        const r = await attempt(
          { host: 'localhost', address: e.host, port: e.port },
          { version: 'TLS1.3', sni: 'localhost' },
          { readTimeoutMs, connectTimeoutMs: readTimeoutMs },
        );
        const expected = Array.isArray(e.expect) ? e.expect : [e.expect];
        return {
          name: e.name,
          outcome: r.outcome,
          expected,
          ok: expected.includes(r.outcome),
          ms: Math.round(performance.now() - t0),
          detail: r.error ?? r.alert?.name ?? r.end,
        };
      }),
    );
    if (args.json) ctx.out(JSON.stringify({ results: rows }, null, 2));
    else
      ctx.out(
        renderTable(
          ['Behaviour', 'Outcome', 'Expected', 'ms', 'Detail'],
          rows.map((r) => [r.name, r.outcome, r.expected.join('|'), r.ms, String(r.detail).slice(0, 70)]),
        ),
      );
    if (rows.some((r) => !r.ok)) ctx.setExitCode(1);
  } finally {
    await lab.close();
  }
}
