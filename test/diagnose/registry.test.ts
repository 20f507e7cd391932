import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_REGISTRY_FILE_BYTES,
  RegistryParseError,
  WINDOWS_VERSIONS,
  checkRegistry,
  detectWindowsVersion,
  encodeRegFile,
  mergeSnapshots,
  parseRegistryText,
  renderFixReg,
  renderRegistryReport,
  type RegistryReport,
  type RegistrySnapshot,
  type WindowsVersion,
} from '../../src/diagnose/registry.js';
import { DOTNET_KEYS, SCHANNEL_TLS12_CLIENT_KEY, tls12ClientRemediation } from '../../src/diagnose/remediation.js';
import { parseWindowsVersion, windowsVersionFromNt } from '../../src/diagnose/windows-versions.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

// ---- the endpoint owner's guidance, restated here as the oracle ------------------------------
const CLIENT =
  'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client';
const NET64 = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319';
const NET32 = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319';
const ALL_VERSIONS: readonly WindowsVersion[] = [
  '2008',
  '2008r2',
  '7',
  '2012',
  '2012r2',
  '8.1',
  '2016',
  '2019',
  '2022',
  '10',
  '11',
];
/** "These are the defaults on Windows Server 2012 R2 and newer … also on Windows 8.1, 10, 11, Server 2016/2019/2022." */
const TLS12_ON_BY_DEFAULT = new Set<WindowsVersion>(['2012r2', '8.1', '2016', '2019', '2022', '10', '11']);
/** "Windows Server 2008 SP2 first needs update KB4019276; Windows Server 2008 R2, Windows 7 and Windows Server 2012 need KB3140245." */
const KB_FOR: Partial<Record<WindowsVersion, string>> = {
  '2008': 'KB4019276',
  '2008r2': 'KB3140245',
  '7': 'KB3140245',
  '2012': 'KB3140245',
};

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES_DIR, 'reg', name)));
const parseFixture = (name: string): RegistrySnapshot => parseRegistryText(fixture(name));
const utf8 = (lines: readonly string[]): Uint8Array => new TextEncoder().encode(lines.join('\r\n'));

function status(report: RegistryReport, path: string, name: string): string {
  const c = report.checks.find((x) => x.path === path && x.name === name);
  if (c === undefined) throw new Error(`no check for ${path}\\${name}`);
  return c.status;
}

function actual(report: RegistryReport, path: string, name: string): number | null {
  return report.checks.find((x) => x.path === path && x.name === name)!.actual;
}

function value(snapshot: RegistrySnapshot, path: string, name: string) {
  return snapshot.keys.get(path.toUpperCase())?.get(name.toLowerCase());
}

function le64(v: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
}

function parseError(bytes: Uint8Array): RegistryParseError {
  try {
    parseRegistryText(bytes);
  } catch (e) {
    if (e instanceof RegistryParseError) return e;
    throw e;
  }
  throw new Error('expected a RegistryParseError');
}

/** Applies the report's fix to the snapshot as an import would, and checks again. */
function afterFix(snapshot: RegistrySnapshot, report: RegistryReport, os: WindowsVersion | null): RegistryReport {
  expect(report.fix).not.toBeNull();
  const patch = parseRegistryText(encodeRegFile(report.fix!));
  return checkRegistry(mergeSnapshots(snapshot, patch), os);
}

describe('WINDOWS_VERSIONS', () => {
  it('lists the versions the --os option takes', () => {
    expect([...WINDOWS_VERSIONS]).toEqual(ALL_VERSIONS);
  });
});

