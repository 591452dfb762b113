// Static pod defaulting. Two layers, both mirrored:
// - the kubelet's own (pkg/kubelet/config/common.go applyDefaults): the UID and config.hash, the
//   name `<name>-<node>`, namespace `default`, spec.nodeName, the NoExecute toleration for file
//   pods, status.phase Pending; plus the config.source/config.seen annotations the kubelet adds in
//   pkg/kubelet/config/config.go;
// - the API server's (pkg/apis/core/v1/defaults.go SetDefaults_Pod/PodSpec/Container/…), so that
//   `kubectl get -o yaml` against nodelet shows what it would show against a cluster, and the rest of
//   nodelet never has to ask "was restartPolicy set?".

import type { Pod } from '../api/types.js';
import {
  ConfigFileAnnotation, ConfigHashAnnotation, ConfigSeenAnnotation, ConfigSourceAnnotation,
} from '../api/types.js';
import { isObj, own, type Obj } from './read.js';
import { setOwn, toPlainJSON } from './plain.js';
import { VOLUME_SOURCES } from './validate-volumes.js';
import { staticPodUID } from './uid.js';

/** What defaulting needs to know about where the pod came from (a subset of LoadOptions). */
export interface DefaultsOptions {
  nodeName: string;
  source: 'file' | 'http';
  /** Full file path or URL; part of the UID and the `nodelet.io/config.file` annotation. */
  origin: string;
  /** When the manifest was first seen: the `kubernetes.io/config.seen` annotation. */
  seenAt: Date;
}

/** API-server default of terminationGracePeriodSeconds (v1.DefaultTerminationGracePeriodSeconds). */
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
/** API-server default of the container termination message path. */
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';
/** The default scheduler name (v1.DefaultSchedulerName). */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
// SetDefaults_DownwardAPIVolumeSource / SetDefaults_ProjectedVolumeSource: 0644.
const DEFAULT_VOLUME_MODE = 0o644;

/**
 * Returns a defaulted copy of a validated static pod (the input is not modified): UID, name, namespace,
 * node, annotations, toleration and status as the kubelet sets them, and the API server's defaults.
 * The UID is computed from `pod` as given, so pass the decoded pod, not an already defaulted one.
 */
export function applyStaticPodDefaults(pod: Pod, opts: DefaultsOptions): Pod {
  const uid = staticPodUID(pod, opts.nodeName, opts.source, opts.origin);
  const copy = toPlainJSON(pod);
  const out: Obj = isObj(copy) ? copy : {};
  setOwn(out, 'apiVersion', 'v1');
  setOwn(out, 'kind', 'Pod');

  const meta = objField(out, 'metadata');
  const name = own(meta, 'name');
  // common.go generatePodName: `<name>-<lowercased node name>`. A missing name is a validation error
  // ("name is needed for the pod"); defaulting leaves it missing rather than invent one.
  if (typeof name === 'string' && name !== '') meta.name = `${name}-${opts.nodeName.toLowerCase()}`;
  if (!nonEmptyString(own(meta, 'namespace'))) meta.namespace = 'default';
  meta.uid = uid;
  const annotations = objField(meta, 'annotations');
  annotations[ConfigHashAnnotation] = uid;
  annotations[ConfigSourceAnnotation] = opts.source;
  annotations[ConfigSeenAnnotation] = formatRFC3339Nano(opts.seenAt);
  annotations[ConfigFileAnnotation] = opts.origin;

  const spec = objField(out, 'spec');
  spec.nodeName = opts.nodeName;
  if (opts.source === 'file') addNoExecuteToleration(spec);
  defaultPodSpec(spec);

  // The kubelet sets the phase; any status written in the manifest is not the pod's status.
  out.status = { phase: 'Pending' };
  return out as Pod;
}

/**
 * Formats a time as Go's RFC3339Nano in UTC with all nine fraction digits, e.g.
 * `2026-11-25T15:04:05.123000000Z` (fixed width, so the values also sort as text).
 */
