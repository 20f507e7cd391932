/**
 * What a file that is not a pcap or pcapng capture is, when its first bytes say so, and what to do
 * with it: the second half of the one error line `capture` prints for such a file. People hand a
 * capture tool what they have: a compressed capture, a Network Monitor or snoop file, the TLS key
 * log itself, a certificate, a text export.
 */

/** NSS key log labels (the first word of a line of an SSLKEYLOGFILE). */
const KEY_LOG_LABELS = [
  'CLIENT_RANDOM',
  'CLIENT_EARLY_TRAFFIC_SECRET',
  'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  'CLIENT_TRAFFIC_SECRET_0',
  'SERVER_TRAFFIC_SECRET_0',
  'EARLY_EXPORTER_SECRET',
  'EXPORTER_SECRET',
  'RSA',
];

/** [leading bytes, what the file is and what to do]: the formats' own magic numbers. */
const SIGNATURES: readonly [readonly number[], string][] = [
  [[0x28, 0xb5, 0x2f, 0xfd], 'a zstd-compressed file: decompress it first (zstd -d)'],
  [[0x04, 0x22, 0x4d, 0x18], 'an LZ4-compressed file: decompress it first (lz4 -d)'],
  [[0x42, 0x5a, 0x68], 'a bzip2-compressed file: decompress it first (bunzip2)'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'an xz-compressed file: decompress it first (xz -d)'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive: extract the capture from it first'],
  [
    [0x47, 0x4d, 0x42, 0x55],
    'a Microsoft Network Monitor capture: save it as pcapng first (editcap -F pcapng FILE OUT.pcapng, or Wireshark)',
  ],
  [
    [0x52, 0x54, 0x53, 0x53],
    'a Microsoft Network Monitor 1.x capture: save it as pcapng first (editcap -F pcapng FILE OUT.pcapng)',
  ],
  [
    [0x73, 0x6e, 0x6f, 0x6f, 0x70, 0x00, 0x00, 0x00],
    'a Solaris snoop capture: save it as pcapng first (editcap -F pcapng FILE OUT.pcapng)',
  ],
];

const startsWith = (b: Uint8Array, prefix: readonly number[]): boolean =>
  b.length >= prefix.length && prefix.every((x, i) => b[i] === x);

/**
 * Returns what a file named `name` is when its name says so: a Windows event trace (.etl), which
 * has no magic number of its own; else null.
 */
export function describeByName(name: string): string | null {
  return /\.etl$/i.test(name)
    ? 'a Windows event trace (netsh trace, pktmon): convert it first (pktmon etl2pcap FILE --out OUT.pcapng)'
    : null;
}

/**
 * Returns what the file starting with `head` is and what to do with it, or null when its first
 * bytes say nothing we know.
 */
export function describeNonCapture(head: Uint8Array): string | null {
  for (const [magic, what] of SIGNATURES) if (startsWith(head, magic)) return what;
  const text = Buffer.from(head.subarray(0, 512)).toString('latin1');
  const firstLine = text.replace(/^(#[^\n]*\n|\s*\n)*/, '').split(/[\r\n]/)[0] ?? '';
  const word = firstLine.split(' ')[0] ?? '';
  if (KEY_LOG_LABELS.includes(word)) return 'a TLS key log (SSLKEYLOGFILE), not a capture: give it with --keylog';
  if (/^\s*-----BEGIN [A-Z0-9 ]+-----/.test(text))
    return 'a PEM file (certificates or keys), not a capture: tlsprobe chain reads certificates';
  // Printable text (tshark's or tcpdump's printed output, a hex dump, a log): not the binary file.
  const sample = head.subarray(0, 256);
  if (sample.length >= 4 && sample.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f)))
    return 'text, not a capture file (tcpdump -w FILE and tshark -w FILE write captures)';
  return null;
}
