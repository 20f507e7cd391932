/**
 * Client profile types: the shape of a ClientHello, how faithful a profile is to a real client
 * (`fidelity`, its reference fingerprint and the listed differences), and the Windows configuration
 * (OS, updates, registry values) a profile stands for. Plain readonly data; nothing here runs.
 */
import type { PrebuiltHello, ProbeVersion } from '../../probe/profiles.js';
import type { WindowsVersion } from '../windows-versions.js';

/** A position in a profile's extension list: an IANA extension type, or a GREASE extension (RFC 8701). */
export type ExtensionSlot = number | 'grease' | 'grease-1';

/** Everything a profile's ClientHello is made of, in wire order. */
export interface HelloShape {
  /** `legacy_version` (client_version). */
  readonly legacyVersion: number;
  readonly recordVersion: number;
  /** supported_versions content (RFC 8446, Section 4.2.1), or null when not sent. */
  readonly supportedVersions: readonly number[] | null;
  readonly cipherSuites: readonly number[];
  readonly groups: readonly number[];
  readonly pointFormats: readonly number[];
  readonly signatureSchemes: readonly number[] | null;
  /** Groups to send key shares for (TLS 1.3). */
  readonly keyShareGroups: readonly number[];
  readonly alpn: readonly string[] | null;
  /** Extension types in wire order; server_name is left out when there is no SNI. */
  readonly extensions: readonly ExtensionSlot[];
  readonly sessionIdLength: 0 | 32;
  /** GREASE values first in suites, groups and supported_versions, as Chrome sends them (RFC 8701). */
  readonly grease: boolean;
}

/**
 * How close a profile is to a real client:
 * - `captured`: equal to its reference (a real capture or fingerprint) in every field the reference
 *   records, apart from per-connection fields (random, session id, key share, SNI, padding length);
 * - `derived`: its reference plus the differences listed in `differences`, each justified;
 * - `modelled`: no capture; built from the documents `source` cites.
 */
export type Fidelity = 'captured' | 'derived' | 'modelled';

/** The fields of a ClientHello that profiles are compared on, in the order reports list them. */
export const HELLO_FIELDS = [
  'recordVersion',
  'legacyVersion',
  'versions',
  'cipherSuites',
  'extensions',
  'groups',
  'signatureSchemes',
  'pointFormats',
] as const;
export type HelloField = (typeof HELLO_FIELDS)[number];
export type ScalarHelloField = 'recordVersion' | 'legacyVersion';
export type ListHelloField = Exclude<HelloField, ScalarHelloField>;

/**
 * Which reference a profile is compared with, in ../shared/corpus/client-hellos:
 * - `testssl`: a raw ClientHello in testssl-client-simulation.json, by its `names`;
 * - `joy`: a cisco/joy fingerprint in windows/schannel-fingerprints-structured.json, by `joy_md5_repr`;
 * - `lee`: a LeeBrotherston/tls-fingerprinting entry in the same file, by `ja3`;
 * - `rgl`: an rgl/tls-dump-clienthello summary in the same file, by `client`.
 */
export interface ProfileReference {
  readonly kind: 'testssl' | 'joy' | 'lee' | 'rgl';
  readonly id: string;
  /** What the reference is, in words (process, OS build, how it was recorded). */
  readonly label: string;
}

/** One listed difference between a profile and its reference, with why the profile differs. */
export type HelloDifference =
  | {
      readonly field: ListHelloField;
      /** In the profile, not in the reference (GREASE as 0x0a0a). */
      readonly added: readonly number[];
      /** In the reference, not in the profile. */
      readonly removed: readonly number[];
      /** The entries both have are in a different order. */
      readonly reordered: boolean;
      readonly because: string;
    }
  | { readonly field: ScalarHelloField; readonly ours: number; readonly reference: number; readonly because: string };

/** A field the reference does not record, which the profile models (and from what). */
export interface ModelledField {
  readonly field: HelloField;
  readonly because: string;
}

/** An update a configuration has or lacks. */
export interface UpdateState {
  readonly kb: string;
  readonly installed: boolean;
}

/** One registry value as a configuration has it (`value` null: absent). */
export interface RegistryState {
  /** Full key path, `HKEY_LOCAL_MACHINE\...`. */
  readonly path: string;
  readonly name: string;
  readonly value: number | null;
}

/** Which TLS client the profile's process uses. */
export type ClientStack = 'schannel' | 'winhttp' | 'dotnet' | 'other';

/** The Windows configuration a profile stands for. */
export interface ClientConfiguration {
  readonly os: WindowsVersion;
  readonly stack: ClientStack;
  /** 32-bit process on 64-bit Windows: reads the WOW6432Node views. */
  readonly wow64: boolean;
  /** .NET Framework version the application targets, for `stack` 'dotnet'. */
  readonly dotnet?: '3.5' | '4.0' | '4.5' | '4.6' | '4.7+';
  readonly updates: readonly UpdateState[];
  readonly registry: readonly RegistryState[];
  /** One sentence: the OS, updates and registry state. */
  readonly state: string;
}

export interface ClientProfile {
  /** Kebab-case id, e.g. 'win7-schannel', 'win2012r2', 'dotnet46-default'. */
  readonly name: string;
  /** Other ids `findClientProfile` accepts (e.g. 'win2008r2' for the Windows 7 profile). */
  readonly aliases: readonly string[];
  readonly title: string;
  readonly description: string;
  readonly source: string;
  readonly fidelity: Fidelity;
  /** The real hello or fingerprint the profile is compared with; null for `modelled`. */
  readonly reference: ProfileReference | null;
  readonly differences: readonly HelloDifference[];
  /** Fields the reference does not record and the profile models. */
  readonly modelled: readonly ModelledField[];
  /** The Windows configuration it stands for; null for non-Windows clients. */
  readonly configuration: ClientConfiguration | null;
  /** Versions the client offers, oldest first. */
  readonly versions: readonly ProbeVersion[];
  readonly shape: HelloShape;
  /** Returns a fresh ClientHello (new random, session id and key shares) naming `sni` (null: no SNI). */
  build(sni: string | null): PrebuiltHello;
}

/** What a profile module declares; `profile()` in build.ts turns it into a `ClientProfile`. */
export interface ProfileSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly title: string;
  readonly description: string;
  readonly source: string;
  readonly fidelity: Fidelity;
  readonly reference: ProfileReference | null;
  readonly differences?: readonly HelloDifference[];
  readonly modelled?: readonly ModelledField[];
  readonly configuration?: ClientConfiguration | null;
  readonly versions: readonly ProbeVersion[];
  readonly shape: HelloShape;
}
