/**
 * `--html FILE` for probe, diagnose, clients and capture: builds the report's sections from the
 * command's JSON view (so the page says what `--json` says) and writes the page atomically, never
 * over one of the command's input files.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Json, JsonObject } from '../report/decode-view.js';
import type { HtmlReport, HtmlSection } from '../report/html-report.js';
import { MAX_CAPTURE_RUNGS, attemptLadder, captureLadder, probeLadders } from '../report/ladder.js';
import { summary as probeSummary } from '../report/probe-text.js';
import { renderFixReg, type RegistryCheck } from '../diagnose/registry.js';
import { UserError } from './exit-codes.js';
import type { CliContext } from './context.js';

const s = (v: Json | undefined): string => (v === null || v === undefined ? '' : String(v));

/** Returns the section of one probed target (probe --json's result for it). */
export function probeSection(j: JsonObject): HtmlSection {
  const t = j.target as JsonObject;
  const versions = (j.versions as JsonObject[]) ?? [];
  const error = j.error as JsonObject | undefined;
  const ok = versions.some((v) => v.supported === true && (v.version === 'TLS1.2' || v.version === 'TLS1.3'));
  return {
    heading: `${s(t.host)}:${s(t.port)}${t.address ? ` (${s(t.address)})` : ''}`,
    verdict: error
      ? { code: s(error.code), summary: s(error.message), ok: false }
      : { code: ok ? 'tls12-or-later' : 'no-modern-tls', summary: probeSummary(versions), ok },
    remediation: [],
    regFix: null,
    ladders: probeLadders(j),
    certificates: (j.certificates as JsonObject[]) ?? [],
    chain: (j.chain as JsonObject | undefined) ?? null,
    tables: [],
  };
}

/** Returns the .reg text that sets every registry value the remediation names, or null when it names none. */
export function remediationReg(remediation: readonly JsonObject[]): string | null {
  const checks: RegistryCheck[] = remediation.flatMap((r) =>
    ((r.keys as JsonObject[] | undefined) ?? []).map((k) => ({
      path: s(k.path),
      name: s(k.name),
      expected: Number(k.value),
      actual: null,
      status: 'missing' as const,
    })),
  );
  return checks.length === 0 ? null : renderFixReg(checks);
}

/**
 * Returns the section of a diagnosis (diagnose --json's object); `probe` is its probe with the
 * certificates' fields and the chain check (chain-enrich.ts), when the caller has it.
 */
export function diagnoseSection(d: JsonObject, probe: JsonObject = d.probe as JsonObject): HtmlSection {
  const verdict = d.verdict as JsonObject;
  const remediation = (d.remediation as JsonObject[]) ?? [];
  const evidence = (d.evidence as JsonObject[]) ?? [];
  return {
    ...probeSection(probe),
    verdict: { code: s(verdict.code), summary: s(verdict.summary), ok: verdict.code === 'tls12-ok' },
    remediation: remediation.map((r) => ({ kind: s(r.kind), text: s(r.text) })),
    regFix: remediationReg(remediation),
    tables: [
      {
        caption: 'Evidence',
        head: ['Attempt', 'Outcome', 'Detail', 'ms', 'Bytes'],
        rows: evidence.map((e) => [s(e.attempt), s(e.outcome), s(e.detail), s(e.elapsedMs), s(e.bytesReceived)]),
      },
    ],
  };
}

/** Returns the section of a clients run (clients --json's object); `attempts` are the attempts' JSON views, in the same order, for the ladders. */
export function clientsSection(j: JsonObject, attempts: readonly JsonObject[] = []): HtmlSection {
  const clients = (j.clients as JsonObject[]) ?? [];
  const t = j.target as JsonObject | undefined;
  const failing = clients.filter((c) => c.verdict !== undefined && c.verdict !== 'connects');
  return {
    heading: t ? `${s(t.host)}:${s(t.port)}` : 'Client profiles',
    verdict: t
      ? {
          code: failing.length ? 'clients-fail' : 'all-clients-connect',
          summary: failing.length
            ? `${failing.length} of ${clients.length} simulated clients would fail: ${failing.map((c) => s(c.profile)).join(', ')}`
            : `All ${clients.length} simulated clients connect.`,
          ok: failing.length === 0,
        }
      : null,
    remediation: [],
    regFix: null,
    ladders: attempts.map((a, i) => attemptLadder(s(clients[i]?.profile), a)),
    certificates: [],
    chain: null,
    tables: [
      t
        ? {
            caption: 'Simulated clients',
            head: ['Client', 'Result', 'Error 10054?', 'Detail'],
            rows: clients.map((c) => [s(c.profile), s(c.verdict), c.gets10054 ? 'YES' : 'no', s(c.summary)]),
          }
        : {
            caption: 'Client profiles',
            head: ['Name', 'Client', 'Offers'],
            rows: clients.map((c) => [s(c.name), s(c.title), ((c.versions as string[]) ?? []).join(' ')]),
          },
    ],
  };
}

