#!/usr/bin/env node
/**
 * The JSON Schemas (draft 2020-12) of every `--json` / `--ndjson` output, written to schemas/ by
 * `npm run schemas` and committed; test/schemas/schemas.test.ts checks that the committed files
 * equal what this script builds, and the CLI test helpers validate every JSON output against them.
 *
 * Layout: small builders (obj, nullable, arrayOf), then the shared parts ($defs: attempt,
 * certificate, chain, probeTarget, …), then one schema per command. Every output is an envelope
 * `{ schemaVersion, command, … }`; NDJSON lines are the same envelope holding one item. Objects
 * list their properties and forbid others (`additionalProperties: false`), so a field added to an
 * output without being added here fails the tests. A few parts are open on purpose and say so
 * (decoded handshake messages, capture's hello facts): their shape follows the TLS message.
 *
 * To add a field: add it to the object's `obj({...})` below (in `optional` when it is not always
 * present), run `npm run schemas`, commit schemas/. Bump SCHEMA_VERSION (src/report/envelope.ts
 * and here) for changes that break readers (a field removed, renamed or retyped).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCHEMA_VERSION = '1.0';
const DRAFT = 'https://json-schema.org/draft/2020-12/schema';
const ID_BASE = 'https://tlsprobe.invalid/schemas/';

// ---------------------------------------------------------------------------------------------
// Builders

const str = { type: 'string' };
const int = { type: 'integer' };
const num = { type: 'number' };
const bool = { type: 'boolean' };
const hex = { type: 'string', pattern: '^[0-9a-f]*$' };
/** An open object: its shape follows what it describes (documented where used). */
const open = (description) => ({ type: 'object', description });
const ref = (name) => ({ $ref: `#/$defs/${name}` });
const nullable = (s) => ({ anyOf: [s, { type: 'null' }] });
const arrayOf = (items) => ({ type: 'array', items });
const oneOfStrings = (...values) => ({ enum: values });
const mapOf = (value) => ({ type: 'object', additionalProperties: value });

/** A closed object: every key of `props` required except those in `optional`. */
function obj(props, optional = [], description) {
  const required = Object.keys(props).filter((k) => !optional.includes(k));
  return { type: 'object', ...(description ? { description } : {}), properties: props, required, additionalProperties: false };
}

// ---------------------------------------------------------------------------------------------
// Shared parts

const OUTCOMES = ['negotiated', 'alert', 'reset', 'closed', 'timeout', 'connect-refused', 'connect-timeout', 'dns-error', 'malformed', 'mismatch'];
const END_REASONS = ['reset', 'fin', 'timeout', 'done', 'max-bytes', 'connect-refused', 'connect-timeout', 'dns-error', 'aborted', 'error', 'proxy-refused', 'proxy-auth-required', 'proxy-error', 'starttls-refused', 'starttls-error'];

const ATTEMPT_OPTIONAL = ['notRun', 'groupName', 'negotiatedVersion', 'negotiatedVersionName', 'helloRetryRequest', 'downgradeSentinel', 'end', 'errorCode', 'windowsError', 'bytesReceived', 'firstBytes', 'error'];

