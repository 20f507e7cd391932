/**
 * A client given by its ClientHello bytes (a record as captured, or a bare handshake message):
 * `clientFromHello` returns a client `runDiagnosis` can send and bisect like a profile, or throws
 * DecodeError (bytes that hold no ClientHello) with the offset.
 */
import { probeVersionOf, type PrebuiltHello, type ProbeVersion } from '../probe/profiles.js';
import { PROBE_VERSIONS } from '../probe/versions.js';
import { highestOfferedVersion, type ClientHello } from '../tls/client-hello.js';
import { clientSupportedVersions } from '../tls/client-hello.js';
import { ProtocolVersion } from '../tls/registry.js';
import { decodeStream } from '../tls/stream.js';
import { DecodeError } from '../wire/errors.js';
import { VERSION_CODE } from '../probe/profiles.js';
import type { ClientLike } from './run.js';
import { serverNameOf } from './hello-variants.js';

/**
 * Returns the client whose first ClientHello is in `bytes`, titled `title`. Its `build(sni)` returns
 * that hello as captured, with server_name set to `sni` when the captured hello named a server (so
 * the diagnosis reaches the endpoint under test) and left alone otherwise. Key shares are sent as
 * captured: their private halves are unknown, so a TLS 1.3 handshake is judged at its ServerHello.
 */
export function clientFromHello(bytes: Uint8Array, title: string): ClientLike {
  const first = decodeStream(bytes).find((i) => i.kind === 'handshake');
  if (first?.kind !== 'handshake' || first.message.kind !== 'client_hello') {
    throw new DecodeError('bad-value', 'the input does not start with a ClientHello', 0, 'ClientHello');
  }
  const hello: ClientHello = first.message.body;
  const recordVersion = first.recordVersion ?? ProtocolVersion.TLS1_0;
  const highest = probeVersionOf(highestOfferedVersion(hello));
  if (highest === null)
    throw new DecodeError(
      'bad-value',
      `the ClientHello offers no version tlsprobe probes (highest 0x${highestOfferedVersion(hello).toString(16)})`,
      0,
      'ClientHello',
    );
  const offered = clientSupportedVersions(hello) ?? [];
  const versions: ProbeVersion[] = PROBE_VERSIONS.filter(
    (v) =>
      (offered.length
        ? offered.includes(VERSION_CODE[v])
        : VERSION_CODE[v] <= VERSION_CODE[highest] && VERSION_CODE[v] >= ProtocolVersion.TLS1_0) || v === highest,
  );
  return {
    name: 'hello-file',
    title,
    versions,
    build(sni: string | null): PrebuiltHello {
      const named = serverNameOf(hello) !== undefined && sni !== null;
      // The name replaced in place: the captured extension order is part of what is diagnosed.
      const h: ClientHello = named
        ? {
            ...hello,
            extensions: (hello.extensions ?? []).map((e) =>
              e.type === 0
                ? { kind: 'server_name' as const, type: 0x0000 as const, names: [{ nameType: 0, name: sni }] }
                : e,
            ),
          }
        : hello;
      return { version: highest, hello: h, recordVersion };
    },
  };
}
