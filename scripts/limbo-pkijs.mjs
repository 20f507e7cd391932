#!/usr/bin/env node
// Measures pkijs's CertificateChainValidationEngine against the x509-limbo suite (issue 18, item 1:
// "measure it first"): each SERVER case's chain through the engine (its path building, signatures
// and RFC 5280 checks) at the case's validation time, then — because the engine has no name check —
// the same verdict combined with our RFC 6125 host check. Each case runs in a worker with a time
// limit (the engine's path building does not stop on the pathological cases); a case past it counts
// as a disagreement. Prints agreement and the wrong cases by id. Runs over dist/ (build first).
//
// Usage: node scripts/limbo-pkijs.mjs [LIMBO_JSON] [--list] [--timeout-ms N]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const REPO = resolve(import.meta.dirname, '..');
const dist = (rel) => import(pathToFileURL(resolve(REPO, 'dist', rel)).href);

if (!isMainThread) {
  const { validateChainReference } = await dist('x509/pkijs-adapter.js');
  const { pemToDer } = await dist('x509/pem.js');
  const { parseCertificate } = await dist('x509/der.js');
  const { matchesHostname } = await dist('x509/hostname.js');
  for (const t of workerData.cases) {
    const der = (pems) => pems.flatMap((p) => pemToDer(p));
    const at = t.validation_time ? new Date(t.validation_time) : new Date();
    const leaf = pemToDer(t.peer_certificate)[0];
    const started = performance.now();
    const v = await validateChainReference(leaf, der(t.untrusted_intermediates), der(t.trusted_certs), at);
    let nameOk = true;
    if (t.expected_peer_name) {
      try {
        nameOk = matchesHostname(parseCertificate(leaf), t.expected_peer_name.value);
      } catch {
        nameOk = false;
      }
    }
    parentPort?.postMessage({ id: t.id, valid: v.valid, message: v.message, nameOk, ms: performance.now() - started });
  }
} else {
  const args = process.argv.slice(2);
  const ti = args.indexOf('--timeout-ms');
  const timeoutMs = ti >= 0 ? Number(args[ti + 1]) : 20_000;
  const file =
    args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--timeout-ms') ??
    resolve(REPO, '../shared/corpus/x509-limbo/generated/limbo.json');
  const cases = JSON.parse(readFileSync(file, 'utf8')).testcases.filter((t) => t.validation_kind === 'SERVER');
  const results = new Map();
  let next = 0;
  const t0 = performance.now();
  while (next < cases.length) {
    await new Promise((done) => {
      const w = new Worker(new URL(import.meta.url), { workerData: { cases: cases.slice(next) } });
      let timer;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          results.set(cases[next].id, {
            id: cases[next].id,
            valid: null,
            message: `no answer within ${timeoutMs} ms`,
            nameOk: true,
          });
          next++;
          w.terminate();
        }, timeoutMs);
      };
      arm();
      w.on('message', (m) => {
        results.set(m.id, m);
        next++;
        arm();
      });
      w.on('exit', () => {
        clearTimeout(timer);
        done(undefined);
      });
      w.on('error', (e) => {
        results.set(cases[next].id, { id: cases[next].id, valid: false, message: String(e), nameOk: true });
        next++;
      });
    });
  }
  let engineAgree = 0;
  let combinedAgree = 0;
  const wrong = [];
  for (const t of cases) {
    const m = results.get(t.id);
    const expected = t.expected_result === 'SUCCESS';
    if (m.valid === expected) engineAgree++;
    const combined = m.valid === null ? null : m.valid && m.nameOk;
    if (combined === expected) combinedAgree++;
    else
      wrong.push(
        `${combined === null ? 'timeout' : combined ? 'false accept' : 'false reject'} ${t.id}${combined === false ? `: ${m.message || 'name'}` : combined === null ? `: ${m.message}` : ''}`,
      );
  }
  const pct = (n) => `${((100 * n) / cases.length).toFixed(1)}%`;
  const count = (p) => wrong.filter((w) => w.startsWith(p)).length;
  console.log(
    `pkijs CertificateChainValidationEngine on ${cases.length} server cases (${((performance.now() - t0) / 1000).toFixed(1)} s, ${timeoutMs} ms limit per case)`,
  );
  console.log(`  engine alone:            ${engineAgree}/${cases.length} agree (${pct(engineAgree)})`);
  console.log(
    `  engine + our name check: ${combinedAgree}/${cases.length} agree (${pct(combinedAgree)}): ${count('false accept')} false accepts, ${count('false reject')} false rejects, ${count('timeout')} past the time limit`,
  );
  if (args.includes('--list')) for (const w of wrong) console.log(`  ${w}`);
}
