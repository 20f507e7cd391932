/**
 * The fuzz targets: one entry per parser entry point, each returning nothing and throwing only the
 * typed error its contract allows (`DecodeError`; `RegistryParseError` for .reg files; nothing at
 * all for the parsers documented never to throw). Each target also checks the invariants that must
 * hold when parsing succeeds (a re-encoding reproduces the bytes, the deframer accounts for every
 * byte, TCP delivery is contiguous). The fuzz suite, the crasher regressions and `npm run fuzz` all
 * run these same functions.
 */
import { DecodeError } from '../../src/wire/errors.js';
import { Reader } from '../../src/wire/reader.js';
import { Writer } from '../../src/wire/writer.js';
import { equalBytes, toHex } from '../../src/wire/hex.js';
import { decodeStream } from '../../src/tls/stream.js';
import { createHandshakeAssembler, createRecordDeframer } from '../../src/tls/deframer.js';
import { encodeHandshakeMessage, parseHandshakeMessage, type HandshakeContext } from '../../src/tls/handshake.js';
import { readExtension, writeExtension, type ExtensionContext } from '../../src/tls/extensions.js';
import { readSslV2ClientHello } from '../../src/tls/sslv2.js';
import { parseKeyLog } from '../../src/tls/keylog.js';
import { parseCertificate } from '../../src/x509/der.js';
import { toPlainCertInfo } from '../../src/x509/der-cert-info.js';
import { pemToDer } from '../../src/x509/pem.js';
import { checkChain } from '../../src/x509/chain.js';
import { decode } from '../../src/decode.js';
import { renderDecodeTree } from '../../src/report/decode-tree.js';
import { certificateSeeds } from './seeds.js';
import { createCaptureParser } from '../../src/capture/pcap.js';
import { createDecodeState } from '../../src/capture/decode-state.js';
import { LinkType } from '../../src/capture/link-layer.js';
import { decodePacket } from '../../src/capture/packet.js';
import { createReassembler, type Direction } from '../../src/capture/tcp.js';
import {
  checkRegistry,
  detectWindowsVersion,
  parseRegistryText,
  RegistryParseError,
  renderFixReg,
} from '../../src/diagnose/registry.js';
import { scanClientHello } from '../../src/lab/hello-gate.js';
import { splitAt } from './mutate.js';

/** Which typed error a target may throw. */
export type Allowed = 'DecodeError' | 'RegistryParseError' | 'nothing';

export interface FuzzTarget {
  readonly name: string;
  /** The source of the parser under test (for reports). */
  readonly entry: string;
  readonly allowed: Allowed;
  /** True when `run` returns a promise (the parser reads a stream: analyzeCapture). */
  readonly async?: boolean;
  /**
   * Runs the parser on `bytes`; `knobs` are extra random numbers the target may use (chunk cuts, a
   * context choice). Throws what the parser throws, or an `InvariantError` when a success is wrong.
   */
  run(bytes: Uint8Array, knobs: readonly number[]): void | Promise<void>;
}

/** A successful parse whose result breaks an invariant (never an allowed error). */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

function invariant(ok: boolean, message: string): asserts ok {
  if (!ok) throw new InvariantError(message);
}

/** True when `e` is the error `allowed` lets escape. */
export function isAllowed(allowed: Allowed, e: unknown): boolean {
  if (allowed === 'DecodeError') return e instanceof DecodeError;
  if (allowed === 'RegistryParseError') return e instanceof RegistryParseError;
  return false;
}

const HANDSHAKE_CONTEXTS: readonly HandshakeContext[] = [
  {},
  { version: 0x0303, cipherSuite: 0xc02f }, // TLS 1.2 ECDHE
  { version: 0x0303, cipherSuite: 0x009e }, // TLS 1.2 DHE
  { version: 0x0301, cipherSuite: 0xc013 }, // TLS 1.0 ECDHE (no signature algorithm)
  { version: 0x0304, cipherSuite: 0x1301 },
];

