/**
 * `analyzeCapture` copies what it keeps of a chunk, so a source may read every chunk into one reused
 * buffer (`openCaptureFile(path, { reuseChunks: true })`, what the CLI does). The oracle is the
 * same capture analysed from one whole buffer; the source under test hands out the file in small
 * chunks through a single buffer that it poisons (0xEE) before each refill, so a view kept across
 * chunks by any layer (pcap framing, IP fragments, TCP reassembly, TLS detection, records, the
 * handshake, decryption, the facts) reads poison and the facts differ. The fixtures run at several
 * chunk sizes (7 bytes: every record spans many chunks); the corpus captures, with their key logs,
 * at two. Corpus cases skip without ../shared/corpus.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/capture/sessions.js';
import type { ConnectionFacts } from '../../src/capture/sessions.js';
import { READ_CHUNK_BYTES, isGzip, openCaptureFile } from '../../src/capture/source.js';
import { CORPUS_DIR, hasCorpus, NO_CORPUS } from '../helpers/corpus.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { CORPUS_KEY_LOGS, corpusCaptures } from './sessions-tshark.js';

if (!hasCorpus) console.warn(NO_CORPUS);

const POISON = 0xee;

/** Yields `bytes` in chunks of `size`, each copied into the same buffer, poisoned before each refill. */
async function* reusedChunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  const buf = new Uint8Array(size);
  for (let at = 0; at < bytes.length; at += size) {
    buf.fill(POISON);
    const n = Math.min(size, bytes.length - at);
    buf.set(bytes.subarray(at, at + n));
    yield buf.subarray(0, n);
  }
  buf.fill(POISON);
}

/** The facts of every connection and the result's counters, as comparable JSON (bytes as hex). */
async function analysed(
  source: AsyncIterable<Uint8Array> | Uint8Array,
  keyLog: string | undefined,
): Promise<{ connections: unknown; counters: unknown; error: string | null }> {
  const seen: ConnectionFacts[] = [];
  try {
    const result = await analyzeCapture(source, {
      ...(keyLog !== undefined ? { keyLog } : {}),
      order: 'index',
      onConnection: (c) => seen.push(c),
    });
    const { connections: _kept, ...counters } = result;
    return { connections: plain(seen), counters: plain(counters), error: null };
  } catch (e) {
    return { connections: plain(seen), counters: null, error: String(e) };
  }
}

function plain(x: unknown): unknown {
  return JSON.parse(
    JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)),
  ) as unknown;
}

/** The file's (gunzipped) bytes as a plain Uint8Array, so that views of it are not Buffers. */
function fileBytes(path: string): Uint8Array {
  const raw = readFileSync(path);
  return new Uint8Array(isGzip(raw) ? gunzipSync(raw) : raw);
}

const fixtureDir = join(FIXTURES_DIR, 'pcap');
const fixtures = readdirSync(fixtureDir).filter((n) => /\.(pcap|pcapng)$/.test(n));

describe('analyzeCapture on a source that reuses one poisoned buffer', () => {
  it('has fixtures to run', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
  });

  for (const name of fixtures) {
    it(`fixtures/pcap/${name}: the same facts at chunk sizes 7, 1000 and 65536`, async () => {
      const bytes = fileBytes(join(fixtureDir, name));
      const keyPath = join(fixtureDir, name.replace(/\.pcapng?$/, '.keys'));
      const keyLog = existsSync(keyPath) ? readFileSync(keyPath, 'utf8') : undefined;
      const whole = await analysed(bytes, keyLog);
      expect(whole.error).toBeNull();
      for (const size of [7, 1000, 65536]) {
        expect(await analysed(reusedChunks(bytes, size), keyLog), `chunks of ${size}`).toEqual(whole);
      }
    });
  }

  const captures = corpusCaptures();
  for (const rel of captures) {
    const keyRel = CORPUS_KEY_LOGS[rel];
    it(`corpus ${rel}: the same facts at chunk sizes 1000 and 65536`, async () => {
      const bytes = fileBytes(join(CORPUS_DIR, rel));
      const keyLog = keyRel !== undefined ? readFileSync(join(CORPUS_DIR, keyRel), 'utf8') : undefined;
      const whole = await analysed(bytes, keyLog);
      for (const size of [1000, 65536]) {
        expect(await analysed(reusedChunks(bytes, size), keyLog), `chunks of ${size}`).toEqual(whole);
      }
    });
  }
});

describe('openCaptureFile with reuseChunks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-reuse-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a plain file through two buffers in turn, each chunk intact until the next is asked for', async () => {
    const bytes = new Uint8Array(3 * READ_CHUNK_BYTES + 12345);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) >>> 5;
    const path = join(dir, 'big.bin');
    writeFileSync(path, bytes);
    const copies: Uint8Array[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let at = 0;
    for await (const chunk of openCaptureFile(path, { reuseChunks: true })) {
      buffers.add(chunk.buffer);
      // The next chunk is being read meanwhile (read-ahead): give it time to land, then check this one.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(Buffer.from(chunk).equals(Buffer.from(bytes.subarray(at, at + chunk.length)))).toBe(true);
      at += chunk.length;
      copies.push(chunk.slice());
    }
    expect(Buffer.concat(copies).equals(Buffer.from(bytes))).toBe(true);
    expect(copies.length).toBe(4);
    expect(buffers.size).toBe(2);
  });

  it('still reads gzip through zlib (fresh chunks) and a missing file fails as before', async () => {
    const path = join(fixtureDir, fixtures[0]!);
    const gz = join(dir, 'capture.gz');
    const { gzipSync } = await import('node:zlib');
    writeFileSync(gz, gzipSync(readFileSync(path)));
    const whole = await analysed(fileBytes(path), undefined);
    expect(await analysed(openCaptureFile(gz, { reuseChunks: true }), undefined)).toEqual(whole);
    expect(await analysed(openCaptureFile(path, { reuseChunks: true }), undefined)).toEqual(whole);
    const missing = openCaptureFile(join(dir, 'missing.pcap'), { reuseChunks: true });
    await expect(missing.next()).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
