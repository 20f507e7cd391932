/**
 * The HTML report (`--html FILE`): one self-contained page to attach to a support case. Inline CSS
 * and SVG only: no script, no font, no image from anywhere, and a Content-Security-Policy that
 * forbids every fetch, so opening it makes no network request. Order: the verdict and what to
 * change first, then each attempt's ladder, the certificate chain with its anchor and thumbprints,
 * the registry fix as a .reg download (a data: URI), and the raw JSON folded at the end. Every
 * piece of text goes through `esc` (names, alerts and certificate fields come from the wire).
 */
import type { JsonObject } from './decode-view.js';
import type { Ladder, Rung } from './ladder.js';

/** One target's (or one command's) part of the report. */
export interface HtmlSection {
  readonly heading: string;
  readonly verdict: { readonly code: string; readonly summary: string; readonly ok: boolean } | null;
  readonly remediation: readonly { readonly kind: string; readonly text: string }[];
  /** A .reg file's text (CRLF lines) offered as a download, or null. */
  readonly regFix: string | null;
  readonly ladders: readonly Ladder[];
  /** Certificates as the JSON views show them (subject, issuer, sha1, sha256, …), leaf first. */
  readonly certificates: readonly JsonObject[];
  /** The chain's JSON view (chain-view.ts), or null. */
  readonly chain: JsonObject | null;
  readonly tables: readonly {
    readonly caption: string;
    readonly head: readonly string[];
    readonly rows: readonly (readonly string[])[];
  }[];
}

export interface HtmlReport {
  readonly title: string;
  /** The command line that made it, for the reader. */
  readonly command: string;
  readonly generatedAt: Date;
  readonly sections: readonly HtmlSection[];
  /** What `--json` prints, shown folded. */
  readonly raw: unknown;
}

