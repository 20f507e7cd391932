// The scanners tlsprobe is timed against (sslscan, nmap's ssl-enum-ciphers) and what each found:
// how to run each on one endpoint or a fleet, and how to read its output into one shape,
// Map<endpoint "host:port", Map<version "TLS1.2", Set<suite id>>>, so that results can be compared.
import { spawn } from 'node:child_process';

/** Version labels of each tool, mapped to ours. */
const SSLSCAN_VERSIONS = {
  SSLv2: 'SSL2.0',
  SSLv3: 'SSL3.0',
  'TLSv1.0': 'TLS1.0',
  'TLSv1.1': 'TLS1.1',
  'TLSv1.2': 'TLS1.2',
  'TLSv1.3': 'TLS1.3',
};
const NMAP_VERSIONS = {
  SSLv3: 'SSL3.0',
  'TLSv1.0': 'TLS1.0',
  'TLSv1.1': 'TLS1.1',
  'TLSv1.2': 'TLS1.2',
  'TLSv1.3': 'TLS1.3',
};

/** Resolves with { ms, code, stdout, stderr } of one whole-process run of `cmd args`. */
export function timed(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, stdout, stderr }));
  });
}

function add(found, endpoint, version, id) {
  if (!found.has(endpoint)) found.set(endpoint, new Map());
  const byVersion = found.get(endpoint);
  if (!byVersion.has(version)) byVersion.set(version, new Set());
  byVersion.get(version).add(id);
}

/** Reads `tlsprobe probe --json` (one object or an array) or `--ndjson` output. */
export function oursFound(stdout) {
  const found = new Map();
  const text = stdout.trim();
  const objects = text.startsWith('[')
    ? JSON.parse(text)
    : text.startsWith('{') && !text.includes('\n{')
      ? [JSON.parse(text)]
      : text.split('\n').map((l) => JSON.parse(l));
  // `probe --json` and each `--ndjson` line are envelopes ({ schemaVersion, command, results }).
  for (const j of objects.flatMap((o) => (Array.isArray(o.results) ? o.results : [o]))) {
    if (!j.target) continue; // the NDJSON summary line
    const endpoint = `${j.target.host}:${j.target.port}`;
    found.set(endpoint, found.get(endpoint) ?? new Map());
    for (const [version, ids] of Object.entries(j.cipherSuites ?? {}))
      for (const id of ids) add(found, endpoint, version, id);
  }
  return found;
}

/** Reads `sslscan --xml=-` output (one <ssltest> per target; each cipher carries its id). */
export function sslscanFound(stdout) {
  const found = new Map();
  for (const test of stdout.split('<ssltest ').slice(1)) {
    const host = /host="([^"]+)"/.exec(test)?.[1];
    const port = /port="(\d+)"/.exec(test)?.[1];
    const endpoint = `${host}:${port}`;
    found.set(endpoint, found.get(endpoint) ?? new Map());
    for (const m of test.matchAll(
      /<cipher status="(?:accepted|preferred)" sslversion="([^"]+)"[^>]* id="0x([0-9A-Fa-f]+)"/g,
    )) {
      const version = SSLSCAN_VERSIONS[m[1]];
      if (version) add(found, endpoint, version, parseInt(m[2], 16));
    }
  }
  return found;
}

/** Reads nmap's normal output with ssl-enum-ciphers; `idOf` maps an IANA suite name to its value. */
export function nmapFound(stdout, idOf) {
  const found = new Map();
  let host = null;
  let endpoint = null;
  let version = null;
  for (const line of stdout.split('\n')) {
    const h = /^Nmap scan report for (\S+)/.exec(line);
    if (h) {
      host = h[1];
      continue;
    }
    const p = /^(\d+)\/tcp\s+open/.exec(line);
    if (p) {
      endpoint = `${host}:${p[1]}`;
      found.set(endpoint, found.get(endpoint) ?? new Map());
      version = null;
      continue;
    }
    const v = /^\|\s+(SSLv3|TLSv1\.[0-3]):/.exec(line);
    if (v) {
      version = NMAP_VERSIONS[v[1]];
      continue;
    }
    const s = /^\|\s+(TLS_[A-Z0-9_]+)/.exec(line);
    if (s && version && endpoint) {
      const id = idOf(s[1]);
      add(found, endpoint, version, id ?? s[1]);
    }
  }
  return found;
}

/** Returns the differences between two tools' findings on `endpoints`, as lines (empty when equal). */
export function differences(endpoints, a, aName, b, bName, versions) {
  const out = [];
  for (const e of endpoints) {
    for (const v of versions) {
      const x = a.get(e)?.get(v) ?? new Set();
      const y = b.get(e)?.get(v) ?? new Set();
      const onlyA = [...x].filter((s) => !y.has(s));
      const onlyB = [...y].filter((s) => !x.has(s));
      if (onlyA.length || onlyB.length) {
        out.push(`${e} ${v}: only ${aName} [${onlyA.map(hex).join(' ')}], only ${bName} [${onlyB.map(hex).join(' ')}]`);
      }
    }
  }
  return out;
}

function hex(v) {
  return typeof v === 'number' ? `0x${v.toString(16).padStart(4, '0')}` : String(v);
}
