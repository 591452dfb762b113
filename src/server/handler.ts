import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod } from '../api/types.js';
import { errorMessage } from '../errors.js';
import { readContainerLog } from '../logs/index.js';
import type { Logger } from '../util/log.js';
import type { NodeView } from './node-view.js';

/**
 * The read-only HTTP API (pkg/kubelet/server/server.go), served on the agent socket under --root-dir
 * and on the read-only port: `/healthz`, `/pods`, `/configz`, `/containerLogs/{ns}/{pod}/{container}`.
 * Everything here only reads.
 */
export function createHandler(view: NodeView, logger: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(view, req, res).catch((err) => {
      logger.error({ err: errorMessage(err), url: req.url }, 'HTTP handler failed');
      if (!res.headersSent) sendText(res, 500, `internal error: ${errorMessage(err)}\n`);
      else res.destroy();
    });
  };
}

async function handle(view: NodeView, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://nodelet');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendText(res, 405, `method ${req.method} not allowed: this API is read-only\n`);
  }
  const p = url.pathname.replace(/\/+$/, '') || '/';
  if (p === '/healthz' || p === '/healthz/ping') return sendText(res, 200, 'ok');
  if (p === '/healthz/syncloop') {
    // The resync ticks every syncFrequency; three missed ticks means the loop is stuck.
    const late = view.now() - view.lastResyncAt() > 3 * view.config.syncFrequencyMs + 10_000;
    return late ? sendText(res, 500, 'sync loop is stuck\n') : sendText(res, 200, 'ok');
  }
  if (p === '/pods') return sendJSON(res, 200, podList(view));
  if (p === '/configz') return sendJSON(res, 200, { kubeletconfig: view.kubeletConfiguration() });
  const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(p);
  if (logs) return containerLogs(view, req, res, logs.slice(1).map(decodeURIComponent) as [string, string, string], url);
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

async function containerLogs(
  view: NodeView,
  req: IncomingMessage,
  res: ServerResponse,
  [ns, podName, container]: [string, string, string],
  url: URL,
): Promise<void> {
  const find = () =>
    view.pods().find((s) => (s.pod.metadata?.namespace ?? 'default') === ns && s.pod.metadata?.name === podName);
  const snap = find();
  if (!snap) return sendText(res, 404, `pod ${ns}/${podName} not found\n`);
  const c = snap.containers.find((v) => v.name === container);
  const known = [...(snap.pod.spec?.initContainers ?? []), ...(snap.pod.spec?.containers ?? [])].some((x) => x.name === container);
  if (!known) return sendText(res, 404, `container ${container} is not valid for pod ${podName}\n`);
  const previous = url.searchParams.get('previous') === 'true';
  const info = previous ? c?.previous ?? (c?.current?.state === 'exited' && c.waiting ? c.current : undefined) : c?.current;
  if (!info) {
    const msg = previous
      ? `previous terminated container "${container}" in pod "${podName}" not found\n`
      : `container "${container}" in pod "${podName}" is waiting to start\n`;
    return sendText(res, 400, msg);
  }
  const tail = url.searchParams.get('tailLines');
  const sinceSeconds = url.searchParams.get('sinceSeconds');
  const sinceTime = url.searchParams.get('sinceTime');
  const since = sinceTime ? new Date(sinceTime) : sinceSeconds ? new Date(view.now() - Number(sinceSeconds) * 1000) : undefined;
  const follow = url.searchParams.get('follow') === 'true' && !previous;
  const abort = new AbortController();
  req.on('close', () => abort.abort());
  res.on('close', () => abort.abort());
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
  const stillRunning = () => {
    const now = find()?.containers.find((v) => v.name === container)?.current;
    return now?.id === info.id && now.state === 'running';
  };
  for await (const line of readContainerLog(info.logPath, {
    tail: tail !== null ? Number(tail) : undefined,
    since,
    timestamps: url.searchParams.get('timestamps') === 'true',
    follow,
    signal: abort.signal,
    stopWhen: () => !stillRunning(),
  })) {
    if (!res.write(line)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}

function sendText(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJSON(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
