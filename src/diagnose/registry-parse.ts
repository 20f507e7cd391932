/**
 * Windows registry exports, read: `parseRegistryText` returns a snapshot of the keys and values in a
 * `.reg` file or in saved `reg query` output and throws `RegistryParseError` (with the 1-based line)
 * on a malformed file; `mergeSnapshots` applies one snapshot on top of another as regedit would.
 *
 * The file is data, never code: values are decoded into numbers, strings and bytes, and nothing in
 * them is evaluated, expanded or passed to a shell.
 *
 * Parsing rules follow what regedit / `reg import` do on Windows, as recorded by Wine's conformance
 * tests (wine programs/reg/tests/import.c, run against Windows): the header must be the first line;
 * `;` comments may end a value line, `#` comments only stand on their own line; `dword:` takes 1 to
 * 8 hex digits; hex data continues onto the next line after `,\`; strings end on their line. Where
 * Windows skips a line it cannot read (and `reg import` still reports success), we stop with an
 * error naming the line, because a skipped line is a setting the user believes is applied and is not.
 */
/**
 * Largest file we read. The keys that matter export to a few kilobytes; a whole-hive export of
 * HKLM\SOFTWARE can reach a few hundred megabytes of UTF-16, which we would hold three times over
 * (bytes, text, maps). Past this, the user should export only the relevant keys.
 */
export const MAX_REGISTRY_FILE_BYTES = 64 * 1024 * 1024;

/** Thrown for a file that is not a readable `.reg` export or `reg query` output. */
export class RegistryParseError extends Error {
  override readonly name = 'RegistryParseError';
  readonly code = 'registry-parse' as const;
  /** 1-based line of the problem; 0 when it concerns the whole file (size, encoding). */
  readonly line: number;
  /** The message without the line prefix. */
  readonly detail: string;

  constructor(detail: string, line: number) {
    super(line > 0 ? `line ${line}: ${detail}` : detail);
    this.line = line;
    this.detail = detail;
  }

  toJSON(): { code: 'registry-parse'; line: number; message: string } {
    return { code: this.code, line: this.line, message: this.detail };
  }
}

/** One registry value as the file states it. */
export interface RegValue {
  /**
   * `dword` (REG_DWORD, value a number), `qword` (REG_QWORD: a number when at most 2^53 - 1, else
   * its 8 little-endian bytes), `string` / `expand` (REG_SZ / REG_EXPAND_SZ), `multi` (REG_MULTI_SZ,
   * a string array), `binary` (REG_BINARY bytes), `delete` (`"Name"=-`, value null), `other` (any
   * other type: bytes, or the text `reg query` printed).
   */
  readonly type: 'dword' | 'qword' | 'string' | 'expand' | 'multi' | 'binary' | 'delete' | 'other';
  readonly value: number | string | string[] | Uint8Array | null;
  /** The REG_* type number (REG_SZ = 1, REG_DWORD = 4…); null for a deletion or an unknown type name. */
  readonly regType: number | null;
  /** 1-based line where the value starts. */
  readonly line: number;
}

export interface RegistrySnapshot {
  /**
   * Keys by normalised path (upper case, full root name, single backslashes, no trailing one:
   * `HKEY_LOCAL_MACHINE\SOFTWARE\...`), each with its values by lower-case name (`''` is the
   * default value, `@` in a .reg file, `(Default)` in `reg query`). After deletions in the file.
   */
  readonly keys: ReadonlyMap<string, ReadonlyMap<string, RegValue>>;
  readonly format: 'reg5' | 'regedit4' | 'reg-query';
  /** Normalised paths of `[-HKEY_...]` lines, in file order. */
  readonly deletedKeys: readonly string[];
  /** How the bytes were decoded. */
  readonly encoding: 'utf-16le' | 'utf-16be' | 'utf-8' | 'windows-1252';
}

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
// Key paths

/** Root key names regedit accepts, and the abbreviations `reg.exe` accepts. */
const ROOT_KEYS = [
  'HKEY_LOCAL_MACHINE',
  'HKEY_CURRENT_USER',
  'HKEY_CLASSES_ROOT',
  'HKEY_USERS',
  'HKEY_CURRENT_CONFIG',
  'HKEY_DYN_DATA',
] as const;
const ROOT_ABBREVIATIONS: ReadonlyMap<string, string> = new Map([
  ['HKLM', 'HKEY_LOCAL_MACHINE'],
  ['HKCU', 'HKEY_CURRENT_USER'],
  ['HKCR', 'HKEY_CLASSES_ROOT'],
  ['HKU', 'HKEY_USERS'],
  ['HKCC', 'HKEY_CURRENT_CONFIG'],
]);

