/**
 * Lab PKI: returns a freshly generated root → intermediate → leaf chain (DER, PEM, private keys).
 *
 * This is the only file under `src/lab/` that imports pkijs/asn1js (STYLE §5.12: heavy dependencies
 * stay behind one wall). Keys come from WebCrypto (`node:crypto` `webcrypto`), certificates are
 * built and signed with pkijs using a local crypto engine (no global `setEngine`, so importing this
 * module has no side effect). Everything stays in memory.
 *
 * The certificates look like a real public chain, so the lab exercises the same code paths as the
 * Internet: RFC 5280 v3 certificates with positive random 128-bit serials, SHA-256 signatures,
 * backdated notBefore, subject/authority key identifiers, a CA root, a path-length-0 issuing CA
 * with an EKU, and a leaf for `localhost` with the SAN entries a client checks (RFC 6125).
 */
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/** Key type for every certificate of the lab chain. */
export type LabKeyAlgorithm = 'rsa-2048' | 'ecdsa-p256';

/** Position of a certificate in the lab chain. */
export type LabCertRole = 'root' | 'intermediate' | 'leaf';

/** One certificate of the lab chain with its private key. */
export interface LabCertificate {
  readonly role: LabCertRole;
  /** RFC 4514-style subject, most significant RDN first as printed by tools (`C=US, O=…, CN=…`). */
  readonly subject: string;
  readonly issuer: string;
  /** Serial number as lowercase hex (as `openssl x509 -serial` prints it, lowercased). */
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-1 of the subjectPublicKey bits (RFC 5280, Section 4.2.1.2, method 1), lowercase hex. */
  readonly subjectKeyIdHex: string;
  readonly der: Uint8Array;
  readonly pem: string;
  /** PKCS#8 private key, PEM (`-----BEGIN PRIVATE KEY-----`). */
  readonly keyPem: string;
}

/** The lab chain. */
export interface LabPki {
  readonly keyAlgorithm: LabKeyAlgorithm;
  readonly root: LabCertificate;
  readonly intermediate: LabCertificate;
  readonly leaf: LabCertificate;
  /** What a server sends: leaf then intermediate, PEM (RFC 8446, Section 4.4.2: sender's cert first). */
  readonly chainPem: string;
}

export interface LabPkiOptions {
  /** Default 'rsa-2048': like most public chains, and usable by TLS 1.0 RSA key exchange suites. */
  readonly keyAlgorithm?: LabKeyAlgorithm;
  /** Clock for validity periods (default: now). */
  readonly now?: Date;
  /**
   * Base URL (`http://127.0.0.1:PORT/PREFIX`) of a revocation responder: the intermediate and the
   * leaf then carry a CRL distribution point and an AIA OCSP URL under it (`LAB_REVOCATION_PATHS`).
   */
  readonly revocationBaseUrl?: string;
}

/** Paths under `revocationBaseUrl`: the root's CRL (covers the intermediate), the issuing CA's CRL (covers the leaf), the OCSP responder. */
export const LAB_REVOCATION_PATHS = { rootCrl: '/root.crl', issuingCrl: '/issuing.crl', ocsp: '/ocsp' } as const;

/** Names of the lab, realistic in shape (C, O, CN) so name printing and matching are exercised. */
export const LAB_NAMES = {
  root: 'tlsprobe Lab Root CA',
  intermediate: 'tlsprobe Lab Issuing CA 1',
  leaf: 'localhost',
  organization: 'tlsprobe Lab',
  country: 'US',
} as const;

/** Leaf subjectAltName entries (RFC 5280, Section 4.2.1.6): what loopback clients connect to. */
export const LAB_LEAF_DNS_NAMES: readonly string[] = ['localhost'];
export const LAB_LEAF_IP_ADDRESSES: readonly string[] = ['127.0.0.1', '::1'];

/**
 * Validity periods, shaped like a public PKI: long-lived root, shorter issuing CA, 90-day leaf
 * (the ACME norm). notBefore is backdated an hour, as CAs do, to tolerate client clock skew.
 */
const BACKDATE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const VALIDITY_DAYS: Readonly<Record<LabCertRole, number>> = { root: 20 * 365, intermediate: 5 * 365, leaf: 90 };

