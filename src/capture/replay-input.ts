/**
 * The ClientHello to replay, read from what the user gives: `findCapturedHello` returns the hello of
 * one connection of a capture with the server's captured answer (or why there is none),
 * `capturedHelloFromBytes` a hello from a record or handshake-message dump (throwing DecodeError
 * for bad bytes), and `detectReplayInput` tells the two kinds of input apart.
 *
 * Connections are numbered like Wireshark's `tcp.stream` (0-based, in order of first appearance),
 * so `--connection 3` is the flow `tcp.stream == 3` shows.
 */
import { DecodeError } from '../wire/errors.js';
import { createHandshakeAssembler, createRecordDeframer } from '../tls/deframer.js';
import { type ClientHello, parseClientHello } from '../tls/client-hello.js';
import { ContentType, HandshakeType, ProtocolVersion } from '../tls/registry.js';
import { RECORD_HEADER_LENGTH } from '../tls/record.js';
import { looksLikeSslV2ClientHello } from '../tls/sslv2.js';
import { isGzip, openCaptureFile } from './source.js';
import { BlockType, PcapMagic } from './pcap-format.js';
import type { Endpoint } from './tcp.js';
import { analyzeCapture, type ConnectionFacts } from './sessions.js';
import { answerFromFacts, type ServerAnswer } from './replay-answer.js';

/** Where a hello came from. */
export type HelloInputFormat = 'pcap' | 'pcapng' | 'records' | 'handshake';

/** A ClientHello to replay, as captured. */
export interface CapturedHello {
  readonly format: HelloInputFormat;
  /** The connection (Wireshark `tcp.stream`) it came from; null for a hello file. */
  readonly connection: number | null;
  readonly client: Endpoint | null;
  readonly server: Endpoint | null;
  /** The record bytes that carried the hello, exactly as captured; null for a bare handshake message. */
  readonly records: Uint8Array | null;
  /** `legacy_record_version` of the first record (TLS 1.0 when there was no record). */
  readonly recordVersion: number;
  /** The ClientHello handshake message (header included). */
  readonly message: Uint8Array;
  readonly hello: ClientHello;
  /** Bytes the client sent after the hello records (early data, a second flight), not replayed. */
  readonly bytesAfterHello: number;
  /** What the server answered in the capture; null for a hello file. */
  readonly answer: ServerAnswer | null;
}

/** Why a capture gave no hello to replay. */
export type HelloLookupFailure = {
  readonly ok: false;
  readonly code: 'no-such-connection' | 'no-client-hello' | 'sslv2-hello' | 'incomplete-hello';
  readonly message: string;
};

export type HelloLookup = { readonly ok: true; readonly hello: CapturedHello } | HelloLookupFailure;

/** Returns 'capture' for pcap, pcapng or gzip magic at the start of `head`, else 'hello'. */
export function detectReplayInput(head: Uint8Array): 'capture' | 'hello' {
  if (isGzip(head)) return 'capture';
  if (head.length < 4) return 'hello';
  const be = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  const le = ((head[3]! << 24) | (head[2]! << 16) | (head[1]! << 8) | head[0]!) >>> 0;
  const magics: readonly number[] = [...Object.values(PcapMagic), BlockType.sectionHeader];
  return magics.includes(be) || magics.includes(le) ? 'capture' : 'hello';
}

type StreamHello =
  | {
      readonly kind: 'hello';
      readonly records: Uint8Array;
      readonly recordVersion: number;
      readonly message: Uint8Array;
      readonly hello: ClientHello;
      readonly after: number;
    }
  | { readonly kind: 'need-more' }
  | { readonly kind: 'sslv2' }
  | { readonly kind: 'not-a-hello'; readonly reason: string };

/**
 * Returns the ClientHello at the start of a client byte stream: the records that carry it (RFC 8446,
 * Section 5.1: a handshake message may span records of type handshake), or why there is none yet.
 * Throws DecodeError only when a whole ClientHello message is broken.
 */
function helloFromStream(bytes: Uint8Array): StreamHello {
  if (bytes.length === 0) return { kind: 'need-more' };
  if ((bytes[0]! & 0x80) !== 0) {
    if (bytes.length < 3) return { kind: 'need-more' };
    if (looksLikeSslV2ClientHello(bytes)) return { kind: 'sslv2' };
  }
  if (bytes[0] !== ContentType.handshake)
    return {
      kind: 'not-a-hello',
      reason: `first byte 0x${bytes[0]!.toString(16).padStart(2, '0')} is not a handshake record`,
    };
  const deframer = createRecordDeframer();
  const assembler = createHandshakeAssembler();
  let records;
  try {
    records = deframer.push(bytes);
  } catch (e) {
    if (e instanceof DecodeError) return { kind: 'not-a-hello', reason: e.message };
    throw e;
  }
  for (const rec of records) {
    if (rec.type !== ContentType.handshake)
      return { kind: 'not-a-hello', reason: `record of type ${rec.type} before the ClientHello was complete` };
    const done = assembler.push(rec.fragment, rec.offset + RECORD_HEADER_LENGTH);
    const first = done[0];
    if (first === undefined) continue;
    if (first.raw[0] !== HandshakeType.client_hello)
      return { kind: 'not-a-hello', reason: `first handshake message has type ${first.raw[0]}` };
    const end = rec.offset + RECORD_HEADER_LENGTH + rec.fragment.length;
    const message = first.raw.slice();
    return {
      kind: 'hello',
      records: bytes.slice(0, end),
      recordVersion: (bytes[1]! << 8) | bytes[2]!,
      message,
      hello: parseClientHello(message),
      after: bytes.length - end,
    };
  }
  return { kind: 'need-more' };
}

