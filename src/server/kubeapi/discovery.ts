// API discovery as kubectl reads it: the legacy (non-aggregated) documents of
// staging/src/k8s.io/apiserver/pkg/endpoints/discovery (legacy.go, root.go, version.go). kubectl 1.27+
// asks for aggregated discovery first and falls back to these when the answer is plain application/json.

/** One resource of an APIResourceList (metav1.APIResource). */
export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

// Only the read verbs: writes are refused, and saying so in discovery is honest.
const READ = ['get', 'list', 'watch'];

/** The core/v1 resources nodelet serves. */
export const coreV1Resources: readonly APIResource[] = [
  { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs: READ, shortNames: ['ev'] },
  { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: READ, shortNames: ['po'], categories: ['all'] },
  { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
];

/** `/api`: the legacy group's versions (metav1.APIVersions). */
export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** `/api/v1`: the core/v1 resources (metav1.APIResourceList). */
export function coreV1ResourceList(): object {
  return { kind: 'APIResourceList', groupVersion: 'v1', resources: coreV1Resources };
}

/** `/apis`: no named groups at all (metav1.APIGroupList). */
export function apiGroupList(): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
}
