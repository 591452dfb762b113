// Unknown-field detection for Pod manifests, as the API server's strict field validation (kubectl
// apply --validate=strict) reports it: `unknown field "spec.containers[0].comand"`. The kubelet itself
// decodes leniently and drops unknown fields, so a typo such as `comand:` silently runs the image's
// default command; these findings are warnings that point at the typo, never reasons to refuse a pod.
//
// The table below lists the JSON field names of every core/v1 (and meta/v1) type reachable from a Pod,
// as of Kubernetes 1.30 (node_modules/kubernetes-types/core/v1.d.ts and meta/v1.d.ts). It was
// generated once from those declarations by a throwaway script and is committed as plain data, so
// nothing parses .d.ts files at run time; when the API grows, regenerate or edit it by hand.

import { NodeletError } from '../errors.js';
import { closest } from '../config/did-you-mean.js';
import { clip, type Locate, type Position } from './field-errors.js';
import { isObj } from './read.js';

/** The error code of an unknown-field warning. */
export const UNKNOWN_FIELD = 'UnknownField';

/**
 * What a field holds: `S` (`'-'`) a scalar or a list of scalars (nothing to check inside), `MAP` (`'map'`) a
 * free-form map (labels, annotations, nodeSelector, resources.limits: any key is valid), `ANY` (`'any'`) a subtree
 * that is not checked (status, managedFields), `'Type'` an object of a type of this table, `'Type[]'` a list
 * of them.
 */
export type FieldKind = string;

const S = '-';
const MAP = 'map';
const ANY = 'any';

/**
 * The known fields of each type a Pod manifest can contain, by type name, starting at `Pod`. Pod
 * status is ignored (a manifest has no business setting it, and the kubelet overwrites it anyway);
 * so are managedFields entries, which are server bookkeeping.
 */
