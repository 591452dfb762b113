import type { Event } from 'kubernetes-types/core/v1.js';
import { kubeTime } from '../util/kube-time.js';
import type { PodEvent } from './recorder.js';

/** A kubelet event as a core/v1 Event, the shape `kubectl describe` and `kubectl get events` read. */
export function toApiEvent(e: PodEvent, nodeName: string): Event {
  const o = e.involvedObject;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: e.name,
      namespace: o.namespace,
      resourceVersion: String(e.resourceVersion),
      creationTimestamp: kubeTime(e.firstTimestamp),
    },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: o.namespace, name: o.name, uid: o.uid, ...(o.fieldPath ? { fieldPath: o.fieldPath } : {}) },
    reason: e.reason,
    message: e.message,
    source: { component: 'kubelet', host: nodeName },
    firstTimestamp: kubeTime(e.firstTimestamp),
    lastTimestamp: kubeTime(e.lastTimestamp),
    count: e.count,
    type: e.type,
    eventTime: null as unknown as undefined,
    reportingComponent: 'kubelet',
    reportingInstance: nodeName,
  };
}
