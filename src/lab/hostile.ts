/**
 * The hostile lab: `startHostileLab` returns loopback servers that each misbehave in one scripted
 * way (issue 8) and the outcome a probe must classify them as; it rejects only when a server cannot
 * listen. `HOSTILE_BEHAVIOURS` lists the behaviours.
 *
 * These are raw `net` servers, not TLS stacks: each reads the probe's ClientHello (through the hello
 * gate), then answers with bytes built here from our own codecs — a ServerHello for the version and
 * suite the client offered (TLS 1.3 with a real key share computed from the client's, so the
 * client's key schedule runs), then whatever the behaviour calls for: resets and FINs at each stage,
 * lengths that lie, slow drips, endless tiny records, interleaved alerts, choices never offered, a
 * HelloRetryRequest loop, 10,000 certificates, DER nested 10,000 deep, an HTTP reply, TLS 1.3
 * records that fail authentication.
 *
 * What each behaviour does is in hostile-behaviours.ts (by family), the server's answer it builds on
 * in hostile-answer.ts, the servers and connection moves in hostile-conn.ts; `runHostileLoad`
 * (hostile-load.ts) drives many probes against this lab and the main lab (`npm run soak`).
 *
 * Resource discipline: every connection's timers are cleared when its socket closes, writers stop
 * at the first failed or back-pressured write, and `close()` destroys every socket and resolves once
 * every server has closed, leaving no handle behind. Loopback only, like the main lab.
 */
import { isIP } from 'node:net';
import type { OutcomeKind } from '../probe/outcome.js';
import { BEHAVIOUR_SCRIPTS, DEEP_DER_LEVELS, FLOOD_CERTIFICATES } from './hostile-behaviours.js';
import { listenScripted } from './hostile-conn.js';

/** What one hostile behaviour does and what a probe must report for it. */
export interface HostileBehaviour {
  readonly name: string;
  readonly description: string;
  /** The outcome (or outcomes, when the race between peers decides) every version probe must report. */
  readonly expect: OutcomeKind | OutcomeKind[];
}

/** A running hostile endpoint. */
export interface HostileEndpoint extends HostileBehaviour {
  readonly host: '127.0.0.1' | '::1';
  readonly port: number;
}

export interface HostileLab {
  readonly endpoints: readonly HostileEndpoint[];
  /** Returns the endpoint called `name`; throws RangeError when this lab has none by that name. */
  endpoint(name: string): HostileEndpoint;
  /** Closes every server, connection and timer; resolves when all are closed. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartHostileLabOptions {
  /** Loopback address to listen on: '127.0.0.1' (default) or '::1'. */
  readonly host?: string;
  /** Behaviours to start (default: all, in `HOSTILE_BEHAVIOURS` order). */
  readonly names?: readonly string[];
  /**
   * Interval of the slow behaviours (drip, trickle), in ms: 1000 by default ("one byte per second");
   * tests use a few ms. Must stay below the prober's read timeout for the drip to count as alive.
   */
  readonly paceMs?: number;
}