const defs = {
  error: obj({ code: str, message: str }, [], 'Why the command or this target failed.'),
  outcome: { enum: OUTCOMES, description: 'How an attempt ended (src/probe/outcome.ts).' },
  decodeError: obj({ code: str, offset: int, path: str, message: str }),
  attempt: obj(
    {
      version: str,
      supported: bool,
      outcome: nullable(ref('outcome')),
      notRun: str,
      alert: nullable(obj({ level: int, description: int, name: str })),
      cipherSuite: nullable(int),
      cipherSuiteName: nullable(str),
      group: nullable(int),
      groupName: nullable(str),
      elapsedMs: nullable(num),
      connectMs: nullable(num),
      helloBytes: nullable(int),
      negotiatedVersion: nullable(int),
      negotiatedVersionName: nullable(str),
      helloRetryRequest: bool,
      downgradeSentinel: nullable(oneOfStrings('tls12', 'tls11')),
      end: { enum: END_REASONS },
      errorCode: nullable(str),
      windowsError: nullable(str),
      bytesReceived: int,
      firstBytes: nullable(hex),
      error: nullable(str),
    },
    ATTEMPT_OPTIONAL,
    'One ClientHello sent and how it ended; `outcome` null and `notRun` set when the connection budget ran out first.',
  ),
  certificate: obj(
    {
      der: hex,
      sha1: hex,
      sha256: hex,
      subject: str,
      issuer: str,
      notBefore: str,
      notAfter: str,
      serialNumber: str,
      keyType: str,
      keyBits: nullable(int),
      curve: nullable(str),
      signatureAlgorithm: str,
      san: arrayOf(str),
      selfIssued: bool,
      error: ref('decodeError'),
    },
    ['subject', 'issuer', 'notBefore', 'notAfter', 'serialNumber', 'keyType', 'keyBits', 'curve', 'signatureAlgorithm', 'san', 'selfIssued', 'error'],
    'A certificate as sent: DER and thumbprints, the decoded fields when it parses, else `error`.',
  ),
  chain: obj({
    anchor: nullable(obj({ name: str, sha1: hex, documented: bool, expired: nullable(bool), trusted: bool, sent: bool })),
    verified: bool,
    complete: bool,
    hostnameMatch: nullable(bool),
    findings: arrayOf(obj({ code: str, severity: oneOfStrings('error', 'warning', 'info'), message: str, certificate: int }, ['certificate'])),
    path: arrayOf(hex),
    verdict: str,
  }),
  target: obj({ host: str, port: int, address: nullable(str), sni: nullable(str) }),
};

/** Per-version maps of probe --ciphers / --groups (keys are versions such as "TLS1.2"). */
const probeAddressProps = {
  target: ref('target'),
  versions: arrayOf(ref('attempt')),
  certificates: arrayOf(ref('certificate')),
  certificatesFrom: nullable(str),
  connections: int,
  predictedConnections: int,
  incomplete: nullable(str),
  cipherSuites: mapOf(arrayOf(int)),
  cipherSuiteNames: mapOf(arrayOf(str)),
  serverPreference: mapOf(nullable(bool)),
  groups: mapOf(arrayOf(int)),
  groupNames: mapOf(arrayOf(str)),
  hybridGroups: arrayOf(int),
  chain: ref('chain'),
};
const probeOptional = ['cipherSuites', 'cipherSuiteNames', 'serverPreference', 'groups', 'groupNames', 'hybridGroups', 'chain'];
defs.probeAddress = obj(probeAddressProps, probeOptional, 'One address of a target.');
defs.probeTarget = {
  description: 'One target: the first address\'s result (with `addresses` and `differences` when several were probed), or `error` when the name did not resolve.',
  anyOf: [
    obj({ ...probeAddressProps, addresses: arrayOf(ref('probeAddress')), differences: arrayOf(str) }, [...probeOptional, 'addresses', 'differences']),
    obj({ target: ref('target'), versions: { type: 'array', maxItems: 0 }, certificates: { type: 'array', maxItems: 0 }, error: ref('error') }),
  ],
};

// ---------------------------------------------------------------------------------------------
// Per command

/** Returns a command's schema: the envelope with `body` properties (and the error form). */
function envelope(command, title, body, optional = []) {
  const props = { schemaVersion: { const: SCHEMA_VERSION }, command: { const: command }, ...body };
  return {
    $schema: DRAFT,
    $id: `${ID_BASE}${command}.schema.json`,
    title,
    description: `Output of \`tlsprobe ${command} --json\`${command === 'probe' || command === 'capture' ? ' (and each line of --ndjson: the same envelope with one item)' : ''}.`,
    anyOf: [
      obj(props, optional),
      // A command that fails prints the error, with what it finished before (an interrupted probe's
      // results); one that fails before it knows its command (usage) has no `command`.
      obj({ ...props, error: ref('error') }, Object.keys(props)),
    ],
    $defs: defs,
  };
}

