/** `tlsprobe schema COMMAND`: print the JSON Schema of a command's --json / --ndjson output. */
import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { UserError } from '../exit-codes.js';
import { packageFileUrl } from '../../io/package-file.js';
import type { CliContext } from '../context.js';

/** The commands whose output has a schema (schemas/COMMAND.schema.json, made by scripts/schemas.mjs). */
export const SCHEMA_COMMANDS = [
  'probe',
  'diagnose',
  'clients',
  'chain',
  'roots',
  'registry',
  'capture',
  'replay',
  'decode',
] as const;

interface SchemaArgs {
  command?: string;
}

/** Returns the text of the schema file of `command` as shipped in the package's schemas/ folder. */
export function schemaFileText(command: string): string {
  return readFileSync(packageFileUrl(`schemas/${command}.schema.json`), 'utf8');
}

export function schemaCommand(ctx: CliContext): CommandModule<object, SchemaArgs> {
  return {
    command: 'schema [command]',
    describe: "Print the JSON Schema (draft 2020-12) of a command's --json/--ndjson output",
    builder: (y: Argv) =>
      y
        .positional('command', {
          type: 'string',
          describe: `one of ${SCHEMA_COMMANDS.join(', ')}; without it, the list`,
        })
        .example('$0 schema probe', 'the schema of probe --json and of each --ndjson line')
        .epilog(
          'Every JSON output is an envelope { "schemaVersion", "command", … } with one shape per command; NDJSON lines are the same envelope holding one item.',
        ) as unknown as Argv<SchemaArgs>, // the chain's inferred options type is not assignable to SchemaArgs, the shape the handler reads
    handler: (args) => {
      if (args.command === undefined || args.command === '') {
        ctx.out(SCHEMA_COMMANDS.join('\n'));
        return;
      }
      const name = args.command === 'pcap' ? 'capture' : args.command;
      if (!(SCHEMA_COMMANDS as readonly string[]).includes(name))
        throw new UserError(`no schema for "${args.command}": use one of ${SCHEMA_COMMANDS.join(', ')}`);
      ctx.out(schemaFileText(name).trimEnd());
    },
  };
}
