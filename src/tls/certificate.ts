/**
 * Certificate, in its two forms.
 *
 * TLS 1.2 and earlier (RFC 5246, Section 7.4.2):
 *
 *     opaque ASN.1Cert<1..2^24-1>;
 *     struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
 *
 * TLS 1.3 (RFC 8446, Section 4.4.2):
 *
 *     struct { opaque cert_data<1..2^24-1>; Extension extensions<0..2^16-1>; } CertificateEntry;
 *     struct { opaque certificate_request_context<0..2^8-1>; CertificateEntry certificate_list<0..2^24-1>; } Certificate;
 *
 * Which form applies depends on the negotiated version, so it comes in as a parameter.
 */
import { Reader } from '../wire/reader.js';
import type { Writer } from '../wire/writer.js';
import { DecodeError } from '../wire/errors.js';
import { type Extension, readExtensions, writeExtensions } from './extensions.js';
import { ProtocolVersion } from './registry.js';

/**
 * Most certificates we keep from one message. Real chains hold 2 to 5; a hostile server can send
 * tens of thousands of tiny entries, each costing an object. 100 is generous for any real chain.
 */
export const MAX_CERTIFICATES = 100;

export interface CertificateEntry {
  /** The DER bytes (a view into the message). */
  readonly der: Uint8Array;
  /** TLS 1.3 per-entry extensions (status_request, SCT); null in the TLS 1.2 form. */
  readonly extensions: readonly Extension[] | null;
}

export interface CertificateMessage {
  /** `certificate_request_context` (TLS 1.3 form), or null for the TLS 1.2 form. */
  readonly context: Uint8Array | null;
  readonly entries: readonly CertificateEntry[];
}

/** True when `version` uses the TLS 1.3 Certificate form (TLS 1.3 and its drafts). */
export function isTls13Version(version: number): boolean {
  return version === ProtocolVersion.TLS1_3 || version >> 8 === 0x7f;
}

/** Returns the Certificate body read from `r` in the form that `version` uses. */
export function readCertificateBody(r: Reader, version: number): CertificateMessage {
  const tls13 = isTls13Version(version);
  const context = tls13 ? r.vec(1, 'certificate_request_context') : null;
  const list = r.sub(3, 'certificate_list');
  const entries: CertificateEntry[] = [];
  while (list.anyLeft) {
    if (entries.length >= MAX_CERTIFICATES) {
      list.fail('too-large', `more than ${MAX_CERTIFICATES} certificates in one message`);
    }
    const der = list.vec(3, `cert_data[${entries.length}]`, { min: 1 });
    const extensions = tls13 ? readExtensions(list, 'certificate', `extensions[${entries.length}]`) : null;
    entries.push({ der, extensions });
  }
  r.end();
  return { context, entries };
}

/**
 * Returns the Certificate body read in whichever form fits when the version is unknown (a bare
 * message): the TLS 1.2 form first, then the TLS 1.3 form. Throws the TLS 1.2 error if neither fits.
 */
export function readCertificateBodyAnyVersion(r: Reader): { message: CertificateMessage; version: number } {
  const bytes = r.rest();
  const base = r.offset - bytes.length;
  try {
    return {
      message: readCertificateBody(new Reader(bytes, r.path, base), ProtocolVersion.TLS1_2),
      version: ProtocolVersion.TLS1_2,
    };
  } catch (e12) {
    if (!(e12 instanceof DecodeError)) throw e12;
    try {
      return {
        message: readCertificateBody(new Reader(bytes, r.path, base), ProtocolVersion.TLS1_3),
        version: ProtocolVersion.TLS1_3,
      };
    } catch {
      throw e12;
    }
  }
}

export function writeCertificateBody(w: Writer, m: CertificateMessage): void {
  if (m.context !== null) w.vec(1, m.context);
  w.prefixed(3, (w) => {
    for (const e of m.entries) {
      w.vec(3, e.der);
      if (m.context !== null) writeExtensions(w, e.extensions ?? [], 'certificate');
    }
  });
}
