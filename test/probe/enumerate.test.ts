/**
 * Cipher suite and group enumeration against real servers on loopback: the lab (Node's TLS server),
 * openssl s_server and gnutls-serv configured from the command line, and two scripted servers (a
 * post-quantum hybrid that answers with a HelloRetryRequest, and a gate that refuses hellos without
 * a key share). Expected suites come from the tools themselves (`openssl ciphers -V`, `gnutls-cli
 * --list`); expected groups from Node's TLS client tried one group at a time.
 */
import { spawnSync } from 'node:child_process';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CIPHERS, connect as tlsConnect, createServer as createTlsServer, type SecureVersion } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { readClientHello } from '../../src/lab/hello-gate.js';
import {
  HYBRID_GROUPS,
  TLS12_GROUP_CANDIDATES,
  TLS13_GROUP_CANDIDATES,
  enumerateCiphers,
  enumerateGroups,
  predictCipherConnections,
  predictGroupConnections,
  type EnumerateContext,
} from '../../src/probe/enumerate.js';
import { createLimiter, type LimiterOptions } from '../../src/probe/limiter.js';
import { suitesForVersion, TLS13_SUITES } from '../../src/probe/profiles.js';
import { findExtension } from '../../src/tls/extensions.js';
import { encodeRecords } from '../../src/tls/record.js';
import { ContentType, NamedGroup } from '../../src/tls/registry.js';
import { encodeServerHello, HELLO_RETRY_REQUEST_RANDOM } from '../../src/tls/server-hello.js';
import {
  HAS_GNUTLS_SERV,
  HAS_OPENSSL,
  hasTool,
  NO_GNUTLS,
  NO_OPENSSL,
  startGnutlsServer,
  startOpensslServer,
  type ExternalServer,
} from '../helpers/servers.js';
import { TIMER_EARLY_MS } from '../helpers/timers.js';

const HAS_GNUTLS = HAS_GNUTLS_SERV && hasTool('gnutls-cli');

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ names: ['modern', 'legacy'] });
});
afterAll(async () => {
  await lab?.close();
});

function ctxFor(port: number, limiter: LimiterOptions = { concurrency: 4 }): EnumerateContext {
  return {
    target: { host: 'localhost', address: '127.0.0.1', port },
    sni: 'localhost',
    limiter: createLimiter(limiter),
  };
}

const labCtx = (name: string, limiter?: LimiterOptions) => ctxFor(lab.endpoint(name).port, limiter);

/**
 * Connections remove-and-retry must make: one per accepted value, one refusal unless all were
 * accepted, one preference check (the reversed offer) once something was accepted out of two or more
 * offered (groups: once two were found, which is the same count for two or more).
 */
const expectedConnections = (accepted: number, offered: number) =>
  accepted + (accepted < offered ? 1 : 0) + (accepted >= 1 && offered >= 2 ? 1 : 0);

/**
 * Connections enumerateCiphers makes against a server that follows the client's order: the whole
 * offer and its reverse (the first and last accepted in our order), then the other candidates split
 * round-robin `ways` ways, each part costing its accepted suites plus one refusal unless it was
 * accepted whole.
 */
function clientOrderConnections(offered: readonly number[], accepted: readonly number[], ways = 4): number {
  const inOrder = offered.filter((s) => accepted.includes(s));
  const others = offered.filter((s) => s !== inOrder[0] && s !== inOrder.at(-1));
  const k = Math.max(1, Math.min(ways, others.length));
  let n = 2;
  for (let w = 0; w < k; w++) {
    const part = others.filter((_, i) => i % k === w);
    const a = part.filter((s) => accepted.includes(s)).length;
    if (part.length > 0) n += a + (a < part.length ? 1 : 0);
  }
  return n;
}

interface OpensslSuite {
  readonly id: number;
  readonly name: string;
  readonly kx: string;
  readonly au: string;
}

