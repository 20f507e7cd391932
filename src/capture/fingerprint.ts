/**
 * Returns the JA3, JA3S and JA4 fingerprints of ClientHello / ServerHello facts; nothing here
 * throws for any parsed hello.
 *
 * - JA3 (salesforce/ja3, README "How it works"): the decimal string
 *   `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats` with list values joined by
 *   `-`, GREASE values (RFC 8701) left out, then its MD5 in lowercase hex. SSLVersion is the
 *   ClientHello's `legacy_version`; an absent list is an empty field.
 * - JA3S: `SSLVersion,Cipher,Extensions` of the ServerHello, same rules.
 * - JA4 (FoxIO-LLC/ja4, technical_details/JA4.md, BSD-3-Clause): the client fingerprint only,
 *   `t13d1516h2_8daaf6152771_b186095e22b6`. JA4S, JA4X and the other JA4+ methods are under the
 *   FoxIO License and deliberately not implemented.
 *
 * GREASE is filtered here, while the fingerprint is built: the parsed hellos keep every value.
 */
import { createHash } from 'node:crypto';
import type { ClientHello } from '../tls/client-hello.js';
import type { ServerHello } from '../tls/server-hello.js';
import type { Extension } from '../tls/extensions.js';
import { findExtension } from '../tls/extensions.js';
import { isGrease } from '../tls/grease.js';
import { ExtensionType } from '../tls/registry.js';
import type { ClientHelloFact, ConnectionFacts, ServerHelloFact } from './facts.js';

export interface Ja3 {
  /** The JA3 string before hashing. */
  readonly text: string;
  /** MD5 of `text`, lowercase hex. */
  readonly hash: string;
}

/** The transport a hello travelled over: JA4's first character. */
export type Ja4Transport = 'tcp' | 'quic' | 'dtls';

const md5 = (s: string): string => createHash('md5').update(s, 'latin1').digest('hex');
const sha256 = (s: string): string => createHash('sha256').update(s, 'latin1').digest('hex');

const noGrease = (values: readonly number[]): number[] => values.filter((v) => !isGrease(v));

/** Returns the extension's `supported_groups` list, or null when absent or undecodable. */
function groupsOf(exts: readonly Extension[] | null): readonly number[] | null {
  return findExtension(exts, 'supported_groups')?.groups ?? null;
}

/** Returns the JA3 of a ClientHello. */
export function ja3(ch: ClientHello): Ja3 {
  const exts = ch.extensions ?? [];
  const fields = [
    String(ch.legacyVersion),
    noGrease(ch.cipherSuites).join('-'),
    noGrease(exts.map((e) => e.type)).join('-'),
    noGrease(groupsOf(ch.extensions) ?? []).join('-'),
    (findExtension(ch.extensions, 'ec_point_formats')?.formats ?? []).join('-'),
  ];
  const text = fields.join(',');
  return { text, hash: md5(text) };
}

/** Returns the JA3S of a ServerHello (HelloRetryRequests included: they are ServerHellos on the wire). */
export function ja3s(sh: ServerHello): Ja3 {
  const exts = sh.extensions ?? [];
  const text = [String(sh.legacyVersion), String(sh.cipherSuite), noGrease(exts.map((e) => e.type)).join('-')].join(
    ',',
  );
  return { text, hash: md5(text) };
}

/** JA4.md "TLS and DTLS Version": the two characters of each known version; anything else is "00". */
const JA4_VERSIONS: ReadonlyMap<number, string> = new Map([
  [0x0304, '13'],
  [0x0303, '12'],
  [0x0302, '11'],
  [0x0301, '10'],
  [0x0300, 's3'],
  [0x0002, 's2'],
  [0xfeff, 'd1'],
  [0xfefd, 'd2'],
  [0xfefc, 'd3'],
]);

/** JA4.md "Cipher hash" / "Extension hash": an empty list hashes to twelve zeros, not SHA-256(""). */
const EMPTY_HASH = '000000000000';

const hex4 = (v: number): string => v.toString(16).padStart(4, '0');

const isAlnum = (b: number): boolean =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

/**
 * JA4.md "ALPN Extension Value": first and last character of the first protocol; "00" when there is
 * none or it is empty; the first and last hex digit of the value when either end byte is not ASCII
 * alphanumeric.
 */
