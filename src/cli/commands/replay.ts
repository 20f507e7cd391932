/**
 * `tlsprobe replay FILE --to HOST[:PORT]`: send a captured ClientHello, byte for byte, to a live
 * server and show its answer beside the captured one, difference by difference.
 */
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { isIP } from 'node:net';
import type { ReplayResult } from '../../capture/replay.js';
import type { ServerAnswer } from '../../capture/replay-answer.js';
import type { CapturedHello } from '../../capture/replay-input.js';
import type { JsonObject } from '../../report/decode-view.js';
import { ExitCode, UserError } from '../exit-codes.js';
import { MAX_INPUT_FILE, readFailureText } from '../io.js';
import { escapeText } from '../../report/escape.js';
import type { CliContext } from '../context.js';
import { parseTarget, secondsOption } from '../target.js';
import { LADDER_OPTION } from '../report-options.js';
import { envelope } from '../../report/envelope.js';

interface ReplayArgs {
  file: string;
  to: string;
  connection?: number;
  'fix-sni'?: string;
  'fresh-random': boolean;
  'fresh-key-share': boolean;
  json: boolean;
  ladder: boolean;
  timeout?: number;
  'connect-timeout'?: number;
}

/** RFC 1123 host name, as server_name carries it (RFC 6066, Section 3: no IP literals, no trailing dot). */
const SNI_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;

