/**
 * Real bytes: ClientHellos and server flights recorded from openssl, gnutls and Node on loopback
 * (fixtures/, made by scripts/make-fixtures.mjs), the RFC 8448 messages, and the 177 ClientHellos of
 * testssl.sh's client simulation (../shared/corpus, skipped when absent). Every message must decode
 * and re-encode to the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { decodeStream } from '../../src/tls/stream.js';
import { encodeHandshakeMessage, parseHandshakeMessage, type HandshakeMessage } from '../../src/tls/handshake.js';
import { clientServerName } from '../../src/tls/client-hello.js';
import { findExtension } from '../../src/tls/extensions.js';
import { isHelloRetryRequest, serverKeyShareGroup } from '../../src/tls/server-hello.js';
import { fromHex, toHex } from '../../src/wire/hex.js';
import { decode } from '../../src/decode.js';
import { listHexFixtures, loadHexFixture } from '../helpers/fixtures.js';
import { hasCorpus, readCorpusJson } from '../helpers/corpus.js';

function handshakes(bytes: Uint8Array): HandshakeMessage[] {
  return decodeStream(bytes).flatMap((i) => (i.kind === 'handshake' ? [i.message] : []));
}

describe('fixtures recorded on loopback', () => {
  for (const file of [...listHexFixtures('hello'), ...listHexFixtures('server')]) {
    it(`${file}: every message re-encodes to its own bytes`, () => {
      const messages = handshakes(loadHexFixture(file));
      expect(messages.length).toBeGreaterThan(0);
      for (const m of messages) expect(toHex(encodeHandshakeMessage(m))).toBe(toHex(m.raw));
    });
  }

  it('reads the TLS 1.2 server flight with its certificate, ECDHE params and the encrypted Finished', () => {
    const result = decode(loadHexFixture('server/openssl-s_server-tls12.hex'));
    const types = result.messages.map((m) => m.type);
    expect(types.slice(0, 4)).toEqual(['server_hello', 'certificate', 'server_key_exchange', 'server_hello_done']);
    expect(types).toContain('change_cipher_spec');
    expect(types.at(-1)).toBe('encrypted_record');
    const ske = result.messages[2]!;
    expect((ske.ecdhe as { namedGroupName: string }).namedGroupName).toBe('x25519');
  });

  it('lists the TLS 1.3 server flight after the ServerHello as encrypted records', () => {
    const result = decode(loadHexFixture('server/openssl-s_server-tls13.hex'));
    expect(result.messages[0]!.type).toBe('server_hello');
    expect(result.messages[0]!.version).toBe(0x0304);
    expect(
      result.messages.slice(1).every((m) => m.type === 'change_cipher_spec' || m.type === 'encrypted_record'),
    ).toBe(true);
  });
});

interface Rfc8448 {
  sections: {
    section: number;
    title: string;
    steps: { actor: string; action: string; items: { label: string; hex: string }[] }[];
  }[];
}

function rfcItem(doc: Rfc8448, section: number, actor: string, action: RegExp, label: string): Uint8Array {
  const s = doc.sections.find((x) => x.section === section)!;
  for (const step of s.steps) {
    if (step.actor !== actor || !action.test(step.action)) continue;
    const item = step.items.find((i) => i.label === label);
    if (item) return fromHex(item.hex);
  }
  throw new Error(`RFC 8448 §${section}: no ${actor} "${action}" item "${label}"`);
}

describe.skipIf(!hasCorpus)('RFC 8448 messages', () => {
  const doc = hasCorpus ? readCorpusJson<Rfc8448>('rfc8448/rfc8448-traces.parsed.json') : null!;

  it('§3: decodes the ClientHello (SNI "server", x25519 share equal to the client public key)', () => {
    const bytes = rfcItem(doc, 3, 'client', /construct a ClientHello/, 'ClientHello');
    const m = parseHandshakeMessage(bytes);
    if (m.kind !== 'client_hello') throw new Error(m.kind);
    expect(m.body.cipherSuites).toEqual([0x1301, 0x1303, 0x1302]);
    expect(clientServerName(m.body)).toBe('server');
    const ks = findExtension(m.body.extensions, 'key_share')!;
    expect(ks.shares!.map((s) => s.group)).toEqual([0x001d]);
    expect(toHex(ks.shares![0]!.keyExchange)).toBe(toHex(rfcItem(doc, 3, 'client', /ephemeral x25519/, 'public key')));
    expect(toHex(encodeHandshakeMessage(m))).toBe(toHex(bytes));
  });

  it('§3: decodes the ServerHello, EncryptedExtensions, Certificate, CertificateVerify and Finished', () => {
    const sh = parseHandshakeMessage(rfcItem(doc, 3, 'server', /construct a ServerHello/, 'ServerHello'));
    if (sh.kind !== 'server_hello') throw new Error(sh.kind);
    expect(sh.body.cipherSuite).toBe(0x1301);
    expect(serverKeyShareGroup(sh.body)).toBe(0x001d);
    const ctx = { version: 0x0304, cipherSuite: 0x1301 };
    for (const [action, label, kind] of [
      [/EncryptedExtensions/, 'EncryptedExtensions', 'encrypted_extensions'],
      [/a Certificate handshake/, 'Certificate', 'certificate'],
      [/CertificateVerify/, 'CertificateVerify', 'certificate_verify'],
      [/a Finished/, 'Finished', 'finished'],
    ] as const) {
      const bytes = rfcItem(doc, 3, 'server', action, label);
      const m = parseHandshakeMessage(bytes, ctx);
      expect(m.kind).toBe(kind);
      expect(toHex(encodeHandshakeMessage(m))).toBe(toHex(bytes));
      if (m.kind === 'certificate') {
        expect(m.body.context).toEqual(new Uint8Array(0));
        expect(m.body.entries).toHaveLength(1);
        expect(m.body.entries[0]!.der[0]).toBe(0x30);
      }
    }
  });

  it('§4: decodes the resumption ClientHello with its pre_shared_key identities and binder', () => {
    const bytes = rfcItem(doc, 4, 'client', /construct a ClientHello/, 'ClientHello');
    // The RFC prints the ClientHello without its binders ("ClientHello prefix"); the record holds it whole.
    const record = rfcItem(doc, 4, 'client', /send handshake record/, 'payload');
    const m = parseHandshakeMessage(record);
    if (m.kind !== 'client_hello') throw new Error(m.kind);
    const psk = findExtension(m.body.extensions, 'pre_shared_key')!;
    expect(psk.identities).toHaveLength(1);
    expect(psk.binders).toHaveLength(1);
    expect(psk.binders![0]!.length).toBe(32);
    expect(toHex(record).startsWith(toHex(bytes).slice(8))).toBe(false);
    expect(toHex(encodeHandshakeMessage(m))).toBe(toHex(record));
  });

  it('§5: recognises the HelloRetryRequest by its random and reads the selected group and cookie', () => {
    // The first ServerHello of §5 is the HelloRetryRequest; the second is the real one.
    const bytes = rfcItem(doc, 5, 'server', /construct a ServerHello/, 'ServerHello');
    const m = parseHandshakeMessage(bytes);
    if (m.kind !== 'server_hello') throw new Error(m.kind);
    expect(isHelloRetryRequest(m.body)).toBe(true);
    expect(serverKeyShareGroup(m.body)).toBe(0x0017);
    expect(findExtension(m.body.extensions, 'cookie')!.cookie.length).toBeGreaterThan(0);
    expect(toHex(encodeHandshakeMessage(m))).toBe(toHex(bytes));
  });
});

interface SimClient {
  names: string;
  handshakebytes: string;
  clienthello_check: {
    valid: boolean;
    client_version: string;
    cipher_suites: string[];
    extensions: number[];
    sni: string | null;
    alpn: string[] | null;
    supported_versions: string[] | null;
  } | null;
}

describe.skipIf(!hasCorpus)('ClientHellos of 177 real clients (testssl.sh client simulation)', () => {
  const clients = hasCorpus
    ? readCorpusJson<{ clients: SimClient[] }>('client-hellos/testssl-client-simulation.json').clients
    : [];

  it('decodes every one, re-encodes it byte for byte and agrees with the corpus on each field', () => {
    let tls = 0;
    let sslv2 = 0;
    for (const c of clients) {
      const bytes = fromHex(c.handshakebytes);
      const items = decodeStream(bytes);
      const first = items[0]!;
      if (first.kind === 'sslv2_client_hello') {
        sslv2++;
        continue;
      }
      if (first.kind !== 'handshake' || first.message.kind !== 'client_hello')
        throw new Error(`${c.names}: ${first.kind}`);
      tls++;
      const m = first.message;
      expect(toHex(encodeHandshakeMessage(m)), c.names).toBe(toHex(m.raw));
      const check = c.clienthello_check;
      if (!check?.valid) continue;
      const json = decode(bytes).messages[0]!;
      expect(json.legacyVersion, c.names).toBe(parseInt(check.client_version, 16));
      expect(json.cipherSuites, c.names).toEqual(check.cipher_suites.map((s) => parseInt(s, 16)));
      expect(
        (json.extensions as { type: number }[]).map((e) => e.type),
        c.names,
      ).toEqual(check.extensions);
      expect(json.serverName, c.names).toBe(check.sni);
      expect(json.alpn, c.names).toEqual(check.alpn);
      expect(json.supportedVersions, c.names).toEqual(check.supported_versions?.map((v) => parseInt(v, 16)) ?? null);
    }
    expect(tls + sslv2).toBe(clients.length);
    expect(sslv2).toBeGreaterThan(0);
  });
});
