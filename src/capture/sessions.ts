/**
 * Returns per-connection TLS facts from a capture: the analyzer that drives the layers of capture/
 * and reads the TLS record and handshake layer itself. The layers, bottom up:
 *
 *   source.ts            the file, gunzipped when it is gzip, as chunks
 *   pcap.ts              chunks → capture blocks (pcap-records.ts, pcapng-blocks.ts; vocabulary
 *                        and parser state in pcap-format.ts)
 *   packet.ts            blocks → link/IP/TCP headers: a fast lane for Ethernet/IPv4/TCP, the
 *                        general decoder otherwise (link-layer.ts, ip.ts, fragments.ts,
 *                        tcp-header.ts, decode-state.ts), both giving the same segment
 *   tcp.ts               per-flow, per-direction TCP reassembly → contiguous stream bytes, gaps
 *                        (flow-table.ts: flows and their table; closed-flows.ts: closed flows
 *                        kept for their late segments; tcp-stream.ts: one direction's delivery
 *                        and buffering; tcp-types.ts: the layer's public shape)
 *   detect.ts            where TLS starts in each direction (on any port, after STARTTLS/proxies)
 *   sessions.ts          records → handshake messages → what each message says (this file)
 *   session-keys.ts      key log lookup, transcript, decryption of protected records
 *   connection.ts        the per-connection state the layers above share, and its caps
 *   classify.ts          how the connection ended, its outcome, the `ConnectionFacts` reported
 *   facts.ts             the facts type report/ renders (assess.ts judges them: JA3/JA4, chains)
 *
 * Throws only what the capture reader throws for a broken container; packet and TLS content never
 * throw. Memory stays bounded: nothing is kept per flow that is not TLS once that is decided; a
 * connection's state is dropped as soon as it has been reported (`onConnection`); application data
 * is walked record header by record header without being buffered; handshake bytes, messages,
 * alerts and decryption attempts per connection are capped by named constants (connection.ts).
 */
import type { AnalyzeOptions, AnalyzeResult, ConnectionFacts, ServerHelloFact } from './facts.js';
import { endpointText } from './facts.js';
import { reassembleCapture } from './tcp.js';
import type { Flow } from './tcp.js';
import { Reader } from '../wire/reader.js';
import { DecodeError } from '../wire/errors.js';
import type { HandshakeAssembler } from '../tls/deframer.js';
import { readDraftServerHello, readHandshakeMessage } from '../tls/handshake.js';
import type { HandshakeContext, HandshakeMessage } from '../tls/handshake.js';
import { isHelloRetryRequest, negotiatedVersion } from '../tls/server-hello.js';
import { viewClientHello } from '../tls/client-hello.js';
import { MAX_CERTIFICATES } from '../tls/certificate.js';
import { MAX_RECORD_FRAGMENT, RECORD_HEADER_LENGTH, isKnownContentType } from '../tls/record.js';
import { ContentType, HandshakeType } from '../tls/registry.js';
import { createReportOrder } from './report-order.js';
import type { OrderTicket } from './report-order.js';
import { finish } from './classify.js';
import {
  MAX_HANDSHAKE_BYTES_PER_DIRECTION,
  MAX_FAILED_DECRYPTS_PER_DIRECTION,
  MAX_EVIDENCE_BYTES,
  handshakeName,
  other,
  newConn,
  problem,
  logMessage,
  tls13,
  offersTls13,
  HeldClientHello,
} from './connection.js';
import type { RecordInProgress, Side, Conn } from './connection.js';
import { ownPending, isIgnorable, isTls, detect } from './detect.js';
import {
  keySource,
  lookUpKeys,
  pushTranscript,
  startTranscriptHashes,
  startTls13,
  onProtectedTls13,
  startTls12,
  onProtectedTls12,
  checkFinished,
  onAlertRecord,
  advanceTls12,
} from './session-keys.js';
import { transientBytes, releaseTransient, factCopy, copyAll } from './slabs.js';
import type { ConnectionLayers } from './connection.js';

