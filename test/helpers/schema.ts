/**
 * Validates the CLI's JSON outputs against the shipped schemas (schemas/*.schema.json) with Ajv
 * (draft 2020-12, strict). The CLI test helpers (cli.ts: `tlsprobe()`, `runCli()`) call
 * `validateCliOutput` on every run with --json or --ndjson, so an output field that the schema
 * does not describe fails the test that produced it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { FIXTURES_DIR } from './fixtures.js';

const SCHEMAS_DIR = join(FIXTURES_DIR, '..', 'schemas');

/** Commands with a schema; aliases map to the command's own name. */
const SCHEMA_OF: Readonly<Record<string, string>> = {
  probe: 'probe',
  diagnose: 'diagnose',
  clients: 'clients',
  chain: 'chain',
  roots: 'roots',
  registry: 'registry',
  capture: 'capture',
  pcap: 'capture',
  replay: 'replay',
  decode: 'decode',
};

const ajv = new Ajv2020({ allErrors: true, strict: true });
const compiled = new Map<string, ValidateFunction>();

/** Returns the validator of `name`'s schema (compiled once). */
export function schemaValidator(name: string): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(join(SCHEMAS_DIR, `${name}.schema.json`), 'utf8')) as object);
    compiled.set(name, v);
  }
  return v;
}

/** Returns the schema name of the command `args` runs, or null when it has none (lab, schema, --help). */
export function schemaFor(args: readonly string[]): string | null {
  const word = args.find((a) => !a.startsWith('-'));
  if (word === undefined || args.includes('--help') || args.includes('-h')) return null;
  return SCHEMA_OF[word] ?? null;
}

/** Throws, naming the failing paths, when `value` (one JSON output of `tlsprobe ARGS`) does not match its command's schema. */
export function validateCliJson(args: readonly string[], value: unknown): void {
  const name = schemaFor(args);
  if (name === null) return;
  const validate = schemaValidator(name);
  if (!validate(value)) {
    const why = (validate.errors ?? [])
      .slice(0, 8)
      .map(
        (e) =>
          `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
      );
    throw new Error(`tlsprobe ${args.join(' ')}: output does not match schemas/${name}.schema.json: ${why.join('; ')}`);
  }
}

/**
 * Validates what `tlsprobe ARGS` printed when it was asked for JSON: the whole of stdout for
 * --json, every line for --ndjson. Output that is empty (the command failed before printing) is
 * left alone; output that is not JSON at all fails.
 */
export function validateCliOutput(args: readonly string[], stdout: string): void {
  if (schemaFor(args) === null || stdout.trim() === '') return;
  if (args.includes('--ndjson')) {
    for (const line of stdout.split('\n').filter((l) => l.trim() !== '')) validateCliJson(args, JSON.parse(line));
  } else if (args.includes('--json')) {
    validateCliJson(args, JSON.parse(stdout));
  }
}
