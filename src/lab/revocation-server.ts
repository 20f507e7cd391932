/**
 * The lab's revocation responder: `startRevocationResponder` returns a loopback HTTP server that
 * serves the CRLs of lab PKIs and answers OCSP for them, the way a public CA's CDP and OCSP hosts do;
 * it rejects only when it cannot listen. `deadRevocationUrl` returns a loopback URL where nothing
 * listens, for certificates whose revocation endpoints are offline.
 *
 * Each PKI is served under its own prefix (`/pki-N`): `LAB_REVOCATION_PATHS` below it. OCSP takes
 * POST (RFC 6960, Appendix A.1) and GET with the base64 request in the path (what CryptoAPI sends).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, isIP } from 'node:net';
import { LAB_REVOCATION_PATHS, type LabPki } from './pki.js';
import { answerOcsp, issueLabCrl, type LabRevokedEntry, type LabSigningCa } from './revocation-pki.js';
import { listenOnFreePort } from './listen.js';

/** Largest OCSP request body accepted: 16 KiB (a one-certificate request is about 100 bytes). */
const MAX_OCSP_REQUEST_BYTES = 16 * 1024;

/** CRLReason keyCompromise (RFC 5280, Section 5.3.1): the reason the lab gives a revoked leaf. */
export const LAB_REVOKED_REASON = 1;

/** One request the responder received. */
export interface RevocationRequest {
  readonly method: string;
  readonly path: string;
}

export interface RevocationResponder {
  readonly host: string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly requests: RevocationRequest[];
  /** Returns a fresh base URL (`http://host:port/pki-N`) to generate a PKI with (`revocationBaseUrl`). */
  allocateBase(): string;
  /** Serves `pki`'s CRLs and OCSP under `base` (from `allocateBase`); with `revokeLeaf`, the leaf is listed as revoked (keyCompromise). */
  serve(base: string, pki: LabPki, opts?: { readonly revokeLeaf?: boolean }): Promise<void>;
  close(): Promise<void>;
}

interface Served {
  readonly cas: readonly LabSigningCa[];
  readonly rootCrl: Uint8Array;
  readonly issuingCrl: Uint8Array;
}

function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Returns a running responder on the loopback address `host`. */
export async function startRevocationResponder(host: string): Promise<RevocationResponder> {
  const served = new Map<string, Served>();
  const requests: RevocationRequest[] = [];
  let next = 1;
  const server: Server = createHttpServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '' });
    handle(req, res, served).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const port = await listenOnFreePort(server, host);
  const origin = `http://${hostPort(host, port)}`;
  let closing: Promise<void> | null = null;
  return {
    host,
    port,
    requests,
    allocateBase: () => `${origin}/pki-${next++}`,
    async serve(base, pki, opts = {}) {
      const prefix = new URL(base).pathname;
      const now = new Date();
      const revoked: LabRevokedEntry[] = opts.revokeLeaf
        ? [
            {
              serialHex: pki.leaf.serialHex,
              date: new Date(now.getTime() - 60 * 60 * 1000),
              reason: LAB_REVOKED_REASON,
            },
          ]
        : [];
      const root: LabSigningCa = {
        ca: pki.root,
        keyAlgorithm: pki.keyAlgorithm,
        revoked: [],
        issued: [pki.intermediate.serialHex],
      };
      const issuing: LabSigningCa = {
        ca: pki.intermediate,
        keyAlgorithm: pki.keyAlgorithm,
        revoked,
        issued: [pki.leaf.serialHex],
      };
      served.set(prefix, {
        cas: [root, issuing],
        rootCrl: await issueLabCrl(root, 1, now),
        issuingCrl: await issueLabCrl(issuing, 1, now),
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, served: ReadonlyMap<string, Served>): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://lab');
  const m = /^(\/pki-\d+)(\/.*)$/.exec(url.pathname);
  const pki = m ? served.get(m[1]!) : undefined;
  const rest = m?.[2] ?? '';
  const send = (status: number, type: string | null, body?: Uint8Array): void => {
    res.writeHead(status, type ? { 'Content-Type': type, 'Content-Length': body?.length ?? 0 } : {});
    res.end(body ? Buffer.from(body) : undefined);
  };
  if (!pki) return send(404, null);
  if (req.method === 'GET' && rest === LAB_REVOCATION_PATHS.rootCrl)
    return send(200, 'application/pkix-crl', pki.rootCrl);
  if (req.method === 'GET' && rest === LAB_REVOCATION_PATHS.issuingCrl)
    return send(200, 'application/pkix-crl', pki.issuingCrl);
  if (req.method === 'POST' && rest === LAB_REVOCATION_PATHS.ocsp) {
    const body = await readBody(req);
    if (body === null) return send(413, null);
    return send(200, 'application/ocsp-response', await answerOcsp(body, pki.cas, new Date()));
  }
  if (req.method === 'GET' && rest.startsWith(`${LAB_REVOCATION_PATHS.ocsp}/`)) {
    // RFC 6960, Appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER OCSPRequest}.
    const b64 = decodeURIComponent(rest.slice(LAB_REVOCATION_PATHS.ocsp.length + 1));
    return send(
      200,
      'application/ocsp-response',
      await answerOcsp(new Uint8Array(Buffer.from(b64, 'base64')), pki.cas, new Date()),
    );
  }
  return send(404, null);
}

function readBody(req: IncomingMessage): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (c: Buffer) => {
      total += c.length;
      if (total <= MAX_OCSP_REQUEST_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(total > MAX_OCSP_REQUEST_BYTES ? null : new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/**
 * Returns `http://host:PORT/offline` for a loopback port where nothing listens: a port the OS just
 * handed out and that was closed again (another process could take it in between; on loopback in a
 * test run that is rare, and it would answer 404 or refuse all the same).
 */
export async function deadRevocationUrl(host: string): Promise<string> {
  const s = createNetServer();
  const port = await listenOnFreePort(s, host);
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://${hostPort(host, port)}/offline`;
}
