import { NodeletError } from '../errors.js';
import type { Table } from '../server/kubeapi/table.js';
import { ACCEPT_TABLE, agentJSON } from './agent-client.js';
import { type OutputFormat, printObject, table } from './format.js';

/** Options of `nodelet pods`, named as kubectl get's. */
export interface PodsOptions {
  rootDir: string;
  /** One namespace; without it, every namespace (with a NAMESPACE column). */
  namespace?: string;
  selector?: string;
  fieldSelector?: string;
  output?: OutputFormat | 'wide' | 'name';
}

/**
 * `nodelet pods`: the pods as `kubectl get pods -A -o wide` shows them. The agent prints the table
 * (the same server-side Table kubectl gets), so both always agree on STATUS, READY and RESTARTS.
 */
export async function podsCommand(opts: PodsOptions): Promise<string> {
  const q = new URLSearchParams();
  if (opts.selector) q.set('labelSelector', opts.selector);
  if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
  const base = opts.namespace ? `/api/v1/namespaces/${encodeURIComponent(opts.namespace)}/pods` : '/api/v1/pods';
  const path = `${base}${q.size ? `?${q}` : ''}`;
  if (opts.output === 'json' || opts.output === 'yaml') {
    // kubectl prints a list as a v1 List of full objects.
    const list = await agentJSON<{ items: object[] }>(opts.rootDir, path);
    return printObject({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: list.items.map((p) => ({ apiVersion: 'v1', kind: 'Pod', ...p })) }, opts.output);
  }
  const t = await agentJSON<Table>(opts.rootDir, path, { accept: ACCEPT_TABLE });
  if (t.kind !== 'Table') throw new NodeletError('AgentError', 'the agent did not answer with a table');
  const ns = (r: Table['rows'][number]) => (r.object as { metadata?: { namespace?: string } } | undefined)?.metadata?.namespace ?? '';
  if (opts.output === 'name') return t.rows.map((r) => `pod/${r.cells[0]}\n`).join('');
  if (t.rows.length === 0) {
    return '';
  }
  const header = t.columnDefinitions.map((c) => c.name.toUpperCase());
  const rows = t.rows.map((r) => r.cells.map(String));
  if (opts.namespace) return table(header, rows);
  return table(['NAMESPACE', ...header], t.rows.map((r, i) => [ns(r), ...rows[i]!]));
}

/** What kubectl says on stderr when a list is empty. */
export function noPodsMessage(namespace: string | undefined): string {
  return namespace ? `No resources found in ${namespace} namespace.\n` : 'No resources found\n';
}
