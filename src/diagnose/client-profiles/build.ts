/**
 * Building a profile's ClientHello: `buildHelloFromShape` returns the hello a `HelloShape` describes
 * with fresh random, session id and key shares; `profile` turns a `ProfileSpec` into a `ClientProfile`.
 * Both throw TypeError only for a profile whose data is inconsistent (a programming error).
 */
import { randomBytes } from 'node:crypto';
import type { ClientHello } from '../../tls/client-hello.js';
import { encodeClientHello } from '../../tls/client-hello.js';
import type { Extension } from '../../tls/extensions.js';
import { GREASE_VALUES, isGrease } from '../../tls/grease.js';
import { generateKeyShare, type KeyShareKeyPair } from '../../tls/key-schedule.js';
import { generateX25519MlKem768KeyShare } from '../../tls/hybrid-key-share.js';
import { ExtensionType as ET, NamedGroup as NG } from '../../tls/registry.js';
import { probeVersionOf, type PrebuiltHello } from '../../probe/profiles.js';
import type { ClientProfile, HelloShape, ProfileSpec } from './types.js';

// ---------------------------------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------------------------------

/** RFC 7301 / draft-vvv-tls-alps: ALPS for h2, as Chrome sends it. */
const ALPS_H2 = Uint8Array.from([0x00, 0x03, 0x02, 0x68, 0x32]);

/** Chrome's certificate compression algorithm: brotli (RFC 8879, Section 3). */
const BROTLI = 2;

/** ALPS under the codepoint Chrome moved to in 2024 (draft-vvv-tls-alps; 0x4469 before). */
export const APPLICATION_SETTINGS_NEW = 0x44cd;
/** encrypted_client_hello (draft-ietf-tls-esni, Section 5). */
export const ENCRYPTED_CLIENT_HELLO = 0xfe0d;
/** Payload length of Chrome's GREASE ECH for a short name (Chromium 137's hello: 144 bytes). */
const ECH_GREASE_PAYLOAD_BYTES = 144;

/**
 * Returns a GREASE ECH extension body (draft-ietf-tls-esni, Section 6.2): an outer
 * ECHClientHello { type 0; HKDF-SHA256 0x0001; AES-128-GCM 0x0001; random config_id; a random
 * 32-byte enc; a random payload }, as Chrome sends when it has no ECH config.
 */
function echGrease(): Uint8Array {
  const enc = randomBytes(32);
  const payload = randomBytes(ECH_GREASE_PAYLOAD_BYTES);
  return Uint8Array.from([
    0x00,
    0x00,
    0x01,
    0x00,
    0x01,
    randomBytes(1)[0]!,
    0x00,
    enc.length,
    ...enc,
    ECH_GREASE_PAYLOAD_BYTES >> 8,
    ECH_GREASE_PAYLOAD_BYTES & 0xff,
    ...payload,
  ]);
}

/** Returns a fresh key pair for `group`, X25519MLKEM768 included. */
function keyShareFor(group: number): KeyShareKeyPair {
  return group === NG.X25519MLKEM768 ? generateX25519MlKem768KeyShare() : generateKeyShare(group);
}

function randomGrease(): number {
  return GREASE_VALUES[randomBytes(1)[0]! & 0x0f]!;
}

/** Returns the highest version `shape` offers. */
export function highestVersion(shape: HelloShape): number {
  const real = (shape.supportedVersions ?? []).filter((v) => !isGrease(v));
  return real.length ? Math.max(...real) : shape.legacyVersion;
}

/**
 * Returns the ClientHello `shape` describes, with fresh random, session id and key shares. GREASE
 * values are picked at random per build, two different ones for the two GREASE extensions.
 * Padding follows BoringSSL (ssl/extensions.cc): a hello whose handshake message would be 256–511
 * bytes is padded to 512.
 */
