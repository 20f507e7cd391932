/**
 * The facts of captured TLS connections: what src/capture/sessions.ts learns from a capture and
 * report/ renders (plain readonly data; the judgements on them are src/capture/assess.ts).
 */
import type { OutcomeKind } from '../tls/outcome.js';
import { type ClientHello, clientServerName } from '../tls/client-hello.js';
import type { ServerHello } from '../tls/server-hello.js';
import type { SslV2ClientHello } from '../tls/sslv2.js';
import type { CaptureMeta } from './pcap-format.js';
import type { DecodeStats } from './decode-state.js';
import type { Direction, Endpoint, ReassemblerLimits, ReassemblerStats } from './tcp.js';

/** The outcomes a captured connection can have (the probe taxonomy minus the connect failures). */
export type CaptureOutcome = Extract<
  OutcomeKind,
  'negotiated' | 'alert' | 'reset' | 'closed' | 'timeout' | 'malformed' | 'mismatch'
>;

interface Seen {
  /** Frame (1-based) whose bytes completed it. */
  readonly frame: number;
  readonly timestampUs: number;
}

export type ClientHelloFact =
  | (Seen & {
      readonly format: 'tls';
      readonly hello: ClientHello;
      /** The handshake message, header included. */
      readonly message: Uint8Array;
      /** The exact bytes of the record(s) that carried it, headers included. */
      readonly records: Uint8Array;
    })
  | (Seen & {
      readonly format: 'sslv2';
      readonly hello: SslV2ClientHello;
      readonly message: Uint8Array;
      readonly records: Uint8Array;
    });

export interface ServerHelloFact extends Seen {
  readonly hello: ServerHello;
  readonly message: Uint8Array;
}

/** One entry of the message log: a handshake message, or a record kind. */
export interface MessageEvent extends Seen {
  readonly from: Direction;
  /** Handshake type name (`client_hello`), or `change_cipher_spec`, `alert`, `application_data`, `encrypted_handshake`, `heartbeat`, `sslv2_client_hello`, `sslv2_server_hello`. */
  readonly type: string;
  /** True when we read it only thanks to the key log. */
  readonly decrypted: boolean;
}

export interface AlertFact extends Seen {
  readonly from: Direction;
  /** Null when the alert was encrypted and could not be decrypted. */
  readonly level: number | null;
  readonly description: number | null;
  readonly encrypted: boolean;
  readonly decrypted: boolean;
}

export interface EndFact {
  /** `rst` when any RST was seen (it explains a failure better than a FIN), else `fin`, else `open`. */
  readonly kind: 'fin' | 'rst' | 'open';
  readonly by: Direction | null;
  readonly frame: number | null;
  readonly timestampUs: number;
  /** The last message logged before it (at or before its frame), and who sent it. */
  readonly afterMessage: string | null;
  readonly afterMessageFrom: Direction | null;
  readonly msAfterMessage: number | null;
  readonly msSinceStart: number;
}

export interface ConnectionProblem {
  readonly from: Direction;
  readonly code:
    | 'capture-gap'
    | 'bad-record'
    | 'handshake-decode-error'
    | 'handshake-too-large'
    | 'not-tls'
    | 'decrypt-failed';
  readonly message: string;
}

export interface FinishedFact {
  readonly verifyData: Uint8Array;
  /** Checked against the transcript with the connection's secrets; null when it could not be checked. */
  readonly verified: boolean | null;
}

export interface DecryptionFacts {
  /** Which secrets the key log held for this connection. */
  readonly keys: 'tls13' | 'tls12' | 'none';
  readonly status: 'decrypted' | 'partial' | 'failed' | 'unsupported' | 'no-keys' | 'nothing-encrypted';
  readonly detail: string | null;
  readonly clientFinished: FinishedFact | null;
  readonly serverFinished: FinishedFact | null;
  /** Handshake messages read by decryption, in order (`encrypted_extensions`, `certificate`, …). */
  readonly messages: readonly string[];
}

