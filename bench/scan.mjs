#!/usr/bin/env node
// Whole-process scans (issue 16): `tlsprobe probe HOST:PORT --ciphers --json` beside `sslscan` and
// `nmap --script ssl-enum-ciphers` on each endpoint type, and a fleet of ≥ 15 endpoints beside
// `sslscan --targets` and one nmap run over all of them.
//
// Method: every figure is the median of ≥ 5 rounds; in each round every tool runs once, in an
// order rotated from round to round, together with `node -e 0` (Node's own start, measured in the
// same round): tlsprobe's own time is its whole process minus that. The 1-minute load average is
// recorded with each round. What each tool found is compared per endpoint and version (suite
// values; nmap's names mapped to values): a difference between tlsprobe and a peer is printed, and
// when both peers that ran agree with each other against tlsprobe, or the only peer disagrees,
// the bench fails (exit 1). A peer that is not installed is skipped, and said so.
// Targets: per endpoint, own time ≤ 0.5 × the faster peer's whole process; fleet ≥ 5× faster than
// the faster peer. Beside each target, the floor of the stack measured in the same rounds: the own
// time of `tlsprobe --version` and of `tlsprobe probe --help` (Node and yargs, both mandated, and
// the probe command's options: what every probe pays before it can connect). A target below that
// floor is said to be unreachable with this stack (and is still NOT MET).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { summarize } from './lib/harness.mjs';
import { DIST, QUICK, REPO, hasTool, lib, reporter } from './lib/env.mjs';
import {
  FLEET_KINDS,
  GNUTLS_PRIORITY,
  freePort,
  makeCertificates,
  startGnutls,
  startNginx,
  startOpenssl,
} from './lib/scan-endpoints.mjs';
import { differences, nmapFound, oursFound, sslscanFound, timed } from './lib/scan-peers.mjs';

const r = reporter('scan');
const ROUNDS = 5; // never fewer, --quick included: a median of fewer is not what the method says
const OWN_TARGET = 0.5;
const FLEET_TARGET = 5;
const FLEET_SIZE = 16;
const VERSIONS = ['SSL3.0', 'TLS1.0', 'TLS1.1', 'TLS1.2', 'TLS1.3'];
const ms = (x) => x * 1e6;
const tmp = mkdtempSync(join(tmpdir(), 'tlsprobe-bench-scan-'));
const stops = [];
let failed = false;

const { CIPHER_SUITES } = await lib('tls/registry.js');
const SUITE_ID = new Map([...CIPHER_SUITES].map(([v, name]) => [name, v]));
/** nmap names TLS 1.3 suites TLS_AKE_WITH_…; the registry, TLS_…. */
const idOf = (name) => SUITE_ID.get(name) ?? SUITE_ID.get(name.replace(/^TLS_AKE_WITH_/, 'TLS_')) ?? null;

const HAVE = {
  sslscan: hasTool('sslscan'),
  nmap: hasTool('nmap'),
  openssl: hasTool('openssl'),
  gnutls: hasTool('gnutls-serv'),
  nginx: hasTool('nginx'),
};

/**
 * tlsprobe as the package installs it: the bundled CLI (its `bin`, scripts/build-bundle.mjs), or
 * tsc's dist/cli/main.js for a dist/ built before the bundle existed.
 */
const OURS = existsSync(join(DIST, 'bundle/tlsprobe.js'))
  ? join(DIST, 'bundle/tlsprobe.js')
  : join(DIST, 'cli/main.js');

const FLOOR_VERSION = 'tlsprobe --version';
const FLOOR_HELP = 'tlsprobe probe --help';

/**
 * The floor of the stack in one comparison: the own time (whole − node -e 0, same round; medians,
 * ms) of `tlsprobe --version` (Node's start and package.json) and of `tlsprobe probe --help` (yargs
 * and the probe command's options too: what every probe command line loads before it can connect).
 */
