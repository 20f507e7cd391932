/**
 * Windows registry snapshots checked for TLS 1.2: `checkRegistry` returns, for a Windows version, the
 * status of each SChannel / .NET value the endpoint owner's guidance requires, and the `.reg` text
 * that fixes what is missing or wrong; `detectWindowsVersion` reads the version the snapshot names.
 * Parsing (`parseRegistryText`, re-exported here) lives in registry-parse.ts.
 */
import {
  DOTNET_KEYS,
  SCHANNEL_TLS12_CLIENT_KEY,
  TLS12_CLIENT_SETTINGS,
  TLS12_MISSING_SYMPTOMS,
  prerequisitesFor,
  type RegistrySetting,
} from './remediation.js';
import {
  WINDOWS_VERSION_INFO,
  WINDOWS_VERSIONS,
  windowsVersionFromNt,
  type WindowsVersion,
} from './windows-versions.js';
import { escapeText } from '../report/escape.js';

export { WINDOWS_VERSIONS };
export type { WindowsVersion };

import { HEADER_REG5 } from './reg-file.js';
import { keyOf, REG_TYPE_NAMES, type RegValue, type RegistrySnapshot } from './registry-snapshot.js';

export { MAX_REGISTRY_FILE_BYTES, parseRegistryText } from './registry-parse.js';
export { RegistryParseError, mergeSnapshots, type RegValue, type RegistrySnapshot } from './registry-snapshot.js';

// ---------------------------------------------------------------------------------------------
// Checks

export type CheckStatus = 'ok' | 'missing' | 'missing-ok' | 'wrong';

export interface RegistryCheck {
  /** Full key path as Windows shows it (`HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\...`). */
  readonly path: string;
  readonly name: string;
  /** The REG_DWORD value the guidance asks for. */
  readonly expected: number;
  /** The REG_DWORD value in the file; null when absent or not a REG_DWORD. */
  readonly actual: number | null;
  /** `missing-ok`: absent, and absent means the right thing on the stated Windows version. */
  readonly status: CheckStatus;
}

export interface RegistryPrerequisite {
  readonly kb: string;
  readonly appliesTo: WindowsVersion[];
  readonly note: string;
}

/** The result of `checkRegistry`; plain JSON-safe data (the `--json` contract). */
export interface RegistryReport {
  readonly os: WindowsVersion | null;
  readonly checks: RegistryCheck[];
  /** SChannel's TLS 1.2 client: `unknown` when the keys are absent and the version is not stated. */
  readonly tls12: 'enabled' | 'disabled' | 'unknown';
  /** True when `SystemDefaultTlsVersions` and `SchUseStrongCrypto` are 1 under both .NET keys. */
  readonly dotnetStrongCrypto: boolean;
  /** The `.reg` text that sets every missing or wrong value (CRLF line endings), or null. */
  readonly fix: string | null;
  readonly prerequisites: RegistryPrerequisite[];
  readonly notes: string[];
}

const CURRENT_CONTROL_SET = 'HKEY_LOCAL_MACHINE\\SYSTEM\\CURRENTCONTROLSET';
const SELECT_KEY = 'HKEY_LOCAL_MACHINE\\SYSTEM\\SELECT';
const CONTROL_SET_N = /^HKEY_LOCAL_MACHINE\\SYSTEM\\(CONTROLSET\d{3})(?:\\|$)/;
const NT_CURRENT_VERSION_KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion';
const SCHANNEL_KEY = 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL';
const DOTNET_ROOT_KEYS = [
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework',
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework',
];

function hasKeyUnder(snapshot: RegistrySnapshot, key: string): boolean {
  for (const k of snapshot.keys.keys()) if (k === key || k.startsWith(`${key}\\`)) return true;
  return false;
}

/**
 * Returns the control set that stands for `CurrentControlSet` in the file: CurrentControlSet itself
 * when exported, else the one `SYSTEM\Select` "Current" names, else the only `ControlSetNNN` present.
 */
/** `CONTROLSET001` as Windows spells it: `ControlSet001`. */
function controlSetName(upper: string): string {
  return `ControlSet${upper.slice('CONTROLSET'.length)}`;
}

