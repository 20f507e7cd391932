// Shared by the repo's scripts: prints a script's header comment as its usage and exits.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Prints the `//` header of the script at `scriptUrl` (its usage), after `problem` if any; exits 2 on a problem, else 0. */
export function usage(scriptUrl, name, problem) {
  const text = readFileSync(fileURLToPath(scriptUrl), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('//'))
    .map((l) => l.slice(3))
    .join('\n');
  if (problem) console.error(`${name}: ${problem}\n`);
  console.error(text);
  process.exit(problem ? 2 : 0);
}
