// Reads a V8 .cpuprofile (written by `node --cpu-prof`) and returns where the samples fell: self
// time per function (name, file:line), largest first.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO } from './env.mjs';

const sourceMaps = new Map();

/** Returns the source map beside a compiled file (`x.js.map`), or null. */
function sourceMapOf(file) {
  if (!sourceMaps.has(file)) {
    let map = null;
    if (file.endsWith('.js') && existsSync(`${file}.map`)) {
      try {
        map = { sm: new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))), dir: dirname(file) };
      } catch {
        map = null;
      }
    }
    sourceMaps.set(file, map);
  }
  return sourceMaps.get(file);
}

/** Returns `file:line` of a frame, mapped back to the TypeScript source when dist/ has a source map. */
function where(frame) {
  let url = frame.url || '';
  if (url.startsWith('file://')) url = fileURLToPath(url);
  if (url.startsWith('/')) {
    const map = sourceMapOf(url);
    const entry = map?.sm.findEntry(frame.lineNumber, frame.columnNumber);
    if (entry?.originalSource) {
      const src = entry.originalSource.startsWith('file://')
        ? fileURLToPath(entry.originalSource)
        : resolve(map.dir, entry.originalSource);
      return `${relative(REPO, src)}:${entry.originalLine + 1}`;
    }
    url = relative(REPO, url) || url;
  }
  return url ? `${url}:${frame.lineNumber + 1}` : '(native)';
}

/**
 * Returns { totalMs, top: [{ fn, where, selfMs, selfPct }], inclusive: [{ fn, where, totalMs, totalPct }] }
 * for the profile at `path`: the `limit` functions with the most self time, and the `limit`
 * functions of dist/ (our own code) with the most time including what they call (a function that
 * recurses counts once per sample). Samples in (idle)/(program) count in the total.
 */
export function summarizeProfile(path, limit = 12) {
  const prof = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (node) => `${node.callFrame.functionName || '(anonymous)'}\u0000${where(node.callFrame)}`;
  const self = new Map();
  const incl = new Map();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    total += dt;
    const node = byId.get(prof.samples[i]);
    if (!node) continue;
    const key = keyOf(node);
    self.set(key, (self.get(key) ?? 0) + dt);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const k = keyOf(byId.get(id));
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  /** @param {Map<string, number>} m @param {number} n @param {(k: string) => boolean} filter */
  const rows = (m, n, filter = (_k) => true) =>
    [...m.entries()]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => {
        const [fn, at] = k.split('\u0000');
        return { fn, where: at, ms: us / 1e3, pct: (100 * us) / total };
      });
  const top = rows(self, limit).map((x) => ({ fn: x.fn, where: x.where, selfMs: x.ms, selfPct: x.pct }));
  const ours = (k) => {
    const at = k.split('\u0000')[1];
    return (
      at !== '(native)' &&
      !at.startsWith('node:') &&
      !(at.startsWith('bench/') && !at.startsWith('bench/out/')) &&
      !at.startsWith(':')
    );
  };
  const inclusive = rows(incl, limit, ours).map((x) => ({ fn: x.fn, where: x.where, totalMs: x.ms, totalPct: x.pct }));
  return { totalMs: total / 1e3, top, inclusive };
}
