import type { Container, Pod } from '../api/types.js';
import { parseQuantity, type Quantity } from '../manifest/quantity.js';
import type { ContainerResources } from '../runtime/types.js';

// pkg/kubelet/cm/helpers_linux.go and pkg/kubelet/qos/policy.go.
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;
const SHARES_PER_CPU = 1024;
const QUOTA_PERIOD_US = 100_000;
const MIN_QUOTA_US = 1_000;
const GUARANTEED_OOM_SCORE_ADJ = -997;
const BEST_EFFORT_OOM_SCORE_ADJ = 1000;

/** The Kubernetes QoS class of a pod (pkg/apis/core/helper/qos). */
export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/**
 * The cgroup settings of a container from its requests and limits (kuberuntime_container_linux.go
 * calculateLinuxResources), with the OOM score the kubelet gives its QoS class. Without
 * `enforceCpuLimits` (the kubelet's cpuCFSQuota: false) a CPU limit sets no quota.
 */
export function containerResources(pod: Pod, container: Container, memoryCapacityBytes: number, enforceCpuLimits = true): ContainerResources {
  const cpuRequest = milli(request(container, 'cpu'));
  const cpuLimit = enforceCpuLimits ? milli(container.resources?.limits?.cpu) : 0;
  const memoryLimit = whole(container.resources?.limits?.memory);
  return {
    cpuShares: Math.max(MIN_SHARES, Math.floor((cpuRequest * SHARES_PER_CPU) / 1000)),
    cpuQuota: cpuLimit === 0 ? 0 : Math.max(MIN_QUOTA_US, Math.floor((cpuLimit * QUOTA_PERIOD_US) / 1000)),
    cpuPeriod: QUOTA_PERIOD_US,
    memoryLimitBytes: memoryLimit,
    oomScoreAdj: oomScoreAdj(pod, container, memoryCapacityBytes),
  };
}

/**
 * The cgroup settings of a pod's own cgroup (the parent of its containers' cgroups): what the kubelet
 * writes for a pod in pkg/kubelet/cm/helpers_linux.go ResourceConfigForPod. 0 means unset (no quota,
 * no memory limit).
 */
export interface PodCgroupResources {
  /** cpu.shares from the pod's CPU request (2 for a BestEffort pod). */
  cpuShares: number;
  /** CFS quota in µs per period from the pod's CPU limit; 0 = unlimited. */
  cpuQuota: number;
  cpuPeriod: number;
  /** 0 = unlimited. */
  memoryLimitBytes: number;
}

/**
 * The settings of a pod's cgroup from its containers, as the kubelet computes them
 * (pkg/kubelet/cm/helpers_linux.go ResourceConfigForPod over component-helpers PodRequests/PodLimits):
 * the pod's request or limit is the larger of the sum over its containers (restartable init
 * containers, i.e. sidecars, included) and what any init container needs while it runs; pod overhead
 * is added. CPU quota and memory limit are set only when every container declares that limit, since
 * one unlimited container makes the pod unlimited. Pod-level `spec.resources` is not read. Without
 * `enforceCpuLimits` (cpuCFSQuota: false) there is no quota, as ResourceConfigForPod's enforceCPULimits.
 */
export function podCgroupResources(pod: Pod, enforceCpuLimits = true): PodCgroupResources {
  const cpuRequest = ceilDiv(podAmount(pod, 'cpu', request), 1000n);
  let cpuLimitsDeclared = true;
  let memoryLimitsDeclared = true;
  const limitOf = (c: Container, r: string) => {
    const v = c.resources?.limits?.[r];
    if (r === 'cpu' && milli(v) === 0) cpuLimitsDeclared = false;
    if (r === 'memory' && whole(v) === 0) memoryLimitsDeclared = false;
    return v;
  };
  const cpuLimit = ceilDiv(podAmount(pod, 'cpu', limitOf), 1000n);
  const memoryLimit = ceilDiv(podAmount(pod, 'memory', limitOf), 1n);
  const shares = cpuRequest === 0 ? MIN_SHARES : Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((cpuRequest * SHARES_PER_CPU) / 1000)));
  const quota = cpuLimit === 0 || !enforceCpuLimits ? 0 : Math.max(MIN_QUOTA_US, Math.floor((cpuLimit * QUOTA_PERIOD_US) / 1000));
  const unset = { cpuShares: shares, cpuQuota: 0, cpuPeriod: QUOTA_PERIOD_US, memoryLimitBytes: 0 };
  switch (qosClass(pod)) {
    case 'Guaranteed':
      return { ...unset, cpuQuota: quota, memoryLimitBytes: memoryLimit };
    case 'Burstable':
      return { ...unset, cpuQuota: cpuLimitsDeclared ? quota : 0, memoryLimitBytes: memoryLimitsDeclared ? memoryLimit : 0 };
    case 'BestEffort':
      return { ...unset, cpuShares: MIN_SHARES };
  }
}

/**
 * The pod's total of one resource, exactly (component-helpers resource/helpers.go
 * AggregateContainerRequests/Limits): regular containers and sidecars add up; a plain init container
 * runs alone beside the sidecars started before it, so the pod needs the larger of the two totals.
 * Overhead is added to a request always, to a limit only when some container set one.
 */
function podAmount(pod: Pod, resource: string, amountOf: (c: Container, r: string) => string | number | undefined): Fraction {
  let total = ZERO;
  let any = false;
  const of = (c: Container) => {
    const v = amountOf(c, resource);
    if (v !== undefined) any = true;
    return fraction(v);
  };
  for (const c of pod.spec?.containers ?? []) total = add(total, of(c));
  let sidecars = ZERO;
  let initPeak = ZERO;
  for (const c of pod.spec?.initContainers ?? []) {
    const own = of(c);
    if (c.restartPolicy === 'Always') {
      total = add(total, own);
      sidecars = add(sidecars, own);
      initPeak = max(initPeak, sidecars);
    } else {
      initPeak = max(initPeak, add(own, sidecars));
    }
  }
  total = max(total, initPeak);
  const overhead = pod.spec?.overhead?.[resource];
  if (overhead !== undefined && (amountOf === request || any)) total = add(total, fraction(overhead));
  return total;
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

/** An exact non-negative amount, `num / den`. */
type Fraction = Pick<Quantity, 'num' | 'den'>;

const ZERO: Fraction = { num: 0n, den: 1n };

function fraction(v: string | number | undefined): Fraction {
  return (v === undefined ? undefined : parseQuantity(v)) ?? ZERO;
}

function add(a: Fraction, b: Fraction): Fraction {
  return { num: a.num * b.den + b.num * a.den, den: a.den * b.den };
}

function max(a: Fraction, b: Fraction): Fraction {
  return a.num * b.den >= b.num * a.den ? a : b;
}

/** ceil(q × scale), as Quantity.MilliValue / Value round up. */
function ceilDiv(q: Fraction, scale: bigint): number {
  const n = q.num * scale;
  const v = n / q.den + (n % q.den > 0n ? 1n : 0n);
  return Number(v);
}
