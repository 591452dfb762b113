// Reads a container log as `kubectl logs` shows it, after the kubelet's ReadLogs
// (pkg/kubelet/kuberuntime/logs/logs.go), with these differences, on purpose:
// - `P` chunks are joined per stream into whole lines (the kubelet writes chunks as they come, so a
//   long stdout line interleaved with stderr comes out mixed);
// - `tail` counts those whole lines, not raw records, so it never starts in the middle of a line;
// - `since` and `timestamps` apply per line, using the time of its first chunk;
// - following across rotation first finishes the renamed file, then switches to the new one (the
//   kubelet switches on the create event and can drop the renamed file's last records);
// - a record still being written (no newline yet) is not read until it is complete.

import { type FSWatcher, watch } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { type LogStream, criTimeToEpochMs, formatRfc3339NanoFixed, parseCriLogRecord } from './cri-format.js';

/** Options of {@link readContainerLog}, the fields of the kubelet's LogOptions. */
export interface ReadContainerLogOptions {
  /** Only the last N lines (negative: all). While following, the last N then everything new. */
  tail?: number;
  /** Only lines stamped at or after this time. */
  since?: Date;
  /** Prefix each line with its time, nine fraction digits, and a space (RFC3339NanoFixed). */
  timestamps?: boolean;
  /** Keep streaming new lines until `signal` aborts or `stopWhen()` holds at end of file. */
  follow?: boolean;
  /** Ends the iteration (quietly, no error) when aborted. */
  signal?: AbortSignal;
  /** Checked each time the reader has caught up: true (e.g. the container exited) ends it after one last read. */
  stopWhen?: () => boolean;
  /** Fallback poll period while following (file watch events usually come first). */
  pollMs?: number;
  /** Only this stream, as PodLogOptions.stream (KEP-3288); default both. */
  stream?: LogStream;
}

const BLOCK_BYTES = 64 * 1024;

/**
 * Reads a container's log as `kubectl logs` does: yields whole lines (`P` chunks joined, `\n` at the
 * end), in the order they were completed. Malformed records are skipped. Without `follow` it reads what
 * the file held when the read began; a line left unfinished at that point (a `P` with no `F` yet) comes
 * last, without `\n`, and counts for `tail` where its last chunk is. With `follow` it then streams new
 * lines, across rotation of the file, until the signal aborts or `stopWhen()` is true once the file
 * stops growing. Rejects if the file cannot be opened.
 */
export async function* readContainerLog(path: string, opts: ReadContainerLogOptions = {}): AsyncIterable<string> {
  const { signal } = opts;
  if (signal?.aborted) return;
  let fh = await open(path, 'r');
  let waiter: ChangeWaiter | undefined;
  try {
    const info = await fh.stat();
    let ino = info.ino;
    let dev = info.dev;
    const asm = new LineAssembler(opts);
    let start = 0;
    if (opts.tail !== undefined && opts.tail >= 0) {
      const plan = await planTail(fh, info.size, opts.tail, opts.stream);
      start = plan.startOffset;
      asm.applyTailPlan(plan);
    }
    // Watch before the first read, so that nothing appended after it goes unnoticed.
    if (opts.follow) waiter = new ChangeWaiter(path, opts.pollMs ?? 250, signal);
    let reader = new RawLineReader(fh, start, opts.follow ? Infinity : info.size);
    const out: string[] = [];

    // Reads everything available and yields the completed lines; false if aborted.
    async function* readAvailable(): AsyncGenerator<string, boolean> {
      for (;;) {
        if (signal?.aborted) return false;
        const lines = await reader.readBlock();
        if (!lines) return true;
        for (const l of lines) asm.push(l.bytes, l.offset, out);
        while (out.length > 0) {
          const batch = out.splice(0, out.length);
          for (const s of batch) yield s;
          if (signal?.aborted) return false;
        }
      }
    }

    if (!opts.follow) {
      if (!(yield* readAvailable())) return;
      asm.flush(out);
      yield* out;
      return;
    }

    let finishing = false;
    for (;;) {
      if (!(yield* readAvailable())) return;
      const current = await statOrUndefined(path);
      if (current && (current.ino !== ino || current.dev !== dev)) {
        // Rotated and the writer has reopened: it writes nothing more to the renamed file once the new
        // one exists (cri-log-writer.ts reopen), so finish the old file, then switch.
        if (!(yield* readAvailable())) return;
        let next: FileHandle;
        try {
          next = await open(path, 'r');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // rotated again meanwhile
          throw err;
        }
        await fh.close();
        fh = next;
        const nextInfo = await fh.stat();
        ino = nextInfo.ino;
        dev = nextInfo.dev;
        reader = new RawLineReader(fh, 0, Infinity);
        asm.newFile();
        continue;
      }
      // Truncated in place (copytruncate by some external tool): start over from the beginning.
      if (current && current.size < reader.position) {
        reader = new RawLineReader(fh, 0, Infinity);
        asm.newFile();
        continue;
      }
      if (finishing) break;
      if (opts.stopWhen?.()) {
        // The writer is done: whatever it wrote before stopWhen() turned true is in the file now. One
        // more round reads it, including a switch to a file created by a last rotation.
        finishing = true;
        continue;
      }
      await waiter!.wait();
    }
    asm.flush(out);
    yield* out;
  } finally {
    waiter?.close();
    await fh.close();
  }
}

