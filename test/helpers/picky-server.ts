/**
 * A loopback server that resets hellos with one parameterised trait (src/lab/picky.ts `PickyRule`)
 * and serves the others with Node's TLS stack on the lab chain: for traits the named lab endpoints
 * do not cover (another size range, another group, a key_share limit).
 */
import { createServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { gatePicky, type PickyRule } from '../../src/lab/picky.js';
import type { LabPki } from '../../src/lab/pki.js';

export interface PickyServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Returns a listening 127.0.0.1 server refusing `rule`'s hellos. */
export async function startPickyServer(pki: LabPki, rule: PickyRule): Promise<PickyServer> {
  const tls = createTlsServer({ key: pki.leaf.keyPem, cert: pki.chainPem, minVersion: 'TLSv1.2' });
  tls.on('tlsClientError', (_e, s) => s.destroy());
  tls.on('secureConnection', (s) => {
    s.on('error', () => {});
    s.end();
  });
  const sockets = new Set<Socket>();
  const gate = gatePicky(tls, rule);
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
    gate(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return {
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