export type * from './facts.js';
export { endpointText } from './facts.js';
export { MAX_TLS_SEARCH_BYTES } from './detect.js';
export {
  MAX_ALERTS_PER_CONNECTION,
  MAX_EVIDENCE_BYTES,
  MAX_FAILED_DECRYPTS_PER_DIRECTION,
  MAX_HANDSHAKE_BYTES_PER_DIRECTION,
  MAX_MESSAGES_PER_CONNECTION,
  MAX_PROBLEMS_PER_CONNECTION,
  MAX_TRANSCRIPT_BYTES,
} from './connection.js';

/**
 * What the analysis keeps on a flow (`Flow.attached`): nothing, or its place in the report order,
 * until the flow carries its first byte (or loses one to a gap); then its connection state; and
 * `NOT_TLS` once it is known not to be TLS. A flow that never carries a byte (a SYN scan or flood,
 * an unanswered SYN) so costs no connection state: with one made at every flow start, 500,000 SYNs
 * from distinct clients took 11.4 s and peaked at 1.6 GB, the 100,000 flows the table holds each
 * keeping a connection and its two sides.
 */
const NOT_TLS: unique symbol = Symbol('not TLS');

const isConn = (a: unknown): a is Conn => typeof a === 'object' && a !== null && 'sides' in a;

/** The flow's connection state, when it has one. */
const connOf = (flow: Flow): Conn | undefined => (isConn(flow.attached) ? flow.attached : undefined);

/** What the lower layers hand bytes back to (see `ConnectionLayers`). */
const LAYERS: ConnectionLayers = {
  walk: (c, s, bytes) => walk(c, s, bytes),
  feedHandshake: (c, s, assembler, body, decrypted) => feedHandshake(c, s, assembler, body, decrypted),
};

/**
 * Returns the capture's metadata, its TLS connections (unless `opts.onConnection` takes them as
 * they complete) and counters. `source` is a whole capture file or its chunks (see
 * `openCaptureFile`); every layer copies what it keeps of a chunk, so the source may reuse a chunk's
 * buffer once the next chunk is asked for (`reuseChunks`; test/capture/chunk-reuse.test.ts).
 * Throws `DecodeError` when the container (pcap/pcapng) itself is broken.
 */
