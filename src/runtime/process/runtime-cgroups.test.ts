// The process runtime with cgroups: the naming of its parent, the sweep after a crash (on an imitation
// cgroup v2 tree), and on this host's real cgroups a pod and its containers in cgroups with their
// limits from the first instruction, exec inside, OOMKilled told apart from another SIGKILL, a missing
// command still a StartError, removal with the container and the pod, and recovery that keeps what
// it knows and sweeps the rest.
//
// The real cgroups are made under this test process's own cgroup (relativeToSelf), in a parent named
// after its pid, removed at the end. Where cgroups cannot be written those tests skip with the
// kernel's reason; under CI=true they must run.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { errorMessage, NodeletError } from '../../errors.js';
import { realClock } from '../../util/clock.js';
import { silentLogger } from '../../util/log.js';
import type { ContainerConfig, ContainerInfo, PodSandboxConfig, PodResources } from '../types.js';
import { createCgroupManager, parseProcCgroup, type CgroupManager } from './cgroups/index.js';
import { createFakeCgroup2Root, fakeCgroup2Fs } from './cgroups/testing.js';
import { CheckpointStore } from './checkpoint-store.js';
import { createProcessRuntime, type ProcessRuntime } from './process-runtime.js';
import { runtimeCgroupParent, sweepCgroups, type RuntimeCgroups } from './runtime-cgroups.js';

const MiB = 2 ** 20;
const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-runtime-cgroups-'));
const opened = await createCgroupManager({ parent: `nodelet-runtime-test-${process.pid}`, relativeToSelf: true }).then(
  (m) => ({ m }),
  (err: unknown) => ({ err }),
);
const runtimes: ProcessRuntime[] = [];
after(async () => {
  for (const rt of runtimes) await rt.stopEverything(0).catch(() => undefined);
  if ('m' in opened) {
    await opened.m.parent.remove();
    for (const p of opened.m.parent.placements) assert.equal(existsSync(p.dir), false, `${p.dir} is left behind`);
  }
  rmSync(dir, { recursive: true, force: true });
});

function cgroups(t: TestContext): CgroupManager | undefined {
  if ('m' in opened) return opened.m;
  if (process.env.CI === 'true') throw opened.err;
  t.skip(errorMessage(opened.err));
  return undefined;
}

function runtime(m: CgroupManager, store?: CheckpointStore): ProcessRuntime {
  const cg: RuntimeCgroups = { manager: m, support: { available: true, detail: 'test', cgroupRoot: '' } };
  const rt = createProcessRuntime({ clock: realClock, logger: silentLogger(), baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cgroups: cg, ...(store ? { store } : {}) });
  runtimes.push(rt);
  return rt;
}

const podResources: PodResources = { cpuShares: 307, cpuQuota: 60_000, cpuPeriod: 100_000, memoryLimitBytes: 96 * MiB };

function sandbox(uid: string, resources: PodResources | undefined = podResources): PodSandboxConfig {
  return {
    uid,
    name: uid,
    namespace: 'default',
    attempt: 0,
    logDirectory: path.join(dir, 'logs', uid),
    hostname: '',
    hostNetwork: true,
    labels: {},
    annotations: {},
    linux: { namespaces: { network: 'node', pid: 'node', ipc: 'node' }, supplementalGroups: [], privileged: false, sysctls: {}, ...(resources ? { resources } : {}) },
  };
}

function container(name: string, command: string[], memoryLimitBytes = 0, oomScoreAdj = 0): ContainerConfig {
  return {
    name,
    attempt: 0,
    image: '',
    command,
    args: [],
    env: [],
    workingDir: '',
    logPath: `${name}/0.log`,
    labels: {},
    annotations: {},
    resources: { cpuShares: 51, cpuQuota: 10_000, cpuPeriod: 100_000, memoryLimitBytes, oomScoreAdj },
  };
}

