#!/usr/bin/env node
// Certificate facts: our DER walker (src/x509/der.ts parseCertificate) reading subject, issuer,
// validity, SHA-1 and SHA-256, side by side with node:crypto X509Certificate (OpenSSL) reading the same
// fields, raw pkijs (Certificate.fromBER + names + node:crypto hashes) and our pkijs adapter
// (parseCertificateReference, every CertInfo field). One leaf per key type, plus the lab chain.
// Issue 7 targets: ≥ 20× node:crypto, ≥ 100× pkijs.
import { X509Certificate, hash } from 'node:crypto';
import * as pkijs from 'pkijs';
import { compare, DEFAULT_SAMPLING, fmtNs, warmUp } from './lib/harness.mjs';
import { QUICK, lib, readCertList, readPemDer, reporter } from './lib/env.mjs';

const { parseCertificate } = await lib('x509/der.js');
const { toPlainCertInfo } = await lib('x509/der-cert-info.js');
const { parseCertificateReference } = await lib('x509/pkijs-adapter.js');

const NODE_TARGET = 20;
const PKIJS_TARGET = 100;
const sampling = QUICK ? { samples: 7, sampleMs: 4, warmupMs: 60 } : DEFAULT_SAMPLING;
const r = reporter('x509');

/** The fields the issue names, read from our CertInfo. */
function oursFields(der) {
  const c = parseCertificate(der);
  return (
    c.subject.rfc4514.length +
    c.issuer.rfc4514.length +
    (c.notBefore.getTime() < c.notAfter.getTime() ? 1 : 0) +
    c.sha1.length +
    c.sha256.length
  );
}

/** The same fields through node:crypto (OpenSSL d2i_X509 + X509_NAME_print + X509_digest). */
function nodeFields(der) {
  const x = new X509Certificate(der);
  return (
    x.subject.length +
    x.issuer.length +
    x.validFrom.length +
    x.validTo.length +
    x.fingerprint.length +
    x.fingerprint256.length
  );
}

function pkijsName(name) {
  return name.typesAndValues.map((tv) => `${tv.type}=${tv.value.valueBlock.value}`).join(',');
}

/** The same fields through pkijs directly: fromBER, names as type=value text, validity, node:crypto hashes. */
function pkijsFields(der) {
  const c = pkijs.Certificate.fromBER(der);
  return (
    pkijsName(c.subject).length +
    pkijsName(c.issuer).length +
    (c.notBefore.value < c.notAfter.value ? 1 : 0) +
    hash('sha1', der, 'hex').length +
    hash('sha256', der, 'hex').length
  );
}

/** The same fields through our pkijs adapter (it decodes every CertInfo field eagerly). */
function adapterFields(der) {
  const c = parseCertificateReference(der);
  return (
    c.subject.rfc4514.length +
    c.issuer.rfc4514.length +
    (c.notBefore.getTime() < c.notAfter.getTime() ? 1 : 0) +
    c.sha1.length +
    c.sha256.length
  );
}

/** Returns disagreements between the decoders on this certificate (the figures mean nothing if they disagree). */
function crossCheck(der) {
  const ours = parseCertificate(der);
  const x = new X509Certificate(der);
  const ref = parseCertificateReference(der);
  const problems = [];
  if (ours.sha256 !== x.fingerprint256.replace(/:/g, '').toLowerCase())
    problems.push('sha256 differs from node:crypto');
  if (ours.sha1 !== x.fingerprint.replace(/:/g, '').toLowerCase()) problems.push('sha1 differs from node:crypto');
  if (ours.notAfter.getTime() !== new Date(x.validTo).getTime()) problems.push('notAfter differs from node:crypto');
  if (ours.subject.rfc4514 !== ref.subject.rfc4514) problems.push('subject differs from the pkijs adapter');
  if (ours.issuer.rfc4514 !== ref.issuer.rfc4514) problems.push('issuer differs from the pkijs adapter');
  if (pkijs.Certificate.fromBER(der).notAfter.value.getTime() !== ours.notAfter.getTime())
    problems.push('notAfter differs from pkijs');
  return problems;
}