export const KNOWN_FIELDS: Readonly<Record<string, Readonly<Record<string, FieldKind>>>> = {
  Pod: { apiVersion: S, kind: S, metadata: 'ObjectMeta', spec: 'PodSpec', status: ANY },
  AWSElasticBlockStoreVolumeSource: { fsType: S, partition: S, readOnly: S, volumeID: S },
  Affinity: { nodeAffinity: 'NodeAffinity', podAffinity: 'PodAffinity', podAntiAffinity: 'PodAntiAffinity' },
  AppArmorProfile: { localhostProfile: S, type: S },
  AzureDiskVolumeSource: { cachingMode: S, diskName: S, diskURI: S, fsType: S, kind: S, readOnly: S },
  AzureFileVolumeSource: { readOnly: S, secretName: S, shareName: S },
  CSIVolumeSource: {
    driver: S, fsType: S, nodePublishSecretRef: 'LocalObjectReference', readOnly: S, volumeAttributes: MAP,
  },
  Capabilities: { add: S, drop: S },
  CephFSVolumeSource: {
    monitors: S, path: S, readOnly: S, secretFile: S, secretRef: 'LocalObjectReference', user: S,
  },
  CinderVolumeSource: { fsType: S, readOnly: S, secretRef: 'LocalObjectReference', volumeID: S },
  ClaimSource: { resourceClaimName: S, resourceClaimTemplateName: S },
  ClusterTrustBundleProjection: {
    labelSelector: 'LabelSelector', name: S, optional: S, path: S, signerName: S,
  },
  ConfigMapEnvSource: { name: S, optional: S },
  ConfigMapKeySelector: { key: S, name: S, optional: S },
  ConfigMapProjection: { items: 'KeyToPath[]', name: S, optional: S },
  ConfigMapVolumeSource: { defaultMode: S, items: 'KeyToPath[]', name: S, optional: S },
  Container: {
    args: S, command: S, env: 'EnvVar[]', envFrom: 'EnvFromSource[]', image: S, imagePullPolicy: S,
    lifecycle: 'Lifecycle', livenessProbe: 'Probe', name: S, ports: 'ContainerPort[]',
    readinessProbe: 'Probe', resizePolicy: 'ContainerResizePolicy[]', resources: 'ResourceRequirements',
    restartPolicy: S, securityContext: 'SecurityContext', startupProbe: 'Probe', stdin: S, stdinOnce: S,
    terminationMessagePath: S, terminationMessagePolicy: S, tty: S, volumeDevices: 'VolumeDevice[]',
    volumeMounts: 'VolumeMount[]', workingDir: S,
  },
  ContainerPort: { containerPort: S, hostIP: S, hostPort: S, name: S, protocol: S },
  ContainerResizePolicy: { resourceName: S, restartPolicy: S },
  DownwardAPIProjection: { items: 'DownwardAPIVolumeFile[]' },
  DownwardAPIVolumeFile: {
    fieldRef: 'ObjectFieldSelector', mode: S, path: S, resourceFieldRef: 'ResourceFieldSelector',
  },
  DownwardAPIVolumeSource: { defaultMode: S, items: 'DownwardAPIVolumeFile[]' },
  EmptyDirVolumeSource: { medium: S, sizeLimit: S },
  EnvFromSource: { configMapRef: 'ConfigMapEnvSource', prefix: S, secretRef: 'SecretEnvSource' },
  EnvVar: { name: S, value: S, valueFrom: 'EnvVarSource' },
  EnvVarSource: {
    configMapKeyRef: 'ConfigMapKeySelector', fieldRef: 'ObjectFieldSelector',
    resourceFieldRef: 'ResourceFieldSelector', secretKeyRef: 'SecretKeySelector',
  },
  EphemeralContainer: {
    args: S, command: S, env: 'EnvVar[]', envFrom: 'EnvFromSource[]', image: S, imagePullPolicy: S,
    lifecycle: 'Lifecycle', livenessProbe: 'Probe', name: S, ports: 'ContainerPort[]',
    readinessProbe: 'Probe', resizePolicy: 'ContainerResizePolicy[]', resources: 'ResourceRequirements',
    restartPolicy: S, securityContext: 'SecurityContext', startupProbe: 'Probe', stdin: S, stdinOnce: S,
    targetContainerName: S, terminationMessagePath: S, terminationMessagePolicy: S, tty: S,
    volumeDevices: 'VolumeDevice[]', volumeMounts: 'VolumeMount[]', workingDir: S,
  },
  EphemeralVolumeSource: { volumeClaimTemplate: 'PersistentVolumeClaimTemplate' },
  ExecAction: { command: S },
  FCVolumeSource: { fsType: S, lun: S, readOnly: S, targetWWNs: S, wwids: S },
  FlexVolumeSource: { driver: S, fsType: S, options: MAP, readOnly: S, secretRef: 'LocalObjectReference' },
  FlockerVolumeSource: { datasetName: S, datasetUUID: S },
  GCEPersistentDiskVolumeSource: { fsType: S, partition: S, pdName: S, readOnly: S },
  GRPCAction: { port: S, service: S },
  GitRepoVolumeSource: { directory: S, repository: S, revision: S },
  GlusterfsVolumeSource: { endpoints: S, path: S, readOnly: S },
  HTTPGetAction: { host: S, httpHeaders: 'HTTPHeader[]', path: S, port: S, scheme: S },
  HTTPHeader: { name: S, value: S },
  HostAlias: { hostnames: S, ip: S },
  HostPathVolumeSource: { path: S, type: S },
  ISCSIVolumeSource: {
    chapAuthDiscovery: S, chapAuthSession: S, fsType: S, initiatorName: S, iqn: S, iscsiInterface: S, lun: S,
    portals: S, readOnly: S, secretRef: 'LocalObjectReference', targetPortal: S,
  },
  KeyToPath: { key: S, mode: S, path: S },
  LabelSelector: { matchExpressions: 'LabelSelectorRequirement[]', matchLabels: MAP },
  LabelSelectorRequirement: { key: S, operator: S, values: S },
  Lifecycle: { postStart: 'LifecycleHandler', preStop: 'LifecycleHandler' },
  LifecycleHandler: {
    exec: 'ExecAction', httpGet: 'HTTPGetAction', sleep: 'SleepAction', tcpSocket: 'TCPSocketAction',
  },
  LocalObjectReference: { name: S },
  NFSVolumeSource: { path: S, readOnly: S, server: S },
  NodeAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: 'PreferredSchedulingTerm[]',
    requiredDuringSchedulingIgnoredDuringExecution: 'NodeSelector',
  },
  NodeSelector: { nodeSelectorTerms: 'NodeSelectorTerm[]' },
  NodeSelectorRequirement: { key: S, operator: S, values: S },
  NodeSelectorTerm: {
    matchExpressions: 'NodeSelectorRequirement[]', matchFields: 'NodeSelectorRequirement[]',
  },
  ObjectFieldSelector: { apiVersion: S, fieldPath: S },
  ObjectMeta: {
    annotations: MAP, creationTimestamp: S, deletionGracePeriodSeconds: S, deletionTimestamp: S,
    finalizers: S, generateName: S, generation: S, labels: MAP, managedFields: ANY, name: S, namespace: S,
    ownerReferences: 'OwnerReference[]', resourceVersion: S, selfLink: S, uid: S,
  },
  OwnerReference: { apiVersion: S, blockOwnerDeletion: S, controller: S, kind: S, name: S, uid: S },
  PersistentVolumeClaimSpec: {
    accessModes: S, dataSource: 'TypedLocalObjectReference', dataSourceRef: 'TypedObjectReference',
    resources: 'VolumeResourceRequirements', selector: 'LabelSelector', storageClassName: S,
    volumeAttributesClassName: S, volumeMode: S, volumeName: S,
  },
  PersistentVolumeClaimTemplate: { metadata: 'ObjectMeta', spec: 'PersistentVolumeClaimSpec' },
  PersistentVolumeClaimVolumeSource: { claimName: S, readOnly: S },
  PhotonPersistentDiskVolumeSource: { fsType: S, pdID: S },
  PodAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: 'WeightedPodAffinityTerm[]',
    requiredDuringSchedulingIgnoredDuringExecution: 'PodAffinityTerm[]',
  },
  PodAffinityTerm: {
    labelSelector: 'LabelSelector', matchLabelKeys: S, mismatchLabelKeys: S,
    namespaceSelector: 'LabelSelector', namespaces: S, topologyKey: S,
  },
  PodAntiAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: 'WeightedPodAffinityTerm[]',
    requiredDuringSchedulingIgnoredDuringExecution: 'PodAffinityTerm[]',
  },
  PodDNSConfig: { nameservers: S, options: 'PodDNSConfigOption[]', searches: S },
  PodDNSConfigOption: { name: S, value: S },
  PodOS: { name: S },
  PodReadinessGate: { conditionType: S },
  PodResourceClaim: { name: S, source: 'ClaimSource' },
  PodSchedulingGate: { name: S },
  PodSecurityContext: {
    appArmorProfile: 'AppArmorProfile', fsGroup: S, fsGroupChangePolicy: S, runAsGroup: S, runAsNonRoot: S,
    runAsUser: S, seLinuxOptions: 'SELinuxOptions', seccompProfile: 'SeccompProfile', supplementalGroups: S,
    sysctls: 'Sysctl[]', windowsOptions: 'WindowsSecurityContextOptions',
  },
  PodSpec: {
    activeDeadlineSeconds: S, affinity: 'Affinity', automountServiceAccountToken: S,
    containers: 'Container[]', dnsConfig: 'PodDNSConfig', dnsPolicy: S, enableServiceLinks: S,
    ephemeralContainers: 'EphemeralContainer[]', hostAliases: 'HostAlias[]', hostIPC: S, hostNetwork: S,
    hostPID: S, hostUsers: S, hostname: S, imagePullSecrets: 'LocalObjectReference[]',
    initContainers: 'Container[]', nodeName: S, nodeSelector: MAP, os: 'PodOS', overhead: MAP,
    preemptionPolicy: S, priority: S, priorityClassName: S, readinessGates: 'PodReadinessGate[]',
    resourceClaims: 'PodResourceClaim[]', restartPolicy: S, runtimeClassName: S, schedulerName: S,
    schedulingGates: 'PodSchedulingGate[]', securityContext: 'PodSecurityContext', serviceAccount: S,
    serviceAccountName: S, setHostnameAsFQDN: S, shareProcessNamespace: S, subdomain: S,
    terminationGracePeriodSeconds: S, tolerations: 'Toleration[]',
    topologySpreadConstraints: 'TopologySpreadConstraint[]', volumes: 'Volume[]',
  },
  PortworxVolumeSource: { fsType: S, readOnly: S, volumeID: S },
  PreferredSchedulingTerm: { preference: 'NodeSelectorTerm', weight: S },
  Probe: {
    exec: 'ExecAction', failureThreshold: S, grpc: 'GRPCAction', httpGet: 'HTTPGetAction',
    initialDelaySeconds: S, periodSeconds: S, successThreshold: S, tcpSocket: 'TCPSocketAction',
    terminationGracePeriodSeconds: S, timeoutSeconds: S,
  },
  ProjectedVolumeSource: { defaultMode: S, sources: 'VolumeProjection[]' },
  QuobyteVolumeSource: { group: S, readOnly: S, registry: S, tenant: S, user: S, volume: S },
  RBDVolumeSource: {
    fsType: S, image: S, keyring: S, monitors: S, pool: S, readOnly: S, secretRef: 'LocalObjectReference',
    user: S,
  },
  ResourceClaim: { name: S },
  ResourceFieldSelector: { containerName: S, divisor: S, resource: S },
  ResourceRequirements: { claims: 'ResourceClaim[]', limits: MAP, requests: MAP },
  SELinuxOptions: { level: S, role: S, type: S, user: S },
  ScaleIOVolumeSource: {
    fsType: S, gateway: S, protectionDomain: S, readOnly: S, secretRef: 'LocalObjectReference', sslEnabled: S,
    storageMode: S, storagePool: S, system: S, volumeName: S,
  },
  SeccompProfile: { localhostProfile: S, type: S },
  SecretEnvSource: { name: S, optional: S },
  SecretKeySelector: { key: S, name: S, optional: S },
  SecretProjection: { items: 'KeyToPath[]', name: S, optional: S },
  SecretVolumeSource: { defaultMode: S, items: 'KeyToPath[]', optional: S, secretName: S },
  SecurityContext: {
    allowPrivilegeEscalation: S, appArmorProfile: 'AppArmorProfile', capabilities: 'Capabilities',
    privileged: S, procMount: S, readOnlyRootFilesystem: S, runAsGroup: S, runAsNonRoot: S, runAsUser: S,
    seLinuxOptions: 'SELinuxOptions', seccompProfile: 'SeccompProfile',
    windowsOptions: 'WindowsSecurityContextOptions',
  },
  ServiceAccountTokenProjection: { audience: S, expirationSeconds: S, path: S },
  SleepAction: { seconds: S },
  StorageOSVolumeSource: {
    fsType: S, readOnly: S, secretRef: 'LocalObjectReference', volumeName: S, volumeNamespace: S,
  },
  Sysctl: { name: S, value: S },
  TCPSocketAction: { host: S, port: S },
  Toleration: { effect: S, key: S, operator: S, tolerationSeconds: S, value: S },
  TopologySpreadConstraint: {
    labelSelector: 'LabelSelector', matchLabelKeys: S, maxSkew: S, minDomains: S, nodeAffinityPolicy: S,
    nodeTaintsPolicy: S, topologyKey: S, whenUnsatisfiable: S,
  },
  TypedLocalObjectReference: { apiGroup: S, kind: S, name: S },
  TypedObjectReference: { apiGroup: S, kind: S, name: S, namespace: S },
  Volume: {
    awsElasticBlockStore: 'AWSElasticBlockStoreVolumeSource', azureDisk: 'AzureDiskVolumeSource',
    azureFile: 'AzureFileVolumeSource', cephfs: 'CephFSVolumeSource', cinder: 'CinderVolumeSource',
    configMap: 'ConfigMapVolumeSource', csi: 'CSIVolumeSource', downwardAPI: 'DownwardAPIVolumeSource',
    emptyDir: 'EmptyDirVolumeSource', ephemeral: 'EphemeralVolumeSource', fc: 'FCVolumeSource',
    flexVolume: 'FlexVolumeSource', flocker: 'FlockerVolumeSource',
    gcePersistentDisk: 'GCEPersistentDiskVolumeSource', gitRepo: 'GitRepoVolumeSource',
    glusterfs: 'GlusterfsVolumeSource', hostPath: 'HostPathVolumeSource', iscsi: 'ISCSIVolumeSource', name: S,
    nfs: 'NFSVolumeSource', persistentVolumeClaim: 'PersistentVolumeClaimVolumeSource',
    photonPersistentDisk: 'PhotonPersistentDiskVolumeSource', portworxVolume: 'PortworxVolumeSource',
    projected: 'ProjectedVolumeSource', quobyte: 'QuobyteVolumeSource', rbd: 'RBDVolumeSource',
    scaleIO: 'ScaleIOVolumeSource', secret: 'SecretVolumeSource', storageos: 'StorageOSVolumeSource',
    vsphereVolume: 'VsphereVirtualDiskVolumeSource',
  },
  VolumeDevice: { devicePath: S, name: S },
  VolumeMount: {
    mountPath: S, mountPropagation: S, name: S, readOnly: S, recursiveReadOnly: S, subPath: S, subPathExpr: S,
  },
  VolumeProjection: {
    clusterTrustBundle: 'ClusterTrustBundleProjection', configMap: 'ConfigMapProjection',
    downwardAPI: 'DownwardAPIProjection', secret: 'SecretProjection',
    serviceAccountToken: 'ServiceAccountTokenProjection',
  },
  VolumeResourceRequirements: { limits: MAP, requests: MAP },
  VsphereVirtualDiskVolumeSource: { fsType: S, storagePolicyID: S, storagePolicyName: S, volumePath: S },
  WeightedPodAffinityTerm: { podAffinityTerm: 'PodAffinityTerm', weight: S },
  WindowsSecurityContextOptions: {
    gmsaCredentialSpec: S, gmsaCredentialSpecName: S, hostProcess: S, runAsUserName: S,
  },
};

