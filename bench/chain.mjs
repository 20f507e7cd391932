#!/usr/bin/env node
// Chain checking (issue 18): what RFC 5280 path validation and path building cost.
//  1. The ordinary chain (the lab's leaf + intermediate, its root trusted, host checked): checkChain
//     per call, DER in (parsing included, signature verdicts cached as in a scan or a capture).
//     Run once on this build and once with --dist on a build from before issue 18 for the
//     before/after figure.
//  2. Every pathological and denial-of-service case of x509-limbo (name-constraint blow-ups, long
//     and cyclic chains): the first (cold) call and the median of later calls. Target: each < 100 ms.
//     Skipped when ../shared/corpus is absent.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compare, DEFAULT_SAMPLING, fmtNs, summarize, warmUp } from './lib/harness.mjs';
import { QUICK, REPO, lib, reporter } from './lib/env.mjs';

const { checkChain } = await lib('x509/chain.js');
const { pemToDer } = await lib('x509/pem.js');
const { parseCertificate } = await lib('x509/der.js');
const { toTrustedRoot } = await lib('x509/roots.js');
const { generateLabPki } = await lib('lab/pki.js');

const PATHOLOGICAL_TARGET_MS = 100;
const sampling = QUICK ? { samples: 7, sampleMs: 4, warmupMs: 60 } : DEFAULT_SAMPLING;
const r = reporter('chain');

// 1. The ordinary chain.
{
  const pki = await generateLabPki({ keyAlgorithm: 'rsa-2048' });
  const ders = [pki.leaf.der, pki.intermediate.der];
  const roots = [toTrustedRoot(parseCertificate(pki.root.der))];
  const at = new Date(pki.leaf.notBefore.getTime() + 86_400_000);
  const check = () => checkChain(ders, { roots, at, host: 'localhost' });
  const first = check();
  if (!first.verified || first.findings.some((f) => f.severity === 'error'))
    throw new Error(`the lab chain does not validate: ${JSON.stringify(first.findings)}`);
  warmUp(QUICK ? 200 : 500, () => check().certificates.length);
  const [ours, parse] = compare(
    [
      { name: 'checkChain (parse, build, validate, name)', fn: () => check().certificates.length },
      {
        name: 'parseCertificate of the same two DERs',
        fn: () => ders.reduce((n, d) => n + parseCertificate(d).version, 0),
      },
    ],
    sampling,
  );
  r.report({
    id: 'chain/ordinary/lab-rsa-2048',
    title: `ordinary chain: lab leaf + intermediate (RSA 2048) to a given root, host localhost (${ders.length} certificates sent)`,
    ours,
    baselines: [parse],
    targets: [],
    notes: [
      'run with --dist on a pre-issue-18 build for the "before" figure; the baseline is the parse alone (the ratio is parse / check)',
    ],
  });
}

// 2. The pathological cases of x509-limbo.
const LIMBO = join(REPO, '../shared/corpus/x509-limbo/generated/limbo.json');
if (!existsSync(LIMBO)) {
  r.skip('chain/pathological', 'x509-limbo pathological cases', `${LIMBO} not found`);
} else {
  const cases = JSON.parse(readFileSync(LIMBO, 'utf8')).testcases.filter(
    (t) =>
      t.validation_kind === 'SERVER' && (t.id.startsWith('pathological::') || t.features.includes('denial-of-service')),
  );
  const rows = [];
  for (const t of cases) {
    const roots = t.trusted_certs.flatMap((p) => pemToDer(p)).map((d) => toTrustedRoot(parseCertificate(d)));
    const ders = [...pemToDer(t.peer_certificate), ...t.untrusted_intermediates.flatMap((p) => pemToDer(p))];
    const opts = {
      roots,
      ...(t.validation_time ? { at: new Date(t.validation_time) } : {}),
      ...(t.expected_peer_name ? { host: t.expected_peer_name.value } : {}),
    };
    // CPU time (this process), as the harness measures: on a shared machine the wall clock also
    // counts the time other processes held the cores.
    const cpuMs = (fn) => {
      const s = process.cpuUsage();
      const w = performance.now();
      fn();
      const u = process.cpuUsage(s);
      return { cpu: (u.user + u.system) / 1000, wall: performance.now() - w };
    };
    const cold = cpuMs(() => checkChain(ders, opts));
    const warm = [];
    for (let i = 0; i < (QUICK ? 3 : 9); i++) warm.push(cpuMs(() => checkChain(ders, opts)).cpu);
    rows.push({ id: t.id, sent: ders.length, coldMs: cold.cpu, coldWallMs: cold.wall, warmMs: summarize(warm).median });
  }
  const worst = Math.max(...rows.map((x) => x.coldMs));
  r.report({
    id: 'chain/pathological',
    title: `x509-limbo pathological/denial-of-service cases (${rows.length}): CPU time of the first call and median of later calls`,
    ours: { name: 'slowest case, first call (CPU)', median: worst * 1e6 },
    baselines: [],
    targets: [{ text: `every case < ${PATHOLOGICAL_TARGET_MS} ms (first call)`, met: worst < PATHOLOGICAL_TARGET_MS }],
    notes: rows.map(
      (x) =>
        `${x.id.padEnd(64)} ${String(x.sent).padStart(3)} sent  first ${fmtNs(x.coldMs * 1e6).padStart(9)} (wall ${fmtNs(x.coldWallMs * 1e6).padStart(9)})  later ${fmtNs(x.warmMs * 1e6).padStart(9)}`,
    ),
  });
}

r.finish();
