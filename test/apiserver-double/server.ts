/**
 * A TEST DOUBLE of kube-apiserver, for nodelet's `--kubeconfig` tests. No real kube-apiserver (nor
 * etcd) can be installed or run on the machines these tests run on, so this in-process HTTP(S) server
 * stands in for one. It is not a Kubernetes API server and must never be used as one.
 *
 * What it implements, following the real API's semantics for the calls a kubelet makes (file
 * references are to kubernetes/kubernetes):
 *  - resources: core/v1 pods (+status), nodes (+status), namespaces (+status; default, kube-system,
 *    kube-public and kube-node-lease exist), events; coordination.k8s.io/v1 leases; events.k8s.io/v1
 *    events (stored apart from core events, not converted);
 *  - verbs: get, list, watch, create, update (PUT, optimistic concurrency on metadata.resourceVersion,
 *    the UID as precondition), patch (JSON patch, merge patch, strategic merge patch with the real
 *    merge keys of the fields a kubelet patches), delete (DeleteOptions in body or query:
 *    gracePeriodSeconds, preconditions, propagationPolicy);
 *  - one global resourceVersion; server-set uid, creationTimestamp, generation (pods); strategies
 *    (pod status reset on create, status kept by main-resource updates, spec kept by /status
 *    updates, pod spec immutability, pod defaults); Status errors with the real codes, reasons and
 *    messages (NotFound, AlreadyExists, Conflict, Invalid, Expired, BadRequest, Unauthorized, …);
 *  - list with labelSelector, fieldSelector (the real selectable fields), resourceVersion and
 *    resourceVersionMatch (Exact reads the past from history, 410 once compacted away);
 *  - watch with resourceVersion, selectors (objects leaving the selection are DELETED),
 *    allowWatchBookmarks, timeoutSeconds, sendInitialEvents, and 410 Expired ERROR events for
 *    compacted history;
 *  - graceful deletion of bound pods, finalizers, a simplified garbage collector (ownerReferences;
 *    deleting a Node removes the mirror pods it owns);
 *  - discovery and server-side Tables, so the real kubectl works against it; bearer-token
 *    authentication (as with --anonymous-auth=false: no or a wrong token is 401) and HTTPS with a
 *    throwaway self-signed certificate;
 *  - test controls: stop()/start() (an API server restart on the same port, state kept), compact(),
 *    failNext() error injection, direct store access (get/list/put/remove) and a request log.
 *
 * What it does not: authorization (RBAC, Node authorizer), admission (NodeRestriction, which would
 * let a kubelet create only mirror pods bound to itself; ServiceAccount; DefaultTolerationSeconds;
 * Priority), most validation, server-side apply, dryRun, deletecollection, limit/continue paging
 * (one page always, which the API allows), protobuf, OpenAPI documents, other resources (no
 * services, configmaps, secrets…), and the controllers (no scheduler, namespace deletion and GC are
 * immediate and simplified). Watch bookmarks come every `bookmarkIntervalMs` (default 5 s) rather
 * than about once a minute.
 */

