/**
 * Decryption from key logs: every captured Finished.verify_data and every decrypted TLS 1.3
 * certificate against what tshark decrypts with the same key log (corpus captures and our own
 * fixtures), each Finished checked against its transcript, and the parameters RFCs fix for the
 * TLS 1.2 ciphers.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture, endpointText } from '../../src/capture/sessions.js';
import type { ConnectionFacts } from '../../src/capture/sessions.js';
import { openCaptureFile } from '../../src/capture/source.js';
import {
  prf,
  tls12Cipher,
  tls12FinishedVerifyData,
  tls12HandshakeHashes,
  tls12PrfHash,
  tls12VerifyData,
  pHash,
} from '../../src/capture/decrypt.js';
import { Rng } from '../helpers/random.js';
import { toHex } from '../../src/wire/hex.js';
import { CORPUS_DIR, hasCorpus, NO_CORPUS } from '../helpers/corpus.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { CORPUS_KEY_LOGS, hasTshark, NO_TSHARK, tshark, tsharkRows } from './sessions-tshark.js';

if (!hasCorpus) console.warn(NO_CORPUS);
if (!hasTshark) console.warn(NO_TSHARK);

describe('tls12Cipher', () => {
  it('gives the record parameters the RFCs fix', () => {
    // RFC 5288, Section 3: 4-byte salt from the key block, 8-byte explicit nonce, 16-byte tag.
    expect(tls12Cipher(0xc02f)).toMatchObject({
      kind: 'gcm',
      cipher: 'aes-128-gcm',
      keyLength: 16,
      fixedIvLength: 4,
      explicitNonceLength: 8,
      tagLength: 16,
      mac: null,
    });
    // RFC 7905, Section 2: 12-byte IV, no explicit nonce.
    expect(tls12Cipher(0xcca8)).toMatchObject({
      kind: 'chacha20',
      keyLength: 32,
      fixedIvLength: 12,
      explicitNonceLength: 0,
    });
    // RFC 6655, Section 3: CCM_8 has an 8-byte tag.
    expect(tls12Cipher(0xc0a8)).toMatchObject({ kind: 'ccm', tagLength: 8 });
    // RFC 5246, Appendix A.5: TLS_RSA_WITH_AES_128_CBC_SHA is AES-128-CBC with HMAC-SHA1.
    expect(tls12Cipher(0x002f)).toMatchObject({ kind: 'cbc', cipher: 'aes-128-cbc', blockSize: 16, mac: 'sha1' });
    expect(tls12Cipher(0x0005)).toBeNull(); // RC4: OpenSSL 3 no longer offers it
    expect(tls12Cipher(0x1301)).toBeNull(); // a TLS 1.3 suite
  });

  it('uses SHA-384 for the PRF of the SHA-384 suites only (RFC 5289, Section 3.2)', () => {
    expect(tls12PrfHash(0xc030)).toBe('sha384');
    expect(tls12PrfHash(0xc02f)).toBe('sha256');
    expect(tls12PrfHash(0x002f)).toBe('sha256');
  });
});

describe('prf', () => {
  it('splits the secret for TLS 1.0 and XORs P_MD5 with P_SHA1 (RFC 2246, Section 5)', () => {
    const secret = Uint8Array.from({ length: 47 }, (_, i) => i);
    const seed = Uint8Array.of(1, 2, 3);
    const label = Buffer.from('key expansion', 'latin1');
    const md5 = pHash('md5', secret.subarray(0, 24), Uint8Array.from([...label, ...seed]), 40);
    const sha = pHash('sha1', secret.subarray(23), Uint8Array.from([...label, ...seed]), 40);
    expect(toHex(prf(0x0301, 0x002f, secret, 'key expansion', seed, 40))).toBe(toHex(md5.map((b, i) => b ^ sha[i]!)));
    expect(() => prf(0x0300, 0x002f, secret, 'x', seed, 8)).toThrow(RangeError);
  });

  const hasOpenssl = spawnSync('which', ['openssl']).status === 0;
  it.skipIf(!hasOpenssl)(
    'agrees with openssl kdf TLS1-PRF for TLS 1.2 (SHA-256, SHA-384) and TLS 1.0 (MD5 and SHA-1), over one to several blocks',
    () => {
      const rng = new Rng(5);
      // Suites whose PRF hash is SHA-256 (0xc02f) and SHA-384 (0xc030), and TLS 1.0 (0x002f).
      for (const [version, suite, digest] of [
        [0x0303, 0xc02f, 'SHA256'],
        [0x0303, 0xc030, 'SHA384'],
        [0x0301, 0x002f, 'MD5-SHA1'],
      ] as const) {
        for (const length of [12, 40, 104]) {
          const secret = rng.bytes(48);
          const seed = rng.bytes(64);
          const label = 'key expansion';
          const r = spawnSync('openssl', [
            'kdf',
            '-keylen',
            String(length),
            '-kdfopt',
            `digest:${digest}`,
            '-kdfopt',
            `hexsecret:${toHex(secret)}`,
            '-kdfopt',
            `hexseed:${Buffer.from(label, 'latin1').toString('hex')}${toHex(seed)}`,
            'TLS1-PRF',
          ]);
          expect(r.status, r.stderr.toString()).toBe(0);
          const theirs = r.stdout.toString().trim().replace(/:/g, '').toLowerCase();
          expect(toHex(prf(version, suite, secret, label, seed, length))).toBe(theirs);
        }
      }
    },
  );
});

describe('tls12FinishedVerifyData', () => {
  it('gives tls12VerifyData from the digests of tls12HandshakeHashes, as a running transcript hash does', () => {
    const rng = new Rng(9);
    const messages = [rng.bytes(200), rng.bytes(3000), rng.bytes(4)];
    const master = rng.bytes(48);
    for (const [version, suite] of [
      [0x0303, 0xc02f],
      [0x0303, 0xc030],
      [0x0302, 0x002f],
      [0x0301, 0x002f],
    ] as const) {
      const hashes = tls12HandshakeHashes(version, suite);
      expect(hashes).toEqual(version === 0x0303 ? [tls12PrfHash(suite)] : ['md5', 'sha1']);
      const running = hashes.map((h) => {
        const x = createHash(h);
        for (const m of messages) x.update(m);
        return x.digest();
      });
      for (const sender of ['client', 'server'] as const) {
        const verifyData = tls12FinishedVerifyData(version, suite, master, sender, Buffer.concat(running));
        expect(verifyData).toHaveLength(12);
        expect(toHex(verifyData)).toBe(toHex(tls12VerifyData(version, suite, master, sender, messages)));
      }
    }
  });
});

interface Finished {
  readonly verifyData: string;
}

/**
 * Returns the verify_data of every Finished tshark decrypts, by frame. tshark 4.0 has no bytes field
 * for it in `-T fields`, so this reads the `_raw` bytes of its JSON output.
 */
