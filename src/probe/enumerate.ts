/**
 * Cipher suite and named group enumeration: `enumerateCiphers` returns the suites a server accepts
 * at one version, in its preference order when it has one; `enumerateGroups` returns the named
 * groups it accepts (post-quantum hybrids included, detected through HelloRetryRequest). Neither
 * rejects for network or peer behaviour: a refusal ends the loop and is reported in the result;
 * they reject only with the abort reason when the limiter's signal fires.
 *
 * Remove-and-retry: offer the whole list, the server picks one (its favourite when it has a
 * preference, else the first of ours it supports), remove that one and offer the rest, until the
 * server refuses. That costs accepted+1 connections instead of one per candidate. Whose order rules
 * is checked with the found values (groups: afterwards) or the whole list (suites: at the start, so
 * that a server following the client's order is enumerated in parallel, see `enumerateCiphers`)
 * offered in reverse: a server that still picks the same one has its own preference; one that picks
 * our new first follows the client.
 *
 * Every connection goes through the scan's `Limiter`, so `--max-connections` and `--rate` hold; the
 * `predict*` functions give the upper bound to announce before starting.
 */
import { attempt, type AttemptOptions, type AttemptResult, type ProbeTarget } from './attempt.js';
import { isBudgetExhausted, type Limiter } from './limiter.js';
import { describeOutcome, isConnectFailure, type OutcomeKind } from './outcome.js';
import {
  DEFAULT_GROUPS,
  TLS13_SUITES,
  TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
  TLS_FALLBACK_SCSV,
  suitesForVersion,
  type HelloOptions,
  type ProbeVersion,
} from './profiles.js';
import { SUPPORTED_KEY_SHARE_GROUPS } from '../tls/key-schedule.js';
import {
  cipherSuiteInfo,
  CIPHER_SUITES,
  displayName,
  NAMED_GROUPS,
  NamedGroup,
  PROTOCOL_VERSIONS,
} from '../tls/registry.js';

/** What every enumeration needs: where to connect, which SNI to send, attempt timeouts, and the scan's budget. */
export interface EnumerateContext {
  readonly target: ProbeTarget;
  readonly sni: string | null;
  readonly attempt?: AttemptOptions;
  readonly limiter: Limiter;
  /** Offers run in parallel when the order does not matter (default the limiter's concurrency). */
  readonly ways?: number;
}

export interface CipherEnumeration {
  readonly version: ProbeVersion;
  /** Accepted suites: in server preference order when it has one, else in the order found. Never an SCSV. */
  readonly accepted: number[];
  /** True: the server imposes its order; false: it follows the client's; null: could not tell (0 or 1 suites, or the check did not answer). */
  readonly serverPreference: boolean | null;
  /** Connections made (each one counted against the limiter). */
  readonly connections: number;
  /** False when the budget ran out, the scan was aborted, or a connection could not be made: the list may be short. */
  readonly complete: boolean;
  /** The outcome that ended the loop (e.g. 'alert'), or null when every offered suite was accepted or the budget ran out. */
  readonly stoppedBy: OutcomeKind | null;
  /** The same in words: 'alert handshake_failure', 'server negotiated TLS 1.0 instead of TLS1.1', … */
  readonly stopReason: string | null;
}

export interface GroupEnumeration {
  readonly version: 'TLS1.3' | 'TLS1.2';
  /** Accepted groups in the order the server picked them: its preference when `serverPreference` is true. Hybrids included. */
  readonly accepted: number[];
  /** The post-quantum hybrids among `accepted` (seen in a HelloRetryRequest; we cannot compute them). */
  readonly hybrid: number[];
  /** As for ciphers; null also when key shares had to be sent (a share biases the pick). */
  readonly serverPreference: boolean | null;
  readonly connections: number;
  readonly complete: boolean;
  readonly stoppedBy: OutcomeKind | null;
  readonly stopReason: string | null;
}

/** Post-quantum hybrid groups (draft-ietf-tls-ecdhe-mlkem): X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024. */
export const HYBRID_GROUPS: readonly number[] = [
  NamedGroup.X25519MLKEM768,
  NamedGroup.SecP256r1MLKEM768,
  NamedGroup.SecP384r1MLKEM1024,
];

/** Groups tried for TLS 1.3: the default list, the two large FFDHE groups (RFC 7919), then the hybrids. */
export const TLS13_GROUP_CANDIDATES: readonly number[] = [
  ...DEFAULT_GROUPS,
  NamedGroup.ffdhe6144,
  NamedGroup.ffdhe8192,
  ...HYBRID_GROUPS,
];

