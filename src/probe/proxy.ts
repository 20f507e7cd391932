/**
 * Proxy tunnels, the way the clients we diagnose reach endpoints from a corporate network:
 * `parseProxyUrl` returns a `Via` for `http://[user:pass@]host:port` (HTTP CONNECT) or
 * `socks5://[user:pass@]host:port` (SOCKS5), and throws TypeError with the credentials redacted;
 * `createProxyDialogue` returns the client side of the tunnel set-up as a `Dialogue` that
 * `exchange()` runs before our ClientHello.
 *
 * The target is handed to the proxy by name when the user gave a name: clients behind an HTTP proxy
 * do not resolve the endpoint themselves (often they cannot: the corporate resolver knows only
 * internal names), and the proxy's own resolution is part of what is being tested.
 *
 * Credentials are sent (Basic, RFC 7617; RFC 1929 user/password) but never appear in an error
 * message, a reply preview or `formatVia`.
 */
import { isIP } from 'node:net';
import { concatBytes } from '../wire/hex.js';
import { DecodeError } from '../wire/errors.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import type { Dialogue, DialogueStep } from './dialogue.js';

/** An HTTP proxy reached with CONNECT (RFC 9110, Section 9.3.6). */
export interface HttpConnectVia {
  readonly kind: 'http-connect';
  /** The proxy: an IP literal or a name (resolved once per exchange with `resolveHost`). */
  readonly host: string;
  readonly port: number;
  /** Sent as Proxy-Authorization: Basic (RFC 7617) when set. */
  readonly username?: string;
  readonly password?: string;
}

/** A SOCKS5 proxy (RFC 1928), with user/password authentication (RFC 1929) when credentials are set. */
export interface Socks5Via {
  readonly kind: 'socks5';
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
}

/** The first hop of a proxied connection. */
export type Via = HttpConnectVia | Socks5Via;

/**
 * Cap on the bytes read while waiting for the proxy's answer: 16 KiB. A CONNECT reply is a status
 * line and a few headers (RFC 9112, Section 2.1), a few hundred bytes even from chatty appliances;
 * a SOCKS5 reply is at most 262 bytes (RFC 1928, Section 6). Bytes past this are not a proxy
 * answer we can use, and they are peer-controlled memory we would otherwise grow without bound.
 */
export const PROXY_REPLY_MAX_BYTES = 16 * 1024;

/** Characters of a proxy's status line kept in `setupReply` (status lines are short; a proxy that sends a long one is cut). */
export const REPLY_PREVIEW_CHARS = 200;

/** RFC 1929, Section 2: ULEN and PLEN are one octet each, and each field is 1 to 255 octets. */
const SOCKS5_CREDENTIAL_MAX_BYTES = 255;

/** RFC 1928, Section 5: DST.ADDR of type DOMAINNAME carries a one-octet length. */
const SOCKS5_DOMAIN_MAX_BYTES = 255;

/** RFC 1035, Section 2.3.4: a name is at most 255 octets on the wire, 253 characters as text. */
const HOST_NAME_MAX_CHARS = 253;

/** A host name we are willing to put in a CONNECT request line or a SOCKS request: letters, digits, '-', '_', '.'. */
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;

/**
 * Returns the `Via` for a proxy URL: `http://[user:pass@]host:port` or `socks5://[user:pass@]host:port`
 * (IPv6 literals in brackets, user and password percent-encoded as in any URL). Throws TypeError
 * with a message that never contains the password, for another scheme (`https://` proxies are not
 * supported: that would be TLS to the proxy), a missing or out-of-range port, a path or query, or
 * credentials the protocol cannot carry.
 */
