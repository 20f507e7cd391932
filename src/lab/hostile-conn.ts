/**
 * Servers and connections of the hostile lab: a loopback server that runs one scripted behaviour per
 * accepted connection, and the moves a script is made of (reset, FIN, write, read the ClientHello,
 * flood). Every connection's timers are cleared when its socket closes, writers stop at the first
 * failed or back-pressured write, and a server's `close` destroys every socket it accepted.
 */
import { listenOnFreePort } from './listen.js';
import { type Server, type Socket, createServer as createNetServer } from 'node:net';
import { concatBytes } from '../wire/hex.js';
import type { ClientHello } from '../tls/client-hello.js';
import { readClientHello } from './hello-gate.js';

/** Upper bound on the bytes the flood behaviour writes per connection (16 MiB, past any prober cap). */
const MAX_FLOOD_BYTES = 16 * 1024 * 1024;

/** One accepted connection: its socket and the timers it owns. */
export interface Conn {
  readonly socket: Socket;
  readonly paceMs: number;
  /** Runs `fn` after `ms` unless the connection closed first; the timer is cleared on close. */
  after(ms: number, fn: () => void): void;
  /** True once the socket closed or errored: writers stop. */
  readonly gone: boolean;
}

/**
 * Returns the port of a loopback server that runs `script` on every accepted connection, and its
 * `close`, which destroys every socket and resolves once the server has closed. Rejects with the
 * listen error.
 */
export async function listenScripted(
  script: (c: Conn) => void,
  host: '127.0.0.1' | '::1',
  paceMs: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createNetServer((socket) => {
    sockets.add(socket);
    const timers = new Set<NodeJS.Timeout>();
    let gone = false;
    const end = (): void => {
      gone = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    };
    // A hostile endpoint must never crash its process because the prober went away first.
    socket.on('error', () => {
      end();
      socket.destroy();
    });
    socket.once('close', () => {
      end();
      sockets.delete(socket);
    });
    const conn: Conn = {
      socket,
      paceMs,
      after(ms, fn) {
        if (gone) return;
        const t = setTimeout(() => {
          timers.delete(t);
          if (!gone) fn();
        }, ms);
        timers.add(t);
      },
      get gone() {
        return gone || socket.destroyed;
      },
    };
    script(conn);
  });
  const port = await listenOnFreePort(server, host);
  let closing: Promise<void> | null = null;
  return {
    port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

/** Sends TCP RST (SO_LINGER 0 then close): the prober sees ECONNRESET (Windows: WSAECONNRESET, 10054). */
export function reset(c: Conn): void {
  if (!c.gone) c.socket.resetAndDestroy();
}

/** Sends FIN and keeps reading (so closing never turns into a reset over unread data). */
export function fin(c: Conn): void {
  if (c.gone) return;
  c.socket.end();
  c.socket.resume();
}

/** Writes `bytes` unless the connection is gone; calls `then` once they are handed to the kernel. */
export function send(c: Conn, bytes: Uint8Array, then?: () => void): void {
  if (c.gone) return;
  c.socket.write(bytes, (err) => {
    if (!err && then && !c.gone) then();
  });
}

/** Reads the ClientHello; calls `fn` with it, or closes when the peer sent none. */
export function onHello(c: Conn, fn: (ch: ClientHello) => void): void {
  void readClientHello(c.socket).then((got) => {
    if (c.gone) return;
    // Keep reading (and dropping) whatever the prober sends next: our replies decide the ending.
    c.socket.resume();
    if (got.kind === 'hello') fn(got.hello);
    else if (got.kind === 'gone') c.socket.destroy();
    else fin(c);
  });
}

/** Writes `unit` again and again as fast as the prober reads, until it goes away or MAX_FLOOD_BYTES. */
export function flood(c: Conn, unit: Uint8Array): void {
  const burst = concatBytes(...Array.from({ length: Math.max(1, Math.floor(16384 / unit.length)) }, () => unit));
  let written = 0;
  const pump = (): void => {
    while (!c.gone && written < MAX_FLOOD_BYTES) {
      written += burst.length;
      if (!c.socket.write(burst)) {
        c.socket.once('drain', pump);
        return;
      }
    }
    if (!c.gone) fin(c);
  };
  pump();
}
