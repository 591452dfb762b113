import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { FakeClock } from '../util/clock.js';
import { type LogStream, formatCriLogLine, formatRfc3339Nano, formatRfc3339NanoFixed } from './cri-format.js';
import { createCriLogWriter } from './cri-log-writer.js';
import { createLogRotator } from './log-rotator.js';
import { type ReadContainerLogOptions, readContainerLog } from './log-reader.js';

const RUNS = Number(process.env.NODELET_FUZZ_RUNS ?? 100);

let root: string;
let seq = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'nodelet-logs-reader-'));
});
after(() => rmSync(root, { recursive: true, force: true }));
function freshPath(): string {
  const dir = join(root, `c${seq++}`);
  mkdirSync(dir, { recursive: true });
  return join(dir, '0.log');
}

async function read(path: string, opts: ReadContainerLogOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readContainerLog(path, opts)) out.push(line);
  return out;
}

/** Iterates in the background, collecting lines as they come. */
function follow(path: string, opts: ReadContainerLogOptions) {
  const lines: string[] = [];
  const done = (async () => {
    for await (const line of readContainerLog(path, { follow: true, pollMs: 20, ...opts })) lines.push(line);
  })();
  return { lines, done };
}

/** Waits for a condition, checking often; fails at the deadline instead of sleeping a fixed time. */
async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Rec {
  stream: LogStream;
  partial: boolean;
  text: string;
  time: string;
}

const t = (sec: number) => formatRfc3339Nano(BigInt(Date.UTC(2026, 0, 1) + sec * 1000) * 1_000_000n);
const rec = (stream: LogStream, partial: boolean, text: string, sec = 0): Rec => ({ stream, partial, text, time: t(sec) });
const file = (recs: Rec[]) => recs.map((r) => formatCriLogLine(r)).join('');

/**
 * The reference model: lines in the order they end, unfinished ones last without a newline; `end` is the
 * index of a line's last record, by which tail ranks lines.
 */
function model(recs: Rec[], stream?: LogStream): { time: string; text: string; end: number }[] {
  const out: { time: string; text: string; end: number }[] = [];
  const pending: Partial<Record<LogStream, { time: string; text: string; end: number }>> = {};
  recs.forEach((r, i) => {
    if (stream && r.stream !== stream) return;
    const p = (pending[r.stream] ??= { time: r.time, text: '', end: i });
    p.text += r.text;
    p.end = i;
    if (!r.partial) {
      out.push({ ...p, text: `${p.text}\n` });
      pending[r.stream] = undefined;
    }
  });
  const left = [pending.stdout, pending.stderr].filter((p) => p !== undefined).sort((a, b) => a.end - b.end);
  return [...out, ...left];
}

