/**
 * House style checks that no linter does (issue 15): a double cast through `unknown` switches the
 * type checker off for one expression, so each one says why, in a comment on the line before the
 * cast or on its own line; and no file in src/ is over 600 lines, no function over 150 (counted
 * with the TypeScript compiler's syntax tree).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
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

// ---------------------------------------------------------------------------------------------
// Size: files and functions a reader can hold in mind

/** Longest .ts file in src/, in lines. */
const MAX_FILE_LINES = 600;
/** Longest function, in lines from its first token to its closing brace. */
const MAX_FUNCTION_LINES = 150;
/** Generated tables, not code anyone reads top to bottom (scripts/gen-registry.mjs writes it). */
const GENERATED_FILES: ReadonlySet<string> = new Set(['src/tls/registry-data.ts']);

/** One function too long: its name (or the name it is bound to), first line and length. */
interface LongFunction {
  readonly name: string;
  readonly line: number;
  readonly lines: number;
  /** Names of the functions it is nested in, outermost first. */
  readonly within: readonly string[];
}

/** Returns the number of lines of `text` (a final newline ends the last line, it does not start one). */
function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** Returns the name a function node has or is bound to (`const f = () => …`, `{ handler: () => … }`). */
function functionName(node: ts.Node, sf: ts.SourceFile): string {
  const named = (node as { name?: ts.Node }).name;
  if (named !== undefined) return named.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return parent.name.getText(sf);
  return '<anonymous>';
}

function isFunctionLike(node: ts.Node): boolean {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

/**
 * Returns every function in the TypeScript `text` longer than `max` lines, nested ones too, counted
 * from the line of its first token (after any comment) to the line of its last.
 */
function longFunctions(text: string, max: number = MAX_FUNCTION_LINES): LongFunction[] {
  const sf = ts.createSourceFile('file.ts', text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: LongFunction[] = [];
  const visit = (node: ts.Node, within: readonly string[]): void => {
    let inner = within;
    if (isFunctionLike(node)) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = functionName(node, sf);
      if (last - first + 1 > max) out.push({ name, line: first + 1, lines: last - first + 1, within });
      inner = [...within, name];
    }
    ts.forEachChild(node, (child) => visit(child, inner));
  };
  visit(sf, []);
  return out;
}

describe('size limits', () => {
  it('the checks find a long file and a long function, nested ones and arrows too', () => {
    const body = (n: number): string => '  x++;\n'.repeat(n);
    expect(lineCount('a\nb\n')).toBe(2);
    expect(lineCount('a\nb')).toBe(2);
    // 1 line for the header, 149 statements, 1 for the brace: 151 lines.
    expect(longFunctions(`function f() {\n${body(149)}}\n`)).toEqual([{ name: 'f', line: 1, lines: 151, within: [] }]);
    expect(longFunctions(`function f() {\n${body(148)}}\n`)).toEqual([]);
    // A leading comment does not count; an arrow takes the name it is bound to; nested ones are seen.
    const nested = `/**\n * doc\n */\nexport function outer() {\n  const inner = () => {\n${body(160)}  };\n}\n`;
    expect(longFunctions(nested).map((f) => [f.name, f.line, f.lines, f.within])).toEqual([
      ['outer', 4, 164, []],
      ['inner', 5, 162, ['outer']],
    ]);
    const method = `class C {\n  m() {\n${body(150)}  }\n}\nconst o = { handler: async () => {\n${body(150)}} };\n`;
    expect(longFunctions(method).map((f) => f.name)).toEqual(['m', 'handler']);
  });

  const sources = codeFiles(join(REPO_ROOT, 'src'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ file: relative(REPO_ROOT, f).split('\\').join('/'), text: readFileSync(f, 'utf8') }));

  it(`no .ts file in src/ is over ${MAX_FILE_LINES} lines (the generated registry table aside)`, () => {
    expect(sources.length).toBeGreaterThan(100);
    const long = sources
      .filter(({ file, text }) => !GENERATED_FILES.has(file) && lineCount(text) > MAX_FILE_LINES)
      .map(({ file, text }) => `${file}: ${lineCount(text)} lines`);
    expect(long).toEqual([]);
  });

  it(`no function in src/ is over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = sources
      .filter(({ file }) => !GENERATED_FILES.has(file))
      .flatMap(({ file, text }) => longFunctions(text).map((f) => `${file}:${f.line} ${f.name}: ${f.lines} lines`));
    expect(long).toEqual([]);
  });
});
