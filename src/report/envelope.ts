/**
 * The envelope of every `--json` / `--ndjson` output: `{ "schemaVersion", "command", … }`, one
 * shape per command whether it covers one target or many (NDJSON lines hold one item each;
 * `capture --ndjson` holds its compact connection, report/capture-compact.ts). The
 * schemas in schemas/ (made by scripts/schemas.mjs, printed by `tlsprobe schema COMMAND`) describe
 * each command's envelope.
 */

/** The version of the output schemas; a change that breaks readers bumps it (scripts/schemas.mjs too). */
export const SCHEMA_VERSION = '1.0';

/** Returns `body` wrapped in the envelope of `command`. */
export function envelope<T extends object>(
  command: string,
  body: T,
): { readonly schemaVersion: string; readonly command: string } & T {
  return { schemaVersion: SCHEMA_VERSION, command, ...body };
}
