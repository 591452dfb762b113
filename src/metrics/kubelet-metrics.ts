// Prometheus metrics under the kubelet's names, labels, help texts and buckets
// (pkg/kubelet/metrics/metrics.go), in a registry of our own plus prom-client's process metrics.
// Counters and histograms are fed by the pod workers' callbacks; gauges are computed from the node's
// view when scraped, so they cost nothing between scrapes.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ConfigSourceAnnotation, type Pod } from '../api/types.js';
import type { WorkerSnapshot } from '../podworkers/pod-workers.js';

/** Where the gauges are read from at scrape time: the node's view. */
export interface MetricsSource {
  pods(): WorkerSnapshot[];
  config: { nodeName: string };
}

/** A container start, as the runtime reports it (ContainerEvent of type `started`). */
export interface ContainerStart {
  podUID: string;
  containerId: string;
}

/** The operation of one pod-worker sync, the kubelet's `operation_type` label. */
export type SyncOperation = 'create' | 'update' | 'sync' | 'kill';

/** The node's metrics. */
export interface NodeletMetrics {
  readonly registry: Registry;
  /** For PodWorkersOptions.onSync: one sync of one pod took `seconds`. */
  observeSync(operation: SyncOperation, seconds: number): void;
  /** For PodWorkersOptions.onFirstStart: a pod's first container ran `seconds` after the pod was seen. */
  observeFirstStart(pod: Pod, seconds: number): void;
  /** For Runtime.onContainerEvent `started`: counted in kubelet_started_containers_total. */
  containerStarted(start: ContainerStart): void;
  /** Sets where the gauges read from (the node's view, which exists only once the node is wired). */
  attach(source: MetricsSource): void;
  /** The exposition text (gauges refreshed first) and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** kubelet's podStartupDurationBuckets. */
export const POD_START_BUCKETS = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];
/** Prometheus' DefBuckets, which the kubelet uses for pod_worker_duration_seconds. */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// Starts not yet classified (init or regular container) wait for the next scrape, up to this many.
const MAX_PENDING_STARTS = 10_000;
// UIDs that have started once, to count a pod started again under the same UID; the oldest are forgotten.
const MAX_REMEMBERED_UIDS = 50_000;

/** True unless the pod came from the API server (`static` label of the kubelet's metrics). */
function isStatic(pod: Pod): boolean {
  return pod.metadata?.annotations?.[ConfigSourceAnnotation] !== 'api';
}

/** Creates the metrics in a fresh registry; `processMetrics: false` leaves out prom-client's defaults (tests). */
export function createNodeletMetrics(opts: { processMetrics?: boolean } = {}): NodeletMetrics {
  const registry = new Registry();
  // prom-client samples event-loop lag with a 10 ms libuv timer by default: 100 wake-ups a second on
  // an idle node. Once a second is plenty to see a stuck loop.
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  const registers = [registry];
  const nodeName = new Gauge({ name: 'kubelet_node_name', help: "The node's name. The count is always 1.", labelNames: ['node'], registers });
  const runningPods = new Gauge({ name: 'kubelet_running_pods', help: 'Number of pods that have a running pod sandbox', registers });
  const runningContainers = new Gauge({
    name: 'kubelet_running_containers',
    help: 'Number of containers currently running',
    labelNames: ['container_state'],
    registers,
  });
  const desiredPods = new Gauge({
    name: 'kubelet_desired_pods',
    help: 'The number of pods the kubelet is being instructed to run. static is true if the pod is not from the apiserver.',
    labelNames: ['static'],
    registers,
  });
  const mirrorPods = new Gauge({
    name: 'kubelet_mirror_pods',
    help: 'The number of mirror pods the kubelet will try to create (one per admitted static pod)',
    registers,
  });
  const podStart = new Histogram({
    name: 'kubelet_pod_start_duration_seconds',
    help: 'Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
    buckets: POD_START_BUCKETS,
    registers,
  });
  const podWorker = new Histogram({
    name: 'kubelet_pod_worker_duration_seconds',
    help: 'Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync',
    labelNames: ['operation_type'],
    buckets: DEFAULT_BUCKETS,
    registers,
  });
  const restartedPods = new Counter({
    name: 'kubelet_restarted_pods_total',
    help: 'Number of pods that have been restarted because they were deleted and recreated with the same UID while the kubelet was watching them (common for static pods, extremely uncommon for API pods)',
    labelNames: ['static'],
    registers,
  });
  const startedContainers = new Counter({
    name: 'kubelet_started_containers_total',
    help: 'Cumulative number of containers started',
    labelNames: ['container_type'],
    registers,
  });
  // Present from the first scrape, at zero, as the kubelet's are once it has seen a pod.
  for (const s of ['true', 'false']) restartedPods.inc({ static: s }, 0);
  for (const t of ['container', 'init_container']) startedContainers.inc({ container_type: t }, 0);

  let source: MetricsSource | undefined;
  const startedUIDs = new Set<string>();
  let pending: ContainerStart[] = [];

  const classifyPending = (snapshots: WorkerSnapshot[]) => {
    if (pending.length === 0) return;
    const byUID = new Map(snapshots.map((s) => [s.pod.metadata?.uid ?? '', s]));
    for (const p of pending) {
      const v = byUID.get(p.podUID)?.containers.find((c) => c.current?.id === p.containerId || c.previous?.id === p.containerId);
      startedContainers.inc({ container_type: v?.init ? 'init_container' : 'container' });
    }
    pending = [];
  };

  const update = () => {
    if (!source) return;
    const snapshots = source.pods();
    nodeName.reset();
    nodeName.set({ node: source.config.nodeName }, 1);
    let running = 0;
    const states: Record<string, number> = { created: 0, running: 0, exited: 0, unknown: 0 };
    const desired = { true: 0, false: 0 };
    for (const s of snapshots) {
      if (s.containers.some((c) => c.current?.state === 'running')) running++;
      for (const c of s.containers) {
        if (c.current) states[c.current.state] = (states[c.current.state] ?? 0) + 1;
        // The runtime keeps the previous, dead attempt of each container, as the kubelet's does.
        if (c.previous) states.exited!++;
      }
      if (s.state !== 'terminating' && s.state !== 'terminated') desired[isStatic(s.pod) ? 'true' : 'false']++;
    }
    runningPods.set(running);
    for (const [state, n] of Object.entries(states)) runningContainers.set({ container_state: state }, n);
    desiredPods.set({ static: 'true' }, desired.true);
    desiredPods.set({ static: 'false' }, desired.false);
    // Standalone: there is no API server to mirror static pods to.
    mirrorPods.set(0);
    classifyPending(snapshots);
  };

  return {
    registry,
    observeSync(operation, seconds) {
      podWorker.observe({ operation_type: operation }, seconds);
    },
    observeFirstStart(pod, seconds) {
      podStart.observe(seconds);
      const uid = pod.metadata?.uid ?? '';
      if (startedUIDs.has(uid)) restartedPods.inc({ static: String(isStatic(pod)) });
      else {
        if (startedUIDs.size >= MAX_REMEMBERED_UIDS) startedUIDs.delete(startedUIDs.values().next().value!);
        startedUIDs.add(uid);
      }
    },
    containerStarted(start) {
      if (pending.length >= MAX_PENDING_STARTS) {
        // Nobody scrapes: count without classifying rather than hold on to every start.
        startedContainers.inc({ container_type: 'container' }, pending.length);
        pending = [];
      }
      pending.push(start);
    },
    attach(s) {
      source = s;
    },
    async render() {
      update();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
