/**
 * What the kubelet's eviction manager enforces on local storage per pod
 * (pkg/kubelet/eviction/eviction_manager.go localStorageEviction), in its order: an emptyDir whose
 * usage is above its `sizeLimit` (emptyDirLimitEviction), a pod whose local ephemeral storage is
 * above the total of its containers' `ephemeral-storage` limits (podEphemeralStorageLimitEviction),
 * a container whose own usage is above its limit (containerEphemeralStorageLimitEviction). Each gets
 * the pod evicted. Pure: the usage is measured elsewhere.
 */
import type { Container, Pod } from '../api/types.js';
import { addQuantities, compareQuantities, formatQuantity, parseQuantity, type Quantity } from '../manifest/index.js';

/** status.reason of an evicted pod and the reason of its event (eviction/helpers.go Reason). */
export const EVICTED_REASON = 'Evicted';

/** The grace period of a limit eviction (immediateEvictionGracePeriodSeconds); the kill floors it at 2 s. */
export const IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS = 1;

/** A limit on bytes of storage. */
export interface StorageLimit {
  /** Usage above this many bytes exceeds the limit (the limit rounded down: usage is whole bytes). */
  limitBytes: number;
  /** The limit as the kubelet prints it (Quantity.String): `1Gi`, `500M`. */
  limit: string;
}

/** A disk-backed emptyDir with a positive sizeLimit. */
export interface EmptyDirLimit extends StorageLimit {
  volume: string;
}

/** A container with a non-zero `limits.ephemeral-storage`. */
export interface ContainerStorageLimit extends StorageLimit {
  container: string;
}

const EPHEMERAL_STORAGE = 'ephemeral-storage';

/**
 * The emptyDir volumes of a pod that carry a positive `sizeLimit`, in spec order, as
 * emptyDirLimitEviction walks them. `medium: Memory` is left out: its tmpfs is mounted with
 * `size=<sizeLimit>` (volumes/memory-medium.ts), so its usage cannot pass the limit.
 */
export function emptyDirLimits(pod: Pod): EmptyDirLimit[] {
  const out: EmptyDirLimit[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    const ed = v.emptyDir;
    if (!ed || ed.medium === 'Memory' || ed.sizeLimit == null) continue;
    const q = parseQuantity(ed.sizeLimit as string | number);
    if (!q || q.num <= 0n) continue;
    out.push({ volume: v.name, ...storageLimit(q) });
  }
  return out;
}

/**
 * The pod's `ephemeral-storage` limit: its containers' limits as resourcehelper.PodLimits adds them
 * (regular and sidecar containers summed, each other init container's limit, with the sidecars
 * started before it, taken when larger). Undefined when no container has one.
 */
export function podEphemeralStorageLimit(pod: Pod): StorageLimit | undefined {
  const add = (a: Quantity | undefined, b: Quantity | undefined) => (a && b ? addQuantities(a, b) : (a ?? b));
  const max = (a: Quantity | undefined, b: Quantity | undefined) => (a && b ? (compareQuantities(b, a) > 0 ? b : a) : (a ?? b));
  let total: Quantity | undefined;
  for (const c of pod.spec?.containers ?? []) total = add(total, ephemeralLimit(c));
  // An init container runs beside the sidecars started before it; the largest such moment counts.
  let sidecars: Quantity | undefined;
  let initPeak: Quantity | undefined;
  for (const c of pod.spec?.initContainers ?? []) {
    const limit = ephemeralLimit(c);
    if (c.restartPolicy === 'Always') {
      total = add(total, limit);
      sidecars = add(sidecars, limit);
      initPeak = max(initPeak, sidecars);
    } else {
      initPeak = max(initPeak, add(limit, sidecars));
    }
  }
  total = max(total, initPeak);
  return total ? storageLimit(total) : undefined;
}

/** The regular containers with a non-zero `limits.ephemeral-storage`, in spec order. */
export function containerEphemeralStorageLimits(pod: Pod): ContainerStorageLimit[] {
  const out: ContainerStorageLimit[] = [];
  for (const c of pod.spec?.containers ?? []) {
    const q = ephemeralLimit(c);
    if (q && q.num !== 0n) out.push({ container: c.name, ...storageLimit(q) });
  }
  return out;
}

/**
 * The volumes whose usage counts as the pod's local ephemeral storage (volume/util
 * IsLocalEphemeralVolume: disk-backed emptyDir, downwardAPI; projected is written the same way here).
 * hostPath is the node's, a memory-backed emptyDir is RAM.
 */
export function localEphemeralVolumes(pod: Pod): string[] {
  return (pod.spec?.volumes ?? [])
    .filter((v) => !v.hostPath && v.emptyDir?.medium !== 'Memory')
    .map((v) => v.name);
}

function ephemeralLimit(c: Container): Quantity | undefined {
  const raw = c.resources?.limits?.[EPHEMERAL_STORAGE] as string | number | undefined;
  return raw === undefined ? undefined : parseQuantity(raw);
}

function storageLimit(q: Quantity): StorageLimit {
  const floor = q.num / q.den;
  const limitBytes = floor > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(floor);
  return { limitBytes, limit: formatQuantity(q) };
}

/** Whether `usedBytes` exceeds the limit (`used.Cmp(size) > 0`: strictly above). */
export function exceeds(limit: StorageLimit, usedBytes: number): boolean {
  return usedBytes > limit.limitBytes;
}

/**
 * The kubelet's eviction message for an emptyDir over its limit (helpers.go emptyDirMessageFmt,
 * `Usage of EmptyDir volume %q exceeds the limit %q. `), its trailing space included.
 */
export function emptyDirMessage(limit: EmptyDirLimit): string {
  return `Usage of EmptyDir volume ${goQuote(limit.volume)} exceeds the limit ${goQuote(limit.limit)}. `;
}

/** The message of a pod over its containers' total (podEphemeralStorageMessageFmt): the limit unquoted. */
export function podEphemeralStorageMessage(limit: StorageLimit): string {
  return `Pod ephemeral local storage usage exceeds the total limit of containers ${limit.limit}. `;
}

/** The message of a container over its own limit (containerEphemeralStorageMessageFmt). */
export function containerEphemeralStorageMessage(limit: ContainerStorageLimit): string {
  return `Container ${limit.container} exceeded its local ephemeral storage limit ${goQuote(limit.limit)}. `;
}

/** Go's %q for the strings used here (DNS labels, quantities): JSON's quoting is the same for them. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}
