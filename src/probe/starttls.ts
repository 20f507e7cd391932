/**
 * STARTTLS: `createStarttlsDialogue` returns the client side of the plain-text exchange that turns a
 * connection to a mail, directory, database or chat server into one that carries TLS, as a
 * `Dialogue` that `exchange()` runs before our ClientHello; `parseStarttlsProtocol` returns a
 * `StarttlsProtocol` or throws TypeError.
 *
 * Each dialogue does the least a real client must: read the greeting, ask for TLS, read the answer.
 * A server that says no ends the exchange with `starttls-refused` and its answer kept; one whose
 * answer is not the protocol at all ends with `starttls-error`. Nothing received during the dialogue
 * reaches `ExchangeResult.received`.
 */
import { concatBytes } from '../wire/hex.js';
import { DecodeError } from '../wire/errors.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { printable } from './proxy.js';
import type { Dialogue, DialogueStep } from './dialogue.js';

/** The protocols with a STARTTLS dialogue, as the `--starttls` option spells them. */
export const STARTTLS_PROTOCOLS = ['smtp', 'imap', 'pop3', 'ftp', 'ldap', 'postgres', 'xmpp'] as const;

export type StarttlsProtocol = (typeof STARTTLS_PROTOCOLS)[number];

/** The port each protocol's STARTTLS service usually listens on (IANA service names registry). */
export const STARTTLS_DEFAULT_PORTS: Readonly<Record<StarttlsProtocol, number>> = {
  smtp: 25,
  imap: 143,
  pop3: 110,
  ftp: 21,
  ldap: 389,
  postgres: 5432,
  xmpp: 5222,
};

/**
 * Cap on the bytes read during a STARTTLS dialogue: 64 KiB. The largest honest answers are an SMTP
 * EHLO reply or an XMPP stream-features element, a few KiB even with many extensions and SASL
 * mechanisms; a server that sends more before agreeing to TLS is not one we can diagnose, and its
 * bytes are peer-controlled memory.
 */
export const STARTTLS_MAX_BYTES = 64 * 1024;

/**
 * Cap on one text line: 4 KiB. RFC 5321, Section 4.5.3.1.5 limits an SMTP reply line to 512
 * octets; IMAP capability lines and FTP banners are longer but stay well under this.
 */
export const STARTTLS_MAX_LINE_BYTES = 4 * 1024;

/** The EHLO name we give an SMTP server: a name under .invalid (RFC 6761, Section 6.4), so we claim no real domain. */
export const SMTP_EHLO_NAME = 'tlsprobe.invalid';

/** The tag of our IMAP STARTTLS command (RFC 9051, Section 2.2.1: any alphanumeric string). */
const IMAP_TAG = 'a1';

/** RFC 4511, Section 4.14.1: the StartTLS extended operation's OID. */
export const LDAP_STARTTLS_OID = '1.3.6.1.4.1.1466.20037';

/** PostgreSQL frontend/backend protocol, "SSLRequest": the request code 1234 << 16 | 5679. */
export const POSTGRES_SSL_REQUEST_CODE = 80877103;

/** The SSLRequest is two Int32s, and its length field counts itself: always 8. */
const POSTGRES_SSL_REQUEST_LENGTH = 8;

/** RFC 6120, Section 5.4.2.1: the STARTTLS namespace. */
const XMPP_TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';

/** Returns the protocol named `text` (case-insensitive); throws TypeError listing the choices otherwise. */
export function parseStarttlsProtocol(text: string): StarttlsProtocol {
  const t = text.trim().toLowerCase();
  if ((STARTTLS_PROTOCOLS as readonly string[]).includes(t)) return t as StarttlsProtocol;
  throw new TypeError(
    `unknown STARTTLS protocol ${JSON.stringify(text)}; choose one of ${STARTTLS_PROTOCOLS.join(', ')}`,
  );
}

/**
 * Returns the dialogue for `protocol`. `serverName` is the name XMPP's stream header addresses
 * (RFC 6120, Section 4.7.2 'to'); the other protocols do not name the server. Throws TypeError for
 * an unknown protocol.
 */
