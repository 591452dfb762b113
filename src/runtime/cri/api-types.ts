/**
 * TypeScript shapes of the CRI messages in `proto/cri/runtime-v1.proto` (package `runtime.v1`,
 * cri-api v0.25), written by hand to match what @grpc/proto-loader produces with
 * `{ keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }`:
 * snake_case names, int64/uint64 as decimal strings, enums as their names, maps as plain objects,
 * bytes as Buffer.
 *
 * Responses are complete, because `defaults: true` fills every scalar, list and map; a field that
 * holds a message is `null` when the runtime left it unset (proto3 keeps presence for messages).
 * Requests have every field optional, as proto3 does, and take int64 as a number or a string.
 *
 * A message that travels both ways has two types: `X` as it comes back and `XInput` as it is sent.
 * Keep this file in step with the proto: nothing checks one against the other at build time.
 * @module
 */

/** An int64 or uint64 as the runtime sends it: a decimal string, since it may not fit a JS number. */
export type Int64 = string;
/** An int64 or uint64 as nodelet sends it: a safe integer, or a decimal string for larger values. */
export type Int64Like = number | string;

// ---- Enums ------------------------------------------------------------------------------------

/** Protocol of a port mapping. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
/** Mount propagation: private (`rprivate`), host to container (`rslave`) or both ways (`rshared`). */
export type MountPropagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
/** Whose Linux namespace a sandbox or container joins: the pod's, its own, the node's, or a target container's. */
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
/** Kind of seccomp or AppArmor profile (enum `SecurityProfile.ProfileType`). */
export type ProfileType = 'RuntimeDefault' | 'Unconfined' | 'Localhost';
/** State of a pod sandbox. */
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
/** State of a container. */
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

// ---- Messages sent both ways ------------------------------------------------------------------

/** Identity of a pod sandbox (pod name, UID, namespace, attempt), as returned by the runtime. */
export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}
/** Identity of a pod sandbox, as sent in a {@link PodSandboxConfig}. */
export type PodSandboxMetadataInput = Partial<PodSandboxMetadata>;

/** Identity of a container within its sandbox (name, attempt), as returned by the runtime. */
export interface ContainerMetadata {
  name: string;
  attempt: number;
}
/** Identity of a container, as sent in a {@link ContainerConfig}. */
export type ContainerMetadataInput = Partial<ContainerMetadata>;

/** An image reference (name, ID or digest) with optional annotations, as returned by the runtime. */
export interface ImageSpec {
  image: string;
  annotations: Record<string, string>;
}
/** An image reference, as sent in a request. */
export type ImageSpecInput = Partial<ImageSpec>;

/** A host path mounted into a container, as returned in a {@link ContainerStatus}. */
export interface Mount {
  container_path: string;
  host_path: string;
  readonly: boolean;
  selinux_relabel: boolean;
  propagation: MountPropagation;
}
/** A host path to mount into a container, as sent in a {@link ContainerConfig}. */
export type MountInput = Partial<Mount>;

/** One range of a user-namespace ID mapping, as returned by the runtime. */
export interface IDMapping {
  host_id: number;
  container_id: number;
  length: number;
}
/** One range of a user-namespace ID mapping, as sent. */
export type IDMappingInput = Partial<IDMapping>;

/** User-namespace settings of a sandbox, as returned by the runtime. */
export interface UserNamespace {
  mode: NamespaceMode;
  uids: IDMapping[];
  gids: IDMapping[];
}
/** User-namespace settings of a sandbox, as sent. */
export interface UserNamespaceInput {
  mode?: NamespaceMode;
  uids?: IDMappingInput[];
  gids?: IDMappingInput[];
}

/** Network, PID and IPC namespace modes of a sandbox or container, as returned by the runtime. */
export interface NamespaceOption {
  network: NamespaceMode;
  pid: NamespaceMode;
  ipc: NamespaceMode;
  /** Container whose namespaces a `TARGET` mode joins. */
  target_id: string;
  userns_options: UserNamespace | null;
}
/** Namespace modes of a sandbox or container, as sent; unset modes mean `POD`. */
export interface NamespaceOptionInput {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  target_id?: string;
  userns_options?: UserNamespaceInput;
}