import { writeFileSync } from 'node:fs';
import { rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { stringify } from 'yaml';
import type { Obj } from './defaults.js';
import { ApiStatusError, injected, internalError, unauthorized } from './errors.js';
import { type HandlerContext, handleApi, sendJSON } from './handler.js';
import { resolveResource } from './resources.js';
import { Store } from './store.js';
import { makeServingCert, type ServingCert } from './tls.js';

export type { Obj } from './defaults.js';

/** Options of {@link startApiServerDouble}. */
export interface ApiServerDoubleOptions {
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1. */
  tls?: boolean;
  /** Require `Authorization: Bearer <token>` on every request. */
  token?: string;
  /** The port to listen on (127.0.0.1); 0 or unset picks a free one. */
  port?: number;
  /** How many changes the watch history keeps (default 10000); older resourceVersions are 410. */
  historyLimit?: number;
  /** How often watches with allowWatchBookmarks=true get a BOOKMARK (default 5000 ms). */
  bookmarkIntervalMs?: number;
}

/** One request the double received, for tests to assert what nodelet called. */
export interface RecordedRequest {
  method: string;
  /** The path without the query. */
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body (or its text when not JSON), when there was one. */
  body?: unknown;
  contentType?: string;
  /** The HTTP status answered (for a watch, the 200 of its start). */
  code?: number;
}

/** A running API-server double. */
export interface ApiServerDouble {
  /** `http(s)://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The serving certificate (PEM) when tls is on: the CA a client must trust. */
  readonly caCert: string | undefined;
  /** Every request so far, oldest first (tests may clear it with `requests.length = 0`). */
  readonly requests: RecordedRequest[];
  /** The current resourceVersion. */
  readonly resourceVersion: string;
  /** How many watch responses are open now. */
  readonly openWatches: number;
  /** Writes a kubeconfig for this server: cluster (with CA data under tls), a token user, one context. */
  writeKubeconfig(file: string, opts?: { token?: string; context?: string }): void;
  /** Closes the listener and every open connection and watch; the state is kept. */
  stop(): Promise<void>;
  /** Listens again on the same port with the same state, like an API server restart. */
  start(): Promise<void>;
  /** Stops for good and removes the certificate directory. */
  close(): Promise<void>;
  /** Drops the watch history: watches (and exact lists) from an older resourceVersion get 410. */
  compact(): void;
  /**
   * Answers the next `times` (default 1) requests whose method matches (`'*'` for any) and whose
   * path with query (`/api/v1/pods?watch=true…`) matches `pathRegex` with a Status of that HTTP code.
   */
  failNext(method: string, pathRegex: RegExp | string, status: number, times?: number): void;
  /** A copy of one stored object (kind: `pods`, `Pod`, `nodes`, `leases`, `events.events.k8s.io`, …). */
  get(kind: string, namespace: string | undefined, name: string): Obj | undefined;
  /** Copies of all stored objects of a kind (in one namespace, if given). */
  list(kind: string, namespace?: string): Obj[];
  /** Creates or replaces an object as another client would, bumping the resourceVersion and notifying watches. */
  put(kind: string, obj: Record<string, any>): Obj;
  /** Removes an object at once (no grace, finalizers ignored); false when there was none. */
  remove(kind: string, namespace: string | undefined, name: string): boolean;
}

interface Failure {
  method: string;
  re: RegExp;
  status: number;
  times: number;
}

/** Starts an API-server double on 127.0.0.1. */
export async function startApiServerDouble(opts: ApiServerDoubleOptions = {}): Promise<ApiServerDouble> {
  const store = new Store(opts.historyLimit ?? 10_000);
  const ctx: HandlerContext = { store, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 5_000, watches: new Set() };
  const requests: RecordedRequest[] = [];
  const failures: Failure[] = [];
  const cert: ServingCert | undefined = opts.tls ? makeServingCert() : undefined;
  const sockets = new Set<Socket>();
  let closed = false;

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://double');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const entry: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams) };
    if (text) {
      try {
        entry.body = JSON.parse(text);
      } catch {
        entry.body = text;
      }
    }
    if (req.headers['content-type']) entry.contentType = req.headers['content-type'];
    requests.push(entry);
    try {
      if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) throw unauthorized();
      const i = failures.findIndex((f) => (f.method === '*' || f.method === entry.method) && f.re.test(url.pathname + url.search));
      if (i >= 0) {
        const f = failures[i]!;
        if (--f.times <= 0) failures.splice(i, 1);
        throw injected(f.status, `injected failure (apiserver double): ${entry.method} ${url.pathname}`);
      }
      await handleApi(ctx, req, res, url, text);
    } catch (err) {
      const s = err instanceof ApiStatusError ? err.status : internalError(err instanceof Error ? err.message : String(err)).status;
      if (!res.headersSent) sendJSON(res, s.code, s);
      else res.destroy();
    }
    entry.code = res.statusCode;
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => void onRequest(req, res);
  const server: Server = cert ? createHttpsServer({ key: cert.key, cert: cert.cert }, handler) : createHttpServer(handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const url = `${cert ? 'https' : 'http'}://127.0.0.1:${port}`;

  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      // Watches and keep-alive connections die with the server, as in a restart.
      for (const s of sockets) s.destroy();
    });

  return {
    url,
    port,
    caCert: cert?.cert.toString('utf8'),
    requests,
    get resourceVersion() {
      return String(store.resourceVersion);
    },
    get openWatches() {
      return ctx.watches.size;
    },
    writeKubeconfig(file, o = {}) {
      const context = o.context ?? 'apiserver-double';
      const token = o.token ?? opts.token;
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'apiserver-double', cluster: { server: url, ...(cert ? { 'certificate-authority-data': cert.cert.toString('base64') } : {}) } }],
        users: [{ name: 'nodelet', user: token !== undefined ? { token } : {} }],
        contexts: [{ name: context, context: { cluster: 'apiserver-double', user: 'nodelet', namespace: 'default' } }],
        'current-context': context,
        preferences: {},
      };
      writeFileSync(file, stringify(config), { mode: 0o600 });
    },
    stop,
    async start() {
      if (closed) throw new Error('apiserver double: start() after close()');
      if (server.listening) return;
      await listen(port);
    },
    async close() {
      closed = true;
      await stop();
      if (cert) rmSync(cert.dir, { recursive: true, force: true });
    },
    compact: () => store.compact(),
    failNext(method, pathRegex, status, times = 1) {
      failures.push({ method: method.toUpperCase(), re: typeof pathRegex === 'string' ? new RegExp(pathRegex) : pathRegex, status, times });
    },
    get: (kind, ns, name) => store.get(resolveResource(kind), ns, name),
    list: (kind, ns) => store.list(resolveResource(kind), ns),
    put: (kind, obj) => store.put(resolveResource(kind), obj as Obj),
    remove: (kind, ns, name) => store.remove(resolveResource(kind), ns, name),
  };
}