export function createStarttlsDialogue(protocol: StarttlsProtocol, serverName: string): Dialogue {
  switch (protocol) {
    case 'smtp':
      return smtpDialogue();
    case 'ftp':
      return ftpDialogue();
    case 'imap':
      return imapDialogue();
    case 'pop3':
      return pop3Dialogue();
    case 'ldap':
      return ldapDialogue();
    case 'postgres':
      return postgresDialogue();
    case 'xmpp':
      return xmppDialogue(serverName);
    default:
      throw new TypeError(`unknown STARTTLS protocol ${JSON.stringify(protocol)}`);
  }
}

const refused = (reply: string): DialogueStep => ({
  kind: 'failed',
  end: 'starttls-refused',
  code: 'STARTTLS_REFUSED',
  reply: printable(reply),
});
const broken = (reply: string, code = 'STARTTLS_BAD_REPLY'): DialogueStep => ({
  kind: 'failed',
  end: 'starttls-error',
  code,
  reply: printable(reply),
});
const tooLong = (what: string): DialogueStep => broken(what, 'STARTTLS_REPLY_TOO_LONG');
const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

/** What a line-protocol script says about one received line. */
type LineAnswer =
  | { readonly kind: 'more' }
  | { readonly kind: 'send'; readonly line: string }
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly step: DialogueStep };

/**
 * Returns a dialogue that sends `opening`, splits what comes back into lines (CRLF or bare LF) and
 * asks `onLine` about each; the bytes after the line that made it ready belong to TLS.
 */
function lineDialogue(opening: string, onLine: (line: string) => LineAnswer): Dialogue {
  let buf: Uint8Array = new Uint8Array(0);
  let total = 0;
  return {
    opening: text(opening),
    push(chunk: Uint8Array): DialogueStep {
      total += chunk.length;
      if (total > STARTTLS_MAX_BYTES) return tooLong(`more than ${STARTTLS_MAX_BYTES} bytes without the answer`);
      buf = concatBytes(buf, chunk);
      const sends: string[] = [];
      const continueStep = (): DialogueStep =>
        sends.length > 0 ? { kind: 'continue', send: text(sends.join('')) } : { kind: 'continue' };
      for (;;) {
        const nl = buf.indexOf(0x0a);
        if (nl < 0) {
          if (buf.length > STARTTLS_MAX_LINE_BYTES)
            return tooLong(
              `a line longer than ${STARTTLS_MAX_LINE_BYTES} bytes: ${Buffer.from(buf).toString('latin1')}`,
            );
          return continueStep();
        }
        const end = nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
        const line = Buffer.from(buf.subarray(0, end)).toString('latin1');
        buf = buf.subarray(nl + 1);
        const a = onLine(line);
        if (a.kind === 'failed') return a.step;
        if (a.kind === 'ready') {
          // A server that answered a command we had not sent yet is not following the protocol.
          if (sends.length > 0) return broken(`the server answered before our command: ${line}`);
          return { kind: 'ready', rest: buf.slice() };
        }
        if (a.kind === 'send') sends.push(a.line);
      }
    },
  };
}

/** A reply in the SMTP/FTP format: a three-digit code and its lines (RFC 5321, Section 4.2; RFC 959, Section 4.2). */
interface CodeReply {
  readonly code: number;
  readonly text: string;
}

/**
 * Returns a line sink that assembles SMTP/FTP replies: "ddd-text" lines continue a reply, "ddd text"
 * (or a bare "ddd") ends it. FTP also allows continuation lines without the code (RFC 959, Section
 * 4.2), which are kept as text. Returns null until a reply is complete; throws TypeError for a first
 * line that has no reply code.
 */
function codeReplies(): (line: string) => CodeReply | null {
  let code: string | null = null;
  let lines: string[] = [];
  return (line) => {
    const m = /^(\d{3})([ -]|$)/.exec(line);
    if (code === null) {
      if (!m) throw new TypeError(line);
      code = m[1]!;
    }
    lines.push(line);
    if (m && m[1] === code && m[2] !== '-') {
      const reply = { code: Number(code), text: lines.join(' | ') };
      code = null;
      lines = [];
      return reply;
    }
    return null;
  };
}

