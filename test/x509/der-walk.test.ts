/**
 * The position-based certificate walk of der.ts and the allocation-free primitives of der-reader.ts
 * it calls: the errors it throws are the ones a `DerReader` program of the same walk throws, names
 * decoded from positions match what the model they were built from says, times match `Date.UTC`,
 * and the known-OID table matches arc-by-arc decoding.
 */
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/wire/errors.js';
import { toHex } from '../../src/wire/hex.js';
import {
  DerReader,
  NAMED_OIDS,
  Tag,
  contentStart,
  contextTag,
  daysFromCivil,
  expectTlv,
  oidToString,
  readTime,
  readTlv,
  tlvEnd,
  type Tlv,
} from '../../src/x509/der-reader.js';
import { parseCertificate } from '../../src/x509/der.js';
import { toPlainCertInfo } from '../../src/x509/der-cert-info.js';
import { formatRfc4514, type RdnMember } from '../../src/x509/dn.js';
import { attributeTypeName } from '../../src/x509/oids.js';
import { parseCertificateReference } from '../../src/x509/pkijs-adapter.js';
import { Rng } from '../helpers/random.js';
import { nodeRootCertificates } from './corpus-certs.js';

/** Returns the DER TLV of `tag` around `content` (X.690, Section 8.1.3: short or long definite length). */
function tlv(tag: number, ...content: readonly Uint8Array[]): Uint8Array {
  const body = Buffer.concat(content);
  const n = body.length;
  const len =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return new Uint8Array(Buffer.concat([Uint8Array.from([tag, ...len]), body]));
}

/** Returns the body octets of a dotted OID (X.690, Section 8.19), written here independently of der-reader.ts. */
function oidBody(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(BigInt);
  const subs = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (const v of subs) {
    const group = [Number(v & 0x7fn)];
    for (let x = v >> 7n; x > 0n; x >>= 7n) group.unshift(Number(x & 0x7fn) | 0x80);
    out.push(...group);
  }
  return Uint8Array.from(out);
}

/**
 * The certificate walk as a `DerReader` program (the form der.ts had before it read positions into
 * locals): the oracle for which `DecodeError` (code, offset, path, text) `parseCertificate` throws.
 */
function readerWalk(der: Uint8Array): void {
  const top = new DerReader(der);
  const cert = top.enter('Certificate');
  top.end();
  const tbsTlv = cert.expect(Tag.SEQUENCE, 'tbsCertificate');
  algorithm(cert, 'signatureAlgorithm');
  wholeOctets(cert, cert.expect(Tag.BIT_STRING, 'signatureValue'), 'signatureValue');
  cert.end();
  const tbs = cert.into(tbsTlv, 'tbsCertificate');
  if (tbs.peekTag() === contextTag(0, true)) {
    const v = tbs.enter('version', contextTag(0, true));
    const n = v.expect(Tag.INTEGER, 'version');
    v.end();
    if (n.end - n.valueStart !== 1 || der[n.valueStart]! > 2)
      v.fail('bad-value', 'version is not v1, v2 or v3', 'version', n.start);
  }
  const serial = tbs.expect(Tag.INTEGER, 'serialNumber');
  if (serial.end === serial.valueStart) tbs.fail('bad-value', 'empty INTEGER', 'serialNumber', serial.start);
  algorithm(tbs, 'signature');
  name(tbs, 'issuer');
  const validity = tbs.enter('validity');
  validity.time('notBefore');
  validity.time('notAfter');
  validity.end();
  name(tbs, 'subject');
  const spki = tbs.enter('subjectPublicKeyInfo');
  algorithm(spki, 'algorithm');
  wholeOctets(spki, spki.expect(Tag.BIT_STRING, 'subjectPublicKey'), 'subjectPublicKey');
  spki.end();
  tbs.optional(contextTag(1, false), 'issuerUniqueID');
  tbs.optional(contextTag(2, false), 'subjectUniqueID');
  if (tbs.peekTag() === contextTag(3, true)) extensions(tbs);
  tbs.end();
}

function algorithm(r: DerReader, field: string): void {
  const a = r.enter(field);
  a.oid('algorithm');
  if (a.anyLeft) a.any('parameters');
  a.end();
}

