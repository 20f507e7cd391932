/**
 * Replay of a captured ClientHello: `findCapturedHello` returns the hello of one connection of a
 * capture together with what the server answered there, `capturedHelloFromBytes` returns a hello
 * from a record or handshake-message dump (both in replay-input.ts), `prepareReplay` applies the
 * explicit opt-in changes (replay-prepare.ts), and `replay` (here) sends it to a live server and
 * returns both answers with their differences (replay-answer.ts). Bad hello bytes throw
 * DecodeError; a capture without a usable hello comes back as `{ ok: false }`.
 *
 * Byte-exact by default: the record bytes on the wire equal the captured record bytes, record-layer
 * version included. `prepareReplay` checks this before anything is sent (`byteExact`) and says why
 * when it cannot hold (the client split its hello over several records, or its record carried more
 * handshake data than the hello: `attempt()` reproduces neither). Only `fixSni`, `freshRandom` and `freshKeyShare` change bytes, each listed in
 * `modified`.
 *
 * Connections are numbered like Wireshark's `tcp.stream` (0-based, in order of first appearance),
 * so `--connection 3` is the flow `tcp.stream == 3` shows.
 */
import { serverKeyShareGroup } from '../tls/server-hello.js';
import { attempt, type AttemptOptions, type AttemptResult, type ProbeTarget } from '../probe/attempt.js';
import { answerFromAttempt, compareAnswers, type Difference, type ServerAnswer } from './replay-answer.js';
import type { CapturedHello } from './replay-input.js';
import type { PreparedReplay } from './replay-prepare.js';

export interface ReplayResult {
  readonly captured: CapturedHello;
  readonly prepared: PreparedReplay;
  readonly target: ProbeTarget;
  /** The live attempt; `outcome` is 'negotiated' for a TLS 1.3 answer we could not decrypt (see `answerFromAttempt`). */
  readonly live: AttemptResult;
  readonly liveAnswer: ServerAnswer;
  /** The record bytes that went on the wire. */
  readonly sent: Uint8Array;
  /** Empty when the input had no captured answer. */
  readonly differences: readonly Difference[];
}

/**
 * Returns the replay of `prepared` to `target`, the live answer and its differences from the
 * captured one; never rejects for network or server behaviour (as `attempt`).
 */
export async function replay(
  captured: CapturedHello,
  prepared: PreparedReplay,
  target: ProbeTarget,
  opts: AttemptOptions = {},
): Promise<ReplayResult> {
  const raw = await attempt(target, prepared.spec, { ...opts, trace: true });
  const live = withUnknownKeys(raw);
  const liveAnswer = answerFromAttempt(live);
  const first = raw.trace?.chunks.find((c) => c.from === 'client');
  const sent = first?.bytes ?? prepared.record;
  const differences = captured.answer ? compareAnswers(captured.answer, liveAnswer) : [];
  return {
    captured,
    prepared,
    target,
    live: opts.trace ? live : { ...live, trace: null },
    liveAnswer,
    sent,
    differences,
  };
}

/**
 * Returns the attempt with its note about the unknown private key phrased for replay: `attempt()`
 * negotiates a TLS 1.3 answer to a captured share but cannot decrypt the flight without the key.
 */
function withUnknownKeys(r: AttemptResult): AttemptResult {
  if (!r.missingPrivateKey) return r;
  const group = r.serverHello ? serverKeyShareGroup(r.serverHello) : null;
  return {
    ...r,
    error: `TLS 1.3 flight not decrypted: the private key of the captured ${groupHex(group)} share is unknown (use --fresh-key-share)`,
  };
}

function groupHex(g: number | null): string {
  return g === null ? 'unknown' : `0x${g.toString(16).padStart(4, '0')}`;
}