export async function analyzeCapture(
  source: AsyncIterable<Uint8Array> | Uint8Array,
  opts: AnalyzeOptions = {},
): Promise<AnalyzeResult> {
  const keys = keySource(opts.keyLog);
  const collected: ConnectionFacts[] = [];
  let reported = 0;
  let decrypted = 0;

  const deliver = (c: ConnectionFacts): void => {
    if (opts.onConnection) opts.onConnection(c);
    else collected.push(c);
  };
  const order = opts.order === 'index' && opts.onConnection ? createReportOrder<ConnectionFacts>(deliver) : null;
  /** The flow's connection state, made at its first byte or gap; undefined once it is not TLS. */
  const connFor = (flow: Flow): Conn | undefined => {
    const a = flow.attached;
    if (isConn(a)) return a;
    if (a === NOT_TLS) return undefined;
    const c = newConn(flow, keys, LAYERS);
    if (a !== undefined) c.ticket = a as OrderTicket;
    flow.attached = c;
    return c;
  };
  /** Lets go of the flow's state, and hands on its place in the order (with its facts, if reported). */
  const forget = (flow: Flow, facts: ConnectionFacts | null): void => {
    const a = flow.attached;
    flow.attached = NOT_TLS;
    const ticket = isConn(a) ? a.ticket : a === NOT_TLS || a === undefined ? null : (a as OrderTicket);
    if (ticket) order?.end(ticket, facts);
  };
  const report = (c: ConnectionFacts): void => {
    reported++;
    if (c.decryption && (c.decryption.status === 'decrypted' || c.decryption.status === 'partial')) decrypted++;
    if (order === null) deliver(c);
  };

  const summary = await reassembleCapture(
    source,
    {
      onFlowStart(flow) {
        if (order !== null) flow.attached = order.start(flow.id);
      },
      onData(flow, tcpDir, bytes, offset, frame, timestampUs) {
        const c = connFor(flow);
        if (!c) return;
        const side = c.sides[c.swap ? other(tcpDir) : tcpDir];
        side.frame = frame;
        side.timestampUs = timestampUs;
        side.bytes += bytes.length;
        if (side.mode === 'detect') {
          if (side.pendingLength === 0) side.pendingOffset = offset;
          // Held as a view while `detect` looks at it (it usually finds the hello at once and walks
          // the bytes), and copied only if it is still held afterwards.
          side.pending.push(bytes);
          side.pendingLength += bytes.length;
          detect(c);
          ownPending(c.sides.client, bytes);
          ownPending(c.sides.server, bytes);
          if (isIgnorable(c)) forget(flow, null);
        } else if (side.mode === 'records') {
          walk(c, side, bytes);
        }
      },
      onGap(flow, tcpDir, offset, length) {
        const c = connFor(flow);
        if (!c) return;
        const side = c.sides[c.swap ? other(tcpDir) : tcpDir];
        if (side.mode === 'records' || side.mode === 'detect') {
          if (side.mode === 'records' || side.pendingLength > 0) {
            problem(
              c,
              side.dir,
              'capture-gap',
              `${length} bytes missing from the capture at stream offset ${offset}: the rest of this direction cannot be parsed`,
            );
          }
          side.mode = side.mode === 'records' ? 'done' : 'ignore';
          side.pending = [];
          side.pendingLength = 0;
          if (isIgnorable(c)) forget(flow, null);
        }
      },
      onEnd() {},
      onFlowClose(flow) {
        const c = connOf(flow);
        const facts = c && isTls(c) ? finish(c, keys.given) : null;
        if (facts) report(facts);
        forget(flow, facts);
      },
    },
    {
      ...(opts.limits ? { limits: opts.limits } : {}),
      onMeta: (meta) => keys.refresh(meta),
    },
  );
  keys.refresh(summary.meta);
  order?.finish();
  collected.sort((a, b) => a.index - b.index);
  return {
    meta: summary.meta,
    ...(opts.onConnection ? {} : { connections: collected }),
    stats: {
      packets: summary.meta.packets,
      flows: summary.tcp.flows,
      connections: reported,
      decryptedConnections: decrypted,
      decode: summary.decode,
      tcp: summary.tcp,
      keyLogErrors: keys.errors(),
      peakHeldConnections: order?.peakHeld ?? 0,
    },
  };
}

export interface CapturedClientHello {
  /** The connection's index (Wireshark's tcp.stream). */
  readonly index: number;
  /** `ip:port` (`[ip]:port` for IPv6). */
  readonly client: string;
  readonly server: string;
  /** The exact bytes of the record(s) carrying the ClientHello, headers included. */
  readonly helloRecord: Uint8Array;
  /** The ClientHello handshake message (header included), or the SSLv2 record for SSLv2 hellos. */
  readonly helloMessage: Uint8Array;
}

/** Returns the first ClientHello of every TLS connection in the capture, in connection order. */
export async function listClientHellos(source: AsyncIterable<Uint8Array> | Uint8Array): Promise<CapturedClientHello[]> {
  const out: CapturedClientHello[] = [];
  await analyzeCapture(source, {
    onConnection(c) {
      if (!c.clientHello) return;
      out.push({
        index: c.index,
        client: endpointText(c.client),
        server: endpointText(c.server),
        helloRecord: c.clientHello.records,
        helloMessage: c.clientHello.message,
      });
    },
  });
  return out.sort((a, b) => a.index - b.index);
}