/**
 * Everything we learnt about one TLS connection. Plain readonly data; bytes are copies, never views
 * of the capture. The hellos, their records and the certificates are views into 16 KiB blocks
 * shared with the same facts of the connections reported around it (one allocation for many), so
 * keeping one connection's facts keeps up to a few such blocks alive.
 */
export interface ConnectionFacts {
  /** Wireshark's `tcp.stream` number of the flow (0-based, in order of first appearance). */
  readonly index: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly ipVersion: 4 | 6;
  readonly startTimestampUs: number;
  readonly lastTimestampUs: number;
  /** Stream offset where TLS starts in each direction (0, or past a STARTTLS/proxy preamble). */
  readonly tlsOffset: { readonly client: number | null; readonly server: number | null };
  readonly clientHello: ClientHelloFact | null;
  readonly helloRetryRequest: ServerHelloFact | null;
  /** The second ClientHello, sent after a HelloRetryRequest (before any ServerHello). */
  readonly retryClientHello: ClientHelloFact | null;
  /** The ServerHello (not the HelloRetryRequest). */
  readonly serverHello: ServerHelloFact | null;
  /** The server answered an SSLv2-compatible hello in SSL 2.0. */
  readonly sslv2ServerHello: boolean;
  readonly version: number | null;
  readonly cipherSuite: number | null;
  /** DER of the server's certificates (first Certificate message), leaf first. */
  readonly certificates: readonly Uint8Array[];
  /** True when they came from a decrypted TLS 1.3 Certificate. */
  readonly certificatesDecrypted: boolean;
  readonly clientCertificates: readonly Uint8Array[];
  readonly alerts: readonly AlertFact[];
  readonly messages: readonly MessageEvent[];
  readonly handshakeComplete: boolean;
  readonly end: EndFact;
  readonly outcome: CaptureOutcome;
  readonly problems: readonly ConnectionProblem[];
  /** First bytes of a server answer that is not TLS. */
  readonly serverEvidence: Uint8Array | null;
  /** Null when no key log was given and the capture embeds none. */
  readonly decryption: DecryptionFacts | null;
  readonly bytes: { readonly client: number; readonly server: number };
}

export interface AnalyzeStats {
  readonly packets: number;
  readonly flows: number;
  readonly connections: number;
  readonly decryptedConnections: number;
  readonly decode: Readonly<DecodeStats>;
  readonly tcp: Readonly<ReassemblerStats>;
  /** Key log lines that could not be used (from --keylog and the capture's own key logs). */
  readonly keyLogErrors: number;
  /** With `order: 'index'`: the most connections held back at once to keep the order. */
  readonly peakHeldConnections: number;
}

export interface AnalyzeOptions {
  /** NSS key log text (the `--keylog` file); the capture's Decryption Secrets Blocks are used too. */
  readonly keyLog?: string;
  /** Receives each connection as soon as it is complete; the facts are then not kept. */
  readonly onConnection?: (c: ConnectionFacts) => void;
  /** TCP reassembly limits (defaults: src/capture/tcp.ts). */
  readonly limits?: Partial<ReassemblerLimits>;
  /**
   * Order in which `onConnection` receives connections: as they end (default), or by `index` within
   * a bounded window (see src/capture/report-order.ts).
   */
  readonly order?: 'end' | 'index';
}

export interface AnalyzeResult {
  readonly meta: CaptureMeta;
  /** Every connection in `index` order; absent when `onConnection` received them. */
  readonly connections?: ConnectionFacts[];
  readonly stats: AnalyzeStats;
}

/** Returns `ip:port`, with IPv6 addresses in brackets (RFC 3986, Section 3.2.2). */
export function endpointText(e: Endpoint): string {
  return e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`;
}

/** Returns the SNI host name of the connection's first ClientHello, or null. */
export function connectionSni(c: ConnectionFacts): string | null {
  return c.clientHello?.format === 'tls' ? clientServerName(c.clientHello.hello) : null;
}
