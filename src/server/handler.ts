import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod } from '../api/types.js';
import { errorMessage } from '../errors.js';
import { createNodeletMetrics, type NodeletMetrics } from '../metrics/kubelet-metrics.js';
import { createStatsProvider, type StatsProvider } from '../metrics/stats-summary.js';
import type { Logger } from '../util/log.js';
import type { UserInfo } from './auth/user.js';
import { logRequestFromQuery, resolveLogTarget, streamContainerLog } from './container-logs.js';
import { httpLimits, type HttpLimits } from './http-limits.js';
import { createKubeApi, type KubeApi } from './kubeapi/routes.js';
import { badRequest, type KubeStatus, opaqueInternalError, requestEntityTooLarge, sendStatus } from './kubeapi/status-errors.js';
import type { NodeView } from './node-view.js';
import { invalidName } from './object-names.js';
import { readRequestBody } from './request-body.js';
import { isKubeApiTarget, parseRequestTarget, type RequestTarget } from './request-target.js';
import { type CommandRunner, createRunRoute, DEFAULT_RUN_LIMITS, type RunLimits, type RunRoute } from './run-in-container.js';
import { runningPods, type RunningPodsSource } from './running-pods.js';
import { createStreamLimiter, type StreamLimiter } from './stream-limiter.js';

/** What the handler serves besides the view; each part is created when not given. */
export interface HandlerOptions {
  metrics?: NodeletMetrics;
  kubeApi?: KubeApi;
  stats?: StatsProvider;
  /**
   * Overrides of the default HTTP limits (http-limits.ts): the body and stream limits apply here, the
   * rest to the servers.
   */
  limits?: Partial<HttpLimits>;
  /** The slots for watches and followed logs; give the same to a `kubeApi` passed in, so that both share one cap. */
  streams?: StreamLimiter;
  /**
   * The container runtime, for what only the authenticated port serves: `/run` (execSync) and
   * `/runningpods/` (the runtime's own lists). Without it both are a 404.
   */
  runtime?: CommandRunner & RunningPodsSource;
  /** Overrides of the /run limits (run-in-container.ts); the idle timeout comes from `limits`. */
  runLimits?: Partial<RunLimits>;
}

/** An HTTP request handler with the resources it holds (the API's watch timer). */
export interface Handler {
  /** Serves the read-only API (the agent socket, the read-only port). */
  (req: IncomingMessage, res: ServerResponse): void;
  /**
   * Serves the same API plus what the kubelet keeps for its authenticated port: `/run` and
   * `/runningpods/`. `user` is who the request was authenticated as (for the log).
   */
  authenticated(req: IncomingMessage, res: ServerResponse, user: UserInfo): void;
  /** Stops what the handler runs in the background. */
  close(): void;
  /** The node's slots for watches and followed logs. */
  readonly streams: StreamLimiter;
}

// Request targets are logged up to this length: they may be as long as the header limit.
const LOGGED_URL_CHARS = 512;

/**
 * The read-only HTTP API (pkg/kubelet/server/server.go), served on the agent socket under --root-dir
 * and on the read-only port: `/healthz`, `/pods`, `/configz`, `/metrics`, `/stats/summary`,
 * `/containerLogs/{ns}/{pod}/{container}`, and the Kubernetes API read paths (`/api`, `/apis`,
 * `/version`) that let kubectl talk to the node. Everything there only reads. (`/configz` and
 * `/containerLogs` are the kubelet's authenticated port's only; nodelet has served them read-only
 * from the start and keeps them there.) Its `authenticated` variant, for the authenticated port,
 * adds `/run` and `/runningpods/`. Before any route runs,
 * the target is parsed and checked (request-target.ts) and the body read within its limit; an
 * unexpected failure is logged and answered with a 500 that tells nothing of it.
 */
