/**
 * The CLI's one error path (src/cli/failure.ts, issue 14): what each kind of thrown value becomes,
 * how it is printed in text and under --json, and the output paths checked before any work.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError, ExitCode, UsageError, UserError } from '../../src/cli/exit-codes.js';
import { jsonError, outputMode, reportFailure, toCliError } from '../../src/cli/failure.js';
import { checkOutputPath, isHexText } from '../../src/cli/io.js';
import { DecodeError } from '../../src/wire/errors.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-failure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function systemError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall}`), { code, syscall, ...(path ? { path } : {}) });
}

function printed(error: CliError, mode: 'text' | 'json' | 'ndjson'): { out: string[]; err: string[]; code: number } {
  const out: string[] = [];
  const err: string[] = [];
  const code = reportFailure(error, mode, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { out, err, code };
}

describe('toCliError', () => {
  it('keeps a CliError, and types decode, file and write errors', () => {
    const user = new UserError('x');
    expect(toCliError(user)).toBe(user);
    expect(toCliError(new DecodeError('truncated', 'ends early', 7, 'ClientHello'))).toMatchObject({
      code: 'bad-input',
      exitCode: 2,
    });
    expect(toCliError(systemError('ENOENT', 'open', '/no/such'))).toMatchObject({
      code: 'bad-input',
      exitCode: 2,
      message: 'cannot open /no/such: no such file or directory (ENOENT)',
    });
    expect(toCliError(systemError('ENOSPC', 'write'))).toMatchObject({
      code: 'output-unwritable',
      exitCode: 2,
      message: 'cannot write output: no space left on device (ENOSPC)',
    });
  });

  it('calls anything else a bug, in one line without its stack', () => {
    const e = toCliError(new TypeError('x is undefined\n    at f (file.js:1:1)'));
    expect(e).toMatchObject({ code: 'internal', exitCode: ExitCode.internal });
    expect(e.message).not.toContain('\n');
    expect(e.message).not.toMatch(/ {4}at /);
  });

  it('maps the exit codes of the table', () => {
    expect(new UserError('x', ExitCode.network)).toMatchObject({ code: 'network', exitCode: 3 });
    expect(new CliError('interrupted', 'x')).toMatchObject({ exitCode: 130 });
    expect(new UsageError('x')).toMatchObject({ code: 'usage', exitCode: 2 });
  });
});

describe('outputMode', () => {
  it('reads --json and --ndjson before a --', () => {
    expect(outputMode(['probe', 'x', '--json'])).toBe('json');
    expect(outputMode(['probe', 'x', '--ndjson'])).toBe('ndjson');
    expect(outputMode(['decode', '--', '--json'])).toBe('text');
    expect(outputMode(['roots', '--json=false'])).toBe('text');
  });
});

describe('reportFailure', () => {
  it('prints one line, and "Try --help" only after a usage error', () => {
    expect(printed(new UserError('cannot read f: no such file'), 'text')).toEqual({
      out: [],
      err: ['tlsprobe: cannot read f: no such file'],
      code: 2,
    });
    expect(printed(new UsageError('Unknown argument: x'), 'text').err).toEqual([
      'tlsprobe: Unknown argument: x',
      'Try --help for usage.',
    ]);
    expect(printed(new UserError('h: refused', ExitCode.network), 'text').err).toEqual(['tlsprobe: h: refused']);
  });

  it('escapes a message that quotes the input', () => {
    expect(printed(new UserError('bad "\x1b]0;x\x07"\nnext'), 'text').err).toEqual([
      'tlsprobe: bad "\\x1b]0;x\\x07"\\x0anext',
    ]);
  });

  it('prints { error: { code, message } } and what was done under --json', () => {
    const e = new CliError('interrupted', 'interrupted after 1 of 2 targets', { partial: { results: [{ a: 1 }] } });
    const p = printed(e, 'json');
    expect(p.code).toBe(130);
    expect(JSON.parse(p.out.join(''))).toEqual({
      schemaVersion: '1.0',
      results: [{ a: 1 }],
      error: { code: 'interrupted', message: 'interrupted after 1 of 2 targets' },
    });
    expect(jsonError(e)).toEqual(JSON.parse(p.out.join('')));
    expect(printed(e, 'ndjson').out).toHaveLength(1);
  });
});

describe('run', () => {
  it('ends an interrupted command with 130 and one line, saying how far it got', async () => {
    // A server that never answers: the first simulated client waits on it until the abort.
    const sockets = new Set<Socket>();
    const silent = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(new CliError('interrupted', 'interrupted (SIGINT)')), 3000);
      const r = await runCli(
        ['clients', `127.0.0.1:${(silent.address() as AddressInfo).port}`, '--timeout', '60'],
        ctl.signal,
      );
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/^tlsprobe: interrupted after 0 of \d+ clients\n$/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  }, 60_000);
});

describe('checkOutputPath', () => {
  it('refuses a missing directory, a directory, the input and (when asked) an existing file', () => {
    const input = join(dir, 'in.reg');
    writeFileSync(input, 'x');
    expect(() => checkOutputPath(join(dir, 'none', 'x'), '--fix', { existing: 'refuse' })).toThrow(
      /the directory .* does not exist/,
    );
    expect(() => checkOutputPath(dir, '--pcap', { existing: 'replace' })).toThrow(/is a directory/);
    expect(() => checkOutputPath(join(dir, '.', 'in.reg'), '--fix', { existing: 'replace', inputs: [input] })).toThrow(
      /is the input file/,
    );
    expect(() => checkOutputPath(input, '--fix', { existing: 'refuse' })).toThrow(/exists/);
    expect(() => checkOutputPath(join(input, 'below'), '--pcap', { existing: 'replace' })).toThrow(UserError);
    expect(() => checkOutputPath(join(dir, 'new.pcapng'), '--pcap', { existing: 'replace' })).not.toThrow();
    expect(() => checkOutputPath(input, '--keylog', { existing: 'append' })).not.toThrow();
  });
});

describe('isHexText', () => {
  it('reads megabytes in one pass (a backtracking pattern overflowed the stack)', () => {
    const big = new Uint8Array(Buffer.from('16 03 01:00 # comment\n'.repeat(300_000)));
    expect(isHexText(big)).toBe(true);
    expect(isHexText(new Uint8Array(Buffer.from('16 03 zz')))).toBe(false);
    expect(isHexText(new Uint8Array(Buffer.from('# only a comment with zz')))).toBe(true);
  });
});
