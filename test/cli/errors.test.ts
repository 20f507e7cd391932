/**
 * The CLI's one error path (issue 14), spawned as a user runs it: each case of the "Why"
 * gives one line on stderr and the documented exit code (2 input, 3 network, 130 interrupted, 141
 * EPIPE), --json failures print `{ "error": … }` on stdout, and no stack trace ever (the helper
 * rejects any run whose stderr holds one).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/capture/sessions.js';
import { CLI, HAS_CLI, REPO_ROOT, assertNoStackTrace, tlsprobe } from '../helpers/cli.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-errors-'));
const PCAP = join(FIXTURES_DIR, 'pcap/alert.pcapng');
const REG = join(FIXTURES_DIR, 'reg/2008r2.defaults.utf16.reg');

/** A TCP server that accepts and never answers: probes of it wait for their read timeout. */
let silent: Server;
const sockets = new Set<Socket>();
let silentPort = 0;
beforeAll(async () => {
  silent = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

/** The one-line rule: stderr is exactly one `tlsprobe: …` line. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^tlsprobe: /);
  return lines[0]!;
}

describe.skipIf(!HAS_CLI)('input errors: one line, exit 2, never "Try --help"', () => {
  it('reads a truncated .pcapng.gz cut at any point as one line (was: internal error, exit 70)', async () => {
    const gz = gzipSync(readFileSync(PCAP));
    // Every cut of the gzip stream short of its end: header, deflate blocks, trailer.
    const cuts = [
      1,
      2,
      5,
      10,
      11,
      20,
      Math.floor(gz.length / 3),
      Math.floor(gz.length / 2),
      gz.length - 9,
      gz.length - 4,
      gz.length - 1,
    ];
    for (const cut of cuts) {
      const file = join(dir, `cut-${cut}.pcapng.gz`);
      writeFileSync(file, gz.subarray(0, cut));
      const r = await tlsprobe(['capture', file]);
      expect(r.code, `cut at ${cut}: ${r.stderr}`).toBe(2);
      expect(oneLine(r.stderr)).toMatch(/not a readable pcap\/pcapng capture/);
    }
  });

  it('reads a corrupt gzip stream (bytes flipped in the deflate data) as one line', async () => {
    const gz = Buffer.from(gzipSync(readFileSync(PCAP)));
    for (const at of [3, 12, 40, Math.floor(gz.length / 2)]) {
      const bad = Buffer.from(gz);
      bad[at] = bad[at]! ^ 0xff;
      const file = join(dir, `flip-${at}.pcap.gz`);
      writeFileSync(file, bad);
      const r = await tlsprobe(['capture', file, '--json']);
      // A flip may still inflate (then it is a capture, or not); whatever happens is typed.
      if (r.code !== 0) {
        expect(r.code).toBe(2);
        expect(JSON.parse(r.stdout).error.code).toBe('bad-input');
      }
    }
  });

  it('decodes a few MB of hex text (comments, spaces, colons) without recursing (was: stack overflow)', async () => {
    const file = join(dir, 'big.hex');
    writeFileSync(file, `# many alerts\n${'15 03 03 00 02 02 28 # alert\n'.repeat(200_000)}`);
    const r = await tlsprobe(['decode', file]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/too-large|more than/);
    const colon = join(dir, 'colon.hex');
    writeFileSync(colon, '16:03:01:'.repeat(700_000));
    const c = await tlsprobe(['decode', colon, '--json']);
    expect(c.code).toBe(2);
    expect(JSON.parse(c.stdout).error.code).toBe('bad-input');
  });

  it('names a missing input file without "Try --help"', async () => {
    const r = await tlsprobe(['registry', join(dir, 'absent.reg')]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/absent\.reg: no such file/);
  });

  it('adds "Try --help" after a usage error only', async () => {
    const r = await tlsprobe(['probe', '127.0.0.1:1', '--no-such-option']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tlsprobe: Unknown argument.*\nTry --help for usage\.\n$/);
  });
});

describe.skipIf(!HAS_CLI)('network failures before TLS: one line or the report, exit 3', () => {
  it.each([
    ['chain', ['chain', '127.0.0.1:1']],
    ['clients', ['clients', '127.0.0.1:1']],
    ['clients (DNS)', ['clients', 'no-such-host.invalid']],
  ])('%s', async (_name, args) => {
    const r = await tlsprobe(args);
    expect(r.code).toBe(3);
    expect(r.stderr).not.toMatch(/Try --help/);
    if (r.stdout === '') oneLine(r.stderr);
  });
});

describe.skipIf(!HAS_CLI)('--json always prints JSON, failures included, with the same exit code', () => {
  const notThere = join(dir, 'absent.file');
  it.each([
    ['decode', ['decode', '--hex', '16030100', '--json'], 2, 'bad-input'],
    ['decode (usage)', ['decode', '--json'], 2, 'bad-input'],
    ['probe', ['probe', 'http://example.com/', '--json'], 2, 'bad-input'],
    ['probe --ndjson', ['probe', 'a b', '--ndjson'], 2, 'bad-input'],
    ['chain (file)', ['chain', `${notThere}.pem`, '--json'], 2, 'bad-input'],
    ['chain (network)', ['chain', '127.0.0.1:1', '--json'], 3, 'network'],
    ['clients', ['clients', 'no-such-host.invalid', '--json'], 3, 'network'],
    ['registry', ['registry', notThere, '--json'], 2, 'bad-input'],
    ['roots', ['roots', '--bundle', notThere, '--json'], 2, 'bad-input'],
    ['replay', ['replay', notThere, '--to', '127.0.0.1:1', '--json'], 2, 'bad-input'],
    ['capture', ['capture', notThere, '--json'], 2, 'bad-input'],
    ['capture --ndjson', ['capture', notThere, '--ndjson'], 2, 'bad-input'],
    ['diagnose', ['diagnose', '--json'], 2, 'bad-input'],
    ['mistyped option', ['roots', '--jsno', '--json'], 2, 'usage'],
  ] as const)('%s', async (_name, args, code, errorCode) => {
    const r = await tlsprobe(args);
    expect(r.code, r.stderr).toBe(code);
    const j = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(j.error.code).toBe(errorCode);
    expect(j.error.message.length).toBeGreaterThan(0);
    // Scripts read stdout; stderr still has the one line for a person watching.
    expect(r.stderr).toBe(`tlsprobe: ${j.error.message}\n`);
  });
});

/** Resolves with the exit code and stderr of the CLI whose stdout is `stdout` (a file descriptor or a pipe closed at once). */
function runWithStdout(
  args: readonly string[],
  stdout: number | 'closed-pipe',
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', stdout === 'closed-pipe' ? 'pipe' : stdout, 'pipe'],
    });
    // The reader goes away before the first write, as `| head -0` would: the write meets EPIPE.
    if (stdout === 'closed-pipe') child.stdout!.destroy();
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      assertNoStackTrace(stderr, args);
      resolve({ code, stderr });
    });
  });
}

