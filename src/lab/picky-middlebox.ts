/**
 * A picky middlebox for the lab: `startPickyMiddlebox` resolves with a loopback listener that reads
 * each client's whole ClientHello, resets the connection (RST, error 10054 on Windows) when the hello
 * has the rule's trait, and otherwise relays the connection, hello included, to any upstream TLS
 * server (openssl s_server, nginx, a lab endpoint). It rejects only if listening fails.
 *
 * This is the device the hard 10054 cases come from: a firewall, load balancer or IPS in front of
 * a healthy server, refusing one trait of the hello (src/lab/picky.ts `PickyRule`: a size range,
 * a missing renegotiation signal, an extension, a group, a key share size, a suite, a scheme).
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { readClientHello } from './hello-gate.js';
import { listenOnFreePort } from './listen.js';
import { firstRecordSize, helloHasTrait, type PickyRule } from './picky.js';

export interface PickyMiddlebox {
  readonly port: number;
  /** Connections reset for the trait so far. */
  readonly resets: () => number;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

export interface PickyMiddleboxOptions {
  readonly rule: PickyRule;
  readonly upstream: { readonly host: string; readonly port: number };
  /** Loopback address to listen on (default 127.0.0.1). */
  readonly host?: string;
}

/** Returns the listening middlebox described by `opts`. */
export async function startPickyMiddlebox(opts: PickyMiddleboxOptions): Promise<PickyMiddlebox> {
  const sockets = new Set<Socket>();
  let resets = 0;
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('error', () => {}); // a middlebox never dies of a peer's behaviour
    s.once('close', () => sockets.delete(s));
  };
  const server = createServer((client) => {
    track(client);
    void readClientHello(client).then((got) => {
      if (got.kind === 'gone') {
        client.destroy();
        return;
      }
      if (
        got.kind === 'hello' &&
        opts.rule.kind !== 'sni' &&
        helloHasTrait(opts.rule, got.hello, got.highestVersion, firstRecordSize(got.consumed) ?? got.consumed.length)
      ) {
        resets++;
        client.resetAndDestroy(); // SO_LINGER 0 then close: RST
        return;
      }
      const up = createConnection({ host: opts.upstream.host, port: opts.upstream.port });
      track(up);
      up.write(got.consumed);
      client.pipe(up);
      up.pipe(client);
      up.once('close', () => client.destroy());
      client.once('close', () => up.destroy());
    });
  });
  const port = await listenOnFreePort(server, opts.host ?? '127.0.0.1');
  let closing: Promise<void> | null = null;
  return {
    port,
    resets: () => resets,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
