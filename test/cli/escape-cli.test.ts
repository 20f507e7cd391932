/**
 * Safe text out (issue 14): names from the wire or a file that carry terminal escape sequences (an
 * SNI or ALPN inside a hello or a capture, a certificate subject, a .reg line, a file name) reach
 * the terminal escaped (`\x1b`), from every text renderer: probe, diagnose, capture, decode,
 * replay, chain, registry, clients. Window title, screen clear, bell and the 8-bit CSI are tried.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeJsonText, escapeText } from '../../src/report/escape.js';
import { encodeClientHello, parseClientHello } from '../../src/tls/client-hello.js';
import type { Extension } from '../../src/tls/extensions.js';
import { HAS_CLI, tlsprobe } from '../helpers/cli.js';
import { loadHexFixture } from '../helpers/fixtures.js';
import { makePcap } from '../helpers/pcap-writer.js';
import { HAS_OPENSSL, NO_OPENSSL } from '../helpers/servers.js';
import { selfSignedEc } from '../x509/openssl-pki.js';

/** OSC 0 (set the window title, ended by BEL), CSI 2J (clear the screen) in 7-bit and in 8-bit (C1) form, DEL. */
const HOSTILE = 'evil\x1b]0;pwned\x07-\x1b[2J-\u009b2J-\x7f';
const HOSTILE_ASCII = 'evil\x1b]0;pwned\x07-\x1b[2J-\x7f';

/** True when `text` holds a control character other than the line feed: what a terminal would act on. */
function hasRawControl(text: string): boolean {
  return /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(text);
}

describe('escapeText', () => {
  it('writes C0, DEL and C1 controls as \\xNN and leaves the rest', () => {
    expect(escapeText(HOSTILE)).toBe('evil\\x1b]0;pwned\\x07-\\x1b[2J-\\x9b2J-\\x7f');
    expect(escapeText('a\nb\tc\r')).toBe('a\\x0ab\\x09c\\x0d');
    expect(escapeText('a\nb\r', { keepNewlines: true })).toBe('a\nb\\x0d');
    expect(escapeText('Zürich ✓ 東京')).toBe('Zürich ✓ 東京');
    for (let c = 0; c < 0x100; c++) {
      const ch = String.fromCharCode(c);
      const control = c < 0x20 || (c >= 0x7f && c < 0xa0);
      expect(escapeText(ch)).toBe(control ? `\\x${c.toString(16).padStart(2, '0')}` : ch);
    }
  });

  it('keeps JSON the same value while escaping DEL and C1', () => {
    const json = JSON.stringify({ name: HOSTILE });
    const safe = escapeJsonText(json);
    expect(hasRawControl(safe)).toBe(false);
    expect(JSON.parse(safe)).toEqual({ name: HOSTILE });
  });

  it('escapes exactly DEL and C1 in JSON text, whatever else the text holds', () => {
    // One character at a time past ASCII and around DEL and C1 (U+007F is one UTF-8 byte, like
    // ASCII; U+0080–U+009F two, like the letters after them), then amid ASCII and wider text.
    const samples = [0x20, 0x41, 0x7e, 0x7f, 0x80, 0x85, 0x9b, 0x9f, 0xa0, 0xe9, 0x2028, 0x6771, 0xd83d];
    for (const c of samples) {
      for (const around of ['', 'abc', '東京 ✓']) {
        const json = JSON.stringify({ v: `${around}${String.fromCharCode(c)}${around}` });
        const safe = escapeJsonText(json);
        expect(hasRawControl(safe), c.toString(16)).toBe(false);
        expect(JSON.parse(safe)).toEqual(JSON.parse(json));
        const escaped = c >= 0x7f && c <= 0x9f;
        expect(safe === json, c.toString(16)).toBe(!escaped);
        if (escaped) expect(safe).toContain(`\\u00${c.toString(16)}`);
      }
    }
  });
});

const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-escape-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A TLS 1.3 ClientHello record from openssl s_client, its SNI and ALPN replaced by `name`. */
function hostileHello(name: string): Uint8Array {
  const record = loadHexFixture('hello/openssl-s_client-tls13.hex');
  const ch = parseClientHello(record.subarray(5));
  const extensions: Extension[] = (ch.extensions ?? []).filter((e) => e.kind !== 'server_name' && e.kind !== 'alpn');
  extensions.unshift(
    { kind: 'server_name', type: 0x0000, names: [{ nameType: 0, name }] },
    { kind: 'alpn', type: 0x0010, protocols: [name, 'h2'] },
  );
  const hs = encodeClientHello({ ...ch, extensions });
  const out = new Uint8Array(5 + hs.length);
  out.set([0x16, 0x03, 0x01, hs.length >> 8, hs.length & 0xff]);
  out.set(hs, 5);
  return out;
}

/** Asserts that a run printed something, with no raw control character on stdout or stderr. */
function expectEscaped(r: { stdout: string; stderr: string }, mustShow = true): void {
  expect(hasRawControl(r.stdout), r.stdout).toBe(false);
  expect(hasRawControl(r.stderr), r.stderr).toBe(false);
  // ESC shown as \x1b, or as \1B where RFC 4514 escapes it inside a distinguished name; CSI as \x9b.
  if (mustShow) expect(r.stdout + r.stderr).toMatch(/\\x1b|\\1B|\\x9b/);
}

