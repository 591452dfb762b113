// Watch responses as the API server streams them (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/watch.go
// over the cacher, staging/src/k8s.io/apiserver/pkg/storage/cacher/): 200, chunked, one JSON object per
// line `{"type":…,"object":…}`.
//  - resourceVersion unset or "0": synthetic ADDED for the current state, then changes;
//  - resourceVersion N: the changes after N from history; N older than the history is an ERROR event
//    with a 410 Expired Status `too old resource version: N (oldest)`, then the stream ends
//    (cacher.Watch returns newErrWatcher); N in the future simply waits for later changes;
//  - selectors filter as cacheWatcher.convertToWatchEvent does: an object entering the selection is
//    ADDED, one leaving it is DELETED (its last matching state with the change's resourceVersion);
//  - allowWatchBookmarks: BOOKMARK events every bookmarkIntervalMs carrying only the current
//    resourceVersion (the real cacher sends one about every minute and shortly before the timeout);
//  - sendInitialEvents=true (watch-list): the ADDED events, then a BOOKMARK annotated
//    `k8s.io/initial-events-end: "true"`;
//  - timeoutSeconds ends the stream quietly (default 1800 s, the server's minRequestTimeout).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildTable, type IncludeObject, type Negotiated } from '../../src/server/kubeapi/table.js';
import type { Obj } from './defaults.js';
import { expired, badRequest } from './errors.js';
import type { ResourceDef } from './resources.js';
import type { Store, StoreEvent } from './store.js';

/** One watch request, parsed. */
export interface WatchRequest {
  def: ResourceDef;
  namespace?: string;
  matches: (o: Obj) => boolean;
  resourceVersion?: string;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutSeconds?: number;
  /** Set when the client asked for Table events (`kubectl get -w`). */
  table?: { neg: Negotiated; includeObject: IncludeObject };
}

const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** Serves one watch until it times out, the client goes, or the server stops. */
export function serveWatch(store: Store, req: IncomingMessage, res: ServerResponse, w: WatchRequest, opts: { bookmarkIntervalMs: number }): void {
  let start: number | undefined;
  if (w.resourceVersion && w.resourceVersion !== '0') {
    if (!/^\d+$/.test(w.resourceVersion)) throw badRequest(`invalid resource version: ${w.resourceVersion}`);
    start = Number(w.resourceVersion);
  }
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  let closed = false;
  let headersSent = false;
  const inScope = (o: Obj) => (w.namespace === undefined || o.metadata.namespace === w.namespace) && w.matches(o);
  const send = (type: string, object: unknown): void => {
    if (closed) return;
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      res.destroy();
      return;
    }
    let out = object;
    if (w.table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) {
      out = buildTable([object as Obj], w.def.printer, w.table, Date.now(), (object as Obj).metadata.resourceVersion ?? '', !headersSent);
      headersSent = true;
    }
    res.write(`${JSON.stringify({ type, object: out })}\n`);
  };
  const bookmark = (annotations?: Record<string, string>) =>
    send('BOOKMARK', { kind: w.def.kind, apiVersion: w.def.apiVersion, metadata: { resourceVersion: String(store.resourceVersion), ...(annotations ? { annotations } : {}) } });

  if (start !== undefined && start < store.oldestResumable && !w.sendInitialEvents) {
    send('ERROR', expired(`too old resource version: ${start} (${store.oldestResumable})`).status);
    res.end();
    return;
  }
  const project = (e: StoreEvent): void => {
    if (e.def !== w.def) return;
    const cur = e.type !== 'DELETED' && inScope(e.object);
    const prev = e.prev !== undefined && inScope(e.prev);
    if (cur && prev) send('MODIFIED', e.object);
    else if (cur) send('ADDED', e.object);
    else if (prev) send('DELETED', e.type === 'DELETED' ? e.object : { ...e.prev!, metadata: { ...e.prev!.metadata, resourceVersion: String(e.rv) } });
  };
  let from: number;
  if (start === undefined || w.sendInitialEvents) {
    for (const o of store.list(w.def, w.namespace)) if (w.matches(o)) send('ADDED', o);
    if (w.sendInitialEvents && w.allowBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
    from = store.resourceVersion;
  } else {
    for (const e of store.eventsSince(start)) project(e);
    from = Math.max(start, store.resourceVersion);
  }
  // Subscribed in the same tick as the replay: no change can fall between the two.
  const unsubscribe = store.subscribe((e) => {
    if (e.rv > from) project(e);
  });
  const timers: NodeJS.Timeout[] = [];
  if (w.allowBookmarks && !w.table) timers.push(setInterval(() => bookmark(), opts.bookmarkIntervalMs));
  timers.push(setTimeout(() => res.end(), (w.timeoutSeconds && w.timeoutSeconds > 0 ? w.timeoutSeconds : 1800) * 1000));
  for (const t of timers) t.unref();
  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
  };
  req.on('close', close);
  res.on('close', close);
  res.on('finish', close);
}