/**
 * SMTP (RFC 3207, Section 4): greeting 220, EHLO (RFC 5321, Section 4.1.1.1) answered with 250,
 * STARTTLS answered with 220; any other code is a refusal (454 "TLS not available", 502, 554…).
 */
function smtpDialogue(): Dialogue {
  const next = codeReplies();
  let step: 'greeting' | 'ehlo' | 'starttls' = 'greeting';
  return lineDialogue('', (line) => {
    let r: CodeReply | null;
    try {
      r = next(line);
    } catch {
      return { kind: 'failed', step: broken(`not an SMTP reply: ${line}`) };
    }
    if (r === null) return { kind: 'more' };
    switch (step) {
      case 'greeting':
        if (r.code !== 220) return { kind: 'failed', step: refused(r.text) };
        step = 'ehlo';
        return { kind: 'send', line: `EHLO ${SMTP_EHLO_NAME}\r\n` };
      case 'ehlo':
        if (r.code !== 250) return { kind: 'failed', step: refused(r.text) };
        step = 'starttls';
        return { kind: 'send', line: 'STARTTLS\r\n' };
      case 'starttls':
        return r.code === 220 ? { kind: 'ready' } : { kind: 'failed', step: refused(r.text) };
    }
  });
}

/**
 * FTP (RFC 4217, Section 4): greeting 220 (after any 1yz "ready in n minutes", RFC 959, Section
 * 5.4), AUTH TLS answered with 234; 431, 500, 502, 504, 534… are refusals.
 */
function ftpDialogue(): Dialogue {
  const next = codeReplies();
  let step: 'greeting' | 'auth' = 'greeting';
  return lineDialogue('', (line) => {
    let r: CodeReply | null;
    try {
      r = next(line);
    } catch {
      return { kind: 'failed', step: broken(`not an FTP reply: ${line}`) };
    }
    if (r === null) return { kind: 'more' };
    if (r.code >= 100 && r.code < 200) return { kind: 'more' }; // preliminary reply: the real one follows
    if (step === 'greeting') {
      if (r.code !== 220) return { kind: 'failed', step: refused(r.text) };
      step = 'auth';
      return { kind: 'send', line: 'AUTH TLS\r\n' };
    }
    return r.code === 234 ? { kind: 'ready' } : { kind: 'failed', step: refused(r.text) };
  });
}

/**
 * IMAP (RFC 9051, Section 6.2.1; RFC 3501 likewise): greeting "* OK", then `a1 STARTTLS` answered
 * by the tagged "a1 OK"; "a1 NO"/"a1 BAD" refuse. A "* PREAUTH" greeting leaves no state in which
 * STARTTLS is allowed, and "* BYE" is a refusal to serve at all.
 */
function imapDialogue(): Dialogue {
  let greeted = false;
  return lineDialogue('', (line) => {
    if (!greeted) {
      if (/^\* OK\b/i.test(line)) {
        greeted = true;
        return { kind: 'send', line: `${IMAP_TAG} STARTTLS\r\n` };
      }
      if (/^\* (?:BYE|PREAUTH)\b/i.test(line)) return { kind: 'failed', step: refused(line) };
      return { kind: 'failed', step: broken(`not an IMAP greeting: ${line}`) };
    }
    if (line.startsWith('* ')) return { kind: 'more' }; // untagged data (e.g. CAPABILITY)
    const m = new RegExp(`^${IMAP_TAG} (OK|NO|BAD)\\b`, 'i').exec(line);
    if (!m) return { kind: 'failed', step: broken(`not an IMAP response: ${line}`) };
    return m[1]!.toUpperCase() === 'OK' ? { kind: 'ready' } : { kind: 'failed', step: refused(line) };
  });
}

