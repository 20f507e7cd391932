/**
 * What `diagnose` says about the registry of the Windows machine it runs on: `readLocalRegistry`
 * reads the live registry (live-registry.ts) and checks its TLS 1.2 client settings (registry.ts);
 * elsewhere it returns null.
 */
import type { WindowsVersion } from './windows-versions.js';

/** What `diagnose` says about the registry of the Windows machine it runs on. */
export interface LocalRegistry {
  readonly os: WindowsVersion | null;
  readonly tls12: string | null;
  readonly dotnetStrongCrypto: boolean | null;
  readonly winhttp: readonly { path: string; status: string }[];
  readonly summary: string;
}

/**
 * Returns the live registry's verdict when running on Windows (see live-registry.ts), null
 * elsewhere; a registry that cannot be read becomes a summary, never an error of the diagnosis.
 */
export async function readLocalRegistry(os: WindowsVersion | null): Promise<LocalRegistry | null> {
  const { effectivePlatform, readLiveRegistry, checkWinHttp, LiveRegistryError } = await import('./live-registry.js');
  if (effectivePlatform() !== 'win32') return null;
  try {
    const live = await readLiveRegistry();
    const { checkRegistry } = await import('./registry.js');
    const version = os ?? live.detected?.version ?? null;
    const report = checkRegistry(live.snapshot, version);
    const winhttp = checkWinHttp(live.snapshot, version).map((c) => ({ path: c.path, status: c.status }));
    const bad = report.checks
      .filter((c) => c.status === 'missing' || c.status === 'wrong')
      .map((c) => `${c.path}\\${c.name}`);
    const badHttp = winhttp
      .filter((c) => c.status === 'missing' || c.status === 'wrong')
      .map((c) => `${c.path}\\DefaultSecureProtocols`);
    const all = [...bad, ...badHttp];
    const summary = `${version ?? 'unknown Windows version'}; SChannel TLS 1.2 client ${report.tls12}; ${all.length ? `to set: ${all.join(', ')}` : 'every TLS 1.2 value in place'} (tlsprobe registry --live for the fix).`;
    return { os: version, tls12: report.tls12, dotnetStrongCrypto: report.dotnetStrongCrypto, winhttp, summary };
  } catch (e) {
    if (!(e instanceof LiveRegistryError)) throw e;
    return { os: null, tls12: null, dotnetStrongCrypto: null, winhttp: [], summary: `not read: ${e.message}` };
  }
}
