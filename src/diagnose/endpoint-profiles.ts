/**
 * Endpoint profiles: `ENDPOINT_PROFILES` lists, as data, the names a product needs to reach (the
 * Azure Backup agent's FQDN patterns on port 443); `expandEndpointProfile` returns what to probe for
 * a profile (concrete names given by the user, control endpoints, and the wildcard patterns still
 * lacking a concrete name); `concludeEndpoints` returns the conclusion over per-endpoint verdicts.
 * None of them touches the network, and none throws except `expandEndpointProfile` (RangeError for
 * an unknown profile name).
 *
 * The controls exist to tell two situations apart that look the same from one endpoint:
 * "this network cannot do TLS 1.2 anywhere" (a proxy, firewall or inspection device in the path:
 * the controls fail too) and "this endpoint refuses" (the controls work, the endpoint does not).
 */
import type { VerdictCode } from './verdict-types.js';

/** One name pattern a product needs. */
export interface EndpointPattern {
  /** `*.blob.core.windows.net` or a plain name. */
  readonly pattern: string;
  readonly port: number;
  /** True when the pattern is a wildcard: it cannot be probed until a concrete name is given. */
  readonly wildcard: boolean;
  readonly purpose: string;
  /** Where to find a concrete name for a wildcard. */
  readonly concreteHint?: string;
}

/** A well-known endpoint that accepts TLS 1.2, used to judge the network itself. */
export interface ControlEndpoint {
  readonly host: string;
  readonly port: number;
  readonly purpose: string;
}

export interface EndpointProfile {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly source: string;
  readonly endpoints: readonly EndpointPattern[];
  readonly controls: readonly ControlEndpoint[];
}

const HTTPS = 443;

/** Returns a pattern entry, `wildcard` derived from the pattern itself. */
function pattern(p: string, purpose: string, concreteHint?: string): EndpointPattern {
  return { pattern: p, port: HTTPS, wildcard: p.startsWith('*.'), purpose, ...(concreteHint ? { concreteHint } : {}) };
}

export const ENDPOINT_PROFILES: readonly EndpointProfile[] = [
  {
    name: 'azure-backup',
    title: 'Azure Backup (MARS agent)',
    description:
      'The names the Microsoft Azure Recovery Services agent must reach over HTTPS (port 443) for backup and restore. A backup agent that cannot offer TLS 1.2 fails to reach them (error 10054 where they reset older hellos).',
    source:
      'Azure Backup documentation (MicrosoftDocs/azure-docs, includes/backup-network-connectivity.md, "URL and IP access"): the MARS agent needs these FQDNs over HTTPS on port 443; the OS connectivity checks (www.msftconnecttest.com, www.msftncsi.com) are plain HTTP and not probed here',
    endpoints: [
      pattern('*.microsoft.com', 'Microsoft services used by the agent', 'e.g. www.microsoft.com'),
      pattern(
        '*.windowsazure.com',
        'the Recovery Services vault (backup service)',
        "the backup service name from the agent's logs",
      ),
      pattern('*.microsoftonline.com', 'Microsoft Entra ID sign-in', 'login.microsoftonline.com'),
      pattern('*.windows.net', 'Microsoft Entra ID and Azure service endpoints', 'login.windows.net'),
      pattern(
        '*.blob.core.windows.net',
        "the vault's storage (backup data)",
        "<storage account>.blob.core.windows.net from the agent's logs",
      ),
      pattern(
        '*.queue.core.windows.net',
        "the vault's storage queues",
        "<storage account>.queue.core.windows.net from the agent's logs",
      ),
      pattern('*.blob.storage.azure.net', 'storage (newer storage domain)', "the storage name from the agent's logs"),
    ],
    controls: [
      {
        host: 'www.microsoft.com',
        port: HTTPS,
        purpose: 'a large Microsoft site that accepts TLS 1.2: if it fails too, the network is the problem',
      },
      { host: 'login.microsoftonline.com', port: HTTPS, purpose: 'Entra ID sign-in, which the agent needs anyway' },
      {
        host: 'www.google.com',
        port: HTTPS,
        purpose: 'a non-Microsoft control: if only Microsoft names fail, suspect filtering by name',
      },
    ],
  },
];

