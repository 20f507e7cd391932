/**
 * tlsprobe's library API. Explicit named exports, no side effects at import.
 *
 *     import { decode, DecodeError } from 'tlsprobe';
 */
export { decode } from './decode.js';
export type { DecodeResult, Finding, Json, JsonObject } from './report/decode-view.js';
export {
  streamToJson,
  messageToJson,
  clientHelloToJson,
  serverHelloToJson,
  extensionToJson,
} from './report/decode-view.js';

// Wire layer
export { DecodeError, EncodeError, isDecodeError } from './wire/errors.js';
export type { DecodeErrorCode, EncodeErrorCode } from './wire/errors.js';
export { Reader } from './wire/reader.js';
export type { PrefixWidth } from './wire/reader.js';
export { Writer, encodeWith } from './wire/writer.js';
export { toHex, fromHex, equalBytes, concatBytes } from './wire/hex.js';

// TLS messages
export * from './tls/registry.js';
export { isGrease, GREASE_VALUES } from './tls/grease.js';
export type { TlsRecord } from './tls/record.js';
export { readRecord, writeRecord, encodeRecords, MAX_RECORD_FRAGMENT } from './tls/record.js';
export type { RecordDeframer, HandshakeAssembler, HandshakeFragment } from './tls/deframer.js';
export { createRecordDeframer, createHandshakeAssembler } from './tls/deframer.js';
export type {
  Extension,
  ExtensionContext,
  ExtensionKind,
  KeyShareEntry,
  ServerNameEntry,
  PskIdentity,
} from './tls/extensions.js';
export {
  readExtension,
  readExtensions,
  writeExtension,
  writeExtensions,
  findExtension,
  findExtensionByType,
} from './tls/extensions.js';
export type { ClientHello } from './tls/client-hello.js';
export {
  parseClientHello,
  viewClientHello,
  ClientHelloView,
  encodeClientHello,
  readClientHelloBody,
  writeClientHelloBody,
  clientServerName,
  clientSupportedVersions,
  highestOfferedVersion,
} from './tls/client-hello.js';
export type { ServerHello, DowngradeSentinel } from './tls/server-hello.js';
export {
  parseServerHello,
  encodeServerHello,
  readServerHelloBody,
  writeServerHelloBody,
  negotiatedVersion,
  isHelloRetryRequest,
  downgradeSentinel,
  serverKeyShareGroup,
  HELLO_RETRY_REQUEST_RANDOM,
} from './tls/server-hello.js';
export type { CertificateMessage, CertificateEntry } from './tls/certificate.js';
export { readCertificateBody, writeCertificateBody } from './tls/certificate.js';
export type { ServerKeyExchange, EcdheParams, DheParams } from './tls/server-key-exchange.js';
export { readServerKeyExchangeBody } from './tls/server-key-exchange.js';
export type { Alert } from './tls/alert.js';
export { readAlert, writeAlert, alertName } from './tls/alert.js';
export type { HandshakeMessage, HandshakeContext } from './tls/handshake.js';
export {
  readHandshakeMessage,
  parseHandshakeMessage,
  encodeHandshakeMessage,
  writeHandshakeMessage,
} from './tls/handshake.js';
export type { SslV2ClientHello } from './tls/sslv2.js';
export type { StreamItem } from './tls/stream.js';
export { decodeStream } from './tls/stream.js';

// Probing
export type { ProbeVersion } from './probe/versions.js';
export { PROBE_VERSIONS } from './probe/versions.js';
export type { HelloOptions, PrebuiltHello, HelloSpec, BuiltHello } from './probe/profiles.js';
export { buildClientHello, suitesForVersion } from './probe/profiles.js';
export type { OutcomeKind } from './probe/outcome.js';
export { describeOutcome } from './probe/outcome.js';
export type { AttemptResult, AttemptOptions, ProbeTarget, AlertInfo } from './probe/attempt.js';
export { attempt } from './probe/attempt.js';
export type { ScanOptions, ScanResult, AddressScan } from './probe/scan.js';
export { scan } from './probe/scan.js';
export { scanToJson } from './report/probe-view.js';
export type { Via } from './probe/proxy.js';
export { parseProxyUrl } from './probe/proxy.js';
export type { StarttlsProtocol } from './probe/starttls.js';

// TLS 1.3 key schedule and record protection
export * as keySchedule from './tls/key-schedule.js';
export { decryptRecord, encryptRecord, newProtectionState } from './tls/protection.js';
export { parseKeyLog } from './tls/keylog.js';

// Certificates
export type { CertInfo, DistinguishedName } from './x509/types.js';
export { parseCertificate } from './x509/der.js';
export { pemToDer, derToPem } from './x509/pem.js';
export type { ChainReport, Finding as ChainFinding } from './x509/chain.js';
export type { TrustedRoot } from './x509/roots.js';
export { checkChain } from './x509/chain.js';
export { loadDocumentedRoots, loadBundle, loadSystemRoots, compareBundle, DOCUMENTED_ROOTS } from './x509/roots.js';

// Diagnosis
export type { Diagnosis, VerdictCode } from './diagnose/verdict-types.js';
export { runDiagnosis } from './diagnose/run.js';
export { CLIENT_PROFILES, findClientProfile, simulateClient } from './diagnose/clients.js';
export { parseRegistryText, checkRegistry } from './diagnose/registry.js';

// Captures
export type { ConnectionFacts } from './capture/sessions.js';
export { analyzeCapture, listClientHellos } from './capture/sessions.js';
export { openCaptureFile } from './capture/source.js';
export { ja3, ja3s, ja4 } from './capture/fingerprint.js';
