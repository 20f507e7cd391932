/**
 * The explicit opt-in changes to a captured hello before it is replayed: `prepareReplay` returns
 * the hello and record bytes to send, what changed, and whether the bytes on the wire equal the
 * captured ones (saying why when they cannot: a hello split over several records, or a record that
 * carried more handshake data than the hello, neither of which `attempt()` reproduces).
 */
import { randomBytes } from 'node:crypto';
import { equalBytes } from '../wire/hex.js';
import { type ClientHello, clientServerName, encodeClientHello, highestOfferedVersion } from '../tls/client-hello.js';
import { type Extension, findExtension } from '../tls/extensions.js';
import { ProtocolVersion } from '../tls/registry.js';
import { RECORD_HEADER_LENGTH } from '../tls/record.js';
import { generateKeyShare, SUPPORTED_KEY_SHARE_GROUPS, type KeyShareKeyPair } from '../tls/key-schedule.js';
import { buildFromPrebuilt, probeVersionOf, type PrebuiltHello, type ProbeVersion } from '../probe/profiles.js';
import type { CapturedHello } from './replay-input.js';

/** The explicit opt-in changes to a captured hello. */
export interface ReplayChanges {
  /** Put this host name in server_name (replacing the first host_name, or adding the extension). */
  readonly fixSni?: string;
  /** Send a new random (ClientHello.random). */
  readonly freshRandom?: boolean;
  /** Replace every key share we can compute with a new one, so TLS 1.3 can be decrypted. */
  readonly freshKeyShare?: boolean;
}

/** What will be sent. */
export interface PreparedReplay {
  readonly spec: PrebuiltHello;
  readonly hello: ClientHello;
  /** The ClientHello handshake message and the record bytes that will go on the wire. */
  readonly message: Uint8Array;
  readonly record: Uint8Array;
  /** What changed, in order: 'server_name', 'padding', 'random', 'key_share'. Empty: sent as captured. */
  readonly modified: readonly string[];
  /** True when `record` equals the captured record bytes. */
  readonly byteExact: boolean;
  readonly notes: readonly string[];
}

/**
 * Returns the hello to send for `captured` with `changes` applied, and whether the bytes on the wire
 * equal the captured record bytes (always the goal without changes; `notes` says why not).
 */
export function prepareReplay(captured: CapturedHello, changes: ReplayChanges = {}): PreparedReplay {
  const modified: string[] = [];
  const notes: string[] = [];
  let hello = captured.hello;
  let keyPairs: KeyShareKeyPair[] = [];

  if (changes.fixSni !== undefined && changes.fixSni !== clientServerName(hello)) {
    hello = withServerName(hello, changes.fixSni, modified, notes);
  }
  if (changes.freshRandom) {
    hello = { ...hello, random: new Uint8Array(randomBytes(32)) };
    modified.push('random');
  }
  if (changes.freshKeyShare) {
    const fresh = withFreshKeyShares(hello);
    if (fresh.keyPairs.length > 0) {
      hello = fresh.hello;
      keyPairs = fresh.keyPairs;
      modified.push('key_share');
    }
    notes.push(...fresh.notes);
  }
  if (modified.length > 0 && findExtension(hello.extensions, 'pre_shared_key')) {
    notes.push(
      'the hello carries pre_shared_key, whose binders cover the hello: a server that knows the ticket will refuse the changed hello',
    );
  }

  const version: ProbeVersion = probeVersionFor(highestOfferedVersion(hello));
  const spec: PrebuiltHello = { version, hello, keyPairs, recordVersion: captured.recordVersion };
  const built = buildFromPrebuilt(spec);
  let byteExact = false;
  if (captured.records === null) {
    notes.push(
      `the input had no record header: the hello goes out in a record with version 0x${captured.recordVersion.toString(16).padStart(4, '0')}`,
    );
  } else {
    byteExact = equalBytes(built.record, captured.records);
    if (!byteExact && modified.length === 0) notes.push(whyNotExact(captured.records, captured.message, built.record));
  }
  // In a capture the client's later flights (Finished, data) naturally follow; in a dump they are a surprise.
  if (captured.connection === null && captured.bytesAfterHello > 0)
    notes.push(`the client sent ${captured.bytesAfterHello} more bytes after the hello in the capture (not replayed)`);
  return { spec, hello, message: built.message, record: built.record, modified, byteExact, notes };
}

