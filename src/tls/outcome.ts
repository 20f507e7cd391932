/**
 * The outcome taxonomy: one classification per TLS attempt or captured connection, saying how it
 * ended. A refused attempt is never folded into "rejected": a TCP reset (what Windows reports as
 * error 10054, WSAECONNRESET), a TLS alert (which one), a silent close and a timeout are different
 * facts with different causes. It lives below probe/ and capture/, which both classify into it.
 */

export type OutcomeKind =
  /** The server answered with a ServerHello for the version and a suite we offered. */
  | 'negotiated'
  /** The server answered with a TLS alert. */
  | 'alert'
  /** TCP reset (RST) with no usable TLS answer: Windows error 10054 / WSAECONNRESET. */
  | 'reset'
  /** The server closed (FIN) without a TLS answer. */
  | 'closed'
  /** Connected, then no answer within the read timeout. */
  | 'timeout'
  /** Nothing listens (RST to our SYN), or the host is unreachable. */
  | 'connect-refused'
  /** The TCP handshake did not complete within the connect timeout. */
  | 'connect-timeout'
  /** The host name did not resolve. */
  | 'dns-error'
  /** The reply is not TLS (an HTTP server, a banner) or is broken TLS; the first bytes are kept. */
  | 'malformed'
  /** The server chose a version or cipher suite we did not offer. */
  | 'mismatch';

/** Outcomes that mean the TCP connection never carried our hello. */
export function isConnectFailure(o: OutcomeKind): boolean {
  return o === 'connect-refused' || o === 'connect-timeout' || o === 'dns-error';
}

/** A sentence for humans about each outcome, used by tables and diagnoses. */
export function describeOutcome(o: OutcomeKind, errorCode?: string | null): string {
  switch (o) {
    case 'negotiated':
      return 'handshake accepted';
    case 'alert':
      return 'refused with a TLS alert';
    case 'reset':
      return 'connection reset by the server (TCP RST; on Windows: error 10054, WSAECONNRESET)';
    case 'closed':
      return 'connection closed by the server without a TLS answer (FIN)';
    case 'timeout':
      return 'no answer before the read timeout';
    case 'connect-refused':
      return `could not connect${errorCode ? ` (${errorCode})` : ''}: nothing listening or host unreachable`;
    case 'connect-timeout':
      return 'TCP connect timed out';
    case 'dns-error':
      return `host name did not resolve${errorCode ? ` (${errorCode})` : ''}`;
    case 'malformed':
      return 'the reply is not TLS';
    case 'mismatch':
      return 'the server chose a version or cipher suite that was not offered';
  }
}
