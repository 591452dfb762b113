// Routing and verbs: the REST layout of staging/src/k8s.io/apiserver/pkg/endpoints/installer.go
// (/api/v1/…, /apis/<group>/<version>/…, namespaced under namespaces/<ns>/, the deprecated
// /watch/ prefix, the status subresource) and the handlers of
// staging/src/k8s.io/apiserver/pkg/endpoints/handlers (get.go, create.go, update.go, patch.go,
// delete.go). limit/continue are ignored: a list always returns everything in one page, which the
// API allows (a server may ignore limit, as it does for resourceVersion=0). deletecollection,
// dryRun and server-side apply are not implemented (405, 400 and 415).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildTable, negotiate, parseIncludeObject } from '../../src/server/kubeapi/table.js';
import type { Obj } from './defaults.js';
import { apiGroup, apiGroupList, apiVersions, resourceList, versionInfo } from './discovery.js';
import {
  badRequest,
  expired,
  invalid,
  methodNotAllowed,
  noSuchPath,
  notFound,
  timeout,
  unprocessable,
  unsupportedMediaType,
} from './errors.js';
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from './patch.js';
import { findResource, type ResourceDef } from './resources.js';
import { compileSelectors } from './selectors.js';
import type { DeleteOptions, Store } from './store.js';
import { serveWatch } from './watch.js';

/** What the handlers share. */
export interface HandlerContext {
  store: Store;
  bookmarkIntervalMs: number;
  /** Open watch responses, for tests to wait on. */
  watches: Set<ServerResponse>;
}

/** Writes one JSON body. */
export function sendJSON(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, private' });
  res.end(text);
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

function parseObject(def: ResourceDef, text: string): Obj {
  const body = parseJSON(text) as Obj;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
  if ((body.apiVersion && body.apiVersion !== def.apiVersion) || (body.kind && body.kind !== def.kind)) {
    throw badRequest(`the object provided is unrecognized (must be of type ${def.kind}): ${body.kind ?? '<none>'} of ${body.apiVersion ?? '<none>'}`);
  }
  if (body.metadata !== undefined && (typeof body.metadata !== 'object' || body.metadata === null)) throw badRequest('metadata must be an object');
  body.metadata ??= {};
  return body;
}

const withoutTypeMeta = ({ apiVersion: _a, kind: _k, ...rest }: Obj) => rest;

/** Answers one API request (after authentication and failure injection); throws ApiStatusError for failures. */
export async function handleApi(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, url: URL, text: string): Promise<void> {
  const seg = url.pathname
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw badRequest(`invalid path segment: ${s}`);
      }
    });
  const method = req.method ?? 'GET';
  const read = method === 'GET' || method === 'HEAD';
  const discovery = (doc: object | undefined) => {
    if (!doc) throw noSuchPath();
    if (!read) throw methodNotAllowed();
    sendJSON(res, 200, doc);
  };
  if (seg.length === 1 && seg[0] === 'version') return discovery(versionInfo());
  if (seg.length === 1 && ['healthz', 'livez', 'readyz'].includes(seg[0]!)) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('ok');
    return;
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (seg[0] === 'api') {
    if (seg.length === 1) return discovery(apiVersions(req.headers.host ?? ''));
    [group, version, rest] = ['', seg[1]!, seg.slice(2)];
    if (rest.length === 0) return discovery(resourceList(group, version));
  } else if (seg[0] === 'apis') {
    if (seg.length === 1) return discovery(apiGroupList());
    if (seg.length === 2) return discovery(apiGroup(seg[1]!));
    [group, version, rest] = [seg[1]!, seg[2]!, seg.slice(3)];
    if (rest.length === 0) return discovery(resourceList(group, version));
  } else {
    throw noSuchPath();
  }

  const watchPrefix = rest[0] === 'watch';
  if (watchPrefix) rest = rest.slice(1);
  let ns: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && findResource(group, version, rest[2]!)?.namespaced) {
    ns = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, sub, ...more] = rest;
  const def = plural === undefined ? undefined : findResource(group, version, plural);
  if (!def || more.length > 0) throw noSuchPath();
  if (sub !== undefined && !(sub === 'status' && def.hasStatus)) throw noSuchPath();
  if (name !== undefined && def.namespaced && ns === undefined) throw noSuchPath();
  const q = url.searchParams;
  if (q.has('dryRun')) throw badRequest('dryRun is not supported by the apiserver test double');

  if (name === undefined) {
    if (read) return list(ctx, req, res, def, ns, q, watchPrefix || q.get('watch') === 'true' || q.get('watch') === '1');
    if (method === 'POST' && (!def.namespaced || ns !== undefined)) {
      const body = parseObject(def, text);
      if (def.namespaced && body.metadata.namespace && body.metadata.namespace !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      return sendJSON(res, 201, ctx.store.create(def, ns, body));
    }
    throw methodNotAllowed();
  }

  switch (method) {
    case 'GET':
    case 'HEAD': {
      if (watchPrefix) {
        // The deprecated /watch/…/<name> form: a watch of one object.
        const matches = compileSelectors(def, q);
        return watch(ctx, req, res, def, ns, q, (o) => o.metadata.name === name && matches(o));
      }
      const o = ctx.store.get(def, ns, name);
      if (!o) throw notFound({ group: def.group, resource: def.plural }, name);
      const neg = negotiate(req.headers.accept);
      if (neg.table) {
        return sendJSON(res, 200, buildTable([o], def.printer, { neg, includeObject: parseIncludeObject(q.get('includeObject')) }, Date.now(), o.metadata.resourceVersion, true));
      }
      return sendJSON(res, 200, o);
    }
    case 'PUT': {
      const body = parseObject(def, text);
      checkIdentity(def, body, ns, name);
      const { obj, created } = ctx.store.update(def, ns, name, body, sub === 'status' ? { subresource: 'status' } : {});
      return sendJSON(res, created ? 201 : 200, obj);
    }
    case 'PATCH': {
      const current = ctx.store.get(def, ns, name);
      if (!current) throw notFound({ group: def.group, resource: def.plural }, name);
      const patched = applyPatch(def, current, req.headers['content-type'], text);
      checkIdentity(def, patched, ns, name);
      const { obj } = ctx.store.update(def, ns, name, patched, { patch: true, ...(sub === 'status' ? { subresource: 'status' as const } : {}) });
      return sendJSON(res, 200, obj);
    }
    case 'DELETE': {
      if (sub !== undefined) throw methodNotAllowed();
      const r = ctx.store.delete(def, ns, name, deleteOptions(text, q));
      if (def.returnDeletedObject || (!r.deleted && !r.alreadyPending)) return sendJSON(res, 200, r.obj);
      return sendJSON(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name, ...(def.group ? { group: def.group } : {}), kind: def.plural, uid: r.obj.metadata.uid },
      });
    }
    default:
      throw methodNotAllowed();
  }
}

