import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../api/types.js';
import { FakeImages, FakeRuntime } from '../runtime/testing.js';
import { FakeClock } from '../util/clock.js';
import type { PodWorkers } from './pod-workers.js';
import { settle, testPodWorkers } from './testing.js';

function setup(maxPods = 10) {
  const clock = new FakeClock();
  const runtime = new FakeRuntime(clock);
  const { workers } = testPodWorkers(clock, runtime, { maxPods });
  return { clock, runtime, workers };
}

function pod(name: string, uid: string, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid },
    spec: { containers: [{ name: 'main', command: ['run'] }], terminationGracePeriodSeconds: 30, ...spec },
  } as Pod;
}

const status = (w: PodWorkers, name = 'main') => w.list()[0]!.status.containerStatuses!.find((s) => s.name === name)!;

test('first restart is immediate, then the back-off doubles from 10 seconds', async () => {
  const { clock, runtime, workers } = setup();
  workers.handle([{ op: 'ADD', pod: pod('p', 'u1') }]);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0']);

  runtime.exit(runtime.running('main')!.id, 1);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0', 'start main#1']);

  runtime.exit(runtime.running('main')!.id, 1);
  await settle();
  let s = status(workers);
  assert.equal(s.state!.waiting!.reason, 'CrashLoopBackOff');
  assert.match(s.state!.waiting!.message!, /^back-off 10s restarting failed container=main pod=p_default\(u1\)$/);
  assert.equal(s.lastState!.terminated!.exitCode, 1);
  assert.equal(workers.list()[0]!.status.phase, 'Running');

  clock.advance(9_999);
  await settle();
  assert.equal(runtime.calls.length, 2);
  clock.advance(1);
  await settle();
  assert.deepEqual(runtime.calls.at(-1), 'start main#2');

  runtime.exit(runtime.running('main')!.id, 1);
  await settle();
  s = status(workers);
  assert.match(s.state!.waiting!.message!, /^back-off 20s /);
  clock.advance(20_000);
  await settle();
  assert.equal(runtime.calls.at(-1), 'start main#3');
  assert.equal(status(workers).restartCount, 3);
});

test('the pod start duration counts from config.seen (when a source first saw the pod), as the kubelet\'s', async () => {
  const clock = new FakeClock();
  const runtime = new FakeRuntime(clock);
  const started = new Map<string, number>();
  const { workers } = testPodWorkers(clock, runtime, { onFirstStart: (p, seconds) => started.set(p.metadata!.name!, seconds) });
  const seen = (name: string, uid: string, at: number) => {
    const p = pod(name, uid);
    p.metadata!.annotations = { 'kubernetes.io/config.seen': new Date(at).toISOString() };
    return p;
  };
  workers.handle([
    // Seen 2.5 s before its worker began (a manifest parsed late among 1,000).
    { op: 'ADD', pod: seen('early', 'u1', clock.now() - 2_500) },
    // No annotation, or one from a clock ahead: from the worker's start.
    { op: 'ADD', pod: pod('plain', 'u2') },
    { op: 'ADD', pod: seen('ahead', 'u3', clock.now() + 60_000) },
  ]);
  await settle();
  assert.deepEqual(Object.fromEntries(started), { early: 2.5, plain: 0, ahead: 0 });
});

test('restartPolicy Never leaves an exited container alone and the pod Failed', async () => {
  const { runtime, workers } = setup();
  workers.handle([{ op: 'ADD', pod: pod('p', 'u1', { restartPolicy: 'Never' }) }]);
  await settle();
  runtime.exit(runtime.running('main')!.id, 2);
  await settle();
  assert.equal(workers.list()[0]!.status.phase, 'Failed');
  assert.equal(status(workers).state!.terminated!.exitCode, 2);
  assert.deepEqual(runtime.calls, ['start main#0']);
});

test('restartPolicy OnFailure restarts a failure but not a success', async () => {
  const { runtime, workers } = setup();
  workers.handle([{ op: 'ADD', pod: pod('p', 'u1', { restartPolicy: 'OnFailure' }) }]);
  await settle();
  runtime.exit(runtime.running('main')!.id, 1);
  await settle();
  assert.equal(runtime.calls.at(-1), 'start main#1');
  runtime.exit(runtime.running('main')!.id, 0);
  await settle();
  assert.equal(workers.list()[0]!.status.phase, 'Succeeded');
  assert.equal(runtime.calls.length, 2);
});

