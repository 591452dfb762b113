// Discovery documents, enough for the real kubectl: /version, /api (APIVersions), /api/v1 and
// /apis/<group>/<version> (APIResourceList), /apis (APIGroupList) and /apis/<group> (APIGroup), the
// legacy documents of staging/src/k8s.io/apiserver/pkg/endpoints/discovery. kubectl asks for the
// aggregated discovery (apidiscovery.k8s.io/v2) first and falls back to these when the answer is
// plain application/json. /openapi/v2 and /openapi/v3 are 404: `kubectl get`, `delete` and
// `--raw` do not need them (`kubectl apply`/`explain` would).

import { RESOURCES, type ResourceDef } from './resources.js';

const ALL_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

function resourceEntries(defs: readonly ResourceDef[]): object[] {
  return defs.flatMap((r) => [
    {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: ALL_VERBS,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    },
    ...(r.hasStatus ? [{ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }] : []),
  ]);
}

/** `/version`: a v1.32 server, marked as the double in its git version. */
export function versionInfo(): object {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0+apiserver-double',
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

/** `/api`. */
export function apiVersions(host: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] };
}

/** `/api/v1` or `/apis/<group>/<version>`, or undefined for a group-version not served. */
export function resourceList(group: string, version: string): object | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: resourceEntries(defs) };
}

function groupEntry(name: string): object {
  const versions = [...new Set(RESOURCES.filter((r) => r.group === name).map((r) => r.version))].map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions, preferredVersion: versions[0] };
}

const namedGroups = () => [...new Set(RESOURCES.map((r) => r.group).filter((g) => g !== ''))];

/** `/apis`. */
export function apiGroupList(): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: namedGroups().map(groupEntry) };
}

/** `/apis/<group>`, or undefined for a group not served. */
export function apiGroup(name: string): object | undefined {
  if (!namedGroups().includes(name)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(name) };
}
