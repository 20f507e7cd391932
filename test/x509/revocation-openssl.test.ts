/**
 * CRLs and OCSP responses made by OpenSSL (`openssl ca -revoke/-gencrl`, `openssl crl`, `openssl
 * ocsp -reqin … -respout`) checked by crl.ts and ocsp.ts: revoked with its reason, good, stale,
 * critical extensions, bad signatures, a CA without cRLSign, delegated OCSP responders with and
 * without id-kp-OCSPSigning. Skips visibly when openssl (Debian package openssl) is missing.
 */
import { sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkChain, type ChainReport } from '../../src/x509/chain.js';
import { parseCertificate } from '../../src/x509/der.js';
import { readCrlBytes } from '../../src/x509/crl-pem.js';
import { checkOcspResponse, ocspRequestFor } from '../../src/x509/ocsp.js';
import { pemToDer } from '../../src/x509/pem.js';
import { parseCrl, type CrlInfo } from '../../src/x509/revocation-adapter.js';
import { revocationOf } from '../../src/x509/revocation.js';
import { checkRevocationOnline } from '../../src/probe/revocation-check.js';
import { loadRootsFromPem } from '../../src/x509/roots.js';
import type { CertInfo } from '../../src/x509/types.js';
import { missingTool } from '../helpers/tools.js';
import { NEW_EC_P256_KEY, hasOpenssl, openssl, opensslBytes } from './openssl-pki.js';

const CONFIG = (dir: string): string => `
[ca]
default_ca = labca
[labca]
dir = ${dir}
database = $dir/index.txt
serial = $dir/serial
crlnumber = $dir/crlnumber
new_certs_dir = $dir
default_md = sha256
default_days = 30
default_crl_days = 7
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[root_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[nocrlsign_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:www.example.test
[ocsp_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[crl_ext]
authorityKeyIdentifier = keyid:always
[crl_critical_ext]
authorityKeyIdentifier = keyid:always
1.3.6.1.4.1.99999.1 = critical,ASN1:NULL
`;

const DAY = 86_400_000;

/** Returns a DER TLV (X.690, Section 8.1): tag, definite length, contents. */
function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return new Uint8Array(Buffer.concat([Buffer.from([tag, ...len]), body]));
}

/** Returns the DER of an OBJECT IDENTIFIER in dotted form (X.690, Section 8.19). */
function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const v of rest) {
    const groups = [v & 0x7f];
    for (let x = v >>> 7; x > 0; x >>>= 7) groups.unshift((x & 0x7f) | 0x80);
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime YYMMDDHHMMSSZ (RFC 5280, Section 4.1.2.5.1). */
function utc(d: Date): Uint8Array {
  return tlv(0x17, Buffer.from(`${d.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`, 'latin1'));
}

/**
 * Returns a v2 CRL by `issuerName` (DER) signed with `keyPem` (sha256WithRSAEncryption), listing
 * `serialHex` with one entry extension `entryExtOid` marked critical: the CRL openssl cannot make.
 */
function crlWithCriticalEntryExtension(
  issuerName: Uint8Array,
  keyPem: string,
  serialHex: string,
  entryExtOid: string,
): Uint8Array {
  const now = Date.now();
  const alg = tlv(0x30, oid('1.2.840.113549.1.1.11'), tlv(0x05));
  const serial = Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex');
  const entryExt = tlv(0x30, oid(entryExtOid), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x05)));
  const entry = tlv(
    0x30,
    tlv(0x02, serial[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), serial]) : serial),
    utc(new Date(now - DAY)),
    tlv(0x30, entryExt),
  );
  const crlNumber = tlv(0x30, oid('2.5.29.20'), tlv(0x04, tlv(0x02, Buffer.from([7]))));
  const tbs = tlv(
    0x30,
    tlv(0x02, Buffer.from([1])),
    alg,
    issuerName,
    utc(new Date(now - DAY)),
    utc(new Date(now + 7 * DAY)),
    tlv(0x30, entry),
    tlv(0xa0, tlv(0x30, crlNumber)),
  );
  const signature = sign('sha256', tbs, keyPem);
  return tlv(0x30, tbs, alg, tlv(0x03, Buffer.from([0]), signature));
}

