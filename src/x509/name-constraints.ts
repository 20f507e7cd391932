/**
 * Name constraints (RFC 5280, Sections 4.2.1.10 and 6.1.4 (g), 6.1.3 (b)(c)): returns whether a
 * certificate's names fall inside a CA's permitted subtrees and outside its excluded ones, and
 * whether a NameConstraints value is itself well formed. Supports dNSName, iPAddress, rfc822Name and
 * directoryName; a constraint on any other form is honoured by rejecting a certificate that carries a
 * name of that form (Section 4.2.1.10: "MUST either process the constraint or reject"). Every
 * comparison is paid from a budget, so hostile constraint lists cannot make a check slow. Never throws.
 */
import type { GeneralName, NameConstraints, Rdn } from './extensions.js';
import { Tag } from './der-reader.js';

/**
 * Most name-versus-subtree comparisons for one path. Real CAs carry a few dozen subtrees and leaves
 * a few dozen names (≈10³ comparisons); x509-limbo's nc-dos cases multiply thousands of each. At
 * ~50 ns per comparison the cap keeps a hostile path under ~10 ms.
 */
export const MAX_NAME_CONSTRAINT_CHECKS = 1 << 17;

/** A shared countdown of comparisons. */
export interface ConstraintBudget {
  remaining: number;
}

/** The names of one certificate that constraints apply to. */
export interface ConstrainedNames {
  /** SubjectAltName entries (empty when the extension is absent). */
  readonly san: readonly GeneralName[];
  /** The subject's RDNs (empty for an empty subject). */
  readonly subject: readonly Rdn[];
  /** emailAddress attributes of the subject (RFC 5280, Section 4.2.1.10: they are rfc822Name constraints' business too). */
  readonly subjectEmails: readonly string[];
}

/** The outcome of checking names against one NameConstraints. */
export type ConstraintResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code:
        | 'name-constraints-violation'
        | 'name-constraints-unsupported-form'
        | 'name-constraints-too-complex';
      readonly detail: string;
    };

/** id-emailAddress (PKCS #9), the legacy e-mail attribute in subjects. */
export const OID_EMAIL_ADDRESS = '1.2.840.113549.1.9.1';

const FORM_NAME: Readonly<Record<number, string>> = {
  0: 'otherName',
  3: 'x400Address',
  5: 'ediPartyName',
  6: 'uniformResourceIdentifier',
  8: 'registeredID',
};

/**
 * Returns why `nc` is not a usable NameConstraints, or `null`: both lists absent (RFC 5280,
 * Section 4.2.1.10: "MUST NOT consist of an empty sequence"), minimum/maximum present (Section
 * 4.2.1.10: "MUST NOT be present"), a dNSName constraint with a wildcard or leading period (a DNS
 * constraint names a subtree, Section 4.2.1.10 defines no such forms), or an iPAddress constraint
 * that is not address + contiguous mask of 8 or 32 octets.
 */
export function constraintSyntaxError(nc: NameConstraints): string | null {
  if (nc.permitted === null && nc.excluded === null) return 'neither permittedSubtrees nor excludedSubtrees is present';
  if (nc.badBounds) return 'a GeneralSubtree has minimum or maximum, which RFC 5280 forbids';
  for (const base of [...(nc.permitted ?? []), ...(nc.excluded ?? [])]) {
    if (base.kind === 'dns') {
      if (base.value.includes('*')) return `dNSName constraint ${JSON.stringify(base.value)} has a wildcard`;
      if (base.value.startsWith('.')) return `dNSName constraint ${JSON.stringify(base.value)} starts with a period`;
    } else if (base.kind === 'ip') {
      if (base.bytes.length !== 8 && base.bytes.length !== 32)
        return `iPAddress constraint of ${base.bytes.length} octets (8 or 32: address and mask)`;
      if (!contiguousMask(base.bytes.subarray(base.bytes.length / 2)))
        return 'iPAddress constraint mask is not a contiguous prefix';
    }
  }
  return null;
}

function contiguousMask(mask: Uint8Array): boolean {
  let zero = false;
  for (const b of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = (b >> bit) & 1;
      if (zero && one) return false;
      if (!one) zero = true;
    }
  }
  return true;
}

