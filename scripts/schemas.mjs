#!/usr/bin/env node
/**
 * The JSON Schemas (draft 2020-12) of every `--json` / `--ndjson` output, written to schemas/ by
 * `npm run schemas` and committed; test/schemas/schemas.test.ts checks that the committed files
 * equal what this script builds, and the CLI test helpers validate every JSON output against them.
 *
 * Layout: small builders (obj, nullable, arrayOf), then the shared parts ($defs: attempt,
 * certificate, chain, probeTarget, …; each schema carries the ones it uses), then one schema per
 * command. Every output is an envelope `{ schemaVersion, command, … }`; NDJSON lines are the
 * same envelope holding one item (probe's fleet summary line holds none). Objects
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

/** A closed object: every key of `props` required except those in `optional`. */
function obj(props, optional = [], description) {
  const required = Object.keys(props).filter((k) => !optional.includes(k));
  return {
    type: 'object',
    ...(description ? { description } : {}),
    properties: props,
    required,
    additionalProperties: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Shared parts

const OUTCOMES = [
  'negotiated',
  'alert',
  'reset',
  'closed',
  'timeout',
  'connect-refused',
  'connect-timeout',
  'dns-error',
  'malformed',
  'mismatch',
];
const END_REASONS = [
  'reset',
  'fin',
  'timeout',
  'done',
  'max-bytes',
  'connect-refused',
  'connect-timeout',
  'dns-error',
  'aborted',
  'error',
  'proxy-refused',
  'proxy-auth-required',
  'proxy-error',
  'starttls-refused',
  'starttls-error',
];
/** src/probe/versions.ts PROBE_VERSIONS. */
const PROBE_VERSIONS = ['SSL3.0', 'TLS1.0', 'TLS1.1', 'TLS1.2', 'TLS1.3'];
/** src/diagnose/windows-versions.ts WINDOWS_VERSIONS (`--os`). */
const WINDOWS_VERSIONS = ['2008', '2008r2', '7', '2012', '2012r2', '8.1', '2016', '2019', '2022', '10', '11'];
/** src/diagnose/verdict-types.ts VERDICT_CODES. */
const VERDICT_CODES = [
  'endpoint-unreachable',
  'proxy-unreachable',
  'proxy-refused',
  'not-tls',
  'proxy-resets',
  'client-hello-rejected',
  'reset-always',
  'closed-always',
  'timeout-always',
  'likely-tls-inspection',
  'legacy-version-reset',
  'legacy-version-alert',
  'legacy-version-dropped',
  'no-tls12',
  'chain-untrusted',
  'sni-required',
  'tls12-ok',
];
/** src/diagnose/hello-bisect.ts HELLO_CAUSES. */
const HELLO_CAUSES = [
  'hello-size',
  'renegotiation-scsv',
  'sni',
  'cipher-suites',
  'groups',
  'signature-algorithms',
  'key-share-size',
  'extension',
  'unknown',
];
/** src/diagnose/bisect.ts BisectDimension (the legacy bisection of tlsprobe's own hellos). */
const BISECT_DIMENSIONS = [
  'sni',
  'renegotiation-scsv',
  'record-version',
  'size',
  'signature-schemes',
  'groups',
  'cipher-suite-count',
  'cipher-suites',
  'version',
];
const SEVERITIES = ['error', 'warning', 'info'];

/** The value lists above that copy lists in src/ (this script cannot import TypeScript): a test compares them. */
export const COPIED_ENUMS = { PROBE_VERSIONS, WINDOWS_VERSIONS, VERDICT_CODES, HELLO_CAUSES };

const probeVersion = { enum: PROBE_VERSIONS };
const windowsVersion = { enum: WINDOWS_VERSIONS };
/** An object keyed by probe version ("TLS1.2"), as probe --ciphers / --groups write them. */
const perVersion = (value) => ({ type: 'object', propertyNames: probeVersion, additionalProperties: value });

/** The fields of an attempt that ran (src/report/probe-view.ts attemptToJson); replay's `live` adds to them. */
const attemptRunProps = {
  version: probeVersion,
  supported: bool,
  outcome: ref('outcome'),
  alert: nullable(obj({ level: int, description: int, name: str })),
  cipherSuite: nullable(int),
  cipherSuiteName: nullable(str),
  group: nullable(int),
  groupName: nullable(str),
  elapsedMs: num,
  timing: ref('timing'),
  helloBytes: int,
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
};

const certificateProps = {
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
};
const CERTIFICATE_OPTIONAL = [
  'subject',
  'issuer',
  'notBefore',
  'notAfter',
  'serialNumber',
  'keyType',
  'keyBits',
  'curve',
  'signatureAlgorithm',
  'san',
  'selfIssued',
  'error',
];
/** The URL fields `chain` adds to each certificate (src/report/revocation-view.ts revocationUrlsToJson). */
const revocationUrlProps = { crlDistributionPoints: arrayOf(str), ocspUrls: arrayOf(str), caIssuersUrls: arrayOf(str) };

const finding = (codeDescription) =>
  obj(
    {
      code: { type: 'string', description: codeDescription },
      severity: { enum: SEVERITIES },
      message: str,
      certificate: int,
    },
    ['certificate'],
  );
const chainProps = {
  anchor: nullable(
    obj({ name: str, sha1: hex, documented: bool, expired: bool, trusted: bool, sent: bool, public: bool }),
  ),
  verified: bool,
  valid: bool,
  pathsExamined: int,
  complete: bool,
  hostnameMatch: nullable(bool),
  findings: arrayOf(
    finding(
      'A chain finding code (src/x509/chain-findings.ts), or with revocation a revocation finding code (src/x509/revocation-types.ts).',
    ),
  ),
  path: arrayOf(hex),
  verdict: str,
};

const windowsRevocationError = obj(
  {
    name: oneOfStrings('CRYPT_E_REVOKED', 'CRYPT_E_NO_REVOCATION_CHECK', 'CRYPT_E_REVOCATION_OFFLINE'),
    hresult: str,
    message: str,
  },
  [],
  'The error a Windows client reports for this revocation status.',
);
const revokedProps = { revocationDate: nullable(str), reasonCode: nullable(int), reason: nullable(str) };

const defs = {
  error: obj({ code: str, message: str }, [], 'Why the command or this target failed.'),
  outcome: { enum: OUTCOMES, description: 'How an attempt ended (src/tls/outcome.ts).' },
  decodeError: obj({ code: str, offset: int, path: str, message: str }),
  timing: obj(
    { connectMs: nullable(num), firstByteMs: nullable(num), lastByteMs: nullable(num), closedMs: num },
    [],
    'Milliseconds from the start of the attempt: TCP connected, first and last byte received (null when none), connection closed.',
  ),
  attempt: {
    description:
      'One ClientHello sent and how it ended; `outcome` null and `notRun` set when the connection budget ran out first.',
    anyOf: [
      obj(attemptRunProps),
      // The not-run form: every field of a run attempt, null (src/report/probe-view.ts attemptToJson).
      obj(
        {
          version: probeVersion,
          supported: { const: false },
          outcome: { type: 'null' },
          notRun: str,
          alert: { type: 'null' },
          cipherSuite: { type: 'null' },
          cipherSuiteName: { type: 'null' },
          group: { type: 'null' },
          groupName: { type: 'null' },
          elapsedMs: { type: 'null' },
          timing: { type: 'null' },
          helloBytes: { type: 'null' },
        },
        [],
        'A version not probed: the connection budget ran out first.',
      ),
    ],
  },
  certificate: obj(
    certificateProps,
    CERTIFICATE_OPTIONAL,
    'A certificate as sent: DER and thumbprints, the decoded fields when it parses, else `error`.',
  ),
  chainCertificate: obj(
    { ...certificateProps, ...revocationUrlProps },
    CERTIFICATE_OPTIONAL,
    'A certificate as `chain` prints it: $defs/certificate plus the CRL distribution points, OCSP and caIssuers URLs it names (empty when it names none or does not parse).',
  ),
  chain: obj(
    chainProps,
    [],
    'The chain check: anchor, signatures (`verified`), path validation (`valid`), findings and a one-line verdict.',
  ),
  revocation: obj(
    {
      checkedOnline: bool,
      certificates: arrayOf(
        obj(
          {
            certificate: int,
            sha1: hex,
            serialNumber: str,
            ...revocationUrlProps,
            anchor: bool,
            status: oneOfStrings('good', 'revoked', 'unknown'),
            source: nullable(oneOfStrings('crl', 'crl-fetched', 'ocsp')),
            ...revokedProps,
            windowsError: nullable(windowsRevocationError),
          },
          ['windowsError'],
          'One certificate of the path (by index); `windowsError` only when checked online.',
        ),
      ),
      crls: arrayOf(
        obj(
          {
            sha256: hex,
            issuer: str,
            crlNumber: nullable(str),
            thisUpdate: str,
            nextUpdate: nullable(str),
            entries: int,
            used: bool,
            problems: arrayOf(str),
          },
          [],
          'A CRL given with --crl.',
        ),
      ),
      endpoints: nullable(
        arrayOf(
          obj({
            certificate: int,
            kind: oneOfStrings('crl', 'ocsp'),
            url: str,
            state: oneOfStrings('reachable', 'unreachable', 'revoked', 'good', 'not-fetched'),
            detail: str,
            httpStatus: nullable(int),
            elapsedMs: int,
            ...revokedProps,
            windowsError: nullable(windowsRevocationError),
          }),
        ),
      ),
      findings: arrayOf(finding('A revocation finding code (src/x509/revocation-types.ts).')),
    },
    [],
    'Revocation of the path certificates: the CRLs given, and with --check-revocation every CRL and OCSP URL fetched (`endpoints`, null otherwise).',
  ),
  target: obj({ host: str, port: int, address: nullable(str), sni: nullable(str) }),
  remediation: obj(
    {
      kind: oneOfStrings('registry', 'update', 'network', 'trust-store'),
      text: str,
      keys: arrayOf(
        obj({
          path: str,
          name: str,
          type: { const: 'dword' },
          value: int,
          component: oneOfStrings('schannel', 'dotnet', 'winhttp'),
        }),
      ),
      kb: str,
      appliesTo: arrayOf(windowsVersion),
    },
    ['keys', 'kb', 'appliesTo'],
    'One thing to change.',
  ),
  helloCause: {
    description:
      "What in the client's own ClientHello is refused (src/diagnose/hello-bisect.ts HelloCause), by `code`.",
    anyOf: [
      obj({
        code: { const: 'hello-size' },
        detail: str,
        sizeRange: obj(
          { min: int, max: nullable(int), minExact: bool },
          [],
          'Record sizes (header included) that fail; `max` null: every larger size tried fails too.',
        ),
      }),
      obj(
        { code: { const: 'groups' }, detail: str, group: obj({ code: int, name: str }) },
        ['group'],
        '`group` when removing one group alone made the hello succeed.',
      ),
      obj({ code: { const: 'extension' }, detail: str, extension: obj({ type: int, name: str }) }),
      obj({ code: { const: 'unknown' }, detail: str, tried: arrayOf(str) }),
      obj({
        code: oneOfStrings('renegotiation-scsv', 'sni', 'cipher-suites', 'signature-algorithms', 'key-share-size'),
        detail: str,
      }),
    ],
  },
};

const probeAddressProps = {
  target: ref('target'),
  versions: arrayOf(ref('attempt')),
  certificates: arrayOf(ref('certificate')),
  certificatesFrom: nullable(probeVersion),
  connections: int,
  predictedConnections: int,
  incomplete: nullable(str),
  /** probe --ciphers: per version, the suites accepted (server preference order when it has one). */
  cipherSuites: perVersion(arrayOf(int)),
  cipherSuiteNames: perVersion(arrayOf(str)),
  serverPreference: perVersion(nullable(bool)),
  /** probe --groups. */
  groups: perVersion(arrayOf(int)),
  groupNames: perVersion(arrayOf(str)),
  hybridGroups: arrayOf(int),
  chain: ref('chain'),
};
const probeOptional = [
  'cipherSuites',
  'cipherSuiteNames',
  'serverPreference',
  'groups',
  'groupNames',
  'hybridGroups',
  'chain',
];
defs.probeAddress = obj(
  probeAddressProps,
  probeOptional,
  'One address of a target (thumbprints only: the decoded certificates and `chain` are on the target).',
);
defs.probeTarget = {
  description:
    "One target: the first address's result (with `addresses` and `differences` when several were probed), or `error` when the name did not resolve.",
  anyOf: [
    obj({ ...probeAddressProps, addresses: arrayOf(ref('probeAddress')), differences: arrayOf(str) }, [
      ...probeOptional,
      'addresses',
      'differences',
    ]),
    obj({
      target: ref('target'),
      versions: { type: 'array', maxItems: 0 },
      certificates: { type: 'array', maxItems: 0 },
      error: ref('error'),
    }),
  ],
};

// ---------------------------------------------------------------------------------------------
// Per command

/** What each --ndjson line of a command holds, for the schema's description. */
const NDJSON_NOTES = {
  probe: ' (and each line of --ndjson: the same envelope with one item)',
  capture:
    ' (and each line of --ndjson: the same envelope holding one compact connection, $defs/compactConnection; docs/capture-ndjson.md)',
};

/**
 * Returns a command's schema: the envelope with `body` properties (those in `optional` not always
 * present), any `more` forms ({ body, optional }) the output also takes, and the error form.
 */
function envelope(command, title, body, optional = [], more = []) {
  const head = { schemaVersion: { const: SCHEMA_VERSION }, command: { const: command } };
  const forms = [{ body, optional }, ...more];
  const all = Object.assign({}, ...forms.map((f) => f.body));
  const anyOf = [
    ...forms.map((f) => obj({ ...head, ...f.body }, f.optional)),
    // A command that fails prints the error, with what it finished before (an interrupted probe's
    // results); one that fails before it knows its command (usage) has no `command`.
    obj({ ...head, ...all, error: ref('error') }, [...Object.keys(head), ...Object.keys(all)]),
  ];
  return {
    $schema: DRAFT,
    $id: `${ID_BASE}${command}.schema.json`,
    title,
    description: `Output of \`tlsprobe ${command} --json\`${NDJSON_NOTES[command] ?? ''}.`,
    anyOf,
    $defs: usedDefs(anyOf),
  };
}

/** Returns the $defs that `schema` refers to, directly or through other $defs, in `defs` order. */
function usedDefs(schema) {
  const used = new Set();
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
        const name = v.slice('#/$defs/'.length);
        if (!used.has(name)) {
          used.add(name);
          walk(defs[name]);
        }
      } else walk(v);
    }
  };
  walk(schema);
  return Object.fromEntries(Object.entries(defs).filter(([name]) => used.has(name)));
}

