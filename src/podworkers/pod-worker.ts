import path from 'node:path';
import { ConfigSeenAnnotation, type Container, type Pod, type PodStatus } from '../api/types.js';
import { containerConfig, sandboxConfig, type NodeFacts } from '../container/container-config.js';
import { runAsNonRootViolation } from '../container/security-context.js';
import { errorMessage, NodeletError } from '../errors.js';
import type { EventRecorder, PodEvent } from '../events/recorder.js';
import { runLifecycleHandler, type ProbeManager, type UnhealthyEvent } from '../prober/index.js';
import type { ContainerInfo, ImageInfo, ImageService, PodSandboxConfig, Runtime } from '../runtime/types.js';
import { computePhase, computePodStatus } from '../status/pod-status.js';
import type { ContainerView } from '../status/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { containerMounts, type PodVolumes, type VolumeManager } from '../volumes/volume-manager.js';
import type { AdoptionPlan } from './adoption.js';
import type { Backoff } from './backoff.js';
import { envReadsPodIP, hasOwnPodIP, PodIPTracker } from './pod-ip.js';
import { gracePeriodSeconds, MINIMUM_GRACE_PERIOD_SECONDS, shouldRestart } from './restart-policy.js';
import { assertNever, transitions, type WorkerState } from './worker-state.js';

/** How long a failed pull is reported as ErrImagePull before it becomes ImagePullBackOff. */
const IMAGE_PULL_ERROR_SHOWN_MS = 1_000;

/** How a pod is evicted: reason (`Evicted`), message, and the grace period of its kill. */
export interface Eviction {
  reason: string;
  message: string;
  gracePeriodSeconds: number;
}

/** What a pod worker needs from the node: shared by every worker. */
export interface WorkerDeps {
  runtime: Runtime;
  clock: Clock;
  backoff: Backoff;
  logger: Logger;
  node: NodeFacts;
  podLogsDir: string;
  volumes: VolumeManager;
  /**
   * Removes a stopped pod's log directory (logs/paths.ts removePodLogs). Absent: kept, as unit tests
   * want (they settle by turning the event loop, which disk I/O would outlast).
   */
  removePodLogs?: (namespace: string, name: string, uid: string) => Promise<void>;
  events: EventRecorder;
  probes: ProbeManager;
  /** Called after each sync with how long it took, for metrics. */
  onSync?: (operation: 'create' | 'update' | 'sync' | 'kill', seconds: number) => void;
  /** Called once, when a container of the pod starts for the first time since the pod was added. */
  onFirstStart?: (pod: Pod, seconds: number) => void;
}

/**
 * The worker of one pod: every runtime call for the pod goes through it, one at a time. Level-triggered:
 * each sync compares what runs with the spec and acts, so a missed event is repaired by the next sync.
 */
export class PodWorker {
  private current: WorkerState;
  private pod: Pod;
  private sandboxId: string | undefined;
  /** The sandbox's attempt: a pod whose sandbox died gets a new one with the next attempt number. */
  private sandboxAttempt = 0;
  private builtSandboxConfig: { pod: Pod; attempt: number; config: PodSandboxConfig } | undefined;
  /** The runtime said the sandbox changed: check it on the next sync. */
  private checkSandbox = false;
  /** The pod's own IP when its sandbox has one (CRI pod network); else the node's. */
  private readonly ownIP: PodIPTracker;
  /** Host paths of the pod's volumes, set up before the sandbox; undefined until then (or after an update). */
  private volumes: PodVolumes | undefined;
  private readonly views = new Map<string, ContainerView>();
  private startTime = 0;
  private terminalPhase: 'Succeeded' | 'Failed' | undefined;
  /** Why the pod was ended from outside (an eviction): its status.reason and message. */
  private terminalReason: { reason: string; message: string } | undefined;
  /** An eviction asked for (by the eviction manager); carried out at the start of the next sync. */
  private pendingEviction: Eviction | undefined;
  /** The status of a pod that had finished before this worker existed: reported as it was. */
  private readonly finishedStatus: PodStatus | undefined;
  private wake: { at: number; timer: TimerHandle } | undefined;
  private busy = false;
  private dirty = false;
  /**
   * When nodelet first saw the pod: its config.seen annotation (set by the source), from which the
   * kubelet counts kubelet_pod_start_duration_seconds; this worker's creation if it has none.
   */
  private readonly seenAt: number;
  private firstStartReported = false;
  private predecessorDone = false;
  /** Left by a previous nodelet, removed on the first sync; and adopted running containers to probe. */
  private adoptionChores: { containers: string[]; sandboxes: string[]; probe: string[] } | undefined;
  /** Containers a failed liveness/startup probe asked to kill; handled at the start of the next sync. */
  private readonly pendingKills = new Map<string, UnhealthyEvent>();
  /** When a container that could not be created may be tried again (its back-off), by name. */
  private readonly retryAt = new Map<string, number>();
  /** Last status and transition time of each pod condition, for lastTransitionTime. */
  private readonly conditionSince = new Map<string, { status: string; at: number }>();
  private readonly log: Logger;
  /**
   * The container whose StartContainer call is in flight: the runtime's `started` event for it is the
   * worker's own news, not a reason for another sync.
   */
  private starting: string | undefined;
  /** A container was started in the current sync: its conditions are noted at the end of the pass. */
  private startedInPass = false;
  /** Resolves once the worker reaches `terminated`. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  /**
   * Resolves once nothing of the pod runs any more and its volumes are gone, before its sandbox and
   * logs are removed: what a successor with the same name waits for (an edited static pod), as the
   * kubelet starts it once the old pod is terminated and leaves the removal of its sandbox to garbage
   * collection. At the latest with `done`.
   */
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  constructor(
    pod: Pod,
    initial: WorkerState,
    private readonly deps: WorkerDeps,
    adopted?: AdoptionPlan,
    /** The pod had finished before (its API status is terminal): nothing is run, this status is reported. */
    finished?: PodStatus,
  ) {
    this.pod = pod;
    this.current = initial;
    const now = deps.clock.now();
    const seen = Date.parse(pod.metadata?.annotations?.[ConfigSeenAnnotation] ?? '');
    this.seenAt = Number.isFinite(seen) && seen <= now ? seen : now;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.finishedStatus = finished;
    if (finished) this.terminalPhase = finished.phase === 'Succeeded' ? 'Succeeded' : 'Failed';
    this.log = deps.logger.child({ pod: fullName(pod), podUID: pod.metadata!.uid });
    this.ownIP = new PodIPTracker(deps.runtime, (err) => {
      this.log.warn({ err: errorMessage(err) }, 'Cannot read the pod sandbox status, will retry');
      this.wakeIn(this.deps.backoff.initialMs);
    });
    if (adopted) this.adopt(adopted);
    if (initial.kind === 'waiting') {
      void initial.predecessor.then(() => {
        this.predecessorDone = true;
        this.kick();
      });
    }
  }

