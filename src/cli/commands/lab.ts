/** `tlsprobe lab`: local endpoints that behave like real ones, on loopback, for trying the tool and for tests. */
import type { Argv, CommandModule } from 'yargs';
import type { Lab } from '../../lab/lab.js';
import { UserError } from '../exit-codes.js';
import type { CliContext } from '../context.js';

interface LabArgs {
  demo: boolean;
  json: boolean;
  host: string;
  names?: string[];
  timeout: number;
}

export function labCommand(ctx: CliContext, waitForStop: () => Promise<void>): CommandModule<object, LabArgs> {
  return {
    command: 'lab',
    describe: 'Start local TLS endpoints on loopback (modern, TLS 1.3-only, legacy, reset/alert/silent misbehaviours)',
    builder: (y: Argv) =>
      y
        .option('demo', { type: 'boolean', default: false, describe: 'probe every lab endpoint, print the results, and stop (what npm start runs)' })
        .option('json', { type: 'boolean', default: false, describe: 'print the port map (or, with --demo, the probe results) as JSON' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'loopback address to listen on: 127.0.0.1 or ::1' })
        .option('names', { type: 'string', array: true, describe: 'endpoints to start, by name (default all; the port map lists them)' })
        .option('timeout', { type: 'number', default: 1, describe: 'with --demo: read timeout in seconds for each probe' })
        .example('$0 lab', 'start the lab and print the port map; Ctrl-C stops it')
        .example('$0 lab --demo', 'start, probe every endpoint, print, stop')
        .epilog('The lab makes its own root CA, intermediate and leaf at start; it listens only on loopback.') as unknown as Argv<LabArgs>,
    handler: async (args) => {
      const { formatPortMap, startLab } = await import('../../lab/lab.js');
      const { scan } = await import('../../probe/scan.js');
      const { scanToJson } = await import('../../report/probe-view.js');
      const { renderProbeText } = await import('../../report/probe-text.js');
      const { enrichWithChain } = await import('../chain-enrich.js');
      let lab: Lab;
      try {
        lab = await startLab({ host: args.host, ...(args.names ? { names: args.names.flatMap((n) => n.split(',')) } : {}) });
      } catch (e) {
        if (e instanceof RangeError) throw new UserError(e.message);
        throw e;
      }
      try {
        if (!args.demo) {
          ctx.out(args.json ? JSON.stringify(portMapJson(lab), null, 2) : `${formatPortMap(lab)}\n\nProbe them with: tlsprobe probe ${lab.endpoints[0]?.host}:PORT --sni localhost\nCtrl-C stops the lab.`);
          await waitForStop();
          return;
        }
        if (!args.json) ctx.out(`${formatPortMap(lab)}\n`);
        const results: object[] = [];
        for (const e of lab.endpoints) {
          const address = e.host.includes(':') ? `[${e.host}]` : e.host;
          const result = await scan(e.host, { port: e.port, sni: 'localhost', readTimeoutMs: Math.round(args.timeout * 1000) });
          const json = await enrichWithChain(scanToJson(result), result, { host: 'localhost' });
          if (args.json) results.push({ endpoint: e.name, description: e.description, ...json });
          else ctx.out(`== ${e.name}: ${e.description}\n$ tlsprobe probe ${address}:${e.port} --sni localhost\n${renderProbeText(json)}\n`);
        }
        if (args.json) ctx.out(JSON.stringify(results, null, 2));
      } finally {
        await lab.close();
      }
    },
  };
}

function portMapJson(lab: Lab): object {
  return {
    endpoints: lab.endpoints.map((e) => ({ name: e.name, host: e.host, port: e.port, description: e.description, versions: [...e.versions] })),
    rootCertificate: lab.pki.root.pem,
  };
}