/** Returns the section of a capture (capture --json's object). */
export function captureSection(file: string, j: JsonObject): HtmlSection {
  const rows = (j.connections as JsonObject[]) ?? [];
  const failed = rows.filter((c) => c.outcome !== 'negotiated');
  const firstCerts = rows.find((c) => Array.isArray(c.certificates) && (c.certificates as JsonObject[]).length > 0);
  return {
    heading: file,
    verdict: {
      code: failed.length ? 'failed-handshakes' : 'all-negotiated',
      summary: `${rows.length} TLS connection(s), ${failed.length} without a completed handshake${failed.length ? `: ${failed.map((c) => `#${s(c.index)} ${s(c.outcome)}`).join(', ')}` : ''}.`,
      ok: failed.length === 0,
    },
    remediation: [],
    regFix: null,
    // The failed connections first: they are what the report is for; a bounded number of ladders.
    ladders: [...failed, ...rows.filter((c) => c.outcome === 'negotiated')]
      .slice(0, MAX_CAPTURE_RUNGS)
      .map(captureLadder),
    certificates: firstCerts ? (firstCerts.certificates as JsonObject[]) : [],
    chain: firstCerts ? ((firstCerts.chain as JsonObject | undefined) ?? null) : null,
    tables: [
      {
        caption: 'Connections',
        head: ['#', 'Client', 'Server', 'SNI', 'Version', 'Cipher suite', 'Outcome'],
        rows: rows.map((c) => [
          s(c.index),
          s(c.client),
          s(c.server),
          s(c.sni),
          s(c.versionName),
          s(c.cipherSuiteName),
          s(c.outcome),
        ]),
      },
    ],
  };
}

/** Throws UserError when `out` names the same file as one of `inputs` (by path, or by inode when both exist). */
export function refuseInputAsOutput(out: string, inputs: readonly (string | undefined)[]): void {
  const target = resolve(out);
  let stat: { dev: number; ino: number } | null = null;
  try {
    stat = statSync(target);
  } catch {
    stat = null;
  }
  for (const input of inputs) {
    if (input === undefined || input === '-' || input === 'system') continue;
    let same = resolve(input) === target;
    if (!same && stat) {
      try {
        const i = statSync(input);
        same = i.dev === stat.dev && i.ino === stat.ino;
      } catch {
        same = false;
      }
    }
    if (same) throw new UserError(`--html ${out}: that is an input file; choose another name`);
  }
}

/**
 * Writes the report to `file` (atomically, 0644: it holds no secret), stamped with the command line
 * and the time, and says so on stderr; throws UserError when it cannot.
 */
export async function writeHtmlReport(
  ctx: CliContext,
  file: string,
  report: Omit<HtmlReport, 'command' | 'generatedAt'>,
  inputs: readonly (string | undefined)[],
): Promise<void> {
  if (file === '') throw new UserError('--html needs a FILE');
  refuseInputAsOutput(file, inputs);
  const [{ renderHtmlReport }, { writeFileAtomic }] = await Promise.all([
    import('../report/html-report.js'),
    import('../io/atomic-file.js'),
  ]);
  try {
    await writeFileAtomic(
      file,
      renderHtmlReport({ ...report, command: commandLine(), generatedAt: new Date() }),
      0o644,
    );
  } catch (e) {
    throw new UserError(`cannot write ${file}: ${(e as Error).message}`);
  }
  ctx.err(`HTML report written to ${file}`);
}

/** Returns the command line as typed, for the report's header. */
export function commandLine(argv: readonly string[] = process.argv.slice(2)): string {
  return ['tlsprobe', ...argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))].join(' ');
}