/**
 * Curves tried for TLS 1.2 ECDHE (RFC 8422, Section 5.1.1; brainpool: RFC 7027): the elliptic
 * curves of the default list plus the brainpool curves some government profiles require.
 */
export const TLS12_GROUP_CANDIDATES: readonly number[] = [
  ...DEFAULT_GROUPS.filter((g) => g < NamedGroup.ffdhe2048),
  NamedGroup.brainpoolP256r1,
  NamedGroup.brainpoolP384r1,
  NamedGroup.brainpoolP512r1,
];

/** Signalling values that look like suites but are not (RFC 5746, Section 3.3; RFC 7507, Section 2): never reported as accepted. */
const SIGNALLING_SUITES: ReadonlySet<number> = new Set([TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV]);

/** Returns the suites enumerateCiphers offers by default at `version`. */
export function defaultCipherCandidates(version: ProbeVersion): number[] {
  return version === 'TLS1.3' ? [...TLS13_SUITES] : suitesForVersion(version);
}

/**
 * Returns the most connections `enumerateCiphers(ctx, version, offered)` can make: k accepted of n
 * cost k, +1 for the refusal when k < n, +1 for the preference check when k ≥ 2; at most n+1
 * (n ≥ 2), 1 for n = 1, 0 for n = 0.
 */
export function predictCipherConnections(
  version: ProbeVersion,
  offered: readonly number[] = defaultCipherCandidates(version),
): number {
  return loopBound(cleanSuites(offered).length);
}

/**
 * Returns the most connections `enumerateGroups(ctx, version, candidates)` can make: as for
 * ciphers, plus for TLS 1.3 the one retry with a key share when a hello without shares is refused
 * (which replaces the preference check): at most n+1, and 2 for one TLS 1.3 candidate.
 */
export function predictGroupConnections(
  version: 'TLS1.3' | 'TLS1.2',
  candidates: readonly number[] = defaultGroupCandidates(version),
): number {
  const n = new Set(candidates).size;
  return version === 'TLS1.3' && n === 1 ? 2 : loopBound(n);
}

/** Returns the groups enumerateGroups tries by default for `version`. */
export function defaultGroupCandidates(version: 'TLS1.3' | 'TLS1.2'): readonly number[] {
  return version === 'TLS1.3' ? TLS13_GROUP_CANDIDATES : TLS12_GROUP_CANDIDATES;
}

/** max over k ≤ n of k + [k < n] + [k ≥ 2]. */
function loopBound(n: number): number {
  return n >= 2 ? n + 1 : n;
}

function cleanSuites(offered: readonly number[]): number[] {
  return [...new Set(offered)].filter((s) => !SIGNALLING_SUITES.has(s));
}

/** Why the loop ended, once a hello was not accepted. */
interface Stop {
  readonly kind: OutcomeKind | null;
  readonly reason: string;
  /** The answer says nothing about the server (no connection, aborted): the list may be short. */
  readonly inconclusive: boolean;
}

function stopFor(r: AttemptResult, why?: string): Stop {
  const inconclusive = isConnectFailure(r.outcome) || r.end === 'aborted';
  const reason =
    why ??
    (r.alert ? `alert ${r.alert.name}` : describeOutcome(r.outcome, r.errorCode) + (r.error ? `: ${r.error}` : ''));
  return { kind: r.outcome, reason, inconclusive };
}

/**
 * Returns the attempt's result, or null when the limiter's budget is spent (no connection made).
 * A pick needs only the server's first answer: TLS 1.3 attempts stop at the ServerHello or
 * HelloRetryRequest (`tls13HelloOnly`), with no key exchange, decryption or retried hello; with
 * `serverHelloOnly` (suites: the ServerHello names it) TLS 1.2 and below stop there too, while the
 * TLS 1.2 group pick needs the ServerKeyExchange after it.
 */
async function connect(
  ctx: EnumerateContext,
  hello: HelloOptions,
  serverHelloOnly = true,
): Promise<AttemptResult | null> {
  const only = serverHelloOnly ? { serverHelloOnly: true } : { tls13HelloOnly: true };
  const r = await ctx.limiter.run(() => attempt(ctx.target, hello, { ...ctx.attempt, ...only }));
  return isBudgetExhausted(r) ? null : r;
}

/**
 * Returns the suite the server chose at exactly `version` from `offered`, or why it did not: a
 * ServerHello (or HelloRetryRequest) at a lower version than probed is a refusal at this version.
 */