describe.skipIf(!HAS_CLI)('standard output that fails', () => {
  it.each([
    ['roots', ['roots']],
    ['clients', ['clients']],
    ['capture --ndjson', ['capture', PCAP, '--ndjson']],
    ['decode', ['decode', 'fixtures/hello/openssl-s_client-tls13.hex']],
  ])('%s into a closed pipe ends quietly with 141, as SIGPIPE would', async (_name, args) => {
    const r = await runWithStdout(args, 'closed-pipe');
    expect(r.code).toBe(141);
    expect(r.stderr).toBe('');
  });

  it.skipIf(!existsSync('/dev/full'))(
    'on a full disk (/dev/full) prints one line and exits 2 (was: stack trace)',
    async () => {
      for (const args of [['roots'], ['clients', '--json'], ['capture', PCAP]]) {
        const fd = openSync('/dev/full', 'w');
        try {
          const r = await runWithStdout(args, fd);
          expect(r.code, args.join(' ')).toBe(2);
          expect(r.stderr).toBe('tlsprobe: cannot write standard output: no space left on device (ENOSPC)\n');
        } finally {
          closeSync(fd);
        }
      }
    },
  );
});

describe.skipIf(!HAS_CLI)("registry --fix keeps the customer's files", () => {
  it('never writes over its input, even with --force', async () => {
    const input = join(dir, 'export.reg');
    writeFileSync(input, readFileSync(REG));
    for (const extra of [[], ['--force']]) {
      const r = await tlsprobe(['registry', input, '--fix', input, ...extra]);
      expect(r.code).toBe(2);
      expect(oneLine(r.stderr)).toMatch(/is the input file/);
      expect(readFileSync(input)).toEqual(readFileSync(REG));
    }
    // The same file by another name (a relative path from another directory) is still the input.
    const r = await tlsprobe(['registry', input, '--fix', join(dir, '.', 'export.reg'), '--force']);
    expect(r.code).toBe(2);
    expect(readFileSync(input)).toEqual(readFileSync(REG));
  });

  it('writes over an existing file only with --force', async () => {
    const out = join(dir, 'fix.reg');
    writeFileSync(out, 'keep me');
    const refused = await tlsprobe(['registry', REG, '--fix', out]);
    expect(refused.code).toBe(2);
    expect(oneLine(refused.stderr)).toMatch(/exists.*--force/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const forced = await tlsprobe(['registry', REG, '--fix', out, '--force', '--os', '2008r2']);
    expect(forced.code).toBe(1);
    expect(readFileSync(out, 'utf8')).not.toBe('keep me');
  });

  it('checks the --fix directory before reading anything', async () => {
    const r = await tlsprobe(['registry', REG, '--fix', join(dir, 'no-dir', 'fix.reg')]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/--fix .*the directory .*no-dir does not exist/);
  });
});

/** Runs `tlsprobe ARGS`, sends `signal` once stderr shows `ready` (or after `afterMs`), and resolves with the outcome. */
function interrupt(
  args: readonly string[],
  signal: NodeJS.Signals,
  afterMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    let sentAt = 0;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    setTimeout(() => {
      sentAt = Date.now();
      child.kill(signal);
    }, afterMs);
    child.on('close', (code) => {
      assertNoStackTrace(stderr, args);
      resolve({ code, stdout, stderr, ms: Date.now() - sentAt });
    });
  });
}

