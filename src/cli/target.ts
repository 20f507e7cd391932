/** Parsing and validating HOST[:PORT] targets given on the command line. */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { UserError } from './exit-codes.js';

export interface TargetSpec {
  readonly host: string;
  readonly port: number;
}

/** RFC 1123 host names: labels of letters, digits and hyphens, 253 characters at most. */
const HOST_NAME =
  /^(?=.{1,253}\.?$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** Returns the port number in `text`, or throws UserError. */
export function parsePort(text: string, what = 'port'): number {
  if (!/^\d{1,5}$/.test(text)) throw new UserError(`${what} "${text}" is not a number from 1 to 65535`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw new UserError(`${what} ${n} is out of range (1-65535)`);
  return n;
}

/**
 * Returns host and port from `HOST`, `HOST:PORT`, `[IPv6]:PORT` or a bare IPv6 literal; throws
 * UserError with a one-line reason for anything else (URLs, paths, spaces, bad ports).
 */
export function parseTarget(text: string, defaultPort = 443): TargetSpec {
  // Note: a bare IPv6 literal takes no port (`::1:443` is the address ::1:443); write [::1]:443.
  const t = text.trim();
  if (t === '') throw new UserError('empty target: give HOST or HOST:PORT');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) {
    throw new UserError(
      `"${text}" looks like a URL: give HOST or HOST:PORT (for example ${t.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0]})`,
    );
  }
  let host: string;
  let port = defaultPort;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(t);
  if (bracket) {
    host = bracket[1]!;
    if (isIP(host) !== 6) throw new UserError(`"${host}" in brackets is not an IPv6 address`);
    if (bracket[2] !== undefined) port = parsePort(bracket[2]);
    return { host, port };
  }
  // An IPv6 literal has two colons at least; asking isIP only then spares every HOST:PORT the
  // first-use compile of Node's IPv6 pattern (~9 ms of a whole-process scan).
  if (t.indexOf(':') !== t.lastIndexOf(':') && isIP(t) === 6) return { host: t, port };
  const colon = t.lastIndexOf(':');
  if (colon >= 0) {
    host = t.slice(0, colon);
    port = parsePort(t.slice(colon + 1));
  } else {
    host = t;
  }
  if (isIP(host) === 4) return { host, port };
  // Internationalised names go on the wire in their ASCII (xn--) form (RFC 5890): SNI and DNS both.
  if (/[^\x00-\x7f]/.test(host)) {
    const ascii = domainToASCII(host);
    if (ascii === '') throw new UserError(`"${host}" is not a valid host name or IP address`);
    host = ascii;
  }
  if (!HOST_NAME.test(host)) throw new UserError(`"${host}" is not a valid host name or IP address`);
  // A last label of digits (or 0x…) is an IP address in disguise (2130706433, 127.1, 0x7f.1): the
  // resolver would turn it into an address we did not show, and it would go out as SNI.
  const last = host.replace(/\.$/, '').split('.').at(-1)!;
  if (/^(?:\d+|0x[0-9a-f]*)$/i.test(last)) {
    throw new UserError(
      `"${host}" is not a valid host name, and not an IP address in dotted form (write IPv4 as a.b.c.d)`,
    );
  }
  return { host: host.toLowerCase(), port };
}

/** Returns milliseconds from a seconds option (decimals allowed), or throws UserError. */
export function secondsOption(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600)
    throw new UserError(`--${name} takes seconds, more than 0 and at most 3600 (got ${String(value)})`);
  return Math.round(n * 1000);
}
