/**
 * The reference certificate decoder: returns a `CertInfo` built with pkijs/asn1js, and throws
 * `DecodeError` when they cannot read the bytes as one certificate.
 *
 * This is the only file that imports pkijs or asn1js (STYLE: wall off heavy dependencies). PKI.js
 * signals errors in mixed ways (`offset === -1` sentinels, thrown `Error`s, `parsingError` fields on
 * extensions); they all become `DecodeError` here. It is slow and allocates freely: it exists so the
 * tests can compare the fast path (`der.ts`) with an independent decoder on every certificate.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { DecodeError } from '../wire/errors.js';
import { toHex } from '../wire/hex.js';
import { formatRfc4514, type RdnMember } from './dn.js';
import { formatIp } from '../wire/ip.js';
import {
  EdKeyBits,
  ExtensionOid,
  KEY_USAGE_BITS,
  KeyAlgorithm,
  NamedCurve,
  attributeTypeName,
  signatureAlgorithmName,
} from './oids.js';
import { thumbprint } from './thumbprint.js';
import type { BasicConstraints, CertInfo, DistinguishedName, KeyType, SubjectAltNames } from './types.js';

/** Nesting limit handed to asn1js; same reasoning as `MAX_DER_DEPTH` in der-reader.ts. */
const ASN1JS_MAX_DEPTH = 32;

/**
 * Returns the facts of the DER certificate `der`, decoded by pkijs. Throws `DecodeError` when the
 * bytes are not one certificate, when bytes follow it, or when one of the extensions we report is
 * malformed (pkijs's `parsingError`).
 */
