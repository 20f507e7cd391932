import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHex } from '../../src/wire/hex.js';

export const FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures');

/** Returns the bytes of an annotated hex fixture (`#` comments ignored). */
export function loadHexFixture(rel: string): Uint8Array {
  return fromHex(readFileSync(join(FIXTURES_DIR, rel), 'utf8'));
}

/** Returns the names of the .hex fixtures in a fixtures subfolder. */
export function listHexFixtures(sub: string): string[] {
  return readdirSync(join(FIXTURES_DIR, sub))
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((f) => `${sub}/${f}`);
}
