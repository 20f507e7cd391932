// The endpoints of bench/scan.mjs, each a real server on loopback started for the run: openssl
// s_server (TLS 1.2 only; TLS 1.0–1.3 at SECLEVEL=0), gnutls-serv (TLS 1.2, 4 suites), nginx (TLS
// 1.2+1.3, RSA and ECDSA certificates; and a fleet of server blocks on 127.0.0.2… sharing one port,
// so that one nmap run covers them), and the lab's reset-legacy (a gate that resets hellos below
// TLS 1.2 in front of Node's TLS server). Each start resolves { host, port, stop() } or throws.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The gnutls-serv priority: TLS 1.2, AES-128/256-GCM, ECDHE-RSA and RSA key exchange: 4 suites. */
export const GNUTLS_PRIORITY =
  'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:-KX-ALL:+ECDHE-RSA:+RSA';

/** Writes an RSA 2048 and an ECDSA P-256 self-signed certificate into `dir`; returns their paths. */
export function makeCertificates(dir) {
  const files = {
    rsaKey: join(dir, 'rsa.key'),
    rsaCert: join(dir, 'rsa.pem'),
    ecKey: join(dir, 'ec.key'),
    ecCert: join(dir, 'ec.pem'),
  };
  const req = (extra, key, cert) =>
    spawnSync(
      'openssl',
      ['req', '-x509', ...extra, '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=localhost', '-days', '2'],
      { stdio: 'ignore' },
    ).status === 0;
  if (!req(['-newkey', 'rsa:2048'], files.rsaKey, files.rsaCert))
    throw new Error('openssl could not make the RSA certificate');
  if (!req(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], files.ecKey, files.ecCert))
    throw new Error('openssl could not make the ECDSA certificate');
  return files;
}

function stopper(child) {
  return () =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => {
          child.once('exit', resolve);
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 2000).unref();
        });
}

/** Resolves when something accepts TCP connections on host:port (polling), or rejects after `ms`. */
export async function waitForPort(host, port, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Returns a TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/** openssl s_server with `args` on 127.0.0.1 (port chosen by openssl), serving the RSA certificate. */
export function startOpenssl(files, args) {
  const child = spawn(
    'openssl',
    ['s_server', '-accept', '127.0.0.1:0', '-cert', files.rsaCert, '-key', files.rsaKey, '-www', ...args],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^ACCEPT .*:(\d+)$/.exec(line);
      if (m) resolve({ host: '127.0.0.1', port: Number(m[1]), stop: stopper(child) });
    });
    child.once('exit', (code) => reject(new Error(`openssl s_server exited (${code}): ${err}`)));
  });
}

/** gnutls-serv (it binds every address; we connect to 127.0.0.1) with `priority`. */
export async function startGnutls(files, priority = GNUTLS_PRIORITY) {
  const port = await freePort();
  const child = spawn(
    'gnutls-serv',
    [
      '--http',
      '--quiet',
      '-p',
      String(port),
      '--x509certfile',
      files.rsaCert,
      '--x509keyfile',
      files.rsaKey,
      '--priority',
      priority,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // gnutls-serv writes a line to stderr per failed handshake, even with --quiet (~0.9 KB a probe,
  // ~3 KB an sslscan run): unread, the pipe fills (64 KB) and gnutls-serv blocks in write(2), no
  // longer accepting connections, after a few dozen runs. Read it; keep the end for the message.
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
  let exited = null;
  child.once('exit', (code) => (exited = code));
  await waitForPort('127.0.0.1', port);
  if (exited !== null) throw new Error(`gnutls-serv exited (${exited}): ${err}`);
  return { host: '127.0.0.1', port, stop: stopper(child) };
}

/** nginx server-block settings for the fleet, cycled over its addresses. */
export const FLEET_KINDS = [
  { name: 'tls12-default-rsa', protocols: 'TLSv1.2', certs: ['rsa'] },
  { name: 'tls12-13-rsa-ecdsa', protocols: 'TLSv1.2 TLSv1.3', certs: ['rsa', 'ec'] },
  { name: 'tls13-ecdsa', protocols: 'TLSv1.3', certs: ['ec'] },
  {
    name: 'tls12-three-suites',
    protocols: 'TLSv1.2',
    certs: ['rsa'],
    ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA',
  },
  {
    name: 'tls10-13-seclevel0',
    protocols: 'TLSv1 TLSv1.1 TLSv1.2 TLSv1.3',
    certs: ['rsa'],
    ciphers: 'DEFAULT@SECLEVEL=0',
  },
];

function serverBlock(listen, kind, files) {
  const certs = kind.certs
    .map(
      (c) =>
        `    ssl_certificate ${c === 'rsa' ? files.rsaCert : files.ecCert};\n    ssl_certificate_key ${c === 'rsa' ? files.rsaKey : files.ecKey};`,
    )
    .join('\n');
  return `  server {
    listen ${listen} ssl;
${certs}
    ssl_protocols ${kind.protocols};
${kind.ciphers ? `    ssl_ciphers ${kind.ciphers};\n` : ''}    return 204;
  }`;
}

/**
 * Starts one nginx with a server block per { host, kind } on `port` (all on the same port, one
 * address each); resolves { port, stop() }.
 */
export async function startNginx(dir, files, blocks, port) {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${blocks.map((b) => serverBlock(`${b.host}:${port}`, b.kind, files)).join('\n')}
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  let exited = null;
  child.once('exit', (code) => (exited = code));
  for (const b of blocks) await waitForPort(b.host, port);
  if (exited !== null) throw new Error(`nginx exited (${exited}): ${err}`);
  return { port, stop: stopper(child) };
}