const evidence = obj({ attempt: str, outcome: ref('outcome'), detail: str, elapsedMs: nullable(num), bytesReceived: int, alert: nullable(str), errorCode: nullable(str) }, ['alert', 'errorCode']);
const verdict = obj({ code: str, summary: str });
const registrySetting = obj({ path: str, name: str, type: { const: 'dword' }, value: int, component: oneOfStrings('schannel', 'dotnet') });
const remediation = obj({ kind: oneOfStrings('registry', 'update', 'network', 'trust-store'), text: str, keys: arrayOf(registrySetting), kb: str, appliesTo: arrayOf(str) }, ['keys', 'kb', 'appliesTo']);
const bisectStep = obj({ dimension: str, change: str, outcome: ref('outcome'), success: bool, helloBytes: int, alert: nullable(str) }, ['alert'], 'One change tried.');

const diagnosis = obj(
  {
    target: ref('target'),
    verdict,
    evidence: arrayOf(evidence),
    remediation: arrayOf(remediation),
    secondary: arrayOf(verdict),
    probe: ref('probeTarget'),
    client: obj({ profile: str, title: str, verdict: str, gets10054: bool, summary: str, outcome: ref('outcome') }),
    bisect: {
      description: 'With --bisect: the steps tried and the smallest change that works, or a note saying why nothing was bisected.',
      anyOf: [
        obj({ note: str }),
        obj({
          failing: ref('outcome'),
          working: ref('outcome'),
          failingBytes: int,
          workingBytes: int,
          steps: arrayOf(bisectStep),
          cause: nullable(obj({ dimension: str, change: str })),
          connections: int,
          note: nullable(str),
        }),
      ],
    },
  },
  ['client', 'bisect'],
);

const profileRun = obj({
  name: str,
  endpoints: arrayOf(obj({ host: str, port: int, role: str, verdict: str })),
  needsConcreteName: arrayOf(str),
  conclusion: obj({ code: str, summary: str }, [], undefined),
});

const captureConnection = obj(
  {
    index: int,
    client: str,
    server: str,
    startTime: str,
    sni: nullable(str),
    clientHello: nullable(open('ClientHello facts: versions, suites, extensions, fingerprints (JA3, JA4).')),
    helloRetryRequest: nullable(open('HelloRetryRequest facts.')),
    retryClientHello: nullable(open('The ClientHello sent after a HelloRetryRequest.')),
    serverHello: nullable(open('ServerHello facts: version, suite, extensions, JA3S.')),
    sslv2ServerHello: bool,
    version: nullable(int),
    versionName: nullable(str),
    cipherSuite: nullable(int),
    cipherSuiteName: nullable(str),
    certificates: arrayOf(open('A captured certificate: thumbprints, decoded fields when it parses.')),
    certificatesDecrypted: bool,
    chain: nullable(ref('chain')),
    chainCheckedAt: nullable(str),
    clientCertificates: arrayOf(open('A client certificate.')),
    alerts: arrayOf(open('An alert seen, with who sent it and whether it was encrypted.')),
    end: obj({ kind: oneOfStrings('fin', 'rst', 'open'), by: nullable(oneOfStrings('client', 'server')), afterMessage: nullable(str), afterMessageFrom: nullable(oneOfStrings('client', 'server')), msAfterMessage: nullable(num), msSinceStart: num, frame: nullable(int) }),
    handshakeComplete: bool,
    outcome: ref('outcome'),
    messages: arrayOf(obj({ from: oneOfStrings('client', 'server'), type: str, frame: int, decrypted: bool })),
    problems: arrayOf(obj({ from: oneOfStrings('client', 'server'), code: str, message: str })),
    serverFirstBytes: nullable(hex),
    decryption: nullable(open('TLS 1.3 / key log decryption: keys, status, Finished checks.')),
    tlsOffset: obj({ client: nullable(int), server: nullable(int) }),
    bytes: obj({ client: int, server: int }),
  },
  [],
);

const replayAnswer = obj({
  outcome: ref('outcome'),
  negotiatedVersion: nullable(int),
  negotiatedVersionName: nullable(str),
  cipherSuite: nullable(int),
  cipherSuiteName: nullable(str),
  group: nullable(int),
  groupName: nullable(str),
  helloRetryRequest: bool,
  serverHelloExtensions: nullable(arrayOf(int)),
  encryptedExtensions: nullable(arrayOf(int)),
  alert: nullable(open('The alert the server sent.')),
  certificates: nullable(arrayOf(ref('certificate'))),
  notes: arrayOf(str),
});
const replayLive = obj(
  { ...defs.attempt.properties, serverHelloExtensions: nullable(arrayOf(int)), encryptedExtensions: nullable(arrayOf(int)), certificates: arrayOf(ref('certificate')), notes: arrayOf(str) },
  ATTEMPT_OPTIONAL,
  'The live attempt (the fields of $defs/attempt) and what its answer held.',
);

