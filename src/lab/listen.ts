/** Listening for lab servers. */
import type { AddressInfo, Server } from 'node:net';

/**
 * Returns the port the OS chose once `server` listens on `host` (port 0, so parallel labs and test
 * runs never clash); rejects with the listen error (EADDRNOTAVAIL for ::1 without IPv6, …).
 */
export function listenOnFreePort(server: Server, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      server.removeListener('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
