// Watches as the API server streams them (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/watch.go):
// a chunked response of one JSON object per line, `{"type":"ADDED|MODIFIED|DELETED|ERROR","object":…}`.
// Nothing pushes changes to us, so while at least one watch is open a single timer re-diffs the pods
// (PodCache.refresh); with no watch open there is no timer at all.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod } from '../../api/types.js';
import type { PodChange } from './pod-cache.js';
import type { KubeStatus } from './status-errors.js';

/** A watch event type. */
export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'ERROR';

/**
 * Runs tasks every `periodMs` while any is registered; registered twice under one key, a task runs
 * once. When a round takes long (thousands of pods), the next waits ten times as long as it took, so
 * open watches never cost more than about a tenth of the event loop.
 */
export class Poller {
  private readonly tasks = new Map<string, { fn: () => void; refs: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly periodMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Registers `fn` under `key` (reference-counted); returns the function that releases it. */
  add(key: string, fn: () => void): () => void {
    const t = this.tasks.get(key);
    if (t) t.refs++;
    else this.tasks.set(key, { fn, refs: 1 });
    if (!this.timer) this.schedule(this.periodMs);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const cur = this.tasks.get(key);
      if (cur && --cur.refs === 0) this.tasks.delete(key);
      if (this.tasks.size === 0) this.stop();
    };
  }

  /** True while a timer runs. */
  get active(): boolean {
    return this.timer !== undefined;
  }

  /** Stops the timer and forgets every task. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.tasks.size > 0) this.tasks.clear();
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      const started = performance.now();
      for (const t of [...this.tasks.values()]) {
        // A failing task must neither stop the others nor, from a timer, take the agent down.
        try {
          t.fn();
        } catch (err) {
          this.onError(err);
        }
      }
      if (this.tasks.size > 0) this.schedule(Math.max(this.periodMs, (performance.now() - started) * 10));
      else this.timer = undefined;
    }, ms);
    this.timer.unref();
  }
}

/** The writing end of one watch response. */
export interface WatchStream {
  /** Writes one event; false once the client has gone or the stream was ended. */
  send(type: WatchType, object: unknown): boolean;
  /** Ends the response. */
  end(): void;
  /** True once the client has gone or the stream ended. */
  readonly closed: boolean;
}

// A client that reads this slowly is dropped rather than buffered for without bound.
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * Starts a watch response: 200, chunked JSON lines. `onClose` runs once, when the client goes, the
 * stream is ended or `timeoutSeconds` pass (the API server ends a watch at its timeout, quietly).
 */
export function startWatchStream(req: IncomingMessage, res: ServerResponse, opts: { timeoutSeconds?: number; onClose: () => void }): WatchStream {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    opts.onClose();
  };
  req.on('close', close);
  res.on('close', close);
  if (opts.timeoutSeconds && opts.timeoutSeconds > 0) {
    timer = setTimeout(() => stream.end(), opts.timeoutSeconds * 1000);
    timer.unref();
  }
  const stream: WatchStream = {
    send(type, object) {
      if (closed) return false;
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.destroy();
        close();
        return false;
      }
      res.write(`${JSON.stringify({ type, object })}\n`);
      return true;
    },
    end() {
      if (!closed) res.end();
      close();
    },
    get closed() {
      return closed;
    },
  };
  return stream;
}

/**
 * What a watch with a filter sees of one change, as the watch cache decides it: a pod entering the
 * selection is ADDED, one leaving it is DELETED (in its last matching state), and changes outside are
 * not seen at all.
 */
export function project(c: PodChange, matches: (p: Pod) => boolean): { type: Exclude<WatchType, 'ERROR'>; object: Pod } | undefined {
  const cur = c.type !== 'DELETED' && matches(c.object);
  const prev = c.prev !== undefined && matches(c.prev);
  if (c.type === 'DELETED') return prev ? { type: 'DELETED', object: c.object } : undefined;
  if (cur && prev) return { type: 'MODIFIED', object: c.object };
  if (cur) return { type: 'ADDED', object: c.object };
  if (prev) {
    const object = { ...c.prev!, metadata: { ...c.prev!.metadata, resourceVersion: String(c.resourceVersion) } };
    return { type: 'DELETED', object };
  }
  return undefined;
}

/** The ERROR event that ends a watch, carrying a Status (e.g. 410 Expired). */
export function errorEvent(stream: WatchStream, status: KubeStatus): void {
  stream.send('ERROR', status);
  stream.end();
}
