import { ConfigMirrorAnnotation, ConfigSourceAnnotation, type Container, type Pod } from '../api/types.js';
import { parseQuantity, type Quantity } from '../manifest/quantity.js';
import type { ContainerResources } from '../runtime/types.js';

// pkg/kubelet/cm/helpers_linux.go and pkg/kubelet/qos/policy.go.
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;
const SHARES_PER_CPU = 1024;
const QUOTA_PERIOD_US = 100_000;
const MIN_QUOTA_US = 1_000;
/** policy.go guaranteedOOMScoreAdj and besteffortOOMScoreAdj. */
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
    oomScoreAdj: containerOomScoreAdj(pod, container, memoryCapacityBytes),
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

/**
 * The QoS class of a pod (pkg/apis/core/v1/helper/qos GetPodQOS): `status.qosClass` when the pod has
 * one (the API server sets it at creation, and it never changes), else computed from its containers,
 * init containers included. Per container: BestEffort when neither cpu nor memory has a non-zero
 * request or limit, Guaranteed when both have a limit equal to their request, Burstable otherwise; the
 * pod is that class when all its containers are, else Burstable. A zero quantity counts as unset.
 * Requests default to limits, as the API server's defaulting makes them. Pod-level `spec.resources`
 * is not read (nowhere in nodelet).
 */
export function qosClass(pod: Pod): QosClass {
  const recorded = pod.status?.qosClass;
  if (recorded === 'Guaranteed' || recorded === 'Burstable' || recorded === 'BestEffort') return recorded;
  // Asked at every status of every pod (GET /pods, each sync): computed once per pod object, whose
  // spec never changes (an edit is a new object).
  let known = computedQos.get(pod);
  if (known === undefined) computedQos.set(pod, (known = computeQos(pod)));
  return known;
}

const computedQos = new WeakMap<Pod, QosClass>();

function computeQos(pod: Pod): QosClass {
  let podQos: QosClass | undefined;
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    const qos = containerQos(c);
    if (qos === 'Burstable') return qos;
    if (podQos === undefined) podQos = qos;
    else if (podQos !== qos) return 'Burstable';
  }
  return podQos ?? 'BestEffort';
}

/** One container's class (qos.go resourceQOS). */
function containerQos(c: Container): QosClass {
  let qos: QosClass | undefined;
  for (const r of ['cpu', 'memory']) {
    const req = fraction(request(c, r));
    const lim = fraction(c.resources?.limits?.[r]);
    if (!equal(req, lim)) return 'Burstable';
    const bestEffort = req.num === 0n;
    if (qos === undefined) qos = bestEffort ? 'BestEffort' : 'Guaranteed';
    else if (bestEffort !== (qos === 'BestEffort')) return 'Burstable';
  }
  return qos!;
}

/** scheduling.SystemCriticalPriority: the priority of system-cluster-critical; system-node-critical's is 1000 more. */
const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

/**
 * Whether the kubelet treats a pod as critical (pkg/kubelet/types/pod_update.go IsCriticalPod): a
 * static pod (a config source other than the API server), a mirror pod, or a priority of at least
 * system-cluster-critical's.
 */
export function isCriticalPod(pod: Pod): boolean {
  const annotations = pod.metadata?.annotations ?? {};
  const source = annotations[ConfigSourceAnnotation];
  if (source !== undefined && source !== 'api') return true;
  if (annotations[ConfigMirrorAnnotation] !== undefined) return true;
  return (pod.spec?.priority ?? Number.NEGATIVE_INFINITY) >= SYSTEM_CRITICAL_PRIORITY;
}

/**
 * Whether a pod is node-critical (pod_update.go IsNodeCriticalPod): critical, and of the priority
 * class system-node-critical. A static pod is critical by its source alone, so on a lone node the
 * class name decides.
 */
export function isNodeCriticalPod(pod: Pod): boolean {
  return isCriticalPod(pod) && pod.spec?.priorityClassName === 'system-node-critical';
}

/**
 * The oom_score_adj of a container's processes (pkg/kubelet/qos/policy.go GetContainerOOMScoreAdjust):
 * -997 for a node-critical pod and for a Guaranteed one, 1000 for BestEffort. A Burstable container
 * gets 1000 − 1000 × its memory request / the node's memory (a container asking for 10% of the node
 * gets 900), a sidecar (a restartable init container) no more than the regular container with the
 * smallest request, all within [3, 999]: above Guaranteed's, below BestEffort's. Pod-level requests
 * (the PodLevelResources gate) are not read, as nowhere else in nodelet.
 */
export function containerOomScoreAdj(pod: Pod, container: Container, memoryCapacityBytes: number): number {
  if (isNodeCriticalPod(pod)) return GUARANTEED_OOM_SCORE_ADJ;
  switch (qosClass(pod)) {
    case 'Guaranteed':
      return GUARANTEED_OOM_SCORE_ADJ;
    case 'BestEffort':
      return BEST_EFFORT_OOM_SCORE_ADJ;
    case 'Burstable':
      break;
  }
  // Go's int64 arithmetic, exactly: BigInt, and a division that truncates. A capacity of 0 (unknown)
  // would divide by zero in the kubelet; here it counts every request as nothing.
  const capacity = BigInt(Math.max(0, Math.floor(memoryCapacityBytes)));
  const adjFor = (requestBytes: bigint) => 1000n - (capacity > 0n ? (1000n * requestBytes) / capacity : 0n);
  let adj = adjFor(memoryRequestBytes(container));
  if (isSidecar(pod, container)) {
    const regular = pod.spec?.containers ?? [];
    if (regular.length > 0) {
      const smallest = regular.map(memoryRequestBytes).reduce((a, b) => (b < a ? b : a));
      const cap = adjFor(smallest);
      if (adj > cap) adj = cap;
    }
  }
  if (adj < BigInt(1000 + GUARANTEED_OOM_SCORE_ADJ)) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BigInt(BEST_EFFORT_OOM_SCORE_ADJ)) return BEST_EFFORT_OOM_SCORE_ADJ - 1;
  return Number(adj);
}

/** policy.go isSidecarContainer: restartPolicy Always, and an init container of the pod by that name. */
function isSidecar(pod: Pod, container: Container): boolean {
  return container.restartPolicy === 'Always' && (pod.spec?.initContainers ?? []).some((c) => c.name === container.name);
}

/** The memory request in bytes, rounded up as Quantity.Value() does. */
function memoryRequestBytes(c: Container): bigint {
  const q = fraction(request(c, 'memory'));
  return q.num / q.den + (q.num % q.den > 0n ? 1n : 0n);
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

function equal(a: Fraction, b: Fraction): boolean {
  return a.num * b.den === b.num * a.den;
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