describe('readContainerLog', () => {
  it('joins P chunks per stream into whole lines', async () => {
    const path = freshPath();
    writeFileSync(
      path,
      file([
        rec('stdout', true, 'hel'),
        rec('stderr', false, 'err'),
        rec('stdout', true, 'lo '),
        rec('stdout', false, 'world'),
        rec('stderr', false, ''),
      ]),
    );
    assert.deepEqual(await read(path), ['err\n', 'hello world\n', '\n']);
    assert.deepEqual(await read(path, { stream: 'stdout' }), ['hello world\n']);
    assert.deepEqual(await read(path, { stream: 'stderr' }), ['err\n', '\n']);
  });

  it('joins a multi-byte character split between chunks', async () => {
    const path = freshPath();
    const euro = Buffer.from('€');
    const head = Buffer.from(`${t(0)} stdout P a`);
    const tail = Buffer.from(`${t(0)} stdout F `);
    writeFileSync(path, Buffer.concat([head, euro.subarray(0, 1), Buffer.from('\n'), tail, euro.subarray(1), Buffer.from('b\n')]));
    assert.deepEqual(await read(path), ['a€b\n']);
  });

  it('skips malformed records and does not read a record still being written', async () => {
    const path = freshPath();
    writeFileSync(path, `garbage\n${file([rec('stdout', false, 'ok')])}${t(0)} stdout F half-writ`);
    assert.deepEqual(await read(path), ['ok\n']);
  });

  it('yields an unfinished line without a newline', async () => {
    const path = freshPath();
    writeFileSync(path, file([rec('stdout', false, 'done'), rec('stdout', true, 'still going')]));
    assert.deepEqual(await read(path), ['done\n', 'still going']);
  });

  it('returns the last N lines with tail', async () => {
    const path = freshPath();
    writeFileSync(path, file(['a', 'b', 'c', 'd'].map((x) => rec('stdout', false, x))));
    assert.deepEqual(await read(path, { tail: 2 }), ['c\n', 'd\n']);
    assert.deepEqual(await read(path, { tail: 0 }), []);
    assert.deepEqual(await read(path, { tail: 10 }), ['a\n', 'b\n', 'c\n', 'd\n']);
    assert.deepEqual(await read(path, { tail: -1 }), ['a\n', 'b\n', 'c\n', 'd\n']);
  });

  it('counts whole lines for tail, including their P chunks before lines of the other stream', async () => {
    const path = freshPath();
    writeFileSync(
      path,
      file([
        rec('stdout', false, 'old'),
        rec('stdout', true, 'long '),
        rec('stderr', false, 'err'),
        rec('stdout', false, 'line'),
      ]),
    );
    assert.deepEqual(await read(path, { tail: 1 }), ['long line\n']);
    assert.deepEqual(await read(path, { tail: 2 }), ['err\n', 'long line\n']);
  });

  it('reads a big file backwards in blocks for tail', async () => {
    const path = freshPath();
    const recs = Array.from({ length: 20_000 }, (_, i) => rec(i % 5 ? 'stdout' : 'stderr', i % 7 === 3, `line ${i} ${'x'.repeat(i % 50)}`));
    recs.push(rec('stdout', false, 'y'.repeat(200_000))); // one record longer than a block
    recs.push(rec('stderr', false, 'last'));
    writeFileSync(path, file(recs));
    const all = model(recs).map((l) => l.text);
    assert.deepEqual(await read(path), all);
    // No unfinished line here, so the last N by end are the last N read.
    for (const n of [1, 2, 3, 100, 15_000]) assert.deepEqual(await read(path, { tail: n }), all.slice(-n), `tail ${n}`);
  });

  it('filters by since and prefixes timestamps', async () => {
    const path = freshPath();
    writeFileSync(
      path,
      file([rec('stdout', false, 'zero', 0), rec('stdout', true, 'one ', 1), rec('stdout', false, 'two', 2), rec('stdout', false, 'three', 3)]),
    );
    const since = new Date(Date.UTC(2026, 0, 1) + 1000);
    assert.deepEqual(await read(path, { since }), ['one two\n', 'three\n']);
    assert.deepEqual(await read(path, { since, timestamps: true }), [
      '2026-01-01T00:00:01.000000000Z one two\n',
      '2026-01-01T00:00:03.000000000Z three\n',
    ]);
    // tail applies first, then since (the kubelet's order)
    assert.deepEqual(await read(path, { tail: 3, since: new Date(Date.UTC(2026, 0, 1) + 2000) }), ['three\n']);
  });

  it('agrees with a reference model for tail, since and stream on any records (property)', async () => {
    const recArb = fc.record({
      stream: fc.constantFrom('stdout' as const, 'stderr' as const),
      partial: fc.boolean(),
      text: fc.string({ unit: 'binary', maxLength: 8 }).map((s) => s.replace(/\n/g, '')),
      sec: fc.nat(20),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(recArb, { maxLength: 25 }),
        fc.nat(30),
        fc.option(fc.constantFrom('stdout' as const, 'stderr' as const), { nil: undefined }),
        fc.option(fc.nat(20), { nil: undefined }),
        async (raw, n, stream, sinceSec) => {
          // Times never go backwards in a file.
          let sec = 0;
          const recs = raw.map((r) => rec(r.stream, r.partial, r.text, (sec = Math.max(sec, r.sec))));
          const path = freshPath();
          writeFileSync(path, file(recs));
          const full = model(recs, stream);
          const since = sinceSec === undefined ? undefined : new Date(Date.UTC(2026, 0, 1) + sinceSec * 1000);
          const keep = (l: { time: string }) => since === undefined || Date.parse(l.time) >= since.getTime();
          // tail keeps the N lines that end last; an unfinished line ends at its last chunk.
          const ends = full.map((l) => l.end).sort((a, b) => b - a).slice(0, n);
          const want = full.filter((l) => ends.includes(l.end)).filter(keep);
          const opts: ReadContainerLogOptions = { tail: n, timestamps: true };
          if (stream) opts.stream = stream;
          if (since) opts.since = since;
          const got = await read(path, opts);
          assert.deepEqual(got, want.map((l) => `${formatRfc3339NanoFixed(l.time)} ${l.text}`));
          assert.deepEqual(await read(path, stream ? { stream } : {}), full.map((l) => l.text));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('rejects when the file does not exist', async () => {
    await assert.rejects(read(join(root, 'missing.log')), { code: 'ENOENT' });
  });
});

describe('readContainerLog follow', () => {
  it('streams appended lines until stopWhen holds at end of file', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path);
    w.write('stdout', Buffer.from('first\n'));
    let exited = false;
    const f = follow(path, { stopWhen: () => exited });
    await waitFor(() => f.lines.length === 1, 'first line');
    w.write('stderr', Buffer.from('second\n'));
    await waitFor(() => f.lines.length === 2, 'second line');
    w.write('stdout', Buffer.from('last words'));
    await w.close();
    exited = true;
    await f.done;
    assert.deepEqual(f.lines, ['first\n', 'second\n', 'last words\n']);
  });

  it('starts with the tail, then streams new lines', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path);
    w.write('stdout', Buffer.from('a\nb\nc\n'));
    await w.reopen(); // flushed
    let exited = false;
    const f = follow(path, { tail: 1, stopWhen: () => exited });
    await waitFor(() => f.lines.length === 1, 'tail');
    w.write('stdout', Buffer.from('d\n'));
    await w.close();
    exited = true;
    await f.done;
    assert.deepEqual(f.lines, ['c\n', 'd\n']);
  });

  it('joins a line whose P chunks arrive while following', async () => {
    const path = freshPath();
    writeFileSync(path, '');
    let exited = false;
    const f = follow(path, { stopWhen: () => exited });
    appendFileSync(path, formatCriLogLine(rec('stdout', true, 'par')));
    appendFileSync(path, `${t(0)} stdout F t`); // a record written in two pieces
    appendFileSync(path, 'ial\n');
    await waitFor(() => f.lines.length === 1, 'joined line');
    exited = true;
    await f.done;
    assert.deepEqual(f.lines, ['partial\n']);
  });

  it('ends quietly when the signal aborts', async () => {
    const path = freshPath();
    writeFileSync(path, file([rec('stdout', false, 'x')]));
    const ac = new AbortController();
    const f = follow(path, { signal: ac.signal, pollMs: 60_000 });
    await waitFor(() => f.lines.length === 1, 'first line');
    ac.abort();
    await f.done;
    assert.deepEqual(f.lines, ['x\n']);
  });

  it('follows the file across rotations without losing or repeating a line', async () => {
    const path = freshPath();
    const clock = new FakeClock();
    const w = await createCriLogWriter(path);
    const rotator = createLogRotator({ maxSizeBytes: 1, maxFiles: 3, clock, onError: (e) => assert.fail(String(e)) });
    rotator.register(w);
    let exited = false;
    const f = follow(path, { stopWhen: () => exited });
    const want: string[] = [];
    for (let i = 0; i < 300; i++) {
      w.write(i % 2 ? 'stdout' : 'stderr', Buffer.from(`line ${i}\n`));
      want.push(`line ${i}\n`);
      if (i % 25 === 24) {
        clock.advance(1000); // a new rotation name each time
        await rotator.rotateNow();
      }
      if (i % 10 === 0) await new Promise((r) => setImmediate(r)); // let the follower interleave
    }
    await waitFor(() => f.lines.length >= want.length, 'all lines');
    rotator.stop();
    await w.close();
    exited = true;
    await f.done;
    assert.deepEqual(f.lines, want);
  });
});