function suitePick(r: AttemptResult, version: ProbeVersion, offered: readonly number[]): number | Stop {
  if (r.outcome !== 'negotiated') return stopFor(r);
  if (!r.supported) {
    const got = r.negotiatedVersion === null ? 'no version' : displayName(PROTOCOL_VERSIONS, r.negotiatedVersion);
    return stopFor(r, `server negotiated ${got} instead of ${version}`);
  }
  if (r.cipherSuite === null || !offered.includes(r.cipherSuite)) {
    return stopFor(
      r,
      `server chose ${r.cipherSuite === null ? 'no suite' : displayName(CIPHER_SUITES, r.cipherSuite)}, which was not offered`,
    );
  }
  return r.cipherSuite;
}

/**
 * The answer to a hello that offered exactly `offered` (in that order) at the enumerated version,
 * already made by the caller: the scan's version probe sends the default suites, so its ServerHello
 * is the enumeration's first pick and costs no connection of its own.
 */
export interface KnownAnswer {
  readonly offered: readonly number[];
  readonly result: AttemptResult;
}

/**
 * Returns the suites the server accepts at `version` among `offered` (default: the five TLS 1.3
 * suites, or `suitesForVersion(version)`), and whose order rules. Signalling values (the
 * renegotiation SCSV that every hello carries, TLS_FALLBACK_SCSV) are never candidates.
 *
 * 1. The whole list (or `known`), then, if it picked one, the whole list reversed. The same pick both times, with two or more suites accepted, is the server's own preference: the
 *    rest is found by remove-and-retry, one connection after another, so that the order found is
 *    that preference. That is the preference-order check, made up front.
 * 2. Two different picks: the server follows the client's order, so the order carries no
 *    information and the remaining candidates are split round-robin into `ctx.ways` (default the
 *    limiter's concurrency) offers, each enumerated by remove-and-retry in parallel; the union is
 *    reported in our offer order. This rests on what remove-and-retry already assumes: whether a
 *    suite is accepted does not depend on which other suites are offered.
 *
 * At most `predictCipherConnections` connections either way (the known answer not counted).
 */
