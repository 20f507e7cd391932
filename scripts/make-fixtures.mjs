#!/usr/bin/env node
// Makes the handshake fixtures in fixtures/hello and fixtures/server by running real TLS stacks on
// loopback and recording the bytes they send:
//   - ClientHellos of `openssl s_client`, `gnutls-cli` and Node's `tls.connect`, caught by a raw
//     TCP server that records the first flight and hangs up;
//   - server flights of `openssl s_server` (TLS 1.2 and TLS 1.3) and Node's tls server, caught by a
//     raw TCP relay between a Node client and the server.
// Usage: node scripts/make-fixtures.mjs   (needs openssl; gnutls-cli optional)
// Only loopback addresses are used. The outputs are hex text with a provenance header.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const has = (cmd) => spawnSync('which', [cmd]).status === 0;
const opensslVersion = spawnSync('openssl', ['version']).stdout?.toString().trim();
const gnutlsVersion = has('gnutls-cli')
  ? spawnSync('gnutls-cli', ['--version']).stdout.toString().split('\n')[0]
  : null;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function hexLines(bytes) {
  const hex = Buffer.from(bytes).toString('hex');
  return (hex.match(/.{1,64}/g) ?? []).join('\n');
}

function writeFixture(path, header, bytes) {
  writeFileSync(join(root, path), `${header.map((l) => `# ${l}`).join('\n')}\n${hexLines(bytes)}\n`);
  console.log(`wrote ${path} (${bytes.length} bytes)`);
}

/** Starts a raw server that records the first flight of each connection (until 300 ms of silence). */
async function catchFirstFlight(connect) {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  const got = new Promise((resolve) => {
    server.once('connection', (sock) => {
      const chunks = [];
      let timer = null;
      const finish = () => {
        sock.destroy();
        resolve(Buffer.concat(chunks));
      };
      sock.on('data', (d) => {
        chunks.push(d);
        clearTimeout(timer);
        timer = setTimeout(finish, 300);
      });
      sock.on('error', () => {});
    });
  });
  const child = connect(port);
  const bytes = await got;
  if (child && typeof child.kill === 'function') child.kill();
  server.close();
  return bytes;
}

function spawnQuiet(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'ignore'] });
  child.on('error', () => {});
  return child;
}

async function clientHellos() {
  const out = [];
  for (const [flag, name] of [
    ['-tls1_3', 'openssl-s_client-tls13'],
    ['-tls1_2', 'openssl-s_client-tls12'],
  ]) {
    const bytes = await catchFirstFlight((port) =>
      spawnQuiet('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', flag]),
    );
    out.push([name, bytes, `openssl s_client -connect 127.0.0.1:PORT -servername localhost ${flag}`, opensslVersion]);
  }
  if (gnutlsVersion) {
    const bytes = await catchFirstFlight((port) =>
      spawnQuiet('gnutls-cli', ['--insecure', '-p', String(port), 'localhost']),
    );
    out.push(['gnutls-cli', bytes, 'gnutls-cli --insecure -p PORT localhost', gnutlsVersion]);
  } else {
    console.warn('gnutls-cli not found: skipping its ClientHello');
  }
  const nodeBytes = await catchFirstFlight((port) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'example.com', ALPNProtocols: ['h2', 'http/1.1'] });
    s.on('error', () => {});
    return { kill: () => s.destroy() };
  });
  out.push([
    'node-tls-connect',
    nodeBytes,
    "tls.connect({ servername: 'example.com', ALPNProtocols: ['h2', 'http/1.1'] })",
    `Node.js ${process.version}`,
  ]);
  for (const [name, bytes, cmd, ver] of out) {
    writeFixture(
      `fixtures/hello/${name}.hex`,
      [
        `ClientHello record(s) sent by: ${cmd}`,
        `tool: ${ver}`,
        `made by scripts/make-fixtures.mjs on loopback, ${new Date().toISOString().slice(0, 10)}`,
      ],
      bytes,
    );
  }
}

function makeCert(dir) {
  const r = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
}

async function waitForPort(port) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`port ${port} never opened`);
}

/** Relays one Node TLS client connection to `serverPort`, recording server→client bytes. */
async function recordServerFlight(serverPort, clientOptions) {
  const relay = net.createServer();
  await new Promise((r) => relay.listen(0, '127.0.0.1', () => r(undefined)));
  const serverBytes = [];
  relay.once('connection', (c) => {
    const s = net.connect(serverPort, '127.0.0.1');
    c.on('data', (d) => s.write(d));
    s.on('data', (d) => {
      serverBytes.push(d);
      c.write(d);
    });
    c.on('error', () => {});
    s.on('error', () => {});
    c.on('close', () => s.destroy());
    s.on('close', () => c.destroy());
  });
  await new Promise((resolve) => {
    const t = tls.connect({
      host: '127.0.0.1',
      port: /** @type {import('node:net').AddressInfo} */ (relay.address()).port,
      rejectUnauthorized: false,
      servername: 'localhost',
      ...clientOptions,
    });
    t.on('secureConnect', () =>
      setTimeout(() => {
        t.destroy();
        resolve(undefined);
      }, 200),
    );
    t.on('error', () => resolve(undefined));
  });
  relay.close();
  return Buffer.concat(serverBytes);
}

async function serverFlights() {
  const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-fixtures-'));
  try {
    makeCert(dir);
    for (const [ver, name] of [
      ['TLSv1.2', 'openssl-s_server-tls12'],
      ['TLSv1.3', 'openssl-s_server-tls13'],
    ]) {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const flag = ver === 'TLSv1.2' ? '-tls1_2' : '-tls1_3';
      const child = spawn(
        'openssl',
        [
          's_server',
          '-accept',
          `127.0.0.1:${port}`,
          '-cert',
          join(dir, 'cert.pem'),
          '-key',
          join(dir, 'key.pem'),
          flag,
          '-quiet',
        ],
        { stdio: ['pipe', 'ignore', 'ignore'] },
      );
      try {
        await waitForPort(port);
        const bytes = await recordServerFlight(port, { minVersion: ver, maxVersion: ver });
        writeFixture(
          `fixtures/server/${name}.hex`,
          [
            `server flight (records) of: openssl s_server ${flag} -cert <EC P-256 self-signed CN=localhost>`,
            `answering Node ${process.version} tls.connect({ minVersion: '${ver}', maxVersion: '${ver}' })`,
            `tool: ${opensslVersion}`,
            `made by scripts/make-fixtures.mjs on loopback, ${new Date().toISOString().slice(0, 10)}`,
          ],
          bytes,
        );
      } finally {
        child.kill();
      }
    }
    writeFileSync(join(root, 'fixtures/server/openssl-s_server-cert.pem'), readFileSync(join(dir, 'cert.pem')));
    console.log('wrote fixtures/server/openssl-s_server-cert.pem');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!has('openssl')) {
  console.error('openssl is required to make the fixtures');
  process.exit(1);
}
await clientHellos();
await serverFlights();
