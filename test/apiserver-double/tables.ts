// Server-side printing for `kubectl get`, which asks for `application/json;as=Table;v=v1;g=meta.k8s.io`.
// Pods and core events reuse nodelet's own printers (src/server/kubeapi/pod-table.ts, event-table.ts,
// both after pkg/printers/internalversion/printers.go); nodes, leases and namespaces get the columns
// of the same file's printNode / printLease / printNamespace; anything else gets the default
// table convertor's NAME and CREATED AT (staging/src/k8s.io/apiserver/pkg/registry/rest/table.go).

import { eventColumns, eventRow } from '../../src/server/kubeapi/event-table.js';
import { timestampSince } from '../../src/server/kubeapi/human-duration.js';
import { podColumns, podRow } from '../../src/server/kubeapi/pod-table.js';
import { column, type TableColumn, type TableRow } from '../../src/server/kubeapi/table.js';
import type { Obj } from './defaults.js';

/** How one resource prints: its columns and one row per object. */
export interface Printer {
  columns: readonly TableColumn[];
  row: (obj: Obj, now: number) => TableRow;
}

const nodeColumns: readonly TableColumn[] = [
  column('Name', 'Name must be unique within a namespace.', { format: 'name' }),
  column('Status', 'The status of the node'),
  column('Roles', 'The roles of the node'),
  column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
  column('Version', 'Kubelet Version reported by the node.'),
  column('Internal-IP', 'List of addresses reachable to the node.', { priority: 1 }),
  column('External-IP', 'List of addresses reachable to the node.', { priority: 1 }),
  column('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', { priority: 1 }),
  column('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", { priority: 1 }),
  column('Container-Runtime', 'Container Runtime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', { priority: 1 }),
];

function nodeRow(n: Obj, now: number): TableRow {
  const ready = (n.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const states = [ready ? (ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown') : 'Unknown'];
  if (n.spec?.unschedulable) states.push('SchedulingDisabled');
  const roles = new Set<string>();
  for (const [k, v] of Object.entries<string>(n.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  const addr = (t: string) => (n.status?.addresses ?? []).find((a: any) => a.type === t)?.address ?? '<none>';
  const info = n.status?.nodeInfo ?? {};
  return {
    cells: [
      n.metadata.name,
      states.join(','),
      roles.size > 0 ? [...roles].sort().join(',') : '<none>',
      timestampSince(n.metadata.creationTimestamp, now),
      info.kubeletVersion ?? '',
      addr('InternalIP'),
      addr('ExternalIP'),
      info.osImage || '<unknown>',
      info.kernelVersion || '<unknown>',
      info.containerRuntimeVersion || '<unknown>',
    ],
  };
}

const leasePrinter: Printer = {
  columns: [
    column('Name', 'Name must be unique within a namespace.', { format: 'name' }),
    column('Holder', 'The holder of the lease'),
    column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
  ],
  row: (l, now) => ({ cells: [l.metadata.name, l.spec?.holderIdentity ?? '', timestampSince(l.metadata.creationTimestamp, now)] }),
};

const namespacePrinter: Printer = {
  columns: [
    column('Name', 'Name must be unique within a namespace.', { format: 'name' }),
    column('Status', 'The status of the namespace'),
    column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
  ],
  row: (ns, now) => ({ cells: [ns.metadata.name, ns.status?.phase ?? '', timestampSince(ns.metadata.creationTimestamp, now)] }),
};

/** The default table convertor: NAME and CREATED AT. */
export const defaultPrinter: Printer = {
  columns: [
    column('Name', 'Name must be unique within a namespace.', { format: 'name' }),
    { name: 'Created At', type: 'date', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
  ],
  row: (o) => ({ cells: [o.metadata.name, o.metadata.creationTimestamp ?? ''] }),
};

export const printers = {
  pod: { columns: podColumns, row: (p: Obj, now: number) => podRow(p as never, now) } satisfies Printer,
  event: { columns: eventColumns, row: (e: Obj, now: number) => eventRow(e as never, now) } satisfies Printer,
  node: { columns: nodeColumns, row: nodeRow } satisfies Printer,
  lease: leasePrinter,
  namespace: namespacePrinter,
};