const verdict = obj(
  {
    code: { enum: VERDICT_CODES },
    summary: str,
    cause: ref('helloCause'),
    information: { const: true },
  },
  ['cause', 'information'],
  '`cause` with client-hello-rejected; `information` (true) when the verdict is information for the client asked about, not a problem it has.',
);
const evidence = obj({
  attempt: str,
  outcome: ref('outcome'),
  detail: str,
  elapsedMs: nullable(num),
  bytesReceived: int,
  alert: nullable(str),
  errorCode: nullable(str),
});

/** diagnose --bisect: the client's own hello bisected (src/diagnose/hello-bisect.ts HelloBisection). */
const helloBisection = obj(
  {
    failingBytes: int,
    failingOutcome: ref('outcome'),
    referenceBytes: int,
    referenceOutcome: ref('outcome'),
    steps: arrayOf(
      obj(
        {
          dimension: { enum: HELLO_CAUSES },
          change: str,
          helloBytes: int,
          outcome: ref('outcome'),
          success: bool,
          alert: nullable(str),
        },
        [],
        'One change tried.',
      ),
    ),
    cause: nullable(ref('helloCause')),
    connections: int,
    note: nullable(str),
  },
  [],
  "The client's own ClientHello bisected against one the endpoint accepts (with --client / --client-hello when it failed).",
);
/** diagnose --bisect without a failing client hello: tlsprobe's legacy hello against its modern one (src/diagnose/bisect.ts BisectResult). */
const legacyBisection = obj(
  {
    failing: ref('outcome'),
    working: ref('outcome'),
    failingBytes: int,
    workingBytes: int,
    steps: arrayOf(
      obj(
        {
          dimension: { enum: BISECT_DIMENSIONS },
          change: str,
          outcome: ref('outcome'),
          success: bool,
          helloBytes: int,
          alert: nullable(str),
        },
        [],
        'One change tried.',
      ),
    ),
    cause: nullable(obj({ dimension: { enum: BISECT_DIMENSIONS }, change: str })),
    connections: int,
    note: nullable(str),
  },
  [],
  "tlsprobe's failing TLS 1.0/1.1 hello bisected towards its working TLS 1.2/1.3 hello.",
);

