/**
 * The JSON view of decoded TLS messages: what `tlsprobe decode --json` prints and `decode()` returns.
 * Field names are a contract (other tools read them): bytes become lowercase hex, registry values stay
 * numbers with a `…Name` sibling. Output concerns live here; the parsers never see them.
 */
import { toHex } from '../wire/hex.js';
import type { Extension, ExtensionContext } from '../tls/extensions.js';
import { writeExtension } from '../tls/extensions.js';
import { Writer } from '../wire/writer.js';
import { duplicateExtensionTypes, findExtension } from '../tls/extensions.js';
import type { StreamItem } from '../tls/stream.js';
import type { HandshakeMessage } from '../tls/handshake.js';
import type { ClientHello } from '../tls/client-hello.js';
import { clientServerName } from '../tls/client-hello.js';
import type { ServerHello } from '../tls/server-hello.js';
import { downgradeSentinel, isHelloRetryRequest, negotiatedVersion, serverKeyShareGroup } from '../tls/server-hello.js';
import { alertLevelName, alertName } from '../tls/alert.js';
import {
  CIPHER_SUITES,
  CONTENT_TYPES,
  EXTENSION_TYPES,
  HANDSHAKE_TYPES,
  NAMED_GROUPS,
  PROTOCOL_VERSIONS,
  SIGNATURE_SCHEMES,
  displayName,
  nameOf,
} from '../tls/registry.js';
import { isGrease } from '../tls/grease.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Finding {
  readonly severity: 'info' | 'warning' | 'error';
  readonly code: string;
  readonly message: string;
}

export interface DecodeResult {
  readonly messages: JsonObject[];
}

/** Returns the JSON view of a decoded stream: `{ messages: [...] }` in stream order. */
export function streamToJson(items: readonly StreamItem[]): DecodeResult {
  return { messages: items.map(itemToJson) };
}

function versionName(v: number): string {
  return displayName(PROTOCOL_VERSIONS, v);
}

function itemToJson(item: StreamItem): JsonObject {
  switch (item.kind) {
    case 'handshake':
      return messageToJson(item.message);
    case 'alert':
      return {
        type: 'alert',
        offset: item.offset,
        level: item.alert.level,
        levelName: alertLevelName(item.alert.level),
        description: item.alert.description,
        name: alertName(item.alert.description),
      };
    case 'change_cipher_spec':
      return { type: 'change_cipher_spec', offset: item.offset, value: item.value };
    case 'encrypted_record':
      return {
        type: 'encrypted_record',
        offset: item.offset,
        contentType: item.contentType,
        contentTypeName: nameOf(CONTENT_TYPES, item.contentType),
        length: item.length,
      };
    case 'heartbeat':
      return { type: 'heartbeat', offset: item.offset, length: item.length };
    case 'sslv2_client_hello':
      return {
        type: 'sslv2_client_hello',
        offset: item.offset,
        version: item.hello.version,
        versionName: versionName(item.hello.version),
        cipherSpecs: [...item.hello.cipherSpecs],
        sessionId: toHex(item.hello.sessionId),
        challenge: toHex(item.hello.challenge),
      };
  }
}

/** Returns the JSON view of one handshake message. */
export function messageToJson(m: HandshakeMessage): JsonObject {
  const base = { offset: m.offset, length: m.raw.length - 4 };
  switch (m.kind) {
    case 'client_hello':
      return { type: 'client_hello', ...base, ...clientHelloToJson(m.body) };
    case 'server_hello':
      return { type: 'server_hello', ...base, ...serverHelloToJson(m.body) };
    case 'certificate':
      return {
        type: 'certificate',
        ...base,
        form: m.body.context === null ? 'tls12' : 'tls13',
        context: m.body.context === null ? null : toHex(m.body.context),
        certificates: m.body.entries.map((e) => ({
          der: toHex(e.der),
          length: e.der.length,
          ...(e.extensions ? { extensions: e.extensions.map((x) => extensionToJson(x, 'certificate')) } : {}),
        })),
      };
    case 'server_key_exchange': {
      const b = m.body;
      return {
        type: 'server_key_exchange',
        ...base,
        raw: toHex(b.raw),
        ecdhe: b.ecdhe
          ? {
              curveType: b.ecdhe.curveType,
              namedGroup: b.ecdhe.namedGroup,
              namedGroupName: displayName(NAMED_GROUPS, b.ecdhe.namedGroup),
              publicKey: toHex(b.ecdhe.publicKey),
            }
          : null,
        dhe: b.dhe ? { pBits: bitLength(b.dhe.p), p: toHex(b.dhe.p), g: toHex(b.dhe.g), ys: toHex(b.dhe.ys) } : null,
        signatureScheme: b.signatureScheme,
        signatureSchemeName: b.signatureScheme === null ? null : displayName(SIGNATURE_SCHEMES, b.signatureScheme),
        signature: b.signature ? toHex(b.signature) : null,
        error: b.error ? b.error.toJSON() : null,
      };
    }
    case 'server_hello_done':
      return { type: 'server_hello_done', ...base };
    case 'encrypted_extensions':
      return {
        type: 'encrypted_extensions',
        ...base,
        extensions: m.body.map((x) => extensionToJson(x, 'encrypted_extensions')),
      };
    case 'certificate_verify':
      return {
        type: 'certificate_verify',
        ...base,
        algorithm: m.scheme,
        algorithmName: displayName(SIGNATURE_SCHEMES, m.scheme),
        signature: toHex(m.signature),
      };
    case 'finished':
      return { type: 'finished', ...base, verifyData: toHex(m.verifyData) };
    case 'other':
      return {
        type: nameOf(HANDSHAKE_TYPES, m.msgType) ?? `handshake_0x${m.msgType.toString(16).padStart(2, '0')}`,
        msgType: m.msgType,
        ...base,
        body: toHex(m.body),
      };
  }
}