/**
 * Finds the fields of a decoded Pod that no core/v1 type defines, as strict field validation would
 * name them (`spec.containers[0].comand`), each with a did-you-mean suggestion from the fields known
 * at that level. Only the outermost unknown field of a subtree is reported, as the Go decoder does.
 * Free-form maps (labels, annotations, nodeSelector, resources.limits) and the status subtree are not
 * checked; a value of the wrong type is left to validation. Never throws.
 *
 * @param value - the decoded Pod (any JSON value; non-objects yield nothing).
 * @param locate - maps a field path to its position in the text, to fill `line`/`column`.
 * @param file - the file name for the warnings' details.
 * @returns warnings with code {@link UNKNOWN_FIELD} and details `{ file, line, column, field }`.
 */
export function findUnknownFields(
  value: unknown,
  locate?: (path: string) => { line: number; column: number } | undefined,
  file?: string,
): NodeletError[] {
  const out: NodeletError[] = [];
  walk(value, 'Pod', '', '', (field, locPath, known) => {
    const leaf = lastSegment(field);
    // An edit distance costs length × length: no suggestion for a key no typo of a field name could
    // be, nor past the first few, so that 100,000 unknown fields or a multi-MB key stay cheap.
    const suggestion = out.length < MAX_SUGGESTIONS && leaf.length <= MAX_SUGGESTED_KEY ? closest(leaf, Object.keys(known)) : undefined;
    const message = clip(`unknown field ${JSON.stringify(field)}${suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : ''}`);
    const pos = locate?.(locPath);
    out.push(
      new NodeletError(UNKNOWN_FIELD, message, {
        details: { ...(file !== undefined ? { file } : {}), ...(pos ? { line: pos.line, column: pos.column } : {}), field },
      }),
    );
  });
  return out;
}

