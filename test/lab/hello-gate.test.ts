import { beforeAll, describe, expect, it } from 'vitest';
import { protocolVersionAlert } from '../../src/lab/endpoints.js';
import { MAX_GATE_HELLO, scanClientHello } from '../../src/lab/hello-gate.js';
import { clientSupportedVersions } from '../../src/tls/client-hello.js';
import { fromHex } from '../../src/wire/hex.js';
import { Rng } from '../helpers/random.js';
import { buildClientHello } from '../../src/probe/profiles.js';
import { encodeRecords } from '../../src/tls/record.js';
import { type CapturedHello, captureNodeClientHello } from '../helpers/servers.js';

let tls10: CapturedHello;
let tls12: CapturedHello;
let tls13: CapturedHello;

beforeAll(async () => {
  tls10 = await captureNodeClientHello({ ciphers: 'DEFAULT@SECLEVEL=0', minVersion: 'TLSv1', maxVersion: 'TLSv1' });
  tls12 = await captureNodeClientHello({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
  tls13 = await captureNodeClientHello({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
});

/** Re-frames a handshake message as handshake records of at most `size` bytes (RFC 8446, Section 5.1). */
function fragment(msg: Uint8Array, size: number, recordVersion = 0x0301): Uint8Array {
  const out: number[] = [];
  for (let o = 0; o < msg.length; o += size) {
    const f = msg.subarray(o, o + size);
    out.push(0x16, recordVersion >> 8, recordVersion & 0xff, f.length >> 8, f.length & 0xff, ...f);
  }
  return Uint8Array.from(out);
}

describe('scanClientHello', () => {
  it('takes the highest version from legacy_version when supported_versions is absent', () => {
    const s = scanClientHello(tls10.record);
    expect(s.kind).toBe('hello');
    if (s.kind === 'hello') {
      expect(clientSupportedVersions(s.hello)).toBeNull();
      expect(s.hello.legacyVersion).toBe(0x0301);
      expect(s.highestVersion).toBe(0x0301);
    }
  });

  it('takes the highest version from supported_versions when present', () => {
    const s12 = scanClientHello(tls12.record);
    const s13 = scanClientHello(tls13.record);
    // OpenSSL sends legacy_version 3,3 in both; only supported_versions tells 1.2 from 1.3.
    expect(s12).toMatchObject({ kind: 'hello', highestVersion: 0x0303 });
    expect(s13).toMatchObject({ kind: 'hello', highestVersion: 0x0304 });
  });

  it('needs more bytes for every strict prefix of a hello', () => {
    for (let n = 0; n < tls13.record.length; n++) {
      expect(scanClientHello(tls13.record.subarray(0, n)).kind, `prefix ${n}`).toBe('need-more');
    }
  });

  it('joins a hello fragmented across records, and needs every fragment', () => {
    const framed = fragment(tls10.handshake, 7);
    expect(scanClientHello(framed)).toMatchObject({ kind: 'hello', highestVersion: 0x0301 });
    expect(scanClientHello(framed.subarray(0, framed.length - 1)).kind).toBe('need-more');
  });

  it('rejects a first record that is not a handshake record', () => {
    expect(scanClientHello(fromHex('15 03 01 00 02 02 46')).kind).toBe('not-a-hello');
  });

  it('rejects plain HTTP from its first byte', () => {
    expect(scanClientHello(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).kind).toBe('not-a-hello');
    expect(scanClientHello(new TextEncoder().encode('G')).kind).toBe('not-a-hello');
  });

  it('recognises an SSL 2.0-format hello and its version (RFC 5246, Appendix E.2)', () => {
    // msg_length 0x801c (28 bytes follow), client-hello, version 3,1, one cipher spec (3 bytes),
    // no session id, a 16-byte challenge.
    const v2 = fromHex(`80 1c 01 03 01 00 03 00 00 00 10 00 00 2f${' 11'.repeat(16)}`);
    expect(scanClientHello(v2)).toEqual({ kind: 'sslv2-hello', version: 0x0301 });
    for (let n = 0; n < v2.length; n++)
      expect(scanClientHello(v2.subarray(0, n)), `prefix ${n}`).toEqual({ kind: 'need-more' });
  });

  it('rejects a handshake record whose version is not 3.x', () => {
    expect(scanClientHello(fromHex('16 02')).kind).toBe('not-a-hello');
  });

  it('rejects a handshake message that is not a ClientHello', () => {
    // handshake type 2 (server_hello)
    expect(scanClientHello(fromHex('16 03 03 00 04 02 00 00 00')).kind).toBe('not-a-hello');
  });

  it('rejects a ClientHello longer than the cap before buffering it', () => {
    const len = MAX_GATE_HELLO; // body length; with the 4-byte header the message exceeds the cap
    const head = Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0x04, 0x01, len >> 16, (len >> 8) & 0xff, len & 0xff);
    expect(scanClientHello(head)).toMatchObject({ kind: 'not-a-hello' });
  });

  it('rejects a whole ClientHello whose body is broken', () => {
    // A complete 4-byte-body ClientHello: legacy_version then nothing: random is missing.
    expect(scanClientHello(fromHex('16 03 01 00 08 01 00 00 04 03 03 00 00')).kind).toBe('not-a-hello');
  });

  it('rejects a record length above the record-layer limit', () => {
    expect(scanClientHello(fromHex('16 03 01 ff ff 01')).kind).toBe('not-a-hello');
  });
});

describe('scanClientHello on hostile input', () => {
  it('never throws on random bytes or on a real hello with random bytes changed', () => {
    const rng = new Rng(0x7e57);
    const kinds = new Set(['need-more', 'hello', 'sslv2-hello', 'not-a-hello']);
    for (let i = 0; i < 2_000; i++) {
      const random = rng.bytes(rng.int(64));
      if (rng.bool()) random[0] = 0x16;
      expect(kinds.has(scanClientHello(random).kind)).toBe(true);
      const mutated = Uint8Array.from(tls13.record);
      for (let k = 0; k < 1 + rng.int(4); k++) mutated[rng.int(mutated.length)] = rng.int(256);
      expect(kinds.has(scanClientHello(mutated).kind)).toBe(true);
    }
  });
});

describe('protocolVersionAlert', () => {
  it('is a fatal protocol_version alert record in the client version', () => {
    // RFC 5246, Section 7.2: ContentType alert = 21, AlertLevel fatal = 2, protocol_version = 70.
    expect(Array.from(protocolVersionAlert(0x0301))).toEqual([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]);
    expect(Array.from(protocolVersionAlert(0x0302))).toEqual([0x15, 0x03, 0x02, 0x00, 0x02, 0x02, 0x46]);
  });

  it('keeps the record version within SSL 3.0 .. TLS 1.2', () => {
    expect(Array.from(protocolVersionAlert(0x0200)).slice(1, 3)).toEqual([0x03, 0x00]);
    expect(Array.from(protocolVersionAlert(0x0304)).slice(1, 3)).toEqual([0x03, 0x03]);
  });
});

describe('readClientHello on a socket', () => {
  /** Sends `bytes` to a loopback server in `chunk`-byte writes and returns what its gate read. */
  async function gateRead(bytes: Uint8Array, chunk: number) {
    const { createServer, connect } = await import('node:net');
    const { readClientHello } = await import('../../src/lab/hello-gate.js');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const got = new Promise<Awaited<ReturnType<typeof readClientHello>>>((resolve) =>
      server.once(
        'connection',
        (s) =>
          void readClientHello(s, 10_000).then((r) => {
            s.destroy();
            resolve(r);
          }),
      ),
    );
    const c = connect(port, '127.0.0.1');
    c.on('error', () => {});
    for (let o = 0; o < bytes.length; o += chunk) {
      c.write(bytes.subarray(o, o + chunk));
      await new Promise((r) => setImmediate(r));
    }
    const r = await got;
    c.destroy();
    server.close();
    return r;
  }

  it('reads a hello dripped one byte per write, and one split into 1-byte records', async () => {
    const record = buildClientHello({ version: 'TLS1.3', sni: 'localhost' }).record;
    const dripped = await gateRead(record, 1);
    expect(dripped.kind).toBe('hello');
    expect(dripped.consumed).toEqual(record);
    // The same handshake bytes re-framed into 1-byte records: the first record cannot hold the
    // handshake header, so the gate must not trust bytes 6..8 as the length.
    const message = record.subarray(5);
    const tiny = encodeRecords(22, 0x0301, message, 1);
    const split = await gateRead(tiny, 7);
    expect(split.kind).toBe('hello');
  });
});
