import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod } from '../api/types.js';
import { errorMessage } from '../errors.js';
import { createNodeletMetrics, type NodeletMetrics } from '../metrics/kubelet-metrics.js';
import { createStatsProvider, type StatsProvider } from '../metrics/stats-summary.js';
import type { Logger } from '../util/log.js';
import { logRequestFromQuery, resolveLogTarget, streamContainerLog } from './container-logs.js';
import { createKubeApi, type KubeApi } from './kubeapi/routes.js';
import type { NodeView } from './node-view.js';

/** What the handler serves besides the view; each part is created when not given. */
export interface HandlerOptions {
  metrics?: NodeletMetrics;
  kubeApi?: KubeApi;
  stats?: StatsProvider;
}

/** An HTTP request handler with the resources it holds (the API's watch timer). */
export interface Handler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Stops what the handler runs in the background. */
  close(): void;
}

/**
 * The read-only HTTP API (pkg/kubelet/server/server.go), served on the agent socket under --root-dir
 * and on the read-only port: `/healthz`, `/pods`, `/configz`, `/metrics`, `/stats/summary`,
 * `/containerLogs/{ns}/{pod}/{container}`, and the Kubernetes API read paths (`/api`, `/apis`,
 * `/version`) that let kubectl talk to the node. Everything here only reads.
 */
export function createHandler(view: NodeView, logger: Logger, opts: HandlerOptions = {}): Handler {
  const metrics = opts.metrics ?? createNodeletMetrics();
  metrics.attach(view);
  const kubeApi = opts.kubeApi ?? createKubeApi(view, { onError: (err) => logger.error({ err: errorMessage(err) }, 'Watch poll failed') });
  const stats = opts.stats ?? createStatsProvider({ now: () => view.now() });
  const ctx = { view, metrics, kubeApi, stats };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    handle(ctx, req, res).catch((err) => {
      logger.error({ err: errorMessage(err), url: req.url }, 'HTTP handler failed');
      if (!res.headersSent) sendText(res, 500, `internal error: ${errorMessage(err)}\n`);
      else if (!res.writableEnded) res.destroy();
    });
  };
  return Object.assign(handler, { close: () => kubeApi.close() });
}

interface Context {
  view: NodeView;
  metrics: NodeletMetrics;
  kubeApi: KubeApi;
  stats: StatsProvider;
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { view } = ctx;
  const url = new URL(req.url ?? '/', 'http://nodelet');
  const p = url.pathname.replace(/\/+$/, '') || '/';
  // The API paths answer writes themselves, with a Kubernetes Status kubectl can print.
  if (ctx.kubeApi.owns(p)) return ctx.kubeApi.handle(req, res, url);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendText(res, 405, `method ${req.method} not allowed: this API is read-only\n`);
  }
  if (p === '/healthz/ping') return sendText(res, 200, 'ok');
  if (p === '/healthz' || p === '/healthz/runtime') {
    // A runtime that cannot be reached makes the node unhealthy: nothing can start or stop.
    const rt = view.runtimeHealth?.() ?? { ok: true, message: '' };
    if (!rt.ok) return sendText(res, 500, `container runtime is down: ${rt.message}\n`);
    return sendText(res, 200, 'ok');
  }
  if (p === '/healthz/syncloop') {
    // The resync ticks every syncFrequency; three missed ticks means the loop is stuck.
    const late = view.now() - view.lastResyncAt() > 3 * view.config.syncFrequencyMs + 10_000;
    return late ? sendText(res, 500, 'sync loop is stuck\n') : sendText(res, 200, 'ok');
  }
  if (p === '/pods') return sendJSON(res, 200, podList(view));
  if (p === '/configz') return sendJSON(res, 200, { kubeletconfig: view.kubeletConfiguration() });
  if (p === '/metrics') {
    const m = await ctx.metrics.render();
    return send(res, 200, m.contentType, m.body);
  }
  if (p === '/stats/summary') return sendJSON(res, 200, await ctx.stats.summary(view.config.nodeName, view.pods()));
  const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(p);
  if (logs) {
    const [ns, pod, container] = logs.slice(1).map(decodeURIComponent) as [string, string, string];
    const r = logRequestFromQuery(ns, pod, container, url.searchParams, view.now());
    const t = resolveLogTarget(view, r);
    if ('code' in t) return sendText(res, t.code, `${t.message}\n`);
    return streamContainerLog(view, req, res, r, t);
  }
  return sendText(res, 404, `404 page not found\n`);
}

/** A v1 PodList of every pod with its live status, as the kubelet's /pods serves it. */
export function podList(view: NodeView): { kind: 'PodList'; apiVersion: 'v1'; metadata: object; items: Pod[] } {
  return {
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: {},
    items: view.pods().map((s) => ({ ...s.pod, status: s.status })),
  };
}

function send(res: ServerResponse, code: number, contentType: string, body: string): void {
  res.writeHead(code, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendText(res: ServerResponse, code: number, body: string): void {
  send(res, code, 'text/plain; charset=utf-8', body);
}

function sendJSON(res: ServerResponse, code: number, body: unknown): void {
  send(res, code, 'application/json', JSON.stringify(body));
}
