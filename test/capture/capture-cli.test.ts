/**
 * `tlsprobe capture FILE` (alias `pcap`) through the CLI entry with an injected context: the JSON
 * contract, NDJSON, filters, the table, key logs, and user errors (exit code 2, one line, no stack).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { validateCliOutput } from '../helpers/schema.js';
import { pcap as pcapOf } from '../helpers/rewrap.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

const pcap = (n: string): string => join(FIXTURES_DIR, 'pcap', n);

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    setExitCode: () => {},
    isTty: false,
  });
  validateCliOutput(argv, out.join('\n'));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

type J = Record<string, unknown>;

describe('tlsprobe capture', () => {
  it('prints the JSON contract for every connection', async () => {
    const r = await cli('capture', pcap('tls12-keylog.pcapng'), '--json', '--keylog', pcap('tls12-keylog.keys'));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { connections: J[]; summary: J };
    expect(j.connections).toHaveLength(3);
    for (const c of j.connections) {
      expect(c).toMatchObject({
        index: expect.any(Number),
        client: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        server: expect.stringMatching(/^127\.0\.0\.2:\d+$/),
        outcome: 'negotiated',
      });
      expect(new Date(c.startTime as string).toISOString()).toBe(c.startTime);
      const ch = c.clientHello as J;
      expect(ch).toMatchObject({
        serverName: 'capture.test',
        ja3: expect.stringMatching(/^771,/),
        ja3Hash: expect.stringMatching(/^[0-9a-f]{32}$/),
        ja4: expect.stringMatching(/^t1[23]d\d{4}\w\w_[0-9a-f]{12}_[0-9a-f]{12}$/),
      });
      expect(Array.isArray(ch.cipherSuites)).toBe(true);
      expect(c.serverHello).toMatchObject({
        ja3s: expect.stringMatching(/^771,/),
        ja3sHash: expect.stringMatching(/^[0-9a-f]{32}$/),
      });
      const certs = c.certificates as J[];
      expect(certs[0]).toMatchObject({
        sha1: expect.stringMatching(/^[0-9a-f]{40}$/),
        subject: 'CN=capture.test',
        issuer: 'CN=tlsprobe capture fixture CA',
      });
      expect(c.alerts).toEqual([
        expect.objectContaining({ from: 'client', level: 1, description: 0, name: 'close_notify' }),
        expect.objectContaining({ from: 'server', level: 1, description: 0, name: 'close_notify' }),
      ]);
      expect(c.end).toMatchObject({ kind: 'fin', by: 'client', afterMessage: expect.any(String) });
      expect(c.decryption).toMatchObject({
        status: 'decrypted',
        clientFinished: { verified: true },
        serverFinished: { verified: true },
      });
      // The chain is judged at capture time, against the documented roots: our fixture CA is not one.
      expect(c.chainCheckedAt).toBe(c.startTime);
      expect((c.chain as J).verified).toBe(false);
    }
    expect(j.summary).toMatchObject({ format: 'pcapng', tlsConnections: 3, shown: 3, decrypted: 3 });
  });

  it('streams one object per line with --ndjson', async () => {
    const r = await cli('pcap', pcap('tls12-keylog.pcapng'), '--ndjson');
    const lines = r.out.split('\n').filter((l) => l.length > 0);
    expect(lines).toHaveLength(3);
    const envelopes = lines.map((l) => JSON.parse(l) as { schemaVersion: string; connections: J[] });
    expect(envelopes.every((e) => e.schemaVersion === '1.0' && e.connections.length === 1)).toBe(true);
    expect(envelopes.map((e) => e.connections[0]!.index).sort()).toEqual([0, 1, 2]);
  });

  it('uses the key log a pcapng file embeds to show TLS 1.3 certificates', async () => {
    const j = JSON.parse((await cli('capture', pcap('tls13-dsb.pcapng'), '--json')).out) as { connections: J[] };
    expect(j.connections[0]).toMatchObject({
      versionName: 'TLS 1.3',
      certificatesDecrypted: true,
      outcome: 'negotiated',
    });
    expect((j.connections[0]!.certificates as J[]).map((c) => c.subject)).toEqual([
      'CN=capture.test',
      'CN=tlsprobe capture fixture CA',
    ]);
  });

  it('filters by outcome, port, host and SNI', async () => {
    const count = async (...args: string[]): Promise<number> =>
      (JSON.parse((await cli('capture', ...args, '--json')).out) as { connections: J[] }).connections.length;
    expect(await count(pcap('tls12-keylog.pcapng'), '--failed')).toBe(0);
    expect(await count(pcap('reset-after-hello.pcapng'), '--failed')).toBe(1);
    expect(await count(pcap('tls12-keylog.pcapng'), '--filter-sni', 'CAPTURE.*')).toBe(3);
    expect(await count(pcap('tls12-keylog.pcapng'), '--filter-sni', 'other.test')).toBe(0);
    expect(await count(pcap('tls12-keylog.pcapng'), '--filter-host', '127.0.0.2')).toBe(3);
    expect(await count(pcap('tls12-keylog.pcapng'), '--filter-host', 'capture.test')).toBe(3);
    const first = (
      JSON.parse((await cli('capture', pcap('tls12-keylog.pcapng'), '--json')).out) as { connections: J[] }
    ).connections[0]!;
    expect(await count(pcap('tls12-keylog.pcapng'), '--port', (first.client as string).split(':')[1]!)).toBe(1);
  });

  it('still takes the old filter spellings --host and --sni, with a warning naming the new ones', async () => {
    const old = await cli(
      'capture',
      pcap('tls12-keylog.pcapng'),
      '--sni',
      'capture.*',
      '--host',
      '127.0.0.2',
      '--json',
    );
    expect(old.code).toBe(0);
    expect((JSON.parse(old.out) as { connections: J[] }).connections.length).toBe(3);
    expect(old.err).toContain('--sni is deprecated here, use --filter-sni');
    expect(old.err).toContain('--host is deprecated here, use --filter-host');
    const both = await cli('capture', pcap('tls12-keylog.pcapng'), '--sni', 'a', '--filter-sni', 'b');
    expect(both.code).toBe(2);
  });

  it('draws a table with the outcome and, on request, the fingerprints', async () => {
    const r = await cli('capture', pcap('reset-after-hello.pcapng'), '--fingerprints');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Outcome/);
    expect(r.out).toMatch(/reset \(TCP reset\)/);
    expect(r.out).toMatch(/RST by server after client client_hello/);
    expect(r.out).toMatch(/JA4/);
    expect(r.out).toMatch(/1 TLS connection in 1 TCP flow/);
  });

  it('refuses a missing file, a file that is not a capture, and --json with --ndjson (exit 2)', async () => {
    const missing = await cli('capture', pcap('no-such.pcapng'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read .*no such file/);
    const notCapture = await cli('capture', pcap('chain.pem'));
    expect(notCapture.code).toBe(2);
    expect(notCapture.err).toMatch(/not a readable pcap\/pcapng capture/);
    expect(notCapture.err).not.toMatch(/internal error/);
    expect((await cli('capture', pcap('silent.pcapng'), '--json', '--ndjson')).code).toBe(2);
    expect((await cli('capture', pcap('silent.pcapng'), '--keylog', pcap('nope.keys'))).code).toBe(2);
    expect((await cli('capture', pcap('silent.pcapng'), '--at', 'not a date')).code).toBe(2);
  });
});

describe('packets the decoder does not read', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tlsprobe-unread-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  let written = 0;
  /** A classic pcap of link type `linkType` holding `frames`, written to the scratch folder. */
  const file = (linkType: number, frames: readonly Uint8Array[]): string => {
    const path = join(scratch, `capture-${++written}-link-type-${linkType}.pcap`);
    writeFileSync(
      path,
      pcapOf(
        frames,
        frames.map(() => 0),
        linkType,
      ),
    );
    return path;
  };

  it('are named on stderr: a link type not decoded, and protected Wi-Fi frames; every view, exit 0', async () => {
    // IEEE 802.15.4 (195): not decoded. A protected 802.11 data frame (Protected Frame flag 0x40).
    const lowpan = file(195, [new Uint8Array(40), new Uint8Array(40)]);
    const wifi = file(105, [
      Uint8Array.from([0x08, 0x41, ...new Array<number>(22).fill(0), ...new Array<number>(40).fill(7)]),
    ]);
    const amsdu = file(105, [
      Uint8Array.from([0x88, 0x01, ...new Array<number>(22).fill(0), 0x80, 0, ...new Array<number>(40).fill(7)]),
    ]);
    for (const view of [[], ['--json'], ['--ndjson']]) {
      const a = await cli('capture', lowpan, ...view);
      expect(a.code).toBe(0);
      expect(a.err).toBe('2 packets not read: link type 195 is not decoded');
      // An A-MSDU (QoS data, A-MSDU Present): the link type is read, the frame is not.
      const c = await cli('capture', amsdu, ...view);
      expect(c.code).toBe(0);
      expect(c.err).toBe(
        '1 packet not read: their link layer is not decoded (an 802.11 fragment or A-MSDU, or a link type inside PKTAP or PPI)',
      );
      const b = await cli('capture', wifi, ...view);
      expect(b.code).toBe(0);
      expect(b.err).toMatch(
        /^1 packet not read: encrypted below TCP \(IPsec ESP, protected Wi-Fi frames\); capture on the VPN's own interface, or decrypt/,
      );
    }
    // Suricata's real IPsec capture (6 ESP packets over IPv4, 2 over IPv6), in every view.
    for (const view of [[], ['--json'], ['--ndjson']]) {
      const esp = await cli('capture', join(FIXTURES_DIR, 'pcap', 'suricata-verify', 'eve-flow-esp.pcap'), ...view);
      expect(esp.code).toBe(0);
      expect(esp.err).toMatch(/^8 packets not read: encrypted below TCP \(IPsec ESP/);
    }
    // A capture whose every packet is read says nothing more.
    expect((await cli('capture', pcap('tls12-keylog.pcapng'))).err).toBe('');
  });
});
