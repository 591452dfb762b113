/**
 * Probes and lifecycle hooks (the kubelet's pkg/kubelet/prober and pkg/kubelet/lifecycle): the pod
 * worker adds each started container to the {@link ProbeManager}, reads `started`/`ready` for the
 * status, kills on {@link UnhealthyEvent}, and runs postStart/preStop with {@link runLifecycleHandler}.
 */
export type { ProbeKind, ProbeManager, ProbeMetric, ProbeOutcome, ProberDeps, UnhealthyEvent } from './types.js';
export type { LifecycleContext, LifecycleResult } from './lifecycle.js';
export { createProbeManager, DEFAULT_TIMER_RESOLUTION_MS } from './probe-manager.js';
export { runLifecycleHandler } from './lifecycle.js';
export { PROBE_DEFAULTS, probeTiming, resolveContainerPort, type ProbeTiming } from './probe-spec.js';
export { runProbe, type ProbeTarget } from './run-probe.js';
