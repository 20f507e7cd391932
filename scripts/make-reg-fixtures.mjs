#!/usr/bin/env node
// Makes the registry fixtures in fixtures/reg: .reg exports and saved `reg query` output for each
// Windows version the registry check supports, correct and broken, plus malformed files.
// Usage: node scripts/make-reg-fixtures.mjs
//
// The files are synthetic (no Windows machine was involved), laid out byte for byte the way the
// Windows tools write them, as Wine documents and tests against Windows:
//   - regedit / `reg export` (wine programs/reg/export.c): UTF-16LE with BOM, the header, then for
//     each key "\r\n[path]\r\n" and one line per value, a final "\r\n"; strings escape \ and ";
//     dword:%08x; other types as hex(N): bytes "%02x," wrapped with "\\\r\n  " once the line
//     reaches 77 characters; REGEDIT4 (`regedit /a`) is the same in the ANSI code page.
//   - `reg query` (wine programs/reg/tests/query.c): "\r\n" then "KEY\r\n" and
//     "    Name    REG_TYPE    data\r\n" per value, a blank line after each key's values;
//     REG_DWORD as 0x%x, REG_BINARY as upper-case hex, REG_MULTI_SZ joined with "\0".
// Values other than the TLS ones (product names, build numbers, cipher-suite order, service image
// paths) are there so the parser meets every value type and line continuation a real export has.
// This script never imports src/: the fixtures must not be made by the code they test.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'fixtures', 'reg');

const HKLM = 'HKEY_LOCAL_MACHINE';
const SCHANNEL = `${HKLM}\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL`;
const TLS12_CLIENT = `${SCHANNEL}\\Protocols\\TLS 1.2\\Client`;
const TLS12_SERVER = `${SCHANNEL}\\Protocols\\TLS 1.2\\Server`;
const NET64 = `${HKLM}\\SOFTWARE\\Microsoft\\.NETFramework`;
const NET32 = `${HKLM}\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework`;
const NT = `${HKLM}\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion`;

// ---- value constructors ---------------------------------------------------------------------
const sz = (name, value) => ({ name, type: 'sz', value });
const dword = (name, value) => ({ name, type: 'dword', value });
const qword = (name, value) => ({ name, type: 'qword', value });
const expand = (name, value) => ({ name, type: 'expand', value });
const multi = (name, value) => ({ name, type: 'multi', value });
const binary = (name, value) => ({ name, type: 'binary', value });
/** Deterministic filler bytes (a product-id blob must look like noise, not like a pattern). */
const noise = (seed, n) => {
  const out = [];
  let h = Buffer.from(seed);
  while (out.length < n) {
    h = createHash('sha256').update(h).digest();
    out.push(...h);
  }
  return Uint8Array.from(out.slice(0, n));
};

