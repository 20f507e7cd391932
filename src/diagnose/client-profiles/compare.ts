/**
 * Field-by-field comparison of a ClientHello with a reference: `helloFields` returns the compared
 * fields of a parsed hello, `diffHelloFields` the differences between two field sets over the fields
 * the reference records. GREASE values (RFC 8701) are random per connection, so both sides name
 * every GREASE value 0x0a0a. Never throws.
 */
import type { ClientHello } from '../../tls/client-hello.js';
import { findExtension } from '../../tls/extensions.js';
import { isGrease } from '../../tls/grease.js';
import { ProtocolVersion as PV } from '../../tls/registry.js';
import { HELLO_FIELDS, type HelloField, type ListHelloField, type ScalarHelloField } from './types.js';

/** The compared fields of one hello; a field left out is one the source does not record. */
export type HelloFields = { -readonly [F in ScalarHelloField]?: number } & {
  -readonly [F in ListHelloField]?: number[];
};

/** A difference as computed (the data adds `because`). */
export type ComputedDifference =
  | {
      readonly field: ListHelloField;
      readonly added: number[];
      readonly removed: number[];
      readonly reordered: boolean;
    }
  | { readonly field: ScalarHelloField; readonly ours: number; readonly reference: number };

/** The placeholder every GREASE value becomes before comparing. */
export const GREASE_PLACEHOLDER = 0x0a0a;

/** Returns `xs` with each GREASE value replaced by `GREASE_PLACEHOLDER`. */
export function normaliseGrease(xs: readonly number[]): number[] {
  return xs.map((x) => (isGrease(x) ? GREASE_PLACEHOLDER : x));
}

/**
 * Returns the versions a hello offers, highest first: supported_versions without GREASE when sent
 * (RFC 8446, Section 4.2.1), else every version from `legacy_version` down to TLS 1.0 (as a TLS 1.2
 * server reads a hello without the extension, and as Go's ClientHelloInfo reports it).
 */
export function offeredVersions(legacyVersion: number, supportedVersions: readonly number[] | null): number[] {
  if (supportedVersions !== null) return supportedVersions.filter((v) => !isGrease(v));
  const out: number[] = [];
  for (let v = legacyVersion; v >= PV.TLS1_0; v--) out.push(v);
  return out.length ? out : [legacyVersion];
}

/** Returns every compared field of `hello`, sent in a record whose version is `recordVersion`. */
export function helloFields(hello: ClientHello, recordVersion: number): HelloFields {
  const exts = hello.extensions ?? [];
  const sv = findExtension(exts, 'supported_versions');
  return {
    recordVersion,
    legacyVersion: hello.legacyVersion,
    versions: offeredVersions(hello.legacyVersion, sv ? sv.versions : null),
    cipherSuites: normaliseGrease(hello.cipherSuites),
    extensions: normaliseGrease(exts.map((e) => e.type)),
    groups: normaliseGrease(findExtension(exts, 'supported_groups')?.groups ?? []),
    signatureSchemes: [...(findExtension(exts, 'signature_algorithms')?.schemes ?? [])],
    pointFormats: [...(findExtension(exts, 'ec_point_formats')?.formats ?? [])],
  };
}

function diffList(field: ListHelloField, ours: readonly number[], ref: readonly number[]): ComputedDifference | null {
  const added = ours.filter((x) => !ref.includes(x));
  const removed = ref.filter((x) => !ours.includes(x));
  const commonOurs = ours.filter((x) => ref.includes(x));
  const commonRef = ref.filter((x) => ours.includes(x));
  const reordered = commonOurs.some((x, i) => x !== commonRef[i]);
  if (!added.length && !removed.length && !reordered) return null;
  return { field, added, removed, reordered };
}

/**
 * Returns how `ours` differs from `reference`, field by field in `HELLO_FIELDS` order, over the
 * fields `reference` records (a field `ours` lacks counts as empty).
 */
export function diffHelloFields(ours: HelloFields, reference: HelloFields): ComputedDifference[] {
  const out: ComputedDifference[] = [];
  for (const field of HELLO_FIELDS) {
    if (field === 'recordVersion' || field === 'legacyVersion') {
      const r = reference[field];
      const o = ours[field];
      if (r !== undefined && o !== undefined && r !== o) out.push({ field, ours: o, reference: r });
      continue;
    }
    const r = reference[field];
    if (r === undefined) continue;
    const d = diffList(field, ours[field] ?? [], r);
    if (d) out.push(d);
  }
  return out;
}

/** Returns the fields `reference` does not record. */
export function unrecordedFields(reference: HelloFields): HelloField[] {
  return HELLO_FIELDS.filter((f) => reference[f] === undefined);
}
