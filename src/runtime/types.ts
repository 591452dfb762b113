/**
 * The runtime interface: the only way the rest of nodelet touches processes or containers. Shaped like
 * the CRI RuntimeService (sandbox + containers), so the process runtime and the CRI runtime are
 * interchangeable and the pod workers never ask which one they have.
 */

/** What a pod sandbox is created from (CRI PodSandboxConfig, the subset we use). */
export interface PodSandboxConfig {
  uid: string;
  name: string;
  namespace: string;
  attempt: number;
  /** `<podLogsDir>/<ns>_<name>_<uid>`; container log paths are relative to it. */
  logDirectory: string;
  hostname: string;
  hostNetwork: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** DNS for the pod's resolv.conf; undefined = the runtime copies the host's (dnsPolicy Default). */
  dnsConfig?: DnsConfig;
  // Optional, as the container config's CRI-only fields below.
  /** hostPort mappings of every container (CRI PortMapping). */
  portMappings?: PortMapping[];
  /** Pod-level Linux settings (CRI LinuxSandboxSecurityContext and sysctls). */
  linux?: SandboxLinuxConfig;
}

/** The resolver settings of a pod (CRI DNSConfig). */
export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

/** One hostPort of a container (CRI PortMapping). */
export interface PortMapping {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort: number;
  hostIP: string;
}

/** A namespace is the pod's own (`pod`), one per container (`container`), or the host's (`node`). */
export type NamespaceMode = 'pod' | 'container' | 'node';

/** Pod-level Linux settings. */
export interface SandboxLinuxConfig {
  namespaces: { network: NamespaceMode; pid: NamespaceMode; ipc: NamespaceMode };
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups: number[];
  /** Any container of the pod is privileged: the sandbox must be too (kuberuntime_sandbox.go). */
  privileged: boolean;
  sysctls: Record<string, string>;
  /** The limits of the pod's own cgroup (CRI LinuxPodSandboxConfig.resources); undefined = none. */
  resources?: PodResources;
}

/**
 * The limits of a pod's cgroup, the parent of its containers' (the kubelet's ResourceConfigForPod,
 * computed in container/linux-resources.ts podCgroupResources). 0 means unset.
 */
export interface PodResources {
  cpuShares: number;
  /** CFS quota in µs per period; 0 = unlimited. */
  cpuQuota: number;
  cpuPeriod: number;
  /** 0 = unlimited. */
  memoryLimitBytes: number;
}

/** A volume mounted into a container (CRI Mount). */
export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
  propagation: 'private' | 'hostToContainer' | 'bidirectional';
}

/** Resource limits of a container (CRI LinuxContainerResources, the subset the kubelet fills). */
export interface ContainerResources {
  /** cgroup cpu.shares from the CPU request (minimum 2). */
  cpuShares: number;
  /** CFS quota in µs per period from the CPU limit; 0 = unlimited. */
  cpuQuota: number;
  cpuPeriod: number;
  /** 0 = unlimited. */
  memoryLimitBytes: number;
  /** From the pod's QoS class (pkg/kubelet/qos/policy.go). */
  oomScoreAdj: number;
}

/** A container's effective security settings, pod-level values already folded in. */
export interface ContainerSecurity {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot: boolean;
  supplementalGroups: number[];
  readonlyRootfs: boolean;
  privileged: boolean;
  capabilities: { add: string[]; drop: string[] };
  /** allowPrivilegeEscalation: false. */
  noNewPrivs: boolean;
  /** /proc paths hidden or read-only, as the kubelet sends for a default procMount. */
  maskedPaths: string[];
  readonlyPaths: string[];
}

/** A key/value pair of a container's environment, after `$(VAR)` expansion. */
export interface EnvPair {
  name: string;
  value: string;
}

/** What a container is created from (CRI ContainerConfig, the subset we use). */
export interface ContainerConfig {
  name: string;
  /** The restart count: the n-th attempt of this container in this pod. */
  attempt: number;
  image: string;
  /** Kubernetes `command`, already expanded. Empty when the pod spec gave none. */
  command: string[];
  /** Kubernetes `args`, already expanded. */
  args: string[];
  env: EnvPair[];
  workingDir: string;
  /** Relative to the sandbox's logDirectory: `<container>/<attempt>.log`. */
  logPath: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  // The fields below are optional: a runtime uses its defaults for what is missing (the process
  // runtime applies mounts and security in its sandbox, resources through cgroups, and ignores stdin/tty).
  mounts?: Mount[];
  resources?: ContainerResources;
  security?: ContainerSecurity;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
}

/** CRI ContainerState. */
export type ContainerRuntimeState = 'created' | 'running' | 'exited' | 'unknown';