export function parseCertificateReference(der: Uint8Array): CertInfo {
  const asn1 = asn1js.fromBER(der, { maxDepth: ASN1JS_MAX_DEPTH });
  if (asn1.offset === -1 || asn1.result.error) fail(`asn1js: ${asn1.result.error || 'cannot decode'}`);
  if (asn1.offset !== der.length)
    throw new DecodeError(
      'trailing-data',
      `${der.length - asn1.offset} bytes after the certificate`,
      asn1.offset,
      'Certificate',
    );
  let cert: pkijs.Certificate;
  try {
    cert = new pkijs.Certificate({ schema: asn1.result });
  } catch (e) {
    fail(`pkijs: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return convert(der, asn1.result, cert);
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    fail(`pkijs: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function fail(message: string): never {
  throw new DecodeError('bad-value', message, 0, 'Certificate');
}

function view(block: { valueBeforeDecodeView: Uint8Array }): Uint8Array {
  return block.valueBeforeDecodeView;
}

function convert(der: Uint8Array, root: asn1js.AsnType, cert: pkijs.Certificate): CertInfo {
  // The TBSCertificate children, to get the exact DER of names and SubjectPublicKeyInfo.
  const tbsBlock = (root as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
  const children = tbsBlock.valueBlock.value;
  const first = children[0]!;
  const skip = first.idBlock.tagClass === 3 && first.idBlock.tagNumber === 0 ? 1 : 0;
  const issuerBlock = children[skip + 2] as asn1js.Sequence;
  const subjectBlock = children[skip + 4] as asn1js.Sequence;
  const spkiBlock = children[skip + 5]!;

  const subject = decodeName(subjectBlock);
  const issuer = decodeName(issuerBlock);

  const serialBytes = cert.serialNumber.valueBlock.valueHexView;
  const serialNumber = toHex(serialBytes.length > 1 && serialBytes[0] === 0 ? serialBytes.subarray(1) : serialBytes);

  const keyAlgorithmOid = cert.subjectPublicKeyInfo.algorithm.algorithmId;
  const keyType: KeyType = KeyAlgorithm[keyAlgorithmOid] ?? 'unknown';
  const { bits: keyBits, curve } = keySize(keyType, cert.subjectPublicKeyInfo);

  const sigAlg = cert.signatureAlgorithm;
  const sigParams = sigAlg.algorithmParams as asn1js.BaseBlock | undefined;
  const signatureValue = cert.signatureValue;
  if (signatureValue.valueBlock.unusedBits !== 0) fail('signature BIT STRING has unused bits');

  let san: SubjectAltNames = { dns: [], ip: [], email: [], uri: [] };
  let keyUsage: string[] | null = null;
  let basicConstraints: BasicConstraints | null = null;
  let authorityKeyId: string | null = null;
  let subjectKeyId: string | null = null;
  const seen = new Set<string>();
  for (const ext of cert.extensions ?? []) {
    // RFC 5280, Section 4.2: one instance per extension; like der.ts we report the first.
    if (seen.has(ext.extnID)) continue;
    seen.add(ext.extnID);
    const parsed: unknown = ext.parsedValue;
    const bad = (): never => fail(`malformed extension ${ext.extnID}`);
    switch (ext.extnID) {
      case ExtensionOid.subjectAltName: {
        if (!(parsed instanceof pkijs.AltName) || (parsed as { parsingError?: string }).parsingError) bad();
        san = convertSan((parsed as pkijs.AltName).altNames);
        break;
      }
      case ExtensionOid.keyUsage: {
        if (!(parsed instanceof asn1js.BitString)) bad();
        const bits = parsed as asn1js.BitString;
        keyUsage = keyUsageNames(bits.valueBlock.valueHexView, bits.valueBlock.unusedBits);
        break;
      }
      case ExtensionOid.basicConstraints: {
        if (!(parsed instanceof pkijs.BasicConstraints) || (parsed as { parsingError?: string }).parsingError) bad();
        const bc = parsed as pkijs.BasicConstraints;
        const pl = bc.pathLenConstraint;
        basicConstraints = {
          ca: bc.cA === true,
          pathLen: typeof pl === 'number' ? pl : pl === undefined ? null : bad(),
        };
        break;
      }
      case ExtensionOid.authorityKeyIdentifier: {
        if (!(parsed instanceof pkijs.AuthorityKeyIdentifier) || (parsed as { parsingError?: string }).parsingError)
          bad();
        const id = (parsed as pkijs.AuthorityKeyIdentifier).keyIdentifier;
        authorityKeyId = id ? toHex(id.valueBlock.valueHexView) : null;
        break;
      }
      case ExtensionOid.subjectKeyIdentifier: {
        if (!(parsed instanceof asn1js.OctetString)) bad();
        subjectKeyId = toHex((parsed as asn1js.OctetString).valueBlock.valueHexView);
        break;
      }
    }
  }

  return {
    der,
    sha1: thumbprint(der, 'sha1'),
    sha256: thumbprint(der, 'sha256'),
    version: cert.version + 1,
    subject,
    issuer,
    serialNumber,
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    keyType,
    keyAlgorithmOid,
    keyBits,
    curve,
    signatureAlgorithm: signatureAlgorithmName(sigAlg.algorithmId),
    signatureAlgorithmOid: sigAlg.algorithmId,
    signatureAlgorithmParams: sigParams ? view(sigParams) : null,
    san,
    keyUsage,
    basicConstraints,
    authorityKeyId,
    subjectKeyId,
    spki: view(spkiBlock),
    tbs: cert.tbsView,
    signatureValue: signatureValue.valueBlock.valueHexView,
    selfIssued: toHex(view(subjectBlock)) === toHex(view(issuerBlock)),
  };
}

export function decodeName(seq: asn1js.Sequence): DistinguishedName {
  const rdns: RdnMember[][] = [];
  for (const set of seq.valueBlock.value) {
    if (!(set instanceof asn1js.Set)) fail('RDN is not a SET');
    const members: RdnMember[] = [];
    for (const atv of set.valueBlock.value) {
      const [type, value] = (atv as asn1js.Sequence).valueBlock.value;
      if (!(type instanceof asn1js.ObjectIdentifier) || !value) fail('AttributeTypeAndValue is not { OID, value }');
      const oid = type.getValue();
      const text = value instanceof asn1js.BaseStringBlock ? value.getValue() : null;
      members.push({
        part: { type: attributeTypeName(oid), oid, value: text === null ? `#${toHex(view(value))}` : text },
        hex: text === null,
      });
    }
    if (members.length === 0) fail('empty RDN');
    rdns.push(members);
  }
  return { rfc4514: formatRfc4514(rdns), parts: rdns.flat().map((m) => m.part), der: view(seq) };
}

function convertSan(names: readonly pkijs.GeneralName[]): SubjectAltNames {
  const dns: string[] = [];
  const ip: string[] = [];
  const email: string[] = [];
  const uri: string[] = [];
  for (const n of names) {
    switch (n.type) {
      case 1:
        email.push(String(n.value));
        break;
      case 2:
        dns.push(String(n.value));
        break;
      case 6:
        uri.push(String(n.value));
        break;
      case 7:
        ip.push(formatIp((n.value as asn1js.OctetString).valueBlock.valueHexView));
        break;
    }
  }
  return { dns, ip, email, uri };
}

function keyUsageNames(bits: Uint8Array, unused: number): string[] {
  const out: string[] = [];
  const n = bits.length * 8 - unused;
  for (let i = 0; i < n && i < KEY_USAGE_BITS.length; i++)
    if (bits[i >> 3]! & (0x80 >> (i & 7))) out.push(KEY_USAGE_BITS[i]!);
  return out;
}

function integerBits(i: asn1js.Integer): number {
  const b = i.valueBlock.valueHexView;
  let k = 0;
  while (k < b.length && b[k] === 0) k++;
  return k === b.length ? 0 : (b.length - k - 1) * 8 + (32 - Math.clz32(b[k]!));
}

function keySize(type: KeyType, spki: pkijs.PublicKeyInfo): { bits: number | null; curve: string | null } {
  const params = spki.algorithm.algorithmParams as asn1js.AsnType | undefined;
  const point = spki.subjectPublicKey.valueBlock.valueHexView;
  switch (type) {
    case 'RSA':
    case 'RSA-PSS': {
      const key = spki.parsedKey;
      return { bits: key instanceof pkijs.RSAPublicKey ? integerBits(key.modulus) : null, curve: null };
    }
    case 'DSA': {
      const p = params instanceof asn1js.Sequence ? params.valueBlock.value[0] : undefined;
      return { bits: p instanceof asn1js.Integer ? integerBits(p) : null, curve: null };
    }
    case 'EC': {
      const pointBits =
        point[0] === 0x04
          ? ((point.length - 1) / 2) * 8
          : point[0] === 0x02 || point[0] === 0x03
            ? (point.length - 1) * 8
            : null;
      if (params instanceof asn1js.ObjectIdentifier) {
        const oid = params.getValue();
        const named = NamedCurve[oid];
        return named ? { bits: named.bits, curve: named.name } : { bits: pointBits, curve: oid };
      }
      if (params instanceof asn1js.Sequence) return { bits: pointBits, curve: 'explicit' };
      return { bits: null, curve: null };
    }
    case 'Ed25519':
    case 'Ed448':
      return { bits: EdKeyBits[type], curve: type };
    default:
      return { bits: null, curve: null };
  }
}

/** What pkijs's `CertificateChainValidationEngine` concluded about one chain. */
export interface ReferenceChainVerdict {
  readonly valid: boolean;
  /** pkijs's `resultMessage` when the chain is rejected, `''` otherwise. */
  readonly message: string;
}

/**
 * Returns pkijs's `CertificateChainValidationEngine` verdict on `leaf` with `intermediates` against
 * `trusted` at `at` (WebCrypto signatures, pkijs's own path building and RFC 5280 checks; it has no
 * name check). Never throws: decoding or engine errors are a rejection with their message. Used to
 * measure the engine against the x509-limbo suite (bench/limbo-pkijs.mjs), not on any verdict path.
 */
export async function validateChainReference(
  leaf: Uint8Array,
  intermediates: readonly Uint8Array[],
  trusted: readonly Uint8Array[],
  at: Date,
): Promise<ReferenceChainVerdict> {
  try {
    const load = (der: Uint8Array): pkijs.Certificate => pkijs.Certificate.fromBER(der);
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts: trusted.map(load),
      certs: [load(leaf), ...intermediates.map(load)],
      checkDate: at,
    });
    const r = await engine.verify();
    return { valid: r.result, message: r.result ? '' : r.resultMessage };
  } catch (e) {
    const m =
      e instanceof Error
        ? e.message
        : typeof e === 'object' && e && 'resultMessage' in e
          ? String((e as { resultMessage: unknown }).resultMessage)
          : String(e);
    return { valid: false, message: m };
  }
}