/** An int64 that may be absent (the wrapper tells unset from 0), as returned by the runtime. */
export interface Int64Value {
  value: Int64;
}
/** An int64 that may be absent, as sent: leave the wrapper out for "unset", not the value. */
export interface Int64ValueInput {
  value?: Int64Like;
}

/** A hugetlb limit for one page size (e.g. `2MB`), as returned by the runtime. */
export interface HugepageLimit {
  page_size: string;
  limit: Int64;
}
/** A hugetlb limit for one page size, as sent. */
export interface HugepageLimitInput {
  page_size?: string;
  limit?: Int64Like;
}

/** Linux cgroup resources of a container or sandbox, as returned by the runtime; 0 or "" means unset. */
export interface LinuxContainerResources {
  cpu_period: Int64;
  cpu_quota: Int64;
  cpu_shares: Int64;
  memory_limit_in_bytes: Int64;
  oom_score_adj: Int64;
  cpuset_cpus: string;
  cpuset_mems: string;
  hugepage_limits: HugepageLimit[];
  /** cgroup v2 files and values, e.g. `{ "memory.high": "1048576" }`. */
  unified: Record<string, string>;
  memory_swap_limit_in_bytes: Int64;
}
/** Linux cgroup resources of a container or sandbox, as sent; omitted or 0 means unset. */
export interface LinuxContainerResourcesInput {
  cpu_period?: Int64Like;
  cpu_quota?: Int64Like;
  cpu_shares?: Int64Like;
  memory_limit_in_bytes?: Int64Like;
  oom_score_adj?: Int64Like;
  cpuset_cpus?: string;
  cpuset_mems?: string;
  hugepage_limits?: HugepageLimitInput[];
  unified?: Record<string, string>;
  memory_swap_limit_in_bytes?: Int64Like;
}

/** Windows resources of a container, as returned by the runtime (present for message completeness). */
export interface WindowsContainerResources {
  cpu_shares: Int64;
  cpu_count: Int64;
  cpu_maximum: Int64;
  memory_limit_in_bytes: Int64;
  rootfs_size_in_bytes: Int64;
}
/** Windows resources of a container, as sent (unused on Linux). */
export interface WindowsContainerResourcesInput {
  cpu_shares?: Int64Like;
  cpu_count?: Int64Like;
  cpu_maximum?: Int64Like;
  memory_limit_in_bytes?: Int64Like;
  rootfs_size_in_bytes?: Int64Like;
}

// ---- Pod sandbox configuration (sent only) ----------------------------------------------------