const clientVerdict = oneOfStrings('connects', 'gets-10054', 'fails-otherwise');
const diagnoseClient = obj(
  {
    profile: str,
    title: str,
    outcome: ref('outcome'),
    connects: bool,
    gets10054: bool,
    verdict: clientVerdict,
    helloBytes: int,
    alert: nullable(str),
    fidelity: oneOfStrings('captured', 'derived', 'modelled'),
    state: nullable(str),
    remediation: arrayOf(ref('remediation')),
  },
  ['fidelity', 'state', 'remediation'],
  'The client asked about (--client, --client-hello) as tried; a named profile (--client) adds its fidelity, the configuration it stands for and what it needs.',
);
const localRegistry = obj(
  {
    os: nullable(windowsVersion),
    tls12: nullable(oneOfStrings('enabled', 'disabled', 'unknown')),
    dotnetStrongCrypto: nullable(bool),
    winhttp: arrayOf(obj({ path: str, status: oneOfStrings('ok', 'missing', 'missing-ok', 'wrong') })),
    summary: str,
  },
  [],
  "On Windows: this machine's registry, read live (nulls and a `summary` saying why when it could not be read).",
);

const diagnosis = obj(
  {
    target: ref('target'),
    verdict,
    fine: bool,
    evidence: arrayOf(evidence),
    remediation: arrayOf(ref('remediation')),
    secondary: arrayOf(verdict),
    probe: ref('probeTarget'),
    client: diagnoseClient,
    localRegistry,
    revocation: ref('revocation'),
    bisect: {
      description:
        "With --bisect: the client's own hello bisected, or tlsprobe's legacy hello bisected, or a note saying why nothing was bisected.",
      anyOf: [obj({ note: str }), helloBisection, legacyBisection],
    },
  },
  ['client', 'localRegistry', 'revocation', 'bisect'],
);