/** The name (and namespace) in a body must be the URL's (handlers/rest.go checkName). */
function checkIdentity(def: ResourceDef, body: Obj, ns: string | undefined, name: string): void {
  if (typeof body !== 'object' || body === null || typeof body.metadata !== 'object' || body.metadata === null) throw badRequest('the patched object has no metadata');
  if (body.metadata.name !== name) throw badRequest(`the name of the object (${body.metadata.name ?? ''}) does not match the name on the URL (${name})`);
  if (def.namespaced && body.metadata.namespace && body.metadata.namespace !== ns) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
}

function applyPatch(def: ResourceDef, current: Obj, contentType: string | undefined, text: string): Obj {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  try {
    switch (ct) {
      case 'application/json-patch+json':
        return jsonPatch(current, parseJSON(text)) as Obj;
      case 'application/merge-patch+json':
        return mergePatch(current, parseJSON(text)) as Obj;
      case 'application/strategic-merge-patch+json':
        return strategicMergePatch(current, parseJSON(text), def.schema) as Obj;
      case 'application/apply-patch+yaml':
      case 'application/apply-patch+cbor':
        throw unsupportedMediaType('server-side apply is not implemented by the apiserver test double');
      default:
        throw unsupportedMediaType(
          'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json',
        );
    }
  } catch (err) {
    if (err instanceof PatchError) throw err.code === 400 ? badRequest(err.message) : unprocessable(err.message);
    throw err;
  }
}

/** DeleteOptions from the body when there is one, else from the query (handlers/delete.go). */
function deleteOptions(text: string, q: URLSearchParams): DeleteOptions {
  const src: Record<string, any> = text.trim() ? (parseJSON(text) as Record<string, any>) ?? {} : {};
  const opts: DeleteOptions = {};
  const grace = text.trim() ? src.gracePeriodSeconds : q.get('gracePeriodSeconds');
  if (grace !== undefined && grace !== null && grace !== '') {
    const n = Number(grace);
    if (!Number.isInteger(n)) throw badRequest(`gracePeriodSeconds: invalid integer "${grace}"`);
    opts.gracePeriodSeconds = n;
  }
  const policy = text.trim() ? src.propagationPolicy : q.get('propagationPolicy');
  const orphan = text.trim() ? src.orphanDependents : q.get('orphanDependents') === null ? undefined : q.get('orphanDependents') === 'true';
  if (policy !== undefined && policy !== null && policy !== '') {
    if (!['Orphan', 'Background', 'Foreground'].includes(policy)) {
      throw invalid('meta.k8s.io', 'DeleteOptions', '', [{ field: 'propagationPolicy', type: 'Invalid', value: policy, detail: 'propagationPolicy must be Orphan, Background or Foreground' }]);
    }
    opts.propagationPolicy = policy;
  } else if (orphan === true) opts.propagationPolicy = 'Orphan';
  if (src.preconditions) opts.preconditions = src.preconditions;
  return opts;
}