function resolveControlSet(snapshot: RegistrySnapshot): { prefix: string; note: string | null } {
  if (hasKeyUnder(snapshot, CURRENT_CONTROL_SET)) return { prefix: CURRENT_CONTROL_SET, note: null };
  const sets = new Set<string>();
  for (const k of snapshot.keys.keys()) {
    const m = CONTROL_SET_N.exec(k);
    if (m !== null) sets.add(m[1]!);
  }
  if (sets.size === 0) return { prefix: CURRENT_CONTROL_SET, note: null };
  const current = snapshot.keys.get(SELECT_KEY)?.get('current');
  if (current?.type === 'dword') {
    const name = `CONTROLSET${String(current.value).padStart(3, '0')}`;
    if (sets.has(name)) {
      return {
        prefix: `HKEY_LOCAL_MACHINE\\SYSTEM\\${name}`,
        note: `The file has no CurrentControlSet; SChannel values were read from ${controlSetName(name)}, which SYSTEM\\Select "Current" names.`,
      };
    }
  }
  if (sets.size === 1) {
    const [name] = [...sets] as [string];
    return {
      prefix: `HKEY_LOCAL_MACHINE\\SYSTEM\\${name}`,
      note: `The file has no CurrentControlSet; SChannel values were read from ${controlSetName(name)}, the only control set in it.`,
    };
  }
  return {
    prefix: CURRENT_CONTROL_SET,
    note: `The file has ${[...sets].sort().map(controlSetName).join(', ')} but no CurrentControlSet and no SYSTEM\\Select "Current": export CurrentControlSet so the check knows which one Windows uses.`,
  };
}

/** Returns the value at a display path, reading `CurrentControlSet` through `controlSet`. */
function lookup(snapshot: RegistrySnapshot, path: string, name: string, controlSet: string): RegValue | undefined {
  let key = keyOf(path);
  if (key.startsWith(`${CURRENT_CONTROL_SET}\\`)) key = controlSet + key.slice(CURRENT_CONTROL_SET.length);
  const v = snapshot.keys.get(key)?.get(name.toLowerCase());
  return v?.type === 'delete' ? undefined : v;
}

const TYPE_NAMES: ReadonlyMap<number, string> = new Map([...REG_TYPE_NAMES].map(([k, v]) => [v, k]));

function typeName(v: RegValue): string {
  return v.regType !== null ? (TYPE_NAMES.get(v.regType) ?? `type 0x${v.regType.toString(16)}`) : 'an unknown type';
}

/** What the NT CurrentVersion key in a file says the system is, with the evidence. */
export interface DetectedWindowsVersion {
  readonly version: WindowsVersion;
  readonly evidence: string;
}

/**
 * Returns the Windows version the file's `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion` key
 * describes (`ProductName`, `InstallationType`, `CurrentBuild`), or null when the key is not in the
 * file or names a version outside `WINDOWS_VERSIONS`.
 */
export function detectWindowsVersion(snapshot: RegistrySnapshot): DetectedWindowsVersion | null {
  const values = snapshot.keys.get(keyOf(NT_CURRENT_VERSION_KEY));
  if (values === undefined) return null;
  const str = (name: string): string | null => {
    const v = values.get(name);
    return v !== undefined && (v.type === 'string' || v.type === 'expand') ? (v.value as string) : null;
  };
  const buildText = str('currentbuild') ?? str('currentbuildnumber');
  const build = buildText !== null && /^\d+$/.test(buildText) ? Number(buildText) : null;
  const nt = {
    productName: str('productname'),
    installationType: str('installationtype'),
    currentVersion: str('currentversion'),
    currentBuild: build,
  };
  const version = windowsVersionFromNt(nt);
  if (version === null) return null;
  const evidence = [
    nt.productName !== null ? `ProductName "${nt.productName}"` : null,
    nt.installationType !== null ? `InstallationType "${nt.installationType}"` : null,
    `build ${build}`,
  ]
    .filter((x) => x !== null)
    .join(', ');
  return { version, evidence };
}

