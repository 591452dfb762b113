/**
 * The effective configuration of nodelet, parsed once from defaults, `--config` and flags, then
 * frozen. Nothing downstream reads `process.argv` or `process.env`.
 */
export interface NodeletConfig {
  /** Directory or single file of static pod manifests; '' = no file source. */
  staticPodPath: string;
  /** Full re-list period of the file source (kubelet: fileCheckFrequency, 20 s). */
  fileCheckFrequencyMs: number;
  /** Period of the level-triggered re-sync of every pod worker (kubelet: syncFrequency, 1 m). */
  syncFrequencyMs: number;
  /** Where checkpoints and the agent socket live (kubelet: --root-dir, /var/lib/kubelet). */
  rootDir: string;
  /** Where container logs go (kubelet: podLogsDir, /var/log/pods). */
  podLogsDir: string;
  /** The node name: --hostname-override or the machine's hostname, lowercased and trimmed. */
  nodeName: string;
  /** Pods admitted beyond this are refused with reason OutOfpods (kubelet: maxPods, 110). */
  maxPods: number;
  /** Bytes after which a container log is rotated (kubelet: containerLogMaxSize, 10Mi). */
  containerLogMaxSizeBytes: number;
  /** Log files kept per container, current included (kubelet: containerLogMaxFiles, 5). */
  containerLogMaxFiles: number;
  /** klog verbosity (-v). */
  verbosity: number;
  /** --logging-format. */
  loggingFormat: 'text' | 'json';
  /** --container-runtime-endpoint; '' = the embedded process runtime. */
  containerRuntimeEndpoint: string;
  /** --kubeconfig; '' = standalone. */
  kubeconfig: string;
  /** --manifest-url; '' = no HTTP source. */
  staticPodURL: string;
  /** --manifest-url-header, name → values. */
  staticPodURLHeader: Record<string, string[]>;
  /** How often the Node's status is sent to the API server (kubelet: nodeStatusUpdateFrequency, 10 s). */
  nodeStatusUpdateFrequencyMs: number;
  /** The node Lease's duration; it is renewed every quarter of it (kubelet: nodeLeaseDurationSeconds, 40). */
  nodeLeaseDurationSeconds: number;
  /** --http-check-frequency (20 s). */
  httpCheckFrequencyMs: number;
  /** --address the HTTP servers bind to (ours: 127.0.0.1). */
  address: string;
  /** --read-only-port (10255 from flags, 0 in a config file = disabled). */
  readOnlyPort: number;
  /** --port: the authenticated HTTPS port (kubelet: port, 10250); 0 = not served (ours: the kubelet always serves it). */
  port: number;
  /** --tls-cert-file: the authenticated port's certificate (PEM); '' = a self-signed one kept under `<rootDir>/pki`. */
  tlsCertFile: string;
  /** --tls-private-key-file: the key of tlsCertFile; set both or neither. */
  tlsPrivateKeyFile: string;
  /** --tls-min-version: the lowest TLS version the authenticated port accepts. */
  tlsMinVersion: 'VersionTLS12' | 'VersionTLS13';
  /** --client-ca-file (authentication.x509.clientCAFile): client certificates it signed authenticate; '' = none. */
  clientCAFile: string;
  /**
   * --anonymous-auth (authentication.anonymous.enabled): requests without credentials are served as
   * system:anonymous. Ours defaults to false, as the kubelet's file does (its flag defaults to true).
   */
  anonymousAuth: boolean;
  /** --token-auth-file (ours): static bearer tokens in kube-apiserver's token file format; '' = none. */
  tokenAuthFile: string;
  /** CrashLoopBackOff initial delay (10 s). Tests only: set by a hidden flag. */
  crashLoopBackOffInitialMs: number;
  /** CrashLoopBackOff cap (300 s). Tests only: set by a hidden flag. */
  crashLoopBackOffMaxMs: number;
  /** --stop-pods-on-exit: on SIGTERM/SIGINT stop every pod with grace first (default: leave them running). */
  stopPodsOnExit: boolean;
  /** --allow-insecure-manifests: no audit of the owners and modes of manifests (issue 11); logged as a warning at start. */
  allowInsecureManifests: boolean;
  /**
   * --process-isolation: how the process runtime runs containers. `bwrap`: each container that is not
   * privileged in a bubblewrap sandbox (own mount, pid, IPC and UTS namespaces; volumes at their
   * mountPath); `none`: plain host processes; `auto` (default): bwrap when it works here, else none.
   */
  processIsolation: 'auto' | 'bwrap' | 'none';
  /**
   * --cgroup-root: the cgroup (a cgroupfs path, `/` or `/nodelet.slice`) under which the process
   * runtime makes its parent cgroup `nodelet-<hash>`; '' (default) = each hierarchy's root.
   */
  cgroupRoot: string;
  /** --cpu-cfs-quota: CPU limits become CFS quotas (kubelet: cpuCFSQuota, true); false = CPU limits are not enforced. */
  cpuCFSQuota: boolean;
  /**
   * --oom-score-adj: the oom_score_adj nodelet gives its own process, and so the runtime supervisor it
   * starts (kubelet: oomScoreAdj, -999). Containers get their own by QoS class.
   */
  oomScoreAdj: number;
}

/** Where one configuration value came from, for `nodelet config` and `/configz`. */
export interface ValueOrigin {
  source: 'default' | 'config-file' | 'config-dir' | 'flag';
  /** The flag (`--pod-manifest-path`) or file and field (`/etc/kubelet.yaml: staticPodPath`). */
  detail?: string;
}

/** The result of loading the configuration: the frozen config, each value's origin, and warnings. */
export interface LoadedConfig {
  config: Readonly<NodeletConfig>;
  origins: Readonly<Record<keyof NodeletConfig, ValueOrigin>>;
  /** One line each: accepted-but-ignored flags and fields, unknown fields, retired flags. */
  warnings: string[];
}