function floors(tools) {
  const node0 = tools.find((t) => t.name === 'node -e 0');
  const own = (name) => {
    const t = tools.find((x) => x.name === name);
    return summarize(t.times.map((x, i) => x - node0.times[i])).median;
  };
  return { version: own(FLOOR_VERSION), help: own(FLOOR_HELP), node0: summarize(node0.times).median };
}

/** Says what the floor is beside a target of `limit` ms, and when the target is below it. */
function floorText(f, limit, what) {
  const floor = what === 'own' ? f.help : f.node0 + f.help;
  const at = `floor ${floor.toFixed(0)} ms (${what === 'own' ? '' : `node -e 0 ${f.node0.toFixed(0)} + `}probe --help own ${f.help.toFixed(0)}; --version own ${f.version.toFixed(0)})`;
  return floor > limit
    ? `${at}: unreachable with this stack: floor ${floor.toFixed(0)} ms > target ${limit.toFixed(0)} ms`
    : at;
}

/** The floor figures as baselines: own times, ratio = floor / ours (as every ratio: baseline / ours). */
function floorBaselines(f, oursMs) {
  return [
    { name: `${FLOOR_VERSION} own time (floor)`, median: ms(f.version), ratio: f.version / oursMs },
    { name: `${FLOOR_HELP} own time (floor)`, median: ms(f.help), ratio: f.help / oursMs },
  ];
}

/** The tools of one endpoint comparison (ours first), each with how to run it and read it. */
function toolsFor(targetArgs, nmapArgs, sslscanArgs) {
  return [
    {
      name: 'tlsprobe probe --ciphers',
      cmd: process.execPath,
      args: [OURS, 'probe', ...targetArgs, '--ciphers'],
      read: oursFound,
    },
    {
      name: 'sslscan',
      tool: 'sslscan',
      cmd: 'sslscan',
      args: ['--no-colour', '--xml=-', ...sslscanArgs],
      read: sslscanFound,
    },
    {
      name: 'nmap --script ssl-enum-ciphers',
      tool: 'nmap',
      cmd: 'nmap',
      args: ['-Pn', '-n', '--script', 'ssl-enum-ciphers', ...nmapArgs],
      read: (out) => nmapFound(out, idOf),
    },
    { name: 'node -e 0', cmd: process.execPath, args: ['-e', '0'], read: null },
    // The floor of the stack (Node and yargs, both mandated): what tlsprobe pays before any work.
    { name: FLOOR_VERSION, cmd: process.execPath, args: [OURS, '--version'], read: null },
    { name: FLOOR_HELP, cmd: process.execPath, args: [OURS, 'probe', '--help'], read: null },
  ].map((t) => ({ ...t, missing: t.tool !== undefined && !HAVE[t.tool], times: [], found: null }));
}

/** Runs every tool `ROUNDS` times, interleaved and rotated; returns the loads seen, one per round. */
async function measure(tools) {
  const loads = [];
  const present = tools.filter((t) => !t.missing);
  for (let round = 0; round < ROUNDS; round++) {
    loads.push(loadavg()[0]);
    for (let k = 0; k < present.length; k++) {
      const t = present[(round + k) % present.length];
      const res = await timed(t.cmd, t.args, { cwd: REPO });
      // nmap and sslscan exit 0 on a scan; tlsprobe 0, or 1 for a problem found: these endpoints'
      // self-signed certificates do not verify (the JSON is read and compared all the same).
      if (res.code !== 0 && !(t.name.startsWith('tlsprobe') && res.code === 1))
        throw new Error(`${t.name} exited ${res.code}: ${res.stderr.slice(0, 500)}`);
      t.times.push(res.ms);
      if (t.read && t.found === null) t.found = t.read(res.stdout);
    }
  }
  return loads;
}