async function finishedByFrame(
  file: string,
  extra: readonly string[],
  keyFile: string | null,
): Promise<Map<number, string[]>> {
  const text = await tshark(
    file,
    [
      '-n',
      ...extra,
      '-Y',
      'tcp && tls.handshake.type == 20',
      '-T',
      'json',
      '-x',
      '--no-duplicate-keys',
      '-J',
      'frame tls',
    ],
    keyFile ?? undefined,
  );
  const out = new Map<number, string[]>();
  const frames = JSON.parse(text || '[]') as { _source: { layers: Record<string, unknown> } }[];
  for (const f of frames) {
    const layers = f._source.layers;
    const frame = Number((layers.frame as Record<string, string>)['frame.number']);
    const found: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'tls.handshake.verify_data_raw') {
            const list = Array.isArray(x) && Array.isArray(x[0]) ? (x as unknown[][]) : [x as unknown[]];
            for (const item of list) found.push(String(item[0]));
          } else walk(x);
        }
      }
    };
    walk(layers.tls);
    out.set(frame, found);
  }
  return out;
}

/** tshark's view with the key log: the first Finished of each side, and the server's first certificates, per endpoint pair. */
async function tsharkDecrypted(
  file: string,
  keyFile: string | null,
): Promise<Map<string, { client?: Finished; server?: Finished; certs?: string[] }[]>> {
  const fields = [
    'frame.number',
    'tcp.stream',
    'ip.src',
    'ipv6.src',
    'tcp.srcport',
    'ip.dst',
    'ipv6.dst',
    'tcp.dstport',
    'tls.handshake.type',
    'tls.handshake.certificate',
  ];
  const extra = keyFile ? ['-o', `tls.keylog_file:${keyFile}`] : [];
  const rows = await tsharkRows(
    file,
    'tcp && (tls.handshake.type == 1 || tls.handshake.type == 20 || tls.handshake.type == 11)',
    fields,
    extra,
    keyFile ?? undefined,
  );
  const verifyData = await finishedByFrame(file, extra, keyFile);
  const streams = new Map<
    string,
    { client: string; server: string; client_f?: Finished; server_f?: Finished; certs?: string[] }
  >();
  for (const r of rows) {
    const get = (f: string): string[] => r[fields.indexOf(f)] ?? [];
    if (get('tcp.stream').length !== 1) continue;
    const src = endpointText({ addr: get('ip.src')[0] ?? get('ipv6.src')[0]!, port: Number(get('tcp.srcport')[0]) });
    const dst = endpointText({ addr: get('ip.dst')[0] ?? get('ipv6.dst')[0]!, port: Number(get('tcp.dstport')[0]) });
    const types = get('tls.handshake.type');
    let s = streams.get(get('tcp.stream')[0]!);
    if (!s) {
      if (!types.includes('1')) continue;
      s = { client: src, server: dst };
      streams.set(get('tcp.stream')[0]!, s);
    }
    const side = src === s.client ? 'client_f' : 'server_f';
    const vd = verifyData.get(Number(get('frame.number')[0])) ?? [];
    if (vd.length > 0 && !s[side]) s[side] = { verifyData: vd[0]! };
    if (src === s.server && types.includes('11') && !s.certs)
      s.certs = get('tls.handshake.certificate').map((h) =>
        createHash('sha1').update(Buffer.from(h, 'hex')).digest('hex'),
      );
  }
  const out = new Map<string, { client?: Finished; server?: Finished; certs?: string[] }[]>();
  for (const [, s] of [...streams].sort((a, b) => Number(a[0]) - Number(b[0]))) {
    const k = `${s.client} ${s.server}`;
    out.set(k, [
      ...(out.get(k) ?? []),
      {
        ...(s.client_f ? { client: s.client_f } : {}),
        ...(s.server_f ? { server: s.server_f } : {}),
        ...(s.certs ? { certs: s.certs } : {}),
      },
    ]);
  }
  return out;
}

