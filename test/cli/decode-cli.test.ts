/**
 * The built CLI, spawned as a user runs it: exit codes, --help, --json, one-line errors.
 * `npm ci` builds dist/ (the prepare script); these tests run what it built.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { assertNoStackTrace } from '../helpers/cli.js';
import { decode as libraryDecode, DecodeError } from '../../src/index.js';
import { fromHex } from '../../src/wire/hex.js';
import { validateCliOutput } from '../helpers/schema.js';

const ROOT = join(FIXTURES_DIR, '..');
const CLI = join(ROOT, 'dist/cli/main.js');

function tlsprobe(args: string[], input?: string | Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, input, encoding: 'utf8' });
  assertNoStackTrace(r.stderr, args);
  validateCliOutput(args, r.stdout);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!existsSync(CLI))('tlsprobe decode (built CLI)', () => {
  it('prints a tree for a ClientHello record file', () => {
    const r = tlsprobe(['decode', 'fixtures/hello/openssl-s_client-tls13.hex']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\[0\] client_hello @5/);
    expect(r.stdout).toMatch(/0x1301 TLS_AES_128_GCM_SHA256/);
    expect(r.stdout).toMatch(/server_name \(0x0000\).*localhost/);
  });

  it('prints the same JSON as the library decode()', () => {
    const file = 'fixtures/server/openssl-s_server-tls12.hex';
    const r = tlsprobe(['decode', file, '--json']);
    expect(r.code).toBe(0);
    const lib = libraryDecode(fromHex(readFileSync(join(ROOT, file), 'utf8')));
    expect(JSON.parse(r.stdout)).toEqual({
      schemaVersion: '1.0',
      command: 'decode',
      ...JSON.parse(JSON.stringify(lib)),
    });
  });

  it('reads hex from --hex and bytes from standard input', () => {
    const alert = tlsprobe(['decode', '--hex', '15 03 01 00 02 02 46', '--json']);
    expect(JSON.parse(alert.stdout)).toEqual({
      schemaVersion: '1.0',
      command: 'decode',
      messages: [{ type: 'alert', offset: 0, level: 2, levelName: 'fatal', description: 70, name: 'protocol_version' }],
    });
    const raw = Buffer.from('150303000201 00'.replace(/ /g, ''), 'hex');
    const stdin = tlsprobe(['decode', '-', '--json'], raw);
    expect(stdin.code).toBe(0);
    expect(JSON.parse(stdin.stdout).messages[0].name).toBe('close_notify');
  });

  it('lists ChangeCipherSpec and encrypted records instead of failing on them', () => {
    const r = tlsprobe(['decode', '--hex', '140303000101 1703030005aabbccddee', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).messages.map((m: { type: string }) => m.type)).toEqual([
      'change_cipher_spec',
      'encrypted_record',
    ]);
  });

  it('fails on truncated input with one line naming offset and field, exit 2, no stack trace', () => {
    const hex = readFileSync(join(ROOT, 'fixtures/hello/gnutls-cli.hex'), 'utf8')
      .replace(/#.*$/gm, '')
      .replace(/\s/g, '');
    const r = tlsprobe(['decode', '--hex', hex.slice(0, 200)]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^tlsprobe: cannot decode: record\/fragment at offset 5: needs \d+ bytes, \d+ left \(truncated\)$/m,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('names a broken extension inside a ClientHello by its path', () => {
    // A ClientHello whose extensions block claims 0x20 bytes but holds 4.
    const body = ['0303', '00'.repeat(32), '00', '0002', '1301', '0100', '0020', '00000000'].join('');
    const len = (body.length / 2).toString(16).padStart(6, '0');
    const r = tlsprobe(['decode', '--hex', `01${len}${body}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /ClientHello\/extensions at offset 45: length 32 runs past the 4 bytes left \(truncated\)/,
    );
  });

  it('explains usage mistakes with exit code 2', () => {
    expect(tlsprobe(['decode']).code).toBe(2);
    expect(tlsprobe(['decode', 'no-such-file.bin']).stderr).toMatch(/cannot read no-such-file\.bin: no such file/);
    expect(tlsprobe(['frobnicate']).code).toBe(2);
    expect(tlsprobe(['decode', '--hex', 'zz']).stderr).toMatch(/--hex: hex text has a non-hex character/);
  });

  it('teaches through --help', () => {
    const r = tlsprobe(['decode', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--json/);
    expect(r.stdout).toMatch(/Examples:/);
  });
});

describe('library entry', () => {
  it('exports decode(), which throws only DecodeError on bad input', () => {
    expect(() => libraryDecode(Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0x10, 0x01]))).toThrow(DecodeError);
    expect(() => libraryDecode(Uint8Array.from([0x47, 0x45, 0x54]))).toThrow(DecodeError);
  });
});
