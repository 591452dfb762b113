/**
 * Writes the node's events to the API server, as the kubelet's event broadcaster does through
 * client-go's recordToSink (tools/record/event.go): a new event is created, one folded into an earlier
 * one (count > 1) is patched with its count, last timestamp and message, and created if the patch
 * finds it gone. Only a transport failure is retried (every 10 s, 12 tries in all); an event the
 * server refuses is dropped. Events wait in order in one queue of at most 1,000 (the broadcaster's
 * queue length; more are dropped), and a later count of a waiting event replaces it there. As the
 * correlator's spam filter, each pod may send 25 events at once, then one per 5 minutes: a probe
 * failing every second on 1,000 pods must not become 1,000 writes a second.
 */
import { toApiEvent } from '../events/api-event.js';
import type { PodEvent } from '../events/recorder.js';
import { errorMessage } from '../errors.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { kubeTime } from '../util/kube-time.js';
import type { Logger } from '../util/log.js';
import { ApiError, isAlreadyExists, isNotFound, type KubeClient } from './kube-client.js';

/** client-go's maxTriesPerEvent. */
export const MAX_TRIES_PER_EVENT = 12;
/** client-go's defaultSleepDuration between two tries. */
export const RETRY_SLEEP_MS = 10_000;
/** client-go's maxQueuedEvents. */
export const MAX_QUEUED_EVENTS = 1000;
/** The spam filter's token bucket per object (defaultSpamBurst, defaultSpamQPS = 1/300). */
export const SPAM_BURST = 25;
export const SPAM_REFILL_MS = 300_000;
/** Objects the spam filter remembers (maxLruCacheEntries). */
const SPAM_CACHE_SIZE = 4096;

/** Options of {@link createEventSink}. */
export interface EventSinkOptions {
  client: Pick<KubeClient, 'request'>;
  nodeName: string;
  clock: Clock;
  logger: Logger;
  /** The first retry waits a random part of the sleep, as client-go's does; injected for tests. */
  random?: () => number;
}

/** The queue of events to write. */
export interface EventSink {
  push(e: PodEvent): void;
  /** Stops writing; what waits is dropped. */
  stop(): void;
}

export function createEventSink(opts: EventSinkOptions): EventSink {
  const random = opts.random ?? Math.random;
  /** By event name (unique per event), in the order they were first queued. */
  const queue = new Map<string, PodEvent>();
  let running = false;
  let stopped = false;
  let timer: TimerHandle | undefined;
  /** Ends the sleep between two tries (stop does, so that the loop ends). */
  let wake: (() => void) | undefined;
  let unreachable = false;
  /** Tokens left per pod UID, and when they were counted. */
  const buckets = new Map<string, { tokens: number; at: number }>();

  /** Whether the pod may send one more event now (takes a token). */
  function allowed(uid: string): boolean {
    const now = opts.clock.now();
    const b = buckets.get(uid) ?? { tokens: SPAM_BURST, at: now };
    b.tokens = Math.min(SPAM_BURST, b.tokens + (now - b.at) / SPAM_REFILL_MS);
    b.at = now;
    // Most recently used last; the least recently used go beyond the spam filter's cache size.
    buckets.delete(uid);
    buckets.set(uid, b);
    if (buckets.size > SPAM_CACHE_SIZE) buckets.delete(buckets.keys().next().value!);
    if (b.tokens < 1) return false;
    b.tokens--;
    return true;
  }

  const path = (e: PodEvent, name = '') => `/api/v1/namespaces/${encodeURIComponent(e.involvedObject.namespace)}/events${name && `/${encodeURIComponent(name)}`}`;

  async function write(e: PodEvent): Promise<void> {
    if (e.count > 1) {
      try {
        await opts.client.request('PATCH', path(e, e.name), {
          body: { count: e.count, lastTimestamp: kubeTime(e.lastTimestamp), message: e.message },
        });
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const event = toApiEvent(e, opts.nodeName);
    // Created without a resourceVersion: the server gives it one.
    const { resourceVersion: _rv, ...metadata } = event.metadata;
    await opts.client.request('POST', path(e), { body: { ...event, metadata } });
  }

  /** Writes the queue's head; true when it is done with (written or given up), false to retry later. */
  async function attempt(e: PodEvent): Promise<boolean> {
    try {
      await write(e);
      if (unreachable) opts.logger.info({}, 'Writing events to the API server again');
      unreachable = false;
      return true;
    } catch (err) {
      // Only a failure to reach the server is worth another try: what it refused, it refuses again.
      if (err instanceof ApiError && err.code === 0) {
        if (!unreachable) opts.logger.warn({ err: errorMessage(err) }, 'Cannot write events to the API server; retrying');
        unreachable = true;
        return false;
      }
      if (!isAlreadyExists(err)) opts.logger.warn({ event: e.name, reason: e.reason, err: errorMessage(err) }, 'The API server refused an event; it is dropped');
      return true;
    }
  }

  async function drain(): Promise<void> {
    running = true;
    let tries = 0;
    while (!stopped && queue.size > 0) {
      const [name, e] = queue.entries().next().value as [string, PodEvent];
      const done = await attempt(e);
      if (stopped) break;
      // A newer count of the event that came meanwhile is written next, in the same place.
      if (done || ++tries >= MAX_TRIES_PER_EVENT) {
        if (!done) opts.logger.warn({ event: name, reason: e.reason }, 'Unable to write an event: retry limit exceeded');
        if (queue.get(name) === e) queue.delete(name);
        tries = 0;
        continue;
      }
      const sleep = tries === 1 ? RETRY_SLEEP_MS * random() : RETRY_SLEEP_MS;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = opts.clock.setTimeout(resolve, sleep);
      });
    }
    running = false;
  }

  return {
    push(e) {
      if (stopped || !allowed(e.involvedObject.uid)) return;
      if (!queue.has(e.name) && queue.size >= MAX_QUEUED_EVENTS) return;
      queue.set(e.name, e);
      if (!running) void drain();
    },
    stop() {
      stopped = true;
      timer?.cancel();
      wake?.();
      queue.clear();
    },
  };
}