/** Serial length: 16 random bytes, above the CA/B Forum's 64-bit entropy floor and within RFC 5280's 20-octet limit. */
const SERIAL_BYTES = 16;

// OIDs (RFC 5280, Section 4.2.1 and A.2; RFC 4519 for attribute types).
const OID = {
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  cRLDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  adOcsp: '1.3.6.1.5.5.7.48.1',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

// KeyUsage bits (RFC 5280, Section 4.2.1.3), numbered from the most significant bit of byte 0.
const KU = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

/** The WebCrypto type pkijs' engine expects (the DOM `Crypto`, which Node's `webcrypto` implements). */
type EngineCrypto = pkijs.CryptoEngineParameters['crypto'];
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** Returns a new lab chain; rejects only if WebCrypto or pkijs fails (a bug, not an input problem). */
export async function generateLabPki(opts: LabPkiOptions = {}): Promise<LabPki> {
  const keyAlgorithm = opts.keyAlgorithm ?? 'rsa-2048';
  const now = opts.now ?? new Date();
  // Node's webcrypto implements the DOM Crypto pkijs expects, but @types/node does not declare it as that type
  const engine = new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as EngineCrypto });

  const [rootKeys, intermediateKeys, leafKeys] = await Promise.all([
    generateKeys(keyAlgorithm),
    generateKeys(keyAlgorithm),
    generateKeys(keyAlgorithm),
  ]);

  const rootName = distinguishedName(LAB_NAMES.root);
  const intermediateName = distinguishedName(LAB_NAMES.intermediate);
  const leafName = distinguishedName(LAB_NAMES.leaf);

  const root = await issue(engine, {
    role: 'root',
    subject: rootName,
    issuer: rootName,
    keys: rootKeys,
    issuerKeys: rootKeys,
    issuerSki: null,
    keyAlgorithm,
    now,
    revocationBaseUrl: opts.revocationBaseUrl,
  });
  const intermediate = await issue(engine, {
    role: 'intermediate',
    subject: intermediateName,
    issuer: rootName,
    keys: intermediateKeys,
    issuerKeys: rootKeys,
    issuerSki: root.ski,
    keyAlgorithm,
    now,
    revocationBaseUrl: opts.revocationBaseUrl,
  });
  const leaf = await issue(engine, {
    role: 'leaf',
    subject: leafName,
    issuer: intermediateName,
    keys: leafKeys,
    issuerKeys: intermediateKeys,
    issuerSki: intermediate.ski,
    keyAlgorithm,
    now,
    revocationBaseUrl: opts.revocationBaseUrl,
  });

  return {
    keyAlgorithm,
    root: root.cert,
    intermediate: intermediate.cert,
    leaf: leaf.cert,
    chainPem: leaf.cert.pem + intermediate.cert.pem,
  };
}

/** Returns the SHA-256 fingerprint of DER bytes as colon-separated uppercase hex (the `openssl x509 -fingerprint` form). */
export function fingerprintSha256(der: Uint8Array): string {
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
  return hex.match(/../g)!.join(':');
}

async function generateKeys(alg: LabKeyAlgorithm): Promise<CryptoKeyPair> {
  const usages: webcrypto.KeyUsage[] = ['sign', 'verify'];
  if (alg === 'ecdsa-p256') {
    return (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, usages)) as CryptoKeyPair;
  }
  return (await webcrypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    usages,
  )) as CryptoKeyPair;
}

interface NameParts {
  readonly cn: string;
  readonly text: string;
}

function distinguishedName(cn: string): NameParts {
  return { cn, text: `C=${LAB_NAMES.country}, O=${LAB_NAMES.organization}, CN=${cn}` };
}

/**
 * Returns the Name (RFC 5280, Section 4.1.2.4: SEQUENCE OF RelativeDistinguishedName) with one
 * attribute per RDN, as public CAs issue them. pkijs would put every attribute into one multi-valued
 * RDN, so the SEQUENCE of single-element SETs is built here and handed to pkijs as decoded DER.
 */
