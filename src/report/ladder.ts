/**
 * The handshake ladder: each attempt drawn as the exchange it was, client on the left, server on
 * the right, one rung per event with its time: the TCP connect, our ClientHello (version, size),
 * and how the server answered: ServerHello, an alert, a TCP RST, a FIN, or nothing. Built from an
 * attempt's JSON view (probe-view.ts `attemptToJson`), so the ladder, the table and `--json` agree.
 * The text form fits the output width; html-report.ts draws the same rungs as SVG.
 */
import type { Json, JsonObject } from './decode-view.js';
import { wrapWords } from './fit.js';

/** Which way a rung goes: client to server, server to client, or neither (a silence, a failed connect). */
export type RungDirection = 'to-server' | 'to-client' | 'none';

/** What a rung stands for (the HTML styles resets and alerts apart from answers). */
export type RungKind =
  | 'connect'
  | 'hello'
  | 'server-hello'
  | 'alert'
  | 'rst'
  | 'fin'
  | 'nothing'
  | 'garbage'
  | 'refused';

export interface Rung {
  readonly direction: RungDirection;
  readonly kind: RungKind;
  readonly label: string;
  /** Milliseconds since the attempt started, when known. */
  readonly ms: number | null;
}

/** One attempt's ladder: a title (the version probed, or the client) and its rungs. */
export interface Ladder {
  readonly title: string;
  readonly outcome: string | null;
  readonly rungs: readonly Rung[];
}

function str(v: Json | undefined): string {
  return v === null || v === undefined ? '' : String(v);
}

function num(v: Json | undefined): number | null {
  return typeof v === 'number' ? v : null;
}

/** Returns the server's answer rung for an attempt that got as far as sending its ClientHello. */
function answerRung(a: JsonObject, at: number | null): Rung {
  const bytes = num(a.bytesReceived) ?? 0;
  switch (a.outcome) {
    case 'negotiated':
    case 'mismatch': {
      const suite = str(a.cipherSuiteName);
      const what = `ServerHello ${str(a.negotiatedVersionName)}${suite ? `, ${suite}` : ''}`;
      return {
        direction: 'to-client',
        kind: 'server-hello',
        label: a.outcome === 'mismatch' ? `${what} (not offered)` : what,
        ms: at,
      };
    }
    case 'alert': {
      const alert = a.alert as JsonObject | null;
      return {
        direction: 'to-client',
        kind: 'alert',
        label: `Alert ${alert?.level === 2 ? 'fatal' : 'warning'} ${str(alert?.name)} (${str(alert?.description)})`,
        ms: at,
      };
    }
    case 'reset':
      return {
        direction: 'to-client',
        kind: 'rst',
        label: `TCP RST${bytes > 0 ? ` after ${bytes} bytes` : ''} (Windows: error 10054)`,
        ms: at,
      };
    case 'closed':
      return {
        direction: 'to-client',
        kind: 'fin',
        label: `TCP FIN${bytes > 0 ? ` after ${bytes} bytes` : ''}, no TLS answer`,
        ms: at,
      };
    case 'timeout':
      return { direction: 'none', kind: 'nothing', label: 'nothing (read timeout)', ms: at };
    case 'malformed':
      return { direction: 'to-client', kind: 'garbage', label: `${bytes} bytes that are not TLS`, ms: at };
    default:
      return { direction: 'none', kind: 'nothing', label: str(a.outcome), ms: at };
  }
}

/**
 * Returns the ladder of one attempt from its JSON view: `title` names it (e.g. "TLS1.0"). An
 * attempt that never ran (connection budget) has no rungs.
 */
export function attemptLadder(title: string, a: JsonObject): Ladder {
  const outcome = a.outcome === null || a.outcome === undefined ? null : String(a.outcome);
  if (outcome === null) return { title, outcome, rungs: [] };
  const elapsed = num(a.elapsedMs);
  // Per-attempt timing (probe-view.ts): when TCP connected, i.e. when the ClientHello left.
  const timing =
    a.timing !== null && typeof a.timing === 'object' && !Array.isArray(a.timing) ? (a.timing as JsonObject) : null;
  const connect = timing ? num(timing.connectMs) : null;
  if (outcome === 'connect-refused' || outcome === 'connect-timeout' || outcome === 'dns-error') {
    const why =
      outcome === 'dns-error'
        ? 'name did not resolve'
        : outcome === 'connect-timeout'
          ? 'TCP connect timed out'
          : `TCP connect refused${a.errorCode ? ` (${str(a.errorCode)})` : ''}`;
    return { title, outcome, rungs: [{ direction: 'none', kind: 'refused', label: why, ms: elapsed }] };
  }
  const rungs: Rung[] = [{ direction: 'to-server', kind: 'connect', label: 'TCP connect (SYN)', ms: 0 }];
  const size = num(a.helloBytes);
  rungs.push({
    direction: 'to-server',
    kind: 'hello',
    label: `ClientHello ${str(a.version)}${size !== null ? `, ${size} bytes` : ''}`,
    ms: connect,
  });
  if (a.helloRetryRequest === true)
    rungs.push({ direction: 'to-client', kind: 'server-hello', label: 'HelloRetryRequest', ms: null });
  rungs.push(answerRung(a, elapsed));
  return { title, outcome, rungs };
}

