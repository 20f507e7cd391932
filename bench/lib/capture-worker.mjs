// One capture analysis in a fresh process (so that its peak RSS is its own), the way `tlsprobe
// capture` reads a file: openCaptureFile (1 MiB chunks) → analyzeCapture with onConnection, so no
// connection is kept once reported. Prints one JSON line:
// { mode, wallMs, cpuMs, bytes, packets, connections, serverHellos, negotiated, certificateMessages,
//   certificates, decrypted, distinctCertificates, serials (distinct, sorted), rssKiB, rssIdleKiB }.
// Usage: node bench/lib/capture-worker.mjs MODE FILE [--dist DIR]
//   facts  every connection's facts, and every server certificate through parseCertificate with its
//          subject and issuer text, validity, serial, SHA-1 and SHA-256 thumbprints read (the getters
//          are lazy: reading them is what makes the work happen)
//   json   what `tlsprobe capture --json` computes per connection: connectionToJson (hellos with
//          JA3/JA3S/JA4, every certificate decoded, the chain checked with its signatures; one
//          assessor for the run, with its certificate and chain caches, as the CLI has) and
//          JSON.stringify, without writing the text out
import { statSync } from 'node:fs';
import { lib } from './env.mjs';

const [mode, file] = process.argv.slice(2);
// --no-verdict-cache: every chain's signatures checked again (src/x509/signature.ts caches the
// verdict per (certificate, issuer) pair for the whole process: a capture of a few distinct chains
// is otherwise checked a few times in all).
const noVerdictCache = process.argv.includes('--no-verdict-cache');
if (mode !== 'facts' && mode !== 'json') throw new Error(`unknown mode ${mode}: use facts or json`);
const { openCaptureFile } = await lib('capture/source.js');
const { analyzeCapture } = await lib('capture/sessions.js');
const { parseCertificate } = await lib('x509/der.js');
const { connectionToJson } = await lib('report/capture-view.js');
if (noVerdictCache) (await lib('x509/signature.js')).setSignatureVerdictCache(false);
const { assessConnection, createAssessor } = await lib('capture/assess.js');
// Builds before issue 15 have no assessor: every connection assessed from scratch, as they did.
const assessor = createAssessor ? createAssessor() : null;
const assess = (c) => (assessor ? assessor.assess(c) : assessConnection(c));
const rssIdleKiB = process.resourceUsage().maxRSS;

const counts = {
  connections: 0,
  serverHellos: 0,
  negotiated: 0,
  certificateMessages: 0,
  certificates: 0,
  decrypted: 0,
};
const thumbprints = new Set();
const serials = new Set();
let sink = 0;

function facts(c) {
  for (const der of c.certificates) {
    const cert = parseCertificate(der);
    sink +=
      cert.subject.rfc4514.length +
      cert.issuer.rfc4514.length +
      (cert.notBefore < cert.notAfter ? 1 : 0) +
      cert.sha1.length;
    thumbprints.add(cert.sha256);
    serials.add(cert.serialNumber);
  }
}

function json(c) {
  const j = connectionToJson(c, assess(c));
  sink += JSON.stringify(j).length;
  for (const cert of j.certificates) {
    thumbprints.add(cert.sha256);
    serials.add(cert.serialNumber);
  }
}

const c0 = process.cpuUsage();
const t0 = performance.now();
const result = await analyzeCapture(openCaptureFile(file), {
  onConnection(c) {
    counts.connections++;
    if (c.serverHello) counts.serverHellos++;
    if (c.outcome === 'negotiated') counts.negotiated++;
    if (c.certificates.length > 0) counts.certificateMessages++;
    counts.certificates += c.certificates.length;
    if (c.decryption?.status === 'decrypted') counts.decrypted++;
    (mode === 'facts' ? facts : json)(c);
  },
});
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(c0);
process.stdout.write(
  `${JSON.stringify({
    mode,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1e3,
    bytes: statSync(file).size,
    packets: result.stats.packets,
    ...counts,
    distinctCertificates: thumbprints.size,
    serials: [...serials].sort(),
    sink,
    rssKiB: process.resourceUsage().maxRSS,
    rssIdleKiB,
  })}\n`,
);