/** Returns `openssl ciphers -V -s <args>` as suites, in OpenSSL's order (the order a server with -serverpref uses). */
function opensslCiphers(args: readonly string[]): OpensslSuite[] {
  const r = spawnSync('openssl', ['ciphers', '-V', '-s', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ciphers ${args.join(' ')}: ${r.stderr}`);
  // "          0xC0,0x30 - ECDHE-RSA-AES256-GCM-SHA384    TLSv1.2 Kx=ECDH     Au=RSA   Enc=AESGCM(256)   Mac=AEAD"
  return [...r.stdout.matchAll(/0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+\S+\s+Kx=(\S+)\s+Au=(\S+)/g)].map((m) => ({
    id: parseInt(m[1]! + m[2]!, 16),
    name: m[3]!,
    kx: m[4]!,
    au: m[5]!,
  }));
}

/** Returns the suite values `gnutls-cli --priority <p> --list` prints, in priority order. */
function gnutlsSuites(priority: string): number[] {
  const r = spawnSync('gnutls-cli', ['--priority', priority, '--list'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gnutls-cli --list: ${r.stderr}`);
  // "TLS_ECDHE_RSA_AES_128_GCM_SHA256                  \t0xc0, 0x2f\tTLS1.2"
  return [...r.stdout.matchAll(/^TLS_\S+\s+0x([0-9a-f]{2}), 0x([0-9a-f]{2})\s/gm)].map((m) =>
    parseInt(m[1]! + m[2]!, 16),
  );
}

/** OpenSSL's names for the groups Node's TLS client can be limited to (ecdhCurve). */
const OPENSSL_GROUP_NAMES: ReadonlyMap<number, string> = new Map([
  [NamedGroup.x25519, 'X25519'],
  [NamedGroup.secp256r1, 'prime256v1'],
  [NamedGroup.secp384r1, 'secp384r1'],
  [NamedGroup.secp521r1, 'secp521r1'],
  [NamedGroup.x448, 'X448'],
  [NamedGroup.ffdhe2048, 'ffdhe2048'],
  [NamedGroup.ffdhe3072, 'ffdhe3072'],
  [NamedGroup.ffdhe4096, 'ffdhe4096'],
  [NamedGroup.ffdhe6144, 'ffdhe6144'],
  [NamedGroup.ffdhe8192, 'ffdhe8192'],
  [NamedGroup.brainpoolP256r1, 'brainpoolP256r1'],
  [NamedGroup.brainpoolP384r1, 'brainpoolP384r1'],
  [NamedGroup.brainpoolP512r1, 'brainpoolP512r1'],
]);

/** Returns true when Node's TLS client, limited to `group`, completes a handshake at `version` with port. */
function nodeClientAccepts(port: number, group: number, version: SecureVersion): Promise<boolean> {
  const name = OPENSSL_GROUP_NAMES.get(group);
  if (name === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    let s: ReturnType<typeof tlsConnect>;
    try {
      // ECDHE suites only for TLS 1.2: with a plain RSA suite the handshake would succeed without the curve.
      const ciphers = version === 'TLSv1.2' ? 'ECDHE' : undefined;
      s = tlsConnect(
        {
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          ca: lab.pki.root.pem,
          ecdhCurve: name,
          ciphers,
          minVersion: version,
          maxVersion: version,
        },
        () => {
          s.destroy();
          resolve(true);
        },
      );
    } catch {
      resolve(false); // this OpenSSL build does not know the group
      return;
    }
    s.on('error', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** Suites Node's TLS server (lab) can use with its RSA chain: RSA-authenticated, and no DHE (the lab sets no DH parameters). */
function usableWithLabChain(suites: readonly OpensslSuite[]): number[] {
  return suites.filter((s) => s.au === 'RSA' && s.kx !== 'DH').map((s) => s.id);
}

describe('predicting connections', () => {
  it('bounds cipher enumeration at offered+1 and ignores the SCSVs', () => {
    expect(predictCipherConnections('TLS1.3')).toBe(TLS13_SUITES.length + 1);
    expect(predictCipherConnections('TLS1.2')).toBe(suitesForVersion('TLS1.2').length + 1);
    expect(predictCipherConnections('TLS1.2', [0xc02f, 0xc030, 0x009c])).toBe(4);
    expect(predictCipherConnections('TLS1.2', [0xc02f, 0x00ff, 0x5600])).toBe(1);
    expect(predictCipherConnections('TLS1.2', [])).toBe(0);
    for (let n = 0; n <= 6; n++) {
      let worst = 0;
      for (let k = 0; k <= n; k++) worst = Math.max(worst, expectedConnections(k, n));
      expect(
        predictCipherConnections(
          'TLS1.2',
          Array.from({ length: n }, (_, i) => 0xc000 + i),
        ),
      ).toBe(worst);
    }
  });

  it('bounds group enumeration, counting the key-share retry for TLS 1.3', () => {
    expect(predictGroupConnections('TLS1.3')).toBe(TLS13_GROUP_CANDIDATES.length + 1);
    expect(predictGroupConnections('TLS1.2')).toBe(TLS12_GROUP_CANDIDATES.length + 1);
    expect(predictGroupConnections('TLS1.3', [NamedGroup.x25519])).toBe(2);
    expect(predictGroupConnections('TLS1.2', [NamedGroup.x25519])).toBe(1);
  });

  it('offers the three hybrids among the TLS 1.3 candidates and only curves for TLS 1.2', () => {
    expect(HYBRID_GROUPS).toEqual([0x11ec, 0x11eb, 0x11ed]);
    for (const g of HYBRID_GROUPS) expect(TLS13_GROUP_CANDIDATES).toContain(g);
    expect(TLS13_GROUP_CANDIDATES).toContain(NamedGroup.ffdhe8192);
    expect(TLS12_GROUP_CANDIDATES.every((g) => g < 0x0100)).toBe(true);
  });
});

describe('cipher enumeration against the lab', () => {
  it.skipIf(!HAS_OPENSSL)(
    'finds modern’s TLS 1.2 suites in Node’s own order, as openssl ciphers lists them',
    async () => {
      const expected = usableWithLabChain(opensslCiphers(['-tls1_2', DEFAULT_CIPHERS]));
      const ctx = labCtx('modern');
      const r = await enumerateCiphers(ctx, 'TLS1.2');
      expect(r.accepted.map(hex)).toEqual(expected.map(hex));
      // Node's tls.Server sets honorCipherOrder by default.
      expect(r.serverPreference).toBe(true);
      expect(r.complete).toBe(true);
      expect(r.stoppedBy).toBe('alert');
      expect(r.stopReason).toBe('alert handshake_failure');
      expect(r.connections).toBe(expectedConnections(expected.length, suitesForVersion('TLS1.2').length));
      expect(ctx.limiter.used).toBe(r.connections);
      expect(r.connections).toBeLessThanOrEqual(predictCipherConnections('TLS1.2'));
    },
  );

  it.skipIf(!HAS_OPENSSL)('finds modern’s three TLS 1.3 suites in Node’s order', async () => {
    const expected = opensslCiphers(['-tls1_3', DEFAULT_CIPHERS]).map((s) => s.id);
    expect(expected).toHaveLength(3);
    const r = await enumerateCiphers(labCtx('modern'), 'TLS1.3');
    expect(r.accepted).toEqual(expected);
    expect(r.serverPreference).toBe(true);
    expect(r.connections).toBe(expectedConnections(3, 5));
  });

  it('refuses TLS 1.0 at modern after one connection with the protocol_version alert', async () => {
    const r = await enumerateCiphers(labCtx('modern'), 'TLS1.0');
    expect(r).toMatchObject({
      accepted: [],
      serverPreference: null,
      connections: 1,
      complete: true,
      stoppedBy: 'alert',
      stopReason: 'alert protocol_version',
    });
  });

  it.skipIf(!HAS_OPENSSL)(
    'finds legacy’s TLS 1.0 suites (DEFAULT@SECLEVEL=0) as openssl ciphers -tls1 lists them',
    async () => {
      const expected = usableWithLabChain(opensslCiphers(['-tls1', 'DEFAULT@SECLEVEL=0']));
      expect(expected.length).toBeGreaterThan(1);
      const r = await enumerateCiphers(labCtx('legacy'), 'TLS1.0');
      expect(r.accepted.map(hex)).toEqual(expected.map(hex));
      expect(r.serverPreference).toBe(true);
    },
  );

  it('never reports the renegotiation SCSV, even when the caller offers it', async () => {
    const r = await enumerateCiphers(labCtx('modern'), 'TLS1.2', [0x00ff, 0xc02f]);
    expect(r.accepted).toEqual([0xc02f]);
    // One suite accepted and nothing left to offer: no refusal round and no preference check.
    expect(r.connections).toBe(1);
    expect(r.stoppedBy).toBeNull();
  });

  it('stops at maxConnections with complete=false and the suites found so far, in order', async () => {
    // The unbounded run is the reference (no openssl needed): the capped one is its first two picks
    // (three connections: the whole offer, its reverse, the offer without the first pick).
    const full = (await enumerateCiphers(labCtx('modern'), 'TLS1.2')).accepted;
    expect(full.length).toBeGreaterThan(2);
    const ctx = labCtx('modern', { concurrency: 4, maxConnections: 3 });
    const r = await enumerateCiphers(ctx, 'TLS1.2');
    expect(r.accepted).toEqual(full.slice(0, 2));
    expect(r.complete).toBe(false);
    expect(r.connections).toBe(3);
    // The reversed offer (the second connection) already showed that the server's order rules.
    expect(r.serverPreference).toBe(true);
    expect(r.stoppedBy).toBeNull();
    expect(ctx.limiter.exhausted).toBe(true);
  });

  it('spaces connection starts by the rate (6 per second)', async () => {
    const ctx = labCtx('modern', { concurrency: 4, rate: 6 });
    const t0 = performance.now();
    const r = await enumerateCiphers(ctx, 'TLS1.3');
    const elapsed = performance.now() - t0;
    expect(r.connections).toBe(5);
    // The first connection starts at once; each later one at least 1000/6 ms after the previous.
    expect(elapsed).toBeGreaterThanOrEqual((4 * 1000) / 6 - TIMER_EARLY_MS);
    expect(elapsed).toBeLessThan((4 * 1000) / 6 + 5000);
  });
});

describe('group enumeration against the lab', () => {
  it('finds modern’s TLS 1.3 groups, each confirmed by Node’s TLS client, with the server’s preference', async () => {
    const port = lab.endpoint('modern').port;
    const expected: number[] = [];
    for (const g of TLS13_GROUP_CANDIDATES) if (await nodeClientAccepts(port, g, 'TLSv1.3')) expected.push(g);
    expect(expected).toContain(NamedGroup.x25519);
    const r = await enumerateGroups(ctxFor(port), 'TLS1.3');
    expect([...r.accepted].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
    expect(r.hybrid).toEqual([]);
    // OpenSSL answers a hello without shares with its own first group (ssl/statem/extensions_srvr.c).
    expect(r.serverPreference).toBe(true);
    expect(r.complete).toBe(true);
    expect(r.connections).toBe(expectedConnections(expected.length, TLS13_GROUP_CANDIDATES.length));
  });

  it('finds modern’s TLS 1.2 ECDHE curves, each confirmed by Node’s TLS client', async () => {
    const port = lab.endpoint('modern').port;
    const expected: number[] = [];
    for (const g of TLS12_GROUP_CANDIDATES) if (await nodeClientAccepts(port, g, 'TLSv1.2')) expected.push(g);
    const r = await enumerateGroups(ctxFor(port), 'TLS1.2');
    expect([...r.accepted].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
    expect(r.connections).toBe(expectedConnections(expected.length, TLS12_GROUP_CANDIDATES.length));
  });
});

describe.skipIf(!HAS_OPENSSL)('enumeration against openssl s_server', () => {
  const TLS12_LIST = 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA:AES128-GCM-SHA256';
  const TLS13_LIST = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';
  const servers: ExternalServer[] = [];
  const start = async (args: string[]) => {
    const s = await startOpensslServer(lab.pki, ['-www', ...args]);
    servers.push(s);
    return ctxFor(s.port);
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('finds exactly the three configured TLS 1.2 suites in the -serverpref order', async () => {
    const expected = opensslCiphers(['-tls1_2', TLS12_LIST]).map((s) => s.id);
    expect(expected).toEqual([0xc030, 0xc013, 0x009c]);
    const ctx = await start(['-tls1_2', '-cipher', TLS12_LIST, '-serverpref']);
    const r = await enumerateCiphers(ctx, 'TLS1.2');
    expect(r.accepted).toEqual(expected);
    expect(r.serverPreference).toBe(true);
    expect(r.connections).toBe(3 + 1 + 1);
    expect(r.stoppedBy).toBe('alert');
    expect(r.complete).toBe(true);
    const r13 = await enumerateCiphers(ctx, 'TLS1.3');
    expect(r13).toMatchObject({
      accepted: [],
      connections: 1,
      stoppedBy: 'alert',
      stopReason: 'alert protocol_version',
    });
  });

  it('finds the same three without -serverpref and reports that the client’s order rules', async () => {
    const ctx = await start(['-tls1_2', '-cipher', TLS12_LIST]);
    const r = await enumerateCiphers(ctx, 'TLS1.2');
    expect([...r.accepted].sort((a, b) => a - b)).toEqual([0x009c, 0xc013, 0xc030]);
    expect(r.serverPreference).toBe(false);
    // Client order: the order of our offer.
    const offer = suitesForVersion('TLS1.2');
    expect(r.accepted).toEqual([...r.accepted].sort((a, b) => offer.indexOf(a) - offer.indexOf(b)));
    expect(r.connections).toBe(clientOrderConnections(offer, [0x009c, 0xc013, 0xc030]));
    expect(ctx.limiter.used).toBe(r.connections);
  });

  it('finds exactly the two configured TLS 1.3 suites', async () => {
    const expected = opensslCiphers(['-tls1_3', '-ciphersuites', TLS13_LIST]).map((s) => s.id);
    expect(expected).toEqual([0x1302, 0x1303]);
    const ctx = await start(['-tls1_3', '-ciphersuites', TLS13_LIST]);
    const r = await enumerateCiphers(ctx, 'TLS1.3');
    expect([...r.accepted].sort()).toEqual([...expected].sort());
    expect(r.serverPreference).toBe(false);
    expect(r.connections).toBe(clientOrderConnections(TLS13_SUITES, expected));
    const pref = await enumerateCiphers(await start(['-tls1_3', '-ciphersuites', TLS13_LIST, '-serverpref']), 'TLS1.3');
    expect(pref.accepted).toEqual(expected);
    expect(pref.serverPreference).toBe(true);
  });

  it('finds exactly the groups of -groups X25519:secp384r1 for TLS 1.3', async () => {
    const ctx = await start(['-tls1_3', '-groups', 'X25519:secp384r1']);
    const r = await enumerateGroups(ctx, 'TLS1.3');
    expect(r.accepted).toEqual([NamedGroup.x25519, NamedGroup.secp384r1]);
    expect(r.hybrid).toEqual([]);
    expect(r.complete).toBe(true);
    expect(r.connections).toBe(2 + 1 + 1);
  });

  it('reports the server’s group order (secp384r1 before X25519), not the order we offer', async () => {
    const ctx = await start(['-groups', 'secp384r1:X25519', '-serverpref']);
    const r13 = await enumerateGroups(ctx, 'TLS1.3');
    expect(r13.accepted).toEqual([NamedGroup.secp384r1, NamedGroup.x25519]);
    expect(r13.serverPreference).toBe(true);
    const r12 = await enumerateGroups(ctx, 'TLS1.2');
    expect(r12.accepted).toEqual([NamedGroup.secp384r1, NamedGroup.x25519]);
    expect(r12.serverPreference).toBe(true);
    expect(r12.connections).toBe(4);
  });

  it('follows the client’s curve order for TLS 1.2 without -serverpref', async () => {
    const ctx = await start(['-tls1_2', '-groups', 'secp384r1:X25519']);
    const r = await enumerateGroups(ctx, 'TLS1.2');
    expect(r.accepted).toEqual([NamedGroup.x25519, NamedGroup.secp384r1]);
    expect(r.serverPreference).toBe(false);
  });

  it('does not count a TLS 1.0 answer to a TLS 1.1 hello as a TLS 1.1 suite', async () => {
    const ctx = await start(['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0']);
    const r = await enumerateCiphers(ctx, 'TLS1.1');
    expect(r.accepted).toEqual([]);
    expect(r.connections).toBe(1);
    expect(r.stoppedBy).toBe('negotiated');
    expect(r.stopReason).toMatch(/negotiated TLS ?1\.0 instead of TLS1\.1/);
    const r10 = await enumerateCiphers(ctx, 'TLS1.0');
    expect(r10.accepted.length).toBeGreaterThan(0);
  });
});
if (!HAS_OPENSSL) console.warn(NO_OPENSSL);

describe.skipIf(!HAS_GNUTLS)('enumeration against gnutls-serv', () => {
  const PRIORITY = 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+CHACHA20-POLY1305:-KX-ALL:+ECDHE-RSA';
  const servers: ExternalServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('finds the suites gnutls-cli --list gives for the priority string, in order with %SERVER_PRECEDENCE', async () => {
    const expected = gnutlsSuites(PRIORITY);
    expect(expected.length).toBeGreaterThanOrEqual(2);
    const plain = await startGnutlsServer(lab.pki, ['--http', '--priority', PRIORITY]);
    servers.push(plain);
    const r = await enumerateCiphers(ctxFor(plain.port), 'TLS1.2');
    expect([...r.accepted].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
    expect(r.connections).toBe(clientOrderConnections(suitesForVersion('TLS1.2'), expected));
    expect(r.serverPreference).toBe(false);
    expect(r.complete).toBe(true);

    const ordered = await startGnutlsServer(lab.pki, ['--http', '--priority', `${PRIORITY}:%SERVER_PRECEDENCE`]);
    servers.push(ordered);
    const o = await enumerateCiphers(ctxFor(ordered.port), 'TLS1.2');
    expect(o.accepted).toEqual(expected);
    expect(o.serverPreference).toBe(true);
  });
});
if (!HAS_GNUTLS) console.warn(NO_GNUTLS);

/** A raw server; `handle` gets each connection. Closed in afterAll by the caller. */
async function rawServer(
  handle: (socket: Socket) => void,
): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    handle(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

async function closeRaw(s: { server: Server; sockets: Set<Socket> } | undefined): Promise<void> {
  if (!s) return;
  for (const x of s.sockets) x.destroy();
  await new Promise<void>((resolve) => s.server.close(() => resolve()));
}

/** RFC 8446, Section 6.2: a fatal handshake_failure alert record. */
const HANDSHAKE_FAILURE = encodeRecords(ContentType.alert, 0x0303, Uint8Array.from([2, 40]));

describe('post-quantum hybrid detection through HelloRetryRequest', () => {
  let hybrid: Awaited<ReturnType<typeof rawServer>> | undefined;
  /** What each hello offered: 0x11ec in supported_groups, and whether it carried a share for it. */
  const seen: { offered: boolean; shared: boolean }[] = [];
  beforeAll(async () => {
    // Answers a TLS 1.3 hello offering X25519MLKEM768 without a share for it with a HelloRetryRequest
    // selecting it (RFC 8446, Section 4.1.4), anything else with handshake_failure.
    hybrid = await rawServer((socket) => {
      void readClientHello(socket, 5000).then((got) => {
        if (got.kind !== 'hello') return socket.destroy();
        const groups = findExtension(got.hello.extensions, 'supported_groups')?.groups ?? [];
        const shares = findExtension(got.hello.extensions, 'key_share')?.shares ?? [];
        const offered = groups.includes(NamedGroup.X25519MLKEM768);
        const shared = shares.some((s) => s.group === NamedGroup.X25519MLKEM768);
        seen.push({ offered, shared });
        const suite = got.hello.cipherSuites.find((s) => TLS13_SUITES.includes(s));
        if (!offered || shared || suite === undefined) {
          socket.end(HANDSHAKE_FAILURE);
          return;
        }
        const hrr = encodeServerHello({
          legacyVersion: 0x0303,
          random: HELLO_RETRY_REQUEST_RANDOM,
          sessionId: got.hello.sessionId,
          cipherSuite: suite,
          compressionMethod: 0,
          extensions: [
            { kind: 'supported_versions', type: 0x002b, versions: null, selected: 0x0304 },
            { kind: 'key_share', type: 0x0033, shares: null, selectedGroup: NamedGroup.X25519MLKEM768 },
          ],
        });
        socket.write(encodeRecords(ContentType.handshake, 0x0303, hrr));
        socket.resume();
        socket.once('end', () => socket.end());
      });
    });
  });
  afterAll(() => closeRaw(hybrid));

  it('reports X25519MLKEM768 as accepted and hybrid after accepted+1 connections', async () => {
    const r = await enumerateGroups(ctxFor(hybrid!.port), 'TLS1.3');
    expect(r.accepted).toEqual([NamedGroup.X25519MLKEM768]);
    expect(r.hybrid).toEqual([NamedGroup.X25519MLKEM768]);
    expect(r.connections).toBe(2);
    expect(r.complete).toBe(true);
    expect(r.stoppedBy).toBe('alert');
    expect(r.serverPreference).toBeNull();
    // The first hello offered the group without a share; the second no longer offered it.
    expect(seen).toEqual([
      { offered: true, shared: false },
      { offered: false, shared: false },
    ]);
  });
});

describe('a TLS 1.3 server that refuses hellos without a key share', () => {
  let gate: Awaited<ReturnType<typeof rawServer>> | undefined;
  beforeAll(async () => {
    const tlsServer = createTlsServer({
      key: lab.pki.leaf.keyPem,
      cert: lab.pki.chainPem,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ecdhCurve: 'secp384r1:X25519',
    });
    tlsServer.on('tlsClientError', (_e, s) => s.destroy());
    gate = await rawServer((socket) => {
      void readClientHello(socket, 5000).then((got) => {
        if (got.kind !== 'hello') return socket.destroy();
        const shares = findExtension(got.hello.extensions, 'key_share')?.shares ?? [];
        if (shares.length === 0) {
          socket.end(HANDSHAKE_FAILURE);
          socket.resume();
          return;
        }
        socket.unshift(Buffer.from(got.consumed));
        tlsServer.emit('connection', socket);
      });
    });
  });
  afterAll(() => closeRaw(gate));

  it('retries with a share, then keeps sending one, and still finds both groups', async () => {
    const r = await enumerateGroups(ctxFor(gate!.port), 'TLS1.3');
    expect([...r.accepted].sort((a, b) => a - b)).toEqual(
      [NamedGroup.secp384r1, NamedGroup.x25519].sort((a, b) => a - b),
    );
    // Refused without a share, accepted with an X25519 share, HRR to secp384r1, final refusal.
    expect(r.connections).toBe(4);
    expect(r.serverPreference).toBeNull();
    expect(r.complete).toBe(true);
    expect(r.connections).toBeLessThanOrEqual(predictGroupConnections('TLS1.3'));
  });
});

function hex(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}
