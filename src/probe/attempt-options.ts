/** The options of one probe attempt (attempt.ts), and how an alert the server sent is reported. */
import type { Via } from './proxy.js';
import type { StarttlsProtocol } from './starttls.js';

export interface AttemptOptions {
  readonly connectTimeoutMs?: number;
  readonly readTimeoutMs?: number;
  /** Keep the bytes each way with times, and the TLS 1.3 secrets (for --pcap and --keylog). */
  readonly trace?: boolean;
  readonly signal?: AbortSignal;
  /**
   * Longest the server may take, once its first byte has arrived, to finish what we wait for (default
   * HANDSHAKE_DEADLINE_FACTOR × the read timeout). The read timeout restarts at every byte, so without
   * this a server dribbling empty records would hold the probe for days.
   */
  readonly deadlineMs?: number;
  /** Go through this proxy (HTTP CONNECT or SOCKS5); the target's name is passed to it. */
  readonly via?: Via;
  /** Upgrade the connection with this protocol's STARTTLS dialogue before the ClientHello. */
  readonly starttls?: StarttlsProtocol;
  /**
   * TLS 1.3: end at the server's first answer (default false). The attempt stops right after the
   * ServerHello (its key_share still checked) or the HelloRetryRequest (not answered), closing with
   * clear user_canceled and close_notify as a client that rejects the ServerHello does: no key is
   * computed and nothing is decrypted, so `certificates`, `encryptedExtensions` and
   * `certificateVerifyScheme` stay empty. For callers that need only the version, suite and group
   * (cipher and group enumeration); TLS 1.2 and below are read as always.
   */
  readonly tls13HelloOnly?: boolean;
  /**
   * Every version: end at the ServerHello (default false). What `tls13HelloOnly` does for TLS 1.3,
   * and for TLS 1.2 and below the attempt stops at the ServerHello instead of reading on to
   * ServerHelloDone: the ServerHello alone says whether the suite was accepted (RFC 5246, Section
   * 7.4.1.3), so `certificates` stay empty and `group` stays null (no ServerKeyExchange read). For
   * cipher enumeration.
   */
  readonly serverHelloOnly?: boolean;
}

export interface AlertInfo {
  readonly level: number;
  readonly description: number;
  readonly name: string;
  readonly levelName: string;
  /** True when the alert arrived encrypted (TLS 1.3, after the ServerHello). */
  readonly encrypted: boolean;
}
