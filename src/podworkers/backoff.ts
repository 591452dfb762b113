import type { Clock } from '../util/clock.js';

/** The kubelet's CrashLoopBackOff constants (pkg/kubelet/kubelet.go: backOffPeriod, MaxContainerBackOff). */
export const DEFAULT_BACKOFF_INITIAL_MS = 10_000;
export const DEFAULT_BACKOFF_MAX_MS = 300_000;

/** One key's state: what a checkpoint keeps so that back-off continues across a restart of nodelet. */
export interface BackoffEntry {
  durationMs: number;
  lastUpdate: number;
}
type Entry = BackoffEntry;

/**
 * Per-key exponential backoff, as client-go's flowcontrol.Backoff used by the kubelet for container
 * restarts: the first restart is immediate, each further one waits twice as long up to the cap, and an
 * entry untouched for 2 × cap starts over (so a container that ran 10 minutes is forgiven).
 */
export class Backoff {
  private readonly entries = new Map<string, Entry>();

  /** Called after every change (to checkpoint the entries). */
  onChange: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    readonly initialMs = DEFAULT_BACKOFF_INITIAL_MS,
    readonly maxMs = DEFAULT_BACKOFF_MAX_MS,
  ) {}

  /** Every live entry, for a checkpoint. */
  snapshot(): Record<string, BackoffEntry> {
    return Object.fromEntries([...this.entries].map(([k, e]) => [k, { ...e }]));
  }

  /** Loads entries from a checkpoint; malformed ones are skipped. */
  restore(saved: Record<string, BackoffEntry>): void {
    for (const [k, e] of Object.entries(saved)) {
      if (Number.isFinite(e?.durationMs) && Number.isFinite(e?.lastUpdate) && e.durationMs > 0) {
        this.entries.set(k, { durationMs: Math.min(e.durationMs, this.maxMs), lastUpdate: e.lastUpdate });
      }
    }
  }

  /**
   * Whether a restart of `key` must still wait, given when the container last finished
   * (flowcontrol.Backoff.IsInBackOffSince). Returns the remaining wait in ms, or 0.
   */
  remainingSince(key: string, finishedAt: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    const now = this.clock.now();
    if (this.expired(e, now)) return 0;
    const left = finishedAt + e.durationMs - now;
    return left > 0 ? left : 0;
  }

  /** The current backoff of `key` in ms (for the CrashLoopBackOff message), or 0. */
  current(key: string): number {
    return this.entries.get(key)?.durationMs ?? 0;
  }

  /** Records a restart of `key` now: starts at the initial value, else doubles up to the cap. */
  next(key: string): void {
    const now = this.clock.now();
    const e = this.entries.get(key);
    if (!e || this.expired(e, now)) {
      this.entries.set(key, { durationMs: this.initialMs, lastUpdate: now });
    } else {
      e.durationMs = Math.min(e.durationMs * 2, this.maxMs);
      e.lastUpdate = now;
    }
    this.onChange?.();
  }

  /** Forgets every key with the given prefix (a pod's containers when the pod goes). */
  forgetPrefix(prefix: string): void {
    let changed = false;
    for (const k of this.entries.keys()) {
      if (k.startsWith(prefix)) changed = this.entries.delete(k);
    }
    if (changed) this.onChange?.();
  }

  private expired(e: Entry, now: number): boolean {
    return now - e.lastUpdate > 2 * this.maxMs;
  }
}
