/**
 * `tlsprobe capture --ndjson`: the compact line (docs/capture-ndjson.md) carries the facts of
 * `--json` once. Each line is checked against the --json object of the same connection through
 * `expectedCompact` below, which states the mapping as data and code: what is kept, what becomes a
 * list of numbers, what is left out when null/false/empty, and (DROPPED) what only --json shows.
 * Runs on the fixtures and on every capture of ../shared/corpus (skipped cleanly without it); the
 * helpers validate every output against schemas/capture.schema.json.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import {
  CIPHER_SUITES,
  EXTENSION_TYPES,
  NAMED_GROUPS,
  PROTOCOL_VERSIONS,
  SIGNATURE_SCHEMES,
  displayName,
} from '../../src/tls/registry.js';
import { CORPUS_DIR, NO_CORPUS, hasCorpus } from '../helpers/corpus.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { validateCliOutput } from '../helpers/schema.js';
import { CORPUS_KEY_LOGS, corpusCaptures } from './sessions-tshark.js';

type J = Record<string, unknown>;

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await run(argv, { out: (t) => out.push(t), err: () => {}, setExitCode: () => {}, isTty: false });
  validateCliOutput(argv, out.join('\n'));
  return { code, out: out.join('\n') };
}

/** What only `--json` shows, per object: the compact line leaves these out on purpose (the doc lists them). */
const DROPPED: Readonly<Record<string, readonly string[]>> = {
  connection: ['messages', 'chainCheckedAt'],
  clientHello: ['legacyVersionName', 'ja4Raw', 'time'],
  serverHello: ['legacyVersionName', 'versionName', 'cipherSuiteName', 'helloRetryRequest', 'findings', 'time'],
  certificate: [
    'der',
    'sha1',
    'serialNumber',
    'keyType',
    'keyBits',
    'curve',
    'signatureAlgorithm',
    'san',
    'selfIssued',
  ],
  chain: ['pathsExamined', 'path', 'findings[].message'],
};

/** Sets `o[k] = v` unless v is null, false or an empty array: the compact line's rule for optional fields. */
function put(o: J, k: string, v: unknown): void {
  if (v === null || v === undefined || v === false || (Array.isArray(v) && v.length === 0)) return;
  o[k] = v;
}

const names = (reg: Parameters<typeof displayName>[0], v: unknown): string[] =>
  (v as number[]).map((x) => displayName(reg, x));

/** Milliseconds since the start as the --json times show them (whole ms): the line's `ms`, floored alike. */
const MS = Symbol('ms');

const ext = (h: J, type: number): J | undefined => (h.extensions as J[]).find((e) => e.type === type);

interface Options {
  readonly names: boolean;
  readonly fingerprints: boolean;
}

function clientHello(h: J, o: Options, withName: boolean): J {
  const out: J = { frame: h.frame, ms: MS, format: h.format };
  if (h.format === 'sslv2') {
    return {
      ...out,
      legacyVersion: h.legacyVersion,
      cipherSpecs: h.cipherSpecs,
      sessionId: h.sessionId,
      challenge: h.challenge,
    };
  }
  const types = (h.extensions as J[]).map((e) => e.type as number);
  Object.assign(out, {
    legacyVersion: h.legacyVersion,
    random: h.random,
    sessionId: h.sessionId,
    cipherSuites: h.cipherSuites,
    compressionMethods: h.compressionMethods,
    extensions: types,
  });
  if (o.names) {
    out.cipherSuiteNames = h.cipherSuiteNames;
    out.extensionNames = names(EXTENSION_TYPES, types);
  }
  if (withName) put(out, 'serverName', h.serverName);
  const shares = (h.keyShares as J[] | null)?.map((k) => k.group) ?? null;
  put(out, 'supportedVersions', h.supportedVersions);
  put(out, 'supportedGroups', h.supportedGroups);
  put(out, 'keyShares', shares);
  put(out, 'signatureAlgorithms', h.signatureAlgorithms);
  put(out, 'alpn', h.alpn);
  put(out, 'ecPointFormats', ext(h, 11)?.formats ?? null);
  if (o.names) {
    put(out, 'supportedVersionNames', h.supportedVersions ? names(PROTOCOL_VERSIONS, h.supportedVersions) : null);
    put(out, 'supportedGroupNames', h.supportedGroups ? names(NAMED_GROUPS, h.supportedGroups) : null);
    put(out, 'keyShareNames', shares ? names(NAMED_GROUPS, shares) : null);
    put(out, 'signatureAlgorithmNames', h.signatureAlgorithms ? names(SIGNATURE_SCHEMES, h.signatureAlgorithms) : null);
  }
  put(out, 'findings', h.findings);
  if (o.fingerprints) Object.assign(out, { ja3: h.ja3, ja3Hash: h.ja3Hash, ja4: h.ja4 });
  return out;
}

