/**
 * The eviction manager's local-storage pass (pkg/kubelet/eviction/eviction_manager.go synchronize →
 * localStorageEviction → evictPod), every 10 s (kubelet.go evictionMonitoringPeriod). For each active
 * pod, in the kubelet's order, the first limit exceeded gets it evicted through its pod worker:
 * - a disk-backed emptyDir above its `sizeLimit`;
 * - the pod's local ephemeral storage (its log directory, its emptyDir and downwardAPI volumes, its
 *   containers' writable layers) above the total of its containers' `limits.ephemeral-storage`;
 * - a container's logs and writable layer above its own `limits.ephemeral-storage`.
 * A writable layer is what the CRI runtime reports (ContainerStats); the process runtime has none
 * (what a container writes outside its volumes lands on the host, unmeasured).
 * Critical pods (static, mirror, priority ≥ 2000000000) are never evicted; that a limit of theirs is
 * exceeded is logged once per pod and limit. Node-pressure eviction (thresholds, ranking) is not
 * implemented.
 */
import { isCriticalPod } from '../container/linux-resources.js';
import { errorMessage } from '../errors.js';
import { containerLogDir, podLogDir } from '../logs/index.js';
import type { Pod } from '../api/types.js';
import { fullName } from '../podworkers/pod-worker.js';
import type { ActivePod, Eviction } from '../podworkers/pod-workers.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { PodVolumes } from '../volumes/volume-manager.js';
import { diskUsage } from './disk-usage.js';
import {
  EVICTED_REASON,
  IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS,
  containerEphemeralStorageLimits,
  containerEphemeralStorageMessage,
  emptyDirLimits,
  emptyDirMessage,
  exceeds,
  localEphemeralVolumes,
  podEphemeralStorageLimit,
  podEphemeralStorageMessage,
  type StorageLimit,
} from './local-storage.js';

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
  /** Where container logs are written (podLogsDir): a pod's logs are part of its ephemeral storage. */
  podLogsDir: string;
  periodMs?: number;
  /** How a volume is measured; the du-like walk of disk-usage.ts by default. */
  measure?: MeasureVolume;
  /** A container's writable layer in bytes (Runtime.writableLayerBytes); absent on a runtime without one. */
  writableLayerBytes?: (containerId: string) => Promise<number | undefined>;
}

/** A limit found exceeded: what the eviction says, and what the log line adds. */
interface Exceeded {
  /** `uid/...`: which limit, for critical pods reported once. */
  key: string;
  message: string;
  fields: Record<string, unknown>;
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
  /** `uid/limit` of critical pods already reported over that limit: logged once, not measured again. */
  const reported = new Set<string>();
  /** `uid/limit` → the last error measuring for it, logged once per change. */
  const failures = new Map<string, string>();
  let timer: TimerHandle | undefined;
  let stopped = false;

  async function synchronize(): Promise<EvictedPod[]> {
    const pods = opts.activePods();
    forgetGone(new Set(pods.map((p) => p.pod.metadata!.uid!)));
    const evicted: EvictedPod[] = [];
    for (const active of pods) {
      const { pod, volumes } = active;
      if (stopped) return evicted;
      if (volumes === undefined) continue;
      const over = await firstExceeded(active, volumes);
      if (!over || stopped) continue;
      const uid = pod.metadata!.uid!;
      const fields = { pod: fullName(pod), podUID: uid, ...over.fields };
      if (isCriticalPod(pod)) {
        // evictPod refuses critical pods ("cannot evict a critical pod"); said once here, not every 10 s.
        reported.add(over.key);
        log.warn({ ...fields, eviction: over.message }, 'A local storage limit is exceeded: not enforced on a critical pod');
        continue;
      }
      log.info({ ...fields, eviction: over.message }, 'Eviction manager: evicting a pod over a local storage limit');
      if (opts.evict(uid, { reason: EVICTED_REASON, message: over.message, gracePeriodSeconds: IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS })) {
        evicted.push({ uid, message: over.message });
      }
    }
    return evicted;
  }

