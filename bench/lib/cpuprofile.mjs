// Reads a V8 .cpuprofile (written by `node --cpu-prof`) and returns where the samples fell: self
// time per function (name, file:line), largest first.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO } from './env.mjs';

function where(frame) {
  let url = frame.url || '';
  if (url.startsWith('file://')) url = fileURLToPath(url);
  if (url.startsWith('/')) url = relative(REPO, url) || url;
  return url ? `${url}:${frame.lineNumber + 1}` : '(native)';
}

/**
 * Returns { totalMs, top: [{ fn, where, selfMs, selfPct }] } for the profile at `path`, keeping the
 * `limit` functions with the most self time. Samples in (idle)/(program) count in the total.
 */
export function summarizeProfile(path, limit = 12) {
  const prof = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    total += dt;
    const node = byId.get(prof.samples[i]);
    if (!node) continue;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'}\u0000${where(f)}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([k, us]) => {
      const [fn, at] = k.split('\u0000');
      return { fn, where: at, selfMs: us / 1e3, selfPct: (100 * us) / total };
    });
  return { totalMs: total / 1e3, top };
}
