/** Types of scripts/schemas.mjs, the JSON Schema generator, for the tests that import it. */
export declare const SCHEMA_VERSION: string;
export declare const SCHEMA_COMMANDS: readonly string[];
export declare function buildSchemas(): Record<string, object>;
export declare function schemaText(schema: object): string;
export declare const COPIED_ENUMS: Readonly<
  Record<'PROBE_VERSIONS' | 'WINDOWS_VERSIONS' | 'VERDICT_CODES' | 'HELLO_CAUSES', readonly string[]>
>;