/** Checks our decryption of `file` against tshark's; returns how many Finished messages were compared. */
async function compare(file: string, keyFile: string | null): Promise<{ compared: number; unsupported: number }> {
  const keyLog = keyFile ? readFileSync(keyFile, 'utf8') : undefined;
  const { connections } = await analyzeCapture(openCaptureFile(file), keyLog === undefined ? {} : { keyLog });
  const ours = new Map<string, ConnectionFacts[]>();
  for (const c of connections!) {
    const k = `${endpointText(c.client)} ${endpointText(c.server)}`;
    ours.set(k, [...(ours.get(k) ?? []), c]);
  }
  const theirs = await tsharkDecrypted(file, keyFile);
  let compared = 0;
  let unsupported = 0;
  for (const [k, list] of theirs) {
    list.forEach((t, i) => {
      const c = ours.get(k)?.[i];
      expect(c, k).toBeDefined();
      const d = c!.decryption;
      // SSL 3.0, RC4 and TLS 1.3 drafts before 25 are declared unsupported, never guessed.
      if (d?.status === 'unsupported') {
        unsupported++;
        return;
      }
      for (const side of ['client', 'server'] as const) {
        const tf = t[side];
        if (!tf) continue;
        const f = side === 'client' ? d?.clientFinished : d?.serverFinished;
        if (c!.version !== null && c!.version < 0x0304 && !c!.decryption) continue; // NULL-cipher Finished read in clear by tshark
        expect(f ? toHex(f.verifyData) : null, `${side} Finished of ${k}`).toBe(tf.verifyData);
        // Issue 14: verified, not merely "not refuted" (null = could not be checked, a failure here).
        expect(f!.verified, `${side} Finished of ${k} checked against the transcript`).toBe(true);
        compared++;
      }
      if (t.certs && c!.certificatesDecrypted)
        expect(
          c!.certificates.map((d) => createHash('sha1').update(d).digest('hex')),
          `certificates of ${k}`,
        ).toEqual(t.certs);
    });
  }
  return { compared, unsupported };
}

