/**
 * Key logs embedded as many Decryption Secrets Blocks (draft-ietf-opsawg-pcapng, Section 4.7), as
 * a capture written while keys are found has them (a block per connection): the real TLS 1.3
 * handshake of fixtures/pcap/tls13-dsb.pcapng with its key log cut into a block per line, each
 * before a packet, decrypts as the file itself does; each block's text is read once (counted, not
 * timed), where every block used to make the whole embedded log be read again (4,000 blocks: 35 s);
 * and a key log read in pieces (`createKeyLog().append`) equals the whole text read at once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { readCapture } from '../../src/capture/pcap.js';
import { analyzeCapture } from '../../src/capture/sessions.js';
import { createKeyLog, parseKeyLog } from '../../src/tls/keylog.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { concat, dsb, epb, idb, shb, text } from './build.js';

const read = vi.hoisted(() => ({ chars: 0, appends: 0 }));

vi.mock('../../src/tls/keylog.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/tls/keylog.js')>();
  return {
    ...m,
    createKeyLog: () => {
      const log = m.createKeyLog();
      const append = log.append.bind(log);
      log.append = (t: string) => {
        read.chars += t.length;
        read.appends++;
        append(t);
      };
      return log;
    },
  };
});

const TLS_KEY_LOG = 0x544c534b;
const fixture = join(FIXTURES_DIR, 'pcap', 'tls13-dsb.pcapng');

/** The fixture's packets and key log lines. */
async function fixtureParts() {
  const packets: { linkType: number; timestampUs: number; data: Uint8Array }[] = [];
  const meta = await readCapture(readFileSync(fixture), (p) => {
    packets.push({ linkType: p.linkType, timestampUs: p.timestampUs, data: Uint8Array.from(p.data) });
  });
  const lines = meta.keyLog.split('\n').filter((l) => l !== '');
  return { packets, lines };
}

type Packet = Awaited<ReturnType<typeof fixtureParts>>['packets'][number];

/** A pcapng of `packets` (one interface) with a key log block holding `blocks[i]` before packet i. */
function withBlocks(packets: readonly Packet[], blocks: readonly (string | undefined)[]) {
  const parts = [shb(true), idb(true, packets[0]!.linkType)];
  packets.forEach((p, i) => {
    if (blocks[i] !== undefined) parts.push(dsb(true, TLS_KEY_LOG, text(blocks[i]!)));
    parts.push(epb(true, 0, BigInt(p.timestampUs), p.data));
  });
  return concat(...parts);
}

/** An ARP request frame (Ethernet): a packet between blocks that is not TCP. */
const ARP = Uint8Array.from([
  ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06],
  ...[0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2],
]);

/** Random key log lines for client randoms no connection has (filler blocks). */
function fillerLines(n: number): string[] {
  const hex = (k: number, seed: number) =>
    Array.from({ length: k }, (_, j) => ((seed * 31 + j * 7) & 0xff).toString(16).padStart(2, '0')).join('');
  return Array.from({ length: n }, (_, i) => `CLIENT_RANDOM ${hex(32, i + 1)} ${hex(48, i + 7)}`);
}

describe('a key log in many Decryption Secrets Blocks', () => {
  it('decrypts the real TLS 1.3 handshake as the file with one block does', async () => {
    const { packets, lines } = await fixtureParts();
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const whole = (await analyzeCapture(readFileSync(fixture))).connections!;
    expect(whole.some((c) => c.certificatesDecrypted)).toBe(true);
    const split = (
      await analyzeCapture(
        withBlocks(
          packets,
          lines.map((l) => `${l}\n`),
        ),
      )
    ).connections!;
    expect(split).toEqual(whole);
  });

  it('reads each block once, however many blocks come before it', async () => {
    const { packets, lines } = await fixtureParts();
    // 3,000 filler blocks, each followed by an ARP packet (so the analysis looks for new blocks
    // between them), then the fixture's packets with a block of its key log before each of the first.
    const filler = fillerLines(3000).map((l) => `${l}\n`);
    const arps = filler.map((_, i) => ({ linkType: 1, timestampUs: packets[0]!.timestampUs - 3000 + i, data: ARP }));
    const blocks = [...filler, ...lines.map((l) => `${l}\n`)];
    read.chars = 0;
    read.appends = 0;
    const r = await analyzeCapture(withBlocks([...arps, ...packets], blocks));
    expect(r.connections!.some((c) => c.certificatesDecrypted)).toBe(true);
    expect(read.appends).toBe(blocks.length);
    expect(read.chars).toBe(blocks.reduce((n, b) => n + b.length, 0));
  });
});

describe('createKeyLog', () => {
  it('read in pieces, gives what parseKeyLog gives for the whole text: entries, lookups, errors and their lines', async () => {
    const keys = readFileSync(join(FIXTURES_DIR, 'pcap', 'tls12-keylog.keys'), 'utf8');
    const { lines } = await fixtureParts();
    const all = [
      ...keys.split('\n').filter((l) => l !== ''),
      '# a comment',
      '',
      'NOT_A_LABEL 00 11',
      ...lines,
      lines[0]!.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
      'CLIENT_RANDOM zz 00',
    ];
    const whole = parseKeyLog(`${all.join('\n')}\n`);
    // The fixture's own RSA line (a label we do not read), the unknown label, the repeat with another
    // secret, the bad hex.
    expect(whole.errors.map((e) => e.message.split(' ')[0])).toEqual([
      'unknown',
      'unknown',
      expect.any(String),
      'client',
    ]);
    for (const cut of [1, 2, 3, 5, all.length]) {
      const log = createKeyLog();
      for (let i = 0; i < all.length; i += cut) {
        log.append(`${all.slice(i, i + cut).join('\n')}\n`);
        // An empty block between them holds no line: the line numbers stay those of the whole text.
        log.append('');
      }
      expect(log.entries).toEqual(whole.entries);
      expect(log.errors).toEqual(whole.errors);
      expect(log.size).toBe(whole.size);
      for (const e of whole.entries) expect(log.lookup(e.clientRandom, e.label)).toEqual(e.secret);
    }
  });
});
