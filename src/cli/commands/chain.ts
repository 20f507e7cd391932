/** `tlsprobe chain FILE|HOST[:PORT]`: check a certificate chain against the documented root set. */
import { existsSync, statSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import type { JsonObject } from '../../report/decode-view.js';
import { ExitCode, UserError } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { readInput } from '../io.js';
import { escapeText } from '../../report/escape.js';
import { parseTarget } from '../target.js';
import { revocationOptions, type RevocationArgs } from '../revocation-options.js';
import { envelope } from '../../report/envelope.js';
import { connectOptions, scanOptionsFrom, type ProbeArgs } from './probe.js';

interface ChainArgs extends Partial<ProbeArgs>, RevocationArgs {
  source: string;
  host?: string;
  json: boolean;
  at?: string;
  roots?: string;
  maxDepth?: number;
}

/** Returns the DER certificates in a PEM or DER file. */
async function readCertificates(file: string): Promise<Uint8Array[]> {
  const { pemToDer } = await import('../../x509/pem.js');
  const bytes = readInput(file);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const ders = pemToDer(text);
    if (ders.length === 0) throw new UserError(`${file}: no CERTIFICATE blocks found`);
    return ders;
  }
  if (bytes[0] === 0x30) return [bytes];
  throw new UserError(`${file}: neither PEM (-----BEGIN CERTIFICATE-----) nor DER`);
}

