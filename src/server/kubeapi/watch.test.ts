import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Poller } from './watch.js';

test('the poller runs only while a task is registered, each key once per round', async () => {
  const p = new Poller(5);
  assert.equal(p.active, false);
  let runs = 0;
  const a = p.add('pods', () => runs++);
  const b = p.add('pods', () => runs++);
  assert.equal(p.active, true);
  for (let i = 0; i < 200 && runs < 3; i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(runs >= 3);
  a();
  assert.equal(p.active, true, 'still one reference');
  b();
  assert.equal(p.active, false, 'no watch: no timer');
});

test('a task that throws is reported and does not stop the others', async () => {
  const errors: unknown[] = [];
  const p = new Poller(5, (e) => errors.push(e));
  let runs = 0;
  const off1 = p.add('bad', () => {
    throw new Error('boom');
  });
  const off2 = p.add('good', () => runs++);
  for (let i = 0; i < 200 && runs < 2; i++) await new Promise((r) => setTimeout(r, 5));
  off1();
  off2();
  assert.ok(runs >= 2);
  assert.ok(errors.length >= 2);
});
