/** `tlsprobe chain FILE|HOST[:PORT]`: check a certificate chain against the documented root set. */
import { existsSync, statSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import type { JsonObject } from '../../report/decode-view.js';
import { ExitCode, UserError } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { readInput } from '../io.js';
import { parseTarget } from '../target.js';
import { envelope } from '../../report/envelope.js';
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
            'verifies to a documented root with no error finding, 1 otherwise, 2 on usage errors.',
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
        if (!a || a.certificates.length === 0) {
          const why = result.dnsError ? result.dnsError.message : a ? a.versions.map((v) => `${v?.version}: ${v?.outcome}`).join(', ') : 'no answer';
          throw new UserError(`${spec.host}:${spec.port}: no certificates received (${why})`, ExitCode.failure);
        }
        ders = [...a.certificates];
        host ??= result.sni ?? spec.host;
      }
      const report = chainReport(ders, host, args);
      const json: JsonObject = { certificates: ders.map(certificateJson), chain: chainToJson(report) };
      const ok = report.verified && report.anchor?.documented === true && !report.findings.some((f) => f.severity === 'error');
      if (!ok) ctx.setExitCode(ExitCode.failure);
      if (args.json) {
        ctx.out(JSON.stringify(envelope('chain', json), null, 2));
        return;
      }
      const certs = json.certificates as JsonObject[];
      ctx.out(renderTable(['#', 'Subject', 'Issuer', 'Key', 'Expires', 'SHA-1'], certs.map((c, i) => [i, String(c.subject ?? ''), String(c.issuer ?? ''), `${c.keyType ?? ''} ${c.keyBits ?? ''}`.trim(), String(c.notAfter ?? '').slice(0, 10), String(c.sha1)])));
      const chain = json.chain as JsonObject;
      for (const f of chain.findings as JsonObject[]) ctx.out(`${String(f.severity).padEnd(7)} ${f.code}: ${f.message}`);
      ctx.out(`Chain: ${chain.verdict}`);
    },
  };
}