function alpnChars(ch: ClientHello): string {
  const first = findExtension(ch.extensions, 'alpn')?.protocols[0];
  if (first === undefined || first.length === 0) return '00';
  const a = first.charCodeAt(0);
  const z = first.charCodeAt(first.length - 1);
  if (isAlnum(a) && isAlnum(z)) return String.fromCharCode(a) + String.fromCharCode(z);
  const hex = Buffer.from(first, 'latin1').toString('hex');
  return hex[0]! + hex[hex.length - 1]!;
}

/** Returns the JA4 version characters: highest non-GREASE supported_versions entry, else legacy_version. */
function ja4Version(ch: ClientHello): string {
  const sv = findExtension(ch.extensions, 'supported_versions')?.versions;
  const listed = sv ? noGrease(sv) : [];
  const v = listed.length > 0 ? Math.max(...listed) : ch.legacyVersion;
  return JA4_VERSIONS.get(v) ?? '00';
}

const twoDigits = (n: number): string => String(Math.min(n, 99)).padStart(2, '0');

export interface Ja4 {
  /** `t13d1516h2_8daaf6152771_b186095e22b6`. */
  readonly fingerprint: string;
  /** JA4_r: the same with the sorted lists in clear instead of hashed. */
  readonly raw: string;
}

/** Returns the JA4 of a ClientHello sent over `transport` (TLS over TCP by default). */
export function ja4(ch: ClientHello, transport: Ja4Transport = 'tcp'): Ja4 {
  const exts = ch.extensions ?? [];
  const ciphers = noGrease(ch.cipherSuites);
  const extTypes = noGrease(exts.map((e) => e.type));
  const sni = exts.some((e) => e.type === ExtensionType.server_name) ? 'd' : 'i';
  const a = `${transport === 'tcp' ? 't' : transport === 'quic' ? 'q' : 'd'}${ja4Version(ch)}${sni}${twoDigits(ciphers.length)}${twoDigits(extTypes.length)}${alpnChars(ch)}`;

  const sortedCiphers = ciphers.map(hex4).sort().join(',');
  // SNI and ALPN are already in part a, so the c part stays the same whatever the destination.
  const sortedExts = extTypes
    .filter((t) => t !== ExtensionType.server_name && t !== ExtensionType.application_layer_protocol_negotiation)
    .map(hex4)
    .sort()
    .join(',');
  const sigExt = exts.find((e) => e.type === ExtensionType.signature_algorithms);
  const sigs = sigExt?.kind === 'signature_algorithms' ? noGrease(sigExt.schemes).map(hex4).join(',') : '';
  const c = sigs.length > 0 ? `${sortedExts}_${sigs}` : sortedExts;

  const b = sortedCiphers.length > 0 ? sha256(sortedCiphers).slice(0, 12) : EMPTY_HASH;
  const cHash = sortedExts.length > 0 ? sha256(c).slice(0, 12) : EMPTY_HASH;
  return { fingerprint: `${a}_${b}_${cHash}`, raw: `${a}_${sortedCiphers}_${c}` };
}

/** JA3 and JA4 of a ClientHello (null for an SSLv2-compatible hello, which neither covers). */
export interface ClientHelloFingerprints {
  readonly ja3: Ja3 | null;
  readonly ja4: Ja4 | null;
}

export interface ConnectionFingerprints {
  readonly clientHello: ClientHelloFingerprints | null;
  readonly retryClientHello: ClientHelloFingerprints | null;
  readonly serverHello: Ja3 | null;
  readonly helloRetryRequest: Ja3 | null;
}

function helloPrints(f: ClientHelloFact | null): ClientHelloFingerprints | null {
  if (f === null) return null;
  if (f.format === 'sslv2') return { ja3: null, ja4: null };
  return { ja3: ja3(f.hello), ja4: ja4(f.hello) };
}

const serverPrint = (f: ServerHelloFact | null): Ja3 | null => (f === null ? null : ja3s(f.hello));

/** Returns the fingerprints of the connection's hellos. */
export function fingerprintConnection(c: ConnectionFacts): ConnectionFingerprints {
  return {
    clientHello: helloPrints(c.clientHello),
    retryClientHello: helloPrints(c.retryClientHello),
    serverHello: serverPrint(c.serverHello),
    helloRetryRequest: serverPrint(c.helloRetryRequest),
  };
}
