import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Probe } from 'kubernetes-types/core/v1.js';
import type { Container, Pod } from '../api/types.js';
import { createEventRecorder } from '../events/recorder.js';
import { FakeRuntime } from '../runtime/testing.js';
import type { ExecResult } from '../runtime/types.js';
import { realClock } from '../util/clock.js';
import { silentLogger } from '../util/log.js';
import { createProbeManager } from './probe-manager.js';
import { CountingClock, settle, startHttpServer, waitFor } from './testing.js';
import type { UnhealthyEvent } from './types.js';

/** FakeRuntime whose exec results are scripted per command word, and can hang or throw. */
class ScriptRuntime extends FakeRuntime {
  readonly execCalls: { id: string; cmd: string }[] = [];
  /** Exit code per first word of the command; 0 when absent. */
  readonly exitCodes = new Map<string, number>();
  hang = false;
  throwing = false;
  private readonly waiting: (() => void)[] = [];

  override async execSync(id: string, command: string[], _timeoutSeconds?: number): Promise<ExecResult> {
    this.execCalls.push({ id, cmd: command.join(' ') });
    if (this.throwing) throw new Error('container is not running');
    if (this.hang) await new Promise<void>((r) => this.waiting.push(r));
    const exitCode = this.exitCodes.get(command[0]!) ?? 0;
    return { exitCode, stdout: exitCode ? `${command[0]} says no` : 'ok', stderr: '', timedOut: false };
  }

  release(): void {
    this.hang = false;
    for (const r of this.waiting.splice(0)) r();
  }

  count(word: string, id?: string): number {
    return this.execCalls.filter((c) => c.cmd.split(' ')[0] === word && (id === undefined || c.id === id)).length;
  }
}

function setup(random: () => number = () => 0) {
  const clock = new CountingClock();
  const runtime = new ScriptRuntime(clock);
  const events = createEventRecorder(clock);
  const manager = createProbeManager({ runtime, clock, logger: silentLogger(), events, podIP: '127.0.0.1', random });
  const unhealthy: UnhealthyEvent[] = [];
  const changes: string[] = [];
  manager.onUnhealthy((e) => unhealthy.push(e));
  manager.onChange((uid) => changes.push(uid));
  /** Moves the fake time and lets the probes' promise chains finish. */
  const tick = async (ms: number) => {
    clock.advance(ms);
    await settle();
  };
  return { clock, runtime, events, manager, unhealthy, changes, tick };
}

const exec = (word: string, p: Partial<Probe> = {}): Probe => ({ exec: { command: [word] }, periodSeconds: 1, ...p });

function pod(containers: Container[], spec: Partial<NonNullable<Pod['spec']>> = {}, uid = 'u1'): Pod {
  return { metadata: { name: 'web', namespace: 'default', uid }, spec: { containers, ...spec } } as Pod;
}

test('a container without probes is started and ready at once, and costs no timer', () => {
  const { clock, manager } = setup();
  const c: Container = { name: 'main' };
  manager.addContainer(pod([c]), c, 'c1', clock.now());
  assert.equal(manager.started('c1'), true);
  assert.equal(manager.ready('c1'), true);
  assert.equal(clock.pending, 0);
});

test('readiness starts false and flips only after successThreshold successes, then back after failureThreshold failures', async () => {
  const { clock, runtime, events, manager, changes, tick } = setup();
  const c: Container = { name: 'main', readinessProbe: exec('ready', { successThreshold: 2, failureThreshold: 2 }) };
  manager.addContainer(pod([c]), c, 'c1', clock.now());
  assert.equal(manager.started('c1'), true);
  assert.equal(manager.ready('c1'), false);

  await tick(0);
  assert.equal(runtime.count('ready'), 1);
  assert.equal(manager.ready('c1'), false, 'one success is below successThreshold 2');
  await tick(1000);
  assert.equal(manager.ready('c1'), true);
  assert.deepEqual(changes, ['u1']);

  runtime.exitCodes.set('ready', 1);
  await tick(1000);
  assert.equal(manager.ready('c1'), true, 'one failure is below failureThreshold 2');
  await tick(1000);
  assert.equal(manager.ready('c1'), false);
  assert.deepEqual(changes, ['u1', 'u1']);

  const unhealthy = events.list('u1').filter((e) => e.reason === 'Unhealthy');
  assert.equal(unhealthy.length, 1, 'repeats fold into one event');
  assert.equal(unhealthy[0]!.message, 'Readiness probe failed: ready says no');
  assert.equal(unhealthy[0]!.count, 2);
  assert.equal(unhealthy[0]!.type, 'Warning');
  assert.equal(unhealthy[0]!.involvedObject.fieldPath, 'spec.containers{main}');
});

