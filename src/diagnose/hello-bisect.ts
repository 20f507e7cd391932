/**
 * Bisection of a client's own ClientHello: `bisectClientHello` resolves with the steps it tried and
 * the cause of the failure — what in *this* hello makes the server (or a middlebox) refuse it while
 * a reference hello it accepts gets through; it never rejects for network outcomes.
 *
 * The failing hello is changed in one dimension at a time, towards the reference, and sent once per
 * change, smallest change on the wire first:
 * 1. `sni`: the reference's server_name (RFC 6066, Section 3).
 * 2. `renegotiation-scsv`: the SCSV added when the hello has neither it nor renegotiation_info
 *    (RFC 5746, Section 3.4 says a client MUST send one).
 * 3. `hello-size`: a hello the server accepts is padded (RFC 7685) to the failing hello's size; when
 *    that fails too, size alone is the cause, and the failing range is mapped by binary search over
 *    padded sizes (one record, at most 2^14 bytes). When the failing hello is smaller than the
 *    reference, the failing hello itself is padded up instead.
 * 4. `cipher-suites`: the reference's suites.
 * 5. `groups`: each offered group the reference does not offer, removed alone (with its key share);
 *    then `key-share-size`: one small key share instead of the ones sent; then the reference's groups.
 * 6. `signature-algorithms`: the reference's schemes.
 * 7. `extension`: each extension the reference does not send, removed alone.
 * The first change that completes a handshake is the cause; when none does, the cause is `unknown`
 * and says what was tried.
 */
import { attempt, type AttemptOptions, type AttemptResult, type ProbeTarget } from '../probe/attempt.js';
import type { OutcomeKind } from '../probe/outcome.js';
import type { PrebuiltHello } from '../probe/profiles.js';
import type { ClientHello } from '../tls/client-hello.js';
import { EXTENSION_TYPES, ExtensionType, NAMED_GROUPS, nameOf } from '../tls/registry.js';
import {
  groupsOf,
  hasRenegotiationSignal,
  keyShareBytes,
  MAX_SINGLE_RECORD_BYTES,
  recordBytes,
  serverNameOf,
  signatureSchemesOf,
  smallestPaddedBytes,
  sniOf,
  withCipherSuites,
  withGroups,
  withOneSmallShare,
  withoutExtension,
  withoutPadding,
  withPadding,
  withScsv,
  withServerName,
  withSignatureSchemes,
  type KeyedHello,
} from './hello-variants.js';

/** Causes a bisection can name (`verdict.cause.code` in `--json`). */
export const HELLO_CAUSES = [
  'hello-size',
  'renegotiation-scsv',
  'sni',
  'cipher-suites',
  'groups',
  'signature-algorithms',
  'key-share-size',
  'extension',
  'unknown',
] as const;

export type HelloCauseCode = (typeof HELLO_CAUSES)[number];

/** Groups removed one by one at most: a client lists a handful; more would only cost connections. */
const MAX_SINGLE_GROUP_TRIES = 12;
/** Extensions removed one by one at most (a hello carries about twenty). */
const MAX_SINGLE_EXTENSION_TRIES = 24;

/**
 * Extensions other steps vary (SNI, size). The group, key share and signature extensions are
 * varied by their own steps when the reference sends them too; when it does not, removing them is
 * the extension step's to try.
 */
const VARIED_ELSEWHERE: ReadonlySet<number> = new Set([ExtensionType.server_name, ExtensionType.padding]);

export interface HelloCause {
  readonly code: HelloCauseCode;
  /** What was found, in words. */
  readonly detail: string;
  /** hello-size: the record sizes (header included) that fail; `max` null: and every larger one tried. */
  readonly sizeRange?: { readonly min: number; readonly max: number | null; readonly minExact: boolean };
  /** extension: the extension whose removal made the hello succeed. */
  readonly extension?: { readonly type: number; readonly name: string };
  /** groups: the one group whose removal made the hello succeed, when one did. */
  readonly group?: { readonly code: number; readonly name: string };
  /** unknown: every change tried. */
  readonly tried?: readonly string[];
}

