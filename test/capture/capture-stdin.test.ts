/**
 * `tlsprobe capture` reads a capture from standard input (`-`, as `tcpdump -w - | tlsprobe capture -`),
 * from a named pipe and from /dev/stdin, gzip-compressed or not, with the same result as from the
 * file; a directory is refused in one line (exit 2). Runs the built CLI (spawned: stdin is the point).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, HAS_CLI, assertNoStackTrace, tlsprobe } from '../helpers/cli.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

const pcap = (n: string): string => join(FIXTURES_DIR, 'pcap', n);
const hasMkfifo = spawnSync('which', ['mkfifo']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-stdin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The JSON's connections without what names the input. */
function connections(stdout: string): unknown {
  return (JSON.parse(stdout) as { connections: unknown }).connections;
}

describe.skipIf(!HAS_CLI)('tlsprobe capture from standard input and pipes', () => {
  const file = pcap('tls12-keylog.pcapng');
  const bytes = readFileSync(file);

  it('reads - (standard input), plain and gzip-compressed, as it reads the file', async () => {
    const fromFile = await tlsprobe(['capture', file, '--json']);
    expect(fromFile.code).toBe(0);
    const expected = connections(fromFile.stdout);
    expect((expected as unknown[]).length).toBe(3);
    for (const input of [bytes, gzipSync(bytes)]) {
      const r = await tlsprobe(['capture', '-', '--json'], input);
      expect(r.code).toBe(0);
      expect(connections(r.stdout)).toEqual(expected);
    }
  });

  it('names standard input in its one error line when the bytes are not a capture (exit 2)', async () => {
    const r = await tlsprobe(['capture', '-'], 'not a capture\n');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tlsprobe: standard input: not a readable pcap\/pcapng capture/);
    const empty = await tlsprobe(['capture', '-', '--json'], '');
    expect(empty.code).toBe(2);
    expect(JSON.parse(empty.stdout)).toMatchObject({ error: { code: 'bad-input' } });
  });

  it.skipIf(!hasMkfifo)('reads a named pipe that a writer fills while it reads (mkfifo: coreutils)', async () => {
    const fifo = join(dir, 'capture.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const child = spawn(process.execPath, [CLI, 'capture', fifo, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // The writer opens the pipe after the reader: one open, read front to back, nothing lost.
    const writer = createReadStream(file);
    const { createWriteStream } = await import('node:fs');
    writer.pipe(createWriteStream(fifo));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assertNoStackTrace(stderr, ['capture', fifo]);
    expect(code).toBe(0);
    expect(connections(stdout)).toEqual(connections((await tlsprobe(['capture', file, '--json'])).stdout));
  });

  it('reads /dev/stdin, a socket when a program spawns it with a pipe', async () => {
    const r = await tlsprobe(['capture', '/dev/stdin'], bytes);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^3 TLS connections in 3 TCP flows/m);
  });

  it('Ctrl-C while reading ends the --json document with the error: one JSON document, exit 130', async () => {
    const child = spawn(process.execPath, [CLI, 'capture', '-', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    // The first two of the three connections, then a wait for the first one to be printed.
    const cut = Math.floor(bytes.length * 0.7);
    child.stdin.write(bytes.subarray(0, cut));
    for (let waited = 0; !stdout.includes('"index": 0') && waited < 30_000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(stdout).toContain('"index": 0');
    // The writer stays silent (its pipe open): the interruption alone must end the run.
    child.kill('SIGINT');
    const code = await closed;
    child.stdin.destroy();
    assertNoStackTrace(stderr, ['capture', '-', '--json']);
    expect(code).toBe(130);
    expect(stderr.trim()).toBe('tlsprobe: interrupted (SIGINT)');
    const j = JSON.parse(stdout) as { connections: { index: number }[]; error: unknown };
    expect(j.error).toEqual({ code: 'interrupted', message: 'interrupted (SIGINT)' });
    expect(j.connections.length).toBeGreaterThanOrEqual(1);
    expect(j.connections.length).toBeLessThan(3);
  }, 60_000);

  it('refuses a directory in one line (exit 2)', async () => {
    const r = await tlsprobe(['capture', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`tlsprobe: ${dir}: is a directory, not a capture file`);
  });
});
