/**
 * A capture whose framing breaks after its first packet (a record length no tool writes: a file
 * overwritten, concatenated or corrupted) is read up to the damage, as tshark reads it: the
 * analysis is that of the packets before it, `meta.damaged` says where and why, and the CLI shows
 * what it read, then one error line, exit 2 (the JSON document ends with the error). Damage before
 * the first packet, and any damage in strict mode, still fail the read.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/pcap.js';
import { analyzeCapture } from '../../src/capture/sessions.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { ethernetFrames, pcap } from '../helpers/rewrap.js';

const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-damaged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The TLS 1.2 fixture's frames as a classic pcap, and the same with record `at` given an impossible length. */
async function damagedAt(at: number) {
  const frames = await ethernetFrames(join(FIXTURES_DIR, 'pcap', 'tls12-keylog.pcapng'));
  const data = frames.map((f) => f.data);
  const times = frames.map((f) => f.timestampUs);
  const whole = pcap(data, times);
  // Record `at` starts after the 24-byte file header and the records before it (16 bytes of header
  // each); its captured length is 8 bytes in, where the damage is reported.
  const offset = 24 + data.slice(0, at).reduce((n, f) => n + 16 + f.length, 0) + 8;
  const damaged = Buffer.from(whole);
  damaged.writeUInt32LE(0x0042_0000, offset);
  return { frames: data, times, damaged, offset, prefix: pcap(data.slice(0, at), times.slice(0, at)) };
}

describe('a capture damaged after its first packet', () => {
  it('delivers the packets before the damage and says where and why', async () => {
    const { damaged, offset } = await damagedAt(20);
    let packets = 0;
    const meta = await readCapture(damaged, () => packets++);
    expect(packets).toBe(20);
    expect(meta.damaged).toEqual({ offset, reason: 'captured length 4325376 above 262144 (too-large)' });
    expect(meta.truncated).toBe(false);
    expect(meta.warnings.map((w) => w.code)).toContain('damaged-file');
  });

  it('reads a pcapng up to a block whose length runs backwards', async () => {
    const bytes = Buffer.from(readFileSync(join(FIXTURES_DIR, 'pcap', 'tls12-keylog.pcapng')));
    // Walk the blocks (little-endian file): type(4) length(4); break the 10th Enhanced Packet Block.
    let packets = 0;
    let at = 0;
    while (at < bytes.length) {
      if (bytes.readUInt32LE(at) === 6 && ++packets === 10) break;
      at += bytes.readUInt32LE(at + 4);
    }
    bytes.writeUInt32LE(8, at + 4);
    let delivered = 0;
    const meta = await readCapture(bytes, () => delivered++);
    expect(delivered).toBe(9);
    expect(meta.damaged?.offset).toBe(at + 4);
    expect(meta.damaged?.reason).toMatch(/length/);
  });

  it('throws in strict mode, and when nothing came before the damage', async () => {
    const { damaged } = await damagedAt(20);
    await expect(readCapture(damaged, () => {}, { strict: true })).rejects.toThrow(/captured length 4325376/);
    const first = await damagedAt(0);
    await expect(readCapture(first.damaged, () => {})).rejects.toThrow(/captured length 4325376/);
  });

  it('gives the analysis of the packets before the damage, whatever the chunk size', async () => {
    const { damaged, prefix } = await damagedAt(30);
    const want = (await analyzeCapture(prefix)).connections;
    expect(want!.length).toBeGreaterThan(0);
    for (const size of [1, 7, 1500, damaged.length]) {
      const chunks = function* () {
        for (let i = 0; i < damaged.length; i += size) yield damaged.subarray(i, i + size);
      };
      const r = await analyzeCapture(
        (async function* () {
          yield* chunks();
        })(),
      );
      expect(r.connections, `chunks of ${size}`).toEqual(want);
      expect(r.meta.packets).toBe(30);
    }
  });

  it('shows what it read, then one error line, exit 2; JSON ends with the error', async () => {
    const { damaged, offset } = await damagedAt(30);
    const file = join(dir, 'damaged.pcap');
    writeFileSync(file, damaged);
    const says = `damaged.pcap: damaged at offset ${offset}, only the 30 packets before it were read: captured length 4325376 above 262144 (too-large)`;
    const table = await runCli(['capture', file]);
    expect(table.code).toBe(2);
    expect(table.stdout).toMatch(/^\d+ TLS connections? in \d+ TCP flows? \(30 packets\)/m);
    expect(table.stderr.trim().split('\n')).toEqual([`tlsprobe: ${join(dir, says)}`]);
    const json = await runCli(['capture', file, '--json']);
    expect(json.code).toBe(2);
    const doc = JSON.parse(json.stdout);
    expect(doc.connections.length).toBeGreaterThan(0);
    expect(doc.error).toEqual({ code: 'bad-input', message: expect.stringContaining(says) });
    expect(doc.summary).toBeUndefined();
    const nd = await runCli(['capture', file, '--ndjson']);
    expect(nd.code).toBe(2);
    const lines = nd.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.at(-1).error).toEqual({ code: 'bad-input', message: expect.stringContaining(says) });
    expect(lines.slice(0, -1).every((l) => l.connections.length === 1)).toBe(true);
  });
});
