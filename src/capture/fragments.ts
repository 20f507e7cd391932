/**
 * The IP reassembly layer: collects the fragments of IPv4 (RFC 791, Section 3.2 "Fragmentation and
 * reassembly") and IPv6 (RFC 8200, Section 4.5) datagrams and returns the whole payload when the
 * last hole is filled.
 *
 * The IP layer (`ip.ts`) calls `addFragment` with a key naming the datagram (version, addresses,
 * identification); the table lives in `DecodeState.fragments`, bounded by `DecodeState.limits`
 * (datagrams at once, fragments per datagram, a timeout in capture time). Overlapping bytes keep
 * their first arrival; a fragment that contradicts its datagram drops it and counts as malformed.
 */
import type { DecodeState, Fragment, PacketInfo, PendingDatagram } from './decode-state.js';

/** Largest reassembled datagram: the IPv4 total length is 16 bits (RFC 791, Section 3.1). */
const MAX_DATAGRAM_BYTES = 65_535;

/**
 * Adds one fragment; returns the whole upper-layer payload when this fragment completes the
 * datagram, else undefined. Fragments are copied (they outlive their packet). Overlapping bytes
 * keep their first arrival. Bounded by `state.limits`.
 */
export function addFragment(
  state: DecodeState,
  key: string,
  nextHeader: number | undefined,
  offset: number,
  more: boolean,
  bytes: Uint8Array,
  info: PacketInfo,
): { bytes: Uint8Array; nextHeader: number | undefined } | undefined {
  const { stats, limits, fragments } = state;
  expireFragments(state, info.timestampUs);
  let d = fragments.get(key);
  if (!d) {
    while (fragments.size >= limits.maxDatagrams) {
      fragments.delete(oldestDatagram(state)!.key);
      stats.fragmentsDropped++;
    }
    d = { key, firstSeenUs: info.timestampUs, totalLength: undefined, pieces: [], nextHeader: undefined };
    fragments.set(key, d);
    state.fragmentArrivals.order.push(d);
  }
  if (nextHeader !== undefined && offset === 0) d.nextHeader = nextHeader;
  const end = offset + bytes.length;
  if (
    end > MAX_DATAGRAM_BYTES ||
    d.pieces.length >= limits.maxFragmentsPerDatagram ||
    (d.totalLength !== undefined && end > d.totalLength)
  ) {
    fragments.delete(key);
    stats.fragmentsDropped++;
    // The datagram is dropped; this packet itself is impossible or hostile: count it as malformed,
    // so that every packet lands in exactly one of the per-packet counters.
    refuseFragment(
      state,
      info,
      end > MAX_DATAGRAM_BYTES
        ? 'fragment reaches past 65,535 bytes'
        : 'fragment past the datagram end or the fragment cap',
    );
    return undefined;
  }
  if (!more) {
    // A fragment held already may reach past the end this last fragment declares: inconsistent too.
    if (
      (d.totalLength !== undefined && d.totalLength !== end) ||
      d.pieces.some((f) => f.offset + f.bytes.length > end)
    ) {
      fragments.delete(key);
      stats.fragmentsDropped++;
      refuseFragment(state, info, 'last fragment disagrees with the datagram length');
      return undefined;
    }
    d.totalLength = end;
  }
  for (const f of d.pieces) {
    if (offset < f.offset + f.bytes.length && f.offset < end) {
      stats.fragmentOverlaps++;
      break;
    }
  }
  d.pieces.push({ offset, bytes: bytes.slice() });
  stats.fragments++;
  if (d.totalLength === undefined || !covers(d.pieces, d.totalLength)) return undefined;
  fragments.delete(key);
  stats.fragments -= d.pieces.length;
  stats.reassembled++;
  const whole = new Uint8Array(d.totalLength);
  // Write in reverse arrival order so that the first arrival of any overlapping byte wins.
  for (let i = d.pieces.length - 1; i >= 0; i--) {
    const f = d.pieces[i]!;
    whole.set(f.bytes, f.offset);
  }
  return { bytes: whole, nextHeader: d.nextHeader };
}

/** True when the pieces cover [0, total) without a hole. */
function covers(pieces: readonly Fragment[], total: number): boolean {
  const sorted = [...pieces].sort((a, b) => a.offset - b.offset);
  let reach = 0;
  for (const f of sorted) {
    if (f.offset > reach) return false;
    reach = Math.max(reach, f.offset + f.bytes.length);
  }
  return reach >= total;
}

/**
 * Returns the oldest datagram still in the table (undefined when it is empty), first dropping from
 * the arrival order the entries of datagrams that left it (completed, dropped, or replaced by a
 * later datagram of the same key). Each entry is passed once: amortized O(1) per fragment.
 */
function oldestDatagram(state: DecodeState): PendingDatagram | undefined {
  const arrivals = state.fragmentArrivals;
  const { order } = arrivals;
  while (arrivals.head < order.length) {
    const d = order[arrivals.head]!;
    if (state.fragments.get(d.key) === d) break;
    arrivals.head++;
  }
  // The passed entries are released once they are half of the array.
  if (arrivals.head > 64 && arrivals.head * 2 >= order.length) {
    order.splice(0, arrivals.head);
    arrivals.head = 0;
  }
  return order[arrivals.head];
}

/**
 * Drops datagrams older than the timeout (oldest first, so stop at the first young one). Their
 * fragments stay counted in `fragments`, as those of a datagram dropped for a cap do: each packet
 * is counted in one of DecodeStats' per-packet counters.
 */
function expireFragments(state: DecodeState, nowUs: number): void {
  for (let d = oldestDatagram(state); d !== undefined; d = oldestDatagram(state)) {
    if (nowUs - d.firstSeenUs <= state.limits.timeoutUs) return;
    state.fragments.delete(d.key);
    state.stats.fragmentsDropped++;
  }
}

/** Counts a fragment refused on arrival as a malformed packet, with the reason kept for diagnostics. */
function refuseFragment(state: DecodeState, info: PacketInfo, reason: string): void {
  state.stats.malformed++;
  state.stats.lastMalformed = { frame: info.frame, reason };
}