function bitLength(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  if (i === b.length) return 0;
  return (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]!));
}

/** Returns the JSON view of a ClientHello body (the decode contract's fields and a few more). */
export function clientHelloToJson(ch: ClientHello): JsonObject {
  const exts = ch.extensions;
  const sv = findExtension(exts, 'supported_versions');
  const groups = findExtension(exts, 'supported_groups');
  const sigs = exts?.find((e) => e.kind === 'signature_algorithms' && e.type === 0x000d) as
    | Extract<Extension, { kind: 'signature_algorithms' }>
    | undefined;
  const ks = findExtension(exts, 'key_share');
  const alpn = findExtension(exts, 'alpn');
  return {
    legacyVersion: ch.legacyVersion,
    legacyVersionName: versionName(ch.legacyVersion),
    random: toHex(ch.random),
    sessionId: toHex(ch.sessionId),
    cipherSuites: [...ch.cipherSuites],
    cipherSuiteNames: ch.cipherSuites.map((c) => displayName(CIPHER_SUITES, c)),
    compressionMethods: [...ch.compressionMethods],
    extensions: exts ? exts.map((x) => extensionToJson(x, 'client_hello')) : [],
    serverName: clientServerName(ch),
    supportedVersions: sv?.versions ? [...sv.versions] : null,
    supportedGroups: groups ? [...groups.groups] : null,
    signatureAlgorithms: sigs ? [...sigs.schemes] : null,
    keyShares: ks?.shares ? ks.shares.map((s) => ({ group: s.group, length: s.keyExchange.length })) : null,
    alpn: alpn ? [...alpn.protocols] : null,
    // Finding is an interface: no index signature, so TS will not take its all-JSON fields as Json
    findings: clientHelloFindings(ch) as unknown as Json,
  };
}

/** Returns the JSON view of a ServerHello body. */
export function serverHelloToJson(sh: ServerHello): JsonObject {
  const version = negotiatedVersion(sh);
  const hrr = isHelloRetryRequest(sh);
  const sentinel = downgradeSentinel(sh);
  const findings: Finding[] = [];
  if (hrr)
    findings.push({
      severity: 'info',
      code: 'hello-retry-request',
      message: 'the server asks the client to retry (HelloRetryRequest)',
    });
  if (sentinel) {
    findings.push({
      severity: 'warning',
      code: 'downgrade-sentinel',
      message: `server random ends with the RFC 8446 downgrade sentinel for ${sentinel === 'tls12' ? 'TLS 1.2' : 'TLS 1.1 or below'}`,
    });
  }
  if (sh.compressionMethod !== 0)
    findings.push({
      severity: 'warning',
      code: 'non-null-compression',
      message: `compression method ${sh.compressionMethod} selected`,
    });
  return {
    legacyVersion: sh.legacyVersion,
    legacyVersionName: versionName(sh.legacyVersion),
    version,
    versionName: versionName(version),
    random: toHex(sh.random),
    sessionId: toHex(sh.sessionId),
    cipherSuite: sh.cipherSuite,
    cipherSuiteName: displayName(CIPHER_SUITES, sh.cipherSuite),
    compressionMethod: sh.compressionMethod,
    extensions: sh.extensions
      ? sh.extensions.map((x) => extensionToJson(x, hrr ? 'hello_retry_request' : 'server_hello'))
      : [],
    helloRetryRequest: hrr,
    downgradeSentinel: sentinel,
    keyShareGroup: serverKeyShareGroup(sh),
    // Finding is an interface: no index signature, so TS will not take its all-JSON fields as Json
    findings: findings as unknown as Json,
  };
}

