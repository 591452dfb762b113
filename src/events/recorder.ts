import type { Clock } from '../util/clock.js';

/** What an event is about: a pod, and optionally one of its containers (its fieldPath). */
export interface InvolvedObject {
  namespace: string;
  name: string;
  uid: string;
  /** `spec.containers{name}` or `spec.initContainers{name}`, as the kubelet sets it. */
  fieldPath?: string;
}

/** A kubelet-style event (core/v1 Event, the fields `kubectl describe` shows). */
export interface PodEvent {
  /** Unique and stable: `<pod name>.<hex>`, as the API server names events. */
  name: string;
  involvedObject: InvolvedObject;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  count: number;
  /** ms since the epoch. */
  firstTimestamp: number;
  lastTimestamp: number;
  /** Increases with every change, for watches. */
  resourceVersion: number;
}

/** Events kept in memory per pod: repeats fold into one with a count (client-go's event correlator). */
export interface EventRecorder {
  record(obj: InvolvedObject, type: PodEvent['type'], reason: string, message: string): void;
  /** Events of one pod (by UID), oldest first; every pod's when `uid` is undefined. */
  list(uid?: string): PodEvent[];
  /** Drops a pod's events (after the pod is gone). */
  forget(uid: string): void;
  /**
   * Calls `listener` with each event recorded from now on, new or folded into an earlier one (then
   * with its count and last timestamp raised), as a copy. Returns what unsubscribes it.
   */
  subscribe(listener: (e: PodEvent) => void): () => void;
}

/** At most this many distinct events are kept per pod; the oldest go first. */
export const MAX_EVENTS_PER_POD = 100;

/** Creates the in-memory event recorder. */
export function createEventRecorder(clock: Clock, maxPerPod = MAX_EVENTS_PER_POD): EventRecorder {
  const byPod = new Map<string, PodEvent[]>();
  const listeners = new Set<(e: PodEvent) => void>();
  let version = 0;
  let seq = 0;
  const tell = (e: PodEvent) => {
    for (const l of listeners) l({ ...e, involvedObject: { ...e.involvedObject } });
  };
  return {
    record(obj, type, reason, message) {
      const now = clock.now();
      const list = byPod.get(obj.uid) ?? [];
      byPod.set(obj.uid, list);
      const same = list.find(
        (e) => e.reason === reason && e.message === message && e.type === type && e.involvedObject.fieldPath === obj.fieldPath,
      );
      if (same) {
        same.count++;
        same.lastTimestamp = now;
        same.resourceVersion = ++version;
        // Keep the list in last-seen order so the oldest is evicted first.
        list.splice(list.indexOf(same), 1);
        list.push(same);
        tell(same);
        return;
      }
      const event: PodEvent = {
        name: `${obj.name}.${(now * 1000 + (seq++ % 1000)).toString(16)}`,
        involvedObject: { ...obj },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        resourceVersion: ++version,
      };
      list.push(event);
      if (list.length > maxPerPod) list.shift();
      tell(event);
    },
    list(uid) {
      const all = uid === undefined ? [...byPod.values()].flat() : [...(byPod.get(uid) ?? [])];
      return all.sort((a, b) => a.lastTimestamp - b.lastTimestamp || a.resourceVersion - b.resourceVersion);
    },
    forget(uid) {
      byPod.delete(uid);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