test('init containers run in order, and a failure under Never fails the pod', async () => {
  const { runtime, workers } = setup();
  const p = pod('p', 'u1', {
    restartPolicy: 'Never',
    initContainers: [
      { name: 'one', command: ['x'] },
      { name: 'two', command: ['x'] },
    ],
  });
  workers.handle([{ op: 'ADD', pod: p }]);
  await settle();
  assert.deepEqual(runtime.calls, ['start one#0']);
  assert.equal(workers.list()[0]!.status.phase, 'Pending');
  runtime.exit(runtime.running('one')!.id, 0);
  await settle();
  assert.deepEqual(runtime.calls, ['start one#0', 'start two#0']);
  runtime.exit(runtime.running('two')!.id, 5);
  await settle();
  assert.equal(workers.list()[0]!.status.phase, 'Failed');
  assert.equal(runtime.calls.length, 2);
});

test('a sidecar starts before the next init container and is stopped after the app containers', async () => {
  const { runtime, workers } = setup();
  const p = pod('p', 'u1', {
    initContainers: [
      { name: 'side', command: ['x'], restartPolicy: 'Always' },
      { name: 'init', command: ['x'] },
    ],
  });
  workers.handle([{ op: 'ADD', pod: p }]);
  await settle();
  assert.deepEqual(runtime.calls, ['start side#0', 'start init#0']);
  runtime.exit(runtime.running('init')!.id, 0);
  await settle();
  assert.deepEqual(runtime.calls, ['start side#0', 'start init#0', 'start main#0']);
  assert.equal(workers.list()[0]!.status.phase, 'Running');
  workers.handle([{ op: 'REMOVE', pod: p }]);
  await settle();
  assert.deepEqual(runtime.calls.slice(3), ['stop main#0 grace=30', 'stop side#0 grace=30']);
});

test('an edit starts the new pod only after the old one has terminated', async () => {
  const { runtime, workers } = setup();
  const old = pod('p', 'u1');
  workers.handle([{ op: 'ADD', pod: old }]);
  await settle();
  // Make the old container slow to stop: hold stopContainer until released.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const stop = runtime.stopContainer.bind(runtime);
  runtime.stopContainer = async (id, t) => {
    await held;
    return stop(id, t);
  };
  workers.handle([
    { op: 'REMOVE', pod: old },
    { op: 'ADD', pod: pod('p', 'u2', { containers: [{ name: 'main', command: ['v2'] }] }) },
  ]);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0']);
  assert.deepEqual(workers.list().map((s) => s.state).sort(), ['terminating', 'waiting']);
  release();
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0', 'stop main#0 grace=30', 'start main#0']);
  assert.deepEqual(workers.list().map((s) => s.pod.metadata!.uid), ['u2']);
});

test('an edit starts the new pod once the old one is stopped, without waiting for its sandbox removal', async () => {
  const { runtime, workers } = setup();
  const old = pod('p', 'u1');
  workers.handle([{ op: 'ADD', pod: old }]);
  await settle();
  const oldSandbox = runtime.sandboxes.keys().next().value!;
  // The old sandbox's removal (garbage, as the kubelet's GC removes it) is held until released.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const remove = runtime.removePodSandbox.bind(runtime);
  runtime.removePodSandbox = async (id) => {
    await held;
    return remove(id);
  };
  workers.handle([
    { op: 'REMOVE', pod: old },
    { op: 'ADD', pod: pod('p', 'u2', { containers: [{ name: 'main', command: ['v2'] }] }) },
  ]);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0', 'stop main#0 grace=30', 'start main#0']);
  // Stopped (on CRI that frees its network and host ports), not yet removed.
  assert.equal(runtime.sandboxes.get(oldSandbox)?.ready, false);
  assert.deepEqual(workers.list().map((s) => s.state).sort(), ['syncing', 'terminating']);
  release();
  await settle();
  assert.equal(runtime.sandboxes.has(oldSandbox), false);
  assert.deepEqual(workers.list().map((s) => s.pod.metadata!.uid), ['u2']);
});

