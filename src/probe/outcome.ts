/**
 * Returns a probe attempt's outcome from how its transport ended. The taxonomy itself is
 * src/tls/outcome.ts (below probe/ and capture/), re-exported here for probe/'s callers.
 */
import type { OutcomeKind } from '../tls/outcome.js';
import type { EndReason } from './transport.js';

export type { OutcomeKind } from '../tls/outcome.js';
export { describeOutcome, isConnectFailure } from '../tls/outcome.js';

/**
 * Returns the outcome for a connection that ended without a whole TLS answer (no ServerHello, no
 * alert), from how the transport saw it end.
 */
export function outcomeFromEnd(end: EndReason, connected: boolean): OutcomeKind {
  switch (end) {
    case 'reset':
      return 'reset';
    case 'fin':
    case 'done':
    case 'aborted':
      return 'closed';
    case 'max-bytes':
      // A peer that sends a megabyte without finishing a handshake is not speaking TLS to us.
      return 'malformed';
    case 'timeout':
      return 'timeout';
    case 'connect-refused':
      return 'connect-refused';
    case 'connect-timeout':
      return 'connect-timeout';
    case 'dns-error':
      return 'dns-error';
    case 'error':
      // EHOSTUNREACH and friends before the connection existed; after it, the peer went away.
      return connected ? 'reset' : 'connect-refused';
  }
}