export function parseProxyUrl(text: string): Via {
  const shown = redactProxyUrl(text);
  const fail = (why: string): never => {
    throw new TypeError(`invalid proxy ${JSON.stringify(shown)}: ${why}`);
  };
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?(\[[^\]]*\]|[^:/?#@[\]]*)(?::([^/?#]*))?(\/?)$/.exec(
    text.trim(),
  );
  if (!m) return fail('expected http://[user:pass@]host:port or socks5://[user:pass@]host:port');
  const scheme = m[1]!.toLowerCase();
  const kind = scheme === 'http' ? 'http-connect' : scheme === 'socks5' ? 'socks5' : null;
  if (kind === null) {
    return fail(
      scheme === 'https'
        ? 'https:// proxies (TLS to the proxy) are not supported; use http:// (CONNECT) or socks5://'
        : `unsupported scheme ${JSON.stringify(scheme)}; use http:// (CONNECT) or socks5://`,
    );
  }
  let host = m[3]!;
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return fail(`${JSON.stringify(m[3])} is not an IPv6 literal`);
  } else if (host === '' || (isIP(host) === 0 && !isHostName(host))) {
    return fail(host === '' ? 'no host' : `${JSON.stringify(host)} is not a host name or IP address`);
  }
  const portText = m[4];
  if (portText === undefined || portText === '') return fail('the port is required (e.g. http://proxy.example:3128)');
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 0xffff)
    return fail(`port ${JSON.stringify(portText)} is not in 1..65535`);
  const port = Number(portText);

  let username: string | undefined;
  let password: string | undefined;
  if (m[2] !== undefined) {
    const colon = m[2].indexOf(':');
    const rawUser = colon < 0 ? m[2] : m[2].slice(0, colon);
    const rawPass = colon < 0 ? '' : m[2].slice(colon + 1);
    try {
      username = decodeURIComponent(rawUser);
      password = decodeURIComponent(rawPass);
    } catch {
      return fail('the user or password has a malformed percent-encoding');
    }
  }
  const via: Via = { kind, host, port, ...(username !== undefined ? { username, password: password ?? '' } : {}) };
  const problem = checkVia(via);
  if (problem !== null) return fail(problem);
  return via;
}