export interface HelloStep {
  readonly dimension: HelloCauseCode;
  readonly change: string;
  readonly helloBytes: number;
  readonly outcome: OutcomeKind;
  readonly success: boolean;
  readonly alert: string | null;
}

export interface HelloBisection {
  readonly failingBytes: number;
  readonly failingOutcome: OutcomeKind;
  readonly referenceBytes: number;
  readonly referenceOutcome: OutcomeKind;
  readonly steps: readonly HelloStep[];
  /** Null when there was nothing to bisect (see `note`). */
  readonly cause: HelloCause | null;
  readonly connections: number;
  readonly note: string | null;
}

const hex4 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;
const extName = (t: number): string => nameOf(EXTENSION_TYPES, t) ?? hex4(t);
const groupName = (g: number): string => nameOf(NAMED_GROUPS, g) ?? hex4(g);

/** What each step needs: the hellos, and a way to send one. */
interface Ctx {
  readonly failing: KeyedHello;
  readonly reference: KeyedHello;
  readonly version: PrebuiltHello['version'];
  readonly recordVersion: number | undefined;
  readonly failingBytes: number;
  readonly steps: HelloStep[];
  send(h: KeyedHello, dimension: HelloCauseCode, change: string): Promise<boolean>;
}

/**
 * Returns the bisection of `failing` (the client's hello) against `reference` (a hello the server
 * accepts), both sent to `target` first; when the failing hello succeeds or the reference fails there
 * is nothing to bisect and `note` says so.
 */
export async function bisectClientHello(
  target: ProbeTarget,
  failing: PrebuiltHello,
  reference: PrebuiltHello,
  opts: AttemptOptions = {},
): Promise<HelloBisection> {
  let connections = 0;
  const steps: HelloStep[] = [];
  const raw = async (
    h: KeyedHello,
    version: PrebuiltHello['version'],
    recordVersion: number | undefined,
  ): Promise<AttemptResult> => {
    connections++;
    return attempt(
      target,
      { version, hello: h.hello, keyPairs: h.keyPairs, ...(recordVersion !== undefined ? { recordVersion } : {}) },
      opts,
    );
  };
  const f: KeyedHello = { hello: failing.hello, keyPairs: failing.keyPairs ?? [] };
  const r: KeyedHello = { hello: reference.hello, keyPairs: reference.keyPairs ?? [] };
  const failingBytes = recordBytes(f.hello, failing.recordVersion);
  const referenceBytes = recordBytes(r.hello, reference.recordVersion);
  const fr = await raw(f, failing.version, failing.recordVersion);
  const rr = await raw(r, reference.version, reference.recordVersion);
  const base = { failingBytes, failingOutcome: fr.outcome, referenceBytes, referenceOutcome: rr.outcome };
  if (fr.outcome === 'negotiated')
    return {
      ...base,
      steps,
      cause: null,
      connections,
      note: 'the failing hello succeeded when sent again: nothing to bisect',
    };
  if (rr.outcome !== 'negotiated')
    return {
      ...base,
      steps,
      cause: null,
      connections,
      note: `the reference hello failed too (${rr.outcome}): nothing to bisect towards`,
    };

  const ctx: Ctx = {
    failing: f,
    reference: r,
    version: failing.version,
    recordVersion: failing.recordVersion,
    failingBytes,
    steps,
    async send(h, dimension, change) {
      const res = await raw(h, failing.version, failing.recordVersion);
      const success = res.outcome === 'negotiated';
      steps.push({
        dimension,
        change,
        helloBytes: recordBytes(h.hello, failing.recordVersion),
        outcome: res.outcome,
        success,
        alert: res.alert?.name ?? null,
      });
      return success;
    },
  };
  const cause =
    (await sniStep(ctx)) ??
    (await scsvStep(ctx)) ??
    (await sizeStep(ctx, { hello: r.hello, keyPairs: r.keyPairs }, reference)) ??
    (await suitesStep(ctx)) ??
    (await groupsStep(ctx)) ??
    (await signatureStep(ctx)) ??
    (await extensionStep(ctx));
  const tried = steps.map((s) => s.change);
  return {
    ...base,
    steps,
    cause: cause ?? {
      code: 'unknown',
      detail: tried.length
        ? `no single change made the hello succeed; tried: ${tried.join('; ')}`
        : 'the client hello and the reference differ in no dimension bisection varies',
      tried,
    },
    connections,
    note: null,
  };
}

