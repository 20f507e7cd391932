/**
 * The human report of a scan: a version table, enumerations, the certificates and a one-line verdict.
 * Reads only the JSON view, so what a person sees and what a script reads never disagree.
 */
import type { Json, JsonObject } from './decode-view.js';
import { escapeText } from './escape.js';
import { fitBlocks } from './fit.js';
import { renderTable } from './table.js';

function s(v: Json | undefined): string {
  return v === null || v === undefined ? '' : String(v);
}

/** Returns the one-cell description of an attempt. */
function detail(v: JsonObject): string {
  switch (v.outcome) {
    case 'negotiated':
      if (!v.supported) return `server answered with ${s(v.negotiatedVersionName)} instead`;
      // The downgrade sentinel is expected when we probe below the server's best version: JSON keeps it.
      return `${s(v.cipherSuiteName)}${v.helloRetryRequest ? ' (after HelloRetryRequest)' : ''}`;
    case 'alert': {
      const a = v.alert as JsonObject;
      return `${a.level === 2 ? 'fatal' : 'warning'} alert ${s(a.name)} (${s(a.description)})`;
    }
    case 'reset':
      return `TCP reset${Number(v.bytesReceived) > 0 ? ` after ${s(v.bytesReceived)} bytes` : ''}: Windows clients see error 10054`;
    case 'closed':
      return 'closed without a TLS answer';
    case 'timeout':
      return 'no answer (read timeout)';
    case 'malformed':
      return `not TLS: ${s(v.error) || 'unreadable reply'}${v.firstBytes ? ` [${asciiPreview(String(v.firstBytes))}]` : ''}`;
    case 'mismatch':
      return s(v.error);
    case null:
      return s(v.notRun);
    default:
      return `${s(v.outcome)}${v.errorCode ? ` (${s(v.errorCode)})` : ''}`;
  }
}

function asciiPreview(hex: string): string {
  const b = Buffer.from(hex, 'hex').subarray(0, 24);
  return [...b].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join('');
}

/**
 * Returns the Result cell: the JSON's own `outcome` word (`negotiated`, `alert`, `reset`, …), so a
 * person and a script read the same word; a ServerHello for another version than the one probed
 * is `negotiated` with "supported: no" in the JSON, and says so here.
 */
function result(v: JsonObject): string {
  if (v.outcome === null) return 'not run';
  if (v.outcome === 'negotiated' && !v.supported) return 'negotiated (other version)';
  return s(v.outcome);
}

/** Returns the text report for one target's JSON view. */
export function renderProbeText(j: JsonObject): string {
  const t = j.target as JsonObject;
  const lines: string[] = [];
  // Lines of ours around strings from the wire: each escaped; tables escape their own cells.
  const push = (text: string) => lines.push(escapeText(text));
  if (j.error) {
    return escapeText(`${s(t.host)}:${s(t.port)}: ${s((j.error as JsonObject).message)}`);
  }
  push(`${s(t.host)}:${s(t.port)} (${s(t.address)})${t.sni ? `, SNI ${s(t.sni)}` : ', no SNI'}`);
  const versions = j.versions as JsonObject[];
  lines.push(
    renderTable(
      ['Version', 'Result', 'Detail', 'Group', 'ms'],
      versions.map((v) => [
        s(v.version),
        result(v),
        detail(v),
        s(v.groupName),
        v.elapsedMs === null ? '' : Number(v.elapsedMs).toFixed(1),
      ]),
    ),
  );
  if (j.cipherSuiteNames) {
    const names = j.cipherSuiteNames as Record<string, string[]>;
    const pref = j.serverPreference as Record<string, boolean | null>;
    for (const [version, suites] of Object.entries(names)) {
      const order =
        pref[version] === true
          ? 'server preference order'
          : pref[version] === false
            ? 'client order (no server preference)'
            : 'order unknown';
      push(`${version} cipher suites (${suites.length}, ${order}):`);
      for (const n of suites) push(`  ${n}`);
    }
  }
  if (j.groupNames) {
    for (const [version, groups] of Object.entries(j.groupNames as Record<string, string[]>)) {
      push(`${version} groups: ${groups.join(', ') || '(none found)'}`);
    }
    const hybrid = j.hybridGroups as number[];
    if (hybrid.length)
      push(
        `post-quantum hybrid groups detected: ${hybrid.map((g) => `0x${g.toString(16).padStart(4, '0')}`).join(', ')}`,
      );
  }
  const certs = j.certificates as JsonObject[];
  if (certs.length) {
    push(`Certificates sent with ${s(j.certificatesFrom)}:`);
    const chain = j.chain as JsonObject | undefined;
    const rows = certs.map((c, i) => [
      i,
      s(c.subject),
      s(c.issuer),
      s(c.keyType) + (c.keyBits ? ` ${s(c.keyBits)}` : ''),
      s(c.notAfter).slice(0, 10),
      s(c.sha1),
    ]);
    lines.push(renderTable(['#', 'Subject', 'Issuer', 'Key', 'Expires', 'SHA-1'], rows));
    if (chain) push(`Chain: ${s(chain.verdict)}`);
  }
  if (j.incomplete) push(`Incomplete: ${s(j.incomplete)}`);
  if (Array.isArray(j.differences) && j.differences.length) {
    push('Addresses answer differently:');
    for (const d of j.differences as string[]) push(`  ${d}`);
  }
  push(summary(versions));
  return fitBlocks(lines);
}

/** Returns the one-line verdict on versions. */
export function summary(versions: readonly JsonObject[]): string {
  const ok = versions.filter((v) => v.supported).map((v) => s(v.version));
  const resets = versions.filter((v) => v.outcome === 'reset').map((v) => s(v.version));
  if (versions.every((v) => ['connect-refused', 'connect-timeout', 'dns-error'].includes(String(v.outcome)))) {
    return `Verdict: unreachable (${s(versions[0]?.outcome)}): not a TLS problem.`;
  }
  let line = ok.length ? `Verdict: negotiated ${ok.join(', ')}.` : 'Verdict: no version negotiated.';
  if (resets.length)
    line += ` Resets ${resets.join(', ')}: a client offering only ${resets.at(-1)} gets error 10054 (connection reset).`;
  return line;
}
