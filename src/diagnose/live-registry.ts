/**
 * The live registry of the Windows machine tlsprobe runs on: `readLiveRegistry` resolves with a
 * snapshot of the SChannel, .NET Framework (64-bit and WOW6432Node views, v4.0.30319 and v2.0.50727),
 * WinHTTP and `Windows NT\CurrentVersion` keys, read with `reg query` (the same text `registry FILE`
 * parses), and the Windows version they name; it rejects with `LiveRegistryError` when not on
 * Windows or when `reg` cannot be run. `checkWinHttp` returns the WinHTTP `DefaultSecureProtocols`
 * checks (KB3140245). `reg` is run without a shell, one key per call, arguments passed as a list.
 */
import { execFile } from 'node:child_process';
import { WINHTTP_KEY_32, WINHTTP_KEY_64 } from './client-profiles/configuration.js';
import { detectWindowsVersion, type DetectedWindowsVersion } from './registry.js';
import { parseRegistryText } from './registry-parse.js';
import { RegistryParseError, type RegistrySnapshot } from './registry-snapshot.js';
import { WINDOWS_VERSION_INFO, type WindowsVersion } from './windows-versions.js';

/** Thrown when the live registry cannot be read: `not-windows` or `reg-failed`. */
export class LiveRegistryError extends Error {
  override readonly name = 'LiveRegistryError';
  constructor(
    readonly code: 'not-windows' | 'reg-failed',
    message: string,
  ) {
    super(message);
  }
}

/** The keys read, each with `reg query`'s switches (`/s`: with subkeys). */
export const LIVE_REGISTRY_QUERIES: readonly (readonly string[])[] = [
  ['HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion'],
  // The SChannel key itself always exists: its presence tells the checker the keys were read.
  ['HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL'],
  ['HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols', '/s'],
  ['HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319'],
  ['HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319'],
  ['HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v2.0.50727'],
  ['HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v2.0.50727'],
  ['HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp'],
  ['HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp'],
];

/** Largest `reg query` output taken from one key (the CurrentVersion key prints ~2 KB). */
const MAX_QUERY_OUTPUT_BYTES = 4 * 1024 * 1024;
/** How long one `reg query` may take. */
const QUERY_TIMEOUT_MS = 30_000;

/** What running `reg` returned. */
export interface RegRun {
  readonly code: number;
  readonly stdout: Uint8Array;
  readonly stderr: string;
}

/** Runs `reg` with `args` (no shell); rejects only when `reg` cannot be started. */
export type RegRunner = (args: readonly string[]) => Promise<RegRun>;

/** Runs the `reg` on PATH. */
export const runReg: RegRunner = (args) =>
  new Promise((resolve, reject) => {
    execFile(
      'reg',
      [...args],
      { encoding: 'buffer', maxBuffer: MAX_QUERY_OUTPUT_BYTES, timeout: QUERY_TIMEOUT_MS, windowsHide: true },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: string | number }) | null;
        if (e && typeof e.code === 'string') return reject(e);
        resolve({
          code: e ? Number(e.code ?? 1) : 0,
          stdout: new Uint8Array(stdout),
          stderr: Buffer.from(stderr).toString('utf8'),
        });
      },
    );
  });

/**
 * Returns the platform tlsprobe treats itself as running on: `process.platform`, unless the
 * `TLSPROBE_PLATFORM` environment variable names another (a seam for tests, which run the Windows
 * code path on Linux with a stand-in `reg` on PATH).
 */
export function effectivePlatform(env: NodeJS.ProcessEnv = process.env, platform: string = process.platform): string {
  return env.TLSPROBE_PLATFORM?.trim() || platform;
}

/** `reg query`'s answer for a key that does not exist (exit code 1). */
const MISSING_KEY = /unable to find the specified registry key/i;

export interface LiveRegistry {
  readonly snapshot: RegistrySnapshot;
  /** The `reg query` output, every key concatenated, as parsed. */
  readonly text: string;
  /** Keys `reg` said do not exist. */
  readonly missingKeys: readonly string[];
  readonly detected: DetectedWindowsVersion | null;
}

