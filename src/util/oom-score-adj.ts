// A process's oom_score_adj (Documentation/filesystems/proc.rst): -1000 (never OOM-killed) to 1000
// (killed first). Anyone may raise their own; lowering it needs CAP_SYS_RESOURCE.

import { readFileSync, writeFileSync } from 'node:fs';
import { errorMessage } from '../errors.js';
import type { Logger } from './log.js';

/** The oom_score_adj of `pid` (this process by default); undefined where /proc does not say. */
export function readOomScoreAdj(pid: number | 'self' = 'self'): number | undefined {
  try {
    const n = Number(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the oom_score_adj of `pid` (this process by default). Throws the kernel's error (EACCES). */
export function writeOomScoreAdj(value: number, pid: number | 'self' = 'self'): void {
  writeFileSync(`/proc/${pid}/oom_score_adj`, String(value));
}

/**
 * Sets this process's oom_score_adj, as the kubelet applies its --oom-score-adj (-999) at start
 * (cmd/kubelet/app/server.go): the kernel's OOM killer then takes the node agent last, and what it
 * starts afterwards inherits the score. Never throws: a score that cannot be set (lowering it without
 * CAP_SYS_RESOURCE, as a user other than root) is one warning, and nodelet runs with the score it has.
 * Returns the score it had before.
 */
export function applyOwnOomScoreAdj(value: number, logger: Logger): number | undefined {
  const before = readOomScoreAdj();
  if (before === value) return before;
  try {
    writeOomScoreAdj(value);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'EACCES' ? 'lowering it needs CAP_SYS_RESOURCE (root)' : errorMessage(err);
    logger.warn(
      { oomScoreAdj: value, kept: before, reason: why },
      "Cannot set nodelet's own OOM score: it runs with the one it has",
    );
  }
  return before;
}
