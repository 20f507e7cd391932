/**
 * DER that hurts a parser, for the hostile lab's certificate behaviours and the parser's cap tests:
 * nesting far past any sane depth, and lengths that contradict each other.
 */
import { concatBytes } from '../wire/hex.js';

/**
 * Returns `levels` nested DER SEQUENCEs (X.690, Section 8.9), each with a correct, minimal length
 * (short form below 128, else the fewest long-form octets: X.690, Section 10.1).
 */
export function deepDer(levels: number): Uint8Array {
  // Inside out: the innermost SEQUENCE is empty, each level wraps the total so far.
  const headers: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < levels; i++) {
    const h =
      total < 0x80
        ? [0x30, total]
        : total < 0x100
          ? [0x30, 0x81, total]
          : total < 0x10000
            ? [0x30, 0x82, total >> 8, total & 0xff]
            : [0x30, 0x83, total >> 16, (total >> 8) & 0xff, total & 0xff];
    headers.push(Uint8Array.from(h));
    total += h.length;
  }
  return concatBytes(...headers.reverse());
}

/** Certificates whose DER lengths contradict each other: inner longer than outer, lengths past the end, indefinite form. */
export function inconsistentDer(): Uint8Array[] {
  return [
    // SEQUENCE of 5 holding a SEQUENCE that claims 16 bytes.
    Uint8Array.from([0x30, 0x05, 0x30, 0x10, 0x02, 0x01, 0x00]),
    // A length that runs past the end of the data.
    Uint8Array.from([0x30, 0x82, 0xff, 0xff, 0x30, 0x00]),
    // BER indefinite length, which DER forbids (X.690, Section 10.1).
    Uint8Array.from([0x30, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00]),
    // A non-minimal length (X.690, Section 10.1): 0x81 0x03 for 3.
    Uint8Array.from([0x30, 0x81, 0x03, 0x02, 0x01, 0x00]),
  ];
}