test('liveness kills only after failureThreshold failures in a row; a success resets the count', async () => {
  const { clock, runtime, events, manager, unhealthy, tick } = setup();
  const c: Container = { name: 'main', livenessProbe: exec('live', { failureThreshold: 3, terminationGracePeriodSeconds: 5 }) };
  manager.addContainer(pod([c]), c, 'c1', clock.now());
  assert.equal(manager.ready('c1'), true, 'no readiness probe: ready once started');

  runtime.exitCodes.set('live', 1);
  await tick(0);
  await tick(1000);
  runtime.exitCodes.set('live', 0);
  await tick(1000);
  runtime.exitCodes.set('live', 1);
  await tick(1000);
  await tick(1000);
  assert.deepEqual(unhealthy, [], 'fail, fail, ok, fail, fail: never three in a row');
  await tick(1000);
  assert.deepEqual(unhealthy, [
    { podUID: 'u1', containerId: 'c1', container: 'main', probe: 'liveness', message: 'Container main failed liveness probe, will be restarted', gracePeriodSeconds: 5 },
  ]);
  const ev = events.list('u1').find((e) => e.reason === 'Unhealthy')!;
  assert.equal(ev.message, 'Liveness probe failed: live says no');
  assert.equal(ev.count, 5, 'an event for each failed probe');

  // On hold until the container is replaced: no more probing of this containerId.
  const before = runtime.count('live');
  await tick(1000);
  await tick(1000);
  assert.equal(runtime.count('live'), before);
  assert.equal(clock.pending, 0);
  assert.equal(unhealthy.length, 1);

  // The restarted container is a new containerId, probed afresh from the initial values.
  manager.removeContainer('c1');
  runtime.exitCodes.set('live', 0);
  manager.addContainer(pod([c]), c, 'c2', clock.now());
  await tick(0);
  assert.equal(runtime.count('live', 'c2'), 1);
  assert.equal(unhealthy.length, 1);
});

test('under restartPolicy Never the message does not promise a restart; without a probe-level grace none is set', async () => {
  const { clock, runtime, manager, unhealthy, tick } = setup();
  const c: Container = { name: 'main', livenessProbe: exec('live', { failureThreshold: 1 }) };
  runtime.exitCodes.set('live', 1);
  manager.addContainer(pod([c], { restartPolicy: 'Never' }), c, 'c1', clock.now());
  await tick(0);
  assert.deepEqual(unhealthy, [{ podUID: 'u1', containerId: 'c1', container: 'main', probe: 'liveness', message: 'Container main failed liveness probe' }]);
});

test('a sidecar is restarted whatever the pod policy, and its events point at initContainers', async () => {
  const { clock, runtime, events, manager, unhealthy, tick } = setup();
  const side: Container = { name: 'proxy', restartPolicy: 'Always', livenessProbe: exec('live', { failureThreshold: 1 }) };
  runtime.exitCodes.set('live', 1);
  manager.addContainer(pod([{ name: 'main' }], { restartPolicy: 'Never', initContainers: [side] }), side, 's1', clock.now());
  await tick(0);
  assert.equal(unhealthy[0]!.message, 'Container proxy failed liveness probe, will be restarted');
  assert.equal(events.list('u1')[0]!.involvedObject.fieldPath, 'spec.initContainers{proxy}');
});

test('only the startup probe runs until it succeeds; then readiness runs at once and liveness on its own tick', async () => {
  const { clock, runtime, manager, changes, tick } = setup();
  const c: Container = {
    name: 'main',
    startupProbe: exec('start', { failureThreshold: 30 }),
    readinessProbe: exec('ready', { periodSeconds: 10 }),
    livenessProbe: exec('live', { periodSeconds: 10 }),
  };
  const t0 = clock.now();
  runtime.exitCodes.set('start', 1);
  manager.addContainer(pod([c]), c, 'c1', t0);
  assert.equal(manager.started('c1'), false);
  assert.equal(manager.ready('c1'), false);
  await tick(0);
  for (let i = 0; i < 3; i++) await tick(1000);
  assert.equal(runtime.count('start'), 4);
  assert.equal(runtime.count('ready') + runtime.count('live'), 0, 'gated until started');
  assert.equal(manager.started('c1'), false);

  runtime.exitCodes.set('start', 0);
  await tick(1000);
  assert.equal(manager.started('c1'), true);
  assert.equal(manager.ready('c1'), false, 'readiness starts as Failure');
  assert.deepEqual(changes, ['u1']);
  await tick(0);
  assert.equal(runtime.count('ready'), 1, 'readiness triggered as soon as started');
  assert.equal(manager.ready('c1'), true);
  assert.deepEqual(changes, ['u1', 'u1']);

  // Liveness ticks every 10 s from t0: its first run is at t0 + 10 s, not right after startup.
  assert.equal(runtime.count('live'), 0);
  await tick(t0 + 9_999 - clock.now());
  assert.equal(runtime.count('live'), 0);
  await tick(1);
  assert.equal(runtime.count('live'), 1);

  // The startup probe is done for this container.
  await tick(20_000);
  assert.equal(runtime.count('start'), 5);
});

