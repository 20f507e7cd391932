/**
 * What a Windows client needs for TLS 1.2, as data: returns the SChannel and .NET registry settings,
 * the updates that must come first on older versions, and the text that explains them; never throws.
 *
 * Source: the endpoint owner's guidance (authoritative for this project). TLS 1.2 must be enabled
 * at the SChannel level (`Enabled`=1, `DisabledByDefault`=0 under `...\Protocols\TLS 1.2\Client`;
 * the defaults on Windows Server 2012 R2 and newer, where absent keys need not be created), and
 * .NET Framework 4 must use the system's protocols with strong crypto (`SystemDefaultTlsVersions`=1,
 * `SchUseStrongCrypto`=1 under both the 64-bit and the WOW6432Node `v4.0.30319` keys). Windows
 * Server 2008 SP2 first needs KB4019276; Windows Server 2008 R2, 7 and Server 2012 need KB3140245.
 */
import { WINDOWS_VERSION_INFO, type WindowsVersion } from './windows-versions.js';

/** The SChannel key for the TLS 1.2 client side. */
export const SCHANNEL_TLS12_CLIENT_KEY =
  'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client';

/**
 * The .NET Framework 4 keys: 64-bit processes read the first, 32-bit processes on 64-bit Windows
 * read the second (registry redirection). Both matter: many backup agents are 32-bit.
 */
export const DOTNET_KEYS: readonly string[] = [
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319',
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319',
];

/** One REG_DWORD value a TLS 1.2 client needs. */
export interface RegistrySetting {
  /** Full key path, `HKEY_LOCAL_MACHINE\...`, in the case Windows shows. */
  readonly path: string;
  readonly name: string;
  readonly type: 'dword';
  readonly value: number;
  readonly component: 'schannel' | 'dotnet' | 'winhttp';
}

/** The SChannel values, in the order reports list them. */
export const SCHANNEL_TLS12_CLIENT_SETTINGS: readonly RegistrySetting[] = [
  { path: SCHANNEL_TLS12_CLIENT_KEY, name: 'Enabled', type: 'dword', value: 1, component: 'schannel' },
  { path: SCHANNEL_TLS12_CLIENT_KEY, name: 'DisabledByDefault', type: 'dword', value: 0, component: 'schannel' },
];

/** The .NET values, for each of `DOTNET_KEYS`. */
export const DOTNET_TLS_SETTINGS: readonly RegistrySetting[] = DOTNET_KEYS.flatMap((path) => [
  { path, name: 'SystemDefaultTlsVersions', type: 'dword' as const, value: 1, component: 'dotnet' as const },
  { path, name: 'SchUseStrongCrypto', type: 'dword' as const, value: 1, component: 'dotnet' as const },
]);

/** Every value the registry check looks at, SChannel first. */
export const TLS12_CLIENT_SETTINGS: readonly RegistrySetting[] = [
  ...SCHANNEL_TLS12_CLIENT_SETTINGS,
  ...DOTNET_TLS_SETTINGS,
];

/** An update that must be installed before the registry settings take effect. */
export interface Prerequisite {
  readonly kb: string;
  readonly appliesTo: readonly WindowsVersion[];
  readonly note: string;
}

export const TLS12_PREREQUISITES: readonly Prerequisite[] = [
  {
    kb: 'KB4019276',
    appliesTo: ['2008'],
    note: 'adds TLS 1.1 and TLS 1.2 to Windows Server 2008 SP2; before it TLS 1.2 does not exist and the SChannel keys do nothing',
  },
  {
    kb: 'KB3140245',
    appliesTo: ['2008r2', '7', '2012'],
    note: 'lets TLS 1.1 and TLS 1.2 be used as default secure protocols (WinHTTP DefaultSecureProtocols); install it before setting the keys',
  },
];

/**
 * What a client without TLS 1.2 looks like from the endpoint's side (the guidance's list), for
 * verdicts that must recognise it.
 */
export const TLS12_MISSING_SYMPTOMS: readonly string[] = [
  'backup and restore fail',
  'connections fail with error 10054 (connection reset by peer)',
  'the backup services do not stop or start as usual',
];

/** One thing to do about a client that cannot speak TLS 1.2. */
export interface Remediation {
  readonly kind: 'registry' | 'update' | 'network' | 'trust-store';
  readonly text: string;
  readonly keys?: readonly RegistrySetting[];
  readonly kb?: string;
  readonly appliesTo?: readonly WindowsVersion[];
}

/** Returns the prerequisites for `os`, or all of them (each naming its versions) when `os` is null. */
export function prerequisitesFor(os: WindowsVersion | null): Prerequisite[] {
  return TLS12_PREREQUISITES.filter((p) => os === null || p.appliesTo.includes(os));
}

/** Returns a `"Name"=dword:…` style line for a setting, for the remediation text. */
function describe(s: RegistrySetting): string {
  return `${s.name}=${s.value} (REG_DWORD)`;
}

/**
 * Returns what to do so that a client on `os` (or on an unstated version, with each step saying
 * where it applies) can connect with TLS 1.2: the updates first, then the SChannel values (only where
 * the version's default is not already "enabled", unless the version is unknown), then the .NET values.
 */
export function tls12ClientRemediation(os: WindowsVersion | null): Remediation[] {
  const out: Remediation[] = [];
  for (const p of prerequisitesFor(os)) {
    const where = p.appliesTo.map((v) => WINDOWS_VERSION_INFO[v].label).join(', ');
    out.push({ kind: 'update', kb: p.kb, appliesTo: p.appliesTo, text: `Install ${p.kb} on ${where}: it ${p.note}.` });
  }
  const schannelDefault = os === null ? null : WINDOWS_VERSION_INFO[os].tls12ClientDefault;
  const schannelValues = SCHANNEL_TLS12_CLIENT_SETTINGS.map(describe).join(' and ');
  if (schannelDefault === 'enabled') {
    out.push({
      kind: 'registry',
      keys: SCHANNEL_TLS12_CLIENT_SETTINGS,
      appliesTo: [os as WindowsVersion],
      text: `TLS 1.2 is enabled by default in SChannel on ${WINDOWS_VERSION_INFO[os as WindowsVersion].label}: absent keys are fine, but if ${SCHANNEL_TLS12_CLIENT_KEY} exists it must hold ${schannelValues}.`,
    });
  } else {
    const appliesTo: WindowsVersion[] = os === null ? (['2008', '2008r2', '7', '2012'] as WindowsVersion[]) : [os];
    out.push({
      kind: 'registry',
      keys: SCHANNEL_TLS12_CLIENT_SETTINGS,
      appliesTo,
      text:
        os === null
          ? `Set ${schannelValues} under ${SCHANNEL_TLS12_CLIENT_KEY}. Required on Windows Server 2008 SP2 (after KB4019276), 2008 R2, 7 and Server 2012, where the TLS 1.2 client is disabled by default; harmless on newer versions, where these are the defaults.`
          : `Set ${schannelValues} under ${SCHANNEL_TLS12_CLIENT_KEY}: the TLS 1.2 client is disabled by default on ${WINDOWS_VERSION_INFO[os].label}.`,
    });
  }
  out.push({
    kind: 'registry',
    keys: DOTNET_TLS_SETTINGS,
    text: `Set ${DOTNET_TLS_SETTINGS.slice(0, 2).map(describe).join(' and ')} under both ${DOTNET_KEYS.join(' and ')}, so that .NET Framework 4 applications (64-bit and 32-bit) use the system's TLS versions with strong crypto. Restart Windows afterwards: SChannel reads its settings at startup, .NET when a process starts.`,
  });
  return out;
}