export function formatRFC3339Nano(t: Date): string {
  // Go's time.RFC3339Nano drops trailing zeros of the fraction (and the dot when it is all zeros).
  const iso = t.toISOString(); // 2026-11-25T15:04:05.120Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? '.' + frac : ''}Z`;
}

// helper.AddOrUpdateTolerationInPod: a toleration matching on key, operator, value and effect is
// replaced; otherwise ours is appended.
function addNoExecuteToleration(spec: Obj): void {
  const ours = { operator: 'Exists', effect: 'NoExecute' };
  const existing = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  let found = false;
  const next = existing.map((t: unknown) => {
    if (
      isObj(t) &&
      str(own(t, 'key')) === '' &&
      str(own(t, 'operator')) === 'Exists' &&
      str(own(t, 'value')) === '' &&
      str(own(t, 'effect')) === 'NoExecute'
    ) {
      found = true;
      return { ...ours };
    }
    return t;
  });
  if (!found) next.push({ ...ours });
  spec.tolerations = next;
}

function defaultPodSpec(spec: Obj): void {
  if (!nonEmptyString(own(spec, 'restartPolicy'))) spec.restartPolicy = 'Always';
  if (!nonEmptyString(own(spec, 'dnsPolicy'))) spec.dnsPolicy = 'ClusterFirst';
  if (!nonEmptyString(own(spec, 'schedulerName'))) spec.schedulerName = DEFAULT_SCHEDULER_NAME;
  if (own(spec, 'terminationGracePeriodSeconds') == null) spec.terminationGracePeriodSeconds = DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  if (own(spec, 'enableServiceLinks') == null) spec.enableServiceLinks = true;
  if (own(spec, 'securityContext') == null) spec.securityContext = {};
  // The Priority admission plugin resolves priorityClassName; without a class the priority is 0.
  if (own(spec, 'priority') == null) spec.priority = 0;

  const hostNetwork = own(spec, 'hostNetwork') === true;
  for (const list of ['initContainers', 'containers']) {
    const containers = own(spec, list);
    if (!Array.isArray(containers)) continue;
    for (const c of containers) if (isObj(c)) defaultContainer(c, hostNetwork);
  }
  const volumes = own(spec, 'volumes');
  if (Array.isArray(volumes)) for (const v of volumes) if (isObj(v)) defaultVolume(v);
}

function defaultContainer(c: Obj, hostNetwork: boolean): void {
  if (!nonEmptyString(own(c, 'imagePullPolicy'))) c.imagePullPolicy = defaultPullPolicy(own(c, 'image'));
  if (!nonEmptyString(own(c, 'terminationMessagePath'))) c.terminationMessagePath = DEFAULT_TERMINATION_MESSAGE_PATH;
  if (!nonEmptyString(own(c, 'terminationMessagePolicy'))) c.terminationMessagePolicy = 'File';

  // SetDefaults_Pod: a limit without a request means request = limit.
  const resources = objField(c, 'resources');
  const limits = own(resources, 'limits');
  if (isObj(limits) && Object.keys(limits).length > 0) {
    const requests = objField(resources, 'requests');
    for (const [k, v] of Object.entries(limits)) if (own(requests, k) == null) setOwn(requests, k, v);
  }

  const ports = own(c, 'ports');
  if (Array.isArray(ports)) {
    for (const p of ports) {
      if (!isObj(p)) continue;
      if (!nonEmptyString(own(p, 'protocol'))) p.protocol = 'TCP';
      // defaultHostNetworkPorts: with the host's network, the host port is the container port.
      if (hostNetwork && !own(p, 'hostPort') && typeof own(p, 'containerPort') === 'number') p.hostPort = p.containerPort;
    }
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const p = own(c, probe);
    if (!isObj(p)) continue;
    if (own(p, 'timeoutSeconds') == null) p.timeoutSeconds = 1;
    if (own(p, 'periodSeconds') == null) p.periodSeconds = 10;
    if (own(p, 'successThreshold') == null) p.successThreshold = 1;
    if (own(p, 'failureThreshold') == null) p.failureThreshold = 3;
    defaultHTTPGet(own(p, 'httpGet'));
  }
  const lifecycle = own(c, 'lifecycle');
  if (isObj(lifecycle)) {
    for (const hook of ['postStart', 'preStop']) {
      const h = own(lifecycle, hook);
      if (isObj(h)) defaultHTTPGet(own(h, 'httpGet'));
    }
  }
  const env = own(c, 'env');
  if (Array.isArray(env)) {
    for (const e of env) {
      const ref = isObj(e) && isObj(own(e, 'valueFrom')) ? own(own(e, 'valueFrom') as Obj, 'fieldRef') : undefined;
      if (isObj(ref) && !nonEmptyString(own(ref, 'apiVersion'))) ref.apiVersion = 'v1';
    }
  }
}

