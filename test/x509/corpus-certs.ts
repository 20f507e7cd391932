import { readdirSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { pemToDer } from '../../src/x509/pem.js';
import { corpusPath, hasCorpusFile, readCorpusJson } from '../helpers/corpus.js';

/** A certificate from a public source, with where it came from (for failure messages). */
export interface SourcedCert {
  readonly source: string;
  readonly der: Uint8Array;
}

/** Cap on corpus certificates per run: the old limbo.json plus the online cases hold ~530. */
const MAX_CORPUS_CERTS = 2000;

interface LimboCase {
  readonly id: string;
  readonly trusted_certs: readonly string[];
  readonly untrusted_intermediates: readonly string[];
  readonly peer_certificate: string;
  readonly validation_time?: string | null;
  readonly expected_peer_name?: { kind: string; value: string } | null;
}

export const LIMBO_OLD = 'x509-limbo/old-2023-12-02/limbo.json';
export const LIMBO_ONLINE_DIR = 'x509-limbo/limbo/_assets/online';

export const hasLimbo = hasCorpusFile(LIMBO_OLD) && hasCorpusFile(LIMBO_ONLINE_DIR);

/** Returns the online (real-world) limbo cases by file name. */
export function limboOnlineCases(): Map<string, LimboCase> {
  const out = new Map<string, LimboCase>();
  for (const f of readdirSync(corpusPath(LIMBO_ONLINE_DIR)).sort()) {
    if (f.endsWith('.limbo.json')) out.set(f, readCorpusJson<LimboCase>(`${LIMBO_ONLINE_DIR}/${f}`));
  }
  return out;
}

/** Returns every distinct certificate of the limbo corpus (old suite, then online cases), at most MAX_CORPUS_CERTS. */
export function limboCertificates(): SourcedCert[] {
  const cases: [string, LimboCase][] = readCorpusJson<{ testcases: LimboCase[] }>(LIMBO_OLD).testcases.map((t) => [
    t.id,
    t,
  ]);
  for (const [f, t] of limboOnlineCases()) cases.push([f, t]);
  const out: SourcedCert[] = [];
  const seen = new Set<string>();
  for (const [id, t] of cases) {
    for (const pem of [...t.trusted_certs, ...t.untrusted_intermediates, t.peer_certificate]) {
      for (const der of pemToDer(pem)) {
        const key = Buffer.from(der).toString('base64');
        if (seen.has(key) || out.length >= MAX_CORPUS_CERTS) continue;
        seen.add(key);
        out.push({ source: `limbo ${id}`, der });
      }
    }
  }
  return out;
}

/** Returns Node's bundled root certificates. */
export function nodeRootCertificates(): SourcedCert[] {
  return rootCertificates.flatMap((pem, i) =>
    pemToDer(pem).map((der) => ({ source: `tls.rootCertificates[${i}]`, der })),
  );
}
