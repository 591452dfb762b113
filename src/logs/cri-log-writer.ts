// Frames raw container output into CRI log lines, as containerd's CRI logger does
// (containerd internal/cri/io/logger.go, redirectLogs), and appends them to `<restartCount>.log`.
//
// Differences from containerd, on purpose:
// - A trailing line without a newline is written as `F` when the writer closes (containerd writes `P`),
//   so every line in a finished file is complete.
// - `\r\n` keeps its `\r` (containerd's readLine drops both bytes): the text is what the process wrote.
//
// Cost model (1,000 containers per node): one fd per writer and no timers; an idle writer holds two
// empty stream states. Records produced while a write is in flight are batched into the next write,
// so a chatty container costs one write(2) per event-loop turn rather than one per line.

import { close as closeCb, open as openCb, write as writeCb } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NodeletError } from '../errors.js';
import { type Clock, realClock } from '../util/clock.js';
import { DEFAULT_MAX_LINE_BYTES, type LogStream, criHeader, formatRfc3339Nano } from './cri-format.js';

/**
 * Writes framed lines for one container attempt. Accepts raw chunks from stdout and stderr (each stream
 * has its own partial-line buffer) and appends them to one file opened with O_APPEND; writes are
 * serialized on a single fd.
 */
export interface CriLogWriter {
  /**
   * Frames a raw chunk of output. Never blocks and never throws. The chunk is referenced until its
   * batch is written (usually within the next event-loop turn): do not modify it after the call.
   * Ignored after {@link close}.
   */
  write(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** Flushes partial lines as `F`, waits for every queued write and closes the file. Idempotent. */
  close(): Promise<void>;
  /**
   * Reopens the path after rotation renamed the file: queued records go to the new file. Rejects when
   * the writer is closed or the file cannot be opened (the old file stays in use).
   */
  reopen(): Promise<void>;
  /** The file this writer appends to. */
  readonly path: string;
  /** Bytes appended since the writer was created: lets the rotator skip files that did not grow. */
  readonly bytesWritten: number;
}

/** Options of {@link createCriLogWriter}. */
export interface CriLogWriterOptions {
  /** Timestamps come from here; with the real clock they carry sub-millisecond digits. */
  clock?: Clock;
  /** Longest text of one record before it is split into `P` records; containerd's default is 16 KiB. */
  maxLineBytes?: number;
  /** Called with every failed write; the records are dropped (containerd logs and drains on). */
  onError?: (err: unknown) => void;
}

/** Error code of {@link CriLogWriter.reopen} on a closed writer. */
export const LOG_WRITER_CLOSED = 'LogWriterClosed';

// The file mode containerd gives container logs (internal/cri/io/helpers.go, openLogFile).
const LOG_FILE_MODE = 0o640;

/**
 * Opens (creating it and its directory if needed) a container log file for appending and returns its
 * writer.
 */
export async function createCriLogWriter(path: string, opts: CriLogWriterOptions = {}): Promise<CriLogWriter> {
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const fd = await openAppend(path);
  return new Writer(path, fd, opts.clock ?? realClock, maxLineBytes, opts.onError ?? (() => {}));
}

/** The not-yet-terminated text of one stream. The buffer is allocated on demand and freed per line. */
interface StreamState {
  buf: Buffer | undefined;
  len: number;
}

class Writer implements CriLogWriter {
  bytesWritten = 0;
  private fd: number;
  private closed = false;
  private closing: Promise<void> | undefined;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  // Every fd operation (write batch, reopen, close) runs in order on this chain.
  private chain: Promise<void> = Promise.resolve();
  private drainQueued = false;
  private readonly streams: Record<LogStream, StreamState> = {
    stdout: { buf: undefined, len: 0 },
    stderr: { buf: undefined, len: 0 },
  };

  constructor(
    readonly path: string,
    fd: number,
    private readonly clock: Clock,
    private readonly maxLineBytes: number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.fd = fd;
  }

  write(stream: LogStream, chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    const state = this.streams[stream];
    const max = this.maxLineBytes;
    // One timestamp per chunk: the lines of a chunk arrived together (containerd reads the time per
    // line, microseconds apart). So the headers are the same for all its lines, too.
    let time: string | undefined;
    let full: Buffer | undefined;
    let partial: Buffer | undefined;
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl === -1 ? chunk.length : nl;
      let seg = chunk.subarray(pos, end);
      // containerd cuts a record once the buffered text *exceeds* maxLen: a line of exactly maxLen
      // bytes stays one `F` record, maxLen + 1 bytes become `P` (maxLen) + `F` (1).
      while (state.len + seg.length > max) {
        const take = max - state.len;
        partial ??= header((time ??= this.now()), stream, true);
        this.emit(partial, state, seg.subarray(0, take));
        seg = seg.subarray(take);
      }
      if (nl === -1) {
        this.retain(state, seg);
        break;
      }
      full ??= header((time ??= this.now()), stream, false);
      this.emit(full, state, seg);
      pos = nl + 1;
    }
    this.scheduleDrain();
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    let time: string | undefined;
    for (const stream of ['stdout', 'stderr'] as const) {
      const state = this.streams[stream];
      if (state.len > 0) this.emit(header((time ??= this.now()), stream, false), state, EMPTY);
    }
    this.scheduleDrain();
    this.closing = this.enqueue(() => closeFd(this.fd));
    return this.closing;
  }