/**
 * Checks `names` against `nc` (RFC 5280, Section 6.1.3 (b) and (c)): each name of a form that has
 * permitted subtrees must be inside one of them, no name may be inside an excluded subtree, and a
 * name of a form we do not process fails when that form is constrained. A wildcard dNSName is
 * inside a permitted subtree only when every name it can stand for is, and is excluded when any
 * name it can stand for is (the CVE-2025-61727 class of bypass).
 */
export function checkNameConstraints(
  names: ConstrainedNames,
  nc: NameConstraints,
  budget: ConstraintBudget,
): ConstraintResult {
  const all: GeneralName[] = [...names.san];
  if (names.subject.length > 0) all.push({ kind: 'dn', rdns: names.subject });
  for (const e of names.subjectEmails) all.push({ kind: 'email', value: e });
  const forms = subtreesByForm(nc);
  // Pay for every comparison up front, so a hostile product of names and subtrees costs nothing.
  let cost = 0;
  for (const name of all) {
    const f = forms.get(formOf(name));
    if (f) cost += f.permitted.length + f.excluded.length;
  }
  budget.remaining -= cost;
  if (budget.remaining < 0)
    return {
      ok: false,
      code: 'name-constraints-too-complex',
      detail: `more than ${MAX_NAME_CONSTRAINT_CHECKS} name-constraint comparisons`,
    };
  for (const name of all) {
    const f = forms.get(formOf(name));
    if (!f) continue;
    if (name.kind === 'other' || name.kind === 'uri') {
      return {
        ok: false,
        code: 'name-constraints-unsupported-form',
        detail: `a ${FORM_NAME[name.kind === 'uri' ? 6 : name.tag] ?? 'GeneralName'} is constrained, and tlsprobe does not process that form`,
      };
    }
    const n = name.kind === 'dns' ? { kind: 'dns' as const, value: normalizeDns(name.value) } : name;
    for (const base of f.excluded) {
      if (within(n, base, 'excluded'))
        return {
          ok: false,
          code: 'name-constraints-violation',
          detail: `${describe(name)} is in the excluded subtree ${describe(base)}`,
        };
    }
    if (f.permitted.length > 0 && !f.permitted.some((base) => within(n, base, 'permitted'))) {
      return {
        ok: false,
        code: 'name-constraints-violation',
        detail: `${describe(name)} is outside every permitted ${formOf(name)} subtree`,
      };
    }
  }
  return { ok: true };
}

/** The subtrees of one name form, dNSName bases already lowercased without a trailing dot. */
interface FormSubtrees {
  readonly permitted: GeneralName[];
  readonly excluded: GeneralName[];
}

function subtreesByForm(nc: NameConstraints): Map<string, FormSubtrees> {
  const out = new Map<string, FormSubtrees>();
  const put = (list: readonly GeneralName[] | null, which: 'permitted' | 'excluded'): void => {
    for (const b of list ?? []) {
      const form = formOf(b);
      let f = out.get(form);
      if (!f) {
        f = { permitted: [], excluded: [] };
        out.set(form, f);
      }
      f[which].push(b.kind === 'dns' ? { kind: 'dns', value: normalizeDns(b.value) } : b);
    }
  };
  put(nc.permitted, 'permitted');
  put(nc.excluded, 'excluded');
  return out;
}

function normalizeDns(s: string): string {
  const l = s.toLowerCase();
  return l.endsWith('.') ? l.slice(0, -1) : l;
}

function formOf(n: GeneralName): string {
  return n.kind === 'other' ? `other-${n.tag}` : n.kind;
}

