import { formatDuration } from './duration.js';
import { FIELDS } from './fields.js';
import type { NodeletConfig } from './types.js';

/** One flag of `nodelet run` that nodelet acts on. */
export interface RunFlag {
  /** The name without dashes, as the kubelet spells it (`pod-manifest-path`, `v`). */
  readonly name: string;
  /** The config field it sets; absent for `--config` and `--config-dir`, which name files. */
  readonly field?: keyof NodeletConfig;
  /** The argument name in help; defaults to the field's kind (`duration`, `path`…). */
  readonly arg?: string;
  readonly help: string;
  /** Repeated flags accumulate (headers) instead of the last one winning. */
  readonly repeatable?: boolean;
  /** The default as help shows it, where the field's default alone would mislead. */
  readonly defaultText?: string;
  /** Test-only: accepted, never shown in help nor offered as a did-you-mean. */
  readonly hidden?: boolean;
}

/**
 * The flags of `nodelet run`: the kubelet's names and syntax, so an existing kubelet.service line
 * works unchanged. The CLI builds `--help` from this table (or uses {@link runFlagHelp}).
 */
export const RUN_FLAGS: readonly RunFlag[] = [
  {
    name: 'config',
    arg: 'file',
    help: 'KubeletConfiguration file (YAML or JSON, kubelet.config.k8s.io/v1beta1); flags set explicitly override it',
  },
  {
    name: 'config-dir',
    arg: 'dir',
    help: 'Directory of *.conf KubeletConfiguration drop-ins, merged in lexical order over --config',
  },
  {
    name: 'pod-manifest-path',
    field: 'staticPodPath',
    help: 'Directory (or single file) of static pod manifests; empty = no file source',
  },
  {
    name: 'file-check-frequency',
    field: 'fileCheckFrequencyMs',
    help: 'Full re-list period of the manifest path',
  },
  {
    name: 'manifest-url',
    field: 'staticPodURL',
    help: 'URL of a Pod or PodList to run; empty = no HTTP source',
  },
  {
    name: 'manifest-url-header',
    field: 'staticPodURLHeader',
    repeatable: true,
    help: "HTTP headers for --manifest-url as 'name:value,name:value'; repeatable, values accumulate",
  },
  { name: 'http-check-frequency', field: 'httpCheckFrequencyMs', help: 'Poll period of --manifest-url' },
  {
    name: 'node-status-update-frequency',
    field: 'nodeStatusUpdateFrequencyMs',
    help: 'How often the Node status is sent to the API server (with --kubeconfig)',
  },
  { name: 'sync-frequency', field: 'syncFrequencyMs', help: 'Max period between two syncs of a running pod' },
  {
    name: 'hostname-override',
    field: 'nodeName',
    help: "Node name to use instead of the machine's hostname (lowercased)",
  },
  { name: 'root-dir', field: 'rootDir', help: 'Directory for checkpoints and the agent socket' },
  { name: 'pod-logs-dir', field: 'podLogsDir', help: 'Directory of container logs' },
  {
    name: 'container-log-max-size',
    field: 'containerLogMaxSizeBytes',
    help: 'Size at which a container log is rotated',
  },
  {
    name: 'container-log-max-files',
    field: 'containerLogMaxFiles',
    help: 'Log files kept per container, current one included (at least 2)',
  },
  { name: 'max-pods', field: 'maxPods', help: 'Pods admitted beyond this are refused (OutOfpods)' },
  {
    name: 'container-runtime-endpoint',
    field: 'containerRuntimeEndpoint',
    arg: 'endpoint',
    help: 'CRI endpoint, e.g. unix:///run/containerd/containerd.sock; empty = embedded process runtime',
  },
  { name: 'kubeconfig', field: 'kubeconfig', help: 'kubeconfig of an API server; empty = standalone' },
  {
    name: 'address',
    field: 'address',
    help: 'IP address the read-only and authenticated ports bind to (the kubelet binds 0.0.0.0)',
  },
  {
    name: 'read-only-port',
    field: 'readOnlyPort',
    defaultText: '10255, or 0 with --config',
    help: 'Unauthenticated read-only port; 0 disables it',
  },
  {
    name: 'port',
    field: 'port',
    help: 'Authenticated HTTPS port: the read-only API plus /run and /runningpods; 0 disables it',
  },
  {
    name: 'tls-cert-file',
    field: 'tlsCertFile',
    help: 'Certificate (PEM) of the authenticated port; empty = a self-signed one made once under <root-dir>/pki',
  },
  { name: 'tls-private-key-file', field: 'tlsPrivateKeyFile', help: 'Private key (PEM) of --tls-cert-file' },
  { name: 'tls-min-version', field: 'tlsMinVersion', help: 'Lowest TLS version of the authenticated port: VersionTLS12 or VersionTLS13' },
  {
    name: 'client-ca-file',
    field: 'clientCAFile',
    help: 'CA bundle: a client certificate it signed authenticates as its CommonName, with its Organizations as groups',
  },
  {
    name: 'token-auth-file',
    field: 'tokenAuthFile',
    help: 'Bearer tokens of the authenticated port, one per line: token,user,uid,"group1,group2" (kube-apiserver\'s format)',
  },
  {
    name: 'anonymous-auth',
    field: 'anonymousAuth',
    help: 'Serve requests without credentials on the authenticated port as system:anonymous (the kubelet\'s flag defaults to true)',
  },
  {
    name: 'stop-pods-on-exit',
    field: 'stopPodsOnExit',
    help: 'On SIGTERM/SIGINT, stop every pod with grace before exiting; by default pods keep running, as with the kubelet',
  },
  {
    name: 'allow-insecure-manifests',
    field: 'allowInsecureManifests',
    help: 'Run manifests that others than root can change (writable by group or others, or owned by another user); by default, as root, they are refused',
  },
  {
    name: 'process-isolation',
    field: 'processIsolation',
    help: 'Process runtime: bwrap runs each container in a bubblewrap sandbox (own mount, pid, IPC, UTS namespaces; volumes at their mountPath), none as a plain host process, auto bwrap when it works here',
  },
  {
    name: 'cgroup-root',
    field: 'cgroupRoot',
    help: 'Process runtime: the cgroup under which its parent cgroup nodelet-<hash> (pods, then containers) is made; empty = the root of each hierarchy',
  },
  {
    name: 'cpu-cfs-quota',
    field: 'cpuCFSQuota',
    help: 'Enforce CPU limits with CFS quotas; --cpu-cfs-quota=false leaves CPU limits unenforced (requests still set shares)',
  },
  {
    name: 'oom-score-adj',
    field: 'oomScoreAdj',
    help: "oom_score_adj of nodelet's own process and of the runtime supervisor it starts, in [-1000, 1000]; containers get theirs from their QoS class",
  },
  { name: 'v', field: 'verbosity', help: 'Log verbosity (-v=2: debug, -v=4: trace)' },
  { name: 'logging-format', field: 'loggingFormat', help: 'Log format: text or json' },
  {
    name: 'crash-loop-backoff-initial',
    field: 'crashLoopBackOffInitialMs',
    hidden: true,
    help: 'First CrashLoopBackOff delay (tests)',
  },
  {
    name: 'crash-loop-backoff-max',
    field: 'crashLoopBackOffMaxMs',
    hidden: true,
    help: 'CrashLoopBackOff cap (tests)',
  },
];

