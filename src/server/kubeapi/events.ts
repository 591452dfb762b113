// The events resource, read from the node's event recorder (NodeView.events()). `kubectl describe pod`
// lists them with fieldSelector involvedObject.name/namespace/uid (staging/src/k8s.io/kubectl/pkg/describe
// describe.go searchEvents). Event resourceVersions are the recorder's own, which grow with every change.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Event } from 'kubernetes-types/core/v1.js';
import type { NodeView } from '../node-view.js';
import type { StreamLimiter } from '../stream-limiter.js';
import { eventColumns, eventRow } from './event-table.js';
import { toApiEvent } from '../../events/api-event.js';
import { EVENT_FIELDS, eventFields } from './objects.js';
import { readOptions, type ReadOptions } from './request.js';
import { matchFields, matchLabels } from './selectors.js';
import { notFound, sendObject, tooManyStreams } from './status-errors.js';
import { buildTable, type Table } from './table.js';
import { type Poller, startWatchStream } from './watch.js';
import { compareStrings } from '../../util/compare.js';

/** What the event routes need. */
export interface EventRoutesContext {
  view: NodeView;
  poller: Poller;
  /** Slots for watches and followed logs. */
  streams: StreamLimiter;
}

function allEvents(view: NodeView): Event[] {
  const node = view.config.nodeName;
  return view
    .events()
    .map((e) => toApiEvent(e, node))
    .sort((a, b) => compareStrings(key(a), key(b)));
}

// Each event watch keeps its own view of what it has sent, so each is its own poller task.
let watchSeq = 0;
const key = (e: Event) => `${e.metadata.namespace}/${e.metadata.name}`;
const rvOf = (e: Event) => Number(e.metadata.resourceVersion ?? 0);

/** GET /api/v1/events and /api/v1/namespaces/{ns}/events: an EventList or a Table, or a watch. */
export function listEvents(ctx: EventRoutesContext, req: IncomingMessage, res: ServerResponse, url: URL, namespace: string | undefined, watchPath: boolean): void {
  const o = readOptions(req, url, EVENT_FIELDS, watchPath);
  const matches = (e: Event) =>
    (namespace === undefined || e.metadata.namespace === namespace) && matchLabels(o.labels, e.metadata.labels) && matchFields(o.fields, eventFields(e));
  const all = allEvents(ctx.view);
  const rv = String(all.reduce((m, e) => Math.max(m, rvOf(e)), 0));
  if (o.watch) return watchEvents(ctx, req, res, o, matches, all);
  const items = all.filter(matches);
  if (o.neg.table) return sendObject(res, 200, eventTable(ctx, items, o, rv, true));
  const bare = items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
  sendObject(res, 200, { kind: 'EventList', apiVersion: 'v1', metadata: { resourceVersion: rv }, items: bare });
}

/** GET /api/v1/namespaces/{ns}/events/{name}. */
export function getEvent(ctx: EventRoutesContext, req: IncomingMessage, res: ServerResponse, url: URL, namespace: string, name: string): void {
  const o = readOptions(req, url, EVENT_FIELDS, false);
  const e = allEvents(ctx.view).find((x) => x.metadata.namespace === namespace && x.metadata.name === name);
  if (!e) throw notFound('events', name);
  if (o.neg.table) return sendObject(res, 200, eventTable(ctx, [e], o, e.metadata.resourceVersion ?? '', true));
  sendObject(res, 200, e);
}

function eventTable(ctx: EventRoutesContext, events: Event[], o: ReadOptions, resourceVersion: string, headers: boolean): Table {
  return buildTable(events, { columns: eventColumns, row: eventRow }, o, ctx.view.now(), resourceVersion, headers);
}

/**
 * An event watch. Events only appear and repeat (a repeat bumps count and resourceVersion), so each
 * poll sends the events whose resourceVersion grew: ADDED the first time, MODIFIED after; an event
 * the recorder dropped is DELETED.
 */
function watchEvents(ctx: EventRoutesContext, req: IncomingMessage, res: ServerResponse, o: ReadOptions, matches: (e: Event) => boolean, all: Event[]): void {
  if (!ctx.streams.acquire(req, res)) throw tooManyStreams(ctx.streams.max);
  let first = true;
  const encode = (e: Event) => {
    if (!o.neg.table) return e;
    const t = eventTable(ctx, [e], o, e.metadata.resourceVersion ?? '', first);
    first = false;
    return t;
  };
  const seen = new Map<string, Event>();
  const from = o.resourceVersion;
  for (const e of all) {
    if (!matches(e)) continue;
    if (from !== undefined && rvOf(e) <= from) {
      seen.set(key(e), e);
    }
  }
  let release = () => {};
  const stream = startWatchStream(req, res, { timeoutSeconds: o.timeoutSeconds, onClose: () => release() });
  const poll = (events: Event[]) => {
    const live = new Set<string>();
    for (const e of events) {
      if (!matches(e)) continue;
      const k = key(e);
      live.add(k);
      const old = seen.get(k);
      if (old && rvOf(old) >= rvOf(e)) continue;
      seen.set(k, e);
      // Resuming from a resourceVersion, an event first seen with count > 1 existed before: MODIFIED.
      const type = old || (from !== undefined && (e.count ?? 1) > 1) ? 'MODIFIED' : 'ADDED';
      stream.send(type, encode(e));
    }
    for (const [k, e] of seen) {
      if (live.has(k)) continue;
      seen.delete(k);
      stream.send('DELETED', encode(e));
    }
  };
  poll(all);
  if (stream.closed) return;
  release = ctx.poller.add(`events:${++watchSeq}`, () => poll(allEvents(ctx.view)));
}
