import type { Pod, PodStatus } from '../api/types.js';
import type { PodOperation } from '../podconfig/pod-config.js';
import type { ContainerView } from '../status/types.js';
import type { TimerHandle } from '../util/clock.js';
import { Backoff } from './backoff.js';
import { fullName, PodWorker, type WorkerDeps } from './pod-worker.js';

/** Options of {@link createPodWorkers}. */
export interface PodWorkersOptions extends Omit<WorkerDeps, 'backoff'> {
  maxPods: number;
  syncFrequencyMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

/** A pod as the workers see it now: desired spec, live status, container facts. */
export interface WorkerSnapshot {
  pod: Pod;
  status: PodStatus;
  state: PodWorker['state'];
  containers: ContainerView[];
}

/** The pod workers: one worker per pod UID; work on one pod never waits for another. */
export interface PodWorkers {
  /** Applies operations from podconfig, in order. */
  handle(ops: readonly PodOperation[]): void;
  /** Every pod with a worker, terminating ones included, in namespace/name order. */
  list(): WorkerSnapshot[];
  /** Stops every pod with grace and waits until all are stopped. */
  stopAll(): Promise<void>;
  /** Stops the periodic resync and event subscription; pods keep running. */
  close(): void;
  /** Milliseconds since the last completed resync tick (for /healthz/syncloop). */
  lastResyncAt(): number;
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
  private lastResync: number;

  constructor(private readonly opts: PodWorkersOptions) {
    this.deps = { ...opts, backoff: new Backoff(opts.clock, opts.backoffInitialMs, opts.backoffMaxMs) };
    // The runtime's own events are the fast path (the kubelet's PLEG); the resync is the safety net.
    const subs = [
      opts.runtime.onContainerEvent((e) => this.workers.get(e.podUID)?.kick()),
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
        case 'UPDATE':
          this.workers.get(o.pod.metadata!.uid!)?.update(o.pod);
          break;
        case 'REMOVE':
          this.remove(o.pod);
          break;
      }
    }
  }

  list(): WorkerSnapshot[] {
    return [...this.workers.values()]
      .map((w) => ({ pod: w.desired, status: w.status(), state: w.state, containers: w.containers() }))
      .sort((a, b) => fullName(a.pod).localeCompare(fullName(b.pod)));
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

  private add(pod: Pod): void {
    const uid = pod.metadata!.uid!;
    if (this.workers.has(uid)) return;
    const active = this.admitted.size;
    if (active >= this.opts.maxPods) {
      // The kubelet's admission (lifecycle/predicate.go): the pod is refused and reported Failed.
      const message = `Node didn't have enough resource: pods, requested: 1, used: ${active}, capacity: ${this.opts.maxPods}`;
      this.opts.logger.warn({ pod: fullName(pod), podUID: uid, reason: 'OutOfpods' }, 'Pod rejected at admission');
      this.workers.set(uid, new PodWorker(pod, { kind: 'rejected', reason: 'OutOfpods', message }, this.deps));
      return;
    }
    // An edited static pod is a new UID with the old name: it starts only once the old one is gone.
    const name = fullName(pod);
    const predecessors = [...(this.byName.get(name) ?? [])];
    const worker = new PodWorker(
      pod,
      predecessors.length
        ? { kind: 'waiting', predecessor: Promise.all(predecessors.map((p) => p.done)).then(() => undefined) }
        : { kind: 'syncing' },
      this.deps,
    );
    this.workers.set(uid, worker);
    this.admitted.add(worker);
    const same = this.byName.get(name) ?? new Set<PodWorker>();
    same.add(worker);
    this.byName.set(name, same);
    void worker.done.then(() => {
      same.delete(worker);
      if (same.size === 0 && this.byName.get(name) === same) this.byName.delete(name);
    });
    worker.kick();
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

  private scheduleResync(): void {
    this.resyncTimer = this.opts.clock.setTimeout(() => {
      for (const w of this.workers.values()) w.kick();
      this.lastResync = this.opts.clock.now();
      this.scheduleResync();
    }, this.opts.syncFrequencyMs);
  }
}
