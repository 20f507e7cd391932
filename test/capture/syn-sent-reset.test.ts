/**
 * A stray ACK in reply to a SYN (a firewall's, a SYN proxy's, a stale connection's) draws a reset
 * from the client, which stays in SYN-SENT and sends its SYN again (RFC 9293, Section 3.10.7.3);
 * the handshake then goes on. Two of suricata-verify's real captures hold this pattern. It is one
 * connection, as Wireshark counts it (one tcp.stream): the real TLS 1.2 handshake of the fixture
 * with the stray ACK, the reset and the second SYN put after its first SYN gives the same
 * connections as without them, with the same indices and flows; tshark finds the ServerHellos in the
 * same streams.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/capture/sessions.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { ethernetFrames, pcap, withoutFrames } from '../helpers/rewrap.js';
import { hasTshark, NEEDS_TSHARK, serverHelloPairs } from './sessions-tshark.js';

const dir = mkdtempSync(join(tmpdir(), 'tlsprobe-syn-sent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Ethernet + 20-byte IPv4 header: the TCP header starts at 34; flags at +13, seq at +4, ack at +8. */
const TCP = 34;

function withTcp(frame: Uint8Array, flags: number, seq: number, ack: number): Uint8Array {
  const f = Buffer.from(frame);
  f[TCP + 13] = flags;
  f.writeUInt32BE(seq >>> 0, TCP + 4);
  f.writeUInt32BE(ack >>> 0, TCP + 8);
  return f;
}

async function captures() {
  const frames = await ethernetFrames(join(FIXTURES_DIR, 'pcap', 'tls12-keylog.pcapng'));
  const data = frames.map((f) => f.data);
  const times = frames.map((f) => f.timestampUs);
  const [syn, synAck] = [Buffer.from(data[0]!), Buffer.from(data[1]!)];
  expect(syn[TCP + 13]).toBe(0x02);
  expect(synAck[TCP + 13]).toBe(0x12);
  const stray = 0x1234_5678;
  // The server side's ACK of nothing the client sent, the client's <SEQ=SEG.ACK><CTL=RST>, the SYN again.
  const inserted = [withTcp(synAck, 0x10, 0x0bad_0bad, stray), withTcp(syn, 0x04, stray, 0), syn];
  const withStray = [data[0]!, ...inserted, ...data.slice(1)];
  const strayTimes = [times[0]!, times[0]!, times[0]!, times[0]!, ...times.slice(1)];
  return { bare: pcap(data, times), stray: pcap(withStray, strayTimes) };
}

describe('a reset from a side in SYN-SENT', () => {
  it('ends nothing: the retried handshake is the same connection, in one flow', async () => {
    const { bare, stray } = await captures();
    const keyLog = readFileSync(join(FIXTURES_DIR, 'pcap', 'tls12-keylog.keys'), 'utf8');
    const a = await analyzeCapture(bare, { keyLog });
    const b = await analyzeCapture(stray, { keyLog });
    expect(b.stats.flows).toBe(a.stats.flows);
    expect(b.connections!.map((c) => c.index)).toEqual(a.connections!.map((c) => c.index));
    expect(withoutFrames(b.connections)).toEqual(withoutFrames(a.connections));
    expect(b.connections![0]!.outcome).toBe('negotiated');
  });

  it.skipIf(!hasTshark)(`tshark finds the ServerHellos in the same streams ${NEEDS_TSHARK}`, async () => {
    const { stray } = await captures();
    const file = join(dir, 'stray-ack.pcap');
    writeFileSync(file, stray);
    const { ours, theirs } = await serverHelloPairs(file);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours).toEqual(theirs);
  });
});