const profileRun = obj({
  name: str,
  endpoints: arrayOf(
    obj({ host: str, port: int, role: oneOfStrings('target', 'control'), verdict: { enum: VERDICT_CODES } }),
  ),
  needsConcreteName: arrayOf(str),
  conclusion: obj({
    code: oneOfStrings(
      'network-unreachable',
      'network-blocks-tls',
      'tls-inspection',
      'endpoint-refuses',
      'client-needs-tls12',
      'all-ok',
      'inconclusive',
    ),
    summary: str,
    failing: arrayOf(str),
  }),
});

const clientProfile = obj(
  {
    name: str,
    title: str,
    fidelity: oneOfStrings('captured', 'derived', 'modelled'),
    source: str,
    reference: nullable(
      obj(
        { kind: oneOfStrings('testssl', 'joy', 'lee', 'rgl'), id: str, label: str },
        [],
        'The real hello or fingerprint the profile is compared with.',
      ),
    ),
    aliases: arrayOf(str),
    description: str,
    versions: arrayOf(probeVersion),
    configuration: nullable(
      obj(
        {
          os: windowsVersion,
          stack: oneOfStrings('schannel', 'winhttp', 'dotnet', 'other'),
          wow64: bool,
          dotnet: oneOfStrings('3.5', '4.0', '4.5', '4.6', '4.7+'),
          updates: arrayOf(obj({ kb: str, installed: bool })),
          registry: arrayOf(obj({ path: str, name: str, value: nullable(int) })),
          state: str,
        },
        ['dotnet'],
        'The Windows configuration the profile stands for.',
      ),
    ),
  },
  [],
  'One client profile.',
);
const clientRun = obj(
  {
    profile: str,
    title: str,
    fidelity: oneOfStrings('captured', 'derived', 'modelled'),
    verdict: clientVerdict,
    gets10054: bool,
    outcome: ref('outcome'),
    cipherSuiteName: nullable(str),
    negotiatedVersion: nullable(int),
    summary: str,
    state: nullable(str),
    remediation: arrayOf(ref('remediation')),
  },
  [],
  'What one profile got from the target, and what its configuration needs when it fails.',
);

