import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { NodeletError } from '../errors.js';
import { FakeClock } from '../util/clock.js';
import { criTimeToEpochMs, parseCriLogLine, parseCriLogRecord } from './cri-format.js';
import { LOG_WRITER_CLOSED, createCriLogWriter } from './cri-log-writer.js';
import { readContainerLog } from './log-reader.js';

const RUNS = Number(process.env.NODELET_FUZZ_RUNS ?? 100);
const T0 = '2026-01-01T00:00:00Z';

let root: string;
let seq = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'nodelet-logs-writer-'));
});
after(() => rmSync(root, { recursive: true, force: true }));
const freshPath = () => join(root, `c${seq++}`, '0.log');
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').slice(0, -1);

async function readAll(path: string, stream?: 'stdout' | 'stderr'): Promise<string> {
  let text = '';
  for await (const line of readContainerLog(path, stream ? { stream } : {})) text += line;
  return text;
}

describe('createCriLogWriter', () => {
  it('frames stdout and stderr lines with time, stream and F', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path, { clock: new FakeClock() });
    w.write('stdout', Buffer.from('hello\nworld\n'));
    w.write('stderr', Buffer.from('oops\n'));
    await w.close();
    assert.deepEqual(lines(path), [`${T0} stdout F hello`, `${T0} stdout F world`, `${T0} stderr F oops`]);
  });

  it('stamps each chunk with the clock, trimming trailing zeros', async () => {
    const path = freshPath();
    const clock = new FakeClock();
    const w = await createCriLogWriter(path, { clock });
    w.write('stdout', Buffer.from('a\n'));
    clock.advance(120);
    w.write('stdout', Buffer.from('b\n'));
    await w.close();
    assert.deepEqual(lines(path), [`${T0} stdout F a`, '2026-01-01T00:00:00.12Z stdout F b']);
  });

  it('joins a line written in pieces, keeping a partial buffer per stream', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path, { clock: new FakeClock() });
    w.write('stdout', Buffer.from('hel'));
    w.write('stderr', Buffer.from('err'));
    w.write('stdout', Buffer.from('lo\nnext'));
    w.write('stderr', Buffer.from('or\n'));
    w.write('stdout', Buffer.from(' line\n'));
    await w.close();
    assert.deepEqual(lines(path), [`${T0} stdout F hello`, `${T0} stderr F error`, `${T0} stdout F next line`]);
  });

  it('writes an empty line as an F record with empty text', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path, { clock: new FakeClock() });
    w.write('stdout', Buffer.from('\n\n'));
    await w.close();
    assert.equal(readFileSync(path, 'utf8'), `${T0} stdout F \n${T0} stdout F \n`);
  });

  it('keeps the carriage return of CRLF', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path, { clock: new FakeClock() });
    w.write('stdout', Buffer.from('dos\r\n'));
    await w.close();
    assert.equal(readFileSync(path, 'utf8'), `${T0} stdout F dos\r\n`);
  });

  it('writes text left without a newline as F when closed', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path, { clock: new FakeClock() });
    w.write('stdout', Buffer.from('no newline'));
    w.write('stderr', Buffer.from('also none'));
    await w.close();
    assert.deepEqual(lines(path), [`${T0} stdout F no newline`, `${T0} stderr F also none`]);
  });

  it('splits a line longer than 16 KiB into P chunks and a final F', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path, { clock: new FakeClock() });
    const k16 = 16 * 1024;
    const long = 'a'.repeat(k16) + 'b'.repeat(k16) + 'c'.repeat(10);
    // Fed in odd-sized pieces: the split must not depend on chunk boundaries.
    const bytes = Buffer.from(long + '\n');
    for (let i = 0; i < bytes.length; i += 1000) w.write('stdout', bytes.subarray(i, i + 1000));
    await w.close();
    const recs = lines(path).map((l) => parseCriLogLine(l)!);
    assert.deepEqual(
      recs.map((r) => [r.partial, r.text.length]),
      [
        [true, k16],
        [true, k16],
        [false, 10],
      ],
    );
    assert.equal(recs.map((r) => r.text).join(''), long);
  });

  it('keeps a line of exactly the maximum as one F record, as containerd does', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path, { clock: new FakeClock(), maxLineBytes: 4 });
    w.write('stdout', Buffer.from('abcd\nabcde\nabcdefgh\n'));
    await w.close();
    assert.deepEqual(
      lines(path).map((l) => l.slice(T0.length + 1)),
      ['stdout F abcd', 'stdout P abcd', 'stdout F e', 'stdout P abcd', 'stdout F efgh'],
    );
  });

  it('batches many small writes and keeps their order', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path, { clock: new FakeClock() });
    for (let i = 0; i < 5000; i++) w.write(i % 3 ? 'stdout' : 'stderr', Buffer.from(`line ${i}\n`));
    await w.close();
    const got = lines(path).map((l) => parseCriLogLine(l)!.text);
    assert.equal(got.length, 5000);
    assert.deepEqual(got, Array.from({ length: 5000 }, (_, i) => `line ${i}`));
  });

  it('creates the file with mode 0640 and its directory', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path);
    await w.close();
    assert.equal(statSync(path).mode & 0o777, 0o640 & ~process.umask());
  });

  it('ignores writes after close, and close is idempotent', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path, { clock: new FakeClock() });
    w.write('stdout', Buffer.from('one\n'));
    await w.close();
    w.write('stdout', Buffer.from('two\n'));
    await w.close();
    assert.deepEqual(lines(path), [`${T0} stdout F one`]);
  });

  it('writes into a new file after reopen, and refuses to reopen once closed', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path, { clock: new FakeClock() });
    w.write('stdout', Buffer.from('before\n'));
    // A partial line straddles the rotation: its end lands in the new file.
    w.write('stderr', Buffer.from('straddling '));
    await w.reopen(); // flushes what was queued into the current file first
    renameSync(path, `${path}.rotated`);
    await w.reopen();
    w.write('stdout', Buffer.from('after\n'));
    w.write('stderr', Buffer.from('line\n'));
    await w.close();
    assert.deepEqual(lines(`${path}.rotated`), [`${T0} stdout F before`]);
    assert.deepEqual(lines(path), [`${T0} stdout F after`, `${T0} stderr F straddling line`]);
    await assert.rejects(w.reopen(), (err: unknown) => err instanceof NodeletError && err.code === LOG_WRITER_CLOSED);
  });

  it('stamps real time with nanosecond digits, never going backwards', async () => {
    const path = freshPath();
    const w = await createCriLogWriter(path);
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) w.write('stdout', Buffer.from(`${i}\n`));
    await w.close();
    const times = lines(path).map((l) => parseCriLogLine(l)!.time);
    for (const t of times) {
      const ms = criTimeToEpochMs(t)!;
      assert.ok(ms >= t0 - 5 && ms <= Date.now() + 5, t);
      assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    }
    const fixed = times.map((t) => t.replace(/(\.\d+)?Z$/, (m) => (m === 'Z' ? '.000000000' : m.slice(0, -1).padEnd(10, '0'))));
    assert.deepEqual([...fixed].sort(), fixed);
  });

  it('reads back exactly what was written, per stream (property)', async () => {
    const chunkArb = fc.record({
      stream: fc.constantFrom('stdout' as const, 'stderr' as const),
      text: fc.oneof(
        fc.string({ unit: 'binary' }),
        fc.constantFrom('\n', '\r\n', 'x\n', 'é€😀\n', ''),
        fc.string({ unit: fc.constantFrom('a', '\n', '😀', '\r'), maxLength: 60 }),
      ),
      // Split points inside the encoded bytes, possibly in the middle of a UTF-8 sequence.
      cuts: fc.array(fc.nat(), { maxLength: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(chunkArb, { maxLength: 30 }), fc.integer({ min: 1, max: 24 }), async (chunks, max) => {
        const path = freshPath();
        const w = await createCriLogWriter(path, { clock: new FakeClock(), maxLineBytes: max });
        const expected = { stdout: '', stderr: '' };
        for (const c of chunks) {
          expected[c.stream] += c.text;
          const bytes = Buffer.from(c.text);
          const cuts = [...new Set(c.cuts.map((n) => (bytes.length ? n % bytes.length : 0)))].sort((a, b) => a - b);
          let prev = 0;
          for (const cut of [...cuts, bytes.length]) {
            w.write(c.stream, bytes.subarray(prev, cut));
            prev = cut;
          }
        }
        await w.close();
        for (const stream of ['stdout', 'stderr'] as const) {
          // The close writes a trailing unterminated line as F, so it reads back with a newline.
          const want = expected[stream] === '' || expected[stream].endsWith('\n') ? expected[stream] : `${expected[stream]}\n`;
          assert.equal(await readAll(path, stream), want);
        }
        // Every record respects the maximum.
        const raw = readFileSync(path);
        for (let s = 0, nl = raw.indexOf(10); nl !== -1; s = nl + 1, nl = raw.indexOf(10, s)) {
          assert.ok(parseCriLogRecord(raw.subarray(s, nl))!.text.length <= max);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
