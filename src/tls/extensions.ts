/**
 * Hello extensions: one ordered list of a union on `kind`, read and written side by side.
 *
 * The body of an extension depends on the message that carries it (supported_versions is a list in a
 * ClientHello and a single value in a ServerHello), so every reader takes an `ExtensionContext`.
 * Known extensions that fail to decode, or leave bytes over, become the `raw` arm with the error kept:
 * an analyzer reports, it does not reject. Unknown extensions are kept raw, in wire order.
 *
 * Every arm holds exactly what the wire said, so `write(read(bytes))` reproduces the bytes.
 */
import type { Reader } from '../wire/reader.js';
import type { Writer } from '../wire/writer.js';
import { DecodeError } from '../wire/errors.js';
import { readU16List, writeU16List } from '../wire/codec.js';
import { EXTENSION_TYPES, ExtensionType, nameOf } from './registry.js';

/** Which message an extension block belongs to; decides the shape of several bodies. */
export type ExtensionContext =
  | 'client_hello'
  | 'server_hello'
  | 'hello_retry_request'
  | 'encrypted_extensions'
  | 'certificate'
  | 'other';

export interface ServerNameEntry {
  /** 0 = host_name (RFC 6066, Section 3). */
  readonly nameType: number;
  /** The name bytes as latin1, so that any byte round-trips. */
  readonly name: string;
}

export interface KeyShareEntry {
  readonly group: number;
  readonly keyExchange: Uint8Array;
}

export interface PskIdentity {
  readonly identity: Uint8Array;
  readonly obfuscatedTicketAge: number;
}

export type Extension =
  /** RFC 6066, Section 3. `names` is null for the empty body a server echoes. */
  | { readonly kind: 'server_name'; readonly type: 0x0000; readonly names: readonly ServerNameEntry[] | null }
  /** RFC 6066, Section 4. */
  | { readonly kind: 'max_fragment_length'; readonly type: 0x0001; readonly value: number }
  /** RFC 6066, Section 8. `request` is null for the empty body a server echoes. */
  | {
      readonly kind: 'status_request';
      readonly type: 0x0005;
      readonly request: {
        readonly statusType: number;
        readonly responderIdList: Uint8Array;
        readonly requestExtensions: Uint8Array;
      } | null;
    }
  /** RFC 8446, Section 4.2.7 (RFC 8422 calls it elliptic_curves). */
  | { readonly kind: 'supported_groups'; readonly type: 0x000a; readonly groups: readonly number[] }
  /** RFC 8422, Section 5.1.2. */
  | { readonly kind: 'ec_point_formats'; readonly type: 0x000b; readonly formats: readonly number[] }
  /**
   * RFC 8446, Section 4.2.3: signature_algorithms and signature_algorithms_cert; RFC 9345, Section
   * 4.1.1: delegated_credential in a ClientHello has the same SignatureSchemeList body.
   */
  | {
      readonly kind: 'signature_algorithms';
      readonly type: 0x000d | 0x0032 | 0x0022;
      readonly schemes: readonly number[];
    }
  /** RFC 7301, Section 3.1. Protocol names as latin1. */
  | { readonly kind: 'alpn'; readonly type: 0x0010; readonly protocols: readonly string[] }
  /** RFC 7685. Should be all zeros; kept as sent. */
  | { readonly kind: 'padding'; readonly type: 0x0015; readonly data: Uint8Array }
  /** RFC 8879. */
  | { readonly kind: 'compress_certificate'; readonly type: 0x001b; readonly algorithms: readonly number[] }
  /** RFC 8449. */
  | { readonly kind: 'record_size_limit'; readonly type: 0x001c; readonly limit: number }
  /** RFC 5077, Section 3.2. Empty, or a ticket. */
  | { readonly kind: 'session_ticket'; readonly type: 0x0023; readonly ticket: Uint8Array }
  /** RFC 8446, Section 4.2.11. ClientHello: identities + binders; ServerHello: the selected index. */
  | {
      readonly kind: 'pre_shared_key';
      readonly type: 0x0029;
      readonly identities: readonly PskIdentity[] | null;
      readonly binders: readonly Uint8Array[] | null;
      readonly selectedIdentity: number | null;
    }
  /** RFC 8446, Section 4.2.1. ClientHello: `versions`; ServerHello/HRR: `selected`. */
  | {
      readonly kind: 'supported_versions';
      readonly type: 0x002b;
      readonly versions: readonly number[] | null;
      readonly selected: number | null;
    }
  /** RFC 8446, Section 4.2.2. */
  | { readonly kind: 'cookie'; readonly type: 0x002c; readonly cookie: Uint8Array }
  /** RFC 8446, Section 4.2.9. */
  | { readonly kind: 'psk_key_exchange_modes'; readonly type: 0x002d; readonly modes: readonly number[] }
  /**
   * RFC 8446, Section 4.2.8. ClientHello: `shares`; ServerHello: one share in `shares`;
   * HelloRetryRequest: `selectedGroup` only.
   */
  | {
      readonly kind: 'key_share';
      readonly type: 0x0033;
      readonly shares: readonly KeyShareEntry[] | null;
      readonly selectedGroup: number | null;
    }
  /** RFC 5746, Section 3.2. */
  | { readonly kind: 'renegotiation_info'; readonly type: 0xff01; readonly renegotiatedConnection: Uint8Array }
  /** Extensions whose body must be empty: extended_master_secret, encrypt_then_mac, post_handshake_auth, early_data (hellos). */
  | { readonly kind: 'flag'; readonly type: number }
  /** Unknown extensions, and known ones that did not decode (`error` says why). */
  | { readonly kind: 'raw'; readonly type: number; readonly data: Uint8Array; readonly error?: DecodeError };