/**
 * Returns the normalised form of a key path (see `RegistrySnapshot.keys`), or a reason it is not
 * one. Runs of backslashes collapse and trailing ones go, as RegCreateKeyEx treats them.
 */
function normaliseKeyPath(path: string, allowAbbreviations: boolean): string | { error: string } {
  const parts = path.split(/\\+/);
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const root = (parts[0] ?? '').toUpperCase();
  let full: string | undefined = (ROOT_KEYS as readonly string[]).includes(root) ? root : undefined;
  if (full === undefined && allowAbbreviations) full = ROOT_ABBREVIATIONS.get(root);
  if (full === undefined) {
    const hint = ROOT_ABBREVIATIONS.get(root);
    return {
      error:
        hint !== undefined
          ? `root key "${parts[0]}" is an abbreviation regedit does not accept in .reg files: write ${hint}`
          : `unknown root key "${parts[0]}" (expected ${ROOT_KEYS.join(', ')})`,
    };
  }
  return [full, ...parts.slice(1)].join('\\').toUpperCase();
}

/** Returns the normalised form of a path this module itself names (always valid). */
export function keyOf(path: string): string {
  const k = normaliseKeyPath(path, true);
  if (typeof k !== 'string') throw new Error(`internal: bad key path ${path}`);
  return k;
}

// ---------------------------------------------------------------------------------------------
// .reg files

export const HEADER_REG5 = 'Windows Registry Editor Version 5.00';
const HEADER_REGEDIT4 = 'REGEDIT4';

/** REG_* numbers (winnt.h). */
const REG = {
  NONE: 0,
  SZ: 1,
  EXPAND_SZ: 2,
  BINARY: 3,
  DWORD: 4,
  DWORD_BIG_ENDIAN: 5,
  LINK: 6,
  MULTI_SZ: 7,
  RESOURCE_LIST: 8,
  FULL_RESOURCE_DESCRIPTOR: 9,
  RESOURCE_REQUIREMENTS_LIST: 10,
  QWORD: 11,
} as const;

export const REG_TYPE_NAMES: ReadonlyMap<string, number> = new Map(
  Object.entries(REG).map(([k, v]) => [`REG_${k}`, v]),
);

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';
const isHexDigit = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

function skipBlanks(s: string, p: number): number {
  while (isBlank(s[p])) p++;
  return p;
}

/**
 * Reads a `"..."` string starting at the opening quote; returns its text and the index after the
 * closing quote. One scan by character code finds the closing quote, then the escapes are undone
 * in one replace: linear in the line. (Appending one character at a time built a rope, and a
 * repeated regular-expression group grows V8's backtrack stack: both made a multi-megabyte line
 * cost superlinear time.)
 */