/** A complete raw line (without `\n`) and the file offset it starts at. */
interface RawLine {
  offset: number;
  bytes: Buffer;
}

/** Reads a file forward in blocks and splits it into complete lines; an unterminated end waits. */
class RawLineReader {
  private readonly buf = Buffer.allocUnsafe(BLOCK_BYTES);
  private carry: Buffer | undefined;
  private carryOffset = 0;

  constructor(
    private readonly fh: FileHandle,
    private pos: number,
    private readonly limit: number,
  ) {}

  /** Bytes consumed from the file so far (an unterminated end included). */
  get position(): number {
    return this.pos;
  }

  /**
   * The complete lines of the next block, or `undefined` at end of file. The returned bytes are valid
   * only until the next call.
   */
  async readBlock(): Promise<RawLine[] | undefined> {
    const want = Math.min(this.buf.length, this.limit - this.pos);
    if (want <= 0) return undefined;
    const { bytesRead } = await this.fh.read(this.buf, 0, want, this.pos);
    if (bytesRead === 0) return undefined;
    let data = this.buf.subarray(0, bytesRead);
    let dataOffset = this.pos;
    this.pos += bytesRead;
    if (this.carry) {
      data = Buffer.concat([this.carry, data]);
      dataOffset = this.carryOffset;
      this.carry = undefined;
    }
    const lines: RawLine[] = [];
    let s = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, s);
      if (nl === -1) break;
      lines.push({ offset: dataOffset + s, bytes: data.subarray(s, nl) });
      s = nl + 1;
    }
    if (s < data.length) {
      this.carry = Buffer.from(data.subarray(s)); // copied: `buf` is reused
      this.carryOffset = dataOffset + s;
    }
    return lines;
  }
}

/** Yields the complete lines of `[0, size)` from the last to the first; an unterminated end is skipped. */
async function* linesBackward(fh: FileHandle, size: number): AsyncGenerator<RawLine> {
  const block = Buffer.allocUnsafe(BLOCK_BYTES);
  let pos = size;
  // The bytes from `pos` up to and including the `\n` of a line whose start is not yet known.
  let rest: Buffer | undefined;
  while (pos > 0) {
    const n = Math.min(block.length, pos);
    pos -= n;
    await readFully(fh, block, n, pos);
    const data = rest ? Buffer.concat([block.subarray(0, n), rest]) : block.subarray(0, n);
    let e = rest ? data.length - 1 : data.lastIndexOf(0x0a);
    if (e === -1) continue; // still inside the unterminated end of the file
    for (;;) {
      // Buffer.lastIndexOf counts a negative offset from the end: stop at 0 explicitly.
      const s = e > 0 ? data.lastIndexOf(0x0a, e - 1) : -1;
      if (s === -1) break;
      yield { offset: pos + s + 1, bytes: data.subarray(s + 1, e) };
      e = s;
    }
    rest = Buffer.from(data.subarray(0, e + 1));
  }
  if (rest) yield { offset: 0, bytes: rest.subarray(0, rest.length - 1) };
}

async function readFully(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let off = 0;
  while (off < length) {
    const { bytesRead } = await fh.read(buf, off, length - off, position + off);
    if (bytesRead === 0) throw new Error(`log file shrank while reading at offset ${position + off}`);
    off += bytesRead;
  }
}

/**
 * Where to start reading for the last N lines. A line ends at its `F` record (or, still unfinished, at
 * its last `P`); lines are ordered by where they end. Walking backwards: the first N line ends found are
 * the tail; the reading must start early enough to include the `P` chunks of those lines, which may
 * precede lines of the other stream, and lines ending at or before `cutoff` are then skipped.
 */
interface TailPlan {
  startOffset: number;
  /** Lines ending at or before this offset are older than the tail; -1 for none. */
  cutoff: number;
  /** Per stream, the last `P` of an unfinished line older than the tail: the line to skip. */
  excludedPartial: Map<LogStream, number>;
}

async function planTail(fh: FileHandle, size: number, n: number, only: LogStream | undefined): Promise<TailPlan> {
  const state = new Map<LogStream, 'open' | 'done'>();
  const excludedPartial = new Map<LogStream, number>();
  let count = 0;
  let startOffset = -1;
  let cutoff = -1;
  const anyOpen = () => state.get('stdout') === 'open' || state.get('stderr') === 'open';
  for await (const { offset, bytes } of linesBackward(fh, size)) {
    if (startOffset === -1) startOffset = offset + bytes.length + 1; // end of the complete lines
    const rec = parseCriLogRecord(bytes);
    if (!rec || (only && rec.stream !== only)) continue;
    const s = state.get(rec.stream);
    if (s === 'done') continue;
    if (s === 'open' && rec.partial) {
      startOffset = offset; // an earlier chunk of a line in the tail
      continue;
    }
    // A line ends here: an `F`, or the last chunk of an unfinished line (the stream's last record).
    if (count < n) {
      count++;
      state.set(rec.stream, 'open');
      startOffset = offset;
    } else {
      state.set(rec.stream, 'done');
      if (cutoff === -1) cutoff = offset;
      if (s === undefined && rec.partial) excludedPartial.set(rec.stream, offset);
    }
    if (count === n && !anyOpen()) break;
  }
  return { startOffset: Math.max(0, startOffset), cutoff, excludedPartial };
}

