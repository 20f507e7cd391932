/** Input and output helpers shared by commands: read a file or stdin, turn hex text into bytes, check an output path. */
import { accessSync, constants as fsConstants, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { fromHex } from '../wire/hex.js';
import { UserError } from './exit-codes.js';

/** Largest input file we read whole. Handshake dumps are kilobytes; captures go through the streaming reader. */
export const MAX_INPUT_FILE = 64 * 1024 * 1024;

/**
 * Returns why a file could not be read, in words, for an error line: the common errno codes named,
 * anything else as `fallback` (the error's own message, or its code).
 */
export function readFailureText(code: string | undefined, fallback: string): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return fallback;
  }
}

/** Returns the bytes of FILE (`-` for stdin); throws UserError when it cannot be read. */
export function readInput(file: string): Uint8Array {
  try {
    const buf = file === '-' ? readFileSync(0) : readFileSync(file, { flag: 'r' });
    if (buf.length > MAX_INPUT_FILE) throw new UserError(`${file}: larger than ${MAX_INPUT_FILE} bytes`);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new UserError(
      `cannot read ${file === '-' ? 'standard input' : file}: ${readFailureText(err.code, err.message)}`,
    );
  }
}

/** ASCII whitespace as `\s` matches it in hex text: tab, LF, VT, FF, CR, space. */
const isSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);
const isHexDigit = (b: number): boolean => (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66);

/**
 * True when `bytes` is hex text: hex digits, whitespace and `:`, with `#` comments to the end of a
 * line. One pass, no regular expression: a backtracking pattern over a few MB of text overflowed
 * the stack (issue 14).
 */
export function isHexText(bytes: Uint8Array): boolean {
  let comment = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (comment) {
      if (b === 0x0a) comment = false;
    } else if (b === 0x23) comment = true;
    else if (!isHexDigit(b) && !isSpace(b) && b !== 0x3a) return false;
  }
  return true;
}

/**
 * Returns `bytes` decoded from hex when the input is hex text (hex digits, whitespace, `:` and `#`
 * comments), else the bytes unchanged.
 */
export function hexOrBinary(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) return bytes;
  if (!isHexText(bytes)) return bytes;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
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

/** How an output path may treat a file already there. */
export type ExistingFile = 'replace' | 'append' | 'refuse';

/**
 * Checks, before any work, that `path` (given with `option`) can be written: its directory exists
 * and is writable, it is not a directory, it is none of the command's `inputs` (the same file by
 * device and inode, links included), and with `existing: 'refuse'` no file is there yet. Throws
 * UserError naming the option and the path; returns nothing.
 */
export function checkOutputPath(
  path: string,
  option: string,
  opts: { readonly existing: ExistingFile; readonly inputs?: readonly string[] },
): void {
  const where = `${option} ${path}`;
  if (path === '') throw new UserError(`${option} needs a FILE`);
  let target: Stats | null = null;
  try {
    target = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new UserError(`${where}: ${errnoWords(e)}`);
  }
  if (target?.isDirectory()) throw new UserError(`${where}: is a directory (give a file name)`);
  for (const input of opts.inputs ?? []) {
    if (input === '-' || input === '') continue;
    const st = statOrNull(input);
    if (st && target && st.dev === target.dev && st.ino === target.ino) {
      throw new UserError(
        `${where}: is the input file ${input}; tlsprobe never writes over its input (choose another name)`,
      );
    }
  }
  if (target && opts.existing === 'refuse')
    throw new UserError(`${where}: the file exists; give another name, or --force to replace it`);
  const dir = dirname(resolvePath(path));
  const dirStat = statOrNull(dir);
  if (!dirStat) throw new UserError(`${where}: the directory ${dir} does not exist`);
  if (!dirStat.isDirectory()) throw new UserError(`${where}: ${dir} is not a directory`);
  try {
    // The atomic writer creates a temporary file beside the target, then renames it: it needs the directory.
    accessSync(dir, fsConstants.W_OK);
    if (target) accessSync(path, fsConstants.W_OK);
  } catch (e) {
    throw new UserError(`${where}: ${errnoWords(e)}`);
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function errnoWords(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM'
    ? 'permission denied'
    : code === 'ENOTDIR'
      ? 'a part of the path is not a directory'
      : code === 'EROFS'
        ? 'read-only file system'
        : (e as Error).message;
}
