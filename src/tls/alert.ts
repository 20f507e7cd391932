/**
 * Alert (RFC 8446, Section 6; RFC 5246, Section 7.2):
 *
 *     struct { AlertLevel level; AlertDescription description; } Alert;
 *
 * The alert is the error: its name comes from the registry, unknown values print as hex.
 */
import type { Reader } from '../wire/reader.js';
import type { Writer } from '../wire/writer.js';
import { ALERT_DESCRIPTIONS, ALERT_LEVELS, nameOf } from './registry.js';

export interface Alert {
  /** 1 = warning, 2 = fatal. */
  readonly level: number;
  readonly description: number;
}

/** Returns an Alert read from `r` (2 bytes). */
export function readAlert(r: Reader): Alert {
  return { level: r.u8('level'), description: r.u8('description') };
}

export function writeAlert(w: Writer, a: Alert): void {
  w.u8(a.level).u8(a.description);
}

/** Returns the alert description's registry name, or `alert_0xNN` for unknown values. */
export function alertName(description: number): string {
  return nameOf(ALERT_DESCRIPTIONS, description) ?? `alert_0x${description.toString(16).padStart(2, '0')}`;
}

/** Returns the alert level's name (`warning`, `fatal`) or `level_N`. */
export function alertLevelName(level: number): string {
  return nameOf(ALERT_LEVELS, level) ?? `level_${level}`;
}