export type ExtensionKind = Extension['kind'];

/** Extension types whose body is empty in hellos. */
const FLAG_TYPES: ReadonlySet<number> = new Set([
  ExtensionType.encrypt_then_mac, // RFC 7366
  ExtensionType.extended_master_secret, // RFC 7627
  ExtensionType.post_handshake_auth, // RFC 8446, Section 4.2.6
  ExtensionType.early_data, // RFC 8446, Section 4.2.10 (empty in ClientHello and EncryptedExtensions)
]);

/** RFC 9345: delegated_credential. */
const DELEGATED_CREDENTIAL = 0x0022;

/** The DNS host name of a server_name entry (RFC 6066 name_type 0). */
export const SNI_HOST_NAME = 0;

function isClientSide(ctx: ExtensionContext): boolean {
  return ctx === 'client_hello';
}

/** Reads one extension body (the bytes inside the extension's own length prefix). */
function readBody(type: number, body: Reader, ctx: ExtensionContext): Extension {
  switch (type) {
    case ExtensionType.server_name: {
      // RFC 6066, Section 3: struct { NameType name_type; HostName host_name<1..2^16-1>; } ServerName;
      //                      struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
      if (!body.anyLeft) return { kind: 'server_name', type: 0x0000, names: null };
      const list = body.sub(2, 'server_name_list', { min: 1 });
      const names: ServerNameEntry[] = [];
      while (list.anyLeft) {
        const nameType = list.u8('name_type');
        names.push({ nameType, name: list.latin1(2, 'host_name', { min: 1 }) });
      }
      return { kind: 'server_name', type: 0x0000, names };
    }
    case ExtensionType.max_fragment_length:
      return { kind: 'max_fragment_length', type: 0x0001, value: body.u8('max_fragment_length') };
    case ExtensionType.status_request: {
      // RFC 6066, Section 8: CertificateStatusType status_type; OCSPStatusRequest request;
      //   struct { ResponderID responder_id_list<0..2^16-1>; Extensions request_extensions; }
      if (!body.anyLeft) return { kind: 'status_request', type: 0x0005, request: null };
      const statusType = body.u8('status_type');
      const responderIdList = body.vec(2, 'responder_id_list');
      const requestExtensions = body.vec(2, 'request_extensions');
      return { kind: 'status_request', type: 0x0005, request: { statusType, responderIdList, requestExtensions } };
    }
    case ExtensionType.supported_groups:
      // RFC 8446, Section 4.2.7: NamedGroup named_group_list<2..2^16-1>;
      return { kind: 'supported_groups', type: 0x000a, groups: readU16List(body, 2, 'named_group_list', { min: 2 }) };
    case ExtensionType.ec_point_formats: {
      // RFC 8422, Section 5.1.2: ECPointFormat ec_point_format_list<1..2^8-1>
      return { kind: 'ec_point_formats', type: 0x000b, formats: body.u8List(1, 'ec_point_format_list', { min: 1 }) };
    }
    case DELEGATED_CREDENTIAL:
      // RFC 9345, Section 4.1.1: in a ClientHello the body is a SignatureSchemeList; elsewhere a credential.
      if (ctx !== 'client_hello') return { kind: 'raw', type, data: body.rest() };
      return {
        kind: 'signature_algorithms',
        type: 0x0022,
        schemes: readU16List(body, 2, 'supported_signature_algorithms', { min: 2 }),
      };
    case ExtensionType.signature_algorithms:
    case ExtensionType.signature_algorithms_cert:
      // RFC 8446, Section 4.2.3: SignatureScheme supported_signature_algorithms<2..2^16-2>;
      return {
        kind: 'signature_algorithms',
        type: type as 0x000d | 0x0032,
        schemes: readU16List(body, 2, 'supported_signature_algorithms', { min: 2 }),
      };
    case ExtensionType.application_layer_protocol_negotiation: {
      // RFC 7301, Section 3.1: ProtocolName protocol_name_list<2..2^16-1>; opaque ProtocolName<1..2^8-1>;
      const list = body.sub(2, 'protocol_name_list', { min: 2 });
      const protocols: string[] = [];
      while (list.anyLeft) protocols.push(list.latin1(1, 'protocol_name', { min: 1 }));
      return { kind: 'alpn', type: 0x0010, protocols };
    }
    case ExtensionType.padding:
      return { kind: 'padding', type: 0x0015, data: body.rest() };
    case ExtensionType.compress_certificate: {
      // RFC 8879, Section 3: CertificateCompressionAlgorithm algorithms<2..2^8-2>;
      return { kind: 'compress_certificate', type: 0x001b, algorithms: readU16List(body, 1, 'algorithms', { min: 2 }) };
    }
    case ExtensionType.record_size_limit:
      // RFC 8449, Section 4: uint16 RecordSizeLimit;
      return { kind: 'record_size_limit', type: 0x001c, limit: body.u16('record_size_limit') };
    case ExtensionType.session_ticket:
      return { kind: 'session_ticket', type: 0x0023, ticket: body.rest() };
    case ExtensionType.pre_shared_key: {
      // RFC 8446, Section 4.2.11
      if (!isClientSide(ctx)) {
        return {
          kind: 'pre_shared_key',
          type: 0x0029,
          identities: null,
          binders: null,
          selectedIdentity: body.u16('selected_identity'),
        };
      }
      // PskIdentity identities<7..2^16-1>; PskBinderEntry binders<33..2^16-1>;
      const idList = body.sub(2, 'identities', { min: 7 });
      const identities: PskIdentity[] = [];
      while (idList.anyLeft) {
        const identity = idList.vec(2, 'identity', { min: 1 });
        identities.push({ identity, obfuscatedTicketAge: idList.u32('obfuscated_ticket_age') });
      }
      const binderList = body.sub(2, 'binders', { min: 33 });
      const binders: Uint8Array[] = [];
      while (binderList.anyLeft) binders.push(binderList.vec(1, 'binder', { min: 32 }));
      return { kind: 'pre_shared_key', type: 0x0029, identities, binders, selectedIdentity: null };
    }
    case ExtensionType.supported_versions: {
      // RFC 8446, Section 4.2.1: ClientHello: ProtocolVersion versions<2..254>; ServerHello/HRR: selected_version
      if (isClientSide(ctx)) {
        const versions = readU16List(body, 1, 'versions', { min: 2, max: 254 });
        return { kind: 'supported_versions', type: 0x002b, versions, selected: null };
      }
      return { kind: 'supported_versions', type: 0x002b, versions: null, selected: body.u16('selected_version') };
    }
    case ExtensionType.cookie:
      // RFC 8446, Section 4.2.2: opaque cookie<1..2^16-1>;
      return { kind: 'cookie', type: 0x002c, cookie: body.vec(2, 'cookie', { min: 1 }) };
    case ExtensionType.psk_key_exchange_modes: {
      // RFC 8446, Section 4.2.9: PskKeyExchangeMode ke_modes<1..255>;
      return { kind: 'psk_key_exchange_modes', type: 0x002d, modes: body.u8List(1, 'ke_modes', { min: 1 }) };
    }
    case ExtensionType.key_share: {
      // RFC 8446, Section 4.2.8
      if (ctx === 'hello_retry_request') {
        return { kind: 'key_share', type: 0x0033, shares: null, selectedGroup: body.u16('selected_group') };
      }
      if (isClientSide(ctx)) {
        // KeyShareEntry client_shares<0..2^16-1>;
        const list = body.sub(2, 'client_shares');
        const shares: KeyShareEntry[] = [];
        while (list.anyLeft) shares.push(readKeyShareEntry(list));
        return { kind: 'key_share', type: 0x0033, shares, selectedGroup: null };
      }
      return { kind: 'key_share', type: 0x0033, shares: [readKeyShareEntry(body)], selectedGroup: null };
    }
    case ExtensionType.renegotiation_info:
      // RFC 5746, Section 3.2: opaque renegotiated_connection<0..255>;
      return {
        kind: 'renegotiation_info',
        type: 0xff01,
        renegotiatedConnection: body.vec(1, 'renegotiated_connection'),
      };
    default:
      if (FLAG_TYPES.has(type) && ctx !== 'other') return { kind: 'flag', type };
      return { kind: 'raw', type, data: body.rest() };
  }
}

