/**
 * Windows versions the registry check knows: returns each version's name, how its SChannel treats a
 * TLS 1.2 client when the registry says nothing, and which build a registry export names; never throws.
 *
 * The TLS 1.2 defaults follow the endpoint owner's guidance, which is authoritative for this project:
 * enabled by default on Windows Server 2012 R2 and newer, 8.1, 10 and 11 (absent keys are fine
 * there); disabled by default on Windows Server 2008 R2, 7 and Server 2012 (the keys must be set);
 * absent on Windows Server 2008 SP2 until update KB4019276 adds it (then the keys must be set too).
 */

export const WINDOWS_VERSIONS = [
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
] as const;

/** A Windows version as the `--os` option spells it. */
export type WindowsVersion = (typeof WINDOWS_VERSIONS)[number];

/**
 * What SChannel does for a TLS 1.2 client when `Enabled` / `DisabledByDefault` are absent:
 * `enabled`, `disabled`, or `needs-update` (TLS 1.2 does not exist until an update adds it, and
 * after the update it is disabled until the keys are set).
 */
export type Tls12ClientDefault = 'enabled' | 'disabled' | 'needs-update';

export interface WindowsVersionInfo {
  readonly version: WindowsVersion;
  /** Product name as Microsoft writes it. */
  readonly label: string;
  readonly edition: 'server' | 'client';
  /** `CurrentMajorVersionNumber.CurrentMinorVersionNumber` (or `CurrentVersion` before Windows 10). */
  readonly ntVersion: string;
  readonly tls12ClientDefault: Tls12ClientDefault;
}

export const WINDOWS_VERSION_INFO: { readonly [V in WindowsVersion]: WindowsVersionInfo } = {
  '2008': {
    version: '2008',
    label: 'Windows Server 2008 SP2',
    edition: 'server',
    ntVersion: '6.0',
    tls12ClientDefault: 'needs-update',
  },
  '2008r2': {
    version: '2008r2',
    label: 'Windows Server 2008 R2',
    edition: 'server',
    ntVersion: '6.1',
    tls12ClientDefault: 'disabled',
  },
  '7': { version: '7', label: 'Windows 7', edition: 'client', ntVersion: '6.1', tls12ClientDefault: 'disabled' },
  '2012': {
    version: '2012',
    label: 'Windows Server 2012',
    edition: 'server',
    ntVersion: '6.2',
    tls12ClientDefault: 'disabled',
  },
  '2012r2': {
    version: '2012r2',
    label: 'Windows Server 2012 R2',
    edition: 'server',
    ntVersion: '6.3',
    tls12ClientDefault: 'enabled',
  },
  '8.1': { version: '8.1', label: 'Windows 8.1', edition: 'client', ntVersion: '6.3', tls12ClientDefault: 'enabled' },
  '2016': {
    version: '2016',
    label: 'Windows Server 2016',
    edition: 'server',
    ntVersion: '10.0',
    tls12ClientDefault: 'enabled',
  },
  '2019': {
    version: '2019',
    label: 'Windows Server 2019',
    edition: 'server',
    ntVersion: '10.0',
    tls12ClientDefault: 'enabled',
  },
  '2022': {
    version: '2022',
    label: 'Windows Server 2022',
    edition: 'server',
    ntVersion: '10.0',
    tls12ClientDefault: 'enabled',
  },
  '10': { version: '10', label: 'Windows 10', edition: 'client', ntVersion: '10.0', tls12ClientDefault: 'enabled' },
  '11': { version: '11', label: 'Windows 11', edition: 'client', ntVersion: '10.0', tls12ClientDefault: 'enabled' },
};

/** Returns true when `s` is one of `WINDOWS_VERSIONS` exactly. */
export function isWindowsVersion(s: string): s is WindowsVersion {
  return (WINDOWS_VERSIONS as readonly string[]).includes(s);
}

/**
 * Returns the version `text` names (`2012r2`, `2012R2`, `Server 2012 R2`, `win7`, `windows 8.1`…),
 * or null when it names none of `WINDOWS_VERSIONS`.
 */
export function parseWindowsVersion(text: string): WindowsVersion | null {
  const s = text
    .trim()
    .toLowerCase()
    .replace(/^(microsoft\s+)?windows\s*/, '')
    .replace(/^win\s*/, '')
    .replace(/^server\s*/, '')
    .replace(/\s*sp2$/, '')
    .replace(/\s+/g, '');
  return isWindowsVersion(s) ? s : null;
}

/**
 * First build numbers of the Windows 10 generation that tell versions apart (`CurrentBuild`):
 * Server 2016 is 14393, Server 2019 17763, Server 2022 20348; Windows 11 starts at 22000 (its
 * `ProductName` still says "Windows 10", so only the build tells).
 */
const SERVER_BUILDS: ReadonlyMap<number, WindowsVersion> = new Map([
  [14393, '2016'],
  [17763, '2019'],
  [20348, '2022'],
]);
const WINDOWS_11_FIRST_BUILD = 22000;

/** What `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion` says about the system. */
export interface NtCurrentVersion {
  readonly productName: string | null;
  /** `InstallationType`: "Server", "Server Core", "Client" (absent before Windows 7 / 2008 R2). */
  readonly installationType: string | null;
  /** `CurrentVersion`: "6.3" on 8.1 / 2012 R2 and (frozen) on Windows 10 and later. */
  readonly currentVersion: string | null;
  readonly currentBuild: number | null;
}

/**
 * Returns the Windows version that a `Windows NT\CurrentVersion` key describes, or null when the
 * values are missing or name a version outside `WINDOWS_VERSIONS` (Vista, 8, Server 2025…).
 */
export function windowsVersionFromNt(nt: NtCurrentVersion): WindowsVersion | null {
  const build = nt.currentBuild;
  if (build === null) return null;
  const name = nt.productName ?? '';
  const server = nt.installationType !== null ? /server/i.test(nt.installationType) : /server/i.test(name);
  if (build >= 10240) {
    if (server) return SERVER_BUILDS.get(build) ?? null;
    return build >= WINDOWS_11_FIRST_BUILD ? '11' : '10';
  }
  // Builds before Windows 10: Server 2008 SP2 is 6002 (6003 after the 2019 servicing update),
  // 7 / 2008 R2 SP1 7601, 8 / 2012 9200, 8.1 / 2012 R2 9600.
  if (build === 6002 || build === 6003) return server ? '2008' : null;
  if (build === 7600 || build === 7601) return server ? '2008r2' : '7';
  if (build === 9200) return server ? '2012' : null;
  if (build === 9600) return server ? '2012r2' : '8.1';
  return null;
}
