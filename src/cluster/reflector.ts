import { errorMessage } from '../errors.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { ApiError, isGone, type KubeClient, type WatchEvent } from './kube-client.js';

/** An object as the reflector keys it. */
export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

/** Options of {@link Reflector}. */
export interface ReflectorOptions<T extends KubeObject> {
  client: KubeClient;
  /** A list path, e.g. `/api/v1/pods`. */
  path: string;
  fieldSelector?: string;
  labelSelector?: string;
  clock: Clock;
  logger: Logger;
  /** The whole current set, after the first list and after each change (coalesced). */
  onSync: (items: T[]) => void;
}

const BACKOFF_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];
/** A watch is closed by the server after this long at most, then resumed from its resourceVersion. */
const WATCH_TIMEOUT_SECONDS = 300;

/**
 * List, then watch from the list's resourceVersion, keeping a local copy (client-go's Reflector and
 * informer store). A watch that ends is resumed from the last resourceVersion seen; a 410 Gone means
 * the server no longer has that history, so the reflector lists again. Errors back off from 1 s to
 * 30 s and are logged once per distinct error: an API server that is down costs a log line, not a flood.
 */
export class Reflector<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private resourceVersion = '';
  private stopped = false;
  private readonly abort = new AbortController();
  private failures = 0;
  private lastError: string | undefined;
  private timer: TimerHandle | undefined;
  private emitQueued = false;
  private hasSynced = false;

  constructor(private readonly opts: ReflectorOptions<T>) {}

  /** Whether the first list has been received. */
  get synced(): boolean {
    return this.hasSynced;
  }

  items(): T[] {
    return [...this.store.values()];
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    this.timer?.cancel();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) await this.list();
        await this.watchOnce();
        this.recovered();
      } catch (err) {
        if (this.stopped) return;
        if (isGone(err)) {
          // The history we asked for is compacted away: start over from a fresh list.
          this.opts.logger.info({ path: this.opts.path }, 'Watch expired (410 Gone): listing again');
          this.resourceVersion = '';
          continue;
        }
        this.fail(err);
        await this.sleep(BACKOFF_MS[Math.min(this.failures - 1, BACKOFF_MS.length - 1)]!);
      }
    }
  }

  private query(): Record<string, string | undefined> {
    return { fieldSelector: this.opts.fieldSelector, labelSelector: this.opts.labelSelector };
  }

  private async list(): Promise<void> {
    const list = await this.opts.client.request<{ metadata?: { resourceVersion?: string }; items?: T[] }>('GET', this.opts.path, {
      query: this.query(),
    });
    this.store.clear();
    for (const item of list.items ?? []) this.store.set(key(item), item);
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    this.hasSynced = true;
    this.recovered();
    this.queueEmit();
  }

  private async watchOnce(): Promise<void> {
    await this.opts.client.watch<T>(
      this.opts.path,
      { ...this.query(), resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: WATCH_TIMEOUT_SECONDS },
      (e) => this.apply(e),
      this.abort.signal,
    );
  }

  private apply(e: WatchEvent<T>): void {
    if (e.type === 'ERROR') {
      const status = e.object as unknown as { code?: number; reason?: string; message?: string };
      throw new ApiError(status.code ?? 500, status.reason ?? '', `watch ${this.opts.path}: ${status.message ?? 'error'}`);
    }
    const rv = e.object?.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (e.type === 'BOOKMARK') return;
    if (e.type === 'DELETED') this.store.delete(key(e.object));
    else this.store.set(key(e.object), e.object);
    this.queueEmit();
  }

  private queueEmit(): void {
    if (this.emitQueued) return;
    this.emitQueued = true;
    // A burst of events (a chunk of the stream) becomes one snapshot.
    queueMicrotask(() => {
      this.emitQueued = false;
      if (!this.stopped) this.opts.onSync(this.items());
    });
  }

  private fail(err: unknown): void {
    this.failures++;
    const message = errorMessage(err);
    if (message !== this.lastError) this.opts.logger.warn({ path: this.opts.path, err: message }, 'Cannot list or watch the API server: will retry');
    this.lastError = message;
  }

  private recovered(): void {
    if (this.lastError) this.opts.logger.info({ path: this.opts.path }, 'API server watch is back');
    this.lastError = undefined;
    this.failures = 0;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timer = this.opts.clock.setTimeout(resolve, ms);
    });
  }
}

function key(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}
