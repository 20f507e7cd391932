/**
 * Lab endpoint behaviours: `startEndpoint` returns a listening loopback server that acts like one
 * kind of real TLS endpoint (or one kind of misbehaving one); it rejects only if listening fails.
 *
 * Real TLS stacks answer every handshake (Node's `tls` server, i.e. OpenSSL); scripted raw sockets
 * are used only for the misbehaviours a real stack will not produce on demand. Every endpoint is a
 * plain `net.Server`: the accepted socket either goes straight to a non-listening `tls.Server`
 * (`emit('connection')`), or first through the hello gate, which reads the whole ClientHello and
 * then resets, alerts, closes, or hands the socket on with the consumed bytes unshifted.
 */
import { listenOnFreePort } from './listen.js';
import { type Server, type Socket, createServer as createNetServer } from 'node:net';
import {
  type TLSSocket,
  type SecureVersion,
  createServer as createTlsServer,
  type Server as TlsServer,
} from 'node:tls';
import { Writer } from '../wire/writer.js';
import { writeAlert } from '../tls/alert.js';
import { writeRecord } from '../tls/record.js';
import {
  AlertDescription,
  AlertLevel,
  ContentType,
  ExtensionType,
  NamedGroup,
  ProtocolVersion,
} from '../tls/registry.js';
import { readClientHello } from './hello-gate.js';
import { gatePicky, type PickyRule } from './picky.js';
import type { LabPki } from './pki.js';

/** Names of the lab endpoints, in the order they are listed. */
export const LAB_ENDPOINT_NAMES = [
  'modern',
  'tls13-only',
  'legacy',
  'reset-legacy',
  'alert-legacy',
  'silent-close',
  'black-hole',
  'picky-size',
  'picky-scsv',
  'picky-sni',
  'picky-large',
  'picky-group',
  'picky-extension',
  'revoked',
  'revocation-offline',
] as const;

export type LabEndpointName = (typeof LAB_ENDPOINT_NAMES)[number];

/**
 * The first record size the `picky-large` endpoint resets: a hello larger than one TCP segment of a
 * 1,500-byte MTU path (1,460 bytes of payload, less room for TCP options) arrives in two segments.
 */
export const PICKY_LARGE_MIN = 1401;

/** Version labels used in `versions`. */
export type LabVersion = 'TLS1.0' | 'TLS1.1' | 'TLS1.2' | 'TLS1.3';

/** What an endpoint is and which versions complete a handshake with it. */
export interface LabEndpointSpec {
  readonly name: LabEndpointName;
  readonly description: string;
  /** Versions a handshake can complete with (empty: none ever does). */
  readonly versions: readonly LabVersion[];
}

export const LAB_ENDPOINT_SPECS: Readonly<Record<LabEndpointName, LabEndpointSpec>> = {
  modern: {
    name: 'modern',
    description: 'Node tls server, TLS 1.2 and 1.3, default ciphers, root → intermediate → leaf chain',
    versions: ['TLS1.2', 'TLS1.3'],
  },
  'tls13-only': {
    name: 'tls13-only',
    description: 'Node tls server, TLS 1.3 only: a TLS 1.2 hello gets a protocol_version alert',
    versions: ['TLS1.3'],
  },
  legacy: {
    name: 'legacy',
    description: 'Node tls server, TLS 1.0 to 1.3, DEFAULT@SECLEVEL=0 ciphers (old CBC/SHA-1 suites allowed)',
    versions: ['TLS1.0', 'TLS1.1', 'TLS1.2', 'TLS1.3'],
  },
  'reset-legacy': {
    name: 'reset-legacy',
    description: 'TCP reset after any ClientHello below TLS 1.2 (the Windows 10054 case); TLS 1.2+ served normally',
    versions: ['TLS1.2', 'TLS1.3'],
  },
  'alert-legacy': {
    name: 'alert-legacy',
    description: 'fatal protocol_version alert then FIN for any ClientHello below TLS 1.2; TLS 1.2+ served normally',
    versions: ['TLS1.2', 'TLS1.3'],
  },
  'silent-close': {
    name: 'silent-close',
    description: 'reads the ClientHello, then closes (FIN) without sending a byte',
    versions: [],
  },
  'black-hole': {
    name: 'black-hole',
    description: 'accepts the connection and reads everything, never answers',
    versions: [],
  },
  'picky-size': {
    name: 'picky-size',
    description:
      'TCP reset after any ClientHello whose record is 256–511 bytes (the F5 hello-size bug, RFC 7685); others served normally',
    versions: ['TLS1.2', 'TLS1.3'],
  },
  'picky-scsv': {
    name: 'picky-scsv',
    description:
      'TCP reset after a TLS 1.2 ClientHello with neither the renegotiation SCSV nor renegotiation_info (RFC 5746); others served normally',
    versions: ['TLS1.2', 'TLS1.3'],
  },
  'picky-sni': {
    name: 'picky-sni',
    description:
      'fatal handshake_failure alert for any ClientHello without SNI; others served by a TLS 1.0–1.3 server (DEFAULT@SECLEVEL=0)',
    versions: ['TLS1.0', 'TLS1.1', 'TLS1.2', 'TLS1.3'],
  },
  'picky-large': {
    name: 'picky-large',
    description: `TCP reset after any ClientHello record over ${PICKY_LARGE_MIN - 1} bytes (more than one TCP segment: devices that mishandle split hellos); others served normally`,
    versions: ['TLS1.2', 'TLS1.3'],
  },
  'picky-group': {
    name: 'picky-group',
    description:
      'TCP reset after any ClientHello that offers X25519MLKEM768 (0x11ec) in supported_groups or key_share (middleboxes that broke on post-quantum hellos); others served normally',
    versions: ['TLS1.2', 'TLS1.3'],
  },
  'picky-extension': {
    name: 'picky-extension',
    description:
      'TCP reset after any ClientHello carrying status_request (extension 5, OCSP stapling request); others served normally',
    versions: ['TLS1.2', 'TLS1.3'],
  },
  revoked: {
    name: 'revoked',
    description:
      'Node tls server, TLS 1.2 and 1.3, a chain whose leaf the lab CRL and OCSP responder list as revoked (keyCompromise)',
    versions: ['TLS1.2', 'TLS1.3'],
  },
  'revocation-offline': {
    name: 'revocation-offline',
    description:
      'Node tls server, TLS 1.2 and 1.3, a chain whose CRL and OCSP URLs point at a loopback port where nothing listens',
    versions: ['TLS1.2', 'TLS1.3'],
  },
};

