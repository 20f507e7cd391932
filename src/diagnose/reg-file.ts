/**
 * The `.reg` export grammar ("Windows Registry Editor Version 5.00" or "REGEDIT4" on the first
 * line): `parseRegFile` reads the lines after the header into a key table and throws
 * `RegistryParseError` with the 1-based line of the first line it cannot read.
 *
 * Parsing rules follow what regedit / `reg import` do on Windows, as recorded by Wine's conformance
 * tests (wine programs/reg/tests/import.c, run against Windows): `;` comments may end a value line,
 * `#` comments only stand on their own line; `dword:` takes 1 to 8 hex digits; hex data continues
 * onto the next line after `,\`; strings end on their line. Where Windows skips a line it cannot
 * read (and `reg import` still reports success), we stop with an error naming the line, because a
 * skipped line is a setting the user believes is applied and is not.
 */
import {
  type KeyTable,
  type RegValue,
  REG,
  RegistryParseError,
  deleteTree,
  normaliseKeyPath,
  openKey,
  qwordValue,
} from './registry-snapshot.js';

export const HEADER_REG5 = 'Windows Registry Editor Version 5.00';
export const HEADER_REGEDIT4 = 'REGEDIT4';

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

/** Reads the lines of a `.reg` file after its header line into `table`; throws `RegistryParseError` naming the line. */
export function parseRegFile(lines: readonly string[], format: 'reg5' | 'regedit4', table: KeyTable): void {
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
