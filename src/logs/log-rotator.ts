// Size-based rotation of container logs, as the kubelet's container log manager does
// (pkg/kubelet/logs/container_log_manager.go). For a file at or over maxSize:
//   1. list `<file>.*`; delete `.tmp` leftovers and uncompressed files whose `.gz` exists
//      (cleanupUnusedLogs: debris of an interrupted rotation);
//   2. delete the oldest so that at most maxFiles - 2 rotated files remain (removeExcessLogs: the
//      current file and the one about to be rotated make maxFiles);
//   3. gzip every remaining uncompressed rotated file (compressLog): the newest rotation stays plain
//      until the next round, so a collector still reading it can finish;
//   4. rename the file to `<file>.<YYYYMMDD-hhmmss>` and reopen the writer; if the reopen fails, rename
//      it back so the next round retries (rotateLatestLog).

import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { type Clock, type TimerHandle, realClock } from '../util/clock.js';
import type { CriLogWriter } from './cri-log-writer.js';

/**
 * A log file the rotator can rotate: our own writer, or a container log another runtime writes (then
 * `reopen` asks it to reopen, CRI ReopenContainerLog, and `bytesWritten` is unknown: NaN).
 */
export type RotatableLog = Pick<CriLogWriter, 'path' | 'bytesWritten' | 'reopen'>;

/** Rotates the files of registered writers; one timer for all of them. */
export interface LogRotator {
  /** Starts checking this writer's file on every round. */
  register(writer: RotatableLog): void;
  /** Stops checking it (call before closing the writer). */
  unregister(writer: RotatableLog): void;
  /** Runs one round now (after any round in progress); failures go to `onError`, never reject. */
  rotateNow(): Promise<void>;
  /** Cancels the timer; a round in progress finishes. */
  stop(): void;
}

/** Options of {@link createLogRotator}; defaults are the KubeletConfiguration's. */
export interface LogRotatorOptions {
  /** `containerLogMaxSize` (10Mi): a file this big or bigger is rotated. */
  maxSizeBytes: number;
  /** `containerLogMaxFiles` (5, must be > 1): files kept per container, the current one included. */
  maxFiles: number;
  /** `containerLogMonitorInterval`, 10 s. */
  intervalMs?: number;
  clock?: Clock;
  /** One call per failed file; without it failures are emitted as process warnings, never lost silently. */
  onError?: (err: unknown) => void;
}

const COMPRESS_SUFFIX = '.gz';
const TMP_SUFFIX = '.tmp';

/** Creates a rotator and starts its timer (unref'd with the real clock). */
export function createLogRotator(opts: LogRotatorOptions): LogRotator {
  const { maxSizeBytes, maxFiles } = opts;
  if (!(maxSizeBytes > 0)) throw new RangeError(`maxSizeBytes must be > 0, got ${maxSizeBytes}`);
  // The kubelet's validation: "containerLogMaxFiles must be greater than 1".
  if (!Number.isInteger(maxFiles) || maxFiles < 2) throw new RangeError(`maxFiles must be an integer > 1, got ${maxFiles}`);
  const clock = opts.clock ?? realClock;
  const intervalMs = opts.intervalMs ?? 10_000;
  const onError = opts.onError ?? ((err: unknown) => process.emitWarning(err instanceof Error ? err : String(err)));
  const writers = new Set<RotatableLog>();
  let timer: TimerHandle | undefined;
  let stopped = false;
  // Rounds never overlap: each one starts after the previous has finished.
  let rounds: Promise<void> = Promise.resolve();

  const round = async (): Promise<void> => {
    // Sequential, like the kubelet's default single worker (containerLogMaxWorkers 1): a stat per
    // container every 10 s is cheap, and rotations do not compete for the disk.
    for (const writer of [...writers]) {
      if (!writers.has(writer)) continue;
      try {
        await rotateIfNeeded(writer);
      } catch (err) {
        onError(err);
      }
    }
  };

  const rotateNow = (): Promise<void> => {
    const next = rounds.then(round);
    rounds = next;
    return next;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      void rotateNow().finally(schedule);
    }, intervalMs);
  };

  // What each writer had written at its last check: a file that did not grow is not stat'ed again,
  // so 1,000 quiet containers cost nothing every 10 s. (NaN, unknown, never equals itself: always stat'ed.)
  const checkedAt = new WeakMap<RotatableLog, number>();

  async function rotateIfNeeded(writer: RotatableLog): Promise<void> {
    const path = writer.path;
    if (checkedAt.get(writer) === writer.bytesWritten) return;
    checkedAt.set(writer, writer.bytesWritten);
    let info = await statOrUndefined(path);
    if (!info) {
      // The file is gone (e.g. a reopen failed after a rename): reopening recreates it
      // (processContainer in the kubelet does the same).
      await writer.reopen();
      info = await stat(path);
    }
    if (info.size < maxSizeBytes) return;
    await rotate(writer, path);
  }

  async function rotate(writer: RotatableLog, path: string): Promise<void> {
    const rotated = `${path}.${rotationStamp(clock.now())}`;
    // Two rotations within one second would rename onto the previous rotation and lose it (the
    // kubelet has that race); wait for the next round instead.
    if ((await statOrUndefined(rotated)) || (await statOrUndefined(rotated + COMPRESS_SUFFIX))) return;

    const dir = dirname(path);
    const prefix = `${basename(path)}.`;
    let logs = (await readdir(dir)).filter((n) => n.startsWith(prefix)).map((n) => join(dir, n));

    // cleanupUnusedLogs
    const all = new Set(logs);
    const unused = logs.filter((l) => l.endsWith(TMP_SUFFIX) || (!l.endsWith(COMPRESS_SUFFIX) && all.has(l + COMPRESS_SUFFIX)));
    for (const l of unused) await rm(l, { force: true });
    logs = logs.filter((l) => !unused.includes(l));

    // removeExcessLogs: the timestamps sort chronologically as strings (sort.Strings).
    logs.sort();
    const excess = Math.max(0, logs.length - Math.max(0, maxFiles - 2));
    for (const l of logs.slice(0, excess)) await rm(l, { force: true });
    logs = logs.slice(excess);

    for (const l of logs) {
      if (!l.endsWith(COMPRESS_SUFFIX)) await compress(l);
    }

    // rotateLatestLog
    await rename(path, rotated);
    try {
      await writer.reopen();
    } catch (err) {
      try {
        await rename(rotated, path);
      } catch (renameErr) {
        onError(renameErr);
      }
      throw err;
    }
  }

  schedule();
  return {
    register: (writer) => void writers.add(writer),
    unregister: (writer) => void writers.delete(writer),
    rotateNow,
    stop: () => {
      stopped = true;
      timer?.cancel();
      timer = undefined;
    },
  };
}

/** `YYYYMMDD-hhmmss` in UTC: the kubelet's timestampFormat "20060102-150405". */
export function rotationStamp(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2026-01-01T00:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** gzips `log` to `log.gz` through a `.tmp` file, streaming, then removes `log` (compressLog). */
async function compress(log: string): Promise<void> {
  const info = await stat(log);
  const tmp = log + TMP_SUFFIX;
  try {
    await pipeline(createReadStream(log), createGzip(), createWriteStream(tmp, { mode: info.mode & 0o777 }));
    await rename(tmp, log + COMPRESS_SUFFIX);
  } finally {
    await rm(tmp, { force: true });
  }
  await unlink(log);
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
