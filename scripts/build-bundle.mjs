#!/usr/bin/env node
// The bundled CLI: `npm run build` runs this after tsc. It bundles src/cli/main.ts and everything it
// can load (every command, yargs' CommonJS build, pkijs, asn1js, cli-table3; not tldts, required from
// the installed package when a wildcard name is checked: see TLDTS_IN_BUNDLE) into
// dist/bundle/: one entry file, `tlsprobe.js` (the package's `bin`), and a chunk per part that a
// command imports lazily (`await import()` stays lazy: code splitting). A one-endpoint scan then
// reads a handful of files instead of ~50 ES modules and ~20 CommonJS modules before its first
// connection (BENCHMARKS.md, "Start-up: the bundled CLI"). dist/cli/main.js (tsc's output) stays as it
// was and runs the same code unbundled.
//
// Source maps: every output file has a `.map` beside it whose sources are the TypeScript files
// under src/ (and the dependencies' files under node_modules/), so `node --enable-source-maps` and
// --cpu-prof name src/ lines, as they do for dist/cli/main.js.
//
// Usage: node scripts/build-bundle.mjs [--outdir DIR] [--metafile FILE]
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { usage as sharedUsage } from './lib/usage.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const opts = { outdir: join(REPO, 'dist/bundle'), metafile: /** @type {string | null} */ (null) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--outdir') opts.outdir = resolve(argv[++i] ?? usage('--outdir takes a directory'));
    else if (a === '--metafile') opts.metafile = resolve(argv[++i] ?? usage('--metafile takes a file'));
    else if (a === '--help' || a === '-h') usage(null);
    else usage(`unknown option ${a}`);
  }
  return opts;
}

function usage(problem) {
  return sharedUsage(import.meta.url, 'build-bundle', problem);
}

/**
 * The bundle's src/cli/yargs-cjs.ts: the same CommonJS build of yargs, but imported from a module the
 * bundler follows (YARGS_CHUNK, `module.exports = require('yargs/yargs')`), so that yargs and its 19
 * dependencies are inside the bundle, in a chunk loaded only by a command line that needs parsing.
 */
const YARGS_IN_BUNDLE =
  "export async function requireYargs() { return (await import('tlsprobe-bundle:yargs')).default; }\n";
const YARGS_CHUNK = `module.exports = require('yargs/yargs');\n`;

/**
 * yargs' CommonJS build finds its message catalogues at `__dirname/../locales` (y18n, by the
 * LANG of the environment). Inside the bundle `__dirname` would be dist/bundle/, so it is pointed
 * at the installed yargs' own build/ folder (yargs is a dependency of the package: it is installed
 * beside it), found by the `require` of the bundle file, as the unbundled CLI finds yargs.
 */
const YARGS_DIR = `require('node:path').join(require('node:path').dirname(require.resolve('yargs/package.json')), 'build')`;

/**
 * Parts of yargs' platform shim (build/index.cjs, `cjsPlatformShim`) that only help, usage errors and
 * `commandDir` use, required there when yargs itself loads: cliui with string-width, wrap-ansi,
 * ansi-styles and color-convert (rendering help), get-caller-file and require-directory
 * (`commandDir`). (node:assert stays: every parse calls its notStrictEqual.) In the bundle each is required at its first
 * call instead, through a function that forwards the call: a probe that parses its command line and
 * runs loads none of them; `--help` and a usage error load what they use. Each text must occur once.
 */
export const YARGS_LAZY = [
  ['cliui:require("cliui")', 'cliui:(...a)=>require("cliui")(...a)'],
  ['getCallerFile:require("get-caller-file")', 'getCallerFile:(...a)=>require("get-caller-file")(...a)'],
  ['requireDirectory:require("require-directory")', 'requireDirectory:(...a)=>require("require-directory")(...a)'],
  ['stringWidth:require("string-width")', 'stringWidth:(...a)=>require("string-width")(...a)'],
];

