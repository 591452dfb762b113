import type { Container, Pod } from '../api/types.js';
import { parseQuantity, type Quantity } from '../manifest/quantity.js';
import type { ContainerResources } from '../runtime/types.js';

// pkg/kubelet/cm/helpers_linux.go and pkg/kubelet/qos/policy.go.
const MIN_SHARES = 2;
const SHARES_PER_CPU = 1024;
const QUOTA_PERIOD_US = 100_000;
const MIN_QUOTA_US = 1_000;
const GUARANTEED_OOM_SCORE_ADJ = -997;
const BEST_EFFORT_OOM_SCORE_ADJ = 1000;

/** The Kubernetes QoS class of a pod (pkg/apis/core/helper/qos). */
export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/**
 * The cgroup settings of a container from its requests and limits (kuberuntime_container_linux.go
 * calculateLinuxResources), with the OOM score the kubelet gives its QoS class.
 */
export function containerResources(pod: Pod, container: Container, memoryCapacityBytes: number): ContainerResources {
  const cpuRequest = milli(request(container, 'cpu'));
  const cpuLimit = milli(container.resources?.limits?.cpu);
  const memoryLimit = whole(container.resources?.limits?.memory);
  return {
    cpuShares: Math.max(MIN_SHARES, Math.floor((cpuRequest * SHARES_PER_CPU) / 1000)),
    cpuQuota: cpuLimit === 0 ? 0 : Math.max(MIN_QUOTA_US, Math.floor((cpuLimit * QUOTA_PERIOD_US) / 1000)),
    cpuPeriod: QUOTA_PERIOD_US,
    memoryLimitBytes: memoryLimit,
    oomScoreAdj: oomScoreAdj(pod, container, memoryCapacityBytes),
  };
}

/** The QoS class of a pod: Guaranteed when every container has equal cpu and memory requests and limits. */
export function qosClass(pod: Pod): QosClass {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    for (const r of ['cpu', 'memory']) {
      const req = request(c, r);
      const lim = c.resources?.limits?.[r];
      if (req !== undefined || lim !== undefined) any = true;
      if (lim === undefined || req === undefined || milli(req) !== milli(lim)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function oomScoreAdj(pod: Pod, container: Container, memoryCapacityBytes: number): number {
  if (pod.spec?.priorityClassName === 'system-node-critical') return GUARANTEED_OOM_SCORE_ADJ;
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BEST_EFFORT_OOM_SCORE_ADJ;
  // Burstable: the more memory a container asks for, the less likely it is to be killed, within [2, 999].
  const memRequest = whole(request(container, 'memory'));
  if (memoryCapacityBytes <= 0) return 999;
  const adj = 1000 - Math.floor((1000 * memRequest) / memoryCapacityBytes);
  return Math.min(999, Math.max(2, adj));
}

/** The request, defaulted from the limit as the API server's defaulting does. */
function request(c: Container, resource: string): string | number | undefined {
  return c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource];
}

function milli(v: string | number | undefined): number {
  const q = v === undefined ? undefined : parseQuantity(v);
  return q ? ceilDiv(q, 1000n) : 0;
}

function whole(v: string | number | undefined): number {
  const q = v === undefined ? undefined : parseQuantity(v);
  return q ? ceilDiv(q, 1n) : 0;
}

/** ceil(q × scale), as Quantity.MilliValue / Value round up. */
function ceilDiv(q: Quantity, scale: bigint): number {
  const n = q.num * scale;
  const v = n / q.den + (n % q.den > 0n ? 1n : 0n);
  return Number(v);
}
