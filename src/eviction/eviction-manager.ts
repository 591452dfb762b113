/**
 * The eviction manager's local-storage pass (pkg/kubelet/eviction/eviction_manager.go synchronize →
 * localStorageEviction → emptyDirLimitEviction → evictPod), every 10 s (kubelet.go
 * evictionMonitoringPeriod): each active pod's disk-backed emptyDirs with a sizeLimit are measured,
 * and a pod with one above its limit is evicted through its pod worker. Critical pods (static, mirror,
 * priority ≥ 2000000000) are never evicted; that their limit is exceeded is logged once per pod and
 * volume. Node-pressure eviction (thresholds, ranking) is not implemented.
 */
import { isCriticalPod } from '../container/linux-resources.js';
import { errorMessage } from '../errors.js';
import { fullName } from '../podworkers/pod-worker.js';
import type { ActivePod, Eviction } from '../podworkers/pod-workers.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { diskUsage } from './disk-usage.js';
import { EVICTED_REASON, IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS, emptyDirLimits, emptyDirMessage, exceeds } from './local-storage.js';

/** How often the pass runs (kubelet.go evictionMonitoringPeriod). */
export const EVICTION_MONITORING_PERIOD_MS = 10_000;

/** Measures a volume directory; may stop early once past `stopAbove` (the answer is then only "more"). */
export type MeasureVolume = (dir: string, stopAbove: number, signal: AbortSignal) => Promise<number>;

/** Options of {@link createEvictionManager}. */
export interface EvictionManagerOptions {
  clock: Clock;
  logger: Logger;
  /** The active pods and their volumes' host paths (PodWorkers.activePods). */
  activePods: () => ActivePod[];
  /** Evicts a pod through its worker (PodWorkers.evict); false when it is no longer active. */
  evict: (uid: string, eviction: Eviction) => boolean;
  periodMs?: number;
  /** How a volume is measured; the du-like walk of disk-usage.ts by default. */
  measure?: MeasureVolume;
}

/** One pod evicted by a pass. */
export interface EvictedPod {
  uid: string;
  message: string;
}

/** The eviction manager. */
export interface EvictionManager {
  /** Runs a pass now, then one every period after the previous one has finished (passes never overlap). */
  start(): void;
  /** Stops the loop and abandons a walk in progress. */
  stop(): void;
  /** One pass; resolves with the pods it evicted. Used by the loop, and by tests directly. */
  synchronize(): Promise<EvictedPod[]>;
}

/** Creates the eviction manager; nothing runs before {@link EvictionManager.start}. */
export function createEvictionManager(opts: EvictionManagerOptions): EvictionManager {
  const log = opts.logger.child({ component: 'eviction' });
  const period = opts.periodMs ?? EVICTION_MONITORING_PERIOD_MS;
  const abort = new AbortController();
  const measure: MeasureVolume =
    opts.measure ?? (async (dir, stopAbove, signal) => (await diskUsage(dir, { stopAbove, signal })).bytes);
  /** `uid/volume` of critical pods already reported over their limit: logged once, not measured again. */
  const reported = new Set<string>();
  /** `uid/volume` → the last error measuring it, logged once per change. */
  const failures = new Map<string, string>();
  let timer: TimerHandle | undefined;
  let stopped = false;

  async function synchronize(): Promise<EvictedPod[]> {
    const pods = opts.activePods();
    forgetGone(new Set(pods.map((p) => p.pod.metadata!.uid!)));
    const evicted: EvictedPod[] = [];
    for (const { pod, volumes } of pods) {
      const uid = pod.metadata!.uid!;
      const critical = isCriticalPod(pod);
      for (const limit of emptyDirLimits(pod)) {
        if (stopped) return evicted;
        const key = `${uid}/${limit.volume}`;
        const dir = volumes?.get(limit.volume);
        if (dir === undefined || reported.has(key)) continue;
        let used: number;
        try {
          used = await measure(dir, limit.limitBytes, abort.signal);
          failures.delete(key);
        } catch (err) {
          if (stopped) return evicted;
          const message = errorMessage(err);
          if (failures.get(key) !== message) log.warn({ pod: fullName(pod), podUID: uid, volume: limit.volume, err: message }, 'Cannot measure the usage of an emptyDir volume');
          failures.set(key, message);
          continue;
        }
        if (!exceeds(limit, used)) continue;
        const message = emptyDirMessage(limit);
        if (critical) {
          // evictPod refuses critical pods ("cannot evict a critical pod"); said once here, not every 10 s.
          reported.add(key);
          log.warn(
            { pod: fullName(pod), podUID: uid, volume: limit.volume, limit: limit.limit, usedBytes: used },
            'EmptyDir volume exceeds its sizeLimit: not enforced on a critical pod',
          );
          continue;
        }
        log.info({ pod: fullName(pod), podUID: uid, volume: limit.volume, limit: limit.limit, usedBytes: used }, 'Eviction manager: evicting a pod over an emptyDir sizeLimit');
        if (opts.evict(uid, { reason: EVICTED_REASON, message, gracePeriodSeconds: IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS })) {
          evicted.push({ uid, message });
        }
        // The pod's first volume over its limit decides, as in emptyDirLimitEviction.
        break;
      }
    }
    return evicted;
  }

  function forgetGone(active: Set<string>): void {
    const gone = (key: string) => !active.has(key.slice(0, key.lastIndexOf('/')));
    for (const key of [...reported]) if (gone(key)) reported.delete(key);
    for (const key of [...failures.keys()]) if (gone(key)) failures.delete(key);
  }

  function loop(): void {
    if (stopped) return;
    synchronize()
      .catch((err: unknown) => log.error({ err: errorMessage(err) }, 'Eviction manager: failed to synchronize'))
      .finally(() => {
        if (!stopped) timer = opts.clock.setTimeout(loop, period);
      });
  }

  return {
    start: loop,
    stop() {
      stopped = true;
      timer?.cancel();
      abort.abort();
    },
    synchronize,
  };
}
