// Adoption after a restart of nodelet, against the FakeRuntime standing in for a runtime that outlived
// the agent (the real supervisor is exercised by test/e2e/crash-safety.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../api/types.js';
import { sandboxConfig } from '../container/container-config.js';
import { FakeRuntime } from '../runtime/testing.js';
import type { ContainerInfo } from '../runtime/types.js';
import { FakeClock } from '../util/clock.js';
import { planAdoption } from './adoption.js';
import { settle, testPodWorkers } from './testing.js';

function newNodelet(clock: FakeClock, runtime: FakeRuntime) {
  return testPodWorkers(clock, runtime).workers;
}

function pod(name: string, uid: string, grace = 30): Pod {
  return {
    metadata: { name, namespace: 'default', uid },
    spec: { containers: [{ name: 'main', command: ['run'] }], terminationGracePeriodSeconds: grace },
  } as Pod;
}

/** Runs `p` with a first nodelet, then drops that nodelet without stopping anything (kill -9). */
async function leftRunning(p: Pod) {
  const clock = new FakeClock();
  const runtime = new FakeRuntime(clock);
  const first = newNodelet(clock, runtime);
  await first.recover();
  first.handle([{ op: 'ADD', pod: p }]);
  first.sourcesReady();
  await settle();
  first.close();
  return { clock, runtime };
}

test('a restarted nodelet adopts a running pod without starting it again', async () => {
  const p = pod('etcd', 'u1');
  const { clock, runtime } = await leftRunning(p);
  const id = runtime.running('main')!.id;

  const second = newNodelet(clock, runtime);
  assert.equal(await second.recover(), 1);
  second.handle([{ op: 'ADD', pod: p }]);
  second.sourcesReady();
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0']);
  assert.equal(runtime.running('main')!.id, id);
  const s = second.list()[0]!.status;
  assert.equal(s.phase, 'Running');
  assert.equal(s.containerStatuses![0]!.restartCount, 0);
  assert.ok(s.containerStatuses![0]!.state!.running);
});

test('restart counts continue from the attempts the runtime holds', async () => {
  const p = pod('etcd', 'u1');
  const { clock, runtime } = await leftRunning(p);
  runtime.exit(runtime.running('main')!.id, 1); // died while nodelet was down

  const second = newNodelet(clock, runtime);
  await second.recover();
  second.handle([{ op: 'ADD', pod: p }]);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0', 'start main#1']);
  const cs = second.list()[0]!.status.containerStatuses![0]!;
  assert.equal(cs.restartCount, 1);
  assert.equal(cs.lastState!.terminated!.exitCode, 1);
});

test('a pod whose manifest went away while nodelet was down is stopped once the sources are ready', async () => {
  const { clock, runtime } = await leftRunning(pod('gone', 'u1', 7));
  const second = newNodelet(clock, runtime);
  await second.recover();
  second.handle([]);
  await settle();
  assert.ok(runtime.running('main'), 'nothing is stopped before every source has spoken');
  second.sourcesReady();
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0', 'stop main#0 grace=7']);
  assert.equal(runtime.sandboxes.size, 0);
  assert.deepEqual(second.list(), []);
});

test('a pod edited while nodelet was down: the old version stops before the new one starts', async () => {
  const { clock, runtime } = await leftRunning(pod('etcd', 'old'));
  const second = newNodelet(clock, runtime);
  await second.recover();
  second.handle([{ op: 'ADD', pod: pod('etcd', 'new') }]);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0', 'stop main#0 grace=30', 'start main#0']);
  assert.equal([...runtime.sandboxes.values()].map((s) => s.uid).join(), 'new');
});

test('adoption keeps the newest sandbox and the two latest started attempts, and drops the rest', () => {
  const p = pod('p', 'u');
  const sb = (id: string, createdAt: number) => ({ id, uid: 'u', name: 'p', namespace: 'default', attempt: 0, ready: true, createdAt, logDirectory: '/l', annotations: sandboxConfig(p, '/l', 0, { nodeName: 'n', hostIP: '', podIP: '', memoryCapacityBytes: 1, hostDns: { servers: [], searches: [], options: [] } }).annotations });
  const c = (id: string, sandboxId: string, attempt: number, state: ContainerInfo['state']): ContainerInfo => ({
    id, sandboxId, name: 'main', attempt, state, image: '', createdAt: attempt, startedAt: 0, finishedAt: 0, exitCode: 0, reason: '', message: '', logPath: '',
  });
  const plan = planAdoption(p, {
    uid: 'u',
    fullName: 'default/p',
    sandboxes: [sb('old', 1), sb('new', 2)],
    containers: [c('a0', 'new', 0, 'exited'), c('a1', 'new', 1, 'exited'), c('a2', 'new', 2, 'running'), c('a3', 'new', 3, 'created'), c('x', 'old', 0, 'exited')],
  })!;
  assert.equal(plan.sandbox.id, 'new');
  assert.deepEqual(plan.garbageSandboxes, ['old']);
  assert.deepEqual(plan.garbageContainers.sort(), ['a0', 'a3', 'x']);
  assert.equal(plan.views[0]!.current!.id, 'a2');
  assert.equal(plan.views[0]!.previous!.id, 'a1');
  assert.equal(plan.views[0]!.restartCount, 2);
});
