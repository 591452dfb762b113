// The resources the double serves and how each behaves: scope, discovery data, selectable fields,
// strategy (what create and update may set: pkg/registry/core/pod/strategy.go,
// pkg/registry/core/node/strategy.go, pkg/registry/coordination/lease/strategy.go,
// pkg/registry/core/event/strategy.go, pkg/registry/core/namespace/strategy.go), printer and
// strategic-merge schema.

import { defaultPod, type Obj, podQOS, sortKeys, validatePod, validatePodSpecUpdate } from './defaults.js';
import type { FieldError } from './errors.js';
import type { MergeSchema } from './patch.js';
import { defaultPrinter, type Printer, printers } from './tables.js';

/** One served resource. */
export interface ResourceDef {
  group: string;
  version: string;
  /** `v1` or `<group>/v1`. */
  apiVersion: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Has a `/status` subresource (pods, nodes, namespaces). */
  hasStatus: boolean;
  /** PUT may create (AllowCreateOnUpdate): leases and events yes, pods and nodes no. */
  allowCreateOnUpdate: boolean;
  /** PUT without metadata.resourceVersion is allowed (AllowUnconditionalUpdate): not for leases. */
  allowUnconditionalUpdate: boolean;
  /** DELETE answers with the object (pods, namespaces) rather than a Success Status. */
  returnDeletedObject: boolean;
  /** The field selector fields, with their values for one object. */
  fields(o: Obj): Record<string, string>;
  /** PrepareForCreate plus defaulting; may throw nothing, returns validation errors. */
  prepareForCreate?(o: Obj): FieldError[];
  /** PrepareForUpdate of the main resource (and its validation). */
  prepareForUpdate?(o: Obj, old: Obj): FieldError[];
  /** PrepareForUpdate of the status subresource. */
  prepareForStatusUpdate?(o: Obj, old: Obj): void;
  /** CheckGracefulDelete: the grace period to use, or undefined when the kind is not deleted gracefully. */
  gracePeriod?(o: Obj, requested: number | undefined): number;
  printer: Printer;
  schema: MergeSchema;
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** metadata.name and, for namespaced kinds, metadata.namespace (generic.ObjectMetaFieldsSet). */
function metaFields(o: Obj, namespaced: boolean): Record<string, string> {
  return namespaced ? { 'metadata.name': str(o.metadata.name), 'metadata.namespace': str(o.metadata.namespace) } : { 'metadata.name': str(o.metadata.name) };
}

const META: MergeSchema = { ownerReferences: { mergeKey: 'uid' }, finalizers: { primitiveMerge: true } };
const CONTAINER: MergeSchema = {
  ports: { mergeKey: 'containerPort' },
  env: { mergeKey: 'name' },
  volumeMounts: { mergeKey: 'mountPath' },
  volumeDevices: { mergeKey: 'devicePath' },
};

const POD_SCHEMA: MergeSchema = {
  metadata: { fields: META },
  spec: {
    fields: {
      containers: { mergeKey: 'name', fields: CONTAINER },
      initContainers: { mergeKey: 'name', fields: CONTAINER },
      ephemeralContainers: { mergeKey: 'name', fields: CONTAINER },
      volumes: { mergeKey: 'name' },
      imagePullSecrets: { mergeKey: 'name' },
      hostAliases: { mergeKey: 'ip' },
      topologySpreadConstraints: { mergeKey: 'topologyKey' },
      schedulingGates: { mergeKey: 'name' },
      resourceClaims: { mergeKey: 'name' },
    },
  },
  // containerStatuses, initContainerStatuses and ephemeralContainerStatuses have no patch strategy:
  // they are atomic, replaced whole.
  status: { fields: { conditions: { mergeKey: 'type' }, podIPs: { mergeKey: 'ip' }, hostIPs: { mergeKey: 'ip' }, resourceClaimStatuses: { mergeKey: 'name' } } },
};

const NODE_SCHEMA: MergeSchema = {
  metadata: { fields: META },
  spec: { fields: { podCIDRs: { primitiveMerge: true } } },
  status: { fields: { conditions: { mergeKey: 'type' }, addresses: { mergeKey: 'type' } } },
};

const POD: ResourceDef = {
  group: '',
  version: 'v1',
  apiVersion: 'v1',
  plural: 'pods',
  singular: 'pod',
  kind: 'Pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  hasStatus: true,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  returnDeletedObject: true,
  // PodToSelectableFields (pkg/registry/core/pod/strategy.go).
  fields: (p) => ({
    ...metaFields(p, true),
    'spec.nodeName': str(p.spec?.nodeName),
    'spec.restartPolicy': str(p.spec?.restartPolicy),
    'spec.schedulerName': str(p.spec?.schedulerName),
    'spec.serviceAccountName': str(p.spec?.serviceAccountName),
    'spec.hostNetwork': String(Boolean(p.spec?.hostNetwork)),
    'status.phase': str(p.status?.phase),
    'status.podIP': str(p.status?.podIP),
    'status.podIPs': str(p.status?.podIPs?.[0]?.ip),
    'status.nominatedNodeName': str(p.status?.nominatedNodeName),
  }),
  prepareForCreate(p) {
    defaultPod(p);
    p.metadata.generation = 1;
    // podStrategy.PrepareForCreate: whatever status the client sent is replaced.
    p.status = { phase: 'Pending', qosClass: podQOS(p) };
    return validatePod(p);
  },
  prepareForUpdate(p, old) {
    p.status = old.status;
    // Also covers spec.nodeName, which only the binding subresource sets.
    const errs = validatePodSpecUpdate(p.spec, old.spec);
    // updatePodGeneration: a spec change bumps the generation.
    if (JSON.stringify(sortKeys(p.spec)) !== JSON.stringify(sortKeys(old.spec))) p.metadata.generation = (old.metadata.generation ?? 0) + 1;
    return errs;
  },
  prepareForStatusUpdate(p, old) {
    // podStatusStrategy.PrepareForUpdate: spec and ownerReferences kept; labels and annotations may change.
    p.spec = old.spec;
    if (old.metadata.ownerReferences) p.metadata.ownerReferences = old.metadata.ownerReferences;
    else delete p.metadata.ownerReferences;
    if (p.status && !p.status.qosClass && old.status?.qosClass) p.status.qosClass = old.status.qosClass;
  },
  // podStrategy.CheckGracefulDelete.
  gracePeriod(p, requested) {
    let period = requested ?? p.spec?.terminationGracePeriodSeconds ?? 0;
    if (!p.spec?.nodeName) period = 0;
    if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') period = 0;
    return period < 0 ? 1 : period;
  },
  printer: printers.pod,
  schema: POD_SCHEMA,
};

const NODE: ResourceDef = {
  group: '',
  version: 'v1',
  apiVersion: 'v1',
  plural: 'nodes',
  singular: 'node',
  kind: 'Node',
  namespaced: false,
  shortNames: ['no'],
  hasStatus: true,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  returnDeletedObject: false,
  fields: (n) => ({ ...metaFields(n, false), 'spec.unschedulable': String(Boolean(n.spec?.unschedulable)) }),
  // Nodes keep the status they are created with (the kubelet registers with its status filled).
  prepareForUpdate(n, old) {
    n.status = old.status;
    return [];
  },
  prepareForStatusUpdate(n, old) {
    n.spec = old.spec;
  },
  printer: printers.node,
  schema: NODE_SCHEMA,
};

const NAMESPACE: ResourceDef = {
  group: '',
  version: 'v1',
  apiVersion: 'v1',
  plural: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  namespaced: false,
  shortNames: ['ns'],
  hasStatus: true,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  returnDeletedObject: true,
  fields: (ns) => ({ ...metaFields(ns, false), 'status.phase': str(ns.status?.phase) }),
  prepareForCreate(ns) {
    ns.spec = { finalizers: ['kubernetes'] };
    ns.status = { phase: 'Active' };
    ns.metadata.labels = { ...ns.metadata.labels, 'kubernetes.io/metadata.name': ns.metadata.name };
    return [];
  },
  prepareForUpdate(ns, old) {
    ns.spec = old.spec;
    ns.status = old.status;
    return [];
  },
  prepareForStatusUpdate(ns, old) {
    ns.spec = old.spec;
  },
  printer: printers.namespace,
  schema: { metadata: { fields: META } },
};

const LEASE: ResourceDef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  apiVersion: 'coordination.k8s.io/v1',
  plural: 'leases',
  singular: 'lease',
  kind: 'Lease',
  namespaced: true,
  hasStatus: false,
  allowCreateOnUpdate: true,
  allowUnconditionalUpdate: false,
  returnDeletedObject: false,
  fields: (l) => metaFields(l, true),
  printer: printers.lease,
  schema: { metadata: { fields: META } },
};

