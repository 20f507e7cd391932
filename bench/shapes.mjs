#!/usr/bin/env node
// `tlsprobe capture FILE` (the table) against tshark on captures of other shapes than the capture
// benchmark's (issue 15: held-out captures of other sizes and shapes are timed), whole process each,
// median of interleaved runs. Each shape is made once from the capture benchmark's 30 MB capture
// (64 connections in flight, no key log; bench/lib/capture-synth.mjs) or from scratch, and cached in
// bench/out/captures/shapes/ as a classic pcap (bench/lib/capture-shapes.mjs says how each is made):
//   ipv4       the capture as it is, rewritten as a classic pcap (the reference for the others)
//   ipv6       every packet carried in IPv6 instead of IPv4
//   vlan       every frame with an 802.1Q tag
//   vxlan      every frame inside VXLAN (UDP 4789), as a cloud's traffic mirroring delivers it
//   gre        every IP packet inside GRE
//   corrupted  0.05% of the bytes of every frame replaced (seeded), as a flaky link or disk leaves them
//   bad-tcp    every second TCP header with an impossible data offset (malformed packets)
//   syn-flood  500,000 SYNs from distinct clients, never answered (a scan or a flood; 100,000 flows
//              tracked at once, the oldest evicted)
//   bulk       50 TLS 1.2 connections, each carrying 2 MB of application data after its handshake
//   lossy-flows  60,000 connections, each with 1,400 bytes behind a hole that is never filled (84 MB
//              waiting in all, over the reassembler's 64 MB cap)
//   one-way    one direction of a 280 MB transfer, every 1,000th segment missing, no ACKs seen
// There is no target here (the 15× and 5× targets are on the capture benchmark's file); each line
// gives both tools' times, the ratio, peak RSS, and what each found (our TLS connections, tshark's
// ServerHello frames), so that a shape on which we fall behind shows. `--before-dist DIR` runs an
// older build's CLI in the same interleaved rounds, as a second baseline.
//
// Usage: node bench/shapes.mjs [--quick] [--dist DIR] [--before-dist DIR] [--only NAME,…]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { timed } from './lib/capture-cli-vs-tshark.mjs';
import { SHAPES, cachedShape } from './lib/capture-shapes.mjs';
import { DIST, QUICK, argValue, hasTool, reporter } from './lib/env.mjs';
import { summarize } from './lib/harness.mjs';

const r = reporter('shapes');
const beforeDist = argValue('--before-dist') ?? null;
const only = argValue('--only')?.split(',') ?? Object.keys(SHAPES);
const RUNS = QUICK ? 1 : 3;
const TSHARK_ARGS = ['-Y', 'tls.handshake.type==2', '-T', 'fields', '-e', 'tcp.stream'];

/** The CLI a user runs from `dist`: the bundled bin when the build has one, else tsc's output. */
const cliOf = (dist) =>
  existsSync(join(dist, 'bundle/tlsprobe.js')) ? join(dist, 'bundle/tlsprobe.js') : join(dist, 'cli/main.js');
const median = (xs) => summarize(xs).median;
const mib = (kib) => (kib === null ? 'n/a' : `${(kib / 1024).toFixed(0)} MiB`);

if (!hasTool('tshark')) {
  r.skip('shapes', 'capture shapes against tshark', 'tshark is not installed (Debian package tshark)');
} else {
  for (const name of only) {
    if (!SHAPES[name]) throw new Error(`unknown shape ${name}: ${Object.keys(SHAPES).join(', ')}`);
    const shape = cachedShape(name);
    /** @type {Record<string, () => ReturnType<typeof timed>>} */
    const go = {
      ours: () => timed(process.execPath, [cliOf(DIST), 'capture', shape.path]),
      tshark: () => timed('tshark', ['-r', shape.path, ...TSHARK_ARGS]),
      ...(beforeDist ? { before: () => timed(process.execPath, [cliOf(beforeDist), 'capture', shape.path]) } : {}),
    };
    const names = Object.keys(go);
    /** @type {Record<string, Awaited<ReturnType<typeof timed>>[]>} */
    const runs = Object.fromEntries(names.map((n) => [n, []]));
    for (let i = 0; i < RUNS; i++) {
      // The candidates rotated each round, so that none always runs first.
      for (let k = 0; k < names.length; k++) {
        const who = names[(i + k) % names.length];
        const x = await go[who]();
        if (runs[who].length > 0) x.stdout = '';
        runs[who].push(x);
      }
    }
    const wall = (who) => median(runs[who].map((x) => x.wallMs));
    /** Median of `who`'s peak RSS over the rounds (one process's peak varies by tens of MB on the SYN flood). */
    const rss = (who) => {
      const kib = runs[who].map((x) => x.rssKiB);
      return mib(kib.includes(null) ? null : median(kib));
    };
    /** Median over rounds of `who`'s wall clock over ours in the same round. */
    const over = (who) => median(runs[who].map((x, i) => x.wallMs / runs.ours[i].wallMs));
    const ratio = over('tshark');
    const tls = /^(\d+) TLS connections? in (\d+) TCP flows? \((\d+) packets\)/m.exec(runs.ours[0].stdout);
    const serverHellos = runs.tshark[0].stdout.split('\n').filter((l) => l !== '').length;
    r.report({
      id: `shapes/${name}`,
      title: `tlsprobe capture vs tshark on ${name}: ${shape.what} (${(shape.bytes / 1e6).toFixed(0)} MB; median of ${RUNS} interleaved runs)`,
      bytesPerOp: shape.bytes,
      ours: { name: 'tlsprobe capture FILE', median: wall('ours') * 1e6 },
      baselines: [
        { name: "tshark -Y 'tls.handshake.type==2' -T fields", median: wall('tshark') * 1e6, ratio },
        ...(beforeDist
          ? [
              {
                name: `tlsprobe capture FILE before (${beforeDist})`,
                median: wall('before') * 1e6,
                ratio: over('before'),
              },
            ]
          : []),
      ],
      notes: [
        `wall: ours ${(wall('ours') / 1e3).toFixed(2)} s, tshark ${(wall('tshark') / 1e3).toFixed(2)} s${beforeDist ? `, before ${(wall('before') / 1e3).toFixed(2)} s` : ''}; ratio tshark/ours ${ratio.toFixed(2)}×`,
        `peak RSS (median): ours ${rss('ours')}, tshark ${rss('tshark')}${beforeDist ? `, before ${rss('before')}` : ''}`,
        tls
          ? `found: ours ${tls[1]} TLS connections in ${tls[2]} TCP flows (${tls[3]} packets); tshark ${serverHellos} ServerHello frames`
          : `found: ours printed no summary line; tshark ${serverHellos} ServerHello frames`,
        ...names.map((w) => `runs ${w} (wall ms): ${runs[w].map((x) => x.wallMs.toFixed(0)).join(' ')}`),
      ],
    });
  }
}
r.finish();