// ---- the Windows versions -------------------------------------------------------------------
// Build numbers and product names as Microsoft ships them; Windows 11 still says "Windows 10" in
// ProductName (only CurrentBuild >= 22000 tells). Server 2008 has no InstallationType value.
const VERSIONS = [
  {
    os: '2008',
    product: 'Windows Server\u00ae 2008 Standard',
    ntv: '6.0',
    build: 6002,
    type: null,
    csd: 'Service Pack 2',
    tls12Key: false,
    ssl2: true,
    arch64: true,
  },
  {
    os: '2008r2',
    product: 'Windows Server 2008 R2 Standard',
    ntv: '6.1',
    build: 7601,
    type: 'Server',
    csd: 'Service Pack 1',
    tls12Key: false,
    ssl2: true,
    arch64: true,
  },
  {
    os: '7',
    product: 'Windows 7 Professional',
    ntv: '6.1',
    build: 7601,
    type: 'Client',
    csd: 'Service Pack 1',
    tls12Key: false,
    ssl2: true,
    arch64: true,
  },
  {
    os: '2012',
    product: 'Windows Server 2012 Standard',
    ntv: '6.2',
    build: 9200,
    type: 'Server',
    csd: null,
    tls12Key: false,
    ssl2: false,
    arch64: true,
  },
  {
    os: '2012r2',
    product: 'Windows Server 2012 R2 Standard',
    ntv: '6.3',
    build: 9600,
    type: 'Server',
    csd: null,
    tls12Key: false,
    ssl2: false,
    arch64: true,
  },
  {
    os: '8.1',
    product: 'Windows 8.1 Pro',
    ntv: '6.3',
    build: 9600,
    type: 'Client',
    csd: null,
    tls12Key: false,
    ssl2: false,
    arch64: true,
  },
  {
    os: '2016',
    product: 'Windows Server 2016 Standard',
    ntv: '6.3',
    build: 14393,
    type: 'Server',
    csd: null,
    tls12Key: false,
    ssl2: false,
    arch64: true,
    major: 10,
  },
  {
    os: '2019',
    product: 'Windows Server 2019 Standard',
    ntv: '6.3',
    build: 17763,
    type: 'Server',
    csd: null,
    tls12Key: false,
    ssl2: false,
    arch64: true,
    major: 10,
  },
  {
    os: '2022',
    product: 'Windows Server 2022 Standard',
    ntv: '6.3',
    build: 20348,
    type: 'Server',
    csd: null,
    tls12Key: false,
    ssl2: false,
    arch64: true,
    major: 10,
  },
  {
    os: '10',
    product: 'Windows 10 Pro',
    ntv: '6.3',
    build: 19045,
    type: 'Client',
    csd: null,
    tls12Key: false,
    ssl2: false,
    arch64: true,
    major: 10,
  },
  {
    os: '11',
    product: 'Windows 10 Pro',
    ntv: '6.3',
    build: 22631,
    type: 'Client',
    csd: null,
    tls12Key: false,
    ssl2: false,
    arch64: true,
    major: 10,
  },
];

const CIPHER_ORDER = [
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
];

function ntKey(v) {
  const values = [
    sz('SystemRoot', 'C:\\Windows'),
    sz('PathName', 'C:\\Windows'),
    sz('CurrentVersion', v.ntv),
    sz('CurrentBuild', String(v.build)),
    sz('CurrentBuildNumber', String(v.build)),
    sz('ProductName', v.product),
  ];
  if (v.type !== null) values.push(sz('InstallationType', v.type));
  if (v.csd !== null) values.push(sz('CSDVersion', v.csd));
  if (v.major !== undefined)
    values.push(
      dword('CurrentMajorVersionNumber', v.major),
      dword('CurrentMinorVersionNumber', 0),
      dword('UBR', 3000 + (v.build % 997)),
    );
  values.push(dword('InstallDate', 0x5f000000 + v.build), binary('DigitalProductId', noise(`pid-${v.os}`, 100)));
  if (v.major !== undefined) values.push(qword('InstallTime', 0x01d6_8a2b_3c4d_5e6fn + BigInt(v.build)));
  return { path: NT, values };
}

/** The SChannel part: what the version has by default, plus the TLS 1.2 client values given. */
function schannelKeys(v, clientValues) {
  const keys = [
    { path: SCHANNEL, values: [dword('EventLogging', 1)] },
    { path: `${SCHANNEL}\\Ciphers`, values: [] },
    { path: `${SCHANNEL}\\CipherSuites`, values: [] },
    { path: `${SCHANNEL}\\Hashes`, values: [] },
    { path: `${SCHANNEL}\\KeyExchangeAlgorithms`, values: [] },
    { path: `${SCHANNEL}\\Protocols`, values: [] },
  ];
  if (v.ssl2) {
    keys.push(
      { path: `${SCHANNEL}\\Protocols\\SSL 2.0`, values: [] },
      { path: `${SCHANNEL}\\Protocols\\SSL 2.0\\Client`, values: [dword('DisabledByDefault', 1)] },
    );
  }
  if (clientValues !== null) {
    keys.push(
      { path: `${SCHANNEL}\\Protocols\\TLS 1.2`, values: [] },
      { path: TLS12_CLIENT, values: clientValues },
      { path: TLS12_SERVER, values: [dword('Enabled', 1), dword('DisabledByDefault', 0)] },
    );
  }
  return keys;
}