export function chainCommand(ctx: CliContext): CommandModule<object, ChainArgs> {
  return {
    command: 'chain <source>',
    describe:
      'Check a certificate chain (PEM/DER file, or the one an endpoint sends) against the documented root CA set',
    builder: (y: Argv) =>
      revocationOptions(
        connectOptions(
          y
            .positional('source', {
              type: 'string',
              describe: 'a PEM/DER file (leaf first), or HOST[:PORT] to fetch the chain over TLS 1.3 or 1.2',
            })
            .option('host', {
              type: 'string',
              describe: 'host name to match against the leaf (default: the target host; none for files)',
            })
            .option('json', {
              type: 'boolean',
              default: false,
              describe: 'print { "certificates": [...], "chain": {...} }',
            })
            .option('at', { type: 'string', describe: 'judge validity at this date (ISO 8601; default now)' })
            .option('roots', {
              type: 'string',
              describe:
                'trust anchors: a PEM bundle FILE or directory, or "system" (Node\'s public roots and the OS store); default: the documented root set, with Node\'s public roots named when a chain ends there',
            })
            .option('max-depth', {
              type: 'number',
              describe:
                "most intermediate CAs a path may have (default: no limit besides the builder's cap of 10 certificates)",
            }),
        ),
      )
        .example('$0 chain server-chain.pem --host backup.example.net', 'check a saved chain')
        .example('$0 chain chain.pem --crl issuing-ca.crl', 'is a certificate revoked by this CRL?')
        .example(
          '$0 chain example.com --check-revocation --proxy http://proxy:3128',
          'can a client behind the proxy reach the CRL and OCSP URLs?',
        )
        .example('$0 chain example.com', 'fetch and check what example.com:443 sends')
        .example('$0 chain chain.pem --at 2025-06-01', 'judge validity on a given date')
        .epilog(
          'Every candidate path is built and validated (RFC 5280 Section 6 and the CA/B Forum server profile); findings have ' +
            'stable codes: root-expired, anchor-not-documented, likely-tls-inspection, missing-intermediate, bad-signature, ' +
            'name-mismatch, name-constraints-violation, eku-not-server-auth, not-a-ca, revoked, crl-*, revocation-offline, … ' +
            'Exit code 0 when the chain validates (to a documented root, or to the --roots given) and no certificate is revoked, ' +
            '1 otherwise, 2 on usage errors, 3 when the endpoint could not be reached before any TLS.',
        ) as unknown as Argv<ChainArgs>, // the chain's inferred options type is not assignable to ChainArgs, the shape the handler reads
    handler: async (args) => {
      const { scan } = await import('../../probe/scan.js');
      const { chainToJson } = await import('../../report/chain-view.js');
      const { renderTable } = await import('../../report/table.js');
      const { certificateJson, chainOk, chainReport } = await import('../chain-enrich.js');
      let ders: Uint8Array[];
      let host = args.host;
      // A path-looking source that does not exist is a missing file, not a bad host name.
      const looksLikePath = /[/\\]|\.(pem|crt|cer|der)$/i.test(args.source);
      const isFile =
        args.source === '-' || looksLikePath || (existsSync(args.source) && statSync(args.source).isFile());
      if (isFile) {
        ders = await readCertificates(args.source);
      } else {
        const spec = parseTarget(args.source);
        const result = await scan(spec.host, { ...scanOptionsFrom(args, spec.port), versions: ['TLS1.2', 'TLS1.3'] });
        const a = result.addresses[0];
        const { unreachable } = await import('../../report/probe-view.js');
        if (unreachable(result)) {
          const why = result.dnsError ? result.dnsError.message : (a?.versions.find((v) => v)?.outcome ?? 'no answer');
          throw new UserError(`${spec.host}:${spec.port}: cannot connect (${why})`, ExitCode.network);
        }
        if (!a || a.certificates.length === 0) {
          const why = result.dnsError
            ? result.dnsError.message
            : a
              ? a.versions.map((v) => `${v?.version}: ${v?.outcome}`).join(', ')
              : 'no answer';
          // No TLS at all (DNS, refused, unreachable) is the network's failure: exit 3.
          const noTls =
            result.dnsError !== null ||
            !a ||
            a.versions.every((v) => !v || ['connect-refused', 'connect-timeout', 'dns-error'].includes(v.outcome));
          throw new UserError(
            `${spec.host}:${spec.port}: no certificates received (${why})`,
            noTls ? ExitCode.network : ExitCode.failure,
          );
        }
        ders = [...a.certificates];
        host ??= result.sni ?? spec.host;
      }
      if (args.maxDepth !== undefined && !(Number.isInteger(args.maxDepth) && args.maxDepth >= 0))
        throw new UserError(`--max-depth ${args.maxDepth}: a whole number of intermediates (0 or more)`);
      const chainOpts = { at: args.at, roots: args.roots, maxIntermediates: args.maxDepth };
      const report = chainReport(ders, host, chainOpts);
      const { atOption } = await import('../dates.js');
      const { mergeRevocation, revocationSection, wantsRevocation, withRevocationUrls } = await import(
        '../revocation-options.js'
      );
      const revocation = await revocationSection(report, args, atOption(args.at) ?? new Date());
      const json: JsonObject = {
        certificates: await Promise.all(ders.map((der) => withRevocationUrls(certificateJson(der), der))),
        chain: mergeRevocation(chainToJson(report), revocation.json),
      };
      const ok = chainOk(report, chainOpts) && !revocation.error;
      if (!ok) ctx.setExitCode(ExitCode.failure);
      if (args.json) {
        ctx.out(JSON.stringify(envelope('chain', json), null, 2));
        return;
      }
      const certs = json.certificates as JsonObject[];
      const { revocationText } = await import('../../report/revocation-view.js');
      ctx.out(
        renderTable(
          ['#', 'Subject', 'Issuer', 'Key', 'Expires', 'SHA-1'],
          certs.map((c, i) => [
            i,
            String(c.subject ?? ''),
            String(c.issuer ?? ''),
            `${c.keyType ?? ''} ${c.keyBits ?? ''}`.trim(),
            String(c.notAfter ?? '').slice(0, 10),
            String(c.sha1),
          ]),
        ),
      );
      const chain = json.chain as JsonObject;
      // Finding messages quote certificate names: escaped, as every string from the input.
      for (const f of chain.findings as JsonObject[])
        ctx.out(escapeText(`${String(f.severity).padEnd(7)} ${f.code}: ${f.message}`));
      if (wantsRevocation(args))
        for (const line of revocationText(chain.revocation as JsonObject)) ctx.out(escapeText(line));
      ctx.out(escapeText(`Chain: ${chain.verdict}`));
    },
  };
}
