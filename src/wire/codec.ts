import { Reader, type PrefixWidth } from './reader.js';
import { Writer } from './writer.js';

/** A value that reads and writes itself; the two directions live side by side. */
export interface Codec<T> {
  readonly name: string;
  read(r: Reader): T;
  write(w: Writer, v: T): void;
}

export interface ListBounds {
  /** Minimum byte length of the list body (RFC `<min..max>`). */
  readonly min?: number;
  /** Maximum byte length of the list body. */
  readonly max?: number;
}

/**
 * Reads a `width`-byte length-prefixed list of items (the RFC's `T items<min..max>`), Wireshark's
 * `ssl_add_vector`. Each item is read with `item` until the body is used up.
 */
export function readList<T>(
  r: Reader,
  width: PrefixWidth,
  field: string,
  item: (r: Reader) => T,
  bounds?: ListBounds,
): T[] {
  const body = r.sub(width, field, bounds);
  const out: T[] = [];
  while (body.anyLeft) out.push(item(body));
  return out;
}

/** Writes a `width`-byte length-prefixed list of items. */
export function writeList<T>(
  w: Writer,
  width: PrefixWidth,
  items: readonly T[],
  item: (w: Writer, v: T) => void,
): void {
  w.prefixed(width, (w) => {
    for (const v of items) item(w, v);
  });
}

/** Reads a length-prefixed list of u16 values (cipher suites, groups, signature schemes). */
export function readU16List(r: Reader, width: PrefixWidth, field: string, bounds?: ListBounds): number[] {
  return r.u16List(width, field, bounds);
}

export function writeU16List(w: Writer, width: PrefixWidth, items: readonly number[]): void {
  w.prefixed(width, (w) => {
    for (const v of items) w.u16(v);
  });
}

/** Reads a whole buffer with `codec`, rejecting trailing bytes. */
export function decodeAll<T>(codec: Codec<T>, bytes: Uint8Array, path = codec.name): T {
  const r = new Reader(bytes, path);
  const v = codec.read(r);
  r.end();
  return v;
}

/** Encodes one value with `codec` into fresh bytes. */
export function encodeOne<T>(codec: Codec<T>, v: T): Uint8Array {
  const w = new Writer();
  codec.write(w, v);
  return w.finish();
}