/** Resolves with the live keys; rejects with LiveRegistryError off Windows or when reg fails. */
export async function readLiveRegistry(opts: { platform?: string; run?: RegRunner } = {}): Promise<LiveRegistry> {
  const platform = opts.platform ?? effectivePlatform();
  if (platform !== 'win32')
    throw new LiveRegistryError(
      'not-windows',
      `reading the live registry needs Windows (this is ${platform}): export the keys with reg export / reg query and run tlsprobe registry FILE`,
    );
  const run = opts.run ?? runReg;
  const parts: string[] = [];
  const missingKeys: string[] = [];
  for (const q of LIVE_REGISTRY_QUERIES) {
    let r: RegRun;
    try {
      r = await run(['query', ...q]);
    } catch (e) {
      throw new LiveRegistryError('reg-failed', `cannot run reg: ${(e as Error).message}`);
    }
    if (r.code !== 0) {
      if (MISSING_KEY.test(r.stderr) || MISSING_KEY.test(Buffer.from(r.stdout).toString('latin1'))) {
        missingKeys.push(q[0]!);
        continue;
      }
      throw new LiveRegistryError(
        'reg-failed',
        `reg query ${q[0]} failed (exit ${r.code}): ${r.stderr.trim().split(/\r?\n/)[0] ?? ''}`,
      );
    }
    // reg writes the console code page; these keys are ASCII. Latin-1 keeps every byte.
    parts.push(Buffer.from(r.stdout).toString('latin1'));
  }
  const text = parts.join('\r\n');
  let snapshot: RegistrySnapshot;
  try {
    snapshot = parseRegistryText(new Uint8Array(Buffer.from(text, 'latin1')));
  } catch (e) {
    if (!(e instanceof RegistryParseError)) throw e;
    throw new LiveRegistryError(
      'reg-failed',
      `reg query printed something tlsprobe cannot read: ${(e as Error).message}`,
    );
  }
  return { snapshot, text, missingKeys, detected: detectWindowsVersion(snapshot) };
}

/** Versions whose WinHTTP needs `DefaultSecureProtocols` for TLS 1.2 (KB3140245, KB4019276). */
const WINHTTP_NEEDS_DSP: ReadonlySet<WindowsVersion> = new Set(['2008', '2008r2', '7', '2012']);
/** KB3140245: the TLS 1.2 bit of `DefaultSecureProtocols`. */
const DSP_TLS12 = 0x800;

export interface WinHttpCheck {
  readonly path: string;
  readonly name: 'DefaultSecureProtocols';
  readonly actual: number | null;
  /** `ok`: TLS 1.2 bit set; `missing-ok`: absent on a version whose WinHTTP default has TLS 1.2. */
  readonly status: 'ok' | 'missing' | 'missing-ok' | 'wrong';
}

/** Returns the WinHTTP checks for both views, judged for `os` (null: absent counts as missing). */
export function checkWinHttp(snapshot: RegistrySnapshot, os: WindowsVersion | null): WinHttpCheck[] {
  return [WINHTTP_KEY_64, WINHTTP_KEY_32].map((path) => {
    const v = snapshot.keys.get(path.toUpperCase())?.get('defaultsecureprotocols');
    const actual = v?.type === 'dword' ? (v.value as number) : null;
    const needed = os === null || WINHTTP_NEEDS_DSP.has(os);
    const status = actual === null ? (needed ? 'missing' : 'missing-ok') : actual & DSP_TLS12 ? 'ok' : 'wrong';
    return { path, name: 'DefaultSecureProtocols', actual, status };
  });
}

/** Returns a sentence on the WinHTTP checks, for the text report. */
export function describeWinHttp(checks: readonly WinHttpCheck[], os: WindowsVersion | null): string {
  const bad = checks.filter((c) => c.status === 'missing' || c.status === 'wrong');
  if (!bad.length)
    return `WinHTTP: TLS 1.2 available by default${os ? ` on ${WINDOWS_VERSION_INFO[os].label}` : ''} (DefaultSecureProtocols ${checks.map((c) => (c.actual === null ? 'absent' : `0x${c.actual.toString(16)}`)).join(' / ')}).`;
  return `WinHTTP: set DefaultSecureProtocols=0x00000A00 (TLS 1.1 and 1.2; KB3140245 first) under ${bad.map((c) => c.path).join(' and ')}.`;
}