export function replayCommand(ctx: CliContext): CommandModule<object, ReplayArgs> {
  return {
    command: 'replay <file>',
    describe: 'Send a captured ClientHello (pcap, pcapng, hex or binary) to a live server and compare the answers',
    builder: (y: Argv) =>
      y
        .positional('file', {
          type: 'string',
          describe:
            'a capture (pcap/pcapng, gzip allowed) or a ClientHello as TLS records or a handshake message, hex or binary',
        })
        .option('to', {
          type: 'string',
          demandOption: true,
          describe: 'HOST[:PORT] to send it to (default port 443); IPv6 as [ADDR]:PORT',
        })
        .option('connection', {
          type: 'number',
          describe:
            'which connection of the capture: its tcp.stream number in Wireshark (default: the first with a ClientHello)',
        })
        .option('fix-sni', { type: 'string', describe: 'opt-in change: put NAME in server_name' })
        .option('fresh-random', {
          type: 'boolean',
          default: false,
          describe: 'opt-in change: send a new ClientHello.random',
        })
        .option('fresh-key-share', {
          type: 'boolean',
          default: false,
          describe: 'opt-in change: new key shares (their private keys let TLS 1.3 decrypt the chain)',
        })
        .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
        .option('ladder', LADDER_OPTION)
        .option('timeout', { type: 'number', describe: 'read timeout in seconds (decimals allowed)' })
        .option('connect-timeout', { type: 'number', describe: 'TCP connect timeout in seconds (decimals allowed)' })
        .example(
          '$0 replay backup.pcapng --to 10.0.0.5:443 --connection 2',
          'resend what the backup agent sent in tcp.stream 2',
        )
        .example(
          '$0 replay hello.hex --to example.com --fix-sni example.com --fresh-key-share',
          'a hello from a hex dump, SNI fixed, chain decrypted',
        )
        .epilog(
          'Without opt-ins the record bytes on the wire equal the captured ones, record-layer version ' +
            'included. A capture keeps what the server answered then; the live answer is compared with it ' +
            'on outcome, version, cipher suite, group, extensions, alert and certificate SHA-1s. Exit code 0 ' +
            'when the hello was replayed, 3 when the target could not be reached (DNS, refused, unreachable), 2 on usage errors.',
        ) as unknown as Argv<ReplayArgs>, // the chain's inferred options type is not assignable to ReplayArgs, the shape the handler reads
    handler: async (args) => {
      if (typeof args.to !== 'string' || args.to === '')
        throw new UserError('--to HOST[:PORT] is required: where to send the hello');
      const target = parseTarget(args.to);
      const connection = args.connection;
      if (connection !== undefined && (!Number.isInteger(connection) || connection < 0)) {
        throw new UserError(`--connection takes a connection number from 0 (got ${connection})`);
      }
      const fixSni = args['fix-sni'];
      if (fixSni !== undefined && (isIP(fixSni) !== 0 || !SNI_NAME.test(fixSni))) {
        throw new UserError(
          `--fix-sni needs a host name (RFC 6066 allows no IP address), not ${JSON.stringify(fixSni)}`,
        );
      }
      const readTimeoutMs = secondsOption(args.timeout, 'timeout');
      const connectTimeoutMs = secondsOption(args['connect-timeout'], 'connect-timeout');

      // Heavy modules load when a command runs, so `--help` starts fast.
      const { capturedHelloFromBytes, detectReplayInput, findCapturedHello } = await import(
        '../../capture/replay-input.js'
      );
      const { prepareReplay } = await import('../../capture/replay-prepare.js');
      const { replay } = await import('../../capture/replay.js');
      const { resolveHost } = await import('../../probe/transport.js');
      const { DecodeError } = await import('../../wire/errors.js');
      const { hexOrBinary, readInput } = await import('../io.js');

      // Standard input or a pipe can be read once only: whole, up front (capped as every input file).
      const name = args.file === '-' ? 'standard input' : args.file;
      const whole = isStream(args.file) ? await wholeCapture(readInput(args.file), name) : null;
      let captured: CapturedHello;
      if (detectReplayInput(whole ?? (await readHead(args.file))) === 'capture') {
        let found;
        try {
          found = await findCapturedHello(whole ?? args.file, connection !== undefined ? { connection } : {});
        } catch (e) {
          if (e instanceof DecodeError) throw new UserError(`${name}: not a readable capture: ${e.message}`);
          throw e;
        }
        if (!found.ok) throw new UserError(`${name}: ${found.message}`);
        captured = found.hello;
      } else {
        if (connection !== undefined)
          throw new UserError('--connection applies to captures; this file holds one ClientHello');
        try {
          captured = capturedHelloFromBytes(hexOrBinary(whole ?? readInput(args.file)));
        } catch (e) {
          if (e instanceof DecodeError) throw new UserError(`${name}: ${e.message}`);
          throw e;
        }
      }

      const prepared = prepareReplay(captured, {
        ...(fixSni !== undefined ? { fixSni } : {}),
        freshRandom: args['fresh-random'],
        freshKeyShare: args['fresh-key-share'],
      });
      const resolved = await resolveHost(target.host);
      if (!resolved.ok)
        throw new UserError(`${target.host}: ${resolved.message} (${resolved.errorCode})`, ExitCode.network);
      const address = resolved.addresses[0]!.address;
      const result = await replay(
        captured,
        prepared,
        { host: target.host, address, port: target.port },
        {
          ...(readTimeoutMs !== undefined ? { readTimeoutMs } : {}),
          ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
        },
      );
      const json = await replayToJson(args.file, result);
      if (result.live.outcome === 'connect-refused' || result.live.outcome === 'connect-timeout')
        ctx.setExitCode(ExitCode.network);
      const { EXTENSION_TYPES, displayName } = await import('../../tls/registry.js');
      if (args.json) ctx.out(JSON.stringify(envelope('replay', json), null, 2));
      else
        ctx.out(
          renderReplayText(json, (t) => displayName(EXTENSION_TYPES, t)) +
            (args.ladder ? `\n${await replayLadderText(json)}` : ''),
        );
    },
  };
}

/** Returns the text ladder of the live attempt of a replay's JSON view, fitted to the output width. */
async function replayLadderText(json: JsonObject): Promise<string> {
  const [{ attemptLadder, renderLadderText }, { outputWidth }] = await Promise.all([
    import('../../report/ladder.js'),
    import('../../report/fit.js'),
  ]);
  const live = json.live as JsonObject;
  return `Handshake ladder (live):\n${renderLadderText([attemptLadder(`replayed ${String(live.version)} hello`, live)], outputWidth())}`;
}

/** Returns the first bytes of FILE; throws UserError when it cannot be read. */
/** True for `-` (standard input) and for a path that is not a regular file (a named pipe, /dev/stdin). */
function isStream(file: string): boolean {
  if (file === '-') return true;
  try {
    return !statSync(file).isFile();
  } catch {
    return false; // readHead reports why it cannot be read
  }
}

/**
 * Returns `bytes`, gunzipped when they start with the gzip magic, to at most MAX_INPUT_FILE bytes
 * (a compressed input gets the same cap as a plain one); throws UserError beyond it or when corrupt.
 */