function otherSystemKeys(v) {
  const keys = [
    {
      path: `${HKLM}\\SYSTEM\\CurrentControlSet\\Services\\KeyIso`,
      values: [
        dword('Type', 0x20),
        dword('Start', 3),
        expand('ImagePath', '%SystemRoot%\\system32\\lsass.exe'),
        sz('ObjectName', 'LocalSystem'),
      ],
    },
  ];
  if (v.major !== undefined) {
    keys.push({
      path: `${HKLM}\\SYSTEM\\CurrentControlSet\\Control\\Cryptography\\Configuration\\Local\\SSL\\00010002`,
      values: [multi('Functions', CIPHER_ORDER)],
    });
  }
  return keys;
}

/** The .NET keys; `tls64` / `tls32` are the TLS values of the 64-bit / WOW6432Node v4.0.30319 key. */
function dotnetKeys(tls64, tls32) {
  const debuggerCmd = '"C:\\WINDOWS\\system32\\vsjitdebugger.exe" PID %d APPDOM %d EXTEXT "%s" EVTHDL %d';
  const keys = [
    {
      path: NET64,
      values: [
        sz('InstallRoot', 'C:\\Windows\\Microsoft.NET\\Framework64\\'),
        dword('Enable64Bit', 1),
        sz('DbgManagedDebugger', debuggerCmd),
        dword('DbgJITDebugLaunchSetting', 16),
      ],
    },
    { path: `${NET64}\\v4.0.30319`, values: tls64 },
    { path: `${NET64}\\v4.0.30319\\SKUs`, values: [] },
    { path: `${NET64}\\v4.0.30319\\SKUs\\.NETFramework,Version=v4.7.2`, values: [] },
  ];
  if (tls32 !== null) {
    keys.push(
      {
        path: NET32,
        values: [sz('InstallRoot', 'C:\\Windows\\Microsoft.NET\\Framework\\'), sz('DbgManagedDebugger', debuggerCmd)],
      },
      { path: `${NET32}\\v4.0.30319`, values: tls32 },
      { path: `${NET32}\\v4.0.30319\\SKUs`, values: [] },
    );
  }
  return keys;
}

const TLS_NET = () => [dword('SchUseStrongCrypto', 1), dword('SystemDefaultTlsVersions', 1)];
const TLS_CLIENT = () => [dword('DisabledByDefault', 0), dword('Enabled', 1)];

function exportFor(v, { client, net64, net32 }) {
  return [ntKey(v), ...schannelKeys(v, client), ...otherSystemKeys(v), ...dotnetKeys(net64, net32)];
}

// ---- writers --------------------------------------------------------------------------------
const MAX_HEX_CHARS = 77;

