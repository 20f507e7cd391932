/**
 * Test helpers that start real TLS servers and capture real ClientHellos on loopback; each start
 * function resolves once the server accepts connections and rejects if it cannot start.
 *
 * - `startOpensslServer` runs `openssl s_server` on 127.0.0.1 (port chosen by openssl itself).
 * - `startGnutlsServer` runs `gnutls-serv`. gnutls-serv has no bind-address option: it listens on
 *   the wildcard address of a free port for the duration of the test; tests still only connect to
 *   127.0.0.1.
 * - `startUnresponsiveListener` makes a port where SYNs go unanswered (a connect timeout on
 *   loopback): a python3 listener with backlog 0 that never accepts, with its one queue slot filled.
 * - `captureOpensslClientHello` / `captureNodeClientHello` record the first TLS record a real
 *   client sends, through a raw `net` server that never answers.
 *
 * Callers skip when a tool is missing: `describe.skipIf(!HAS_OPENSSL)` etc., and stop servers in
 * afterAll. Certificates come from the lab PKI, written to a temp dir removed at stop.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, type Socket, connect as netConnect, createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import type { LabPki } from '../../src/lab/pki.js';

/** True when `tool` is on PATH. */
export function hasTool(tool: string): boolean {
  return spawnSync('which', [tool], { stdio: 'ignore' }).status === 0;
}

export const HAS_OPENSSL = hasTool('openssl');
export const HAS_GNUTLS_SERV = hasTool('gnutls-serv');
export const HAS_PYTHON3 = hasTool('python3');

/** True when this machine has the IPv6 loopback address (containers often have none). */
export const HAS_IPV6_LOOPBACK = Object.values(networkInterfaces()).some((addrs) =>
  addrs?.some((a) => a.address === '::1'),
);
export const NO_IPV6_LOOPBACK = 'no ::1 on this machine: IPv6 loopback tests skipped';

/** Messages for skipped suites. */
export const NO_OPENSSL = 'openssl not found on PATH: tests that need openssl skipped';
export const NO_GNUTLS = 'gnutls-serv not found on PATH (apt install gnutls-bin): tests that need it skipped';
export const NO_PYTHON3 = 'python3 not found on PATH: the unanswered-SYN connect-timeout test is skipped';

/** How long a spawned server may take to start accepting (2 busy cores, several test workers). */
const START_TIMEOUT_MS = 15_000;

/** A running external server. */
export interface ExternalServer {
  readonly host: string;
  readonly port: number;
  /** Everything the process wrote to stdout+stderr so far (for failure messages). */
  output(): string;
  /** Kills the process (SIGTERM, then SIGKILL after 2 s), removes temp files; resolves when it has exited. */
  stop(): Promise<void>;
}

/** Writes the lab chain to a fresh temp dir: leaf.pem, leaf.key, intermediate.pem, chain.pem, root.pem. */
export function writePkiFiles(pki: LabPki): {
  dir: string;
  leaf: string;
  key: string;
  intermediate: string;
  chain: string;
  root: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-pki-'));
  const files = {
    leaf: join(dir, 'leaf.pem'),
    key: join(dir, 'leaf.key'),
    intermediate: join(dir, 'intermediate.pem'),
    chain: join(dir, 'chain.pem'),
    root: join(dir, 'root.pem'),
  };
  writeFileSync(files.leaf, pki.leaf.pem);
  writeFileSync(files.key, pki.leaf.keyPem, { mode: 0o600 });
  writeFileSync(files.intermediate, pki.intermediate.pem);
  writeFileSync(files.chain, pki.chainPem);
  writeFileSync(files.root, pki.root.pem);
  return { dir, ...files };
}

/**
 * Returns a running `openssl s_server` on 127.0.0.1 serving the lab chain. `args` are extra
 * s_server flags (default `-www`, which answers every connection and keeps accepting), e.g.
 * `['-www', '-tls1_2']` or `['-www', '-cipher', 'DEFAULT@SECLEVEL=0', '-tls1']`.
 */
