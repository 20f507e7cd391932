/**
 * What one client configuration needs to offer TLS 1.2: `profileRemediation` returns the updates and
 * registry values that profile lacks (nothing for a profile that already offers TLS 1.2). A 32-bit
 * process on 64-bit Windows gets the WOW6432Node values; WinHTTP gets `DefaultSecureProtocols`;
 * .NET 3.5 the v2.0.50727 values. Sources as in configuration.ts. Never throws.
 */
import { ProtocolVersion as PV } from '../../tls/registry.js';
import {
  prerequisitesFor,
  SCHANNEL_TLS12_CLIENT_SETTINGS,
  type RegistrySetting,
  type Remediation,
} from '../remediation.js';
import { WINDOWS_VERSION_INFO } from '../windows-versions.js';
import { highestVersion } from './build.js';
import {
  DOTNET2_KEY_32,
  DOTNET2_KEY_64,
  DOTNET4_KEY_32,
  DOTNET4_KEY_64,
  WINHTTP_KEY_32,
  WINHTTP_KEY_64,
  WINHTTP_TLS11_TLS12,
} from './configuration.js';
import type { ClientConfiguration, ClientProfile } from './types.js';

/** The .NET 3.5.1 TLS system-default update for Windows 8.1 / Server 2012 R2 (May 2016). */
const DOTNET35_UPDATE = 'KB3154520';

const dword = (
  path: string,
  name: string,
  value: number,
  component: RegistrySetting['component'],
): RegistrySetting => ({ path, name, type: 'dword', value, component });

function neededSettings(c: ClientConfiguration): RegistrySetting[] {
  const out: RegistrySetting[] = [];
  if (WINDOWS_VERSION_INFO[c.os].tls12ClientDefault !== 'enabled') out.push(...SCHANNEL_TLS12_CLIENT_SETTINGS);
  if (c.stack === 'winhttp') {
    out.push(
      dword(WINHTTP_KEY_64, 'DefaultSecureProtocols', WINHTTP_TLS11_TLS12, 'winhttp'),
      dword(WINHTTP_KEY_32, 'DefaultSecureProtocols', WINHTTP_TLS11_TLS12, 'winhttp'),
    );
  }
  if (c.stack === 'dotnet') {
    const key =
      c.dotnet === '3.5' ? (c.wow64 ? DOTNET2_KEY_32 : DOTNET2_KEY_64) : c.wow64 ? DOTNET4_KEY_32 : DOTNET4_KEY_64;
    out.push(dword(key, 'SystemDefaultTlsVersions', 1, 'dotnet'), dword(key, 'SchUseStrongCrypto', 1, 'dotnet'));
  }
  // What the configuration already has at the needed value is not repeated.
  return out.filter((s) => !c.registry.some((r) => r.path === s.path && r.name === s.name && r.value === s.value));
}

/** Returns the updates and registry values `p` needs to offer TLS 1.2, in the order to apply them. */
export function profileRemediation(p: ClientProfile): Remediation[] {
  const c = p.configuration;
  if (c === null || highestVersion(p.shape) >= PV.TLS1_2) return [];
  const out: Remediation[] = [];
  const installed = new Set(c.updates.filter((u) => u.installed).map((u) => u.kb));
  const label = WINDOWS_VERSION_INFO[c.os].label;
  for (const pre of prerequisitesFor(c.os)) {
    if (!installed.has(pre.kb))
      out.push({
        kind: 'update',
        kb: pre.kb,
        appliesTo: [c.os],
        text: `Install ${pre.kb} on ${label}: it ${pre.note}.`,
      });
  }
  if (c.stack === 'dotnet' && c.dotnet === '3.5' && !installed.has(DOTNET35_UPDATE)) {
    out.push({
      kind: 'update',
      kb: DOTNET35_UPDATE,
      appliesTo: [c.os],
      text: `Install ${DOTNET35_UPDATE} on ${label}: it lets .NET Framework 3.5 applications use the system's TLS versions (SystemDefaultTlsVersions under v2.0.50727).`,
    });
  }
  const keys = neededSettings(c);
  if (keys.length) {
    const byPath = new Map<string, RegistrySetting[]>();
    for (const k of keys) byPath.set(k.path, [...(byPath.get(k.path) ?? []), k]);
    const parts = [...byPath].map(
      ([path, ks]) =>
        `${ks.map((k) => `${k.name}=${k.value === WINHTTP_TLS11_TLS12 ? '0x00000A00' : k.value} (REG_DWORD)`).join(' and ')} under ${path}`,
    );
    const why = c.wow64 ? ' The process is 32-bit: it reads the WOW6432Node view, so the values must be there.' : '';
    out.push({
      kind: 'registry',
      keys,
      appliesTo: [c.os],
      text: `Set ${parts.join('; ')}.${why} Restart the service afterwards.`,
    });
  }
  return out;
}