/** Returns the ladders of a probe's JSON view: one per version attempt. */
export function probeLadders(probe: JsonObject): Ladder[] {
  return ((probe.versions as JsonObject[] | undefined) ?? []).map((v) => attemptLadder(str(v.version), v));
}

/** Most messages one captured connection's ladder draws (a long session is cut, with a note rung). */
export const MAX_CAPTURE_RUNGS = 24;

/**
 * Returns the ladder of one captured connection (capture --json's connection object): each
 * handshake message and alert in capture order, then how the TCP connection ended and when.
 */
export function captureLadder(c: JsonObject): Ladder {
  const messages = (c.messages as JsonObject[] | undefined) ?? [];
  const alerts = (c.alerts as JsonObject[] | undefined) ?? [];
  const rungs: Rung[] = [];
  let alertIndex = 0;
  for (const m of messages.slice(0, MAX_CAPTURE_RUNGS)) {
    const direction: RungDirection = m.from === 'client' ? 'to-server' : 'to-client';
    if (m.type === 'alert') {
      const a = alerts[alertIndex++];
      const name =
        a && a.name !== null && a.name !== undefined
          ? `${a.levelName === 'fatal' ? 'fatal ' : ''}${str(a.name)}`
          : 'encrypted';
      rungs.push({ direction, kind: 'alert', label: `Alert ${name}`, ms: null });
    } else {
      const kind: RungKind =
        m.type === 'client_hello' ? 'hello' : m.type === 'server_hello' ? 'server-hello' : 'connect';
      rungs.push({ direction, kind, label: `${str(m.type)}${m.decrypted ? ' (decrypted)' : ''}`, ms: null });
    }
  }
  if (messages.length > MAX_CAPTURE_RUNGS)
    rungs.push({
      direction: 'none',
      kind: 'nothing',
      label: `${messages.length - MAX_CAPTURE_RUNGS} more messages`,
      ms: null,
    });
  const end = c.end as JsonObject | undefined;
  if (end) {
    const ms = num(end.msSinceStart);
    const dir: RungDirection = end.by === 'client' ? 'to-server' : end.by === 'server' ? 'to-client' : 'none';
    if (end.kind === 'rst')
      rungs.push({
        direction: dir,
        kind: 'rst',
        label: `TCP RST by ${str(end.by)}${end.by === 'server' ? ' (Windows: error 10054)' : ''}`,
        ms,
      });
    else if (end.kind === 'fin') rungs.push({ direction: dir, kind: 'fin', label: `TCP FIN by ${str(end.by)}`, ms });
    else rungs.push({ direction: 'none', kind: 'nothing', label: 'still open when the capture ends', ms });
  }
  return {
    title: `#${str(c.index)} ${str(c.client)} → ${str(c.server)}`,
    outcome: c.outcome === undefined ? null : str(c.outcome),
    rungs,
  };
}

/** Width of the time column ("  1234.5 ms"). */
const MS_WIDTH = 11;

/**
 * Returns the text drawing of `ladders` at most `width` columns wide:
 *
 *     TLS1.0: reset
 *          0.0 ms  client ──── TCP connect (SYN) ───────▶ server
 *          0.4 ms  client ──── ClientHello TLS1.0, 179 … ▶ server
 *          1.1 ms  client ◀─── TCP RST (Windows: error … ─ server
 *
 * Labels longer than the arrow are wrapped onto further lines under it.
 */
export function renderLadderText(ladders: readonly Ladder[], width: number): string {
  const arrow = Math.max(12, width - MS_WIDTH - 2 - 'client '.length - ' server'.length);
  const out: string[] = [];
  for (const l of ladders) {
    out.push(`${l.title}: ${l.outcome ?? 'not run'}`);
    for (const r of l.rungs) {
      const time = (r.ms === null ? '' : `${r.ms.toFixed(1)} ms`).padStart(MS_WIDTH);
      const room = arrow - 8;
      const [first = '', ...more] = wrapWords(r.label, room);
      const body = ` ${first} `;
      let line: string;
      if (r.direction === 'to-server') line = `──${body}${'─'.repeat(Math.max(0, arrow - body.length - 3))}▶`;
      else if (r.direction === 'to-client') line = `◀─${body}${'─'.repeat(Math.max(0, arrow - body.length - 2))}`;
      else line = `  ${body}${' '.repeat(Math.max(0, arrow - body.length - 2))}`;
      out.push(`${time}  client ${line} server`);
      for (const m of more) out.push(`${' '.repeat(MS_WIDTH + 2 + 'client '.length)}   ${m}`);
    }
  }
  return out.join('\n');
}
