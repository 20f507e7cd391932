/**
 * The Public Suffix List (tldts), required on first use: only a wildcard dNSName needs it (is the
 * wildcard over a public suffix?), and building its tables cost every chain check ~10 ms of start-up
 * on these machines whether a wildcard came or not (issue 16). tldts has no ES module entry that
 * Node picks (its `main` is CommonJS), so `require` is what `import` would load.
 *
 * The bundled CLI (scripts/build-bundle.mjs) replaces this module with one that requires the
 * installed tldts the same way, at the first call: its ~180 KB stay out of the chain checker's chunk.
 */
import { createRequire } from 'node:module';

export type Tldts = typeof import('tldts');

let tldts: Tldts | undefined;

/** Returns tldts' exports, requiring the package on the first call. */
export function requireTldts(): Tldts {
  tldts ??= createRequire(import.meta.url)('tldts') as Tldts;
  return tldts;
}