function defaultHTTPGet(h: unknown): void {
  if (!isObj(h)) return;
  if (!nonEmptyString(own(h, 'path'))) h.path = '/';
  if (!nonEmptyString(own(h, 'scheme'))) h.scheme = 'HTTP';
}

function defaultVolume(v: Obj): void {
  // SetDefaults_Volume: a volume with no source is an emptyDir.
  if (!VOLUME_SOURCES.some((s) => own(v, s) != null)) v.emptyDir = {};
  const hostPath = own(v, 'hostPath');
  if (isObj(hostPath) && own(hostPath, 'type') == null) hostPath.type = '';
  for (const key of ['downwardAPI', 'projected']) {
    const src = own(v, key);
    if (isObj(src) && own(src, 'defaultMode') == null) src.defaultMode = DEFAULT_VOLUME_MODE;
  }
  const projected = own(v, 'projected');
  const sources = isObj(projected) ? own(projected, 'sources') : undefined;
  if (Array.isArray(sources)) {
    for (const s of sources) {
      const items = isObj(s) && isObj(own(s, 'downwardAPI')) ? own(own(s, 'downwardAPI') as Obj, 'items') : undefined;
      if (Array.isArray(items)) for (const it of items) defaultFieldRefVersion(it);
    }
  }
  const downward = own(v, 'downwardAPI');
  const items = isObj(downward) ? own(downward, 'items') : undefined;
  if (Array.isArray(items)) for (const it of items) defaultFieldRefVersion(it);
}

function defaultFieldRefVersion(item: unknown): void {
  const ref = isObj(item) ? own(item, 'fieldRef') : undefined;
  if (isObj(ref) && !nonEmptyString(own(ref, 'apiVersion'))) ref.apiVersion = 'v1';
}

/**
 * The API server's imagePullPolicy default: `Always` for `:latest` or an untagged, undigested image,
 * otherwise `IfNotPresent` (SetDefaults_Container via parsers.ParseImageName). An empty image
 * (a process-runtime container) gets `IfNotPresent`.
 */
export function defaultPullPolicy(image: unknown): 'Always' | 'IfNotPresent' {
  if (typeof image !== 'string' || image.trim() === '') return 'IfNotPresent';
  const at = image.indexOf('@');
  const named = at >= 0 ? image.slice(0, at) : image;
  const hasDigest = at >= 0;
  const lastSlash = named.lastIndexOf('/');
  const colon = named.indexOf(':', lastSlash + 1);
  const tag = colon >= 0 ? named.slice(colon + 1) : '';
  if (tag === 'latest') return 'Always';
  if (tag === '' && !hasDigest) return 'Always';
  return 'IfNotPresent';
}

function objField(parent: Obj, key: string): Obj {
  const v = own(parent, key);
  if (isObj(v)) return v;
  const fresh: Obj = {};
  setOwn(parent, key, fresh);
  return fresh;
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}
