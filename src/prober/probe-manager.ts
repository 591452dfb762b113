/**
 * The probe manager: one probe worker per (container, probe kind), all scheduled on one
 * {@link TimerQueue}. Mirrors pkg/kubelet/prober: prober_manager.go (AddPod, UpdatePodStatus: started
 * and ready), worker.go (doProbe: initial values, thresholds, startup gating, on-hold after a
 * liveness/startup failure) and prober.go (events per failed probe).
 */
import { performance } from 'node:perf_hooks';
import type { Container, Pod } from '../api/types.js';
import type { Probe } from 'kubernetes-types/core/v1.js';
import type { InvolvedObject } from '../events/recorder.js';
import { errorMessage } from '../errors.js';
import { PROBE_KIND_NAME, probeOf, probeTiming, type ProbeTiming } from './probe-spec.js';
import { runProbe, type ProbeTarget } from './run-probe.js';
import { TimerQueue, type QueueHandle } from './timer-queue.js';
import type { ProbeKind, ProbeManager, ProbeOutcome, ProberDeps, UnhealthyEvent } from './types.js';

/**
 * Probes due within the same 50 ms fire in one wake-up (at most 50 ms late, never early): far cheaper
 * than one wake-up per probe at 500 probes a second, and invisible next to periods of whole seconds.
 */
export const DEFAULT_TIMER_RESOLUTION_MS = 50;

/** One started container and what its probes have concluded so far (the kubelet's results managers). */
interface Tracked {
  podUID: string;
  pod: Pod;
  container: Container;
  id: string;
  /** Sidecars (restartable init containers) always restart, whatever the pod's restartPolicy. */
  sidecar: boolean;
  obj: InvolvedObject;
  /** Startup result is Success, or there is no startup probe. */
  started: boolean;
  /** Readiness result; starts as Failure (worker.go initial value). */
  readiness: 'success' | 'failure';
  workers: Worker[];
  removed: boolean;
  /**
   * Aborts the runs in flight when the container goes. One per container, not per run: at 500 probes
   * a second an AbortController each was a measurable part of the prober's CPU.
   */
  abort: AbortController;
  /** The probe target handed to every run: built once, as it changes only with the container. */
  target: ProbeTarget;
}

/** The state of one probe of one container (worker.go's worker). */
interface Worker {
  kind: ProbeKind;
  probe: Probe;
  timing: ProbeTiming;
  owner: Tracked;
  /** Time of the first tick; ticks are anchor + k·period, as the kubelet's ticker. */
  anchor: number;
  /** Index of the tick the last run started on. */
  lastTick: number;
  queued: QueueHandle | undefined;
  running: boolean;
  /** A tick (or a manual trigger) arrived while running: run again as soon as the run ends (Go's buffered ticker). */
  pending: boolean;
  lastResult: 'success' | 'failure' | undefined;
  resultRun: number;
  /** After a liveness/startup failure: no more probing until a new container (worker.go onHold). */
  onHold: boolean;
  /** The startup probe stops once it has succeeded. */
  done: boolean;
}

/** Creates the probe manager (the kubelet's prober.NewManager). */
export function createProbeManager(deps: ProberDeps): ProbeManager {
  return new Manager(deps);
}

class Manager implements ProbeManager {
  private readonly queue: TimerQueue;
  private readonly tracked = new Map<string, Tracked>();
  private readonly unhealthyListeners = new Set<(e: UnhealthyEvent) => void>();
  private readonly changeListeners = new Set<(podUID: string) => void>();
  private readonly createdAt: number;
  private readonly random: () => number;
  private stopped = false;

  constructor(private readonly deps: ProberDeps) {
    this.queue = new TimerQueue(deps.clock, (err) => deps.logger.error({ err: errorMessage(err) }, 'Probe scheduling failed'), {
      resolutionMs: deps.timerResolutionMs ?? DEFAULT_TIMER_RESOLUTION_MS,
    });
    this.createdAt = deps.clock.now();
    this.random = deps.random ?? Math.random;
  }

