/**
 * Which modules a CLI run loads, and when: an `--import` hook that writes each module Node loads
 * (`loaded TIME URL`, through `module.register`, on a loader thread of its own) and the run's first
 * TCP connection (`connect TIME`, through `net.Socket.prototype.connect` on the main thread) to
 * stderr, with wall-clock times (timeOrigin + now) comparable across the two threads.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes the hook into `dir` and returns its path, for `node --import PATH …`. */
export function writeModuleTraceHook(dir: string): string {
  const hook = join(dir, 'module-trace-hook.mjs');
  writeFileSync(
    hook,
    `import { register } from 'node:module';
import net from 'node:net';
register('data:text/javascript,' + encodeURIComponent(
  'export async function load(url, context, next) { process.stderr.write("loaded " + (performance.timeOrigin + performance.now()) + " " + url + "\\\\n"); return next(url, context); }'));
let first = true;
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  if (first) process.stderr.write("connect " + (performance.timeOrigin + performance.now()) + "\\n");
  first = false;
  return connect.apply(this, args);
};
`,
  );
  return hook;
}

/** What a traced run's stderr says: the file modules loaded, in order, and when it first connected. */
export function tracedModules(stderr: string): { loads: { at: number; url: string }[]; connectAt: number | null } {
  const lines = stderr.split('\n');
  const connect = lines.find((l) => l.startsWith('connect '));
  const loads = lines
    .filter((l) => l.startsWith('loaded ') && l.includes(' file:'))
    .map((l) => {
      const [, at, url] = l.split(' ');
      return { at: Number(at), url: url! };
    });
  return { loads, connectAt: connect === undefined ? null : Number(connect.split(' ')[1]) };
}
