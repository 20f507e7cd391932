import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/wire/errors.js';
import { equalBytes } from '../../src/wire/hex.js';
import { loadDocumentedRoots } from '../../src/x509/roots.js';
import { derToPem, pemToDer } from '../../src/x509/pem.js';
import { NO_OPENSSL, hasOpenssl, opensslBytes } from './openssl-pki.js';

describe('pemToDer and derToPem', () => {
  const [a, b] = loadDocumentedRoots().map((r) => r.der!);

  it('round-trips DER through PEM with 64-column lines', () => {
    const pem = derToPem(a!);
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
    expect(pem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    expect(pem.split('\n').every((l) => l.length <= 64)).toBe(true);
    const back = pemToDer(pem);
    expect(back).toHaveLength(1);
    expect(equalBytes(back[0]!, a!)).toBe(true);
  });

  it('reads every certificate block in order and ignores text and other labels around them', () => {
    const text = `subject=whatever\n${derToPem(a!)}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n${derToPem(b!).replace(/CERTIFICATE/g, 'X509 CERTIFICATE')}trailer`;
    const ders = pemToDer(text);
    expect(ders.map((d) => d.length)).toEqual([a!.length, b!.length]);
    expect(equalBytes(ders[1]!, b!)).toBe(true);
  });

  it('reads CRLF line endings', () => {
    expect(equalBytes(pemToDer(derToPem(a!).replace(/\n/g, '\r\n'))[0]!, a!)).toBe(true);
  });

  it('rejects a block whose body is not base64', () => {
    expect(() => pemToDer('-----BEGIN CERTIFICATE-----\nMII*\n-----END CERTIFICATE-----\n')).toThrow(DecodeError);
    expect(() =>
      pemToDer('-----BEGIN CERTIFICATE-----\nMIIB\nProc-Type: 4,ENCRYPTED\n-----END CERTIFICATE-----\n'),
    ).toThrow(expect.objectContaining({ code: 'bad-value' }));
  });

  it.skipIf(!hasOpenssl)('writes PEM that openssl reads back to the same certificate', () => {
    const out = opensslBytes(['x509', '-outform', 'DER'], Buffer.from(derToPem(b!)));
    expect(equalBytes(out, b!)).toBe(true);
  });
  if (!hasOpenssl) console.warn(NO_OPENSSL);
});
