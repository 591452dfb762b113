import type { ContainerStatus, Pod } from '../api/types.js';
import { listPods } from './agent-client.js';
import { age, table } from './format.js';

/** `nodelet ps`: one line per container, like `docker ps -a` (id, pod, container, command, state, restarts, age). */
export async function psCommand(opts: { rootDir: string; namespace?: string; quiet?: boolean }, now = Date.now()): Promise<string> {
  const pods = (await listPods(opts.rootDir)).filter((p) => !opts.namespace || p.metadata?.namespace === opts.namespace);
  const rows: string[][] = [];
  for (const pod of pods) {
    const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const c of specs) {
      const st = statuses.find((s) => s.name === c.name);
      const id = st?.containerID?.replace(/^[a-z]+:\/\//, '').slice(0, 13) ?? '-';
      const cmd = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
      rows.push([
        id || '-',
        pod.metadata?.namespace === 'default' ? pod.metadata.name! : `${pod.metadata?.namespace}/${pod.metadata?.name}`,
        c.name,
        JSON.stringify(cmd.length > 40 ? cmd.slice(0, 39) + '…' : cmd),
        stateText(pod, st),
        String(st?.restartCount ?? 0),
        age(st?.state?.running?.startedAt ?? st?.state?.terminated?.finishedAt ?? pod.status?.startTime, now),
      ]);
    }
    if (specs.length === 0 || pod.status?.reason) {
      if (pod.status?.reason) rows.push(['-', pod.metadata!.name!, '-', '""', `${pod.status.phase} (${pod.status.reason})`, '0', '-']);
    }
  }
  if (opts.quiet) return rows.map((r) => r[0]).join('\n') + (rows.length ? '\n' : '');
  return table(['CONTAINER ID', 'POD', 'CONTAINER', 'COMMAND', 'STATE', 'RESTARTS', 'AGE'], rows);
}

function stateText(pod: Pod, st: ContainerStatus | undefined): string {
  if (pod.status?.reason) return `${pod.status.phase} (${pod.status.reason})`;
  const s = st?.state;
  if (s?.running) return 'Running';
  if (s?.terminated) return `Exited (${s.terminated.exitCode}) ${s.terminated.reason ?? ''}`.trim();
  if (s?.waiting) return s.waiting.reason ?? 'Waiting';
  return 'Waiting';
}