/** Returns the profile called `name`, or undefined. */
export function findEndpointProfile(name: string): EndpointProfile | undefined {
  return ENDPOINT_PROFILES.find((p) => p.name === name.trim().toLowerCase());
}

/**
 * Returns true when `host` falls under `pattern`: equal to a plain pattern, or any name below the
 * suffix of a `*.` pattern (allow-list semantics: `*.windows.net` covers `a.blob.core.windows.net`),
 * compared case-insensitively without a trailing dot.
 */
export function matchesPattern(host: string, p: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const q = p.toLowerCase().replace(/\.$/, '');
  if (!q.startsWith('*.')) return h === q;
  const suffix = q.slice(1); // ".blob.core.windows.net"
  return h.endsWith(suffix) && h.length > suffix.length;
}

/** One endpoint to probe. */
export interface ProbeTargetSpec {
  readonly host: string;
  readonly port: number;
  readonly role: 'target' | 'control';
  /** The pattern a target name falls under (the most specific), or null for a control or a stray name. */
  readonly pattern: string | null;
}

export interface ExpandedProfile {
  readonly profile: EndpointProfile;
  readonly probes: readonly ProbeTargetSpec[];
  /** Wildcard patterns that no given name covers: say which concrete names to add. */
  readonly needsConcreteName: readonly EndpointPattern[];
}

/**
 * Returns what to probe for the profile `name`: each of `names` (assigned to the most specific
 * pattern it falls under), then the controls. Throws RangeError for an unknown profile.
 */
export function expandEndpointProfile(name: string, names: readonly string[] = []): ExpandedProfile {
  const profile = findEndpointProfile(name);
  if (!profile)
    throw new RangeError(
      `unknown endpoint profile ${JSON.stringify(name)}; known: ${ENDPOINT_PROFILES.map((p) => p.name).join(', ')}`,
    );
  const covered = new Set<string>();
  const probes: ProbeTargetSpec[] = [];
  for (const host of names) {
    const matching = profile.endpoints
      .filter((e) => matchesPattern(host, e.pattern))
      .sort((a, b) => b.pattern.length - a.pattern.length);
    const best = matching[0] ?? null;
    if (best) covered.add(best.pattern);
    probes.push({ host, port: best?.port ?? HTTPS, role: 'target', pattern: best?.pattern ?? null });
  }
  for (const e of profile.endpoints) {
    if (!e.wildcard && !covered.has(e.pattern)) {
      probes.push({ host: e.pattern, port: e.port, role: 'target', pattern: e.pattern });
      covered.add(e.pattern);
    }
  }
  for (const c of profile.controls) probes.push({ host: c.host, port: c.port, role: 'control', pattern: null });
  return { profile, probes, needsConcreteName: profile.endpoints.filter((e) => e.wildcard && !covered.has(e.pattern)) };
}

/** One endpoint's result, as a verdict code from `decideVerdict`. */
export interface EndpointResult {
  readonly host: string;
  readonly port: number;
  readonly role: 'target' | 'control';
  readonly verdict: VerdictCode;
}

export type NetworkConclusionCode =
  /** No control could be reached at all: no route, DNS or a mandatory proxy. */
  | 'network-unreachable'
  /** Controls reached but TLS 1.2 failed there too: the path blocks or breaks TLS. */
  | 'network-blocks-tls'
  /** A control's certificate came from an inspecting proxy. */
  | 'tls-inspection'
  /** Controls work; some targets fail TLS 1.2 (or are unreachable) by themselves. */
  | 'endpoint-refuses'
  /** Controls and targets complete TLS 1.2 but targets refuse older versions: the client must offer TLS 1.2. */
  | 'client-needs-tls12'
  /** Everything completes TLS 1.2 and nothing refuses older versions. */
  | 'all-ok'
  /** No control result: the two cases cannot be told apart. */
  | 'inconclusive';