  get uid(): string {
    return this.pod.metadata!.uid!;
  }

  get state(): WorkerState['kind'] {
    return this.current.kind;
  }

  /** The desired pod (latest spec). */
  get desired(): Pod {
    return this.pod;
  }

  /** Asks for a sync soon; many kicks while a sync runs collapse into one more sync. */
  kick(): void {
    this.dirty = true;
    if (!this.busy) void this.loop();
  }

  /** A new version of the same pod (same UID): labels or annotations changed. */
  update(pod: Pod): void {
    this.pod = pod;
    // Labels and annotations feed downwardAPI volumes: write them again on the next sync.
    this.volumes = undefined;
    this.kick();
  }

  /**
   * The runtime says a container of the pod started. When it is the one this worker is starting, the
   * worker learns its state from the start itself: no sync is needed (one status call and a whole sync
   * less per start). Otherwise (a start that timed out but went through, say) it is news: sync.
   */
  containerStarted(containerId: string): void {
    if (containerId !== this.starting) this.kick();
  }

  /** The runtime saw the pod's sandbox stop being ready: the next sync checks it and re-creates it. */
  sandboxChanged(): void {
    this.checkSandbox = true;
    this.kick();
  }

  /** A liveness or startup probe failed its threshold: the container is killed on the next sync. */
  unhealthy(e: UnhealthyEvent): void {
    if (this.current.kind !== 'syncing') return;
    this.pendingKills.set(e.containerId, e);
    this.kick();
  }

  /** Stops the pod with grace; `done` resolves when everything has stopped. */
  terminate(gracePeriodOverride?: number): void {
    switch (this.current.kind) {
      case 'waiting':
      case 'rejected':
        this.transition({ kind: 'terminated' });
        return;
      case 'syncing':
        this.transition({ kind: 'terminating', gracePeriodSeconds: gracePeriodOverride });
        this.kick();
        return;
      case 'terminating':
      case 'terminated':
        return;
      default:
        assertNever(this.current);
    }
  }

  /**
   * Whether the pod counts as active (the kubelet's GetActivePods): admitted, started, not in a
   * terminal phase and not told to stop.
   */
  get active(): boolean {
    return this.current.kind === 'syncing' && !this.terminalPhase && !this.pendingEviction;
  }

  /** The runtime's id of the container of that name now, if it has one. */
  containerId(name: string): string | undefined {
    return this.views.get(name)?.current?.id;
  }

  /** Host paths of the pod's volumes once they are set up (undefined before, or for a moment after an update). */
  get volumePaths(): PodVolumes | undefined {
    return this.volumes;
  }