  /** The first limit of the pod found exceeded, in localStorageEviction's order. */
  async function firstExceeded(active: ActivePod, volumes: PodVolumes): Promise<Exceeded | undefined> {
    const { pod } = active;
    const uid = pod.metadata!.uid!;
    /** Volume usages measured whole in this pass, counted again in the pod's total. */
    const whole = new Map<string, number>();
    for (const limit of emptyDirLimits(pod)) {
      const key = `${uid}/volume/${limit.volume}`;
      const dir = volumes.get(limit.volume);
      if (dir === undefined || reported.has(key)) continue;
      const used = await usage(pod, key, dir, limit.limitBytes);
      if (used === undefined) continue;
      if (exceeds(limit, used)) return { key, message: emptyDirMessage(limit), fields: { volume: limit.volume, limit: limit.limit, usedBytes: used } };
      whole.set(limit.volume, used);
    }

    const { namespace = 'default', name = '' } = pod.metadata!;
    const podLimit = podEphemeralStorageLimit(pod);
    const podKey = `${uid}/pod`;
    /** Writable layers read in this pass, by container name. */
    const layers = new Map<string, number>();
    const layerOf = async (container: string) => {
      if (!layers.has(container)) layers.set(container, await writableLayer(pod, active.containerId(container)));
      return layers.get(container)!;
    };
    if (podLimit && !reported.has(podKey)) {
      const dirs = localEphemeralVolumes(pod).map((v) => ({ volume: v, dir: volumes.get(v) }));
      let used = await total(pod, podKey, [...dirs, { volume: undefined, dir: podLogDir(opts.podLogsDir, namespace, name, uid) }], whole, podLimit);
      for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
        if (used === undefined || exceeds(podLimit, used)) break;
        used += await layerOf(c.name);
      }
      if (used !== undefined && exceeds(podLimit, used)) {
        return { key: podKey, message: podEphemeralStorageMessage(podLimit), fields: { limit: podLimit.limit, usedBytes: used } };
      }
    }

    for (const limit of containerEphemeralStorageLimits(pod)) {
      const key = `${uid}/container/${limit.container}`;
      if (reported.has(key)) continue;
      const logs = await usage(pod, key, containerLogDir(opts.podLogsDir, namespace, name, uid, limit.container), limit.limitBytes);
      const used = logs === undefined ? undefined : logs + (exceeds(limit, logs) ? 0 : await layerOf(limit.container));
      if (used !== undefined && exceeds(limit, used)) {
        return { key, message: containerEphemeralStorageMessage(limit), fields: { container: limit.container, limit: limit.limit, usedBytes: used } };
      }
    }
    return undefined;
  }

  /** The sum of the directories' usages, stopping once past the limit; undefined when one cannot be measured. */
  async function total(pod: Pod, key: string, dirs: { volume?: string; dir?: string }[], whole: Map<string, number>, limit: StorageLimit): Promise<number | undefined> {
    let sum = 0;
    for (const { volume, dir } of dirs) {
      if (exceeds(limit, sum)) break;
      const known = volume === undefined ? undefined : whole.get(volume);
      const used = known ?? (dir === undefined ? 0 : await usage(pod, key, dir, limit.limitBytes - sum));
      if (used === undefined) return undefined;
      sum += used;
    }
    return sum;
  }

  /** A container's writable layer as the runtime reports it; 0 without one, or when it cannot say (logged once per change). */
  async function writableLayer(pod: Pod, containerId: string | undefined): Promise<number> {
    if (!opts.writableLayerBytes || containerId === undefined) return 0;
    const key = `${pod.metadata!.uid}/layer/${containerId}`;
    try {
      const used = await opts.writableLayerBytes(containerId);
      failures.delete(key);
      return used ?? 0;
    } catch (err) {
      const message = errorMessage(err);
      if (failures.get(key) !== message && !stopped) log.warn({ pod: fullName(pod), podUID: pod.metadata!.uid, containerId, err: message }, 'Cannot read the writable layer usage of a container');
      failures.set(key, message);
      return 0;
    }
  }

  /** A directory's usage (a missing one uses nothing); undefined, logged once per change, when it cannot be read. */
  async function usage(pod: Pod, key: string, dir: string, stopAbove: number): Promise<number | undefined> {
    try {
      const used = await measure(dir, stopAbove, abort.signal);
      failures.delete(key);
      return used;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      if (stopped) return undefined;
      const message = errorMessage(err);
      if (failures.get(key) !== message) log.warn({ pod: fullName(pod), podUID: pod.metadata!.uid, dir, err: message }, 'Cannot measure local storage usage');
      failures.set(key, message);
      return undefined;
    }
  }

  function forgetGone(active: Set<string>): void {
    const gone = (key: string) => !active.has(key.slice(0, key.indexOf('/')));
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
