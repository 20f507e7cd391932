/**
 * Issue 8, part 3 (the CI slice of `npm run soak`): 500 probes with mixed outcomes against the
 * hostile lab and the main lab's real TLS servers, in this process. Every outcome must be the one its
 * endpoint yields, and once both labs are closed no socket, server or timer may be left behind.
 */
import { describe, expect, it } from 'vitest';
import { runHostileLoad } from '../../src/lab/hostile-load.js';

/** Probes in the CI run: enough to pass every endpoint and version many times over. */
const CI_PROBES = 500;

describe('runHostileLoad', () => {
  it(`runs ${CI_PROBES} probes with mixed outcomes, each as expected, and leaves no handle behind`, async () => {
    const report = await runHostileLoad({ probes: CI_PROBES, concurrency: 40, readTimeoutMs: 1500 });
    expect(report.probes).toBe(CI_PROBES);
    expect(report.unexpected).toEqual([]);
    // Mixed: at least reset, closed, timeout, alert, malformed, mismatch and negotiated.
    for (const kind of ['negotiated', 'alert', 'reset', 'closed', 'timeout', 'malformed', 'mismatch']) {
      expect(report.outcomes[kind] ?? 0, kind).toBeGreaterThan(0);
    }
    const leaked = Object.entries(report.handlesAfter).filter(([k, n]) => n > (report.handlesBefore[k] ?? 0));
    expect(leaked).toEqual([]);
    // Bounded memory: what a probe keeps is capped (1 MiB received at most), and nothing accumulates.
    expect(report.rssPeak - report.rssBefore).toBeLessThan(300 * 1024 * 1024);
    expect(report.maxProbeMs).toBeLessThan(10_000);
    console.log(
      `load: ${report.probes} probes in ${(report.elapsedMs / 1000).toFixed(1)} s, peak RSS ${(report.rssPeak / 2 ** 20).toFixed(0)} MiB, outcomes ${JSON.stringify(report.outcomes)}`,
    );
  }, 60_000);

  it('refuses a probe count that is not a positive integer', async () => {
    await expect(runHostileLoad({ probes: 0 })).rejects.toThrow(RangeError);
  });
});