export function buildSchemas() {
  return {
    probe: envelope('probe', 'tlsprobe probe', { results: arrayOf(ref('probeTarget')) }),
    diagnose: envelope('diagnose', 'tlsprobe diagnose', { results: arrayOf(diagnosis), profile: profileRun }, ['profile']),
    clients: envelope('clients', 'tlsprobe clients', {
      target: ref('target'),
      clients: {
        description: 'Without a target: the profiles; with one: what each profile got.',
        anyOf: [
          arrayOf(obj({ name: str, aliases: arrayOf(str), title: str, description: str, versions: arrayOf(str), source: str })),
          arrayOf(obj({ profile: str, verdict: oneOfStrings('connects', 'gets-10054', 'fails-otherwise'), gets10054: bool, outcome: ref('outcome'), cipherSuiteName: nullable(str), negotiatedVersion: nullable(int), summary: str })),
        ],
      },
    }, ['target']),
    chain: envelope('chain', 'tlsprobe chain', { certificates: arrayOf(ref('certificate')), chain: ref('chain') }),
    roots: envelope('roots', 'tlsprobe roots', {
      bundle: str,
      certificates: int,
      roots: {
        anyOf: [
          arrayOf(obj({ name: str, sha1: hex, sha256: nullable(hex), notBefore: nullable(str), notAfter: nullable(str), expired: nullable(bool) })),
          arrayOf(obj({ name: str, sha1: hex, present: bool, expired: nullable(bool) })),
        ],
      },
    }, ['bundle', 'certificates']),
    registry: envelope('registry', 'tlsprobe registry', {
      os: nullable(str),
      checks: arrayOf(obj({ path: str, name: str, expected: int, actual: nullable(int), status: oneOfStrings('ok', 'missing', 'missing-ok', 'wrong') })),
      tls12: oneOfStrings('enabled', 'disabled', 'unknown'),
      dotnetStrongCrypto: bool,
      fix: nullable(str),
      prerequisites: arrayOf(obj({ kb: str, appliesTo: arrayOf(str), note: str })),
      notes: arrayOf(str),
    }),
    capture: envelope('capture', 'tlsprobe capture', {
      connections: arrayOf(captureConnection),
      summary: obj({ format: str, packets: int, flows: int, tlsConnections: int, shown: int, decrypted: int, keyLogErrors: int, truncated: bool }),
    }, ['summary']),
    replay: envelope('replay', 'tlsprobe replay', {
      source: str,
      format: str,
      connection: nullable(int),
      client: nullable(str),
      server: nullable(str),
      target: obj({ host: str, port: int, address: str }),
      modified: arrayOf(str),
      byteExact: bool,
      notes: arrayOf(str),
      hello: obj({ sni: nullable(str), highestVersion: nullable(int), recordVersion: nullable(int), captured: hex, sent: hex }),
      captured: nullable(replayAnswer),
      live: replayLive,
      differences: arrayOf(obj({ field: str, captured: {}, live: {} })),
    }),
    decode: envelope('decode', 'tlsprobe decode', {
      messages: arrayOf({
        type: 'object',
        description: 'One decoded record or handshake message; its other fields follow the message type (open).',
        required: ['type', 'offset'],
        properties: { type: str, offset: int },
      }),
    }),
  };
}

/** The commands that have a schema, in `tlsprobe schema` order. */
export const SCHEMA_COMMANDS = ['probe', 'diagnose', 'clients', 'chain', 'roots', 'registry', 'capture', 'replay', 'decode'];

/** Returns the file text of one schema (2-space JSON, final newline). */
export function schemaText(schema) {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
  mkdirSync(dir, { recursive: true });
  for (const [name, schema] of Object.entries(buildSchemas())) writeFileSync(join(dir, `${name}.schema.json`), schemaText(schema));
  console.log(`wrote ${Object.keys(buildSchemas()).length} schemas to ${dir}`);
}
