/**
 * SChannel profiles for Windows' own defaults, Windows 7 / Server 2008 R2 to Server 2022, each
 * compared with its reference fingerprint (see schannel-data.ts for which and why).
 */
import { ProtocolVersion as PV } from '../../tls/registry.js';
import type { ProbeVersion } from '../../probe/profiles.js';
import { profile } from './build.js';
import { configuration, schannelTls12 } from './configuration.js';
import {
  NIST_GROUPS,
  schannelShape,
  WIN10_EXTS,
  WIN10_GROUPS,
  WIN10_SCHEMES,
  WIN2016_SUITES,
  WIN2019_SUITES,
  WIN2022_EXTS,
  WIN2022_SCHEMES,
  WIN2022_SUITES,
  WIN2022_VERSIONS,
  WIN7_TLS10_EXTS,
  WIN7_TLS10_GROUPS,
  WIN7_TLS10_SUITES,
  WIN7_TLS12_EXTS,
  WIN7_TLS12_SCHEMES,
  WIN7_TLS12_SUITES,
  WIN81_TLS12_EXTS,
  WIN8_TLS10_EXTS,
  WIN8_TLS10_SUITES,
} from './schannel-data.js';
import type { ClientProfile, ProfileReference } from './types.js';

export const LEGACY: readonly ProbeVersion[] = ['SSL3.0', 'TLS1.0'];
export const TO_TLS12: readonly ProbeVersion[] = ['TLS1.0', 'TLS1.1', 'TLS1.2'];

/** The references, by the id their corpus file uses. */
export const REF = {
  win7Tls10: {
    kind: 'joy',
    id: '0f67583fe56846e21d2a48be42572e27',
    label: 'cisco/joy: svchost.exe and OUTLOOK.EXE on Windows 7 SP1 (6.1.7601), TLS 1.0',
  },
  win7Tls12: {
    kind: 'lee',
    id: 'd54b3eb800cbeccf99fd5d5cdcd7b5b5',
    label:
      "LeeBrotherston: IE 11.0.9600.18349 on Windows 7, TLS 1.2; its JA3 is the Windows 7 RDP client's (xnih/satori)",
  },
  winhttp7Tls12: {
    kind: 'lee',
    id: 'bff2c7b5c666331bfe9afacefd1bdb51',
    label: 'LeeBrotherston: "Microsoft Updater (Windows 7SP1)", WinHTTP with TLS 1.2',
  },
  win8Tls10: {
    kind: 'lee',
    id: '0d15924fe8f8950a3ec3a916e97c8498',
    label: 'LeeBrotherston: "Windows 8.x Builtin Mail Client", TLS 1.0',
  },
  win81Tls12: {
    kind: 'joy',
    id: '50a1fb0bd83ec0c970a668bab186ba06',
    label:
      "cisco/joy: proximity.exe and lync.exe on Windows 8.1 (6.3.9600); its JA3 is the Server 2012 RDP client's (xnih/satori)",
  },
  win2016: {
    kind: 'joy',
    id: '08bac66c17ae82cd37a9882c38d0fa02',
    label:
      "cisco/joy: OUTLOOK.EXE and proximity.exe on Windows 10 1607 (10.0.14393); its JA3 is the Server 2016 RDP client's (xnih/satori)",
  },
  win2019: {
    kind: 'joy',
    id: '6d0ceee6c09d46a1ae96ac6388fac84f',
    label:
      "cisco/joy: OUTLOOK.EXE on Windows 10 1809 (10.0.17763) and 1803; its JA3 is the Server 2019 RDP client's (xnih/satori)",
  },
  win2022: {
    kind: 'rgl',
    id: '.NET Framework 4.8.4515.0 on Windows Server 2022 (21H2)',
    label:
      'rgl/tls-dump-clienthello: .NET Framework 4.8 on Server 2022 21H2 (versions, suites, curves and point formats only)',
  },
  dotnet48On2019: {
    kind: 'rgl',
    id: '.NET Framework 4.8.4110.0 on Windows Server 2019 (1809)',
    label:
      'rgl/tls-dump-clienthello: .NET Framework 4.8 on Server 2019 1809 (versions, suites, curves and point formats only)',
  },
  vista: {
    kind: 'testssl',
    id: 'IE 7 Vista',
    label: 'SSL Labs / testssl.sh: IE 7 on Windows Vista (the Server 2008 SChannel), raw bytes',
  },
} as const satisfies Record<string, ProfileReference>;

const SOURCE_RDP =
  'RDP client JA3s per Windows version: Adel Karimi, "RDP client fingerprinting", in xnih/satori fingerprints/ssl.xml';