test('a startup probe that keeps failing fires a startup UnhealthyEvent and liveness never runs', async () => {
  const { clock, runtime, manager, unhealthy, tick } = setup();
  const c: Container = { name: 'main', startupProbe: exec('start', { failureThreshold: 3, terminationGracePeriodSeconds: 7 }), livenessProbe: exec('live') };
  runtime.exitCodes.set('start', 1);
  manager.addContainer(pod([c]), c, 'c1', clock.now());
  await tick(0);
  await tick(1000);
  assert.equal(unhealthy.length, 0);
  await tick(1000);
  assert.deepEqual(unhealthy, [
    { podUID: 'u1', containerId: 'c1', container: 'main', probe: 'startup', message: 'Container main failed startup probe, will be restarted', gracePeriodSeconds: 7 },
  ]);
  await tick(5000);
  assert.equal(runtime.count('start'), 3);
  assert.equal(runtime.count('live'), 0);
  assert.equal(manager.started('c1'), false);
});

test('initialDelaySeconds counts from the container start', async () => {
  const { clock, runtime, manager, tick } = setup();
  const c: Container = { name: 'main', livenessProbe: exec('live', { initialDelaySeconds: 5 }) };
  manager.addContainer(pod([c]), c, 'c1', clock.now() - 2000); // started 2 s ago
  await tick(2999);
  assert.equal(runtime.count('live'), 0);
  await tick(1);
  assert.equal(runtime.count('live'), 1);
  await tick(1000);
  assert.equal(runtime.count('live'), 2);
});

test('a probe still running when its period comes is not started twice, and runs again as soon as it ends', async () => {
  const { clock, runtime, manager, tick } = setup();
  const c: Container = { name: 'main', livenessProbe: exec('live') };
  runtime.hang = true;
  manager.addContainer(pod([c]), c, 'c1', clock.now());
  const t0 = clock.now();
  await tick(0);
  for (let i = 0; i < 5; i++) await tick(1000);
  assert.equal(runtime.count('live'), 1);
  assert.equal(clock.pending, 0, 'a running probe holds no timer');

  runtime.release();
  await settle();
  await tick(0);
  assert.equal(runtime.count('live'), 2, 'the tick missed while running is run at once');
  // Then back on the 1 s grid from t0.
  await tick(t0 + 5999 - clock.now());
  assert.equal(runtime.count('live'), 2);
  await tick(1);
  assert.equal(runtime.count('live'), 3);
});

test('removeContainer stops probing and drops the result of a probe in flight', async () => {
  const { clock, runtime, events, manager, unhealthy, changes, tick } = setup();
  const c: Container = { name: 'main', livenessProbe: exec('live', { failureThreshold: 1 }), readinessProbe: exec('ready') };
  runtime.exitCodes.set('live', 1);
  runtime.exitCodes.set('ready', 1);
  runtime.hang = true;
  manager.addContainer(pod([c]), c, 'c1', clock.now());
  await tick(0);
  assert.equal(runtime.execCalls.length, 2);
  manager.removeContainer('c1');
  runtime.release();
  await tick(5000);
  assert.equal(runtime.execCalls.length, 2);
  assert.deepEqual(unhealthy, []);
  assert.deepEqual(changes, []);
  assert.deepEqual(events.list(), []);
  assert.equal(clock.pending, 0);
  // Unknown (or removed) containers answer as the kubelet does with no probe worker.
  assert.equal(manager.started('c1'), true);
  assert.equal(manager.ready('c1'), true);
});

test('removePod and stop end every probe of a pod', async () => {
  const { clock, runtime, manager, tick } = setup();
  const c: Container = { name: 'main', livenessProbe: exec('live') };
  manager.addContainer(pod([c], {}, 'a'), c, 'a1', clock.now());
  manager.addContainer(pod([c], {}, 'b'), c, 'b1', clock.now());
  await tick(0);
  manager.removePod('a');
  for (let i = 0; i < 3; i++) await tick(1000);
  assert.equal(runtime.count('live', 'a1'), 1);
  assert.equal(runtime.count('live', 'b1'), 4);
  manager.stop();
  await tick(3000);
  assert.equal(runtime.count('live', 'b1'), 4);
  assert.equal(clock.pending, 0);
  manager.addContainer(pod([c], {}, 'c'), c, 'c1', clock.now());
  assert.equal(clock.pending, 0, 'a stopped manager ignores new containers');
});