describe.skipIf(!HAS_CLI)('SIGINT/SIGTERM keep what is done', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s during probe --pcap --keylog: finished targets written, "interrupted after N of M", exit 130',
    async (sig) => {
      const pcap = join(dir, `int-${sig}.pcapng`);
      const keylog = join(dir, `int-${sig}.keys`);
      // The first target is refused at once; the silent ones would wait 60 s each for an answer.
      const args = [
        'probe',
        '127.0.0.1:1',
        `127.0.0.1:${silentPort}`,
        `127.0.0.1:${silentPort}`,
        '--timeout',
        '60',
        '--versions',
        'TLS1.2',
        'TLS1.3',
        '--pcap',
        pcap,
        '--keylog',
        keylog,
      ];
      // Generous: the process must have started and finished the refused target under any load.
      const r = await interrupt(args, sig, 4000);
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toMatch(/^tlsprobe: interrupted after 1 of 3 targets$/m);
      expect(r.stdout).toMatch(/127\.0\.0\.1:1 /);
      // A valid capture of the finished target: our own reader reads it whole, with its connections.
      expect(existsSync(pcap)).toBe(true);
      const result = await analyzeCapture(new Uint8Array(readFileSync(pcap)));
      expect(result.meta.truncated).toBe(false);
      expect(result.stats.packets).toBeGreaterThan(0);
      expect(existsSync(keylog)).toBe(true);
    },
    60_000,
  );

  it('--json prints the finished targets beside the error', async () => {
    const r = await interrupt(
      ['probe', '127.0.0.1:1', `127.0.0.1:${silentPort}`, '--timeout', '60', '--json'],
      'SIGINT',
      4000,
    );
    expect(r.code).toBe(130);
    const j = JSON.parse(r.stdout);
    expect(j.error).toEqual({ code: 'interrupted', message: 'interrupted after 1 of 2 targets' });
    expect(j.results).toHaveLength(1);
    expect(j.results[0].target.port).toBe(1);
  }, 60_000);

  it('a command that does not watch the signal is still ended as interrupted, with one line', async () => {
    const r = await interrupt(['clients', `127.0.0.1:${silentPort}`, '--timeout', '60'], 'SIGINT', 3000);
    expect(r.code).toBe(130);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/interrupted/);
  }, 60_000);
});