/** DNS settings the runtime writes into a sandbox's resolv.conf. */
export interface DNSConfig {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

/** A port of a sandbox published on the host. */
export interface PortMapping {
  protocol?: Protocol;
  container_port?: number;
  host_port?: number;
  host_ip?: string;
}

/** SELinux label parts of a sandbox or container. */
export interface SELinuxOption {
  user?: string;
  role?: string;
  type?: string;
  level?: string;
}

/** A seccomp or AppArmor profile choice; `localhost_ref` only with `Localhost`. */
export interface SecurityProfile {
  profile_type?: ProfileType;
  localhost_ref?: string;
}

/** Linux security settings of a sandbox (not of the containers in it). */
export interface LinuxSandboxSecurityContext {
  namespace_options?: NamespaceOptionInput;
  selinux_options?: SELinuxOption;
  run_as_user?: Int64ValueInput;
  run_as_group?: Int64ValueInput;
  readonly_rootfs?: boolean;
  supplemental_groups?: Int64Like[];
  privileged?: boolean;
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
  /** @deprecated Use `seccomp`. */
  seccomp_profile_path?: string;
}

/** Linux settings of a sandbox: parent cgroup, security context, sysctls, overhead and total resources. */
export interface LinuxPodSandboxConfig {
  cgroup_parent?: string;
  security_context?: LinuxSandboxSecurityContext;
  sysctls?: Record<string, string>;
  overhead?: LinuxContainerResourcesInput;
  resources?: LinuxContainerResourcesInput;
}

/** Windows security settings of a sandbox (unused on Linux). */
export interface WindowsSandboxSecurityContext {
  run_as_username?: string;
  credential_spec?: string;
  host_process?: boolean;
}

/** Windows settings of a sandbox (unused on Linux). */
export interface WindowsPodSandboxConfig {
  security_context?: WindowsSandboxSecurityContext;
}

/** Everything needed to create a pod sandbox; sent again with each CreateContainer and PullImage. */
export interface PodSandboxConfig {
  metadata?: PodSandboxMetadataInput;
  hostname?: string;
  /** Host directory of the pod's container logs, e.g. `/var/log/pods/<ns>_<name>_<uid>`. */
  log_directory?: string;
  dns_config?: DNSConfig;
  port_mappings?: PortMapping[];
  labels?: Record<string, string>;
  /** Returned unchanged by the runtime in PodSandboxStatus. */
  annotations?: Record<string, string>;
  linux?: LinuxPodSandboxConfig;
  windows?: WindowsPodSandboxConfig;
}

// ---- Container configuration (sent only) ------------------------------------------------------

/** An environment variable of a container. */
export interface KeyValue {
  key?: string;
  /** A string in cri-api v0.25, which containerd 1.6 speaks. */
  value?: string;
}

/** Capabilities to add to or drop from a container. */
export interface Capability {
  add_capabilities?: string[];
  drop_capabilities?: string[];
  add_ambient_capabilities?: string[];
}

/** Linux security settings of a container. */
export interface LinuxContainerSecurityContext {
  capabilities?: Capability;
  privileged?: boolean;
  namespace_options?: NamespaceOptionInput;
  selinux_options?: SELinuxOption;
  run_as_user?: Int64ValueInput;
  run_as_group?: Int64ValueInput;
  run_as_username?: string;
  readonly_rootfs?: boolean;
  supplemental_groups?: Int64Like[];
  no_new_privs?: boolean;
  masked_paths?: string[];
  readonly_paths?: string[];
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
  /** @deprecated Use `apparmor`. */
  apparmor_profile?: string;
  /** @deprecated Use `seccomp`. */
  seccomp_profile_path?: string;
}

/** Linux settings of a container: resources and security context. */
export interface LinuxContainerConfig {
  resources?: LinuxContainerResourcesInput;
  security_context?: LinuxContainerSecurityContext;
}

/** Windows security settings of a container (unused on Linux). */
export interface WindowsContainerSecurityContext {
  run_as_username?: string;
  credential_spec?: string;
  host_process?: boolean;
}

/** Windows settings of a container (unused on Linux). */
export interface WindowsContainerConfig {
  resources?: WindowsContainerResourcesInput;
  security_context?: WindowsContainerSecurityContext;
}

/** A host device exposed in a container; `permissions` is a subset of `rwm`. */
export interface Device {
  container_path?: string;
  host_path?: string;
  permissions?: string;
}

/** Everything needed to create a container in a sandbox. */
export interface ContainerConfig {
  metadata?: ContainerMetadataInput;
  image?: ImageSpecInput;
  /** Entrypoint (Docker's ENTRYPOINT); empty keeps the image's. */
  command?: string[];
  /** Arguments (Docker's CMD); empty keeps the image's. */
  args?: string[];
  working_dir?: string;
  envs?: KeyValue[];
  mounts?: MountInput[];
  devices?: Device[];
  labels?: Record<string, string>;
  /** Returned unchanged by the runtime in ContainerStatus. */
  annotations?: Record<string, string>;
  /** Log file relative to the sandbox's `log_directory`, e.g. `main/0.log`. */
  log_path?: string;
  stdin?: boolean;
  stdin_once?: boolean;
  tty?: boolean;
  linux?: LinuxContainerConfig;
  windows?: WindowsContainerConfig;
}

// ---- Filters (sent only) ----------------------------------------------------------------------

/** Wrapper that lets a filter tell "any state" (absent) from the first enum value. */
export interface PodSandboxStateValue {
  state?: PodSandboxState;
}

/** Sandbox filter of ListPodSandbox; all fields set must match. */
export interface PodSandboxFilter {
  id?: string;
  state?: PodSandboxStateValue;
  label_selector?: Record<string, string>;
}

/** Wrapper that lets a filter tell "any state" (absent) from the first enum value. */
export interface ContainerStateValue {
  state?: ContainerState;
}

/** Container filter of ListContainers; all fields set must match. */
export interface ContainerFilter {
  id?: string;
  state?: ContainerStateValue;
  pod_sandbox_id?: string;
  label_selector?: Record<string, string>;
}

/** Image filter of ListImages. */
export interface ImageFilter {
  image?: ImageSpecInput;
}

/** Registry credentials for PullImage. */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  server_address?: string;
  identity_token?: string;
  registry_token?: string;
}

