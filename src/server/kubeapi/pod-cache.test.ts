import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeView, snapshot, withPhase } from '../testing.js';
import { type PodChange, PodCache } from './pod-cache.js';
import { project } from './watch.js';

function changes(c: PodCache, since: number): PodChange[] {
  const got = c.changesSince(since);
  assert.ok(got !== 'expired');
  return got;
}

test('a resourceVersion is assigned when a pod appears, changes and goes, and only then', () => {
  const v = new FakeView();
  const c = new PodCache(v);
  v.snapshots = [snapshot('a'), snapshot('b')];
  assert.deepEqual(
    c.list().map((p) => [p.metadata?.name, p.metadata?.resourceVersion]),
    [
      ['a-n1', '1'],
      ['b-n1', '2'],
    ],
  );
  c.refresh();
  assert.equal(c.resourceVersion, 2, 'nothing changed: no new version');
  v.snapshots = [withPhase(v.snapshots[0]!, 'Succeeded'), v.snapshots[1]!];
  assert.equal(c.get('default', 'a-n1')?.metadata?.resourceVersion, '3');
  v.snapshots = [v.snapshots[0]!];
  c.refresh();
  assert.equal(c.resourceVersion, 4);
  assert.deepEqual(
    changes(c, 2).map((x) => [x.type, x.object.metadata?.name, x.resourceVersion]),
    [
      ['MODIFIED', 'a-n1', 3],
      ['DELETED', 'b-n1', 4],
    ],
  );
});

test('the API fields: creationTimestamp from config.seen, deletionTimestamp while terminating', () => {
  const v = new FakeView();
  const c = new PodCache(v);
  v.snapshots = [snapshot('a')];
  const p = c.list()[0]!;
  assert.equal(p.metadata?.creationTimestamp, '2024-05-01T11:00:00Z');
  assert.equal(p.metadata?.deletionTimestamp, undefined);
  v.snapshots = [{ ...v.snapshots[0]!, state: 'terminating' }];
  const t = c.list()[0]!;
  assert.equal(t.metadata?.deletionTimestamp, '2024-05-01T12:00:30Z', 'now + the 30 s default grace');
  assert.equal(t.metadata?.deletionGracePeriodSeconds, 30);
  v.snapshots = [{ ...v.snapshots[0]!, state: 'terminated' }];
  assert.equal(c.list().length, 0, 'a terminated worker is a deleted pod');
});

test('an edited pod still stopping is hidden behind its successor of the same name', () => {
  const v = new FakeView();
  const c = new PodCache(v);
  v.snapshots = [snapshot('a', { uid: 'old', state: 'terminating' }), snapshot('a', { uid: 'new', state: 'waiting' })];
  assert.deepEqual(
    c.list().map((p) => p.metadata?.uid),
    ['new'],
  );
});

test('a pending pod whose condition times follow the clock does not change every second', () => {
  const v = new FakeView();
  const c = new PodCache(v);
  const s = snapshot('a', { phase: 'Pending' });
  const at = (t: string) => ({ ...s, status: { phase: 'Pending' as const, conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: t }] } });
  v.snapshots = [at('2024-05-01T12:00:00Z')];
  c.refresh();
  v.snapshots = [at('2024-05-01T12:00:01Z')];
  c.refresh();
  assert.equal(c.resourceVersion, 1);
});

test('history is bounded; resuming from before it is expired', () => {
  const v = new FakeView();
  const c = new PodCache(v, 2);
  for (let i = 0; i < 6; i++) {
    v.snapshots = [withPhase(snapshot('a'), i % 2 ? 'Running' : 'Pending')];
    c.refresh();
  }
  assert.equal(c.changesSince(0), 'expired');
  assert.ok(Array.isArray(c.changesSince(c.resourceVersion - 1)));
});

test('listeners hear every change as it is recorded', () => {
  const v = new FakeView();
  const c = new PodCache(v);
  const heard: string[] = [];
  const off = c.subscribe((x) => heard.push(`${x.type} ${x.object.metadata?.name}`));
  v.snapshots = [snapshot('a')];
  c.refresh();
  off();
  v.snapshots = [];
  c.refresh();
  assert.deepEqual(heard, ['ADDED a-n1']);
});

test('a filtered watch sees a pod leaving its selection as DELETED and entering it as ADDED', () => {
  const v = new FakeView();
  const c = new PodCache(v);
  const running = (p: { status?: { phase?: string } }) => p.status?.phase === 'Running';
  v.snapshots = [snapshot('a')];
  c.refresh();
  v.snapshots = [withPhase(v.snapshots[0]!, 'Succeeded')];
  c.refresh();
  v.snapshots = [withPhase(v.snapshots[0]!, 'Running')];
  c.refresh();
  const seen = changes(c, 0).map((x) => project(x, running)?.type);
  assert.deepEqual(seen, ['ADDED', 'DELETED', 'ADDED']);
});
