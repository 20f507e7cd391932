/**
 * Test helper: runs tshark as the oracle for the capture analysis tests, with its answers cached
 * outside the repo (keyed by tshark version, arguments and the capture's bytes), and lists the
 * corpus captures with the key logs the corpus ships for them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CORPUS_DIR, hasCorpus } from '../helpers/corpus.js';

export const hasTshark = spawnSync('which', ['tshark']).status === 0;

export const NO_TSHARK = 'tshark not found (Debian package tshark): tshark comparisons skipped';

/** Ends the title of a test that needs tshark, so that its skip names the package to install. */
export const NEEDS_TSHARK = '(needs tshark: Debian package tshark)';

const tsharkVersion = hasTshark ? (spawnSync('tshark', ['--version']).stdout.toString().split('\n')[0] ?? '') : '';

/** Where answers are cached between runs: the same place test/capture/corpus.test.ts uses. */
const CACHE_DIR = join(tmpdir(), 'tlsprobe-tshark-cache');

/** Returns tshark's stdout for `tshark -r file …args` (cached; also keyed by any key file named in args). */
export async function tshark(file: string, args: readonly string[], keyFile?: string): Promise<string> {
  const h = createHash('sha256')
    .update(tsharkVersion)
    .update('\0')
    .update(args.join('\0'))
    .update('\0')
    .update(readFileSync(file));
  if (keyFile) h.update('\0').update(readFileSync(keyFile));
  const cached = join(CACHE_DIR, `${h.digest('hex')}.txt`);
  if (existsSync(cached)) return readFileSync(cached, 'utf8');
  const text = await new Promise<string>((resolve, reject) => {
    const child = spawn('tshark', ['-r', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', () => resolve(Buffer.concat(out).toString('utf8')));
  });
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${cached}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, cached);
  return text;
}

/** Separator between the values of one field in a frame (none of the fields we read contain it). */
export const AGG = ';';

/** Returns rows of `tshark -T fields` for `fields` on the frames `filter` selects; each cell split on AGG. */
export async function tsharkRows(
  file: string,
  filter: string,
  fields: readonly string[],
  extra: readonly string[] = [],
  keyFile?: string,
): Promise<string[][][]> {
  const text = await tshark(
    file,
    [
      '-n',
      ...extra,
      '-Y',
      filter,
      '-T',
      'fields',
      '-E',
      'occurrence=a',
      '-E',
      `aggregator=${AGG}`,
      ...fields.flatMap((f) => ['-e', f]),
    ],
    keyFile,
  );
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t').map((cell) => (cell === '' ? [] : cell.split(AGG))));
}

const CAPTURE_NAME = /\.(pcap|pcapng|cap)(\.gz)?$/;

/** Every capture file under the corpus, relative to it, sorted. */
export function corpusCaptures(): string[] {
  if (!hasCorpus) return [];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (CAPTURE_NAME.test(name)) out.push(relative(CORPUS_DIR, p));
    }
  };
  walk(CORPUS_DIR);
  return out.sort();
}

/** NSS key logs the corpus ships for its captures (SOURCES.md), relative to the corpus. */
export const CORPUS_KEY_LOGS: Readonly<Record<string, string>> = {
  'wireshark/test/captures/tls13-rfc8446.pcap': 'wireshark/test/keys/tls13-rfc8446.keys',
  'wireshark/test/captures/dhe1.pcapng.gz': 'wireshark/test/keys/dhe1_keylog.dat',
  'wireshark/test/captures/http2-data-reassembly.pcap': 'wireshark/test/keys/http2-data-reassembly.keys',
  'wireshark/test/captures/tls12-chacha20poly1305.pcap': 'wireshark/test/keys/tls12-chacha20poly1305.keys',
  'wireshark/test/captures/tls13-20-chacha20poly1305.pcap': 'wireshark/test/keys/tls13-20-chacha20poly1305.keys',
  'wireshark-notes/all/dump.pcapng': 'wireshark-notes/all/premaster.txt',
  'wireshark-notes/ssl3/dump.pcapng': 'wireshark-notes/ssl3/premaster.txt',
  'wireshark-notes/tls/all/dump.pcapng': 'wireshark-notes/tls/all/premaster.txt',
  'wireshark-notes/tls/broken/dump.pcapng': 'wireshark-notes/tls/broken/premaster.txt',
  'wireshark-notes/tls/works/dump.pcapng': 'wireshark-notes/tls/works/premaster.txt',
  'illustrated-tls13/captures/capture.pcap': 'illustrated-tls13/captures/keylog.txt',
  'illustrated-tls12/captures/capture.pcap': 'illustrated-tls12/captures/keylog.txt',
  'wireshark-wiki/uploads/__moin_import__/attachments/SampleCaptures/fix-ssl.pcap': 'wireshark-wiki/fix-ssl.keylog.txt',
};

/**
 * "stream:suite" of every ServerHello (sorted): ours from `analyzeCapture` of the file's bytes, and
 * tshark's (`-Y tls.handshake.type==2`, every suite of a frame).
 */
export async function serverHelloPairs(file: string): Promise<{ ours: string[]; theirs: string[] }> {
  const { analyzeCapture } = await import('../../src/capture/sessions.js');
  const { connections } = await analyzeCapture(readFileSync(file));
  const ours = connections!.filter((c) => c.serverHello).map((c) => `${c.index}:${c.cipherSuite}`);
  const text = await tshark(file, [
    '-Y',
    'tls.handshake.type==2',
    '-T',
    'fields',
    '-e',
    'tcp.stream',
    '-e',
    'tls.handshake.ciphersuite',
  ]);
  const theirs = text
    .split('\n')
    .filter((l) => l !== '')
    .flatMap((l) => {
      const [stream, suites] = l.split('\t');
      return suites!.split(',').map((x) => `${stream}:${Number.parseInt(x, 16)}`);
    });
  return { ours: ours.sort(), theirs: theirs.sort() };
}