/** A line being assembled from `P` chunks. */
interface Pending {
  parts: Buffer[];
  /** The time of the first chunk: the line's time. */
  time: string;
  /** Offset of the latest chunk: where the line ends so far. */
  lastOffset: number;
  drop: boolean;
}

/** Joins records into lines per stream and applies tail, since, timestamps and the stream filter. */
class LineAssembler {
  private readonly pending: Partial<Record<LogStream, Pending>> = {};
  private cutoff = -1;
  private excludedPartial = new Map<LogStream, number>();
  private readonly sinceMs: number | undefined;

  constructor(private readonly opts: ReadContainerLogOptions) {
    this.sinceMs = opts.since?.getTime();
  }

  applyTailPlan(plan: TailPlan): void {
    this.cutoff = plan.cutoff;
    this.excludedPartial = plan.excludedPartial;
    for (const [stream, offset] of plan.excludedPartial) {
      // That unfinished line began before the start: its continuation must not surface as a line.
      if (offset < plan.startOffset) this.pending[stream] = { parts: [], time: '', lastOffset: offset, drop: true };
    }
  }

  /** Offsets restart in a new file; partial lines carry over (a line may straddle a rotation). */
  newFile(): void {
    this.cutoff = -1;
    this.excludedPartial.clear();
  }

  push(bytes: Buffer, offset: number, out: string[]): void {
    const rec = parseCriLogRecord(bytes);
    if (!rec || (this.opts.stream && rec.stream !== this.opts.stream)) return;
    let p = this.pending[rec.stream];
    if (!p && !rec.partial) {
      // The common case, a whole line in one record: no joining.
      if (offset > this.cutoff) this.emit(rec.time, rec.text.toString('utf8'), true, out);
      return;
    }
    if (!p) {
      p = { parts: [], time: rec.time, lastOffset: offset, drop: false };
      this.pending[rec.stream] = p;
    }
    if (this.excludedPartial.get(rec.stream) === offset) p.drop = true;
    p.lastOffset = offset;
    if (rec.partial) {
      if (!p.drop) p.parts.push(Buffer.from(rec.text)); // copied: the read buffer is reused
      return;
    }
    this.pending[rec.stream] = undefined;
    if (p.drop || p.lastOffset <= this.cutoff) return;
    p.parts.push(rec.text);
    this.emit(p.time, Buffer.concat(p.parts).toString('utf8'), true, out);
  }

  /** Emits unfinished lines, without a newline, in the order they were last written to. */
  flush(out: string[]): void {
    const left = (['stdout', 'stderr'] as const)
      .map((s) => this.pending[s])
      .filter((p): p is Pending => p !== undefined)
      .sort((a, b) => a.lastOffset - b.lastOffset);
    this.pending.stdout = undefined;
    this.pending.stderr = undefined;
    for (const p of left) {
      if (!p.drop && p.lastOffset > this.cutoff) this.emit(p.time, Buffer.concat(p.parts).toString('utf8'), false, out);
    }
  }

  private emit(time: string, text: string, newline: boolean, out: string[]): void {
    if (this.sinceMs !== undefined && (criTimeToEpochMs(time) ?? 0) < this.sinceMs) return;
    const prefix = this.opts.timestamps ? `${formatRfc3339NanoFixed(time)} ` : '';
    out.push(newline ? `${prefix}${text}\n` : `${prefix}${text}`);
  }
}

/**
 * Wakes a follower when its file may have changed: a watch on the directory (it sees writes, and the
 * rename and re-creation of rotation) plus a poll, in case watching is impossible (inotify limits,
 * some network filesystems) or an event is lost. Events are invalidations: the reader re-reads.
 */
class ChangeWaiter {
  private watcher: FSWatcher | undefined;
  private dirty = false;
  private wake: (() => void) | undefined;
  private readonly onAbort = () => this.wake?.();

  constructor(
    path: string,
    private readonly pollMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    const base = basename(path);
    try {
      this.watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
        // The rotated name too: writes can land in the renamed file until the writer reopens.
        if (name === null || String(name).startsWith(base)) this.notify();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined; // poll only
    }
    signal?.addEventListener('abort', this.onAbort);
  }

  private notify(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** Resolves on a change, after pollMs, or on abort. Changes since the last wait resolve at once. */
  wait(): Promise<void> {
    if (this.dirty || this.signal?.aborted) {
      this.dirty = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      // Not unref'd: a `logs -f` with nothing else to do must stay alive while it follows.
      const timer = setTimeout(() => done(), this.pollMs);
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.dirty = false;
        resolve();
      };
      this.wake = done;
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.wake?.();
  }
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
