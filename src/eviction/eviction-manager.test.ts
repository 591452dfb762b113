import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Pod } from '../api/types.js';
import type { ActivePod, Eviction } from '../podworkers/pod-workers.js';
import { settle, testPodWorkers } from '../podworkers/testing.js';
import { FakeRuntime } from '../runtime/testing.js';
import { FakeClock } from '../util/clock.js';
import { createLogger, silentLogger } from '../util/log.js';
import { createEvictionManager, EVICTION_MONITORING_PERIOD_MS, type MeasureVolume } from './eviction-manager.js';
import { emptyDirLimits, emptyDirMessage } from './local-storage.js';

const MiB = 2 ** 20;

type Volumes = NonNullable<NonNullable<Pod['spec']>['volumes']>;

function pod(uid: string, volumes: Volumes, extra: { annotations?: Record<string, string>; priority?: number } = {}): Pod {
  return {
    metadata: { name: `p-${uid}`, namespace: 'default', uid, annotations: { 'kubernetes.io/config.source': 'api', ...extra.annotations } },
    spec: { containers: [{ name: 'main', command: ['run'] }], volumes, ...(extra.priority === undefined ? {} : { priority: extra.priority }) },
  } as Pod;
}

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    format: 'json',
    verbosity: 0,
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } as unknown as NodeJS.WritableStream,
  });
  return { lines, logger };
}

/**
 * An eviction manager over a fixed set of pods whose volumes and log directories use what `usage` says
 * (by base name), and whose containers (`<uid>-<name>`) have the writable layers `layers` says.
 */
function fixture(pods: Pod[], usage: Record<string, number>, layers?: Record<string, number>) {
  const clock = new FakeClock();
  const { lines, logger } = logCapture();
  const evictions: { uid: string; eviction: Eviction }[] = [];
  const measured: string[] = [];
  let active = pods;
  const measure: MeasureVolume = async (dir) => {
    measured.push(dir);
    return usage[path.basename(dir)] ?? 0;
  };
  const toActive = (p: Pod): ActivePod => ({
    pod: p,
    volumes: new Map((p.spec?.volumes ?? []).map((v) => [v.name, `/vol/${p.metadata!.uid}/${v.name}`])),
    containerId: (name) => `${p.metadata!.uid}-${name}`,
  });
  const manager = createEvictionManager({
    clock,
    logger,
    activePods: () => active.map(toActive),
    evict: (uid, eviction) => {
      evictions.push({ uid, eviction });
      active = active.filter((p) => p.metadata!.uid !== uid);
      return true;
    },
    podLogsDir: '/logs',
    measure,
    ...(layers ? { writableLayerBytes: async (id: string) => layers[id] } : {}),
  });
  return { clock, lines, evictions, measured, manager };
}

