/**
 * The disk usage of a directory tree as the kubelet measures a volume without filesystem quotas
 * (pkg/volume/util/fs/fs.go DiskUsage, `du -x` in effect): the blocks allocated to every entry
 * (st_blocks × 512, so sparse files count what they hold and a directory counts its own blocks),
 * symlinks not followed, mount points not crossed, a file with several hard links counted once.
 * Entries that vanish during the walk are skipped.
 *
 * The walk is asynchronous and sequential (one lstat at a time, directories read in batches through
 * `opendir`), and yields to the event loop every few hundred entries: a tree of millions of files
 * takes long, but never blocks the loop nor more than one thread of libuv's pool.
 */
import type { BigIntStats, Dir } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** The block unit of st_blocks (statBlockSize in the kubelet). */
const STAT_BLOCK_SIZE = 512;

/** Options of {@link diskUsage}. */
export interface DiskUsageOptions {
  /** Stop as soon as the total passes this many bytes: the answer is then "more than that" (`partial`). */
  stopAbove?: number;
  /** Entries between two yields to the event loop. */
  yieldEvery?: number;
  /** Aborts the walk (nodelet stopping): rejects with an AbortError. */
  signal?: AbortSignal;
}

/** What {@link diskUsage} found. */
export interface DiskUsage {
  bytes: number;
  inodes: number;
  /** True when the walk stopped early because `bytes` passed `stopAbove`. */
  partial: boolean;
}

const DEFAULT_YIELD_EVERY = 256;

/**
 * Measures the tree under `dir` (`dir` itself included). Rejects when `dir` or a directory in it
 * cannot be read for another reason than having vanished (EACCES): a usage that leaves part of the
 * tree out would understate it.
 */
export async function diskUsage(dir: string, opts: DiskUsageOptions = {}): Promise<DiskUsage> {
  const yieldEvery = opts.yieldEvery ?? DEFAULT_YIELD_EVERY;
  const root = await lstat(dir, { bigint: true });
  const usage: DiskUsage = { bytes: 0, inodes: 0, partial: false };
  const seenLinks = new Set<bigint>();
  let sinceYield = 0;
  const over = () => opts.stopAbove !== undefined && usage.bytes > opts.stopAbove;

  const count = (st: BigIntStats): void => {
    // A file with several names is counted once (the kubelet's dedupedInodes).
    if (st.nlink > 1n) {
      if (seenLinks.has(st.ino)) return;
      seenLinks.add(st.ino);
    }
    usage.bytes += Number(st.blocks) * STAT_BLOCK_SIZE;
    usage.inodes++;
  };

  count(root);
  if (!root.isDirectory() || over()) return { ...usage, partial: over() };
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    let handle: Dir;
    try {
      handle = await opendir(current, { bufferSize: 64 });
    } catch (err) {
      if (isGone(err)) continue;
      throw err;
    }
    // Leaving the loop early (stopAbove, abort, an error) closes the directory.
    for await (const entry of handle) {
      opts.signal?.throwIfAborted();
      const p = path.join(current, entry.name);
      let st: BigIntStats;
      try {
        st = await lstat(p, { bigint: true });
      } catch (err) {
        if (isGone(err)) continue;
        throw err;
      }
      // Another filesystem mounted inside (a tmpfs, a bind mount) is not this volume's usage.
      if (st.dev !== root.dev) continue;
      count(st);
      if (over()) return { ...usage, partial: true };
      if (st.isDirectory()) pending.push(p);
      if (++sinceYield >= yieldEvery) {
        sinceYield = 0;
        await nextTurn();
      }
    }
  }
  return usage;
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
