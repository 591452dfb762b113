/**
 * What the kubelet's eviction manager enforces on local storage per pod
 * (pkg/kubelet/eviction/eviction_manager.go localStorageEviction, emptyDirLimitEviction): an
 * emptyDir whose usage is above its `sizeLimit` gets the pod evicted. Pure: the usage is measured
 * elsewhere.
 */
import type { Pod } from '../api/types.js';
import { formatQuantity, parseQuantity } from '../manifest/index.js';

/** status.reason of an evicted pod and the reason of its event (eviction/helpers.go Reason). */
export const EVICTED_REASON = 'Evicted';

/** The grace period of a limit eviction (immediateEvictionGracePeriodSeconds); the kill floors it at 2 s. */
export const IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS = 1;

/** A disk-backed emptyDir with a positive sizeLimit. */
export interface EmptyDirLimit {
  volume: string;
  /** Usage above this many bytes exceeds the limit (the limit rounded down: usage is whole bytes). */
  limitBytes: number;
  /** The limit as the kubelet prints it (Quantity.String): `1Gi`, `500M`. */
  limit: string;
}

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
    const floor = q.num / q.den;
    const limitBytes = floor > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(floor);
    out.push({ volume: v.name, limitBytes, limit: formatQuantity(q) });
  }
  return out;
}

/** Whether `usedBytes` exceeds the limit (`used.Cmp(size) > 0`: strictly above). */
export function exceeds(limit: EmptyDirLimit, usedBytes: number): boolean {
  return usedBytes > limit.limitBytes;
}

/**
 * The kubelet's eviction message for an emptyDir over its limit (helpers.go emptyDirMessageFmt,
 * `Usage of EmptyDir volume %q exceeds the limit %q. `), its trailing space included.
 */
export function emptyDirMessage(limit: EmptyDirLimit): string {
  return `Usage of EmptyDir volume ${goQuote(limit.volume)} exceeds the limit ${goQuote(limit.limit)}. `;
}

/** Go's %q for the strings used here (DNS labels, quantities): JSON's quoting is the same for them. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}