const registryReport = {
  os: nullable(windowsVersion),
  checks: arrayOf(
    obj({
      path: str,
      name: str,
      expected: int,
      actual: nullable(int),
      status: oneOfStrings('ok', 'missing', 'missing-ok', 'wrong'),
    }),
  ),
  tls12: oneOfStrings('enabled', 'disabled', 'unknown'),
  dotnetStrongCrypto: bool,
  fix: nullable(str),
  prerequisites: arrayOf(obj({ kb: str, appliesTo: arrayOf(windowsVersion), note: str })),
  notes: arrayOf(str),
};
const registryLive = {
  live: obj(
    { detected: nullable(obj({ version: windowsVersion, evidence: str })), missingKeys: arrayOf(str) },
    [],
    "registry --live: the Windows version the machine's keys name, and the keys reg said do not exist.",
  ),
  winhttp: arrayOf(
    obj({
      path: str,
      name: { const: 'DefaultSecureProtocols' },
      actual: nullable(int),
      status: oneOfStrings('ok', 'missing', 'missing-ok', 'wrong'),
    }),
  ),
};

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
    end: obj({
      kind: oneOfStrings('fin', 'rst', 'open'),
      by: nullable(oneOfStrings('client', 'server')),
      afterMessage: nullable(str),
      afterMessageFrom: nullable(oneOfStrings('client', 'server')),
      msAfterMessage: nullable(num),
      msSinceStart: num,
      frame: nullable(int),
    }),
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

