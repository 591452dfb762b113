import type { Pod, PodStatus } from '../api/types.js';
import type { PodOperation } from '../podconfig/pod-config.js';
import type { ContainerView } from '../status/types.js';
import type { TimerHandle } from '../util/clock.js';
import type { PodVolumes } from '../volumes/volume-manager.js';
import { podOfSandbox } from '../container/container-config.js';
import { listLeftovers, planAdoption, type Leftover } from './adoption.js';
import { Backoff, type BackoffEntry } from './backoff.js';
import { fullName, PodWorker, type Eviction, type WorkerDeps } from './pod-worker.js';
import { compareStrings } from '../util/compare.js';

export type { Eviction } from './pod-worker.js';

/** Options of {@link createPodWorkers}. */
export interface PodWorkersOptions extends Omit<WorkerDeps, 'backoff'> {
  maxPods: number;
  syncFrequencyMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Back-off entries from a checkpoint: crash-loop delays continue across a restart of nodelet. */
  backoffState?: Record<string, BackoffEntry>;
  /** Called after back-off entries change, with a function returning them (for the checkpoint). */
  onBackoffChange?: (snapshot: () => Record<string, BackoffEntry>) => void;
}

/** A pod as the workers see it now: desired spec, live status, container facts. */
export interface WorkerSnapshot {
  pod: Pod;
  status: PodStatus;
  state: PodWorker['state'];
  containers: ContainerView[];
}

/** An active pod (admitted, running, not terminal) and the host paths of its volumes, for the eviction manager. */
export interface ActivePod {
  pod: Pod;
  /** Undefined until they are set up, and for a moment after an update (labels, annotations) until they are written again. */
  volumes: PodVolumes | undefined;
  /** The runtime's id of its container of that name now, if any. */
  containerId(name: string): string | undefined;
}

/** The pod workers: one worker per pod UID; work on one pod never waits for another. */
export interface PodWorkers {
  /** Applies operations from podconfig, in order. */
  handle(ops: readonly PodOperation[]): void;
  /** Every pod with a worker, terminating ones included, in namespace/name order. */
  list(): WorkerSnapshot[];
  /**
   * The active pods (the kubelet's GetActivePods): admitted, started, not in a terminal phase, not
   * stopping. Cheap: no status is computed.
   */
  activePods(): ActivePod[];
  /**
   * Evicts an active pod through its worker: it ends Failed with the eviction's reason and message,
   * its containers are killed, it is never restarted, and it stops counting against maxPods. False
   * when no active pod has that UID.
   */
  evict(uid: string, eviction: Eviction): boolean;
  /** Stops every pod with grace and waits until all are stopped. */
  stopAll(): Promise<void>;
  /** Stops the periodic resync and event subscription; pods keep running. */
  close(): void;
  /** Milliseconds since the last completed resync tick (for /healthz/syncloop). */
  lastResyncAt(): number;
  /**
   * Lists what the runtime still holds from a previous nodelet, so that pods added next adopt their
   * containers instead of starting them again. Call once, before the first {@link handle}.
   */
  recover(): Promise<number>;
  /**
   * Every source has delivered its first full snapshot: pods left from a previous nodelet that no
   * source wants any more (a manifest deleted or edited while nodelet was down) are stopped.
   */
  sourcesReady(): void;
}

/** The periodic resync is spread over this many slots of each syncFrequency. */
const RESYNC_SLOTS = 8;

/** A pod's resync slot: a small hash of its UID, stable for the worker's life. */
function resyncSlot(uid: string): number {
  let h = 0;
  for (let i = 0; i < uid.length; i++) h = (h * 31 + uid.charCodeAt(i)) | 0;
  return (h >>> 0) % RESYNC_SLOTS;
}

/** Creates the pod workers, subscribes to runtime events and starts the periodic resync. */
export function createPodWorkers(opts: PodWorkersOptions): PodWorkers {
  return new PodWorkersImpl(opts);
}

class PodWorkersImpl implements PodWorkers {
  private readonly workers = new Map<string, PodWorker>();
  /** Workers admitted and not yet told to stop: what counts against maxPods. Kept, not recounted (1,000 adds). */
  private readonly admitted = new Set<PodWorker>();
  /** Workers not yet terminated, by namespace/name: the predecessors an edited pod waits for. */
  private readonly byName = new Map<string, Set<PodWorker>>();
  private readonly deps: WorkerDeps;
  private readonly unsubscribe: () => void;
  private resyncTimer: TimerHandle | undefined;
  private resyncTick = 0;
  private lastResync: number;
  /** Pods a previous nodelet left in the runtime, by UID, until a source claims them or they are stopped. */
  private leftovers = new Map<string, Leftover>();

