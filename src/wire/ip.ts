/**
 * IP address text (X.509 iPAddress names, packet headers): returns the text form of 4- or 16-octet addresses
 * (dotted IPv4, RFC 5952 IPv6) and parses host strings back to octets (`null` when not an address).
 */
import { isIPv4, isIPv6 } from 'node:net';

/**
 * Returns dotted-quad text for 4 octets, RFC 5952 text for 16 octets (lowercase, no leading zeros,
 * the first longest run of two or more zero groups as `::`), and `#` + hex for any other length
 * (RFC 5280, Section 4.2.1.6 allows only 4 and 16 in a SAN).
 */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) return `#${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // RFC 5952, Section 4.2.3: compress the longest run of zero groups (the first when tied), never a single one.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Returns the octets of an IPv4 or IPv6 literal (brackets, a trailing `%zone` and surrounding
 * whitespace are not accepted), or `null` when `text` is not an IP address.
 */
export function parseIp(text: string): Uint8Array | null {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (!isIPv6(text) || text.includes('%')) return null;
  let head = text;
  const out = new Uint8Array(16);
  // An embedded IPv4 tail (RFC 4291, Section 2.2, form 3) fills the last four octets.
  let tailV4: number[] | null = null;
  const lastColon = head.lastIndexOf(':');
  if (head.slice(lastColon + 1).includes('.')) {
    tailV4 = head
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    head = `${head.slice(0, lastColon + 1)}0:0`;
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const leftGroups = left ? left.split(':') : [];
  const rightGroups = right ? right.split(':') : [];
  const groups =
    right === undefined
      ? leftGroups
      : [...leftGroups, ...new Array<string>(8 - leftGroups.length - rightGroups.length).fill('0'), ...rightGroups];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (tailV4) out.set(tailV4, 12);
  return out;
}