/** Default pace of the slow behaviours: one byte (or one record) per second. */
export const DEFAULT_PACE_MS = 1000;
/** Every behaviour of the hostile lab, in start order. */
export const HOSTILE_BEHAVIOURS: readonly HostileBehaviour[] = [
  {
    name: 'rst-on-accept',
    description: 'TCP reset as soon as the connection is accepted, before the ClientHello is read',
    expect: 'reset',
  },
  { name: 'rst-after-client-hello', description: 'reads the whole ClientHello, then TCP reset', expect: 'reset' },
  {
    name: 'rst-mid-server-hello',
    // A reset that reaches the client before it has read the bytes ahead of it can surface as an
    // orderly end: Linux returns the queued bytes, then EOF, when the pending error was already
    // consumed. Seen in about 1 probe in 100 under load; the prober cannot tell the two apart then.
    description:
      'sends the first half of a ServerHello record, then TCP reset (seen as a FIN when the reset overtakes the unread half)',
    expect: ['reset', 'closed'],
  },
  {
    name: 'rst-after-server-hello',
    description: 'sends a whole ServerHello for the offered version and suite, then TCP reset',
    expect: 'negotiated',
  },
  {
    name: 'fin-on-accept',
    description: 'closes its side (FIN) as soon as the connection is accepted, reads and drops the hello',
    expect: 'closed',
  },
  {
    name: 'fin-after-client-hello',
    description: 'reads the whole ClientHello, then FIN without a byte',
    expect: 'closed',
  },
  {
    name: 'fin-mid-server-hello',
    description: 'sends the first half of a ServerHello record, then FIN',
    expect: 'closed',
  },
  { name: 'fin-after-server-hello', description: 'sends a whole ServerHello, then FIN', expect: 'negotiated' },
  {
    name: 'fin-mid-certificate',
    description: 'sends a ServerHello and half of a Certificate message (encrypted in TLS 1.3), then FIN',
    expect: 'negotiated',
  },
  {
    name: 'claims-16mb',
    description: 'a handshake record whose message header claims 16 MiB (2^24-1 bytes), then nothing more',
    expect: 'malformed',
  },
  {
    name: 'record-claims-64k',
    description: 'a record header claiming 65,535 bytes (past 2^14+2048), then nothing more',
    expect: 'malformed',
  },
  {
    name: 'stalled-record',
    description: 'a record header claiming 16 KiB, 100 bytes of it, then silence with the connection open',
    expect: 'timeout',
  },
  {
    name: 'drip-server-hello',
    description: 'a valid ServerHello (and ServerHelloDone before TLS 1.3) one byte per pace interval, then FIN',
    // Whole before the handshake deadline (2.5 read timeouts after the first byte) → negotiated;
    // slower → the probe gives up: timeout. Either is a classified outcome, in bounded time.
    expect: ['negotiated', 'timeout'],
  },
  {
    name: 'empty-records-flood',
    description: 'an endless stream of empty handshake records at full speed (bounded here at 16 MiB)',
    // The probe stops at its 1 MiB byte cap: a megabyte without a handshake is not TLS to us.
    expect: 'malformed',
  },
  {
    name: 'empty-records-trickle',
    description: 'one empty handshake record per pace interval, forever: only a total deadline ends it',
    expect: 'timeout',
  },
  {
    name: 'alert-interleaved',
    description:
      'half of a ServerHello, a warning alert record, then the other half (RFC 8446, Section 5.1 forbids interleaving)',
    expect: 'alert',
  },
  {
    name: 'unoffered-suite',
    description: 'a ServerHello selecting TLS_NULL_WITH_NULL_NULL (0x0000), never offered',
    expect: 'mismatch',
  },
  {
    name: 'unoffered-version',
    description: 'a ServerHello selecting the version above the highest offered (0x0305 for a TLS 1.3 hello)',
    expect: 'mismatch',
  },
  {
    name: 'hrr-loop',
    description: 'a HelloRetryRequest for every ClientHello, the retry included (RFC 8446, Section 4.1.4)',
    expect: 'mismatch',
  },
  {
    name: 'certificate-flood',
    description: `a ServerHello then a Certificate message with ${FLOOD_CERTIFICATES.toLocaleString('en-US')} one-byte entries (encrypted in TLS 1.3)`,
    expect: 'negotiated',
  },
  {
    name: 'deep-der',
    description: `a whole handshake whose certificate is ${DEEP_DER_LEVELS.toLocaleString('en-US')} nested DER SEQUENCEs`,
    expect: 'negotiated',
  },
  {
    name: 'inconsistent-der',
    description: 'a whole handshake whose certificates carry DER lengths that contradict each other',
    expect: 'negotiated',
  },
  {
    name: 'http-reply',
    description: 'answers the ClientHello with an HTTP/1.1 400 response, then FIN',
    expect: 'malformed',
  },
  {
    name: 'garbage',
    description: 'answers the ClientHello with 512 random bytes that start 0xff, then FIN',
    expect: 'malformed',
  },
  {
    name: 'tls13-bad-records',
    description:
      "a real TLS 1.3 ServerHello with an x25519 share computed from the client's, then application_data records that fail authentication (before TLS 1.3: a ServerHello then the same garbage)",
    expect: 'negotiated',
  },
  {
    name: 'tls13-bad-key-share',
    description:
      'a TLS 1.3 ServerHello whose key share is 31 bytes of x25519 (before TLS 1.3: a plain ServerHello then FIN)',
    expect: 'negotiated',
  },
];