describe('parseRegistryText', () => {
  it.each(ALL_VERSIONS.flatMap((v) => [`${v}.configured`, `${v}.defaults`]))(
    'reads %s the same from its UTF-16LE and UTF-8 files',
    (base) => {
      const a = parseFixture(`${base}.utf16.reg`);
      const b = parseFixture(`${base}.utf8.reg`);
      expect(a.format).toBe('reg5');
      expect(a.encoding).toBe('utf-16le');
      expect(b.encoding).toBe('utf-8');
      expect(b.keys).toEqual(a.keys);
    },
  );

  it('decodes strings with escapes, hex(2), hex(7), hex(b) and wrapped hex values of a regedit export', () => {
    const s = parseFixture('2016.configured.utf16.reg');
    expect(value(s, 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework', 'InstallRoot')).toMatchObject({
      type: 'string',
      value: 'C:\\Windows\\Microsoft.NET\\Framework64\\',
    });
    expect(value(s, 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework', 'DbgManagedDebugger')?.value).toBe(
      '"C:\\WINDOWS\\system32\\vsjitdebugger.exe" PID %d APPDOM %d EXTEXT "%s" EVTHDL %d',
    );
    expect(value(s, 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\KeyIso', 'ImagePath')).toMatchObject({
      type: 'expand',
      regType: 2,
      value: '%SystemRoot%\\system32\\lsass.exe',
    });
    expect(
      value(
        s,
        'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Cryptography\\Configuration\\Local\\SSL\\00010002',
        'Functions',
      ),
    ).toMatchObject({
      type: 'multi',
      value: [
        'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
        'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
        'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
        'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
        'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
      ],
    });
    const nt = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion';
    // InstallTime = 0x01d68a2b3c4d5e6f + 14393 (the build), as the script wrote it: past 2^53, so
    // it stays as its 8 little-endian bytes.
    expect(value(s, nt, 'InstallTime')?.type).toBe('qword');
    expect([...(value(s, nt, 'InstallTime')!.value as Uint8Array)]).toEqual(le64(0x01d68a2b3c4d5e6fn + 14393n));
    expect(value(s, nt, 'DigitalProductId')?.type).toBe('binary');
    expect((value(s, nt, 'DigitalProductId')!.value as Uint8Array).length).toBe(100);
    expect(value(s, nt, 'CurrentMajorVersionNumber')).toMatchObject({ type: 'dword', value: 10 });
    // The line of a value is where it starts (line 1 is the header, line 2 blank, line 3 the key).
    expect(value(s, nt, 'SystemRoot')?.line).toBe(4);
  });

  it('reads a REGEDIT4 export in the ANSI code page', () => {
    const s = parseFixture('2008.configured.regedit4.reg');
    expect(s.format).toBe('regedit4');
    expect(s.encoding).toBe('windows-1252');
    expect(value(s, 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion', 'ProductName')?.value).toBe(
      'Windows Server\u00ae 2008 Standard',
    );
    expect(value(s, 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\KeyIso', 'ImagePath')?.value).toBe(
      '%SystemRoot%\\system32\\lsass.exe',
    );
    expect(value(s, CLIENT, 'Enabled')).toMatchObject({ type: 'dword', value: 1 });
  });

  it.each(['syntax-hand-written.utf8.reg', 'syntax-hand-written.utf16.reg'])(
    'reads every piece of .reg syntax in %s',
    (name) => {
      const s = parseFixture(name);
      expect(s.deletedKeys).toEqual([`${NET64}\\Stale`.toUpperCase()]);
      expect(value(s, CLIENT, 'Enabled')).toMatchObject({ type: 'dword', regType: 4, value: 1, line: 8 });
      expect(value(s, CLIENT, 'DisabledByDefault')).toMatchObject({ type: 'dword', value: 0, line: 9 });
      expect(value(s, CLIENT, 'Obsolete')).toMatchObject({ type: 'delete', value: null, line: 10 });
      expect(value(s, CLIENT, '')).toMatchObject({ type: 'string', value: 'TLS 1.2 "client" side' });
      // "[hkey_local_machine\software\microsoft\.netframework\v4.0.30319\]" is the 64-bit key.
      expect(value(s, NET64, 'SchUseStrongCrypto')).toMatchObject({ type: 'dword', value: 1 });
      expect(value(s, NET64, 'Notes')).toMatchObject({ type: 'multi', value: ['Line 1', 'Line 2'], line: 16 });
      expect(value(s, NET32, 'Path')?.value).toBe('C:\\Program Files (x86)\\Backup Agent\\');
    },
  );

  it('keeps values that look like shell code as plain strings', () => {
    const before = existsSync('pwned');
    const s = parseFixture('shell-injection.reg');
    expect(value(s, CLIENT, 'Enabled')).toMatchObject({ type: 'string', value: '$(rm -rf /)' });
    expect(value(s, CLIENT, 'Backtick')?.value).toBe('`reboot`');
    expect(value(s, CLIENT, 'Semicolon')?.value).toBe('x"; rm -rf ~; echo "');
    expect(value(s, CLIENT, 'Cmd')?.value).toBe('%COMSPEC% /c del /q C:\\*');
    expect(value(s, CLIENT, 'Expand')).toMatchObject({ type: 'expand', value: '%SystemRoot%\\$(id)' });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the hostile value itself, which must stay a plain string
    expect(value(s, 'HKEY_LOCAL_MACHINE\\SOFTWARE\\$(touch pwned)\\x', '')?.value).toBe('${process.exit(1)}');
    expect(existsSync('pwned')).toBe(before);
    const report = checkRegistry(s, '2016');
    expect(status(report, CLIENT, 'Enabled')).toBe('wrong');
    expect(actual(report, CLIENT, 'Enabled')).toBeNull();
  });

  it.each([
    ['malformed-dword-9-digits.reg', 5, /1 to 8 hex digits/],
    ['malformed-unterminated-string.reg', 5, /no closing quote/],
    ['malformed-hex-continuation.reg', 5, /does not start with hex bytes/],
    ['malformed-no-header.reg', 1, /missing header/],
    ['malformed-hash-comment.reg', 7, /only a ; comment may follow/],
    ['malformed-abbreviated-root.reg', 3, /HKEY_LOCAL_MACHINE/],
    ['malformed-value-before-key.reg', 3, /before any \[key\]/],
    ['malformed-reg-query.txt', 4, /REG_DWORD data "1"/],
  ])('rejects %s at line %i', (name, line, message) => {
    const e = parseError(fixture(name));
    expect(e.code).toBe('registry-parse');
    expect(e.line).toBe(line);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(`line ${line}: `)).toBe(true);
  });

  // Lines Windows skips on import (wine programs/reg/tests/import.c, run against Windows): each must
  // be an error at its line, because the setting it carries would silently not be applied.
  const KEY = `[${CLIENT}]`;
  it.each([
    ['dword with 0x', '"Enabled"=dword:0x1'],
    ['dword with nine digits', '"Enabled"=dword:000000001'],
    ['dword with a space inside', '"Enabled"=dword:1234 5678'],
    ['dword with a # comment', '"Enabled"=dword:00000001#comment'],
    ['string with text after it', '"Name"="foo"bar"'],
    ['string with a # comment', '"Name"="Value3"  #comment'],
    ['data without quotes', '"Name"=Asdffdsa'],
    ['name without quotes', 'NameNoQuotes="Asdffdsa"'],
    ['name without closing quote', '"NameNoEndQuote=Asdffdsa'],
    ['nothing after =', '"Name"='],
    ['hex byte of three digits', '"Bin"=hex(0):25,50,100,54'],
    ['hex type with 0x', '"Bin"=hex(0x2):56,61'],
    ['backslash not after a comma', '"Bin"=hex:11,22,33,44\\'],
    ['backslash inside the bytes', '"Bin"=hex(2):25,48\\,4f'],
    ['leading comma', '"Bin"=hex(2):,25'],
    ['deletion with a # comment', '"Name"=- #comment'],
    ['blank inside the key brackets', '[ HKEY_CURRENT_USER\\Software\\Wine]'],
    ['unknown root key', '[HKEY_CURRENT_USERS\\Software\\Wine]'],
    ['key without closing bracket', '[HKEY_CURRENT_USER\\Software\\Wine'],
  ])('rejects a line Windows skips: %s', (_what, line) => {
    const e = parseError(utf8(['Windows Registry Editor Version 5.00', '', KEY, '"Ok"=dword:00000001', line, '']));
    expect(e.line).toBe(5);
  });

  it('rejects a value under a [-key] deletion, where regedit applies nothing', () => {
    expect(parseError(utf8(['REGEDIT4', '', `[-${CLIENT}]`, '"Enabled"=dword:00000001'])).line).toBe(4);
  });

  it('rejects hex data continued into a comment line that starts with #', () => {
    const e = parseError(utf8(['REGEDIT4', KEY, '"Bin"=hex:11,22,\\', '  #comment', '  33,44']));
    expect(e.line).toBe(4);
  });

  it('rejects a file that ends after a continuation backslash', () => {
    expect(parseError(utf8(['REGEDIT4', KEY, '"Bin"=hex:11,22,\\', '', ';c'])).line).toBe(3);
  });

  it('accepts what Windows accepts: ; comments after data, blanks around -, one-digit dwords, a leading blank before the header', () => {
    const s = parseRegistryText(
      utf8([
        ' REGEDIT4',
        '',
        KEY,
        '"A"=dword:1234;5678',
        '"B"=dword:1234 ;5678',
        '"C"="Value1"\t\t;comment',
        '"D"="Value#comment3"',
        '"E"=hex:11,22,33,44,\\;comment',
        '  55,66,\\',
        '',
        '  77,88',
        '"F"=hex(2):25,50,41,54,48,25,00,',
        '"G"=  \t-\t  ',
        '"H"=hex(2):\\',
        '  25,48,4f,4d,45,25,00',
        '"I"=dword:1',
        '"double\\"quote"=dword:8',
      ]),
    );
    expect(s.format).toBe('regedit4');
    expect(value(s, CLIENT, 'A')?.value).toBe(0x1234);
    expect(value(s, CLIENT, 'B')?.value).toBe(0x1234);
    expect(value(s, CLIENT, 'C')?.value).toBe('Value1');
    expect(value(s, CLIENT, 'D')?.value).toBe('Value#comment3');
    expect([...(value(s, CLIENT, 'E')!.value as Uint8Array)]).toEqual([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    expect(value(s, CLIENT, 'F')?.value).toBe('%PATH%');
    expect(value(s, CLIENT, 'G')?.type).toBe('delete');
    expect(value(s, CLIENT, 'H')?.value).toBe('%HOME%');
    expect(value(s, CLIENT, 'I')?.value).toBe(1);
    expect(value(s, CLIENT, 'double"quote')?.value).toBe(8);
  });

  it('ends the hex data at a trailing comma followed by a ; comment, as Windows does', () => {
    const e = parseError(utf8(['REGEDIT4', KEY, '"J"=hex:11,22,33,44,\\;comment', '  55,66,;comment', '  77,88']));
    expect(e.line).toBe(5);
  });

  it('asks for the header on the first line', () => {
    const e = parseError(utf8(['', 'Windows Registry Editor Version 5.00', KEY]));
    expect(e.line).toBe(1);
    expect(e.message).toMatch(/first line/);
  });

  it('rejects an empty file, text that is no registry format, and a truncated UTF-16 file', () => {
    expect(parseError(new Uint8Array(0)).line).toBe(1);
    expect(parseError(utf8(['', '', 'hello world'])).line).toBe(3);
    const odd = encodeRegFile(`Windows Registry Editor Version 5.00\r\n\r\n${KEY}\r\n`).subarray(0, 41);
    expect(parseError(odd).message).toMatch(/UTF-16/);
  });

  it('refuses a file over the size cap without reading it', () => {
    const e = parseError(new Uint8Array(MAX_REGISTRY_FILE_BYTES + 1));
    expect(e.line).toBe(0);
    expect(e.message).toMatch(/export only/);
  });

  it('reads saved reg query output from PowerShell (UTF-16LE), cmd (ANSI) and a pasted copy with HKLM and LF', () => {
    const ps = parseFixture('reg-query-2012r2-configured.ps-utf16.txt');
    expect(ps.format).toBe('reg-query');
    expect(ps.encoding).toBe('utf-16le');
    expect(value(ps, CLIENT, 'Enabled')).toMatchObject({ type: 'dword', value: 1, line: 4 });
    expect(value(ps, NET32, 'SystemDefaultTlsVersions')?.value).toBe(1);

    const cmd = parseFixture('reg-query-7-defaults.cmd.txt');
    expect(cmd.format).toBe('reg-query');
    expect(
      value(
        cmd,
        'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\SSL 2.0\\Client',
        'DisabledByDefault',
      )?.value,
    ).toBe(1);
    expect(cmd.keys.has(`${NET64}\\SKUs`.toUpperCase())).toBe(true);
    expect(cmd.keys.has(CLIENT.toUpperCase())).toBe(false);

    const pasted = parseFixture('reg-query-2019-hklm.txt');
    expect(pasted.encoding).toBe('utf-8');
    expect(value(pasted, NET32, 'SchUseStrongCrypto')?.value).toBe(1);
    expect(value(pasted, NET32, 'SystemDefaultTlsVersions')).toBeUndefined();
  });

  it('reads every reg query value type', () => {
    const s = parseRegistryText(
      utf8([
        '',
        'HKEY_LOCAL_MACHINE\\SOFTWARE\\Test',
        '    (Default)    REG_SZ    Hello, World',
        '    Empty    REG_SZ    ',
        '    Multi    REG_MULTI_SZ    a\\0b c\\0',
        '    Bin    REG_BINARY    0A0B0C',
        '    Q    REG_QWORD    0x1d68a2b3c4d5e6f',
        '    Small    REG_QWORD    0x1fffffffffffff',
        '    Exp    REG_EXPAND_SZ    %SystemRoot%\\x',
        '    Big    REG_QWORD    0xffffffffffffffff',
        '',
      ]),
    );
    const k = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Test';
    expect(value(s, k, '')?.value).toBe('Hello, World');
    expect(value(s, k, 'Empty')?.value).toBe('');
    expect(value(s, k, 'Multi')?.value).toEqual(['a', 'b c', '']);
    expect([...(value(s, k, 'Bin')!.value as Uint8Array)]).toEqual([10, 11, 12]);
    expect([...(value(s, k, 'Q')!.value as Uint8Array)]).toEqual(le64(0x1d68a2b3c4d5e6fn));
    expect(value(s, k, 'Small')).toMatchObject({ type: 'qword', value: Number.MAX_SAFE_INTEGER });
    expect(value(s, k, 'Exp')).toMatchObject({ type: 'expand', value: '%SystemRoot%\\x' });
    expect([...(value(s, k, 'Big')!.value as Uint8Array)]).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
  });

  it('round-trips any single-line string written with regedit escapes', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !/[\r\n\0]/.test(s)),
        fc.string({ maxLength: 12 }).filter((s) => !/[\r\n\0]/.test(s)),
        (data, name) => {
          const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
          const text = `Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\T]\r\n"${esc(name)}"="${esc(data)}"\r\n`;
          const s = parseRegistryText(encodeRegFile(text));
          expect(value(s, 'HKEY_CURRENT_USER\\Software\\T', name)?.value).toBe(data);
        },
      ),
      { seed: 0x5eed, numRuns: 300 },
    );
  });

  it('throws only RegistryParseError on random bytes and on every truncation of a fixture', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseRegistryText(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(RegistryParseError);
        }
      }),
      { seed: 42, numRuns: 500 },
    );
    const text = new TextDecoder().decode(fixture('syntax-hand-written.utf8.reg'));
    for (let n = 0; n <= text.length; n++) {
      try {
        parseRegistryText(new TextEncoder().encode(text.slice(0, n)));
      } catch (e) {
        expect(e).toBeInstanceOf(RegistryParseError);
      }
    }
  });
});