test('the periodic resync kicks every pod once per syncFrequency, an eighth of them at a time', async () => {
  const { clock, runtime, workers } = setup(100);
  workers.handle(Array.from({ length: 80 }, (_, i) => ({ op: 'ADD' as const, pod: pod(`p${i}`, `uid-${i}`) })));
  await settle();
  // A resync sync asks the runtime for each container's status once: that counts the pods synced.
  runtime.statusCalls.containerStatus = 0;
  const perSlot: number[] = [];
  for (let slot = 0; slot < 8; slot++) {
    const before = runtime.statusCalls.containerStatus;
    clock.advance(60_000 / 8);
    await settle();
    perSlot.push(runtime.statusCalls.containerStatus - before);
  }
  assert.equal(perSlot.reduce((a, b) => a + b, 0), 80, `every pod once in 60 s: ${perSlot.join(' ')}`);
  assert.ok(Math.max(...perSlot) < 40, `no burst of half the pods or more: ${perSlot.join(' ')}`);
});

test('a start error is reported, then retried with back-off', async () => {
  const { clock, runtime, workers } = setup();
  runtime.failStart.add('main');
  workers.handle([{ op: 'ADD', pod: pod('p', 'u1') }]);
  await settle();
  assert.equal(status(workers).state!.waiting!.reason, 'RunContainerError');
  runtime.failStart.clear();
  clock.advance(10_000);
  await settle();
  assert.ok(runtime.running('main'));
  assert.equal(status(workers).restartCount, 1);
});

test('pods beyond maxPods are rejected with OutOfpods', async () => {
  const { runtime, workers } = setup(1);
  workers.handle([
    { op: 'ADD', pod: pod('a', 'u1') },
    { op: 'ADD', pod: pod('b', 'u2') },
  ]);
  await settle();
  const b = workers.list().find((s) => s.pod.metadata!.name === 'b')!;
  assert.equal(b.status.phase, 'Failed');
  assert.equal(b.status.reason, 'OutOfpods');
  assert.equal(runtime.calls.length, 1);
});

test('grace period: deletion override, else terminationGracePeriodSeconds, never below 2 s', async () => {
  const { runtime, workers } = setup();
  const p = pod('p', 'u1', { terminationGracePeriodSeconds: 0 });
  workers.handle([{ op: 'ADD', pod: p }]);
  await settle();
  workers.handle([{ op: 'REMOVE', pod: p }]);
  await settle();
  assert.equal(runtime.calls.at(-1), 'stop main#0 grace=2');
});

test('a failing liveness probe kills the container and it is restarted, counting a restart', async () => {
  const { clock, runtime, workers } = setup();
  const p = pod('p', 'u1', {
    containers: [{ name: 'main', command: ['run'], livenessProbe: { exec: { command: ['check'] }, periodSeconds: 1, failureThreshold: 2 } }],
  });
  workers.handle([{ op: 'ADD', pod: p }]);
  await settle();
  clock.advance(3_000);
  await settle();
  assert.deepEqual(runtime.calls.filter((c) => c.startsWith('start')), ['start main#0']);
  runtime.execResults.set('check', { exitCode: 1, stdout: 'sick' });
  for (let i = 0; i < 4; i++) {
    clock.advance(1_000);
    await settle();
  }
  assert.ok(runtime.calls.includes('stop main#0 grace=30'), runtime.calls.join(', '));
  assert.equal(runtime.calls.filter((c) => c.startsWith('start')).at(-1), 'start main#1');
  assert.equal(status(workers).restartCount, 1);
});

test('readiness decides Ready, both ways', async () => {
  const { clock, runtime, workers } = setup();
  const p = pod('p', 'u1', {
    containers: [{ name: 'main', command: ['run'], readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1 } }],
  });
  const ready = () => workers.list()[0]!.status.conditions!.find((c) => c.type === 'Ready')!.status;
  workers.handle([{ op: 'ADD', pod: p }]);
  await settle();
  assert.equal(ready(), 'False');
  clock.advance(1_000);
  await settle();
  assert.equal(ready(), 'True');
  assert.equal(status(workers).ready, true);
  runtime.execResults.set('ready', { exitCode: 1 });
  for (let i = 0; i < 3; i++) {
    clock.advance(1_000);
    await settle();
  }
  assert.equal(ready(), 'False');
  assert.equal(status(workers).ready, false);
  assert.ok(status(workers).state!.running, 'readiness never kills');
});

