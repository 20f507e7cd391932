/**
 * Seeded random values for every TLS codec, for round-trip and truncation tests. Values respect the
 * RFC bounds (a list declared <2..> gets at least one entry), so decoding gives back the same arm.
 */
import type { Rng } from './random.js';
import type { Extension, ExtensionContext } from '../../src/tls/extensions.js';
import type { ClientHello } from '../../src/tls/client-hello.js';
import type { ServerHello } from '../../src/tls/server-hello.js';
import { HELLO_RETRY_REQUEST_RANDOM } from '../../src/tls/server-hello.js';
import type { CertificateMessage } from '../../src/tls/certificate.js';

function u16s(rng: Rng, min: number, max: number): number[] {
  const n = min + rng.int(max - min + 1);
  return Array.from({ length: n }, () => rng.int(0x10000));
}

function latin1(rng: Rng, min: number, max: number): string {
  const n = min + rng.int(max - min + 1);
  return Buffer.from(rng.bytes(n)).toString('latin1');
}

/** Extension types the decoder does not know, so they stay raw. */
const UNKNOWN_TYPES = [0x0a0a, 0x1a1a, 0xfe0d, 0x4469, 0x1234, 0x0011];

export const CLIENT_EXTENSION_KINDS = [
  'server_name',
  'max_fragment_length',
  'status_request',
  'supported_groups',
  'ec_point_formats',
  'signature_algorithms',
  'alpn',
  'padding',
  'compress_certificate',
  'record_size_limit',
  'session_ticket',
  'pre_shared_key',
  'supported_versions',
  'cookie',
  'psk_key_exchange_modes',
  'key_share',
  'renegotiation_info',
  'flag',
  'raw',
] as const;

/** Returns a random extension of `kind` valid in `ctx`. */
export function randomExtension(
  rng: Rng,
  kind: (typeof CLIENT_EXTENSION_KINDS)[number],
  ctx: ExtensionContext,
): Extension {
  const client = ctx === 'client_hello';
  switch (kind) {
    case 'server_name':
      return {
        kind,
        type: 0x0000,
        names: client
          ? Array.from({ length: 1 + rng.int(2) }, () => ({ nameType: rng.int(2), name: latin1(rng, 1, 40) }))
          : null,
      };
    case 'max_fragment_length':
      return { kind, type: 0x0001, value: rng.int(256) };
    case 'status_request':
      return {
        kind,
        type: 0x0005,
        request: client
          ? { statusType: 1, responderIdList: rng.bytes(rng.int(5)), requestExtensions: rng.bytes(rng.int(5)) }
          : null,
      };
    case 'supported_groups':
      return { kind, type: 0x000a, groups: u16s(rng, 1, 12) };
    case 'ec_point_formats':
      return { kind, type: 0x000b, formats: Array.from(rng.bytes(1 + rng.int(3))) };
    case 'signature_algorithms':
      return {
        kind,
        type: client ? rng.pick([0x000d, 0x0032, 0x0022] as const) : rng.pick([0x000d, 0x0032] as const),
        schemes: u16s(rng, 1, 20),
      };
    case 'alpn':
      return { kind, type: 0x0010, protocols: Array.from({ length: 1 + rng.int(3) }, () => latin1(rng, 1, 12)) };
    case 'padding':
      return { kind, type: 0x0015, data: new Uint8Array(rng.int(300)) };
    case 'compress_certificate':
      return { kind, type: 0x001b, algorithms: u16s(rng, 1, 3) };
    case 'record_size_limit':
      return { kind, type: 0x001c, limit: rng.int(0x10000) };
    case 'session_ticket':
      return { kind, type: 0x0023, ticket: rng.bytes(rng.bool() ? 0 : 1 + rng.int(200)) };
    case 'pre_shared_key':
      return client
        ? {
            kind,
            type: 0x0029,
            selectedIdentity: null,
            identities: Array.from({ length: 1 + rng.int(2) }, () => ({
              identity: rng.bytes(1 + rng.int(60)),
              obfuscatedTicketAge: rng.u32(),
            })),
            binders: Array.from({ length: 1 + rng.int(2) }, () => rng.bytes(32 + rng.int(17))),
          }
        : { kind, type: 0x0029, identities: null, binders: null, selectedIdentity: rng.int(0x10000) };
    case 'supported_versions':
      return client
        ? { kind, type: 0x002b, versions: u16s(rng, 1, 6), selected: null }
        : { kind, type: 0x002b, versions: null, selected: rng.int(0x10000) };
    case 'cookie':
      return { kind, type: 0x002c, cookie: rng.bytes(1 + rng.int(100)) };
    case 'psk_key_exchange_modes':
      return { kind, type: 0x002d, modes: Array.from(rng.bytes(1 + rng.int(2))) };
    case 'key_share':
      if (ctx === 'hello_retry_request') return { kind, type: 0x0033, shares: null, selectedGroup: rng.int(0x10000) };
      return {
        kind,
        type: 0x0033,
        selectedGroup: null,
        shares: Array.from({ length: client ? rng.int(3) : 1 }, () => ({
          group: rng.int(0x10000),
          keyExchange: rng.bytes(1 + rng.int(97)),
        })),
      };
    case 'renegotiation_info':
      return { kind, type: 0xff01, renegotiatedConnection: rng.bytes(rng.bool() ? 0 : 12) };
    case 'flag':
      return { kind, type: rng.pick([0x0016, 0x0017, 0x0031, 0x002a]) };
    case 'raw':
      return { kind, type: rng.pick(UNKNOWN_TYPES), data: rng.bytes(rng.int(40)) };
  }
}