async function sniStep(c: Ctx): Promise<HelloCause | null> {
  const want = serverNameOf(c.reference.hello);
  const have = sniOf(c.failing.hello);
  const ref = sniOf(c.reference.hello);
  if (have === ref) return null;
  const change = `server_name ${have ?? '(none)'} → ${ref ?? '(none)'}`;
  if (!(await c.send({ ...c.failing, hello: withServerName(c.failing.hello, want) }, 'sni', change))) return null;
  return {
    code: 'sni',
    detail: `the hello succeeds with ${ref === null ? 'no server_name' : `server_name ${ref}`} instead of ${have === null ? 'none' : have}`,
  };
}

async function scsvStep(c: Ctx): Promise<HelloCause | null> {
  if (hasRenegotiationSignal(c.failing.hello)) return null;
  const ok = await c.send(
    { ...c.failing, hello: withScsv(c.failing.hello) },
    'renegotiation-scsv',
    'add TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746)',
  );
  if (!ok) return null;
  return {
    code: 'renegotiation-scsv',
    detail:
      'the hello carries neither TLS_EMPTY_RENEGOTIATION_INFO_SCSV nor the renegotiation_info extension (RFC 5746, Section 3.4); with the SCSV added it succeeds',
  };
}

/**
 * Size: is a hello of the failing size refused whatever it holds? Pads the reference (without its
 * padding) to the failing size; when that fails too, size is the cause, and the failing range is
 * mapped by padding a hello the server accepts: the reference, or a compact copy of it (its first
 * suites, one group) when even the bare reference sits inside the range. When the failing hello is
 * smaller than the reference can be made, the failing hello itself is padded up instead.
 */
async function sizeStep(c: Ctx, reference: KeyedHello, spec: PrebuiltHello): Promise<HelloCause | null> {
  const S = c.failingBytes;
  const rv = spec.recordVersion;
  const padder =
    (base: KeyedHello, recordVersion: number | undefined) =>
    (n: number): KeyedHello | null => {
      const h = withPadding(base.hello, n, recordVersion);
      return h ? { ...base, hello: h } : null;
    };
  const bare: KeyedHello = { ...reference, hello: withoutPadding(reference.hello) };
  let family = padder(bare, rv);
  let lo: number | null = null; // a size known to succeed, below the failure
  let floor = smallestPaddedBytes(bare.hello, rv);
  const refAtS = family(S);
  if (refAtS) {
    if (await c.send(refAtS, 'hello-size', `a hello the server accepts, padded to ${S} bytes (RFC 7685)`)) return null;
    for (const base of [bare, compact(bare)]) {
      const min = smallestPaddedBytes(base.hello, rv);
      if (min >= S) continue;
      floor = Math.min(floor, min);
      if (await c.send(padder(base, rv)(min)!, 'hello-size', `a hello the server accepts at ${min} bytes`)) {
        family = padder(base, rv);
        lo = min;
        break;
      }
    }
  } else {
    // The failing hello is smaller than the reference: pad it up to the reference's size.
    const refBytes = recordBytes(reference.hello, rv);
    family = padder(c.failing, c.recordVersion);
    const up = family(refBytes);
    if (!up || !(await c.send(up, 'hello-size', `pad the hello from ${S} to ${refBytes} bytes (RFC 7685)`)))
      return null;
    floor = S;
  }
  const probe = async (n: number): Promise<boolean> => {
    const h = family(n);
    return h !== null && (await c.send(h, 'hello-size', `padded to ${n} bytes`));
  };
  const reachable = (n: number): boolean => family(n) !== null;
  // Lowest failing size: between the largest known success below S and S.
  const min = lo !== null ? await searchBoundary(lo, S, probe, 'first-failure', reachable) : Math.min(S, floor);
  // Highest failing size: above S, up to one full record.
  const top = MAX_SINGLE_RECORD_BYTES;
  let max: number | null = null;
  if (reachable(top) && (await probe(top))) max = (await searchBoundary(S, top, probe, 'first-success', reachable)) - 1;
  const minExact = lo !== null;
  const range = `${minExact ? '' : 'at most '}${min} to ${max === null ? `${top} (the largest tried)` : max} bytes`;
  return {
    code: 'hello-size',
    detail: `ClientHello records of ${range} are refused whatever they hold; this client's is ${S} bytes`,
    sizeRange: { min, max, minExact },
  };
}