function wholeOctets(r: DerReader, t: Tlv, field: string): void {
  if (t.end === t.valueStart) r.fail('bad-value', 'BIT STRING without its unused-bits octet', field, t.valueStart);
  const unused = r.buf[t.valueStart]!;
  if (unused !== 0)
    r.fail('bad-value', `BIT STRING with ${unused} unused bits where whole octets are required`, field, t.valueStart);
}

function name(r: DerReader, field: string): void {
  const seq = r.enter(field);
  while (seq.anyLeft) {
    const set = seq.enter('rdn', Tag.SET);
    let members = 0;
    while (set.anyLeft) {
      const atv = set.enter('atv');
      atv.oid('type');
      atv.any('value');
      atv.end();
      members++;
    }
    if (members === 0) set.fail('empty-list', 'RelativeDistinguishedName has no attribute (SET SIZE (1..MAX))');
  }
}

function extensions(tbs: DerReader): void {
  const wrapper = tbs.enter('extensions', contextTag(3, true));
  const list = wrapper.enter('extensions');
  wrapper.end();
  const seen = new Set<number>();
  while (list.anyLeft) {
    const e = list.enter('extension');
    const id = e.oid('extnID');
    e.optional(Tag.BOOLEAN, 'critical');
    const octets = e.expect(Tag.OCTET_STRING, 'extnValue');
    e.end();
    const b = tbs.buf;
    if (id.end - id.valueStart !== 3 || b[id.valueStart] !== 0x55 || b[id.valueStart + 1] !== 0x1d) continue;
    const arc = b[id.valueStart + 2]!;
    if (seen.has(arc)) continue;
    if (arc === 17) {
      const r = e.into(octets, 'subjectAltName');
      const seq = r.enter('GeneralNames');
      r.end();
      while (seq.anyLeft) seq.any('GeneralName');
    } else if (arc === 15) {
      const r = e.into(octets, 'keyUsage');
      const bits = r.expect(Tag.BIT_STRING, 'KeyUsage');
      r.end();
      if (bits.end === bits.valueStart || b[bits.valueStart]! > 7)
        r.fail('bad-value', 'malformed BIT STRING', 'KeyUsage', bits.valueStart);
    } else if (arc === 19) {
      const r = e.into(octets, 'basicConstraints');
      const seq = r.enter('BasicConstraints');
      r.end();
      const ca = seq.optional(Tag.BOOLEAN, 'cA');
      if (ca && ca.end - ca.valueStart !== 1) seq.fail('bad-value', 'BOOLEAN is not one octet', 'cA', ca.start);
      const pl = seq.optional(Tag.INTEGER, 'pathLenConstraint');
      seq.end();
      if (pl) {
        const n = pl.end - pl.valueStart;
        if (n === 0 || n > 4 || b[pl.valueStart]! & 0x80)
          seq.fail('bad-value', 'pathLenConstraint out of range', 'pathLenConstraint', pl.start);
      }
    } else if (arc === 35) {
      const r = e.into(octets, 'authorityKeyIdentifier');
      const seq = r.enter('AuthorityKeyIdentifier');
      r.end();
      seq.optional(contextTag(0, false), 'keyIdentifier');
      seq.optional(contextTag(1, true), 'authorityCertIssuer');
      seq.optional(contextTag(2, false), 'authorityCertSerialNumber');
      seq.end();
    } else if (arc === 14) {
      const r = e.into(octets, 'subjectKeyIdentifier');
      r.expect(Tag.OCTET_STRING, 'keyIdentifier');
      r.end();
    } else continue;
    seen.add(arc);
  }
}

/** Returns what a parser threw as comparable data, or 'ok'. */
function outcome(
  parse: (der: Uint8Array) => unknown,
  der: Uint8Array,
): string | { code: string; offset: number; path: string; detail: string } {
  try {
    parse(der);
    return 'ok';
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { code: e.code, offset: e.offset, path: e.path, detail: e.detail };
  }
}

const roots = nodeRootCertificates();

