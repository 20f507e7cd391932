/**
 * Name resolution for probes, a step of its own before any exchange (transport.ts): a probe tries
 * each address, and the connect timeout never includes DNS time.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { NOT_CONNECTED, result } from './exchange-result.js';
import type { ExchangeResult } from './exchange-result.js';

/** One resolved address of a host. */
export interface ResolvedAddress {
  readonly address: string;
  /** 4 or 6. */
  readonly family: 4 | 6;
}

/** A failed name resolution: the `dns.lookup` error code (`ENOTFOUND`, `EAI_AGAIN`, …) and message. */
export interface DnsFailure {
  readonly ok: false;
  readonly host: string;
  readonly errorCode: string;
  readonly message: string;
}

/** The addresses of a host, in the order the system resolver returned them. */
export interface DnsSuccess {
  readonly ok: true;
  readonly host: string;
  readonly addresses: readonly ResolvedAddress[];
}

export type ResolveResult = DnsSuccess | DnsFailure;

/** The `dns.lookup` signature `resolveHost` needs (injectable so tests never touch a real resolver). */
export type LookupAll = (
  host: string,
  options: { all: true; verbatim: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * Returns every address of `host` (IPv4 and IPv6, in resolver order, duplicates removed), or a
 * `DnsFailure`; never rejects. IP literals come back as themselves without a query. Uses the
 * system resolver (`dns.lookup`, so /etc/hosts applies), the same one a real client on this
 * machine would use.
 */
export function resolveHost(host: string, lookup: LookupAll = dnsLookup as LookupAll): Promise<ResolveResult> {
  return new Promise<ResolveResult>((resolve) => {
    const fail = (errorCode: string, message: string): void => resolve({ ok: false, host, errorCode, message });
    try {
      lookup(host, { all: true, verbatim: true }, (err, list) => {
        if (err) {
          fail(err.code ?? 'UNKNOWN', err.message);
          return;
        }
        const seen = new Set<string>();
        const addresses: ResolvedAddress[] = [];
        for (const a of list) {
          if (seen.has(a.address) || (a.family !== 4 && a.family !== 6)) continue;
          seen.add(a.address);
          addresses.push({ address: a.address, family: a.family });
        }
        if (addresses.length === 0) fail('ENOTFOUND', `no address for ${host}`);
        else resolve({ ok: true, host, addresses });
      });
    } catch (err) {
      // dns.lookup throws synchronously for an invalid argument (e.g. a non-string host).
      const e = err as NodeJS.ErrnoException;
      fail(e.code ?? 'EINVAL', e.message);
    }
  });
}

/** Returns the `ExchangeResult` of a probe that never connected because `resolveHost` failed. */
export function dnsErrorResult(failure: DnsFailure, port: number): ExchangeResult {
  return result({ ...NOT_CONNECTED, address: failure.host, port, end: 'dns-error', errorCode: failure.errorCode });
}
