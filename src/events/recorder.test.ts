import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../util/clock.js';
import { createEventRecorder } from './recorder.js';

const pod = { namespace: 'default', name: 'p', uid: 'u1' };

test('a repeated event folds into one with a count and both timestamps', () => {
  const clock = new FakeClock();
  const r = createEventRecorder(clock);
  r.record({ ...pod, fieldPath: 'spec.containers{c}' }, 'Warning', 'BackOff', 'Back-off restarting failed container');
  const first = clock.now();
  clock.advance(5_000);
  r.record({ ...pod, fieldPath: 'spec.containers{c}' }, 'Warning', 'BackOff', 'Back-off restarting failed container');
  const [e] = r.list('u1');
  assert.equal(r.list('u1').length, 1);
  assert.equal(e!.count, 2);
  assert.equal(e!.firstTimestamp, first);
  assert.equal(e!.lastTimestamp, first + 5_000);
});

test('events are bounded per pod, the oldest dropped first', () => {
  const r = createEventRecorder(new FakeClock(), 3);
  for (let i = 0; i < 5; i++) r.record(pod, 'Normal', 'Started', `m${i}`);
  assert.deepEqual(r.list('u1').map((e) => e.message), ['m2', 'm3', 'm4']);
});

test('events are kept per pod and forgotten with it', () => {
  const r = createEventRecorder(new FakeClock());
  r.record(pod, 'Normal', 'Started', 'a');
  r.record({ ...pod, uid: 'u2', name: 'q' }, 'Normal', 'Started', 'b');
  assert.equal(r.list().length, 2);
  r.forget('u1');
  assert.deepEqual(r.list().map((e) => e.message), ['b']);
});