export async function enumerateCiphers(
  ctx: EnumerateContext,
  version: ProbeVersion,
  offered?: readonly number[],
  known?: KnownAnswer,
): Promise<CipherEnumeration> {
  const candidates = cleanSuites(offered ?? defaultCipherCandidates(version));
  const hello = (suites: readonly number[]): HelloOptions => ({ version, sni: ctx.sni, cipherSuites: suites });
  const pickOf = (r: AttemptResult, list: readonly number[]): number | Stop => suitePick(r, version, list);
  const done = (
    accepted: number[],
    serverPreference: boolean | null,
    connections: number,
    complete: boolean,
    stop: Stop | null,
  ): CipherEnumeration => ({
    version,
    accepted,
    serverPreference,
    connections,
    complete,
    stoppedBy: stop?.kind ?? null,
    stopReason: stop?.reason ?? null,
  });
  if (candidates.length === 0) return done([], null, 0, true, null);

  const reuse = known !== undefined && sameList(cleanSuites(known.offered), candidates) ? known.result : undefined;
  const reversedHello = hello([...candidates].reverse());
  // The reversed offer is made once the first answer picked something: a refusal costs one connection.
  const first = reuse ?? (await connect(ctx, hello(candidates)));
  let connections = first !== null && reuse === undefined ? 1 : 0;
  const reversed =
    first !== null && candidates.length >= 2 && typeof pickOf(first, candidates) === 'number'
      ? await connect(ctx, reversedHello)
      : undefined;
  if (reversed) connections++;
  if (first === null) return done([], null, connections, false, null);
  const pa = pickOf(first, candidates);
  if (typeof pa !== 'number') return done([], null, connections, !pa.inconclusive, pa);
  if (candidates.length === 1) return done([pa], null, connections, true, null);
  if (reversed === null) return done([pa], null, connections, false, null); // the budget ran out
  const rest = candidates.filter((s) => s !== pa);
  const pb = reversed === undefined ? null : pickOf(reversed, candidates);

  if (typeof pb === 'number' && pb !== pa) {
    // The client's order rules: the rest in parallel, reported in our offer order.
    const others = rest.filter((s) => s !== pb);
    const ways = Math.max(1, Math.min(ctx.ways ?? ctx.limiter.concurrency, others.length));
    const parts = Array.from({ length: ways }, (_, w) => others.filter((_, i) => i % ways === w)).filter(
      (p) => p.length > 0,
    );
    const chains = await Promise.all(parts.map((p) => removeAndRetry(ctx, p, hello, pickOf)));
    const rank = new Map(candidates.map((c, i) => [c, i]));
    const accepted = [pa, pb, ...chains.flatMap((c) => c.accepted)].sort((a, b) => rank.get(a)! - rank.get(b)!);
    const stop = chains.find((c) => c.stop?.inconclusive)?.stop ?? chains.find((c) => c.stop !== null)?.stop ?? null;
    return done(
      accepted,
      false,
      connections + chains.reduce((n, c) => n + c.connections, 0),
      chains.every((c) => c.complete),
      stop,
    );
  }
  // The same pick both ways (the server's order rules), or no usable answer to the reversed offer
  // (then whose order rules stays unknown): the rest one after another, in the server's order.
  const chain = await removeAndRetry(ctx, rest, hello, pickOf);
  const accepted = [pa, ...chain.accepted];
  const serverPreference = pb === pa && accepted.length >= 2 ? true : null;
  return done(accepted, serverPreference, connections + chain.connections, chain.complete, chain.stop);
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** What one remove-and-retry loop found. */
interface Chain {
  readonly accepted: number[];
  readonly stop: Stop | null;
  readonly connections: number;
  /** False when the budget ran out or an answer was inconclusive. */
  readonly complete: boolean;
}

/**
 * Returns what remove-and-retry finds among `list`: offer it, take the pick out, offer the rest,
 * until the server refuses or nothing is left; the picks come in the server's order.
 */
async function removeAndRetry(
  ctx: EnumerateContext,
  list: readonly number[],
  hello: (values: readonly number[]) => HelloOptions,
  pickOf: (r: AttemptResult, offered: readonly number[]) => number | Stop,
): Promise<Chain> {
  const remaining = [...list];
  const accepted: number[] = [];
  let connections = 0;
  while (remaining.length > 0) {
    const r = await connect(ctx, hello(remaining));
    if (r === null) return { accepted, stop: null, connections, complete: false };
    connections++;
    const pick = pickOf(r, remaining);
    if (typeof pick !== 'number') return { accepted, stop: pick, connections, complete: !pick.inconclusive };
    accepted.push(pick);
    remaining.splice(remaining.indexOf(pick), 1);
  }
  return { accepted, stop: null, connections, complete: true };
}

/**
 * Sends `reversed` (the accepted values in reverse order) once and returns whose order rules
 * (`preferenceFrom`), the connections made (0 when the limiter's budget is spent), and whether the
 * enumeration is still complete (not when no connection was made, it was aborted or could not connect).
 */
async function orderCheck(
  ctx: EnumerateContext,
  reversed: HelloOptions,
  pickOf: (r: AttemptResult) => number | Stop,
  accepted: readonly number[],
): Promise<{ serverPreference: boolean | null; connections: number; complete: boolean }> {
  const r = await connect(ctx, reversed, false);
  if (r === null) return { serverPreference: null, connections: 0, complete: false };
  const complete = !(r.end === 'aborted' || isConnectFailure(r.outcome));
  return { serverPreference: preferenceFrom(pickOf(r), accepted), connections: 1, complete };
}

/**
 * Returns what the reversed-order hello says: the server kept its first pick (true), took the
 * client's new first (false), or answered something else (null).
 */
function preferenceFrom(pick: number | Stop, found: readonly number[]): boolean | null {
  if (typeof pick !== 'number') return null;
  if (pick === found[0]) return true;
  if (pick === found[found.length - 1]) return false;
  return null;
}

/**
 * Returns the TLS 1.3 group the server asked for (HelloRetryRequest) or used (ServerHello) among
 * `offered`, or why it did not pick one. An HRR is an answer by itself: the server named a group
 * it supports, whether or not the retried handshake then completed (we cannot compute hybrids or
 * FFDHE shares, and attempt() stops there).
 */
function tls13GroupPick(r: AttemptResult, offered: readonly number[]): number | Stop {
  if (r.helloRetryRequest && r.hrrGroup !== null && offered.includes(r.hrrGroup)) return r.hrrGroup;
  if (r.outcome !== 'negotiated') return stopFor(r);
  if (!r.supported) return stopFor(r, 'server did not negotiate TLS 1.3');
  if (r.group === null || !offered.includes(r.group)) {
    return stopFor(
      r,
      `server chose ${r.group === null ? 'no group' : displayName(NAMED_GROUPS, r.group)}, which was not offered`,
    );
  }
  return r.group;
}

/** Returns the curve of the TLS 1.2 ServerKeyExchange among `offered`, or why there is none. */
function tls12GroupPick(r: AttemptResult, offered: readonly number[]): number | Stop {
  if (r.outcome !== 'negotiated') return stopFor(r);
  if (!r.supported)
    return stopFor(
      r,
      `server negotiated ${r.negotiatedVersion === null ? 'no version' : displayName(PROTOCOL_VERSIONS, r.negotiatedVersion)} instead of TLS1.2`,
    );
  if (r.group === null || !offered.includes(r.group)) {
    return stopFor(
      r,
      `server key exchange used ${r.group === null ? 'no named curve' : displayName(NAMED_GROUPS, r.group)}, which was not offered`,
    );
  }
  return r.group;
}

/** TLS 1.2 suites whose key exchange is ECDHE: with them, the ServerKeyExchange names the curve. */
function ecdheSuites(): number[] {
  return suitesForVersion('TLS1.2').filter((s) => cipherSuiteInfo(s)?.keyExchange === 'ECDHE');
}

/**
 * Returns the named groups the server accepts for `version` among `candidates` (default
 * `TLS13_GROUP_CANDIDATES` / `TLS12_GROUP_CANDIDATES`), by remove-and-retry.
 *
 * TLS 1.3: every hello offers the remaining candidates in supported_groups with no key share, so
 * the server must name the group it wants in a HelloRetryRequest (RFC 8446, Section 4.1.4) — which
 * works for groups we cannot compute, the post-quantum hybrids included. A server that refuses the
 * very first shareless hello may want a share up front: the hello is retried once with a share for
 * the first candidate we can compute, and if that works the rest of the loop sends one too.
 *
 * TLS 1.2: hellos offer only ECDHE suites and the remaining curves; the ServerKeyExchange's curve
 * (RFC 8422, Section 5.4) is the pick.
 */
export async function enumerateGroups(
  ctx: EnumerateContext,
  version: 'TLS1.3' | 'TLS1.2',
  candidates?: readonly number[],
): Promise<GroupEnumeration> {
  const remaining = [...new Set(candidates ?? defaultGroupCandidates(version))];
  const accepted: number[] = [];
  let connections = 0;
  let complete = true;
  let stop: Stop | null = null;
  /** TLS 1.3: send a key share (the server refused a hello without one). */
  let withShare = false;
  const suites = version === 'TLS1.2' ? ecdheSuites() : undefined;
  const hello = (groups: readonly number[], share: boolean): HelloOptions => {
    if (version === 'TLS1.2') return { version, sni: ctx.sni, cipherSuites: suites, groups };
    const computable = groups.find((g) => SUPPORTED_KEY_SHARE_GROUPS.includes(g));
    return { version, sni: ctx.sni, groups, keyShareGroups: share && computable !== undefined ? [computable] : [] };
  };
  const pickOf = (r: AttemptResult, offered: readonly number[]): number | Stop =>
    version === 'TLS1.3' ? tls13GroupPick(r, offered) : tls12GroupPick(r, offered);

  while (remaining.length > 0) {
    if (withShare && !remaining.some((g) => SUPPORTED_KEY_SHARE_GROUPS.includes(g))) {
      // This server needs a share up front and we cannot compute any group left (FFDHE, hybrids).
      stop = {
        kind: null,
        reason: 'the server wants a key share and none of the remaining groups is one we can compute',
        inconclusive: true,
      };
      complete = false;
      break;
    }
    let r = await connect(ctx, hello(remaining, withShare), false);
    if (r === null) {
      complete = false;
      break;
    }
    connections++;
    let pick = pickOf(r, remaining);
    if (typeof pick !== 'number' && version === 'TLS1.3' && !withShare && accepted.length === 0 && !pick.inconclusive) {
      // A server that never saw our shareless hellos work: maybe it refuses hellos without a share.
      const retry = remaining.some((g) => SUPPORTED_KEY_SHARE_GROUPS.includes(g))
        ? await connect(ctx, hello(remaining, true), false)
        : undefined;
      if (retry === null) {
        complete = false;
        break;
      }
      if (retry !== undefined) {
        connections++;
        const second = pickOf(retry, remaining);
        if (typeof second === 'number') withShare = true;
        r = retry;
        pick = second;
      }
    }
    if (typeof pick !== 'number') {
      stop = pick;
      if (pick.inconclusive) complete = false;
      break;
    }
    accepted.push(pick);
    remaining.splice(remaining.indexOf(pick), 1);
  }

  let serverPreference: boolean | null = null;
  if (complete && !withShare && accepted.length >= 2) {
    const order = await orderCheck(ctx, hello([...accepted].reverse(), false), (r) => pickOf(r, accepted), accepted);
    ({ serverPreference, complete } = order);
    connections += order.connections;
  }
  return {
    version,
    accepted,
    hybrid: accepted.filter((g) => HYBRID_GROUPS.includes(g)),
    serverPreference,
    connections,
    complete,
    stoppedBy: stop?.kind ?? null,
    stopReason: stop?.reason ?? null,
  };
}