  /**
   * Ends an active pod from outside with phase Failed, as the kubelet's eviction manager does
   * (evictPod → TerminatePodAbnormallyAndWait): at the start of the next sync (probes report, workers
   * act), a Warning event with the reason and message, every container killed with
   * `gracePeriodSeconds` (floored at 2 s), the pod's volumes removed. It stays, Failed with that reason
   * and message, as a pod that finished by itself does, until its source removes it; nothing restarts.
   * False when the pod is not active.
   */
  evict(e: Eviction): boolean {
    if (!this.active) return false;
    this.pendingEviction = e;
    this.kick();
    return true;
  }

  /** The pod's live status, computed from what the worker knows. */
  status(): PodStatus {
    if (this.finishedStatus) return structuredClone(this.finishedStatus);
    const rejected = this.current.kind === 'rejected' ? { reason: this.current.reason, message: this.current.message } : undefined;
    const probes = this.deps.probes;
    const containers = [...this.views.values()].map((v) => {
      const id = v.current?.state === 'running' ? v.current.id : undefined;
      return { ...v, started: id !== undefined && probes.started(id), ready: id !== undefined && probes.started(id) && probes.ready(id) };
    });
    const status = computePodStatus(
      {
        pod: this.pod,
        containers,
        startTime: this.startTime,
        hostIP: this.deps.node.hostIP,
        // A pod with an address of its own has none until the runtime has said which: never the node's.
        podIP: hasOwnPodIP(this.pod, this.deps.runtime) ? (this.ownIP.current ?? '') : this.deps.node.podIP,
        rejected,
        terminalPhase: this.terminalPhase,
        terminalReason: this.terminalReason,
        // An evicted pod's sandbox is done with, as a stopping one's.
        terminating: this.current.kind === 'terminating' || this.current.kind === 'terminated' || this.terminalReason !== undefined,
      },
      this.deps.clock.now(),
    );
    // A condition's lastTransitionTime is when its status last changed, as the status manager keeps it.
    for (const c of status.conditions ?? []) {
      const seen = this.conditionSince.get(c.type);
      if (!seen || seen.status !== c.status) {
        const at = seen ? this.deps.clock.now() : this.startTime || this.deps.clock.now();
        this.conditionSince.set(c.type, { status: c.status, at });
      }
      c.lastTransitionTime = new Date(this.conditionSince.get(c.type)!.at).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    return status;
  }

  /** The pod's IP as probes, hooks and env see it: its own when known, else the node's. */
  private get podIP(): string {
    return this.ownIP.current ?? this.deps.node.podIP;
  }

  /** What the worker knows of each container (for `nodelet ps` and logs). */
  containers(): ContainerView[] {
    return [...this.views.values()].map((v) => ({ ...v }));
  }

  /**
   * Takes over what a previous nodelet started for this pod: its sandbox, start time, containers and
   * restart counts. Nothing is restarted; the first sync goes on from there.
   */
  private adopt(plan: AdoptionPlan): void {
    this.sandboxId = plan.sandbox.id;
    this.sandboxAttempt = plan.sandbox.attempt;
    // A listed sandbox has no IP (ListPodSandbox does not give one): the first sync asks for it.
    if (plan.sandbox.ip) this.ownIP.adopt(plan.sandbox.id, plan.sandbox.ip);
    this.startTime = plan.sandbox.createdAt;
    this.firstStartReported = true;
    for (const v of plan.views) this.views.set(v.name, v);
    const probe = plan.views.filter((v) => v.current?.state === 'running').map((v) => v.current!.id);
    this.adoptionChores = { containers: plan.garbageContainers, sandboxes: plan.garbageSandboxes, probe };
    this.log.info(
      { containers: plan.views.map((v) => `${v.name}#${v.restartCount}:${v.current?.state}`).join(',') },
      'Adopted the pod from the runtime',
    );
  }

  /** The first sync after adoption: drop what was left half-made, probe what runs. */
  private async finishAdoption(): Promise<void> {
    const chores = this.adoptionChores;
    if (!chores) return;
    this.adoptionChores = undefined;
    for (const id of chores.containers) await this.deps.runtime.removeContainer(id);
    for (const id of chores.sandboxes) await this.deps.runtime.removePodSandbox(id);
    if (this.current.kind !== 'syncing') return;
    await this.ownIP.known(); // probes of the pod's own address need it
    const specs = [...(this.pod.spec?.initContainers ?? []), ...this.pod.spec!.containers];
    for (const v of this.views.values()) {
      const spec = specs.find((c) => c.name === v.name);
      if (spec && v.current?.state === 'running' && chores.probe.includes(v.current.id)) {
        this.deps.probes.addContainer(this.pod, spec, v.current.id, v.current.startedAt, this.podIP);
      }
    }
  }

  private transition(next: WorkerState): void {
    if (!transitions[this.current.kind].includes(next.kind)) {
      throw new Error(`pod worker: transition ${this.current.kind} → ${next.kind} is not allowed`);
    }
    this.log.debug({ from: this.current.kind, to: next.kind }, 'Pod worker state changed');
    this.current = next;
    if (next.kind === 'terminated') {
      this.cancelWake();
      this.resolveStopped();
      this.resolveDone();
    }
  }

  private async loop(): Promise<void> {
    this.busy = true;
    try {
      while (this.dirty) {
        this.dirty = false;
        const started = this.deps.clock.now();
        const op = this.current.kind === 'terminating' ? 'kill' : this.sandboxId ? 'sync' : 'create';
        try {
          await this.step();
        } catch (err) {
          this.log.error({ err: errorMessage(err) }, 'Error syncing pod, will retry');
          this.wakeIn(this.deps.backoff.initialMs);
        }
        this.deps.onSync?.(op, (this.deps.clock.now() - started) / 1000);
      }
    } finally {
      this.busy = false;
    }
  }

  private async step(): Promise<void> {
    const s = this.current;
    switch (s.kind) {
      case 'waiting': {
        // The predecessor's promise kicks us once it is done; until then there is nothing to do.
        if (!this.predecessorDone) return;
        this.transition({ kind: 'syncing' });
        return this.syncPod();
      }
      case 'syncing':
        return this.syncPod();
      case 'terminating':
        return this.killPod(gracePeriodSeconds(this.pod, s.gracePeriodSeconds));
      case 'rejected':
      case 'terminated':
        return;
      default:
        assertNever(s);
    }
  }

  /** One convergence pass (the kubelet's SyncPod + computePodActions). */
  private async syncPod(): Promise<void> {
    this.startedInPass = false;
    // Finished before this worker existed, or evicted: nothing is left to converge.
    if (this.finishedStatus || this.terminalReason) return;
    if (this.pendingEviction) return this.carryOutEviction(this.pendingEviction);
    if (!(await this.setUpVolumes())) return;
    if (!this.sandboxId) await this.createSandbox();
    else if (hasOwnPodIP(this.pod, this.deps.runtime)) this.ownIP.ensureAsked(this.sandboxId);
    await this.killUnhealthy();
    await this.refresh();
    await this.finishAdoption();
    this.status(); // notes condition transitions as they happen, not only when someone reads
    if (this.terminalPhase) return;
    if (await this.sandboxGone()) {
      await this.recreateSandbox();
      await this.refresh();
    }
    const spec = this.pod.spec!;
    const policy = spec.restartPolicy ?? 'Always';

    for (const c of spec.initContainers ?? []) {
      const sidecar = c.restartPolicy === 'Always';
      const v = this.view(c.name, true);
      const cur = v.current;
      if (!cur || cur.state === 'created') {
        await this.start(v, c);
        if (!sidecar || v.current?.state !== 'running' || !this.deps.probes.started(v.current.id)) return;
        continue;
      }
      if (cur.state === 'running') {
        // The next init container waits until the sidecar has started (its startupProbe passed).
        if (sidecar && this.deps.probes.started(cur.id)) continue;
        return;
      }
      if (cur.exitCode === 0 && !sidecar) continue;
      if (!sidecar && policy === 'Never') {
        this.log.info({ container: c.name, exitCode: cur.exitCode }, 'Init container failed, pod failed');
        await this.finishPod('Failed');
        return;
      }
      await this.restart(v, c, true);
      if (!sidecar || v.current?.state !== 'running' || !this.deps.probes.started(v.current.id)) return;
    }

    for (const c of spec.containers) {
      const v = this.view(c.name, false);
      const cur = v.current;
      if (!cur || cur.state === 'created') {
        await this.start(v, c);
      } else if (cur.state === 'exited') {
        if (shouldRestart(this.pod, cur.exitCode, false)) await this.restart(v, c, false);
      }
    }

    const phase = computePhase(this.pod, [...this.views.values()]);
    if (phase === 'Succeeded' || phase === 'Failed') await this.finishPod(phase);
    // Conditions that changed with the starts of this pass (Ready without a readiness probe) are noted
    // now: the worker's own starts no longer bring another sync that would note them. Only then: a
    // status on every sync of every pod is work nobody asked for.
    else if (this.startedInPass) this.status();
  }

  /**
   * The sandbox config of the current pod and attempt, built once: each container start needs its log
   * directory, and building it serialises the whole pod.
   */
  private sandboxConfig(): PodSandboxConfig {
    const built = this.builtSandboxConfig;
    if (built?.pod === this.pod && built.attempt === this.sandboxAttempt) return built.config;
    const config = sandboxConfig(this.pod, this.deps.podLogsDir, this.sandboxAttempt, this.deps.node);
    this.builtSandboxConfig = { pod: this.pod, attempt: this.sandboxAttempt, config };
    return config;
  }

  private async createSandbox(): Promise<void> {
    const { runtime } = this.deps;
    this.sandboxId = await runtime.runPodSandbox(this.sandboxConfig());
    if (!this.startTime) this.startTime = this.deps.clock.now();
    // Asked only where it can tell something (a pod network, not the host's), and not waited for here.
    this.ownIP.reset(this.sandboxId, hasOwnPodIP(this.pod, runtime));
  }

  /**
   * Whether the pod's sandbox is gone or no longer ready (its pause process died, or the node rebooted
   * under a CRI runtime). Asked only when the runtime said so or a container has exited, as the
   * kubelet's computePodActions finds it from the relist.
   */
  private async sandboxGone(): Promise<boolean> {
    if (!this.sandboxId) return false;
    const exited = [...this.views.values()].some((v) => v.current?.state === 'exited');
    if (!this.checkSandbox && !exited) return false;
    this.checkSandbox = false;
    const sb = await this.deps.runtime.podSandboxStatus(this.sandboxId);
    return !sb || !sb.ready;
  }

  /**
   * Kills what still runs in a dead sandbox and makes a new one with the next attempt number; the
   * containers then start again in it, their restart counts going on (kuberuntime SyncPod, "sandbox changed").
   */
  private async recreateSandbox(): Promise<void> {
    this.event(undefined, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
    this.log.info({ attempt: this.sandboxAttempt + 1 }, 'Pod sandbox is not ready: re-creating it');
    await this.stopAll(gracePeriodSeconds(this.pod, undefined));
    const old = this.sandboxId!;
    this.sandboxId = undefined;
    await this.deps.runtime.removePodSandbox(old).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'Cannot remove the old sandbox'));
    this.sandboxAttempt++;
    await this.createSandbox();
  }

