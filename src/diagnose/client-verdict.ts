/**
 * The verdict about the client asked about: `clientHelloVerdict` returns `client-hello-rejected`
 * with its cause and the remediation of that cause when the client's own ClientHello fails where
 * other hellos succeed, or null when the client connects (or when the legacy-version verdicts say
 * it all: a client limited to TLS 1.0/1.1 refused like the scan's own legacy hellos). Never throws.
 *
 * The remediation names what to change on the client or the device in the path, per cause; it never
 * names the SChannel/.NET TLS 1.2 registry keys: this client already offers TLS 1.2, so they change
 * nothing.
 */
import type { AttemptResult } from '../probe/attempt.js';
import { describeOutcome } from '../probe/outcome.js';
import type { ProbeVersion } from '../probe/profiles.js';
import type { HelloBisection, HelloCause } from './hello-bisect.js';
import type { Remediation } from './remediation.js';

/** What the diagnosis knows about the client asked about. */
export interface ClientFacts {
  /** Profile id (`tlsprobe clients`), or 'default' for tlsprobe's own TLS 1.2/1.3 hellos. */
  readonly name: string;
  readonly title: string;
  /** Versions the client offers, oldest first. */
  readonly versions: readonly ProbeVersion[];
  /** The client's hello sent to the endpoint. */
  readonly attempt: AttemptResult;
  /** The bisection of that hello against one the endpoint accepts, when it failed and one did. */
  readonly bisection: HelloBisection | null;
  /** The version of the reference hello the bisection compared with. */
  readonly referenceVersion?: ProbeVersion | null;
}

export interface ClientVerdict {
  readonly summary: string;
  readonly cause: HelloCause;
  readonly remediation: Remediation[];
}

/** Returns true when `client` offers nothing newer than TLS 1.1. */
export function isLegacyLimited(client: Pick<ClientFacts, 'versions'>): boolean {
  return !client.versions.some((v) => v === 'TLS1.2' || v === 'TLS1.3');
}

/**
 * Returns the `client-hello-rejected` verdict for `client` at `where`, or null when the client
 * connected, or is limited to TLS 1.0/1.1 while `legacyRefused` (the scan's legacy hellos fail too:
 * the legacy-version verdicts apply).
 */
export function clientHelloVerdict(client: ClientFacts, where: string, legacyRefused: boolean): ClientVerdict | null {
  const a = client.attempt;
  if (a.outcome === 'negotiated') return null;
  if (isLegacyLimited(client) && legacyRefused) return null;
  const how =
    a.outcome === 'reset'
      ? 'a TCP reset (error 10054, WSAECONNRESET)'
      : a.outcome === 'alert' && a.alert
        ? `a fatal ${a.alert.name} alert`
        : describeOutcome(a.outcome, a.errorCode);
  const b = client.bisection;
  const cause: HelloCause = b?.cause ?? {
    code: 'unknown',
    detail: b?.note ?? 'no hello the endpoint accepts was at hand to compare with',
    tried: b?.steps.map((s) => s.change) ?? [],
  };
  const offered = client.versions.map((v) => v.replace(/^(TLS|SSL)/, '$1 ')).join(', ');
  const ref = client.referenceVersion
    ? ` (a ${client.referenceVersion.replace(/^(TLS|SSL)/, '$1 ')} hello from tlsprobe completes a handshake)`
    : '';
  const summary =
    `${client.title} (offering ${offered}) gets ${how} from ${where}, although the endpoint accepts other hellos${ref}: ` +
    `the refusal is about this client's ClientHello, not its TLS version, so the TLS 1.2 registry keys change nothing. ` +
    `Cause (${cause.code}): ${cause.detail}.`;
  return { summary, cause, remediation: remediationFor(cause, where) };
}

