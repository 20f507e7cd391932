/**
 * The stages an exchange runs before its TLS hello (an HTTP CONNECT or SOCKS proxy, a STARTTLS
 * dialogue): what a stage is and what it tells the exchange. Its own file so that the stages
 * (proxy.ts, starttls.ts) and the transport that runs them do not import each other.
 */

/**
 * How a proxy or STARTTLS stage ended the exchange before `first` was sent; `errorCode` says more
 * (`PROXY_407`, `PROXY_403`, `SOCKS5_REP_05`, `STARTTLS_REFUSED`…) and `setupReply` keeps the answer.
 */
export type SetupEndReason =
  /** The HTTP proxy answered CONNECT with a non-2xx status other than 407 (its status line is kept). */
  | 'proxy-refused'
  /** The proxy wants credentials, or rejected ours (HTTP 407, SOCKS5 method X'FF' or RFC 1929 failure). */
  | 'proxy-auth-required'
  /** The SOCKS5 proxy refused the CONNECT (reply code), or the proxy's answer was not its protocol. */
  | 'proxy-error'
  /** The server said no to STARTTLS (its answer is kept). */
  | 'starttls-refused'
  /** The server's answer during the STARTTLS dialogue was not that protocol, or too long. */
  | 'starttls-error';

/** What a stage tells the exchange after reading the peer's bytes. */
export type DialogueStep =
  /** Keep reading; send `send` first when given. */
  | { readonly kind: 'continue'; readonly send?: Uint8Array }
  /** The stage is done; `rest` is what arrived after its last answer and belongs to the next stage. */
  | { readonly kind: 'ready'; readonly rest: Uint8Array }
  /** The peer refused or is not speaking the protocol; `reply` is its answer, printable, without credentials. */
  | { readonly kind: 'failed'; readonly end: SetupEndReason; readonly code: string; readonly reply: string };

/** One stage before TLS: bytes to send when it starts, and a reader of the peer's answer. */
export interface Dialogue {
  /** Sent as the stage starts (empty when the server speaks first). */
  readonly opening: Uint8Array;
  /** Takes the next bytes from the peer (never empty) and says what to do. */
  push(chunk: Uint8Array): DialogueStep;
}