/** Compares what the tools found on `endpoints`; returns notes, and sets `failed` when ours is the odd one out. */
function check(tools, endpoints) {
  const [ours, sslscan, nmap] = tools;
  const notes = [];
  const diff = (peer) =>
    peer.missing ? null : differences(endpoints, ours.found, 'tlsprobe', peer.found, peer.name.split(' ')[0], VERSIONS);
  const dS = diff(sslscan);
  const dN = diff(nmap);
  const peersAgree =
    !sslscan.missing && !nmap.missing
      ? differences(endpoints, sslscan.found, 'sslscan', nmap.found, 'nmap', VERSIONS)
      : null;
  for (const [peer, d] of [
    [sslscan, dS],
    [nmap, dN],
  ]) {
    if (d === null) notes.push(`${peer.name}: not installed, no comparison`);
    else if (d.length === 0)
      notes.push(
        `suites per version equal to ${peer.name.split(' ')[0]}'s on ${endpoints.length} endpoint(s) (computed)`,
      );
    else notes.push(`DIFFERENT from ${peer.name.split(' ')[0]}: ${d.join('; ')}`);
  }
  if (peersAgree?.length) notes.push(`sslscan and nmap differ from each other: ${peersAgree.join('; ')}`);
  // Ours is wrong when every peer that ran disagrees with it and the peers agree with each other.
  const against = [dS, dN].filter((d) => d !== null);
  const oursOdd =
    against.length > 0 && against.every((d) => d.length > 0) && (peersAgree === null || peersAgree.length === 0);
  if (oursOdd) {
    failed = true;
    notes.push('FAILED: tlsprobe disagrees with every peer, and the peers agree');
  }
  return { notes, equal: !oursOdd };
}

function loadNote(loads) {
  return `1-min load average at each round: ${loads.map((x) => x.toFixed(2)).join(', ')}`;
}

/** Reports one endpoint: tlsprobe's own time against the faster peer's whole process. */
function reportEndpoint(id, title, tools, loads, endpoints, extraNotes = []) {
  const [ours, sslscan, nmap, node0] = tools;
  const own = ours.times.map((t, i) => t - node0.times[i]);
  const ownMed = summarize(own).median;
  const peers = [sslscan, nmap].filter((t) => !t.missing);
  const fastest = peers.length
    ? peers.reduce((a, b) => (summarize(a.times).median <= summarize(b.times).median ? a : b))
    : null;
  const { notes } = check(tools, endpoints);
  const f = floors(tools);
  const targets = [];
  if (fastest) {
    const limit = OWN_TARGET * summarize(fastest.times).median;
    const met = ownMed <= limit;
    targets.push({
      text: `own time ≤ ${OWN_TARGET} × ${fastest.name.split(' ')[0]} (${limit.toFixed(0)} ms): ${ownMed.toFixed(0)} ms${met ? '' : `, ${(ownMed / limit).toFixed(2)}× over (${(ownMed - limit).toFixed(0)} ms)`}; ${floorText(f, limit, 'own')}`,
      met,
    });
  } else targets.push({ text: 'own time ≤ 0.5 × the faster peer: no peer installed', met: null });
  r.report({
    id,
    title: `${title}; median of ${ROUNDS} interleaved rounds (wall clock)`,
    ours: { name: `${ours.name} (whole process)`, ...pick(summarize(ours.times)) },
    baselines: [
      {
        name: 'tlsprobe own time (whole − node -e 0, same round)',
        median: ms(ownMed),
        ratio: summarize(ours.times).median / ownMed,
      },
      ...[sslscan, nmap].map((t) =>
        t.missing
          ? { name: t.name, skipped: `${t.tool} is not installed` }
          : {
              name: `${t.name} (whole process)`,
              median: ms(summarize(t.times).median),
              ratio: summarize(t.times.map((x, i) => x / ours.times[i])).median,
            },
      ),
      {
        name: 'node -e 0',
        median: ms(summarize(node0.times).median),
        ratio: summarize(node0.times.map((x, i) => x / ours.times[i])).median,
      },
      ...floorBaselines(f, ownMed),
    ],
    targets,
    notes: [
      ...notes,
      ...extraNotes,
      'work differs: sslscan also tests renegotiation, compression, heartbleed and TLS fallback and prints the certificate; nmap grades each suite; tlsprobe also validates the chain',
      loadNote(loads),
    ],
    timesMs: Object.fromEntries(tools.map((t) => [t.name, t.times])),
    floorsMs: f,
    loads,
  });
}