describe.skipIf(!hasOpenssl)('CRLs and OCSP responses made by openssl', () => {
  let dir: string;
  let cfg: string;
  const p = (f: string): string => join(dir, f);
  const der = (name: string): Uint8Array => pemToDer(readFileSync(p(`${name}.pem`), 'utf8'))[0]!;
  const cert = (name: string): CertInfo => parseCertificate(der(name));
  const crlFile = (name: string): CrlInfo => parseCrl(readCrlBytes(new Uint8Array(readFileSync(p(name))))[0]!);
  const chain = (leaf: string, root = 'root'): ChainReport =>
    checkChain([der(leaf)], {
      roots: loadRootsFromPem(readFileSync(p(`${root}.pem`), 'utf8')),
      host: 'www.example.test',
    });

  /** Runs `openssl ca` as the root in `dir` (batch mode, the test's config) with `args`. */
  const ca = (args: readonly string[]): string =>
    openssl(['ca', '-batch', '-config', cfg, '-cert', p('root.pem'), '-keyfile', p('root.key'), ...args]);

  /** Issues `name` with `openssl ca` from the root in `dir`, with the extensions section `ext`. */
  const issue = (name: string, ext: string): void => {
    openssl([
      'req',
      '-new',
      ...NEW_EC_P256_KEY,
      '-keyout',
      p(`${name}.key`),
      '-subj',
      `/CN=${name}`,
      '-config',
      cfg,
      '-out',
      p(`${name}.csr`),
    ]);
    ca(['-extensions', ext, '-in', p(`${name}.csr`), '-out', p(`${name}.pem`), '-notext']);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tlsprobe-crl-'));
    cfg = p('openssl.cnf');
    writeFileSync(cfg, CONFIG(dir));
    writeFileSync(p('index.txt'), '');
    writeFileSync(p('serial'), '1000\n');
    writeFileSync(p('crlnumber'), '2a\n');
    openssl([
      'req',
      '-x509',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      p('root.key'),
      '-subj',
      '/CN=openssl Test Root',
      '-days',
      '365',
      '-config',
      cfg,
      '-extensions',
      'root_ext',
      '-out',
      p('root.pem'),
    ]);
    issue('good', 'leaf_ext');
    issue('bad', 'leaf_ext');
    issue('responder', 'ocsp_ext');
    issue('notresponder', 'leaf_ext');
    // A CRL from before the revocation (number 2a), then the one after it (2b).
    ca(['-gencrl', '-crlexts', 'crl_ext', '-out', p('crl-before.pem')]);
    ca(['-revoke', p('bad.pem'), '-crl_reason', 'keyCompromise']);
    ca(['-gencrl', '-crlexts', 'crl_ext', '-out', p('crl.pem')]);
    openssl(['crl', '-in', p('crl.pem'), '-outform', 'DER', '-out', p('crl.der')]);
    ca(['-gencrl', '-crlexts', 'crl_critical_ext', '-out', p('crl-critical.pem')]);
    // A CA with the same name but without cRLSign, whose CRL the checker must refuse.
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      p('root.key'),
      '-subj',
      '/CN=openssl Test Root',
      '-days',
      '365',
      '-config',
      cfg,
      '-extensions',
      'nocrlsign_ext',
      '-out',
      p('nocrlsign.pem'),
    ]);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the revoked certificate with its reason in a PEM CRL, and the other one good; DER reads the same', () => {
    const crl = crlFile('crl.pem');
    expect(crl.crlNumber).toBe('43');
    expect(crlFile('crl.der').sha256).toBe(crl.sha256);
    const bad = revocationOf(chain('bad'), [crl], new Date());
    expect(bad.certificates[0]!.status).toBe('revoked');
    expect(bad.findings.map((f) => [f.code, f.severity])).toEqual([['revoked', 'error']]);
    expect(bad.findings[0]!.message).toContain('keyCompromise');
    expect(bad.findings[0]!.message).toContain(cert('bad').serialNumber);
    const good = revocationOf(chain('good'), [crl], new Date());
    expect(good.certificates[0]!.status).toBe('good');
    expect(good.findings).toEqual([]);
    expect(good.crls[0]).toMatchObject({ used: true, problems: [], entries: 1, crlNumber: '43' });
  });

  it('lets the newest CRL of an issuer decide (highest cRLNumber), in whatever order they are given', () => {
    const before = crlFile('crl-before.pem');
    expect([before.crlNumber, before.entries.length]).toEqual(['42', 0]);
    expect(revocationOf(chain('bad'), [before], new Date()).certificates[0]!.status).toBe('good');
    for (const order of [
      [before, crlFile('crl.pem')],
      [crlFile('crl.pem'), before],
    ]) {
      const r = revocationOf(chain('bad'), order, new Date());
      expect(r.certificates[0]!.status).toBe('revoked');
      expect(r.findings.map((f) => f.code).sort()).toEqual(['crl-superseded', 'revoked']);
      expect(r.crls.find((c) => c.crlNumber === '42')).toMatchObject({ used: false, problems: ['crl-superseded'] });
    }
  });

  it('refuses a stale CRL (after nextUpdate) and one not yet valid', () => {
    const crl = crlFile('crl.pem');
    const late = revocationOf(chain('bad'), [crl], new Date(crl.nextUpdate!.getTime() + DAY));
    expect(late.findings.map((f) => f.code)).toContain('crl-expired');
    expect(late.certificates[0]!.status).toBe('unknown');
    const early = revocationOf(chain('bad'), [crl], new Date(crl.thisUpdate.getTime() - DAY));
    expect(early.findings.map((f) => f.code)).toContain('crl-not-yet-valid');
  });

  it('refuses a CRL with an unknown critical extension, a tampered signature, or from a CA without cRLSign', () => {
    const critical = revocationOf(chain('bad'), [crlFile('crl-critical.pem')], new Date());
    expect(critical.findings.map((f) => f.code)).toEqual(['crl-unknown-critical-extension']);
    expect(critical.findings[0]!.message).toContain('1.3.6.1.4.1.99999.1');
    expect(critical.certificates[0]!.status).toBe('unknown');

    const bytes = new Uint8Array(readFileSync(p('crl.der')));
    bytes[bytes.length - 3]! ^= 0x01;
    const tampered = revocationOf(chain('bad'), [parseCrl(bytes)], new Date());
    expect(tampered.findings.map((f) => f.code)).toEqual(['crl-bad-signature']);

    const noSign = revocationOf(chain('bad', 'nocrlsign'), [crlFile('crl.pem')], new Date());
    expect(noSign.findings.map((f) => f.code)).toEqual(['crl-issuer-not-crl-signer']);
  });

  it('refuses a CRL with an unknown critical entry extension (RFC 5280, Section 5.3), and uses one whose entry extension is known', () => {
    const issuerName = cert('root').subject.der;
    const key = readFileSync(p('root.key'), 'utf8');
    const bytes = crlWithCriticalEntryExtension(issuerName, key, cert('good').serialNumber, '1.3.6.1.4.1.99999.2');
    writeFileSync(p('crl-entry.der'), bytes);
    expect(openssl(['crl', '-inform', 'DER', '-in', p('crl-entry.der'), '-noout', '-text'])).toContain(
      '1.3.6.1.4.1.99999.2: critical',
    );
    const r = revocationOf(chain('good'), [parseCrl(bytes)], new Date());
    expect(r.findings.map((f) => f.code)).toEqual(['crl-entry-unknown-critical-extension']);
    expect(r.certificates[0]!.status).toBe('unknown');
    // invalidityDate (2.5.29.24) is known: marked critical it does not stop the CRL, and the serial is revoked.
    const known = crlWithCriticalEntryExtension(issuerName, key, cert('good').serialNumber, '2.5.29.24');
    expect(revocationOf(chain('good'), [parseCrl(known)], new Date()).certificates[0]!.status).toBe('revoked');
  });

  it('--check-revocation on certificates that name no CRL or OCSP URL: nothing fetched, CRYPT_E_NO_REVOCATION_CHECK', async () => {
    const c = chain('good');
    const on = await checkRevocationOnline(c, revocationOf(c, [], new Date()), { at: new Date() });
    expect(on.endpoints).toEqual([]);
    expect(on.findings.map((f) => [f.code, f.severity])).toEqual([['revocation-unchecked', 'warning']]);
    expect(on.certificates[0]!.windowsError?.name).toBe('CRYPT_E_NO_REVOCATION_CHECK');
  });

  it('makes an OCSP request openssl reads as a SHA-1 CertID for the serial', () => {
    const req = ocspRequestFor(cert('good'), cert('root'));
    writeFileSync(p('req.der'), req);
    const text = openssl(['ocsp', '-reqin', p('req.der'), '-req_text']);
    expect(text).toContain('Hash Algorithm: sha1');
    expect(text.toLowerCase()).toContain(`serial number: ${cert('good').serialNumber}`);
  });

  /** Returns openssl's OCSP response to our request for `leaf`, signed by `signer` (`-rsigner`). */
  const respond = (leaf: string, signer: string): Uint8Array => {
    writeFileSync(p(`req-${leaf}.der`), ocspRequestFor(cert(leaf), cert('root')));
    opensslBytes([
      'ocsp',
      '-index',
      p('index.txt'),
      '-CA',
      p('root.pem'),
      '-rsigner',
      p(`${signer}.pem`),
      '-rkey',
      p(`${signer}.key`),
      '-reqin',
      p(`req-${leaf}.der`),
      '-respout',
      p(`resp-${leaf}-${signer}.der`),
      '-ndays',
      '1',
    ]);
    return new Uint8Array(readFileSync(p(`resp-${leaf}-${signer}.der`)));
  };

  it('accepts openssl OCSP answers signed by the CA and by a delegated id-kp-OCSPSigning responder', () => {
    const now = new Date();
    const byCa = checkOcspResponse(respond('good', 'root'), cert('good'), cert('root'), now);
    expect([byCa.status, byCa.signer]).toEqual(['good', 'issuer']);
    const delegated = checkOcspResponse(respond('good', 'responder'), cert('good'), cert('root'), now);
    expect([delegated.status, delegated.signer]).toEqual(['good', 'delegated']);
    const revoked = checkOcspResponse(respond('bad', 'responder'), cert('bad'), cert('root'), now);
    expect([revoked.status, revoked.reason]).toEqual(['revoked', 1]);
    expect(revoked.detail).toContain('keyCompromise');
  });

  it('refuses OCSP answers from a responder without id-kp-OCSPSigning, for another certificate, or stale', () => {
    const now = new Date();
    const noEku = checkOcspResponse(respond('good', 'notresponder'), cert('good'), cert('root'), now);
    expect(noEku.status).toBe('invalid');
    expect(noEku.detail).toContain('id-kp-OCSPSigning');
    const other = checkOcspResponse(respond('good', 'root'), cert('bad'), cert('root'), now);
    expect(other.status).toBe('invalid');
    expect(other.detail).toContain('no answer');
    const stale = checkOcspResponse(
      respond('good', 'root'),
      cert('good'),
      cert('root'),
      new Date(now.getTime() + 3 * DAY),
    );
    expect(stale.status).toBe('invalid');
    expect(stale.detail).toContain('stale');
    const garbage = checkOcspResponse(new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x03]), cert('good'), cert('root'), now);
    expect(garbage.status).toBe('invalid');
    expect(garbage.detail).toContain('tryLater');
  });
});

// Declared only when openssl is missing, so the skip is visible then and counts as nothing otherwise.
if (!hasOpenssl) {
  describe('CRLs and OCSP responses made by openssl (skipped: no openssl)', () => {
    it.skip(missingTool('openssl', 'openssl'), () => {});
  });
}