  reopen(): Promise<void> {
    if (this.closed) {
      return Promise.reject(new NodeletError(LOG_WRITER_CLOSED, 'log writer is closed', { details: { file: this.path } }));
    }
    // Runs after the write in flight: no record lands in the old file once the new one exists, which
    // is what lets a follower finish the renamed file and switch (log-reader.ts).
    return this.enqueue(async () => {
      const fd = await openAppend(this.path);
      const old = this.fd;
      this.fd = fd;
      await closeFd(old);
    });
  }

  private now(): string {
    return formatRfc3339Nano(this.clock === realClock ? realNowNs() : BigInt(this.clock.now()) * 1_000_000n);
  }

  /**
   * Queues one record: header, the buffered text of the stream, `tail`, newline; clears the buffer. The
   * pieces are queued as views, not copied: a batch is copied once, when it is written.
   */
  private emit(header: Buffer, state: StreamState, tail: Buffer): void {
    this.queue.push(header);
    if (state.buf) this.queue.push(state.buf.subarray(0, state.len));
    if (tail.length > 0) this.queue.push(tail);
    this.queue.push(NEWLINE);
    this.queuedBytes += header.length + state.len + tail.length + 1;
    state.buf = undefined;
    state.len = 0;
  }

  /** Keeps the unterminated end of a chunk, copied: the caller's buffer (often a pooled slab) is not held. */
  private retain(state: StreamState, seg: Buffer): void {
    if (seg.length === 0) return;
    const need = state.len + seg.length;
    if (!state.buf || state.buf.length < need) {
      // Grow geometrically up to maxLineBytes; allocUnsafeSlow keeps a small partial line from
      // pinning a shared 8 KiB pool slab for as long as the container stays quiet.
      const grown = Buffer.allocUnsafeSlow(Math.min(this.maxLineBytes, Math.max(need, 64, (state.buf?.length ?? 0) * 2)));
      if (state.buf) state.buf.copy(grown, 0, 0, state.len);
      state.buf = grown;
    }
    seg.copy(state.buf, state.len);
    state.len = need;
  }

  private scheduleDrain(): void {
    if (this.drainQueued || this.queue.length === 0) return;
    this.drainQueued = true;
    void this.enqueue(() => this.drain());
  }

  private async drain(): Promise<void> {
    // Records queued from here on go to the next batch.
    this.drainQueued = false;
    if (this.queue.length === 0) return;
    const batch = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue, this.queuedBytes);
    this.queue = [];
    this.queuedBytes = 0;
    try {
      await writeAll(this.fd, batch);
      this.bytesWritten += batch.length;
    } catch (err) {
      this.onError(err);
    }
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const done = this.chain.then(task);
    this.chain = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }
}

const EMPTY = Buffer.alloc(0);

function header(time: string, stream: LogStream, partial: boolean): Buffer {
  return Buffer.from(criHeader(time, stream, partial), 'latin1');
}
const NEWLINE = Buffer.from('\n');

function openAppend(path: string): Promise<number> {
  return new Promise((resolve, reject) =>
    openCb(path, 'a', LOG_FILE_MODE, (err, fd) => (err ? reject(err) : resolve(fd))),
  );
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => closeCb(fd, (err) => (err ? reject(err) : resolve())));
}

async function writeAll(fd: number, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    off += await new Promise<number>((resolve, reject) =>
      writeCb(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))),
    );
  }
}

// Date.now() has millisecond resolution; containerd stamps nanoseconds. Anchor the monotonic
// high-resolution clock to the wall clock and re-anchor when they drift apart (NTP slew or step).
let anchorMs = 0;
let anchorHr = 0n;
let lastNs = 0n;

function realNowNs(): bigint {
  const hr = process.hrtime.bigint();
  const wall = Date.now();
  let ns = BigInt(anchorMs) * 1_000_000n + (hr - anchorHr);
  const drift = Number(ns / 1_000_000n) - wall;
  if (anchorMs === 0 || drift > 1 || drift < -1) {
    anchorMs = wall;
    anchorHr = hr;
    ns = BigInt(wall) * 1_000_000n;
  }
  // Re-anchoring may step back by a millisecond: keep stamps non-decreasing, but follow a real
  // backwards step of the wall clock rather than freezing time until it catches up.
  if (ns < lastNs && lastNs - ns < 1_000_000_000n) ns = lastNs;
  lastNs = ns;
  return ns;
}
