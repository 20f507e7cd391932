/**
 * Every configuration of the endpoint owner's guidance as a client profile: Windows Server 2008 SP2
 * with and without KB4019276 and the keys, WinHTTP on Windows 7 with and without KB3140245 and
 * `DefaultSecureProtocols`, .NET Framework 3.5 to 4.8 with and without `SystemDefaultTlsVersions` /
 * `SchUseStrongCrypto`, and a 32-bit agent whose keys are only in the 64-bit view. Each profile's
 * hello is its OS's SChannel hello (schannel-data.ts) at the versions the configuration allows.
 *
 * .NET behaviour: "Transport Layer Security (TLS) best practices with the .NET Framework"
 * (dotnet/docs): apps on 4.0–4.5.2 default to SSL 3.0 | TLS 1.0; 4.6 to TLS 1.0–1.2 with strong
 * crypto; 4.7+ to the system's choice; `SchUseStrongCrypto`=1 gives an older app "more secure network
 * protocols (TLS 1.2, TLS 1.1, and TLS 1.0)" and removes RC4 (SCH_USE_STRONG_CRYPTO);
 * `SystemDefaultTlsVersions`=1 hands the choice to SChannel. WinHTTP: KB3140245 (TLS 1.1/1.2 become
 * usable as defaults only with `DefaultSecureProtocols`). Server 2008 SP2: KB4019276 (TLS 1.1/1.2
 * added, disabled until the SChannel keys enable them).
 */
import { ProtocolVersion as PV } from '../../tls/registry.js';
import { profile } from './build.js';
import {
  configuration,
  DOTNET2_KEY_64,
  DOTNET4_KEY_32,
  DOTNET4_KEY_64,
  dotnetValues,
  schannelTls12,
  WINHTTP_KEY_32,
  WINHTTP_KEY_64,
  WINHTTP_TLS11_TLS12,
} from './configuration.js';
import {
  hex16,
  NIST_GROUPS,
  RC4_SUITES,
  schannelShape,
  strongCrypto,
  VISTA_EXTS,
  VISTA_GROUPS,
  VISTA_SUITES,
  WIN10_EXTS,
  WIN10_GROUPS,
  WIN10_SCHEMES,
  WIN2019_SUITES,
  WIN7_TLS10_EXTS,
  WIN7_TLS10_GROUPS,
  WIN7_TLS10_SUITES,
  WIN7_TLS12_SCHEMES,
  WIN7_TLS12_SUITES,
  WIN81_TLS12_EXTS,
  WIN8_TLS10_EXTS,
  WIN8_TLS10_SUITES,
  WINHTTP7_TLS12_EXTS,
} from './schannel-data.js';
import type { ClientProfile, HelloDifference } from './types.js';
import { LEGACY, REF, TO_TLS12 } from './windows.js';

const DOTNET_DOC = '"Transport Layer Security (TLS) best practices with the .NET Framework" (dotnet/docs)';
const RECORD_FROM_JOY = {
  field: 'recordVersion',
  because: "joy does not record it; SChannel writes its client_version, as in SSL Labs' raw IE hellos",
} as const;

const NO_RC4 = (why: string): HelloDifference => ({
  field: 'cipherSuites',
  added: [],
  removed: RC4_SUITES,
  reordered: false,
  because: why,
});
const STRONG = `SCH_USE_STRONG_CRYPTO removes RC4 (SchUseStrongCrypto=1, the default for apps on .NET 4.6 and later; ${DOTNET_DOC})`;

const win2008Config = (kb: boolean, keys: boolean) =>
  configuration({
    os: '2008',
    stack: 'schannel',
    updates: [{ kb: 'KB4019276', installed: kb }],
    registry: schannelTls12(keys ? true : null),
    process: 'an SChannel client',
  });

const winhttpConfig = (kb: boolean, dsp: boolean) =>
  configuration({
    os: '7',
    stack: 'winhttp',
    updates: [{ kb: 'KB3140245', installed: kb }],
    registry: [
      ...schannelTls12(dsp ? true : null),
      { path: WINHTTP_KEY_64, name: 'DefaultSecureProtocols', value: dsp ? WINHTTP_TLS11_TLS12 : null },
      { path: WINHTTP_KEY_32, name: 'DefaultSecureProtocols', value: dsp ? WINHTTP_TLS11_TLS12 : null },
    ],
    process: 'a WinHTTP client (e.g. a service using WinHttpOpen defaults)',
  });

