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
import type { Diagnosis } from '../../diagnose/verdict.js';
import { envelope } from '../../report/envelope.js';
import { HTML_OPTION, LADDER_OPTION } from '../report-options.js';

interface DiagnoseArgs extends Partial<ProbeArgs> {
  targets?: string[];
  json: boolean;
  os?: string;
  bisect: boolean;
  client?: string;
  profile?: string;
  at?: string;
  roots?: string;
}

/** Returns one diagnosis as `results[]` of diagnose --json holds it. */
function diagnosisJson(d: Diagnosis, probe: JsonObject): JsonObject {
  return {
    target: probe.target as JsonObject,
    verdict: { ...d.verdict },
    evidence: d.evidence.map((e) => ({ ...e })) as unknown as JsonObject[],
    remediation: d.remediation.map((r) => ({ ...r })) as unknown as JsonObject[],
    secondary: d.secondary.map((v) => ({ ...v })) as unknown as JsonObject[],
    probe,
  };
}

export function diagnoseCommand(ctx: CliContext): CommandModule<object, DiagnoseArgs> {
  return {
    command: 'diagnose [targets..]',
    describe: 'Explain a failing TLS connection (error 10054, resets, alerts) with evidence and the fix',
    builder: (y: Argv) =>
      connectOptions(
        y
          .positional('targets', { type: 'string', array: true, describe: 'HOST[:PORT] (default port 443); with --profile, concrete names for its wildcards' })
          .option('json', { type: 'boolean', default: false, describe: 'print JSON: { schemaVersion, command, results: [{ target, verdict, evidence, remediation, probe }] }' })
          .option('os', { type: 'string', describe: "the failing client's Windows version (2008, 2008r2, 7, 2012, 2012r2, 8.1, 2016, 2019, 2022, 10, 11): narrows the fix" })
          .option('ladder', LADDER_OPTION)
          .option('html', HTML_OPTION)
          .option('bisect', { type: 'boolean', default: false, describe: 'find the smallest ClientHello change that turns the failure into success' })
          .option('client', { type: 'string', describe: 'also send the ClientHello of a client profile (see `tlsprobe clients`), e.g. win7-schannel' })
          .option('profile', { type: 'string', describe: 'diagnose every endpoint of a service profile, e.g. azure-backup, plus control endpoints' })
          .option('at', { type: 'string', describe: 'judge certificate validity at this date (ISO 8601; default now)' })
          .option('roots', { type: 'string', describe: 'trust anchors: PEM bundle FILE/DIR or "system" (default: the documented root set)' }),
      )
        .example('$0 diagnose backup.example.net', 'verdict, evidence and remediation')
        .example('$0 diagnose backup.example.net --os 2008r2 --client win7-schannel', 'would a Windows 7 / 2008 R2 client get 10054?')
        .example('$0 diagnose backup.example.net --bisect', 'which ClientHello change makes the reset go away')
        .example('$0 diagnose --profile azure-backup myvault.blob.core.windows.net', 'the endpoints a backup agent needs')
        .epilog(
          'Verdict codes (stable): legacy-version-reset, legacy-version-alert, legacy-version-dropped, tls12-ok, ' +
            'no-tls12, endpoint-unreachable, reset-always, closed-always, timeout-always, not-tls, chain-untrusted, ' +
            'likely-tls-inspection, sni-required, proxy-resets (with --proxy: direct and proxied attempts are compared). Exit code 0 for tls12-ok, 1 for any other verdict, 2 on usage errors.',
        ) as unknown as Argv<DiagnoseArgs>,
    handler: async (args) => {
      const os = osOption(args.os);
      const targets = args.targets ?? [];
      if (args.profile === undefined && targets.length !== 1) throw new UserError('give one HOST[:PORT] to diagnose (or --profile NAME)');
      const { runDiagnosis } = await import('../../diagnose/run.js');
      const { chainReport } = await import('../chain-enrich.js');
      const { scanToJson } = await import('../../report/probe-view.js');
      const { renderTable } = await import('../../report/table.js');
      const chainCheck = (ders: Uint8Array[], host: string) => chainReport(ders, host, args);

      if (args.profile !== undefined) {
        const { expandEndpointProfile, concludeEndpoints } = await import('../../diagnose/endpoint-profiles.js');
        let expanded;
        try {
          expanded = expandEndpointProfile(args.profile, targets.map((t) => parseTarget(t).host));
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
          const section = { heading: `Profile ${expanded.profile.name}`, verdict: { code: conclusion.code, summary: conclusion.summary, ok: conclusion.code === 'all-ok' }, remediation: [], regFix: null, ladders: [], certificates: [], chain: null, tables: [{ caption: 'Endpoints', head: ['Endpoint', 'Role', 'Verdict', 'Summary'], rows: rows.map((r) => r.map(String)) }] };
          await html.writeHtmlReport(ctx, args.html, { title: `tlsprobe diagnose --profile ${expanded.profile.name}`, command: html.commandLine(), generatedAt: new Date(), sections: [section], raw: { profile: expanded.profile.name, endpoints: results, needsConcreteName: needs, conclusion } }, [args.roots]);
        }
        if (args.json) {
          ctx.out(JSON.stringify(envelope('diagnose', { results: diagnoses, profile: { name: expanded.profile.name, endpoints: results, needsConcreteName: needs, conclusion } }), null, 2));
          return;
        }
        const { fitBlocks } = await import('../../report/fit.js');
        const blocks = [renderTable(['Endpoint', 'Role', 'Verdict', 'Summary'], rows)];
        if (needs.length) blocks.push(`Wildcards without a concrete name (give them as arguments): ${needs.join(', ')}`);
        blocks.push(`Conclusion (${conclusion.code}): ${conclusion.summary}`);
        ctx.out(fitBlocks(blocks));
        return;
      }

      const spec = parseTarget(targets[0]!);
      const options = scanOptionsFrom(args, spec.port);
      const run = await runDiagnosis(spec.host, { ...options, os, chainCheck });
      const d = run.diagnosis;
      const probe = scanToJson(run.scan);
      const out = diagnosisJson(d, probe);
      const first = run.scan.addresses[0];
      if (first && (args.bisect || args.client !== undefined)) {
        const target = { host: spec.host, address: first.address, port: spec.port };
        const sni = run.scan.sni;
        const attemptOpts = {
          ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
          ...(options.readTimeoutMs !== undefined ? { readTimeoutMs: options.readTimeoutMs } : {}),
        };
        if (args.client !== undefined) {
          const { findClientProfile, simulateClient, CLIENT_PROFILES } = await import('../../diagnose/clients.js');
          const profile = findClientProfile(args.client);
          if (!profile) throw new UserError(`unknown client "${args.client}": known are ${CLIENT_PROFILES.map((p) => p.name).join(', ')}`);
          const sim = await simulateClient(target, profile, sni, attemptOpts);
          out.client = { profile: profile.name, title: profile.title, verdict: sim.verdict, gets10054: sim.gets10054, summary: sim.summary, outcome: sim.attempt.outcome };
        }
        if (args.bisect) {
          const { bisectHello } = await import('../../diagnose/bisect.js');
          const failing = first.versions.find((r) => r && (r.version === 'TLS1.0' || r.version === 'TLS1.1') && !r.supported);
          const working = first.versions.find((r) => r?.supported && (r.version === 'TLS1.2' || r.version === 'TLS1.3'));
          if (!failing || !working) {
            out.bisect = { note: !failing ? 'no legacy attempt failed: nothing to bisect' : 'no modern attempt worked: no working hello to bisect towards' };
          } else {
            const b = await bisectHello(target, { version: failing.version, sni }, { version: working.version, sni }, attemptOpts);
            out.bisect = b as unknown as JsonObject;
          }
        }
      }
      if (d.verdict.code !== 'tls12-ok') ctx.setExitCode(ExitCode.failure);
      if (args.html !== undefined) {
        const html = await import('../html-out.js');
        const { enrichWithChain } = await import('../chain-enrich.js');
        const section = html.diagnoseSection(out, await enrichWithChain(scanToJson(run.scan), run.scan, { host: spec.host, at: args.at, roots: args.roots }));
        await html.writeHtmlReport(ctx, args.html, { title: `tlsprobe diagnose: ${spec.host}:${spec.port}`, command: html.commandLine(), generatedAt: new Date(), sections: [section], raw: out }, [args.roots]);
      }
      if (args.json) {
        ctx.out(JSON.stringify(envelope('diagnose', { results: [out] }), null, 2));
        return;
      }
      const lines: string[] = [];
      lines.push(`${spec.host}:${spec.port}: ${d.verdict.code}`);
      lines.push(d.verdict.summary);
      for (const v of d.secondary) lines.push(`Also: ${v.code}: ${v.summary}`);
      lines.push('Evidence:');
      lines.push(renderTable(['Attempt', 'Outcome', 'Detail', 'ms', 'Bytes'], d.evidence.map((e) => [e.attempt, e.outcome, e.detail, e.elapsedMs === null ? '' : e.elapsedMs.toFixed(1), e.bytesReceived])));
      if (out.client) {
        const c = out.client as JsonObject;
        lines.push(`Client ${String(c.title)}: ${String(c.summary)}`);
      }
      if (out.bisect) {
        const b = out.bisect as { note?: string | null; cause?: { dimension: string; change: string } | null; steps?: { dimension: string; change: string; outcome: string; success: boolean }[]; connections?: number };
        if (b.steps) {
          lines.push('Bisection (one change at a time to the failing hello):');
          lines.push(renderTable(['Dimension', 'Change', 'Outcome'], b.steps.map((s) => [s.dimension, s.change, `${s.outcome}${s.success ? ' (works)' : ''}`])));
        }
        lines.push(b.cause ? `Smallest change that works: ${b.cause.change} (${b.cause.dimension}).` : `Bisection: ${b.note ?? 'no single change made it work'}`);
      }
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
