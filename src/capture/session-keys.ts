/**
 * Key material and decryption for captured connections: the key logs (--keylog and the capture's
 * own Decryption Secrets Blocks), the handshake transcript for the Finished checks, and the opening
 * of protected TLS 1.0-1.3 records, whose decrypted handshake bytes go back up to the handshake
 * layer (`ConnectionLayers.feedHandshake`) and whose alerts are recorded on the connection.
 */
import type { ClientHelloFact } from './facts.js';
import { createHash } from 'node:crypto';
import { constants as zlibConstants, inflateSync } from 'node:zlib';
import { DecodeError } from '../wire/errors.js';
import { concatBytes } from '../wire/hex.js';
import { createHandshakeAssembler } from '../tls/deframer.js';
import type { HandshakeAssembler } from '../tls/deframer.js';
import { ContentType, ExtensionType } from '../tls/registry.js';
import { createKeyLog, parseKeyLog, KeyLogLabel } from '../tls/keylog.js';
import type { KeyLog } from '../tls/keylog.js';
import { decryptRecord } from '../tls/protection.js';
import { digestBytes, finishedVerifyData, hashForSuite, messageHash } from '../tls/key-schedule.js';
import { findExtensionByType } from '../tls/extensions.js';
import {
  decryptTls12Record,
  tls12FinishedVerifyData,
  tls12HandshakeHashes,
  tls12Protection,
  tls13Protection,
} from './decrypt.js';
import type { Tls13Protection } from './decrypt.js';
import { MAX_TRANSCRIPT_BYTES, problem, logMessage, tls13, addAlert } from './connection.js';
import type { RecordInProgress, Side, Conn, KeySource, Transcript } from './connection.js';

export function keySource(text: string | undefined): KeySource {
  const fromOption: KeyLog | null = text === undefined ? null : parseKeyLog(text);
  // Decryption Secrets Blocks (draft-ietf-opsawg-pcapng, Section 4.7), and key log lines some tools
  // leave in the section comment, read as they arrive: only the blocks and comments not read yet
  // (a capture written as keys were found, e.g. by an eBPF key logger, has a block per connection;
  // reading every block again at each new one made 4,000 blocks take 35 s).
  const embedded = createKeyLog();
  let blocksRead = 0;
  let commentsRead = 0;
  const src: { given: boolean } & KeySource = {
    given: fromOption !== null,
    lookup(cr, label) {
      return fromOption?.lookup(cr, label) ?? embedded.lookup(cr, label);
    },
    refresh(meta) {
      if (meta.keyLogBlocks.length === blocksRead && meta.comments.length === commentsRead) return;
      for (; blocksRead < meta.keyLogBlocks.length; blocksRead++) embedded.append(meta.keyLogBlocks[blocksRead]!);
      for (; commentsRead < meta.comments.length; commentsRead++) {
        // Lines that are not key log lines are skipped.
        const keyLines = meta.comments[commentsRead]!.split(/\r?\n/).filter((l) =>
          /^[A-Z_0-9]+ [0-9a-fA-F]{64} [0-9a-fA-F]+\s*$/.test(l.trim()),
        );
        if (keyLines.length > 0) embedded.append(`${keyLines.join('\n')}\n`);
      }
      src.given = fromOption !== null || embedded.size > 0;
    },
    errors() {
      return (fromOption?.errors.length ?? 0) + embedded.errors.length;
    },
  };
  return src;
}

/** Counts a protected TLS 1.0-1.2 record we do not open, so the next one gets the right sequence number. */
export function advanceTls12(s: Side, body: Uint8Array | null): void {
  const p = s.tls12;
  if (!p || s.tls12Failed || !s.encrypted) return;
  p.seq += 1n;
  if (p.cipher.kind === 'cbc' && p.version === 0x0301) {
    if (body && body.length >= p.cipher.blockSize) p.iv = body.slice(body.length - p.cipher.blockSize);
    else s.tls12Failed = true;
  }
}

/** Adds a handshake message; `owned` when `raw` is a copy of its own (the hellos, see `feedHandshake`). */
export function pushTranscript(c: Conn, raw: Uint8Array, owned: boolean): void {
  const t = c.transcript;
  if (!t) return;
  t.bytes += raw.length;
  if (t.bytes > MAX_TRANSCRIPT_BYTES) c.transcript = null;
  else if (t.hashes) for (const h of t.hashes) h.update(raw);
  else t.held!.push(owned ? raw : raw.slice());
}

/**
 * Switches the transcript to running hashes once the ServerHello fixed version and suite: the
 * suite's hash for TLS 1.3 (RFC 8446, Section 4.4.1; after a HelloRetryRequest, ClientHello1 is
 * replaced by message_hash), the PRF's hash for TLS 1.2, MD5 and SHA-1 for TLS 1.0/1.1 (RFC 5246
 * and RFC 2246, Section 7.4.9). Without a TLS 1.3 hash for the suite nothing can be checked, and the
 * transcript is dropped.
 */