function escapeString(s) {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

function utf16le(s) {
  return Uint8Array.from(Buffer.from(s, 'utf16le'));
}

function latin1(s) {
  return Uint8Array.from(Buffer.from(s, 'latin1'));
}

function valueBytes(val, ansi) {
  const str = ansi ? latin1 : utf16le;
  switch (val.type) {
    case 'expand':
      return [2, str(`${val.value}\0`)];
    case 'multi':
      return [7, str(`${val.value.join('\0')}\0\0`)];
    case 'binary':
      return [3, val.value];
    case 'qword': {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(val.value);
      return [11, Uint8Array.from(b)];
    }
    default:
      throw new Error(val.type);
  }
}

/** One value line (possibly wrapped) as regedit writes it. */
function regValueLine(val, ansi) {
  const name = val.name === '' ? '@=' : `"${escapeString(val.name)}"=`;
  if (val.type === 'sz') return `${name}"${escapeString(val.value)}"`;
  if (val.type === 'dword') return `${name}dword:${(val.value >>> 0).toString(16).padStart(8, '0')}`;
  if (val.type === 'raw') return `${name}${val.value}`;
  const [type, bytes] = valueBytes(val, ansi);
  const prefix = type === 3 ? 'hex:' : `hex(${type.toString(16)}):`;
  let out = name + prefix;
  let lineLen = name.length + prefix.length;
  for (let i = 0; i < bytes.length; i++) {
    out += bytes[i].toString(16).padStart(2, '0');
    if (i === bytes.length - 1) break;
    out += ',';
    lineLen += 3;
    if (lineLen >= MAX_HEX_CHARS) {
      out += '\\\r\n  ';
      lineLen = 2;
    }
  }
  return out;
}

function regText(keys, { regedit4 = false } = {}) {
  let out = regedit4 ? 'REGEDIT4\r\n' : 'Windows Registry Editor Version 5.00\r\n';
  for (const k of keys) {
    out += `\r\n[${k.path}]\r\n`;
    for (const v of k.values) out += `${regValueLine(v, regedit4)}\r\n`;
  }
  return `${out}\r\n`;
}

function queryData(val) {
  switch (val.type) {
    case 'sz':
    case 'expand':
      return [val.type === 'sz' ? 'REG_SZ' : 'REG_EXPAND_SZ', val.value];
    case 'dword':
      return ['REG_DWORD', `0x${(val.value >>> 0).toString(16)}`];
    case 'qword':
      return ['REG_QWORD', `0x${val.value.toString(16)}`];
    case 'multi':
      return ['REG_MULTI_SZ', val.value.join('\\0')];
    case 'binary':
      return ['REG_BINARY', Buffer.from(val.value).toString('hex').toUpperCase()];
    default:
      throw new Error(val.type);
  }
}

/** `reg query KEY` (values, then subkey names) or `reg query KEY /s` (each key with its values). */
function queryText(keys, { recursive, rootPath, abbreviate = false }) {
  const show = (p) => (abbreviate ? p.replace(/^HKEY_LOCAL_MACHINE\\/, 'HKLM\\') : p);
  let out = '\r\n';
  const lines = (k) =>
    k.values
      .map((v) => {
        const [t, d] = queryData(v);
        return `    ${v.name === '' ? '(Default)' : v.name}    ${t}    ${d}\r\n`;
      })
      .join('');
  // The queried key's own line is printed only when it has values (query.c, test8a / test8b).
  if (recursive) {
    for (const k of keys) {
      if (k.path !== rootPath && !k.path.startsWith(`${rootPath}\\`)) continue;
      if (k.path === rootPath && k.values.length === 0) continue;
      out += `${show(k.path)}\r\n${lines(k)}`;
      out += '\r\n';
    }
    return out;
  }
  const self = keys.find((k) => k.path === rootPath);
  if (self.values.length > 0) out += `${show(rootPath)}\r\n${lines(self)}\r\n`;
  for (const k of keys) {
    const rest = k.path.slice(rootPath.length + 1);
    if (k.path.startsWith(`${rootPath}\\`) && !rest.includes('\\')) out += `${show(k.path)}\r\n`;
  }
  return out;
}

// ---- output ---------------------------------------------------------------------------------
const written = [];

function write(name, bytes, description) {
  writeFileSync(join(outDir, name), bytes);
  written.push([name, description]);
}

const asUtf16 = (text) => Uint8Array.from(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
const asUtf8 = (text, bom) =>
  Uint8Array.from(Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, 'utf8')]));
const asAnsi = (text) => Uint8Array.from(Buffer.from(text, 'latin1'));

mkdirSync(outDir, { recursive: true });
for (const f of readdirSync(outDir)) rmSync(join(outDir, f));

for (const v of VERSIONS) {
  const configured = regText(exportFor(v, { client: TLS_CLIENT(), net64: TLS_NET(), net32: TLS_NET() }));
  const defaults = regText(exportFor(v, { client: null, net64: [], net32: [] }));
  write(
    `${v.os}.configured.utf16.reg`,
    asUtf16(configured),
    `${v.product} (build ${v.build}), guidance applied: TLS 1.2 client Enabled=1/DisabledByDefault=0, both .NET keys set; regedit's UTF-16LE with BOM`,
  );
  write(
    `${v.os}.configured.utf8.reg`,
    asUtf8(configured, true),
    `same content as ${v.os}.configured.utf16.reg, UTF-8 with BOM`,
  );
  write(
    `${v.os}.defaults.utf16.reg`,
    asUtf16(defaults),
    `${v.product} as installed: no TLS 1.2 client key, .NET keys without the TLS values; UTF-16LE with BOM`,
  );
  write(
    `${v.os}.defaults.utf8.reg`,
    asUtf8(defaults, false),
    `same content as ${v.os}.defaults.utf16.reg, UTF-8 without BOM`,
  );
}

