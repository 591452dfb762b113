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
  /** Host pid of the container's main process, where the runtime has one. */
  pid?: number;
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
}

/** A change the runtime saw by itself (the kubelet's PLEG event): a container started or exited. */
export interface ContainerEvent {
  type: 'started' | 'exited';
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

/** The runtime interface (CRI RuntimeService, shaped for our pod workers). */
export interface Runtime {
  /** `process` or `remote`: for the start-up line and `/configz`. */
  readonly name: string;
  version(): Promise<{ runtimeName: string; runtimeVersion: string }>;
  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  /** Stops every container of the sandbox at once (SIGKILL); graceful stops go through stopContainer. */
  stopPodSandbox(sandboxId: string): Promise<void>;
  removePodSandbox(sandboxId: string): Promise<void>;
  listPodSandboxes(): Promise<SandboxInfo[]>;
  createContainer(sandboxId: string, config: ContainerConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** SIGTERM, then SIGKILL once `timeoutSeconds` have passed; resolves when the container has exited. */
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  listContainers(filter?: { sandboxId?: string }): Promise<ContainerInfo[]>;
  containerStatus(containerId: string): Promise<ContainerInfo | undefined>;
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