/** Whether a record's body is worth copying: what we parse or decrypt; application data is skipped. */
export function wantBody(c: Conn, s: Side, type: number, length: number): boolean {
  switch (type) {
    case ContentType.change_cipher_spec:
    case ContentType.alert:
      return true;
    case ContentType.handshake:
      if (s.encrypted) return s.tls12 !== null && !s.tls12Failed;
      return !s.handshakeStopped && s.handshakeBytes + length <= MAX_HANDSHAKE_BYTES_PER_DIRECTION;
    case ContentType.application_data:
      if (tls13(c))
        return (
          !s.handshakeDone &&
          (s.tls13 !== null || s.early !== null) &&
          s.failedDecrypts < MAX_FAILED_DECRYPTS_PER_DIRECTION
        );
      // TLS 1.0 CBC chains each record's IV from the previous record's last block.
      return s.tls12 !== null && !s.tls12Failed && s.tls12.cipher.kind === 'cbc' && s.tls12.version === 0x0301;
    default:
      return false;
  }
}

/** Walks records in `bytes`, keeping the bodies we need; stops the side on a header that is not TLS. */
export function walk(c: Conn, s: Side, bytes: Uint8Array): void {
  let p = 0;
  while (p < bytes.length && s.mode === 'records') {
    if (c.sslv2ServerHello) {
      // SSL 2.0 was negotiated: the rest of the conversation is SSLv2 records, not TLS.
      s.mode = 'done';
      return;
    }
    if (!s.inRecord) {
      const n = Math.min(RECORD_HEADER_LENGTH - s.headerLength, bytes.length - p);
      for (let i = 0; i < n; i++) s.header[s.headerLength + i] = bytes[p + i]!;
      s.headerLength += n;
      p += n;
      if (s.headerLength < RECORD_HEADER_LENGTH) break;
      const h = s.header;
      const type = h[0]!;
      const length = (h[3]! << 8) | h[4]!;
      if (!isKnownContentType(type) || h[1] !== 3 || length > MAX_RECORD_FRAGMENT) {
        problem(
          c,
          s.dir,
          'bad-record',
          `bytes ${Buffer.from(h).toString('hex')} are not a TLS record header (type ${type}, length ${length})`,
        );
        if (s.dir === 'client' && c.clientHello === null) c.clientBroken = true;
        if (s.dir === 'server' && c.serverHello === null && c.serverEvidence === null) c.serverEvidence = h.slice();
        s.mode = 'done';
        return;
      }
      const keep = wantBody(c, s, type, length);
      const version = (h[1]! << 8) | h[2]!;
      const next = s.record;
      if (next === null)
        s.record = { header: h, type, version, remaining: length, keep, body: null, slab: null, filled: 0 };
      else {
        next.header = h;
        next.type = type;
        next.version = version;
        next.remaining = length;
        next.keep = keep;
        next.body = null;
        next.slab = null;
        next.filled = 0;
      }
      s.inRecord = true;
    }
    const r = s.record!;
    const n = Math.min(r.remaining, bytes.length - p);
    // A body wholly inside these bytes is handed on as a view (handlers copy what they keep); only
    // a body split across deliveries is copied, into one buffer of the record's size. Copying every
    // body was ~8% of what a capture analysis allocated (V8 heap sampling).
    const inPlace = r.filled === 0 && n === r.remaining;
    if (r.keep && n > 0 && !inPlace) {
      if (r.body === null) {
        const t = transientBytes(r.filled + r.remaining);
        r.body = t.body;
        r.slab = t.slab;
      }
      r.body.set(bytes.subarray(p, p + n), r.filled);
      r.filled += n;
    }
    r.remaining -= n;
    p += n;
    if (r.remaining === 0) {
      s.inRecord = false;
      s.headerLength = 0;
      const body = !r.keep ? null : inPlace ? bytes.subarray(p - n, p) : r.body!;
      const from = r.slab;
      r.body = null;
      r.slab = null;
      onRecord(c, s, r, body);
      if (from !== null) releaseTransient(from);
    }
  }
}

