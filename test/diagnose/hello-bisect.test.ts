/**
 * Bisection of a client's own ClientHello against lab endpoints that refuse one trait each (issue
 * 12): the cause named is the trait, found from outcomes alone, with the failing size range mapped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { startPickyServer, type PickyServer } from '../helpers/picky-server.js';
import { bisectClientHello } from '../../src/diagnose/hello-bisect.js';
import { buildHelloFromShape, findClientProfile, type HelloShape } from '../../src/diagnose/clients.js';
import { buildClientHello, type PrebuiltHello } from '../../src/probe/profiles.js';
import {
  ExtensionType as ET,
  NamedGroup as NG,
  ProtocolVersion as PV,
  SignatureScheme as SS,
} from '../../src/tls/registry.js';

let lab: Lab;
const extra: PickyServer[] = [];
beforeAll(async () => {
  lab = await startLab({
    names: ['picky-size', 'picky-scsv', 'picky-large', 'picky-group', 'picky-extension', 'modern'],
  });
});
afterAll(async () => {
  await lab?.close();
  for (const s of extra) await s.close();
});

const OPTS = { readTimeoutMs: 5000, connectTimeoutMs: 5000 };
function target(name: string) {
  const e = lab.endpoint(name);
  return { host: 'localhost', address: e.host, port: e.port };
}
function reference(version: 'TLS1.2' | 'TLS1.3' = 'TLS1.3'): PrebuiltHello {
  const b = buildClientHello({ version, sni: 'localhost' });
  return { version, hello: b.hello, keyPairs: b.keyPairs };
}
function client(name: string): PrebuiltHello {
  const p = findClientProfile(name)!;
  return p.build('localhost');
}
/** A TLS 1.2-only client that sends neither the SCSV nor renegotiation_info (RFC 5746 says it must). */
const NO_RENEGOTIATION_SIGNAL: HelloShape = {
  legacyVersion: PV.TLS1_2,
  recordVersion: PV.TLS1_2,
  supportedVersions: null,
  cipherSuites: [0xc02f, 0xc030, 0xc02b, 0xc02c, 0x009c, 0x009d],
  groups: [NG.x25519, NG.secp256r1],
  pointFormats: [0],
  signatureSchemes: [SS.rsa_pss_rsae_sha256, SS.rsa_pkcs1_sha256, SS.ecdsa_secp256r1_sha256],
  keyShareGroups: [],
  alpn: null,
  extensions: [
    ET.server_name,
    ET.supported_groups,
    ET.ec_point_formats,
    ET.signature_algorithms,
    ET.extended_master_secret,
  ],
  sessionIdLength: 0,
  grease: false,
};
function shaped(shape: HelloShape): PrebuiltHello {
  const { hello, keyPairs } = buildHelloFromShape(shape, 'localhost');
  return { version: 'TLS1.2', hello, keyPairs, recordVersion: shape.recordVersion };
}

describe('bisectClientHello', () => {
  it('names hello-size with the 256–511 range for Windows Server 2022 against picky-size', async () => {
    const b = await bisectClientHello(target('picky-size'), client('win2022'), reference(), OPTS);
    expect(b.failingOutcome).toBe('reset');
    expect(b.failingBytes).toBeGreaterThanOrEqual(256);
    expect(b.failingBytes).toBeLessThanOrEqual(511);
    expect(b.cause?.code).toBe('hello-size');
    expect(b.cause?.sizeRange).toEqual({ min: 256, max: 511, minExact: true });
  }, 120_000);

  it('names renegotiation-scsv for a TLS 1.2 client without any renegotiation signal against picky-scsv', async () => {
    const b = await bisectClientHello(target('picky-scsv'), shaped(NO_RENEGOTIATION_SIGNAL), reference('TLS1.2'), OPTS);
    expect(b.failingOutcome).toBe('reset');
    expect(b.cause?.code).toBe('renegotiation-scsv');
  }, 120_000);

  it('finds an open-ended range for a device that resets hellos over one TCP segment', async () => {
    const big = client('win2022');
    const padded = {
      ...big,
      hello: {
        ...big.hello,
        extensions: [
          ...(big.hello.extensions ?? []),
          { kind: 'padding' as const, type: 0x0015 as const, data: new Uint8Array(1600) },
        ],
      },
    };
    const b = await bisectClientHello(target('picky-large'), padded, reference(), OPTS);
    expect(b.cause?.code).toBe('hello-size');
    expect(b.cause?.sizeRange).toEqual({ min: 1401, max: null, minExact: true });
  }, 120_000);

  it("names the group a middlebox resets on (X25519MLKEM768 in Chrome's hello)", async () => {
    const b = await bisectClientHello(target('picky-group'), client('chrome'), reference(), OPTS);
    expect(b.failingOutcome).toBe('reset');
    expect(b.cause).toMatchObject({ code: 'groups', group: { code: NG.X25519MLKEM768 } });
  }, 120_000);

  it('names the extension a middlebox resets on, with its type', async () => {
    const b = await bisectClientHello(target('picky-extension'), client('win2022'), reference(), OPTS);
    expect(b.cause).toMatchObject({
      code: 'extension',
      extension: { type: ET.status_request, name: 'status_request' },
    });
  }, 120_000);

  it('names key-share-size when only a large key_share is refused', async () => {
    const s = await startPickyServer(lab.pki, { kind: 'key-share-size', maxBytes: 100 });
    extra.push(s);
    const two = buildClientHello({
      version: 'TLS1.3',
      sni: 'localhost',
      keyShareGroups: [NG.x25519, NG.secp384r1],
      padTo: null,
    });
    const b = await bisectClientHello(
      { host: 'localhost', address: '127.0.0.1', port: s.port },
      { version: 'TLS1.3', hello: two.hello, keyPairs: two.keyPairs },
      reference(),
      OPTS,
    );
    expect(b.failingOutcome).toBe('reset');
    expect(b.cause?.code).toBe('key-share-size');
  }, 120_000);

  it('says there is nothing to bisect towards when the reference hello fails too', async () => {
    const s = await startPickyServer(lab.pki, { kind: 'cipher-suite', suite: 0x1301 });
    extra.push(s);
    // The reference offers the refused suite too, so it fails: nothing to bisect towards.
    const b = await bisectClientHello(
      { host: 'localhost', address: '127.0.0.1', port: s.port },
      client('win2022'),
      reference(),
      OPTS,
    );
    expect(b.cause).toBeNull();
    expect(b.note).toMatch(/reference hello failed/);
  }, 120_000);
});
