/**
 * SChannel ClientHello data, per Windows version, as the reference fingerprints in
 * ../shared/corpus/client-hellos record them (no raw capture of a Windows SChannel client exists in
 * public repositories as far as we found; these fingerprints are the references). Each list is
 * written in hex in wire order, so that it can be read against its fingerprint.
 *
 * Where the fingerprints and Microsoft's "TLS Cipher Suites in Windows …" pages disagree, the
 * profiles follow the fingerprints: they are what SChannel sent on the wire, after the updates the
 * machines had, while the pages describe one update level and leave out what they call
 * "not enabled by default" inconsistently (e.g. the 8.1 page's order differs from every 8.1 and
 * Windows 7 fingerprint, which agree with each other and with the RDP client's JA3 for those
 * versions published by Adel Karimi and collected in xnih/satori).
 */
import { ProtocolVersion as PV } from '../../tls/registry.js';
import type { ExtensionSlot, HelloShape } from './types.js';

/** Returns the 16-bit values in a space-separated hex string ("c014 c013"). */
export function hex16(s: string): number[] {
  return s
    .trim()
    .split(/\s+/)
    .map((h) => Number.parseInt(h, 16));
}

/** Windows 7 / 2008 R2 SP1, TLS 1.0 hello (svchost.exe, OUTLOOK.EXE on 6.1.7601; cisco/joy 0f67583f…). */
export const WIN7_TLS10_SUITES = hex16('c014 c013 c00a c009 0035 002f 0038 0032 000a 0013 0005 0004');
export const WIN7_TLS10_EXTS: readonly ExtensionSlot[] = hex16('0000 000a 000b 0017 ff01');
/** P-521 first: the `_P521` variants were still on in this build's curve list. */
export const WIN7_TLS10_GROUPS = hex16('0019 0017 0018');

/**
 * Windows 7 / 2008 R2 with TLS 1.2 enabled, and Windows 8 / 8.1 / 2012 / 2012 R2 (TLS 1.2): one list
 * (IE 11.0.9600.18349 on Windows 7 = the Windows 7 RDP client's JA3; proximity.exe on 8.1 = the
 * Server 2012 RDP client's JA3).
 */
export const WIN7_TLS12_SUITES = hex16(
  'c028 c027 c014 c013 009f 009e 009d 009c 003d 003c 0035 002f c02c c02b c024 c023 c00a c009 006a 0040 0038 0032 000a 0013 0005 0004',
);
export const WIN7_TLS12_SCHEMES = hex16('0601 0603 0401 0501 0201 0403 0503 0203 0202');
export const NIST_GROUPS = hex16('0017 0018');
/** Windows 7 TLS 1.2 (LeeBrotherston d54b3eb8…): status_request, no session ticket. */
export const WIN7_TLS12_EXTS: readonly ExtensionSlot[] = hex16('0000 0005 000a 000b 000d 0017 ff01');
/** Windows Update's WinHTTP on Windows 7 with TLS 1.2 (LeeBrotherston bff2c7b5…): no status_request. */
export const WINHTTP7_TLS12_EXTS: readonly ExtensionSlot[] = hex16('0000 000a 000b 000d 0017 ff01');
/** Windows 8.1 TLS 1.2 (cisco/joy 50a1fb0b…): status_request and session_ticket. */
export const WIN81_TLS12_EXTS: readonly ExtensionSlot[] = hex16('0000 0005 000a 000b 000d 0023 0017 ff01');

/** Windows 8.x TLS 1.0 hello (LeeBrotherston "Windows 8.x Builtin Mail Client", 0d15924f…). */
export const WIN8_TLS10_SUITES = hex16('c014 c013 0035 002f c00a c009 0038 0032 000a 0013 0005 0004');
export const WIN8_TLS10_EXTS: readonly ExtensionSlot[] = hex16('0000 000a 000b 0023 ff01');

/** Windows 10 1607 / Server 2016 (OUTLOOK.EXE on 10.0.14393, cisco/joy 08bac66c… = the 2016 RDP JA3). */
export const WIN2016_SUITES = hex16(
  'c02c c02b c030 c02f 009f 009e c024 c023 c028 c027 c00a c009 c014 c013 0039 0033 009d 009c 003d 003c 0035 002f 000a 006a 0040 0038 0032 0013 0005 0004',
);
/** Windows 10 1809 / Server 2019 (OUTLOOK.EXE on 10.0.17763, cisco/joy 6d0ceee6… = the 2019 RDP JA3). */
export const WIN2019_SUITES = hex16(
  'c02c c02b c030 c02f 009f 009e c024 c023 c028 c027 c00a c009 c014 c013 009d 009c 003d 003c 0035 002f 000a',
);
export const WIN10_SCHEMES = hex16('0401 0501 0201 0403 0503 0203 0202 0601 0603');
export const WIN10_GROUPS = hex16('001d 0017 0018');
export const WIN10_EXTS: readonly ExtensionSlot[] = WIN81_TLS12_EXTS;

/** Server 2022 (.NET Framework 4.8.4515.0 on 21H2, rgl/tls-dump-clienthello): TLS 1.3 suites, no 3DES. */
export const WIN2022_SUITES = hex16(
  '1302 1301 c02c c02b c030 c02f 009f 009e c024 c023 c028 c027 c00a c009 c014 c013 009d 009c 003d 003c 0035 002f',
);
export const WIN2022_VERSIONS = hex16('0304 0303 0302 0301');
/**
 * Server 2022 extensions: the reference records none. Modelled as the Windows 10 set without
 * ec_point_formats (the reference has no point formats), with the TLS 1.3 extensions before
 * renegotiation_info (RFC 8446, Section 4.2: key_share and supported_versions are required).
 */
export const WIN2022_EXTS: readonly ExtensionSlot[] = hex16('0000 0005 000a 000d 0023 0017 002b 002d 0033 ff01');
/** The Windows 10 schemes plus RSA-PSS, which TLS 1.3 requires for RSA (RFC 8446, Section 4.2.3); modelled. */
export const WIN2022_SCHEMES = [...WIN10_SCHEMES, ...hex16('0804 0805 0806')];

/** Windows Vista / Server 2008 SP2 TLS 1.0 hello (SSL Labs' IE 7 on Vista, raw bytes in testssl). */
export const VISTA_SUITES = hex16('002f 0035 0005 000a c009 c00a c013 c014 0032 0038 0013 0004');
export const VISTA_EXTS: readonly ExtensionSlot[] = hex16('0000 0005 000a 000b ff01');
export const VISTA_GROUPS = hex16('0017 0018 0019');

/** SCH_USE_STRONG_CRYPTO (.NET's SchUseStrongCrypto=1, or default from .NET 4.6) removes RC4. */
export const RC4_SUITES = hex16('0005 0004');

/** Returns `suites` without RC4, as SCH_USE_STRONG_CRYPTO leaves them. */
export function strongCrypto(suites: readonly number[]): number[] {
  return suites.filter((s) => !RC4_SUITES.includes(s));
}

/** An SChannel hello up to TLS 1.2: record version = client_version, no session id, no supported_versions. */
export function schannelShape(
  highest: number,
  suites: readonly number[],
  groups: readonly number[],
  schemes: readonly number[] | null,
  extensions: readonly ExtensionSlot[],
): HelloShape {
  return {
    legacyVersion: highest,
    recordVersion: highest,
    supportedVersions: null,
    cipherSuites: suites,
    groups,
    pointFormats: [0],
    signatureSchemes: highest >= PV.TLS1_2 ? schemes : null,
    keyShareGroups: [],
    alpn: null,
    extensions,
    sessionIdLength: 0,
    grease: false,
  };
}