test('a container that cannot be created waits with CreateContainerConfigError and is retried only after its back-off', async () => {
  const { runtime, workers } = setup();
  const p = pod('p', 'u1', {
    containers: [
      { name: 'bad', command: ['x'], env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.nope' } } }] },
      { name: 'ok', command: ['y'] },
    ],
  });
  workers.handle([{ op: 'ADD', pod: p }]);
  await settle();
  assert.equal(status(workers, 'bad').state!.waiting!.reason, 'CreateContainerConfigError');
  assert.deepEqual(runtime.calls, ['start ok#0']);
  // Another container's exit kicks the worker: the bad one is not retried before its back-off.
  runtime.exit(runtime.running('ok')!.id, 1);
  await settle();
  assert.deepEqual(runtime.calls, ['start ok#0', 'start ok#1']);
  assert.equal(workers.list()[0]!.status.phase, 'Pending');
});

test('a failed pull waits as ErrImagePull, shows ImagePullBackOff after a second, and is retried after its back-off', async () => {
  const { clock, runtime, workers } = setup();
  const images = (runtime.images = new FakeImages());
  images.failPull.add('busybox:1');
  workers.handle([{ op: 'ADD', pod: pod('p', 'u1', { containers: [{ name: 'main', image: 'busybox:1', imagePullPolicy: 'IfNotPresent' }] }) }]);
  await settle();
  assert.equal(status(workers).state!.waiting!.reason, 'ErrImagePull');
  assert.match(status(workers).state!.waiting!.message!, /^Failed to pull image "busybox:1": pull access denied/);
  clock.advance(1_000);
  await settle();
  assert.deepEqual(status(workers).state!.waiting, { reason: 'ImagePullBackOff', message: 'Back-off pulling image "busybox:1"' });
  assert.equal(images.pulls.length, 1);

  images.failPull.clear();
  clock.advance(9_000);
  await settle();
  assert.equal(images.pulls.length, 2);
  assert.deepEqual(runtime.calls, ['start main#0']);
  assert.ok(status(workers).state!.running);
});

test('imagePullPolicy Never without the image is ErrImageNeverPull and never pulls; IfNotPresent with it does not pull', async () => {
  const { runtime, workers } = setup();
  const images = (runtime.images = new FakeImages());
  images.present.set('here:1', '');
  workers.handle([
    { op: 'ADD', pod: pod('a', 'u1', { containers: [{ name: 'main', image: 'gone:1', imagePullPolicy: 'Never' }] }) },
    { op: 'ADD', pod: pod('b', 'u2', { containers: [{ name: 'main', image: 'here:1', imagePullPolicy: 'IfNotPresent' }] }) },
  ]);
  await settle();
  const byName = (n: string) => workers.list().find((w) => w.pod.metadata!.name === n)!.status.containerStatuses![0]!;
  assert.equal(byName('a').state!.waiting!.reason, 'ErrImageNeverPull');
  assert.ok(byName('b').state!.running);
  assert.deepEqual(images.pulls, []);
});

test('runAsNonRoot refuses an image that runs as root, unless runAsUser says otherwise', async () => {
  const { runtime, workers } = setup();
  const images = (runtime.images = new FakeImages());
  images.present.set('root:1', '0');
  const sc = (runAsUser?: number) => ({ runAsNonRoot: true, ...(runAsUser !== undefined ? { runAsUser } : {}) });
  workers.handle([
    { op: 'ADD', pod: pod('a', 'u1', { containers: [{ name: 'main', image: 'root:1', securityContext: sc() }] }) },
    { op: 'ADD', pod: pod('b', 'u2', { containers: [{ name: 'main', image: 'root:1', securityContext: sc(1000) }] }) },
  ]);
  await settle();
  const byName = (n: string) => workers.list().find((w) => w.pod.metadata!.name === n)!.status.containerStatuses![0]!;
  assert.deepEqual(byName('a').state!.waiting, {
    reason: 'CreateContainerConfigError',
    message: 'container has runAsNonRoot and image will run as root (pod: "a", container: main)',
  });
  assert.ok(byName('b').state!.running);
});

test('a sandbox that stops being ready is killed and re-created with the next attempt; restart counts go on', async () => {
  const { runtime, workers } = setup();
  workers.handle([{ op: 'ADD', pod: pod('p', 'u1') }]);
  await settle();
  const [first] = [...runtime.sandboxes.keys()];
  runtime.sandboxDied(first!);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0', 'stop main#0 grace=30', 'start main#1']);
  const sandboxes = [...runtime.sandboxes.values()];
  assert.deepEqual(sandboxes.map((s) => [s.attempt, s.ready]), [[1, true]]);
  assert.equal(runtime.running('main')!.sandboxId, sandboxes[0]!.id);
  assert.equal(status(workers).restartCount, 1);
});