test('prober errors are reported and thrown away: they never count toward a kill', async () => {
  const { clock, runtime, events, manager, unhealthy, tick } = setup();
  const c: Container = { name: 'main', livenessProbe: exec('live', { failureThreshold: 1 }) };
  runtime.throwing = true;
  manager.addContainer(pod([c]), c, 'c1', clock.now());
  await tick(0);
  for (let i = 0; i < 4; i++) await tick(1000);
  assert.deepEqual(unhealthy, []);
  assert.equal(runtime.count('live'), 15, 'each probe retries a prober error 3 times');
  const ev = events.list('u1')[0]!;
  assert.equal(ev.message, 'Liveness probe errored: container is not running');
  assert.equal(ev.count, 5);
});

test('an unknown port name is a prober error, not a failure', async () => {
  const { clock, events, manager, unhealthy, tick } = setup();
  const c: Container = { name: 'main', livenessProbe: { tcpSocket: { port: 'metrics' }, failureThreshold: 1, periodSeconds: 1 } };
  manager.addContainer(pod([c]), c, 'c1', clock.now());
  await tick(0);
  assert.deepEqual(unhealthy, []);
  assert.equal(events.list('u1')[0]!.message, 'Liveness probe errored: port metrics not found');
});

test('probes of a manager that has just started are spread over their period; later ones start at once', async () => {
  const values = [0.5, 0.25];
  const { clock, runtime, manager, tick } = setup(() => values.shift() ?? 0);
  const c: Container = { name: 'main', livenessProbe: exec('live', { periodSeconds: 10 }) };
  manager.addContainer(pod([c], {}, 'a'), c, 'a1', clock.now());
  await tick(4999);
  assert.equal(runtime.count('live', 'a1'), 0);
  await tick(1);
  assert.equal(runtime.count('live', 'a1'), 1, 'jittered by half a period');

  await tick(30_000); // the manager is no longer new
  manager.addContainer(pod([c], {}, 'b'), c, 'b1', clock.now());
  await tick(0);
  assert.equal(runtime.count('live', 'b1'), 1, 'no jitter once the node has been up for a period');
});

test('500 containers probed every second share exactly one pending timer', async () => {
  let i = 0;
  const { clock, runtime, manager, tick } = setup(() => (i++ % 100) / 100);
  const c: Container = { name: 'main', livenessProbe: exec('live') };
  for (let n = 0; n < 500; n++) manager.addContainer(pod([c], {}, `u${n}`), c, `c${n}`, clock.now());
  assert.equal(clock.pending, 1);
  let maxPending = 0;
  for (let step = 0; step < 30; step++) {
    await tick(100);
    maxPending = Math.max(maxPending, clock.pending);
  }
  assert.equal(maxPending, 1);
  assert.equal(clock.pending, 1);
  // Every container was probed once per second over the 3 s (jitter spreads them over the first second).
  const perContainer = new Map<string, number>();
  for (const call of runtime.execCalls) perContainer.set(call.id, (perContainer.get(call.id) ?? 0) + 1);
  assert.equal(perContainer.size, 500);
  for (const [id, n] of perContainer) assert.ok(n === 3 || n === 4, `${id} probed ${n} times`);
  manager.stop();
  assert.equal(clock.pending, 0);
});

test('end to end on the real clock: an httpGet readiness probe follows the server both ways', async () => {
  let code = 200;
  const server = await startHttpServer((_req, res) => {
    res.statusCode = code;
    res.end('hello');
  });
  const runtime = new FakeRuntime(realClock);
  const events = createEventRecorder(realClock);
  const manager = createProbeManager({ runtime, clock: realClock, logger: silentLogger(), events, podIP: '127.0.0.1', random: () => 0 });
  try {
    const c: Container = { name: 'web', readinessProbe: { httpGet: { port: 'http', path: '/ready' }, periodSeconds: 1, failureThreshold: 1 }, ports: [{ name: 'http', containerPort: server.port }] };
    manager.addContainer(pod([c]), c, 'c1', Date.now());
    await waitFor(() => manager.ready('c1'), 'ready');
    code = 503;
    await waitFor(() => !manager.ready('c1'), 'not ready');
    assert.equal(events.list('u1')[0]!.message, 'Readiness probe failed: HTTP probe failed with statuscode: 503');
  } finally {
    manager.stop();
    await server.close();
  }
});