// capture --ndjson: one compact connection a line (src/report/capture-compact.ts,
// docs/capture-ndjson.md). Fields listed optional are left out when null, false or empty.
const numbers = arrayOf(int);
const strings = arrayOf(str);
const compactTlsClientHello = obj(
  {
    frame: int,
    ms: num,
    format: { const: 'tls' },
    legacyVersion: int,
    random: hex,
    sessionId: hex,
    cipherSuites: numbers,
    compressionMethods: numbers,
    extensions: numbers,
    cipherSuiteNames: strings,
    extensionNames: strings,
    serverName: str,
    supportedVersions: numbers,
    supportedGroups: numbers,
    keyShares: numbers,
    signatureAlgorithms: numbers,
    alpn: strings,
    ecPointFormats: numbers,
    supportedVersionNames: strings,
    supportedGroupNames: strings,
    keyShareNames: strings,
    signatureAlgorithmNames: strings,
    findings: arrayOf(obj({ severity: { enum: SEVERITIES }, code: str, message: str })),
    ja3: nullable(str),
    ja3Hash: nullable(hex),
    ja4: nullable(str),
  },
  [
    'cipherSuiteNames',
    'extensionNames',
    'serverName',
    'supportedVersions',
    'supportedGroups',
    'keyShares',
    'signatureAlgorithms',
    'alpn',
    'ecPointFormats',
    'supportedVersionNames',
    'supportedGroupNames',
    'keyShareNames',
    'signatureAlgorithmNames',
    'findings',
    'ja3',
    'ja3Hash',
    'ja4',
  ],
  'A ClientHello: numbers as sent; names with --names, fingerprints with --fingerprints.',
);
const compactSslv2ClientHello = obj({
  frame: int,
  ms: num,
  format: { const: 'sslv2' },
  legacyVersion: int,
  cipherSpecs: numbers,
  sessionId: hex,
  challenge: hex,
});
const compactServerHello = obj(
  {
    frame: int,
    ms: num,
    legacyVersion: int,
    version: int,
    cipherSuite: int,
    random: hex,
    sessionId: hex,
    compressionMethod: int,
    extensions: numbers,
    extensionNames: strings,
    keyShareGroup: int,
    keyShareGroupName: str,
    alpn: strings,
    downgradeSentinel: oneOfStrings('tls12', 'tls11'),
    ja3s: str,
    ja3sHash: hex,
  },
  [
    'version',
    'cipherSuite',
    'random',
    'extensionNames',
    'keyShareGroup',
    'keyShareGroupName',
    'alpn',
    'downgradeSentinel',
    'ja3s',
    'ja3sHash',
  ],
  'A ServerHello (its version and suite are the connection`s), or a HelloRetryRequest (with its own).',
);
defs.compactTlsClientHello = compactTlsClientHello;
defs.compactServerHello = compactServerHello;
const compactCertificate = {
  anyOf: [
    obj({ sha256: hex, subject: str, issuer: str, notBefore: str, notAfter: str }),
    obj({ sha256: hex, error: ref('decodeError') }),
  ],
};
const compactConnection = obj(
  {
    index: int,
    client: str,
    server: str,
    startTime: str,
    sni: nullable(str),
    outcome: ref('outcome'),
    version: nullable(int),
    versionName: str,
    cipherSuite: nullable(int),
    cipherSuiteName: str,
    handshakeComplete: bool,
    clientHello: nullable({ anyOf: [ref('compactTlsClientHello'), compactSslv2ClientHello] }),
    helloRetryRequest: ref('compactServerHello'),
    retryClientHello: ref('compactTlsClientHello'),
    serverHello: nullable(ref('compactServerHello')),
    sslv2ServerHello: { const: true },
    alerts: arrayOf(
      obj(
        {
          from: oneOfStrings('client', 'server'),
          level: nullable(int),
          description: nullable(int),
          name: nullable(str),
          levelName: nullable(str),
          encrypted: { const: true },
          decrypted: { const: true },
          frame: int,
          ms: num,
        },
        ['levelName', 'encrypted', 'decrypted'],
      ),
    ),
    end: captureConnection.properties.end,
    problems: captureConnection.properties.problems,
    serverFirstBytes: hex,
    decryption: captureConnection.properties.decryption,
    tlsOffset: captureConnection.properties.tlsOffset,
    bytes: captureConnection.properties.bytes,
    certificatesDecrypted: { const: true },
    certificates: arrayOf(ref('compactCertificate')),
    chain: nullable(
      obj(
        {
          valid: bool,
          verified: bool,
          complete: bool,
          hostnameMatch: nullable(bool),
          anchor: chainProps.anchor,
          findings: arrayOf(obj({ code: str, severity: { enum: SEVERITIES }, certificate: int }, ['certificate'])),
          verdict: str,
          checkedAt: str,
        },
        ['checkedAt'],
      ),
    ),
    clientCertificates: arrayOf(ref('compactCertificate')),
  },
  [
    'versionName',
    'cipherSuiteName',
    'helloRetryRequest',
    'retryClientHello',
    'sslv2ServerHello',
    'problems',
    'serverFirstBytes',
    'decryption',
    'tlsOffset',
    'certificatesDecrypted',
    'clientCertificates',
  ],
  'One connection of a capture --ndjson line: each fact once (docs/capture-ndjson.md).',
);
defs.compactCertificate = compactCertificate;
defs.compactConnection = compactConnection;

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
  {
    ...attemptRunProps,
    serverHelloExtensions: nullable(arrayOf(int)),
    encryptedExtensions: nullable(arrayOf(int)),
    certificates: arrayOf(ref('certificate')),
    notes: arrayOf(str),
  },
  [],
  'The live attempt (the fields of an attempt that ran, $defs/attempt) and what its answer held.',
);

