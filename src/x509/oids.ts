/**
 * OID tables for X.509: returns names for attribute types, key and signature algorithms, curves and
 * key-usage bits. Plain `as const` data keyed by dotted OID, shared by the fast path and the pkijs
 * adapter so both name things identically; unknown OIDs fall back to their dotted form.
 */

/**
 * Short names of Name attribute types: RFC 4514, Section 3 (CN, L, ST, O, OU, C, STREET, DC, UID)
 * plus the descriptors OpenSSL prints for the other types certificates use (RFC 5280, Appendix A;
 * CA/B Forum EV jurisdiction attributes).
 */
export const AttributeTypeName: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.13': 'description',
  '2.5.4.15': 'businessCategory',
  '2.5.4.17': 'postalCode',
  '2.5.4.18': 'postOfficeBox',
  '2.5.4.41': 'name',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationQualifier',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

/** SubjectPublicKeyInfo algorithm OIDs we name (RFC 3279, RFC 4055, RFC 5480, RFC 8410). */
export const KeyAlgorithm: Readonly<Record<string, 'RSA' | 'EC' | 'Ed25519' | 'Ed448' | 'DSA' | 'RSA-PSS'>> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.113549.1.1.10': 'RSA-PSS',
  '1.2.840.10045.2.1': 'EC',
  '1.2.840.10040.4.1': 'DSA',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};

/** Named curves (RFC 5480, Section 2.1.1.1; RFC 5639 for brainpool; SEC 2) with their sizes in bits. */
export const NamedCurve: Readonly<Record<string, { readonly name: string; readonly bits: number }>> = {
  '1.2.840.10045.3.1.1': { name: 'P-192', bits: 192 },
  '1.3.132.0.33': { name: 'P-224', bits: 224 },
  '1.2.840.10045.3.1.7': { name: 'P-256', bits: 256 },
  '1.3.132.0.34': { name: 'P-384', bits: 384 },
  '1.3.132.0.35': { name: 'P-521', bits: 521 },
  '1.3.132.0.10': { name: 'secp256k1', bits: 256 },
  '1.3.36.3.3.2.8.1.1.7': { name: 'brainpoolP256r1', bits: 256 },
  '1.3.36.3.3.2.8.1.1.11': { name: 'brainpoolP384r1', bits: 384 },
  '1.3.36.3.3.2.8.1.1.13': { name: 'brainpoolP512r1', bits: 512 },
  '1.2.156.10197.1.301': { name: 'SM2', bits: 256 },
};

/** Bit sizes of EdDSA public keys as encoded (RFC 8410, Section 3): 32 and 57 octets. */
export const EdKeyBits = { Ed25519: 256, Ed448: 456 } as const;

/** The families `crypto.verify` needs to know about. */
export type SignatureFamily = 'rsa' | 'rsa-pss' | 'ecdsa' | 'dsa' | 'eddsa';

/** A signature algorithm: display name, family and digest (`null` for EdDSA, and for RSASSA-PSS where the parameters name it). */
export interface SignatureAlgorithmInfo {
  readonly name: string;
  readonly family: SignatureFamily;
  readonly hash: 'md2' | 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | null;
}

/** Certificate signature algorithms (RFC 3279, RFC 4055, RFC 5758, RFC 8410). */
export const SignatureAlgorithm: Readonly<Record<string, SignatureAlgorithmInfo>> = {
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption', family: 'rsa', hash: 'md2' },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', family: 'rsa', hash: 'md5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', family: 'rsa', hash: 'sha1' },
  '1.3.14.3.2.29': { name: 'sha1WithRSASignature', family: 'rsa', hash: 'sha1' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', family: 'rsa', hash: 'sha224' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', family: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', family: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', family: 'rsa', hash: 'sha512' },
  '1.2.840.113549.1.1.10': { name: 'RSASSA-PSS', family: 'rsa-pss', hash: null },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', family: 'ecdsa', hash: 'sha1' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', family: 'ecdsa', hash: 'sha224' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', family: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', family: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', family: 'ecdsa', hash: 'sha512' },
  '1.2.840.10040.4.3': { name: 'dsa-with-sha1', family: 'dsa', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.1': { name: 'dsa-with-sha224', family: 'dsa', hash: 'sha224' },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa-with-sha256', family: 'dsa', hash: 'sha256' },
  '1.3.101.112': { name: 'Ed25519', family: 'eddsa', hash: null },
  '1.3.101.113': { name: 'Ed448', family: 'eddsa', hash: null },
};

/** Hash algorithm OIDs that RSASSA-PSS-params name (RFC 4055, Section 2.1; RFC 8017, Appendix A.2.1). */
export const HashAlgorithm: Readonly<Record<string, 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512'>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** id-mgf1, RFC 8017, Appendix A.2.1. */
export const OID_MGF1 = '1.2.840.113549.1.1.8';

/** Extension OIDs we decode (RFC 5280, Section 4.2.1). */
export const ExtensionOid = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

/** KeyUsage bit names by bit number, RFC 5280, Section 4.2.1.3 (`nonRepudiation` is also called contentCommitment). */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** Returns the short name of a Name attribute type, or its dotted OID. */
export function attributeTypeName(oid: string): string {
  return AttributeTypeName[oid] ?? oid;
}

/** Returns the display name of a signature algorithm OID, or the OID itself. */
export function signatureAlgorithmName(oid: string): string {
  return SignatureAlgorithm[oid]?.name ?? oid;
}
