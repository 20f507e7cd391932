/** The protocol versions tlsprobe probes, by name (no dependencies: the CLI loads it at start). */
export type ProbeVersion = 'SSL3.0' | 'TLS1.0' | 'TLS1.1' | 'TLS1.2' | 'TLS1.3';

/** Every version we probe, oldest first. */
export const PROBE_VERSIONS: readonly ProbeVersion[] = ['SSL3.0', 'TLS1.0', 'TLS1.1', 'TLS1.2', 'TLS1.3'];
