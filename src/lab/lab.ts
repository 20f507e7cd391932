/**
 * The lab: `startLab` returns local TLS endpoints on loopback that behave like real servers and like
 * the broken ones tlsprobe diagnoses; it rejects only when a server cannot listen.
 *
 * `tlsprobe lab` prints `formatPortMap(lab)` and keeps the lab running; tests start one per file.
 * The lab PKI is generated at start, in memory (see `pki.ts`); clients trust `lab.pki.root.pem`.
 * Ports are chosen by the OS, so parallel labs never clash. The lab only ever listens on a loopback
 * address: it serves deliberately weak TLS and must not be reachable from the network.
 */
import { isIP } from 'node:net';
import {
  LAB_ENDPOINT_NAMES,
  type LabEndpointName,
  type LabVersion,
  type RunningEndpoint,
  startEndpoint,
} from './endpoints.js';
import { type LabKeyAlgorithm, type LabPki, fingerprintSha256, generateLabPki } from './pki.js';
import { deadRevocationUrl, startRevocationResponder, type RevocationResponder } from './revocation-server.js';

export {
  LAB_ENDPOINT_NAMES,
  LAB_ENDPOINT_SPECS,
  type LabEndpointName,
  type LabEndpointSpec,
  type LabVersion,
} from './endpoints.js';
export type { LabCertificate, LabKeyAlgorithm, LabPki } from './pki.js';

/** Loopback addresses the lab may listen on. */
export type LabHost = '127.0.0.1' | '::1';

export const DEFAULT_LAB_HOST: LabHost = '127.0.0.1';

export interface LabEndpoint {
  readonly name: LabEndpointName;
  readonly host: LabHost;
  readonly port: number;
  readonly description: string;
  /** Versions a handshake can complete with, e.g. ['TLS1.2', 'TLS1.3']; empty when none can. */
  readonly versions: readonly LabVersion[];
}

export interface Lab {
  readonly endpoints: readonly LabEndpoint[];
  readonly pki: LabPki;
  /**
   * The loopback CRL/OCSP responder every lab certificate points at (CRL distribution point and AIA
   * OCSP URL), and the chains of the `revoked` and `revocation-offline` endpoints (null when those
   * endpoints were not started). A `pki` passed in is served too, but its certificates name no URL.
   */
  readonly revocation: {
    readonly responder: RevocationResponder;
    readonly revokedPki: LabPki | null;
    readonly offlinePki: LabPki | null;
  };
  /** Returns the endpoint called `name`; throws RangeError when this lab has none by that name. */
  endpoint(name: string): LabEndpoint;
  /** Closes every server and connection; resolves when all are closed. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartLabOptions {
  /** Loopback address to listen on: '127.0.0.1' (default) or '::1'. */
  readonly host?: string;
  /** Endpoints to start (default: all, in `LAB_ENDPOINT_NAMES` order). */
  readonly names?: readonly string[];
  /** A chain to reuse instead of generating one (RSA key generation costs ~0.1 s per key). */
  readonly pki?: LabPki;
  /** Key type when generating the chain (default 'rsa-2048'). */
  readonly keyAlgorithm?: LabKeyAlgorithm;
}

/**
 * Returns a running lab. Rejects with RangeError for a host that is not a loopback literal or an
 * unknown endpoint name, and with the listen error if a server cannot start (the ones already
 * started are closed first).
 */