const EXTENSION_CONTEXTS: readonly ExtensionContext[] = [
  'client_hello',
  'server_hello',
  'hello_retry_request',
  'encrypted_extensions',
  'certificate',
  'other',
];

const LINK_TYPES: readonly number[] = [...Object.values(LinkType), 147, 195, 0xffff];

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'decodeStream',
    entry: 'src/tls/stream.ts decodeStream (through decode() and the decode tree, as `tlsprobe decode` runs it)',
    allowed: 'DecodeError',
    run(bytes) {
      // An input of empty handshake records decodes to no item at all: not an error for an analyzer.
      const items = decodeStream(bytes);
      const tree = renderDecodeTree(decode(bytes));
      invariant(items.length === 0 || tree.length > 0, 'items decoded but nothing rendered');
    },
  },
  {
    name: 'deframer',
    entry: 'src/tls/deframer.ts createRecordDeframer + createHandshakeAssembler',
    allowed: 'DecodeError',
    run(bytes, knobs) {
      const d = createRecordDeframer();
      const a = createHandshakeAssembler();
      let recordBytes = 0;
      let messageBytes = 0;
      let handshakeBytes = 0;
      for (const chunk of splitAt(bytes, knobs)) {
        for (const rec of d.push(chunk)) {
          recordBytes += 5 + rec.fragment.length;
          invariant(
            rec.offset + 5 + rec.fragment.length <= bytes.length,
            `record at ${rec.offset} runs past the input`,
          );
          if (rec.type !== 22) continue;
          handshakeBytes += rec.fragment.length;
          for (const m of a.push(rec.fragment, rec.offset + 5)) {
            messageBytes += m.raw.length;
            invariant(m.raw.length >= 4 && m.raw[0] === m.msgType, 'message without its header');
          }
        }
      }
      invariant(
        recordBytes + d.pendingBytes === bytes.length,
        `deframer lost bytes: ${recordBytes} in records + ${d.pendingBytes} pending != ${bytes.length}`,
      );
      invariant(
        messageBytes + a.pendingBytes === handshakeBytes,
        `assembler lost bytes: ${messageBytes} + ${a.pendingBytes} != ${handshakeBytes}`,
      );
    },
  },
  {
    name: 'parseHandshakeMessage',
    entry: 'src/tls/handshake.ts parseHandshakeMessage (every message type, every context)',
    allowed: 'DecodeError',
    run(bytes, knobs) {
      const ctx = HANDSHAKE_CONTEXTS[(knobs[0] ?? 0) % HANDSHAKE_CONTEXTS.length]!;
      const m = parseHandshakeMessage(bytes, ctx);
      invariant(equalBytes(m.raw, bytes), 'raw is not the input');
      const again = encodeHandshakeMessage(m);
      invariant(equalBytes(again, bytes), `re-encoding differs: ${toHex(again)}`);
    },
  },
  {
    name: 'readExtension',
    entry: 'src/tls/extensions.ts readExtension (every extension, every context)',
    allowed: 'DecodeError',
    run(bytes, knobs) {
      const ctx = EXTENSION_CONTEXTS[(knobs[0] ?? 0) % EXTENSION_CONTEXTS.length]!;
      const r = new Reader(bytes, 'extensions');
      const start = r.offset;
      const ext = readExtension(r, ctx);
      const consumed = bytes.subarray(start, r.offset);
      const w = new Writer(consumed.length + 8);
      writeExtension(w, ext, ctx);
      const again = w.finish();
      invariant(equalBytes(again, consumed), `${ext.kind} re-encodes as ${toHex(again)}, read from ${toHex(consumed)}`);
    },
  },
  {
    name: 'sslv2',
    entry: 'src/tls/sslv2.ts readSslV2ClientHello',
    allowed: 'DecodeError',
    run(bytes) {
      const r = new Reader(bytes, 'SSLv2');
      const h = readSslV2ClientHello(r);
      invariant(h.raw.length === r.offset, 'raw is not what was consumed');
    },
  },
  {
    name: 'parseCertificate',
    entry: 'src/x509/der.ts parseCertificate (and every lazy CertInfo field)',
    allowed: 'DecodeError',
    run(bytes) {
      const c = parseCertificate(bytes);
      // Every lazy getter is documented not to throw once the walk succeeded.
      JSON.stringify(toPlainCertInfo(c), (_k, v: unknown) => (v instanceof Uint8Array ? v.length : v));
    },
  },
  {
    name: 'checkChain',
    entry: 'src/x509/chain.ts checkChain (a mutated certificate among real ones; never throws)',
    allowed: 'nothing',
    run(bytes, knobs) {
      const seeds = certificateSeeds();
      const ders = [bytes, ...knobs.slice(0, 3).map((k) => seeds[k % seeds.length]!)];
      const report = checkChain((knobs[3] ?? 0) % 2 === 0 ? ders : ders.reverse(), {
        host: 'localhost',
        at: new Date('2025-01-01T00:00:00Z'),
      });
      invariant(report.verified === false || report.anchor !== null, 'verified without an anchor');
    },
  },
  {
    name: 'pemToDer',
    entry: 'src/x509/pem.ts pemToDer',
    allowed: 'DecodeError',
    run(bytes) {
      pemToDer(latin1(bytes));
    },
  },
  {
    name: 'captureParser',
    entry: 'src/capture/pcap.ts createCaptureParser (pcap and pcapng, fed in chunks)',
    allowed: 'DecodeError',
    run(bytes, knobs) {
      let packets = 0;
      const p = createCaptureParser(
        (pkt) => {
          packets++;
          invariant(pkt.data.length <= bytes.length, 'packet larger than the file');
        },
        { strict: (knobs[1] ?? 0) % 2 === 1 },
      );
      for (const chunk of splitAt(bytes, knobs)) p.feed(chunk);
      const meta = p.end();
      invariant(meta.packets === packets, 'meta.packets differs from delivered packets');
    },
  },
  {
    name: 'decodePacket',
    entry: 'src/capture/packet.ts decodePacket (every link type; never throws)',
    allowed: 'nothing',
    run(bytes, knobs) {
      const state = createDecodeState({ maxDatagrams: 4, maxFragmentsPerDatagram: 4 });
      // Several packets share one state, so IP fragments can meet (and hit the caps).
      const parts = splitAt(bytes, knobs.slice(1));
      for (let i = 0; i < parts.length; i++) {
        const linkType = LINK_TYPES[((knobs[0] ?? 0) + i) % LINK_TYPES.length]!;
        const seg = decodePacket(linkType, parts[i]!, { timestampUs: i * 1000, frame: i + 1 }, state);
        if (seg) invariant(seg.payload.length <= seg.payloadLength, 'payload longer than the IP header says');
      }
      const s = state.stats;
      invariant(state.fragments.size <= 4, `fragment table holds ${state.fragments.size} datagrams, cap 4`);
      // Every packet is counted somewhere. (A fragment refused at once, e.g. one reaching past 65,535
      // bytes, lands only in fragmentsDropped, not in one of the six per-packet counters that
      // DecodeStats documents: reported in SECURITY.md.)
      const counted =
        s.tcp + s.nonTcp + s.unsupportedLinkType + s.malformed + s.fragments + s.encrypted + s.fragmentsDropped;
      invariant(counted >= parts.length - s.reassembled, 'a packet was not counted');
    },
  },
  {
    name: 'tcpReassembly',
    entry: 'src/capture/tcp.ts createReassembler (random segments; never throws)',
    allowed: 'nothing',
    run(bytes, knobs) {
      // Segments drawn from the bytes: 4 endpoints, sequence numbers near a few bases, every flag mix.
      const r = new Reader(bytes, 'segments');
      const next = new Map<string, number>();
      let delivered = 0;
      let pushedPayload = 0;
      const flowsSeen = new Set<number>();
      const key = (id: number, dir: Direction) => `${id}/${dir}`;
      const re = createReassembler(
        {
          onData(flow, dir, data, offset) {
            const k = key(flow.id, dir);
            invariant((next.get(k) ?? 0) === offset, `data at ${offset}, expected ${next.get(k) ?? 0}`);
            next.set(k, offset + data.length);
            delivered += data.length;
            flowsSeen.add(flow.id);
          },
          onGap(flow, dir, offset, length) {
            const k = key(flow.id, dir);
            invariant(
              (next.get(k) ?? 0) === offset && length > 0,
              `gap at ${offset}+${length}, expected ${next.get(k) ?? 0}`,
            );
            next.set(k, offset + length);
          },
          onEnd() {},
        },
        {
          maxFlows: 3,
          maxBufferedSegmentsPerDirection: 8,
          maxBufferedBytesPerDirection: 256,
          maxBufferedBytesTotal: 512,
          maxFlagEvents: 4,
        },
      );
      let frame = 0;
      while (r.left >= 6) {
        const a = r.u8();
        const flags = r.u8();
        const seqBase = [0, 1000, 0xfffffff0, 0x7fffffff][a & 3]!;
        const seq = (seqBase + r.u16()) >>> 0;
        const len = r.u8() % 64;
        const payload = r.bytes(Math.min(len, r.left));
        pushedPayload += payload.length;
        const fromClient = (a & 4) === 0;
        const hostA = `10.0.0.${1 + ((a >> 3) & 3)}`;
        re.push({
          src: fromClient ? hostA : '10.0.1.1',
          dst: fromClient ? '10.0.1.1' : hostA,
          srcPort: fromClient ? 40000 + ((a >> 5) & 1) : 443,
          dstPort: fromClient ? 443 : 40000 + ((a >> 5) & 1),
          seq,
          ack: 0,
          flags: {
            syn: (flags & 1) !== 0,
            fin: (flags & 2) !== 0,
            rst: (flags & 4) !== 0,
            ack: (flags & 8) !== 0,
            psh: (flags & 16) !== 0,
          },
          window: 1000,
          payload,
          payloadLength: payload.length + ((flags & 32) !== 0 ? 10 : 0),
          timestampUs: (frame + (knobs[0] ?? 0)) * 1000,
          frame: ++frame,
          ipVersion: 4,
        });
        invariant(re.stats.trackedFlows <= 3, `${re.stats.trackedFlows} flows tracked, cap 3`);
        invariant(re.stats.bufferedBytes <= 512 + 64, `${re.stats.bufferedBytes} bytes buffered, cap 512`);
      }
      re.finish();
      invariant(delivered <= pushedPayload, `delivered ${delivered} bytes of ${pushedPayload} pushed`);
    },
  },
  {
    name: 'parseRegistryText',
    entry: 'src/diagnose/registry.ts parseRegistryText (+ checkRegistry, renderFixReg)',
    allowed: 'RegistryParseError',
    run(bytes) {
      const snapshot = parseRegistryText(bytes);
      const report = checkRegistry(snapshot, detectWindowsVersion(snapshot)?.version ?? null);
      renderFixReg(report.checks);
    },
  },
  {
    name: 'parseKeyLog',
    entry: 'src/tls/keylog.ts parseKeyLog (never throws)',
    allowed: 'nothing',
    run(bytes) {
      const log = parseKeyLog(latin1(bytes));
      for (const e of log.entries)
        invariant(log.lookup(e.clientRandom, e.label) !== undefined, 'an entry cannot be looked up');
    },
  },
  {
    name: 'scanClientHello',
    entry: 'src/lab/hello-gate.ts scanClientHello (never throws)',
    allowed: 'nothing',
    run(bytes) {
      scanClientHello(bytes);
    },
  },
];

/** Returns the target called `name`; throws RangeError for an unknown name. */
export function fuzzTarget(name: string): FuzzTarget {
  const t = FUZZ_TARGETS.find((x) => x.name === name);
  if (!t)
    throw new RangeError(
      `no fuzz target ${JSON.stringify(name)}; known: ${FUZZ_TARGETS.map((x) => x.name).join(', ')}`,
    );
  return t;
}
