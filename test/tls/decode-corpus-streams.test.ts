/**
 * Issue 12, item 5: `decode` reads whole real streams. Every TCP stream of the corpus captures on
 * which `capture` sees a TLS connection is reassembled per direction and decoded: no stream may
 * throw (encrypted records, the close_notify alert after ChangeCipherSpec included, are listed as
 * encrypted). A direction cut by a capture gap or by the end of the capture is decoded up to the
 * last whole record, as the capture holds nothing past it. Skips cleanly without the corpus.
 */
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/capture/sessions.js';
import { openCaptureFile } from '../../src/capture/source.js';
import { reassembleCapture, type Flow } from '../../src/capture/tcp.js';
import { decode } from '../../src/decode.js';
import { CORPUS_DIR, hasCorpus, NO_CORPUS } from '../helpers/corpus.js';
import { corpusCaptures } from '../capture/sessions-tshark.js';
import { join } from 'node:path';

if (!hasCorpus) console.warn(NO_CORPUS);

/** Bytes kept per direction: enough for every handshake and the records after it in the corpus. */
const MAX_STREAM_BYTES = 4 * 1024 * 1024;

interface Dir {
  chunks: Uint8Array[];
  length: number;
  cut: boolean;
}

/** Returns the whole-record prefix of `bytes` (a stream cut mid-record by the capture). */
function wholeRecords(bytes: Uint8Array): Uint8Array {
  let o = 0;
  // RFC 6101, Appendix E / RFC 5246, Appendix E.2: an SSL 2.0-framed hello has a 2-byte header with the high bit set.
  if (bytes.length >= 2 && (bytes[0]! & 0x80) !== 0) {
    const len = 2 + (((bytes[0]! & 0x7f) << 8) | bytes[1]!);
    if (len > bytes.length) return bytes.subarray(0, 0);
    o = len;
  }
  while (o + 5 <= bytes.length) {
    const len = (bytes[o + 3]! << 8) | bytes[o + 4]!;
    if (o + 5 + len > bytes.length) break;
    o += 5 + len;
  }
  return bytes.subarray(0, o);
}

async function streamsOf(file: string): Promise<{ name: string; bytes: Uint8Array }[]> {
  // Where TLS starts in each direction (after a STARTTLS dialogue, say), by connection.
  const tls = new Map<string, { client: number | null; server: number | null }>();
  await analyzeCapture(openCaptureFile(file), {
    onConnection: (c) => tls.set(`${c.client.addr}:${c.client.port}-${c.server.addr}:${c.server.port}`, c.tlsOffset),
  });
  const dirs = new Map<string, Dir>();
  const key = (f: Flow, d: string) => `${f.client.addr}:${f.client.port}-${f.server.addr}:${f.server.port}|${d}`;
  await reassembleCapture(openCaptureFile(file), {
    onData(flow, dir, bytes) {
      const k = key(flow, dir);
      let s = dirs.get(k);
      if (!s) {
        s = { chunks: [], length: 0, cut: false };
        dirs.set(k, s);
      }
      if (s.cut || s.length + bytes.length > MAX_STREAM_BYTES) {
        s.cut = true;
        return;
      }
      s.chunks.push(bytes.slice());
      s.length += bytes.length;
    },
    onGap(flow, dir) {
      const s = dirs.get(key(flow, dir));
      if (s) s.cut = true;
      else dirs.set(key(flow, dir), { chunks: [], length: 0, cut: true });
    },
    onEnd() {},
  });
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const [k, s] of dirs) {
    const [conn, dir] = k.split('|') as [string, 'client' | 'server'];
    const start = tls.get(conn)?.[dir];
    if (start === undefined || start === null || s.length <= start) continue;
    const bytes = wholeRecords(Buffer.concat(s.chunks).subarray(start));
    if (bytes.length > 0) out.push({ name: k, bytes });
  }
  return out;
}

const captures = corpusCaptures();

describe.skipIf(!hasCorpus || captures.length === 0)('decode over the corpus streams capture analyses', () => {
  it.each(captures)(
    '%s: every direction of every TLS connection decodes',
    async (rel) => {
      const streams = await streamsOf(join(CORPUS_DIR, rel));
      const failures: string[] = [];
      for (const s of streams) {
        try {
          decode(s.bytes);
        } catch (e) {
          failures.push(`${s.name}: ${(e as Error).message}`);
        }
      }
      expect(failures).toEqual([]);
    },
    120_000,
  );
});