/** POP3 (RFC 2595, Section 4): greeting "+OK", STLS answered with "+OK"; "-ERR" refuses. */
function pop3Dialogue(): Dialogue {
  let greeted = false;
  return lineDialogue('', (line) => {
    const ok = /^\+OK\b/i.test(line);
    if (!ok && !/^-ERR\b/i.test(line)) return { kind: 'failed', step: broken(`not a POP3 response: ${line}`) };
    if (!ok) return { kind: 'failed', step: refused(line) };
    if (greeted) return { kind: 'ready' };
    greeted = true;
    return { kind: 'send', line: 'STLS\r\n' };
  });
}

// ---------------------------------------------------------------------------------------------
// LDAP (BER, RFC 4511 Section 5.1: definite lengths only)

/** RFC 4511, Section 4.14.1: the message ID of our StartTLS request. */
const LDAP_MESSAGE_ID = 1;

/** LDAPResult resultCode names (RFC 4511, Section 4.1.9 and Appendix A) that a StartTLS may meet. */
const LDAP_RESULT_CODES: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'operationsError',
  2: 'protocolError',
  3: 'timeLimitExceeded',
  12: 'unavailableCriticalExtension',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  80: 'other',
};

/** BER tags used here (X.690, Section 8.1.2; RFC 4511, Section 4.2 and 4.12). */
const Ber = {
  integer: 0x02,
  octetString: 0x04,
  enumerated: 0x0a,
  sequence: 0x30,
  /** [APPLICATION 23] ExtendedRequest, constructed. */
  extendedRequest: 0x77,
  /** [APPLICATION 24] ExtendedResponse, constructed. */
  extendedResponse: 0x78,
  /** [0] requestName, primitive. */
  requestName: 0x80,
} as const;

/** Writes a BER TLV with a definite length (X.690, Section 8.1.3: short form below 128, else long form). */
function writeTlv(w: Writer, tag: number, content: Uint8Array): void {
  w.u8(tag);
  if (content.length < 0x80) w.u8(content.length);
  else if (content.length <= 0xff) w.u8(0x81).u8(content.length);
  else w.u8(0x82).u16(content.length);
  w.bytes(content);
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  const w = new Writer(content.length + 4);
  writeTlv(w, tag, content);
  return w.finish();
}

/**
 * Returns the LDAP StartTLS request (RFC 4511, Section 4.14.1):
 *
 *   LDAPMessage ::= SEQUENCE { messageID MessageID, protocolOp ExtendedRequest }
 *   ExtendedRequest ::= [APPLICATION 23] SEQUENCE { requestName [0] LDAPOID }
 */
export function encodeLdapStartTls(): Uint8Array {
  const op = tlv(Ber.extendedRequest, tlv(Ber.requestName, text(LDAP_STARTTLS_OID)));
  return tlv(Ber.sequence, concatBytes(tlv(Ber.integer, Uint8Array.of(LDAP_MESSAGE_ID)), op));
}

/** Reads a BER length (X.690, Section 8.1.3), definite form with at most 4 length octets. */
function readBerLength(r: Reader): number {
  const first = r.u8('length');
  if (first < 0x80) return first;
  const n = first & 0x7f;
  // RFC 4511, Section 5.1: "Only the definite form of length encoding is used."
  if (n === 0 || n > 4) r.fail('bad-value', n === 0 ? 'indefinite length' : `${n} length octets`, 'length');
  return r.uint(n as 1 | 2 | 3 | 4, 'length');
}

function readTlv(r: Reader, tag: number, field: string): Reader {
  const got = r.u8(field);
  if (got !== tag) r.fail('bad-value', `tag 0x${got.toString(16)} where 0x${tag.toString(16)} was expected`, field);
  return r.fixed(readBerLength(r), field);
}

function readBerInteger(r: Reader, tag: number, field: string): number {
  const v = readTlv(r, tag, field);
  const bytes = v.rest();
  if (bytes.length === 0 || bytes.length > 4) r.fail('bad-value', `${bytes.length}-byte integer`, field);
  let n = bytes[0]! & 0x80 ? -1 : 0;
  for (const b of bytes) n = n * 256 + b;
  return n;
}

/** The parts of an LDAP ExtendedResponse that decide a StartTLS. */
export interface LdapExtendedResponse {
  readonly messageId: number;
  readonly resultCode: number;
  readonly diagnosticMessage: string;
  /** Bytes of the whole LDAPMessage. */
  readonly length: number;
}