// ---- Statuses and list items (returned only) --------------------------------------------------

/** One further IP of a pod. */
export interface PodIP {
  ip: string;
}

/** Network status of a sandbox: its IP and any further IPs (dual stack). */
export interface PodSandboxNetworkStatus {
  ip: string;
  additional_ips: PodIP[];
}

/** Namespace settings a sandbox was created with. */
export interface Namespace {
  options: NamespaceOption | null;
}

/** Linux part of a sandbox status. */
export interface LinuxPodSandboxStatus {
  namespaces: Namespace | null;
}

/** Full status of one pod sandbox. */
export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata | null;
  state: PodSandboxState;
  /** Nanoseconds since the epoch. */
  created_at: Int64;
  network: PodSandboxNetworkStatus | null;
  linux: LinuxPodSandboxStatus | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtime_handler: string;
}

/** A pod sandbox as ListPodSandbox returns it. */
export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata | null;
  state: PodSandboxState;
  /** Nanoseconds since the epoch. */
  created_at: Int64;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtime_handler: string;
}

/** A container as ListContainers returns it. */
export interface Container {
  id: string;
  pod_sandbox_id: string;
  metadata: ContainerMetadata | null;
  image: ImageSpec | null;
  /** Image the container runs, usually its ID (`sha256:…`). */
  image_ref: string;
  state: ContainerState;
  /** Nanoseconds since the epoch. */
  created_at: Int64;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Resources a container runs with, as ContainerStatus reports them. */
export interface ContainerResources {
  linux: LinuxContainerResources | null;
  windows: WindowsContainerResources | null;
}

/** Full status of one container; the times are nanoseconds since the epoch, "0" when not reached. */
export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata | null;
  state: ContainerState;
  created_at: Int64;
  started_at: Int64;
  finished_at: Int64;
  /** Meaningful only once `finished_at` is set. */
  exit_code: number;
  image: ImageSpec | null;
  image_ref: string;
  /** Short CamelCase cause, e.g. `OOMKilled`, `Completed`, `Error`. */
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  mounts: Mount[];
  /** Absolute path of the container's log file on the host. */
  log_path: string;
  resources: ContainerResources | null;
}

/** One condition of the runtime, e.g. `RuntimeReady` or `NetworkReady`. */
export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

/** Conditions of the runtime. */
export interface RuntimeStatus {
  conditions: RuntimeCondition[];
}

/** An image known to the runtime. */
export interface Image {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  /** Size in bytes. */
  size: Int64;
  /** User the image runs as when numeric; null when it names a user by `username` or none. */
  uid: Int64Value | null;
  username: string;
  spec: ImageSpec | null;
  pinned: boolean;
}

/** A uint64 that may be absent, as the runtime sends it. */
export interface UInt64Value {
  value: Int64;
}

/** A filesystem, named by its mount point. */
export interface FilesystemIdentifier {
  mountpoint: string;
}

/** Usage of the filesystem that holds images. */
export interface FilesystemUsage {
  /** Nanoseconds since the epoch. */
  timestamp: Int64;
  fs_id: FilesystemIdentifier | null;
  used_bytes: UInt64Value | null;
  inodes_used: UInt64Value | null;
}

// ---- Requests and responses, in RPC order -----------------------------------------------------

/** Request of an RPC whose request message has no fields. */
export type EmptyRequest = Record<string, never>;
/** Response of an RPC whose response message has no fields. */
export type EmptyResponse = Record<string, never>;

/** Request of Version: the CRI version the client speaks (informational). */
export interface VersionRequest {
  version?: string;
}
/** Response of Version: the runtime's name and version and the CRI version it serves. */
export interface VersionResponse {
  version: string;
  runtime_name: string;
  runtime_version: string;
  runtime_api_version: string;
}

/** Request of RunPodSandbox. */
export interface RunPodSandboxRequest {
  config?: PodSandboxConfig;
  /** RuntimeClass handler; "" selects the runtime's default. */
  runtime_handler?: string;
}
/** Response of RunPodSandbox: the new sandbox's ID. */
export interface RunPodSandboxResponse {
  pod_sandbox_id: string;
}