/** Returns what to change for `cause`, on the client first, then on the device or endpoint. */
export function remediationFor(cause: HelloCause, where: string): Remediation[] {
  switch (cause.code) {
    case 'hello-size': {
      const r = cause.sizeRange;
      const min = r?.min ?? 0;
      if (r && r.max !== null) {
        return [
          {
            kind: 'update',
            text: `Make the client's ClientHello at least ${r.max + 1} bytes or under ${min}: a client that sends the RFC 7685 padding extension (OpenSSL/BoringSSL pad 256–511-byte hellos to 512; GnuTLS with %DUMBFW) is not refused, or change what it offers (suites, groups) to move its size out of ${min}–${r.max}.`,
          },
          {
            kind: 'network',
            text: `A device in front of ${where} refuses ClientHello records of ${min}–${r.max} bytes (the F5 BIG-IP hello-size defect RFC 7685, Section 1 describes): apply the vendor's fix or firmware update for it.`,
          },
        ];
      }
      return [
        {
          kind: 'update',
          text: `Keep the client's ClientHello under ${min} bytes: offer fewer cipher suites, groups or key shares (a post-quantum key share alone adds over 1,100 bytes).`,
        },
        {
          kind: 'network',
          text: `A device in front of ${where} refuses ClientHellos of ${min} bytes and more (a hello larger than one TCP segment): check MSS clamping and path MTU, and the firewall or IPS's handling of hellos split across segments; update it.`,
        },
      ];
    }
    case 'renegotiation-scsv':
      return [
        {
          kind: 'update',
          text: "Make the client signal secure renegotiation (RFC 5746): send the renegotiation_info extension or the TLS_EMPTY_RENEGOTIATION_INFO_SCSV cipher suite in its ClientHello; current TLS libraries do by default, so update the client's TLS library or remove the setting that suppresses it.",
        },
        {
          kind: 'network',
          text: `Or relax the rule on ${where}'s front end that resets ClientHellos without a renegotiation signal.`,
        },
      ];
    case 'sni':
      return [
        {
          kind: 'update',
          text: 'Connect by host name so the client sends the name the endpoint expects in server_name (RFC 6066, Section 3); SChannel sends SNI from Windows Vista / Server 2008 on.',
        },
        {
          kind: 'network',
          text: `Or check the firewall or front end of ${where} for rules that filter on the server name.`,
        },
      ];
    case 'cipher-suites':
      return [
        {
          kind: 'update',
          text: 'Enable on the client at least one cipher suite the endpoint accepts (on Windows: the "SSL Cipher Suite Order" group policy or Enable-TlsCipherSuite; the evidence lists what the endpoint negotiated with tlsprobe).',
        },
        { kind: 'network', text: `Or ask the owner of ${where} to accept one of the client's suites.` },
      ];
    case 'groups': {
      const g = cause.group
        ? `${cause.group.name} (0x${cause.group.code.toString(16).padStart(4, '0')})`
        : 'the groups the client offers';
      return [
        {
          kind: 'update',
          text: `Stop the client offering ${g} (on Windows: Disable-TlsEccCurve or the "ECC Curve Order" policy; Chrome and Edge: the PostQuantumKeyAgreementEnabled policy for post-quantum groups).`,
        },
        {
          kind: 'network',
          text: `A device in front of ${where} refuses ClientHellos offering ${g}: update it (many middleboxes broke on post-quantum hellos).`,
        },
      ];
    }
    case 'signature-algorithms':
      return [
        {
          kind: 'update',
          text: 'Change the signature schemes the client offers to ones the endpoint accepts (on Windows: the signature algorithm order in HKLM\\SYSTEM\\CurrentControlSet\\Control\\Cryptography\\Configuration\\Local\\SSL\\00010003).',
        },
        { kind: 'network', text: `Or ask the owner of ${where} which certificate signature schemes it needs.` },
      ];
    case 'key-share-size':
      return [
        {
          kind: 'update',
          text: 'Make the client send one small key share (x25519) first instead of large or several key shares; the server asks for another group with a HelloRetryRequest if it needs one (RFC 8446, Section 4.1.4).',
        },
        { kind: 'network', text: `A device in front of ${where} refuses large key_share extensions: update it.` },
      ];
    case 'extension': {
      const e = cause.extension ? `${cause.extension.name} (extension ${cause.extension.type})` : 'the extension named';
      return [
        { kind: 'update', text: `Stop the client sending ${e}, or update the client so it no longer needs to.` },
        {
          kind: 'network',
          text: `A device in front of ${where} resets ClientHellos carrying ${e}: update it or exempt this traffic from its TLS inspection.`,
        },
      ];
    }
    case 'unknown':
      return [
        {
          kind: 'network',
          text: `No single change to the client's hello made it succeed${cause.tried?.length ? ` (tried: ${cause.tried.join('; ')})` : ''}: capture the failing connection (tlsprobe probe --pcap) and compare it with a working one, and ask the owner of ${where} what its front end refuses.`,
        },
      ];
  }
}