function checkOne(
  setting: RegistrySetting,
  v: RegValue | undefined,
  os: WindowsVersion | null,
  notes: string[],
): RegistryCheck {
  const base = { path: setting.path, name: setting.name, expected: setting.value };
  if (v === undefined) {
    const missingOk =
      setting.component === 'schannel' && os !== null && WINDOWS_VERSION_INFO[os].tls12ClientDefault === 'enabled';
    return { ...base, actual: null, status: missingOk ? 'missing-ok' : 'missing' };
  }
  if (v.type !== 'dword') {
    // .NET reads these only when they are REG_DWORD (referencesource System/Net/ServicePointManager.cs:
    // GetValueKind(...) == RegistryValueKind.DWord); SChannel reads its protocol values as DWORDs.
    notes.push(
      `${setting.path}\\${setting.name} is ${typeName(v)} (line ${v.line}), not REG_DWORD: it is treated as absent, and the fix replaces it.`,
    );
    return { ...base, actual: null, status: 'wrong' };
  }
  const actual = v.value as number;
  if (setting.component === 'schannel' && setting.name === 'Enabled') {
    // SChannel treats any nonzero Enabled as on; Microsoft's own examples used 0xFFFFFFFF.
    if (actual !== 0 && actual !== 1)
      notes.push(`${setting.path}\\Enabled is 0x${actual.toString(16)}: SChannel reads any nonzero value as enabled.`);
    return { ...base, actual, status: actual !== 0 ? 'ok' : 'wrong' };
  }
  // DisabledByDefault: any nonzero value keeps TLS 1.2 off unless an application asks for it.
  // SystemDefaultTlsVersions / SchUseStrongCrypto: .NET acts only on exactly 1 ("all other values are ignored").
  return { ...base, actual, status: actual === setting.value ? 'ok' : 'wrong' };
}

const SYMPTOMS_NOTE = `Symptoms of a client without TLS 1.2: ${TLS12_MISSING_SYMPTOMS.join('; ')}.`;

function versionNotes(): string[] {
  return [
    'The Windows version was not stated (--os); what differs by version:',
    '  Windows Server 2008 SP2: TLS 1.2 exists only after KB4019276, and is then disabled until Enabled=1 and DisabledByDefault=0 are set.',
    '  Windows Server 2008 R2, Windows 7, Windows Server 2012: the TLS 1.2 client is disabled by default; Enabled=1 and DisabledByDefault=0 are required, after KB3140245.',
    '  Windows Server 2012 R2, 8.1, 10, 11, Server 2016/2019/2022: the TLS 1.2 client is enabled by default; absent SChannel keys are fine.',
    '  On every version the .NET values must be set under both the 64-bit and the WOW6432Node key.',
  ];
}

/**
 * Returns the status of each value the guidance requires (SChannel TLS 1.2 client `Enabled` and
 * `DisabledByDefault`, then `SystemDefaultTlsVersions` and `SchUseStrongCrypto` under each of
 * `DOTNET_KEYS`), judged for `os` (null: absent SChannel values count as `missing`, `tls12` is
 * `unknown`, and the notes say what differs by version), with the prerequisites and the fix.
 */
