// The Kubernetes API read paths nodelet serves, so that the real kubectl works against a lone node:
// discovery (/api, /api/v1, /apis, /version), pods (list, get, watch, log) and events. Paths follow
// the API server's layout (staging/src/k8s.io/apiserver/pkg/endpoints/installer.go), including the
// deprecated /api/v1/watch/… prefix. Every write is a 405 Status (writes.ts).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_HTTP_LIMITS } from '../http-limits.js';
import type { NodeView } from '../node-view.js';
import { invalidName } from '../object-names.js';
import type { RequestTarget } from '../request-target.js';
import { createStreamLimiter, type StreamLimiter } from '../stream-limiter.js';
import { apiGroupList, apiVersions, coreV1ResourceList } from './discovery.js';
import { getEvent, listEvents } from './events.js';
import { openAPIV3CoreV1, openAPIV3Root } from './openapi.js';
import { PodCache } from './pod-cache.js';
import { getPod, listPods, podLog } from './pods.js';
import { badRequest, noSuchResource, opaqueInternalError, sendObject, sendStatus, StatusError } from './status-errors.js';
import { versionInfo } from './version.js';
import { Poller } from './watch.js';
import { refuseWrite, type WriteTarget } from './writes.js';

/** Options of {@link createKubeApi}. */
export interface KubeApiOptions {
  /** How often open watches re-diff the pods (ms). */
  watchPollMs?: number;
  /** How many pod changes are kept for watches resuming from a resourceVersion. */
  historySize?: number;
  /** Told about a failure in the background (a watch poll that threw). */
  onError?: (err: unknown) => void;
  /** Slots for watches and followed logs, shared with the node's other routes; own ones when not given. */
  streams?: StreamLimiter;
}

/** The API read paths of one node. */
export interface KubeApi {
  /** True when the path is an API path (then the request is answered, or being answered). */
  owns(pathname: string): boolean;
  /**
   * Answers an API request; errors become Status objects. `body` is the request's body, already read
   * within the size limit. A failure that is no Status is a 500 whose text says nothing of it, and
   * is thrown on for the caller to log.
   */
  handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget, body?: Buffer): Promise<void>;
  /** The served pods with their resourceVersions (shared with the CLI-facing endpoints). */
  readonly pods: PodCache;
  /** Stops the watch poller; open watches stay open but see no more changes. */
  close(): void;
}

/** How often an open watch looks for changes: small enough for `kubectl get -w` to feel live. */
export const DEFAULT_WATCH_POLL_MS = 500;

/** Creates the API read paths over a node's view. */
export function createKubeApi(view: NodeView, opts: KubeApiOptions = {}): KubeApi {
  const cache = new PodCache(view, opts.historySize);
  const poller = new Poller(opts.watchPollMs ?? DEFAULT_WATCH_POLL_MS, opts.onError);
  const streams = opts.streams ?? createStreamLimiter(DEFAULT_HTTP_LIMITS.maxStreams);
  const ctx = { view, cache, poller, streams };
  return {
    pods: cache,
    owns: (p) => p === '/api' || p.startsWith('/api/') || p === '/apis' || p.startsWith('/apis/') || p === '/version' || p.startsWith('/openapi/'),
    async handle(req, res, target, body) {
      try {
        await route(req, res, target, body);
      } catch (err) {
        // The error's own text may name files or internals: the client gets a fixed message, the log the rest.
        const s = err instanceof StatusError ? err.status : opaqueInternalError().status;
        if (!res.headersSent) sendStatus(res, s);
        else res.destroy();
        if (!(err instanceof StatusError)) throw err;
      }
    },
    close: () => poller.stop(),
  };

  async function route(req: IncomingMessage, res: ServerResponse, target: RequestTarget, body: Buffer | undefined): Promise<void> {
    const { url } = target;
    const seg = target.segments;
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (seg[0] === 'version' && seg.length === 1 && read) return sendObject(res, 200, versionInfo());
    if (seg[0] === 'apis' && seg.length === 1 && read) return sendObject(res, 200, apiGroupList());
    if (seg[0] === 'openapi' && seg[1] === 'v3' && read) {
      if (seg.length === 2) return sendObject(res, 200, openAPIV3Root());
      if (seg[2] === 'api' && seg[3] === 'v1' && seg.length === 4) return sendObject(res, 200, openAPIV3CoreV1());
    }
    if (seg[0] !== 'api') {
      // /apis/<group>/…, /openapi/v2: kubectl copes with their absence.
      if (read) throw noSuchResource();
      // The group is repeated in the message only when it could be one.
      const resource = seg[1] !== undefined && !invalidName('group', seg[1]) ? seg[1] : 'resources';
      throw await refuseWrite(view, cache, req, { resource }, body);
    }
    if (seg.length === 1 && read) return sendObject(res, 200, apiVersions(req.headers.host ?? view.config.address));
    if (seg[1] !== 'v1') throw noSuchResource();
    if (seg.length === 2 && read) return sendObject(res, 200, coreV1ResourceList());

    let rest = seg.slice(2);
    const watchPath = rest[0] === 'watch';
    if (watchPath) rest = rest.slice(1);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resource, name, sub, ...more] = rest;
    if (!resource || more.length > 0 || (resource !== 'pods' && resource !== 'events')) throw noSuchResource();
    // Names are checked before they are used or repeated in a message.
    const badNamespace = namespace !== undefined ? invalidName('namespace', namespace) : undefined;
    const badName = name !== undefined ? invalidName(resource === 'pods' ? 'pod' : 'event', name) : undefined;
    if (badNamespace ?? badName) throw badRequest((badNamespace ?? badName)!);
    if (!read) {
      const write: WriteTarget = { resource: sub ? `${resource}/${sub}` : resource, namespace, name };
      throw await refuseWrite(view, cache, req, write, body);
    }
    if (resource === 'pods') {
      if (name === undefined) return listPods(ctx, req, res, url, namespace, watchPath);
      if (namespace === undefined) throw noSuchResource();
      if (sub === undefined) return getPod(ctx, req, res, url, namespace, name);
      if (sub === 'log') return podLog(ctx, req, res, url, namespace, name);
      throw noSuchResource();
    }
    if (name === undefined) return listEvents(ctx, req, res, url, namespace, watchPath);
    if (namespace === undefined || sub !== undefined) throw noSuchResource();
    return getEvent(ctx, req, res, url, namespace, name);
  }
}