describe('the certificate walk', () => {
  it('accepts every certificate in tls.rootCertificates, as the DerReader walk does', () => {
    for (const { source, der } of roots)
      expect({ source, got: outcome(parseCertificate, der) }).toEqual({ source, got: outcome(readerWalk, der) });
  });

  it('throws the DerReader walk’s error (code, offset, path, text) for every strict prefix of a certificate', () => {
    for (const { der } of [roots[1]!, roots[roots.length - 2]!]) {
      for (let n = 0; n < der.length; n++) {
        const cut = der.subarray(0, n);
        expect({ n, got: outcome(parseCertificate, cut) }).toEqual({ n, got: outcome(readerWalk, cut) });
      }
    }
  });

  it('throws the DerReader walk’s error, or accepts what it accepts, on seeded mutations', () => {
    const rng = new Rng(0xd3a1);
    // Octets that are tags, length forms and name specials: the edits most likely to reach a check.
    const interesting = [
      0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x17, 0x18, 0x1e, 0x1f, 0x20, 0x23, 0x2c, 0x30, 0x31, 0x7f,
      0x80, 0x81, 0x82, 0x84, 0x85, 0xa0, 0xa3, 0xff,
    ];
    let rejected = 0;
    for (let i = 0; i < 4000; i++) {
      const m = new Uint8Array(rng.pick(roots).der);
      for (let e = 1 + rng.int(3); e > 0; e--)
        m[rng.int(m.length)] = rng.bool() ? rng.pick(interesting) : rng.u32() & 0xff;
      const want = outcome(readerWalk, m);
      if (want !== 'ok') rejected++;
      expect({ i, got: outcome(parseCertificate, m) }).toEqual({ i, got: want });
    }
    // Both outcomes are exercised.
    expect(rejected).toBeGreaterThan(400);
    expect(rejected).toBeLessThan(3600);
  });
});

describe('parseCertificate on views', () => {
  it('reads the same fields from a Uint8Array, a Buffer, and a view at an odd offset of a larger buffer', () => {
    // Every field as text; a replacer that reads the holder, because a Buffer's own toJSON runs first.
    const text = (c: ReturnType<typeof parseCertificate>): string =>
      JSON.stringify(toPlainCertInfo(c), function (this: Record<string, unknown>, k: string, v: unknown) {
        const raw = this[k];
        return raw instanceof Uint8Array ? toHex(raw) : raw instanceof Date ? raw.toISOString() : v;
      });
    for (const { der } of roots.slice(0, 20)) {
      const big = new Uint8Array(der.length + 11);
      big.set(der, 7);
      const want = text(parseCertificate(new Uint8Array(der)));
      expect(text(parseCertificate(big.subarray(7, 7 + der.length)))).toBe(want);
      expect(text(parseCertificate(Buffer.from(der)))).toBe(want);
    }
  });
});

describe('readTlv', () => {
  it('returns the end of a short-form TLV that fits and rejects one octet too few, for every short length', () => {
    for (let len = 0; len < 0x80; len++) {
      const buf = new Uint8Array(2 + len);
      buf[0] = Tag.OCTET_STRING;
      buf[1] = len;
      expect(readTlv(buf, 0, buf.length, 'x', 'y')).toBe(2 + len);
      expect(contentStart(buf, 0)).toBe(2);
      expect(tlvEnd(buf, 0)).toBe(2 + len);
      if (len > 0) {
        expect(() => readTlv(buf, 0, buf.length - 1, 'x', 'y')).toThrow(
          expect.objectContaining({
            code: 'truncated',
            offset: 2,
            path: 'x/y',
            detail: `content needs ${len} bytes, ${len - 1} left`,
          }),
        );
      }
    }
  });

  it('reads long-form lengths and gives their content start and end', () => {
    const buf = tlv(Tag.OCTET_STRING, new Uint8Array(300));
    expect(toHex(buf.subarray(0, 4))).toBe('0482012c');
    expect(readTlv(buf, 0, buf.length, 'x', 'y')).toBe(304);
    expect(contentStart(buf, 0)).toBe(4);
    expect(tlvEnd(buf, 0)).toBe(304);
  });

  it('names the reader’s path and the field in its errors', () => {
    const r = new DerReader(Uint8Array.from([0x30, 0x02, 0x1f, 0x00])).enter('outer');
    expect(() => r.any('inner')).toThrow(
      expect.objectContaining({ code: 'bad-value', offset: 2, path: 'outer/inner' }),
    );
    expect(() => expectTlv(Uint8Array.from([0x02, 0x00]), 0, 2, Tag.SEQUENCE, 'a/b', 'c')).toThrow(
      expect.objectContaining({ code: 'bad-value', offset: 0, path: 'a/b/c', detail: 'expected tag 0x30, found 0x02' }),
    );
  });
});

