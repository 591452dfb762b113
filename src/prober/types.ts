/**
 * The public shapes of the prober: what the pod worker gives it and what it hands back. Mirrors the
 * kubelet's pkg/kubelet/prober (prober_manager.go, worker.go, results/) and pkg/probe.
 */
import type { Container, Pod } from '../api/types.js';
import type { EventRecorder } from '../events/recorder.js';
import type { Runtime } from '../runtime/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/** The three probes of a container. */
export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/**
 * The outcome of running one probe handler once (pkg/probe/probe.go Result plus output): `warning`
 * counts as success but is reported (an HTTP probe that stopped at a redirect to another host);
 * `unknown` is a prober error whose result the worker throws away (worker.go: "Prober error, throw
 * away the result").
 */
export type ProbeOutcome =
  | { result: 'success' | 'warning' | 'failure'; output: string }
  | { result: 'unknown'; error: string };

/** One probe run, for the `prober_probe_total` / `prober_probe_duration_seconds` metrics. */
export interface ProbeMetric {
  pod: Pod;
  container: string;
  probe: ProbeKind;
  /** The kubelet's metric label values (prober/worker.go). */
  result: 'successful' | 'failed' | 'unknown';
  seconds: number;
}

/** What the probe manager needs from the node. */
export interface ProberDeps {
  runtime: Runtime;
  clock: Clock;
  logger: Logger;
  events: EventRecorder;
  /** Host used when httpGet/tcpSocket has no host, and always for grpc: the pod IP (= host IP on the process runtime). */
  podIP: string;
  /**
   * Random source in [0, 1) for the start-up jitter (worker.go: probes of a kubelet that has just started
   * begin after a random part of their period). Defaults to Math.random; tests pass `() => 0`.
   */
  random?: () => number;
  /**
   * Step of the probe timer grid: probes due within one step start in one wake-up, up to one step late
   * (never early). Default 50 ms; 0 fires each probe at its exact time.
   */
  timerResolutionMs?: number;
  /** Called after every probe run, for metrics. */
  onProbe?: (m: ProbeMetric) => void;
}

/**
 * Fired when a liveness or startup probe has failed failureThreshold times in a row: the worker kills
 * the container (with `gracePeriodSeconds`, the probe-level terminationGracePeriodSeconds if set) and
 * restarts it per restartPolicy.
 */
export interface UnhealthyEvent {
  podUID: string;
  containerId: string;
  container: string;
  probe: 'liveness' | 'startup';
  /** kuberuntime_manager.go computePodActions: `Container X failed liveness probe, will be restarted`. */
  message: string;
  gracePeriodSeconds?: number;
}

/** Probes the containers of every pod on one shared timer queue (the kubelet's prober.Manager). */
export interface ProbeManager {
  /**
   * Starts probing a container that has just started (its probes from the spec). Idempotent per
   * containerId. `podIP` is the pod's own address when it has one (CRI pod network).
   */
  addContainer(pod: Pod, container: Container, containerId: string, startedAt: number, podIP?: string): void;
  /** Stops probing a container (exited, killed, or pod removed); a probe in flight is aborted and its result dropped. */
  removeContainer(containerId: string): void;
  /** Stops probing every container of a pod. */
  removePod(podUID: string): void;
  /**
   * True once the startupProbe succeeded, or at once when there is none (the container status field
   * `started`). True for a containerId never added: as the kubelet, "no probe" means started; the
   * caller reports false itself for a container that is not running.
   */
  started(containerId: string): boolean;
  /**
   * Readiness: false until started and the readinessProbe succeeds; true once started when there is
   * no readinessProbe. True for a containerId never added (see {@link ProbeManager.started}).
   */
  ready(containerId: string): boolean;
  /** Subscribes to liveness/startup failures; returns the unsubscribe function. */
  onUnhealthy(listener: (e: UnhealthyEvent) => void): () => void;
  /** Fired when started/ready of a container changes (so the status changes); returns the unsubscribe function. */
  onChange(listener: (podUID: string) => void): () => void;
  /** Stops all probing; in-flight probes are aborted. */
  stop(): void;
}
