/**
 * `tlsprobe probe --pcap OUT.pcapng --keylog FILE`, run in-process through `run()` against the lab:
 * the capture opens decrypted in tshark, the key log parses and decrypts the same capture, and a
 * second run appends to the key log and replaces the capture.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { parseKeyLog } from '../../src/tls/keylog.js';
import { readCapture } from '../../src/capture/pcap.js';
import { hasTool, missingTool } from '../helpers/tools.js';

const HAS_TSHARK = hasTool('tshark');
if (!HAS_TSHARK) console.warn(missingTool('tshark', 'tshark'));

let lab: Lab;
let dir: string;
/** The lab root, outside `dir`: with it as --roots the chain verifies and a good probe exits 0 (issue 12). */
let rootsDir: string;
let roots: string;
beforeAll(async () => {
  lab = await startLab({ names: ['modern'] });
  dir = mkdtempSync(join(tmpdir(), 'tlsprobe-probe-pcap-'));
  rootsDir = mkdtempSync(join(tmpdir(), 'tlsprobe-probe-roots-'));
  roots = join(rootsDir, 'root.pem');
  writeFileSync(roots, lab.pki.root.pem);
});
afterAll(async () => {
  await lab?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (rootsDir) rmSync(rootsDir, { recursive: true, force: true });
});

const tlsprobe = runCli;

function certificateStreams(file: string, extra: string[] = []): string[] {
  const r = spawnSync(
    'tshark',
    ['-r', file, ...extra, '-Y', 'tls.handshake.type == 11', '-T', 'fields', '-e', 'tcp.stream'],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

describe('tlsprobe probe --pcap --keylog', () => {
  it('writes a capture Wireshark opens decrypted and a key log that decrypts it too', async () => {
    const pcap = join(dir, 'probe.pcapng');
    const keylog = join(dir, 'keys.log');
    const target = `127.0.0.1:${lab.endpoint('modern').port}`;
    const r = await tlsprobe([
      'probe',
      target,
      '--sni',
      'localhost',
      '--versions',
      'TLS1.2,TLS1.3',
      '--json',
      '--pcap',
      pcap,
      '--keylog',
      keylog,
      '--roots',
      roots,
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).results[0].versions.map((v: { outcome: string }) => v.outcome)).toEqual([
      'negotiated',
      'negotiated',
    ]);
    expect(r.stderr).toMatch(/capture of 2 connections written to .*probe\.pcapng/);
    expect(r.stderr).toMatch(/2 TLS 1\.3 secrets written to .*keys\.log/);
    expect(readdirSync(dir).sort()).toEqual(['keys.log', 'probe.pcapng']);

    const log = parseKeyLog(readFileSync(keylog, 'utf8'));
    expect(log.errors).toEqual([]);
    expect(log.entries.map((e) => e.label)).toEqual([
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
    ]);
    const meta = await readCapture(readFileSync(pcap), () => undefined);
    expect(parseKeyLog(meta.keyLog).entries.map((e) => e.line)).toEqual([1, 2]);

    if (HAS_TSHARK) {
      // Stream 1 is the TLS 1.3 attempt: its Certificate is readable only decrypted.
      expect(certificateStreams(pcap)).toEqual(['0', '1']);
      const bare = join(dir, 'bare.pcapng');
      const strip = spawnSync('tshark', ['-r', pcap, '-w', bare, '-F', 'pcap'], { encoding: 'utf8' });
      expect(strip.status).toBe(0);
      expect(certificateStreams(bare)).toEqual(['0']);
      expect(certificateStreams(bare, ['-o', `tls.keylog_file:${keylog}`])).toEqual(['0', '1']);
      rmSync(bare);
    }

    const again = await tlsprobe([
      'probe',
      target,
      '--sni',
      'localhost',
      '--versions',
      'TLS1.3',
      '--pcap',
      pcap,
      '--keylog',
      keylog,
      '--roots',
      roots,
    ]);
    expect(again.code).toBe(0);
    expect(parseKeyLog(readFileSync(keylog, 'utf8')).size).toBe(4);
    const replaced = await readCapture(readFileSync(pcap), () => undefined);
    expect(parseKeyLog(replaced.keyLog).size).toBe(2);
    expect(replaced.packets).toBeLessThan(meta.packets);
  });

  it('exits 2 with one line, before any connection, when the file cannot be written', async () => {
    // Issue 14: the path is checked first (no scan that fails at its end), and the message names the
    // option and the missing directory, not an internal temporary file.
    const r = await tlsprobe([
      'probe',
      `127.0.0.1:${lab.endpoint('modern').port}`,
      '--versions',
      'TLS1.3',
      '--pcap',
      join(dir, 'no-such-dir', 'x.pcapng'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^tlsprobe: --pcap .*x\.pcapng: the directory .*no-such-dir does not exist\n$/);
    expect(r.stderr).not.toMatch(/\.tmp|Try --help/);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });
});