describe('readTime', () => {
  /** Date.UTC, which maps years 0–99 to 19xx, corrected: the oracle for our own day count. */
  const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number): number => {
    const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    if (y < 100) date.setUTCFullYear(y);
    return date.getTime();
  };
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');

  it('agrees with Date.UTC on seeded GeneralizedTime and UTCTime values from year 0 to 9999', () => {
    const rng = new Rng(0x7173);
    for (let i = 0; i < 3000; i++) {
      const y = i < 1500 ? rng.int(10000) : 1950 + rng.int(100);
      const mo = 1 + rng.int(12);
      const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
      const d = 1 + rng.int(mo === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(mo) ? 30 : 31);
      const [h, mi, s] = [rng.int(24), rng.int(60), rng.int(60)];
      const rest = `${pad(mo, 2)}${pad(d, 2)}${pad(h, 2)}${pad(mi, 2)}${pad(s, 2)}Z`;
      const text = i < 1500 ? `${pad(y, 4)}${rest}` : `${pad(y % 100, 2)}${rest}`;
      const der = tlv(i < 1500 ? Tag.GeneralizedTime : Tag.UTCTime, Buffer.from(text, 'latin1'));
      expect({ text, ms: readTime(der, 0, der.length, 't', '').getTime() }).toEqual({
        text,
        ms: utc(y, mo, d, h, mi, s),
      });
    }
  });

  it('counts days like Date.UTC on every first of the month across four centuries and around year 0', () => {
    for (const y of [0, 1, 4, 99, 100, 1600, 1900, 1969, 1970, 2000, 2024, 2100, 9999]) {
      for (let mo = 1; mo <= 12; mo++)
        expect({ y, mo, days: daysFromCivil(y, mo, 1) }).toEqual({ y, mo, days: utc(y, mo, 1, 0, 0, 0) / 86_400_000 });
    }
  });
});

describe('oidToString', () => {
  it('returns the dotted form of every OID the oids.ts tables name (the known-OID table)', () => {
    expect(NAMED_OIDS.size).toBeGreaterThan(50);
    for (const dotted of NAMED_OIDS) expect(oidToString(oidBody(dotted))).toBe(dotted);
  });

  it('decodes seeded OIDs outside the table arc by arc', () => {
    const rng = new Rng(0x01d);
    for (let i = 0; i < 2000; i++) {
      const first = rng.int(3);
      const arcs = [first, first < 2 ? rng.int(40) : rng.int(1000)];
      for (let n = rng.int(8); n > 0; n--) arcs.push(rng.bool() ? rng.int(128) : rng.int(2 ** 31));
      const dotted = arcs.join('.');
      const body = oidBody(dotted);
      const buf = new Uint8Array(body.length + 4);
      buf.set(body, 2);
      expect(oidToString(buf, 2, 2 + body.length)).toBe(dotted);
    }
  });
});

/** One attribute of a generated Name: its type, the DER of its value, and what the decoders must say. */
interface ModelAtv {
  readonly oid: string;
  readonly der: Uint8Array;
  /** The text value, or null when the value is not a string (`#` + hex). */
  readonly text: string | null;
}

const NAME_TYPES = [
  '2.5.4.3',
  '2.5.4.10',
  '2.5.4.6',
  '2.5.4.99',
  '0.9.2342.19200300.100.1.25',
  '1.2.840.113549.1.9.1',
  '1.3.6.1.4.1.55555.7',
];
/** Characters RFC 4514 treats specially, printable ones, and controls. */
const ASCII_POOL = [
  'a',
  'Z',
  '0',
  ' ',
  ' ',
  '#',
  ',',
  '+',
  '"',
  '\\',
  ';',
  '<',
  '>',
  '=',
  '.',
  '-',
  '\x00',
  '\r',
  '\x7f',
];
const WIDE_POOL = ['é', 'ß', '中', 'Ω', '😀', 'a', ' ', ','];

