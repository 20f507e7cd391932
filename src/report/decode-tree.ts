/**
 * Renders the JSON view of decoded messages as an indented, human-readable tree. Reads only the JSON
 * view, so what a person sees and what a script reads never disagree.
 */
import type { DecodeResult, Json, JsonObject } from './decode-view.js';
import { escapeText } from './escape.js';

const INDENT = '  ';

/** Returns the tree text for a decode result; each line escaped (names and messages come from the input). */
export function renderDecodeTree(result: DecodeResult): string {
  const lines: string[] = [];
  result.messages.forEach((m, i) => {
    renderMessage(m, i, lines);
  });
  if (result.messages.length === 0) lines.push('(no messages)');
  return lines.map((l) => escapeText(l)).join('\n');
}

function hex16(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}

function str(v: Json | undefined): string {
  return v === null || v === undefined ? '-' : String(v);
}

function renderMessage(m: JsonObject, index: number, lines: string[]): void {
  const type = String(m.type);
  const len = typeof m.length === 'number' ? `, ${m.length} bytes` : '';
  lines.push(`[${index}] ${type} @${str(m.offset)}${len}`);
  const add = (depth: number, text: string) => lines.push(INDENT.repeat(depth) + text);
  switch (type) {
    case 'client_hello': {
      add(1, `legacy_version: ${hex16(m.legacyVersion as number)} (${str(m.legacyVersionName)})`);
      add(1, `random: ${str(m.random)}`);
      add(1, `session_id: ${m.sessionId === '' ? '(empty)' : str(m.sessionId)}`);
      const suites = m.cipherSuites as number[];
      const names = m.cipherSuiteNames as string[];
      add(1, `cipher_suites (${suites.length}):`);
      suites.forEach((c, i) => {
        add(2, `${hex16(c)} ${names[i]}`);
      });
      add(1, `compression_methods: ${(m.compressionMethods as number[]).join(', ')}`);
      renderExtensions(m.extensions as JsonObject[], add);
      renderFindings(m.findings as JsonObject[] | undefined, add);
      break;
    }
    case 'server_hello': {
      add(
        1,
        `version: ${hex16(m.version as number)} (${str(m.versionName)})${m.version !== m.legacyVersion ? `, legacy_version ${hex16(m.legacyVersion as number)}` : ''}`,
      );
      if (m.helloRetryRequest) add(1, 'HelloRetryRequest (special random)');
      add(1, `random: ${str(m.random)}`);
      add(1, `session_id: ${m.sessionId === '' ? '(empty)' : str(m.sessionId)}`);
      add(1, `cipher_suite: ${hex16(m.cipherSuite as number)} ${str(m.cipherSuiteName)}`);
      add(1, `compression_method: ${str(m.compressionMethod)}`);
      if (m.keyShareGroup !== null) add(1, `key_share group: ${hex16(m.keyShareGroup as number)}`);
      if (m.downgradeSentinel !== null) add(1, `downgrade sentinel: ${str(m.downgradeSentinel)}`);
      renderExtensions(m.extensions as JsonObject[], add);
      renderFindings(m.findings as JsonObject[] | undefined, add);
      break;
    }
    case 'certificate': {
      const certs = m.certificates as JsonObject[];
      add(1, `form: ${str(m.form)}${m.context ? `, context ${m.context}` : ''}`);
      add(1, `certificates (${certs.length}):`);
      certs.forEach((c, i) => {
        add(2, `[${i}] ${c.length} bytes DER`);
      });
      break;
    }
    case 'server_key_exchange': {
      const e = m.ecdhe as JsonObject | null;
      const d = m.dhe as JsonObject | null;
      if (e) add(1, `ECDHE ${str(e.namedGroupName)}, public key ${(e.publicKey as string).length / 2} bytes`);
      if (d) add(1, `DHE ${str(d.pBits)}-bit prime`);
      if (m.signatureSchemeName) add(1, `signature: ${str(m.signatureSchemeName)}`);
      if (!e && !d) add(1, `${(m.raw as string).length / 2} bytes (kept raw)`);
      break;
    }
    case 'alert':
      add(1, `${str(m.levelName)} (${str(m.level)}) ${str(m.name)} (${str(m.description)})`);
      break;
    case 'encrypted_record':
      add(1, `${str(m.contentTypeName ?? m.contentType)} record, ${str(m.length)} bytes (encrypted)`);
      break;
    case 'change_cipher_spec':
      break;
    case 'encrypted_extensions':
      renderExtensions(m.extensions as JsonObject[], add);
      break;
    default:
      for (const [k, v] of Object.entries(m)) {
        if (k === 'type' || k === 'offset' || k === 'length') continue;
        add(1, `${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : str(v)}`);
      }
  }
}

function renderExtensions(exts: JsonObject[], add: (depth: number, text: string) => void): void {
  add(1, `extensions (${exts.length}):`);
  for (const e of exts) {
    add(2, `${str(e.name ?? 'unknown')} (${hex16(e.type as number)}), ${e.length} bytes${extensionSummary(e)}`);
  }
}

function extensionSummary(e: JsonObject): string {
  const parts: string[] = [];
  if (Array.isArray(e.serverNames)) parts.push((e.serverNames as JsonObject[]).map((n) => n.name).join(', '));
  if (Array.isArray(e.versionNames)) parts.push((e.versionNames as string[]).join(', '));
  if (e.selected !== undefined && e.selected !== null) parts.push(`selected ${hex16(e.selected as number)}`);
  if (Array.isArray(e.groupNames)) parts.push((e.groupNames as string[]).join(', '));
  if (Array.isArray(e.schemeNames)) parts.push((e.schemeNames as string[]).join(', '));
  if (Array.isArray(e.shares))
    parts.push((e.shares as JsonObject[]).map((s) => `${s.groupName} (${s.length} bytes)`).join(', '));
  if (e.selectedGroup !== undefined && e.selectedGroup !== null)
    parts.push(`selected group ${hex16(e.selectedGroup as number)}`);
  if (Array.isArray(e.protocols)) parts.push((e.protocols as string[]).join(', '));
  if (Array.isArray(e.formats)) parts.push((e.formats as number[]).join(', '));
  if (Array.isArray(e.modes)) parts.push((e.modes as number[]).join(', '));
  if (typeof e.limit === 'number') parts.push(String(e.limit));
  if (e.error) parts.push(`undecodable: ${(e.error as JsonObject).message}`);
  return parts.length ? `: ${parts.join('; ')}` : '';
}

function renderFindings(findings: JsonObject[] | undefined, add: (depth: number, text: string) => void): void {
  if (!findings || findings.length === 0) return;
  add(1, 'findings:');
  for (const f of findings) add(2, `${str(f.severity)} ${str(f.code)}: ${str(f.message)}`);
}
