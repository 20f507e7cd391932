/** Date options of the CLI. */
import { UserError } from './exit-codes.js';

/** Returns the Date for `--at`, or throws UserError. */
export function atOption(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new UserError(`--at "${value}" is not a date (use ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z)`);
  return d;
}
