/**
 * The time a chain is judged at, and the span around it in which the judgement cannot change.
 *
 * A chain's report depends on the check time only through comparisons with validity bounds
 * (RFC 5280, Section 4.1.2.5: notBefore, notAfter). Every such comparison goes through `reached`,
 * which narrows [`from`, `until`) to the side of the bound the time is on: any other time in the
 * final span makes every comparison come out the same, so the report is the same. That is what
 * lets a capture of many connections to one server judge its chain once (x509/chain-cache.ts).
 */

/** The check time in ms since the epoch and the span [`from`, `until`) that holds the same verdicts. */
export interface CheckTime {
  readonly at: number;
  from: number;
  until: number;
}

/** Returns a check time at `at` whose span is still the whole time line. */
export function checkTime(at: Date): CheckTime {
  return { at: at.getTime(), from: Number.NEGATIVE_INFINITY, until: Number.POSITIVE_INFINITY };
}

/** Returns true when the check time is at or after `bound` (ms), narrowing the span to that side of it. */
export function reached(t: CheckTime, bound: number): boolean {
  if (t.at >= bound) {
    if (bound > t.from) t.from = bound;
    return true;
  }
  if (bound < t.until) t.until = bound;
  return false;
}