describe.skipIf(!HAS_CLI)('file and capture renderers', () => {
  const helloFile = join(dir, 'hello.bin');
  const pcapFile = join(dir, 'hello.pcap');
  beforeAll(() => {
    const hello = hostileHello(HOSTILE_ASCII);
    writeFileSync(helloFile, hello);
    // A fatal handshake_failure alert from the server after the hello.
    writeFileSync(
      pcapFile,
      makePcap([
        { fromClient: true, payload: hello },
        { fromClient: false, payload: Uint8Array.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]) },
      ]),
    );
  });

  it('decode: SNI and ALPN of a hello', async () => {
    const r = await tlsprobe(['decode', helloFile]);
    expect(r.code).toBe(0);
    expectEscaped(r);
    expect(r.stdout).toContain('evil\\x1b]0;pwned\\x07');
    // JSON stays JSON and keeps the exact value.
    const j = await tlsprobe(['decode', helloFile, '--json']);
    expect(hasRawControl(j.stdout)).toBe(false);
    expect(JSON.stringify(JSON.parse(j.stdout))).toContain(JSON.stringify(HOSTILE_ASCII).slice(1, -1));
  });

  it('capture: the SNI inside a capture (table, and --fingerprints)', async () => {
    for (const extra of [[], ['--fingerprints'], ['--sni', '*evil*']]) {
      const r = await tlsprobe(['capture', pcapFile, ...extra]);
      expect(r.code, r.stderr).toBe(0);
      expectEscaped(r);
    }
  });

  it('replay: the hello and a file name with escapes, against a closed port', async () => {
    const named = join(dir, `hello${HOSTILE_ASCII.replace(/\//g, '')}.bin`);
    writeFileSync(named, readFileSync(helloFile));
    const r = await tlsprobe(['replay', named, '--to', '127.0.0.1:1']);
    expect(r.code).toBe(3);
    expectEscaped(r);
  });

  it('registry: a value name and a broken line with escapes', async () => {
    const reg = join(dir, 'evil.reg');
    const key =
      'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client';
    writeFileSync(
      reg,
      `Windows Registry Editor Version 5.00\r\n\r\n[${key}]\r\n"Enabled"=dword:00000000\r\n"${HOSTILE_ASCII}"=dword:00000001\r\n`,
    );
    const r = await tlsprobe(['registry', reg]);
    expect(r.code).toBe(1);
    expectEscaped(r, false);
    const broken = join(dir, 'broken.reg');
    writeFileSync(
      broken,
      `Windows Registry Editor Version 5.00\r\n\r\n[${key}]\r\n"Enabled"=dword:00000001 ${HOSTILE_ASCII}\r\n`,
    );
    const b = await tlsprobe(['registry', broken]);
    expect(b.code).toBe(2);
    expectEscaped(b);
  });
});

describe.skipIf(!HAS_CLI || !HAS_OPENSSL)(
  `network renderers against a server whose certificate names carry escapes${HAS_OPENSSL ? '' : ` (${NO_OPENSSL}; Debian package openssl)`}`,
  () => {
    let server: TlsServer;
    let port = 0;
    const certFile = join(dir, 'evil.pem');
    beforeAll(async () => {
      const key = join(dir, 'evil.key');
      selfSignedEc({ key, out: certFile, subject: `/O=${HOSTILE}/CN=localhost`, san: 'DNS:localhost', days: 30 });
      server = createTlsServer({ key: readFileSync(key), cert: readFileSync(certFile), minVersion: 'TLSv1.2' }, (s) =>
        s.end(),
      );
      server.on('tlsClientError', () => {});
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    }, 60_000);
    afterAll(async () => {
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    });

    it('chain: a PEM file', async () => {
      const r = await tlsprobe(['chain', certFile]);
      expect(r.code).toBe(1);
      expectEscaped(r);
    });

    it.each([
      [
        'probe',
        true,
        (p: number) => [
          'probe',
          `127.0.0.1:${p}`,
          '--sni',
          'localhost',
          '--versions',
          'TLS1.2',
          'TLS1.3',
          '--timeout',
          '20',
        ],
      ],
      ['chain', true, (p: number) => ['chain', `127.0.0.1:${p}`, '--sni', 'localhost', '--timeout', '20']],
      // The diagnosis names the certificate only in some verdicts: nothing raw is the rule.
      ['diagnose', false, (p: number) => ['diagnose', `127.0.0.1:${p}`, '--sni', 'localhost', '--timeout', '20']],
    ] as const)(
      '%s: the certificate the server sends',
      async (_name, shown, args) => {
        const r = await tlsprobe(args(port));
        expectEscaped(r, shown);
      },
      120_000,
    );

    it('clients: every simulated client against the server', async () => {
      const r = await tlsprobe(['clients', `127.0.0.1:${port}`, '--sni', 'localhost', '--timeout', '20']);
      expectEscaped(r, false);
    }, 120_000);
  },
);