/** What the runtime knows of one container (CRI ContainerStatus, the subset we use). */
export interface ContainerInfo {
  id: string;
  sandboxId: string;
  name: string;
  attempt: number;
  state: ContainerRuntimeState;
  image: string;
  /** ms since the epoch; 0 when not reached. */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** Set by the runtime for an abnormal end: `OOMKilled`, `StartError`, `Error`, `Completed`. */
  reason: string;
  message: string;
  /** Absolute path of this attempt's log file. */
  logPath: string;
  /**
   * Host pid of the container's main process, where the runtime has one (in a bubblewrap sandbox: the
   * sandbox's init, which leads the container's process group).
   */
  pid?: number;
  /** The image the container runs (`sha256:…` or a digest), where the runtime has images. */
  imageRef?: string;
  /** The scheme of status.containerID (`containerd`); undefined for the process runtime (`process`). */
  runtimeType?: string;
}

/** What the runtime knows of one sandbox. */
export interface SandboxInfo {
  id: string;
  uid: string;
  name: string;
  namespace: string;
  attempt: number;
  ready: boolean;
  createdAt: number;
  logDirectory: string;
  /** The sandbox config's annotations: what lets a restarted nodelet stop a pod whose manifest is gone. */
  annotations: Record<string, string>;
  /** The pod's own IP on a pod network; undefined with the host's network. */
  ip?: string;
}

/**
 * A change the runtime saw by itself (the kubelet's PLEG event): a container started or exited, or a
 * sandbox stopped being ready (`sandbox`: its pause process died, or the node rebooted; containerId is '').
 */
export interface ContainerEvent {
  type: 'started' | 'exited' | 'sandbox';
  containerId: string;
  sandboxId: string;
  podUID: string;
}

/** The result of {@link Runtime.execSync}. `timedOut` is set when the command was killed at the timeout. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** An image present on the node (CRI Image, the subset we use). */
export interface ImageInfo {
  /** The image id (`sha256:…`): what ContainerStatus.imageID reports. */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  /** The image's configured user (`1000`, `nobody`, ``), for runAsNonRoot checks. */
  user: string;
}

/** The image half of the CRI (ImageService), for runtimes that have images. */
export interface ImageService {
  /** The image when present on the node, else undefined. */
  imageStatus(image: string): Promise<ImageInfo | undefined>;
  /** Pulls the image and resolves with its reference (id or digest). */
  pullImage(image: string, sandbox: PodSandboxConfig): Promise<string>;
}

/** The runtime interface (CRI RuntimeService, shaped for our pod workers). */
export interface Runtime {
  /** `process` or `remote`: for the start-up line and `/configz`. */
  readonly name: string;
  /** The image service; undefined for runtimes without images (the process runtime runs host binaries). */
  readonly images?: ImageService;
  /** Whether sandboxes get an IP of their own (a CNI network); the process runtime's never do. */
  readonly podNetwork?: boolean;
  version(): Promise<{ runtimeName: string; runtimeVersion: string }>;
  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  /** Stops every container of the sandbox at once (SIGKILL); graceful stops go through stopContainer. */
  stopPodSandbox(sandboxId: string): Promise<void>;
  removePodSandbox(sandboxId: string): Promise<void>;
  listPodSandboxes(): Promise<SandboxInfo[]>;
  /** One sandbox with its network status (CRI PodSandboxStatus); undefined when it is gone. */
  podSandboxStatus(sandboxId: string): Promise<SandboxInfo | undefined>;
  createContainer(sandboxId: string, config: ContainerConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** SIGTERM, then SIGKILL once `timeoutSeconds` have passed; resolves when the container has exited. */
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  listContainers(filter?: { sandboxId?: string }): Promise<ContainerInfo[]>;
  containerStatus(containerId: string): Promise<ContainerInfo | undefined>;
  /**
   * Bytes in the container's writable layer (CRI ContainerStats `writable_layer`), which count as its
   * ephemeral storage; absent on a runtime without one (the process runtime), undefined when the
   * runtime does not say.
   */
  writableLayerBytes?(containerId: string): Promise<number | undefined>;
  /**
   * Runs `command` in the container's environment (its env and working directory) and waits for it,
   * killing it at `timeoutSeconds` (CRI ExecSync). Used by exec probes and lifecycle hooks.
   */
  execSync(containerId: string, command: string[], timeoutSeconds: number): Promise<ExecResult>;
  /** Subscribes to container events; returns the unsubscribe function. */
  onContainerEvent(listener: (event: ContainerEvent) => void): () => void;
  /** Releases the runtime's own resources (log writers, timers). Containers keep running. */
  close(): Promise<void>;
}
