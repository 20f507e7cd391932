/**
 * Returns the bytes of a capture file as an async iterable of chunks (read-only, gzip-aware).
 *
 * `openCaptureFile(path)` yields byte chunks of at most `READ_CHUNK_BYTES`
 * (1 MiB), each a fresh buffer unless `reuseChunks` is asked for; files that start with the gzip magic (RFC 1952, Section 2.3.1: ID1 = 0x1f, ID2 = 0x8b)
 * are decompressed through a zlib stream on the way, whatever their name. Memory stays bounded by
 * one chunk in flight (plus zlib's window): nothing is accumulated here.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { DecodeError } from '../wire/errors.js';

/**
 * Size of each read from disk and of each decompressed chunk. 1 MiB amortises the per-chunk cost
 * (one event-loop turn, one copy of a partial record at the chunk border) while keeping the
 * working set small next to a capture of several GB.
 */
export const READ_CHUNK_BYTES = 1 << 20;

/** RFC 1952, Section 2.3.1: every gzip member starts with ID1 ID2 = 0x1f 0x8b. */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Returns true when `head` starts with the gzip magic bytes. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
}

/** How `openCaptureFile` hands out a plain (not gzip) file's bytes. */
export interface OpenCaptureOptions {
  /**
   * Reads every chunk into the same buffer instead of a fresh one: a chunk's bytes are valid only
   * until the next chunk is asked for, so the consumer must copy what it keeps (`analyzeCapture`
   * does). A fresh 1 MiB buffer per read costs its page faults each time (here ~190 ms of a
   * 100 MB file's ~235 ms read, against ~30 ms into one reused buffer); the default stays fresh
   * buffers, which any consumer may keep views into.
   */
  readonly reuseChunks?: boolean;
}

/**
 * Returns the bytes of the file at `path` as an async iterable of chunks (each at most
 * `READ_CHUNK_BYTES`), decompressing gzip input detected by its magic bytes. The file is opened
 * read-only; errors are thrown from the iteration: the file system's error for a file that cannot be
 * read, a `DecodeError` for a gzip stream that is corrupt or ends early (`offset` counts the
 * decompressed bytes delivered before it).
 *
 * Each chunk is a fresh buffer that the reader never reuses, so views into it stay valid; a
 * consumer that keeps a small view alive keeps the whole chunk alive, so copy what you retain.
 * With `reuseChunks`, a plain file's chunks share one buffer (see `OpenCaptureOptions`).
 */
export async function* openCaptureFile(
  path: string,
  opts: OpenCaptureOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const head = await readHead(path, GZIP_MAGIC.length);
  if (opts.reuseChunks && !isGzip(head)) {
    yield* readReusing(path);
    return;
  }
  const file = createReadStream(path, { flags: 'r', highWaterMark: READ_CHUNK_BYTES });
  const stream = isGzip(head) ? file.pipe(createGunzip({ chunkSize: READ_CHUNK_BYTES })) : file;
  if (stream !== file) {
    // A read error on the file must surface through the gunzip stream we iterate.
    file.on('error', (err) => stream.destroy(err));
  }
  let delivered = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      delivered += chunk.byteLength;
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  } catch (e) {
    throw stream === file ? e : gzipError(e, delivered);
  } finally {
    file.destroy();
    if (stream !== file) stream.destroy();
  }
}

/** Yields the file's bytes read one chunk at a time into a single buffer (a pipe or FIFO too). */
async function* readReusing(path: string): AsyncGenerator<Uint8Array, void, undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(READ_CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Returns zlib's error as a DecodeError (`truncated` when the stream ends early, `bad-value` when it
 * is corrupt); a file system error (the file itself unreadable) is returned unchanged.
 */
function gzipError(e: unknown, offset: number): unknown {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code !== 'string' || !err.code.startsWith('Z_')) return e;
  // zlib reports a stream cut short as Z_BUF_ERROR "unexpected end of file".
  if (err.code === 'Z_BUF_ERROR')
    return new DecodeError('truncated', 'the gzip stream ends early (file cut short)', offset, 'gzip');
  return new DecodeError('bad-value', `corrupt gzip stream: ${err.message}`, offset, 'gzip');
}

/** Returns up to the first `n` bytes of a file (fewer when the file is shorter). */
async function readHead(path: string, n: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
