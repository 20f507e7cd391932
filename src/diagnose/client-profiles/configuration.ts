/**
 * Registry keys and values the client configurations name, and `configuration()`, which returns a
 * `ClientConfiguration` with its one-sentence state. Sources: the endpoint owner's guidance (SChannel
 * TLS 1.2 client keys; .NET v4.0.30319 keys in both views; KB4019276, KB3140245), Microsoft's
 * KB3140245 article (WinHTTP `DefaultSecureProtocols`, 0x800 = TLS 1.2, 0x200 = TLS 1.1) and
 * "Transport Layer Security (TLS) best practices with the .NET Framework" (the v2.0.50727 keys for
 * .NET 3.5, which the .NET 3.5.1 TLS update of May 2016 reads).
 */
import { DOTNET_KEYS, SCHANNEL_TLS12_CLIENT_KEY } from '../remediation.js';
import { WINDOWS_VERSION_INFO, type WindowsVersion } from '../windows-versions.js';
import type { ClientConfiguration, ClientStack, RegistryState, UpdateState } from './types.js';

export { SCHANNEL_TLS12_CLIENT_KEY };
export const DOTNET4_KEY_64 = DOTNET_KEYS[0]!;
export const DOTNET4_KEY_32 = DOTNET_KEYS[1]!;
export const DOTNET2_KEY_64 = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v2.0.50727';
export const DOTNET2_KEY_32 = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v2.0.50727';
export const WINHTTP_KEY_64 =
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp';
export const WINHTTP_KEY_32 =
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp';

/** KB3140245: `DefaultSecureProtocols` bit flags (0x800 TLS 1.2, 0x200 TLS 1.1); 0xA00 = both. */
export const WINHTTP_TLS11_TLS12 = 0x0a00;

/** The SChannel TLS 1.2 client values, as `enabled` says. */
export function schannelTls12(enabled: boolean | null): RegistryState[] {
  if (enabled === null) {
    return [
      { path: SCHANNEL_TLS12_CLIENT_KEY, name: 'Enabled', value: null },
      { path: SCHANNEL_TLS12_CLIENT_KEY, name: 'DisabledByDefault', value: null },
    ];
  }
  return [
    { path: SCHANNEL_TLS12_CLIENT_KEY, name: 'Enabled', value: enabled ? 1 : 0 },
    { path: SCHANNEL_TLS12_CLIENT_KEY, name: 'DisabledByDefault', value: enabled ? 0 : 1 },
  ];
}

/** `SystemDefaultTlsVersions` and `SchUseStrongCrypto` under `path` (null: absent). */
export function dotnetValues(path: string, systemDefault: number | null, strongCrypto: number | null): RegistryState[] {
  return [
    { path, name: 'SystemDefaultTlsVersions', value: systemDefault },
    { path, name: 'SchUseStrongCrypto', value: strongCrypto },
  ];
}

function describeValue(r: RegistryState): string {
  const key = r.path.replace(/^HKEY_LOCAL_MACHINE\\/, 'HKLM\\');
  return r.value === null ? `${key} ${r.name} absent` : `${key} ${r.name}=${r.value}`;
}

interface ConfigurationSpec {
  readonly os: WindowsVersion;
  readonly stack: ClientStack;
  readonly wow64?: boolean;
  readonly dotnet?: ClientConfiguration['dotnet'];
  readonly updates?: readonly UpdateState[];
  readonly registry: readonly RegistryState[];
  /** What the process is, e.g. "a 32-bit .NET 4.5 backup agent". */
  readonly process: string;
}

/** Returns the configuration `spec` describes, with its state written out. */
export function configuration(spec: ConfigurationSpec): ClientConfiguration {
  const updates = spec.updates ?? [];
  const osLabel = WINDOWS_VERSION_INFO[spec.os].label;
  const u = updates.length
    ? `; ${updates.map((x) => `${x.kb} ${x.installed ? 'installed' : 'not installed'}`).join(', ')}`
    : '';
  const r = spec.registry.length ? `; ${spec.registry.map(describeValue).join(', ')}` : '; no TLS registry values set';
  return {
    os: spec.os,
    stack: spec.stack,
    wow64: spec.wow64 ?? false,
    ...(spec.dotnet ? { dotnet: spec.dotnet } : {}),
    updates,
    registry: spec.registry,
    state: `${spec.process} on ${osLabel}${spec.wow64 ? ' (64-bit)' : ''}${u}${r}`,
  };
}