function serverHello(h: J, o: Options, retry: boolean): J {
  const out: J = { frame: h.frame, ms: MS, legacyVersion: h.legacyVersion };
  if (retry) Object.assign(out, { version: h.version, cipherSuite: h.cipherSuite });
  else out.random = h.random;
  const types = (h.extensions as J[]).map((e) => e.type as number);
  Object.assign(out, { sessionId: h.sessionId, compressionMethod: h.compressionMethod, extensions: types });
  if (o.names) out.extensionNames = names(EXTENSION_TYPES, types);
  put(out, 'keyShareGroup', h.keyShareGroup);
  if (o.names && h.keyShareGroup !== null) out.keyShareGroupName = displayName(NAMED_GROUPS, h.keyShareGroup as number);
  put(out, 'alpn', ext(h, 16)?.protocols ?? null);
  put(out, 'downgradeSentinel', h.downgradeSentinel);
  if (o.fingerprints) Object.assign(out, { ja3s: h.ja3s, ja3sHash: h.ja3sHash });
  return out;
}

function certificate(c: J): J {
  if (c.error) return { sha256: c.sha256, error: c.error };
  return { sha256: c.sha256, subject: c.subject, issuer: c.issuer, notBefore: c.notBefore, notAfter: c.notAfter };
}

/** Returns the compact line's connection for a `--json` connection (times since the start as MS). */
function expectedCompact(c: J, o: Options): J {
  const out: J = {
    index: c.index,
    client: c.client,
    server: c.server,
    startTime: c.startTime,
    sni: c.sni,
    outcome: c.outcome,
    version: c.version,
  };
  put(out, 'versionName', c.versionName);
  out.cipherSuite = c.cipherSuite;
  put(out, 'cipherSuiteName', c.cipherSuiteName);
  out.handshakeComplete = c.handshakeComplete;
  out.clientHello = c.clientHello ? clientHello(c.clientHello as J, o, false) : null;
  if (c.helloRetryRequest) out.helloRetryRequest = serverHello(c.helloRetryRequest as J, o, true);
  if (c.retryClientHello) out.retryClientHello = clientHello(c.retryClientHello as J, o, true);
  out.serverHello = c.serverHello ? serverHello(c.serverHello as J, o, false) : null;
  put(out, 'sslv2ServerHello', c.sslv2ServerHello);
  out.alerts = (c.alerts as J[]).map((a) => {
    const x: J = { from: a.from, level: a.level, description: a.description, name: a.name };
    if (o.names) x.levelName = a.levelName;
    put(x, 'encrypted', a.encrypted);
    put(x, 'decrypted', a.decrypted);
    return { ...x, frame: a.frame, ms: MS };
  });
  out.end = c.end;
  put(out, 'problems', c.problems);
  put(out, 'serverFirstBytes', c.serverFirstBytes);
  put(out, 'decryption', c.decryption);
  const off = c.tlsOffset as J;
  if (off.client !== 0 || off.server !== 0) out.tlsOffset = off;
  out.bytes = c.bytes;
  put(out, 'certificatesDecrypted', c.certificatesDecrypted);
  out.certificates = (c.certificates as J[]).map(certificate);
  const chain = c.chain as J | null;
  out.chain = chain
    ? {
        valid: chain.valid,
        verified: chain.verified,
        complete: chain.complete,
        hostnameMatch: chain.hostnameMatch,
        anchor: chain.anchor,
        findings: (chain.findings as J[]).map(({ message: _m, ...f }) => f),
        verdict: chain.verdict,
        ...(c.chainCheckedAt !== c.startTime ? { checkedAt: c.chainCheckedAt } : {}),
      }
    : null;
  put(out, 'clientCertificates', ((c.clientCertificates as J[]) ?? []).map(certificate));
  return out;
}