type Report = (field: string, locatePath: string, known: Readonly<Record<string, FieldKind>>) => void;

// `path` is the field path as messages show it (`metadata.labels.a.b` style, like apimachinery);
// `locPath` is the same path in the form the locator parses, with odd keys bracketed.
function walk(value: unknown, type: string, path: string, locPath: string, report: Report): void {
  const known = KNOWN_FIELDS[type];
  if (!known || !isObj(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const field = path === '' ? key : `${path}.${key}`;
    const childLoc = /[.[\]]/.test(key) ? `${locPath}[${key}]` : locPath === '' ? key : `${locPath}.${key}`;
    // hasOwn: a key like `constructor` must not find Object.prototype's.
    if (!Object.hasOwn(known, key)) {
      report(field, childLoc, known);
      continue;
    }
    const kind = known[key]!;
    if (kind === S || kind === MAP || kind === ANY || child === null || child === undefined) continue;
    if (kind.endsWith('[]')) {
      if (!Array.isArray(child)) continue;
      const itemType = kind.slice(0, -2);
      child.forEach((item, i) => walk(item, itemType, `${field}[${i}]`, `${childLoc}[${i}]`, report));
    } else {
      walk(child, kind, field, childLoc, report);
    }
  }
}

function lastSegment(field: string): string {
  const dot = field.lastIndexOf('.');
  return dot < 0 ? field : field.slice(dot + 1);
}

const MAX_SUGGESTIONS = 100;
const MAX_SUGGESTED_KEY = 64;

// How far before a value its key may start: room for the `:`, spaces, an anchor or a tag.
const KEY_WINDOW = 256;

/**
 * Wraps a {@link Locate} so that it points at a field's key rather than at its value. The locator
 * points at the value of a scalar or flow field (`comand: [sh]` → the `[`), but an unknown field is
 * about the key: on the line found, the last occurrence of the key (plain or quoted) followed by `:`
 * before the value is taken. Keys on another line than their value keep the value's position.
 *
 * @param text - the manifest text the locator was built on (BOM already removed).
 * @param locate - the document's locator.
 */
export function keyLocator(text: string, locate: Locate): Locate {
  let lines: string[] | undefined;
  return (path: string): Position | undefined => {
    const pos = locate(path);
    if (!pos) return pos;
    const m = /(?:^|\.)([^.[\]]+)$|\[([^\]]*)\]$/.exec(path);
    const key = m?.[1] ?? m?.[2];
    if (key === undefined || /^[0-9]+$/.test(key)) return pos;
    lines ??= text.split('\n');
    const line = lines[pos.line - 1];
    if (line === undefined) return pos;
    const before = line.slice(0, pos.column - 1);
    let best = -1;
    for (const form of [key, JSON.stringify(key), `'${key.replace(/'/g, "''")}'`]) {
      // Only just before the value: on a one-line JSON manifest a search of the whole line for
      // each of 20,000 unknown fields took over a minute. (A RegExp of the key is no option either:
      // a multi-MB key is a "Regular expression too large" SyntaxError.)
      const from = Math.max(0, before.length - form.length - KEY_WINDOW);
      // `at < length`: the empty key (what a path ending `…[a][]` reads back as) is found at every
      // index, and at the end of the line forever.
      for (let at = before.indexOf(form, from); at >= 0 && at < before.length; at = before.indexOf(form, at + 1)) {
        let end = at + form.length;
        while (end < before.length && /\s/.test(before[end]!)) end++;
        // The key must start a token (`xcomand:` does not contain the key `comand`) and end at a `:`.
        const prev = at === 0 ? '' : before[at - 1]!;
        if (at > best && before[end] === ':' && !/[\w-]/.test(prev)) best = at;
      }
    }
    return best < 0 ? pos : { line: pos.line, column: best + 1 };
  };
}
