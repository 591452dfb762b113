// The event sink against an in-memory events endpoint. No kube-apiserver can run here; the fake follows
// the real API's answers for these calls: POST of an existing name is 409 AlreadyExists, PATCH of a
// missing one 404 NotFound, and an unreachable server is a transport error (ApiError code 0). The
// real nodelet against the API-server double is in test/e2e/cluster.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Event } from 'kubernetes-types/core/v1.js';
import { createEventRecorder } from '../events/recorder.js';
import { FakeClock } from '../util/clock.js';
import { silentLogger } from '../util/log.js';
import { createEventSink, MAX_QUEUED_EVENTS, MAX_TRIES_PER_EVENT, RETRY_SLEEP_MS, SPAM_BURST, SPAM_REFILL_MS } from './event-sink.js';
import { ApiError } from './kube-client.js';

type Call = { method: string; path: string; body: unknown };

function fakeServer() {
  const stored = new Map<string, Event>();
  const calls: Call[] = [];
  let down = false;
  let refuse = false;
  const client = {
    async request<T>(method: string, path: string, opts: { body?: unknown } = {}): Promise<T> {
      calls.push({ method, path, body: opts.body });
      if (down) throw new ApiError(0, 'Unreachable', `${method} ${path}: connect ECONNREFUSED`);
      if (refuse) throw new ApiError(422, 'Invalid', 'Event is invalid');
      if (method === 'POST') {
        const e = opts.body as Event;
        const key = `${path}/${e.metadata.name}`;
        if (stored.has(key)) throw new ApiError(409, 'AlreadyExists', 'exists');
        stored.set(key, { ...e, metadata: { ...e.metadata, resourceVersion: '1' } });
        return stored.get(key) as T;
      }
      if (method === 'PATCH') {
        const e = stored.get(path);
        if (!e) throw new ApiError(404, 'NotFound', 'not found');
        Object.assign(e, opts.body);
        return e as T;
      }
      throw new Error(`unexpected ${method}`);
    },
  };
  return {
    client,
    stored,
    calls,
    setDown: (v: boolean) => (down = v),
    setRefuse: (v: boolean) => (refuse = v),
  };
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function fixture() {
  const clock = new FakeClock();
  const server = fakeServer();
  const recorder = createEventRecorder(clock);
  const sink = createEventSink({ client: server.client, nodeName: 'node-1', clock, logger: silentLogger(), random: () => 0.5 });
  recorder.subscribe((e) => sink.push(e));
  const pod = { namespace: 'kube-system', name: 'etcd-node-1', uid: 'uid-1' };
  return { clock, server, recorder, sink, pod };
}

test('a new event is created in its pod\'s namespace, as the kubelet writes it; a repeat patches its count', async () => {
  const { server, recorder, pod, clock } = fixture();
  recorder.record({ ...pod, fieldPath: 'spec.containers{etcd}' }, 'Normal', 'Started', 'Started container etcd');
  await settle();
  assert.equal(server.calls.length, 1);
  assert.equal(server.calls[0]!.method, 'POST');
  assert.equal(server.calls[0]!.path, '/api/v1/namespaces/kube-system/events');
  const created = [...server.stored.values()][0]!;
  assert.equal(created.metadata.resourceVersion, '1', 'sent without a resourceVersion, given one by the server');
  assert.deepEqual(created.involvedObject, { apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system', name: 'etcd-node-1', uid: 'uid-1', fieldPath: 'spec.containers{etcd}' });
  assert.deepEqual([created.reason, created.type, created.count, created.source], ['Started', 'Normal', 1, { component: 'kubelet', host: 'node-1' }]);
  assert.equal((server.calls[0]!.body as Event).metadata.resourceVersion, undefined);

  clock.advance(5_000);
  recorder.record({ ...pod, fieldPath: 'spec.containers{etcd}' }, 'Normal', 'Started', 'Started container etcd');
  await settle();
  assert.equal(server.calls[1]!.method, 'PATCH');
  assert.equal(server.calls[1]!.path, `/api/v1/namespaces/kube-system/events/${created.metadata.name}`);
  assert.deepEqual(server.calls[1]!.body, { count: 2, lastTimestamp: new Date(Math.floor(clock.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z'), message: 'Started container etcd' });
  assert.equal(created.count, 2);
});

test('a patch of an event the server no longer has creates it again', async () => {
  const { server, recorder, pod } = fixture();
  recorder.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
  await settle();
  server.stored.clear();
  recorder.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
  await settle();
  assert.deepEqual(server.calls.map((c) => c.method), ['POST', 'PATCH', 'POST']);
  assert.equal([...server.stored.values()][0]!.count, 2);
});

test('an unreachable server is retried every 10 s (the first sooner, at random), 12 tries in all; events wait in order', async () => {
  const { server, recorder, pod, clock } = fixture();
  server.setDown(true);
  recorder.record(pod, 'Normal', 'Pulled', 'one');
  recorder.record(pod, 'Normal', 'Created', 'two');
  await settle();
  assert.equal(server.calls.length, 1);
  clock.advance(RETRY_SLEEP_MS * 0.5); // the first sleep: random() × 10 s
  await settle();
  assert.equal(server.calls.length, 2);
  clock.advance(RETRY_SLEEP_MS - 1);
  await settle();
  assert.equal(server.calls.length, 2);
  clock.advance(1);
  await settle();
  assert.equal(server.calls.length, 3);
  // The server is back: the head event goes, then the next.
  server.setDown(false);
  clock.advance(RETRY_SLEEP_MS);
  await settle();
  assert.deepEqual([...server.stored.values()].map((e) => e.message), ['one', 'two']);

  // Down for good: an event is given up after 12 tries, and the next one is tried.
  server.calls.length = 0;
  server.setDown(true);
  recorder.record(pod, 'Normal', 'Killing', 'three');
  recorder.record(pod, 'Normal', 'Killing', 'four');
  await settle();
  for (let i = 0; i < MAX_TRIES_PER_EVENT; i++) {
    clock.advance(RETRY_SLEEP_MS);
    await settle();
  }
  const tried = (m: string) => server.calls.filter((c) => (c.body as Event).message === m).length;
  assert.equal(tried('three'), MAX_TRIES_PER_EVENT);
  assert.ok(tried('four') >= 1);
});

test('a refused event is dropped, not retried; a newer count of a waiting event replaces it in the queue', async () => {
  const { server, recorder, pod, clock } = fixture();
  server.setRefuse(true);
  recorder.record(pod, 'Normal', 'Pulled', 'refused');
  await settle();
  clock.advance(10 * RETRY_SLEEP_MS);
  await settle();
  assert.equal(server.calls.length, 1);

  server.setRefuse(false);
  server.setDown(true);
  recorder.record(pod, 'Warning', 'Unhealthy', 'probe failed');
  await settle();
  recorder.record(pod, 'Warning', 'Unhealthy', 'probe failed');
  recorder.record(pod, 'Warning', 'Unhealthy', 'probe failed');
  server.setDown(false);
  clock.advance(RETRY_SLEEP_MS);
  await settle();
  const stored = [...server.stored.values()];
  assert.equal(stored.length, 1);
  assert.equal(stored[0]!.count, 3, 'written once, with its latest count (patched: 404, then created)');
});

test('at most 1,000 events wait; more are dropped; stop drops what waits and ends the retries', async () => {
  const { server, recorder, sink, pod, clock } = fixture();
  server.setDown(true);
  // One event per pod: the per-pod spam filter is not what is tested here.
  for (let i = 0; i < MAX_QUEUED_EVENTS + 5; i++) recorder.record({ ...pod, name: `p${i}`, uid: `uid-${i}` }, 'Normal', 'Started', `m${i}`);
  await settle();
  server.setDown(false);
  clock.advance(RETRY_SLEEP_MS);
  for (let i = 0; i < 50; i++) await settle();
  assert.equal(server.stored.size, MAX_QUEUED_EVENTS);
  assert.ok(![...server.stored.values()].some((e) => e.message === `m${MAX_QUEUED_EVENTS}`));

  server.setDown(true);
  recorder.record(pod, 'Normal', 'Killing', 'late');
  await settle();
  const before = server.calls.length;
  sink.stop();
  clock.advance(10 * RETRY_SLEEP_MS);
  await settle();
  recorder.record(pod, 'Normal', 'Killing', 'after stop');
  await settle();
  assert.equal(server.calls.length, before);
});

test('spam filter: a pod sends 25 events at once, then one per 5 minutes; other pods are not held back', async () => {
  const { server, recorder, pod, clock } = fixture();
  for (let i = 0; i < SPAM_BURST + 10; i++) {
    recorder.record(pod, 'Warning', 'Unhealthy', 'Readiness probe failed');
    await settle();
  }
  recorder.record({ ...pod, uid: 'uid-2', name: 'other' }, 'Normal', 'Started', 'Started container');
  await settle();
  // Writes about uid-1: its POST and every PATCH (only its event is ever patched here).
  const writes = (uid: string) => server.calls.filter((c) => (c.body as { involvedObject?: { uid: string } }).involvedObject?.uid === uid || (uid === 'uid-1' && c.method === 'PATCH')).length;
  assert.equal(writes('uid-1'), SPAM_BURST);
  assert.equal(writes('uid-2'), 1);
  clock.advance(SPAM_REFILL_MS / 2);
  recorder.record(pod, 'Warning', 'Unhealthy', 'Readiness probe failed');
  await settle();
  assert.equal(writes('uid-1'), SPAM_BURST);
  clock.advance(SPAM_REFILL_MS / 2);
  recorder.record(pod, 'Warning', 'Unhealthy', 'Readiness probe failed');
  await settle();
  assert.equal(writes('uid-1'), SPAM_BURST + 1);
  assert.equal([...server.stored.values()].find((e) => e.involvedObject.uid === 'uid-1')!.count, SPAM_BURST + 12, 'the count written is the recorder\'s, every repeat included');
});