  /**
   * Makes the pod's volumes ready before anything starts (the kubelet's WaitForAttachAndMount). A
   * failure (a hostPath of the wrong type) is a FailedMount event and a retry with back-off.
   */
  private async setUpVolumes(): Promise<boolean> {
    if (this.volumes) return true;
    const key = `${this.uid}/volumes`;
    if ((this.retryAt.get(key) ?? 0) > this.deps.clock.now()) return false;
    try {
      this.volumes = await this.deps.volumes.setUp(this.pod);
      this.retryAt.delete(key);
      return true;
    } catch (err) {
      this.event(undefined, 'Warning', 'FailedMount', errorMessage(err));
      this.log.warn({ err: errorMessage(err) }, 'Cannot set up volumes');
      const wait = this.deps.backoff.current(key) || this.deps.backoff.initialMs;
      this.deps.backoff.next(key);
      this.retryAt.set(key, this.deps.clock.now() + wait);
      this.wakeIn(wait);
      return false;
    }
  }

  /**
   * An eviction: the terminal phase Failed with its reason and message, an event, every container
   * stopped, and the volumes removed now, not when the pod goes (freeing the disk is the point; the
   * kubelet tears down a terminated pod's volumes). Sandbox and logs stay until the pod is removed.
   */
  private async carryOutEviction(e: Eviction): Promise<void> {
    this.terminalPhase = 'Failed';
    this.terminalReason = { reason: e.reason, message: e.message };
    this.pendingEviction = undefined;
    this.cancelWake();
    this.event(undefined, 'Warning', e.reason, e.message);
    this.log.info({ reason: e.reason, message: e.message }, 'Evicting the pod');
    await this.refresh();
    await this.stopAll(gracePeriodSeconds(this.pod, e.gracePeriodSeconds));
    await this.deps.volumes.tearDown(this.uid).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'Cannot remove the pod directory'));
  }

  /** Reaches a terminal phase: it sticks, and what still runs (sidecars) is stopped. */
  private async finishPod(phase: 'Succeeded' | 'Failed'): Promise<void> {
    this.terminalPhase = phase;
    this.cancelWake();
    this.log.info({ phase }, 'Pod reached a terminal phase');
    await this.stopAll(gracePeriodSeconds(this.pod, undefined));
  }

  /** Brings each view up to date with the runtime; a container the runtime lost counts as exited 137. */
  private async refresh(): Promise<void> {
    for (const v of this.views.values()) {
      if (!v.current || v.current.state === 'exited') continue;
      const info = await this.deps.runtime.containerStatus(v.current.id);
      if (!info || info.state === 'exited') this.deps.probes.removeContainer(v.current.id);
      v.current = info ?? {
        ...v.current,
        state: 'exited',
        exitCode: 137,
        reason: 'ContainerStatusUnknown',
        message: 'The container could not be located when the pod was synced',
        finishedAt: this.deps.clock.now(),
      };
    }
  }

  /** Restarts an exited container unless it is in CrashLoopBackOff. */
  private async restart(v: ContainerView, c: Container, init: boolean): Promise<void> {
    const key = this.backoffKey(c.name);
    const finishedAt = v.current?.finishedAt || this.deps.clock.now();
    const remaining = this.deps.backoff.remainingSince(key, finishedAt);
    if (remaining > 0) {
      const seconds = Math.round(this.deps.backoff.current(key) / 1000);
      const meta = this.pod.metadata!;
      this.event(v, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${meta.name}_${meta.namespace}(${meta.uid})`);
      v.waiting = {
        reason: 'CrashLoopBackOff',
        message: `back-off ${formatSeconds(seconds)} restarting failed container=${c.name} pod=${meta.name}_${meta.namespace}(${meta.uid})`,
      };
      this.wakeIn(remaining);
      return;
    }
    this.deps.backoff.next(key);
    this.log.info({ container: c.name, init, restartCount: v.restartCount + 1 }, 'Restarting container');
    await this.start(v, c);
  }

  /** Creates and starts the next attempt of a container; failures become waiting reasons, not exceptions. */
  private async start(v: ContainerView, c: Container): Promise<void> {
    const { runtime } = this.deps;
    // A sync kicked by something else (another container, a probe) must not retry a failed create early.
    const retryAt = this.retryAt.get(c.name) ?? 0;
    if (retryAt > this.deps.clock.now()) {
      if (v.waiting?.reason === 'ErrImagePull') v.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` };
      this.wakeIn(retryAt - this.deps.clock.now());
      return;
    }
    this.retryAt.delete(c.name);
    const image = runtime.images ? await this.ensureImage(runtime.images, v, c) : undefined;
    if (image === null) return;
    const attempt = v.current && v.current.state !== 'created' ? v.restartCount + 1 : v.restartCount;
    let id: string;
    let logPath: string;
    try {
      // status.podIP in the environment is the pod's own IP (kubelet_pods.go podFieldSelectorRuntimeValue).
      if (envReadsPodIP(c)) await this.ownIP.known();
      const node = this.podIP === this.deps.node.podIP ? this.deps.node : { ...this.deps.node, podIP: this.podIP };
      const config = containerConfig(this.pod, c, attempt, node, await containerMounts(c, this.volumes ?? new Map()));
      // Only a runtime with images knows an image's default user; the process runtime checks runAsNonRoot
      // itself, against the user it would run as (nodelet's, without runAsUser).
      const violation = image && config.security && runAsNonRootViolation(config.security, image.user, this.pod.metadata!.name!, c.name);
      if (violation) throw new NodeletError('CreateContainerConfigError', violation);
      id = await runtime.createContainer(this.sandboxId!, config);
      logPath = path.join(this.sandboxConfig().logDirectory, config.logPath);
    } catch (err) {
      const reason = err instanceof NodeletError ? err.code : 'CreateContainerError';
      this.setWaiting(v, reason, errorMessage(err));
      return;
    }
    if (v.current && v.current.state !== 'created') {
      await this.prune(v.previous);
      v.previous = v.current;
    }
    v.restartCount = attempt;
    // What the runtime was just told, not asked back: a status call per start costs on the CRI.
    const now = this.deps.clock.now();
    v.current = { id, sandboxId: this.sandboxId!, name: c.name, attempt, state: 'created', image: c.image ?? '', createdAt: now, startedAt: 0, finishedAt: 0, exitCode: 0, reason: '', message: '', logPath };
    v.waiting = undefined;
    this.event(v, 'Normal', 'Created', `Created container: ${c.name}`);
    try {
      this.starting = id;
      await runtime.startContainer(id);
      this.startedInPass = true;
      this.log.info({ container: c.name, restartCount: attempt }, 'Container started');
    } catch (err) {
      this.log.warn({ container: c.name, err: errorMessage(err) }, 'Failed to start container');
      this.event(v, 'Warning', 'Failed', `Error: ${errorMessage(err)}`);
      v.current = await runtime.containerStatus(id);
      v.waiting = { reason: 'RunContainerError', message: errorMessage(err) };
      this.wakeIn(this.deps.backoff.initialMs);
      return;
    } finally {
      this.starting = undefined;
    }
    v.current = await runtime.containerStatus(id);
    // Gone already (a fast exit): the next sync restarts it per policy, at once as it did when the
    // runtime's `started` event brought one.
    if (v.current?.state !== 'running') this.kick();
    this.event(v, 'Normal', 'Started', `Started container ${c.name}`);
    // Hooks and probes of the pod's own address need it; asked since the sandbox was made, it is in by now.
    await this.ownIP.known();
    if (c.lifecycle?.postStart && !(await this.postStart(v, c, id))) return;
    if (v.current?.state === 'running') this.deps.probes.addContainer(this.pod, c, id, v.current.startedAt, this.podIP);
    if (!this.firstStartReported) {
      this.firstStartReported = true;
      // When the runtime says the container started, not when this worker got round to hearing it: in a
      // burst of starts the two can be hundreds of milliseconds apart.
      const ranAt = v.current?.startedAt || this.deps.clock.now();
      this.deps.onFirstStart?.(this.pod, Math.max(0, ranAt - this.seenAt) / 1000);
    }
  }

  /**
   * Makes sure the container's image is on the node, per its imagePullPolicy (images/image_manager.go
   * EnsureImageExists). A failed pull waits as ErrImagePull, then ImagePullBackOff until its back-off
   * has passed; the image back-off is its own, so a slow registry does not lengthen crash back-offs.
   * Resolves with the image, or null when the container cannot be created yet.
   */
  private async ensureImage(images: ImageService, v: ContainerView, c: Container): Promise<ImageInfo | undefined | null> {
    const image = c.image ?? '';
    const policy = c.imagePullPolicy ?? 'IfNotPresent';
    let present;
    try {
      present = await images.imageStatus(image);
    } catch (err) {
      this.setWaiting(v, 'ErrImagePull', `Failed to inspect image "${image}": ${errorMessage(err)}`, `${this.uid}/image:${image}`);
      return null;
    }
    if (present && policy !== 'Always') {
      this.event(v, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return present;
    }
    if (!present && policy === 'Never') {
      this.setWaiting(v, 'ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`, `${this.uid}/image:${image}`);
      return null;
    }
    this.event(v, 'Normal', 'Pulling', `Pulling image "${image}"`);
    const t0 = this.deps.clock.now();
    try {
      await images.pullImage(image, this.sandboxConfig());
    } catch (err) {
      this.setWaiting(v, 'ErrImagePull', `Failed to pull image "${image}": ${errorMessage(err)}`, `${this.uid}/image:${image}`);
      return null;
    }
    this.deps.backoff.forgetPrefix(`${this.uid}/image:${image}`);
    this.event(v, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${((this.deps.clock.now() - t0) / 1000).toFixed(3)}s`);
    // The pulled image's user is known once it is inspected again; undefined (unknown) skips the runAsNonRoot check.
    return images.imageStatus(image).catch(() => undefined);
  }

  /**
   * Runs the postStart hook; when it fails the container is killed and waits with PostStartHookError,
   * then restarts per policy with the usual back-off (kuberuntime_container.go startContainer).
   */
  private async postStart(v: ContainerView, c: Container, id: string): Promise<boolean> {
    const grace = gracePeriodSeconds(this.pod, undefined);
    const r = await this.runHook(c.lifecycle!.postStart!, c, id, grace);
    if (r.ok) return true;
    this.event(v, 'Warning', 'FailedPostStartHook', r.message);
    this.log.warn({ container: c.name, err: r.message }, 'PostStart hook failed, killing the container');
    await this.deps.runtime.stopContainer(id, grace);
    v.current = await this.deps.runtime.containerStatus(id);
    v.waiting = { reason: 'PostStartHookError', message: r.message };
    this.wakeIn(this.deps.backoff.current(this.backoffKey(c.name)) || this.deps.backoff.initialMs);
    return false;
  }

  /** Kills the containers failed probes asked for; the sync that follows restarts them per policy. */
  private async killUnhealthy(): Promise<void> {
    const kills = [...this.pendingKills.values()];
    this.pendingKills.clear();
    for (const e of kills) {
      const v = [...this.views.values()].find((x) => x.current?.id === e.containerId && x.current.state === 'running');
      if (!v) continue;
      this.event(v, 'Normal', 'Killing', e.message);
      this.log.info({ container: v.name, probe: e.probe }, 'Killing container: probe failed');
      await this.stopContainer(v, gracePeriodSeconds(this.pod, e.gracePeriodSeconds), false);
    }
  }

  /**
   * Stops one container the kubelet's way (killContainer): preStop first, inside the grace period,
   * then SIGTERM with what is left of it (never under 2 s), then SIGKILL.
   */
  private async stopContainer(v: ContainerView, grace: number, event = true): Promise<void> {
    const cur = v.current;
    if (!cur || cur.state !== 'running') return;
    if (event) this.event(v, 'Normal', 'Killing', `Stopping container ${v.name}`);
    this.deps.probes.removeContainer(cur.id);
    const spec = [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])].find((c) => c.name === v.name);
    let left = grace;
    if (spec?.lifecycle?.preStop) {
      const t0 = this.deps.clock.now();
      const r = await this.runHook(spec.lifecycle.preStop, spec, cur.id, grace);
      if (!r.ok) this.event(v, 'Warning', 'FailedPreStopHook', r.message);
      left = Math.max(MINIMUM_GRACE_PERIOD_SECONDS, grace - Math.ceil((this.deps.clock.now() - t0) / 1000));
    }
    await this.deps.runtime.stopContainer(cur.id, left);
  }

  /** Runs a postStart or preStop handler for a container, bounded by `timeoutSeconds`. */
  private runHook(handler: NonNullable<NonNullable<Container['lifecycle']>['preStop']>, c: Container, id: string, timeoutSeconds: number) {
    return runLifecycleHandler(handler, {
      pod: this.pod,
      container: c,
      containerId: id,
      runtime: this.deps.runtime,
      podIP: this.podIP,
      timeoutMs: timeoutSeconds * 1000,
      clock: this.deps.clock,
      events: this.deps.events,
    });
  }

  /** Records a kubelet-style event about the pod, or one of its containers. */
  private event(container: ContainerView | undefined, type: PodEvent['type'], reason: string, message: string): void {
    const meta = this.pod.metadata!;
    const fieldPath = container ? `spec.${container.init ? 'initContainers' : 'containers'}{${container.name}}` : undefined;
    this.deps.events.record({ namespace: meta.namespace ?? 'default', name: meta.name!, uid: meta.uid!, fieldPath }, type, reason, message);
  }

  private setWaiting(v: ContainerView, reason: string, message: string, backoffKey = this.backoffKey(v.name)): void {
    this.event(v, 'Warning', 'Failed', reason === 'ErrImagePull' ? message : `Error: ${message}`);
    if (v.waiting?.message !== message) this.log.warn({ container: v.name, reason, err: message }, 'Cannot create container');
    v.waiting = { reason, message };
    // Configuration errors are retried with the same backoff as crashes, so a fixed host path is picked up.
    const key = backoffKey;
    const wait = this.deps.backoff.current(key) || this.deps.backoff.initialMs;
    this.deps.backoff.next(key);
    this.retryAt.set(v.name, this.deps.clock.now() + wait);
    // A failed pull shows as ErrImagePull for a moment, then as ImagePullBackOff until the retry (as the
    // kubelet reports it): one sync in between makes that switch.
    this.wakeIn(reason === 'ErrImagePull' ? Math.min(wait, IMAGE_PULL_ERROR_SHOWN_MS) : wait);
  }

  /** The kubelet keeps one dead container per name; older attempts and their logs go. */
  private async prune(info: ContainerInfo | undefined): Promise<void> {
    if (!info) return;
    await this.deps.runtime.removeContainer(info.id);
  }

  /** Kills every container with grace, then releases the sandbox (the kubelet's killPod). */
  private async killPod(grace: number): Promise<void> {
    this.cancelWake();
    await this.refresh();
    await this.finishAdoption();
    if (this.sandboxId) {
      await this.stopAll(grace);
      // The sandbox stopped too, as the kubelet's killPod does: on CRI that releases its network and
      // host ports, which a successor may be about to ask for.
      await this.deps.runtime.stopPodSandbox(this.sandboxId);
    }
    await this.deps.volumes.tearDown(this.uid).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'Cannot remove the pod directory'));
    this.resolveStopped();
    if (this.sandboxId) await this.deps.runtime.removePodSandbox(this.sandboxId);
    // Removing a container takes its log file; the pod's log directory goes with the pod (the
    // kubelet's evictPodLogsDirectories), or every edit of a manifest would leave one behind.
    const meta = this.pod.metadata!;
    await this.deps.removePodLogs?.(meta.namespace!, meta.name!, this.uid).catch((err: unknown) =>
      this.log.warn({ err: errorMessage(err) }, 'Cannot remove the pod log directory'),
    );
    this.deps.backoff.forgetPrefix(`${this.uid}/`);
    this.deps.probes.removePod(this.uid);
    this.log.info({}, 'Pod stopped');
    this.transition({ kind: 'terminated' });
  }

  /** App containers first, all at once; then init containers and sidecars in reverse order. */
  private async stopAll(grace: number): Promise<void> {
    const { clock } = this.deps;
    const deadline = clock.now() + grace * 1000;
    const running = (init: boolean) =>
      [...this.views.values()].filter((v) => v.init === init && v.current?.state === 'running');
    await Promise.all(running(false).map((v) => this.stopContainer(v, grace)));
    for (const v of running(true).reverse()) {
      const left = Math.max(0, Math.ceil((deadline - clock.now()) / 1000));
      await this.stopContainer(v, left);
    }
    await this.refresh();
  }

  private view(name: string, init: boolean): ContainerView {
    let v = this.views.get(name);
    if (!v) {
      v = { name, init, restartCount: 0 };
      this.views.set(name, v);
    }
    return v;
  }

  private backoffKey(container: string): string {
    return `${this.uid}/${container}`;
  }

  private wakeIn(ms: number): void {
    const at = this.deps.clock.now() + ms;
    if (this.wake && this.wake.at <= at) return;
    this.wake?.timer.cancel();
    this.wake = {
      at,
      timer: this.deps.clock.setTimeout(() => {
        this.wake = undefined;
        this.kick();
      }, ms),
    };
  }

  private cancelWake(): void {
    this.wake?.timer.cancel();
    this.wake = undefined;
  }
}

/** `namespace/name`, the key of a pod in logs and duplicate checks. */
export function fullName(pod: Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

/** Go's time.Duration String for whole seconds: 10s, 1m20s, 5m0s (as in the kubelet's back-off message). */
function formatSeconds(s: number): string {
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${s % 60}s`;
}
