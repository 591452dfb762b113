import type { ContainerStatus, Pod } from '../api/types.js';
import { listPods } from './agent-client.js';
import { age, type OutputFormat, printObject, table } from './format.js';

/** Options of `nodelet ps`. */
export interface PsOptions {
  rootDir: string;
  namespace?: string;
  quiet?: boolean;
  /** Also containers that are not running (exited, waiting), like `docker ps -a`. */
  all?: boolean;
  output?: OutputFormat;
}

/** One line of `nodelet ps`: a container of a pod, or a pod that never got containers (rejected). */
export interface ContainerRow {
  id: string;
  namespace: string;
  pod: string;
  container: string;
  command: string;
  state: string;
  running: boolean;
  restarts: number;
  /** When it started running, or finished; RFC 3339. */
  since?: string;
}

/**
 * `nodelet ps`: one line per container, like `docker ps` (id, pod, container, command, state,
 * restarts, age). Only running containers unless `all`, as docker ps without `-a`.
 */
export async function psCommand(opts: PsOptions, now = Date.now()): Promise<string> {
  const pods = (await listPods(opts.rootDir)).filter((p) => !opts.namespace || p.metadata?.namespace === opts.namespace);
  const rows = containerRows(pods).filter((r) => opts.all || r.running);
  if (opts.output) return printObject(rows, opts.output);
  if (opts.quiet) return rows.map((r) => r.id).join('\n') + (rows.length ? '\n' : '');
  return table(
    ['CONTAINER ID', 'POD', 'CONTAINER', 'COMMAND', 'STATE', 'RESTARTS', 'AGE'],
    rows.map((r) => {
      const cmd = r.command.length > 40 ? r.command.slice(0, 39) + '…' : r.command;
      return [
        r.id.slice(0, 13) || '-',
        r.namespace === 'default' ? r.pod : `${r.namespace}/${r.pod}`,
        r.container,
        JSON.stringify(cmd),
        r.state,
        String(r.restarts),
        age(r.since, now),
      ];
    }),
  );
}

/** The containers of some pods, init containers first, with the state docker ps would show. */
export function containerRows(pods: Pod[]): ContainerRow[] {
  const rows: ContainerRow[] = [];
  for (const pod of pods) {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    if (pod.status?.reason) {
      // Refused at admission, or evicted (its containers are gone): only why.
      rows.push({ id: '', namespace, pod: name, container: '-', command: '', state: `${pod.status.phase} (${pod.status.reason})`, running: false, restarts: 0 });
      continue;
    }
    const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const c of specs) {
      const st = statuses.find((s) => s.name === c.name);
      rows.push({
        id: st?.containerID?.replace(/^[a-z]+:\/\//, '') ?? '',
        namespace,
        pod: name,
        container: c.name,
        command: [...(c.command ?? []), ...(c.args ?? [])].join(' '),
        state: stateText(st),
        running: st?.state?.running !== undefined,
        restarts: st?.restartCount ?? 0,
        since: st?.state?.running?.startedAt ?? st?.state?.terminated?.finishedAt ?? pod.status?.startTime,
      });
    }
  }
  return rows;
}

function stateText(st: ContainerStatus | undefined): string {
  const s = st?.state;
  if (s?.running) return 'Running';
  if (s?.terminated) return `Exited (${s.terminated.exitCode}) ${s.terminated.reason ?? ''}`.trim();
  if (s?.waiting) return s.waiting.reason ?? 'Waiting';
  return 'Waiting';
}