/** The page's Content-Security-Policy: nothing may be fetched; inline style and data: images only. */
export const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** Returns `text` safe inside HTML text and attribute values. */
export function esc(text: unknown): string {
  return String(text ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.5rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.05rem}
.verdict{padding:.8rem 1rem;border-radius:6px;border:2px solid #b00020;background:#fdecef}
.verdict.ok{border-color:#1b7f3b;background:#eaf6ee}
.verdict code{font-weight:bold;font-size:1.1rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}
td.mono,code,pre{font-family:ui-monospace,Consolas,monospace;font-size:12px;word-break:break-all}
.download{display:inline-block;padding:.4rem .8rem;border:1px solid #245;border-radius:4px;background:#e8f0fb;color:#123;text-decoration:none}
pre{background:#f6f6f6;padding:.6rem;overflow:auto;max-height:40rem}
svg text{font:12px ui-monospace,Consolas,monospace}
.meta{color:#555}
`;

const RUNG_COLOR: Record<Rung['kind'], string> = {
  connect: '#555',
  hello: '#245',
  'server-hello': '#1b7f3b',
  alert: '#b35c00',
  rst: '#b00020',
  fin: '#7a3fb0',
  nothing: '#777',
  garbage: '#b00020',
  refused: '#b00020',
};

/** Returns one ladder as an inline SVG: client and server as vertical lines, one arrow per rung. */
export function ladderSvg(l: Ladder): string {
  const w = 720;
  const left = 150;
  const right = 640;
  const step = 34;
  const h = 40 + step * Math.max(1, l.rungs.length);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(`${l.title}: ${l.outcome ?? 'not run'}`)}" class="ladder">`,
    `<text x="${left}" y="14" text-anchor="middle">client</text><text x="${right}" y="14" text-anchor="middle">server</text>`,
    `<line x1="${left}" y1="20" x2="${left}" y2="${h - 4}" stroke="#333"/><line x1="${right}" y1="20" x2="${right}" y2="${h - 4}" stroke="#333"/>`,
  ];
  if (l.rungs.length === 0) parts.push(`<text x="${(left + right) / 2}" y="44" text-anchor="middle">not run</text>`);
  l.rungs.forEach((r, i) => {
    const y = 42 + i * step;
    const color = RUNG_COLOR[r.kind];
    const time = r.ms === null ? '' : `${r.ms.toFixed(1)} ms`;
    parts.push(`<text x="${left - 12}" y="${y + 4}" text-anchor="end" fill="#555">${esc(time)}</text>`);
    if (r.direction === 'none') {
      parts.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="${color}" stroke-dasharray="4 4"/>`);
    } else {
      const [x1, x2] = r.direction === 'to-server' ? [left, right] : [right, left];
      const head =
        r.direction === 'to-server'
          ? `${x2 - 9},${y - 5} ${x2},${y} ${x2 - 9},${y + 5}`
          : `${x2 + 9},${y - 5} ${x2},${y} ${x2 + 9},${y + 5}`;
      parts.push(
        `<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" stroke="${color}" stroke-width="2"/><polygon points="${head}" fill="${color}"/>`,
      );
    }
    parts.push(
      `<text x="${(left + right) / 2}" y="${y - 5}" text-anchor="middle" fill="${color}">${esc(r.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

function table(head: readonly string[], rows: readonly (readonly string[])[], mono: readonly number[] = []): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const trs = rows
    .map((r) => `<tr>${r.map((c, i) => `<td${mono.includes(i) ? ' class="mono"' : ''}>${esc(c)}</td>`).join('')}</tr>`)
    .join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`;
}

/** Returns the .reg text as a data: URI (UTF-16LE with a byte-order mark, as regedit writes). */
export function regDataUri(text: string): string {
  return `data:application/octet-stream;base64,${Buffer.from(`\ufeff${text}`, 'utf16le').toString('base64')}`;
}

function chainHtml(s: HtmlSection): string {
  if (s.certificates.length === 0 && s.chain === null) return '';
  const out = ['<h3>Certificate chain</h3>'];
  const anchor = s.chain?.anchor as JsonObject | null | undefined;
  if (s.chain) out.push(`<p class="chain-verdict">${esc(s.chain.verdict)}</p>`);
  if (anchor) {
    out.push(
      `<p>Anchor: <strong>${esc(anchor.name)}</strong>, SHA-1 <code>${esc(anchor.sha1)}</code>${anchor.documented ? ' (in the documented root set)' : ' (not in the documented root set)'}${anchor.expired ? ', EXPIRED' : ''}</p>`,
    );
  }
  const rows = s.certificates.map((c, i) => [
    String(i),
    String(c.subject ?? ''),
    String(c.issuer ?? ''),
    String(c.notAfter ?? ''),
    String(c.sha1 ?? ''),
    String(c.sha256 ?? ''),
  ]);
  out.push(table(['#', 'Subject', 'Issuer', 'Expires', 'SHA-1', 'SHA-256'], rows, [4, 5]));
  const findings = (s.chain?.findings as JsonObject[] | undefined) ?? [];
  if (findings.length)
    out.push(
      `<ul>${findings.map((f) => `<li><code>${esc(f.severity)}</code> <code>${esc(f.code)}</code>: ${esc(f.message)}</li>`).join('')}</ul>`,
    );
  return out.join('\n');
}

function sectionHtml(s: HtmlSection): string {
  const out = [`<section><h2>${esc(s.heading)}</h2>`];
  if (s.verdict) {
    out.push(
      `<div class="verdict${s.verdict.ok ? ' ok' : ''}" id="verdict"><code>${esc(s.verdict.code)}</code><p>${esc(s.verdict.summary)}</p></div>`,
    );
  }
  if (s.remediation.length) {
    out.push('<h3>What to change</h3><ol class="remediation">');
    for (const r of s.remediation) out.push(`<li><strong>${esc(r.kind)}</strong>: ${esc(r.text)}</li>`);
    out.push('</ol>');
  }
  if (s.regFix !== null) {
    out.push(
      `<p><a class="download" id="reg-download" download="tlsprobe-enable-tls12.reg" href="${esc(regDataUri(s.regFix))}">Download the registry fix (.reg)</a> Import it with regedit or <code>reg import</code>, then restart the affected services.</p>`,
    );
    out.push(`<details><summary>What the .reg file sets</summary><pre>${esc(s.regFix)}</pre></details>`);
  }
  if (s.ladders.length) {
    out.push('<h3>Handshake ladder</h3>');
    for (const l of s.ladders)
      out.push(
        `<figure class="ladder-figure"><figcaption><strong>${esc(l.title)}</strong>: ${esc(l.outcome ?? 'not run')}</figcaption>${ladderSvg(l)}</figure>`,
      );
  }
  out.push(chainHtml(s));
  for (const t of s.tables) out.push(`<h3>${esc(t.caption)}</h3>${table(t.head, t.rows)}`);
  out.push('</section>');
  return out.join('\n');
}

/** Returns the whole page. */
export function renderHtmlReport(r: HtmlReport): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(REPORT_CSP)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(r.title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${esc(r.title)}</h1>`,
    `<p class="meta">Made by <code>${esc(r.command)}</code> at ${esc(r.generatedAt.toISOString())}.</p>`,
    ...r.sections.map(sectionHtml),
    `<h2>Raw evidence</h2><details id="raw"><summary>The JSON tlsprobe printed (--json)</summary><pre>${esc(JSON.stringify(r.raw, null, 2))}</pre></details>`,
    '</body></html>',
    '',
  ].join('\n');
}
