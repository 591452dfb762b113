import { NodeletError } from '../errors.js';
import { agentGet, listPods, readAll } from './agent-client.js';
import { resolvePod } from './resolve-pod.js';

/** Options of `nodelet logs`, named as kubectl's. */
export interface LogsOptions {
  rootDir: string;
  namespace?: string;
  container?: string;
  follow?: boolean;
  previous?: boolean;
  tail?: number;
  since?: string;
  timestamps?: boolean;
}

/**
 * `nodelet logs POD`: streams a container's log from the agent (the kubelet's /containerLogs). POD is
 * the pod's name (`web-node1`) or the manifest's own name (`web`); the container defaults to the only one.
 */
export async function logsCommand(podName: string, opts: LogsOptions, out: NodeJS.WritableStream): Promise<void> {
  const pods = await listPods(opts.rootDir);
  const pod = resolvePod(pods, podName, opts.namespace);
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const all = [...(pod.spec?.initContainers ?? []).map((c) => c.name), ...names];
  let container = opts.container;
  if (!container) {
    if (names.length !== 1) {
      throw new NodeletError('BadRequest', `pod ${pod.metadata!.name} has several containers: choose one with -c (${all.join(', ')})`);
    }
    container = names[0]!;
  } else if (!all.includes(container)) {
    throw new NodeletError('BadRequest', `container ${container} is not valid for pod ${pod.metadata!.name}: choose one of ${all.join(', ')}`);
  }
  const q = new URLSearchParams();
  if (opts.follow) q.set('follow', 'true');
  if (opts.previous) q.set('previous', 'true');
  if (opts.tail !== undefined && opts.tail >= 0) q.set('tailLines', String(opts.tail));
  if (opts.timestamps) q.set('timestamps', 'true');
  if (opts.since) q.set('sinceSeconds', String(sinceSeconds(opts.since)));
  const ns = pod.metadata?.namespace ?? 'default';
  const res = await agentGet(
    opts.rootDir,
    `/containerLogs/${encodeURIComponent(ns)}/${encodeURIComponent(pod.metadata!.name!)}/${encodeURIComponent(container)}?${q}`,
  );
  if (res.statusCode !== 200) throw new NodeletError('AgentError', (await readAll(res)).trim());
  for await (const chunk of res) {
    if (!out.write(chunk as Buffer)) await new Promise((r) => out.once('drain', r));
  }
}

function sinceSeconds(s: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(s);
  if (!m) throw new NodeletError('BadRequest', `--since: invalid duration "${s}" (e.g. 30s, 5m, 1h)`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
}
