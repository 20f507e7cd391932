/**
 * ServerKeyExchange (RFC 5246, Section 7.4.3; RFC 8422, Section 5.4), kept raw and decoded only once
 * the cipher suite says what it holds:
 *
 *     struct { ECCurveType curve_type; NamedCurve namedcurve; } ECParameters;   // curve_type 3 = named_curve
 *     struct { ECParameters curve_params; ECPoint public; } ServerECDHParams;  // opaque point <1..2^8-1>
 *     struct { opaque dh_p<1..2^16-1>; opaque dh_g<1..2^16-1>; opaque dh_Ys<1..2^16-1>; } ServerDHParams;
 *     then: digitally-signed struct (TLS 1.2: SignatureAndHashAlgorithm + opaque signature<0..2^16-1>;
 *     TLS 1.0/1.1: opaque signature<0..2^16-1>)
 */
import { Reader } from '../wire/reader.js';
import type { Writer } from '../wire/writer.js';
import { DecodeError } from '../wire/errors.js';
import { cipherSuiteInfo, ProtocolVersion } from './registry.js';

export interface EcdheParams {
  readonly curveType: number;
  readonly namedGroup: number;
  readonly publicKey: Uint8Array;
}

export interface DheParams {
  readonly p: Uint8Array;
  readonly g: Uint8Array;
  readonly ys: Uint8Array;
}

export interface ServerKeyExchange {
  /** The whole body as sent; this is what is written back. */
  readonly raw: Uint8Array;
  /** Decoded when the suite is (EC)DHE and the body fits; otherwise null. */
  readonly ecdhe: EcdheParams | null;
  readonly dhe: DheParams | null;
  /** TLS 1.2 SignatureAndHashAlgorithm, when decoded. */
  readonly signatureScheme: number | null;
  readonly signature: Uint8Array | null;
  /** Why the params were not decoded, when the suite says they should be. */
  readonly error: DecodeError | null;
}

/** Named curve type in ECParameters (RFC 8422, Section 5.4). */
const NAMED_CURVE = 3;

/**
 * Returns the ServerKeyExchange read from `r`. `cipherSuite` and `version` (both optional) say how to
 * decode the params; without them, or for a suite that is not (EC)DHE, only `raw` is set.
 */
export function readServerKeyExchangeBody(r: Reader, cipherSuite?: number, version?: number): ServerKeyExchange {
  const base = r.offset;
  const raw = r.rest();
  const none: ServerKeyExchange = { raw, ecdhe: null, dhe: null, signatureScheme: null, signature: null, error: null };
  const kx = cipherSuite === undefined ? undefined : cipherSuiteInfo(cipherSuite)?.keyExchange;
  if (kx !== 'ECDHE' && kx !== 'DHE') return none;
  const p = new Reader(raw, r.path, base);
  try {
    let ecdhe: EcdheParams | null = null;
    let dhe: DheParams | null = null;
    if (kx === 'ECDHE') {
      const curveType = p.u8('curve_type');
      if (curveType !== NAMED_CURVE)
        p.fail('bad-value', `curve_type ${curveType} is not named_curve (3)`, 'curve_type');
      const namedGroup = p.u16('namedcurve');
      ecdhe = { curveType, namedGroup, publicKey: p.vec(1, 'public', { min: 1 }) };
    } else {
      dhe = { p: p.vec(2, 'dh_p', { min: 1 }), g: p.vec(2, 'dh_g', { min: 1 }), ys: p.vec(2, 'dh_Ys', { min: 1 }) };
    }
    const tls12 = version === undefined || version >= ProtocolVersion.TLS1_2;
    const signatureScheme = tls12 ? p.u16('signature_algorithm') : null;
    const signature = p.vec(2, 'signature');
    p.end();
    return { raw, ecdhe, dhe, signatureScheme, signature, error: null };
  } catch (e) {
    if (e instanceof DecodeError) return { ...none, error: e };
    throw e;
  }
}

export function writeServerKeyExchangeBody(w: Writer, m: ServerKeyExchange): void {
  w.bytes(m.raw);
}