/** The configurations the guidance distinguishes, with the names the issue gives them. */
export const GUIDANCE_PROFILES: readonly ClientProfile[] = [
  profile({
    name: 'win2008',
    aliases: ['win2008sp2'],
    title: 'Windows Server 2008 SP2 without KB4019276',
    description:
      'SChannel as on Vista: TLS 1.2 does not exist yet, so a TLS 1.0 ClientHello with RC4 and no signature_algorithms.',
    source: `${REF.vista.label}; KB4019276 ("Update to add support for TLS 1.1 and TLS 1.2 in Windows Server 2008 SP2")`,
    fidelity: 'captured',
    reference: REF.vista,
    configuration: win2008Config(false, false),
    versions: LEGACY,
    shape: schannelShape(PV.TLS1_0, VISTA_SUITES, VISTA_GROUPS, null, VISTA_EXTS),
  }),
  profile({
    name: 'win2008-kb4019276',
    title: 'Windows Server 2008 SP2 with KB4019276, keys not set',
    description:
      'The half-done fix: the update adds TLS 1.1/1.2 but leaves them disabled until the SChannel keys are set, so the hello is still TLS 1.0.',
    source: `${REF.vista.label}; KB4019276 (TLS 1.1/1.2 off until the registry enables them)`,
    fidelity: 'captured',
    reference: REF.vista,
    configuration: win2008Config(true, false),
    versions: LEGACY,
    shape: schannelShape(PV.TLS1_0, VISTA_SUITES, VISTA_GROUPS, null, VISTA_EXTS),
  }),
  profile({
    name: 'win2008-tls12',
    title: 'Windows Server 2008 SP2 with KB4019276 and the TLS 1.2 client keys',
    description:
      'The update and the keys: a TLS 1.2 ClientHello (record version 0x0303) with signature_algorithms; the suites stay the Vista list.',
    source: `${REF.vista.label}, raised to TLS 1.2 as KB4019276 describes; signature schemes as SChannel on Windows 7 (${REF.win7Tls12.label})`,
    fidelity: 'derived',
    reference: REF.vista,
    differences: [
      {
        field: 'recordVersion',
        ours: PV.TLS1_2,
        reference: PV.TLS1_0,
        because:
          'SChannel writes its client_version in the record (every SChannel TLS 1.2 fingerprint with a record version: 0x0303)',
      },
      {
        field: 'legacyVersion',
        ours: PV.TLS1_2,
        reference: PV.TLS1_0,
        because: 'KB4019276 adds TLS 1.2 and the keys enable it, so client_version is TLS 1.2',
      },
      {
        field: 'versions',
        added: [PV.TLS1_2, PV.TLS1_1],
        removed: [],
        reordered: false,
        because: 'KB4019276 adds TLS 1.1 and 1.2; the keys enable them',
      },
      {
        field: 'extensions',
        added: [0x000d],
        removed: [],
        reordered: false,
        because:
          'a TLS 1.2 SChannel hello carries signature_algorithms (RFC 5246, Section 7.4.1.4.1), after ec_point_formats as on Windows 7',
      },
      {
        field: 'signatureSchemes',
        added: WIN7_TLS12_SCHEMES,
        removed: [],
        reordered: false,
        because:
          'no Server 2008 TLS 1.2 capture: the Windows 7 SChannel list (LeeBrotherston d54b3eb8), the closest SChannel that had TLS 1.2',
      },
    ],
    configuration: win2008Config(true, true),
    versions: TO_TLS12,
    shape: {
      ...schannelShape(
        PV.TLS1_2,
        VISTA_SUITES,
        VISTA_GROUPS,
        WIN7_TLS12_SCHEMES,
        hex16('0000 0005 000a 000b 000d ff01'),
      ),
    },
  }),
  profile({
    name: 'winhttp-win7',
    title: 'WinHTTP on Windows 7 / 2008 R2 without KB3140245',
    description: 'WinHTTP uses SSL 3.0 and TLS 1.0 by default and cannot be told otherwise: a TLS 1.0 ClientHello.',
    source: `${REF.win7Tls10.label} (svchost.exe: Windows Update and BITS use WinHTTP); KB3140245`,
    fidelity: 'captured',
    reference: REF.win7Tls10,
    modelled: [RECORD_FROM_JOY],
    configuration: winhttpConfig(false, false),
    versions: LEGACY,
    shape: schannelShape(PV.TLS1_0, WIN7_TLS10_SUITES, WIN7_TLS10_GROUPS, null, WIN7_TLS10_EXTS),
  }),
  profile({
    name: 'winhttp-win7-kb3140245',
    title: 'WinHTTP on Windows 7 / 2008 R2 with KB3140245, no DefaultSecureProtocols',
    description:
      'The update alone changes nothing: without DefaultSecureProtocols WinHTTP still offers TLS 1.0 at most.',
    source: `${REF.win7Tls10.label}; KB3140245 (the defaults apply until DefaultSecureProtocols is set)`,
    fidelity: 'captured',
    reference: REF.win7Tls10,
    modelled: [RECORD_FROM_JOY],
    configuration: winhttpConfig(true, false),
    versions: LEGACY,
    shape: schannelShape(PV.TLS1_0, WIN7_TLS10_SUITES, WIN7_TLS10_GROUPS, null, WIN7_TLS10_EXTS),
  }),
  profile({
    name: 'winhttp-win7-tls12',
    title: 'WinHTTP on Windows 7 / 2008 R2 with KB3140245, DefaultSecureProtocols and the SChannel keys',
    description:
      'DefaultSecureProtocols=0xA00 (TLS 1.1 and 1.2) and the TLS 1.2 client enabled: a TLS 1.2 ClientHello.',
    source: `${REF.winhttp7Tls12.label}; KB3140245`,
    fidelity: 'captured',
    reference: REF.winhttp7Tls12,
    configuration: winhttpConfig(true, true),
    versions: ['TLS1.1', 'TLS1.2'],
    shape: schannelShape(PV.TLS1_2, WIN7_TLS12_SUITES, NIST_GROUPS, WIN7_TLS12_SCHEMES, WINHTTP7_TLS12_EXTS),
  }),
  profile({
    name: 'dotnet35',
    title: '.NET Framework 3.5 app on Server 2012 R2, no TLS update or keys',
    description:
      'ServicePointManager.SecurityProtocol defaults to Ssl3 | Tls: a TLS 1.0 ClientHello with RC4, although the OS could do TLS 1.2.',
    source: `${DOTNET_DOC} (.NET 3.5 needs the .NET 3.5.1 TLS update and SystemDefaultTlsVersions under v2.0.50727); hello: ${REF.win8Tls10.label}`,
    fidelity: 'captured',
    reference: REF.win8Tls10,
    configuration: configuration({
      os: '2012r2',
      stack: 'dotnet',
      dotnet: '3.5',
      updates: [{ kb: 'KB3154520', installed: false }],
      registry: [...dotnetValues(DOTNET2_KEY_64, null, null), ...dotnetValues(DOTNET4_KEY_64, null, null)],
      process: 'a 64-bit .NET Framework 3.5 application',
    }),
    versions: LEGACY,
    shape: schannelShape(PV.TLS1_0, WIN8_TLS10_SUITES, NIST_GROUPS, null, WIN8_TLS10_EXTS),
  }),
  profile({
    name: 'dotnet46-default',
    title: '.NET Framework 4.6 app on Server 2012 R2, no registry keys',
    description: '.NET 4.6 defaults to TLS 1.0–1.2 with strong crypto: a TLS 1.2 ClientHello without RC4.',
    source: `${DOTNET_DOC}; hello: ${REF.win81Tls12.label}`,
    fidelity: 'derived',
    reference: REF.win81Tls12,
    differences: [NO_RC4(STRONG)],
    modelled: [RECORD_FROM_JOY],
    configuration: configuration({
      os: '2012r2',
      stack: 'dotnet',
      dotnet: '4.6',
      registry: dotnetValues(DOTNET4_KEY_64, null, null),
      process: 'a 64-bit .NET Framework 4.6 application',
    }),
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, strongCrypto(WIN7_TLS12_SUITES), NIST_GROUPS, WIN7_TLS12_SCHEMES, WIN81_TLS12_EXTS),
  }),
  profile({
    name: 'dotnet47-systemdefault',
    title: '.NET Framework 4.7+ app (4.8) on Server 2019, system default versions',
    description:
      'SecurityProtocol SystemDefault: SChannel chooses (TLS 1.0–1.2 on 2019) with strong crypto: the Server 2019 TLS 1.2 ClientHello.',
    source: `${REF.dotnet48On2019.label}; extensions and schemes: ${REF.win2019.label}`,
    fidelity: 'derived',
    reference: REF.dotnet48On2019,
    modelled: [
      { field: 'recordVersion', because: 'not recorded; SChannel writes its client_version (0x0303)' },
      { field: 'legacyVersion', because: 'not recorded; 0x0303, the highest version offered' },
      { field: 'extensions', because: `not recorded; SChannel's on Server 2019 (${REF.win2019.label})` },
      { field: 'signatureSchemes', because: `not recorded; SChannel's on Server 2019 (${REF.win2019.label})` },
    ],
    configuration: configuration({
      os: '2019',
      stack: 'dotnet',
      dotnet: '4.7+',
      registry: dotnetValues(DOTNET4_KEY_64, null, null),
      process: 'a 64-bit .NET Framework 4.8 application',
    }),
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, WIN2019_SUITES, WIN10_GROUPS, WIN10_SCHEMES, WIN10_EXTS),
  }),
  profile({
    name: 'dotnet-strongcrypto-only',
    title: '.NET Framework 4.5 app on Server 2012 R2 with SchUseStrongCrypto=1 only',
    description:
      'SchUseStrongCrypto=1 without SystemDefaultTlsVersions: the app offers TLS 1.0–1.2 without RC4, so a TLS 1.2 ClientHello.',
    source: `${DOTNET_DOC}; hello: ${REF.win81Tls12.label}`,
    fidelity: 'derived',
    reference: REF.win81Tls12,
    differences: [NO_RC4(STRONG)],
    modelled: [RECORD_FROM_JOY],
    configuration: configuration({
      os: '2012r2',
      stack: 'dotnet',
      dotnet: '4.5',
      registry: [...dotnetValues(DOTNET4_KEY_64, null, 1), ...dotnetValues(DOTNET4_KEY_32, null, 1)],
      process: 'a 64-bit .NET Framework 4.5 application',
    }),
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, strongCrypto(WIN7_TLS12_SUITES), NIST_GROUPS, WIN7_TLS12_SCHEMES, WIN81_TLS12_EXTS),
  }),
  profile({
    name: 'agent32-no-wow64-keys',
    title: '32-bit .NET 4.5 backup agent on 64-bit Server 2012 R2, keys only in the 64-bit view',
    description:
      'The keys are under SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319 but not under WOW6432Node, which is what a 32-bit process reads: a TLS 1.0 ClientHello with RC4.',
    source: `${DOTNET_DOC} and the endpoint owner's guidance (both views); hello: ${REF.win8Tls10.label}`,
    fidelity: 'captured',
    reference: REF.win8Tls10,
    configuration: configuration({
      os: '2012r2',
      stack: 'dotnet',
      dotnet: '4.5',
      wow64: true,
      registry: [...dotnetValues(DOTNET4_KEY_64, 1, 1), ...dotnetValues(DOTNET4_KEY_32, null, null)],
      process: 'a 32-bit .NET Framework 4.5 backup agent',
    }),
    versions: LEGACY,
    shape: schannelShape(PV.TLS1_0, WIN8_TLS10_SUITES, NIST_GROUPS, null, WIN8_TLS10_EXTS),
  }),
];