export function buildHelloFromShape(
  shape: HelloShape,
  sni: string | null,
): { hello: ClientHello; keyPairs: KeyShareKeyPair[] } {
  const g1 = randomGrease();
  let g2 = randomGrease();
  while (g2 === g1) g2 = randomGrease();
  const keyPairs = shape.keyShareGroups.map((g) => keyShareFor(g));
  const grease = shape.grease ? [randomGrease()] : [];
  const exts: Extension[] = [];
  let padding = false;
  for (const slot of shape.extensions) {
    if (slot === 'grease') {
      exts.push({ kind: 'raw', type: g1, data: new Uint8Array(0) });
      continue;
    }
    if (slot === 'grease-1') {
      exts.push({ kind: 'raw', type: g2, data: new Uint8Array(1) });
      continue;
    }
    switch (slot) {
      case ET.server_name:
        if (sni !== null) exts.push({ kind: 'server_name', type: 0x0000, names: [{ nameType: 0, name: sni }] });
        break;
      case ET.status_request: // RFC 6066, Section 8: OCSP, no responder ids, no extensions
        exts.push({
          kind: 'status_request',
          type: 0x0005,
          request: { statusType: 1, responderIdList: new Uint8Array(0), requestExtensions: new Uint8Array(0) },
        });
        break;
      case ET.supported_groups:
        exts.push({ kind: 'supported_groups', type: 0x000a, groups: [...grease, ...shape.groups] });
        break;
      case ET.ec_point_formats:
        exts.push({ kind: 'ec_point_formats', type: 0x000b, formats: [...shape.pointFormats] });
        break;
      case ET.signature_algorithms:
        if (shape.signatureSchemes)
          exts.push({ kind: 'signature_algorithms', type: 0x000d, schemes: [...shape.signatureSchemes] });
        break;
      case ET.application_layer_protocol_negotiation:
        if (shape.alpn) exts.push({ kind: 'alpn', type: 0x0010, protocols: [...shape.alpn] });
        break;
      case ET.signed_certificate_timestamp: // RFC 6962, Section 3.3.1: empty in the ClientHello
        exts.push({ kind: 'raw', type: ET.signed_certificate_timestamp, data: new Uint8Array(0) });
        break;
      case ET.encrypt_then_mac:
      case ET.extended_master_secret:
        exts.push({ kind: 'flag', type: slot });
        break;
      case ET.compress_certificate:
        exts.push({ kind: 'compress_certificate', type: 0x001b, algorithms: [BROTLI] });
        break;
      case ET.session_ticket:
        exts.push({ kind: 'session_ticket', type: 0x0023, ticket: new Uint8Array(0) });
        break;
      case ET.supported_versions:
        exts.push({
          kind: 'supported_versions',
          type: 0x002b,
          versions: [...grease, ...(shape.supportedVersions ?? [])],
          selected: null,
        });
        break;
      case ET.psk_key_exchange_modes:
        exts.push({ kind: 'psk_key_exchange_modes', type: 0x002d, modes: [1] }); // psk_dhe_ke
        break;
      case ET.key_share:
        exts.push({
          kind: 'key_share',
          type: 0x0033,
          // RFC 8701, Section 3.1: a GREASE key share carries one zero byte in Chrome.
          shares: [
            ...grease.map((g) => ({ group: g, keyExchange: new Uint8Array(1) })),
            ...keyPairs.map((p) => ({ group: p.group, keyExchange: p.publicKey })),
          ],
          selectedGroup: null,
        });
        break;
      case ET.application_settings:
        exts.push({ kind: 'raw', type: ET.application_settings, data: ALPS_H2 });
        break;
      case ET.renegotiation_info: // RFC 5746, Section 3.4: empty on the initial handshake
        exts.push({ kind: 'renegotiation_info', type: 0xff01, renegotiatedConnection: new Uint8Array(0) });
        break;
      case APPLICATION_SETTINGS_NEW:
        exts.push({ kind: 'raw', type: APPLICATION_SETTINGS_NEW, data: ALPS_H2 });
        break;
      case ENCRYPTED_CLIENT_HELLO:
        exts.push({ kind: 'raw', type: ENCRYPTED_CLIENT_HELLO, data: echGrease() });
        break;
      case ET.padding:
        padding = true;
        break;
      default:
        throw new TypeError(`client profile extension 0x${slot.toString(16)} has no builder`);
    }
  }
  const base: ClientHello = {
    legacyVersion: shape.legacyVersion,
    random: new Uint8Array(randomBytes(32)),
    sessionId: new Uint8Array(randomBytes(shape.sessionIdLength)),
    cipherSuites: [...grease, ...shape.cipherSuites],
    compressionMethods: [0],
    extensions: exts,
  };
  if (!padding) return { hello: base, keyPairs };
  const length = encodeClientHello(base).length;
  if (length <= 0xff || length >= 0x200) return { hello: base, keyPairs };
  // BoringSSL: padding_len = 0x200 - header_len, less the extension's own 4-byte header when it fits.
  let pad = 0x200 - length;
  pad = pad >= 4 + 1 ? pad - 4 : 1;
  return {
    hello: { ...base, extensions: [...exts, { kind: 'padding', type: 0x0015, data: new Uint8Array(pad) }] },
    keyPairs,
  };
}

/** Returns the `ClientProfile` that `spec` declares. */
export function profile(spec: ProfileSpec): ClientProfile {
  const version = probeVersionOf(highestVersion(spec.shape));
  if (version === null) throw new TypeError(`profile ${spec.name}: highest version is not one we probe`);
  if (spec.fidelity !== 'modelled' && spec.reference === null)
    throw new TypeError(`profile ${spec.name}: ${spec.fidelity} needs a reference`);
  return {
    ...spec,
    aliases: spec.aliases ?? [],
    differences: spec.differences ?? [],
    modelled: spec.modelled ?? [],
    configuration: spec.configuration ?? null,
    build(sni: string | null): PrebuiltHello {
      const { hello, keyPairs } = buildHelloFromShape(spec.shape, sni);
      return { version, hello, keyPairs, recordVersion: spec.shape.recordVersion };
    },
  };
}
