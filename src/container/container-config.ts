import path from 'node:path';
import type { Container, Pod } from '../api/types.js';
import { NodeletError } from '../errors.js';
import type { ContainerConfig, DnsConfig, EnvPair, Mount, PodSandboxConfig, PortMapping } from '../runtime/types.js';
import { podDnsConfig } from './dns-config.js';
import { expand } from './expansion.js';
import { containerResources, podCgroupResources } from './linux-resources.js';
import { containerSecurity, sandboxLinux } from './security-context.js';

/** Node facts a container's environment can refer to through fieldRef. */
export interface NodeFacts {
  nodeName: string;
  hostIP: string;
  /** Host network only on the process runtime, so the pod IP is the host IP. */
  podIP: string;
  /** For the burstable OOM score (qos/policy.go). */
  memoryCapacityBytes: number;
  /** The kubelet's cpuCFSQuota: CPU limits become a CFS quota. Default true. */
  cpuCFSQuota?: boolean;
  /** The host's resolv.conf: what pods get under dnsPolicy Default, and ClusterFirst without cluster DNS. */
  hostDns: DnsConfig;
}

/** The sandbox config of a pod: the CRI PodSandboxConfig the kubelet builds (kuberuntime_sandbox.go). */
export function sandboxConfig(pod: Pod, podLogsDir: string, attempt: number, node: NodeFacts): PodSandboxConfig {
  const meta = pod.metadata!;
  const hostNetwork = pod.spec?.hostNetwork ?? false;
  return {
    uid: meta.uid!,
    name: meta.name!,
    namespace: meta.namespace ?? 'default',
    attempt,
    logDirectory: path.join(podLogsDir, `${meta.namespace ?? 'default'}_${meta.name}_${meta.uid}`),
    hostname: hostNetwork ? '' : (pod.spec?.hostname ?? meta.name!),
    hostNetwork,
    labels: { ...(meta.labels ?? {}) },
    // The pod itself rides along: a restarted nodelet must be able to stop it with its own grace period
    // and preStop hooks after its manifest has gone (the kubelet keeps these in container labels).
    annotations: { ...(meta.annotations ?? {}), [SANDBOX_POD_ANNOTATION]: JSON.stringify(pod) },
    dnsConfig: podDnsConfig(pod, node.hostDns),
    portMappings: portMappings(pod),
    // The pod cgroup's limits ride on the sandbox, as CRI LinuxPodSandboxConfig.resources.
    linux: { ...sandboxLinux(pod), resources: podCgroupResources(pod, node.cpuCFSQuota ?? true) },
  };
}

/** The hostPorts of every container (kuberuntime_sandbox.go: containerPorts with a hostPort). */
function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({ protocol: (p.protocol ?? 'TCP') as PortMapping['protocol'], containerPort: p.containerPort, hostPort: p.hostPort, hostIP: p.hostIP ?? '' });
    }
  }
  return out;
}

/** The sandbox annotation holding the pod the sandbox was created for. */
export const SANDBOX_POD_ANNOTATION = 'nodelet.io/pod';

/** The pod a sandbox was created for, or undefined when the annotation is missing or unreadable. */
export function podOfSandbox(annotations: Record<string, string>): Pod | undefined {
  const raw = annotations[SANDBOX_POD_ANNOTATION];
  if (!raw) return undefined;
  try {
    const pod = JSON.parse(raw) as Pod;
    return pod?.metadata?.uid && Array.isArray(pod.spec?.containers) ? pod : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The container config of one attempt of `container`: environment resolved in order with `$(VAR)`
 * expansion and fieldRef values, then command and args expanded against it (kuberuntime's
 * generateContainerConfig + kubelet_pods.go makeEnvironmentVariables). Throws CreateContainerConfigError
 * for a reference it cannot resolve.
 */
export function containerConfig(pod: Pod, container: Container, attempt: number, node: NodeFacts, mounts: Mount[] = []): ContainerConfig {
  const env = resolveEnv(pod, container, node);
  const values = new Map(env.map((e) => [e.name, e.value]));
  const lookup = (n: string) => values.get(n);
  return {
    name: container.name,
    attempt,
    image: container.image ?? '',
    command: (container.command ?? []).map((s) => expand(s, lookup)),
    args: (container.args ?? []).map((s) => expand(s, lookup)),
    env,
    workingDir: container.workingDir ?? '',
    logPath: path.join(container.name, `${attempt}.log`),
    labels: {
      'io.kubernetes.pod.name': pod.metadata!.name!,
      'io.kubernetes.pod.namespace': pod.metadata!.namespace ?? 'default',
      'io.kubernetes.pod.uid': pod.metadata!.uid!,
      'io.kubernetes.container.name': container.name,
    },
    annotations: { 'io.kubernetes.container.restartCount': String(attempt) },
    mounts,
    resources: containerResources(pod, container, node.memoryCapacityBytes, node.cpuCFSQuota ?? true),
    security: containerSecurity(pod, container),
    stdin: container.stdin ?? false,
    stdinOnce: container.stdinOnce ?? false,
    tty: container.tty ?? false,
  };
}

function resolveEnv(pod: Pod, container: Container, node: NodeFacts): EnvPair[] {
  const values = new Map<string, string>();
  const order: string[] = [];
  const set = (name: string, value: string) => {
    if (!values.has(name)) order.push(name);
    values.set(name, value);
  };
  for (const [i, e] of (container.env ?? []).entries()) {
    if (e.valueFrom) {
      set(e.name, resolveValueFrom(pod, container, e.valueFrom, node, `env[${i}]`));
    } else {
      set(e.name, expand(e.value ?? '', (n) => values.get(n)));
    }
  }
  return order.map((name) => ({ name, value: values.get(name)! }));
}

function resolveValueFrom(
  pod: Pod,
  container: Container,
  from: NonNullable<NonNullable<Container['env']>[number]['valueFrom']>,
  node: NodeFacts,
  where: string,
): string {
  if (from.fieldRef) return fieldValue(pod, from.fieldRef.fieldPath, node, `${container.name} ${where}`);
  if (from.resourceFieldRef) {
    const res = from.resourceFieldRef.resource;
    const value = resourceFieldValue(container, res);
    if (value !== undefined) return value;
    // Without a limit the kubelet reports node allocatable; we have none to report, so say so clearly.
    throw new NodeletError('CreateContainerConfigError', `container ${container.name} ${where}: ${res} is not set`);
  }
  throw new NodeletError(
    'CreateContainerConfigError',
    `container ${container.name} ${where}: static pods may only use fieldRef and resourceFieldRef`,
  );
}

/** The value of a downward-API resourceFieldRef (`limits.cpu`, `requests.memory`, …), or undefined when unset. */
export function resourceFieldValue(container: Container | undefined, resource: string): string | undefined {
  const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
  const q = container?.resources?.[kind]?.[name];
  return q === undefined ? undefined : String(q);
}

/** The value of a downward-API fieldPath (pkg/fieldpath/fieldpath.go ExtractFieldPathAsString). */
export function fieldValue(pod: Pod, fieldPath: string, node: NodeFacts, where: string): string {
  const meta = pod.metadata!;
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (keyed) {
    const map = keyed[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[keyed[2]!] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? 'default';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? node.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return node.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return node.podIP;
  }
  throw new NodeletError('CreateContainerConfigError', `${where}: unsupported fieldRef fieldPath "${fieldPath}"`);
}

function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map![k])}`)
    .join('\n');
}