export async function startLab(opts: StartLabOptions = {}): Promise<Lab> {
  const host = checkHost(opts.host ?? DEFAULT_LAB_HOST);
  const names = checkNames(opts.names ?? LAB_ENDPOINT_NAMES);
  const responder = await startRevocationResponder(host);
  const base = responder.allocateBase();
  const pki =
    opts.pki ??
    (await generateLabPki({
      ...(opts.keyAlgorithm !== undefined ? { keyAlgorithm: opts.keyAlgorithm } : {}),
      revocationBaseUrl: base,
    }));
  await responder.serve(base, pki);
  // The revocation endpoints get chains of their own (ECDSA: key generation is fast).
  let revokedPki: LabPki | null = null;
  let offlinePki: LabPki | null = null;
  if (names.includes('revoked')) {
    const revokedBase = responder.allocateBase();
    revokedPki = await generateLabPki({ keyAlgorithm: 'ecdsa-p256', revocationBaseUrl: revokedBase });
    await responder.serve(revokedBase, revokedPki, { revokeLeaf: true });
  }
  if (names.includes('revocation-offline'))
    offlinePki = await generateLabPki({ keyAlgorithm: 'ecdsa-p256', revocationBaseUrl: await deadRevocationUrl(host) });
  const pkiFor = (n: LabEndpointName): LabPki =>
    (n === 'revoked' && revokedPki) || (n === 'revocation-offline' && offlinePki) || pki;

  const started = await Promise.allSettled(names.map((n) => startEndpoint(n, host, pkiFor(n))));
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all([...running.map((r) => r.close()), responder.close()]);
    throw failed.reason;
  }

  const endpoints: readonly LabEndpoint[] = running.map((r: RunningEndpoint) => ({
    name: r.spec.name,
    host,
    port: r.port,
    description: r.spec.description,
    versions: r.spec.versions,
  }));
  let closing: Promise<void> | null = null;
  return {
    endpoints,
    pki,
    revocation: { responder, revokedPki, offlinePki },
    endpoint(name: string): LabEndpoint {
      const e = endpoints.find((x) => x.name === name);
      if (e === undefined) {
        throw new RangeError(
          `no lab endpoint ${JSON.stringify(name)}; this lab has ${endpoints.map((x) => x.name).join(', ')}`,
        );
      }
      return e;
    },
    close(): Promise<void> {
      closing ??= Promise.all([...running.map((r) => r.close()), responder.close()]).then(() => undefined);
      return closing;
    },
  };
}

/**
 * Returns a printable map of the lab: one line per endpoint (name, address, versions, behaviour),
 * then the root CA to trust.
 */
export function formatPortMap(lab: Lab): string {
  const rows = lab.endpoints.map((e) => [
    e.name,
    hostPort(e.host, e.port),
    e.versions.length > 0 ? e.versions.join(' ') : '-',
    e.description,
  ]);
  const header = ['ENDPOINT', 'ADDRESS', 'HANDSHAKES', 'BEHAVIOUR'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [
    line(header),
    ...rows.map(line),
    '',
    `Trust anchor: ${lab.pki.root.subject}`,
    `  SHA-256 ${fingerprintSha256(lab.pki.root.der)}`,
    `Leaf: ${lab.pki.leaf.subject} (SAN DNS:localhost, IP:127.0.0.1, IP:::1), issued by ${lab.pki.intermediate.subject}`,
    `CRL and OCSP responder: http://${hostPort(lab.revocation.responder.host, lab.revocation.responder.port)}/ (tlsprobe chain HOST:PORT --check-revocation)`,
    '',
  ].join('\n');
}

/** Returns `host:port`, with IPv6 literals in brackets (RFC 3986, Section 3.2.2). */
function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function checkHost(host: string): LabHost {
  if (host === '127.0.0.1' || host === '::1') return host;
  throw new RangeError(
    `the lab listens only on loopback (127.0.0.1 or ::1), not ${JSON.stringify(host)}: it serves deliberately weak TLS`,
  );
}

function checkNames(names: readonly string[]): LabEndpointName[] {
  const out: LabEndpointName[] = [];
  for (const n of names) {
    if (!(LAB_ENDPOINT_NAMES as readonly string[]).includes(n)) {
      throw new RangeError(`unknown lab endpoint ${JSON.stringify(n)}; known: ${LAB_ENDPOINT_NAMES.join(', ')}`);
    }
    if (!out.includes(n as LabEndpointName)) out.push(n as LabEndpointName);
  }
  if (out.length === 0) throw new RangeError('no lab endpoint selected');
  return out;
}