/** Kinds whose shape exists in a ServerHello. */
const SERVER_KINDS = [
  'server_name',
  'status_request',
  'ec_point_formats',
  'alpn',
  'record_size_limit',
  'session_ticket',
  'pre_shared_key',
  'supported_versions',
  'key_share',
  'renegotiation_info',
  'flag',
  'raw',
] as const;

export function randomExtensions(rng: Rng, ctx: ExtensionContext, n: number): Extension[] {
  const kinds = ctx === 'client_hello' ? CLIENT_EXTENSION_KINDS : SERVER_KINDS;
  return Array.from({ length: n }, () => randomExtension(rng, rng.pick(kinds), ctx));
}

export function randomClientHello(rng: Rng): ClientHello {
  return {
    legacyVersion: rng.pick([0x0300, 0x0301, 0x0302, 0x0303]),
    random: rng.bytes(32),
    sessionId: rng.bytes(rng.pick([0, 32, 1 + rng.int(32)])),
    cipherSuites: u16s(rng, 1, 60),
    compressionMethods: Array.from(rng.bytes(1 + rng.int(2))),
    extensions: rng.int(8) === 0 ? null : randomExtensions(rng, 'client_hello', rng.int(14)),
  };
}

export function randomServerHello(rng: Rng, hrr = rng.int(4) === 0): ServerHello {
  const ctx = hrr ? 'hello_retry_request' : 'server_hello';
  return {
    legacyVersion: rng.pick([0x0300, 0x0301, 0x0302, 0x0303]),
    random: hrr ? HELLO_RETRY_REQUEST_RANDOM : rng.bytes(32),
    sessionId: rng.bytes(rng.pick([0, 32])),
    cipherSuite: rng.int(0x10000),
    compressionMethod: rng.int(2),
    extensions: !hrr && rng.int(6) === 0 ? null : randomExtensions(rng, ctx, rng.int(6)),
  };
}

export function randomCertificateMessage(rng: Rng, tls13: boolean): CertificateMessage {
  const n = rng.int(4);
  return {
    context: tls13 ? rng.bytes(rng.int(3)) : null,
    entries: Array.from({ length: n }, () => ({
      der: rng.bytes(1 + rng.int(300)),
      extensions: tls13 ? randomExtensions(rng, 'certificate', rng.int(2)).filter((e) => e.kind === 'raw') : null,
    })),
  };
}
