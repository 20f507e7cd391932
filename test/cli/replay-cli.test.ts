/**
 * `tlsprobe replay`, run in-process through `run()` with captured output: the JSON contract, the
 * side-by-side text, exit codes (0 replayed, 3 unreachable, 2 usage) and one-line errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_CLI, runCli, tlsprobe as spawnCli } from '../helpers/cli.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { toHex } from '../../src/wire/hex.js';
import { FIXTURES_DIR, loadHexFixture } from '../helpers/fixtures.js';
import { makePcap } from '../helpers/pcap-writer.js';

const HELLO13 = join(FIXTURES_DIR, 'hello/openssl-s_client-tls13.hex');
const HELLO12 = join(FIXTURES_DIR, 'hello/openssl-s_client-tls12.hex');

let lab: Lab;
let dir: string;
beforeAll(async () => {
  lab = await startLab({ names: ['modern', 'tls13-only'] });
  dir = mkdtempSync(join(tmpdir(), 'tlsprobe-replay-cli-'));
});
afterAll(async () => {
  await lab?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const tlsprobe = runCli;

const sha1 = (der: Uint8Array) => createHash('sha1').update(der).digest('hex');
const at = (name: string) => `127.0.0.1:${lab.endpoint(name).port}`;

describe('tlsprobe replay', () => {
  it('replays a hex ClientHello byte for byte and prints the JSON contract', async () => {
    const r = await tlsprobe(['replay', HELLO13, '--to', at('modern'), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(
      expect.arrayContaining(['source', 'connection', 'modified', 'captured', 'live', 'differences']),
    );
    expect(j).toMatchObject({
      source: HELLO13,
      format: 'records',
      connection: null,
      modified: [],
      byteExact: true,
      captured: null,
      differences: [],
    });
    expect(j.hello.sent).toBe(toHex(loadHexFixture('hello/openssl-s_client-tls13.hex')));
    expect(j.live).toMatchObject({
      version: 'TLS1.3',
      outcome: 'negotiated',
      negotiatedVersion: 0x0304,
      certificates: [],
    });
    expect(j.live.notes.join(' ')).toMatch(/--fresh-key-share/);
  });

  it('decrypts the chain with --fresh-key-share and lists every opt-in change', async () => {
    const r = await tlsprobe([
      'replay',
      HELLO13,
      '--to',
      at('modern'),
      '--json',
      '--fresh-key-share',
      '--fresh-random',
      '--fix-sni',
      'backup.example.net',
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.modified).toEqual(['server_name', 'random', 'key_share']);
    expect(j.byteExact).toBe(false);
    expect(j.hello.sni).toBe('backup.example.net');
    expect(j.live.certificates.map((c: { sha1: string }) => c.sha1)).toEqual(
      [lab.pki.leaf.der, lab.pki.intermediate.der, lab.pki.root.der].map(sha1),
    );
  });

  it('compares a capture answer with the live one, field by field', async () => {
    const file = join(dir, 'tls12.pcap');
    writeFileSync(
      file,
      makePcap([
        { fromClient: true, payload: loadHexFixture('hello/openssl-s_client-tls12.hex') },
        { fromClient: false, payload: loadHexFixture('server/openssl-s_server-tls12.hex') },
      ]),
    );
    const j = JSON.parse((await tlsprobe(['replay', file, '--to', at('tls13-only'), '--json'])).stdout);
    expect(j).toMatchObject({ format: 'pcap', connection: 0, client: '127.0.0.1:50000', server: '127.0.0.2:443' });
    expect(j.captured).toMatchObject({
      outcome: 'negotiated',
      negotiatedVersion: 0x0303,
      negotiatedVersionName: 'TLS 1.2',
    });
    expect(j.live).toMatchObject({ outcome: 'alert', alert: { name: 'protocol_version' } });
    expect(j.differences).toContainEqual({ field: 'outcome', captured: 'negotiated', live: 'alert' });
    expect(j.differences).toContainEqual({ field: 'alert', captured: null, live: 'protocol_version' });

    const text = await tlsprobe(['replay', file, '--to', at('tls13-only'), '--connection', '0']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Replayed connection 0 of .*tls12\.pcap \(127\.0\.0\.1:50000 → 127\.0\.0\.2:443\)/);
    expect(text.stdout).toMatch(/FIELD\s+CAPTURED\s+LIVE/);
    expect(text.stdout).toMatch(/≠ outcome\s+negotiated\s+alert/);
    expect(text.stdout).toMatch(/≠ alert\s+-\s+protocol_version/);
    // The fixture ServerHello's extensions, by name, in wire order (0xff01, 0x000b, 0x0023, 0x0017).
    expect(text.stdout).toMatch(
      /≠ ServerHello extensions\s+renegotiation_info ec_point_formats session_ticket extended_master_secret\s+-/,
    );
    expect(text.stdout).toMatch(/difference\(s\) between the captured and the live answer/);
  });

  it.skipIf(!HAS_CLI)('reads the capture or the hello from standard input (-), gzip-compressed or not', async () => {
    const capture = makePcap([
      { fromClient: true, payload: loadHexFixture('hello/openssl-s_client-tls12.hex') },
      { fromClient: false, payload: loadHexFixture('server/openssl-s_server-tls12.hex') },
    ]);
    const file = join(dir, 'stdin-reference.pcap');
    writeFileSync(file, capture);
    const reference = JSON.parse((await spawnCli(['replay', file, '--to', at('tls13-only'), '--json'])).stdout);
    for (const input of [capture, gzipSync(capture)]) {
      const r = await spawnCli(['replay', '-', '--to', at('tls13-only'), '--json'], input);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.captured).toEqual(reference.captured);
      expect(j.differences).toEqual(reference.differences);
    }
    const hello = await spawnCli(['replay', '-', '--to', at('modern'), '--json'], readFileSync(HELLO13));
    expect(hello.code).toBe(0);
    expect(JSON.parse(hello.stdout).live.outcome).toBe('negotiated');
    const text = await spawnCli(['replay', '-', '--to', at('tls13-only')], capture);
    expect(text.stdout).toMatch(/^Replayed connection 0 of standard input \(127\.0\.0\.1:50000 → 127\.0\.0\.2:443\)/);
    const broken = await spawnCli(['replay', '-', '--to', at('modern')], gzipSync(capture).subarray(0, 30));
    expect(broken.code).toBe(2);
    expect(broken.stderr.trim()).toMatch(/^tlsprobe: standard input: corrupt gzip stream/);
  });

  it('exits 3 when the target cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await tlsprobe(['replay', HELLO12, '--to', `127.0.0.1:${port}`, '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).live.outcome).toBe('connect-refused');
  });

  it.each([
    [['replay', HELLO12], /--to/],
    [['replay', HELLO12, '--to', '127.0.0.1:1', '--connection', '1'], /--connection applies to captures/],
    [['replay', HELLO12, '--to', '127.0.0.1:1', '--fix-sni', '192.0.2.7'], /--fix-sni needs a host name/],
    [
      ['replay', '/nonexistent/hello.hex', '--to', '127.0.0.1:1'],
      /cannot read \/nonexistent\/hello\.hex: no such file/,
    ],
    [['replay', HELLO12, '--to', 'https://example.com/'], /looks like a URL/],
  ])('exits 2 with one line for %j', async (args, message) => {
    const r = await tlsprobe(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('exits 2 for a connection the capture does not have, and for bytes that hold no hello', async () => {
    const file = join(dir, 'one.pcap');
    writeFileSync(file, makePcap([{ fromClient: true, payload: loadHexFixture('hello/gnutls-cli.hex') }]));
    const missing = await tlsprobe(['replay', file, '--to', '127.0.0.1:1', '--connection', '4']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/connection 4 is not a TLS connection of this capture/);
    const notHello = join(dir, 'server.hex');
    writeFileSync(notHello, toHex(loadHexFixture('server/openssl-s_server-tls12.hex')));
    const r = await tlsprobe(['replay', notHello, '--to', '127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a ClientHello/);
  });
});
