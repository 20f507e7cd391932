/**
 * Capture readers and TCP reassembly against every public capture in the corpus, with tshark as
 * the oracle: frame counts; the streams of each endpoint pair; each stream's bytes per side, equal
 * in length and SHA-256 to tshark's own reassembly (`-z follow,tcp,raw`); and the sum of `tcp.len`
 * over frames tshark does not flag as retransmissions, wherever that sum agrees with tshark's own
 * reassembly. Skips cleanly without the corpus or tshark.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCaptureFile } from '../../src/capture/source.js';
import { reassembleCapture } from '../../src/capture/tcp.js';
import type { Flow } from '../../src/capture/tcp.js';
import { CORPUS_DIR, hasCorpus, NO_CORPUS } from '../helpers/corpus.js';
import { corpusCaptures, tshark } from './sessions-tshark.js';

const hasTshark = spawnSync('which', ['tshark']).status === 0;
if (!hasCorpus) console.warn(NO_CORPUS);
if (!hasTshark) console.warn('tshark not found: tshark comparisons in capture corpus tests skipped');

const captures = corpusCaptures();

// tshark's answers are cached outside the repo (keyed by its version, the arguments and the file): sessions-tshark.ts.

interface OracleStream {
  /** tcp.stream (tshark) or flow id (ours). */
  readonly id: number;
  /** "addr|port" of each side -> payload bytes sent. */
  readonly bytes: Map<string, number>;
}

interface Oracle {
  readonly frames: number;
  /** Streams grouped by their unordered endpoint pair, in tcp.stream order. */
  readonly byPair: Map<string, OracleStream[]>;
  /** Pairs whose frames tshark saw through a tunnel or inside ICMP: not comparable. */
  readonly ambiguous: Set<string>;
}

const FIELDS = [
  'frame.number',
  'tcp.stream',
  'tcp.len',
  'tcp.analysis.retransmission',
  'tcp.analysis.fast_retransmission',
  'tcp.analysis.spurious_retransmission',
  'tcp.analysis.keep_alive',
  'ip.src',
  'ipv6.src',
  'tcp.srcport',
  'ip.dst',
  'ipv6.dst',
  'tcp.dstport',
  'frame.protocols',
];

const pairKey = (a: string, b: string): string => (a < b ? `${a} ${b}` : `${b} ${a}`);

async function oracle(file: string): Promise<Oracle> {
  const text = await tshark(file, ['-n', '-T', 'fields', '-E', 'occurrence=a', ...FIELDS.flatMap((f) => ['-e', f])]);
  const lines = text.split('\n').filter((l) => l.length > 0);
  const streams = new Map<string, { pair: string; bytes: Map<string, number> }>();
  const ambiguous = new Set<string>();
  for (const line of lines) {
    const cells = line.split('\t');
    const protocols = cells[FIELDS.indexOf('frame.protocols')];
    // A TCP header quoted in an ICMP error is not stream data (and we do not decode it).
    if (/:icmp(v6)?:/.test(protocols ?? '')) continue;
    // Tunnelled TCP (GRE, Geneve, VXLAN, ...) has several IP layers in one frame: the TCP segment
    // is the innermost one's, as tlsprobe decodes it. The last IP layer of each version is taken,
    // the version the innermost layer has (frame.protocols lists the layers outermost first).
    const last = (cell: string | undefined): string => (cell ?? '').split(',').pop() ?? '';
    const [, stream, len, re, fast, spurious, keepAlive, ip4s, ip6s, sport, ip4d, ip6d, dport] = cells.map(last);
    if (!stream) continue;
    const innerV6 = (protocols ?? '').lastIndexOf(':ipv6:') > (protocols ?? '').lastIndexOf(':ip:');
    const src = `${innerV6 ? ip6s : ip4s || ip6s}|${sport}`;
    const dst = `${innerV6 ? ip6d : ip4d || ip6d}|${dport}`;
    if ((cells[FIELDS.indexOf('tcp.stream')] ?? '').includes(',')) {
      // TCP inside TCP (tshark reads one stream in another): neither side's bytes can be compared.
      for (const s of (cells[FIELDS.indexOf('tcp.stream')] ?? '').split(',')) ambiguous.add(s);
      continue;
    }
    let s = streams.get(stream);
    if (!s) {
      s = {
        pair: pairKey(src, dst),
        bytes: new Map([
          [src, 0],
          [dst, 0],
        ]),
      };
      streams.set(stream, s);
    }
    if (re || fast || spurious || keepAlive) continue;
    s.bytes.set(src, (s.bytes.get(src) ?? 0) + Number(len));
  }
  const byPair = new Map<string, OracleStream[]>();
  const ambiguousPairs = new Set<string>();
  for (const [id, s] of [...streams].sort((x, y) => Number(x[0]) - Number(y[0]))) {
    if (ambiguous.has(id)) ambiguousPairs.add(s.pair);
    byPair.set(s.pair, [...(byPair.get(s.pair) ?? []), { id: Number(id), bytes: s.bytes }]);
  }
  return { frames: lines.length, byPair, ambiguous: ambiguousPairs };
}