function readQuoted(s: string, p: number, what: string, line: number): { text: string; end: number } {
  let i = p + 1;
  let escaped = false;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x22) break;
    const next = s.charCodeAt(i + 1);
    if (c === 0x5c && (next === 0x5c || next === 0x22)) {
      escaped = true;
      i += 2;
      continue;
    }
    i++;
  }
  if (i >= s.length)
    throw new RegistryParseError(`${what} has no closing quote (a string must end on its own line)`, line);
  const body = s.slice(p + 1, i);
  // regedit escapes exactly these two; any other backslash is kept as written.
  return { text: escaped ? body.replace(/\\([\\"])/g, '$1') : body, end: i + 1 };
}

/** Throws unless only blanks or a `;` comment follow position `p`. */
function expectLineEnd(s: string, p: number, after: string, line: number): void {
  const q = skipBlanks(s, p);
  if (q < s.length && s[q] !== ';') {
    throw new RegistryParseError(
      `unexpected "${s.slice(q, q + 20)}" after ${after} (only a ; comment may follow; regedit skips this line)`,
      line,
    );
  }
}

interface HexLine {
  readonly continues: boolean;
}

/**
 * Reads comma-separated hex bytes from `s` at `p` into `out`. A line may end with `\` after a comma
 * (or right after `hex:`, on the first line) to continue onto the next line, optionally followed by a
 * `;` comment; a trailing comma without `\` ends the data.
 */
function readHexLine(s: string, p: number, out: number[], firstLine: boolean, line: number): HexLine {
  let state: 'start' | 'byte' | 'comma' = 'start';
  while (p < s.length) {
    const c = s[p]!;
    if (isHexDigit(c) && state !== 'byte') {
      let q = p;
      while (isHexDigit(s[q])) q++;
      if (q - p > 2) throw new RegistryParseError(`hex byte "${s.slice(p, q)}" has more than two digits`, line);
      out.push(parseInt(s.slice(p, q), 16));
      p = q;
      state = 'byte';
      continue;
    }
    if (c === ',' && state === 'byte') {
      state = 'comma';
      p++;
      continue;
    }
    if (c === ';') return { continues: false };
    if (isBlank(c)) {
      p = skipBlanks(s, p);
      if (p >= s.length || s[p] === ';') return { continues: false };
      if (s[p] === '\\') continue;
      throw new RegistryParseError('unexpected blank inside hex data (bytes are written "xx,xx,...")', line);
    }
    if (c === '\\' && (state === 'comma' || (state === 'start' && firstLine))) {
      expectLineEnd(s, p + 1, 'the \\ that continues hex data', line);
      return { continues: true };
    }
    if (c === '\\') {
      throw new RegistryParseError('a \\ that continues hex data must follow a comma ("xx,\\")', line);
    }
    throw new RegistryParseError(`unexpected "${c}" in hex data (bytes are written "xx,xx,...")`, line);
  }
  return { continues: false };
}

function utf16leString(bytes: Uint8Array): string {
  return new TextDecoder('utf-16le').decode(bytes.subarray(0, bytes.length - (bytes.length % 2)));
}

/** Turns `hex(N):` bytes into a value of the type N names (string types decoded per file format). */
function hexValue(regType: number, bytes: Uint8Array, format: 'reg5' | 'regedit4', line: number): RegValue {
  const str = (): string => {
    const s = format === 'reg5' ? utf16leString(bytes) : new TextDecoder('windows-1252').decode(bytes);
    return s.replace(/\0+$/, '');
  };
  switch (regType) {
    case REG.SZ:
      return { type: 'string', value: str(), regType, line };
    case REG.EXPAND_SZ:
      return { type: 'expand', value: str(), regType, line };
    case REG.MULTI_SZ: {
      const s = format === 'reg5' ? utf16leString(bytes) : new TextDecoder('windows-1252').decode(bytes);
      const items = s.split('\0');
      while (items.length > 0 && items[items.length - 1] === '') items.pop();
      return { type: 'multi', value: items, regType, line };
    }
    case REG.BINARY:
      return { type: 'binary', value: bytes, regType, line };
    case REG.DWORD:
      if (bytes.length === 4) {
        const v = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
        return { type: 'dword', value: v, regType, line };
      }
      return { type: 'other', value: bytes, regType, line };
    case REG.QWORD:
      if (bytes.length === 8) return { type: 'qword', value: qwordValue(bytes), regType, line };
      return { type: 'other', value: bytes, regType, line };
    default:
      return { type: 'other', value: bytes, regType, line };
  }
}

/** Returns a little-endian 8-byte QWORD as a number when it is exact, else the bytes themselves. */
function qwordValue(bytes: Uint8Array): number | Uint8Array {
  const v = Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : bytes;
}

/** The keys a parse builds up, with the deletions seen so far. */
interface KeyTable {
  readonly keys: Map<string, Map<string, RegValue>>;
  readonly deleted: string[];
}

function newKeyTable(): KeyTable {
  return { keys: new Map(), deleted: [] };
}

/** Returns the values of `key`, creating the key (as a `[key]` line or a merge does). */
function openKey(table: KeyTable, key: string): Map<string, RegValue> {
  let values = table.keys.get(key);
  if (values === undefined) {
    values = new Map();
    table.keys.set(key, values);
  }
  return values;
}

/** Removes `key` and its subkeys, as a `[-key]` line does, and records the deletion. */
function deleteTree(table: KeyTable, key: string): void {
  table.deleted.push(key);
  for (const k of [...table.keys.keys()]) if (k === key || k.startsWith(`${key}\\`)) table.keys.delete(k);
}

function parseRegFile(lines: readonly string[], format: 'reg5' | 'regedit4', table: KeyTable): void {
  // null before the first key line; 'deleted' under a [-key] line, where regedit applies no value.
  let current: Map<string, RegValue> | null | 'deleted' = null;
  for (let i = 1; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    const p0 = skipBlanks(raw, 0);
    const c = raw[p0];
    if (c === undefined || c === ';' || c === '#') continue;
    if (c === '[') {
      const close = raw.lastIndexOf(']');
      if (close < p0) throw new RegistryParseError('key line has no closing "]"', lineNo);
      if (raw.slice(close + 1).trim() !== '')
        throw new RegistryParseError('unexpected text after the closing "]" of a key line', lineNo);
      let inner = raw.slice(p0 + 1, close);
      const deletion = inner.startsWith('-');
      if (deletion) inner = inner.slice(1);
      if (inner === '') throw new RegistryParseError('empty key name', lineNo);
      if (isBlank(inner[0])) throw new RegistryParseError('blank before the key name (regedit skips this key)', lineNo);
      const key = normaliseKeyPath(inner, false);
      if (typeof key !== 'string') throw new RegistryParseError(key.error, lineNo);
      if (deletion) {
        deleteTree(table, key);
        current = 'deleted';
      } else {
        current = openKey(table, key);
      }
      continue;
    }
    if (c !== '"' && c !== '@') {
      throw new RegistryParseError(
        `unrecognised line "${raw.slice(p0, p0 + 30)}" (expected [key], "name"=value, @=value or a ; comment)`,
        lineNo,
      );
    }
    // Value name.
    let name: string;
    let p: number;
    if (c === '@') {
      name = '';
      p = p0 + 1;
    } else {
      const q = readQuoted(raw, p0, 'value name', lineNo);
      name = q.text;
      p = q.end;
    }
    p = skipBlanks(raw, p);
    if (raw[p] !== '=') throw new RegistryParseError('expected "=" after the value name', lineNo);
    p = skipBlanks(raw, p + 1);
    if (current === null) throw new RegistryParseError('value line before any [key] line', lineNo);
    if (current === 'deleted')
      throw new RegistryParseError('value line under a [-key] deletion (regedit applies no value there)', lineNo);
    const rest = raw.slice(p);
    let value: RegValue;
    if (rest.startsWith('-')) {
      expectLineEnd(raw, p + 1, 'the "-" of a value deletion', lineNo);
      value = { type: 'delete', value: null, regType: null, line: lineNo };
    } else if (rest.startsWith('"')) {
      const q = readQuoted(raw, p, 'string value', lineNo);
      expectLineEnd(raw, q.end, 'the closing quote of the string', lineNo);
      value = { type: 'string', value: q.text, regType: REG.SZ, line: lineNo };
    } else if (rest.startsWith('dword:')) {
      const m = /^dword:([0-9a-fA-F]+)/.exec(rest);
      if (m === null || m[1]!.length > 8) {
        throw new RegistryParseError('dword: needs 1 to 8 hex digits, no 0x (like dword:00000001)', lineNo);
      }
      expectLineEnd(raw, p + m[0].length, 'the dword value', lineNo);
      value = { type: 'dword', value: parseInt(m[1]!, 16) >>> 0, regType: REG.DWORD, line: lineNo };
    } else {
      const m = /^hex(?:\(([0-9a-fA-F]{1,8})\))?:/.exec(rest);
      if (m === null) {
        throw new RegistryParseError(
          `unknown value data "${rest.slice(0, 20)}" (expected "string", dword:, hex:, hex(N): or -)`,
          lineNo,
        );
      }
      const regType = m[1] === undefined ? REG.BINARY : parseInt(m[1], 16);
      const bytes: number[] = [];
      let text = raw;
      let at = p + m[0].length;
      let first = true;
      let hexLineNo = lineNo;
      for (;;) {
        const r = readHexLine(text, at, bytes, first, hexLineNo);
        if (!r.continues) break;
        // Blank lines and ; comment lines may sit between continued lines; anything else may not.
        let j = i + 1;
        while (j < lines.length && (lines[j]!.trim() === '' || lines[j]!.trimStart().startsWith(';'))) j++;
        if (j >= lines.length)
          throw new RegistryParseError('the file ends after a "\\" that continues hex data', hexLineNo);
        const next = lines[j]!;
        const q = skipBlanks(next, 0);
        if (!isHexDigit(next[q])) {
          throw new RegistryParseError(
            `line ${hexLineNo} continues hex data with "\\" but this line does not start with hex bytes`,
            j + 1,
          );
        }
        i = j;
        text = next;
        at = q;
        first = false;
        hexLineNo = j + 1;
      }
      value = hexValue(regType, Uint8Array.from(bytes), format, lineNo);
    }
    current.set(name.toLowerCase(), value);
  }
}

// ---------------------------------------------------------------------------------------------
// reg query output

// `reg query` prints a value as four spaces, the name, four spaces, the type, four spaces, the data
// (wine programs/reg/tests/query.c, checked against Windows). Tabs are accepted for copies that an
// editor re-indented.
const QUERY_VALUE = /^[ \t]+(.*?)(?: {4}|\t+)(REG_[A-Z0-9_]+)(?:(?: {4}|\t+)(.*))?$/;
const QUERY_KEY = /^(HKEY_[A-Z_]+|HKLM|HKCU|HKCR|HKU|HKCC)(\\|$)/i;

function queryValue(typeName: string, data: string, line: number): RegValue {
  const regType = REG_TYPE_NAMES.get(typeName) ?? null;
  switch (regType) {
    case REG.DWORD: {
      if (!/^0x[0-9a-fA-F]{1,8}$/.test(data))
        throw new RegistryParseError(`REG_DWORD data "${data}" is not 0x followed by 1 to 8 hex digits`, line);
      return { type: 'dword', value: parseInt(data.slice(2), 16) >>> 0, regType, line };
    }
    case REG.QWORD: {
      if (!/^0x[0-9a-fA-F]{1,16}$/.test(data))
        throw new RegistryParseError(`REG_QWORD data "${data}" is not 0x followed by 1 to 16 hex digits`, line);
      const bytes = Buffer.alloc(8);
      bytes.writeBigUInt64LE(BigInt(data));
      return { type: 'qword', value: qwordValue(new Uint8Array(bytes)), regType, line };
    }
    case REG.SZ:
      return { type: 'string', value: data, regType, line };
    case REG.EXPAND_SZ:
      return { type: 'expand', value: data, regType, line };
    case REG.MULTI_SZ:
      // reg query joins the strings with a literal "\0".
      return { type: 'multi', value: data === '' ? [] : data.split('\\0'), regType, line };
    case REG.BINARY:
    case REG.NONE: {
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(data))
        throw new RegistryParseError(`${typeName} data is not an even run of hex digits`, line);
      const bytes = Uint8Array.from(Buffer.from(data, 'hex'));
      return { type: regType === REG.BINARY ? 'binary' : 'other', value: bytes, regType, line };
    }
    default:
      return { type: 'other', value: data, regType, line };
  }
}

function parseRegQuery(lines: readonly string[], table: KeyTable): void {
  let current: Map<string, RegValue> | null = null;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    if (isBlank(raw[0])) {
      const m = QUERY_VALUE.exec(raw);
      if (m === null)
        throw new RegistryParseError('indented line is not "name    REG_TYPE    data" as reg query prints it', lineNo);
      if (current === null) throw new RegistryParseError('value line before any key line', lineNo);
      const name = m[1]!.trim() === '(Default)' ? '' : m[1]!.trim();
      current.set(name.toLowerCase(), queryValue(m[2]!, m[3] ?? '', lineNo));
      continue;
    }
    if (QUERY_KEY.test(raw)) {
      const key = normaliseKeyPath(raw.trimEnd(), true);
      if (typeof key !== 'string') throw new RegistryParseError(key.error, lineNo);
      current = openKey(table, key);
      continue;
    }
    // reg's own messages when a key is missing or a /f search ends; they carry no value.
    if (/^ERROR: /.test(raw) || /^End of search: /.test(raw)) {
      current = null;
      continue;
    }
    throw new RegistryParseError(
      `unrecognised line "${raw.slice(0, 30)}" in reg query output (expected a HKEY_... key line or an indented value line)`,
      lineNo,
    );
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

/**
 * Returns the registry state after importing `patch` on top of `base`, as regedit would: keys the
 * patch deletes go first (with their subkeys), then its values are set and its `"Name"=-` values removed.
 */
export function mergeSnapshots(base: RegistrySnapshot, patch: RegistrySnapshot): RegistrySnapshot {
  const table = newKeyTable();
  for (const [k, values] of base.keys) table.keys.set(k, new Map(values));
  table.deleted.push(...base.deletedKeys);
  for (const k of patch.deletedKeys) deleteTree(table, k);
  for (const [k, values] of patch.keys) {
    const target = openKey(table, k);
    for (const [name, v] of values) {
      if (v.type === 'delete') target.delete(name);
      else target.set(name, v);
    }
  }
  return { keys: table.keys, format: base.format, deletedKeys: table.deleted, encoding: base.encoding };
}
