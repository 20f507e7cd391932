/**
 * Issue 12, item 5: `decode` reads whole real streams. A TLS 1.2 session between Node's TLS client
 * and the lab, recorded by a relay on loopback, decodes in both directions; its last record (the
 * close_notify alert, protected after ChangeCipherSpec) decodes on its own too, listed as an
 * encrypted record. `--sni` given twice is a usage error (exit 2), never a corrupted hello.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { decode } from '../../src/decode.js';
import { HAS_CLI, tlsprobe } from '../helpers/cli.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ names: ['modern'] });
});
afterAll(async () => {
  await lab?.close();
});

/** Runs one TLS 1.2 session through a recording relay; resolves with the bytes each way. */
async function recordSession(port: number): Promise<{ toServer: Buffer; toClient: Buffer }> {
  const toServer: Buffer[] = [];
  const toClient: Buffer[] = [];
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  const relay = createServer((down: Socket) => {
    const up = createConnection({ host: '127.0.0.1', port });
    down.on('data', (b) => {
      toServer.push(b);
      up.write(b);
    });
    up.on('data', (b) => {
      toClient.push(b);
      down.write(b);
    });
    let ends = 0;
    const end = () => {
      if (++ends === 2) done();
    };
    down.on('end', () => up.end());
    up.on('end', () => down.end());
    down.on('close', end);
    up.on('close', end);
    down.on('error', () => {});
    up.on('error', () => {});
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const relayPort = (relay.address() as { port: number }).port;
  await new Promise<void>((resolve, reject) => {
    const s = tlsConnect(
      {
        host: '127.0.0.1',
        port: relayPort,
        servername: 'localhost',
        ca: lab.pki.root.pem,
        maxVersion: 'TLSv1.2',
        minVersion: 'TLSv1.2',
      },
      () => {
        s.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
      },
    );
    s.on('data', () => s.end()); // our close_notify, then FIN
    s.on('close', () => resolve());
    s.on('error', reject);
  });
  await closed;
  relay.close();
  return { toServer: Buffer.concat(toServer), toClient: Buffer.concat(toClient) };
}

/** Returns the offset of the last record in a record stream. */
function lastRecordAt(b: Buffer): number {
  let o = 0;
  let last = 0;
  while (o + 5 <= b.length) {
    last = o;
    o += 5 + b.readUInt16BE(o + 3);
  }
  return last;
}

describe('decode of a whole recorded TLS 1.2 session', () => {
  it("decodes both directions; the client's close_notify after ChangeCipherSpec is an encrypted record", async () => {
    const { toServer, toClient } = await recordSession(lab.endpoint('modern').port);
    const client = decode(toServer).messages as { type: string; contentType?: number }[];
    const server = decode(toClient).messages as { type: string }[];
    expect(client.map((m) => m.type)).toContain('client_hello');
    expect(server.map((m) => m.type)).toContain('server_hello');
    const last = client[client.length - 1]!;
    expect(JSON.stringify(last)).toMatch(/encrypted/);
    // The last record alone: an alert record whose length cannot be a plaintext alert.
    const alone = toServer.subarray(lastRecordAt(toServer));
    expect(alone[0]).toBe(21); // ContentType.alert
    expect(alone.length).toBeGreaterThan(7);
    expect(JSON.stringify(decode(alone))).toMatch(/encrypted/);
  }, 60_000);
});

describe.skipIf(!HAS_CLI)('tlsprobe decode and --sni on the command line', () => {
  it('decodes the protected alert record on its own (exit 0)', async () => {
    const { toServer } = await recordSession(lab.endpoint('modern').port);
    const alone = toServer.subarray(lastRecordAt(toServer));
    const r = await tlsprobe(['decode', '--hex', alone.toString('hex'), '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/encrypted/);
  }, 60_000);

  it('refuses --sni given twice with exit 2, before any connection', async () => {
    for (const cmd of ['probe', 'diagnose']) {
      const r = await tlsprobe([
        cmd,
        `127.0.0.1:${lab.endpoint('modern').port}`,
        '--sni',
        'a.example',
        '--sni',
        'b.example',
        '--json',
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--sni given 2 times/);
    }
  }, 60_000);
});
