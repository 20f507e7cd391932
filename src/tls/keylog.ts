/**
 * NSS key log files (the SSLKEYLOGFILE format read by Wireshark, written by NSS, OpenSSL, BoringSSL,
 * GnuTLS and Node's `keylog` event).
 *
 * `parseKeyLog` returns the secrets indexed by client random and label and never throws on bad
 * input: malformed lines are collected in `errors` with their line number, like Wireshark, which
 * skips what it cannot read. Reference: the NSS "Key Log Format" page and
 * draft-ietf-tls-keylogfile (Section 3 lists the labels).
 *
 * ```
 * <label> <client_random: 64 hex digits> <secret: hex>
 * # comment
 * ```
 */
import { toHex } from '../wire/hex.js';

/** Labels this parser accepts, with the TLS version and secret they carry. */
export const KeyLogLabel = {
  /** TLS 1.2 and earlier: the 48-byte master secret. */
  CLIENT_RANDOM: 'CLIENT_RANDOM',
  /** TLS 1.3 client_early_traffic_secret (0-RTT). */
  CLIENT_EARLY_TRAFFIC_SECRET: 'CLIENT_EARLY_TRAFFIC_SECRET',
  /** TLS 1.3 early_exporter_master_secret. */
  EARLY_EXPORTER_SECRET: 'EARLY_EXPORTER_SECRET',
  /** TLS 1.3 client_handshake_traffic_secret. */
  CLIENT_HANDSHAKE_TRAFFIC_SECRET: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  /** TLS 1.3 server_handshake_traffic_secret. */
  SERVER_HANDSHAKE_TRAFFIC_SECRET: 'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  /** TLS 1.3 client_application_traffic_secret_0. */
  CLIENT_TRAFFIC_SECRET_0: 'CLIENT_TRAFFIC_SECRET_0',
  /** TLS 1.3 server_application_traffic_secret_0. */
  SERVER_TRAFFIC_SECRET_0: 'SERVER_TRAFFIC_SECRET_0',
  /** TLS 1.3 exporter_master_secret. */
  EXPORTER_SECRET: 'EXPORTER_SECRET',
} as const;

export type KeyLogLabel = (typeof KeyLogLabel)[keyof typeof KeyLogLabel];

const LABELS: ReadonlySet<string> = new Set(Object.values(KeyLogLabel));

/** ClientHello.random is 32 bytes (RFC 8446, Section 4.1.2). */
const CLIENT_RANDOM_LENGTH = 32;

/** TLS 1.2 master secrets are 48 bytes (RFC 5246, Section 8.1). */
const MASTER_SECRET_LENGTH = 48;

/** TLS 1.3 secrets are Hash.length bytes: 32 (SHA-256) or 48 (SHA-384) for the RFC 8446 suites. */
const TLS13_SECRET_LENGTHS: ReadonlySet<number> = new Set([32, 48]);

/** One secret from the log. */
export interface KeyLogEntry {
  readonly label: KeyLogLabel;
  readonly clientRandom: Uint8Array;
  readonly secret: Uint8Array;
  /** 1-based line number where it was first seen. */
  readonly line: number;
}

/** A line the parser could not use. */
export interface KeyLogError {
  /** 1-based line number. */
  readonly line: number;
  readonly message: string;
}

/** Secrets of a key log, looked up by client random and label. */
export interface KeyLog {
  /** Returns the secret logged for this client random and label, or `undefined`. */
  lookup(clientRandom: Uint8Array, label: string): Uint8Array | undefined;
  /** Number of distinct (client random, label) entries. */
  readonly size: number;
  /** The entries in file order (first occurrence of each key). */
  readonly entries: readonly KeyLogEntry[];
  /** Lines that were skipped and why (unknown label, bad hex, wrong lengths, conflicting repeats). */
  readonly errors: readonly KeyLogError[];
}

