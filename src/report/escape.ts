/**
 * Text that came from the network or a file, made safe for a terminal. A server name, an ALPN
 * protocol, a certificate subject or a line of a .reg file may carry ESC, CSI (0x9b) or BEL: printed
 * raw they set the window title, clear the screen or rewrite what the user reads. Every text
 * renderer of tlsprobe passes such strings through `escapeText`, and the CLI's text output passes
 * through it once more as a whole (src/cli/run.ts), so a renderer that forgets cannot leak.
 */

/** C0 controls (U+0000–U+001F), DEL (U+007F) and C1 controls (U+0080–U+009F), ECMA-48 Section 5. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** The same set without the line feed, for whole rendered blocks. */
const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/** Returns `\xNN` (two lower-case hex digits) for a control character. */
function hexEscape(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * Returns `text` with every C0 control, DEL and C1 control written as `\xNN` (ESC as `\x1b`), so
 * it prints as what it is; everything else, non-ASCII letters included, is unchanged. With
 * `keepNewlines`, line feeds stay (for a whole rendered block whose lines are ours).
 */
export function escapeText(text: string, opts: { readonly keepNewlines?: boolean } = {}): string {
  const re = opts.keepNewlines ? CONTROL_BUT_LF : CONTROL;
  re.lastIndex = 0;
  return re.test(text) ? text.replace(re, hexEscape) : text;
}

/**
 * Returns JSON text with DEL and the C1 controls written as `\u00NN` escapes. `JSON.stringify`
 * escapes C0 controls itself but passes DEL and C1 through raw; outside strings JSON text is ASCII,
 * so the result is the same JSON value.
 */
export function escapeJsonText(json: string): string {
  // ASCII without DEL has nothing to escape: its UTF-8 length is its length (any character past
  // U+007F takes 2 bytes or more). Both checks are native scans, 2.5× faster than the replace that
  // finds nothing on a 64 KiB batch of NDJSON lines.
  if (Buffer.byteLength(json, 'utf8') === json.length && !json.includes('\x7f')) return json;
  return json.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