function pick(s) {
  return { median: ms(s.median), p25: ms(s.p25), p75: ms(s.p75) };
}

/** Starts bench/lib/lab-host.mjs with `args`; resolves its endpoints. */
function startLabHost(args) {
  const child = spawn(process.execPath, [join(REPO, 'bench/lib/lab-host.mjs'), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, TLSPROBE_BENCH_DIST: DIST },
  });
  stops.push(
    () =>
      /** @type {Promise<void>} */ (
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', resolve);
          child.stdin.end();
          child.kill('SIGTERM');
        })
      ),
  );
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{')) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`lab host exited (${code})`)));
  });
}

/** @param {string} id @param {string} title @param {() => Promise<any>} start @param {string | null} why */
async function oneEndpoint(id, title, start, why = null) {
  if (why) return r.skip(id, title, why);
  let ep;
  try {
    ep = await start();
  } catch (e) {
    return r.skip(id, title, `could not start the endpoint: ${/** @type {Error} */ (e).message}`);
  }
  stops.push(ep.stop);
  const target = `${ep.host}:${ep.port}`;
  const tools = toolsFor([target, '--json'], ['-p', String(ep.port), ep.host], [target]);
  const loads = await measure(tools);
  reportEndpoint(id, `${title} (${target})`, tools, loads, [target]);
  await ep.stop();
}

async function fleet(files) {
  const id = 'scan/fleet';
  const title = `a fleet of ${FLEET_SIZE} nginx endpoints (127.0.0.2–${FLEET_SIZE + 1}, one port, ${FLEET_KINDS.length} configurations in turn)`;
  if (!HAVE.nginx) return r.skip(id, title, 'nginx is not installed (apt-get install nginx)');
  const hosts = Array.from({ length: FLEET_SIZE }, (_, i) => `127.0.0.${i + 2}`);
  /** @type {any} */
  let nginx = null;
  for (let attempt = 0; attempt < 3 && nginx === null; attempt++) {
    const port = await freePort();
    try {
      nginx = await startNginx(
        join(tmp, `fleet-${attempt}`),
        files,
        hosts.map((host, i) => ({ host, kind: FLEET_KINDS[i % FLEET_KINDS.length] })),
        port,
      );
    } catch (e) {
      if (attempt === 2) return r.skip(id, title, `nginx could not start: ${/** @type {Error} */ (e).message}`);
    }
  }
  stops.push(nginx.stop);
  const list = join(tmp, 'fleet.txt');
  writeFileSync(list, `# ${title}\n${hosts.map((h) => `${h}:${nginx.port}`).join('\n')}\n`);
  const endpoints = hosts.map((h) => `${h}:${nginx.port}`);
  const tools = toolsFor(
    ['--targets', list, '--ndjson'],
    ['-p', String(nginx.port), `127.0.0.2-${FLEET_SIZE + 1}`],
    [`--targets=${list}`],
  );
  const loads = await measure(tools);
  const [ours, sslscan, nmap, node0] = tools;
  const peers = [sslscan, nmap].filter((t) => !t.missing);
  const fastest = peers.length
    ? peers.reduce((a, b) => (summarize(a.times).median <= summarize(b.times).median ? a : b))
    : null;
  const { notes } = check(tools, endpoints);
  const f = floors(tools);
  // As every ratio of the reporter: the median over rounds of peer / ours, measured side by side.
  const ratio = fastest ? summarize(fastest.times.map((x, i) => x / ours.times[i])).median : null;
  const fleetLimit = fastest ? summarize(fastest.times).median / FLEET_TARGET : 0; // read with fastest only
  r.report({
    id,
    title: `${title}: tlsprobe --targets --ndjson vs sslscan --targets and one nmap run; median of ${ROUNDS} interleaved rounds (wall clock)`,
    ours: { name: `${ours.name} --targets (whole process)`, ...pick(summarize(ours.times)) },
    baselines: [
      ...[sslscan, nmap].map((t) =>
        t.missing
          ? { name: t.name, skipped: `${t.tool} is not installed` }
          : {
              name: `${t.name} (whole process)`,
              median: ms(summarize(t.times).median),
              ratio: summarize(t.times.map((x, i) => x / ours.times[i])).median,
            },
      ),
      {
        name: 'node -e 0',
        median: ms(summarize(node0.times).median),
        ratio: summarize(node0.times.map((x, i) => x / ours.times[i])).median,
      },
      ...floorBaselines(f, summarize(ours.times).median),
    ],
    targets: [
      fastest
        ? {
            text: `≥ ${FLEET_TARGET}× faster than ${fastest.name.split(' ')[0]} (whole ≤ ${fleetLimit.toFixed(0)} ms): ${ratio.toFixed(2)}×${ratio >= FLEET_TARGET ? '' : ` (short by ${(FLEET_TARGET / ratio).toFixed(2)}×)`}; ${floorText(f, fleetLimit, 'whole')}`,
            met: ratio >= FLEET_TARGET,
          }
        : { text: `≥ ${FLEET_TARGET}× faster than the faster peer: no peer installed`, met: null },
    ],
    notes: [...notes, `fleet kinds: ${FLEET_KINDS.map((k) => k.name).join(', ')}`, loadNote(loads)],
    timesMs: Object.fromEntries(tools.map((t) => [t.name, t.times])),
    floorsMs: f,
    loads,
  });
  await nginx.stop();
}

