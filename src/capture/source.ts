/**
 * Returns the bytes of a capture as an async iterable of chunks (read-only, gzip-aware): from a file
 * by its path (a regular file, a named pipe, /dev/stdin) or from any stream of chunks (standard
 * input).
 *
 * `openCaptureFile(path)` yields byte chunks of at most `READ_CHUNK_BYTES` (1 MiB), each a fresh
 * buffer unless `reuseChunks` is asked for; input that starts with the gzip magic (RFC 1952,
 * Section 2.3.1: ID1 = 0x1f, ID2 = 0x8b) is decompressed through a zlib stream on the way, whatever
 * its name. The file is opened once and read front to back, so a pipe works as well as a file.
 * Memory stays bounded by one chunk in flight (plus zlib's window): nothing is accumulated here.
 */
import { Readable } from 'node:stream';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { DecodeError } from '../wire/errors.js';
import { concatBytes } from '../wire/hex.js';

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
   * Reads the chunks into the same buffers (two in turn for a regular file, read ahead; one for a
   * pipe) instead of a fresh one each: a chunk's bytes are valid only until the next chunk is asked
   * for, so the consumer must copy what it keeps (`analyzeCapture` does). A fresh 1 MiB buffer per
   * read costs its page faults each time (here ~190 ms of a 100 MB file's ~235 ms read, against
   * ~30 ms into one reused buffer); the default stays fresh buffers, which any consumer may keep
   * views into.
   */
  readonly reuseChunks?: boolean;
}

/**
 * Returns the bytes of the file at `path` as an async iterable of chunks (each at most
 * `READ_CHUNK_BYTES`), decompressing gzip input detected by its magic bytes. The file is opened
 * read-only, once; errors are thrown from the iteration: the file system's error for a file that
 * cannot be read, a `DecodeError` for a gzip stream that is corrupt or ends early (`offset` counts
 * the decompressed bytes delivered before it).
 *
 * Each chunk is a fresh buffer that the reader never reuses, so views into it stay valid; a
 * consumer that keeps a small view alive keeps the whole chunk alive, so copy what you retain.
 * With `reuseChunks`, a plain file's chunks share two buffers (see `OpenCaptureOptions`).
 */
export async function* openCaptureFile(
  path: string,
  opts: OpenCaptureOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const fh = await open(path, 'r');
  try {
    const reuse = opts.reuseChunks === true;
    // Reading ahead is for regular files only: a read of a silent pipe may never end, and the
    // handle cannot be closed under a read in flight (Ctrl-C must stop at once).
    const chunks = reuse && (await fh.stat()).isFile() ? readAhead(fh) : readHandle(fh, reuse);
    yield* captureBytes(chunks, reuse);
  } finally {
    await fh.close();
  }
}

/**
 * Returns the capture bytes of a stream of chunks (standard input, say), gunzipped when the stream
 * starts with the gzip magic. `reused`: the stream's chunks share a buffer, valid until the next
 * chunk is asked for (what `openCaptureFile` gives with `reuseChunks`); they are then copied where
 * zlib would hold them. Throws as `openCaptureFile`.
 */
export async function* captureBytes(
  chunks: AsyncIterable<Uint8Array>,
  reused = false,
): AsyncGenerator<Uint8Array, void, undefined> {
  const it = chunks[Symbol.asyncIterator]();
  // The first two bytes decide; a pipe may hand over fewer in its first read.
  const head: Uint8Array[] = [];
  let headLength = 0;
  while (headLength < GZIP_MAGIC.length) {
    const next = await it.next();
    if (next.done) break;
    if (next.value.length === 0) continue;
    head.push(next.value);
    headLength += next.value.length;
    if (headLength < GZIP_MAGIC.length && reused) head[head.length - 1] = next.value.slice();
  }
  const first = head.length === 1 ? head[0]! : concatBytes(...head);
  const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => it };
  if (!isGzip(first)) {
    if (first.length > 0) yield first;
    yield* rest;
    return;
  }
  yield* gunzipped(first, rest, reused);
}

/** Yields the decompressed bytes of a gzip stream that starts with `first` and goes on with `rest`. */
async function* gunzipped(
  first: Uint8Array,
  rest: AsyncIterable<Uint8Array>,
  reused: boolean,
): AsyncGenerator<Uint8Array, void, undefined> {
  async function* compressed(): AsyncGenerator<Uint8Array> {
    // zlib may hold a chunk after write() returns: a shared buffer is copied first.
    yield reused ? first.slice() : first;
    for await (const chunk of rest) yield reused ? chunk.slice() : chunk;
  }
  const input = Readable.from(compressed(), { objectMode: false });
  const gunzip = createGunzip({ chunkSize: READ_CHUNK_BYTES });
  // A read error on the input must surface through the gunzip stream we iterate.
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  let delivered = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      delivered += chunk.byteLength;
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  } catch (e) {
    throw gzipError(e, delivered);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}

/**
 * Yields `fh`'s bytes front to back (a regular file, a pipe, a FIFO): one buffer throughout when
 * `reuse`, else a fresh buffer per chunk (a short read, as from a pipe, is copied out so that its
 * view does not hold a whole chunk's buffer).
 */
async function* readHandle(fh: FileHandle, reuse: boolean): AsyncGenerator<Uint8Array, void, undefined> {
  let buf = new Uint8Array(READ_CHUNK_BYTES);
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) return;
    if (reuse) yield buf.subarray(0, bytesRead);
    else if (bytesRead < buf.length / 2) yield buf.slice(0, bytesRead);
    else {
      yield buf.subarray(0, bytesRead);
      buf = new Uint8Array(READ_CHUNK_BYTES);
    }
  }
}

/**
 * Yields a regular file's bytes front to back through two buffers in turn: the next chunk is read
 * while the consumer works on this one. A chunk's buffer is read into again once the consumer has
 * asked for the chunk after it (the `reuseChunks` contract). The 100 MB bench capture read at once
 * left the analysis waiting for the disk ~70 ms (V8 CPU profile, idle samples).
 */
async function* readAhead(fh: FileHandle): AsyncGenerator<Uint8Array, void, undefined> {
  const a = new Uint8Array(READ_CHUNK_BYTES);
  const b = new Uint8Array(READ_CHUNK_BYTES);
  let into = a;
  let next: Promise<{ bytesRead: number }> = fh.read(into, 0, READ_CHUNK_BYTES, null);
  try {
    for (;;) {
      const { bytesRead } = await next;
      if (bytesRead === 0) return;
      const chunk = into.subarray(0, bytesRead);
      into = into === a ? b : a;
      next = fh.read(into, 0, READ_CHUNK_BYTES, null);
      yield chunk;
    }
  } finally {
    // A read still in flight when the consumer stops: let it end (its error too) before the close.
    await next.then(
      () => undefined,
      () => undefined,
    );
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
