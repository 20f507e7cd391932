import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hashForSuite, trafficKeys } from '../../src/tls/key-schedule.js';
import { KeyLogLabel, formatKeyLogLine, parseKeyLog, type KeyLog } from '../../src/tls/keylog.js';
import { decryptRecord, newProtectionState, type ProtectionState } from '../../src/tls/protection.js';
import { DecodeError } from '../../src/wire/errors.js';
import { fromHex, toHex } from '../../src/wire/hex.js';
import { corpusPath, hasCorpusFile } from '../helpers/corpus.js';

const R1 = '01'.repeat(32);
const R2 = 'ab'.repeat(32);
const S32 = '11'.repeat(32);
const S48 = '22'.repeat(48);

function labelCounts(log: KeyLog): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of log.entries) out[e.label] = (out[e.label] ?? 0) + 1;
  return out;
}

describe('parseKeyLog', () => {
  it('reads every TLS 1.3 label and CLIENT_RANDOM, skipping comments and blank lines', () => {
    const text = [
      '# SSL/TLS secrets log file',
      '',
      `CLIENT_RANDOM ${R1} ${S48}`,
      `CLIENT_EARLY_TRAFFIC_SECRET ${R2} ${S32}`,
      `EARLY_EXPORTER_SECRET ${R2} ${S32}`,
      `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${R2} ${S48}`,
      `SERVER_HANDSHAKE_TRAFFIC_SECRET ${R2} ${S48}`,
      `CLIENT_TRAFFIC_SECRET_0 ${R2} ${S32}`,
      `SERVER_TRAFFIC_SECRET_0 ${R2} ${S32}`,
      `EXPORTER_SECRET ${R2} ${S32}`,
      '   # indented comment',
    ].join('\n');
    const log = parseKeyLog(text);
    expect(log.errors).toEqual([]);
    expect(log.size).toBe(8);
    expect(toHex(log.lookup(fromHex(R1), 'CLIENT_RANDOM')!)).toBe(S48);
    expect(toHex(log.lookup(fromHex(R2), 'SERVER_HANDSHAKE_TRAFFIC_SECRET')!)).toBe(S48);
    expect(toHex(log.lookup(fromHex(R2), 'EXPORTER_SECRET')!)).toBe(S32);
    expect(log.lookup(fromHex(R1), 'EXPORTER_SECRET')).toBeUndefined();
    expect(log.entries.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('accepts CRLF line ends, tabs and upper-case hex', () => {
    const log = parseKeyLog(`CLIENT_TRAFFIC_SECRET_0\t${R2.toUpperCase()}  ${'AB'.repeat(32)}\r\n`);
    expect(log.errors).toEqual([]);
    expect(toHex(log.lookup(fromHex(R2), 'CLIENT_TRAFFIC_SECRET_0')!)).toBe('ab'.repeat(32));
  });

  it('reports bad lines with their line numbers instead of throwing', () => {
    const text = [
      `CLIENT_RANDOM ${R1} ${S48}`, // 1: fine
      `RSA 0011223344556677 ${S48}`, // 2: a label we do not use
      `CLIENT_TRAFFIC_SECRET_0 ${R1.slice(2)} ${S32}`, // 3: 31-byte random
      `CLIENT_TRAFFIC_SECRET_0 ${R1} ${S32}0`, // 4: odd hex
      `CLIENT_TRAFFIC_SECRET_0 ${R1} ${'zz'.repeat(32)}`, // 5: not hex
      `CLIENT_RANDOM ${R1.replace('01', '02')} ${S32}`, // 6: a master secret must be 48 bytes
      `SERVER_TRAFFIC_SECRET_0 ${R1} ${'33'.repeat(20)}`, // 7: 20-byte TLS 1.3 secret
      `EXPORTER_SECRET ${R1} ${S32} extra`, // 8: four fields
      'CLIENT_RANDOM', // 9: one field
    ].join('\n');
    const log = parseKeyLog(text);
    expect(log.size).toBe(1);
    expect(log.errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(log.errors[0]!.message).toContain('RSA');
    for (const e of log.errors) expect(e.message.length).toBeGreaterThan(10);
  });

  it('keeps the first secret of a conflicting repeat and reports it, but ignores an exact repeat', () => {
    const text = [
      `CLIENT_TRAFFIC_SECRET_0 ${R1} ${S32}`,
      `CLIENT_TRAFFIC_SECRET_0 ${R1} ${S32.toUpperCase()}`,
      `CLIENT_TRAFFIC_SECRET_0 ${R1} ${'44'.repeat(32)}`,
    ].join('\n');
    const log = parseKeyLog(text);
    expect(log.size).toBe(1);
    expect(toHex(log.lookup(fromHex(R1), 'CLIENT_TRAFFIC_SECRET_0')!)).toBe(S32);
    expect(log.errors).toHaveLength(1);
    expect(log.errors[0]!.line).toBe(3);
    expect(log.errors[0]!.message).toContain('line 1');
  });

  it('returns a copy, so a caller cannot change the log', () => {
    const log = parseKeyLog(`EXPORTER_SECRET ${R1} ${S32}`);
    log.lookup(fromHex(R1), 'EXPORTER_SECRET')!.fill(0);
    expect(toHex(log.lookup(fromHex(R1), 'EXPORTER_SECRET')!)).toBe(S32);
  });

  it('parses an empty file to an empty log', () => {
    expect(parseKeyLog('')).toMatchObject({ size: 0, errors: [] });
  });
});

describe('formatKeyLogLine', () => {
  it('writes lines that parseKeyLog reads back', () => {
    const random = fromHex(R2);
    const lines = Object.values(KeyLogLabel).map((label) =>
      formatKeyLogLine(label, random, fromHex(label === 'CLIENT_RANDOM' ? S48 : S32)),
    );
    expect(lines[0]).toBe(`CLIENT_RANDOM ${R2} ${S48}`);
    const log = parseKeyLog(lines.join('\n'));
    expect(log.errors).toEqual([]);
    expect(log.size).toBe(Object.keys(KeyLogLabel).length);
  });

  it('rejects unknown labels and client randoms that are not 32 bytes', () => {
    expect(() => formatKeyLogLine('RSA', fromHex(R1), fromHex(S48))).toThrow(TypeError);
    expect(() => formatKeyLogLine('EXPORTER_SECRET', new Uint8Array(31), fromHex(S32))).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Wireshark's test key logs (test/keys/), counted by label.

const KEYS = 'wireshark/test/keys';

describe.skipIf(!hasCorpusFile(KEYS))('Wireshark test key logs (skipped without ../shared/corpus)', () => {
  const read = (f: string): string => readFileSync(corpusPath(`${KEYS}/${f}`), 'utf8');

  it('reads tls13-rfc8446.keys: two sessions, the second with 0-RTT', () => {
    const log = parseKeyLog(read('tls13-rfc8446.keys'));
    expect(log.errors).toEqual([]);
    expect(log.size).toBe(9);
    expect(labelCounts(log)).toEqual({
      CLIENT_HANDSHAKE_TRAFFIC_SECRET: 2,
      SERVER_HANDSHAKE_TRAFFIC_SECRET: 2,
      CLIENT_TRAFFIC_SECRET_0: 2,
      SERVER_TRAFFIC_SECRET_0: 2,
      CLIENT_EARLY_TRAFFIC_SECRET: 1,
    });
    const second = fromHex('b67947da9d3e4b2ce8acffa975e30aa7ef90f7ec0d39de78db392f38b9a9a41d');
    expect(toHex(log.lookup(second, 'CLIENT_EARLY_TRAFFIC_SECRET')!)).toMatch(/^42c0101fad261571cb8799c86a1/);
  });

  it('reads tls13-rfc8446-noearly.keys: the same without CLIENT_EARLY_TRAFFIC_SECRET', () => {
    const log = parseKeyLog(read('tls13-rfc8446-noearly.keys'));
    expect(log.errors).toEqual([]);
    expect(log.size).toBe(8);
    expect(labelCounts(log).CLIENT_EARLY_TRAFFIC_SECRET).toBeUndefined();
  });

  it('reads tls13-20-chacha20poly1305.keys past its OpenSSL comment line', () => {
    const log = parseKeyLog(read('tls13-20-chacha20poly1305.keys'));
    expect(log.errors).toEqual([]);
    expect(log.size).toBe(8);
    expect(new Set(log.entries.map((e) => toHex(e.clientRandom))).size).toBe(2);
  });

  it('reads the TLS 1.2 CLIENT_RANDOM logs (48-byte master secrets, upper-case hex)', () => {
    const log = parseKeyLog(read('dhe1_keylog.dat'));
    expect(log.errors).toEqual([]);
    expect(log.size).toBeGreaterThan(0);
    for (const e of log.entries) {
      expect(e.label).toBe('CLIENT_RANDOM');
      expect(e.secret).toHaveLength(48);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// tshark as oracle: the key log's secrets must decrypt exactly the records tshark decrypts in
// Wireshark's tls13-rfc8446.pcap (full handshake, then PSK resumption with 0-RTT), and the
// -noearly log must leave the 0-RTT data and EndOfEarlyData opaque, as tshark does.

const PCAP = 'wireshark/test/captures/tls13-rfc8446.pcap';
const hasTshark = spawnSync('tshark', ['--version']).status === 0;

interface Frame {
  readonly number: number;
  readonly stream: number;
  readonly fromClient: boolean;
  readonly payload: Uint8Array;
  /** tshark's record content types for this frame (decrypted inner types), e.g. "22,20,22". */
  readonly contentTypes: string;
  readonly handshakeTypes: string;
}

function tsharkFrames(keysFile: string): Frame[] {
  const r = spawnSync(
    'tshark',
    [
      '-r',
      corpusPath(PCAP),
      '-o',
      `tls.keylog_file:${corpusPath(`${KEYS}/${keysFile}`)}`,
      '-Y',
      'tcp.len > 0',
      '-T',
      'fields',
      '-e',
      'frame.number',
      '-e',
      'tcp.stream',
      '-e',
      'tcp.dstport',
      '-e',
      'tcp.payload',
      '-e',
      'tls.record.content_type',
      '-e',
      'tls.handshake.type',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [number, stream, dstport, payload, contentTypes, handshakeTypes] = line.split('\t');
      return {
        number: Number(number),
        stream: Number(stream),
        fromClient: dstport === '443',
        payload: fromHex((payload ?? '').replace(/:/g, '')),
        contentTypes: contentTypes ?? '',
        handshakeTypes: handshakeTypes ?? '',
      };
    });
}

interface FrameView {
  contentTypes: number[];
  handshakeTypes: number[];
}

/** Our view of each frame: content types and handshake types, decrypting with the key log. */
function decryptCapture(
  frames: readonly Frame[],
  log: KeyLog,
): Map<number, { contentTypes: string; handshakeTypes: string }> {
  const out = new Map<number, FrameView>();
  const streams = new Set(frames.map((f) => f.stream));
  for (const stream of streams) {
    let clientRandom: Uint8Array | undefined;
    let suite = 0;
    const epochs: Record<'client' | 'server', { states: ProtectionState[]; at: number }> = {
      client: { states: [], at: 0 },
      server: { states: [], at: 0 },
    };
    const pending = { client: new Uint8Array(0), server: new Uint8Array(0) };
    // 0-RTT records arrive before the ServerHello names the suite: hold them until it does.
    const early: { view: FrameView; side: 'client' | 'server'; header: Uint8Array; body: Uint8Array }[] = [];

    const onRecord = (view: FrameView, side: 'client' | 'server', header: Uint8Array, body: Uint8Array): void => {
      let type = header[0]!;
      let content: Uint8Array | undefined = body;
      if (type === 23) {
        if (suite === 0) {
          early.push({ view, side, header, body });
          return;
        }
        content = undefined;
        const e = epochs[side];
        // Try the current epoch, then later ones; a record no epoch opens stays opaque.
        for (let i = e.at; i < e.states.length; i++) {
          try {
            const plain = decryptRecord(e.states[i]!, header, body);
            e.at = i;
            type = plain.contentType;
            content = plain.content;
            break;
          } catch (err) {
            if (!(err instanceof DecodeError) || err.code !== 'decrypt-failed') throw err;
          }
        }
        if (!content) return;
      }
      view.contentTypes.push(type);
      if (type !== 22) return;
      // Each handshake record here holds whole messages.
      for (
        let o = 0;
        o < content.length;
        o += 4 + ((content[o + 1]! << 16) | (content[o + 2]! << 8) | content[o + 3]!)
      ) {
        const msgType = content[o]!;
        view.handshakeTypes.push(msgType);
        if (msgType === 1) clientRandom = content.slice(o + 6, o + 38);
        if (msgType !== 2) continue;
        const sid = content[o + 4 + 2 + 32]!;
        const at = o + 4 + 2 + 32 + 1 + sid;
        suite = (content[at]! << 8) | content[at + 1]!;
        const hash = hashForSuite(suite)!;
        const state = (label: string): ProtectionState[] => {
          const secret = log.lookup(clientRandom!, label);
          return secret ? [newProtectionState(suite, trafficKeys(hash, suite, secret))] : [];
        };
        epochs.client.states = [
          ...state('CLIENT_EARLY_TRAFFIC_SECRET'),
          ...state('CLIENT_HANDSHAKE_TRAFFIC_SECRET'),
          ...state('CLIENT_TRAFFIC_SECRET_0'),
        ];
        epochs.server.states = [...state('SERVER_HANDSHAKE_TRAFFIC_SECRET'), ...state('SERVER_TRAFFIC_SECRET_0')];
        for (const r of early.splice(0)) onRecord(r.view, r.side, r.header, r.body);
      }
    };

    for (const f of frames.filter((x) => x.stream === stream)) {
      const side = f.fromClient ? 'client' : 'server';
      const view: FrameView = { contentTypes: [], handshakeTypes: [] };
      out.set(f.number, view);
      let buf = new Uint8Array(Buffer.concat([pending[side], f.payload]));
      while (buf.length >= 5 && buf.length >= 5 + ((buf[3]! << 8) | buf[4]!)) {
        const n = (buf[3]! << 8) | buf[4]!;
        onRecord(view, side, buf.subarray(0, 5), buf.subarray(5, 5 + n));
        buf = buf.subarray(5 + n);
      }
      pending[side] = buf;
    }
  }
  return new Map(
    [...out].map(([k, v]) => [
      k,
      { contentTypes: v.contentTypes.join(','), handshakeTypes: v.handshakeTypes.join(',') },
    ]),
  );
}

describe.skipIf(!hasCorpusFile(PCAP) || !hasTshark)(
  'decrypting tls13-rfc8446.pcap against tshark (skipped without corpus or tshark)',
  () => {
    it.each(['tls13-rfc8446.keys', 'tls13-rfc8446-noearly.keys'])(
      'opens exactly the records tshark opens with %s',
      (keysFile) => {
        const frames = tsharkFrames(keysFile);
        const log = parseKeyLog(readFileSync(corpusPath(`${KEYS}/${keysFile}`), 'utf8'));
        const ours = decryptCapture(frames, log);
        expect(frames.length).toBeGreaterThan(10);
        for (const f of frames) {
          expect({ frame: f.number, ...ours.get(f.number) }).toEqual({
            frame: f.number,
            contentTypes: f.contentTypes,
            handshakeTypes: f.handshakeTypes,
          });
        }
        // The one difference between the two logs: the second session's 0-RTT data and EndOfEarlyData.
        const all = [...ours.values()].map((v) => v.handshakeTypes).join(',');
        expect(all.split(',').includes('5')).toBe(keysFile === 'tls13-rfc8446.keys');
      },
    );
  },
);