/**
 * Returns `line` with every `ms` checked against the --json `time` of the same object (whole ms,
 * so within 1 ms of `time - startTime`) and replaced by MS, so that the rest compares exactly.
 */
function checkedTimes(line: J, full: J): J {
  const start = Date.parse(full.startTime as string);
  const fix = (x: J | null | undefined, f: J | null | undefined): void => {
    if (!x || !f) return;
    expect(Math.abs(Date.parse(f.time as string) - start - (x.ms as number))).toBeLessThan(1);
    x.ms = MS;
  };
  fix(line.clientHello as J, full.clientHello as J);
  fix(line.retryClientHello as J, full.retryClientHello as J);
  fix(line.serverHello as J, full.serverHello as J);
  fix(line.helloRetryRequest as J, full.helloRetryRequest as J);
  for (const [i, a] of ((line.alerts as J[]) ?? []).entries()) fix(a, (full.alerts as J[])[i]);
  return line;
}

/** Checks that what DROPPED lists is in the --json object and not on the line (the list is the truth). */
function checkDropped(line: J, c: J): void {
  const gone = (kind: string, x: J | null | undefined, f: J | null | undefined): void => {
    if (!x || !f) return;
    for (const k of DROPPED[kind]!.filter((k) => !k.includes('[]'))) {
      if (kind === 'certificate' && f.error && k !== 'der' && k !== 'sha1') continue;
      expect(f, `${kind}.${k} in --json`).toHaveProperty(k);
      expect(x, `${kind}.${k} on the line`).not.toHaveProperty(k);
    }
  };
  gone('connection', line, c);
  if ((c.clientHello as J | null)?.format === 'tls') gone('clientHello', line.clientHello as J, c.clientHello as J);
  gone('serverHello', line.serverHello as J, c.serverHello as J);
  for (const [i, x] of (line.certificates as J[]).entries()) gone('certificate', x, (c.certificates as J[])[i]);
  gone('chain', line.chain as J, c.chain as J);
  for (const f of ((line.chain as J | null)?.findings as J[] | undefined) ?? [])
    expect(f).not.toHaveProperty('message');
}

/** Runs --json and --ndjson (with `extra`) on `file` and checks every line against its --json connection. */
async function compareShapes(file: string, extra: string[], o: Options, keylog?: string): Promise<number> {
  const keys = keylog ? ['--keylog', keylog] : [];
  const full = JSON.parse((await cli('capture', file, '--json', ...keys)).out) as { connections: J[] };
  const r = await cli('capture', file, '--ndjson', ...extra, ...keys);
  expect(r.code).toBe(0);
  const lines = r.out.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(full.connections.length);
  const byIndex = new Map(full.connections.map((c) => [c.index, c]));
  for (const text of lines) {
    const env = JSON.parse(text) as { schemaVersion: string; command: string; connections: J[] };
    expect(Object.keys(env)).toEqual(['schemaVersion', 'command', 'connections']);
    expect(env.connections).toHaveLength(1);
    const line = env.connections[0]!;
    const c = byIndex.get(line.index)!;
    checkDropped(line, c);
    expect(checkedTimes(line, c), `${file} connection ${String(line.index)}`).toEqual(expectedCompact(c, o));
    // The ServerHello's version and suite are left out because they are the line's own.
    const sh = c.serverHello as J | null;
    if (sh) expect([sh.version, sh.cipherSuite]).toEqual([c.version, c.cipherSuite]);
  }
  return lines.length;
}