/** Returns the findings (odd but parseable facts) of a ClientHello. */
export function clientHelloFindings(ch: ClientHello): Finding[] {
  const out: Finding[] = [];
  const exts = ch.extensions ?? [];
  const greaseSuites = ch.cipherSuites.filter(isGrease);
  const greaseExts = exts.filter((e) => isGrease(e.type));
  if (greaseSuites.length + greaseExts.length > 0) {
    out.push({
      severity: 'info',
      code: 'grease',
      message: `GREASE values present (RFC 8701): ${greaseSuites.length} suites, ${greaseExts.length} extensions`,
    });
  }
  for (const t of duplicateExtensionTypes(exts)) {
    out.push({
      severity: 'warning',
      code: 'duplicate-extension',
      message: `extension ${displayName(EXTENSION_TYPES, t)} appears more than once`,
    });
  }
  for (const e of exts) {
    if (e.kind === 'raw' && e.error) {
      out.push({
        severity: 'warning',
        code: 'extension-decode-error',
        message: `${displayName(EXTENSION_TYPES, e.type)}: ${e.error.message}`,
      });
    }
    if (e.kind === 'padding' && e.data.some((b) => b !== 0)) {
      out.push({ severity: 'warning', code: 'padding-not-zero', message: 'padding extension holds non-zero bytes' });
    }
  }
  const sni = clientServerName(ch);
  if (sni?.endsWith('.'))
    out.push({
      severity: 'warning',
      code: 'sni-trailing-dot',
      message: `server_name "${sni}" ends with a dot (RFC 6066 forbids it)`,
    });
  if (ch.compressionMethods.some((m) => m !== 0))
    out.push({ severity: 'warning', code: 'non-null-compression', message: 'offers compression (CRIME)' });
  if (ch.extensions === null)
    out.push({ severity: 'info', code: 'no-extensions', message: 'no extensions block (SSL 3.0 style hello)' });
  if (ch.cipherSuites.includes(0x5600))
    out.push({
      severity: 'info',
      code: 'fallback-scsv',
      message: 'TLS_FALLBACK_SCSV present: this is a fallback retry (RFC 7507)',
    });
  return out;
}

/** Returns the JSON view of one extension: `{ type, name, length, ...fields }`. */
export function extensionToJson(e: Extension, ctx: ExtensionContext): JsonObject {
  const head: JsonObject = {
    type: e.type,
    name: isGrease(e.type) ? 'GREASE' : nameOf(EXTENSION_TYPES, e.type),
    length: extensionLength(e, ctx),
  };
  switch (e.kind) {
    case 'server_name':
      return { ...head, serverNames: e.names ? e.names.map((n) => ({ nameType: n.nameType, name: n.name })) : null };
    case 'max_fragment_length':
      return { ...head, value: e.value };
    case 'status_request':
      return {
        ...head,
        statusType: e.request?.statusType ?? null,
        responderIdList: e.request ? toHex(e.request.responderIdList) : null,
        requestExtensions: e.request ? toHex(e.request.requestExtensions) : null,
      };
    case 'supported_groups':
      return { ...head, groups: [...e.groups], groupNames: e.groups.map((g) => displayName(NAMED_GROUPS, g)) };
    case 'ec_point_formats':
      return { ...head, formats: [...e.formats] };
    case 'signature_algorithms':
      return { ...head, schemes: [...e.schemes], schemeNames: e.schemes.map((s) => displayName(SIGNATURE_SCHEMES, s)) };
    case 'alpn':
      return { ...head, protocols: [...e.protocols] };
    case 'padding':
      return { ...head, allZero: e.data.every((b) => b === 0) };
    case 'compress_certificate':
      return { ...head, algorithms: [...e.algorithms] };
    case 'record_size_limit':
      return { ...head, limit: e.limit };
    case 'session_ticket':
      return { ...head, ticket: toHex(e.ticket) };
    case 'pre_shared_key':
      return {
        ...head,
        identities: e.identities
          ? e.identities.map((i) => ({ identity: toHex(i.identity), obfuscatedTicketAge: i.obfuscatedTicketAge }))
          : null,
        binders: e.binders ? e.binders.map(toHex) : null,
        selectedIdentity: e.selectedIdentity,
      };
    case 'supported_versions':
      return {
        ...head,
        versions: e.versions ? [...e.versions] : null,
        versionNames: e.versions ? e.versions.map(versionName) : null,
        selected: e.selected,
      };
    case 'cookie':
      return { ...head, cookie: toHex(e.cookie) };
    case 'psk_key_exchange_modes':
      return { ...head, modes: [...e.modes] };
    case 'key_share':
      return {
        ...head,
        shares: e.shares
          ? e.shares.map((s) => ({
              group: s.group,
              groupName: displayName(NAMED_GROUPS, s.group),
              length: s.keyExchange.length,
              keyExchange: toHex(s.keyExchange),
            }))
          : null,
        selectedGroup: e.selectedGroup,
      };
    case 'renegotiation_info':
      return { ...head, renegotiatedConnection: toHex(e.renegotiatedConnection) };
    case 'flag':
      return head;
    case 'raw':
      return { ...head, data: toHex(e.data), ...(e.error ? { error: e.error.toJSON() } : {}) };
  }
}

function extensionLength(e: Extension, ctx: ExtensionContext): number {
  // Re-encoding is exact (round-trip tests hold it to that), so the encoding's size is the wire size.
  const w = new Writer(64);
  writeExtension(w, e, ctx);
  return w.length - 4;
}
