/** Input helpers shared by commands: read a file or stdin, turn hex text into bytes. */
import { readFileSync } from 'node:fs';
import { fromHex } from '../wire/hex.js';
import { UserError } from './exit-codes.js';

/** Largest input file we read whole. Handshake dumps are kilobytes; captures go through the streaming reader. */
export const MAX_INPUT_FILE = 64 * 1024 * 1024;

/** Returns the bytes of FILE (`-` for stdin); throws UserError when it cannot be read. */
export function readInput(file: string): Uint8Array {
  try {
    const buf = file === '-' ? readFileSync(0) : readFileSync(file, { flag: 'r' });
    if (buf.length > MAX_INPUT_FILE) throw new UserError(`${file}: larger than ${MAX_INPUT_FILE} bytes`);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new UserError(`cannot read ${file === '-' ? 'standard input' : file}: ${why}`);
  }
}

/**
 * Returns `bytes` decoded from hex when the input is hex text (hex digits, whitespace, `:` and `#`
 * comments), else the bytes unchanged.
 */
export function hexOrBinary(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) return bytes;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (!/^(?:[0-9a-fA-F\s:]|#[^\n]*)*$/.test(text)) return bytes;
  try {
    return fromHex(text);
  } catch (e) {
    throw new UserError(`input looks like hex text but is not: ${(e as Error).message}`);
  }
}

/** Returns bytes from a `--hex` argument; throws UserError on bad hex. */
export function parseHexArgument(hex: string): Uint8Array {
  try {
    return fromHex(hex);
  } catch (e) {
    throw new UserError(`--hex: ${(e as Error).message}`);
  }
}
