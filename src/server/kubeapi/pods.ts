// The pods resource: list, get, watch and the log subresource (the API server's generic registry
// handlers in staging/src/k8s.io/apiserver/pkg/endpoints/handlers/get.go, served from PodCache).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod } from '../../api/types.js';
import { logRequestFromQuery, resolveLogTarget, streamContainerLog } from '../container-logs.js';
import type { NodeView } from '../node-view.js';
import { invalidName } from '../object-names.js';
import type { StreamLimiter } from '../stream-limiter.js';
import { POD_FIELDS, podFields } from './objects.js';
import type { PodCache } from './pod-cache.js';
import { podColumns, podRow } from './pod-table.js';
import { readOptions, type ReadOptions } from './request.js';
import { matchFields, matchLabels } from './selectors.js';
import { badRequest, expired, notFound, sendObject, tooManyStreams } from './status-errors.js';
import { buildTable, type Table } from './table.js';
import { errorEvent, type Poller, project, startWatchStream } from './watch.js';

/** What the pod routes need. */
export interface PodRoutesContext {
  view: NodeView;
  cache: PodCache;
  poller: Poller;
  /** Slots for watches and followed logs. */
  streams: StreamLimiter;
}

/** GET /api/v1/pods and /api/v1/namespaces/{ns}/pods: a PodList or a Table, or a watch. */
export function listPods(ctx: PodRoutesContext, req: IncomingMessage, res: ServerResponse, url: URL, namespace: string | undefined, watchPath: boolean): void {
  const o = readOptions(req, url, POD_FIELDS, watchPath);
  const matches = (p: Pod) =>
    (namespace === undefined || p.metadata?.namespace === namespace) && matchLabels(o.labels, p.metadata?.labels) && matchFields(o.fields, podFields(p));
  if (o.watch) return watchPods(ctx, req, res, o, matches);
  const items = ctx.cache.list().filter(matches);
  const rv = String(ctx.cache.resourceVersion);
  if (o.neg.table) return sendObject(res, 200, podTable(ctx, items, o, rv, true));
  // List items carry no kind/apiVersion of their own, as in the API server's JSON.
  const bare = items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
  sendObject(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: rv }, items: bare });
}

/** GET /api/v1/namespaces/{ns}/pods/{name}: the Pod, a one-row Table, or 404 `pods "x" not found`. */
export function getPod(ctx: PodRoutesContext, req: IncomingMessage, res: ServerResponse, url: URL, namespace: string, name: string): void {
  const o = readOptions(req, url, POD_FIELDS, false);
  const pod = ctx.cache.get(namespace, name);
  if (!pod) throw notFound('pods', name);
  if (o.neg.table) return sendObject(res, 200, podTable(ctx, [pod], o, pod.metadata?.resourceVersion ?? '', true));
  sendObject(res, 200, pod);
}

/** GET /api/v1/namespaces/{ns}/pods/{name}/log: the container's log as text, errors as a Status. */
export async function podLog(ctx: PodRoutesContext, req: IncomingMessage, res: ServerResponse, url: URL, namespace: string, name: string): Promise<void> {
  const q = url.searchParams;
  for (const k of ['tailLines', 'sinceSeconds', 'limitBytes']) {
    const v = q.get(k);
    if (v !== null && v !== '' && !/^-?\d+$/.test(v)) throw badRequest(`${k}: invalid integer "${v}"`);
  }
  const container = q.get('container') ?? '';
  const bad = container === '' ? undefined : invalidName('container', container);
  if (bad) throw badRequest(bad);
  const r = logRequestFromQuery(namespace, name, container, q, ctx.view.now());
  if (r.since && Number.isNaN(r.since.getTime())) throw badRequest(`sinceTime: invalid time "${q.get('sinceTime')}"`);
  const t = resolveLogTarget(ctx.view, r);
  if ('code' in t) throw t.podMissing ? notFound('pods', name) : badRequest(t.message);
  if (r.follow && !r.previous && !ctx.streams.acquire(req, res)) throw tooManyStreams(ctx.streams.max);
  await streamContainerLog(ctx.view, req, res, r, t);
}

function podTable(ctx: PodRoutesContext, pods: Pod[], o: ReadOptions, resourceVersion: string, headers: boolean): Table {
  return buildTable(pods, { columns: podColumns, row: podRow }, o, ctx.view.now(), resourceVersion, headers);
}

/**
 * A pod watch: the changes after `resourceVersion` (or, without one, every matching pod as ADDED),
 * then every change as it is found. As in the API server's watch of Tables, only the first event
 * carries the column definitions.
 */
function watchPods(ctx: PodRoutesContext, req: IncomingMessage, res: ServerResponse, o: ReadOptions, matches: (p: Pod) => boolean): void {
  ctx.cache.refresh();
  const backlog = o.resourceVersion === undefined ? undefined : ctx.cache.changesSince(o.resourceVersion);
  if (backlog === 'expired') {
    // The API server answers an expired watch with 200 and a single ERROR event (kubectl reports it).
    const stream = startWatchStream(req, res, { onClose: () => undefined });
    return errorEvent(stream, expired(`too old resource version: ${o.resourceVersion} (${ctx.cache.resourceVersion})`).status);
  }
  if (!ctx.streams.acquire(req, res)) throw tooManyStreams(ctx.streams.max);
  let first = true;
  const encode = (p: Pod) => {
    if (!o.neg.table) return p;
    const t = podTable(ctx, [p], o, p.metadata?.resourceVersion ?? '', first);
    first = false;
    return t;
  };
  let unsubscribe = () => {};
  let release = () => {};
  const stream = startWatchStream(req, res, {
    timeoutSeconds: o.timeoutSeconds,
    onClose: () => {
      unsubscribe();
      release();
    },
  });
  if (backlog === undefined) {
    for (const p of ctx.cache.list()) if (matches(p)) stream.send('ADDED', encode(p));
  } else {
    for (const c of backlog) {
      const e = project(c, matches);
      if (e) stream.send(e.type, encode(e.object));
    }
  }
  if (stream.closed) return;
  unsubscribe = ctx.cache.subscribe((c) => {
    const e = project(c, matches);
    if (e) stream.send(e.type, encode(e.object));
  });
  release = ctx.poller.add('pods', () => ctx.cache.refresh());
}
