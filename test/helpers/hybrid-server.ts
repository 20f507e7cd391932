/**
 * A TLS 1.3 test server that selects X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem): the stand-in for a
 * real one, since Debian's OpenSSL (3.0) and GnuTLS (3.7) have no ML-KEM. It is built from the same
 * pieces as tlsprobe (ML-KEM-768 from @noble/post-quantum, X25519 and the key schedule from
 * node:crypto) and answers one ClientHello per connection with ServerHello, then EncryptedExtensions,
 * Certificate, a real CertificateVerify (RSA-PSS or ECDSA with the lab leaf key) and Finished under
 * the handshake keys; it resets a hello without an X25519MLKEM768 share. 127.0.0.1, port 0.
 */
import { createPrivateKey, randomBytes, sign, constants } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { readClientHello } from '../../src/lab/hello-gate.js';
import type { LabPki } from '../../src/lab/pki.js';
import { writeCertificateBody } from '../../src/tls/certificate.js';
import { encodeClientHello } from '../../src/tls/client-hello.js';
import { findExtension, writeExtensions } from '../../src/tls/extensions.js';
import { writeHandshake } from '../../src/tls/handshake-header.js';
import { encapsulateX25519MlKem768 } from '../../src/tls/hybrid-key-share.js';
import { finishedVerifyData, handshakeSecrets, trafficKeys, transcriptHash } from '../../src/tls/key-schedule.js';
import { encryptRecord, newProtectionState } from '../../src/tls/protection.js';
import { writeRecord } from '../../src/tls/record.js';
import { ContentType, HandshakeType, NamedGroup, ProtocolVersion } from '../../src/tls/registry.js';
import { encodeServerHello } from '../../src/tls/server-hello.js';
import { Writer } from '../../src/wire/writer.js';

export interface HybridServer {
  readonly port: number;
  /** Server shares sent, for the test to check what was negotiated. */
  readonly selected: number[];
  close(): Promise<void>;
}

function message(type: number, body: (w: Writer) => void): Uint8Array {
  const w = new Writer(256);
  writeHandshake(w, type, body);
  return w.finish();
}

/** RFC 8446, Section 4.4.3: the content a server's CertificateVerify signs. */
function certificateVerifyContent(transcript: Uint8Array): Buffer {
  return Buffer.concat([
    Buffer.alloc(64, 0x20),
    Buffer.from('TLS 1.3, server CertificateVerify', 'ascii'),
    Buffer.from([0]),
    transcript,
  ]);
}

function answer(socket: Socket, pki: LabPki, selected: number[]): void {
  void readClientHello(socket).then((got) => {
    if (got.kind !== 'hello') return void socket.destroy();
    const ch = got.hello;
    const share = findExtension(ch.extensions, 'key_share')?.shares?.find((s) => s.group === NamedGroup.X25519MLKEM768);
    if (!share || !ch.cipherSuites.includes(0x1301)) return void socket.resetAndDestroy();
    const { serverShare, sharedSecret } = encapsulateX25519MlKem768(share.keyExchange);
    selected.push(NamedGroup.X25519MLKEM768);
    const suite = 0x1301;
    const sh = encodeServerHello({
      legacyVersion: ProtocolVersion.TLS1_2,
      random: new Uint8Array(randomBytes(32)),
      sessionId: ch.sessionId,
      cipherSuite: suite,
      compressionMethod: 0,
      extensions: [
        { kind: 'supported_versions', type: 0x002b, versions: null, selected: ProtocolVersion.TLS1_3 },
        {
          kind: 'key_share',
          type: 0x0033,
          shares: [{ group: NamedGroup.X25519MLKEM768, keyExchange: serverShare }],
          selectedGroup: null,
        },
      ],
    });
    const transcript: Uint8Array[] = [encodeClientHello(ch), sh];
    const secrets = handshakeSecrets('sha256', sharedSecret, transcriptHash('sha256', transcript));
    const state = newProtectionState(suite, trafficKeys('sha256', suite, secrets.serverHandshakeTrafficSecret));
    const ee = message(HandshakeType.encrypted_extensions, (w) => writeExtensions(w, [], 'encrypted_extensions'));
    const cert = message(HandshakeType.certificate, (w) =>
      writeCertificateBody(w, {
        context: new Uint8Array(0),
        entries: [pki.leaf, pki.intermediate].map((c) => ({ der: c.der, extensions: [] })),
      }),
    );
    transcript.push(ee, cert);
    const key = createPrivateKey(pki.leaf.keyPem);
    const content = certificateVerifyContent(transcriptHash('sha256', transcript));
    const rsa = key.asymmetricKeyType === 'rsa';
    const signature = rsa
      ? sign('sha256', content, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
      : sign('sha256', content, key);
    const cv = message(HandshakeType.certificate_verify, (w) => w.u16(rsa ? 0x0804 : 0x0403).vec(2, signature));
    transcript.push(cv);
    const fin = message(HandshakeType.finished, (w) =>
      w.bytes(finishedVerifyData('sha256', secrets.serverHandshakeTrafficSecret, transcriptHash('sha256', transcript))),
    );
    const out = new Writer(4096);
    writeRecord(out, { type: ContentType.handshake, version: ProtocolVersion.TLS1_2, fragment: sh });
    // RFC 8446, Section 5: a compatibility ChangeCipherSpec is allowed; none is sent.
    for (const m of [ee, cert, cv, fin]) out.bytes(encryptRecord(state, ContentType.handshake, m));
    socket.end(out.finish());
  });
}

/** Starts the server on 127.0.0.1 (port 0). */
export async function startHybridServer(pki: LabPki): Promise<HybridServer> {
  const selected: number[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
    answer(s, pki, selected);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    selected,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
