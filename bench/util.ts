/** Small helpers of the benchmark: bounded waiting, a global deadline, statistics, progress output. */
import { performance } from 'node:perf_hooks';

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Progress goes to stderr; stdout is kept for the results table (quick mode). */
export function progress(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** A scenario step that did not finish in time. */
export class BenchTimeout extends Error {
  override name = 'BenchTimeout';
}

/** The whole run's deadline: every wait loop checks it, so a stuck step cannot outlive the budget. */
export class Deadline {
  private readonly end: number;
  aborted: string | undefined;

  constructor(readonly budgetMs: number) {
    this.end = performance.now() + budgetMs;
  }

  leftMs(): number {
    return this.end - performance.now();
  }

  check(): void {
    if (this.aborted) throw new Error(this.aborted);
    if (this.leftMs() <= 0) throw new Error(`the whole benchmark exceeded its budget of ${Math.round(this.budgetMs / 1000)} s`);
  }
}

/**
 * Polls `cond` every `intervalMs` until it returns a truthy value. Throws {@link BenchTimeout} naming
 * `what` after `timeoutMs`, with `detail()` (e.g. how far it got) in the message.
 */
export async function waitUntil<T>(
  deadline: Deadline,
  what: string,
  cond: () => T | Promise<T>,
  opts: { timeoutMs: number; intervalMs: number; detail?: () => string },
): Promise<NonNullable<T>> {
  const end = performance.now() + opts.timeoutMs;
  let lastErr: unknown;
  for (;;) {
    deadline.check();
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    if (performance.now() > end) {
      const extra = opts.detail ? ` (${opts.detail()})` : lastErr ? ` (last error: ${String(lastErr)})` : '';
      throw new BenchTimeout(`timed out after ${fmtSeconds(opts.timeoutMs)} waiting for ${what}${extra}`);
    }
    await delay(opts.intervalMs);
  }
}

/** Nearest-rank percentile of already sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    min: s[0] ?? NaN,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s[s.length - 1] ?? NaN,
    mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
  };
}

export const fmtMs = (ms: number) => `${ms.toFixed(1)} ms`;
export const fmtSeconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
export const fmtMB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const fmtPct = (pct: number) => `${pct.toFixed(2)} %`;