/** Suites kept in the compact hello used to map a size range from below. */
const COMPACT_SUITES = 4;

/** Returns `h` with its first few suites and its first group only: a small hello to pad from. */
function compact(h: KeyedHello): KeyedHello {
  const groups = groupsOf(h.hello);
  const share = h.keyPairs[0]?.group;
  const first = share ?? groups?.[0];
  const fewer = { ...h, hello: withCipherSuites(h.hello, h.hello.cipherSuites.slice(0, COMPACT_SUITES)) };
  return groups && first !== undefined ? withGroups(fewer, [first]) : fewer;
}

/**
 * Returns, by binary search between `ok` (a size whose outcome is the opposite of `hi`'s) and `hi`,
 * the first size that fails (`first-failure`: `ok` succeeds, `hi` fails) or the first that succeeds
 * (`first-success`: `ok` fails, `hi` succeeds). Sizes `reachable` rejects are skipped upwards.
 */
async function searchBoundary(
  ok: number,
  hi: number,
  succeeds: (n: number) => Promise<boolean>,
  want: 'first-failure' | 'first-success',
  reachable: (n: number) => boolean,
): Promise<number> {
  let a = ok;
  let b = hi;
  while (b - a > 1) {
    let mid = Math.floor((a + b) / 2);
    while (mid < b && !reachable(mid)) mid++;
    if (mid >= b) break;
    const s = await succeeds(mid);
    const pastBoundary = want === 'first-failure' ? !s : s;
    if (pastBoundary) b = mid;
    else a = mid;
  }
  return b;
}

async function suitesStep(c: Ctx): Promise<HelloCause | null> {
  const f = c.failing.hello.cipherSuites;
  const TLS13 = (s: number): boolean => s >= 0x1301 && s <= 0x1305;
  // The reference's suites, keeping the failing hello's TLS 1.3 suites and its SCSV choice (its own step).
  const scsv = f.includes(0x00ff);
  const suites = [
    ...new Set([...f.filter(TLS13), ...c.reference.hello.cipherSuites.filter((s) => s !== 0x00ff || scsv)]),
  ];
  if (scsv && !suites.includes(0x00ff)) suites.push(0x00ff);
  if (suites.length === f.length && suites.every((s, i) => s === f[i])) return null;
  return takeReferenceList(c, withCipherSuites(c.failing.hello, suites), 'cipher-suites', 'cipher suites', f, suites);
}

/**
 * Sends the failing hello with one list (`hello`: the reference's `theirs` in place of the client's
 * `mine`) and returns `code` as the cause when the server then accepts it.
 */