export function buildSchemas() {
  return {
    probe: envelope(
      'probe',
      'tlsprobe probe',
      { results: arrayOf(ref('probeTarget')) },
      [],
      [
        {
          // --ndjson with several targets ends with this line.
          body: {
            results: { type: 'array', maxItems: 0 },
            summary: obj(
              { targets: int, reachable: int, unreachable: int, connections: int, elapsedMs: int },
              [],
              'The last --ndjson line of a run over several targets.',
            ),
          },
          optional: [],
        },
      ],
    ),
    diagnose: envelope('diagnose', 'tlsprobe diagnose', { results: arrayOf(diagnosis), profile: profileRun }, [
      'profile',
    ]),
    clients: envelope(
      'clients',
      'tlsprobe clients',
      { clients: arrayOf(clientProfile) },
      [],
      [{ body: { target: ref('target'), clients: arrayOf(clientRun) }, optional: [] }],
    ),
    chain: envelope('chain', 'tlsprobe chain', {
      certificates: arrayOf(ref('chainCertificate')),
      chain: obj(
        { ...chainProps, revocation: ref('revocation') },
        [],
        'The chain check ($defs/chain) with its revocation; revocation findings are appended to `findings`.',
      ),
    }),
    roots: envelope(
      'roots',
      'tlsprobe roots',
      {
        bundle: str,
        certificates: int,
        roots: {
          anyOf: [
            arrayOf(
              obj({
                name: str,
                sha1: hex,
                sha256: nullable(hex),
                notBefore: nullable(str),
                notAfter: nullable(str),
                expired: nullable(bool),
              }),
            ),
            arrayOf(obj({ name: str, sha1: hex, present: bool, expired: nullable(bool) })),
          ],
        },
      },
      ['bundle', 'certificates'],
    ),
    registry: envelope(
      'registry',
      'tlsprobe registry',
      registryReport,
      [],
      [{ body: { ...registryReport, ...registryLive }, optional: [] }],
    ),
    // An --ndjson line (one compact connection) or --json (every connection and the summary); the
    // error form, which takes the last form's fields, is what --json prints when the file breaks off.
    capture: envelope(
      'capture',
      'tlsprobe capture',
      { connections: { type: 'array', items: ref('compactConnection'), minItems: 1, maxItems: 1 } },
      [],
      [
        {
          body: {
            connections: arrayOf(captureConnection),
            summary: obj({
              format: str,
              packets: int,
              flows: int,
              tlsConnections: int,
              shown: int,
              decrypted: int,
              keyLogErrors: int,
              truncated: bool,
            }),
          },
          optional: ['summary'],
        },
      ],
    ),
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
      hello: obj({
        sni: nullable(str),
        highestVersion: nullable(int),
        recordVersion: nullable(int),
        captured: hex,
        sent: hex,
      }),
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
export const SCHEMA_COMMANDS = [
  'probe',
  'diagnose',
  'clients',
  'chain',
  'roots',
  'registry',
  'capture',
  'replay',
  'decode',
];

/** Returns the file text of one schema (2-space JSON, final newline). */
export function schemaText(schema) {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
  mkdirSync(dir, { recursive: true });
  for (const [name, schema] of Object.entries(buildSchemas()))
    writeFileSync(join(dir, `${name}.schema.json`), schemaText(schema));
  console.log(`wrote ${Object.keys(buildSchemas()).length} schemas to ${dir}`);
}
