/**
 * Where the files shipped beside the code live (package.json, data/, schemas/): the package's root,
 * two levels above this module. That holds for every form the code runs in: src/io/ under vitest,
 * dist/io/ as compiled by tsc, and the bundled CLI, whose files all sit in dist/bundle/ (one
 * folder, two levels below the root, like every compiled folder: scripts/build-bundle.mjs keeps it
 * so and checks that this module finds package.json from there). Every read of a shipped file goes
 * through here, so no module's own depth in the tree decides where the files are.
 */

/** Returns the URL of `rel` (a '/'-separated path such as 'data/roots/') under the package's root. */
export function packageFileUrl(rel: string): URL {
  return new URL(`../../${rel}`, import.meta.url);
}
