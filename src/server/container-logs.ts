// A container's log for the kubelet's /containerLogs/{ns}/{pod}/{container} and for the API's
// /api/v1/namespaces/{ns}/pods/{pod}/log: finding the right attempt (pkg/kubelet/kubelet_pods.go
// validateContainerLogStatus) and streaming it (pkg/kubelet/server/server.go getContainerLogs).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { readContainerLog } from '../logs/index.js';
import type { WorkerSnapshot } from '../podworkers/pod-workers.js';
import type { ContainerInfo } from '../runtime/types.js';
import type { NodeView } from './node-view.js';

/** The pod of a namespace and name: the wanted one when an edited pod's old version is still stopping. */
export function findPod(view: NodeView, namespace: string, name: string): WorkerSnapshot | undefined {
  let found: WorkerSnapshot | undefined;
  for (const s of view.pods()) {
    if ((s.pod.metadata?.namespace ?? 'default') !== namespace || s.pod.metadata?.name !== name) continue;
    if (!found || found.state === 'terminating' || found.state === 'terminated') found = s;
  }
  return found;
}

/** What a log request names (the kubelet's PodLogOptions). */
export interface LogRequest {
  namespace: string;
  pod: string;
  /** Empty: the pod's only container. */
  container: string;
  previous: boolean;
  follow: boolean;
  tailLines?: number;
  since?: Date;
  timestamps: boolean;
  limitBytes?: number;
}

/** Why a log cannot be served: the HTTP code and the message the kubelet and the API server give. */
export interface LogRefusal {
  code: 400 | 404;
  message: string;
  /** Set when the pod itself is missing (the API answers `pods "x" not found`). */
  podMissing?: boolean;
}

/** The attempt whose log is served. */
export interface LogTarget {
  snapshot: WorkerSnapshot;
  container: string;
  info: ContainerInfo;
}

/**
 * Finds the attempt a log request means: the current one, or with `previous` the last terminated one
 * (for a container in CrashLoopBackOff, the attempt that just died, which is what `lastState` shows).
 */
export function resolveLogTarget(view: NodeView, r: LogRequest): LogTarget | LogRefusal {
  const snapshot = findPod(view, r.namespace, r.pod);
  if (!snapshot) return { code: 404, message: `pod ${r.namespace}/${r.pod} not found`, podMissing: true };
  const spec = snapshot.pod.spec;
  const apps = (spec?.containers ?? []).map((c) => c.name);
  const inits = (spec?.initContainers ?? []).map((c) => c.name);
  let container = r.container;
  if (!container) {
    if (apps.length !== 1) {
      const initHint = inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : '';
      return { code: 400, message: `a container name must be specified for pod ${r.pod}, choose one of: [${apps.join(' ')}]${initHint}` };
    }
    container = apps[0]!;
  }
  if (!apps.includes(container) && !inits.includes(container)) {
    return { code: 400, message: `container ${container} is not valid for pod ${r.pod}` };
  }
  const v = snapshot.containers.find((c) => c.name === container);
  const cur = v?.current;
  const info = r.previous ? (cur?.state === 'exited' && v?.waiting ? cur : v?.previous) : cur;
  if (!info) {
    if (r.previous) return { code: 400, message: `previous terminated container "${container}" in pod "${r.pod}" not found` };
    const statuses = [...(snapshot.status.initContainerStatuses ?? []), ...(snapshot.status.containerStatuses ?? [])];
    const reason = statuses.find((s) => s.name === container)?.state?.waiting?.reason ?? 'ContainerCreating';
    return { code: 400, message: `container "${container}" in pod "${r.pod}" is waiting to start: ${reason}` };
  }
  return { snapshot, container, info };
}

/** Streams the target's log as text/plain; with `follow`, until the attempt stops running or the client goes. */
export async function streamContainerLog(view: NodeView, req: IncomingMessage, res: ServerResponse, r: LogRequest, t: LogTarget): Promise<void> {
  const abort = new AbortController();
  req.on('close', () => abort.abort());
  res.on('close', () => abort.abort());
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const stillRunning = () => {
    const now = findPod(view, r.namespace, r.pod)?.containers.find((v) => v.name === t.container)?.current;
    return now?.id === t.info.id && now.state === 'running';
  };
  let budget = r.limitBytes !== undefined && r.limitBytes > 0 ? r.limitBytes : Infinity;
  for await (const line of readContainerLog(t.info.logPath, {
    tail: r.tailLines,
    since: r.since,
    timestamps: r.timestamps,
    follow: r.follow && !r.previous,
    signal: abort.signal,
    stopWhen: () => !stillRunning(),
  })) {
    let out = line;
    if (Buffer.byteLength(out) > budget) out = Buffer.from(out).subarray(0, budget).toString('utf8');
    budget -= Buffer.byteLength(out);
    if (!res.write(out)) await drainedOrClosed(res);
    if (budget <= 0 || res.destroyed) break;
  }
  res.end();
}

// A client that goes while its buffer is full never drains it: waiting for 'drain' alone would keep
// the reader, its file handle and its stream slot for good.
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** Reads the kubelet's log query parameters (tailLines, sinceSeconds, sinceTime, timestamps, follow, previous, limitBytes). */
export function logRequestFromQuery(namespace: string, pod: string, container: string, q: URLSearchParams, now: number): LogRequest {
  const num = (k: string) => {
    const v = q.get(k);
    return v === null || v === '' || Number.isNaN(Number(v)) ? undefined : Number(v);
  };
  const sinceSeconds = num('sinceSeconds');
  const sinceTime = q.get('sinceTime');
  const since = sinceTime ? new Date(sinceTime) : sinceSeconds !== undefined ? new Date(now - sinceSeconds * 1000) : undefined;
  return {
    namespace,
    pod,
    container,
    previous: q.get('previous') === 'true',
    follow: q.get('follow') === 'true',
    tailLines: num('tailLines'),
    since,
    timestamps: q.get('timestamps') === 'true',
    limitBytes: num('limitBytes'),
  };
}
