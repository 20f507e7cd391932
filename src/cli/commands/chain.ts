/** `tlsprobe chain FILE|HOST[:PORT]`: check a certificate chain against the documented root set. */
import { existsSync, statSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import type { JsonObject } from '../../report/decode-view.js';
import { ExitCode, UserError } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { readInput } from '../io.js';
import { escapeText } from '../../report/escape.js';
import { parseTarget } from '../target.js';
import { connectOptions, scanOptionsFrom, type ProbeArgs } from './probe.js';

interface ChainArgs extends Partial<ProbeArgs> {
  source: string;
  host?: string;
  json: boolean;
  at?: string;
  roots?: string;
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
    describe: 'Check a certificate chain (PEM/DER file, or the one an endpoint sends) against the documented root CA set',
    builder: (y: Argv) =>
      connectOptions(
        y
          .positional('source', { type: 'string', describe: 'a PEM/DER file (leaf first), or HOST[:PORT] to fetch the chain over TLS 1.3 or 1.2' })
          .option('host', { type: 'string', describe: 'host name to match against the leaf (default: the target host; none for files)' })
          .option('json', { type: 'boolean', default: false, describe: 'print { "certificates": [...], "chain": {...} }' })
          .option('at', { type: 'string', describe: 'judge validity at this date (ISO 8601; default now)' })
          .option('roots', { type: 'string', describe: 'trust anchors: a PEM bundle FILE or directory, or "system" (default: the documented root set)' }),
      )
        .example('$0 chain server-chain.pem --host backup.example.net', 'check a saved chain')
        .example('$0 chain example.com', 'fetch and check what example.com:443 sends')
        .example('$0 chain chain.pem --at 2025-06-01', 'judge validity on a given date')
        .epilog(
          'Findings have stable codes: root-expired, anchor-not-documented, likely-tls-inspection, missing-intermediate, ' +
            'bad-signature, name-mismatch, expired, not-yet-valid, weak-key, sha1-signature, … Exit code 0 when the chain ' +
            'verifies with no error finding to a documented root or to an anchor given with --roots, 1 otherwise, 2 on usage ' +
            'errors, 3 when the endpoint could not be reached before any TLS.',
        ) as unknown as Argv<ChainArgs>,
    handler: async (args) => {
      const { scan } = await import('../../probe/scan.js');
      const { chainToJson } = await import('../../report/chain-view.js');
      const { renderTable } = await import('../../report/table.js');
      const { certificateJson, chainReport } = await import('../chain-enrich.js');
      let ders: Uint8Array[];
      let host = args.host;
      // A path-looking source that does not exist is a missing file, not a bad host name.
      const looksLikePath = /[/\\]|\.(pem|crt|cer|der)$/i.test(args.source);
      const isFile = args.source === '-' || looksLikePath || (existsSync(args.source) && statSync(args.source).isFile());
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
          const why = result.dnsError ? result.dnsError.message : a ? a.versions.map((v) => `${v?.version}: ${v?.outcome}`).join(', ') : 'no answer';
          // No TLS at all (DNS, refused, unreachable) is the network's failure: exit 3.
          const noTls = result.dnsError !== null || !a || a.versions.every((v) => !v || ['connect-refused', 'connect-timeout', 'dns-error'].includes(v.outcome));
          throw new UserError(`${spec.host}:${spec.port}: no certificates received (${why})`, noTls ? ExitCode.network : ExitCode.failure);
        }
        ders = [...a.certificates];
        host ??= result.sni ?? spec.host;
      }
      const report = chainReport(ders, host, args);
      const json: JsonObject = { certificates: ders.map(certificateJson), chain: chainToJson(report) };
      // Fine when it verifies to a documented root, or to one of the anchors the user gave (--roots).
      const ok = report.verified && (report.anchor?.documented === true || args.roots !== undefined) && !report.findings.some((f) => f.severity === 'error');
      if (!ok) ctx.setExitCode(ExitCode.failure);
      if (args.json) {
        ctx.out(JSON.stringify(json, null, 2));
        return;
      }
      const certs = json.certificates as JsonObject[];
      ctx.out(renderTable(['#', 'Subject', 'Issuer', 'Key', 'Expires', 'SHA-1'], certs.map((c, i) => [i, String(c.subject ?? ''), String(c.issuer ?? ''), `${c.keyType ?? ''} ${c.keyBits ?? ''}`.trim(), String(c.notAfter ?? '').slice(0, 10), String(c.sha1)])));
      const chain = json.chain as JsonObject;
      // Finding messages quote certificate names: escaped, as every string from the input.
      for (const f of chain.findings as JsonObject[]) ctx.out(escapeText(`${String(f.severity).padEnd(7)} ${f.code}: ${f.message}`));
      ctx.out(escapeText(`Chain: ${chain.verdict}`));
    },
  };
}