export function onRecord(c: Conn, s: Side, r: RecordInProgress, body: Uint8Array | null): void {
  if (s.encrypted) s.recordsAfterCcs++;
  switch (r.type) {
    case ContentType.change_cipher_spec:
      logMessage(c, s, 'change_cipher_spec', false);
      // RFC 8446, Appendix D.4: in TLS 1.3 a ChangeCipherSpec is only for middlebox compatibility,
      // and a TLS 1.3 client may send it before any ServerHello (right after its first hello).
      if (!s.encrypted && (c.serverHello !== null ? !tls13(c) : !offersTls13(c))) {
        s.encrypted = true;
        s.recordsAfterCcs = 0;
        startTls12(c, s);
      } else if (s.encrypted) {
        // A renegotiation switches to keys from a new master secret we do not follow.
        s.tls12 = null;
      }
      return;
    case ContentType.alert:
      onAlertRecord(c, s, r, body);
      return;
    case ContentType.handshake:
      if (s.encrypted) {
        onProtectedTls12(c, s, r, body);
        return;
      }
      if (body === null) {
        if (!s.handshakeStopped) {
          s.handshakeStopped = true;
          problem(
            c,
            s.dir,
            'handshake-too-large',
            `more than ${MAX_HANDSHAKE_BYTES_PER_DIRECTION} handshake bytes: the rest is not parsed`,
          );
        }
        return;
      }
      if (s.handshakeStopped) return;
      s.handshakeBytes += body.length;
      if (s.helloRecords) s.helloRecords.push(factCopy(r.header, body));
      feedHandshake(c, s, s.assembler, body, false);
      return;
    case ContentType.application_data:
      if (tls13(c) && c.serverHello) s.protectedAfterServerHello++;
      if (c.serverHello === null && s.dir === 'client') s.earlyRecords++;
      if (tls13(c) && body !== null) {
        onProtectedTls13(c, s, r, body);
        return;
      }
      advanceTls12(s, body);
      if (!s.loggedApplicationData) {
        s.loggedApplicationData = true;
        logMessage(c, s, 'application_data', false);
      }
      return;
    case ContentType.heartbeat:
      advanceTls12(s, body);
      logMessage(c, s, 'heartbeat', false);
      return;
  }
}

export function feedHandshake(
  c: Conn,
  s: Side,
  assembler: HandshakeAssembler,
  body: Uint8Array,
  decrypted: boolean,
): void {
  let frags;
  try {
    frags = assembler.push(body, 0);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    problem(c, s.dir, 'handshake-decode-error', e.message);
    s.handshakeStopped = true;
    return;
  }
  for (const f of frags) {
    // The hellos are kept, and their parsed fields alias the bytes they are read from, which may be
    // a view of the capture (see `walk`): read them from a copy of their own.
    const raw =
      f.msgType === HandshakeType.client_hello || f.msgType === HandshakeType.server_hello ? factCopy(f.raw) : f.raw;
    c.context ??= handshakeContext(c);
    const ctx: HandshakeContext = c.context;
    let m: HandshakeMessage | typeof HELD | null = null;
    try {
      if (f.msgType === HandshakeType.client_hello && s.dir === 'client') {
        // The client's hellos are held as bytes, read when the facts are made (`HeldClientHello`).
        viewClientHello(raw);
        m = HELD;
      } else m = readHandshakeMessage(new Reader(raw, '', 0), ctx);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      m = f.msgType === HandshakeType.server_hello ? readDraftServerHello(raw) : null;
      if (m === null) {
        problem(c, s.dir, 'handshake-decode-error', `${handshakeName(f.msgType)}: ${e.message}`);
        if (s.dir === 'client' && f.msgType === HandshakeType.client_hello && c.clientHello === null)
          c.clientBroken = true;
        if (
          s.dir === 'server' &&
          f.msgType === HandshakeType.server_hello &&
          c.serverHello === null &&
          c.serverEvidence === null
        )
          c.serverEvidence = raw.slice(0, MAX_EVIDENCE_BYTES);
      }
    }
    onMessage(c, s, f.msgType, raw, m, decrypted);
  }
}

