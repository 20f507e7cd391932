/**
 * tshark as the oracle: the same bytes, wrapped in a pcap, dissected by Wireshark's TLS dissector,
 * must give the same fields as `tlsprobe decode`. Skipped when tshark is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decode } from '../../src/decode.js';
import { listHexFixtures, loadHexFixture } from '../helpers/fixtures.js';
import { makePcap } from '../helpers/pcap-writer.js';
import { hasTool, missingTool } from '../helpers/tools.js';
import { hasCorpus, readCorpusJson } from '../helpers/corpus.js';
import { fromHex } from '../../src/wire/hex.js';
import type { JsonObject } from '../../src/report/decode-view.js';

const haveTshark = hasTool('tshark');
if (!haveTshark) console.warn(missingTool('tshark', 'tshark'));

const FIELDS = [
  'tls.handshake.type',
  'tls.handshake.version',
  'tls.handshake.random',
  'tls.handshake.session_id',
  'tls.handshake.ciphersuite',
  'tls.handshake.comp_method',
  'tls.handshake.extension.type',
  'tls.handshake.extension.len',
  'tls.handshake.extensions_server_name',
  'tls.handshake.extensions.supported_version',
  'tls.handshake.extensions_supported_group',
  'tls.handshake.sig_hash_alg',
  'tls.handshake.extensions_key_share_group',
  'tls.handshake.extensions_alpn_str',
  'tls.handshake.extensions_ec_point_format',
  'tls.handshake.certificate',
  'tls.alert_message.desc',
] as const;

type Layers = Partial<Record<(typeof FIELDS)[number], string[]>>;

const dir = haveTshark ? mkdtempSync(join(tmpdir(), 'tlsprobe-tshark-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/**
 * Returns tshark's fields for each sample, each sent in one TCP segment on its own stream, all in one
 * pcap so that tshark starts once (it takes over a second to start).
 */
function tshark(samples: readonly { bytes: Uint8Array; fromClient: boolean }[]): Layers[] {
  const file = join(dir, `t${n++}.pcap`);
  writeFileSync(
    file,
    makePcap(samples.map((s, i) => ({ fromClient: s.fromClient, payload: s.bytes, clientPort: 40000 + i }))),
  );
  const args = [
    '-r',
    file,
    '-o',
    'tcp.analyze_sequence_numbers:FALSE',
    '-T',
    'json',
    ...FIELDS.flatMap((f) => ['-e', f]),
  ];
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  const packets = JSON.parse(r.stdout) as { _source: { layers: Layers } }[];
  return packets.map((p) => p._source.layers);
}

const hex = (v: number, w = 4) => `0x${v.toString(16).padStart(w, '0')}`;