const v2008 = VERSIONS[0];
write(
  '2008.configured.regedit4.reg',
  asAnsi(regText(exportFor(v2008, { client: TLS_CLIENT(), net64: TLS_NET(), net32: TLS_NET() }), { regedit4: true })),
  'the 2008 configured export as `regedit /a` writes it: REGEDIT4 header, Windows-1252 (ProductName has a \u00ae byte), hex(2)/hex(7) strings in ANSI',
);

// Broken configurations, on a Windows Server 2016 layout.
const v2016 = VERSIONS.find((v) => v.os === '2016');
const v2008r2 = VERSIONS.find((v) => v.os === '2008r2');
write(
  'broken-dotnet-missing.reg',
  asUtf16(regText(exportFor(v2016, { client: TLS_CLIENT(), net64: [], net32: [] }))),
  'SChannel values set, both .NET v4.0.30319 keys present without SchUseStrongCrypto / SystemDefaultTlsVersions',
);
write(
  'broken-wrong-values.reg',
  asUtf16(
    regText(
      exportFor(v2008r2, {
        client: [dword('DisabledByDefault', 1), dword('Enabled', 1)],
        net64: [dword('SchUseStrongCrypto', 0), dword('SystemDefaultTlsVersions', 1)],
        net32: [dword('SchUseStrongCrypto', 1), dword('SystemDefaultTlsVersions', 2)],
      }),
    ),
  ),
  'Windows Server 2008 R2: DisabledByDefault=1, 64-bit SchUseStrongCrypto=0, WOW6432Node SystemDefaultTlsVersions=2',
);
write(
  'broken-enabled-0.reg',
  asUtf8(
    regText(
      exportFor(v2016, {
        client: [dword('DisabledByDefault', 0), dword('Enabled', 0)],
        net64: TLS_NET(),
        net32: TLS_NET(),
      }),
    ),
    true,
  ),
  'TLS 1.2 client explicitly off (Enabled=0), .NET keys fine; UTF-8 with BOM',
);
write(
  'broken-only-64bit-dotnet.reg',
  asUtf16(regText(exportFor(v2016, { client: TLS_CLIENT(), net64: TLS_NET(), net32: [] }))),
  'only the 64-bit .NET key has the values; the WOW6432Node v4.0.30319 key exists without them',
);
write(
  'broken-wrong-types.reg',
  asUtf16(
    regText(
      exportFor(v2016, {
        client: [dword('DisabledByDefault', 0), dword('Enabled', 0xffffffff)],
        net64: [sz('SchUseStrongCrypto', '1'), qword('SystemDefaultTlsVersions', 1n)],
        net32: TLS_NET(),
      }),
    ),
  ),
  'Enabled=0xffffffff (an old way to write "on"), 64-bit SchUseStrongCrypto as REG_SZ "1" and SystemDefaultTlsVersions as REG_QWORD 1',
);
write(
  'control-set-001.reg',
  asUtf16(
    regText([
      {
        path: `${HKLM}\\SYSTEM\\Select`,
        values: [dword('Current', 1), dword('Default', 1), dword('Failed', 0), dword('LastKnownGood', 2)],
      },
      ...schannelKeys(v2008r2, TLS_CLIENT()).map((k) => ({
        ...k,
        path: k.path.replace('CurrentControlSet', 'ControlSet001'),
      })),
      ...schannelKeys(v2008r2, null).map((k) => ({ ...k, path: k.path.replace('CurrentControlSet', 'ControlSet002') })),
      ...dotnetKeys(TLS_NET(), TLS_NET()),
    ]),
  ),
  'an offline-hive style export: ControlSet001 (configured) and ControlSet002 (defaults), no CurrentControlSet, SYSTEM\\Select Current=1',
);

