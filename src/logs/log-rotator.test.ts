import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { FakeClock } from '../util/clock.js';
import { parseCriLogLine } from './cri-format.js';
import { type CriLogWriter, createCriLogWriter } from './cri-log-writer.js';
import { createLogRotator, rotationStamp } from './log-rotator.js';

let root: string;
let seq = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'nodelet-logs-rotator-'));
});
after(() => rmSync(root, { recursive: true, force: true }));
function freshDir(): string {
  const dir = join(root, `c${seq++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
const texts = (content: string | Buffer) =>
  content
    .toString()
    .split('\n')
    .slice(0, -1)
    .map((l) => parseCriLogLine(l)!.text);

/** Waits for a condition, checking often; fails at the deadline instead of sleeping a fixed time. */
async function waitFor(cond: () => boolean, what: string | (() => string), timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Writes a line and waits until it is in the file (a reopen runs after queued writes). */
async function writeLine(w: CriLogWriter, text: string): Promise<void> {
  w.write('stdout', Buffer.from(`${text}\n`));
  await w.reopen();
}

describe('rotationStamp', () => {
  it('formats UTC as YYYYMMDD-hhmmss', () => {
    assert.equal(rotationStamp(Date.UTC(2026, 10, 25, 15, 4, 5, 999)), '20261125-150405');
  });
});

describe('createLogRotator', () => {
  it('refuses maxFiles below 2 and a non-positive size, as the kubelet validates', () => {
    assert.throws(() => createLogRotator({ maxSizeBytes: 10, maxFiles: 1 }), RangeError);
    assert.throws(() => createLogRotator({ maxSizeBytes: 0, maxFiles: 5 }), RangeError);
  });

  it('leaves a file under the maximum size alone', async () => {
    const dir = freshDir();
    const w = await createCriLogWriter(join(dir, '0.log'), { clock: new FakeClock() });
    const rotator = createLogRotator({ maxSizeBytes: 1024, maxFiles: 3, clock: new FakeClock() });
    rotator.register(w);
    await writeLine(w, 'small');
    await rotator.rotateNow();
    assert.deepEqual(readdirSync(dir), ['0.log']);
    rotator.stop();
    await w.close();
  });

  it('renames, gzips older rotations, keeps maxFiles, and the writer goes on in the new file', async () => {
    const dir = freshDir();
    const path = join(dir, '0.log');
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 0));
    const w = await createCriLogWriter(path, { clock });
    const errors: unknown[] = [];
    const rotator = createLogRotator({ maxSizeBytes: 10, maxFiles: 3, clock, onError: (e) => errors.push(e) });
    rotator.register(w);

    await writeLine(w, 'one');
    await rotator.rotateNow();
    assert.deepEqual(readdirSync(dir).sort(), ['0.log', '0.log.20260101-000000']);
    assert.deepEqual(texts(readFileSync(`${path}.20260101-000000`)), ['one']);

    await writeLine(w, 'two'); // into the reopened 0.log
    clock.advance(1000);
    await rotator.rotateNow();
    // The older rotation is gzipped; the newest stays plain.
    assert.deepEqual(readdirSync(dir).sort(), ['0.log', '0.log.20260101-000000.gz', '0.log.20260101-000001']);
    assert.deepEqual(texts(gunzipSync(readFileSync(`${path}.20260101-000000.gz`))), ['one']);
    assert.deepEqual(texts(readFileSync(`${path}.20260101-000001`)), ['two']);

    await writeLine(w, 'three');
    clock.advance(1000);
    await rotator.rotateNow();
    // maxFiles 3: the current file plus two rotations; the oldest is gone.
    assert.deepEqual(readdirSync(dir).sort(), ['0.log', '0.log.20260101-000001.gz', '0.log.20260101-000002']);
    assert.deepEqual(texts(gunzipSync(readFileSync(`${path}.20260101-000001.gz`))), ['two']);

    await writeLine(w, 'four');
    assert.deepEqual(texts(readFileSync(path)), ['four']);
    assert.deepEqual(errors, []);
    rotator.stop();
    await w.close();
  });

  it('keeps one rotation, uncompressed, when maxFiles is 2', async () => {
    const dir = freshDir();
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const w = await createCriLogWriter(join(dir, '0.log'), { clock });
    const rotator = createLogRotator({ maxSizeBytes: 1, maxFiles: 2, clock });
    rotator.register(w);
    for (let i = 0; i < 3; i++) {
      await writeLine(w, `line ${i}`);
      await rotator.rotateNow();
      clock.advance(1000);
    }
    assert.deepEqual(readdirSync(dir).sort(), ['0.log', '0.log.20260101-000002']);
    rotator.stop();
    await w.close();
  });

  it('does not rotate twice within one second, which would overwrite the first rotation', async () => {
    const dir = freshDir();
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const w = await createCriLogWriter(join(dir, '0.log'), { clock });
    const rotator = createLogRotator({ maxSizeBytes: 1, maxFiles: 5, clock });
    rotator.register(w);
    await writeLine(w, 'a');
    await rotator.rotateNow();
    await writeLine(w, 'b');
    await rotator.rotateNow();
    assert.deepEqual(readdirSync(dir).sort(), ['0.log', '0.log.20260101-000000']);
    assert.deepEqual(texts(readFileSync(join(dir, '0.log'))), ['b']);
    rotator.stop();
    await w.close();
  });

  it('removes debris of an interrupted rotation', async () => {
    const dir = freshDir();
    const path = join(dir, '0.log');
    writeFileSync(`${path}.20250101-000000.gz.tmp`, 'partial gzip');
    writeFileSync(`${path}.20250101-000001`, 'compressed already');
    writeFileSync(`${path}.20250101-000001.gz`, 'the compressed copy');
    writeFileSync(join(dir, '1.log.20250101-000000'), 'another attempt: untouched');
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const w = await createCriLogWriter(path, { clock });
    const rotator = createLogRotator({ maxSizeBytes: 1, maxFiles: 5, clock });
    rotator.register(w);
    await writeLine(w, 'x');
    await rotator.rotateNow();
    assert.deepEqual(readdirSync(dir).sort(), [
      '0.log',
      '0.log.20250101-000001.gz',
      '0.log.20260101-000000',
      '1.log.20250101-000000',
    ]);
    rotator.stop();
    await w.close();
  });

  it('recreates a missing file through the writer', async () => {
    const dir = freshDir();
    const path = join(dir, '0.log');
    const w = await createCriLogWriter(path);
    rmSync(path);
    const rotator = createLogRotator({ maxSizeBytes: 1024, maxFiles: 5, clock: new FakeClock() });
    rotator.register(w);
    await rotator.rotateNow();
    assert.ok(existsSync(path));
    rotator.stop();
    await w.close();
  });

  it('renames the file back and reports it when the writer cannot reopen', async () => {
    const dir = freshDir();
    const path = join(dir, '0.log');
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const w = await createCriLogWriter(path, { clock });
    await writeLine(w, 'keep me');
    await w.close(); // a closed writer refuses to reopen
    const errors: unknown[] = [];
    const rotator = createLogRotator({ maxSizeBytes: 1, maxFiles: 5, clock, onError: (e) => errors.push(e) });
    rotator.register(w);
    await rotator.rotateNow();
    assert.equal(errors.length, 1);
    assert.deepEqual(readdirSync(dir), ['0.log']);
    assert.deepEqual(texts(readFileSync(path)), ['keep me']);
    rotator.stop();
  });

  it('checks every interval on its clock, and no longer after stop or unregister', async () => {
    const dir = freshDir();
    const path = join(dir, '0.log');
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const w = await createCriLogWriter(path, { clock });
    const rotator = createLogRotator({ maxSizeBytes: 1, maxFiles: 5, clock });
    rotator.register(w);
    await writeLine(w, 'a');
    clock.advance(9_999);
    await rotator.rotateNow(); // at 00:00:09: proves nothing ran on its own before the interval
    const first = '0.log.20260101-000009';
    assert.ok(existsSync(join(dir, first)));
    await writeLine(w, 'b');
    clock.advance(1); // 10 s: the timer round
    await waitFor(() => existsSync(join(dir, '0.log.20260101-000010')), () => `the timer round: ${readdirSync(dir).join(', ')}`);
    // The file is renamed before that round reopens the writer: let the round finish (rounds run in
    // order, and the new file is empty, so this one rotates nothing).
    await rotator.rotateNow();
    assert.equal(statSync(path).size, 0);
    rotator.unregister(w);
    await writeLine(w, 'c');
    clock.advance(10_000);
    await rotator.rotateNow();
    assert.equal(statSync(path).size > 0, true, 'unregistered writer not rotated');
    rotator.stop();
    clock.advance(60_000);
    await w.close();
  });

  it('rotates many writers in one round', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const rotator = createLogRotator({ maxSizeBytes: 1, maxFiles: 5, clock });
    const dirs: string[] = [];
    const writers: CriLogWriter[] = [];
    for (let i = 0; i < 50; i++) {
      const dir = freshDir();
      dirs.push(dir);
      const w = await createCriLogWriter(join(dir, '0.log'), { clock });
      writers.push(w);
      rotator.register(w);
      await writeLine(w, `w${i}`);
    }
    await rotator.rotateNow();
    for (const dir of dirs) assert.deepEqual(readdirSync(dir).sort(), ['0.log', '0.log.20260101-000000']);
    rotator.stop();
    await Promise.all(writers.map((w) => w.close()));
  });
});
