import { mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Clock, TimerHandle } from '../util/clock.js';

/** What {@link readCheckpoint} found: a value, nothing (first start), or a damaged file set aside. */
export type CheckpointRead<T> = { value: T; problem?: undefined } | { value?: undefined; problem?: string };

/**
 * Reads a JSON checkpoint written by {@link CheckpointWriter}. A damaged file (truncated, not JSON,
 * another version) is renamed to `<file>.corrupt` and reported, never fatal: nodelet then starts from
 * what the runtime shows.
 */
export async function readCheckpoint<T>(file: string, version: number): Promise<CheckpointRead<T>> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: `${file}: ${(err as Error).message}` };
  }
  try {
    const parsed = JSON.parse(raw) as { version?: unknown; data?: T };
    if (parsed?.version !== version || parsed.data === undefined) throw new Error(`not a version ${version} checkpoint`);
    return { value: parsed.data };
  } catch (err) {
    await rename(file, `${file}.corrupt`).catch(() => undefined);
    return { problem: `${file}: ${(err as Error).message}; set aside as ${path.basename(file)}.corrupt` };
  }
}

/**
 * Writes a JSON checkpoint atomically, at most once per `delayMs` however often it is asked to: the
 * value is read when the write happens, so a burst of changes costs one write.
 */
export class CheckpointWriter<T> {
  private timer: TimerHandle | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly version: number,
    private readonly read: () => T,
    private readonly clock: Clock,
    private readonly delayMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Schedules a write. */
  touch(): void {
    this.timer ??= this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.delayMs);
  }

  /** Writes now (after any write in progress). */
  flush(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    this.writing = this.writing.then(async () => {
      try {
        await mkdir(path.dirname(this.file), { recursive: true });
        await writeFileAtomic(this.file, JSON.stringify({ version: this.version, data: this.read() }));
      } catch (err) {
        this.onError(err);
      }
    });
    return this.writing;
  }
}