async function list(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, def: ResourceDef, ns: string | undefined, q: URLSearchParams, isWatch: boolean): Promise<void> {
  const matches = compileSelectors(def, q);
  if (isWatch) return watch(ctx, req, res, def, ns, q, matches);
  const store = ctx.store;
  const rv = q.get('resourceVersion') ?? '';
  const match = q.get('resourceVersionMatch') ?? '';
  if (rv !== '' && !/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${rv}`);
  if (match && !rv) {
    throw invalid('meta.k8s.io', 'ListOptions', '', [{ field: 'resourceVersionMatch', type: 'Forbidden', detail: 'resourceVersionMatch is forbidden unless resourceVersion is provided' }]);
  }
  let items: Obj[];
  let listRV = store.resourceVersion;
  if (match === 'Exact') {
    // An exact list reads the past: only as far back as the history goes (etcd's compaction).
    const n = Number(rv);
    if (n === 0) throw invalid('meta.k8s.io', 'ListOptions', '', [{ field: 'resourceVersionMatch', type: 'Forbidden', detail: 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"' }]);
    if (n < store.oldestResumable) throw expired('The resourceVersion for the provided list is too old.');
    if (n > store.resourceVersion) throw timeout(`Too large resource version: ${n}, current: ${store.resourceVersion}`, 1);
    items = store.listAt(def, n, ns);
    listRV = n;
  } else {
    // Unset: the latest state; "0": any state; N (NotOlderThan): a state at least as new as N, so an
    // old N is no error for a list (only for a watch), and a future one waits up to 3 s.
    if (rv !== '' && rv !== '0' && Number(rv) > store.resourceVersion && !(await store.waitFor(Number(rv), 3000))) {
      throw timeout(`Too large resource version: ${rv}, current: ${store.resourceVersion}`, 1);
    }
    items = store.list(def, ns);
    listRV = store.resourceVersion;
  }
  items = items.filter(matches);
  const neg = negotiate(req.headers.accept);
  if (neg.table) {
    return sendJSON(res, 200, buildTable(items, def.printer, { neg, includeObject: parseIncludeObject(q.get('includeObject')) }, Date.now(), String(listRV), true));
  }
  // List items carry no kind/apiVersion of their own in the API server's JSON.
  sendJSON(res, 200, { kind: `${def.kind}List`, apiVersion: def.apiVersion, metadata: { resourceVersion: String(listRV) }, items: items.map(withoutTypeMeta) });
}

function watch(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, def: ResourceDef, ns: string | undefined, q: URLSearchParams, matches: (o: Obj) => boolean): void {
  const sendInitialEvents = q.get('sendInitialEvents') === 'true';
  const allowBookmarks = q.get('allowWatchBookmarks') === 'true';
  if (sendInitialEvents && (q.get('resourceVersionMatch') !== 'NotOlderThan' || !allowBookmarks)) {
    throw invalid('meta.k8s.io', 'ListOptions', '', [
      { field: 'sendInitialEvents', type: 'Forbidden', detail: 'sendInitialEvents is forbidden for watch unless resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true' },
    ]);
  }
  const timeoutSeconds = q.get('timeoutSeconds');
  const neg = negotiate(req.headers.accept);
  ctx.watches.add(res);
  res.on('close', () => ctx.watches.delete(res));
  serveWatch(
    ctx.store,
    req,
    res,
    {
      def,
      ...(ns !== undefined ? { namespace: ns } : {}),
      matches,
      ...(q.has('resourceVersion') ? { resourceVersion: q.get('resourceVersion')! } : {}),
      allowBookmarks,
      sendInitialEvents,
      ...(timeoutSeconds && /^\d+$/.test(timeoutSeconds) ? { timeoutSeconds: Number(timeoutSeconds) } : {}),
      ...(neg.table ? { table: { neg, includeObject: parseIncludeObject(q.get('includeObject')) } } : {}),
    },
    { bookmarkIntervalMs: ctx.bookmarkIntervalMs },
  );
}