/** Request of StopPodSandbox. */
export interface StopPodSandboxRequest {
  pod_sandbox_id?: string;
}
/** Request of RemovePodSandbox. */
export interface RemovePodSandboxRequest {
  pod_sandbox_id?: string;
}

/** Request of PodSandboxStatus. */
export interface PodSandboxStatusRequest {
  pod_sandbox_id?: string;
  verbose?: boolean;
}
/** Response of PodSandboxStatus; `info` holds JSON values only when `verbose` was asked. */
export interface PodSandboxStatusResponse {
  status: PodSandboxStatus | null;
  info: Record<string, string>;
}

/** Request of ListPodSandbox. */
export interface ListPodSandboxRequest {
  filter?: PodSandboxFilter;
}
/** Response of ListPodSandbox. */
export interface ListPodSandboxResponse {
  items: PodSandbox[];
}

/** Request of CreateContainer. */
export interface CreateContainerRequest {
  pod_sandbox_id?: string;
  config?: ContainerConfig;
  /** The config the sandbox was run with. */
  sandbox_config?: PodSandboxConfig;
}
/** Response of CreateContainer: the new container's ID. */
export interface CreateContainerResponse {
  container_id: string;
}

/** Request of StartContainer. */
export interface StartContainerRequest {
  container_id?: string;
}

/** Request of StopContainer. */
export interface StopContainerRequest {
  container_id?: string;
  /** Grace period in seconds before SIGKILL; 0 kills at once. */
  timeout?: Int64Like;
}

/** Request of RemoveContainer. */
export interface RemoveContainerRequest {
  container_id?: string;
}

/** Request of ListContainers. */
export interface ListContainersRequest {
  filter?: ContainerFilter;
}
/** Response of ListContainers. */
export interface ListContainersResponse {
  containers: Container[];
}

/** Request of ContainerStatus. */
export interface ContainerStatusRequest {
  container_id?: string;
  verbose?: boolean;
}
/** Response of ContainerStatus; `info` holds JSON values only when `verbose` was asked. */
export interface ContainerStatusResponse {
  status: ContainerStatus | null;
  info: Record<string, string>;
}

/** Request of ReopenContainerLog. */
export interface ReopenContainerLogRequest {
  container_id?: string;
}

/** Request of ExecSync. */
export interface ExecSyncRequest {
  container_id?: string;
  cmd?: string[];
  /** Seconds; 0 runs without a limit. */
  timeout?: Int64Like;
}
/** Response of ExecSync: the command's output and exit code. */
export interface ExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exit_code: number;
}

/** Request of Status. */
export interface StatusRequest {
  verbose?: boolean;
}
/** Response of Status; `info` holds JSON values only when `verbose` was asked. */
export interface StatusResponse {
  status: RuntimeStatus | null;
  info: Record<string, string>;
}

/** Request of ListImages. */
export interface ListImagesRequest {
  filter?: ImageFilter;
}
/** Response of ListImages. */
export interface ListImagesResponse {
  images: Image[];
}

/** Request of ImageStatus. */
export interface ImageStatusRequest {
  image?: ImageSpecInput;
  verbose?: boolean;
}
/** Response of ImageStatus: `image` is null when the image is not present (not an error). */
export interface ImageStatusResponse {
  image: Image | null;
  info: Record<string, string>;
}

/** Request of PullImage. */
export interface PullImageRequest {
  image?: ImageSpecInput;
  auth?: AuthConfig;
  sandbox_config?: PodSandboxConfig;
}
/** Response of PullImage: the pulled image's ID or digest. */
export interface PullImageResponse {
  image_ref: string;
}

/** Request of RemoveImage. */
export interface RemoveImageRequest {
  image?: ImageSpecInput;
}

/** Request of ContainerStats. */
export interface ContainerStatsRequest {
  container_id: string;
}

/** Response of ContainerStats (the writable layer only: the other fields are not in our proto). */
export interface ContainerStatsResponse {
  stats: { writable_layer: FilesystemUsage | null } | null;
}

/** Response of ImageFsInfo. */
export interface ImageFsInfoResponse {
  image_filesystems: FilesystemUsage[];
}