function toRdns(name: NameParts): pkijs.RelativeDistinguishedNames {
  const attributes = [
    // X520countryName is PrintableString (SIZE (2)); the others are DirectoryString → UTF8String.
    new pkijs.AttributeTypeAndValue({
      type: OID.countryName,
      value: new asn1js.PrintableString({ value: LAB_NAMES.country }),
    }),
    new pkijs.AttributeTypeAndValue({
      type: OID.organizationName,
      value: new asn1js.Utf8String({ value: LAB_NAMES.organization }),
    }),
    new pkijs.AttributeTypeAndValue({ type: OID.commonName, value: new asn1js.Utf8String({ value: name.cn }) }),
  ];
  const der = new asn1js.Sequence({ value: attributes.map((a) => new asn1js.Set({ value: [a.toSchema()] })) }).toBER(
    false,
  );
  const decoded = asn1js.fromBER(der);
  if (decoded.offset === -1) throw new Error(`lab PKI: cannot re-read the encoded name ${name.text}`);
  return new pkijs.RelativeDistinguishedNames({ schema: decoded.result });
}

interface IssueParams {
  readonly role: LabCertRole;
  readonly subject: NameParts;
  readonly issuer: NameParts;
  readonly keys: CryptoKeyPair;
  readonly issuerKeys: CryptoKeyPair;
  /** Issuer's subject key identifier; null for the self-signed root. */
  readonly issuerSki: Uint8Array | null;
  readonly keyAlgorithm: LabKeyAlgorithm;
  readonly now: Date;
  readonly revocationBaseUrl?: string | undefined;
}