/** The rules of the parameterised picky endpoints. */
export const PICKY_ENDPOINT_RULES = {
  'picky-large': { kind: 'size', min: PICKY_LARGE_MIN, max: Number.POSITIVE_INFINITY },
  'picky-group': { kind: 'group', group: NamedGroup.X25519MLKEM768 },
  'picky-extension': { kind: 'extension', type: ExtensionType.status_request },
} as const satisfies Record<string, PickyRule>;

/** A started endpoint. */
export interface RunningEndpoint {
  readonly spec: LabEndpointSpec;
  readonly port: number;
  /** Stops listening and destroys every connection; resolves once the server is closed. */
  close(): Promise<void>;
}

/** TLS settings of a real-stack endpoint. */
interface TlsProfile {
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  readonly ciphers?: string;
}

const MODERN: TlsProfile = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' };
const TLS13_ONLY: TlsProfile = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };
// OpenSSL 3 refuses TLS 1.0/1.1 and SHA-1 handshake signatures above security level 0.
const LEGACY: TlsProfile = { minVersion: 'TLSv1', maxVersion: 'TLSv1.3', ciphers: 'DEFAULT@SECLEVEL=0' };

/**
 * Returns the listening endpoint `name` on `host` (port chosen by the OS), serving `pki`'s chain.
 * Rejects with the listen error (e.g. `EADDRNOTAVAIL` for a host that is not local).
 */