describe('checkRegistry', () => {
  it.each(
    ALL_VERSIONS.flatMap(
      (v) =>
        [
          [v, 'utf16'],
          [v, 'utf8'],
        ] as const,
    ),
  )('passes the configured %s export (%s)', (os, enc) => {
    const report = checkRegistry(parseFixture(`${os}.configured.${enc}.reg`), os);
    expect(report.os).toBe(os);
    expect(report.checks.map((c) => [c.path, c.name, c.expected, c.actual, c.status])).toEqual([
      [CLIENT, 'Enabled', 1, 1, 'ok'],
      [CLIENT, 'DisabledByDefault', 0, 0, 'ok'],
      [NET64, 'SystemDefaultTlsVersions', 1, 1, 'ok'],
      [NET64, 'SchUseStrongCrypto', 1, 1, 'ok'],
      [NET32, 'SystemDefaultTlsVersions', 1, 1, 'ok'],
      [NET32, 'SchUseStrongCrypto', 1, 1, 'ok'],
    ]);
    expect(report.tls12).toBe('enabled');
    expect(report.dotnetStrongCrypto).toBe(true);
    expect(report.fix).toBeNull();
    expect(report.prerequisites.map((p) => p.kb)).toEqual(KB_FOR[os] === undefined ? [] : [KB_FOR[os]]);
  });

  it.each(
    ALL_VERSIONS.flatMap(
      (v) =>
        [
          [v, 'utf16'],
          [v, 'utf8'],
        ] as const,
    ),
  )('judges the as-installed %s export (%s) by that version’s defaults', (os, enc) => {
    const report = checkRegistry(parseFixture(`${os}.defaults.${enc}.reg`), os);
    const schannel = TLS12_ON_BY_DEFAULT.has(os) ? 'missing-ok' : 'missing';
    expect(report.checks.map((c) => c.status)).toEqual([
      schannel,
      schannel,
      'missing',
      'missing',
      'missing',
      'missing',
    ]);
    expect(report.checks.every((c) => c.actual === null)).toBe(true);
    expect(report.tls12).toBe(TLS12_ON_BY_DEFAULT.has(os) ? 'enabled' : 'disabled');
    expect(report.dotnetStrongCrypto).toBe(false);
    expect(report.notes.some((n) => n.includes('10054'))).toBe(true);
  });

  it('without --os, calls absent SChannel values missing, TLS 1.2 unknown, and says what differs by version', () => {
    const report = checkRegistry(parseFixture('2012r2.defaults.utf16.reg'), null);
    expect(report.os).toBeNull();
    expect(status(report, CLIENT, 'Enabled')).toBe('missing');
    expect(report.tls12).toBe('unknown');
    expect(report.prerequisites.map((p) => [p.kb, p.appliesTo])).toEqual([
      ['KB4019276', ['2008']],
      ['KB3140245', ['2008r2', '7', '2012']],
    ]);
    const notes = report.notes.join('\n');
    expect(notes).toMatch(/2008 SP2.*KB4019276/);
    expect(notes).toMatch(/2012 R2.*enabled by default/);
    expect(notes).toMatch(/--os 2012r2/);
  });

  it.each(ALL_VERSIONS)('recognises %s from the file’s Windows NT\\CurrentVersion key', (os) => {
    expect(detectWindowsVersion(parseFixture(`${os}.defaults.utf8.reg`))?.version).toBe(os);
  });

  it('says when --os disagrees with the file', () => {
    const report = checkRegistry(parseFixture('2016.configured.utf16.reg'), '2012r2');
    expect(report.notes.join('\n')).toMatch(/--os says Windows Server 2012 R2 but .* says Windows Server 2016/);
  });

  it('finds missing .NET values while SChannel is fine', () => {
    const report = checkRegistry(parseFixture('broken-dotnet-missing.reg'), '2016');
    expect(report.checks.map((c) => c.status)).toEqual(['ok', 'ok', 'missing', 'missing', 'missing', 'missing']);
    expect(report.tls12).toBe('enabled');
    expect(report.dotnetStrongCrypto).toBe(false);
  });

  it('finds wrong values and reports what the file holds', () => {
    const report = checkRegistry(parseFixture('broken-wrong-values.reg'), '2008r2');
    expect(report.checks.map((c) => [c.status, c.actual])).toEqual([
      ['ok', 1],
      ['wrong', 1],
      ['ok', 1],
      ['wrong', 0],
      ['wrong', 2],
      ['ok', 1],
    ]);
    expect(report.tls12).toBe('disabled');
    expect(report.prerequisites.map((p) => p.kb)).toEqual(['KB3140245']);
  });

  it('calls TLS 1.2 disabled when Enabled is 0, even where it is on by default', () => {
    const report = checkRegistry(parseFixture('broken-enabled-0.reg'), '2019');
    expect(status(report, CLIENT, 'Enabled')).toBe('wrong');
    expect(actual(report, CLIENT, 'Enabled')).toBe(0);
    expect(report.tls12).toBe('disabled');
    expect(report.dotnetStrongCrypto).toBe(true);
  });

  it('needs the WOW6432Node .NET key as well as the 64-bit one', () => {
    const report = checkRegistry(parseFixture('broken-only-64bit-dotnet.reg'), '2022');
    expect(report.checks.map((c) => c.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'missing', 'missing']);
    expect(report.dotnetStrongCrypto).toBe(false);
  });

  it('accepts any nonzero Enabled and rejects values that are not REG_DWORD', () => {
    const report = checkRegistry(parseFixture('broken-wrong-types.reg'), '2016');
    expect(status(report, CLIENT, 'Enabled')).toBe('ok');
    expect(actual(report, CLIENT, 'Enabled')).toBe(0xffffffff);
    expect(status(report, NET64, 'SchUseStrongCrypto')).toBe('wrong');
    expect(actual(report, NET64, 'SchUseStrongCrypto')).toBeNull();
    expect(status(report, NET64, 'SystemDefaultTlsVersions')).toBe('wrong');
    const notes = report.notes.join('\n');
    expect(notes).toMatch(/SchUseStrongCrypto is REG_SZ/);
    expect(notes).toMatch(/SystemDefaultTlsVersions is REG_QWORD/);
    expect(notes).toMatch(/0xffffffff/);
  });

  it('reads SChannel from the control set SYSTEM\\Select names when CurrentControlSet was not exported', () => {
    const report = checkRegistry(parseFixture('control-set-001.reg'), '2008r2');
    expect(report.checks.map((c) => c.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(report.notes.join('\n')).toMatch(/ControlSet001/);
  });

  it('checks reg query output like a .reg export', () => {
    expect(
      checkRegistry(parseFixture('reg-query-2012r2-configured.ps-utf16.txt'), '2012r2').checks.every(
        (c) => c.status === 'ok',
      ),
    ).toBe(true);
    const win7 = checkRegistry(parseFixture('reg-query-7-defaults.cmd.txt'), '7');
    expect(win7.checks.map((c) => c.status)).toEqual([
      'missing',
      'missing',
      'missing',
      'missing',
      'missing',
      'missing',
    ]);
    expect(win7.tls12).toBe('disabled');
    expect(win7.prerequisites.map((p) => p.kb)).toEqual(['KB3140245']);
    const pasted = checkRegistry(parseFixture('reg-query-2019-hklm.txt'), '2019');
    expect(pasted.checks.map((c) => c.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'missing', 'ok']);
  });

  it('notes a key the file deletes', () => {
    const s = parseRegistryText(
      utf8([
        'Windows Registry Editor Version 5.00',
        '',
        '[-HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework]',
        '',
      ]),
    );
    expect(checkRegistry(s, '10').notes.join('\n')).toMatch(
      /deletes .*WOW6432NODE.*removes HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node/,
    );
  });
});

describe('renderFixReg and the fix', () => {
  const broken = [
    ...ALL_VERSIONS.map((v) => [`${v}.defaults.utf16.reg`, v] as const),
    ['broken-dotnet-missing.reg', '2016'],
    ['broken-wrong-values.reg', '2008r2'],
    ['broken-enabled-0.reg', '2019'],
    ['broken-only-64bit-dotnet.reg', '2022'],
    ['broken-wrong-types.reg', '2016'],
    ['reg-query-7-defaults.cmd.txt', '7'],
    ['reg-query-2019-hklm.txt', '2019'],
    ['2012r2.defaults.utf8.reg', null],
    ['shell-injection.reg', '2012'],
  ] as const;

  it.each(broken)('fixes %s (os %s): the fix merged with the original passes', (name, os) => {
    const snapshot = parseFixture(name);
    const report = checkRegistry(snapshot, os);
    const after = afterFix(snapshot, report, os);
    expect(after.checks.filter((c) => c.status === 'missing' || c.status === 'wrong')).toEqual([]);
    expect(after.tls12).toBe('enabled');
    expect(after.dotnetStrongCrypto).toBe(true);
    expect(after.fix).toBeNull();
  });

  it('writes the header, one section per key and 8-digit dword lines, with CRLF endings', () => {
    const report = checkRegistry(parseFixture('2012.defaults.utf16.reg'), '2012');
    expect(report.fix).toBe(
      [
        'Windows Registry Editor Version 5.00',
        '',
        `[${CLIENT}]`,
        '"Enabled"=dword:00000001',
        '"DisabledByDefault"=dword:00000000',
        '',
        `[${NET64}]`,
        '"SystemDefaultTlsVersions"=dword:00000001',
        '"SchUseStrongCrypto"=dword:00000001',
        '',
        `[${NET32}]`,
        '"SystemDefaultTlsVersions"=dword:00000001',
        '"SchUseStrongCrypto"=dword:00000001',
        '',
        '',
      ].join('\r\n'),
    );
  });

  it('leaves out SChannel values that are fine absent on the stated version', () => {
    const fix = checkRegistry(parseFixture('2012r2.defaults.utf16.reg'), '2012r2').fix!;
    expect(fix).not.toContain('SCHANNEL');
    expect(fix).toContain(NET32);
  });

  it('is only the header when nothing needs fixing', () => {
    const report = checkRegistry(parseFixture('2019.configured.utf16.reg'), '2019');
    expect(renderFixReg(report.checks)).toBe('Windows Registry Editor Version 5.00\r\n\r\n');
  });

  it('encodes .reg files as UTF-16LE with a byte-order mark', () => {
    const bytes = encodeRegFile('REGEDIT4\r\n');
    expect([...bytes.subarray(0, 6)]).toEqual([0xff, 0xfe, 0x52, 0x00, 0x45, 0x00]);
    expect(Buffer.from(bytes.subarray(2)).toString('utf16le')).toBe('REGEDIT4\r\n');
  });
});

describe('renderRegistryReport', () => {
  it('prints verdicts, one line per value, prerequisites and what to set, as plain text', () => {
    const text = renderRegistryReport(checkRegistry(parseFixture('2012.defaults.utf8.reg'), '2012'));
    expect(text).toMatch(/^Windows registry check for TLS 1.2: Windows Server 2012\n/);
    expect(text).toContain('SChannel TLS 1.2 client: disabled');
    expect(text).toMatch(/Enabled +MISSING +expected 1, found absent/);
    expect(text).toContain('KB3140245 (Windows Server 2008 R2, Windows 7, Windows Server 2012)');
    expect(text).toContain('To fix: set 6 values');
    expect(text).toContain(
      'HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319\\SchUseStrongCrypto = 1 (REG_DWORD)',
    );
    expect(text).not.toMatch(/\x1b\[/);
  });

  it('says when there is nothing to fix and shows values in hex past 9', () => {
    const text = renderRegistryReport(checkRegistry(parseFixture('broken-wrong-types.reg'), '2016'));
    expect(text).toMatch(/Enabled +ok +expected 1, found 0xffffffff/);
    expect(text).toMatch(/SchUseStrongCrypto +WRONG +expected 1, found not a REG_DWORD/);
    expect(renderRegistryReport(checkRegistry(parseFixture('11.configured.utf8.reg'), '11'))).toContain(
      'Nothing to fix.',
    );
  });
});

describe('tls12ClientRemediation', () => {
  it('names the guidance keys', () => {
    expect(SCHANNEL_TLS12_CLIENT_KEY).toBe(CLIENT);
    expect(DOTNET_KEYS).toEqual([NET64, NET32]);
  });

  it('puts the update first where one is needed, then SChannel, then .NET', () => {
    const steps = tls12ClientRemediation('2008');
    expect(steps.map((s) => s.kind)).toEqual(['update', 'registry', 'registry']);
    expect(steps[0]).toMatchObject({ kb: 'KB4019276', appliesTo: ['2008'] });
    expect(steps[1]!.keys!.map((k) => [k.path, k.name, k.value])).toEqual([
      [CLIENT, 'Enabled', 1],
      [CLIENT, 'DisabledByDefault', 0],
    ]);
    expect(steps[2]!.keys!.map((k) => [k.path, k.name, k.value])).toEqual([
      [NET64, 'SystemDefaultTlsVersions', 1],
      [NET64, 'SchUseStrongCrypto', 1],
      [NET32, 'SystemDefaultTlsVersions', 1],
      [NET32, 'SchUseStrongCrypto', 1],
    ]);
  });

  it('needs no update and no SChannel keys where TLS 1.2 is on by default', () => {
    const steps = tls12ClientRemediation('2016');
    expect(steps.map((s) => s.kind)).toEqual(['registry', 'registry']);
    expect(steps[0]!.text).toMatch(/enabled by default .* absent keys are fine/);
  });

  it('lists both updates with their versions when the version is unknown', () => {
    const updates = tls12ClientRemediation(null).filter((s) => s.kind === 'update');
    expect(updates.map((u) => [u.kb, u.appliesTo])).toEqual([
      ['KB4019276', ['2008']],
      ['KB3140245', ['2008r2', '7', '2012']],
    ]);
  });
});

describe('windows versions', () => {
  it.each([
    ['2012r2', '2012r2'],
    ['Server 2012 R2', '2012r2'],
    ['Windows Server 2008 SP2', '2008'],
    ['win7', '7'],
    ['Windows 8.1', '8.1'],
    ['vista', null],
    ['2025', null],
  ])('parses %j as %j', (text, version) => {
    expect(parseWindowsVersion(text)).toBe(version);
  });

  it('tells Windows 11 from 10 by build, since its ProductName says Windows 10', () => {
    expect(
      windowsVersionFromNt({
        productName: 'Windows 10 Pro',
        installationType: 'Client',
        currentVersion: '6.3',
        currentBuild: 22631,
      }),
    ).toBe('11');
    expect(
      windowsVersionFromNt({
        productName: 'Windows 10 Pro',
        installationType: 'Client',
        currentVersion: '6.3',
        currentBuild: 19045,
      }),
    ).toBe('10');
    expect(
      windowsVersionFromNt({
        productName: 'Windows Server 2025 Standard',
        installationType: 'Server',
        currentVersion: '6.3',
        currentBuild: 26100,
      }),
    ).toBeNull();
  });
});