/**
 * Returns the LDAPMessage carrying an ExtendedResponse at the start of `buf`, or null when it has
 * not fully arrived. Throws DecodeError for anything else (RFC 4511, Section 4.12):
 *
 *   ExtendedResponse ::= [APPLICATION 24] SEQUENCE {
 *        COMPONENTS OF LDAPResult,   -- resultCode ENUMERATED, matchedDN, diagnosticMessage, referral [3] OPTIONAL
 *        responseName     [10] LDAPOID OPTIONAL,
 *        responseValue    [11] OCTET STRING OPTIONAL }
 */
export function readLdapExtendedResponse(buf: Uint8Array): LdapExtendedResponse | null {
  // The outer header (tag + up to 5 length octets) tells how long the whole message is.
  const head = new Reader(buf, 'LDAPMessage');
  let bodyLength: number;
  try {
    if (head.u8('tag') !== Ber.sequence) head.fail('bad-value', 'not a SEQUENCE', 'tag', 0);
    bodyLength = readBerLength(head);
  } catch (e) {
    if (e instanceof DecodeError && e.code === 'truncated') return null;
    throw e;
  }
  if (head.offset + bodyLength > STARTTLS_MAX_BYTES) head.fail('too-large', `a ${bodyLength}-byte message`, 'length');
  if (buf.length < head.offset + bodyLength) return null;
  const msg = head.fixed(bodyLength, 'LDAPMessage');
  const messageId = readBerInteger(msg, Ber.integer, 'messageID');
  const op = readTlv(msg, Ber.extendedResponse, 'extendedResp');
  const resultCode = readBerInteger(op, Ber.enumerated, 'resultCode');
  readTlv(op, Ber.octetString, 'matchedDN');
  const diagnosticMessage = Buffer.from(readTlv(op, Ber.octetString, 'diagnosticMessage').rest()).toString('utf8');
  // referral, responseName, responseValue and controls may follow; StartTLS does not need them.
  return { messageId, resultCode, diagnosticMessage, length: head.offset };
}

/**
 * LDAP (RFC 4511, Section 4.14): our ExtendedRequest, answered by an ExtendedResponse with our
 * messageID; resultCode success (0) means TLS starts right after it. A Notice of Disconnection
 * (messageID 0, Section 4.4.1) or another resultCode is a refusal.
 */
