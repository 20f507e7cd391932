/**
 * What a Windows registry export is read into: `RegistrySnapshot` (keys by normalised path, values
 * as `RegValue`), `RegistryParseError` for a file that cannot be read, key-path normalisation, the
 * REG_* type numbers, and `mergeSnapshots`, which applies one snapshot on top of another as regedit
 * would. The file grammars that fill a snapshot are reg-file.ts and reg-query.ts.
 */
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
export function normaliseKeyPath(path: string, allowAbbreviations: boolean): string | { error: string } {
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

/** REG_* numbers (winnt.h). */
export const REG = {
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

/** Returns a little-endian 8-byte QWORD as a number when it is exact, else the bytes themselves. */
export function qwordValue(bytes: Uint8Array): number | Uint8Array {
  const v = Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : bytes;
}

/** The keys a parse builds up, with the deletions seen so far. */
export interface KeyTable {
  readonly keys: Map<string, Map<string, RegValue>>;
  readonly deleted: string[];
}

export function newKeyTable(): KeyTable {
  return { keys: new Map(), deleted: [] };
}

/** Returns the values of `key`, creating the key (as a `[key]` line or a merge does). */
export function openKey(table: KeyTable, key: string): Map<string, RegValue> {
  let values = table.keys.get(key);
  if (values === undefined) {
    values = new Map();
    table.keys.set(key, values);
  }
  return values;
}

/** Removes `key` and its subkeys, as a `[-key]` line does, and records the deletion. */
export function deleteTree(table: KeyTable, key: string): void {
  table.deleted.push(key);
  for (const k of [...table.keys.keys()]) if (k === key || k.startsWith(`${key}\\`)) table.keys.delete(k);
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