export function checkRegistry(snapshot: RegistrySnapshot, os: WindowsVersion | null): RegistryReport {
  const notes: string[] = [];
  const cs = resolveControlSet(snapshot);
  if (cs.note !== null) notes.push(cs.note);

  const checks: RegistryCheck[] = [];
  const dwords = new Map<string, number | undefined>();
  for (const setting of TLS12_CLIENT_SETTINGS) {
    const v = lookup(snapshot, setting.path, setting.name, cs.prefix);
    const check = checkOne(setting, v, os, notes);
    checks.push(check);
    dwords.set(`${setting.path}|${setting.name}`, v?.type === 'dword' ? (v.value as number) : undefined);
  }

  // SChannel's effective state.
  const enabled = dwords.get(`${SCHANNEL_TLS12_CLIENT_KEY}|Enabled`);
  const disabledByDefault = dwords.get(`${SCHANNEL_TLS12_CLIENT_KEY}|DisabledByDefault`);
  const osDefault = os === null ? null : WINDOWS_VERSION_INFO[os].tls12ClientDefault;
  let tls12: RegistryReport['tls12'];
  if (enabled === 0 || (disabledByDefault !== undefined && disabledByDefault !== 0)) tls12 = 'disabled';
  else if (enabled !== undefined && disabledByDefault !== undefined) tls12 = 'enabled';
  else if (osDefault === null) tls12 = 'unknown';
  else tls12 = osDefault === 'enabled' ? 'enabled' : 'disabled';

  const dotnetStrongCrypto = checks.filter((c) => DOTNET_KEYS.includes(c.path)).every((c) => c.status === 'ok');

  const detected = detectWindowsVersion(snapshot);
  if (os === null) {
    notes.push(...versionNotes());
    if (tls12 === 'unknown') {
      notes.push(
        'With the SChannel values absent, TLS 1.2 is enabled on Windows Server 2012 R2 and newer and disabled on 2008 SP2, 2008 R2, 7 and 2012.',
      );
    }
    if (detected !== null) {
      notes.push(
        `The file's Windows NT\\CurrentVersion key says ${WINDOWS_VERSION_INFO[detected.version].label} (${detected.evidence}): run again with --os ${detected.version}.`,
      );
    }
  } else {
    if (detected !== null && detected.version !== os) {
      notes.push(
        `--os says ${WINDOWS_VERSION_INFO[os].label} but the file's Windows NT\\CurrentVersion key says ${WINDOWS_VERSION_INFO[detected.version].label} (${detected.evidence}).`,
      );
    }
    const schannelAbsent = enabled === undefined || disabledByDefault === undefined;
    const label = WINDOWS_VERSION_INFO[os].label;
    if (osDefault === 'needs-update') {
      notes.push(
        'On Windows Server 2008 SP2 TLS 1.2 does not exist until KB4019276 is installed: the SChannel values have no effect before it.',
      );
    } else if (schannelAbsent) {
      notes.push(
        osDefault === 'disabled'
          ? `On ${label} the TLS 1.2 client is disabled by default: absent SChannel values mean disabled.`
          : `On ${label} the TLS 1.2 client is enabled by default: absent SChannel values are fine.`,
      );
    }
  }

  for (const k of snapshot.deletedKeys) {
    for (const path of [SCHANNEL_TLS12_CLIENT_KEY, ...DOTNET_KEYS]) {
      const key = keyOf(path);
      if (key === k || key.startsWith(`${k}\\`)) notes.push(`The file deletes ${k}, which removes ${path}.`);
    }
  }
  const schannelRoot = keyOf(SCHANNEL_KEY).replace(CURRENT_CONTROL_SET, cs.prefix);
  if (!hasKeyUnder(snapshot, schannelRoot)) {
    notes.push(
      `The file has no key under ${SCHANNEL_KEY}: if it is a partial export, export that key too, or absent values cannot be told from values not exported.`,
    );
  }
  if (!DOTNET_ROOT_KEYS.some((k) => hasKeyUnder(snapshot, keyOf(k)))) {
    notes.push(
      'The file has no key under HKLM\\SOFTWARE\\Microsoft\\.NETFramework: if it is a partial export, export the .NET keys too.',
    );
  } else if (!hasKeyUnder(snapshot, keyOf(DOTNET_ROOT_KEYS[1]!))) {
    notes.push(
      'The file has no WOW6432Node .NET key: 32-bit processes on 64-bit Windows read that one (on 32-bit Windows it does not exist and those two checks can be ignored).',
    );
  }

  if (tls12 === 'disabled' || !dotnetStrongCrypto) notes.push(SYMPTOMS_NOTE);

  const fixable = checks.some((c) => c.status === 'missing' || c.status === 'wrong');
  return {
    os,
    checks,
    tls12,
    dotnetStrongCrypto,
    fix: fixable ? renderFixReg(checks) : null,
    prerequisites: prerequisitesFor(os).map((p) => ({ kb: p.kb, appliesTo: [...p.appliesTo], note: p.note })),
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Writing

const CRLF = '\r\n';

function escapeRegString(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/**
 * Returns the `.reg` text that sets every `missing` or `wrong` check to its expected REG_DWORD:
 * "Windows Registry Editor Version 5.00", a blank line, then one `[key]` section per key (in check
 * order) with `"Name"=dword:xxxxxxxx` lines and a blank line after each, CRLF line endings, as
 * regedit exports. With nothing to fix it is the header alone.
 */
export function renderFixReg(checks: readonly RegistryCheck[]): string {
  const sections = new Map<string, string[]>();
  for (const c of checks) {
    if (c.status !== 'missing' && c.status !== 'wrong') continue;
    const lines = sections.get(c.path) ?? [];
    lines.push(`"${escapeRegString(c.name)}"=dword:${(c.expected >>> 0).toString(16).padStart(8, '0')}`);
    sections.set(c.path, lines);
  }
  let out = HEADER_REG5 + CRLF + CRLF;
  for (const [path, lines] of sections) out += `[${path}]${CRLF}${lines.join(CRLF)}${CRLF}${CRLF}`;
  return out;
}

/** Returns `text` as regedit writes a .reg file: UTF-16LE with a byte-order mark. */
export function encodeRegFile(text: string): Uint8Array {
  const buf = Buffer.from(`\ufeff${text}`, 'utf16le');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

// ---------------------------------------------------------------------------------------------
// Human report

const STATUS_TEXT: { readonly [S in CheckStatus]: string } = {
  ok: 'ok',
  missing: 'MISSING',
  'missing-ok': 'absent (fine)',
  wrong: 'WRONG',
};

function formatDword(n: number): string {
  return n <= 9 ? String(n) : `0x${n.toString(16)}`;
}

function shortPath(path: string): string {
  return path.replace(/^HKEY_LOCAL_MACHINE\\/, 'HKLM\\');
}

/** Returns the report as plain text for a terminal: verdicts, one line per value grouped by key, prerequisites, notes, and what the fix would set. */
export function renderRegistryReport(report: RegistryReport): string {
  const out: string[] = [];
  out.push(
    `Windows registry check for TLS 1.2: ${report.os !== null ? WINDOWS_VERSION_INFO[report.os].label : 'Windows version not stated'}`,
  );
  out.push(`  SChannel TLS 1.2 client: ${report.tls12}`);
  out.push(`  .NET Framework strong crypto / system TLS versions: ${report.dotnetStrongCrypto ? 'yes' : 'no'}`);
  out.push('');
  const width = Math.max(...report.checks.map((c) => c.name.length));
  let lastPath = '';
  for (const c of report.checks) {
    if (c.path !== lastPath) {
      out.push(shortPath(c.path));
      lastPath = c.path;
    }
    const actual = c.actual === null ? (c.status === 'wrong' ? 'not a REG_DWORD' : 'absent') : formatDword(c.actual);
    out.push(
      `  ${c.name.padEnd(width)}  ${STATUS_TEXT[c.status].padEnd(13)}  expected ${formatDword(c.expected)}, found ${actual}`,
    );
  }
  if (report.prerequisites.length > 0) {
    out.push('');
    out.push('Prerequisites:');
    for (const p of report.prerequisites) {
      out.push(`  ${p.kb} (${p.appliesTo.map((v) => WINDOWS_VERSION_INFO[v].label).join(', ')}): ${p.note}`);
    }
  }
  if (report.notes.length > 0) {
    out.push('');
    out.push('Notes:');
    for (const n of report.notes) out.push(n.startsWith('  ') ? `  ${n}` : `  - ${n}`);
  }
  out.push('');
  const toFix = report.checks.filter((c) => c.status === 'missing' || c.status === 'wrong');
  if (report.fix === null) {
    out.push('Nothing to fix.');
  } else {
    out.push(
      `To fix: set ${toFix.length} value${toFix.length === 1 ? '' : 's'} (--fix OUT.reg writes them as a .reg file to import with regedit, then restart Windows):`,
    );
    for (const c of toFix) out.push(`  ${shortPath(c.path)}\\${c.name} = ${formatDword(c.expected)} (REG_DWORD)`);
  }
  // Key paths, value names and notes come from the user's file.
  return `${out.map((l) => escapeText(l)).join('\n')}\n`;
}