/** RFC 6066, Section 3 (server_name); keeps the message length with RFC 7685 padding when present. */
function withServerName(hello: ClientHello, name: string, modified: string[], notes: string[]): ClientHello {
  const before = encodeClientHello(hello).length;
  const exts = [...(hello.extensions ?? [])];
  const at = exts.findIndex((e) => e.type === 0x0000);
  const old = at >= 0 ? exts[at]! : null;
  const names = old?.kind === 'server_name' && old.names ? [...old.names] : [];
  const hostAt = names.findIndex((n) => n.nameType === 0);
  if (hostAt >= 0) names[hostAt] = { nameType: 0, name };
  else names.unshift({ nameType: 0, name });
  const ext: Extension = { kind: 'server_name', type: 0x0000, names };
  if (at >= 0) exts[at] = ext;
  else exts.unshift(ext);
  let out: ClientHello = { ...hello, extensions: exts };
  modified.push('server_name');
  const padAt = exts.findIndex((e) => e.kind === 'padding');
  const pad = exts[padAt];
  if (pad?.kind === 'padding') {
    const delta = encodeClientHello(out).length - before;
    const size = Math.max(0, pad.data.length - delta);
    if (size !== pad.data.length - delta)
      notes.push('the padding extension could not absorb the longer name: the hello grew');
    exts[padAt] = { kind: 'padding', type: 0x0015, data: new Uint8Array(size) };
    out = { ...hello, extensions: exts };
    modified.push('padding');
  }
  return out;
}

/** Returns the hello with a new key share for every group we can compute (RFC 8446, Section 4.2.8). */
function withFreshKeyShares(hello: ClientHello): { hello: ClientHello; keyPairs: KeyShareKeyPair[]; notes: string[] } {
  const notes: string[] = [];
  const ks = findExtension(hello.extensions, 'key_share');
  if (!ks?.shares) return { hello, keyPairs: [], notes: ['the hello has no key_share: nothing to refresh'] };
  const keyPairs: KeyShareKeyPair[] = [];
  const kept: number[] = [];
  const shares = ks.shares.map((s) => {
    if (!SUPPORTED_KEY_SHARE_GROUPS.includes(s.group)) {
      kept.push(s.group);
      return s;
    }
    const pair = generateKeyShare(s.group);
    keyPairs.push(pair);
    return { group: s.group, keyExchange: pair.publicKey };
  });
  if (kept.length > 0)
    notes.push(
      `key shares kept as captured for groups we cannot compute: ${kept.map((g) => `0x${g.toString(16).padStart(4, '0')}`).join(', ')}`,
    );
  const extensions = (hello.extensions ?? []).map((e): Extension => (e.kind === 'key_share' ? { ...e, shares } : e));
  return { hello: { ...hello, extensions }, keyPairs, notes };
}

/** Returns the probe version a hello is about: its highest offered version, clamped to SSL 3.0–TLS 1.3. */
function probeVersionFor(code: number): ProbeVersion {
  return (
    probeVersionOf(code) ??
    (code > ProtocolVersion.TLS1_3 ? 'TLS1.3' : code < ProtocolVersion.SSL3_0 ? 'SSL3.0' : 'TLS1.3')
  );
}

/** Returns the payload length of each record in `bytes` (whole records, as the deframer cut them). */
function recordLengths(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let o = 0; o + RECORD_HEADER_LENGTH <= bytes.length; ) {
    const length = (bytes[o + 3]! << 8) | bytes[o + 4]!;
    out.push(length);
    o += RECORD_HEADER_LENGTH + length;
  }
  return out;
}

/** Returns why the record `attempt()` sends differs from the captured records of the same hello. */
function whyNotExact(captured: Uint8Array, message: Uint8Array, built: Uint8Array): string {
  const lengths = recordLengths(captured);
  const payload = lengths.reduce((a, b) => a + b, 0);
  if (payload > message.length) {
    return `the captured record${lengths.length > 1 ? 's' : ''} also carr${lengths.length > 1 ? 'y' : 'ies'} ${payload - message.length} bytes of other handshake data after the hello; the replay sends the hello alone`;
  }
  if (lengths.length > 1)
    return `the client split its hello over ${lengths.length} records; the replay sends it in ${recordLengths(built).length}`;
  return 'the hello does not re-encode to the captured bytes';
}