function keyOf(clientRandomHex: string, label: string): string {
  return `${label} ${clientRandomHex}`;
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

function hexToBytes(hex: string): Uint8Array {
  const b = Buffer.from(hex, 'hex');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Returns the key log parsed from `text`. Never throws: blank lines and `#` comments are skipped,
 * and every line that cannot be used is reported in `errors`. A repeated line with the same secret
 * is ignored; one with a different secret is reported and the first secret kept.
 */
export function parseKeyLog(text: string): KeyLog {
  const log = createKeyLog();
  log.append(text);
  return log;
}

/** A key log that grows: `append` reads more lines into it, as `parseKeyLog` reads a whole text. */
export interface GrowingKeyLog extends KeyLog {
  /**
   * Reads the lines of `text` after the ones read so far (line numbers go on from them; a text that
   * does not end in a newline ends its last line). Costs what its own lines cost, however many
   * were read before: a capture with a Decryption Secrets Block per connection adds each block.
   */
  append(text: string): void;
}

/** Returns an empty key log to `append` to. */
export function createKeyLog(): GrowingKeyLog {
  const byKey = new Map<string, KeyLogEntry>();
  const entries: KeyLogEntry[] = [];
  const errors: KeyLogError[] = [];
  let linesRead = 0;
  return {
    append(text: string): void {
      // An empty text (an empty Decryption Secrets Block) holds no line.
      if (text === '') return;
      const lines = text.split(/\r?\n/);
      // A final newline ends the last line rather than starting an empty one.
      if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
      readLines(lines, linesRead, byKey, entries, errors);
      linesRead += lines.length;
    },
    lookup(clientRandom: Uint8Array, label: string): Uint8Array | undefined {
      return byKey.get(keyOf(toHex(clientRandom), label))?.secret.slice();
    },
    get size(): number {
      return entries.length;
    },
    entries,
    errors,
  };
}

function readLines(
  lines: readonly string[],
  linesBefore: number,
  byKey: Map<string, KeyLogEntry>,
  entries: KeyLogEntry[],
  errors: KeyLogError[],
): void {
  for (let n = 0; n < lines.length; n++) {
    const line = linesBefore + n + 1;
    const trimmed = lines[n]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/);
    if (fields.length !== 3) {
      errors.push({ line, message: `expected 3 fields (label, client random, secret), got ${fields.length}` });
      continue;
    }
    const [label, randomHex, secretHex] = fields as [string, string, string];
    if (!LABELS.has(label)) {
      errors.push({ line, message: `unknown label ${JSON.stringify(label)}` });
      continue;
    }
    if (!HEX.test(randomHex) || randomHex.length !== 2 * CLIENT_RANDOM_LENGTH) {
      errors.push({ line, message: `client random must be ${2 * CLIENT_RANDOM_LENGTH} hex digits` });
      continue;
    }
    if (!HEX.test(secretHex)) {
      errors.push({ line, message: 'secret is not an even number of hex digits' });
      continue;
    }
    const secretLength = secretHex.length / 2;
    if (
      label === KeyLogLabel.CLIENT_RANDOM
        ? secretLength !== MASTER_SECRET_LENGTH
        : !TLS13_SECRET_LENGTHS.has(secretLength)
    ) {
      const want = label === KeyLogLabel.CLIENT_RANDOM ? `${MASTER_SECRET_LENGTH}` : '32 or 48';
      errors.push({ line, message: `${label} secret must be ${want} bytes, got ${secretLength}` });
      continue;
    }
    const randomLower = randomHex.toLowerCase();
    const key = keyOf(randomLower, label);
    const secret = hexToBytes(secretHex);
    const seen = byKey.get(key);
    if (seen) {
      if (toHex(seen.secret) !== secretHex.toLowerCase()) {
        errors.push({
          line,
          message: `${label} for this client random already logged with a different secret on line ${seen.line}`,
        });
      }
      continue;
    }
    const entry: KeyLogEntry = { label: label as KeyLogLabel, clientRandom: hexToBytes(randomLower), secret, line };
    byKey.set(key, entry);
    entries.push(entry);
  }
}

/**
 * Returns one key log line (without the newline) for `label`. Throws `TypeError` for an unknown
 * label or a client random that is not 32 bytes.
 */
export function formatKeyLogLine(label: string, clientRandom: Uint8Array, secret: Uint8Array): string {
  if (!LABELS.has(label)) throw new TypeError(`unknown key log label ${JSON.stringify(label)}`);
  if (clientRandom.byteLength !== CLIENT_RANDOM_LENGTH) {
    throw new TypeError(`client random must be ${CLIENT_RANDOM_LENGTH} bytes, got ${clientRandom.byteLength}`);
  }
  if (secret.byteLength === 0) throw new TypeError('secret must not be empty');
  return `${label} ${toHex(clientRandom)} ${toHex(secret)}`;
}
