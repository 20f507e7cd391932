/**
 * House style checks that no linter does (issue 15): a double cast through `unknown` switches the
 * type checker off for one expression, so each one says why, in a comment on the line before the
 * cast or on its own line.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';

/** Where code lives; bench/inputs holds generated data, not code. */
const ROOTS = ['src', 'test', 'bench', 'scripts'];
const SKIP_DIRS = new Set(['node_modules', 'inputs', 'out', 'fixtures']);
const CODE_FILE = /\.(?:ts|mts|cts|js|mjs|cjs)$/;
/** The cast, also when split over lines (`as unknown` then `as T` on the next line). */
const DOUBLE_CAST = /\bas\s+unknown\s+as\b/g;

function codeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIP_DIRS.has(name)) out.push(...codeFiles(path));
    } else if (CODE_FILE.test(name)) out.push(path);
  }
  return out;
}

/** True when `line` is (or ends) a comment: `// …`, `/* … *\/`, or a line inside a block comment. */
function isCommentLine(line: string): boolean {
  const t = line.trim();
  return t.startsWith('//') || t.startsWith('/*') || t.startsWith('*') || t.endsWith('*/');
}

/** Returns `line:column` of every double cast in `text` with no comment on its line or the line before. */
function uncommentedCasts(text: string): string[] {
  const lines = text.split('\n');
  const found: string[] = [];
  for (const m of text.matchAll(DOUBLE_CAST)) {
    const before = text.slice(0, m.index);
    const lineIndex = before.split('\n').length - 1;
    const line = lines[lineIndex] ?? '';
    const column = m.index - (before.lastIndexOf('\n') + 1);
    // A comment after the cast on its own line (the last line of a split cast counts too).
    const castEndLine = lineIndex + m[0].split('\n').length - 1;
    const rest = `${line.slice(column)}\n${lines.slice(lineIndex + 1, castEndLine + 1).join('\n')}`;
    const sameLine = /\/\/|\/\*/.test(rest);
    // The formatter may open the cast's parenthesis on a line of its own (`const f = (`): that line
    // belongs to the same expression, so the comment may stand above it.
    let first = lineIndex;
    while (first > 0 && /\($/.test((lines[first - 1] ?? '').trim()) && !isCommentLine(lines[first - 1] ?? '')) first--;
    const lineBefore = first > 0 && isCommentLine(lines[first - 1] ?? '');
    if (!sameLine && !lineBefore) found.push(`${lineIndex + 1}:${column + 1}`);
  }
  return found;
}

describe('double casts through unknown say why', () => {
  it('the check finds an uncommented cast and accepts a commented one', () => {
    const cast = ['as', 'unknown', 'as'].join(' ');
    expect(uncommentedCasts(`const a = 1;\nconst b = x ${cast} Y;\n`)).toEqual(['2:13']);
    expect(uncommentedCasts(`const b = x ${cast.replace(' as', '\n  as')} Y;\n`)).toEqual(['1:13']);
    expect(uncommentedCasts(`// Y is an interface: no index signature\nconst b = x ${cast} Y;\n`)).toEqual([]);
    expect(uncommentedCasts(`const b = x ${cast} Y; // an interface\n`)).toEqual([]);
    expect(uncommentedCasts(`/**\n * why\n */\nconst b = x ${cast} Y;\n`)).toEqual([]);
    // A comment before the cast on its line explains something else; a comment two lines up is too far.
    expect(uncommentedCasts(`const b = /* n */ x ${cast} Y;\n`)).toEqual(['1:21']);
    expect(uncommentedCasts(`// why\nconst a = 1;\nconst b = x ${cast} Y;\n`)).toEqual(['3:13']);
    // A cast whose parenthesis opens on the line before: the comment above that line counts.
    expect(uncommentedCasts(`// why\nconst b = (\n  x ${cast} Y\n).f;\n`)).toEqual([]);
    expect(uncommentedCasts(`const b = (\n  x ${cast} Y\n).f;\n`)).toEqual(['2:5']);
  });

  it('every one in src/, test/, bench/ and scripts/ has a comment on its line or the line before', () => {
    const missing: string[] = [];
    let files = 0;
    for (const root of ROOTS) {
      for (const file of codeFiles(join(REPO_ROOT, root))) {
        files++;
        for (const at of uncommentedCasts(readFileSync(file, 'utf8')))
          missing.push(`${relative(REPO_ROOT, file)}:${at}`);
      }
    }
    expect(files).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });
});