  constructor(private readonly opts: PodWorkersOptions) {
    const backoff = new Backoff(opts.clock, opts.backoffInitialMs, opts.backoffMaxMs);
    if (opts.backoffState) backoff.restore(opts.backoffState);
    if (opts.onBackoffChange) backoff.onChange = () => opts.onBackoffChange!(() => backoff.snapshot());
    this.deps = { ...opts, backoff };
    // The runtime's own events are the fast path (the kubelet's PLEG); the resync is the safety net.
    const subs = [
      opts.runtime.onContainerEvent((e) => {
        const w = this.workers.get(e.podUID);
        if (e.type === 'sandbox') w?.sandboxChanged();
        else if (e.type === 'started') w?.containerStarted(e.containerId);
        else w?.kick();
      }),
      opts.probes.onUnhealthy((e) => this.workers.get(e.podUID)?.unhealthy(e)),
      opts.probes.onChange((uid) => this.workers.get(uid)?.kick()),
    ];
    this.unsubscribe = () => subs.forEach((u) => u());
    this.lastResync = opts.clock.now();
    this.scheduleResync();
  }

  handle(ops: readonly PodOperation[]): void {
    for (const o of ops) {
      switch (o.op) {
        case 'ADD':
          this.add(o.pod);
          break;
        case 'UPDATE': {
          const w = this.workers.get(o.pod.metadata!.uid!);
          w?.update(o.pod);
          // Deleted in the API server: stop with the grace period the deletion gave (the kubelet's DELETE).
          if (o.pod.metadata?.deletionTimestamp) w?.terminate(o.pod.metadata.deletionGracePeriodSeconds ?? undefined);
          break;
        }
        case 'REMOVE':
          this.remove(o.pod);
          break;
      }
    }
  }

  list(): WorkerSnapshot[] {
    return [...this.workers.values()]
      .map((w) => ({ pod: w.desired, status: w.status(), state: w.state, containers: w.containers() }))
      .sort((a, b) => compareStrings(fullName(a.pod), fullName(b.pod)));
  }

  activePods(): ActivePod[] {
    const out: ActivePod[] = [];
    for (const w of this.admitted) if (w.active) out.push({ pod: w.desired, volumes: w.volumePaths, containerId: (name) => w.containerId(name) });
    return out;
  }

  evict(uid: string, eviction: Eviction): boolean {
    const w = this.workers.get(uid);
    if (!w?.evict(eviction)) return false;
    // A terminal pod does not count against maxPods (the kubelet admits against active pods only).
    this.admitted.delete(w);
    this.admitRejected();
    return true;
  }

  async stopAll(): Promise<void> {
    const all = [...this.workers.values()];
    this.admitted.clear();
    for (const w of all) w.terminate();
    await Promise.all(all.map((w) => w.done));
  }

  close(): void {
    this.unsubscribe();
    this.resyncTimer?.cancel();
  }

  lastResyncAt(): number {
    return this.lastResync;
  }

  async recover(): Promise<number> {
    this.leftovers = await listLeftovers(this.opts.runtime);
    return this.leftovers.size;
  }

  sourcesReady(): void {
    for (const l of [...this.leftovers.values()]) this.retire(l, 'its manifest is gone');
  }

  /** Stops a pod a previous nodelet left running that no source wants: with its own grace and preStop. */
  private retire(l: Leftover, why: string): void {
    this.leftovers.delete(l.uid);
    const newest = [...l.sandboxes].sort((a, b) => b.createdAt - a.createdAt)[0]!;
    const [namespace, name] = [newest.namespace, newest.name];
    const pod = podOfSandbox(newest.annotations) ?? {
      metadata: { name, namespace, uid: l.uid },
      spec: { containers: [...new Set(l.containers.map((c) => c.name))].map((n) => ({ name: n })) },
    };
    const plan = planAdoption(pod, l);
    this.opts.logger.info({ pod: l.fullName, podUID: l.uid, why }, 'Stopping a pod left by the previous nodelet');
    const worker = new PodWorker(pod, { kind: 'syncing' }, this.deps, plan);
    this.workers.set(l.uid, worker);
    this.trackName(l.fullName, worker);
    worker.terminate();
    void worker.done.then(() => {
      if (this.workers.get(l.uid) === worker) this.workers.delete(l.uid);
      this.opts.events.forget(l.uid);
    });
  }