export function createHandler(view: NodeView, logger: Logger, opts: HandlerOptions = {}): Handler {
  const limits = httpLimits(opts.limits);
  const metrics = opts.metrics ?? createNodeletMetrics();
  metrics.attach(view);
  const streams = opts.streams ?? createStreamLimiter(limits.maxStreams);
  const kubeApi = opts.kubeApi ?? createKubeApi(view, { onError: (err) => logger.error({ err: errorMessage(err) }, 'Watch poll failed'), streams });
  const stats = opts.stats ?? createStatsProvider({ now: () => view.now() });
  const run = createRunRoute(view, opts.runtime, logger, { ...DEFAULT_RUN_LIMITS, idleTimeoutMs: limits.idleTimeoutMs, ...opts.runLimits });
  const ctx: Context = { view, metrics, kubeApi, stats, streams, limits, run, runtime: opts.runtime };
  const serveAs = (req: IncomingMessage, res: ServerResponse, user: UserInfo | undefined): void => {
    // Every body is text or JSON with its type set: no browser may guess otherwise.
    res.setHeader('x-content-type-options', 'nosniff');
    serve(ctx, req, res, user).catch((err) => {
      logger.error({ err: errorMessage(err), stack: (err as Error)?.stack, method: req.method, url: req.url?.slice(0, LOGGED_URL_CHARS) }, 'HTTP handler failed');
      if (!res.headersSent) refuse(res, isKubeApiTarget(req.url ?? '/'), opaqueInternalError().status);
      else if (!res.writableEnded) res.destroy();
    });
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => serveAs(req, res, undefined);
  return Object.assign(handler, {
    authenticated: (req: IncomingMessage, res: ServerResponse, user: UserInfo) => serveAs(req, res, user),
    close: () => kubeApi.close(),
    streams,
  });
}

interface Context {
  view: NodeView;
  metrics: NodeletMetrics;
  kubeApi: KubeApi;
  stats: StatsProvider;
  streams: StreamLimiter;
  limits: HttpLimits;
  run: RunRoute;
  runtime?: RunningPodsSource;
}

// `user` is set on the authenticated port only: the routes the kubelet serves there alone need it.
async function serve(ctx: Context, req: IncomingMessage, res: ServerResponse, user: UserInfo | undefined): Promise<void> {
  const raw = req.url ?? '/';
  const kube = isKubeApiTarget(raw);
  const target = parseRequestTarget(raw);
  if ('refused' in target) return refuse(res, kube, badRequest(target.refused).status);
  const body = await readRequestBody(req, ctx.limits.maxBodyBytes);
  if (body.kind === 'aborted') return void res.destroy();
  if (body.kind === 'too-large') {
    // The rest of the body is never read: the connection closes after the answer.
    return refuse(res, kube, requestEntityTooLarge(ctx.limits.maxBodyBytes).status, { connection: 'close' });
  }
  // The API paths answer writes themselves, with a Kubernetes Status kubectl can print.
  if (ctx.kubeApi.owns(target.path)) return ctx.kubeApi.handle(req, res, target, body.kind === 'body' ? body.body : undefined);
  if (user && target.segments[0] === 'run') return ctx.run.handle(req, res, target, body.kind === 'body' ? body.body : undefined, user);
  return handle(ctx, req, res, target, user !== undefined);
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse, target: RequestTarget, authenticated: boolean): Promise<void> {
  const { view } = ctx;
  const p = target.path;
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
  if (p === '/runningpods' && authenticated && ctx.runtime) return sendJSON(res, 200, await runningPods(ctx.runtime));
  const seg = target.segments;
  if (seg[0] === 'containerLogs' && seg.length === 4) {
    const [ns, pod, container] = seg.slice(1) as [string, string, string];
    const bad = invalidName('namespace', ns) ?? invalidName('pod', pod) ?? invalidName('container', container);
    if (bad) return sendText(res, 400, `${bad}\n`);
    const r = logRequestFromQuery(ns, pod, container, target.url.searchParams, view.now());
    const t = resolveLogTarget(view, r);
    if ('code' in t) return sendText(res, t.code, `${t.message}\n`);
    if (r.follow && !r.previous && !ctx.streams.acquire(req, res)) {
      return send(res, 429, 'text/plain; charset=utf-8', `too many requests: ${ctx.streams.max} watches and followed logs are open on this node\n`, { 'retry-after': '1' });
    }
    return streamContainerLog(view, req, res, r, t);
  }
  return sendText(res, 404, `404 page not found\n`);
}

// An error answer: a Status on the API paths, its message as text elsewhere.
function refuse(res: ServerResponse, kube: boolean, s: KubeStatus, headers: Record<string, string> = {}): void {
  if (kube) return sendStatus(res, s, headers);
  send(res, s.code, 'text/plain; charset=utf-8', `${s.message}\n`, headers);
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

function send(res: ServerResponse, code: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendText(res: ServerResponse, code: number, body: string): void {
  send(res, code, 'text/plain; charset=utf-8', body);
}

function sendJSON(res: ServerResponse, code: number, body: unknown): void {
  send(res, code, 'application/json', JSON.stringify(body));
}
