/**
 * Every example the help shows is run as printed: the top-level examples and each command's
 * `.example()` lines, by the built CLI, in a folder holding the files they name (made from the
 * fixtures and the lab's chain). Host names in examples stand for the reader's endpoint: each is
 * pointed at a lab endpoint on loopback, and nothing else of the line changes. An example must not
 * end as a usage error (exit 2), an internal error, or a yargs complaint. `reg export` / `reg query`
 * lines are commands for the Windows machine, not tlsprobe: they are listed and left alone.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/run.js';
import { EXAMPLES } from '../../src/cli/top-help.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { LAB_REVOCATION_PATHS } from '../../src/lab/pki.js';
import { FIXTURES_DIR, loadHexFixture } from '../helpers/fixtures.js';
import { CLI, HAS_CLI } from '../helpers/cli.js';

/** The host names examples use for "your endpoint". */
const EXAMPLE_HOSTS = new Set([
  'example.com',
  'backup.example.net',
  '10.0.0.5:8443',
  '10.0.0.5:443',
  'myvault.blob.core.windows.net',
]);
/** Options whose value is a name to send or match, not where to connect: left as printed. */
const NAME_OPTIONS = new Set(['--fix-sni', '--host', '--sni']);

/** Returns every `.example(command, description)` the command modules declare, with `$0` as tlsprobe. */
async function commandExamples(): Promise<string[]> {
  const found: string[] = [];
  const recorder: object = new Proxy(
    {},
    {
      get: (_t, key) =>
        key === 'example'
          ? (cmd: string) => {
              found.push(cmd.replace(/\$0/g, 'tlsprobe'));
              return recorder;
            }
          : () => recorder,
    },
  );
  const ctx = { out: () => {}, err: () => {}, setExitCode: () => {}, isTty: false };
  for (const entry of COMMANDS) {
    const mod = await entry.load(ctx, () => new Promise(() => {}));
    (mod.builder as (y: object) => unknown)(recorder);
  }
  return found;
}

/** Splits a printed example into words (single and double quotes group), and its `< FILE` input. */
function words(line: string): { argv: string[]; stdin: string | null } {
  const argv = [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  const lt = argv.indexOf('<');
  const stdin = lt >= 0 ? argv[lt + 1]! : null;
  return { argv: lt >= 0 ? argv.slice(0, lt) : argv, stdin };
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runIn(dir: string, argv: readonly string[], stdin: string | null, untilOut?: string): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...argv], { cwd: dir, env: { ...process.env, COLUMNS: '100' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      stdout += d;
      // A long-running example (the lab) is stopped as its help says: Ctrl-C.
      if (untilOut !== undefined && stdout.includes(untilOut)) child.kill('SIGINT');
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin === null ? undefined : readFileSync(join(dir, stdin)));
  });
}

describe.skipIf(!HAS_CLI)('every help example, run as printed', () => {
  let lab: Lab;
  let dir = '';
  let examples: string[] = [];
  beforeAll(async () => {
    lab = await startLab({ names: ['reset-legacy'] });
    dir = mkdtempSync(join(tmpdir(), 'tlsprobe-examples-'));
    const pcap = (name: string) => join(FIXTURES_DIR, 'pcap', name);
    writeFileSync(join(dir, 'hello.bin'), loadHexFixture('hello/openssl-s_client-tls13.hex'));
    copyFileSync(join(FIXTURES_DIR, 'hello', 'openssl-s_client-tls13.hex'), join(dir, 'hello.hex'));
    writeFileSync(join(dir, 'server-chain.pem'), lab.pki.chainPem);
    writeFileSync(join(dir, 'chain.pem'), lab.pki.chainPem);
    copyFileSync(join(FIXTURES_DIR, 'reg', '7.defaults.utf16.reg'), join(dir, 'schannel.reg'));
    for (const name of ['backup.pcapng', 'backup-failure.pcapng', 'dump.pcapng', 'dump.pcap'])
      copyFileSync(pcap('tls12-keylog.pcapng'), join(dir, name));
    copyFileSync(pcap('tls12-keylog.keys'), join(dir, 'sslkeys.log'));
    if (!existsSync('/etc/ssl/certs')) mkdirSync(join(dir, 'etc-ssl-certs'));
    // A fleet list naming the lab endpoint, and the lab issuing CA's CRL as its responder serves it.
    writeFileSync(join(dir, 'hosts.txt'), `# the fleet\n127.0.0.1:${lab.endpoint('reset-legacy').port}\n`);
    // The leaf names its CRL (CRL distribution point, an http:// URL in its DER) on the lab responder.
    const crlUrl = Buffer.from(lab.pki.leaf.der)
      .toString('latin1')
      .match(new RegExp(`http://[\\x21-\\x7e]*?${LAB_REVOCATION_PATHS.issuingCrl.replace('.', '\\.')}`))?.[0];
    expect(crlUrl).toBeDefined();
    const crl = await fetch(crlUrl!);
    expect(crl.status).toBe(200);
    writeFileSync(join(dir, 'issuing-ca.crl'), new Uint8Array(await crl.arrayBuffer()));
    examples = [...EXAMPLES.map(([c]) => c), ...(await commandExamples())];
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the examples: the top-level ones and at least two per command', () => {
    expect(examples.length).toBeGreaterThanOrEqual(EXAMPLES.length + 2 * (COMMANDS.length - 1));
    expect(examples).toContain('tlsprobe decode --hex 15030300020228');
  });

  it('runs each one without a usage error, as printed (host names pointed at the lab)', async () => {
    const endpoint = `127.0.0.1:${lab.endpoint('reset-legacy').port}`;
    const failures: string[] = [];
    let ran = 0;
    for (const line of examples) {
      const { argv, stdin } = words(line);
      if (argv[0] !== 'tlsprobe') {
        expect(line, 'a non-tlsprobe example is a Windows command').toMatch(/^reg (export|query) /);
        continue;
      }
      const args = argv.slice(1).map((w, i, all) => {
        if (NAME_OPTIONS.has(all[i - 1] ?? '')) return w;
        if (EXAMPLE_HOSTS.has(w)) return endpoint;
        if (w === '/etc/ssl/certs' && !existsSync(w)) return join(dir, 'etc-ssl-certs');
        return w;
      });
      // `registry --live` reads the registry of the Windows machine it runs on: elsewhere it must
      // refuse with one line (exit 2), which is what it is checked for here.
      if (args[0] === 'registry' && args.includes('--live') && process.platform !== 'win32') {
        const r = await runIn(dir, args, stdin);
        expect(r.code, line).toBe(2);
        expect(r.stderr.trim().split('\n'), line).toEqual([expect.stringMatching(/^tlsprobe: .*needs Windows/)]);
        continue;
      }
      const lab = args[0] === 'lab' && !args.includes('--demo');
      const r = await runIn(dir, args, stdin, lab ? 'Ctrl-C stops the lab' : undefined);
      ran++;
      const bad =
        r.code === 2 ||
        r.code === null ||
        r.code > 3 ||
        /internal error|Unknown argument|Not enough|odd number/i.test(r.stderr);
      if (bad) failures.push(`${line}\n  -> exit ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
    }
    expect(failures).toEqual([]);
    expect(ran).toBeGreaterThan(20);
  }, 600_000);

  it('decodes the decode --help hex example to the alert it names', async () => {
    const r = await runIn(dir, ['decode', '--hex', '15030300020228'], null);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/handshake_failure/);
  });
});
