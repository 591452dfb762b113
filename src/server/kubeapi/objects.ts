// The API objects nodelet serves, built from what the pod workers and the event recorder know, and
// the fields each can be selected by (pkg/registry/core/pod/strategy.go PodToSelectableFields,
// pkg/registry/core/event/strategy.go ToSelectableFields).

import type { Event } from 'kubernetes-types/core/v1.js';
import { ConfigSeenAnnotation, type Pod } from '../../api/types.js';
import type { WorkerSnapshot } from '../../podworkers/pod-workers.js';
import { kubeTime } from '../../util/kube-time.js';

/** What the API adds to a pod's metadata: its resourceVersion and, while it stops, its deletion. */
export interface ServedMeta {
  resourceVersion: number;
  /** ms since the epoch; set while the pod is terminating. */
  deletionTimestamp?: number;
  deletionGracePeriodSeconds?: number;
}

/**
 * A pod as the API serves it: the desired pod with its live status, a `resourceVersion`, a
 * `creationTimestamp` (when nodelet first saw the manifest, the config.seen annotation) and, while the
 * worker stops it, `deletionTimestamp` — what makes kubectl print `Terminating`.
 */
export function toApiPod(s: WorkerSnapshot, served: ServedMeta): Pod {
  const meta = s.pod.metadata ?? {};
  const seen = meta.annotations?.[ConfigSeenAnnotation];
  const seenMs = seen ? Date.parse(seen) : NaN;
  const metadata: NonNullable<Pod['metadata']> = {
    ...meta,
    namespace: meta.namespace ?? 'default',
    resourceVersion: String(served.resourceVersion),
    ...(Number.isNaN(seenMs) ? {} : { creationTimestamp: kubeTime(seenMs) }),
    ...(served.deletionTimestamp !== undefined
      ? { deletionTimestamp: kubeTime(served.deletionTimestamp), deletionGracePeriodSeconds: served.deletionGracePeriodSeconds }
      : {}),
  };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: s.pod.spec, status: s.status };
}

/** The fields a pod can be selected by (`--field-selector`), with their values. */
export const POD_FIELDS: ReadonlySet<string> = new Set([
  'metadata.name',
  'metadata.namespace',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.schedulerName',
  'spec.serviceAccountName',
  'spec.hostNetwork',
  'status.phase',
  'status.podIP',
  'status.podIPs',
  'status.nominatedNodeName',
]);

/** The values of {@link POD_FIELDS} for one pod. */
export function podFields(p: Pod): Record<string, string> {
  return {
    'metadata.name': p.metadata?.name ?? '',
    'metadata.namespace': p.metadata?.namespace ?? 'default',
    'spec.nodeName': p.spec?.nodeName ?? '',
    'spec.restartPolicy': p.spec?.restartPolicy ?? '',
    'spec.schedulerName': p.spec?.schedulerName ?? '',
    'spec.serviceAccountName': p.spec?.serviceAccountName ?? '',
    'spec.hostNetwork': String(p.spec?.hostNetwork ?? false),
    'status.phase': p.status?.phase ?? '',
    'status.podIP': p.status?.podIP ?? '',
    'status.podIPs': p.status?.podIPs?.[0]?.ip ?? '',
    'status.nominatedNodeName': p.status?.nominatedNodeName ?? '',
  };
}

/** The fields an event can be selected by; `kubectl describe` uses the involvedObject ones. */
export const EVENT_FIELDS: ReadonlySet<string> = new Set([
  'metadata.name',
  'metadata.namespace',
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
]);

/** The values of {@link EVENT_FIELDS} for one event. */
export function eventFields(e: Event): Record<string, string> {
  const o = e.involvedObject;
  return {
    'metadata.name': e.metadata.name ?? '',
    'metadata.namespace': e.metadata.namespace ?? '',
    'involvedObject.kind': o.kind ?? '',
    'involvedObject.namespace': o.namespace ?? '',
    'involvedObject.name': o.name ?? '',
    'involvedObject.uid': o.uid ?? '',
    'involvedObject.apiVersion': o.apiVersion ?? '',
    'involvedObject.resourceVersion': o.resourceVersion ?? '',
    'involvedObject.fieldPath': o.fieldPath ?? '',
    reason: e.reason ?? '',
    reportingComponent: e.reportingComponent ?? '',
    source: e.source?.component ?? '',
    type: e.type ?? '',
  };
}