/** Per stream: "addr|port" of each side -> {bytes, sha256} of tshark's reassembled payload. */
async function follow(
  file: string,
  ids: readonly number[],
): Promise<Map<number, Map<string, { bytes: number; sha256: string }>>> {
  const text = await tshark(file, ['-q', '-n', ...ids.flatMap((id) => ['-z', `follow,tcp,raw,${id}`])]);
  const out = new Map<number, Map<string, { bytes: number; sha256: string }>>();
  for (const section of text.split(/^=+$/m)) {
    const id = /^Filter: tcp\.stream eq (\d+)$/m.exec(section)?.[1];
    const nodes = [...section.matchAll(/^Node ([01]): \[?(.*?)\]?:(\d+)$/gm)].map((m) => `${m[2]}|${m[3]}`);
    if (id === undefined || nodes.length !== 2) continue;
    const parts: Buffer[][] = [[], []];
    for (const line of section.split('\n')) {
      if (!/^\t?[0-9a-f]+$/.test(line)) continue;
      const bytes = Buffer.from(line.trim(), 'hex');
      // tshark writes a text marker where its reassembly saw a hole: not stream bytes.
      if (/^\[\d+ bytes missing in capture file\]\0?$/.test(bytes.toString('latin1'))) continue;
      parts[line.startsWith('\t') ? 1 : 0]!.push(bytes);
    }
    out.set(
      Number(id),
      new Map(
        nodes.map((n, i) => {
          const all = Buffer.concat(parts[i]!);
          return [n, { bytes: all.length, sha256: createHash('sha256').update(all).digest('hex') }];
        }),
      ),
    );
  }
  return out;
}

