/**
 * Target lists for `probe --targets FILE`: one HOST[:PORT] a line, as `sslscan --targets` takes
 * them; blank lines and `#` comments (whole-line, or after whitespace at the end of a line) are
 * ignored. Reading returns a typed result instead of throwing, so that the CLI's one error path
 * decides the message and the exit code: every bad line is reported with its number.
 */
import { readFile } from 'node:fs/promises';
import { UserError } from './exit-codes.js';
import { readFailureText } from './io.js';
import { parseTarget, type TargetSpec } from './target.js';

/** Largest target list read: 8 MiB is ~300,000 lines, far beyond any fleet a scan should take at once. */
export const MAX_TARGET_FILE_BYTES = 8 * 1024 * 1024;

/** One target and the line it came from (1-based). */
export interface ListedTarget extends TargetSpec {
  readonly line: number;
}

/** A line that is not a target: its number (1-based), its text (as read) and why. */
export interface BadTargetLine {
  readonly line: number;
  readonly text: string;
  readonly message: string;
}

export type TargetListError =
  /** The file could not be read (`code`: ENOENT, EACCES, EISDIR, …). */
  | { readonly kind: 'unreadable'; readonly path: string; readonly code: string; readonly message: string }
  /** The file is larger than MAX_TARGET_FILE_BYTES. */
  | { readonly kind: 'too-large'; readonly path: string; readonly bytes: number }
  /** Some lines are not HOST[:PORT]. */
  | { readonly kind: 'bad-lines'; readonly path: string; readonly lines: readonly BadTargetLine[] }
  /** No target at all (only comments and blank lines). */
  | { readonly kind: 'empty'; readonly path: string };

export type TargetListResult =
  | { readonly ok: true; readonly targets: readonly ListedTarget[] }
  | { readonly ok: false; readonly error: TargetListError };

/** Returns the targets in `text` (the contents of `path`), or every bad line with its number. */
export function parseTargetList(text: string, path: string, defaultPort = 443): TargetListResult {
  const targets: ListedTarget[] = [];
  const bad: BadTargetLine[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const content = stripComment(raw).trim();
    if (content === '') return;
    try {
      targets.push({ ...parseTarget(content, defaultPort), line });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      bad.push({ line, text: raw, message: e.message });
    }
  });
  if (bad.length > 0) return { ok: false, error: { kind: 'bad-lines', path, lines: bad } };
  if (targets.length === 0) return { ok: false, error: { kind: 'empty', path } };
  return { ok: true, targets };
}

/** Returns the line without its comment: from a `#` at the start or after whitespace. */
function stripComment(line: string): string {
  const m = /(^|\s)#/.exec(line);
  return m === null ? line : line.slice(0, m.index);
}

/** Returns the targets of the file at `path` (`-`: standard input), or why it cannot be used; never rejects. */
export async function readTargetList(path: string, defaultPort = 443): Promise<TargetListResult> {
  let buf: Buffer;
  try {
    buf = path === '-' ? await readStdin() : await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, error: { kind: 'unreadable', path, code: err.code ?? 'EIO', message: err.message } };
  }
  if (buf.length > MAX_TARGET_FILE_BYTES) return { ok: false, error: { kind: 'too-large', path, bytes: buf.length } };
  return parseTargetList(buf.toString('utf8'), path, defaultPort);
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    n += (c as Buffer).length;
    if (n > MAX_TARGET_FILE_BYTES) break;
  }
  return Buffer.concat(chunks);
}

/** Returns one line saying what is wrong with the list (the first bad line, and how many more), control characters escaped. */
export function describeTargetListError(e: TargetListError): string {
  // The text came from a file: C0/C1 controls and DEL are shown as \xNN, never sent to a terminal.
  return describe(e).replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

function describe(e: TargetListError): string {
  const name = e.path === '-' ? 'standard input' : e.path;
  switch (e.kind) {
    case 'unreadable':
      return `cannot read the target list ${name}: ${readFailureText(e.code, e.code)}`;
    case 'too-large':
      return `the target list ${name} is larger than ${MAX_TARGET_FILE_BYTES} bytes (${e.bytes})`;
    case 'empty':
      return `the target list ${name} names no target (only blank lines and comments)`;
    case 'bad-lines': {
      const [first, ...more] = e.lines;
      const also =
        more.length > 0
          ? ` (and ${more.length} more bad line${more.length > 1 ? 's' : ''}: ${more
              .slice(0, 5)
              .map((l) => l.line)
              .join(', ')}${more.length > 5 ? ', …' : ''})`
          : '';
      return `${name}:${first!.line}: ${JSON.stringify(first!.text.trim())}: ${first!.message}${also}`;
    }
  }
}