const DSB_CAPTURES = [
  'wireshark/test/captures/tls12-dsb.pcapng',
  'wireshark-wiki/uploads/96afe21b136f715d5b96df4a646c57d9/pcapng-example.pcapng',
  'ja4/pcap/http2-with-cookies.pcapng',
];

describe.skipIf(!hasCorpus || !hasTshark)('decryption over the corpus, against tshark with the same keys', () => {
  it.each(Object.entries(CORPUS_KEY_LOGS))('decrypts %s like tshark with %s', async (rel, keys) => {
    const { compared, unsupported } = await compare(join(CORPUS_DIR, rel), join(CORPUS_DIR, keys));
    expect(compared + unsupported).toBeGreaterThan(0);
  });

  it.each(DSB_CAPTURES)('decrypts %s with the key log the file embeds', async (rel) => {
    expect((await compare(join(CORPUS_DIR, rel), null)).compared).toBeGreaterThan(0);
  });

  it('reads the encrypted certificate of RFC 8448-style tls13-rfc8446.pcap and both Finished of each session', async () => {
    const file = join(CORPUS_DIR, 'wireshark/test/captures/tls13-rfc8446.pcap');
    const keyLog = readFileSync(join(CORPUS_DIR, 'wireshark/test/keys/tls13-rfc8446.keys'), 'utf8');
    const { connections } = await analyzeCapture(openCaptureFile(file), { keyLog });
    expect(connections!.map((c) => c.decryption?.status)).toEqual(['decrypted', 'decrypted']);
    expect(connections![0]!.certificates).toHaveLength(1);
    // The resumed session with 0-RTT: EndOfEarlyData under the early traffic keys.
    expect(connections![1]!.decryption!.messages).toContain('end_of_early_data');
    expect(
      connections!.every((c) => c.decryption!.clientFinished!.verified && c.decryption!.serverFinished!.verified),
    ).toBe(true);
  });
});

describe('decryption of our own captures', () => {
  const pcap = (n: string): string => join(FIXTURES_DIR, 'pcap', n);

  it('opens AES-GCM, ChaCha20-Poly1305 and AES-CBC TLS 1.2 handshakes from a key log file, Finished verified', async () => {
    const keyLog = readFileSync(pcap('tls12-keylog.keys'), 'utf8');
    const { connections } = await analyzeCapture(openCaptureFile(pcap('tls12-keylog.pcapng')), { keyLog });
    for (const c of connections!) {
      expect(c.decryption).toMatchObject({ keys: 'tls12', status: 'decrypted' });
      expect(c.decryption!.clientFinished!.verified).toBe(true);
      expect(c.decryption!.serverFinished!.verified).toBe(true);
      // The close_notify alerts are encrypted too, and now readable (RFC 5246, Section 7.2.1).
      expect(c.alerts.map((a) => [a.from, a.level, a.description, a.decrypted])).toEqual([
        ['client', 1, 0, true],
        ['server', 1, 0, true],
      ]);
    }
  });

  it('says which connections the key log has no secrets for, and when the secrets do not open the records', async () => {
    const keyLog = readFileSync(pcap('tls12-keylog.keys'), 'utf8');
    const lines = keyLog.trim().split('\n');
    const first = await analyzeCapture(openCaptureFile(pcap('tls12-keylog.pcapng')), { keyLog: lines[0]! });
    expect(first.connections!.map((c) => c.decryption!.status)).toEqual(['decrypted', 'no-keys', 'no-keys']);
    // The same line with the master secret's last byte flipped.
    const wrong = lines[0]!.replace(/([0-9a-f])$/i, (d) => (d === '0' ? '1' : '0'));
    const bad = await analyzeCapture(openCaptureFile(pcap('tls12-keylog.pcapng')), { keyLog: wrong });
    expect(bad.connections![0]!.decryption!.status).toBe('failed');
    expect(bad.connections![0]!.problems.map((p) => p.code)).toContain('decrypt-failed');
  });

  it.skipIf(!hasTshark)('agrees with tshark on every Finished of the fixtures', async () => {
    expect(await compare(pcap('tls12-keylog.pcapng'), pcap('tls12-keylog.keys'))).toEqual({
      compared: 6,
      unsupported: 0,
    });
    expect(await compare(pcap('tls13-dsb.pcapng'), null)).toEqual({ compared: 2, unsupported: 0 });
  });
});
