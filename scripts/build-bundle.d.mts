/** Types of scripts/build-bundle.mjs, the bundler of the CLI, for the tests that import it. */
export declare const YARGS_LAZY: readonly (readonly [string, string])[];
export declare function yargsForBundle(text: string): string;
export declare function buildBundle(outdir: string): Promise<unknown>;
