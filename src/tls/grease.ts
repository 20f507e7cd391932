/**
 * GREASE (RFC 8701): `isGrease(v)` returns whether a 16-bit code point is one of the reserved GREASE
 * values; nothing here throws.
 *
 * RFC 8701 §2 reserves the sixteen values {0x0A,0x0A}, {0x1A,0x1A}, … {0xFA,0xFA} for cipher suites,
 * extensions, named groups, signature algorithms and versions. Clients send them at random so that
 * servers which choke on unknown values are found early; an analyzer should name them, not flag them as
 * unknown. The one-byte GREASE values for PskKeyExchangeModes and the ALPN identifiers (RFC 8701 §2,
 * 0x0B, 0x2A, …) are not covered here.
 */

/** RFC 8701 §2: the sixteen 16-bit GREASE values, ascending (0x0a0a, 0x1a1a, … 0xfafa). */
export const GREASE_VALUES: readonly number[] = Object.freeze(
  Array.from({ length: 16 }, (_, i) => (((i << 4) | 0x0a) << 8) | (i << 4) | 0x0a),
);

/**
 * Returns true when `v` is a 16-bit GREASE value (RFC 8701 §2): both bytes equal and of the form 0x?A.
 * Anything that is not an integer in 0..0xffff is not GREASE.
 */
export function isGrease(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffff && (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}
