/**
 * Output files written atomically: a reader sees the old file or the new one, never half of one.
 * Used for every file tlsprobe writes (captures, key logs, .reg fixes).
 */
import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { concatBytes } from '../wire/hex.js';

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * Mode of the files we create: owner read/write only. Both the capture (its Decryption Secrets
 * Block) and the key log hold secrets that decrypt the handshake.
 */
export const SECRET_FILE_MODE = 0o600;

/**
 * Writes `data` to `path` atomically: into a new temporary file in the same directory (created
 * exclusively, mode SECRET_FILE_MODE, flushed to disk), then renamed over `path`, so a reader sees
 * the old file or the new one, never half of one. A symbolic link at `path` is followed: its target
 * is replaced. Rejects with the file system error; the temporary file is removed on failure.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = SECRET_FILE_MODE): Promise<void> {
  const target = await resolveTarget(path);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    await chmod(tmp, mode); // the umask may have narrowed `mode` at creation; be exact
    await rename(tmp, target);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/**
 * Appends `text` to the file at `path` atomically (the old content plus `text`, written as by
 * `writeFileAtomic`), keeping an existing file's permission bits; creates the file when missing.
 * Rejects with the file system error.
 */
export async function appendFileAtomic(path: string, text: string): Promise<void> {
  const target = await resolveTarget(path);
  let old: Uint8Array = new Uint8Array(0);
  let mode = SECRET_FILE_MODE;
  try {
    const st = await stat(target);
    mode = st.mode & 0o777;
    old = await readFile(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const add = utf8(text);
  // A file that does not end in a newline would glue our first line onto its last one.
  const sep = old.length > 0 && old[old.length - 1] !== 0x0a ? utf8('\n') : new Uint8Array(0);
  await writeFileAtomic(target, concatBytes(old, sep, add), mode);
}

/** Returns the path a write should replace: the target of a symbolic link, else `path` itself. */
async function resolveTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return path;
    throw e;
  }
}
