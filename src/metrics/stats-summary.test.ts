// /stats/summary from the runtime's cgroups (an imitation cgroup v2 tree, so that the numbers are the
// test's): a container's and a pod's usage is their cgroup's, a rate from the second sample on; a
// container without a cgroup falls back to its process group in /proc, and its pod to the sum.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createCgroupManager, type CgroupManager } from '../runtime/process/cgroups/index.js';
import { createFakeCgroup2Root, fakeCgroup2Fs } from '../runtime/process/cgroups/testing.js';
import { FakeView, snapshot } from '../server/testing.js';
import type { ContainerView } from '../status/types.js';
import { createStatsProvider } from './stats-summary.js';

const MiB = 2 ** 20;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-stats-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A /proc with the node files and one process group (pid 300, 40 ticks, 2000 kB resident). */
function fakeProc(root: string): string {
  const proc = path.join(root, 'proc');
  mkdirSync(path.join(proc, '300'), { recursive: true });
  writeFileSync(path.join(proc, '300', 'stat'), '300 (sh) S 1 300 300 0 -1 4194304 100 0 0 0 30 10 0 0 20 0 1 0 12345 1000000 500 18446744073709551615\n');
  writeFileSync(path.join(proc, '300', 'status'), 'Name:\tsh\nVmRSS:\t2000 kB\n');
  writeFileSync(path.join(proc, 'stat'), 'cpu  100 0 50 1000 20 0 0 0 0 0\nbtime 1700000000\n');
  writeFileSync(path.join(proc, 'meminfo'), 'MemTotal: 1000 kB\nMemFree: 300 kB\nMemAvailable: 600 kB\n');
  return proc;
}

/** Sets what the kernel would report for a cgroup directory. */
function setUsage(dir: string, u: { cpuUs: number; current: number; anon: number; inactiveFile: number }): void {
  writeFileSync(path.join(dir, 'cpu.stat'), `usage_usec ${u.cpuUs}\nuser_usec 0\nsystem_usec 0\n`);
  writeFileSync(path.join(dir, 'memory.current'), `${u.current}\n`);
  writeFileSync(path.join(dir, 'memory.stat'), `anon ${u.anon}\nfile 0\nactive_file 0\ninactive_file ${u.inactiveFile}\npgfault 7\npgmajfault 1\n`);
}

const running = (name: string, id: string, pid: number): ContainerView => ({
  name,
  init: false,
  restartCount: 0,
  current: { id, sandboxId: 's', name, attempt: 0, state: 'running', image: '', createdAt: 1, startedAt: 1, finishedAt: 0, exitCode: 0, reason: '', message: '', logPath: '', pid },
});

async function cgroupsIn(dir: string): Promise<CgroupManager> {
  const root = path.join(dir, 'cgroup');
  await createFakeCgroup2Root(root);
  return createCgroupManager({ root, parent: 'nodelet-test', fs: fakeCgroup2Fs() });
}

test('a container’s and a pod’s usage is their cgroup’s, as cAdvisor computes it, with a rate from the second sample', async (t) => {
  const dir = tempDir(t);
  const m = await cgroupsIn(dir);
  await m.pod('uid-a').create({ cpuShares: 1024, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 96 * MiB });
  const c = m.container('uid-a', 'c1');
  await c.create({ cpuShares: 1024, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 64 * MiB });
  const [podDir, ctrDir] = [m.pod('uid-a').placements[0]!.dir, c.placements[0]!.dir];
  setUsage(ctrDir, { cpuUs: 2_000_000, current: 20 * MiB, anon: 12 * MiB, inactiveFile: 4 * MiB });
  setUsage(podDir, { cpuUs: 3_000_000, current: 30 * MiB, anon: 16 * MiB, inactiveFile: 5 * MiB });

  let now = 1_000_000;
  const stats = createStatsProvider({ procRoot: fakeProc(dir), now: () => now, cgroups: async () => m });
  const v = new FakeView();
  v.snapshots = [snapshot('a', { containers: [running('main', 'c1', 999)] })];
  const first = (await stats.summary('n1', v.pods())).pods[0]!;
  const ctr = first.containers[0]!;
  assert.equal(ctr.cpu.usageCoreNanoSeconds, 2e9);
  assert.equal(ctr.cpu.usageNanoCores, undefined);
  assert.deepEqual(
    { usage: ctr.memory.usageBytes, ws: ctr.memory.workingSetBytes, rss: ctr.memory.rssBytes, available: ctr.memory.availableBytes, faults: ctr.memory.pageFaults },
    { usage: 20 * MiB, ws: 16 * MiB, rss: 12 * MiB, available: 48 * MiB, faults: 7 },
  );
  // The pod is its own cgroup, not the sum of its containers (it also holds what ran and exited there).
  assert.equal(first.cpu.usageCoreNanoSeconds, 3e9);
  assert.equal(first.memory.workingSetBytes, 25 * MiB);
  assert.equal(first.memory.availableBytes, 71 * MiB);

  // Half a core for two seconds in the container, a whole one in the pod.
  setUsage(ctrDir, { cpuUs: 3_000_000, current: 20 * MiB, anon: 12 * MiB, inactiveFile: 4 * MiB });
  setUsage(podDir, { cpuUs: 5_000_000, current: 30 * MiB, anon: 16 * MiB, inactiveFile: 5 * MiB });
  now += 2000;
  const second = (await stats.summary('n1', v.pods())).pods[0]!;
  assert.equal(second.containers[0]!.cpu.usageNanoCores, 5e8);
  assert.equal(second.cpu.usageNanoCores, 1e9);
});

test('a container without a cgroup is read from /proc, and its pod is the sum of its containers', async (t) => {
  const dir = tempDir(t);
  const m = await cgroupsIn(dir);
  const c = m.container('uid-b', 'c1');
  await c.create({ cpuShares: 2, cpuQuota: 0, cpuPeriod: 0, memoryLimitBytes: 0 });
  setUsage(c.placements[0]!.dir, { cpuUs: 1_000_000, current: 10 * MiB, anon: 8 * MiB, inactiveFile: 0 });
  setUsage(m.pod('uid-b').placements[0]!.dir, { cpuUs: 1_000_000, current: 10 * MiB, anon: 8 * MiB, inactiveFile: 0 });

  const stats = createStatsProvider({ procRoot: fakeProc(dir), now: () => 1_000_000, cgroups: async () => m });
  const v = new FakeView();
  // c2 started before cgroups were in use (or the runtime has none): no cgroup of its own.
  v.snapshots = [snapshot('b', { containers: [running('with', 'c1', 999), running('without', 'c2', 300)] })];
  const pod = (await stats.summary('n1', v.pods())).pods[0]!;
  const without = pod.containers.find((x) => x.name === 'without')!;
  assert.equal(without.cpu.usageCoreNanoSeconds, 40 * 1e7);
  assert.equal(without.memory.workingSetBytes, 2000 * 1024);
  assert.equal(pod.memory.workingSetBytes, 10 * MiB + 2000 * 1024);
  assert.equal(pod.cpu.usageCoreNanoSeconds, 1e9 + 40 * 1e7);
});
