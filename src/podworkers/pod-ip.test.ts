// The pod's own IP on a runtime with pod networks (the CRI on a CNI bridge), and the round trips a
// pod start costs there: the sandbox status is asked off the start path, the worker's own start brings
// no second sync.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../api/types.js';
import { FakeRuntime } from '../runtime/testing.js';
import { FakeClock } from '../util/clock.js';
import type { PodWorkers } from './pod-workers.js';
import { settle, TEST_HOST_IP as HOST_IP, testPodWorkers } from './testing.js';


function setup(clock = new FakeClock(), runtime = new FakeRuntime(clock)) {
  runtime.podNetwork = true;
  runtime.emitStarted = true;
  const { workers } = testPodWorkers(clock, runtime);
  return { clock, runtime, workers };
}

/** A promise the test resolves or rejects when it wants. */
function gate() {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
  promise.catch(() => undefined);
  return { promise, open, fail };
}

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'main', image: 'busybox', command: ['run'] }], terminationGracePeriodSeconds: 30, ...spec },
  } as Pod;
}

const podIP = (w: PodWorkers) => w.list()[0]!.status.podIP;

test('a pod-network pod starts its container without waiting for the sandbox status, then reports its own IP', async () => {
  const { runtime, workers } = setup();
  const g = gate();
  runtime.sandboxStatusGate = g.promise;
  workers.handle([{ op: 'ADD', pod: pod() }]);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0'], 'started while PodSandboxStatus is still unanswered');
  assert.equal(runtime.statusCalls.podSandboxStatus, 1);
  const pending = workers.list()[0]!.status;
  assert.equal(pending.podIP, undefined, 'not known yet: left out, never the node\'s');
  assert.equal(pending.podIPs, undefined);
  g.open();
  await settle();
  assert.equal(podIP(workers), '10.88.0.0');
  assert.equal(runtime.statusCalls.podSandboxStatus, 1, 'asked once per sandbox');
});

test('a host-network pod asks for no sandbox status: its IP is the node\'s', async () => {
  const { runtime, workers } = setup();
  workers.handle([{ op: 'ADD', pod: pod({ hostNetwork: true }) }]);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0']);
  assert.equal(runtime.statusCalls.podSandboxStatus, 0);
  assert.equal(podIP(workers), HOST_IP);
  assert.deepEqual(workers.list()[0]!.status.podIPs, [{ ip: HOST_IP }]);
});

test('a container whose env reads status.podIP waits for the pod IP and gets it (kubelet_pods.go podFieldSelectorRuntimeValue)', async () => {
  const { runtime, workers } = setup();
  const g = gate();
  runtime.sandboxStatusGate = g.promise;
  const env = [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }];
  workers.handle([{ op: 'ADD', pod: pod({ containers: [{ name: 'main', image: 'busybox', command: ['run', '$(POD_IP)'], env }] }) }]);
  await settle();
  assert.deepEqual(runtime.calls, [], 'not created before the IP is known');
  g.open();
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0']);
  const config = [...runtime.configs.values()][0]!;
  assert.deepEqual(config.env, [{ name: 'POD_IP', value: '10.88.0.0' }]);
  assert.deepEqual(config.command, ['run', '10.88.0.0']);
});

test('a failed sandbox status is asked again on a later sync; the container starts meanwhile', async () => {
  const { clock, runtime, workers } = setup();
  const g = gate();
  runtime.sandboxStatusGate = g.promise;
  g.fail(new Error('CRI PodSandboxStatus: 14 UNAVAILABLE'));
  workers.handle([{ op: 'ADD', pod: pod() }]);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0']);
  assert.equal(podIP(workers), undefined, 'unknown for now: left out');
  runtime.sandboxStatusGate = undefined;
  clock.advance(10_000);
  await settle();
  assert.equal(runtime.statusCalls.podSandboxStatus, 2);
  assert.equal(podIP(workers), '10.88.0.0');
  assert.deepEqual(runtime.calls, ['start main#0'], 'nothing restarted');
});

test('the worker\'s own start brings no second sync (one container status per start); a started event from elsewhere still does', async () => {
  const { runtime, workers } = setup();
  workers.handle([{ op: 'ADD', pod: pod() }]);
  await settle();
  assert.equal(runtime.statusCalls.containerStatus, 1);
  const c = runtime.running('main')!;
  // A start that timed out but went through is found by the relist: news for the worker.
  runtime.emitEvent({ type: 'started', containerId: c.id, sandboxId: c.sandboxId, podUID: 'u1' });
  await settle();
  assert.equal(runtime.statusCalls.containerStatus, 2);
});

test('a container that is gone by the time its start returns is restarted at once, as when the started event brought a sync', async () => {
  const { runtime, workers } = setup();
  const start = runtime.startContainer.bind(runtime);
  let first = true;
  runtime.startContainer = async (id: string) => {
    await start(id);
    if (!first) return;
    first = false;
    // Exited between StartContainer and ContainerStatus; its exit event is the relist's, a second later.
    Object.assign(runtime.containers.get(id)!, { state: 'exited', exitCode: 1, reason: 'Error' });
  };
  workers.handle([{ op: 'ADD', pod: pod() }]);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0', 'start main#1']);
});

test('Ready turns True when the container starts, not when the status is first read', async () => {
  const { clock, workers } = setup();
  const t0 = clock.now();
  workers.handle([{ op: 'ADD', pod: pod() }]);
  await settle();
  clock.advance(5_000);
  const ready = workers.list()[0]!.status.conditions!.find((c) => c.type === 'Ready')!;
  assert.equal(ready.status, 'True');
  assert.equal(ready.lastTransitionTime, new Date(t0).toISOString().replace(/\.\d{3}Z$/, 'Z'));
});

test('a pod adopted after a restart of nodelet reports its own IP (ListPodSandbox gives none: it is asked)', async () => {
  const first = setup();
  first.workers.handle([{ op: 'ADD', pod: pod() }]);
  await settle();
  first.workers.close();
  const { runtime, workers } = setup(first.clock, first.runtime);
  await workers.recover();
  workers.handle([{ op: 'ADD', pod: pod() }]);
  await settle();
  assert.equal(podIP(workers), '10.88.0.0');
  assert.deepEqual(runtime.calls, ['start main#0'], 'adopted, not started again');
});
