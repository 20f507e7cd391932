/**
 * The classic pcap layer: reads the file header and the packet records of a pcap file
 * (draft-ietf-opsawg-pcap, Sections 4 and 5) into a `ParserState`, delivering each packet.
 *
 * Both byte orders, microsecond (0xA1B2C3D4) and nanosecond (0xA1B23C4D) magic, and the Kuznetzov
 * "modified" pcap (0xA1B2CD34) whose record headers carry 8 extra bytes. A pcap file has one
 * interface, described by its file header. The front (`pcap.ts`) calls `pcapHeader` once and then
 * `pcapRecord` for as long as it returns a record's length; `pcapRecord` runs once per packet, so it
 * makes nothing per packet for a raw parser and one `CapturedPacket` for the other.
 */
import { DecodeError } from '../wire/errors.js';
import { deliver, deliverRaw, MAX_PACKET_BYTES, MICRO, NANO, PcapMagic } from './pcap-format.js';
import type { ParserState } from './pcap-format.js';

/** True when `m` (read in either byte order) is one of the pcap file header magics. */
export function isPcapMagic(m: number): boolean {
  return m === PcapMagic.microseconds || m === PcapMagic.nanoseconds || m === PcapMagic.modified;
}

/**
 * Reads the 24-byte file header at `pos` (draft-ietf-opsawg-pcap, Section 4) into `s`: byte order,
 * timestamp unit, record header size and the file's one interface. Returns the bytes used (24).
 * The caller has checked the magic with `isPcapMagic` and that 24 bytes are there.
 */
export function pcapHeader(s: ParserState, dv: DataView, pos: number): number {
  const magicBe = dv.getUint32(pos, false);
  const magicLe = dv.getUint32(pos, true);
  const magic = [PcapMagic.microseconds, PcapMagic.nanoseconds, PcapMagic.modified].find(
    (m) => m === magicBe || m === magicLe,
  )!;
  s.pcapLe = magic === magicLe;
  s.pcapNano = magic === PcapMagic.nanoseconds;
  s.pcapRecordHeader = magic === PcapMagic.modified ? 24 : 16;
  s.meta.byteOrder = s.pcapLe ? 'little' : 'big';
  const snapLength = dv.getUint32(pos + 16, s.pcapLe);
  // LinkType and additional information: the link type is the low 16 bits; bit 26 (P) says the
  // top 4 bits hold the FCS length in 16-bit words (draft-ietf-opsawg-pcap, Section 4).
  const network = dv.getUint32(pos + 20, s.pcapLe);
  const fcsPresent = (network & 0x04000000) !== 0;
  s.meta.interfaces.push({
    linkType: network & 0xffff,
    tsResolution: s.pcapNano ? NANO : MICRO,
    snapLength,
    section: 0,
    ...(fcsPresent ? { fcsLength: (network >>> 28) * 2 } : {}),
  });
  return 24;
}

/**
 * Reads one packet record at `pos` of `buf` (draft-ietf-opsawg-pcap, Section 5) and delivers it;
 * returns the bytes used, or 0 with `s.want` set when the record is not complete before `end`.
 * Throws `DecodeError('too-large')` for a captured length above `MAX_PACKET_BYTES`.
 */
export function pcapRecord(s: ParserState, buf: Uint8Array, dv: DataView, pos: number, end: number): number {
  const header = s.pcapRecordHeader;
  if (end - pos < header) {
    s.want = header;
    return 0;
  }
  const le = s.pcapLe;
  const capLen = dv.getUint32(pos + 8, le);
  if (capLen > MAX_PACKET_BYTES) {
    throw new DecodeError(
      'too-large',
      `captured length ${capLen} above ${MAX_PACKET_BYTES}`,
      s.consumed + pos + 8,
      'pcap/record/incl_len',
    );
  }
  const total = header + capLen;
  if (end - pos < total) {
    s.want = total;
    return 0;
  }
  const sec = dv.getUint32(pos, le);
  const frac = dv.getUint32(pos + 4, le);
  const start = pos + header;
  const meta = s.meta;
  if (s.onRaw !== null) {
    meta.packets++;
    deliverRaw(
      s,
      meta.interfaces[0]!.linkType,
      sec * 1e6 + (s.pcapNano ? Math.floor(frac / 1000) : frac),
      meta.packets,
      buf,
      start,
      start + capLen,
    );
    return total;
  }
  deliver(s, {
    interfaceId: 0,
    linkType: meta.interfaces[0]!.linkType,
    timestampUs: sec * 1e6 + (s.pcapNano ? Math.floor(frac / 1000) : frac),
    subMicroNs: s.pcapNano ? frac % 1000 : 0,
    data: buf.subarray(start, start + capLen),
    originalLength: dv.getUint32(pos + 12, le),
    index: meta.packets + 1,
    offset: s.consumed + pos,
  });
  return total;
}