async function issue(engine: pkijs.ICryptoEngine, p: IssueParams): Promise<{ cert: LabCertificate; ski: Uint8Array }> {
  const cert = new pkijs.Certificate();
  cert.version = 2; // v3 (RFC 5280, Section 4.1.2.1): required for extensions.

  const serial = new Uint8Array(randomBytes(SERIAL_BYTES));
  // RFC 5280, Section 4.1.2.2: positive; setting 0x40 and clearing 0x80 keeps it positive and its
  // DER minimal (no leading 0x00 needed, no leading 0x00 byte possible).
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });

  cert.issuer = toRdns(p.issuer);
  cert.subject = toRdns(p.subject);
  const notBefore = new Date(p.now.getTime() - BACKDATE_MS);
  const notAfter = new Date(p.now.getTime() + VALIDITY_DAYS[p.role] * DAY_MS);
  // Before 2050 both are UTCTime (RFC 5280, Section 4.1.2.5), which pkijs' Time uses by default.
  cert.notBefore.value = notBefore;
  cert.notAfter.value = notAfter;

  await cert.subjectPublicKeyInfo.importKey(p.keys.publicKey, engine);
  // RFC 5280, Section 4.2.1.2, method (1): SHA-1 of the BIT STRING subjectPublicKey (without tag,
  // length and unused-bits octet).
  const ski = new Uint8Array(
    createHash('sha1')
      .update(new Uint8Array(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView))
      .digest(),
  );

  const extensions: pkijs.Extension[] = [];
  const ca = p.role !== 'leaf';
  // RFC 5280, Section 4.2.1.9: critical in CA certificates; the issuing CA may only sign leaves.
  extensions.push(
    extension(
      OID.basicConstraints,
      true,
      new pkijs.BasicConstraints(
        p.role === 'intermediate' ? { cA: true, pathLenConstraint: 0 } : ca ? { cA: true } : { cA: false },
      ).toSchema(),
    ),
  );
  // RFC 5280, Section 4.2.1.3: SHOULD be critical. RSA leaves also allow keyEncipherment (TLS 1.0–1.2
  // RSA key exchange); ECDSA leaves only sign.
  const usageBits =
    p.role === 'root'
      ? [KU.keyCertSign, KU.cRLSign]
      : p.role === 'intermediate'
        ? [KU.digitalSignature, KU.keyCertSign, KU.cRLSign]
        : p.keyAlgorithm === 'rsa-2048'
          ? [KU.digitalSignature, KU.keyEncipherment]
          : [KU.digitalSignature];
  extensions.push(extension(OID.keyUsage, true, namedBitString(usageBits)));
  // RFC 5280, Section 4.2.1.12: issuing CAs of public TLS chains carry serverAuth/clientAuth (CA/B
  // Forum BR 7.1.2.2); the leaf only serverAuth.
  if (p.role !== 'root') {
    const purposes = p.role === 'intermediate' ? [OID.serverAuth, OID.clientAuth] : [OID.serverAuth];
    extensions.push(extension(OID.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: purposes }).toSchema()));
  }
  if (p.role === 'leaf') {
    // RFC 5280, Section 4.2.1.6: dNSName as IA5String, iPAddress as 4 or 16 network-order octets.
    const names = [
      ...LAB_LEAF_DNS_NAMES.map((d) => new pkijs.GeneralName({ type: 2, value: d })),
      ...LAB_LEAF_IP_ADDRESSES.map(
        (ip) => new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(ip) }) }),
      ),
    ];
    extensions.push(extension(OID.subjectAltName, false, new pkijs.GeneralNames({ names }).toSchema()));
  }
  // RFC 5280, Section 4.2.1.2: SKI in every CA certificate, SHOULD in end-entity ones; non-critical.
  extensions.push(extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: ski })));
  // RFC 5280, Section 4.2.1.1: AKI in all but self-signed roots, keyIdentifier = issuer's SKI.
  if (p.issuerSki !== null) {
    extensions.push(
      extension(
        OID.authorityKeyIdentifier,
        false,
        new pkijs.AuthorityKeyIdentifier({
          keyIdentifier: new asn1js.OctetString({ valueHex: p.issuerSki }),
        }).toSchema(),
      ),
    );
  }
  if (p.revocationBaseUrl !== undefined && p.role !== 'root') {
    // RFC 5280, Sections 4.2.1.13 and 4.2.2.1: where the issuer publishes its CRL, and its OCSP responder.
    const crlUrl =
      p.revocationBaseUrl +
      (p.role === 'intermediate' ? LAB_REVOCATION_PATHS.rootCrl : LAB_REVOCATION_PATHS.issuingCrl);
    const uri = (value: string): pkijs.GeneralName => new pkijs.GeneralName({ type: 6, value });
    const dp = new pkijs.DistributionPoint({ distributionPoint: [uri(crlUrl)] });
    extensions.push(
      extension(
        OID.cRLDistributionPoints,
        false,
        new pkijs.CRLDistributionPoints({ distributionPoints: [dp] }).toSchema(),
      ),
    );
    const ocsp = new pkijs.AccessDescription({
      accessMethod: OID.adOcsp,
      accessLocation: uri(p.revocationBaseUrl + LAB_REVOCATION_PATHS.ocsp),
    });
    extensions.push(
      extension(OID.authorityInfoAccess, false, new pkijs.InfoAccess({ accessDescriptions: [ocsp] }).toSchema()),
    );
  }
  cert.extensions = extensions;

  await cert.sign(p.issuerKeys.privateKey, 'SHA-256', engine);

  const der = new Uint8Array(cert.toSchema(true).toBER(false));
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', p.keys.privateKey));
  return {
    ski,
    cert: {
      role: p.role,
      subject: p.subject.text,
      issuer: p.issuer.text,
      serialHex: Buffer.from(serial).toString('hex'),
      notBefore,
      notAfter,
      subjectKeyIdHex: Buffer.from(ski).toString('hex'),
      der,
      pem: toPem('CERTIFICATE', der),
      keyPem: toPem('PRIVATE KEY', pkcs8),
    },
  };
}

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

/**
 * Returns a DER named-bit-list BIT STRING with the given bits set: trailing zero bits removed and
 * counted in the unused-bits octet (X.690, Section 11.2.2), as RFC 5280's KeyUsage needs.
 */
function namedBitString(bits: readonly number[]): asn1js.BitString {
  const highest = Math.max(...bits);
  const bytes = new Uint8Array((highest >> 3) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return new asn1js.BitString({ valueHex: bytes, unusedBits: 7 - (highest & 7) });
}

/** Returns the network-order bytes of an IPv4 or IPv6 literal (for the iPAddress GeneralName). */
function ipBytes(ip: string): Uint8Array {
  if (ip.includes(':')) {
    const [head = '', tail = ''] = ip.split('::');
    const h = head === '' ? [] : head.split(':');
    const t = tail === '' ? [] : tail.split(':');
    const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
    const out = new Uint8Array(16);
    groups.forEach((g, i) => {
      const v = parseInt(g, 16);
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 0xff;
    });
    return out;
  }
  return new Uint8Array(ip.split('.').map((o) => Number(o)));
}

/** Returns PEM text (RFC 7468): base64 in 64-character lines between BEGIN/END labels. */
function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}
