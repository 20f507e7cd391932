/**
 * Windows registry exports, read: `parseRegistryText` returns a snapshot of the keys and values in a
 * `.reg` file or in saved `reg query` output and throws `RegistryParseError` (with the 1-based line)
 * on a malformed file; `mergeSnapshots` applies one snapshot on top of another as regedit would.
 *
 * The file is data, never code: values are decoded into numbers, strings and bytes, and nothing in
 * them is evaluated, expanded or passed to a shell.
 *
 * This file decodes the bytes (UTF-16, UTF-8 or the ANSI code page) and tells the formats apart; the
 * header must be the first line, as regedit requires. The grammars, which follow what regedit and
 * `reg import` do on Windows, are reg-file.ts and reg-query.ts; the snapshot they fill is
 * registry-snapshot.ts.
 */
import { HEADER_REG5, HEADER_REGEDIT4, parseRegFile } from './reg-file.js';
import { QUERY_KEY, parseRegQuery } from './reg-query.js';
import { RegistryParseError, type RegistrySnapshot, newKeyTable } from './registry-snapshot.js';

/**
 * Largest file we read. The keys that matter export to a few kilobytes; a whole-hive export of
 * HKLM\SOFTWARE can reach a few hundred megabytes of UTF-16, which we would hold three times over
 * (bytes, text, maps). Past this, the user should export only the relevant keys.
 */
export const MAX_REGISTRY_FILE_BYTES = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Decoding

interface Decoded {
  readonly text: string;
  readonly encoding: RegistrySnapshot['encoding'];
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 0x0a) line++;
  return line;
}

function decodeUtf16(bytes: Uint8Array, start: number, bigEndian: boolean): Decoded {
  const body = bytes.subarray(start);
  const even = body.length - (body.length % 2);
  const text = new TextDecoder(bigEndian ? 'utf-16be' : 'utf-16le').decode(body.subarray(0, even));
  if (body.length % 2 !== 0) {
    throw new RegistryParseError(
      'the file ends in the middle of a UTF-16 character (truncated?)',
      lineOfOffset(text, text.length),
    );
  }
  return { text, encoding: bigEndian ? 'utf-16be' : 'utf-16le' };
}

/**
 * Returns the text of `bytes`: UTF-16LE (regedit's "Windows Registry Editor Version 5.00" exports,
 * PowerShell 5 redirections) or UTF-16BE by BOM or by the zero bytes of ASCII text; UTF-8 with or
 * without BOM; otherwise Windows-1252 (REGEDIT4 exports are in the ANSI code page).
 */
function decodeRegistryBytes(bytes: Uint8Array): Decoded {
  if (bytes.length > MAX_REGISTRY_FILE_BYTES) {
    throw new RegistryParseError(
      `file is ${bytes.length} bytes, more than the ${MAX_REGISTRY_FILE_BYTES}-byte limit: export only the SCHANNEL and .NETFramework keys`,
      0,
    );
  }
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (b0 === 0xff && b1 === 0xfe) return decodeUtf16(bytes, 2, false);
  if (b0 === 0xfe && b1 === 0xff) return decodeUtf16(bytes, 2, true);
  if (bytes.length >= 4 && b0 !== 0 && b1 === 0 && bytes[2] !== 0 && bytes[3] === 0)
    return decodeUtf16(bytes, 0, false);
  if (bytes.length >= 4 && b0 === 0 && b1 !== 0 && bytes[2] === 0 && bytes[3] !== 0) return decodeUtf16(bytes, 0, true);
  const hasBom = b0 === 0xef && b1 === 0xbb && bytes[2] === 0xbf;
  const body = hasBom ? bytes.subarray(3) : bytes;
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(body), encoding: 'utf-8' };
  } catch {
    if (hasBom) {
      const loose = new TextDecoder('utf-8').decode(body);
      throw new RegistryParseError(
        'the file starts with a UTF-8 byte-order mark but is not valid UTF-8',
        lineOfOffset(loose, loose.indexOf('\ufffd')),
      );
    }
    return { text: new TextDecoder('windows-1252').decode(body), encoding: 'windows-1252' };
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Returns the keys and values of a `.reg` export ("Windows Registry Editor Version 5.00" or
 * "REGEDIT4" on the first line; UTF-16LE with BOM as regedit writes it, UTF-8 with or without BOM,
 * or the ANSI code page) or of saved `reg query` output (`reg query KEY [/s]`, several keys and runs
 * concatenated). Throws `RegistryParseError` with the 1-based line of the first malformed line.
 */
export function parseRegistryText(bytes: Uint8Array): RegistrySnapshot {
  const { text, encoding } = decodeRegistryBytes(bytes);
  const lines = text.split(/\r\n|\n|\r/);
  const table = newKeyTable();
  const first = (lines[0] ?? '').trim();
  let format: RegistrySnapshot['format'];
  if (first === HEADER_REG5 || first === HEADER_REGEDIT4) {
    format = first === HEADER_REG5 ? 'reg5' : 'regedit4';
    parseRegFile(lines, format, table);
  } else {
    const at = lines.findIndex((l) => l.trim() !== '');
    if (at < 0) throw new RegistryParseError('the file is empty', 1);
    const line = lines[at]!;
    if (QUERY_KEY.test(line)) {
      format = 'reg-query';
      parseRegQuery(lines, table);
    } else if (line.trim() === HEADER_REG5 || line.trim() === HEADER_REGEDIT4) {
      throw new RegistryParseError(
        `the "${line.trim()}" header must be the first line (regedit rejects blank lines before it)`,
        1,
      );
    } else if (line.trimStart().startsWith('[')) {
      throw new RegistryParseError(
        `missing header: a .reg file starts with "${HEADER_REG5}" (or "${HEADER_REGEDIT4}")`,
        1,
      );
    } else {
      throw new RegistryParseError(`not a .reg export or reg query output: "${line.trim().slice(0, 40)}"`, at + 1);
    }
  }
  return { keys: table.keys, format, deletedKeys: table.deleted, encoding };
}
