import http from 'node:http';
import https from 'node:https';
import { errorMessage, NodeletError } from '../errors.js';

/** A Kubernetes API error: the Status the server sent (or one made up for a transport failure). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** HTTP status; 0 when the server could not be reached. */
    readonly code: number,
    /** The Status reason (`NotFound`, `AlreadyExists`, `Conflict`, `Expired`, …). */
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether an error is the API server saying "no such object". */
export const isNotFound = (err: unknown): boolean => err instanceof ApiError && err.code === 404;
/** Whether a create failed because the object exists. */
export const isAlreadyExists = (err: unknown): boolean => err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists';
/** Whether an update lost an optimistic-concurrency race or a precondition. */
export const isConflict = (err: unknown): boolean => err instanceof ApiError && err.code === 409 && err.reason !== 'AlreadyExists';
/** Whether a list or watch asked for a resourceVersion the server no longer has (410 Gone / Expired). */
export const isGone = (err: unknown): boolean => err instanceof ApiError && err.code === 410;

/** One event of a watch stream. */
export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** Options of one request. */
export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** For PATCH: `application/merge-patch+json` (default) or `application/strategic-merge-patch+json`. */
  contentType?: string;
  timeoutMs?: number;
}

/**
 * The few calls nodelet makes to an API server, as plain JSON: objects are passed through untouched
 * (the generated client of @kubernetes/client-node converts and drops fields it does not know).
 * Authentication (certificates, tokens, exec plugins) is @kubernetes/client-node's KubeConfig.
 */
export interface KubeClient {
  /** The API server's URL, for logs. */
  readonly server: string;
  request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, opts?: RequestOptions): Promise<T>;
  /**
   * Opens a watch on a list path and calls `onEvent` for each event until the server ends the stream
   * (resolves) or it fails (rejects). `signal` closes it.
   */
  watch<T>(path: string, query: RequestOptions['query'], onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}

/** Loads a kubeconfig file (--kubeconfig) and returns a client of its current context's server. */
export async function loadKubeClient(kubeconfigPath: string): Promise<KubeClient> {
  // Loaded only with --kubeconfig: a standalone node never pays for the client's import.
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromFile(kubeconfigPath);
  } catch (err) {
    throw new NodeletError('InvalidKubeconfig', `cannot load --kubeconfig ${kubeconfigPath}: ${errorMessage(err)}`, { cause: err });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new NodeletError('InvalidKubeconfig', `--kubeconfig ${kubeconfigPath} has no current cluster`);
  const base = new URL(cluster.server);
  const transport = base.protocol === 'https:' ? https : http;

  const open = async (method: string, path: string, opts: RequestOptions, accept: string): Promise<http.ClientRequest> => {
    const url = new URL(path, base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const options: https.RequestOptions = { method, headers: { Accept: accept } };
    // Certificates, bearer tokens and exec-plugin credentials land in the options.
    await kc.applyToHTTPSOptions(options);
    return transport.request(url, options);
  };

  const request = async <T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> => {
    const req = await open(method, path, opts, 'application/json');
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (body !== undefined) {
      req.setHeader('Content-Type', method === 'PATCH' ? (opts.contentType ?? 'application/merge-patch+json') : 'application/json');
      req.setHeader('Content-Length', Buffer.byteLength(body));
    }
    return new Promise<T>((resolve, reject) => {
      req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', (err) => reject(new ApiError(0, 'Unreachable', `${method} ${path}: ${errorMessage(err)}`, { cause: err })));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new ApiError(0, 'Unreachable', `${method} ${path}: ${errorMessage(err)}`, { cause: err })));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          if (code >= 200 && code < 300) return resolve(json as T);
          reject(statusError(code, json, `${method} ${path}`, text));
        });
      });
      req.end(body);
    });
  };

  const watch = async <T>(path: string, query: RequestOptions['query'], onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> => {
    const req = await open('GET', path, { query: { ...query, watch: true } }, 'application/json');
    return new Promise<void>((resolve, reject) => {
      const abort = () => req.destroy();
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', abort, { once: true });
      const done = (err?: unknown) => {
        signal.removeEventListener('abort', abort);
        if (err && !signal.aborted) reject(err);
        else resolve();
      };
      req.on('error', (err) => done(new ApiError(0, 'Unreachable', `watch ${path}: ${errorMessage(err)}`, { cause: err })));
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            done(statusError(res.statusCode ?? 0, json, `watch ${path}`, text));
          });
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent<T>);
            } catch (err) {
              req.destroy();
              return done(err);
            }
          }
        });
        res.on('error', (err) => done(new ApiError(0, 'Unreachable', `watch ${path}: ${errorMessage(err)}`, { cause: err })));
        res.on('end', () => done());
      });
      req.end();
    });
  };

  return { server: cluster.server, request: request as KubeClient['request'], watch };
}

/** The ApiError of a non-2xx answer, from its Status body when there is one. */
export function statusError(code: number, body: unknown, what: string, text = ''): ApiError {
  const s = body as { kind?: string; reason?: string; message?: string } | undefined;
  if (s?.kind === 'Status') return new ApiError(code, s.reason ?? '', `${what}: ${s.message ?? `HTTP ${code}`}`);
  return new ApiError(code, '', `${what}: HTTP ${code}${text ? `: ${text.slice(0, 200)}` : ''}`);
}
