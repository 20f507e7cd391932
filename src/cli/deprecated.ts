/** Old option spellings kept working for a while: hidden from --help, and warned about on use. */
import { UserError } from './exit-codes.js';
import type { CliContext } from './context.js';

/**
 * Returns the option's value from its current spelling, else from its deprecated one (after a
 * warning on stderr naming the new spelling); throws UserError when both are given.
 */
export function deprecatedAlias(
  ctx: CliContext,
  current: string | undefined,
  old: string | undefined,
  oldName: string,
  newName: string,
): string | undefined {
  if (old === undefined) return current;
  if (current !== undefined) throw new UserError(`give ${newName} only (${oldName} is its old spelling)`);
  ctx.err(`tlsprobe: warning: ${oldName} is deprecated here, use ${newName}`);
  return old;
}
