/**
 * Serialises process spawns and yields to the event loop between small batches.
 *
 * Why: `child_process.spawn` blocks the event loop 1.5 ms per call on a quiet machine and several ms
 * once nodelet's heap is large (the fork copies its page tables); 1,000 pods dropped at once would
 * freeze watches, probes and the HTTP API for seconds without this.
 */
export class SpawnQueue {
  private tail: Promise<void> = Promise.resolve();
  private sinceYield = 0;

  constructor(private readonly batchSize = 16) {}

  /** Runs `fn` after every spawn queued before it, yielding to the event loop every `batchSize` spawns. */
  run<T>(fn: () => T): Promise<T> {
    const result = this.tail.then(async () => {
      if (++this.sinceYield >= this.batchSize) {
        this.sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return fn();
    });
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