describe.skipIf(!hasCorpus || captures.length === 0)('readCapture and reassembly over the corpus', () => {
  it('finds the captures', () => {
    expect(captures.length).toBeGreaterThan(50);
  });

  it.for(captures)('reads %s like tshark does', async (rel, ctx) => {
    const file = join(CORPUS_DIR, rel);
    const flows: Flow[] = [];
    const hashes = new Map<Flow, { client: Hash; server: Hash }>();
    const summary = await reassembleCapture(openCaptureFile(file), {
      onData: (f, dir, bytes) => hashes.get(f)![dir].update(bytes),
      onGap: () => {},
      onEnd: () => {},
      onFlowStart: (f) => {
        flows.push(f);
        hashes.set(f, { client: createHash('sha256'), server: createHash('sha256') });
      },
    });
    expect(summary.meta.packets).toBeGreaterThan(0);
    // Issue 14: skipped visibly (not passed) when the oracle is missing.
    if (!hasTshark)
      ctx.skip('tshark not found (Debian package tshark): our reading ran, the comparison with tshark is skipped');
    const o = await oracle(file);
    expect(summary.meta.packets).toBe(o.frames);

    const ours = new Map<string, OracleStream[]>();
    const digests = new Map<number, Map<string, string>>();
    for (const f of flows) {
      const c = `${f.client.addr}|${f.client.port}`;
      const s = `${f.server.addr}|${f.server.port}`;
      const k = pairKey(c, s);
      ours.set(k, [
        ...(ours.get(k) ?? []),
        {
          id: f.id,
          bytes: new Map([
            [c, f.stats.client.deliveredBytes],
            [s, f.stats.server.deliveredBytes],
          ]),
        },
      ]);
      const h = hashes.get(f)!;
      digests.set(
        f.id,
        new Map([
          [c, h.client.digest('hex')],
          [s, h.server.digest('hex')],
        ]),
      );
    }
    const keys = [...new Set([...o.byPair.keys(), ...ours.keys()])].filter((k) => !o.ambiguous.has(k)).sort();
    const tsharkByKey = keys.map((k) => o.byPair.get(k) ?? []);
    const count = (m: Map<string, OracleStream[]>): Record<string, number> =>
      Object.fromEntries(keys.map((k) => [k, m.get(k)?.length ?? 0]));
    expect(count(ours)).toEqual(count(o.byPair));

    // Byte for byte: every stream against tshark's own reassembly.
    const followed = await follow(
      file,
      tsharkByKey.flat().map((s) => s.id),
    );
    /** pair -> per stream -> per side, what `pick` says. */
    const view = (
      ks: readonly string[],
      m: Map<string, OracleStream[]>,
      pick: (s: OracleStream) => Map<string, unknown> | undefined,
    ): Record<string, unknown> =>
      Object.fromEntries(ks.map((k) => [k, (m.get(k) ?? []).map((s) => Object.fromEntries(pick(s) ?? []))]));
    const ourDigests = (s: OracleStream): Map<string, unknown> => {
      const d = digests.get(s.id)!;
      return new Map([...s.bytes].map(([ep, n]) => [ep, { bytes: n, sha256: d.get(ep) }]));
    };
    expect(view(keys, ours, ourDigests)).toEqual(view(keys, o.byPair, (s) => followed.get(s.id)));

    // The tcp.len sums too, except for the streams where tshark's sum and tshark's reassembly
    // disagree with each other (a segment that repeats some bytes and adds new ones is counted
    // whole; a hole filled after a later ACK is flagged as a retransmission).
    const lengths = (s: OracleStream): Map<string, unknown> => s.bytes;
    const followLengths = (s: OracleStream): Map<string, unknown> =>
      new Map([...(followed.get(s.id) ?? [])].map(([ep, v]) => [ep, v.bytes]));
    const consistent = keys.filter(
      (k) => JSON.stringify(view([k], o.byPair, lengths)) === JSON.stringify(view([k], o.byPair, followLengths)),
    );
    expect(keys.length - consistent.length).toBeLessThanOrEqual(Math.max(3, keys.length / 10));
    expect(view(consistent, ours, lengths)).toEqual(view(consistent, o.byPair, lengths));
  });
});

describe.skipIf(!hasCorpus || !existsSync(join(CORPUS_DIR, 'wireshark/test/captures/tls12-dsb.pcapng')))(
  'pcapng Decryption Secrets Block',
  () => {
    it('yields the key log lines of tls12-dsb-1.keys then tls12-dsb-2.keys', async () => {
      const summary = await reassembleCapture(
        openCaptureFile(join(CORPUS_DIR, 'wireshark/test/captures/tls12-dsb.pcapng')),
        {
          onData: () => {},
          onGap: () => {},
          onEnd: () => {},
        },
      );
      const keys = ['tls12-dsb-1.keys', 'tls12-dsb-2.keys'].map((k) =>
        readFileSync(join(CORPUS_DIR, 'wireshark/test/keys', k), 'utf8'),
      );
      expect(summary.meta.keyLog).toBe(keys.join(''));
      expect(summary.meta.secrets.map((s) => s.secretsType)).toEqual([0x544c534b, 0x544c534b]);
    });
  },
);