function randomAtv(rng: Rng): ModelAtv {
  const oid = rng.pick(NAME_TYPES);
  const pick = (pool: readonly string[]): string => Array.from({ length: rng.int(8) }, () => rng.pick(pool)).join('');
  const kind = rng.int(7);
  if (kind === 0 || kind === 1) {
    // PrintableString / IA5String carrying ASCII (the decoders do not police the character set).
    const text = pick(ASCII_POOL);
    return { oid, der: tlv(kind === 0 ? Tag.PrintableString : Tag.IA5String, Buffer.from(text, 'latin1')), text };
  }
  if (kind === 2) {
    const text = pick(rng.bool() ? ASCII_POOL : WIDE_POOL);
    return { oid, der: tlv(Tag.UTF8String, Buffer.from(text, 'utf8')), text };
  }
  if (kind === 3) {
    // TeletexString read one character per octet, high octets included.
    const bytes = Uint8Array.from(
      Array.from({ length: rng.int(8) }, () => (rng.bool() ? 0x41 + rng.int(26) : 0x80 + rng.int(128))),
    );
    return { oid, der: tlv(Tag.TeletexString, bytes), text: Buffer.from(bytes).toString('latin1') };
  }
  if (kind === 4) {
    const text = pick(WIDE_POOL.filter((c) => c.length === 1));
    return { oid, der: tlv(Tag.BMPString, Buffer.from(text, 'utf16le').swap16()), text };
  }
  if (kind === 5) {
    const text = pick(WIDE_POOL);
    const cps = Array.from(text, (c) => c.codePointAt(0)!);
    const b = Buffer.alloc(cps.length * 4);
    cps.forEach((cp, i) => {
      b.writeUInt32BE(cp, i * 4);
    });
    return { oid, der: tlv(Tag.UniversalString, b), text };
  }
  return { oid, der: tlv(rng.bool() ? Tag.OCTET_STRING : Tag.INTEGER, rng.bytes(1 + rng.int(4))), text: null };
}

/** Returns `cert` with its subject Name replaced by `subject` (lengths re-encoded; the signature no longer verifies). */
function withSubject(cert: Uint8Array, subject: Uint8Array): Uint8Array {
  const top = new DerReader(cert).enter('Certificate');
  const tbsTlv = top.expect(Tag.SEQUENCE, 'tbs');
  // signatureAlgorithm and signatureValue, as they were.
  const rest = cert.subarray(tbsTlv.end);
  const tbs = new DerReader(cert, tbsTlv.valueStart, tbsTlv.end);
  const parts: Uint8Array[] = [];
  let index = 0;
  while (tbs.anyLeft) {
    const t = tbs.any('field');
    // Fields of a v3 TBSCertificate: [0] version, serial, signature, issuer, validity, subject (index 5), ...
    parts.push(index === 5 ? subject : cert.subarray(t.start, t.end));
    index++;
  }
  return tlv(Tag.SEQUENCE, tlv(Tag.SEQUENCE, ...parts), rest);
}

describe('subject and issuer text', () => {
  const base = roots.find(({ der }) => der[4 + 4] === contextTag(0, true))!.der;

  it('match the generated Name: parts, RFC 4514 text (formatRfc4514) and the pkijs reference', () => {
    const rng = new Rng(0x4514);
    for (let i = 0; i < 400; i++) {
      const model = Array.from({ length: rng.int(5) }, () =>
        Array.from({ length: 1 + (rng.int(4) === 0 ? rng.int(3) : 0) }, () => randomAtv(rng)),
      );
      const name = tlv(
        Tag.SEQUENCE,
        ...model.map((rdn) =>
          tlv(Tag.SET, ...rdn.map((a) => tlv(Tag.SEQUENCE, tlv(Tag.OBJECT_IDENTIFIER, oidBody(a.oid)), a.der))),
        ),
      );
      const der = withSubject(base, name);
      const members: RdnMember[][] = model.map((rdn) =>
        rdn.map((a) => ({
          part: { type: attributeTypeName(a.oid), oid: a.oid, value: a.text ?? `#${toHex(a.der)}` },
          hex: a.text === null,
        })),
      );
      const got = parseCertificate(der).subject;
      const want = { rfc4514: formatRfc4514(members), parts: members.flat().map((m) => m.part) };
      expect({ i, rfc4514: got.rfc4514, parts: got.parts }).toEqual({ i, ...want });
      expect(toHex(got.der)).toBe(toHex(name));
      // pkijs decodes these string types the same way except T.61 (checked on a third: pkijs is slow).
      if (i % 3 === 0 && model.flat().every((a) => a.der[0] !== Tag.TeletexString)) {
        const ref = parseCertificateReference(der).subject;
        expect({ i, rfc4514: got.rfc4514, parts: got.parts }).toEqual({ i, rfc4514: ref.rfc4514, parts: ref.parts });
      }
    }
  });
});