const pcap = (n: string): string => join(FIXTURES_DIR, 'pcap', n);

describe('capture --ndjson (compact lines)', () => {
  it('carries the facts of --json once, on the fixtures', async () => {
    let n = 0;
    for (const f of ['alert.pcapng', 'closed-after-hello.pcapng', 'http-answer.pcapng', 'tls13-dsb.pcapng'])
      n += await compareShapes(pcap(f), [], { names: false, fingerprints: false });
    n += await compareShapes(
      pcap('tls12-keylog.pcapng'),
      [],
      { names: false, fingerprints: false },
      pcap('tls12-keylog.keys'),
    );
    expect(n).toBeGreaterThan(5);
  });

  it('adds registry names with --names and fingerprints with --fingerprints', async () => {
    const file = pcap('tls12-keylog.pcapng');
    await compareShapes(file, ['--names'], { names: true, fingerprints: false });
    await compareShapes(file, ['--fingerprints'], { names: false, fingerprints: true });
    await compareShapes(file, ['--names', '--fingerprints'], { names: true, fingerprints: true });
    const line = JSON.parse((await cli('capture', file, '--ndjson', '--names')).out.split('\n')[0]!) as {
      connections: J[];
    };
    const ch = line.connections[0]!.clientHello as J;
    expect(ch.cipherSuiteNames).toEqual(names(CIPHER_SUITES, ch.cipherSuites));
    expect(ch.extensionNames).toContain('server_name');
  });

  it('judges validity at --at when given, and says so on the chain', async () => {
    const r = await cli('capture', pcap('tls12-keylog.pcapng'), '--ndjson', '--at', '2001-01-01T00:00:00Z');
    const chains = r.out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { connections: J[] }).connections[0]!.chain as J);
    expect(chains.length).toBeGreaterThan(0);
    for (const ch of chains) {
      expect(ch.checkedAt).toBe('2001-01-01T00:00:00.000Z');
      expect(ch.findings).toContainEqual(expect.objectContaining({ code: 'not-yet-valid', certificate: 0 }));
    }
  });

  it('writes the lines held back for a batch before the error of a capture that breaks off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-ndjson-'));
    try {
      const broken = join(dir, 'broken.pcapng');
      // A block header whose trailing length cannot match: the reader stops there (bad-value).
      const tail = Buffer.from('0a0d0d0affffffff676172626167652067617262616765', 'hex');
      writeFileSync(broken, Buffer.concat([readFileSync(pcap('tls12-keylog.pcapng')), tail]));
      const r = await cli('capture', broken, '--ndjson');
      expect(r.code).toBe(2);
      const lines = r.out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as J);
      expect(lines.slice(0, -1).map((l) => (l.connections as J[])[0]!.index)).toHaveLength(3);
      expect(lines.at(-1)).toMatchObject({ command: 'capture', error: { code: 'bad-input' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses --names without --ndjson (exit 2)', async () => {
    expect((await cli('capture', pcap('alert.pcapng'), '--names')).code).toBe(2);
  });

  it.skipIf(!hasCorpus)(
    'carries the facts of --json once, on every capture of the corpus',
    async () => {
      const files = corpusCaptures();
      let lines = 0;
      for (const rel of files) {
        const keys = CORPUS_KEY_LOGS[rel];
        lines += await compareShapes(
          join(CORPUS_DIR, rel),
          ['--names', '--fingerprints'],
          { names: true, fingerprints: true },
          keys ? join(CORPUS_DIR, keys) : undefined,
        );
      }
      expect(lines).toBeGreaterThan(100);
    },
    600_000,
  );
  if (!hasCorpus) console.warn(NO_CORPUS);
});