async function exited(rt: ProcessRuntime, id: string): Promise<ContainerInfo> {
  for (;;) {
    const info = await rt.containerStatus(id);
    if (info?.state === 'exited') return info;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the runtime’s parent cgroup', () => {
  it('is nodelet-<hash of the state dir> under the cgroup root, the same for the same dir', () => {
    const a = runtimeCgroupParent('/var/lib/kubelet/process-runtime');
    assert.match(a, /^\/nodelet-[0-9a-f]{16}$/);
    assert.equal(runtimeCgroupParent('/var/lib/kubelet/./process-runtime'), a);
    assert.notEqual(runtimeCgroupParent('/tmp/other/process-runtime'), a);
    assert.equal(runtimeCgroupParent('/var/lib/kubelet/process-runtime', '/nodelet.slice'), `/nodelet.slice${a}`);
  });
});

describe('the sweep after a crash', () => {
  it('removes container cgroups no running container owns and pod cgroups of pods it no longer has', async () => {
    const root = path.join(dir, 'fake-v2');
    await createFakeCgroup2Root(root);
    const m = await createCgroupManager({ root, parent: 'nodelet-sweep', fs: fakeCgroup2Fs() });
    for (const [uid, id] of [['kept', 'running'], ['kept', 'lost'], ['gone', 'c']]) await m.container(uid!, id!).create();
    const notes = await sweepCgroups(m, new Set(['kept']), new Set(['running']));
    assert.deepEqual(await m.list(), [{ podUID: 'kept', containerIds: ['running'] }]);
    assert.deepEqual(notes, ['2 cgroup(s) of pods or containers this runtime no longer has: removed']);
  });
});

