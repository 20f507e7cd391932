/**
 * Issue 8: no allocation a peer or a file controls may exceed a named cap with a reason. For each
 * cap: the constant exists, carries its reason in a TSDoc comment at its definition, and the parser
 * refuses (or evicts) just past it while accepting exactly at it where that is cheap to build.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/wire/errors.js';
import { Writer } from '../../src/wire/writer.js';
import { Reader } from '../../src/wire/reader.js';
import { MAX_RECORD_FRAGMENT } from '../../src/tls/record.js';
import { MAX_HANDSHAKE_MESSAGE } from '../../src/tls/handshake-header.js';
import { createHandshakeAssembler, createRecordDeframer } from '../../src/tls/deframer.js';
import { parseHandshakeMessage } from '../../src/tls/handshake.js';
import { MAX_CERTIFICATES, readCertificateBody } from '../../src/tls/certificate.js';
import { MAX_STREAM_ITEMS, decodeStream } from '../../src/tls/stream.js';
import { MAX_CERTIFICATE_BYTES, parseCertificate } from '../../src/x509/der.js';
import { DerReader, MAX_DER_DEPTH } from '../../src/x509/der-reader.js';
import { MAX_PEM_CERTIFICATES, pemToDer } from '../../src/x509/pem.js';
import { MAX_CHAIN_CERTIFICATES, checkChain } from '../../src/x509/chain.js';
import { MAX_BLOCK_BYTES, MAX_PACKET_BYTES, MAX_WARNINGS } from '../../src/capture/pcap-format.js';
import { readCapture } from '../../src/capture/pcap.js';
import { MAX_FRAGMENT_DATAGRAMS, createDecodeState } from '../../src/capture/decode-state.js';
import { decodePacket } from '../../src/capture/packet.js';
import {
  MAX_BUFFERED_SEGMENTS_PER_DIRECTION,
  MAX_FLOWS,
  createReassembler,
  type StreamEvents,
} from '../../src/capture/tcp.js';
import { MAX_REGISTRY_FILE_BYTES, parseRegistryText, RegistryParseError } from '../../src/diagnose/registry.js';
import { DEFAULT_MAX_BYTES } from '../../src/probe/transport.js';
import { MAX_GATE_BYTES, MAX_GATE_HELLO, scanClientHello } from '../../src/lab/hello-gate.js';
import { deepDer } from '../../src/lab/hostile-der.js';
import { concat, ipv4, pcapFile, shb, block, tcp } from '../capture/build.js';

const SRC = join(import.meta.dirname, '../../src');

/** Every cap of issue 8: where it is defined and what it bounds. */
const CAPS: readonly { file: string; name: string; value: number; bounds: string }[] = [
  {
    file: 'tls/record.ts',
    name: 'MAX_RECORD_FRAGMENT',
    value: MAX_RECORD_FRAGMENT,
    bounds: 'bytes buffered per record',
  },
  {
    file: 'tls/handshake-header.ts',
    name: 'MAX_HANDSHAKE_MESSAGE',
    value: MAX_HANDSHAKE_MESSAGE,
    bounds: 'handshake message size',
  },
  {
    file: 'tls/certificate.ts',
    name: 'MAX_CERTIFICATES',
    value: MAX_CERTIFICATES,
    bounds: 'certificates per Certificate message',
  },
  {
    file: 'tls/stream.ts',
    name: 'MAX_STREAM_ITEMS',
    value: MAX_STREAM_ITEMS,
    bounds: 'records and messages per decoded input',
  },
  { file: 'x509/der.ts', name: 'MAX_CERTIFICATE_BYTES', value: MAX_CERTIFICATE_BYTES, bounds: 'certificate size' },
  { file: 'x509/der-reader.ts', name: 'MAX_DER_DEPTH', value: MAX_DER_DEPTH, bounds: 'DER nesting' },
  {
    file: 'x509/pem.ts',
    name: 'MAX_PEM_CERTIFICATES',
    value: MAX_PEM_CERTIFICATES,
    bounds: 'certificates per PEM text',
  },
  {
    file: 'x509/chain.ts',
    name: 'MAX_CHAIN_CERTIFICATES',
    value: MAX_CHAIN_CERTIFICATES,
    bounds: 'certificates examined per chain',
  },
  { file: 'capture/pcap-format.ts', name: 'MAX_PACKET_BYTES', value: MAX_PACKET_BYTES, bounds: 'pcap record size' },
  { file: 'capture/pcap-format.ts', name: 'MAX_BLOCK_BYTES', value: MAX_BLOCK_BYTES, bounds: 'pcapng block size' },
  { file: 'capture/pcap-format.ts', name: 'MAX_WARNINGS', value: MAX_WARNINGS, bounds: 'warnings per capture' },
  {
    file: 'capture/decode-state.ts',
    name: 'MAX_FRAGMENT_DATAGRAMS',
    value: MAX_FRAGMENT_DATAGRAMS,
    bounds: 'IP datagrams reassembled at once',
  },
  { file: 'capture/tcp-types.ts', name: 'MAX_FLOWS', value: MAX_FLOWS, bounds: 'flows per capture held at once' },
  {
    file: 'capture/tcp-types.ts',
    name: 'MAX_BUFFERED_SEGMENTS_PER_DIRECTION',
    value: MAX_BUFFERED_SEGMENTS_PER_DIRECTION,
    bounds: 'out-of-order segments',
  },
  {
    file: 'diagnose/registry-parse.ts',
    name: 'MAX_REGISTRY_FILE_BYTES',
    value: MAX_REGISTRY_FILE_BYTES,
    bounds: '.reg file size',
  },
  {
    file: 'probe/transport.ts',
    name: 'DEFAULT_MAX_BYTES',
    value: DEFAULT_MAX_BYTES,
    bounds: 'bytes (so records) kept per probe',
  },
  {
    file: 'lab/hello-gate.ts',
    name: 'MAX_GATE_HELLO',
    value: MAX_GATE_HELLO,
    bounds: 'ClientHello size the lab buffers',
  },
];

