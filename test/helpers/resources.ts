/**
 * Handle accounting for leak checks: returns counts of the event-loop resources that keep a process
 * alive (sockets, servers, timers), from `process.getActiveResourcesInfo()`.
 */

/** Resource kinds that would keep the process running if left behind (not stdio pipes: the process's own). */
const KINDS: ReadonlySet<string> = new Set(['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'Immediate']);

/** Returns how many resources of each kind are active now (only the kinds that matter for leaks). */
export function activeHandles(): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of process.getActiveResourcesInfo()) if (KINDS.has(k)) out.set(k, (out.get(k) ?? 0) + 1);
  return out;
}

/** Returns how many resources of every kind are active now (sockets, servers, timers, child processes…). */
export function resources(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

/** Returns the resource kinds whose count grew since `before` (from `resources()`), as `kind: before → now`. */
export function leaked(before: ReadonlyMap<string, number>): string[] {
  const out: string[] = [];
  for (const [k, v] of resources()) if (v > (before.get(k) ?? 0)) out.push(`${k}: ${before.get(k) ?? 0} → ${v}`);
  return out;
}

/** Resolves after pending close callbacks and timers of a few ms have run. */
export async function settle(ms = 50): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setTimeout(resolve, ms));
}
