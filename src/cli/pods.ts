import { NodeletError } from '../errors.js';
import type { PodStats, Summary } from '../metrics/stats-summary.js';
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
 * An explicit `-o wide` adds CPU and MEMORY, as `kubectl top pods` shows them, from /stats/summary:
 * only then are the pods' cgroups read.
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
  let header = t.columnDefinitions.map((c) => c.name.toUpperCase());
  let rows = t.rows.map((r) => r.cells.map(String));
  if (opts.output === 'wide') {
    const usage = await podUsage(opts.rootDir);
    const uid = (r: Table['rows'][number]) => (r.object as { metadata?: { uid?: string } } | undefined)?.metadata?.uid ?? '';
    header = [...header, 'CPU', 'MEMORY'];
    rows = rows.map((cells, i) => [...cells, ...usageCells(usage.get(uid(t.rows[i]!)))]);
  }
  if (opts.namespace) return table(header, rows);
  return table(['NAMESPACE', ...header], t.rows.map((r, i) => [ns(r), ...rows[i]!]));
}

/** How long a first look at CPU usage waits for a second sample: a rate needs two. */
const CPU_SAMPLE_WINDOW_MS = 1_000;

/**
 * The usage of each pod by UID. A CPU rate needs two samples of the agent's: when the first answer
 * has none for a running pod (nothing asked for a while), it asks again after a short window, as top
 * does for its first frame.
 */
async function podUsage(rootDir: string): Promise<Map<string, PodStats>> {
  let summary = await agentJSON<Summary>(rootDir, '/stats/summary');
  if (summary.pods.some((p) => p.containers.length > 0 && p.cpu.usageNanoCores === undefined)) {
    await new Promise((r) => setTimeout(r, CPU_SAMPLE_WINDOW_MS));
    summary = await agentJSON<Summary>(rootDir, '/stats/summary');
  }
  return new Map(summary.pods.map((p) => [p.podRef.uid, p]));
}

/** CPU in millicores and memory (working set) in MiB, as kubectl top prints them; `<none>` for a pod with nothing running. */
function usageCells(p: PodStats | undefined): [string, string] {
  if (!p || p.containers.length === 0) return ['<none>', '<none>'];
  const cpu = p.cpu.usageNanoCores === undefined ? '<unknown>' : `${Math.round(p.cpu.usageNanoCores / 1e6)}m`;
  return [cpu, `${Math.round(p.memory.workingSetBytes / 2 ** 20)}Mi`];
}

/** What kubectl says on stderr when a list is empty. */
export function noPodsMessage(namespace: string | undefined): string {
  return namespace ? `No resources found in ${namespace} namespace.\n` : 'No resources found\n';
}