async function wholeCapture(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  const { isGzip } = await import('../../capture/source.js');
  if (!isGzip(bytes)) return bytes;
  const { gunzipSync } = await import('node:zlib');
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_INPUT_FILE });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE')
      throw new UserError(`${name}: larger than ${MAX_INPUT_FILE} bytes once decompressed`);
    throw new UserError(`${name}: corrupt gzip stream (${(e as Error).message})`);
  }
}

async function readHead(file: string): Promise<Uint8Array> {
  try {
    const fh = await open(file, 'r');
    try {
      const buf = new Uint8Array(4);
      const { bytesRead } = await fh.read(buf, 0, 4, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UserError(`cannot read ${file}: ${readFailureText(err.code, err.message)}`);
  }
}

function endpointText(e: { addr: string; port: number } | null): string | null {
  if (!e) return null;
  return isIP(e.addr) === 6 ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`;
}

/** Returns the `--json` view of a replay (a contract: field names are stable). */
export async function replayToJson(file: string, r: ReplayResult): Promise<JsonObject> {
  const { attemptToJson, certificateToJson } = await import('../../report/probe-view.js');
  const { toHex } = await import('../../wire/hex.js');
  const { clientServerName, highestOfferedVersion } = await import('../../tls/client-hello.js');
  const c = r.captured;
  return {
    source: file,
    format: c.format,
    connection: c.connection,
    client: endpointText(c.client),
    server: endpointText(c.server),
    target: { host: r.target.host, port: r.target.port, address: r.target.address },
    modified: [...r.prepared.modified],
    byteExact: r.prepared.byteExact,
    notes: [...r.prepared.notes],
    hello: {
      sni: clientServerName(r.prepared.hello),
      highestVersion: highestOfferedVersion(r.prepared.hello),
      recordVersion: c.recordVersion,
      captured: toHex(c.records ?? c.message),
      sent: toHex(r.sent),
    },
    captured: c.answer ? await answerToJson(c.answer) : null,
    live: {
      ...attemptToJson(r.prepared.spec.version, r.live),
      serverHelloExtensions: r.liveAnswer.serverHelloExtensions ? [...r.liveAnswer.serverHelloExtensions] : null,
      encryptedExtensions: r.liveAnswer.encryptedExtensions ? [...r.liveAnswer.encryptedExtensions] : null,
      certificates: r.live.certificates.map(certificateToJson),
      notes: [...r.liveAnswer.notes],
    },
    differences: r.differences.map((d) => ({
      field: d.field,
      captured: d.captured as JsonObject[string],
      live: d.live as JsonObject[string],
    })),
  };
}

async function answerToJson(a: ServerAnswer): Promise<JsonObject> {
  const { CIPHER_SUITES, NAMED_GROUPS, PROTOCOL_VERSIONS, displayName } = await import('../../tls/registry.js');
  const { certificateToJson } = await import('../../report/probe-view.js');
  return {
    outcome: a.outcome,
    negotiatedVersion: a.negotiatedVersion,
    negotiatedVersionName: a.negotiatedVersion === null ? null : displayName(PROTOCOL_VERSIONS, a.negotiatedVersion),
    cipherSuite: a.cipherSuite,
    cipherSuiteName: a.cipherSuite === null ? null : displayName(CIPHER_SUITES, a.cipherSuite),
    group: a.group,
    groupName: a.group === null ? null : displayName(NAMED_GROUPS, a.group),
    helloRetryRequest: a.helloRetryRequest,
    serverHelloExtensions: a.serverHelloExtensions ? [...a.serverHelloExtensions] : null,
    encryptedExtensions: a.encryptedExtensions ? [...a.encryptedExtensions] : null,
    alert: a.alert ? { ...a.alert } : null,
    certificates: a.certificates ? a.certificates.map(certificateToJson) : null,
    notes: [...a.notes],
  };
}

type J = JsonObject[string] | undefined;

/**
 * Returns the human view of `replayToJson`'s output: what was sent, then one row per compared
 * field, captured beside live, differing rows marked ≠. `extName` names extension types.
 */
export function renderReplayText(j: JsonObject, extName: (type: number) => string): string {
  const lines: string[] = [];
  const target = j.target as JsonObject;
  const source = j.source === '-' ? 'standard input' : `${j.source}`;
  const from = j.connection === null ? source : `connection ${j.connection} of ${source} (${j.client} → ${j.server})`;
  lines.push(`Replayed ${from} to ${target.host}:${target.port} (${target.address})`);
  const modified = j.modified as string[];
  lines.push(
    modified.length === 0
      ? `Sent ${j.byteExact ? 'byte for byte as captured' : 'as captured, but not byte-exact (see notes)'}`
      : `Changed on request: ${modified.join(', ')}`,
  );
  for (const n of j.notes as string[]) lines.push(`note: ${n}`);
  lines.push('');

  const captured = j.captured as JsonObject | null;
  const live = j.live as JsonObject;
  const liveAnswer = {
    outcome: live.outcome,
    version: live.negotiatedVersionName,
    suite: live.cipherSuiteName,
    group: live.groupName,
    hrr: live.helloRetryRequest,
    alert: (live.alert as JsonObject | null)?.name ?? null,
    certs: live.certificates,
  };
  const exts = (v: J): string | null =>
    Array.isArray(v) ? (v.length === 0 ? 'none' : v.map((t) => extName(Number(t))).join(' ')) : null;
  const rows: [string, J, J][] = [
    ['outcome', captured?.outcome ?? null, liveAnswer.outcome],
    ['version', captured?.negotiatedVersionName ?? null, liveAnswer.version],
    ['cipher suite', captured?.cipherSuiteName ?? null, liveAnswer.suite],
    ['group', captured?.groupName ?? null, liveAnswer.group],
    ['HelloRetryRequest', captured?.helloRetryRequest ?? null, liveAnswer.hrr],
    ['ServerHello extensions', exts(captured?.serverHelloExtensions), exts(live.serverHelloExtensions)],
    ['EncryptedExtensions', exts(captured?.encryptedExtensions), exts(live.encryptedExtensions)],
    ['alert', (captured?.alert as JsonObject | null)?.name ?? null, liveAnswer.alert],
    ['certificates (SHA-1)', captured ? certText(captured.certificates) : null, certText(liveAnswer.certs)],
  ];
  const differing = new Set((j.differences as JsonObject[]).map((d) => d.field));
  const fieldOf: Record<string, string> = {
    outcome: 'outcome',
    version: 'negotiatedVersion',
    'cipher suite': 'cipherSuite',
    group: 'group',
    HelloRetryRequest: 'helloRetryRequest',
    'ServerHello extensions': 'serverHelloExtensions',
    EncryptedExtensions: 'encryptedExtensions',
    alert: 'alert',
    'certificates (SHA-1)': 'certificates',
  };
  const show = (v: J): string => (v === null || v === undefined ? '-' : String(v));
  const w0 = Math.max(...rows.map((r) => r[0].length), 5);
  // Long extension lists would push every row's live column far right: they overflow their cell instead.
  const w1 = Math.min(Math.max(...rows.map((r) => show(r[1]).length), 8), 42);
  lines.push(`  ${'FIELD'.padEnd(w0)}  ${captured ? `${'CAPTURED'.padEnd(w1)}  ` : ''}LIVE`);
  for (const [name, c, l] of rows) {
    const mark = differing.has(fieldOf[name]!) ? '≠' : ' ';
    lines.push(`${mark} ${name.padEnd(w0)}  ${captured ? `${show(c).padEnd(w1)}  ` : ''}${show(l)}`);
  }
  lines.push('');
  if (!captured) lines.push('The input holds no captured answer to compare with.');
  else if ((j.differences as JsonObject[]).length === 0)
    lines.push('The live answer matches the captured one on every compared field.');
  else lines.push(`${(j.differences as JsonObject[]).length} difference(s) between the captured and the live answer.`);
  for (const n of (captured?.notes as string[] | undefined) ?? []) lines.push(`captured: ${n}`);
  for (const n of live.notes as string[]) lines.push(`live: ${n}`);
  // Names, notes and fields come from the capture and the server: every line escaped.
  return lines.map((l) => escapeText(l)).join('\n');
}

function certText(certs: J): string | null {
  if (!Array.isArray(certs)) return null;
  if (certs.length === 0) return 'none';
  return certs.map((c) => String((c as JsonObject).sha1).slice(0, 12)).join(' ');
}