export function startTranscriptHashes(c: Conn): void {
  const t = c.transcript;
  if (!t || t.hashes || c.version === null || c.cipherSuite === null) return;
  const held = t.held!;
  t.held = null;
  if (tls13(c)) {
    const hash = hashForSuite(c.cipherSuite);
    if (hash === null) {
      c.transcript = null;
      return;
    }
    const h = createHash(hash);
    held.forEach((m, i) => {
      h.update(i === 0 && c.helloRetryRequest ? messageHash(hash, m) : m);
    });
    t.hashes = [h];
    return;
  }
  t.hashes = tls12HandshakeHashes(c.version, c.cipherSuite).map((name) => {
    const h = createHash(name);
    for (const m of held) h.update(m);
    return h;
  });
}

/** Returns the transcript hash so far (the digests concatenated for TLS 1.0/1.1), leaving the running hashes going. */
export function transcriptDigest(t: Transcript): Uint8Array {
  const hashes = t.hashes!;
  if (hashes.length === 1) return digestBytes(hashes[0]!.copy());
  return concatBytes(...hashes.map((h) => digestBytes(h.copy())));
}

export function onAlertRecord(c: Conn, s: Side, r: RecordInProgress, body: Uint8Array | null): void {
  let plain = body;
  let decrypted = false;
  if (s.encrypted) {
    plain = null;
    if (s.tls12 && !s.tls12Failed && body) {
      try {
        plain = decompress(c, s, decryptTls12Record(s.tls12, r.type, r.version, body));
        decrypted = plain !== null;
        s.decryptedRecords++;
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        s.tls12Failed = true;
      }
    }
  }
  // RFC 5246, Section 7.2: struct { AlertLevel level; AlertDescription description; } Alert;
  if (plain && plain.length >= 2 && plain.length % 2 === 0) {
    for (let i = 0; i < plain.length; i += 2) addAlert(c, s, plain[i]!, plain[i + 1]!, s.encrypted, decrypted);
  } else {
    addAlert(c, s, null, null, true, false);
  }
}

/**
 * Returns ClientHello.random; for an SSLv2-compatible hello, the challenge right-justified in 32
 * bytes with leading zeros (RFC 5246, Appendix E.2).
 */
export function clientRandom(ch: ClientHelloFact): Uint8Array {
  if (ch.format === 'tls') return ch.hello.random;
  const out = new Uint8Array(32);
  const chal = ch.hello.challenge.subarray(Math.max(0, ch.hello.challenge.length - 32));
  out.set(chal, 32 - chal.length);
  return out;
}

/**
 * Notes which secrets the key log holds for this connection, and starts the transcript if any with
 * `clientHello`: the handshake message, or for an SSLv2 hello the record without its 2-byte header
 * (RFC 5246, Appendix E.2: the hash covers the CLIENT-HELLO message as sent).
 */
export function lookUpKeys(c: Conn, clientHello: Uint8Array): void {
  const keys = c.keySource;
  if (!keys.given || c.clientHello === null) return;
  const cr = clientRandom(c.clientHello);
  if (
    keys.lookup(cr, KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET) ||
    keys.lookup(cr, KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET)
  )
    c.secrets = 'tls13';
  const master = keys.lookup(cr, KeyLogLabel.CLIENT_RANDOM);
  if (master) {
    c.master = master;
    if (c.secrets === 'none') c.secrets = 'tls12';
  }
  if (c.secrets !== 'none') {
    // `clientHello` is a copy of its own already (the hello's message, or a view of its own record copy).
    c.transcript = { held: [clientHello], hashes: null, bytes: clientHello.length };
    // A ServerHello captured before the ClientHello's last segment already fixed the hash.
    startTranscriptHashes(c);
  }
}

/** RFC 8446, Section 7.1: TLS 1.3 and drafts 25-28 (which put the record header in the AEAD's additional data). */
export function decryptableTls13(version: number): boolean {
  return version === 0x0304 || (version >= 0x7f19 && version <= 0x7f1c);
}

export function startTls13(c: Conn): void {
  const keys = c.keySource;
  if (c.secrets === 'none' || c.clientHello?.format !== 'tls' || c.cipherSuite === null || c.version === null) return;
  if (!decryptableTls13(c.version)) {
    c.decryptionUnsupported = `TLS 1.3 draft 0x${c.version.toString(16)} protects records differently`;
    return;
  }
  const cr = c.clientHello.hello.random;
  c.sides.server.tls13 = tls13Protection(keys, cr, c.cipherSuite, 'server-handshake');
  c.sides.client.tls13 = tls13Protection(keys, cr, c.cipherSuite, 'client-handshake');
  const early = tls13Protection(keys, cr, c.cipherSuite, 'client-early');
  // The 0-RTT records sent before the ServerHello used the early keys' first sequence numbers.
  if (early) early.state.seq = BigInt(c.sides.client.earlyRecords);
  c.sides.client.early = early;
}

