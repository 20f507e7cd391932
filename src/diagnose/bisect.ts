/**
 * ClientHello bisection: `bisectHello` resolves with the steps it tried and the smallest single
 * change that turns a failing ClientHello into one the server accepts (or null when no single change
 * does); it never rejects for network outcomes.
 *
 * Starting from a hello that fails and one that works, it changes the failing hello in one dimension
 * at a time, taking that dimension from the working hello, and sends each variant once: SNI, the
 * renegotiation SCSV (RFC 5746), the record-layer version, the hello size (RFC 7685 padding, with the
 * 256–511 byte range some F5 devices hang on tried explicitly), signature schemes, groups, the number
 * of cipher suites, the suite list, and the protocol version. Dimensions are ordered from the
 * smallest change on the wire to the largest, and the first one that succeeds is the cause. Every
 * differing dimension is tried (a handful of connections), so the report also shows which other
 * changes would have helped.
 */
import { attempt, type AttemptOptions, type AttemptResult, type ProbeTarget } from '../probe/attempt.js';
import type { OutcomeKind } from '../probe/outcome.js';
import {
  buildClientHello,
  DEFAULT_GROUPS,
  DEFAULT_SIGNATURE_SCHEMES,
  suitesForVersion,
  TLS13_SUITES,
  TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
  type HelloOptions,
  type ProbeVersion,
} from '../probe/profiles.js';
import { ProtocolVersion } from '../tls/registry.js';

/**
 * RFC 7685, Section 1: some servers (F5 BIG-IP among them) hang on ClientHello records of 256–511
 * bytes; a failing hello in that range is also tried padded to 512.
 */
const HANG_RANGE_MIN = 256;
const HANG_RANGE_MAX = 511;

export type BisectDimension =
  | 'sni'
  | 'renegotiation-scsv'
  | 'record-version'
  | 'size'
  | 'signature-schemes'
  | 'groups'
  | 'cipher-suite-count'
  | 'cipher-suites'
  | 'version';

export interface BisectStep {
  readonly dimension: BisectDimension;
  /** The change applied to the failing hello, in words. */
  readonly change: string;
  readonly outcome: OutcomeKind;
  readonly success: boolean;
  /** Bytes of the record sent (5-byte header included). */
  readonly helloBytes: number;
  readonly alert?: string | null;
}

export interface BisectResult {
  readonly failing: OutcomeKind;
  readonly working: OutcomeKind;
  readonly failingBytes: number;
  readonly workingBytes: number;
  readonly steps: readonly BisectStep[];
  /** The smallest single change that made the failing hello succeed, or null. */
  readonly cause: { readonly dimension: BisectDimension; readonly change: string } | null;
  readonly connections: number;
  /** Why bisection stopped before trying changes (the failing hello worked, the working one failed), or null. */
  readonly note: string | null;
}

/** Every dimension of a hello that bisection can vary, with the builder's defaults made explicit. */
interface Resolved {
  readonly version: ProbeVersion;
  readonly sni: string | null;
  /** Without the SCSV: that is its own dimension. */
  readonly cipherSuites: readonly number[];
  readonly renegotiationScsv: boolean;
  readonly groups: readonly number[];
  readonly signatureSchemes: readonly number[];
  readonly recordVersion: number;
  /** undefined: the builder's default (pad 256–511 byte hellos to 512); null: never pad. */
  readonly padTo: number | null | undefined;
}

function resolve(h: HelloOptions): Resolved {
  const suites = h.cipherSuites ?? suitesForVersion(h.version);
  return {
    version: h.version,
    sni: h.sni,
    cipherSuites: suites.filter((s) => s !== TLS_EMPTY_RENEGOTIATION_INFO_SCSV),
    renegotiationScsv: h.renegotiationScsv !== false || suites.includes(TLS_EMPTY_RENEGOTIATION_INFO_SCSV),
    groups: h.groups ?? DEFAULT_GROUPS,
    signatureSchemes: h.signatureSchemes ?? DEFAULT_SIGNATURE_SCHEMES,
    recordVersion: h.recordVersion ?? (h.version === 'SSL3.0' ? ProtocolVersion.SSL3_0 : ProtocolVersion.TLS1_0),
    padTo: h.padTo,
  };
}

/** Returns HelloOptions for `r`, keeping the fields bisection does not vary from `base`. */
function toOptions(r: Resolved, base: HelloOptions): HelloOptions {
  return {
    ...(base.alpn !== undefined ? { alpn: base.alpn } : {}),
    ...(base.keyShareGroups !== undefined ? { keyShareGroups: base.keyShareGroups } : {}),
    version: r.version,
    sni: r.sni,
    cipherSuites: r.cipherSuites,
    renegotiationScsv: r.renegotiationScsv,
    groups: r.groups,
    signatureSchemes: r.signatureSchemes,
    recordVersion: r.recordVersion,
    ...(r.padTo !== undefined ? { padTo: r.padTo } : {}),
  };
}

/** Returns the record size `opts` builds to (random and keys do not change the size). */
function recordSize(opts: HelloOptions): number {
  return buildClientHello(opts).record.length;
}

const sameList = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);
const hex4 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;

interface Candidate {
  readonly dimension: BisectDimension;
  readonly change: string;
  readonly hello: Resolved;
}