  addContainer(pod: Pod, container: Container, containerId: string, startedAt: number, podIP?: string): void {
    if (this.stopped || this.tracked.has(containerId)) return;
    const meta = pod.metadata ?? {};
    const sidecar = (pod.spec?.initContainers ?? []).some((c) => c.name === container.name);
    const t: Tracked = {
      podUID: meta.uid ?? '',
      pod,
      container,
      id: containerId,
      sidecar,
      obj: {
        namespace: meta.namespace ?? 'default',
        name: meta.name ?? '',
        uid: meta.uid ?? '',
        fieldPath: `spec.${sidecar ? 'initContainers' : 'containers'}{${container.name}}`,
      },
      started: !container.startupProbe,
      readiness: 'failure',
      workers: [],
      removed: false,
      abort: new AbortController(),
      // httpGet and tcpSocket probes connect to the pod's own IP on a pod network, else the node default.
      target: { pod, container, containerId, runtime: this.deps.runtime, podIP: podIP || this.deps.podIP },
    };
    const now = this.deps.clock.now();
    for (const kind of ['startup', 'readiness', 'liveness'] as const) {
      const probe = probeOf(container, kind);
      if (!probe) continue;
      const timing = probeTiming(probe, kind);
      // worker.go run(): right after a kubelet start, wait a random part of the period so that the
      // probes of every pod already running do not all fire at once.
      const jitter = now - this.createdAt < timing.periodMs ? Math.floor(this.random() * timing.periodMs) : 0;
      // Deliberately precise: the first probe is at initialDelaySeconds after the start, where the
      // kubelet would wait for its next tick after it.
      const anchor = Math.max(startedAt + timing.initialDelayMs, now + jitter);
      t.workers.push({
        kind, probe, timing, owner: t, anchor, lastTick: -1, queued: undefined, running: false,
        pending: false, lastResult: undefined, resultRun: 0, onHold: false, done: false,
      });
    }
    this.tracked.set(containerId, t);
    for (const w of t.workers) {
      // Only the startup probe runs until the container has started (worker.go doProbe).
      if (w.kind === 'startup' || t.started) this.scheduleAt(w, w.anchor);
    }
  }

  removeContainer(containerId: string): void {
    const t = this.tracked.get(containerId);
    if (!t) return;
    this.tracked.delete(containerId);
    t.removed = true;
    for (const w of t.workers) {
      w.queued?.cancel();
      w.queued = undefined;
    }
    t.abort.abort();
  }

  removePod(podUID: string): void {
    for (const t of [...this.tracked.values()]) if (t.podUID === podUID) this.removeContainer(t.id);
  }

  started(containerId: string): boolean {
    return this.tracked.get(containerId)?.started ?? true;
  }

  ready(containerId: string): boolean {
    const t = this.tracked.get(containerId);
    if (!t) return true;
    if (!t.started) return false;
    // prober_manager.go UpdatePodStatus: no readiness probe → ready once started.
    if (!t.workers.some((w) => w.kind === 'readiness')) return true;
    return t.readiness === 'success';
  }

  onUnhealthy(listener: (e: UnhealthyEvent) => void): () => void {
    this.unhealthyListeners.add(listener);
    return () => this.unhealthyListeners.delete(listener);
  }

