import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where ../shared/corpus lives (public captures and vectors from other projects). Tests read it in
 * place and skip cleanly when it is absent; nothing from it is copied into the repo.
 */
export const CORPUS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus');

export const hasCorpus = existsSync(CORPUS_DIR);

/** Absolute path of a corpus file. */
export function corpusPath(rel: string): string {
  return join(CORPUS_DIR, rel);
}

/** True when the corpus file exists. */
export function hasCorpusFile(rel: string): boolean {
  return existsSync(corpusPath(rel));
}

export function readCorpus(rel: string): Buffer {
  return readFileSync(corpusPath(rel));
}

export function readCorpusJson<T = unknown>(rel: string): T {
  return JSON.parse(readFileSync(corpusPath(rel), 'utf8')) as T;
}

/** The message vitest prints for a skipped corpus test. */
export const NO_CORPUS = `../shared/corpus not found at ${CORPUS_DIR}: corpus tests skipped`;