/** Returns `text` with any password in its user-info replaced by `***` (for error messages and logs). */
export function redactProxyUrl(text: string): string {
  return text.replace(/^([^:/]*:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}

/** Returns the proxy as a URL without its password (`http://user:***@proxy:3128`), for reports. */
export function formatVia(via: Via): string {
  const scheme = via.kind === 'http-connect' ? 'http' : 'socks5';
  const user = via.username !== undefined ? `${encodeURIComponent(via.username)}:***@` : '';
  return `${scheme}://${user}${hostPort(via.host, via.port)}`;
}

/**
 * Returns why `via` cannot be used, or null when it can: a port out of range, an empty host,
 * a Basic user-id with ':' (RFC 7617, Section 2), or SOCKS5 credentials outside 1..255 bytes
 * (RFC 1929, Section 2). Never mentions the password's value.
 */
export function checkVia(via: Via): string | null {
  if (via.kind !== 'http-connect' && via.kind !== 'socks5')
    return `unknown proxy kind ${JSON.stringify((via as { kind: unknown }).kind)}`;
  if (typeof via.host !== 'string' || via.host === '' || (isIP(via.host) === 0 && !isHostName(via.host)))
    return 'the proxy host must be an IP address or a host name';
  if (!Number.isInteger(via.port) || via.port < 1 || via.port > 0xffff)
    return `the proxy port must be an integer in 1..65535, got ${via.port}`;
  if (via.username === undefined) return via.password !== undefined ? 'a proxy password needs a user name' : null;
  const password = via.password ?? '';
  if (via.kind === 'http-connect') {
    // RFC 7617, Section 2: "a user-id containing a colon character is invalid".
    if (via.username.includes(':'))
      return 'a user name with ":" cannot be sent with Basic authentication (RFC 7617, Section 2)';
    if (/[\u0000-\u001f\u007f]/.test(via.username + password))
      return 'control characters are not allowed in proxy credentials (RFC 7617, Section 2)';
    return null;
  }
  const u = Buffer.byteLength(via.username, 'utf8');
  const p = Buffer.byteLength(password, 'utf8');
  if (u < 1 || u > SOCKS5_CREDENTIAL_MAX_BYTES || p < 1 || p > SOCKS5_CREDENTIAL_MAX_BYTES) {
    return `SOCKS5 user name and password must each be 1 to ${SOCKS5_CREDENTIAL_MAX_BYTES} bytes (RFC 1929, Section 2)`;
  }
  return null;
}

/**
 * Returns why `host` cannot be named to a proxy as the target, or null: it must be an IP literal
 * or a host name (letters, digits, '-', '_', '.'), which also keeps CR/LF out of a CONNECT request.
 */
export function checkTargetHost(host: string): string | null {
  if (isIP(host) !== 0 || isHostName(host)) return null;
  return `the target must be an IP address or a host name to pass to a proxy, got ${JSON.stringify(host)}`;
}

function isHostName(s: string): boolean {
  return s.length <= HOST_NAME_MAX_CHARS && HOST_NAME.test(s) && !s.includes('..');
}

/** Returns `host:port`, with IPv6 literals in brackets (RFC 3986, Section 3.2.2). */
function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Returns the dialogue that opens a tunnel through `via` to `target:port` (target an IP literal or a
 * host name the proxy resolves). Throws TypeError for a `via` or target `checkVia`/`checkTargetHost`
 * refuse.
 */
export function createProxyDialogue(via: Via, target: string, port: number): Dialogue {
  const problem = checkVia(via) ?? checkTargetHost(target);
  if (problem !== null) throw new TypeError(problem);
  return via.kind === 'http-connect' ? httpConnectDialogue(via, target, port) : socks5Dialogue(via, target, port);
}

// ---------------------------------------------------------------------------------------------
// HTTP CONNECT

/**
 * Returns the CONNECT request for `target:port`: the request line in authority-form (RFC 9112,
 * Section 3.2.3), Host (RFC 9110, Section 7.2) and, with credentials, Proxy-Authorization: Basic
 * over the UTF-8 `user:password` (RFC 7617, Section 2; RFC 9110, Section 11.7.2). Headers are the
 * ones curl sends, minus User-Agent and Proxy-Connection.
 */
export function encodeConnectRequest(via: HttpConnectVia, target: string, port: number): Uint8Array {
  const authority = hostPort(target, port);
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (via.username !== undefined) {
    const token = Buffer.from(`${via.username}:${via.password ?? ''}`, 'utf8').toString('base64');
    lines.push(`Proxy-Authorization: Basic ${token}`);
  }
  return new Uint8Array(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
}

/** The head of a CONNECT reply. */
export interface ConnectReply {
  readonly status: number;
  /** The status line as received (printable, capped at `REPLY_PREVIEW_CHARS`). */
  readonly statusLine: string;
  /** Authentication schemes of the Proxy-Authenticate headers, in order (e.g. ['NTLM', 'Negotiate', 'Basic']). */
  readonly authSchemes: readonly string[];
  /** Bytes of the head, blank line included: what follows belongs to the tunnel. */
  readonly headLength: number;
}

/** RFC 9112, Section 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]; we speak HTTP/1.1. */
const STATUS_LINE_PREFIX = 'HTTP/1.';

/**
 * Returns the head of an HTTP reply at the start of `buf`, or null when the blank line that ends it
 * has not arrived. Throws TypeError when the first line is not an HTTP/1.x status line (RFC 9112,
 * Section 4). A bare LF is accepted as a line end (RFC 9112, Section 2.2).
 */
export function readConnectReply(buf: Uint8Array): ConnectReply | null {
  let lineStart = 0;
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    const end = i > lineStart && buf[i - 1] === 0x0d ? i - 1 : i;
    const line = Buffer.from(buf.subarray(lineStart, end)).toString('latin1');
    lineStart = i + 1;
    if (lines.length === 0) {
      // RFC 9112, Section 2.2: a recipient should ignore at least one empty line before the status line.
      if (line === '') continue;
      if (!/^HTTP\/1\.\d \d{3}(?:[ \t]|$)/.test(line))
        throw new TypeError(`not an HTTP status line: ${printable(line)}`);
    } else if (line === '') {
      const statusLine = lines[0]!;
      const authSchemes = lines
        .slice(1)
        .map((l) => /^proxy-authenticate[ \t]*:[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)/i.exec(l)?.[1])
        .filter((s): s is string => s !== undefined);
      return {
        status: Number(statusLine.slice(9, 12)),
        statusLine: printable(statusLine),
        authSchemes,
        headLength: lineStart,
      };
    }
    lines.push(line);
  }
  if (lines.length === 0) {
    // The first line is incomplete, but may already be unable to become a status line.
    const pending = Buffer.from(buf.subarray(lineStart))
      .toString('latin1')
      .replace(/^[\r\n]+/, '');
    const n = Math.min(pending.length, STATUS_LINE_PREFIX.length);
    if (pending.slice(0, n) !== STATUS_LINE_PREFIX.slice(0, n))
      throw new TypeError(`not an HTTP status line: ${printable(pending)}`);
  }
  return null;
}

function httpConnectDialogue(via: HttpConnectVia, target: string, port: number): Dialogue {
  let buf: Uint8Array = new Uint8Array(0);
  let total = 0;
  return {
    opening: encodeConnectRequest(via, target, port),
    push(chunk: Uint8Array): DialogueStep {
      total += chunk.length;
      if (total > PROXY_REPLY_MAX_BYTES) {
        return {
          kind: 'failed',
          end: 'proxy-error',
          code: 'PROXY_REPLY_TOO_LONG',
          reply: `no usable answer within ${PROXY_REPLY_MAX_BYTES} bytes`,
        };
      }
      buf = concatBytes(buf, chunk);
      for (;;) {
        let reply: ConnectReply | null;
        try {
          reply = readConnectReply(buf);
        } catch (e) {
          return { kind: 'failed', end: 'proxy-error', code: 'PROXY_BAD_REPLY', reply: (e as Error).message };
        }
        if (reply === null) return { kind: 'continue' };
        buf = buf.subarray(reply.headLength);
        // RFC 9110, Section 15.2: 1xx responses are interim; the final answer follows.
        if (reply.status >= 100 && reply.status < 200) continue;
        // RFC 9110, Section 9.3.6: any 2xx answer to CONNECT means the tunnel is established, and
        // what follows the blank line is the tunnel's data.
        if (reply.status >= 200 && reply.status < 300) return { kind: 'ready', rest: buf.slice() };
        const challenge = reply.authSchemes.length > 0 ? ` (Proxy-Authenticate: ${reply.authSchemes.join(', ')})` : '';
        // RFC 9110, Section 15.5.8: 407 Proxy Authentication Required.
        if (reply.status === 407)
          return { kind: 'failed', end: 'proxy-auth-required', code: 'PROXY_407', reply: reply.statusLine + challenge };
        return { kind: 'failed', end: 'proxy-refused', code: `PROXY_${reply.status}`, reply: reply.statusLine };
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// SOCKS5

/** RFC 1928, Section 3: method numbers. */
const SocksMethod = { noAuth: 0x00, gssapi: 0x01, userPassword: 0x02, noAcceptable: 0xff } as const;

/** RFC 1928, Section 5: ATYP. */
const SocksAddressType = { ipv4: 0x01, domainName: 0x03, ipv6: 0x04 } as const;

/** RFC 1928, Section 6: REP values and their meaning. */
export const SOCKS5_REPLIES: Readonly<Record<number, string>> = {
  0x00: 'succeeded',
  0x01: 'general SOCKS server failure',
  0x02: 'connection not allowed by ruleset',
  0x03: 'network unreachable',
  0x04: 'host unreachable',
  0x05: 'connection refused',
  0x06: 'TTL expired',
  0x07: 'command not supported',
  0x08: 'address type not supported',
};

/**
 * Returns the SOCKS5 method selection message (RFC 1928, Section 3): VER 5, NMETHODS, METHODS.
 * We offer "no authentication", and "username/password" (RFC 1929) when we have credentials.
 */
export function encodeSocks5Greeting(withCredentials: boolean): Uint8Array {
  const methods = withCredentials ? [SocksMethod.noAuth, SocksMethod.userPassword] : [SocksMethod.noAuth];
  const w = new Writer(4);
  w.u8(0x05).vec(1, Uint8Array.from(methods));
  return w.finish();
}

/** Returns the RFC 1929, Section 2 request: VER 1, ULEN, UNAME, PLEN, PASSWD (UTF-8). */
export function encodeSocks5Auth(username: string, password: string): Uint8Array {
  const w = new Writer(3 + username.length + password.length);
  w.u8(0x01)
    .vec(1, new Uint8Array(Buffer.from(username, 'utf8')))
    .vec(1, new Uint8Array(Buffer.from(password, 'utf8')));
  return w.finish();
}

/**
 * Returns the CONNECT request (RFC 1928, Section 4): VER 5, CMD 1 (CONNECT), RSV 0, then DST.ADDR as
 * an IPv4 or IPv6 address when `target` is a literal, else as a DOMAINNAME the proxy resolves, and
 * DST.PORT. Throws TypeError for a name longer than 255 bytes.
 */
export function encodeSocks5Connect(target: string, port: number): Uint8Array {
  const w = new Writer(32);
  w.u8(0x05).u8(0x01).u8(0x00);
  const family = isIP(target);
  if (family === 4) {
    w.u8(SocksAddressType.ipv4).bytes(Uint8Array.from(target.split('.').map(Number)));
  } else if (family === 6) {
    w.u8(SocksAddressType.ipv6).bytes(ipv6Bytes(target));
  } else {
    const name = new Uint8Array(Buffer.from(target, 'latin1'));
    if (name.length > SOCKS5_DOMAIN_MAX_BYTES)
      throw new TypeError(`a SOCKS5 domain name is at most ${SOCKS5_DOMAIN_MAX_BYTES} bytes (RFC 1928, Section 5)`);
    w.u8(SocksAddressType.domainName).vec(1, name);
  }
  w.u16(port);
  return w.finish();
}

/** Returns the 16 bytes of an IPv6 literal (RFC 4291, Section 2.2 text forms, embedded IPv4 included). */
function ipv6Bytes(text: string): Uint8Array {
  let s = text.replace(/%.*$/, ''); // a zone id is local to this host: not sent
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    s = `${s.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, null];
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === null ? [] : parse(tail);
  const groups =
    tail === null ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** A parsed SOCKS5 reply (RFC 1928, Section 6). */
export interface Socks5Reply {
  readonly reply: number;
  readonly boundAddress: string;
  readonly boundPort: number;
  /** Bytes of the reply: what follows belongs to the tunnel. */
  readonly length: number;
}

/**
 * Returns the SOCKS5 reply at the start of `buf`, or null when it is not complete yet. Throws
 * DecodeError for a version other than 5 or an unknown address type.
 *
 *   +----+-----+-------+------+----------+----------+
 *   |VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |
 *   +----+-----+-------+------+----------+----------+
 *   | 1  |  1  | X'00' |  1   | Variable |    2     |
 */
export function readSocks5Reply(buf: Uint8Array): Socks5Reply | null {
  if (buf.length < 5) return null;
  const r = new Reader(buf, 'Socks5Reply');
  if (r.u8('VER') !== 0x05) r.fail('bad-value', 'SOCKS version is not 5', 'VER', 0);
  const reply = r.u8('REP');
  r.skip(1, 'RSV');
  const atyp = r.u8('ATYP');
  const addrLength =
    atyp === SocksAddressType.ipv4
      ? 4
      : atyp === SocksAddressType.ipv6
        ? 16
        : atyp === SocksAddressType.domainName
          ? 1 + buf[4]!
          : r.fail('bad-value', `unknown address type ${atyp}`, 'ATYP', 3);
  if (buf.length < 4 + addrLength + 2) return null;
  const addr = r.bytes(addrLength, 'BND.ADDR');
  const boundPort = r.u16('BND.PORT');
  const boundAddress =
    atyp === SocksAddressType.ipv4
      ? Array.from(addr).join('.')
      : atyp === SocksAddressType.ipv6
        ? Array.from({ length: 8 }, (_, i) => ((addr[2 * i]! << 8) | addr[2 * i + 1]!).toString(16)).join(':')
        : Buffer.from(addr.subarray(1)).toString('latin1');
  return { reply, boundAddress, boundPort, length: r.offset };
}

function socks5Dialogue(via: Socks5Via, target: string, port: number): Dialogue {
  const withCredentials = via.username !== undefined;
  let state: 'method' | 'auth' | 'connect' = 'method';
  let buf: Uint8Array = new Uint8Array(0);
  let total = 0;
  const failed = (end: 'proxy-error' | 'proxy-auth-required', code: string, reply: string): DialogueStep => ({
    kind: 'failed',
    end,
    code,
    reply,
  });
  const connect = encodeSocks5Connect(target, port);
  return {
    opening: encodeSocks5Greeting(withCredentials),
    push(chunk: Uint8Array): DialogueStep {
      total += chunk.length;
      if (total > PROXY_REPLY_MAX_BYTES)
        return failed(
          'proxy-error',
          'SOCKS5_REPLY_TOO_LONG',
          `more than ${PROXY_REPLY_MAX_BYTES} bytes before the tunnel was up`,
        );
      buf = concatBytes(buf, chunk);
      const sends: Uint8Array[] = [];
      for (;;) {
        if (state === 'method') {
          if (buf.length < 2) break;
          const [ver, method] = [buf[0]!, buf[1]!];
          buf = buf.subarray(2);
          if (ver !== 0x05)
            return failed('proxy-error', 'SOCKS5_BAD_REPLY', `not a SOCKS5 server (version byte ${ver})`);
          if (method === SocksMethod.noAcceptable) {
            // RFC 1928, Section 3: X'FF' = none of our methods is acceptable. Offering only "no
            // authentication" and hearing this means the proxy wants credentials.
            return withCredentials
              ? failed(
                  'proxy-error',
                  'SOCKS5_NO_ACCEPTABLE_METHOD',
                  "the proxy accepts neither no-authentication nor username/password (RFC 1928 method X'FF')",
                )
              : failed(
                  'proxy-auth-required',
                  'SOCKS5_AUTH_REQUIRED',
                  "the proxy requires authentication (RFC 1928 method X'FF' to an offer of no-authentication)",
                );
          }
          if (method === SocksMethod.noAuth) {
            state = 'connect';
            sends.push(connect);
          } else if (method === SocksMethod.userPassword && withCredentials) {
            state = 'auth';
            sends.push(encodeSocks5Auth(via.username!, via.password ?? ''));
          } else {
            return failed('proxy-error', 'SOCKS5_BAD_REPLY', `the proxy chose method ${method}, which was not offered`);
          }
          continue;
        }
        if (state === 'auth') {
          if (buf.length < 2) break;
          const status = buf[1]!;
          buf = buf.subarray(2);
          // RFC 1929, Section 2: STATUS X'00' is success; anything else, and the server closes.
          if (status !== 0x00)
            return failed(
              'proxy-auth-required',
              'SOCKS5_AUTH_FAILED',
              `the proxy rejected the user name and password (RFC 1929 status ${status})`,
            );
          state = 'connect';
          sends.push(connect);
          continue;
        }
        // A refusal is decided by VER and REP alone: some servers send a short reply and close.
        if (buf.length >= 2 && buf[0] === 0x05 && buf[1] !== 0x00) {
          const rep = buf[1]!;
          return failed(
            'proxy-error',
            `SOCKS5_REP_${rep.toString(16).padStart(2, '0').toUpperCase()}`,
            `SOCKS5 reply ${rep}: ${SOCKS5_REPLIES[rep] ?? 'unassigned'}`,
          );
        }
        let reply: Socks5Reply | null;
        try {
          reply = readSocks5Reply(buf);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          return failed('proxy-error', 'SOCKS5_BAD_REPLY', e.message);
        }
        if (reply === null) break;
        // The proxy answered a request we had not sent yet: whatever it is, it is not RFC 1928.
        if (sends.length > 0)
          return failed(
            'proxy-error',
            'SOCKS5_BAD_REPLY',
            'a CONNECT reply arrived before the CONNECT request was sent',
          );
        return { kind: 'ready', rest: buf.slice(reply.length) };
      }
      return sends.length > 0 ? { kind: 'continue', send: concatBytes(...sends) } : { kind: 'continue' };
    },
  };
}

/** Returns `s` with control and non-ASCII characters as '.', cut at `REPLY_PREVIEW_CHARS`. */
export function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '.');
  return clean.length > REPLY_PREVIEW_CHARS ? `${clean.slice(0, REPLY_PREVIEW_CHARS)}…` : clean;
}