function readKeyShareEntry(r: Reader): KeyShareEntry {
  // struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry;
  const group = r.u16('group');
  return { group, keyExchange: r.vec(2, 'key_exchange', { min: 1 }) };
}

function hex16(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}

function fromLatin1(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/**
 * Returns one extension read from `r`. A known extension whose body does not decode is returned as
 * the `raw` arm with `error` set; only a broken outer frame (type or length) throws.
 */
export function readExtension(r: Reader, ctx: ExtensionContext): Extension {
  const type = r.u16('extension_type');
  // A child over the body (no copy, no view until one is needed); the outer frame's errors (a
  // length past the list) throw from here.
  return readExtensionBody(type, r.subNamedLater(2, extensionField, type), ctx);
}

/** The path segment of an extension body in errors: its registry name, or its type in hex. */
export function extensionField(type: number): string {
  return nameOf(EXTENSION_TYPES, type) ?? hex16(type);
}

/**
 * Returns the extension of wire type `type` whose body is exactly `inner` (a reader over the bytes
 * inside its length prefix, named `extensionField(type)`). A body that does not decode becomes the
 * `raw` arm with `error` set; never throws a DecodeError.
 */
export function readExtensionBody(type: number, inner: Reader, ctx: ExtensionContext): Extension {
  try {
    const ext = readBody(type, inner, ctx);
    inner.end();
    return ext;
  } catch (e) {
    if (e instanceof DecodeError) return { kind: 'raw', type, data: inner.whole(), error: e };
    throw e;
  }
}

/** Reads a whole extension block (`Extension extensions<0..2^16-1>`) in wire order. */
export function readExtensions(r: Reader, ctx: ExtensionContext, field = 'extensions'): Extension[] {
  const list = r.sub(2, field);
  const out: Extension[] = [];
  while (list.anyLeft) out.push(readExtension(list, ctx));
  return out;
}

function writeBody(w: Writer, ext: Extension, ctx: ExtensionContext): void {
  switch (ext.kind) {
    case 'server_name':
      if (ext.names === null) return;
      w.prefixed(2, (w) => {
        for (const n of ext.names!) w.u8(n.nameType).vec(2, fromLatin1(n.name));
      });
      return;
    case 'max_fragment_length':
      w.u8(ext.value);
      return;
    case 'status_request':
      if (ext.request === null) return;
      w.u8(ext.request.statusType).vec(2, ext.request.responderIdList).vec(2, ext.request.requestExtensions);
      return;
    case 'supported_groups':
      writeU16List(w, 2, ext.groups);
      return;
    case 'ec_point_formats':
      w.vec(1, Uint8Array.from(ext.formats));
      return;
    case 'signature_algorithms':
      writeU16List(w, 2, ext.schemes);
      return;
    case 'alpn':
      w.prefixed(2, (w) => {
        for (const p of ext.protocols) w.vec(1, fromLatin1(p));
      });
      return;
    case 'padding':
      w.bytes(ext.data);
      return;
    case 'compress_certificate':
      writeU16List(w, 1, ext.algorithms);
      return;
    case 'record_size_limit':
      w.u16(ext.limit);
      return;
    case 'session_ticket':
      w.bytes(ext.ticket);
      return;
    case 'pre_shared_key':
      if (ext.selectedIdentity !== null) {
        w.u16(ext.selectedIdentity);
        return;
      }
      w.prefixed(2, (w) => {
        for (const id of ext.identities ?? []) w.vec(2, id.identity).u32(id.obfuscatedTicketAge);
      });
      w.prefixed(2, (w) => {
        for (const b of ext.binders ?? []) w.vec(1, b);
      });
      return;
    case 'supported_versions':
      if (ext.versions !== null) writeU16List(w, 1, ext.versions);
      else w.u16(ext.selected ?? 0);
      return;
    case 'cookie':
      w.vec(2, ext.cookie);
      return;
    case 'psk_key_exchange_modes':
      w.vec(1, Uint8Array.from(ext.modes));
      return;
    case 'key_share':
      if (ext.selectedGroup !== null) {
        w.u16(ext.selectedGroup);
        return;
      }
      if (isClientSide(ctx)) {
        w.prefixed(2, (w) => {
          for (const s of ext.shares ?? []) w.u16(s.group).vec(2, s.keyExchange);
        });
        return;
      }
      // A ServerHello carries one KeyShareEntry without a list prefix.
      for (const s of ext.shares ?? []) w.u16(s.group).vec(2, s.keyExchange);
      return;
    case 'renegotiation_info':
      w.vec(1, ext.renegotiatedConnection);
      return;
    case 'flag':
      return;
    case 'raw':
      w.bytes(ext.data);
      return;
  }
}

/** Writes one extension: type, then its body behind a back-patched 2-byte length. */
export function writeExtension(w: Writer, ext: Extension, ctx: ExtensionContext): void {
  w.u16(ext.type).prefixed(2, (w) => writeBody(w, ext, ctx));
}

/** Writes an extension block (`Extension extensions<0..2^16-1>`) in the given order. */
export function writeExtensions(w: Writer, exts: readonly Extension[], ctx: ExtensionContext): void {
  w.prefixed(2, (w) => {
    for (const e of exts) writeExtension(w, e, ctx);
  });
}

/** Returns the first extension of `kind`, or undefined. */
export function findExtension<K extends ExtensionKind>(
  exts: readonly Extension[] | null,
  kind: K,
): Extract<Extension, { kind: K }> | undefined {
  if (!exts) return undefined;
  for (const e of exts) if (e.kind === kind) return e as Extract<Extension, { kind: K }>;
  return undefined;
}

/** Returns the first extension with wire type `type`, or undefined. */
export function findExtensionByType(exts: readonly Extension[] | null, type: number): Extension | undefined {
  if (!exts) return undefined;
  for (const e of exts) if (e.type === type) return e;
  return undefined;
}

/** Returns the extension types that occur more than once, in first-seen order. */
export function duplicateExtensionTypes(exts: readonly Extension[]): number[] {
  const seen = new Set<number>();
  const dup: number[] = [];
  for (const e of exts) {
    if (seen.has(e.type) && !dup.includes(e.type)) dup.push(e.type);
    seen.add(e.type);
  }
  return dup;
}
