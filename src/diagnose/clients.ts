/**
 * Client simulation: `CLIENT_PROFILES` holds ClientHello profiles of the clients that matter for the
 * 10054 question (Windows SChannel from Server 2008 to Server 2022, WinHTTP and .NET Framework in
 * every configuration of the endpoint owner's guidance, OpenSSL 3, Chrome); each profile's
 * `build(sni)` returns a `PrebuiltHello` with a fresh random, session id and key shares.
 * `simulateClient` resolves with the attempt and the answer to "would this client configuration get
 * 10054 here?"; it never rejects for network outcomes.
 *
 * Each profile says how faithful it is (`fidelity`: captured, derived or modelled), which real hello
 * or fingerprint it follows (`reference`, in ../shared/corpus/client-hellos), and every difference
 * from it with the reason (`differences`, `modelled`); the tests hold each profile to exactly that.
 * The data lives in client-profiles/*.ts.
 */
import { displayName, PROTOCOL_VERSIONS } from '../tls/registry.js';
import { attempt, type AttemptOptions, type AttemptResult, type ProbeTarget } from '../probe/attempt.js';
import { describeOutcome } from '../probe/outcome.js';
import { GUIDANCE_PROFILES, DOTNET_PROFILES } from './client-profiles/guidance.js';
import { OTHER_PROFILES } from './client-profiles/others.js';
import { WINDOWS_DEFAULT_PROFILES } from './client-profiles/windows.js';
import type { ClientProfile } from './client-profiles/types.js';

export { buildHelloFromShape, highestVersion } from './client-profiles/build.js';
export { profileRemediation } from './client-profiles/remediation.js';
export type {
  ClientConfiguration,
  ClientProfile,
  ExtensionSlot,
  Fidelity,
  HelloDifference,
  HelloShape,
  ProfileReference,
} from './client-profiles/types.js';

/** Every client profile: Windows defaults oldest first, the guidance's configurations, .NET, others. */
export const CLIENT_PROFILES: readonly ClientProfile[] = [
  ...GUIDANCE_PROFILES.slice(0, 3),
  ...WINDOWS_DEFAULT_PROFILES,
  ...GUIDANCE_PROFILES.slice(3),
  ...DOTNET_PROFILES,
  ...OTHER_PROFILES,
];

/** Returns the profile called `name` (or one of its aliases, case-insensitive), or undefined. */
export function findClientProfile(name: string): ClientProfile | undefined {
  const n = name.trim().toLowerCase();
  return CLIENT_PROFILES.find((p) => p.name === n || p.aliases.includes(n));
}

/** What a simulated client would see. */
export type SimulationVerdict = 'gets-10054' | 'connects' | 'fails-otherwise';

export interface Simulation {
  readonly profile: string;
  readonly attempt: AttemptResult;
  readonly gets10054: boolean;
  readonly verdict: SimulationVerdict;
  readonly summary: string;
}

/**
 * Returns what happens when `profile`'s ClientHello (naming `sni`) is sent to `target`: the attempt,
 * whether the client would report error 10054 (the server reset the connection), and a sentence.
 */
export async function simulateClient(
  target: ProbeTarget,
  profile: ClientProfile,
  sni: string | null,
  opts: AttemptOptions = {},
): Promise<Simulation> {
  const r = await attempt(target, profile.build(sni), opts);
  const offered = profile.versions.map((v) => v.replace(/^(TLS|SSL)/, '$1 ')).join(', ');
  let verdict: SimulationVerdict;
  let summary: string;
  if (r.outcome === 'reset') {
    verdict = 'gets-10054';
    summary = `Yes: ${profile.title} gets error 10054 (WSAECONNRESET): the server reset the connection after a ClientHello offering ${offered}.`;
  } else if (r.outcome === 'negotiated') {
    verdict = 'connects';
    const v = r.negotiatedVersion === null ? 'handshake accepted' : displayName(PROTOCOL_VERSIONS, r.negotiatedVersion);
    summary = `No: ${profile.title} connects (${v}${r.cipherSuiteName ? `, ${r.cipherSuiteName}` : ''}).`;
  } else {
    verdict = 'fails-otherwise';
    summary = `No 10054, but ${profile.title} fails: ${describeOutcome(r.outcome, r.errorCode)}${r.alert ? ` (${r.alert.name})` : ''}.`;
  }
  return { profile: profile.name, attempt: r, gets10054: verdict === 'gets-10054', verdict, summary };
}