// A hand-written patch file that uses every piece of .reg syntax regedit accepts.
const handWritten = [
  'Windows Registry Editor Version 5.00',
  '; TLS 1.2 for the backup agent -- hand-written, not exported',
  '# a hash comment on its own line is accepted too',
  '',
  '[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319\\Stale]',
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client]',
  '"Enabled"=hex(4):01,00,00,00',
  '"DisabledByDefault"=dword:0 ; one digit is enough',
  '"Obsolete"=-',
  '@="TLS 1.2 \\"client\\" side"',
  '',
  '[hkey_local_machine\\software\\microsoft\\.netframework\\v4.0.30319\\]',
  '"SchUseStrongCrypto"=dword:00000001',
  '"SystemDefaultTlsVersions"=dword:00000001',
  '"Notes"=hex(7):4c,00,69,00,6e,00,65,00,20,00,31,00,00,00,\\',
  '; a comment line between continued lines',
  '',
  '    4c,00,69,00,6e,00,65,00,20,00,32,00,00,00,00,00',
  '',
  '[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319]',
  '"SchUseStrongCrypto"=dword:00000001',
  '"SystemDefaultTlsVersions"=dword:00000001',
  '"Path"="C:\\\\Program Files (x86)\\\\Backup Agent\\\\"',
  '',
].join('\r\n');
write(
  'syntax-hand-written.utf8.reg',
  asUtf8(handWritten, false),
  'valid hand-written patch using ; and # comments, [-key], hex(4) DWORD, dword:0, "Name"=-, @=, escaped quotes, a lower-case key with trailing backslash, hex(7) continued across a comment and a blank line',
);
write('syntax-hand-written.utf16.reg', asUtf16(handWritten), 'same as syntax-hand-written.utf8.reg, UTF-16LE with BOM');

const injection = regText([
  {
    path: TLS12_CLIENT,
    values: [
      sz('Enabled', '$(rm -rf /)'),
      dword('DisabledByDefault', 0),
      sz('Backtick', '`reboot`'),
      sz('Semicolon', 'x"; rm -rf ~; echo "'),
      sz('Cmd', '%COMSPEC% /c del /q C:\\*'),
      expand('Expand', '%SystemRoot%\\$(id)'),
    ],
  },
  // biome-ignore lint/suspicious/noTemplateCurlyInString: hostile fixture data: the literal text must reach the .reg file
  { path: `${HKLM}\\SOFTWARE\\$(touch pwned)\\x`, values: [sz('', '${process.exit(1)}')] },
]);
write(
  'shell-injection.reg',
  asUtf16(injection),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the description quotes the hostile `${...}` text
  'values that look like shell / template code ("$(rm -rf /)", backticks, %COMSPEC%, ${...}); Enabled is the string "$(rm -rf /)"; every one must stay a plain string',
);

// Malformed files; the README gives the line of each problem.
const malformed = [
  [
    'malformed-dword-9-digits.reg',
    'utf16',
    [
      'Windows Registry Editor Version 5.00',
      '',
      `[${TLS12_CLIENT}]`,
      '"Enabled"=dword:00000001',
      '"DisabledByDefault"=dword:000000000',
      '',
    ],
    5,
    'dword with nine digits (regedit skips the line)',
  ],
  [
    'malformed-unterminated-string.reg',
    'utf8',
    [
      'Windows Registry Editor Version 5.00',
      '',
      `[${NET64}\\v4.0.30319]`,
      '"SchUseStrongCrypto"=dword:00000001',
      '"Comment"="no closing quote',
      '"SystemDefaultTlsVersions"=dword:00000001',
      '',
    ],
    5,
    'string value without its closing quote',
  ],
  [
    'malformed-hex-continuation.reg',
    'utf16',
    [
      'Windows Registry Editor Version 5.00',
      '',
      `[${NET64}\\v4.0.30319]`,
      '"Blob"=hex:01,02,03,\\',
      '"SchUseStrongCrypto"=dword:00000001',
      '',
    ],
    5,
    'hex data continued with "\\" into a value line (regedit would swallow SchUseStrongCrypto)',
  ],
  [
    'malformed-no-header.reg',
    'utf8',
    [`[${TLS12_CLIENT}]`, '"Enabled"=dword:00000001', ''],
    1,
    'no "Windows Registry Editor Version 5.00" line',
  ],
  [
    'malformed-hash-comment.reg',
    'utf16',
    [
      'Windows Registry Editor Version 5.00',
      '',
      `[${TLS12_CLIENT}]`,
      '"Enabled"=dword:00000001',
      '',
      '',
      '"DisabledByDefault"=dword:00000000 # off by default? no',
      '',
    ],
    7,
    'a # comment after a value (only ; may follow a value; regedit skips the line)',
  ],
  [
    'malformed-abbreviated-root.reg',
    'utf8',
    [
      'Windows Registry Editor Version 5.00',
      '',
      '[HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319]',
      '"SchUseStrongCrypto"=dword:00000001',
      '',
    ],
    3,
    'HKLM abbreviation in a .reg key line (regedit needs HKEY_LOCAL_MACHINE)',
  ],
  [
    'malformed-value-before-key.reg',
    'utf16',
    ['Windows Registry Editor Version 5.00', '', '"Enabled"=dword:00000001', ''],
    3,
    'value line before any [key] line',
  ],
];
for (const [name, enc, lines, line, what] of malformed) {
  const text = /** @type {string[]} */ (lines).join('\r\n');
  write(name, enc === 'utf16' ? asUtf16(text) : asUtf8(text, false), `MALFORMED at line ${line}: ${what}`);
}

