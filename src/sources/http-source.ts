import type { Pod } from '../api/types.js';
import { errorMessage } from '../errors.js';
import { loadPodList, MAX_MANIFEST_BYTES } from '../manifest/index.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { isLoopbackIP } from '../util/loopback.js';

/** Options of {@link createHttpSource}. */
export interface HttpSourceOptions {
  url: string;
  /** --manifest-url-header: name → values, sent with every request. */
  headers: Record<string, string[]>;
  nodeName: string;
  clock: Clock;
  logger: Logger;
  /** httpCheckFrequency (20 s). */
  periodMs: number;
  /** Client timeout (the kubelet's is 10 s). */
  timeoutMs?: number;
  onSnapshot: (pods: Pod[]) => void;
}

/** The `--manifest-url` source. */
export interface HttpSource {
  start(): Promise<void>;
  stop(): void;
  /** Fetches now (tests, SIGHUP). */
  poll(): Promise<void>;
  /** The error of the last fetch, or undefined when it succeeded. */
  lastError(): string | undefined;
}

/**
 * Creates the HTTP source (pkg/kubelet/config/http.go): GET the URL at once and every period; a Pod
 * or a PodList becomes this source's snapshot. An identical body changes nothing; any error (refused,
 * non-200, timeout, too large, invalid) keeps the current pods and is logged once per distinct error.
 */
export function createHttpSource(opts: HttpSourceOptions): HttpSource {
  let timer: TimerHandle | undefined;
  let stopped = false;
  let lastBody: string | undefined;
  let error: string | undefined;
  let inFlight: Promise<void> | undefined;
  const timeoutMs = opts.timeoutMs ?? 10_000;

  const fail = (message: string) => {
    if (message !== error) opts.logger.error({ url: opts.url, err: message }, 'Failed to read pods from URL, keeping the current pods');
    error = message;
  };

  const fetchOnce = async (): Promise<void> => {
    let body: string;
    try {
      body = await fetchBody(opts.url, opts.headers, timeoutMs);
    } catch (err) {
      return fail(errorMessage(err));
    }
    if (body === lastBody) {
      if (error) opts.logger.info({ url: opts.url }, 'Manifest URL is reachable again');
      error = undefined;
      return;
    }
    const result = loadPodList(body, {
      file: opts.url,
      nodeName: opts.nodeName,
      source: 'http',
      origin: opts.url,
      seenAt: new Date(opts.clock.now()),
    });
    if (!result.ok) return fail(result.errors.map((e) => e.located).join('\n'));
    if (error) opts.logger.info({ url: opts.url }, 'Manifest URL is valid again');
    error = undefined;
    lastBody = body;
    opts.onSnapshot(result.pods);
  };

  const poll = (): Promise<void> => {
    inFlight ??= fetchOnce().finally(() => (inFlight = undefined));
    return inFlight;
  };

  const schedule = () => {
    if (stopped) return;
    timer = opts.clock.setTimeout(() => void poll().finally(schedule), opts.periodMs);
  };

  return {
    async start() {
      if (isPlainHttpToRemote(opts.url)) {
        // What this URL serves runs on the node: over plain http anyone on the way can change it.
        opts.logger.warn({ url: opts.url }, 'Manifest URL is plain http to another host: anyone on the network path can run processes on this node; use https');
      }
      await poll();
      schedule();
    },
    stop() {
      stopped = true;
      timer?.cancel();
    },
    poll,
    lastError: () => error,
  };
}

/**
 * Whether `url` is plain `http://` to a host other than this one (localhost, 127.0.0.0/8, ::1): the
 * manifests it serves could be changed by anyone on the network path. False for https and for a URL
 * that does not parse (config/ refuses those).
 */
export function isPlainHttpToRemote(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:') return false;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return false;
  return !isLoopbackIP(host);
}

/** GETs the URL with the headers; resolves with the body of a 200, rejects otherwise. */
async function fetchBody(url: string, headers: Record<string, string[]>, timeoutMs: number): Promise<string> {
  const h = new Headers();
  for (const [name, values] of Object.entries(headers)) for (const v of values) h.append(name, v);
  const res = await fetch(url, { headers: h, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_MANIFEST_BYTES) {
    await res.body?.cancel();
    throw new Error(`${url}: body of ${declared} bytes is larger than the ${MAX_MANIFEST_BYTES} allowed`);
  }
  // Read with a cap: a server that lies about (or omits) its length cannot fill our memory.
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.length;
    if (size > MAX_MANIFEST_BYTES) throw new Error(`${url}: body is larger than the ${MAX_MANIFEST_BYTES} bytes allowed`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
