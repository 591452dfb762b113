import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../util/clock.js';
import { Backoff } from './backoff.js';

test('first restart is immediate', () => {
  const clock = new FakeClock();
  const b = new Backoff(clock);
  assert.equal(b.remainingSince('c', clock.now()), 0);
});

test('first backoff is 10 seconds, then it doubles', () => {
  const clock = new FakeClock();
  const b = new Backoff(clock);
  b.next('c'); // first restart
  assert.equal(b.current('c'), 10_000);
  const finished = clock.now();
  assert.equal(b.remainingSince('c', finished), 10_000);
  clock.advance(4_000);
  assert.equal(b.remainingSince('c', finished), 6_000);
  clock.advance(6_000);
  assert.equal(b.remainingSince('c', finished), 0);
  b.next('c');
  assert.equal(b.current('c'), 20_000);
  b.next('c');
  assert.equal(b.current('c'), 40_000);
});

test('backoff is capped at 300 seconds', () => {
  const clock = new FakeClock();
  const b = new Backoff(clock);
  for (let i = 0; i < 20; i++) {
    b.next('c');
    clock.advance(1_000);
  }
  assert.equal(b.current('c'), 300_000);
});

test('backoff resets after twice the cap without a restart', () => {
  const clock = new FakeClock();
  const b = new Backoff(clock);
  for (let i = 0; i < 5; i++) b.next('c');
  assert.equal(b.current('c'), 160_000);
  clock.advance(600_001);
  assert.equal(b.remainingSince('c', clock.now()), 0);
  b.next('c');
  assert.equal(b.current('c'), 10_000);
});

test('keys are independent and forgotten by prefix', () => {
  const clock = new FakeClock();
  const b = new Backoff(clock, 1_000, 8_000);
  b.next('pod1/a');
  b.next('pod1/a');
  b.next('pod2/a');
  assert.equal(b.current('pod1/a'), 2_000);
  assert.equal(b.current('pod2/a'), 1_000);
  b.forgetPrefix('pod1/');
  assert.equal(b.current('pod1/a'), 0);
  assert.equal(b.current('pod2/a'), 1_000);
});

test('back-off entries survive a checkpoint: a restored entry keeps its delay and doubles from there', () => {
  const clock = new FakeClock();
  const a = new Backoff(clock, 10_000, 300_000);
  let changes = 0;
  a.onChange = () => changes++;
  a.next('u/main');
  a.next('u/main');
  assert.equal(changes, 2);
  const b = new Backoff(clock, 10_000, 300_000);
  b.restore(JSON.parse(JSON.stringify(a.snapshot())) as ReturnType<Backoff['snapshot']>);
  assert.equal(b.current('u/main'), 20_000);
  b.next('u/main');
  assert.equal(b.current('u/main'), 40_000);
  b.restore({ bad: { durationMs: Number.NaN, lastUpdate: 0 }, big: { durationMs: 10 ** 9, lastUpdate: clock.now() } });
  assert.equal(b.current('bad'), 0);
  assert.equal(b.current('big'), 300_000);
});