describe('named caps', () => {
  for (const cap of CAPS) {
    it(`${cap.name} (${cap.bounds}) is a positive constant with its reason written above it`, () => {
      expect(Number.isSafeInteger(cap.value) && cap.value > 0).toBe(true);
      const src = readFileSync(join(SRC, cap.file), 'utf8');
      const at = src.indexOf(`export const ${cap.name} =`);
      expect(at, `${cap.name} in ${cap.file}`).toBeGreaterThan(0);
      const before = src.slice(0, at).trimEnd();
      expect(before.endsWith('*/'), `${cap.name} has a TSDoc comment`).toBe(true);
      const comment = before.slice(before.lastIndexOf('/**'));
      expect(comment.length, `${cap.name}'s comment gives a reason`).toBeGreaterThan(60);
    });
  }
});

const header = (type: number, len: number) => Uint8Array.from([type, 0x03, 0x03, len >> 8, len & 0xff]);

describe('caps trigger just past their value', () => {
  it('refuses a record one byte longer than MAX_RECORD_FRAGMENT before buffering it, and takes one at the cap', () => {
    expect(() => createRecordDeframer().push(header(23, MAX_RECORD_FRAGMENT + 1))).toThrow(
      expect.objectContaining({ code: 'too-large' }),
    );
    const d = createRecordDeframer();
    expect(d.push(concat(header(23, MAX_RECORD_FRAGMENT), new Uint8Array(MAX_RECORD_FRAGMENT))).length).toBe(1);
  });

  it('refuses a handshake message one byte over MAX_HANDSHAKE_MESSAGE in the assembler and the parser, and takes one at the cap', () => {
    const h = (n: number) => Uint8Array.from([99, n >> 16, (n >> 8) & 0xff, n & 0xff]);
    expect(() => createHandshakeAssembler().push(h(MAX_HANDSHAKE_MESSAGE + 1), 0)).toThrow(
      expect.objectContaining({ code: 'too-large' }),
    );
    expect(() =>
      parseHandshakeMessage(concat(h(MAX_HANDSHAKE_MESSAGE + 1), new Uint8Array(MAX_HANDSHAKE_MESSAGE + 1))),
    ).toThrow(expect.objectContaining({ code: 'too-large' }));
    const a = createHandshakeAssembler();
    expect(a.push(concat(h(MAX_HANDSHAKE_MESSAGE), new Uint8Array(MAX_HANDSHAKE_MESSAGE)), 0).length).toBe(1);
  });

  it('refuses a Certificate message with MAX_CERTIFICATES + 1 entries and takes one with MAX_CERTIFICATES', () => {
    const body = (n: number) => {
      const w = new Writer();
      w.prefixed(3, (w) => {
        for (let i = 0; i < n; i++) w.vec(3, Uint8Array.from([0x30]));
      });
      return w.finish();
    };
    expect(readCertificateBody(new Reader(body(MAX_CERTIFICATES)), 0x0303).entries.length).toBe(MAX_CERTIFICATES);
    expect(() => readCertificateBody(new Reader(body(MAX_CERTIFICATES + 1)), 0x0303)).toThrow(
      expect.objectContaining({ code: 'too-large' }),
    );
  });

  it('refuses an input of more than MAX_STREAM_ITEMS records', () => {
    const ccs = Uint8Array.from([20, 3, 3, 0, 1, 1]);
    const many = new Uint8Array(ccs.length * (MAX_STREAM_ITEMS + 1));
    for (let i = 0; i < MAX_STREAM_ITEMS + 1; i++) many.set(ccs, i * ccs.length);
    expect(decodeStream(many.subarray(0, ccs.length * MAX_STREAM_ITEMS)).length).toBe(MAX_STREAM_ITEMS);
    expect(() => decodeStream(many)).toThrow(expect.objectContaining({ code: 'too-large' }));
  });

  it('refuses a certificate over MAX_CERTIFICATE_BYTES before walking it', () => {
    expect(() => parseCertificate(new Uint8Array(MAX_CERTIFICATE_BYTES + 1))).toThrow(
      expect.objectContaining({ code: 'too-large', offset: 0 }),
    );
  });

  it('refuses to enter DER nested deeper than MAX_DER_DEPTH', () => {
    let r = new DerReader(deepDer(MAX_DER_DEPTH + 2));
    for (let i = 0; i < MAX_DER_DEPTH; i++) r = r.enter(`level${i}`);
    expect(() => r.enter('one-too-many')).toThrow(expect.objectContaining({ code: 'too-large' }));
  });

  it('refuses a PEM text with MAX_PEM_CERTIFICATES + 1 blocks', () => {
    const block = '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n';
    expect(pemToDer(block.repeat(MAX_PEM_CERTIFICATES)).length).toBe(MAX_PEM_CERTIFICATES);
    expect(() => pemToDer(block.repeat(MAX_PEM_CERTIFICATES + 1))).toThrow(
      expect.objectContaining({ code: 'too-large' }),
    );
  });

  it('examines at most MAX_CHAIN_CERTIFICATES certificates and says so', () => {
    const report = checkChain(Array.from({ length: MAX_CHAIN_CERTIFICATES + 1 }, () => Uint8Array.from([0x30, 0x00])));
    expect(report.findings.map((f) => f.code)).toContain('too-many-certificates');
    expect(report.findings.filter((f) => f.code === 'unparseable-certificate').length).toBe(MAX_CHAIN_CERTIFICATES);
  });

  it('refuses a pcap record over MAX_PACKET_BYTES and a pcapng block over MAX_BLOCK_BYTES from their headers', async () => {
    const pcap = pcapFile({ le: true, nano: false, linkType: 1, records: [] });
    const rec = new Uint8Array(16);
    new DataView(rec.buffer).setUint32(8, MAX_PACKET_BYTES + 1, true);
    new DataView(rec.buffer).setUint32(12, MAX_PACKET_BYTES + 1, true);
    await expect(readCapture(concat(pcap, rec), () => {})).rejects.toThrow(
      expect.objectContaining({ code: 'too-large' }),
    );
    const big = new Uint8Array(12);
    new DataView(big.buffer).setUint32(0, 6, true);
    new DataView(big.buffer).setUint32(4, MAX_BLOCK_BYTES + 4, true);
    await expect(readCapture(concat(shb(true), big), () => {})).rejects.toThrow(
      expect.objectContaining({ code: 'too-large' }),
    );
  });

  it('keeps at most MAX_WARNINGS warnings however many blocks are odd', async () => {
    // Interface Description Blocks whose options are malformed: one warning each.
    const badOptions = (le: boolean) =>
      block(1, le, (b) => b.u16(1, le).u16(0, le).u32(0, le).u16(2, le).u16(200, le).u32(0, le));
    const file = concat(shb(true), ...Array.from({ length: MAX_WARNINGS + 50 }, () => badOptions(true)));
    const meta = await readCapture(file, () => {});
    expect(meta.warnings.length).toBeGreaterThan(0);
    expect(meta.warnings.length).toBeLessThanOrEqual(MAX_WARNINGS);
  });

  it('holds at most MAX_FRAGMENT_DATAGRAMS datagrams in reassembly and drops the oldest', () => {
    const state = createDecodeState();
    const payload = tcp({ sport: 1, dport: 2, seq: 0, payload: new Uint8Array(16) });
    for (let id = 0; id < MAX_FRAGMENT_DATAGRAMS + 10; id++) {
      decodePacket(
        228,
        ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, id, moreFragments: true }, payload),
        { timestampUs: id, frame: id + 1 },
        state,
      );
    }
    expect(state.fragments.size).toBe(MAX_FRAGMENT_DATAGRAMS);
    expect(state.stats.fragmentsDropped).toBe(10);
  });

  it('tracks at most MAX_FLOWS flows and evicts the least recently active', () => {
    const events: StreamEvents = { onData() {}, onGap() {}, onEnd() {} };
    const re = createReassembler(events);
    const flags = { syn: true, fin: false, rst: false, ack: false, psh: false };
    for (let i = 0; i < MAX_FLOWS + 5; i++) {
      re.push({
        src: `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`,
        dst: '192.0.2.1',
        srcPort: 40000,
        dstPort: 443,
        seq: 1,
        ack: 0,
        flags,
        window: 0,
        payload: new Uint8Array(0),
        payloadLength: 0,
        timestampUs: i,
        frame: i + 1,
        ipVersion: 4,
      });
    }
    expect(re.stats.trackedFlows).toBeLessThanOrEqual(MAX_FLOWS);
    expect(re.stats.evictedFlows).toBeGreaterThanOrEqual(5);
  });

  it('declares a gap instead of buffering more than MAX_BUFFERED_SEGMENTS_PER_DIRECTION out-of-order segments', () => {
    const re = createReassembler({ onData() {}, onGap() {}, onEnd() {} });
    const base = {
      src: '10.0.0.1',
      dst: '10.0.0.2',
      srcPort: 40000,
      dstPort: 443,
      ack: 0,
      window: 0,
      ipVersion: 4 as const,
    };
    const none = { syn: false, fin: false, rst: false, ack: true, psh: false };
    re.push({
      ...base,
      seq: 0,
      flags: { ...none, syn: true },
      payload: new Uint8Array(0),
      payloadLength: 0,
      timestampUs: 0,
      frame: 1,
    });
    // Every other byte missing: each segment lands after a hole.
    for (let i = 0; i < MAX_BUFFERED_SEGMENTS_PER_DIRECTION + 10; i++) {
      re.push({
        ...base,
        seq: 1 + 2 * i + 1,
        flags: none,
        payload: Uint8Array.from([i & 0xff]),
        payloadLength: 1,
        timestampUs: i,
        frame: i + 2,
      });
    }
    expect(re.stats.forcedGaps).toBeGreaterThan(0);
    expect(re.stats.bufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED_SEGMENTS_PER_DIRECTION);
  });

  it('refuses a .reg file over MAX_REGISTRY_FILE_BYTES before decoding it', () => {
    expect(() => parseRegistryText(new Uint8Array(MAX_REGISTRY_FILE_BYTES + 1))).toThrow(RegistryParseError);
  });

  it('lets the lab gate refuse a ClientHello that claims more than MAX_GATE_HELLO, and a stream past MAX_GATE_BYTES', () => {
    const claim = Uint8Array.from([22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff]);
    expect(scanClientHello(claim)).toMatchObject({ kind: 'not-a-hello' });
    expect(scanClientHello(new Uint8Array(MAX_GATE_BYTES + 1).fill(22))).toMatchObject({ kind: 'not-a-hello' });
  });

  it('throws DecodeError, never a RangeError, for every cap on the TLS side', () => {
    // A typed error is what lets the prober classify the reply as malformed instead of crashing.
    for (const f of [
      () => createRecordDeframer().push(header(22, 0xffff)),
      () => createHandshakeAssembler().push(Uint8Array.from([11, 0xff, 0xff, 0xff]), 0),
      () => parseCertificate(new Uint8Array(MAX_CERTIFICATE_BYTES + 1)),
    ]) {
      expect(f).toThrow(DecodeError);
    }
  });
});
