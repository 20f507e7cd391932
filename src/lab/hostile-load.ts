/**
 * Load on the hostile lab: `runHostileLoad` drives many probes against the hostile lab and the main
 * lab's real TLS servers in one process and reports outcomes, time, RSS and the handles left
 * (`npm run soak`, test/load).
 */
import type { OutcomeKind } from '../probe/outcome.js';
import { attempt } from '../probe/attempt.js';
import { HOSTILE_BEHAVIOURS, startHostileLab } from './hostile.js';
import { startLab } from './lab.js';
import type { LabEndpointName } from './endpoints.js';

export interface HostileLoadOptions {
  /** Probes to run in all. */
  readonly probes: number;
  /** Probes in flight at once (default 40). */
  readonly concurrency?: number;
  /** The prober's idle timeout, ms (default 1000): what a `timeout` outcome costs. */
  readonly readTimeoutMs?: number;
  /** Also probe real TLS servers of the main lab (modern, reset-legacy, alert-legacy, silent-close); default true. */
  readonly realTls?: boolean;
  /** Stops the run early (the probes in flight end as `aborted`). */
  readonly signal?: AbortSignal;
  /** Called every `progressEvery` probes with the number done. */
  readonly onProgress?: (done: number) => void;
  readonly progressEvery?: number;
}

export interface HostileLoadReport {
  readonly probes: number;
  readonly elapsedMs: number;
  /** Outcomes by kind. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Probes whose outcome was not the expected one: `endpoint version: got (expected)`, at most 50 kept. */
  readonly unexpected: readonly string[];
  readonly unexpectedCount: number;
  /** Slowest single probe, ms. */
  readonly maxProbeMs: number;
  /** Resident set size before, at its sampled peak during, and after the run (bytes). */
  readonly rssBefore: number;
  readonly rssPeak: number;
  readonly rssAfter: number;
  /** Sockets, servers and timers active before the run and after everything closed (by kind). */
  readonly handlesBefore: Readonly<Record<string, number>>;
  readonly handlesAfter: Readonly<Record<string, number>>;
}

/** Hostile behaviours used by the load run: all but the endless ones, whose end is the caller's deadline. */
const LOAD_BEHAVIOURS = HOSTILE_BEHAVIOURS.filter((b) => b.name !== 'empty-records-trickle').map((b) => b.name);

/** Main-lab endpoints used by the load run and the outcome of a version each does not serve. */
const REAL_TLS: readonly { name: LabEndpointName; refused: OutcomeKind }[] = [
  { name: 'modern', refused: 'alert' },
  { name: 'reset-legacy', refused: 'reset' },
  { name: 'alert-legacy', refused: 'alert' },
  { name: 'silent-close', refused: 'closed' },
];

const LOAD_VERSIONS = ['TLS1.3', 'TLS1.2', 'TLS1.0'] as const;

/** Resource kinds that keep a process alive when left behind (stdio pipes are the process's own, opened on first write). */
const HANDLE_KINDS: ReadonlySet<string> = new Set(['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'Immediate']);

function countHandles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of process.getActiveResourcesInfo()) if (HANDLE_KINDS.has(k)) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/**
 * Returns the report of `probes` probes run against a hostile lab (and, by default, the main lab's
 * real TLS servers) started for the run and closed after it: each probe's outcome checked against
 * what its endpoint must yield, the time taken, the RSS, and the handles left once all is closed.
 * Rejects only if a lab cannot start; probe failures are counted, never thrown.
 */
export async function runHostileLoad(opts: HostileLoadOptions): Promise<HostileLoadReport> {
  if (!Number.isInteger(opts.probes) || opts.probes < 1)
    throw new RangeError(`probes must be a positive integer, got ${opts.probes}`);
  const concurrency = opts.concurrency ?? 40;
  const readTimeoutMs = opts.readTimeoutMs ?? 1000;
  const handlesBefore = countHandles();
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const t0 = performance.now();

  // Fast drips keep the run short; the behaviours stay the same.
  const hostile = await startHostileLab({ names: LOAD_BEHAVIOURS, paceMs: 2 });
  const real =
    opts.realTls === false ? null : await startLab({ names: REAL_TLS.map((r) => r.name), keyAlgorithm: 'ecdsa-p256' });
  type Plan = {
    name: string;
    address: string;
    port: number;
    expect: (v: (typeof LOAD_VERSIONS)[number]) => readonly OutcomeKind[];
  };
  const plan: Plan[] = hostile.endpoints.map((e) => ({
    name: e.name,
    address: e.host,
    port: e.port,
    expect: () => (Array.isArray(e.expect) ? e.expect : [e.expect]),
  }));
  for (const r of REAL_TLS) {
    if (!real) break;
    const e = real.endpoint(r.name);
    plan.push({
      name: r.name,
      address: e.host,
      port: e.port,
      expect: (v) => ((e.versions as readonly string[]).includes(v) ? ['negotiated'] : [r.refused]),
    });
  }

  const outcomes: Record<string, number> = {};
  const unexpected: string[] = [];
  let unexpectedCount = 0;
  let maxProbeMs = 0;
  let next = 0;
  let done = 0;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, 100);
  const worker = async (): Promise<void> => {
    while (next < opts.probes && !opts.signal?.aborted) {
      const i = next++;
      const p = plan[i % plan.length]!;
      const version = LOAD_VERSIONS[Math.floor(i / plan.length) % LOAD_VERSIONS.length]!;
      const started = performance.now();
      const r = await attempt(
        { host: 'localhost', address: p.address, port: p.port },
        { version, sni: 'localhost' },
        { readTimeoutMs, connectTimeoutMs: 5000, ...(opts.signal ? { signal: opts.signal } : {}) },
      );
      maxProbeMs = Math.max(maxProbeMs, performance.now() - started);
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      const want = p.expect(version);
      if (!want.includes(r.outcome) && r.end !== 'aborted') {
        unexpectedCount++;
        if (unexpected.length < 50)
          unexpected.push(`${p.name} ${version}: ${r.outcome} (${want.join('|')}; ${r.end}, ${r.error ?? '-'})`);
      }
      done++;
      if (opts.onProgress && done % (opts.progressEvery ?? 1000) === 0) opts.onProgress(done);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, opts.probes) }, worker));
  } finally {
    clearInterval(sampler);
    await hostile.close();
    await real?.close();
  }
  const elapsedMs = performance.now() - t0;
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  // Let close callbacks run before counting what is left.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setTimeout(resolve, 20));
  return {
    probes: done,
    elapsedMs,
    outcomes,
    unexpected,
    unexpectedCount,
    maxProbeMs,
    rssBefore,
    rssPeak,
    rssAfter: process.memoryUsage.rss(),
    handlesBefore,
    handlesAfter: countHandles(),
  };
}