/** Returns yargs' build/index.cjs for the bundle: `__dirname` (YARGS_DIR) and YARGS_LAZY replaced. */
export function yargsForBundle(text) {
  const uses = text.split('__dirname').length - 1;
  if (uses !== 1) throw new Error(`yargs' build/index.cjs uses __dirname ${uses} times (1 expected): review YARGS_DIR`);
  let out = text.replace('__dirname', YARGS_DIR);
  for (const [from, to] of YARGS_LAZY) {
    const n = out.split(from).length - 1;
    if (n !== 1)
      throw new Error(
        `yargs' build/index.cjs holds ${JSON.stringify(from)} ${n} times (1 expected): review YARGS_LAZY`,
      );
    out = out.replace(from, to);
  }
  return out;
}

/** @type {import('esbuild').Plugin} */
const yargsPlugin = {
  name: 'tlsprobe-yargs',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]cli[\\/]yargs-cjs\.ts$/ }, () => ({
      contents: YARGS_IN_BUNDLE,
      loader: 'js',
      resolveDir: REPO,
    }));
    b.onResolve({ filter: /^tlsprobe-bundle:yargs$/ }, () => ({ path: 'yargs', namespace: 'tlsprobe-bundle' }));
    b.onLoad({ filter: /^yargs$/, namespace: 'tlsprobe-bundle' }, () => ({
      contents: YARGS_CHUNK,
      loader: 'js',
      resolveDir: REPO,
    }));
    b.onLoad({ filter: /[\\/]node_modules[\\/]yargs[\\/]build[\\/]index\.cjs$/ }, (args) => ({
      contents: yargsForBundle(readFileSync(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};

/**
 * The bundle's src/x509/tldts-cjs.ts: tldts stays out of the bundle and is required from the
 * installed package at the first call (it is a dependency, installed beside the bundle, where the
 * bundle also finds yargs' message catalogues), as the unbundled CLI requires it. Inside, its ~180 KB
 * of tables would be in the chain checker's chunk and compiled (~7 ms) by every chain check,
 * wildcard or not; the bundler's lazy `require_…()` wrapper defers only their evaluation.
 */
const TLDTS_IN_BUNDLE = "let tldts;\nexport function requireTldts() { tldts ??= require('tldts'); return tldts; }\n";

/** @type {import('esbuild').Plugin} */
const tldtsPlugin = {
  name: 'tlsprobe-tldts',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]x509[\\/]tldts-cjs\.ts$/ }, () => ({
      contents: TLDTS_IN_BUNDLE,
      loader: 'js',
      resolveDir: REPO,
    }));
    b.onResolve({ filter: /^tldts$/ }, () => ({ path: 'tldts', external: true }));
  },
};

/**
 * Every output file starts (after the entry's own `#!` line, which esbuild keeps first) with a `require` (for the CommonJS parts, which require Node's own
 * modules) made from its own URL; ES modules have none of their own.
 */
const BANNER = [
  `import { createRequire as __tlsprobeCreateRequire } from 'node:module';`,
  'const require = __tlsprobeCreateRequire(import.meta.url);',
].join('\n');

/** Bundles the CLI into `outdir`; returns esbuild's metafile. */
export async function buildBundle(outdir) {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: { tlsprobe: 'src/cli/main.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // yargs' CommonJS build: the `require` condition, as `createRequire` resolves it unbundled.
    conditions: ['node'],
    chunkNames: 'chunk-[hash]',
    sourcemap: 'linked',
    sourcesContent: false,
    banner: { js: BANNER },
    plugins: [yargsPlugin, tldtsPlugin],
    metafile: true,
    logLevel: 'warning',
    legalComments: 'eof',
  });
  // src/io/package-file.ts finds package.json two levels up: every output file must sit at that depth.
  for (const file of Object.keys(result.metafile.outputs)) {
    const rel = relative(REPO, resolve(REPO, file));
    if (dirname(rel).split(/[\\/]/).length !== 2)
      throw new Error(`${rel} is not two folders below the package root (src/io/package-file.ts)`);
  }
  const pkg = new URL('../../package.json', pathToFileURL(join(outdir, 'tlsprobe.js')));
  if (!existsSync(pkg)) throw new Error(`the bundle would not find package.json (${fileURLToPath(pkg)})`);
  return result.metafile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const meta = await buildBundle(opts.outdir);
  if (opts.metafile) (await import('node:fs')).writeFileSync(opts.metafile, JSON.stringify(meta));
}
