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

/** Resolves after pending close callbacks and timers of a few ms have run. */
export async function settle(ms = 50): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setTimeout(resolve, ms));
}