export async function startEndpoint(name: LabEndpointName, host: string, pki: LabPki): Promise<RunningEndpoint> {
  const spec = LAB_ENDPOINT_SPECS[name];
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    // A lab endpoint must never crash its process because a client misbehaved.
    s.on('error', ignore);
    s.once('close', () => sockets.delete(s));
  };

  let handle: (socket: Socket) => void;
  switch (name) {
    case 'modern':
    case 'revoked': // the lab hands these two their own chains (lab.ts)
    case 'revocation-offline':
      handle = serveTls(createLabTlsServer(spec, pki, MODERN, track));
      break;
    case 'tls13-only':
      handle = serveTls(createLabTlsServer(spec, pki, TLS13_ONLY, track));
      break;
    case 'legacy':
      handle = serveTls(createLabTlsServer(spec, pki, LEGACY, track));
      break;
    case 'reset-legacy':
      handle = gateLegacy(createLabTlsServer(spec, pki, MODERN, track), 'reset');
      break;
    case 'alert-legacy':
      handle = gateLegacy(createLabTlsServer(spec, pki, MODERN, track), 'alert');
      break;
    case 'silent-close':
      handle = silentClose;
      break;
    case 'black-hole':
      handle = blackHole;
      break;
    case 'picky-size':
      handle = gatePicky(createLabTlsServer(spec, pki, MODERN, track), 'size');
      break;
    case 'picky-scsv':
      handle = gatePicky(createLabTlsServer(spec, pki, MODERN, track), 'scsv');
      break;
    case 'picky-sni':
      handle = gatePicky(createLabTlsServer(spec, pki, LEGACY, track), 'sni');
      break;
    case 'picky-large':
    case 'picky-group':
    case 'picky-extension':
      handle = gatePicky(createLabTlsServer(spec, pki, MODERN, track), PICKY_ENDPOINT_RULES[name]);
      break;
  }

  const server: Server = createNetServer((socket) => {
    track(socket);
    handle(socket);
  });
  const port = await listenOnFreePort(server, host);

  let closing: Promise<void> | null = null;
  return {
    spec,
    port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

function ignore(): void {}

/** Returns a non-listening Node tls.Server that answers on the lab chain and tracks its TLS sockets. */
function createLabTlsServer(
  spec: LabEndpointSpec,
  pki: LabPki,
  profile: TlsProfile,
  track: (s: Socket) => void,
): TlsServer {
  const server = createTlsServer({
    key: pki.leaf.keyPem,
    // The lab sends its root too, as TLS-inspecting appliances commonly do: a chain check then sees
    // the whole path end at a self-signed root outside the documented set, the inspection signature.
    cert: pki.chainPem + pki.root.pem,
    minVersion: profile.minVersion,
    maxVersion: profile.maxVersion,
    ...(profile.ciphers !== undefined ? { ciphers: profile.ciphers } : {}),
  });
  server.on('secureConnection', (tlsSocket: TLSSocket) => {
    track(tlsSocket);
    respondOnce(tlsSocket, spec);
  });
  // A failed handshake (e.g. TLS 1.2 at tls13-only) is the endpoint working as intended; OpenSSL
  // has already sent its alert. Node destroys the socket when no listener is attached; so do we.
  server.on('tlsClientError', (_err: Error, tlsSocket: TLSSocket) => tlsSocket.destroy());
  return server;
}

/**
 * After the handshake, answers the first application data with a tiny HTTP/1.1 response naming the
 * endpoint and the negotiated parameters, then closes: `curl --cacert root.pem` gets something readable.
 */
function respondOnce(tlsSocket: TLSSocket, spec: LabEndpointSpec): void {
  tlsSocket.once('data', () => {
    const body = `tlsprobe lab endpoint ${spec.name}: ${tlsSocket.getProtocol() ?? '?'} ${tlsSocket.getCipher().standardName}\n`;
    tlsSocket.end(
      `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

/** Hands a raw socket to a real TLS stack. */
function serveTls(tlsServer: TlsServer): (socket: Socket) => void {
  return (socket) => {
    tlsServer.emit('connection', socket);
  };
}

/**
 * Returns a handler that reads the whole ClientHello, then refuses any whose highest offered version
 * is below TLS 1.2, and any SSL 2.0-format hello (by `reaction`), and hands the others to
 * `tlsServer` with the bytes put back.
 * Bytes that are not a ClientHello also go to the TLS stack, which answers them as a real one would.
 */
function gateLegacy(tlsServer: TlsServer, reaction: 'reset' | 'alert'): (socket: Socket) => void {
  return (socket) => {
    void readClientHello(socket).then((got) => {
      if (got.kind === 'gone') {
        socket.destroy();
        return;
      }
      const legacyVersion =
        got.kind === 'sslv2-hello'
          ? got.version
          : got.kind === 'hello' && got.highestVersion < ProtocolVersion.TLS1_2
            ? got.hello.legacyVersion
            : null;
      if (legacyVersion !== null) {
        if (reaction === 'reset') {
          // SO_LINGER 0 then close: the kernel sends RST, the client sees ECONNRESET (WSAECONNRESET 10054).
          socket.resetAndDestroy();
        } else {
          socket.end(protocolVersionAlert(legacyVersion));
          socket.resume(); // drain whatever else the client sends until it closes
        }
        return;
      }
      // Put the consumed bytes back in front of the stream; Node's TLSSocket reads a wrapped
      // socket's buffered data before its handle (lib/_tls_wrap.js initRead).
      socket.unshift(Buffer.from(got.consumed));
      tlsServer.emit('connection', socket);
    });
  };
}

/**
 * Returns a fatal protocol_version alert record (RFC 8446, Section 6.2; RFC 5246, Section 7.2.2),
 * with the record version a TLS 1.2 stack uses when refusing an older client: the client's
 * legacy_version, kept within SSL 3.0 .. TLS 1.2.
 */
export function protocolVersionAlert(clientLegacyVersion: number): Uint8Array {
  const version = Math.min(Math.max(clientLegacyVersion, ProtocolVersion.SSL3_0), ProtocolVersion.TLS1_2);
  const body = new Writer(2);
  writeAlert(body, { level: AlertLevel.fatal, description: AlertDescription.protocol_version });
  const w = new Writer(7);
  writeRecord(w, { type: ContentType.alert, version, fragment: body.finish() });
  return w.finish();
}

/** Reads the ClientHello (so closing sends FIN, not RST over unread data), then closes without a byte. */
function silentClose(socket: Socket): void {
  void readClientHello(socket).then(() => {
    socket.end();
    socket.resume(); // keep reading until the client closes its side
  });
}

/** Reads and discards everything; never writes, never closes (until the lab closes). */
function blackHole(socket: Socket): void {
  socket.resume();
}
