/** Hex helpers (Node 20 has no Uint8Array.prototype.toHex). */

/** Returns the lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Returns the bytes of a hex string. Whitespace, `:` separators and `#` comments to end of line are
 * ignored, so annotated fixtures load directly. Throws `TypeError` on anything else.
 */
export function fromHex(text: string): Uint8Array {
  const clean = text
    .replace(/#[^\n]*/g, '')
    .replace(/0x/gi, '')
    .replace(/[\s:,]/g, '');
  if (clean.length % 2 !== 0) throw new TypeError(`hex text has an odd number of digits (${clean.length})`);
  if (!/^[0-9a-fA-F]*$/.test(clean)) {
    const bad = /[^0-9a-fA-F]/.exec(clean);
    throw new TypeError(`hex text has a non-hex character ${JSON.stringify(bad?.[0] ?? '')}`);
  }
  const buf = Buffer.from(clean, 'hex');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** True when both arrays hold the same bytes. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  // Short arrays (randoms, sentinels) compare faster in a loop than through two Buffer views.
  if (a.byteLength <= 64) {
    for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Concatenates byte arrays into a new one. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
