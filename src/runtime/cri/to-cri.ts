import type { ContainerConfig, NamespaceMode, PodSandboxConfig } from '../types.js';
import type * as cri from './api-types.js';

/** Label on every sandbox and container nodelet creates: which nodelet (root dir) owns it. */
export const OWNER_LABEL = 'nodelet.io/owner';
/** The owner label value of the nodelet with a root dir: {@link ownerOf} of it. */
export { ownerOf } from '../owner.js';

/** Sandbox annotation holding the pod's log directory, which ListPodSandbox does not return. */
export const LOG_DIRECTORY_ANNOTATION = 'nodelet.io/log-directory';

const NAMESPACE_MODES: Record<NamespaceMode, cri.NamespaceMode> = { pod: 'POD', container: 'CONTAINER', node: 'NODE' };
const PROPAGATION = {
  private: 'PROPAGATION_PRIVATE',
  hostToContainer: 'PROPAGATION_HOST_TO_CONTAINER',
  bidirectional: 'PROPAGATION_BIDIRECTIONAL',
} as const;

/** The CRI PodSandboxConfig of a sandbox (kuberuntime_sandbox.go generatePodSandboxConfig). */
export function criSandboxConfig(c: PodSandboxConfig, owner: string): cri.PodSandboxConfig {
  const linux = c.linux;
  const ns = linux?.namespaces ?? { network: c.hostNetwork ? 'node' : 'pod', pid: 'container', ipc: 'pod' };
  return {
    metadata: { name: c.name, uid: c.uid, namespace: c.namespace, attempt: c.attempt },
    // Host-network pods take the node's hostname: the runtime is given none (kuberuntime_sandbox.go).
    hostname: ns.network === 'node' ? '' : c.hostname,
    log_directory: c.logDirectory,
    dns_config: c.dnsConfig,
    port_mappings: (c.portMappings ?? []).map((p) => ({ protocol: p.protocol, container_port: p.containerPort, host_port: p.hostPort, host_ip: p.hostIP })),
    labels: {
      ...c.labels,
      'io.kubernetes.pod.name': c.name,
      'io.kubernetes.pod.namespace': c.namespace,
      'io.kubernetes.pod.uid': c.uid,
      [OWNER_LABEL]: owner,
    },
    annotations: { ...c.annotations, [LOG_DIRECTORY_ANNOTATION]: c.logDirectory },
    linux: {
      security_context: {
        namespace_options: { network: NAMESPACE_MODES[ns.network], pid: NAMESPACE_MODES[ns.pid], ipc: NAMESPACE_MODES[ns.ipc] },
        run_as_user: linux?.runAsUser !== undefined ? { value: linux.runAsUser } : undefined,
        run_as_group: linux?.runAsGroup !== undefined ? { value: linux.runAsGroup } : undefined,
        supplemental_groups: linux?.supplementalGroups ?? [],
        privileged: linux?.privileged ?? false,
      },
      sysctls: linux?.sysctls ?? {},
    },
  };
}

/** The CRI ContainerConfig of a container (kuberuntime_container.go generateContainerConfig). */
export function criContainerConfig(c: ContainerConfig, owner: string, namespaces: cri.NamespaceOptionInput | undefined): cri.ContainerConfig {
  const sec = c.security;
  const res = c.resources;
  return {
    metadata: { name: c.name, attempt: c.attempt },
    image: { image: c.image },
    // Kubernetes command/args are the image's entrypoint/cmd overrides, passed as they are: the runtime
    // merges them with the image config (an empty command keeps the image's entrypoint).
    command: c.command,
    args: c.args,
    working_dir: c.workingDir,
    envs: c.env.map((e) => ({ key: e.name, value: e.value })),
    mounts: (c.mounts ?? []).map((m) => ({
      container_path: m.containerPath,
      host_path: m.hostPath,
      readonly: m.readonly,
      propagation: PROPAGATION[m.propagation],
    })),
    labels: { ...c.labels, [OWNER_LABEL]: owner },
    annotations: c.annotations,
    log_path: c.logPath,
    stdin: c.stdin ?? false,
    stdin_once: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    linux: {
      resources: res && {
        cpu_period: res.cpuPeriod,
        cpu_quota: res.cpuQuota,
        cpu_shares: res.cpuShares,
        memory_limit_in_bytes: res.memoryLimitBytes,
        oom_score_adj: res.oomScoreAdj,
      },
      security_context: sec && {
        capabilities: { add_capabilities: sec.capabilities.add, drop_capabilities: sec.capabilities.drop },
        privileged: sec.privileged,
        // A container shares the sandbox's namespaces (the kubelet sends the pod's namespace options).
        namespace_options: namespaces,
        run_as_user: sec.runAsUser !== undefined ? { value: sec.runAsUser } : undefined,
        run_as_group: sec.runAsGroup !== undefined ? { value: sec.runAsGroup } : undefined,
        readonly_rootfs: sec.readonlyRootfs,
        supplemental_groups: sec.supplementalGroups,
        no_new_privs: sec.noNewPrivs,
        masked_paths: sec.maskedPaths,
        readonly_paths: sec.readonlyPaths,
      },
    },
  };
}