export interface NetworkConclusion {
  readonly code: NetworkConclusionCode;
  readonly summary: string;
  /** Targets that failed on their own (for 'endpoint-refuses'). */
  readonly failing: readonly string[];
}

/** Verdicts under which a TLS 1.2 handshake completed with the endpoint. */
const TLS12_WORKED: ReadonlySet<VerdictCode> = new Set<VerdictCode>([
  'tls12-ok',
  'legacy-version-reset',
  'legacy-version-alert',
  'legacy-version-dropped',
  'sni-required',
  'chain-untrusted',
  'likely-tls-inspection',
]);

const REFUSES_LEGACY: ReadonlySet<VerdictCode> = new Set<VerdictCode>([
  'legacy-version-reset',
  'legacy-version-alert',
  'legacy-version-dropped',
]);

const hostPort = (r: EndpointResult): string => `${r.host}:${r.port}`;

/** Returns the conclusion over `results` (targets and controls); never throws. */
export function concludeEndpoints(results: readonly EndpointResult[]): NetworkConclusion {
  const controls = results.filter((r) => r.role === 'control');
  const targets = results.filter((r) => r.role === 'target');
  const failingTargets = targets.filter((r) => !TLS12_WORKED.has(r.verdict));

  if (controls.length === 0) {
    return {
      code: 'inconclusive',
      summary:
        'No control endpoint was probed, so a network that blocks TLS cannot be told apart from an endpoint that refuses.',
      failing: failingTargets.map(hostPort),
    };
  }
  if (controls.some((c) => c.verdict === 'likely-tls-inspection')) {
    return {
      code: 'tls-inspection',
      summary: `A TLS-inspecting proxy answers in place of ${controls
        .filter((c) => c.verdict === 'likely-tls-inspection')
        .map(hostPort)
        .join(', ')}: results for every endpoint are the proxy's. Bypass inspection for the product's names.`,
      failing: failingTargets.map(hostPort),
    };
  }
  const controlsOk = controls.filter((c) => TLS12_WORKED.has(c.verdict));
  if (controlsOk.length === 0) {
    const unreachable = controls.every((c) => c.verdict === 'endpoint-unreachable');
    return unreachable
      ? {
          code: 'network-unreachable',
          summary: `None of the control endpoints (${controls.map(hostPort).join(', ')}) could be reached: this machine has no direct route to the internet on port 443 (DNS, firewall, or a proxy that must be configured).`,
          failing: failingTargets.map(hostPort),
        }
      : {
          code: 'network-blocks-tls',
          summary: `TLS 1.2 fails at the control endpoints too (${controls.map((c) => `${hostPort(c)}: ${c.verdict}`).join(', ')}): this network cannot do TLS 1.2 to the internet. Look at the proxy, firewall or IPS, not at the endpoints.`,
          failing: failingTargets.map(hostPort),
        };
  }
  if (failingTargets.length > 0) {
    return {
      code: 'endpoint-refuses',
      summary: `The controls complete TLS 1.2 (${controlsOk.map(hostPort).join(', ')}), but ${failingTargets.map((t) => `${hostPort(t)} (${t.verdict})`).join(', ')} do not: the problem is specific to those endpoints or to filtering of their names.`,
      failing: failingTargets.map(hostPort),
    };
  }
  const legacyRefusers = [...targets, ...controls].filter((r) => REFUSES_LEGACY.has(r.verdict));
  if (legacyRefusers.length > 0) {
    return {
      code: 'client-needs-tls12',
      summary: `Every endpoint completes TLS 1.2 from here, and ${legacyRefusers.map(hostPort).join(', ')} refuse older versions: a client that cannot offer TLS 1.2 fails (10054 where they reset). Enable TLS 1.2 on the client (SChannel and .NET keys).`,
      failing: [],
    };
  }
  return {
    code: 'all-ok',
    summary: 'Every endpoint, controls included, completes TLS 1.2 from this machine.',
    failing: [],
  };
}
