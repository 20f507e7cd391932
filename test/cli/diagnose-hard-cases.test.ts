/**
 * Issue 12: `tlsprobe diagnose` is right when the cause is not the textbook one. Against lab
 * endpoints that refuse one ClientHello trait, the client asked about gets `client-hello-rejected`
 * with the cause its own hello was bisected to and that cause's remedy (never the TLS 1.2 registry
 * keys); through proxies that are not there or refuse, the verdict names the proxy path and shows the
 * direct one beside it; exit codes say fine (0), problem (1), network before TLS (3).
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { HAS_CLI, tlsprobe } from '../helpers/cli.js';
import { startHttpConnectProxy, startSocks5Proxy } from '../helpers/proxies.js';
import { captureGnutlsClientHello, HAS_GNUTLS_CLI, NO_GNUTLS_CLI } from '../helpers/servers.js';

if (!HAS_GNUTLS_CLI) console.warn(NO_GNUTLS_CLI);

let lab: Lab;
let dir: string;
let roots: string;
beforeAll(async () => {
  lab = await startLab({
    names: ['modern', 'picky-size', 'picky-scsv', 'picky-group', 'picky-extension', 'reset-legacy'],
  });
  dir = mkdtempSync(join(tmpdir(), 'tlsprobe-hard-'));
  roots = join(dir, 'root.pem');
  writeFileSync(roots, lab.pki.root.pem);
});
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

const T = 120_000;
async function diagnose(endpoint: string, ...extra: string[]) {
  const r = await tlsprobe([
    'diagnose',
    `127.0.0.1:${lab.endpoint(endpoint).port}`,
    '--sni',
    'localhost',
    '--roots',
    roots,
    '--json',
    ...extra,
  ]);
  const out = JSON.parse(r.stdout);
  return { code: r.code, json: out.results?.[0] ?? out, stderr: r.stderr };
}
const REGISTRY_KEYS = /SCHANNEL|DisabledByDefault|SchUseStrongCrypto|KB3140245/;

describe.skipIf(!HAS_CLI)('diagnose: client-hello-rejected', () => {
  it(
    'Windows Server 2022 against picky-size: hello-size 256–511, the padding remedy, no registry keys, exit 1',
    async () => {
      const { code, json } = await diagnose('picky-size', '--client', 'win2022', '--os', '2022', '--bisect');
      expect(code).toBe(1);
      expect(json.verdict.code).toBe('client-hello-rejected');
      expect(json.verdict.cause).toMatchObject({ code: 'hello-size', sizeRange: { min: 256, max: 511 } });
      expect(JSON.stringify(json.remediation)).toMatch(/RFC 7685/);
      expect(JSON.stringify(json.remediation)).not.toMatch(REGISTRY_KEYS);
      expect(json.bisect.cause.code).toBe('hello-size'); // --bisect bisects the hello that failed: the client's
      expect(json.client).toMatchObject({ profile: 'win2022', gets10054: true });
    },
    T,
  );

  it(
    'Chrome against a middlebox that resets X25519MLKEM768: groups, naming the group',
    async () => {
      const { code, json } = await diagnose('picky-group', '--client', 'chrome');
      expect(code).toBe(1);
      expect(json.verdict.cause).toMatchObject({ code: 'groups', group: { name: 'X25519MLKEM768' } });
      expect(JSON.stringify(json.remediation)).toMatch(/X25519MLKEM768/);
    },
    T,
  );

  it(
    'Windows Server 2022 against a middlebox that resets status_request: extension 5',
    async () => {
      const { json } = await diagnose('picky-extension', '--client', 'win2022');
      expect(json.verdict.code).toBe('client-hello-rejected');
      expect(json.verdict.cause).toMatchObject({ code: 'extension', extension: { type: 5 } });
    },
    T,
  );

  it(
    'a client that connects is fine (exit 0) even where the picky endpoint would refuse others',
    async () => {
      const { code, json } = await diagnose('picky-scsv', '--client', 'win2019');
      expect(json.client.connects).toBe(true);
      expect(json.fine).toBe(true);
      expect(code).toBe(0);
    },
    T,
  );

  it(
    'keeps legacy-version-* for a client limited to TLS 1.0, with the registry remedy (exit 1)',
    async () => {
      const { code, json } = await diagnose('reset-legacy', '--client', 'win7-schannel', '--os', '2008r2');
      expect(code).toBe(1);
      expect(json.verdict.code).toBe('legacy-version-reset');
      expect(JSON.stringify(json.remediation)).toMatch(REGISTRY_KEYS);
    },
    T,
  );
});

describe.skipIf(!HAS_CLI)('diagnose: exit codes', () => {
  it(
    '0 for a healthy TLS 1.2+1.3 endpoint that refuses TLS 1.0, saying which legacy clients fail',
    async () => {
      const { code, json } = await diagnose('modern');
      expect(code).toBe(0);
      expect(json.verdict).toMatchObject({ code: 'legacy-version-alert', information: true });
      expect(json.verdict.summary).toMatch(/Clients without TLS 1\.2/);
    },
    T,
  );

  it(
    '3 when the name does not resolve',
    async () => {
      const r = await tlsprobe(['diagnose', 'no-such-host.invalid', '--json']);
      expect(r.code).toBe(3);
      expect(JSON.parse(r.stdout).results[0].verdict.code).toBe('endpoint-unreachable');
    },
    T,
  );
});

describe.skipIf(!HAS_CLI)('diagnose: proxy verdicts', () => {
  it(
    'proxy-unreachable for a proxy that is not there, with the direct attempts that work beside it (exit 3)',
    async () => {
      const { code, json } = await diagnose('modern', '--proxy', 'http://127.0.0.1:1');
      expect(code).toBe(3);
      expect(json.verdict.code).toBe('proxy-unreachable');
      expect(json.verdict.summary).toMatch(/direct path .* works/);
      expect(
        json.evidence.some(
          (e: { attempt: string; outcome: string }) => e.attempt.endsWith('direct') && e.outcome === 'negotiated',
        ),
      ).toBe(true);
    },
    T,
  );

  it(
    'proxy-refused with the HTTP status line of a proxy that refuses CONNECT',
    async () => {
      const proxy = await startHttpConnectProxy({ mode: 'refuse' });
      try {
        const { code, json } = await diagnose('modern', '--proxy', `http://127.0.0.1:${proxy.port}`);
        expect(code).toBe(3);
        expect(json.verdict.code).toBe('proxy-refused');
        expect(json.verdict.summary).toMatch(/403/);
        expect(json.verdict.summary).toMatch(/direct path .* works/);
      } finally {
        await proxy.close();
      }
    },
    T,
  );

  it(
    'proxy-refused with the SOCKS5 reply code of a proxy that refuses CONNECT',
    async () => {
      const proxy = await startSocks5Proxy({ mode: 'refuse' });
      try {
        const { json } = await diagnose('modern', '--proxy', `socks5://127.0.0.1:${proxy.port}`);
        expect(json.verdict.code).toBe('proxy-refused');
        expect(json.verdict.summary).toMatch(/SOCKS5_REP_02|0x02|not allowed/i);
      } finally {
        await proxy.close();
      }
    },
    T,
  );
});

describe.skipIf(!HAS_CLI)('diagnose --client-hello FILE: the client asked about, by its own hello', () => {
  it(
    'a TLS 1.2 client without any renegotiation signal against picky-scsv: renegotiation-scsv (RFC 5746 remedy)',
    async () => {
      const { buildHelloFromShape } = await import('../../src/diagnose/clients.js');
      const { encodeClientHello } = await import('../../src/tls/client-hello.js');
      const { encodeRecords } = await import('../../src/tls/record.js');
      const { ExtensionType: ET, NamedGroup: NG, SignatureScheme: SS } = await import('../../src/tls/registry.js');
      const { hello } = buildHelloFromShape(
        {
          legacyVersion: 0x0303,
          recordVersion: 0x0301,
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
        },
        'client.example',
      );
      const file = join(dir, 'no-renegotiation-signal.hex');
      writeFileSync(file, Buffer.from(encodeRecords(22, 0x0301, encodeClientHello(hello))).toString('hex'));
      const { code, json } = await diagnose('picky-scsv', '--client-hello', file, '--bisect');
      expect(code).toBe(1);
      expect(json.verdict.code).toBe('client-hello-rejected');
      expect(json.verdict.cause.code).toBe('renegotiation-scsv');
      expect(JSON.stringify(json.remediation)).toMatch(/RFC 5746/);
      expect(JSON.stringify(json.remediation)).not.toMatch(REGISTRY_KEYS);
      expect(json.bisect.cause.code).toBe('renegotiation-scsv');
      // The same hello is fine where nothing in front of the server minds.
      const fine = await diagnose('modern', '--client-hello', file);
      expect(fine.json.client.connects).toBe(true);
      expect(fine.code).toBe(0);
    },
    T,
  );

  it(
    'a file that holds no ClientHello is a usage error (exit 2)',
    async () => {
      const file = join(dir, 'not-a-hello.hex');
      writeFileSync(file, '15030300020228');
      const r = await tlsprobe(['diagnose', `127.0.0.1:${lab.endpoint('modern').port}`, '--client-hello', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--client-hello/);
    },
    T,
  );
});

describe.skipIf(!HAS_CLI || !HAS_GNUTLS_CLI)('diagnose --client-hello with a real client (GnuTLS, gnutls-bin)', () => {
  it(
    'GnuTLS with %DISABLE_SAFE_RENEGOTIATION against picky-scsv: renegotiation-scsv',
    async () => {
      const captured = await captureGnutlsClientHello('NORMAL:-VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION');
      const file = join(dir, 'gnutls-hello.bin');
      writeFileSync(file, captured.record);
      const { code, json } = await diagnose('picky-scsv', '--client-hello', file);
      expect(json.client.gets10054).toBe(true);
      expect(json.verdict.code).toBe('client-hello-rejected');
      expect(json.verdict.cause.code).toBe('renegotiation-scsv');
      expect(code).toBe(1);
    },
    T,
  );
});