/** The argument name a flag shows in help (`--max-pods int`). */
export function flagArg(flag: RunFlag): string {
  return flag.arg ?? (flag.field ? FIELDS[flag.field].kind.arg : 'string');
}

/** The default a flag shows in help, or undefined when it has none worth showing. */
export function flagDefault(flag: RunFlag): string | undefined {
  if (flag.defaultText !== undefined) return flag.defaultText;
  if (!flag.field || flag.field === 'nodeName') return undefined;
  const spec = FIELDS[flag.field];
  const value: unknown = spec.default;
  if (value === '' || (typeof value === 'object' && value !== null && Object.keys(value).length === 0)) return undefined;
  if (spec.kind.arg === 'duration') return formatDuration(value as number);
  return (spec.kind.format as (v: unknown) => string)(value);
}

/** Spelling of a flag on the command line: `-v` keeps the kubelet's single-dash form. */
export function flagSpelling(name: string): string {
  return name === 'v' ? '-v' : `--${name}`;
}

/** pflag-style help for the visible flags of `nodelet run`. */
export const runFlagHelp: string = buildHelp();

function buildHelp(): string {
  const rows = RUN_FLAGS.filter((f) => !f.hidden).map((f) => {
    // pflag prints no value name for a boolean: `--flag` alone means true.
    const arg = flagArg(f) === 'bool' ? '' : ` ${flagArg(f)}`;
    const left = `${f.name === 'v' ? '-v, --v' : `    --${f.name}`}${arg}`;
    const def = flagDefault(f);
    return [left, def === undefined ? f.help : `${f.help} (default ${def})`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 3;
  return [
    'Flags (kubelet-compatible; --flag=value, --flag value and -v=2 all work):',
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}${help}`),
    '',
    'Other kubelet flags (--network-plugin, --register-node, --cluster-dns, ...) are accepted and',
    'ignored with one warning each.',
  ].join('\n');
}