/** Returns the name as people read it. */
export function describe(n: GeneralName): string {
  switch (n.kind) {
    case 'dns':
      return `DNS:${n.value}`;
    case 'email':
      return `email:${n.value}`;
    case 'uri':
      return `URI:${n.value}`;
    case 'ip':
      return `IP:${[...n.bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
    case 'dn':
      return `DirName(${n.rdns.length} RDNs)`;
    default:
      return FORM_NAME[n.tag] ?? `[${n.tag}]`;
  }
}

/** True when `name` is inside the subtree `base` (for a wildcard, `mode` says which reading). */
function within(name: GeneralName, base: GeneralName, mode: 'permitted' | 'excluded'): boolean {
  if (name.kind === 'dns' && base.kind === 'dns') return dnsWithin(name.value, base.value, mode);
  if (name.kind === 'ip' && base.kind === 'ip') return ipWithin(name.bytes, base.bytes);
  if (name.kind === 'email' && base.kind === 'email') return emailWithin(name.value, base.value);
  if (name.kind === 'dn' && base.kind === 'dn') return dnWithin(name.rdns, base.rdns);
  return false;
}

/**
 * dNSName subtrees (Section 4.2.1.10): "any DNS name that can be constructed by simply adding zero
 * or more labels to the left-hand side of the name satisfies the name constraint". The empty
 * constraint is every name.
 */
function dnsWithin(n: string, c: string, mode: 'permitted' | 'excluded'): boolean {
  // Both already normalized (lowercase, no trailing dot).
  if (c === '') return true;
  const inside = (x: string): boolean => x === c || x.endsWith(`.${c}`);
  if (n.startsWith('*.')) {
    const base = n.slice(2);
    // Every `label.base` is inside when base is; some `label.base` is inside when c is below base.
    return inside(base) || (mode === 'excluded' && c.endsWith(`.${base}`));
  }
  return inside(n);
}

/** iPAddress subtrees: address and mask of the same family (Section 4.2.1.10). */
function ipWithin(ip: Uint8Array, base: Uint8Array): boolean {
  const n = base.length / 2;
  if (ip.length !== n) return false;
  for (let i = 0; i < n; i++) if ((ip[i]! & base[n + i]!) !== (base[i]! & base[n + i]!)) return false;
  return true;
}

/**
 * rfc822Name subtrees (Section 4.2.1.10): a full mailbox matches exactly, a host matches mailboxes
 * on that host, a leading period matches mailboxes on hosts below it.
 */
function emailWithin(mailbox: string, constraint: string): boolean {
  const at = mailbox.lastIndexOf('@');
  if (at < 0) return false;
  const host = mailbox.slice(at + 1).toLowerCase();
  const c = constraint.toLowerCase();
  if (c.includes('@'))
    return (
      mailbox.slice(0, at) === constraint.slice(0, constraint.lastIndexOf('@')) &&
      host === c.slice(c.lastIndexOf('@') + 1)
    );
  if (c.startsWith('.')) return host.endsWith(c);
  return host === c;
}

/** directoryName subtrees: the constraint's RDNs are the first RDNs of the name (Section 4.2.1.10, 7.1). */
function dnWithin(name: readonly Rdn[], base: readonly Rdn[]): boolean {
  if (base.length > name.length) return false;
  return base.every((rdn, i) => sameRdn(rdn, name[i]!));
}

const STRING_TAGS = new Set<number>([
  Tag.UTF8String,
  Tag.PrintableString,
  Tag.IA5String,
  Tag.TeletexString,
  Tag.VisibleString,
  Tag.BMPString,
  Tag.UniversalString,
]);

function sameRdn(a: Rdn, b: Rdn): boolean {
  if (a.length !== b.length) return false;
  return a.every((x) =>
    b.some((y) => {
      if (x.oid !== y.oid) return false;
      if (x.tag === y.tag && Buffer.compare(x.value, y.value) === 0) return true;
      // RFC 5280, Section 7.1: caseless match after insignificant-space handling for directory strings.
      return STRING_TAGS.has(x.tag) && STRING_TAGS.has(y.tag) && fold(x.value, x.tag) === fold(y.value, y.tag);
    }),
  );
}

function fold(v: Uint8Array, tag: number): string {
  const s =
    tag === Tag.BMPString && v.length % 2 === 0
      ? Buffer.from(v).swap16().toString('utf16le')
      : Buffer.from(v).toString(tag === Tag.UTF8String ? 'utf8' : 'latin1');
  return s.trim().replace(/\s+/g, ' ').toLowerCase();
}
