import type { Event } from 'kubernetes-types/core/v1.js';
import type { Pod } from '../api/types.js';
import { timestampSince } from '../server/kubeapi/human-duration.js';
import { agentJSON, listPods } from './agent-client.js';
import { type OutputFormat, printObject, table } from './format.js';
import { resolvePod } from './resolve-pod.js';

/** Options of `nodelet inspect`. */
export interface InspectOptions {
  rootDir: string;
  namespace?: string;
  output?: OutputFormat;
}

/**
 * `nodelet inspect POD`: the pod as the API serves it (spec, live status, resourceVersion) and its
 * events. By default the pod's YAML followed by the events as YAML comments, so the output is still a
 * valid manifest; with `-o json|yaml`, a v1 List of the pod and its events.
 */
export async function inspectCommand(name: string, opts: InspectOptions, now = Date.now()): Promise<string> {
  const found = resolvePod(await listPods(opts.rootDir), name, opts.namespace);
  const ns = found.metadata?.namespace ?? 'default';
  const podName = found.metadata?.name ?? name;
  const pod = await agentJSON<Pod>(opts.rootDir, `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(podName)}`);
  // The same query as kubectl describe (describe.go searchEvents).
  const q = new URLSearchParams({
    fieldSelector: `involvedObject.name=${podName},involvedObject.namespace=${ns},involvedObject.uid=${pod.metadata?.uid ?? ''}`,
  });
  const events = (await agentJSON<{ items: Event[] }>(opts.rootDir, `/api/v1/namespaces/${encodeURIComponent(ns)}/events?${q}`)).items;
  events.sort((a, b) => Date.parse(a.lastTimestamp ?? '') - Date.parse(b.lastTimestamp ?? ''));
  if (opts.output) {
    const items = [pod, ...events.map((e) => ({ apiVersion: 'v1', kind: 'Event', ...e }))];
    return printObject({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items }, opts.output);
  }
  return printObject(pod, 'yaml') + eventComments(events, now);
}

/** The events as `kubectl describe` lists them (TYPE REASON AGE FROM MESSAGE), as YAML comment lines. */
function eventComments(events: Event[], now: number): string {
  if (events.length === 0) return '# Events: <none>\n';
  const rows = events.map((e) => {
    let ago = timestampSince(e.lastTimestamp, now);
    if ((e.count ?? 1) > 1) ago = `${ago} (x${e.count} over ${timestampSince(e.firstTimestamp, now)})`;
    return [e.type ?? '', e.reason ?? '', ago, e.source?.component ?? '', (e.message ?? '').trim()];
  });
  const text = table(['TYPE', 'REASON', 'AGE', 'FROM', 'MESSAGE'], rows);
  return '# Events:\n' + text.split('\n').filter(Boolean).map((l) => `#   ${l}\n`).join('');
}
