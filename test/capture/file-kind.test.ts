/**
 * A file that is not a capture gets one error line that says what it is and what to do: the
 * repository's own key log, PEM chain and README, a Network Monitor header, compressed files (made
 * by gzip's siblings when installed), a Windows event trace by its name; and stays exit 2 with the
 * JSON error under --json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeNonCapture } from '../../src/capture/file-kind.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-file-kind-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (n: string): string => join(FIXTURES_DIR, 'pcap', n);

/** The compressors whose output a capture tool is handed, and their package when missing. */
const COMPRESSORS: [string, string[], string, RegExp][] = [
  ['zstd', ['-q', '-c'], 'zstd', /zstd-compressed/],
  ['bzip2', ['-c'], 'bzip2', /bzip2-compressed/],
  ['xz', ['-c'], 'xz-utils', /xz-compressed/],
  ['lz4', ['-q', '-c'], 'lz4', /LZ4-compressed/],
];

describe('capture of a file that is not a capture', () => {
  const cases: [string, () => string, RegExp][] = [
    [
      'a TLS key log',
      () => fixture('tls12-keylog.keys'),
      /a TLS key log \(SSLKEYLOGFILE\), not a capture: give it with --keylog/,
    ],
    ['a PEM chain', () => fixture('chain.pem'), /a PEM file \(certificates or keys\), not a capture/],
    ['text', () => join(FIXTURES_DIR, '..', 'README.md'), /text, not a capture file/],
    [
      'a Network Monitor capture',
      () => {
        const f = join(dir, 'trace.cap');
        // Network Monitor 2.x header: "GMBU", version 2.1, then the rest of its 128 bytes.
        writeFileSync(f, Buffer.concat([Buffer.from('GMBU'), Buffer.from([1, 2]), Buffer.alloc(122)]));
        return f;
      },
      /a Microsoft Network Monitor capture: save it as pcapng first/,
    ],
    [
      'a Windows event trace, by its name',
      () => {
        const f = join(dir, 'NetTrace.etl');
        writeFileSync(f, Buffer.concat([Buffer.from([0, 0, 1, 0, 0x43, 0x05, 0, 0]), Buffer.alloc(120, 0xff)]));
        return f;
      },
      /a Windows event trace \(netsh trace, pktmon\): convert it first/,
    ],
  ];
  for (const [what, file, says] of cases) {
    it(`says it is ${what}, on one line, exit 2`, async () => {
      const path = file();
      const r = await runCli(['capture', path]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(says);
      const j = await runCli(['capture', path, '--json']);
      expect(j.code).toBe(2);
      expect(JSON.parse(j.stdout).error.message).toMatch(says);
    });
  }

  for (const [tool, args, pkg, says] of COMPRESSORS) {
    const has = spawnSync('which', [tool]).status === 0;
    const needs = `(needs ${tool}: Debian package ${pkg})`;
    it.skipIf(!has)(`says a capture compressed by ${tool} is one, and how to decompress it ${needs}`, async () => {
      const out = spawnSync(tool, [...args, fixture('alert.pcapng')]);
      const f = join(dir, `alert.pcapng.${tool}`);
      writeFileSync(f, out.stdout);
      const r = await runCli(['capture', f]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(says);
    });
  }

  it('names nothing it does not know: random bytes, or too few, get the bare magic number', async () => {
    expect(describeNonCapture(Buffer.from([0x9e, 0x01, 0xc7, 0x33, 0x00, 0xff, 0x10, 0x80]))).toBeNull();
    expect(describeNonCapture(readFileSync(fixture('alert.pcapng')).subarray(0, 3))).toBeNull();
    const f = join(dir, 'noise.bin');
    writeFileSync(f, Buffer.from([0x9e, 0x01, 0xc7, 0x33, 0x00, 0xff, 0x10, 0x80]));
    const r = await runCli(['capture', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a pcap or pcapng file \(magic 0x9e01c733\) \(bad-value at offset 0\)$/m);
  });
});