const BEHAVIOUR_NAMES: ReadonlySet<string> = new Set(HOSTILE_BEHAVIOURS.map((b) => b.name));

/**
 * Returns a running hostile lab. Rejects with RangeError for a host that is not a loopback literal,
 * an unknown behaviour name or a bad pace, and with the listen error if a server cannot start (the
 * ones already started are closed first).
 */
export async function startHostileLab(opts: StartHostileLabOptions = {}): Promise<HostileLab> {
  const host = opts.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== '::1') {
    throw new RangeError(`the hostile lab listens only on loopback (127.0.0.1 or ::1), not ${JSON.stringify(host)}`);
  }
  const paceMs = opts.paceMs ?? DEFAULT_PACE_MS;
  if (!Number.isInteger(paceMs) || paceMs < 1 || paceMs > 60_000)
    throw new RangeError(`paceMs must be an integer in 1..60000, got ${paceMs}`);
  const names = opts.names ?? HOSTILE_BEHAVIOURS.map((b) => b.name);
  for (const n of names) {
    if (!BEHAVIOUR_NAMES.has(n))
      throw new RangeError(`unknown hostile behaviour ${JSON.stringify(n)}; known: ${[...BEHAVIOUR_NAMES].join(', ')}`);
  }
  const behaviours = HOSTILE_BEHAVIOURS.filter((b) => names.includes(b.name));
  if (behaviours.length === 0) throw new RangeError('no hostile behaviour selected');

  const started = await Promise.allSettled(behaviours.map((b) => listen(b, host, paceMs)));
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(running.map((r) => r.close()));
    throw failed.reason;
  }
  const endpoints = running.map((r) => r.endpoint);
  let closing: Promise<void> | null = null;
  return {
    endpoints,
    endpoint(name: string): HostileEndpoint {
      const e = endpoints.find((x) => x.name === name);
      if (!e)
        throw new RangeError(
          `no hostile endpoint ${JSON.stringify(name)}; this lab has ${endpoints.map((x) => x.name).join(', ')}`,
        );
      return e;
    },
    close(): Promise<void> {
      closing ??= Promise.all(running.map((r) => r.close())).then(() => undefined);
      return closing;
    },
  };
}

/** Returns `host:port` of each endpoint with its behaviour and expected outcome, one line each. */
export function formatHostileMap(lab: HostileLab): string {
  const rows = lab.endpoints.map((e) => [
    e.name,
    isIP(e.host) === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`,
    Array.isArray(e.expect) ? e.expect.join('|') : String(e.expect),
    e.description,
  ]);
  const header = ['BEHAVIOUR', 'ADDRESS', 'EXPECT', 'WHAT IT DOES'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line), ''].join('\n');
}

async function listen(
  b: HostileBehaviour,
  host: '127.0.0.1' | '::1',
  paceMs: number,
): Promise<{ endpoint: HostileEndpoint; close(): Promise<void> }> {
  const script = BEHAVIOUR_SCRIPTS[b.name];
  if (script === undefined) throw new RangeError(`unknown hostile behaviour ${b.name}`);
  const { port, close } = await listenScripted(script, host, paceMs);
  return { endpoint: { ...b, host, port }, close };
}
