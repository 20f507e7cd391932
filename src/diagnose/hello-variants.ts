/**
 * One-dimension changes to a ClientHello, for bisection: each function returns a new `ClientHello`
 * (the input is never changed) that differs from its input in one dimension only — its size (RFC
 * 7685 padding), the renegotiation SCSV (RFC 5746), SNI, the suite list, the group list, the key
 * shares, the signature schemes, or one extension. `recordBytes` returns what a hello costs on the
 * wire. Throws only for caller mistakes (a padding target out of range is null, not an error).
 */
import { encodeClientHello, type ClientHello } from '../tls/client-hello.js';
import type { Extension } from '../tls/extensions.js';
import { generateKeyShare, SUPPORTED_KEY_SHARE_GROUPS, type KeyShareKeyPair } from '../tls/key-schedule.js';
import { encodeRecords } from '../tls/record.js';
import { ContentType, ExtensionType, ProtocolVersion } from '../tls/registry.js';

/** RFC 5746, Section 3.3: TLS_EMPTY_RENEGOTIATION_INFO_SCSV. */
export const RENEGOTIATION_SCSV = 0x00ff;

/**
 * RFC 8446, Section 5.1: a record carries at most 2^14 bytes of plaintext. Bisection keeps hellos in
 * one record, so a size is always "one record of N bytes, header included".
 */
export const MAX_SINGLE_RECORD_BYTES = 5 + (1 << 14);

/** Returns the bytes `hello` takes on the wire: its record(s), headers included. */
export function recordBytes(hello: ClientHello, recordVersion: number = ProtocolVersion.TLS1_0): number {
  return encodeRecords(ContentType.handshake, recordVersion, encodeClientHello(hello)).length;
}

/** Returns `hello` without its padding extension (RFC 7685). */
export function withoutPadding(hello: ClientHello): ClientHello {
  if (!hello.extensions?.some((e) => e.kind === 'padding' || e.type === ExtensionType.padding)) return hello;
  return { ...hello, extensions: hello.extensions.filter((e) => e.type !== ExtensionType.padding) };
}

/** Returns the smallest record size `withPadding` can reach for `hello` (its unpadded size, or that plus the padding header). */
export function smallestPaddedBytes(hello: ClientHello, recordVersion?: number): number {
  const bare = withoutPadding(hello);
  return recordBytes({ ...bare, extensions: [...(bare.extensions ?? []), padding(0)] }, recordVersion);
}

function padding(n: number): Extension {
  return { kind: 'padding', type: 0x0015, data: new Uint8Array(n) };
}

/**
 * Returns `hello` padded (RFC 7685, extension 21, zero bytes) so that its record is exactly `target`
 * bytes, any earlier padding replaced; or the unpadded hello when that is exactly `target`; or null
 * when `target` is smaller than the hello or larger than one record.
 */
export function withPadding(hello: ClientHello, target: number, recordVersion?: number): ClientHello | null {
  const bare = withoutPadding(hello);
  if (recordBytes(bare, recordVersion) === target) return bare;
  if (target > MAX_SINGLE_RECORD_BYTES) return null;
  const need = target - smallestPaddedBytes(bare, recordVersion);
  if (need < 0) return null;
  return { ...bare, extensions: [...(bare.extensions ?? []), padding(need)] };
}

/** Returns true when `hello` carries TLS_EMPTY_RENEGOTIATION_INFO_SCSV or renegotiation_info (RFC 5746, Section 3.4). */
export function hasRenegotiationSignal(hello: ClientHello): boolean {
  return (
    hello.cipherSuites.includes(RENEGOTIATION_SCSV) ||
    (hello.extensions ?? []).some((e) => e.type === ExtensionType.renegotiation_info)
  );
}

/** Returns `hello` with the SCSV appended to its suites (RFC 5746, Section 3.4). */
export function withScsv(hello: ClientHello): ClientHello {
  return hello.cipherSuites.includes(RENEGOTIATION_SCSV)
    ? hello
    : { ...hello, cipherSuites: [...hello.cipherSuites, RENEGOTIATION_SCSV] };
}

/** Returns the server_name extension of `hello`, if any. */
export function serverNameOf(hello: ClientHello): Extension | undefined {
  return (hello.extensions ?? []).find((e) => e.type === ExtensionType.server_name);
}

/** Returns the name `hello` sends in server_name, or null. */
export function sniOf(hello: ClientHello): string | null {
  const e = serverNameOf(hello);
  return e?.kind === 'server_name' ? (e.names?.[0]?.name ?? null) : null;
}

/** Returns `hello` with server_name replaced by `ext` (undefined: removed); kept first, where clients send it. */
export function withServerName(hello: ClientHello, ext: Extension | undefined): ClientHello {
  const rest = (hello.extensions ?? []).filter((e) => e.type !== ExtensionType.server_name);
  return { ...hello, extensions: ext ? [ext, ...rest] : rest };
}

