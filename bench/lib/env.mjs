// What every benchmark file shares: where the built code is (dist/, or --dist DIR), the inputs made
// by scripts/make-bench-inputs.mjs, tool detection, and the reporter that prints each figure (what was
// measured, ours, the baselines, the ratios, targets met / not met) and collects it for --json.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fmtNs, fmtRatio } from './harness.mjs';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const INPUTS = join(REPO, 'bench/inputs');

/** The value after the command-line flag `name` (`--dist DIR`), or undefined. */
export function argValue(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** The compiled library: `--dist DIR`, else $TLSPROBE_BENCH_DIST, else dist/ (what `npm ci` built). */
export const DIST = resolve(REPO, argValue('--dist') ?? process.env.TLSPROBE_BENCH_DIST ?? 'dist');

/** True for `--quick`: fewer samples and smaller loads (a smoke run, figures less stable). */
export const QUICK = process.argv.includes('--quick') || process.env.TLSPROBE_BENCH_QUICK === '1';

/** Returns the module `rel` of the compiled library (e.g. 'x509/der.js'); throws a clear error when dist/ is missing. */
export async function lib(rel) {
  const path = join(DIST, rel);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm ci\` (or \`npm run build\`) first`);
  return import(pathToFileURL(path).href);
}

/** Returns true when `cmd` is on PATH. */
export function hasTool(cmd) {
  return spawnSync('which', [cmd], { stdio: 'ignore' }).status === 0;
}

/** Returns the bytes of a PEM certificate file under bench/inputs. */
export function readPemDer(rel) {
  const pem = readFileSync(join(INPUTS, rel), 'utf8');
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}

/** Returns bench/inputs/messages.json with every hex field as a Uint8Array. */
export function readMessages() {
  const m = JSON.parse(readFileSync(join(INPUTS, 'messages.json'), 'utf8'));
  const bytes = (h) => (h === null ? null : new Uint8Array(Buffer.from(h, 'hex')));
  return {
    clientHellos: m.clientHellos.map((x) => ({ ...x, records: bytes(x.records), message: bytes(x.message) })),
    serverFlights: m.serverFlights.map((x) => ({
      ...x,
      records: bytes(x.records),
      serverHello: bytes(x.serverHello),
      certificate: bytes(x.certificate),
    })),
    certificateMessages: m.certificateMessages.map((x) => ({ ...x, message: bytes(x.message) })),
  };
}

/** Returns the certificate inputs listed in bench/inputs/certs.json. */
export function readCertList() {
  return JSON.parse(readFileSync(join(INPUTS, 'certs.json'), 'utf8')).certs;
}

function pad(s, n) {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/**
 * Returns a reporter for the benchmark group `group`. `report(entry)` prints one figure:
 * entry = { id, title, ours: {name, median, p25, p75}, baselines: [{name, median, ratio, note?}],
 * bytesPerOp?, targets: [{text, met}], notes: [] }; times are ns per op, ratio = baseline / ours.
 * `finish()` writes the collected entries to `--results FILE` when given. Micro-benchmark figures
 * are CPU time per op (see harness.mjs `compare`); whole-process ones are wall-clock.
 */
export function reporter(group) {
  const entries = [];
  const rate = (e, ns) => (e.bytesPerOp ? `  ${((e.bytesPerOp / ns) * 1e3).toFixed(0)} MB/s` : '');
  return {
    report(entry) {
      const e = { group, ...entry };
      entries.push(e);
      const lines = [`\n[${group}] ${e.title}`];
      const o = e.ours;
      if (o)
        lines.push(
          `  ours      ${pad(o.name, 44)} ${pad(fmtNs(o.median), 10)}${o.p25 !== undefined ? ` (p25 ${fmtNs(o.p25)}, p75 ${fmtNs(o.p75)}${o.wall !== undefined ? `; wall ${fmtNs(o.wall)}` : ''})` : ''}${rate(e, o.median)}`,
        );
      for (const b of e.baselines ?? []) {
        if (b.skipped) {
          lines.push(`  baseline  ${pad(b.name, 44)} skipped: ${b.skipped}`);
          continue;
        }
        const rel = b.ratio >= 1 ? `ours ${fmtRatio(b.ratio)} faster` : `ours ${fmtRatio(1 / b.ratio)} slower`;
        lines.push(
          `  baseline  ${pad(b.name, 44)} ${pad(fmtNs(b.median), 10)} ratio ${pad(fmtRatio(b.ratio), 7)} (${rel})${rate(e, b.median)}`,
        );
      }
      for (const t of e.targets ?? [])
        lines.push(`  target    ${pad(t.text, 60)} ${t.met === null ? 'n/a' : t.met ? 'MET' : 'NOT MET'}`);
      for (const n of e.notes ?? []) lines.push(`  note      ${n}`);
      console.log(lines.join('\n'));
    },
    skip(id, title, why) {
      entries.push({ group, id, title, skipped: why });
      console.log(`\n[${group}] ${title}\n  SKIPPED: ${why}`);
    },
    finish() {
      const out = argValue('--results');
      if (out) writeFileSync(out, JSON.stringify(entries));
      return entries;
    },
  };
}