function ldapDialogue(): Dialogue {
  let buf: Uint8Array = new Uint8Array(0);
  return {
    opening: encodeLdapStartTls(),
    push(chunk: Uint8Array): DialogueStep {
      buf = concatBytes(buf, chunk);
      let r: LdapExtendedResponse | null;
      try {
        r = readLdapExtendedResponse(buf);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        return e.code === 'too-large'
          ? tooLong(`LDAP reply: ${e.message}`)
          : broken(`not an LDAP ExtendedResponse: ${e.message}`);
      }
      if (r === null) return { kind: 'continue' };
      const name = LDAP_RESULT_CODES[r.resultCode] ?? 'unknown';
      const said = `resultCode ${r.resultCode} (${name})${r.diagnosticMessage ? `: ${r.diagnosticMessage}` : ''}`;
      if (r.messageId === 0) return refused(`notice of disconnection, ${said}`);
      if (r.messageId !== LDAP_MESSAGE_ID)
        return broken(`a response to message ${r.messageId}, not to our StartTLS (${LDAP_MESSAGE_ID})`);
      if (r.resultCode !== 0) return refused(said);
      return { kind: 'ready', rest: buf.slice(r.length) };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/**
 * Returns the SSLRequest message (PostgreSQL protocol, "Message Formats": Int32 length 8, Int32
 * 80877103), which has no type byte because it is sent before the startup message.
 */
export function encodePostgresSslRequest(): Uint8Array {
  const w = new Writer(POSTGRES_SSL_REQUEST_LENGTH);
  w.u32(POSTGRES_SSL_REQUEST_LENGTH).u32(POSTGRES_SSL_REQUEST_CODE);
  return w.finish();
}

/**
 * PostgreSQL ("SSL Session Encryption"): one byte answers the SSLRequest, 'S' to go ahead, 'N' to
 * refuse; a server too old to know SSLRequest answers with an ErrorResponse ('E').
 */
function postgresDialogue(): Dialogue {
  return {
    opening: encodePostgresSslRequest(),
    push(chunk: Uint8Array): DialogueStep {
      const answer = chunk[0]!;
      if (answer === 0x53) return { kind: 'ready', rest: chunk.slice(1) }; // 'S'
      if (answer === 0x4e) return refused('N: the server does not accept SSL connections'); // 'N'
      if (answer === 0x45) return refused(`E: ErrorResponse ${Buffer.from(chunk.subarray(1)).toString('latin1')}`); // 'E'
      return broken(`not an answer to SSLRequest: 0x${answer.toString(16).padStart(2, '0')}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// XMPP

/**
 * Returns the initial stream header (RFC 6120, Section 4.7), client to server, addressed to `domain`,
 * with the same attributes (and order) as `openssl s_client -starttls xmpp`.
 */
export function encodeXmppStreamHeader(domain: string): Uint8Array {
  const to = domain.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');
  return text(
    `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' to='${to}' version='1.0'>`,
  );
}

/** The STARTTLS command (RFC 6120, Section 5.4.2.1). */
const XMPP_STARTTLS = `<starttls xmlns='${XMPP_TLS_NS}'/>`;

/**
 * XMPP (RFC 6120, Section 5.4): our stream header, the server's stream header and
 * <stream:features> (which must offer <starttls/>), our <starttls/>, then <proceed/> (TLS starts
 * right after it) or <failure/>. A stream error (Section 4.9) or the stream's close is a refusal.
 * The XML is scanned for these elements, not parsed: this is a probe, not an XMPP client.
 */
function xmppDialogue(domain: string): Dialogue {
  let buf = '';
  let state: 'features' | 'proceed' = 'features';
  return {
    opening: encodeXmppStreamHeader(domain),
    push(chunk: Uint8Array): DialogueStep {
      // latin1 maps bytes to characters one to one, so string indexes are byte offsets.
      buf += Buffer.from(chunk).toString('latin1');
      if (buf.length > STARTTLS_MAX_BYTES) return tooLong(`more than ${STARTTLS_MAX_BYTES} bytes without the answer`);
      const streamError = /<(?:[\w-]+:)?error[\s>/][\s\S]*?<([\w-]+)[\s/>]/.exec(buf);
      if (streamError) return refused(`stream error: ${streamError[1]}`);
      if (/<\/(?:[\w-]+:)?stream\s*>/.test(buf)) return refused(`the server closed the stream: ${buf}`);
      if (state === 'features') {
        const end = /<\/(?:[\w-]+:)?features\s*>|<(?:[\w-]+:)?features\b[^>]*\/>/.exec(buf);
        if (end === null) {
          if (buf.length > 0 && !buf.trimStart().startsWith('<')) return broken(`not XML: ${buf}`);
          return { kind: 'continue' };
        }
        const features = buf.slice(0, end.index + end[0].length);
        if (!features.includes(XMPP_TLS_NS))
          return refused(
            `stream features without <starttls/>: ${features.slice(features.search(/<(?:[\w-]+:)?features\b/))}`,
          );
        buf = buf.slice(end.index + end[0].length);
        state = 'proceed';
        return { kind: 'continue', send: text(XMPP_STARTTLS) };
      }
      const proceed = /<proceed\b[^>]*?(?:\/>|>\s*<\/proceed\s*>)/.exec(buf);
      if (proceed)
        return {
          kind: 'ready',
          rest: new Uint8Array(Buffer.from(buf.slice(proceed.index + proceed[0].length), 'latin1')),
        };
      const failure = /<failure\b[^>]*?(?:\/>|>[\s\S]*?<\/failure\s*>)/.exec(buf);
      if (failure) return refused(failure[0]);
      return { kind: 'continue' };
    },
  };
}
