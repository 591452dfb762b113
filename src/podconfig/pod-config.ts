import { isDeepStrictEqual } from 'node:util';
import type { Pod } from '../api/types.js';
import { ConfigSeenAnnotation } from '../api/types.js';
import { compareStrings } from '../util/compare.js';

/** One change for the pod workers (pkg/kubelet/types PodOperation, the subset static pods need). */
export type PodOperation =
  | { op: 'ADD'; pod: Pod }
  | { op: 'UPDATE'; pod: Pod }
  | { op: 'REMOVE'; pod: Pod };

/** A pod dropped because another pod already has its namespace/name. */
export interface DuplicatePod {
  source: string;
  pod: Pod;
  /** Where the winner came from (its file or URL). */
  keptFrom: string;
}

/** The outcome of applying one source's snapshot. */
export interface MergeResult {
  operations: PodOperation[];
  duplicates: DuplicatePod[];
}

const originOf = (pod: Pod) => pod.metadata?.annotations?.['nodelet.io/config.file'] ?? '';
const fullName = (pod: Pod) => `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;

/**
 * Merges the snapshots of every source into one desired set and diffs it (pkg/kubelet/config/config.go).
 * Each source sends its whole set each time; the result is REMOVE, then ADD, then UPDATE operations.
 * Two pods with the same namespace/name: the one already known wins, else the first in the snapshot
 * (file-name order); the other is reported as a duplicate and not run.
 */
export class PodConfig {
  private readonly snapshots = new Map<string, Pod[]>();
  /** The merged desired set, by UID. */
  private readonly desired = new Map<string, Pod>();

  /** Replaces `source`'s pods with `pods` and returns what changed. */
  apply(source: string, pods: readonly Pod[]): MergeResult {
    this.snapshots.set(source, [...pods]);
    return this.recompute();
  }

  /** The pods currently desired, in no particular order. */
  pods(): Pod[] {
    return [...this.desired.values()];
  }

  private recompute(): MergeResult {
    const next = new Map<string, Pod>();
    const owner = new Map<string, Pod>();
    const duplicates: DuplicatePod[] = [];
    // Pods already running keep their name: a new file that copies a running pod's name loses. Known
    // pods first, then the new ones, each in source then snapshot order (two passes, no sort: this
    // runs for every snapshot, 1,000 pods each).
    const sources = [...this.snapshots.entries()].sort(([a], [b]) => compareStrings(a, b));
    const ordered: { source: string; pod: Pod }[] = [];
    for (const knownPass of [true, false]) {
      for (const [source, pods] of sources) {
        for (const pod of pods) if (this.desired.has(pod.metadata!.uid!) === knownPass) ordered.push({ source, pod });
      }
    }
    for (const { source, pod } of ordered) {
      const name = fullName(pod);
      const winner = owner.get(name);
      if (winner) {
        if (winner.metadata!.uid !== pod.metadata!.uid) duplicates.push({ source, pod, keptFrom: originOf(winner) });
        continue;
      }
      owner.set(name, pod);
      next.set(pod.metadata!.uid!, pod);
    }

    const removes: PodOperation[] = [];
    const adds: PodOperation[] = [];
    const updates: PodOperation[] = [];
    for (const [uid, pod] of this.desired) if (!next.has(uid)) removes.push({ op: 'REMOVE', pod });
    for (const [uid, pod] of next) {
      const old = this.desired.get(uid);
      if (!old) adds.push({ op: 'ADD', pod });
      // A source hands the same object again for what it did not re-read: no need to compare 1,000 specs.
      else if (old !== pod && changed(old, pod)) updates.push({ op: 'UPDATE', pod });
      else next.set(uid, old); // keep the first-seen object, and with it its config.seen time
    }
    this.desired.clear();
    for (const [uid, pod] of next) this.desired.set(uid, pod);
    return { operations: [...removes, ...adds, ...updates], duplicates };
  }
}

/** Same UID but different spec, labels or annotations (config.go checkAndUpdatePod), ignoring config.seen. */
function changed(a: Pod, b: Pod): boolean {
  const ann = (p: Pod) => {
    const { [ConfigSeenAnnotation]: _seen, ...rest } = p.metadata?.annotations ?? {};
    return rest;
  };
  return (
    // A graceful deletion from the API server (config.go: DELETE when deletionTimestamp is set).
    a.metadata?.deletionTimestamp !== b.metadata?.deletionTimestamp ||
    !isDeepStrictEqual(a.spec, b.spec) ||
    !isDeepStrictEqual(a.metadata?.labels ?? {}, b.metadata?.labels ?? {}) ||
    !isDeepStrictEqual(ann(a), ann(b))
  );
}
