// The pods as the API serves them, with resourceVersions. There is no etcd: a global counter is bumped
// whenever a pod's visible JSON changes, found by diffing the workers' snapshots against the last ones.
// A diff runs only when somebody asks (a list, a get, or a watch's poll), so the cost is nothing while
// nobody looks. Recent changes are kept, with the previous object, so that a watch can resume from the
// resourceVersion of a list and filter like the API server's watch cache (staging/src/k8s.io/apiserver/
// pkg/storage/cacher: prevObject decides ADDED/DELETED for an object entering or leaving a selector).

import type { Pod } from '../../api/types.js';
import type { WorkerSnapshot } from '../../podworkers/pod-workers.js';
import { gracePeriodSeconds } from '../../podworkers/restart-policy.js';
import { toApiPod } from './objects.js';

/** A change of a served pod, numbered by the resourceVersion it produced. */
export interface PodChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The pod after the change (for DELETED: its last state, at the deletion's resourceVersion). */
  object: Pod;
  /** The pod before the change, for MODIFIED and DELETED. */
  prev?: Pod;
  resourceVersion: number;
}

/** Where the cache reads pods from: the node's view. */
export interface PodSource {
  pods(): WorkerSnapshot[];
  now(): number;
}

interface Entry {
  /** The desired pod object the entry was built from; a new object means new labels or annotations. */
  source: Pod;
  fingerprint: string;
  object: Pod;
  terminatingSince?: number;
}

/** How many changes are kept for watches that resume from an older resourceVersion. */
export const DEFAULT_HISTORY = 1024;

/** The served pods, their resourceVersions, recent changes, and the listeners of new ones. */
export class PodCache {
  private readonly entries = new Map<string, Entry>();
  private version = 0;
  private history: PodChange[] = [];
  /** The resourceVersion of the newest change dropped from the history; older watches are expired. */
  private droppedThrough = 0;
  private readonly listeners = new Set<(c: PodChange) => void>();

  constructor(
    private readonly source: PodSource,
    private readonly historySize = DEFAULT_HISTORY,
  ) {}

  /** The current resourceVersion: that of the newest change. */
  get resourceVersion(): number {
    return this.version;
  }

  /** Diffs the workers' pods against the served ones and records (and announces) every change. */
  refresh(): void {
    const now = this.source.now();
    const chosen = new Map<string, WorkerSnapshot>();
    for (const s of this.source.pods()) {
      // A terminated worker's pod is gone from the API's point of view.
      if (s.state === 'terminated') continue;
      const key = `${s.pod.metadata?.namespace ?? 'default'}/${s.pod.metadata?.name ?? ''}`;
      const other = chosen.get(key);
      // An edited static pod is a new UID with the old name while the old one stops; the API, like
      // the kubelet's pod manager, shows the pod that is wanted, and the stopping one only when alone.
      if (!other || rank(s) >= rank(other)) chosen.set(key, s);
    }
    const live = new Set<string>();
    for (const s of chosen.values()) {
      const uid = s.pod.metadata?.uid ?? '';
      live.add(uid);
      const entry = this.entries.get(uid);
      const fp = fingerprint(s);
      if (entry && entry.fingerprint === fp && sameSource(entry, s.pod)) continue;
      let terminatingSince = entry?.terminatingSince;
      if (s.state === 'terminating' && terminatingSince === undefined) terminatingSince = now;
      const grace = gracePeriodSeconds(s.pod, undefined);
      const object = toApiPod(s, {
        resourceVersion: ++this.version,
        ...(terminatingSince !== undefined ? { deletionTimestamp: terminatingSince + grace * 1000, deletionGracePeriodSeconds: grace } : {}),
      });
      this.entries.set(uid, { source: s.pod, fingerprint: fp, object, terminatingSince });
      this.record(entry ? { type: 'MODIFIED', object, prev: entry.object, resourceVersion: this.version } : { type: 'ADDED', object, resourceVersion: this.version });
    }
    for (const [uid, entry] of this.entries) {
      if (live.has(uid)) continue;
      this.entries.delete(uid);
      const rv = ++this.version;
      const object = { ...entry.object, metadata: { ...entry.object.metadata, resourceVersion: String(rv) } };
      this.record({ type: 'DELETED', object, prev: entry.object, resourceVersion: rv });
    }
  }

  /** Every served pod after a refresh, in the API server's order (namespace, then name). */
  list(): Pod[] {
    this.refresh();
    return [...this.entries.values()].map((e) => e.object).sort(byNamespaceAndName);
  }

  /** One served pod by namespace and name, after a refresh. */
  get(namespace: string, name: string): Pod | undefined {
    this.refresh();
    for (const e of this.entries.values()) {
      if (e.object.metadata?.name === name && e.object.metadata.namespace === namespace) return e.object;
    }
    return undefined;
  }

  /**
   * The changes after `resourceVersion`, oldest first; `expired` when some of them were already dropped
   * from the history (the API server's "too old resource version").
   */
  changesSince(resourceVersion: number): PodChange[] | 'expired' {
    if (resourceVersion < this.droppedThrough) return 'expired';
    let i = this.history.length;
    while (i > 0 && this.history[i - 1]!.resourceVersion > resourceVersion) i--;
    return this.history.slice(i);
  }

  /** Calls `fn` with every change from now on; returns the unsubscribe function. */
  subscribe(fn: (c: PodChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Number of current subscribers (watches). */
  get subscribers(): number {
    return this.listeners.size;
  }

  private record(c: PodChange): void {
    this.history.push(c);
    // Trimmed in batches so that recording stays O(1) amortised.
    if (this.history.length > this.historySize * 2) {
      const drop = this.history.length - this.historySize;
      this.droppedThrough = this.history[drop - 1]!.resourceVersion;
      this.history = this.history.slice(drop);
    }
    for (const fn of this.listeners) {
      // One broken watch must not leave the cache half-updated for everyone else.
      try {
        fn(c);
      } catch {
        this.listeners.delete(fn);
      }
    }
  }
}

// The workers hand out the same desired object until the pod is updated, so identity settles it
// almost always; an equal copy (compared once, as JSON) is no change either.
function sameSource(entry: Entry, pod: Pod): boolean {
  if (entry.source === pod) return true;
  if (JSON.stringify(entry.source) !== JSON.stringify(pod)) return false;
  entry.source = pod;
  return true;
}

function rank(s: WorkerSnapshot): number {
  return s.state === 'terminating' ? 0 : 1;
}

/**
 * What decides whether a pod changed: its worker state and status. Before the pod starts, the status's
 * condition times follow the clock; they are left out then, so a pending pod does not change every second.
 */
function fingerprint(s: WorkerSnapshot): string {
  const status = s.status.startTime
    ? s.status
    : { ...s.status, conditions: s.status.conditions?.map(({ lastTransitionTime: _t, ...c }) => c) };
  return `${s.state}|${JSON.stringify(status)}`;
}

function byNamespaceAndName(a: Pod, b: Pod): number {
  const an = a.metadata?.namespace ?? '';
  const bn = b.metadata?.namespace ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  const a2 = a.metadata?.name ?? '';
  const b2 = b.metadata?.name ?? '';
  return a2 < b2 ? -1 : a2 > b2 ? 1 : 0;
}