export function onProtectedTls13(c: Conn, s: Side, r: RecordInProgress, body: Uint8Array): void {
  const attempt = (p: Tls13Protection | null) => {
    if (!p) return null;
    try {
      return decryptRecord(p.state, r.header, body);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      return null;
    }
  };
  const inner = attempt(s.handshakeDone ? null : s.tls13);
  if (inner) {
    s.decryptedRecords++;
    if (inner.contentType === ContentType.handshake)
      c.layers.feedHandshake(c, s, decryptedAssembler(s), inner.content, true);
    else if (inner.contentType === ContentType.alert && inner.content.length === 2)
      addAlert(c, s, inner.content[0]!, inner.content[1]!, true, true);
    else logMessage(c, s, 'application_data', true);
    return;
  }
  const early = s.dir === 'client' && !s.handshakeDone ? attempt(s.early) : null;
  if (early) {
    s.decryptedRecords++;
    // RFC 8446, Section 4.5: EndOfEarlyData is the only handshake message under the early keys.
    if (early.contentType === ContentType.handshake)
      c.layers.feedHandshake(c, s, decryptedAssembler(s), early.content, true);
    else logMessage(c, s, 'early_data', true);
    return;
  }
  if (s.tls13 || s.early) {
    s.failedDecrypts++;
    s.missed = true;
  }
  if (!s.loggedApplicationData) {
    s.loggedApplicationData = true;
    logMessage(c, s, 'application_data', false);
  }
}

export function startTls12(c: Conn, s: Side): void {
  if (c.master === null || c.version === null || c.cipherSuite === null || c.clientHello === null || !c.serverHello)
    return;
  // RFC 7366, Section 2: encrypt-then-MAC applies when both hellos carry the extension.
  const etm =
    c.clientHello.format === 'tls' &&
    findExtensionByType(c.clientHello.hello.extensions, ExtensionType.encrypt_then_mac) !== undefined &&
    findExtensionByType(c.serverHello.hello.extensions, ExtensionType.encrypt_then_mac) !== undefined;
  // Both directions' keys come from one key block: derived at the first ChangeCipherSpec, kept for
  // the other side's (deriving it per side doubled the PRF's HMACs).
  c.tls12Keys ??= tls12Protection(
    c.version,
    c.cipherSuite,
    c.master,
    clientRandom(c.clientHello),
    c.serverHello.hello.random,
    etm,
  );
  const made = c.tls12Keys;
  if (made === 'version') {
    c.decryptionUnsupported = `version 0x${c.version.toString(16).padStart(4, '0')} has no TLS PRF (SSL 3.0 is not decrypted)`;
    return;
  }
  if (made === 'cipher-suite') {
    c.decryptionUnsupported = `cipher suite 0x${c.cipherSuite.toString(16).padStart(4, '0')} cannot be opened here (stream or legacy cipher)`;
    return;
  }
  s.tls12 = made[s.dir];
}

export function onProtectedTls12(c: Conn, s: Side, r: RecordInProgress, body: Uint8Array | null): void {
  if (s.tls12 && !s.tls12Failed && body) {
    try {
      const plain = decompress(c, s, decryptTls12Record(s.tls12, r.type, r.version, body));
      s.decryptedRecords++;
      if (plain) {
        c.layers.feedHandshake(c, s, decryptedAssembler(s), plain, true);
        return;
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      s.tls12Failed = true;
      problem(
        c,
        s.dir,
        'decrypt-failed',
        `the key log's master secret does not open this connection's records: ${e.message}`,
      );
    }
  }
  logMessage(c, s, 'encrypted_handshake', false);
}

/**
 * Returns the TLSPlaintext of a decrypted TLSCompressed fragment, or null when we cannot follow the
 * compression. RFC 3749, Section 2: DEFLATE state starts afresh at each ChangeCipherSpec and every
 * record ends with a sync flush, so the first protected record of a side (its Finished) inflates on
 * its own; later ones need the stream's history, which we do not keep.
 */
export function decompress(c: Conn, s: Side, content: Uint8Array): Uint8Array | null {
  const method = c.serverHello?.hello.compressionMethod ?? 0;
  if (method === 0) return content;
  if (method !== 1 || s.decryptedRecords > 0) return null;
  try {
    const out = inflateSync(content, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return null;
  }
}

/** Returns whether a decrypted Finished matches the transcript, or null when it cannot be checked. */
export function checkFinished(c: Conn, s: Side, verifyData: Uint8Array): boolean | null {
  const t = c.transcript;
  // The version is set by the ServerHello, which also started the running hashes.
  if (!t?.hashes || c.version === null || c.cipherSuite === null) return null;
  const equal = (a: Uint8Array): boolean => a.length === verifyData.length && a.every((x, i) => x === verifyData[i]);
  if (tls13(c)) {
    const p = s.tls13;
    if (!p || c.sides.client.missed || c.sides.server.missed) return null;
    // The running hash is the suite's, as p.hash is (both from c.cipherSuite).
    return equal(finishedVerifyData(p.hash, p.secret, transcriptDigest(t)));
  }
  if (c.master === null) return null;
  try {
    return equal(tls12FinishedVerifyData(c.version, c.cipherSuite, c.master, s.dir, transcriptDigest(t)));
  } catch {
    return null;
  }
}

/** The side's assembler for decrypted handshake bytes, made at the first one. */
function decryptedAssembler(s: Side): HandshakeAssembler {
  s.decryptedAssembler ??= createHandshakeAssembler();
  return s.decryptedAssembler;
}
