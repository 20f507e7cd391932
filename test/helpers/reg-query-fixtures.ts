/**
 * `reg query` output of two machines, as reg.exe prints it (a blank line, the key, each value as
 * four spaces, name, four spaces, REG_ type, four spaces, data; subkeys as bare key lines; CRLF),
 * keyed by the path tlsprobe queries, for the stand-in `reg` in reg-standin/. Written from the
 * values Windows Server 2012 R2 and 2008 R2 hold after setup (plus the TLS settings each test names).
 */
type Values = readonly (readonly [name: string, type: string, data: string])[];

/** Returns one key's block as reg query prints it. */
function block(key: string, values: Values, subkeys: readonly string[] = []): string {
  const lines = ['', key, ...values.map(([n, t, d]) => `    ${n}    ${t}    ${d}`), ''];
  for (const s of subkeys) lines.push(`${key}\\${s}`);
  if (subkeys.length) lines.push('');
  return lines.join('\r\n');
}

const NT = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion';
const SCHANNEL = 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL';
const NET4 = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319';
const NET4_32 = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319';
const WINHTTP = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp';
const WINHTTP_32 =
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp';
const q = (k: string) => k.replace('HKEY_LOCAL_MACHINE', 'HKLM');

const NT_SUBKEYS = ['Accessibility', 'AeDebug', 'AppCompatFlags', 'Winlogon', 'Winsat'];
const SCHANNEL_SUBKEYS = ['Ciphers', 'CipherSuites', 'Hashes', 'KeyExchangeAlgorithms', 'Protocols'];

/**
 * Server 2012 R2 with a 32-bit backup agent: the .NET values were set in the 64-bit view only, the
 * WOW6432Node v4.0.30319 key has none, and no SChannel TLS 1.2 key (enabled by default there).
 */
export const SERVER_2012R2_AGENT32: Readonly<Record<string, string>> = {
  [q(NT)]: block(
    NT,
    [
      ['SystemRoot', 'REG_SZ', 'C:\\Windows'],
      ['CurrentBuild', 'REG_SZ', '9600'],
      ['CurrentBuildNumber', 'REG_SZ', '9600'],
      ['CurrentType', 'REG_SZ', 'Multiprocessor Free'],
      ['CurrentVersion', 'REG_SZ', '6.3'],
      ['EditionID', 'REG_SZ', 'ServerStandard'],
      ['InstallationType', 'REG_SZ', 'Server'],
      ['InstallDate', 'REG_DWORD', '0x5a1c2e4b'],
      ['ProductName', 'REG_SZ', 'Windows Server 2012 R2 Standard'],
      ['RegisteredOwner', 'REG_SZ', 'Windows User'],
      ['DigitalProductId', 'REG_BINARY', 'A40000000300000030303235322D3830303030'],
    ],
    NT_SUBKEYS,
  ),
  [q(SCHANNEL)]: block(SCHANNEL, [['EventLogging', 'REG_DWORD', '0x1']], SCHANNEL_SUBKEYS),
  [q(`${SCHANNEL}\\Protocols`)]: [
    block(`${SCHANNEL}\\Protocols`, [], ['SSL 2.0']),
    block(`${SCHANNEL}\\Protocols\\SSL 2.0`, [], ['Client']),
    block(`${SCHANNEL}\\Protocols\\SSL 2.0\\Client`, [['DisabledByDefault', 'REG_DWORD', '0x1']]),
  ].join(''),
  [q(NET4)]: block(
    NET4,
    [
      ['Install', 'REG_DWORD', '0x1'],
      ['SchUseStrongCrypto', 'REG_DWORD', '0x1'],
      ['SystemDefaultTlsVersions', 'REG_DWORD', '0x1'],
    ],
    ['SKUs'],
  ),
  [q(NET4_32)]: block(NET4_32, [['Install', 'REG_DWORD', '0x1']], ['SKUs']),
  [q(WINHTTP)]: block(WINHTTP, []),
};

/** Server 2008 R2 after KB3140245 with every value of the guidance and WinHTTP's DefaultSecureProtocols. */
export function server2008r2(opts: { winhttp: boolean }): Readonly<Record<string, string>> {
  const tls12 = (side: string) =>
    block(`${SCHANNEL}\\Protocols\\TLS 1.2\\${side}`, [
      ['DisabledByDefault', 'REG_DWORD', '0x0'],
      ['Enabled', 'REG_DWORD', '0x1'],
    ]);
  const net = (key: string) =>
    block(
      key,
      [
        ['Install', 'REG_DWORD', '0x1'],
        ['SchUseStrongCrypto', 'REG_DWORD', '0x1'],
        ['SystemDefaultTlsVersions', 'REG_DWORD', '0x1'],
      ],
      ['SKUs'],
    );
  const winhttp = (key: string) => block(key, opts.winhttp ? [['DefaultSecureProtocols', 'REG_DWORD', '0xa00']] : []);
  return {
    [q(NT)]: block(
      NT,
      [
        ['CurrentBuild', 'REG_SZ', '7601'],
        ['CurrentBuildNumber', 'REG_SZ', '7601'],
        ['CurrentVersion', 'REG_SZ', '6.1'],
        ['CSDVersion', 'REG_SZ', 'Service Pack 1'],
        ['EditionID', 'REG_SZ', 'ServerEnterprise'],
        ['InstallationType', 'REG_SZ', 'Server'],
        ['ProductName', 'REG_SZ', 'Windows Server 2008 R2 Enterprise'],
      ],
      NT_SUBKEYS,
    ),
    [q(SCHANNEL)]: block(SCHANNEL, [['EventLogging', 'REG_DWORD', '0x1']], SCHANNEL_SUBKEYS),
    [q(`${SCHANNEL}\\Protocols`)]: [
      block(`${SCHANNEL}\\Protocols`, [], ['TLS 1.2']),
      block(`${SCHANNEL}\\Protocols\\TLS 1.2`, [], ['Client', 'Server']),
      tls12('Client'),
      tls12('Server'),
    ].join(''),
    [q(NET4)]: net(NET4),
    [q(NET4_32)]: net(NET4_32),
    [q(WINHTTP)]: winhttp(WINHTTP),
    [q(WINHTTP_32)]: winhttp(WINHTTP_32),
  };
}
