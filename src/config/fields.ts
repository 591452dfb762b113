import type { NodeletConfig } from './types.js';
import {
  boolKind,
  durationKind,
  headersKind,
  INT32_MAX,
  intKind,
  ipKind,
  loggingFormatKind,
  nodeNameKind,
  pathKind,
  processIsolationKind,
  tlsVersionKind,
  cgroupPathKind,
  quantityKind,
  stringKind,
  urlKind,
  type ValueKind,
} from './values.js';

/** How one field of {@link NodeletConfig} is named, defaulted, read and shown. */
export interface FieldSpec<K extends keyof NodeletConfig> {
  /** Name shown by `nodelet config`: the KubeletConfiguration field name where there is one. */
  readonly name: string;
  /** Dotted path of the field in a KubeletConfiguration file; absent = flag only (as in the kubelet). */
  readonly file?: string;
  /** The default without `--config` (nodeName's is the machine's hostname, filled by loadConfig). */
  readonly default: NodeletConfig[K];
  readonly kind: ValueKind<NodeletConfig[K]>;
}

/**
 * Every field of NodeletConfig, in the order `nodelet config` shows them. A mapped type, so adding a
 * field to NodeletConfig without describing it here is a compile error.
 */
export const FIELDS: { readonly [K in keyof NodeletConfig]: FieldSpec<K> } = {
  staticPodPath: { name: 'staticPodPath', file: 'staticPodPath', default: '', kind: pathKind({ allowEmpty: true }) },
  fileCheckFrequencyMs: { name: 'fileCheckFrequency', file: 'fileCheckFrequency', default: 20_000, kind: durationKind },
  syncFrequencyMs: { name: 'syncFrequency', file: 'syncFrequency', default: 60_000, kind: durationKind },
  rootDir: { name: 'rootDir', default: '/var/lib/kubelet', kind: pathKind({ allowEmpty: false }) },
  podLogsDir: { name: 'podLogsDir', file: 'podLogsDir', default: '/var/log/pods', kind: pathKind({ allowEmpty: false }) },
  nodeName: { name: 'nodeName', default: '', kind: nodeNameKind },
  maxPods: { name: 'maxPods', file: 'maxPods', default: 110, kind: intKind(1, INT32_MAX) },
  containerLogMaxSizeBytes: {
    name: 'containerLogMaxSize',
    file: 'containerLogMaxSize',
    default: 10 * 1024 * 1024,
    kind: quantityKind,
  },
  // > 1 as the kubelet's container log manager requires: the current file plus one rotation.
  containerLogMaxFiles: { name: 'containerLogMaxFiles', file: 'containerLogMaxFiles', default: 5, kind: intKind(2, INT32_MAX) },
  verbosity: { name: 'logging.verbosity', file: 'logging.verbosity', default: 0, kind: intKind(0, INT32_MAX, 'level') },
  loggingFormat: { name: 'logging.format', file: 'logging.format', default: 'text', kind: loggingFormatKind },
  containerRuntimeEndpoint: {
    name: 'containerRuntimeEndpoint',
    file: 'containerRuntimeEndpoint',
    default: '',
    kind: stringKind,
  },
  kubeconfig: { name: 'kubeconfig', default: '', kind: pathKind({ allowEmpty: true }) },
  staticPodURL: { name: 'staticPodURL', file: 'staticPodURL', default: '', kind: urlKind },
  staticPodURLHeader: { name: 'staticPodURLHeader', file: 'staticPodURLHeader', default: {}, kind: headersKind },
  nodeStatusUpdateFrequencyMs: {
    name: 'nodeStatusUpdateFrequency',
    file: 'nodeStatusUpdateFrequency',
    default: 10_000,
    kind: durationKind,
  },
  nodeLeaseDurationSeconds: { name: 'nodeLeaseDurationSeconds', file: 'nodeLeaseDurationSeconds', default: 40, kind: intKind(1, INT32_MAX) },
  httpCheckFrequencyMs: { name: 'httpCheckFrequency', file: 'httpCheckFrequency', default: 20_000, kind: durationKind },
  // Ours: 127.0.0.1, not the kubelet's 0.0.0.0: an unauthenticated read-only API stays local unless asked.
  address: { name: 'address', file: 'address', default: '127.0.0.1', kind: ipKind },
  // 10255 from flags; loadConfig makes it 0 when --config is used, as the kubelet's file defaulting does.
  readOnlyPort: { name: 'readOnlyPort', file: 'readOnlyPort', default: 10255, kind: intKind(0, 65535, 'port') },
  // 10250 from flags and in a file, as the kubelet; 0 (ours) turns the authenticated port off.
  port: { name: 'port', file: 'port', default: 10250, kind: intKind(0, 65535, 'port') },
  tlsCertFile: { name: 'tlsCertFile', file: 'tlsCertFile', default: '', kind: pathKind({ allowEmpty: true }) },
  tlsPrivateKeyFile: { name: 'tlsPrivateKeyFile', file: 'tlsPrivateKeyFile', default: '', kind: pathKind({ allowEmpty: true }) },
  // The kubelet leaves it to Go (TLS 1.2 for a server); nodelet says so, and takes nothing older.
  tlsMinVersion: { name: 'tlsMinVersion', file: 'tlsMinVersion', default: 'VersionTLS12', kind: tlsVersionKind },
  clientCAFile: {
    name: 'authentication.x509.clientCAFile',
    file: 'authentication.x509.clientCAFile',
    default: '',
    kind: pathKind({ allowEmpty: true }),
  },
  // Ours: false, the kubelet's file default, where its flag defaults to true: strangers get a 401.
  anonymousAuth: { name: 'authentication.anonymous.enabled', file: 'authentication.anonymous.enabled', default: false, kind: boolKind },
  // Ours. The kubelet asks the API server about a token (webhook TokenReview); a lone node reads a file.
  tokenAuthFile: { name: 'tokenAuthFile', file: 'tokenAuthFile', default: '', kind: pathKind({ allowEmpty: true }) },
  crashLoopBackOffInitialMs: { name: 'crashLoopBackOffInitial', default: 10_000, kind: durationKind },
  crashLoopBackOffMaxMs: { name: 'crashLoopBackOffMax', default: 300_000, kind: durationKind },
  // Ours. The kubelet leaves containers running when it stops, and so do we unless asked.
  stopPodsOnExit: { name: 'stopPodsOnExit', file: 'stopPodsOnExit', default: false, kind: boolKind },
  // Ours. Manifests others than root could change are refused when running as root; this turns that off.
  allowInsecureManifests: { name: 'allowInsecureManifests', file: 'allowInsecureManifests', default: false, kind: boolKind },
  // Ours. The process runtime's sandbox; the CRI runtime isolates containers itself and ignores it.
  processIsolation: { name: 'processIsolation', file: 'processIsolation', default: 'auto', kind: processIsolationKind },
  // Where the process runtime's cgroups go; the CRI runtime places its containers itself.
  cgroupRoot: { name: 'cgroupRoot', file: 'cgroupRoot', default: '', kind: cgroupPathKind },
  cpuCFSQuota: { name: 'cpuCFSQuota', file: 'cpuCFSQuota', default: true, kind: boolKind },
  // The kubelet's range check (validation.go): the kernel's own bounds.
  oomScoreAdj: { name: 'oomScoreAdj', file: 'oomScoreAdj', default: -999, kind: intKind(-1000, 1000) },
};

/** The keys of NodeletConfig in display order. */
export const FIELD_KEYS = Object.keys(FIELDS) as (keyof NodeletConfig)[];

/** The readOnlyPort default when a config file is used (kubelet v1beta1 defaulting: disabled). */
export const FILE_READ_ONLY_PORT_DEFAULT = 0;

/** Field path in a file → the NodeletConfig key it sets. */
export const FILE_FIELDS: ReadonlyMap<string, keyof NodeletConfig> = new Map(
  FIELD_KEYS.flatMap((key) => {
    const file = FIELDS[key].file;
    return file === undefined ? [] : [[file, key] as const];
  }),
);
