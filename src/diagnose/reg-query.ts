/**
 * Saved `reg query` output (`reg query KEY [/s]`, several keys and runs concatenated):
 * `parseRegQuery` reads its key and value lines into a key table and throws `RegistryParseError`
 * with the 1-based line of the first line it cannot read.
 */
import {
  type KeyTable,
  type RegValue,
  REG,
  REG_TYPE_NAMES,
  RegistryParseError,
  normaliseKeyPath,
  openKey,
  qwordValue,
} from './registry-snapshot.js';

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';

// `reg query` prints a value as four spaces, the name, four spaces, the type, four spaces, the data
// (wine programs/reg/tests/query.c, checked against Windows). Tabs are accepted for copies that an
// editor re-indented.
const QUERY_VALUE = /^[ \t]+(.*?)(?: {4}|\t+)(REG_[A-Z0-9_]+)(?:(?: {4}|\t+)(.*))?$/;
/** A key line of `reg query` output: a root key, full or abbreviated, alone or before a backslash. */
export const QUERY_KEY = /^(HKEY_[A-Z_]+|HKLM|HKCU|HKCR|HKU|HKCC)(\\|$)/i;

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

/** Reads the lines of `reg query` output into `table`; throws `RegistryParseError` naming the line. */
export function parseRegQuery(lines: readonly string[], table: KeyTable): void {
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