  onChange(listener: (podUID: string) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  stop(): void {
    this.stopped = true;
    for (const id of [...this.tracked.keys()]) this.removeContainer(id);
    this.queue.stop();
  }

  private scheduleAt(w: Worker, at: number): void {
    w.queued?.cancel();
    w.queued = this.queue.schedule(at, () => {
      w.queued = undefined;
      this.tick(w);
    });
  }

  /** A tick of the worker's ticker, or a manual trigger. */
  private tick(w: Worker): void {
    if (w.owner.removed || w.done || w.onHold) return;
    if (w.running) {
      // Never two runs of one probe at once; the tick is kept for when the run ends.
      w.pending = true;
      return;
    }
    const now = this.deps.clock.now();
    w.lastTick = now >= w.anchor ? Math.floor((now - w.anchor) / w.timing.periodMs) : -1;
    w.running = true;
    const t0 = performance.now();
    const t = w.owner;
    runProbe(w.probe, t.target, w.timing.timeoutSeconds, t.abort.signal)
      .catch((err: unknown): ProbeOutcome => ({ result: 'unknown', error: errorMessage(err) }))
      .then((outcome) => {
        w.running = false;
        if (t.removed || this.stopped) return;
        this.report(w, outcome, (performance.now() - t0) / 1000);
        this.reschedule(w);
      })
      .catch((err: unknown) => this.deps.logger.error({ err: errorMessage(err), podUID: t.podUID, container: t.container.name }, 'Probe result handling failed'));
  }

  /** After a run: the next tick on the grid, or at once if a tick came while running. */
  private reschedule(w: Worker): void {
    if (w.owner.removed || w.done || w.onHold) return;
    const now = this.deps.clock.now();
    const next = w.anchor + (w.lastTick + 1) * w.timing.periodMs;
    if (w.pending || next <= now) {
      w.pending = false;
      this.scheduleAt(w, now);
    } else {
      this.scheduleAt(w, next);
    }
  }

  /** worker.go doProbe after the probe: events, metrics, thresholds. */
  private report(w: Worker, outcome: ProbeOutcome, seconds: number): void {
    const t = w.owner;
    const name = PROBE_KIND_NAME[w.kind];
    const metric = outcome.result === 'unknown' ? 'unknown' : outcome.result === 'failure' ? 'failed' : 'successful';
    this.deps.onProbe?.({ pod: t.pod, container: t.container.name, probe: w.kind, result: metric, seconds });
    if (outcome.result === 'unknown') {
      this.deps.logger.debug({ podUID: t.podUID, container: t.container.name, probeType: w.kind, err: outcome.error }, 'Probe errored');
      this.deps.events.record(t.obj, 'Warning', 'Unhealthy', `${name} probe errored: ${outcome.error}`);
      return; // worker.go: "Prober error, throw away the result."
    }
    if (outcome.result === 'failure') {
      this.deps.logger.debug({ podUID: t.podUID, container: t.container.name, probeType: w.kind, output: outcome.output }, 'Probe failed');
      this.deps.events.record(t.obj, 'Warning', 'Unhealthy', `${name} probe failed: ${outcome.output}`);
    } else if (outcome.result === 'warning') {
      this.deps.events.record(t.obj, 'Warning', 'ProbeWarning', `${name} probe warning: ${outcome.output}`);
    }
    const result = outcome.result === 'failure' ? 'failure' : 'success';
    if (w.lastResult === result) w.resultRun++;
    else {
      w.lastResult = result;
      w.resultRun = 1;
    }
    if ((result === 'failure' && w.resultRun < w.timing.failureThreshold) || (result === 'success' && w.resultRun < w.timing.successThreshold)) {
      return; // below threshold: the result stands
    }
    if ((w.kind === 'liveness' || w.kind === 'startup') && result === 'failure') {
      w.onHold = true;
      w.resultRun = 0;
    }
    this.setResult(w, result);
  }

  /** A result reached its threshold (results_manager.go Set) and what follows from it. */
  private setResult(w: Worker, result: 'success' | 'failure'): void {
    const t = w.owner;
    switch (w.kind) {
      case 'startup':
        if (result === 'failure') return this.unhealthy(w);
        if (t.started) return;
        t.started = true;
        w.done = true;
        this.enableAfterStartup(t);
        this.changed(t);
        return;
      case 'readiness': {
        if (t.readiness === result) return;
        t.readiness = result;
        if (t.started) this.changed(t);
        return;
      }
      case 'liveness':
        if (result === 'failure') this.unhealthy(w);
        return;
    }
  }

  /** Liveness and readiness begin once the startup probe has passed. */
  private enableAfterStartup(t: Tracked): void {
    const now = this.deps.clock.now();
    for (const w of t.workers) {
      if (w.kind === 'readiness') {
        // prober_manager.go UpdatePodStatus triggers the readiness probe at once when it has no result yet.
        this.scheduleAt(w, Math.max(now, w.anchor));
      } else if (w.kind === 'liveness') {
        // Liveness keeps its own ticker: the first tick at or after now.
        const k = now <= w.anchor ? 0 : Math.ceil((now - w.anchor) / w.timing.periodMs);
        this.scheduleAt(w, w.anchor + k * w.timing.periodMs);
      }
    }
  }

  private unhealthy(w: Worker): void {
    const t = w.owner;
    const probe = w.kind as 'liveness' | 'startup';
    // kuberuntime_manager.go computePodActions: restart unless restartPolicy is Never (sidecars always restart).
    const restart = t.sidecar || (t.pod.spec?.restartPolicy ?? 'Always') !== 'Never';
    const message = `Container ${t.container.name} failed ${probe} probe${restart ? ', will be restarted' : ''}`;
    this.deps.logger.info({ podUID: t.podUID, container: t.container.name, probeType: probe }, 'Container failed probe, will be killed');
    const e: UnhealthyEvent = { podUID: t.podUID, containerId: t.id, container: t.container.name, probe, message };
    if (w.probe.terminationGracePeriodSeconds !== undefined) e.gracePeriodSeconds = w.probe.terminationGracePeriodSeconds;
    for (const l of this.unhealthyListeners) {
      try {
        l(e);
      } catch (err) {
        this.deps.logger.error({ err: errorMessage(err) }, 'Unhealthy listener failed');
      }
    }
  }

  private changed(t: Tracked): void {
    for (const l of this.changeListeners) {
      try {
        l(t.podUID);
      } catch (err) {
        this.deps.logger.error({ err: errorMessage(err) }, 'Probe change listener failed');
      }
    }
  }
}
