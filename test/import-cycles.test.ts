/**
 * No import cycle in src/ (issue 15): every relative import of every module, type-only imports
 * and re-exports included (a cycle of types still ties two layers into one), as a graph searched
 * for a cycle. Prints the cycle found, module by module.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';

const SRC = join(REPO_ROOT, 'src');

function modules(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? modules(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** `import … from './x.js'`, `export … from`, `import('./x.js')`: the relative specifiers. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** Returns each module's relative imports, resolved to the .ts files of src/. */
function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of modules(root)) {
    const text = readFileSync(file, 'utf8');
    const deps = [...text.matchAll(SPECIFIER)].map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
    graph.set(
      file,
      deps.filter((d) => d.startsWith(root)),
    );
  }
  return graph;
}

/** Returns one cycle of `graph` as a list of modules (first repeated last), or null. */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (m: string): string[] | null => {
    state.set(m, 'open');
    stack.push(m);
    for (const d of graph.get(m) ?? []) {
      if (state.get(d) === 'open') return [...stack.slice(stack.indexOf(d)), d];
      if (state.get(d) === undefined) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(m, 'done');
    return null;
  };
  for (const m of graph.keys()) {
    if (state.get(m) !== undefined) continue;
    const c = visit(m);
    if (c) return c;
  }
  return null;
}

describe('import graph of src/', () => {
  it('finds a cycle when there is one (the search itself)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(findCycle(g)).toEqual(['a', 'b', 'c', 'a']);
    expect(
      findCycle(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toBeNull();
  });

  it('reads type-only imports and re-exports as edges', () => {
    const g = importGraph(SRC);
    const transport = join(SRC, 'probe/transport.ts');
    expect(g.get(transport)).toContain(join(SRC, 'probe/dialogue.ts'));
    expect(g.get(join(SRC, 'index.ts'))!.length).toBeGreaterThan(10);
  });

  it('has no import cycle', () => {
    const cycle = findCycle(importGraph(SRC));
    expect(cycle?.map((m) => relative(REPO_ROOT, m)).join(' → ') ?? null).toBeNull();
  });
});
