/**
 * Our probes as captures: the pcapng the writer makes from real attempts against the lab, checked
 * by tshark (the independent oracle: checksums, TCP analysis, stream reassembly, TLS 1.3 decryption
 * through the Decryption Secrets Block or a key log file) and by our own capture reader.
 */
import { spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { scan, type ScanResult } from '../../src/probe/scan.js';
import {
  appendFileAtomic,
  encodeProbeCapture,
  ipBytes,
  probeKeyLog,
  SEGMENT_PAYLOAD_BYTES,
  tracedAttempts,
  writeFileAtomic,
  type TracedAttempt,
} from '../../src/capture/pcapng-writer.js';
import { readCapture } from '../../src/capture/pcap.js';
import { reassembleCapture } from '../../src/capture/tcp.js';
import { parseKeyLog } from '../../src/tls/keylog.js';
import { concatBytes, toHex } from '../../src/wire/hex.js';
import { hasTool, missingTool } from '../helpers/tools.js';
import { HAS_IPV6_LOOPBACK, NO_IPV6_LOOPBACK } from '../helpers/servers.js';

const HAS_TSHARK = hasTool('tshark');
if (!HAS_TSHARK) console.warn(missingTool('tshark', 'tshark'));

let lab: Lab;
let lab6: Lab;
let dir: string;
beforeAll(async () => {
  lab = await startLab({ names: ['modern', 'reset-legacy'] });
  if (HAS_IPV6_LOOPBACK) lab6 = await startLab({ host: '::1', names: ['modern'], pki: lab.pki });
  dir = mkdtempSync(join(tmpdir(), 'tlsprobe-pcapng-'));
});
afterAll(async () => {
  await lab?.close();
  await lab6?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Returns tshark's field values per packet (one array of fields per line). */
function fields(file: string, filter: string, names: string[], extra: string[] = []): string[][] {
  const out = tshark(['-r', file, ...extra, '-Y', filter, '-T', 'fields', ...names.flatMap((n) => ['-e', n])]);
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** Returns the bytes of one direction of a TCP stream as tshark reassembles it (follow,tcp,raw). */
function followStream(file: string, stream: number): { client: string; server: string } {
  const out = tshark(['-r', file, '-q', '-z', `follow,tcp,raw,${stream}`]);
  let client = '';
  let server = '';
  for (const line of out.split('\n')) {
    if (/^\t[0-9a-f]+$/.test(line)) server += line.trim();
    else if (/^[0-9a-f]+$/.test(line)) client += line.trim();
  }
  return { client, server };
}

async function probe(host: string, port: number, versions: ('TLS1.0' | 'TLS1.2' | 'TLS1.3')[]): Promise<ScanResult> {
  return scan(host, { port, sni: 'localhost', versions, trace: true, concurrency: 1 });
}

describe('encodeProbeCapture', () => {
  let result: ScanResult;
  let attempts: TracedAttempt[];
  let file: string;
  let keyLogFile: string;
  let bare: string;

  beforeAll(async () => {
    result = await probe('127.0.0.1', lab.endpoint('modern').port, ['TLS1.2', 'TLS1.3']);
    attempts = tracedAttempts(result);
    file = join(dir, 'modern.pcapng');
    await writeFileAtomic(file, encodeProbeCapture(attempts));
    bare = join(dir, 'modern-no-secrets.pcapng');
    await writeFileAtomic(bare, encodeProbeCapture(attempts, { secrets: false }));
    keyLogFile = join(dir, 'modern.keylog');
    await appendFileAtomic(keyLogFile, probeKeyLog(attempts));
  });

  it('keeps one traced attempt per probed version, with the TLS 1.3 secrets', () => {
    expect(attempts).toHaveLength(2);
    expect(attempts[0]!.trace.secrets).toEqual([]);
    expect(attempts[1]!.trace.secrets.map((s) => s.label)).toEqual([
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
    ]);
  });

  it('holds the key log in a Decryption Secrets Block that our reader finds', async () => {
    const meta = await readCapture(readFileSync(file), () => undefined);
    expect(meta.format).toBe('pcapng');
    expect(meta.keyLog).toBe(probeKeyLog(attempts));
    const noSecrets = await readCapture(readFileSync(bare), () => undefined);
    expect(noSecrets.keyLog).toBe('');
    expect(noSecrets.packets).toBe(meta.packets);
  });

  it('gives each attempt its own TCP stream whose bytes are the bytes of the attempt', async () => {
    const seen = new Map<number, { client: Uint8Array[]; server: Uint8Array[]; port: number }>();
    await reassembleCapture(readFileSync(file), {
      onData(flow, d, bytes) {
        const s = seen.get(flow.id) ?? { client: [], server: [], port: flow.client.port };
        s[d].push(bytes.slice());
        seen.set(flow.id, s);
      },
      onGap() {
        throw new Error('gap in a synthetic stream');
      },
      onEnd() {},
    });
    expect(seen.size).toBe(2);
    const ports = [...seen.values()].map((s) => s.port);
    expect(new Set(ports).size).toBe(2);
    attempts.forEach((a, i) => {
      const s = seen.get(i)!;
      const want = (from: 'client' | 'server') =>
        toHex(concatBytes(...a.trace.chunks.filter((c) => c.from === from).map((c) => c.bytes)));
      expect(toHex(concatBytes(...s.client))).toBe(want('client'));
      expect(toHex(concatBytes(...s.server))).toBe(want('server'));
    });
  });

  describe.skipIf(!HAS_TSHARK)('read by tshark', () => {
    it('finds the TLS 1.3 Certificate decrypted through the Decryption Secrets Block, with the DER the attempt decrypted', () => {
      const certs = fields(file, 'tls.handshake.type == 11', ['tcp.stream', 'tls.handshake.certificate']);
      const tls13 = attempts.findIndex((a) => a.trace.secrets.length > 0);
      const row = certs.find((r) => r[0] === String(tls13));
      expect(row, 'TLS 1.3 stream has a decrypted Certificate').toBeDefined();
      const want = result.addresses[0]!.versions[1]!.certificates.map((c) => toHex(c));
      expect(want).toHaveLength(3);
      expect(row![1]!.replace(/:/g, '').split(',')).toEqual(want);
    });

    it('cannot see that Certificate without the secrets, and sees it again with the --keylog file', () => {
      const tls13 = String(attempts.findIndex((a) => a.trace.secrets.length > 0));
      const without = fields(bare, 'tls.handshake.type == 11', ['tcp.stream']).map((r) => r[0]);
      expect(without).not.toContain(tls13);
      const withKeyLog = fields(
        bare,
        'tls.handshake.type == 11',
        ['tcp.stream'],
        ['-o', `tls.keylog_file:${keyLogFile}`],
      ).map((r) => r[0]);
      expect(withKeyLog).toContain(tls13);
    });

    it('writes valid IPv4 and TCP checksums and a TCP conversation tshark finds nothing wrong with', () => {
      const opts = ['-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE'];
      const all = fields(
        file,
        'tcp',
        ['ip.checksum.status', 'tcp.checksum.status', 'tcp.analysis.flags', 'tcp.len'],
        opts,
      );
      expect(all.length).toBeGreaterThan(10);
      for (const [ipSum, tcpSum, analysis, len] of all) {
        expect(ipSum).toBe('1'); // PROTO_CHECKSUM_E_GOOD
        expect(tcpSum).toBe('1');
        expect(analysis ?? '').toBe('');
        expect(Number(len)).toBeLessThanOrEqual(SEGMENT_PAYLOAD_BYTES);
      }
      expect(
        all.some(([, , , len]) => Number(len) === SEGMENT_PAYLOAD_BYTES),
        'the certificate flight was split',
      ).toBe(true);
    });

    it('reassembles each stream to the bytes of its attempt', () => {
      attempts.forEach((a, i) => {
        const f = followStream(file, i);
        const want = (from: 'client' | 'server') =>
          toHex(concatBytes(...a.trace.chunks.filter((c) => c.from === from).map((c) => c.bytes)));
        expect(f.client).toBe(want('client'));
        expect(f.server).toBe(want('server'));
      });
    });

    it('opens each stream with SYN, SYN-ACK, ACK at the time the attempt started', () => {
      const rows = fields(file, 'tcp.stream == 0', ['tcp.flags', 'frame.time_epoch', 'tcp.srcport', 'tcp.dstport']);
      expect(rows.slice(0, 3).map((r) => r[0])).toEqual(['0x0002', '0x0012', '0x0010']);
      expect(Math.abs(Number(rows[0]![1]) * 1000 - attempts[0]!.trace.startedAt)).toBeLessThan(1);
      expect(Number(rows[0]![3])).toBe(lab.endpoint('modern').port);
    });
  });
});

describe('encodeProbeCapture endings', () => {
  it.skipIf(!HAS_TSHARK)('ends a reset attempt with the server RST and a completed one with our FIN', async () => {
    const port = lab.endpoint('reset-legacy').port;
    const result = await probe('127.0.0.1', port, ['TLS1.0', 'TLS1.2']);
    expect(result.addresses[0]!.versions.map((r) => r!.outcome)).toEqual(['reset', 'negotiated']);
    const file = join(dir, 'reset.pcapng');
    await writeFileAtomic(file, encodeProbeCapture(tracedAttempts(result)));
    const rows = fields(file, 'tcp', ['tcp.stream', 'tcp.flags', 'tcp.srcport']);
    const last = (stream: string) =>
      rows.filter((r) => r[0] === stream).filter((r) => (parseInt(r[1]!, 16) & 0x05) !== 0)[0];
    // Stream 0 (TLS 1.0): the first FIN or RST is the server's RST.
    expect(parseInt(last('0')![1]!, 16) & 0x04).toBe(0x04);
    expect(Number(last('0')![2])).toBe(port);
    // Stream 1 (TLS 1.2, ended by our goodbye): the first FIN is ours.
    expect(parseInt(last('1')![1]!, 16) & 0x01).toBe(0x01);
    expect(Number(last('1')![2])).not.toBe(port);
  });

  it.skipIf(!HAS_TSHARK || !HAS_IPV6_LOOPBACK)(
    `frames IPv6 attempts with IPv6 headers and valid checksums, decrypted as well${HAS_IPV6_LOOPBACK ? '' : ` (${NO_IPV6_LOOPBACK})`}`,
    async () => {
      const result = await probe('::1', lab6.endpoint('modern').port, ['TLS1.3']);
      const attempts = tracedAttempts(result);
      const file = join(dir, 'v6.pcapng');
      await writeFileAtomic(file, encodeProbeCapture(attempts));
      const rows = fields(
        file,
        'tcp',
        ['ipv6.src', 'ipv6.dst', 'tcp.checksum.status'],
        ['-o', 'tcp.check_checksum:TRUE'],
      );
      expect(rows.length).toBeGreaterThan(5);
      for (const [src, dst, sum] of rows) {
        expect([src, dst]).toEqual(['::1', '::1']);
        expect(sum).toBe('1');
      }
      expect(fields(file, 'tls.handshake.type == 11', ['tcp.stream'])).toHaveLength(1);
    },
  );

  it.skipIf(!HAS_TSHARK)('answers a refused connection with the RST that refused it', async () => {
    const attempt: TracedAttempt = {
      server: { address: '2001:db8::5', port: 443 },
      trace: {
        startedAt: 1_700_000_000_000,
        chunks: [{ from: 'client', ms: 0, bytes: new Uint8Array([0x16, 3, 1, 0, 0]) }],
        clientRandom: new Uint8Array(32),
        secrets: [],
      },
      end: 'connect-refused',
      connectMs: null,
      elapsedMs: 3,
    };
    const file = join(dir, 'refused.pcapng');
    await writeFileAtomic(file, encodeProbeCapture([attempt]));
    const rows = fields(
      file,
      'tcp',
      ['ipv6.src', 'ipv6.dst', 'tcp.flags', 'tcp.len', 'tcp.checksum.status'],
      ['-o', 'tcp.check_checksum:TRUE'],
    );
    expect(rows).toEqual([
      ['2001:db8::1', '2001:db8::5', '0x0002', '0', '1'],
      ['2001:db8::5', '2001:db8::1', '0x0014', '0', '1'],
    ]);
  });
});

describe('ipBytes', () => {
  it('reads IPv4 and the RFC 4291 text forms of IPv6', () => {
    expect(Array.from(ipBytes('192.0.2.1'))).toEqual([192, 0, 2, 1]);
    expect(toHex(ipBytes('::1'))).toBe('00000000000000000000000000000001');
    expect(toHex(ipBytes('2001:db8::1'))).toBe('20010db8000000000000000000000001');
    expect(toHex(ipBytes('::ffff:192.0.2.1'))).toBe('00000000000000000000ffffc0000201');
    expect(toHex(ipBytes('fe80::1%eth0'))).toBe('fe800000000000000000000000000001');
    expect(toHex(ipBytes('1:2:3:4:5:6:7:8'))).toBe('00010002000300040005000600070008');
  });

  it('rejects names', () => {
    expect(() => ipBytes('localhost')).toThrow(RangeError);
  });
});

describe('writeFileAtomic and appendFileAtomic', () => {
  it('replace the file whole, leave no temporary file behind, and keep secrets private', async () => {
    const sub = mkdtempSync(join(dir, 'atomic-'));
    const f = join(sub, 'out.pcapng');
    writeFileSync(f, 'old content that is longer than the new one');
    await writeFileAtomic(f, new Uint8Array([1, 2, 3]));
    expect(Array.from(readFileSync(f))).toEqual([1, 2, 3]);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readdirSync(sub)).toEqual(['out.pcapng']);
  });

  it('follow a symbolic link and replace its target', async () => {
    const sub = mkdtempSync(join(dir, 'link-'));
    writeFileSync(join(sub, 'real.keylog'), '');
    symlinkSync(join(sub, 'real.keylog'), join(sub, 'link.keylog'));
    await writeFileAtomic(join(sub, 'link.keylog'), 'x\n');
    expect(lstatSync(join(sub, 'link.keylog')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(sub, 'real.keylog'), 'utf8')).toBe('x\n');
  });

  it('append key log lines after what the file held, on a line of their own, keeping its mode', async () => {
    const sub = mkdtempSync(join(dir, 'append-'));
    const f = join(sub, 'keys.log');
    writeFileSync(f, '# existing, no newline at end', { mode: 0o640 });
    const random = new Uint8Array(32).fill(7);
    const line = `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${toHex(random)} ${'ab'.repeat(32)}\n`;
    await appendFileAtomic(f, line);
    await appendFileAtomic(f, line.replace('CLIENT', 'SERVER'));
    expect(readFileSync(f, 'utf8')).toBe(`# existing, no newline at end\n${line}${line.replace('CLIENT', 'SERVER')}`);
    expect(statSync(f).mode & 0o777).toBe(0o640);
    const log = parseKeyLog(readFileSync(f, 'utf8'));
    expect(log.errors).toEqual([]);
    expect(log.size).toBe(2);
  });

  it('reject when the directory does not exist, creating nothing', async () => {
    await expect(writeFileAtomic(join(dir, 'missing-dir', 'x.pcapng'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('probeKeyLog', () => {
  it('writes lines that parse back to the attempt secrets', async () => {
    const result = await probe('127.0.0.1', lab.endpoint('modern').port, ['TLS1.3']);
    const attempts = tracedAttempts(result);
    const log = parseKeyLog(probeKeyLog(attempts));
    expect(log.errors).toEqual([]);
    const t = attempts[0]!.trace;
    for (const s of t.secrets) expect(toHex(log.lookup(t.clientRandom, s.label)!)).toBe(toHex(s.secret));
  });
});