export async function startOpensslServer(pki: LabPki, args: readonly string[] = ['-www']): Promise<ExternalServer> {
  const files = writePkiFiles(pki);
  const child = spawn(
    'openssl',
    [
      's_server',
      '-accept',
      '127.0.0.1:0',
      '-cert',
      files.leaf,
      '-key',
      files.key,
      '-cert_chain',
      files.intermediate,
      ...args,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const out = collectOutput(child);
  try {
    // OpenSSL prints the port it bound: "ACCEPT 127.0.0.1:44347".
    const line = await waitForOutput(child, out, /ACCEPT 127\.0\.0\.1:(\d+)/);
    const port = Number(line[1]);
    await waitUntilAccepting('127.0.0.1', port, child);
    return externalServer('127.0.0.1', port, child, out, files.dir);
  } catch (e) {
    await kill(child);
    rmSync(files.dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Returns a running `gnutls-serv` serving the lab chain on a free port (see the module note on its
 * wildcard bind). `args` are extra flags (default `--http`), e.g. `['--http', '--priority', 'NORMAL:-VERS-TLS1.3']`.
 */
export async function startGnutlsServer(pki: LabPki, args: readonly string[] = ['--http']): Promise<ExternalServer> {
  const files = writePkiFiles(pki);
  let lastError: unknown;
  // The free port is found by binding 0 and closing; another process can take it in between, so
  // a start that fails to bind is retried on a new port.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      'gnutls-serv',
      [
        '--port',
        String(port),
        '--x509certfile',
        files.chain,
        '--x509keyfile',
        files.key,
        '--disable-client-cert',
        ...args,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const out = collectOutput(child);
    try {
      await waitUntilAccepting('127.0.0.1', port, child);
      return externalServer('127.0.0.1', port, child, out, files.dir);
    } catch (e) {
      lastError = new Error(`gnutls-serv did not start on port ${port}: ${(e as Error).message}\n${out.text}`);
      await kill(child);
    }
  }
  rmSync(files.dir, { recursive: true, force: true });
  throw lastError;
}

/** A port on 127.0.0.1 where connection attempts get no SYN-ACK. */
export interface UnresponsiveListener {
  readonly host: '127.0.0.1';
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Returns a loopback port where a TCP connect hangs in SYN-SENT: python3 listens with backlog 0 and
 * never accepts; this helper fills the one accept-queue slot itself, after which Linux drops new
 * SYNs (the accept queue is full) and the client keeps retransmitting until its own timeout.
 */
export async function startUnresponsiveListener(): Promise<UnresponsiveListener> {
  const child = spawn(
    'python3',
    [
      '-c',
      'import socket,sys\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()\n',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const out = collectOutput(child);
  let filler: Socket | null = null;
  try {
    const port = Number((await waitForOutput(child, out, /^(\d+)\s*$/m))[1]);
    filler = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const f = filler;
    f.on('error', () => {});
    return {
      host: '127.0.0.1',
      port,
      async stop(): Promise<void> {
        f.destroy();
        await kill(child);
      },
    };
  } catch (e) {
    filler?.destroy();
    await kill(child);
    throw e;
  }
}

/** What a client sent before its first TLS record was complete. */
export interface CapturedHello {
  /** The first whole TLS record (5-byte header + fragment). */
  readonly record: Uint8Array;
  /** The handshake message inside it (header included): the ClientHello when it fits one record. */
  readonly handshake: Uint8Array;
}

/**
 * Returns the first TLS record `openssl s_client` sends with `flags` (e.g. `['-tls1']`,
 * `['-tls1_2']`, `['-tls1_3']`), captured by a raw server on 127.0.0.1 that never answers. Rejects
 * if openssl sends nothing that looks like a record within 10 s (e.g. it refused the flags).
 */
export function captureOpensslClientHello(flags: readonly string[]): Promise<CapturedHello> {
  return captureFirstRecord((port) => {
    const child = spawn(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...flags],
      {
        stdio: ['pipe', 'ignore', 'pipe'],
      },
    );
    const out = collectOutput(child);
    return {
      stop: () => kill(child),
      describe: () => out.text,
    };
  });
}

export const HAS_GNUTLS_CLI = hasTool('gnutls-cli');
export const NO_GNUTLS_CLI = 'gnutls-cli not found on PATH (apt install gnutls-bin): tests that need it skipped';

/** Returns the first TLS record `gnutls-cli --priority PRIORITY` sends (e.g. with `%DISABLE_SAFE_RENEGOTIATION`). */
export function captureGnutlsClientHello(priority: string): Promise<CapturedHello> {
  return captureFirstRecord((port) => {
    const child = spawn(
      'gnutls-cli',
      ['--priority', priority, '--insecure', '--sni-hostname', 'localhost', '-p', String(port), '127.0.0.1'],
      {
        stdio: ['pipe', 'ignore', 'pipe'],
      },
    );
    const out = collectOutput(child);
    return {
      stop: () => kill(child),
      describe: () => out.text,
    };
  });
}

/** Returns the first TLS record Node's `tls.connect(options)` sends (e.g. `{ minVersion: 'TLSv1', maxVersion: 'TLSv1' }`). */
export function captureNodeClientHello(options: ConnectionOptions): Promise<CapturedHello> {
  return captureFirstRecord((port) => {
    const s = tlsConnect({ servername: 'localhost', ...options, host: '127.0.0.1', port });
    let error = '';
    s.on('error', (e) => {
      error = e.message;
    });
    return {
      stop: async () => {
        s.destroy();
      },
      describe: () => error,
    };
  });
}

const CAPTURE_TIMEOUT_MS = 10_000;

async function captureFirstRecord(
  startClient: (port: number) => { stop(): Promise<void>; describe(): string },
): Promise<CapturedHello> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (server.address() as AddressInfo).port;
  const client = startClient(port);
  let timer: NodeJS.Timeout | undefined;
  let conn: Socket | null = null;
  try {
    return await new Promise<CapturedHello>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no TLS record within ${CAPTURE_TIMEOUT_MS} ms: ${client.describe()}`)),
        CAPTURE_TIMEOUT_MS,
      );
      server.once('connection', (socket) => {
        conn = socket;
        socket.on('error', () => {});
        let buf = Buffer.alloc(0);
        socket.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          // RFC 8446, Section 5.1: 5-byte header, then `length` bytes of fragment.
          if (buf.length >= 5) {
            const need = 5 + buf.readUInt16BE(3);
            if (buf.length >= need) {
              const record = new Uint8Array(buf.subarray(0, need));
              resolve({ record, handshake: record.subarray(5) });
            }
          }
        });
        socket.once('end', () => reject(new Error(`client closed after ${buf.length} bytes: ${client.describe()}`)));
      });
    });
  } finally {
    clearTimeout(timer);
    (conn as Socket | null)?.destroy();
    await client.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface Output {
  text: string;
}

function collectOutput(child: ChildProcess): Output {
  const out: Output = { text: '' };
  const add = (d: Buffer): void => {
    out.text += d.toString('utf8');
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  // Writes to a dead child's stdin raise EPIPE on the stream; a test helper must not crash on it.
  child.stdin?.on('error', () => {});
  return out;
}

/** Resolves with the first match of `re` in the child's output; rejects if it exits or times out first. */
function waitForOutput(child: ChildProcess, out: Output, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const m = re.exec(out.text);
      if (m) {
        done();
        resolve(m);
      }
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`process exited (${code}) before printing ${re}: ${out.text}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${re}: ${out.text}`));
    }, START_TIMEOUT_MS);
    const done = (): void => {
      clearTimeout(timer);
      child.stdout?.removeListener('data', check);
      child.stderr?.removeListener('data', check);
      child.removeListener('exit', onExit);
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

/** Resolves once a TCP connect to host:port succeeds; rejects if `child` exits or START_TIMEOUT_MS passes. */
async function waitUntilAccepting(host: string, port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`process exited (${child.exitCode ?? child.signalCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing accepted on ${host}:${port} within ${START_TIMEOUT_MS} ms`);
}

/** Returns a port that was free on 127.0.0.1 a moment ago. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function externalServer(host: string, port: number, child: ChildProcess, out: Output, dir: string): ExternalServer {
  return {
    host,
    port,
    output: () => out.text,
    async stop(): Promise<void> {
      await kill(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Terminates `child` and resolves once it has exited. */
function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), 2_000);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}