export const WINDOWS_DEFAULT_PROFILES: readonly ClientProfile[] = [
  profile({
    name: 'win7-schannel',
    aliases: ['win2008r2', 'win7'],
    title: 'Windows 7 / Server 2008 R2, SChannel defaults',
    description:
      'SChannel with the TLS 1.1/1.2 client disabled (the default): a TLS 1.0 ClientHello, RC4 still offered. What a backup agent on an unconfigured 2008 R2 sends.',
    source: `${REF.win7Tls10.label}; TLS 1.2 client off by default per "Protocols in TLS/SSL (Schannel SSP)" and the endpoint owner's guidance`,
    fidelity: 'captured',
    reference: REF.win7Tls10,
    modelled: [
      {
        field: 'recordVersion',
        because:
          "joy does not record it; SChannel writes its client_version (0x0301) in the record, as in SSL Labs' raw IE 8-10 on Windows 7 hello",
      },
    ],
    configuration: configuration({
      os: '2008r2',
      stack: 'schannel',
      registry: schannelTls12(null),
      process: 'an SChannel client',
    }),
    versions: LEGACY,
    shape: schannelShape(PV.TLS1_0, WIN7_TLS10_SUITES, WIN7_TLS10_GROUPS, null, WIN7_TLS10_EXTS),
  }),
  profile({
    name: 'win7-schannel-tls12',
    aliases: ['win2008r2-tls12', 'win7-tls12'],
    title: 'Windows 7 / Server 2008 R2, TLS 1.2 enabled',
    description:
      'SChannel after KB3140245 with TLS 1.2 Client Enabled=1, DisabledByDefault=0: a TLS 1.2 ClientHello (record version 0x0303).',
    source: `${REF.win7Tls12.label}; ${SOURCE_RDP}`,
    fidelity: 'captured',
    reference: REF.win7Tls12,
    configuration: configuration({
      os: '2008r2',
      stack: 'schannel',
      updates: [{ kb: 'KB3140245', installed: true }],
      registry: schannelTls12(true),
      process: 'an SChannel client',
    }),
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, WIN7_TLS12_SUITES, NIST_GROUPS, WIN7_TLS12_SCHEMES, WIN7_TLS12_EXTS),
  }),
  profile({
    name: 'win2012',
    title: 'Windows Server 2012, defaults',
    description:
      "SChannel without KB3140245 and the TLS 1.2 client keys: applications get TLS 1.0 (the endpoint owner's guidance; Microsoft's SChannel table lists TLS 1.2 as enabled, but WinHTTP and .NET do not use it by default).",
    source: `${REF.win8Tls10.label}; TLS 1.2 client default per the endpoint owner's guidance`,
    fidelity: 'captured',
    reference: REF.win8Tls10,
    configuration: configuration({
      os: '2012',
      stack: 'schannel',
      updates: [{ kb: 'KB3140245', installed: false }],
      registry: schannelTls12(null),
      process: 'an SChannel client',
    }),
    versions: LEGACY,
    shape: schannelShape(PV.TLS1_0, WIN8_TLS10_SUITES, NIST_GROUPS, null, WIN8_TLS10_EXTS),
  }),
  profile({
    name: 'win2012-tls12',
    title: 'Windows Server 2012, TLS 1.2 enabled',
    description:
      'SChannel after KB3140245 with the TLS 1.2 client keys: a TLS 1.2 ClientHello with the Windows 8 suite list.',
    source: `${REF.win81Tls12.label}; ${SOURCE_RDP}`,
    fidelity: 'captured',
    reference: REF.win81Tls12,
    modelled: [
      {
        field: 'recordVersion',
        because:
          "joy does not record it; SChannel writes its client_version (0x0303), as in SSL Labs' raw IE 11 hellos",
      },
    ],
    configuration: configuration({
      os: '2012',
      stack: 'schannel',
      updates: [{ kb: 'KB3140245', installed: true }],
      registry: schannelTls12(true),
      process: 'an SChannel client',
    }),
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, WIN7_TLS12_SUITES, NIST_GROUPS, WIN7_TLS12_SCHEMES, WIN81_TLS12_EXTS),
  }),
  profile({
    name: 'win2012r2',
    aliases: ['win8.1', 'win81'],
    title: 'Windows Server 2012 R2 / 8.1, SChannel defaults',
    description: 'SChannel with TLS 1.0–1.2 enabled by default: a TLS 1.2 ClientHello, RC4 still offered at the end.',
    source: `${REF.win81Tls12.label}; ${SOURCE_RDP}. SSL Labs' IE 11 on 8.1 hello differs (no RC4, ALPN/NPN): IE's own choices, not SChannel's`,
    fidelity: 'captured',
    reference: REF.win81Tls12,
    modelled: [
      {
        field: 'recordVersion',
        because:
          "joy does not record it; SChannel writes its client_version (0x0303), as in SSL Labs' raw IE 11 on 8.1 hello",
      },
    ],
    configuration: configuration({
      os: '2012r2',
      stack: 'schannel',
      registry: schannelTls12(null),
      process: 'an SChannel client',
    }),
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, WIN7_TLS12_SUITES, NIST_GROUPS, WIN7_TLS12_SCHEMES, WIN81_TLS12_EXTS),
  }),
  profile({
    name: 'win2016',
    aliases: ['win10-1607'],
    title: 'Windows Server 2016 / 10 v1607, SChannel defaults',
    description: 'SChannel with GCM suites first, curve25519, RC4 still last: a TLS 1.2 ClientHello.',
    source: `${REF.win2016.label}; ${SOURCE_RDP}. Microsoft's "TLS Cipher Suites in Windows 10 v1607" agrees that RC4 is still in the default list`,
    fidelity: 'captured',
    reference: REF.win2016,
    modelled: [
      {
        field: 'recordVersion',
        because: "joy does not record it; SChannel writes its client_version (0x0303), as in SSL Labs' raw Edge hellos",
      },
    ],
    configuration: configuration({
      os: '2016',
      stack: 'schannel',
      registry: schannelTls12(null),
      process: 'an SChannel client',
    }),
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, WIN2016_SUITES, WIN10_GROUPS, WIN10_SCHEMES, WIN10_EXTS),
  }),
  profile({
    name: 'win2019',
    aliases: ['win10-1809'],
    title: 'Windows Server 2019 / 10 v1809, SChannel defaults',
    description: 'SChannel without DHE-CBC, DSS and RC4 suites: a TLS 1.2 ClientHello.',
    source: `${REF.win2019.label}; ${SOURCE_RDP}; the same suites and curves as ${REF.dotnet48On2019.label}. SSL Labs' Edge 17 hello lacks DHE-RSA-GCM: Edge's own choice`,
    fidelity: 'captured',
    reference: REF.win2019,
    modelled: [
      {
        field: 'recordVersion',
        because:
          "joy does not record it; SChannel writes its client_version (0x0303), as in SSL Labs' raw Edge 17 hello",
      },
    ],
    configuration: configuration({
      os: '2019',
      stack: 'schannel',
      registry: schannelTls12(null),
      process: 'an SChannel client',
    }),
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, WIN2019_SUITES, WIN10_GROUPS, WIN10_SCHEMES, WIN10_EXTS),
  }),
  profile({
    name: 'win2022',
    aliases: ['win11'],
    title: 'Windows Server 2022, SChannel defaults',
    description:
      'SChannel with TLS 1.3 enabled by default: supported_versions TLS 1.3 to 1.0, an x25519 key share, no 3DES.',
    source: `${REF.win2022.label}; Microsoft "TLS Cipher Suites in Windows Server 2022" (3DES no longer in the default list)`,
    fidelity: 'derived',
    reference: REF.win2022,
    modelled: [
      {
        field: 'recordVersion',
        because: "not recorded; 0x0303 as SChannel's TLS 1.2 hellos, and RFC 8446, Section 5.1 allows it",
      },
      {
        field: 'legacyVersion',
        because: 'not recorded; RFC 8446, Section 4.1.2 requires 0x0303 with supported_versions',
      },
      {
        field: 'extensions',
        because:
          'not recorded; the Server 2019 set without ec_point_formats (the reference has no point formats), with supported_versions, psk_key_exchange_modes and key_share (RFC 8446, Section 9.2) before renegotiation_info',
      },
      {
        field: 'signatureSchemes',
        because:
          'not recorded; the Server 2019 list plus RSA-PSS, which TLS 1.3 requires for RSA certificates (RFC 8446, Section 4.2.3)',
      },
    ],
    configuration: configuration({
      os: '2022',
      stack: 'schannel',
      registry: schannelTls12(null),
      process: 'an SChannel client',
    }),
    versions: ['TLS1.0', 'TLS1.1', 'TLS1.2', 'TLS1.3'],
    shape: {
      legacyVersion: PV.TLS1_2,
      recordVersion: PV.TLS1_2,
      supportedVersions: WIN2022_VERSIONS,
      cipherSuites: WIN2022_SUITES,
      groups: WIN10_GROUPS,
      pointFormats: [],
      signatureSchemes: WIN2022_SCHEMES,
      keyShareGroups: [0x001d],
      alpn: null,
      extensions: WIN2022_EXTS,
      // RFC 8446, Appendix D.4: a TLS 1.3 client sends a non-empty legacy_session_id.
      sessionIdLength: 32,
      grease: false,
    },
  }),
];