const certs = readCertList().filter(
  (c) => c.tool === 'openssl' || c.role === 'leaf' || (QUICK ? false : c.role === 'intermediate'),
);
// Warm the JIT on every certificate first, so no figure is taken on cold code (see tls.mjs).
{
  const ders = certs.map((c) => readPemDer(c.file));
  warmUp(QUICK ? 300 : 600, () => ders.reduce((n, der) => n + oursFields(der) + nodeFields(der), 0));
}
const nodeRatios = [];
const pkijsRatios = [];
for (const c of QUICK
  ? certs.filter((x) => ['rsa-2048', 'ec-p256', 'ed25519'].includes(x.keyType) && x.tool === 'openssl' && x.sans === 2)
  : certs) {
  const der = readPemDer(c.file);
  const label = `${c.file.replace(/^certs\/|\.pem$/g, '')} (${der.length} B)`;
  const problems = crossCheck(der);
  const [ours, node, raw, adapter] = compare(
    [
      { name: 'parseCertificate (der.ts)', fn: () => oursFields(der) },
      { name: 'node:crypto X509Certificate', fn: () => nodeFields(der) },
      { name: 'pkijs Certificate.fromBER + hashes', fn: () => pkijsFields(der) },
      { name: 'parseCertificateReference (pkijs adapter)', fn: () => adapterFields(der) },
    ],
    sampling,
  );
  nodeRatios.push(node.ratio);
  pkijsRatios.push(raw.ratio);
  r.report({
    id: `x509/fields/${label.split(' ')[0]}`,
    title: `certificate → subject, issuer, validity, SHA-1, SHA-256: ${label}`,
    input: c,
    ours,
    baselines: [node, raw, adapter],
    targets: [
      { text: `≥ ${NODE_TARGET}× node:crypto X509Certificate`, met: node.ratio >= NODE_TARGET },
      { text: `≥ ${PKIJS_TARGET}× pkijs`, met: raw.ratio >= PKIJS_TARGET },
    ],
    notes: problems.length ? [`DECODERS DISAGREE: ${problems.join('; ')}`] : [],
  });
}

const geomean = (xs) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
r.report({
  id: 'x509/fields/summary',
  title: `summary over ${nodeRatios.length} certificates (ratios: geometric mean, worst)`,
  targets: [
    {
      text: `≥ ${NODE_TARGET}× node:crypto on every certificate (worst ${Math.min(...nodeRatios).toFixed(1)}×, geomean ${geomean(nodeRatios).toFixed(1)}×)`,
      met: Math.min(...nodeRatios) >= NODE_TARGET,
    },
    {
      text: `≥ ${PKIJS_TARGET}× pkijs on every certificate (worst ${Math.min(...pkijsRatios).toFixed(0)}×, geomean ${geomean(pkijsRatios).toFixed(0)}×)`,
      met: Math.min(...pkijsRatios) >= PKIJS_TARGET,
    },
  ],
  summary: {
    nodeWorst: Math.min(...nodeRatios),
    nodeGeomean: geomean(nodeRatios),
    pkijsWorst: Math.min(...pkijsRatios),
    pkijsGeomean: geomean(pkijsRatios),
  },
});

// Where the time goes on one typical leaf: the walk alone, the walk + names, the hashes alone, and
// every field (what `chain` and `probe --json` read).
{
  const der = readPemDer('certs/rsa-2048.pem');
  const parts = compare(
    [
      { name: 'parseCertificate only (walk, lazy fields)', fn: () => parseCertificate(der).version },
      // biome-ignore lint/correctness/noConstantCondition: compare() needs a number from every fn; the constructor is what is timed
      { name: 'new X509Certificate only', fn: () => (new X509Certificate(der) ? 1 : 0) },
      { name: 'pkijs Certificate.fromBER only', fn: () => pkijs.Certificate.fromBER(der).version },
      {
        name: 'parseCertificate + subject + issuer text',
        fn: () => {
          const c = parseCertificate(der);
          return c.subject.rfc4514.length + c.issuer.rfc4514.length;
        },
      },
      {
        name: 'SHA-1 + SHA-256 of the DER (node:crypto)',
        fn: () => hash('sha1', der, 'hex').length + hash('sha256', der, 'hex').length,
      },
      {
        name: 'parseCertificate + every CertInfo field',
        fn: () => Object.keys(toPlainCertInfo(parseCertificate(der))).length,
      },
      { name: 'parseCertificateReference (every field)', fn: () => Object.keys(parseCertificateReference(der)).length },
    ],
    sampling,
  );
  r.report({
    id: 'x509/parts/rsa-2048',
    title: `cost breakdown on rsa-2048 leaf (${der.length} B): walk only, walk + names, hashes only, every field`,
    ours: parts[0],
    baselines: parts.slice(1),
    targets: [],
    notes: [
      'ratios here are relative to our walk alone (not a target)',
      `of the five-field figure: walk ${fmtNs(parts[0].median)}, subject + issuer text ${fmtNs(parts[3].median - parts[0].median)}, SHA-1 + SHA-256 ${fmtNs(parts[4].median)}`,
    ],
  });
}

r.finish();