try {
  console.log(
    `scan bench: sslscan ${HAVE.sslscan ? 'found' : 'MISSING (skipped)'}, nmap ${HAVE.nmap ? 'found' : 'MISSING (skipped)'}; ${ROUNDS} rounds each${QUICK ? ' (--quick does not shorten this group)' : ''}`,
  );
  const files = HAVE.openssl ? makeCertificates(tmp) : null;
  const noOpenssl = HAVE.openssl ? null : 'openssl is not installed (it makes the certificates and runs s_server)';
  await oneEndpoint(
    'scan/openssl-tls12',
    'openssl s_server -tls1_2, default suites',
    () => startOpenssl(files, ['-tls1_2']),
    noOpenssl,
  );
  await oneEndpoint(
    'scan/openssl-tls10-13',
    'openssl s_server TLS 1.0–1.3, DEFAULT@SECLEVEL=0',
    () => startOpenssl(files, ['-cipher', 'DEFAULT@SECLEVEL=0', '-min_protocol', 'TLSv1']),
    noOpenssl,
  );
  await oneEndpoint(
    'scan/gnutls-tls12',
    `gnutls-serv TLS 1.2, 4 suites (${GNUTLS_PRIORITY})`,
    () => startGnutls(files),
    noOpenssl ?? (HAVE.gnutls ? null : 'gnutls-serv is not installed (apt-get install gnutls-bin)'),
  );
  await oneEndpoint(
    'scan/nginx-rsa-ecdsa',
    'nginx TLS 1.2+1.3, RSA and ECDSA certificates, default suites',
    async () => {
      const port = await freePort();
      const n = await startNginx(join(tmp, 'nginx-one'), files, [{ host: '127.0.0.1', kind: FLEET_KINDS[1] }], port);
      return { host: '127.0.0.1', port, stop: n.stop };
    },
    noOpenssl ?? (HAVE.nginx ? null : 'nginx is not installed (apt-get install nginx)'),
  );
  await oneEndpoint(
    'scan/reset-legacy',
    'a gate that resets hellos below TLS 1.2 (lab reset-legacy: Node TLS behind src/lab/hello-gate.ts)',
    async () => {
      const info = await startLabHost(['--names', 'reset-legacy']);
      const e = info.endpoints.find((x) => x.name === 'reset-legacy');
      return { host: e.host, port: e.port, stop: async () => {} };
    },
  );
  if (files) await fleet(files);
} finally {
  await Promise.all(stops.map((s) => s().catch(() => {})));
  rmSync(tmp, { recursive: true, force: true });
}
r.finish();
if (failed) {
  console.error("scan bench: tlsprobe's results differ from the peers' (see FAILED above)");
  process.exitCode = 1;
}