/** The .NET profiles kept from before the guidance list (other OS / key combinations). */
export const DOTNET_PROFILES: readonly ClientProfile[] = [
  profile({
    name: 'dotnet45-default',
    title: '.NET Framework 4.5–4.5.2 app, no registry keys (on Server 2012 R2)',
    description:
      'Without SchUseStrongCrypto and SystemDefaultTlsVersions the app asks SChannel for TLS 1.0 only: a TLS 1.0 ClientHello with RC4 offered, even though the OS could do TLS 1.2.',
    source: `${DOTNET_DOC}; hello: ${REF.win8Tls10.label}`,
    fidelity: 'captured',
    reference: REF.win8Tls10,
    configuration: configuration({
      os: '2012r2',
      stack: 'dotnet',
      dotnet: '4.5',
      registry: dotnetValues(DOTNET4_KEY_64, null, null),
      process: 'a 64-bit .NET Framework 4.5 application',
    }),
    versions: ['TLS1.0'],
    shape: schannelShape(PV.TLS1_0, WIN8_TLS10_SUITES, NIST_GROUPS, null, WIN8_TLS10_EXTS),
  }),
  profile({
    name: 'dotnet40-default',
    title: '.NET Framework 4.0 app, no registry keys (on Windows 7 / Server 2008 R2)',
    description:
      'ServicePointManager.SecurityProtocol is Ssl3 | Tls: SChannel sends a TLS 1.0 ClientHello and would settle for SSL 3.0; RC4 offered.',
    source: `${DOTNET_DOC}; hello: ${REF.win7Tls10.label}`,
    fidelity: 'captured',
    reference: REF.win7Tls10,
    modelled: [RECORD_FROM_JOY],
    configuration: configuration({
      os: '2008r2',
      stack: 'dotnet',
      dotnet: '4.0',
      registry: dotnetValues(DOTNET4_KEY_64, null, null),
      process: 'a 64-bit .NET Framework 4.0 application',
    }),
    versions: LEGACY,
    shape: schannelShape(PV.TLS1_0, WIN7_TLS10_SUITES, WIN7_TLS10_GROUPS, null, WIN7_TLS10_EXTS),
  }),
  profile({
    name: 'dotnet-strongcrypto',
    aliases: ['dotnet-systemdefault'],
    title: '.NET Framework 4.x with SchUseStrongCrypto=1 and SystemDefaultTlsVersions=1 (on Server 2012 R2)',
    description:
      'The OS chooses the versions (TLS 1.0–1.2) and SCH_USE_STRONG_CRYPTO removes RC4: a TLS 1.2 ClientHello.',
    source: `${DOTNET_DOC}; hello: ${REF.win81Tls12.label}`,
    fidelity: 'derived',
    reference: REF.win81Tls12,
    differences: [NO_RC4(STRONG)],
    modelled: [RECORD_FROM_JOY],
    configuration: configuration({
      os: '2012r2',
      stack: 'dotnet',
      dotnet: '4.5',
      registry: [...dotnetValues(DOTNET4_KEY_64, 1, 1), ...dotnetValues(DOTNET4_KEY_32, 1, 1)],
      process: 'a .NET Framework 4.5 application',
    }),
    versions: TO_TLS12,
    shape: schannelShape(PV.TLS1_2, strongCrypto(WIN7_TLS12_SUITES), NIST_GROUPS, WIN7_TLS12_SCHEMES, WIN81_TLS12_EXTS),
  }),
  profile({
    name: 'dotnet-strongcrypto-win7',
    aliases: ['dotnet-strongcrypto-win2008r2'],
    title: '.NET Framework 4.x with the .NET keys but SChannel TLS 1.2 still disabled (Windows 7 / 2008 R2)',
    description:
      'SystemDefaultTlsVersions=1 hands the choice to SChannel, whose TLS 1.2 client is still off: a TLS 1.0 ClientHello without RC4. Both the .NET and the SChannel keys are needed.',
    source: `${DOTNET_DOC}; hello: ${REF.win7Tls10.label}`,
    fidelity: 'derived',
    reference: REF.win7Tls10,
    differences: [NO_RC4(STRONG)],
    modelled: [RECORD_FROM_JOY],
    configuration: configuration({
      os: '2008r2',
      stack: 'dotnet',
      dotnet: '4.5',
      registry: [...schannelTls12(null), ...dotnetValues(DOTNET4_KEY_64, 1, 1), ...dotnetValues(DOTNET4_KEY_32, 1, 1)],
      process: 'a .NET Framework 4.5 application',
    }),
    versions: ['TLS1.0'],
    shape: schannelShape(PV.TLS1_0, strongCrypto(WIN7_TLS10_SUITES), WIN7_TLS10_GROUPS, null, WIN7_TLS10_EXTS),
  }),
];