/** What the handshake parser needs to know, made without conditional spreads (each made objects to copy). */
function handshakeContext(c: Conn): HandshakeContext {
  if (c.version === null) return c.cipherSuite === null ? NO_CONTEXT : { cipherSuite: c.cipherSuite };
  return c.cipherSuite === null ? { version: c.version } : { version: c.version, cipherSuite: c.cipherSuite };
}

/** Before a ServerHello: nothing is known. */
const NO_CONTEXT: HandshakeContext = Object.freeze({});

/** `onMessage`'s message for a client's ClientHello whose framing was checked: its fields are read later. */
const HELD = 'held';

export function onMessage(
  c: Conn,
  s: Side,
  msgType: number,
  raw: Uint8Array,
  parsed: HandshakeMessage | typeof HELD | null,
  decrypted: boolean,
): void {
  const m = parsed === HELD ? null : parsed;
  const hrr = m?.kind === 'server_hello' && isHelloRetryRequest(m.body);
  logMessage(c, s, hrr ? 'hello_retry_request' : handshakeName(msgType), decrypted);
  if (decrypted) c.decryptedMessages.push(handshakeName(msgType));

  if (msgType === HandshakeType.finished) {
    if (m?.kind === 'finished' && decrypted) {
      s.finished = { verifyData: m.verifyData.slice(), verified: checkFinished(c, s, m.verifyData) };
      if (tls13(c)) s.handshakeDone = true;
    }
  }
  // RFC 5246, Section 7.4.9: HelloRequest is not part of the transcript.
  if (msgType !== HandshakeType.hello_request)
    pushTranscript(c, raw, msgType === HandshakeType.client_hello || msgType === HandshakeType.server_hello);

  if (parsed === HELD) {
    const held = s.helloRecords;
    // Each held record is a copy of its own already; a hello in one record needs no second copy.
    const records = held ? (held.length === 1 ? held[0]! : factCopy(...held)) : factCopy(raw);
    s.helloRecords = null;
    // `raw` is already a copy of its own (feedHandshake).
    const fact = new HeldClientHello(raw, records, s.frame, s.timestampUs);
    if (c.clientHello === null) {
      c.clientHello = fact;
      lookUpKeys(c, raw);
    } else if (c.retryClientHello === null && c.serverHello === null) {
      // RFC 8446, Section 4.1.2: a second ClientHello before any ServerHello answers a
      // HelloRetryRequest (even when the capture missed the server's side).
      c.retryClientHello = fact;
    }
    return;
  }
  if (!m) return;
  switch (m.kind) {
    case 'client_hello':
      // A ClientHello the server sent (the client's are held, above): not a fact of this connection.
      return;
    case 'server_hello': {
      if (s.dir !== 'server') return;
      const fact: ServerHelloFact = {
        hello: m.body,
        message: raw,
        frame: s.frame,
        timestampUs: s.timestampUs,
      };
      if (hrr) {
        if (c.helloRetryRequest === null && c.serverHello === null) {
          c.helloRetryRequest = fact;
          // Collect the records of the second ClientHello too.
          c.sides.client.helloRecords = [];
        }
        return;
      }
      if (c.serverHello !== null) return;
      c.serverHello = fact;
      c.version = negotiatedVersion(m.body);
      c.cipherSuite = m.body.cipherSuite;
      c.context = null;
      startTranscriptHashes(c);
      if (tls13(c)) startTls13(c);
      else if (c.sides.client.encrypted && c.sides.client.recordsAfterCcs === 0) {
        // A ChangeCipherSpec before the ServerHello belongs to no TLS 1.2 handshake: ignore it.
        c.sides.client.encrypted = false;
      }
      return;
    }
    case 'certificate':
      if (s.dir === 'server' && c.certificates.length === 0) {
        c.certificates = copyAll(m.body.entries.slice(0, MAX_CERTIFICATES).map((e) => e.der));
        c.certificatesDecrypted = decrypted;
      } else if (s.dir === 'client' && c.clientCertificates.length === 0) {
        c.clientCertificates = copyAll(m.body.entries.slice(0, MAX_CERTIFICATES).map((e) => e.der));
      }
      return;
    default:
      return;
  }
}