/** Returns `hello` with `suites` as its cipher suite list. */
export function withCipherSuites(hello: ClientHello, suites: readonly number[]): ClientHello {
  return { ...hello, cipherSuites: [...suites] };
}

/** Returns the groups of `hello`'s supported_groups, or null when it sends none. */
export function groupsOf(hello: ClientHello): readonly number[] | null {
  const e = (hello.extensions ?? []).find((x) => x.type === ExtensionType.supported_groups);
  return e?.kind === 'supported_groups' ? e.groups : null;
}

/** Returns the shares of `hello`'s key_share, or null when it sends none. */
export function keySharesOf(
  hello: ClientHello,
): readonly { readonly group: number; readonly keyExchange: Uint8Array }[] | null {
  const e = (hello.extensions ?? []).find((x) => x.type === ExtensionType.key_share);
  return e?.kind === 'key_share' ? (e.shares ?? []) : null;
}

/** RFC 8446, Section 4.2.8: the key_share body size, client_shares<0..2^16-1>. */
export function keyShareBytes(hello: ClientHello): number {
  const shares = keySharesOf(hello);
  return shares === null ? 0 : 2 + shares.reduce((n, s) => n + 4 + s.keyExchange.length, 0);
}

/** Returns the schemes of `hello`'s signature_algorithms, or null when it sends none. */
export function signatureSchemesOf(hello: ClientHello): readonly number[] | null {
  const e = (hello.extensions ?? []).find((x) => x.type === ExtensionType.signature_algorithms);
  return e?.kind === 'signature_algorithms' ? e.schemes : null;
}

/** A hello with the private halves of the key shares it sends (TLS 1.3). */
export interface KeyedHello {
  readonly hello: ClientHello;
  readonly keyPairs: readonly KeyShareKeyPair[];
}

/**
 * Returns `h` with `groups` as its supported_groups and its key shares kept only for those groups
 * (RFC 8446, Section 4.2.8: a share's group must be offered); when none is left and the hello sent
 * shares, one share for the first group of `groups` we can compute.
 */
export function withGroups(h: KeyedHello, groups: readonly number[]): KeyedHello {
  const exts: Extension[] = [];
  let keyPairs = h.keyPairs.filter((p) => groups.includes(p.group));
  for (const e of h.hello.extensions ?? []) {
    if (e.kind === 'supported_groups') {
      exts.push({ ...e, groups: [...groups] });
    } else if (e.kind === 'key_share') {
      let shares = (e.shares ?? []).filter((s) => groups.includes(s.group));
      if (shares.length === 0 && (e.shares ?? []).length > 0) {
        const g = groups.find((x) => SUPPORTED_KEY_SHARE_GROUPS.includes(x));
        if (g !== undefined) {
          const pair = generateKeyShare(g);
          keyPairs = [pair];
          shares = [{ group: g, keyExchange: pair.publicKey }];
        }
      }
      exts.push({ ...e, shares });
    } else {
      exts.push(e);
    }
  }
  return { hello: { ...h.hello, extensions: exts }, keyPairs };
}

/**
 * Returns `h` with its key shares replaced by one share, for the smallest group it offers that we
 * can compute (x25519 first), or null when it sends no key_share or no such group is offered.
 */
export function withOneSmallShare(h: KeyedHello): KeyedHello | null {
  const offered = groupsOf(h.hello) ?? [];
  const shares = keySharesOf(h.hello);
  if (shares === null) return null;
  const g = SUPPORTED_KEY_SHARE_GROUPS.find((x) => offered.includes(x));
  if (g === undefined) return null;
  const pair = h.keyPairs.find((p) => p.group === g) ?? generateKeyShare(g);
  const exts = (h.hello.extensions ?? []).map(
    (e): Extension => (e.kind === 'key_share' ? { ...e, shares: [{ group: g, keyExchange: pair.publicKey }] } : e),
  );
  return { hello: { ...h.hello, extensions: exts }, keyPairs: [pair] };
}

/** Returns `hello` with `schemes` as its signature_algorithms. */
export function withSignatureSchemes(hello: ClientHello, schemes: readonly number[]): ClientHello {
  return {
    ...hello,
    extensions: (hello.extensions ?? []).map(
      (e): Extension => (e.kind === 'signature_algorithms' ? { ...e, schemes: [...schemes] } : e),
    ),
  };
}

/** Returns `hello` without extension `type`. */
export function withoutExtension(hello: ClientHello, type: number): ClientHello {
  return { ...hello, extensions: (hello.extensions ?? []).filter((e) => e.type !== type) };
}
