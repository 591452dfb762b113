/**
 * Probe fields with the API defaults applied, and port resolution. Mirrors pkg/apis/core/v1/defaults.go
 * (SetDefaults_Probe) and pkg/probe/util.go (ResolveContainerPort).
 */
import type { Container } from '../api/types.js';
import type { Probe } from 'kubernetes-types/core/v1.js';
import type { ProbeKind } from './types.js';

/** The kubelet's probe defaults (defaults.go SetDefaults_Probe). */
export const PROBE_DEFAULTS = {
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
} as const;

/** A probe's numbers after defaulting, in the units the scheduler uses. */
export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

/** The defaulted numbers of a probe. An unset or zero field takes its default, as API defaulting does. */
export function probeTiming(probe: Probe, kind: ProbeKind): ProbeTiming {
  const pick = (v: number | undefined, d: number) => (v === undefined || v <= 0 ? d : Math.floor(v));
  return {
    initialDelayMs: Math.max(0, Math.floor(probe.initialDelaySeconds ?? 0)) * 1000,
    periodMs: pick(probe.periodSeconds, PROBE_DEFAULTS.periodSeconds) * 1000,
    timeoutSeconds: pick(probe.timeoutSeconds, PROBE_DEFAULTS.timeoutSeconds),
    // Validation requires 1 for liveness and startup; we hold to that even if a spec slipped through.
    successThreshold: kind === 'readiness' ? pick(probe.successThreshold, PROBE_DEFAULTS.successThreshold) : 1,
    failureThreshold: pick(probe.failureThreshold, PROBE_DEFAULTS.failureThreshold),
  };
}

/** The container's probe of a kind, if any. */
export function probeOf(container: Container, kind: ProbeKind): Probe | undefined {
  switch (kind) {
    case 'liveness':
      return container.livenessProbe;
    case 'readiness':
      return container.readinessProbe;
    case 'startup':
      return container.startupProbe;
  }
}

/** The kubelet's probeType.String(), used in event messages: `Liveness probe failed: …`. */
export const PROBE_KIND_NAME: Record<ProbeKind, string> = {
  liveness: 'Liveness',
  readiness: 'Readiness',
  startup: 'Startup',
};

/**
 * A port given by number or by the name of one of the container's ports (pkg/probe/util.go
 * ResolveContainerPort): a name is looked up first, then read as a number. Throws when neither works
 * or the number is out of range.
 */
export function resolveContainerPort(port: number | string | undefined, container: Container): number {
  let n: number;
  if (typeof port === 'number') {
    n = port;
  } else if (typeof port === 'string') {
    const named = container.ports?.find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else throw new Error(`port ${port} not found`);
  } else {
    throw new Error('intOrString had no kind');
  }
  if (!Number.isInteger(n) || n <= 0 || n >= 65536) throw new Error(`invalid port number: ${n}`);
  return n;
}