/** Returns the single-dimension variants of `f` towards `w`, smallest change first. */
function candidates(f: Resolved, w: Resolved, fBytes: number, wBytes: number, base: HelloOptions): Candidate[] {
  const out: Candidate[] = [];
  if (f.sni !== w.sni)
    out.push({
      dimension: 'sni',
      change: `SNI ${f.sni ?? '(none)'} → ${w.sni ?? '(none)'}`,
      hello: { ...f, sni: w.sni },
    });
  if (f.renegotiationScsv !== w.renegotiationScsv) {
    out.push({
      dimension: 'renegotiation-scsv',
      change: `${w.renegotiationScsv ? 'add' : 'remove'} TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746)`,
      hello: { ...f, renegotiationScsv: w.renegotiationScsv },
    });
  }
  if (f.recordVersion !== w.recordVersion) {
    out.push({
      dimension: 'record-version',
      change: `record-layer version ${hex4(f.recordVersion)} → ${hex4(w.recordVersion)}`,
      hello: { ...f, recordVersion: w.recordVersion },
    });
  }
  // Size: padding can only grow a hello. Try the working hello's size when it is larger, and 512
  // bytes when the failing hello sits in the 256–511 range some middleboxes hang on.
  const targets: number[] = [];
  if (wBytes > fBytes) targets.push(wBytes);
  if (fBytes >= HANG_RANGE_MIN && fBytes <= HANG_RANGE_MAX && !targets.includes(HANG_RANGE_MAX + 1))
    targets.push(HANG_RANGE_MAX + 1);
  for (const t of targets) {
    const padded: Resolved = { ...f, padTo: t };
    // The padding extension needs 4 bytes of header: a hello within 4 bytes of the target cannot reach it exactly.
    if (recordSize(toOptions(padded, base)) === fBytes) continue;
    out.push({
      dimension: 'size',
      change: `pad the hello from ${fBytes} to ${t} bytes (RFC 7685 padding)`,
      hello: padded,
    });
  }
  if (!sameList(f.signatureSchemes, w.signatureSchemes)) {
    out.push({
      dimension: 'signature-schemes',
      change: `signature schemes: ${f.signatureSchemes.length} → the working hello's ${w.signatureSchemes.length}`,
      hello: { ...f, signatureSchemes: w.signatureSchemes },
    });
  }
  if (!sameList(f.groups, w.groups))
    out.push({
      dimension: 'groups',
      change: `groups: ${f.groups.length} → the working hello's ${w.groups.length}`,
      hello: { ...f, groups: w.groups },
    });
  if (f.cipherSuites.length !== w.cipherSuites.length) {
    const n = w.cipherSuites.length;
    const resized =
      f.cipherSuites.length > n
        ? f.cipherSuites.slice(0, n)
        : [...f.cipherSuites, ...w.cipherSuites.filter((s) => !f.cipherSuites.includes(s))].slice(0, n);
    if (resized.length === n && !sameList(resized, f.cipherSuites)) {
      out.push({
        dimension: 'cipher-suite-count',
        change: `${f.cipherSuites.length} → ${n} cipher suites (same order)`,
        hello: { ...f, cipherSuites: resized },
      });
    }
  }
  if (!sameList(f.cipherSuites, w.cipherSuites)) {
    out.push({
      dimension: 'cipher-suites',
      change: `the working hello's cipher suite list (${w.cipherSuites.length} suites)`,
      hello: { ...f, cipherSuites: w.cipherSuites },
    });
  }
  if (f.version !== w.version) {
    // A TLS 1.3 hello without a TLS 1.3 suite cannot succeed: the suites come along (RFC 8446, Section 4.1.2).
    const needs13 = w.version === 'TLS1.3' && !f.cipherSuites.some((s) => TLS13_SUITES.includes(s));
    out.push({
      dimension: 'version',
      change: `offer ${w.version} instead of ${f.version}${needs13 ? ' (with the TLS 1.3 suites)' : ''}`,
      hello: {
        ...f,
        version: w.version,
        cipherSuites: needs13 ? [...TLS13_SUITES, ...f.cipherSuites] : f.cipherSuites,
      },
    });
  }
  return out;
}

const succeeded = (r: AttemptResult): boolean => r.outcome === 'negotiated';

/**
 * Returns the bisection from `failing` to `working` against `target`. The failing hello is sent
 * first and the working one second; when the failing one succeeds or the working one fails there is
 * nothing to bisect, and `note` says so.
 */
export async function bisectHello(
  target: ProbeTarget,
  failing: HelloOptions,
  working: HelloOptions,
  opts: AttemptOptions = {},
): Promise<BisectResult> {
  const f = resolve(failing);
  const w = resolve(working);
  const fOpts = toOptions(f, failing);
  const fBytes = recordSize(fOpts);
  const wBytes = recordSize(toOptions(w, working));
  let connections = 0;
  const send = async (h: HelloOptions): Promise<AttemptResult> => {
    connections++;
    return attempt(target, h, opts);
  };

  const fr = await send(fOpts);
  const wr = await send(toOptions(w, working));
  const base = { failing: fr.outcome, working: wr.outcome, failingBytes: fBytes, workingBytes: wBytes };
  if (succeeded(fr))
    return { ...base, steps: [], cause: null, connections, note: 'the failing hello succeeded: nothing to bisect' };
  if (!succeeded(wr))
    return {
      ...base,
      steps: [],
      cause: null,
      connections,
      note: `the working hello failed too (${wr.outcome}): nothing to bisect towards`,
    };

  const steps: BisectStep[] = [];
  for (const c of candidates(f, w, fBytes, wBytes, failing)) {
    const h = toOptions(c.hello, failing);
    const r = await send(h);
    steps.push({
      dimension: c.dimension,
      change: c.change,
      outcome: r.outcome,
      success: succeeded(r),
      helloBytes: recordSize(h),
      alert: r.alert?.name ?? null,
    });
  }
  const first = steps.find((s) => s.success);
  return {
    ...base,
    steps,
    cause: first ? { dimension: first.dimension, change: first.change } : null,
    connections,
    note: first
      ? null
      : steps.length === 0
        ? 'the two hellos differ in no dimension bisection varies'
        : 'no single change made the failing hello succeed',
  };
}
