/**
 * Reference ClientHellos and fingerprints from ../shared/corpus/client-hellos, as the compared
 * fields of client-profiles/compare.ts: raw testssl.sh hellos, cisco/joy `str_repr`s,
 * LeeBrotherston field lists and rgl/tls-dump-clienthello summaries. A field a source does not
 * record is left out. Throws when a reference id is not in the corpus or not unique.
 */
import {
  helloFields,
  normaliseGrease,
  offeredVersions,
  type HelloFields,
} from '../../src/diagnose/client-profiles/compare.js';
import type { ProfileReference } from '../../src/diagnose/client-profiles/types.js';
import { parseClientHello } from '../../src/tls/client-hello.js';
import { hasCorpusFile, readCorpusJson } from './corpus.js';

export const TESTSSL_FILE = 'client-hellos/testssl-client-simulation.json';
export const WINDOWS_FILE = 'client-hellos/windows/schannel-fingerprints-structured.json';
export const hasReferences = hasCorpusFile(TESTSSL_FILE) && hasCorpusFile(WINDOWS_FILE);

interface TestsslClient {
  names: string;
  handshakebytes: string;
}
interface Fingerprint {
  source_repo: string;
  client: string;
  ja3?: string;
  joy_md5_repr?: string;
  str_repr?: string;
  fields?: Record<string, string | null>;
  parsed_output?: string;
}

const hexList = (s: string | null | undefined): number[] =>
  s
    ? s
        .trim()
        .split(/\s+/)
        .map((h) => Number.parseInt(h, 16))
    : [];

/** joy: "(0303)(c02c…)((0000)(000a0008 0006 001d…)…)": client version, suites, extensions with some bodies. */
function joyFields(repr: string): HelloFields {
  const m = /^\(([0-9a-f]{4})\)\(([0-9a-f]*)\)\((.*)\)$/.exec(repr);
  if (!m) throw new Error(`unreadable joy str_repr ${repr.slice(0, 40)}`);
  const legacyVersion = Number.parseInt(m[1]!, 16);
  const cipherSuites = (m[2]!.match(/.{4}/g) ?? []).map((h) => Number.parseInt(h, 16));
  const exts = [...m[3]!.matchAll(/\(([0-9a-f]*)\)/g)].map((x) => x[1]!);
  const f: HelloFields = {
    legacyVersion,
    cipherSuites: normaliseGrease(cipherSuites),
    extensions: [],
    groups: [],
    pointFormats: [],
    signatureSchemes: [],
  };
  let sv: number[] | null = null;
  for (const e of exts) {
    const type = Number.parseInt(e.slice(0, 4), 16);
    f.extensions!.push(type);
    const body = e.slice(8);
    const u16s = (s: string) => (s.match(/.{4}/g) ?? []).map((h) => Number.parseInt(h, 16));
    if (type === 0x000a) f.groups = normaliseGrease(u16s(body.slice(4)));
    if (type === 0x000d) f.signatureSchemes = u16s(body.slice(4));
    if (type === 0x000b) f.pointFormats = (body.slice(2).match(/.{2}/g) ?? []).map((h) => Number.parseInt(h, 16));
    if (type === 0x002b) sv = u16s(body.slice(2));
  }
  f.extensions = normaliseGrease(f.extensions!);
  f.versions = offeredVersions(legacyVersion, sv);
  return f;
}

function leeFields(fields: Record<string, string | null>): HelloFields {
  const legacyVersion = Number.parseInt(fields.tls_version!, 16);
  return {
    recordVersion: Number.parseInt(fields.record_tls_version!, 16),
    legacyVersion,
    versions: offeredVersions(legacyVersion, null),
    cipherSuites: normaliseGrease(hexList(fields.ciphersuite)),
    extensions: normaliseGrease(hexList(fields.extensions)),
    groups: normaliseGrease(hexList(fields.e_curves)),
    signatureSchemes: hexList(fields.sig_alg),
    pointFormats: hexList(fields.ec_point_fmt),
  };
}

const VERSION_NAMES: Record<string, number> = {
  'TLSv1.3': 0x0304,
  'TLSv1.2': 0x0303,
  'TLSv1.1': 0x0302,
  'TLSv1.0': 0x0301,
};
const CURVE_IDS = /client curve: .*\((\d+)\)/g;

/** rgl: Go's ClientHelloInfo as text: versions (supported_versions, or extrapolated), suites, curves, points. */
function rglFields(text: string): HelloFields {
  return {
    versions: [...text.matchAll(/client version: (\S+)/g)].map((m) => VERSION_NAMES[m[1]!]!),
    cipherSuites: [...text.matchAll(/client cipher suite: .*\(0x([0-9a-f]{4})\)/g)].map((m) =>
      Number.parseInt(m[1]!, 16),
    ),
    groups: [...text.matchAll(CURVE_IDS)].map((m) => Number(m[1])),
    pointFormats: [...text.matchAll(/client point: .*\((\d+)\)/g)].map((m) => Number(m[1])),
  };
}

let testssl: TestsslClient[] | null = null;
let fingerprints: Fingerprint[] | null = null;

function one<T>(xs: T[], what: string): T {
  if (xs.length !== 1) throw new Error(`${what}: ${xs.length} matches in the corpus`);
  return xs[0]!;
}

/** Returns the fields `ref` records. */
export function referenceFields(ref: ProfileReference): HelloFields {
  if (ref.kind === 'testssl') {
    testssl ??= readCorpusJson<{ clients: TestsslClient[] }>(TESTSSL_FILE).clients;
    const c = one(
      testssl.filter((x) => x.names === ref.id),
      `testssl ${ref.id}`,
    );
    const bytes = Buffer.from(c.handshakebytes, 'hex');
    return helloFields(parseClientHello(bytes.subarray(5)), bytes.readUInt16BE(1));
  }
  fingerprints ??= readCorpusJson<Fingerprint[]>(WINDOWS_FILE);
  if (ref.kind === 'joy')
    return joyFields(
      one(
        fingerprints.filter((x) => x.joy_md5_repr === ref.id),
        `joy ${ref.id}`,
      ).str_repr!,
    );
  if (ref.kind === 'lee')
    return leeFields(
      one(
        fingerprints.filter((x) => x.source_repo.startsWith('LeeBrotherston') && x.ja3 === ref.id),
        `lee ${ref.id}`,
      ).fields!,
    );
  return rglFields(
    one(
      fingerprints.filter((x) => x.source_repo.startsWith('rgl/') && x.client === ref.id),
      `rgl ${ref.id}`,
    ).parsed_output!,
  );
}
