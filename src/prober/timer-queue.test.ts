import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CountingClock } from './testing.js';
import { TimerQueue } from './timer-queue.js';

test('callbacks fire in due order, ties in scheduling order', () => {
  const clock = new CountingClock();
  const q = new TimerQueue(clock);
  const t0 = clock.now();
  const fired: string[] = [];
  q.schedule(t0 + 300, () => fired.push('c'));
  q.schedule(t0 + 100, () => fired.push('a'));
  q.schedule(t0 + 200, () => fired.push('b1'));
  q.schedule(t0 + 200, () => fired.push('b2'));
  clock.advance(150);
  assert.deepEqual(fired, ['a']);
  clock.advance(1000);
  assert.deepEqual(fired, ['a', 'b1', 'b2', 'c']);
  assert.equal(q.size, 0);
  assert.equal(clock.pending, 0);
});

test('there is never more than one pending clock timer, however many entries', () => {
  const clock = new CountingClock();
  const q = new TimerQueue(clock);
  const t0 = clock.now();
  let fired = 0;
  for (let i = 0; i < 1000; i++) q.schedule(t0 + 1000 - i, () => fired++);
  assert.equal(clock.pending, 1);
  assert.equal(q.size, 1000);
  clock.advance(500);
  assert.equal(fired, 500);
  assert.equal(clock.pending, 1);
  clock.advance(500);
  assert.equal(fired, 1000);
  assert.equal(clock.pending, 0);
});

test('a cancelled entry does not fire, and cancelling the earliest moves nothing forward early', () => {
  const clock = new CountingClock();
  const q = new TimerQueue(clock);
  const t0 = clock.now();
  const fired: string[] = [];
  const a = q.schedule(t0 + 100, () => fired.push('a'));
  q.schedule(t0 + 200, () => fired.push('b'));
  a.cancel();
  a.cancel(); // twice is harmless
  assert.equal(q.size, 1);
  clock.advance(150);
  assert.deepEqual(fired, []);
  clock.advance(100);
  assert.deepEqual(fired, ['b']);
});

test('a callback may schedule more work, including work already due', () => {
  const clock = new CountingClock();
  const q = new TimerQueue(clock);
  const t0 = clock.now();
  const fired: number[] = [];
  q.schedule(t0 + 10, () => {
    fired.push(1);
    q.schedule(clock.now(), () => fired.push(2));
    q.schedule(clock.now() + 10, () => fired.push(3));
  });
  clock.advance(15);
  assert.deepEqual(fired, [1, 2]);
  clock.advance(10);
  assert.deepEqual(fired, [1, 2, 3]);
  assert.equal(clock.pending, 0);
});

test('an earlier entry re-arms the single timer; mass cancellation compacts the heap', () => {
  const clock = new CountingClock();
  const q = new TimerQueue(clock);
  const t0 = clock.now();
  const handles = Array.from({ length: 500 }, (_, i) => q.schedule(t0 + 10_000 + i, () => assert.fail('cancelled entry fired')));
  let early = false;
  q.schedule(t0 + 5, () => (early = true));
  assert.equal(clock.pending, 1);
  clock.advance(5);
  assert.ok(early);
  for (const h of handles) h.cancel();
  assert.equal(q.size, 0);
  clock.advance(20_000);
});

test('a throwing callback is reported and does not stop the others', () => {
  const clock = new CountingClock();
  const errors: unknown[] = [];
  const q = new TimerQueue(clock, (e) => errors.push(e));
  const t0 = clock.now();
  let ran = false;
  q.schedule(t0 + 1, () => {
    throw new Error('boom');
  });
  q.schedule(t0 + 1, () => (ran = true));
  clock.advance(1);
  assert.ok(ran);
  assert.equal(errors.length, 1);
});

test('stop drops everything', () => {
  const clock = new CountingClock();
  const q = new TimerQueue(clock);
  q.schedule(clock.now() + 1, () => assert.fail('fired after stop'));
  q.stop();
  assert.equal(clock.pending, 0);
  q.schedule(clock.now() + 1, () => assert.fail('fired after stop'));
  clock.advance(10);
});

test('with a resolution, entries of one step fire together at the step end, never early', () => {
  const clock = new CountingClock(1_000_000);
  const q = new TimerQueue(clock, undefined, { resolutionMs: 50 });
  const fired: [string, number][] = [];
  for (const [name, at] of [['a', 1_000_001], ['b', 1_000_020], ['c', 1_000_050], ['d', 1_000_051]] as const) {
    q.schedule(at, () => fired.push([name, clock.now()]));
  }
  clock.advance(49);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, [['a', 1_000_050], ['b', 1_000_050], ['c', 1_000_050]]);
  clock.advance(50);
  assert.deepEqual(fired.at(-1), ['d', 1_000_100]);
  assert.equal(clock.created, 2, 'one wake-up per step, not per entry');
});