  private trackName(name: string, worker: PodWorker): void {
    const same = this.byName.get(name) ?? new Set<PodWorker>();
    same.add(worker);
    this.byName.set(name, same);
    void worker.done.then(() => {
      same.delete(worker);
      if (same.size === 0 && this.byName.get(name) === same) this.byName.delete(name);
    });
  }

  private add(pod: Pod): void {
    const uid = pod.metadata!.uid!;
    if (this.workers.has(uid)) return;
    const phase = pod.status?.phase;
    if ((phase === 'Succeeded' || phase === 'Failed') && !this.leftovers.has(uid)) {
      // Finished before this nodelet started (completed, or evicted) and nothing of it is left in the
      // runtime: it is not run again and keeps its status (pod_workers.go UpdatePod: a pod whose API
      // status is terminal and which runs nothing is terminated at once). Nor does it count against maxPods.
      const worker = new PodWorker(pod, { kind: 'syncing' }, this.deps, undefined, pod.status);
      this.workers.set(uid, worker);
      this.trackName(fullName(pod), worker);
      return;
    }
    const active = this.admitted.size;
    if (active >= this.opts.maxPods) {
      // The kubelet's admission (lifecycle/predicate.go): the pod is refused and reported Failed.
      const message = `Node didn't have enough resource: pods, requested: 1, used: ${active}, capacity: ${this.opts.maxPods}`;
      this.opts.logger.warn({ pod: fullName(pod), podUID: uid, reason: 'OutOfpods' }, 'Pod rejected at admission');
      this.workers.set(uid, new PodWorker(pod, { kind: 'rejected', reason: 'OutOfpods', message }, this.deps));
      return;
    }
    const name = fullName(pod);
    const leftover = this.leftovers.get(uid);
    this.leftovers.delete(uid);
    // A manifest edited while nodelet was down: the old version, still running, goes first.
    for (const l of [...this.leftovers.values()]) if (l.fullName === name) this.retire(l, 'its manifest was edited');
    // An edited static pod is a new UID with the old name: it starts only once the old one is gone.
    const predecessors = [...(this.byName.get(name) ?? [])];
    const worker = new PodWorker(
      pod,
      predecessors.length
        ? { kind: 'waiting', predecessor: Promise.all(predecessors.map((p) => p.stopped)).then(() => undefined) }
        : { kind: 'syncing' },
      this.deps,
      leftover && planAdoption(pod, leftover),
    );
    this.workers.set(uid, worker);
    this.admitted.add(worker);
    this.trackName(name, worker);
    worker.kick();
    // Already being deleted when first seen (nodelet restarted during a graceful deletion): stop it.
    if (pod.metadata?.deletionTimestamp) worker.terminate(pod.metadata.deletionGracePeriodSeconds ?? undefined);
  }

  private remove(pod: Pod): void {
    const uid = pod.metadata!.uid!;
    const w = this.workers.get(uid);
    if (!w) return;
    this.admitted.delete(w);
    w.terminate();
    void w.done.then(() => {
      if (this.workers.get(uid) === w) this.workers.delete(uid);
      this.opts.events.forget(uid);
      // A pod refused for lack of room may fit now.
      this.admitRejected();
    });
  }

  /** Re-admits pods refused with OutOfpods once others have gone (the kubelet re-admits on the next sync). */
  private admitRejected(): void {
    for (const w of [...this.workers.values()]) {
      if (w.state !== 'rejected') continue;
      if (this.admitted.size >= this.opts.maxPods) return;
      this.workers.delete(w.uid);
      w.terminate();
      this.add(w.desired);
    }
  }

  /**
   * Every worker is kicked once per syncFrequency, an eighth of them at a time (by a hash of the UID):
   * 1,000 pods are 125 syncs every 7.5 s, not 1,000 at once, which would hold up an edit landing in
   * the burst. The kubelet spreads its resyncs too, with a jitter per pod (workerResyncIntervalJitterFactor).
   */
  private scheduleResync(): void {
    this.resyncTimer = this.opts.clock.setTimeout(() => {
      const slot = this.resyncTick++ % RESYNC_SLOTS;
      for (const w of this.workers.values()) if (resyncSlot(w.uid) === slot) w.kick();
      this.lastResync = this.opts.clock.now();
      this.scheduleResync();
    }, this.opts.syncFrequencyMs / RESYNC_SLOTS);
  }
}