/**
 * Returns the hello in `bytes`: TLS records (the ClientHello must come first) or one bare handshake
 * message. Throws DecodeError when the bytes hold no whole, well-formed ClientHello, or hold an
 * SSL 2.0-format hello (which cannot be replayed as TLS records).
 */
export function capturedHelloFromBytes(bytes: Uint8Array): CapturedHello {
  if (bytes.length === 0) throw new DecodeError('truncated', 'empty input', 0, '');
  if (bytes[0] === HandshakeType.client_hello) {
    const message = bytes;
    return {
      format: 'handshake',
      connection: null,
      client: null,
      server: null,
      records: null,
      recordVersion: ProtocolVersion.TLS1_0,
      message,
      hello: parseClientHello(message),
      bytesAfterHello: 0,
      answer: null,
    };
  }
  const s = helloFromStream(bytes);
  switch (s.kind) {
    case 'hello':
      return {
        format: 'records',
        connection: null,
        client: null,
        server: null,
        records: s.records,
        recordVersion: s.recordVersion,
        message: s.message,
        hello: s.hello,
        bytesAfterHello: s.after,
        answer: null,
      };
    case 'need-more':
      throw new DecodeError('truncated', 'the input ends before the ClientHello does', bytes.length, 'ClientHello');
    case 'sslv2':
      throw new DecodeError(
        'unexpected-message',
        'an SSL 2.0-format ClientHello cannot be replayed as TLS records',
        0,
        '',
      );
    case 'not-a-hello':
      throw new DecodeError('unexpected-message', `not a ClientHello: ${s.reason}`, 0, '');
  }
}

/** Thrown from `onConnection` to stop reading once the wanted connection is in; never escapes. */
const STOP = Symbol('stop reading the capture');

export interface FindHelloOptions {
  /** The connection (Wireshark `tcp.stream`); default the first connection that carries a ClientHello. */
  readonly connection?: number;
  /** NSS key log text to decrypt a captured TLS 1.3 answer, besides the capture's own secrets. */
  readonly keyLog?: string;
}

/**
 * Returns the ClientHello of one connection in a capture (a file path, read as a stream and
 * gunzipped when needed, or the bytes of a capture) with the server's captured answer, or why there
 * is none. The connection analysis is `analyzeCapture`'s (src/capture/sessions.ts). Throws what the
 * capture reader throws for a broken container.
 */
export async function findCapturedHello(
  source: string | Uint8Array,
  opts: FindHelloOptions = {},
): Promise<HelloLookup> {
  const wanted = opts.connection;
  let best: ConnectionFacts | null = null;
  let sslv2: number | null = null;
  let format: 'pcap' | 'pcapng' = 'pcap';
  try {
    const result = await analyzeCapture(
      typeof source === 'string' ? openCaptureFile(source, { reuseChunks: true }) : source,
      {
        ...(opts.keyLog !== undefined ? { keyLog: opts.keyLog } : {}),
        onConnection(c) {
          if (wanted !== undefined) {
            if (c.index !== wanted) return;
            best = c;
            throw STOP;
          }
          if (c.clientHello?.format === 'sslv2') sslv2 = sslv2 === null ? c.index : Math.min(sslv2, c.index);
          // Connections are reported as they end, not in index order: keep the lowest index seen.
          if (c.clientHello?.format === 'tls' && (best === null || c.index < best.index)) best = c;
        },
      },
    );
    format = result.meta.format;
  } catch (e) {
    if (e !== STOP) throw e;
    format = await captureFormat(source);
  }
  const c = best as ConnectionFacts | null;
  if (c === null) {
    if (wanted !== undefined)
      return {
        ok: false,
        code: 'no-such-connection',
        message: `connection ${wanted} is not a TLS connection of this capture (connections are numbered from 0, as tcp.stream in Wireshark)`,
      };
    if (sslv2 !== null)
      return {
        ok: false,
        code: 'sslv2-hello',
        message: `connection ${sslv2} starts with an SSL 2.0-format ClientHello, which cannot be replayed as TLS records`,
      };
    return {
      ok: false,
      code: 'no-client-hello',
      message: 'no connection in the capture starts with a TLS ClientHello',
    };
  }
  const ch = c.clientHello;
  if (ch === null) {
    const gap = c.problems.some((p) => p.from === 'client' && p.code === 'capture-gap');
    return gap
      ? {
          ok: false,
          code: 'incomplete-hello',
          message: `connection ${c.index}: the capture misses part of the ClientHello (a gap in the TCP stream)`,
        }
      : {
          ok: false,
          code: 'no-client-hello',
          message: `connection ${c.index} has no whole ClientHello in the capture`,
        };
  }
  if (ch.format === 'sslv2')
    return {
      ok: false,
      code: 'sslv2-hello',
      message: `connection ${c.index} starts with an SSL 2.0-format ClientHello, which cannot be replayed as TLS records`,
    };
  const records = ch.records;
  return {
    ok: true,
    hello: {
      format,
      connection: c.index,
      client: c.client,
      server: c.server,
      records,
      recordVersion: (records[1]! << 8) | records[2]!,
      message: ch.message,
      hello: ch.hello,
      bytesAfterHello: Math.max(0, c.bytes.client - (c.tlsOffset.client ?? 0) - records.length),
      answer: answerFromFacts(c),
    },
  };
}

/** Returns 'pcapng' or 'pcap' from the first bytes of the (decompressed) capture. */
async function captureFormat(source: string | Uint8Array): Promise<'pcap' | 'pcapng'> {
  let head: Uint8Array = new Uint8Array(0);
  if (typeof source !== 'string') head = source;
  else {
    for await (const chunk of openCaptureFile(source)) {
      head = chunk;
      break;
    }
  }
  const be = head.length >= 4 ? ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0 : 0;
  return be === BlockType.sectionHeader ? 'pcapng' : 'pcap';
}