const CORE_EVENT: ResourceDef = {
  group: '',
  version: 'v1',
  apiVersion: 'v1',
  plural: 'events',
  singular: 'event',
  kind: 'Event',
  namespaced: true,
  shortNames: ['ev'],
  hasStatus: false,
  allowCreateOnUpdate: true,
  allowUnconditionalUpdate: true,
  returnDeletedObject: false,
  // pkg/registry/core/event/strategy.go ToSelectableFields.
  fields: (e) => ({
    ...metaFields(e, true),
    'involvedObject.kind': str(e.involvedObject?.kind),
    'involvedObject.namespace': str(e.involvedObject?.namespace),
    'involvedObject.name': str(e.involvedObject?.name),
    'involvedObject.uid': str(e.involvedObject?.uid),
    'involvedObject.apiVersion': str(e.involvedObject?.apiVersion),
    'involvedObject.resourceVersion': str(e.involvedObject?.resourceVersion),
    'involvedObject.fieldPath': str(e.involvedObject?.fieldPath),
    reason: str(e.reason),
    reportingComponent: str(e.reportingComponent),
    source: str(e.source?.component),
    type: str(e.type),
  }),
  printer: printers.event,
  schema: { metadata: { fields: META } },
};

// events.k8s.io/v1 events are stored apart from core/v1 ones here; the real server keeps one
// storage and converts between the two shapes.
const EVENTS_V1_EVENT: ResourceDef = {
  ...CORE_EVENT,
  group: 'events.k8s.io',
  apiVersion: 'events.k8s.io/v1',
  fields: (e) => ({
    ...metaFields(e, true),
    'regarding.kind': str(e.regarding?.kind),
    'regarding.namespace': str(e.regarding?.namespace),
    'regarding.name': str(e.regarding?.name),
    'regarding.uid': str(e.regarding?.uid),
    reason: str(e.reason),
    reportingController: str(e.reportingController),
    type: str(e.type),
  }),
  printer: defaultPrinter,
};

/** Every served resource. */
export const RESOURCES: readonly ResourceDef[] = [POD, NODE, NAMESPACE, CORE_EVENT, LEASE, EVENTS_V1_EVENT];

/** The resource of an API path: group (`''` for core), version and plural. */
export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/**
 * The resource a test names: `pods`, `Pod`, `pod`, `leases`, `leases.coordination.k8s.io`,
 * `events` (core) or `events.events.k8s.io`.
 */
export function resolveResource(name: string): ResourceDef {
  const n = name.toLowerCase();
  const hit =
    RESOURCES.find((r) => r.group === '' && (r.plural === n || r.singular === n)) ??
    RESOURCES.find((r) => r.plural === n || r.singular === n || r.kind.toLowerCase() === n) ??
    RESOURCES.find((r) => r.group && `${r.plural}.${r.group}` === n);
  if (!hit) throw new Error(`apiserver double: no resource "${name}" (have ${RESOURCES.map((r) => (r.group ? `${r.plural}.${r.group}` : r.plural)).join(', ')})`);
  return hit;
}
