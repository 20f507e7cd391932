/**
 * Types only: the certificate facts (`CertInfo`, `DistinguishedName`, …) both decoders return.
 *
 * The types here are what `parseCertificate` (the fast DER walker in `der.ts`) and
 * `parseCertificateReference` (the pkijs adapter) return. They are readonly data (the fast path
 * fills some fields lazily through getters, see der-cert-info.ts): byte fields are views into the caller's DER
 * (never copies), names carry their exact DER so chain building can compare them byte for byte
 * (RFC 5280, Section 7.1), and strings are ready to print.
 */

/** The public key algorithms we name; anything else is `'unknown'` (its OID is in `keyAlgorithmOid`). */
export type KeyType = 'RSA' | 'EC' | 'Ed25519' | 'Ed448' | 'DSA' | 'RSA-PSS' | 'unknown';

/** One AttributeTypeAndValue of a Name, RFC 5280, Section 4.1.2.4. */
export interface NamePart {
  /** Short name (`CN`, `O`, `OU`, `C`, `emailAddress`, …) or the dotted OID when we know no name. */
  readonly type: string;
  /** Dotted OID of the attribute type. */
  readonly oid: string;
  /**
   * The value as text. Directory strings are decoded (UTF8String, PrintableString, IA5String,
   * TeletexString as Latin-1, BMPString, UniversalString); any other ASN.1 type is `#` followed by
   * the hex of its DER, as RFC 4514, Section 2.4 writes it.
   */
  readonly value: string;
}

/** A Name (RFC 5280, Section 4.1.2.4) as text, as parts and as DER. */
export interface DistinguishedName {
  /**
   * RFC 4514 string: RDNs in reverse order (last RDN first), `,` between RDNs, `+` inside a
   * multi-valued RDN, special characters escaped (Section 2.4).
   */
  readonly rfc4514: string;
  /** Attributes in DER order (most significant RDN first); members of a multi-valued RDN in a row. */
  readonly parts: readonly NamePart[];
  /** The DER of the whole Name (SEQUENCE OF RDN), a view into the certificate. */
  readonly der: Uint8Array;
}

/** SubjectAltName entries we report (RFC 5280, Section 4.2.1.6); other GeneralName kinds are skipped. */
export interface SubjectAltNames {
  /** dNSName entries as written (IA5String). */
  readonly dns: readonly string[];
  /** iPAddress entries: dotted IPv4 or RFC 5952 IPv6; an entry of another length as `#` + hex. */
  readonly ip: readonly string[];
  /** rfc822Name entries. */
  readonly email: readonly string[];
  /** uniformResourceIdentifier entries. */
  readonly uri: readonly string[];
}

/** BasicConstraints, RFC 5280, Section 4.2.1.9. */
export interface BasicConstraints {
  readonly ca: boolean;
  readonly pathLen: number | null;
}

/** The facts about one certificate that the analyzer reports and the chain checker needs. */
export interface CertInfo {
  /** The certificate's DER (the caller's bytes, not a copy). */
  readonly der: Uint8Array;
  /** Lowercase hex SHA-1 of `der` (the thumbprint Windows shows). */
  readonly sha1: string;
  /** Lowercase hex SHA-256 of `der`. */
  readonly sha256: string;
  /** X.509 version as written: 1, 2 or 3. */
  readonly version: number;
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  /** Lowercase hex of the serial INTEGER's content octets, without the sign-padding leading `00`. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyType: KeyType;
  /** Dotted OID of SubjectPublicKeyInfo.algorithm. */
  readonly keyAlgorithmOid: string;
  /**
   * Key size in bits: RSA/RSA-PSS modulus and DSA `p` length, the EC curve's size, 256 for Ed25519 and
   * 456 for Ed448 (their encoded public key sizes); `null` when unknown.
   */
  readonly keyBits: number | null;
  /**
   * Curve of an EC key (`P-256`, `P-384`, `P-521`, `secp256k1`, `brainpoolP256r1`, … or the dotted
   * OID of a curve we do not name, `explicit` for inline parameters), `Ed25519`/`Ed448` for EdDSA
   * keys, otherwise `null`.
   */
  readonly curve: string | null;
  /** Signature algorithm name such as `sha256WithRSAEncryption`, `ecdsa-with-SHA384`, `RSASSA-PSS`; the dotted OID when unknown. */
  readonly signatureAlgorithm: string;
  readonly signatureAlgorithmOid: string;
  /** DER of signatureAlgorithm.parameters (RSASSA-PSS-params, NULL, …) or `null` when absent. */
  readonly signatureAlgorithmParams: Uint8Array | null;
  readonly san: SubjectAltNames;
  /** KeyUsage bit names (RFC 5280, Section 4.2.1.3) or `null` when the extension is absent. */
  readonly keyUsage: readonly string[] | null;
  readonly basicConstraints: BasicConstraints | null;
  /** Lowercase hex of AuthorityKeyIdentifier.keyIdentifier, `null` when absent. */
  readonly authorityKeyId: string | null;
  /** Lowercase hex of SubjectKeyIdentifier, `null` when absent. */
  readonly subjectKeyId: string | null;
  /** DER of SubjectPublicKeyInfo (a view), ready for `crypto.createPublicKey({ format: 'der', type: 'spki' })`. */
  readonly spki: Uint8Array;
  /** DER of TBSCertificate (a view): the signed bytes. */
  readonly tbs: Uint8Array;
  /** The signature BIT STRING's bits (a view, without the unused-bits octet). */
  readonly signatureValue: Uint8Array;
  /** True when subject and issuer are the same Name, byte for byte (RFC 5280, Section 6.1: self-issued). */
  readonly selfIssued: boolean;
}