async function takeReferenceList(
  c: Ctx,
  hello: KeyedHello['hello'],
  code: HelloCauseCode,
  noun: string,
  mine: readonly number[],
  theirs: readonly number[],
): Promise<HelloCause | null> {
  const ok = await c.send(
    { ...c.failing, hello },
    code,
    `${noun}: the client's ${mine.length} → the reference's ${theirs.length}`,
  );
  return ok
    ? {
        code,
        detail: `the hello succeeds with the reference's ${theirs.length} ${noun} instead of the client's ${mine.length}`,
      }
    : null;
}

async function groupsStep(c: Ctx): Promise<HelloCause | null> {
  const mine = groupsOf(c.failing.hello);
  const theirs = groupsOf(c.reference.hello) ?? [];
  if (mine !== null) {
    const extra = mine.filter((g) => !theirs.includes(g)).slice(0, MAX_SINGLE_GROUP_TRIES);
    for (const g of extra) {
      const without = withGroups(
        c.failing,
        mine.filter((x) => x !== g),
      );
      if (await c.send(without, 'groups', `remove group ${groupName(g)} (and its key share)`)) {
        return {
          code: 'groups',
          detail: `the hello succeeds without the group ${groupName(g)} (${hex4(g)})`,
          group: { code: g, name: groupName(g) },
        };
      }
    }
  }
  const small = withOneSmallShare(c.failing);
  if (small && keyShareBytes(small.hello) < keyShareBytes(c.failing.hello)) {
    const change = `key_share: ${keyShareBytes(c.failing.hello)} → ${keyShareBytes(small.hello)} bytes (one ${groupName(small.keyPairs[0]!.group)} share)`;
    if (await c.send(small, 'key-share-size', change)) {
      return {
        code: 'key-share-size',
        detail: `the hello succeeds with one ${groupName(small.keyPairs[0]!.group)} key share (${keyShareBytes(small.hello)} bytes of key_share) instead of ${keyShareBytes(c.failing.hello)} bytes`,
      };
    }
  }
  if (mine !== null && theirs.length > 0 && !(mine.length === theirs.length && mine.every((g, i) => g === theirs[i]))) {
    if (
      await c.send(
        withGroups(c.failing, theirs),
        'groups',
        `groups: the client's ${mine.length} → the reference's ${theirs.length}`,
      )
    ) {
      return {
        code: 'groups',
        detail: `the hello succeeds with the reference's groups (${theirs.map(groupName).join(', ')}) instead of the client's (${mine.map(groupName).join(', ')})`,
      };
    }
  }
  return null;
}

async function signatureStep(c: Ctx): Promise<HelloCause | null> {
  const mine = signatureSchemesOf(c.failing.hello);
  const theirs = signatureSchemesOf(c.reference.hello);
  if (mine === null || theirs === null || (mine.length === theirs.length && mine.every((s, i) => s === theirs[i])))
    return null;
  return takeReferenceList(
    c,
    withSignatureSchemes(c.failing.hello, theirs),
    'signature-algorithms',
    'signature schemes',
    mine,
    theirs,
  );
}

async function extensionStep(c: Ctx): Promise<HelloCause | null> {
  const refTypes = new Set((c.reference.hello.extensions ?? []).map((e) => e.type));
  const candidates = (c.failing.hello.extensions ?? [])
    .map((e) => e.type)
    .filter((t) => !VARIED_ELSEWHERE.has(t) && !refTypes.has(t))
    .slice(0, MAX_SINGLE_EXTENSION_TRIES);
  for (const t of candidates) {
    const hello: ClientHello = withoutExtension(c.failing.hello, t);
    if (await c.send({ ...c.failing, hello }, 'extension', `remove extension ${extName(t)} (${t})`)) {
      return {
        code: 'extension',
        detail: `the hello succeeds without the ${extName(t)} extension (type ${t})`,
        extension: { type: t, name: extName(t) },
      };
    }
  }
  return null;
}
