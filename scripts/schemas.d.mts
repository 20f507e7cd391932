/** Types of scripts/schemas.mjs, the JSON Schema generator, for the tests that import it. */
export declare const SCHEMA_VERSION: string;
export declare const SCHEMA_COMMANDS: readonly string[];
export declare function buildSchemas(): Record<string, object>;
export declare function schemaText(schema: object): string;