/** Returns what tshark would report for our decode of the same bytes, field by field. */
function ours(messages: JsonObject[]): Layers {
  const hs = messages.filter((m) => !['alert', 'change_cipher_spec', 'encrypted_record'].includes(String(m.type)));
  const out: Record<string, string[]> = {};
  const add = (k: string, v: string) => {
    out[k] ??= [];
    out[k].push(v);
  };
  const msgTypes: Record<string, number> = {
    client_hello: 1,
    server_hello: 2,
    new_session_ticket: 4,
    certificate: 11,
    server_key_exchange: 12,
    server_hello_done: 14,
  };
  for (const m of hs) {
    add('tls.handshake.type', String(msgTypes[String(m.type)] ?? m.msgType));
    if (m.type === 'client_hello' || m.type === 'server_hello') {
      add('tls.handshake.version', hex(m.legacyVersion as number));
      add('tls.handshake.random', String(m.random));
      if (m.sessionId !== '') add('tls.handshake.session_id', String(m.sessionId));
      for (const c of m.type === 'client_hello' ? (m.cipherSuites as number[]) : [m.cipherSuite as number])
        add('tls.handshake.ciphersuite', hex(c));
      for (const c of m.type === 'client_hello' ? (m.compressionMethods as number[]) : [m.compressionMethod as number])
        add('tls.handshake.comp_method', String(c));
      for (const e of m.extensions as JsonObject[]) {
        add('tls.handshake.extension.type', String(e.type));
        add('tls.handshake.extension.len', String(e.length));
        if (e.name === 'server_name' && Array.isArray(e.serverNames))
          for (const s of e.serverNames as JsonObject[]) add('tls.handshake.extensions_server_name', String(s.name));
        if (e.name === 'supported_versions')
          for (const v of (e.versions as number[] | null) ?? [e.selected as number])
            add('tls.handshake.extensions.supported_version', hex(v));
        if (e.name === 'supported_groups')
          for (const g of e.groups as number[]) add('tls.handshake.extensions_supported_group', hex(g));
        if (Array.isArray(e.schemes)) for (const s of e.schemes as number[]) add('tls.handshake.sig_hash_alg', hex(s));
        if (e.name === 'key_share')
          for (const s of (e.shares as JsonObject[] | null) ?? [])
            add('tls.handshake.extensions_key_share_group', String(s.group));
        if (e.name === 'application_layer_protocol_negotiation')
          for (const p of e.protocols as string[]) add('tls.handshake.extensions_alpn_str', p);
        if (e.name === 'ec_point_formats')
          for (const f of e.formats as number[]) add('tls.handshake.extensions_ec_point_format', String(f));
      }
    }
    if (m.type === 'certificate')
      for (const c of m.certificates as JsonObject[]) add('tls.handshake.certificate', String(c.der));
    if (m.type === 'server_key_exchange' && m.signatureScheme !== null)
      add('tls.handshake.sig_hash_alg', hex(m.signatureScheme as number));
  }
  for (const m of messages) if (m.type === 'alert') add('tls.alert_message.desc', String(m.description));
  return out;
}

function compare(samples: readonly { name: string; bytes: Uint8Array; fromClient: boolean }[]): void {
  const theirs = tshark(samples);
  expect(theirs).toHaveLength(samples.length);
  samples.forEach((s, i) => {
    const messages = decode(s.bytes).messages;
    const mine = ours(messages);
    // TLS 1.3 drafts up to -22 carried key_share as extension 40; tshark still reads it, we keep it raw.
    const draftKeyShare = messages.some((m) => (m.extensions as JsonObject[] | undefined)?.some((e) => e.type === 40));
    for (const f of FIELDS) {
      if (draftKeyShare && f === 'tls.handshake.extensions_key_share_group') continue;
      const t = theirs[i]![f] ?? [];
      const o = mine[f] ?? [];
      expect(
        o.map((x) => x.toLowerCase()),
        `${s.name}: ${f}`,
      ).toEqual(t.map((x) => x.toLowerCase()));
    }
  });
}

describe.skipIf(!haveTshark)('decode agrees with tshark field by field', () => {
  it('on ClientHellos of openssl, gnutls and Node, server flights of openssl, and an alert', () => {
    compare([
      ...listHexFixtures('hello').map((name) => ({ name, bytes: loadHexFixture(name), fromClient: true })),
      ...listHexFixtures('server').map((name) => ({ name, bytes: loadHexFixture(name), fromClient: false })),
      {
        name: 'protocol_version alert',
        bytes: Uint8Array.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]),
        fromClient: false,
      },
    ]);
  });

  it.skipIf(!hasCorpus)('on the ClientHellos of every real client in the corpus', () => {
    const clients = readCorpusJson<{ clients: { names: string; handshakebytes: string }[] }>(
      'client-hellos/testssl-client-simulation.json',
    ).clients;
    compare(
      clients
        .filter((c) => c.handshakebytes.startsWith('16'))
        .map((c) => ({ name: c.names, bytes: fromHex(c.handshakebytes), fromClient: true })),
    );
  });
});