// reg query output.
const v2012r2 = VERSIONS.find((v) => v.os === '2012r2');
const cfg2012r2 = exportFor(v2012r2, { client: TLS_CLIENT(), net64: TLS_NET(), net32: TLS_NET() });
const psOutput =
  queryText(cfg2012r2, { recursive: false, rootPath: TLS12_CLIENT }) +
  queryText(cfg2012r2, { recursive: false, rootPath: `${NET64}\\v4.0.30319` }) +
  queryText(cfg2012r2, { recursive: false, rootPath: `${NET32}\\v4.0.30319` });
write(
  'reg-query-2012r2-configured.ps-utf16.txt',
  asUtf16(psOutput),
  'three `reg query KEY` runs (TLS 1.2 Client, both v4.0.30319 keys) redirected by PowerShell 5: UTF-16LE with BOM; configured',
);

const v7 = VERSIONS.find((v) => v.os === '7');
const def7 = exportFor(v7, { client: null, net64: [], net32: null });
const cmdOutput =
  queryText(def7, { recursive: true, rootPath: SCHANNEL }) +
  queryText(def7, { recursive: true, rootPath: `${NET64}\\v4.0.30319` }) +
  'ERROR: The system was unable to find the specified registry key or value.\r\n';
write(
  'reg-query-7-defaults.cmd.txt',
  asAnsi(cmdOutput),
  'Windows 7 (32-bit: no WOW6432Node) as installed: `reg query SCHANNEL /s`, `reg query ...\\v4.0.30319 /s`, and the ERROR line of a query for the missing WOW6432Node key; cmd redirect, ANSI, CRLF',
);

const v2019 = VERSIONS.find((v) => v.os === '2019');
const mixed2019 = exportFor(v2019, { client: TLS_CLIENT(), net64: TLS_NET(), net32: [dword('SchUseStrongCrypto', 1)] });
const abbrev = (
  queryText(mixed2019, { recursive: true, rootPath: TLS12_CLIENT, abbreviate: true }) +
  queryText(mixed2019, { recursive: true, rootPath: `${NET64}\\v4.0.30319`, abbreviate: true }) +
  queryText(mixed2019, { recursive: true, rootPath: `${NET32}\\v4.0.30319`, abbreviate: true })
).replace(/\r\n/g, '\n');
write(
  'reg-query-2019-hklm.txt',
  asUtf8(abbrev, false),
  'Windows Server 2019 `reg query /s` output pasted with HKLM\\ key lines and LF endings; WOW6432Node key has SchUseStrongCrypto only',
);

write(
  'malformed-reg-query.txt',
  asUtf8(
    [
      '',
      `${HKLM}\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319`,
      '    SchUseStrongCrypto    REG_DWORD    0x1',
      '    SystemDefaultTlsVersions    REG_DWORD    1',
      '',
    ].join('\r\n'),
    false,
  ),
  'MALFORMED at line 4: reg query REG_DWORD data without 0x',
);

// README
const readme = [
  '# fixtures/reg',
  '',
  'Made by `node scripts/make-reg-fixtures.mjs` (synthetic: laid out as regedit, `reg export` and `reg query` write,',
  "per Wine's export code and its query tests run against Windows; see the script's header). Do not edit by hand.",
  '',
  '| file | what it is |',
  '|---|---|',
  ...written.map(([n, d]) => `| ${n} | ${d.replace(/\|/g, '\\|')} |`),
  '',
].join('\n');
writeFileSync(join(outDir, 'README.md'), readme);
console.log(`wrote ${written.length} fixtures and README.md to fixtures/reg`);