describe('containers in cgroups (this host’s real cgroups)', () => {
  it('puts the pod and each container in a cgroup with its limits from the first instruction; exec joins it; both go with the pod', async (t) => {
    const m = cgroups(t);
    if (!m) return;
    const rt = runtime(m);
    const sb = await rt.runPodSandbox(sandbox('p1'));
    assert.equal((await m.pod('p1').readLimits()).memoryLimitBytes, 96 * MiB);
    const id = await rt.createContainer(sb, container('main', ['sh', '-c', 'cat /proc/self/cgroup; exec sleep 1000'], 64 * MiB));
    await rt.startContainer(id);
    const cg = m.container('p1', id);
    assert.deepEqual(await cg.readLimits().then((l) => [l.cpuQuota, l.memoryLimitBytes]), [10_000, 64 * MiB]);
    const { pid, logPath } = (await rt.containerStatus(id))!;
    // The command's own first look at /proc/self/cgroup, logged: already inside.
    const key = m.host.version === 2 ? '' : m.host.hierarchies[0]!.controllers[0]!;
    let logged = '';
    // The log is written by this process (the runtime runs in it): wait without blocking its event loop.
    while (!logged.includes('0::')) {
      logged = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
      if (!logged.includes('0::')) await new Promise((r) => setTimeout(r, 10));
    }
    const first = parseProcCgroup(logged.split('\n').map((l) => l.replace(/^\S+ stdout F /, '')).join('\n'));
    assert.equal(first.get(key), cg.placements[0]!.path);
    // The wrapper (the container's pid, before it execs the command) joined right after the spawn;
    // once `cat` (a child, in the cgroup too while it runs) is done, the container's pid is all there is.
    while (!(await cg.pids()).includes(pid!) || (await cg.pids()).length > 1) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(await cg.pids(), [pid]);
    const exec = await rt.execSync(id, ['cat', '/proc/self/cgroup'], 5);
    assert.equal(parseProcCgroup(exec.stdout).get(key), cg.placements[0]!.path);

    await rt.stopContainer(id, 0);
    await rt.removeContainer(id);
    assert.equal(await cg.exists(), false, 'the container cgroup goes with the container');
    // A second sandbox of the same pod keeps the pod's cgroup while it lives.
    const sb2 = await rt.runPodSandbox(sandbox('p1'));
    await rt.removePodSandbox(sb);
    assert.equal(await m.pod('p1').exists(), true);
    await rt.removePodSandbox(sb2);
    assert.equal(await m.pod('p1').exists(), false);
  });

  it('one wrapper sets the OOM score and joins the cgroup: the first child of the command is in both', async (t) => {
    const m = cgroups(t);
    if (!m) return;
    // Higher than this process's own: anyone may raise a score (lowering one is runtime-oom-score.test.ts's).
    const own = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
    const want = Math.min(1000, own + 500);
    const rt = runtime(m);
    const sb = await rt.runPodSandbox(sandbox('p5'));
    const id = await rt.createContainer(sb, container('main', ['sh', '-c', 'cat /proc/self/oom_score_adj /proc/self/cgroup; exec sleep 1000'], 0, want));
    await rt.startContainer(id);
    const { logPath } = (await rt.containerStatus(id))!;
    const key = m.host.version === 2 ? '' : m.host.hierarchies[0]!.controllers[0]!;
    let logged = '';
    while (!logged.includes('0::')) {
      logged = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
      if (!logged.includes('0::')) await new Promise((r) => setTimeout(r, 10));
    }
    const lines = logged.split('\n').map((l) => l.replace(/^\S+ stdout F /, ''));
    assert.equal(Number(lines[0]), want);
    assert.equal(parseProcCgroup(lines.slice(1).join('\n')).get(key), m.container('p5', id).placements[0]!.path);
    await rt.removePodSandbox(sb);
  });

  it('reports OOMKilled (137) for a container the OOM killer killed, and Error for another SIGKILL', async (t) => {
    const m = cgroups(t);
    if (!m) return;
    const rt = runtime(m);
    const sb = await rt.runPodSandbox(sandbox('p2', undefined));
    const hog = await rt.createContainer(sb, container('hog', ['tail', '/dev/zero'], 32 * MiB));
    await rt.startContainer(hog);
    const oom = await exited(rt, hog);
    assert.deepEqual([oom.exitCode, oom.reason], [137, 'OOMKilled']);
    const killed = await rt.createContainer(sb, container('killed', ['sleep', '1000'], 32 * MiB));
    await rt.startContainer(killed);
    process.kill((await rt.containerStatus(killed))!.pid!, 'SIGKILL');
    const other = await exited(rt, killed);
    assert.deepEqual([other.exitCode, other.reason], [137, 'Error']);
    await rt.removePodSandbox(sb);
  });

  it('still makes a missing command a StartError, and leaves no cgroup for it', async (t) => {
    const m = cgroups(t);
    if (!m) return;
    const rt = runtime(m);
    const sb = await rt.runPodSandbox(sandbox('p3'));
    const id = await rt.createContainer(sb, container('main', ['no-such-command-here']));
    await assert.rejects(rt.startContainer(id), (err: unknown) => err instanceof NodeletError && err.code === 'RunContainerError' && /executable file not found/.test(err.message));
    const info = (await rt.containerStatus(id))!;
    assert.deepEqual([info.exitCode, info.reason], [128, 'StartError']);
    assert.equal(await m.container('p3', id).exists(), false);
    await rt.removePodSandbox(sb);
  });

  it('recovers: the pods it still has get their cgroups back with their limits, the rest is swept and what ran there killed', async (t) => {
    const m = cgroups(t);
    if (!m) return;
    const store = new CheckpointStore(path.join(dir, 'state'));
    const before = runtime(m, store);
    const sb = await before.runPodSandbox(sandbox('p4'));
    const id = await before.createContainer(sb, container('main', ['sleep', '1000']));
    await before.startContainer(id);
    await store.flush();
    // What a supervisor killed with -9 leaves: a pod cgroup that lost its limits, and one no record names.
    await m.pod('p4').setLimits({ cpuShares: 2, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 0 });
    await m.container('stray', 'c').create();

    const after = runtime(m, store);
    const notes = await after.recover();
    assert.ok(notes.some((n) => /cgroup\(s\) of pods or containers this runtime no longer has: removed/.test(n)), notes.join('\n'));
    assert.equal(await m.pod('stray').exists(), false);
    assert.equal(await m.container('p4', id).exists(), false, 'the lost container’s cgroup is swept');
    const limits = await m.pod('p4').readLimits();
    assert.deepEqual([limits.cpuQuota, limits.memoryLimitBytes], [60_000, 96 * MiB]);
    assert.deepEqual([(await after.containerStatus(id))!.reason], ['ContainerStatusUnknown']);
    await after.removePodSandbox(sb);
    assert.equal(await m.pod('p4').exists(), false);
  });
});