test('a pod whose disk emptyDir is over its sizeLimit is evicted once, with the kubelet\'s message and a 1 s grace', async () => {
  const { manager, evictions } = fixture([pod('u1', [{ name: 'scratch', emptyDir: { sizeLimit: '1Mi' } }])], { scratch: 2 * MiB });
  assert.deepEqual(await manager.synchronize(), [{ uid: 'u1', message: 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ' }]);
  assert.deepEqual(evictions, [{ uid: 'u1', eviction: { reason: 'Evicted', message: 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ', gracePeriodSeconds: 1 } }]);
  assert.deepEqual(await manager.synchronize(), []);
  assert.equal(evictions.length, 1);
});

test('a pod at or under its limit is kept; the limit is exceeded only strictly above it', async () => {
  const { manager, evictions, measured } = fixture(
    [pod('u1', [{ name: 'a', emptyDir: { sizeLimit: '1Mi' } }]), pod('u2', [{ name: 'b', emptyDir: { sizeLimit: '1Mi' } }])],
    { a: MiB, b: 4096 },
  );
  assert.deepEqual(await manager.synchronize(), []);
  assert.deepEqual(evictions, []);
  assert.deepEqual(measured, ['/vol/u1/a', '/vol/u2/b']);
});

test('medium Memory, a missing or zero sizeLimit, and other volumes are never measured', async () => {
  const { manager, measured, evictions } = fixture(
    [
      pod('u1', [
        { name: 'ram', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
        { name: 'nolimit', emptyDir: {} },
        { name: 'zero', emptyDir: { sizeLimit: '0' } },
        { name: 'host', hostPath: { path: '/tmp' } },
      ]),
    ],
    { ram: 10 * MiB, nolimit: 10 * MiB, zero: 10 * MiB, host: 10 * MiB },
  );
  assert.deepEqual(await manager.synchronize(), []);
  assert.deepEqual(measured, []);
  assert.deepEqual(evictions, []);
});

test('critical pods (static, mirror, priority >= 2000000000) are never evicted; each volume over its limit is logged once', async () => {
  const v = (name: string) => [{ name, emptyDir: { sizeLimit: '1Mi' } }];
  const pods = [
    pod('static', v('s'), { annotations: { 'kubernetes.io/config.source': 'file' } }),
    pod('mirror', v('m'), { annotations: { 'kubernetes.io/config.mirror': 'abc' } }),
    pod('critical', v('c'), { priority: 2_000_000_000 }),
    pod('ordinary', v('o'), { priority: 1_999_999_999 }),
  ];
  const { manager, evictions, lines, measured } = fixture(pods, { s: 2 * MiB, m: 2 * MiB, c: 2 * MiB, o: 2 * MiB });
  await manager.synchronize();
  await manager.synchronize();
  assert.deepEqual(evictions.map((e) => e.uid), ['ordinary']);
  const warned = lines.filter((l) => l.msg === 'A local storage limit is exceeded: not enforced on a critical pod');
  assert.deepEqual(warned.map((l) => [l.podUID, l.volume, l.limit]), [['static', 's', '1Mi'], ['mirror', 'm', '1Mi'], ['critical', 'c', '1Mi']]);
  // Once reported, a critical pod's volume is not walked again.
  assert.deepEqual(measured.filter((d) => d.startsWith('/vol/static/')), ['/vol/static/s']);
});

test('the first volume over its limit decides; volumes after it are not measured', async () => {
  const { manager, evictions, measured } = fixture(
    [pod('u1', [{ name: 'a', emptyDir: { sizeLimit: '1Gi' } }, { name: 'b', emptyDir: { sizeLimit: '1024Ki' } }, { name: 'c', emptyDir: { sizeLimit: '1Mi' } }])],
    { a: MiB, b: MiB + 1, c: 5 * MiB },
  );
  await manager.synchronize();
  assert.deepEqual(evictions.map((e) => e.eviction.message), ['Usage of EmptyDir volume "b" exceeds the limit "1Mi". ']);
  assert.deepEqual(measured, ['/vol/u1/a', '/vol/u1/b']);
});

test('the pass runs at start, then every 10 s after the previous one (a fake clock, no sleeping)', async () => {
  const { manager, clock, measured } = fixture([pod('u1', [{ name: 'a', emptyDir: { sizeLimit: '1Mi' } }])], { a: 0 });
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  assert.equal(EVICTION_MONITORING_PERIOD_MS, 10_000);
  manager.start();
  await settle();
  assert.equal(measured.length, 1);
  clock.advance(9_999);
  await settle();
  assert.equal(measured.length, 1);
  clock.advance(1);
  await settle();
  assert.equal(measured.length, 2);
  manager.stop();
  clock.advance(60_000);
  await settle();
  assert.equal(measured.length, 2);
});

test('a volume that cannot be measured is logged once and never evicts', async () => {
  const { lines, logger } = logCapture();
  const p = pod('u1', [{ name: 'a', emptyDir: { sizeLimit: '1Mi' } }]);
  let evicted = 0;
  const manager = createEvictionManager({
    clock: new FakeClock(),
    logger,
    activePods: () => [{ pod: p, volumes: new Map([['a', '/x']]), containerId: () => undefined }],
    evict: () => ++evicted > 0,
    podLogsDir: '/logs',
    measure: async () => {
      throw new Error('EACCES: permission denied');
    },
  });
  await manager.synchronize();
  await manager.synchronize();
  assert.equal(evicted, 0);
  assert.equal(lines.filter((l) => l.msg === 'Cannot measure local storage usage').length, 1);
});

test('limits are read as the kubelet prints them', () => {
  const limits = emptyDirLimits(
    pod('u', [
      { name: 'a', emptyDir: { sizeLimit: '1Gi' } },
      { name: 'b', emptyDir: { sizeLimit: '1000M' } },
      { name: 'c', emptyDir: { sizeLimit: '1.5Gi' } },
      { name: 'd', emptyDir: { sizeLimit: 1048576 as unknown as string } },
      { name: 'e', emptyDir: { sizeLimit: '0.5Ki' } },
    ]),
  );
  assert.deepEqual(limits.map((l) => [l.volume, l.limitBytes, l.limit]), [
    ['a', 2 ** 30, '1Gi'],
    ['b', 1e9, '1G'],
    ['c', 1.5 * 2 ** 30, '1536Mi'],
    ['d', MiB, '1048576'],
    ['e', 512, '512'],
  ]);
  assert.equal(emptyDirMessage(limits[0]!), 'Usage of EmptyDir volume "a" exceeds the limit "1Gi". ');
});

test('through the pod workers: the evicted pod is killed, ends Failed/Evicted with an event, frees its slot and never restarts', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nodelet-eviction-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'fill'), Buffer.alloc(2 * MiB, 1));
  const clock = new FakeClock();
  const runtime = new FakeRuntime(clock);
  const tornDown: string[] = [];
  const { workers, events } = testPodWorkers(clock, runtime, {
    maxPods: 1,
    volumes: { setUp: async () => new Map([['scratch', dir]]), tearDown: async (uid) => void tornDown.push(uid) },
  });
  t.after(() => workers.close());
  const victim = pod('u1', [{ name: 'scratch', emptyDir: { sizeLimit: '1Mi' } }]);
  workers.handle([{ op: 'ADD', pod: victim }, { op: 'ADD', pod: pod('u2', []) }]);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0']);
  assert.deepEqual(workers.list().map((w) => w.status.phase), ['Running', 'Failed']); // u2: OutOfpods

  const manager = createEvictionManager({ clock, logger: silentLogger(), activePods: () => workers.activePods(), evict: (uid, e) => workers.evict(uid, e), podLogsDir: '/nonexistent' });
  assert.equal((await manager.synchronize()).length, 1);
  await settle();
  // The kill's grace is the eviction's 1 s, floored at the kubelet's 2 s.
  assert.ok(runtime.calls.includes('stop main#0 grace=2'), runtime.calls.join());
  const snap = workers.list().find((w) => w.pod.metadata!.uid === 'u1')!;
  // It stays, as a pod that finished by itself does, until its source removes it.
  assert.equal(snap.state, 'syncing');
  assert.equal(snap.status.phase, 'Failed');
  assert.equal(snap.status.reason, 'Evicted');
  assert.equal(snap.status.message, 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ');
  assert.ok(snap.status.containerStatuses![0]!.state!.terminated);
  assert.deepEqual(tornDown, ['u1'], 'its emptyDir is removed at once: freeing the disk is the point');
  const evicted = events.list('u1').find((e) => e.reason === 'Evicted')!;
  assert.equal(evicted.type, 'Warning');
  assert.equal(evicted.message, snap.status.message);
  assert.equal(evicted.involvedObject.fieldPath, undefined);

  // Not active any more: the next pass leaves it alone, the sync loop never restarts it.
  assert.deepEqual(await manager.synchronize(), []);
  clock.advance(120_000);
  await settle();
  assert.equal(runtime.calls.filter((c) => c.startsWith('start main#')).length, 2, 'only the pod admitted in its place started');
  assert.equal(workers.list().find((w) => w.pod.metadata!.uid === 'u2')!.state, 'syncing');
  assert.equal(workers.list().find((w) => w.pod.metadata!.uid === 'u1')!.status.reason, 'Evicted');
});

test('an API pod already Failed or Succeeded when first seen (a restart after an eviction) is not run again and keeps its status', async () => {
  const clock = new FakeClock();
  const runtime = new FakeRuntime(clock);
  const { workers } = testPodWorkers(clock, runtime, { maxPods: 1 });
  const evicted = { ...pod('u1', []), status: { phase: 'Failed', reason: 'Evicted', message: 'Usage of EmptyDir volume "x" exceeds the limit "1Mi". ' } } as Pod;
  const done = { ...pod('u2', []), status: { phase: 'Succeeded' } } as Pod;
  workers.handle([{ op: 'ADD', pod: evicted }, { op: 'ADD', pod: done }, { op: 'ADD', pod: pod('u3', []) }]);
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0'], 'only the new pod runs, and it fits: finished pods do not count against maxPods');
  const byUid = new Map(workers.list().map((w) => [w.pod.metadata!.uid, w]));
  assert.deepEqual(byUid.get('u1')!.status, evicted.status);
  assert.equal(byUid.get('u2')!.status.phase, 'Succeeded');
  assert.deepEqual(workers.activePods().map((a) => a.pod.metadata!.uid), ['u3']);
  clock.advance(120_000); // resyncs: still nothing runs
  await settle();
  assert.deepEqual(runtime.calls, ['start main#0']);
  workers.handle([{ op: 'REMOVE', pod: evicted }]);
  await settle();
  assert.equal(workers.list().length, 2);
  workers.close();
});

/** A pod whose containers carry `limits.ephemeral-storage` (undefined: none). */
function limitedPod(uid: string, limits: Record<string, string | undefined>, volumes: Volumes = []): Pod {
  const p = pod(uid, volumes);
  p.spec!.containers = Object.entries(limits).map(([name, limit]) => ({
    name,
    command: ['run'],
    ...(limit === undefined ? {} : { resources: { limits: { 'ephemeral-storage': limit } } }),
  }));
  return p;
}

test('a pod whose logs and local volumes pass the total of its containers\' ephemeral-storage limits is evicted; hostPath and memory emptyDirs do not count', async () => {
  const volumes: Volumes = [
    { name: 'scratch', emptyDir: {} },
    { name: 'ram', emptyDir: { medium: 'Memory' } },
    { name: 'host', hostPath: { path: '/srv' } },
    { name: 'info', downwardAPI: { items: [] } },
  ];
  const over = limitedPod('u1', { a: '1Mi', b: '512Ki', c: undefined }, volumes);
  const under = limitedPod('u2', { a: '1Mi', b: '512Ki' }, volumes);
  const { manager, evictions, measured } = fixture([over, under], {
    scratch: MiB,
    info: 4096,
    ram: 100 * MiB,
    host: 100 * MiB,
    'default_p-u1_u1': 512 * 1024,
    'default_p-u2_u2': 512 * 1024 - 4096,
  });
  assert.deepEqual(await manager.synchronize(), [{ uid: 'u1', message: 'Pod ephemeral local storage usage exceeds the total limit of containers 1536Ki. ' }]);
  assert.deepEqual(evictions.map((e) => e.eviction), [
    { reason: 'Evicted', message: 'Pod ephemeral local storage usage exceeds the total limit of containers 1536Ki. ', gracePeriodSeconds: 1 },
  ]);
  // u2 is at its limit exactly (1 MiB + 4 KiB + 508 KiB): kept, and each of its containers' logs was checked too.
  assert.deepEqual(measured.filter((d) => d.includes('u2')), ['/vol/u2/scratch', '/vol/u2/info', '/logs/default_p-u2_u2', '/logs/default_p-u2_u2/a', '/logs/default_p-u2_u2/b']);
  assert.ok(!measured.some((d) => d.endsWith('/ram') || d.endsWith('/host')));
});

test('a container whose logs pass its own ephemeral-storage limit gets the pod evicted, even under the pod\'s total', async () => {
  const { manager, evictions } = fixture([limitedPod('u1', { quiet: '10Mi', chatty: '1Mi' })], {
    'default_p-u1_u1': 2 * MiB,
    chatty: 2 * MiB,
  });
  await manager.synchronize();
  assert.deepEqual(evictions.map((e) => e.eviction.message), ['Container chatty exceeded its local ephemeral storage limit "1Mi". ']);
});

test('logs not written yet use nothing; a critical pod over its total is logged once and kept', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nodelet-eviction-logs-'));
  try {
    const { lines, logger } = logCapture();
    const critical = limitedPod('u1', { main: '1Ki' });
    critical.metadata!.annotations!['kubernetes.io/config.source'] = 'file';
    await writeFile(path.join(dir, 'unrelated'), Buffer.alloc(64 * 1024, 1)); // another pod's: not counted
    let logged = 0;
    const options = (p: Pod) => ({
      clock: new FakeClock(),
      logger,
      activePods: () => [{ pod: p, volumes: new Map<string, string>(), containerId: () => undefined }],
      evict: () => ++logged > 0,
      podLogsDir: dir,
    });
    // The real du walk: the pod's log directory does not exist yet.
    assert.deepEqual(await createEvictionManager(options(limitedPod('u2', { main: '1Ki' }))).synchronize(), []);
    await mkdir(path.join(dir, 'default_p-u1_u1', 'main'), { recursive: true });
    await writeFile(path.join(dir, 'default_p-u1_u1', 'main', '0.log'), Buffer.alloc(8192, 1));
    const manager = createEvictionManager(options(critical));
    assert.deepEqual(await manager.synchronize(), []);
    assert.deepEqual(await manager.synchronize(), []);
    assert.equal(logged, 0);
    const warned = lines.filter((l) => l.msg === 'A local storage limit is exceeded: not enforced on a critical pod');
    assert.deepEqual(warned.map((l) => [l.podUID, l.eviction]), [
      ['u1', 'Pod ephemeral local storage usage exceeds the total limit of containers 1Ki. '],
      ['u1', 'Container main exceeded its local ephemeral storage limit "1Ki". '],
    ]);
    assert.equal(lines.filter((l) => l.msg === 'Cannot measure local storage usage').length, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('writable layers (CRI) count toward the pod\'s total and their container\'s own limit', async () => {
  const pods = [limitedPod('u1', { a: '1Mi', b: '1Mi' }), limitedPod('u2', { quiet: '10Mi', busy: '1Mi' })];
  const { manager, evictions } = fixture(pods, { 'default_p-u1_u1': 4096 }, { 'u1-a': MiB, 'u1-b': MiB, 'u2-busy': MiB + 1 });
  await manager.synchronize();
  assert.deepEqual(evictions.map((e) => [e.uid, e.eviction.message]), [
    ['u1', 'Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. '],
    ['u2', 'Container busy exceeded its local ephemeral storage limit "1Mi". '],
  ]);
  // Without a runtime that reports layers, the same pods are within their limits.
  const without = fixture(pods, { 'default_p-u1_u1': 4096 });
  assert.deepEqual(await without.manager.synchronize(), []);
});
