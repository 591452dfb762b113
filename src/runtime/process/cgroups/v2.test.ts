// cgroup v2 against a temporary directory tree imitating cgroupfs (testing.ts), because the machines
// these tests run on may run cgroup v1: what is checked here is which files get which values and in
// which order, not what the kernel does with them. cgroup-manager.test.ts runs the real thing on
// whichever version the host has.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { NodeletError } from '../../../errors.js';
import { createCgroupManager, type CgroupManager } from './cgroup-manager.js';
import { joinThenExecArgv } from './join-argv.js';
import { createFakeCgroup2Root, fakeCgroup2Fs } from './testing.js';

const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-cgroup-v2-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let roots = 0;
async function manager(opts: { controllers?: string[]; relativeToSelf?: boolean } = {}): Promise<{ m: CgroupManager; root: string }> {
  const root = path.join(dir, `root${roots++}`);
  await createFakeCgroup2Root(root, opts.controllers);
  const m = await createCgroupManager({
    root,
    fs: fakeCgroup2Fs(),
    parent: 'nodelet',
    ...(opts.relativeToSelf ? { relativeToSelf: true, selfCgroup: '0::/system.slice/nodelet.service\n' } : {}),
  });
  return { m, root };
}

const read = (file: string) => readFileSync(file, 'utf8').trim();

test('the parent gets the controllers from the root down, and hands them on to pods', async () => {
  const { m, root } = await manager();
  assert.equal(m.host.version, 2);
  assert.deepEqual(m.parent.placements, [{ controllers: ['cpu', 'memory', 'pids'], path: '/nodelet', dir: path.join(root, 'nodelet') }]);
  assert.equal(read(path.join(root, 'cgroup.subtree_control')), 'cpu memory pids');
  assert.equal(read(path.join(root, 'nodelet', 'cgroup.subtree_control')), 'cpu memory pids');
});

test('relativeToSelf puts the parent under this process’s own cgroup, enabling controllers on the way', async () => {
  const { m, root } = await manager({ relativeToSelf: true });
  assert.equal(m.parent.placements[0]!.path, '/system.slice/nodelet.service/nodelet');
  for (const d of ['', 'system.slice', 'system.slice/nodelet.service', 'system.slice/nodelet.service/nodelet']) {
    assert.equal(read(path.join(root, d, 'cgroup.subtree_control')), 'cpu memory pids', `${d}/cgroup.subtree_control`);
  }
});

test('pod and container limits are written in v2 units: cpu.weight, cpu.max, memory.max; containers never swap and OOM as a group', async () => {
  const { m, root } = await manager();
  const pod = m.pod('uid-1');
  await pod.create({ cpuShares: 768, cpuQuota: 75_000, cpuPeriod: 100_000, memoryLimitBytes: 96 << 20 });
  const podDir = path.join(root, 'nodelet', 'poduid-1');
  assert.equal(read(path.join(podDir, 'cpu.weight')), '80');
  assert.equal(read(path.join(podDir, 'cpu.max')), '75000 100000');
  assert.equal(read(path.join(podDir, 'memory.max')), String(96 << 20));
  assert.equal(read(path.join(podDir, 'memory.swap.max')), 'max', 'the pod cgroup keeps its swap setting');
  assert.equal(read(path.join(podDir, 'cgroup.subtree_control')), 'cpu memory pids');

  const c = m.container('uid-1', 'c1');
  await c.create({ cpuShares: 1024, cpuQuota: 50_000, cpuPeriod: 100_000, memoryLimitBytes: 64 << 20 });
  const cDir = path.join(podDir, 'c1');
  assert.equal(read(path.join(cDir, 'cpu.weight')), '100');
  assert.equal(read(path.join(cDir, 'cpu.max')), '50000 100000');
  assert.equal(read(path.join(cDir, 'memory.max')), String(64 << 20));
  assert.equal(read(path.join(cDir, 'memory.swap.max')), '0');
  assert.equal(read(path.join(cDir, 'memory.oom.group')), '1');
  assert.equal(read(path.join(cDir, 'cgroup.subtree_control')), '', 'a container is a leaf');
  assert.deepEqual(await c.readLimits(), { cpuWeight: 100, cpuQuota: 50_000, cpuPeriod: 100_000, memoryLimitBytes: 64 << 20, noSwap: true });

  // An update to "no limits" writes max, not nothing.
  await c.setLimits({ cpuShares: 0, cpuQuota: 0, cpuPeriod: 0, memoryLimitBytes: 0 });
  assert.equal(read(path.join(cDir, 'cpu.max')), 'max 100000');
  assert.equal(read(path.join(cDir, 'memory.max')), 'max');
  assert.equal(read(path.join(cDir, 'cpu.weight')), '100', 'shares 0 leave the weight alone');
});

test('a container in a pod cgroup someone made without controllers gets them: the pod’s are enabled first', async () => {
  const { m, root } = await manager();
  await fakeCgroup2Fs().mkdir(path.join(root, 'nodelet', 'podforeign'));
  await m.container('foreign', 'c1').create({ cpuShares: 2, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 1 << 20 });
  assert.equal(read(path.join(root, 'nodelet', 'podforeign', 'cgroup.subtree_control')), 'cpu memory pids');
  assert.equal(read(path.join(root, 'nodelet', 'podforeign', 'c1', 'memory.max')), String(1 << 20));
});

test('limits on a cgroup that does not exist fail with the file and the kernel’s reason', async () => {
  const { m, root } = await manager();
  await assert.rejects(m.container('none', 'c1').setLimits({ cpuShares: 2, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 0 }), (e: NodeletError) => {
    return e.code === 'CgroupError' && e.message.includes(path.join(root, 'nodelet', 'podnone', 'c1', 'cpu.weight')) && /ENOENT/.test(e.message);
  });
});

test('usage is read as cAdvisor reads v2: working set = memory.current - inactive_file, CPU from usage_usec', async () => {
  const { m, root } = await manager();
  const c = m.container('u', 'c');
  await c.create({ cpuShares: 2, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 100 << 20 });
  const cDir = path.join(root, 'nodelet', 'podu', 'c');
  writeFileSync(path.join(cDir, 'memory.current'), `${40 << 20}\n`);
  writeFileSync(path.join(cDir, 'memory.stat'), `anon ${30 << 20}\nfile ${10 << 20}\ninactive_file ${8 << 20}\npgfault 1200\npgmajfault 3\n`);
  writeFileSync(path.join(cDir, 'cpu.stat'), 'usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n');
  assert.deepEqual(await c.usage(), {
    cpu: { usageCoreNanoSeconds: 1_500_000_000 },
    memory: {
      usageBytes: 40 << 20,
      workingSetBytes: 32 << 20,
      rssBytes: 30 << 20,
      pageFaults: 1200,
      majorPageFaults: 3,
      availableBytes: 68 << 20,
    },
  });
});

test('OOM kills are read from memory.events', async () => {
  const { m, root } = await manager();
  const c = m.container('o', 'c');
  await c.create();
  assert.deepEqual(await c.oomEvents(), { oomKills: 0, limitHits: 0 });
  writeFileSync(path.join(root, 'nodelet', 'podo', 'c', 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 1\n');
  assert.deepEqual(await c.oomEvents(), { oomKills: 1, limitHits: 12 });
});

test('the join wrapper writes its pid into the one v2 cgroup.procs, then execs the command with that pid', async () => {
  const { m } = await manager();
  const c = m.container('j', 'c');
  await c.create();
  assert.equal(c.procsFiles.length, 1);
  const [shell, ...args] = joinThenExecArgv(c.procsFiles, ['sh', '-c', 'echo $$']);
  const out = spawnSync(shell!, args, { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.deepEqual(await c.pids(), [Number(out.stdout.trim())]);
});

test('kill writes cgroup.kill when there is anything to kill; remove takes the subtree away, deepest first', async () => {
  const { m, root } = await manager();
  const pod = m.pod('k');
  await pod.create();
  await m.container('k', 'a').create();
  await m.container('k', 'b').create();
  assert.deepEqual(await m.list(), [{ podUID: 'k', containerIds: ['a', 'b'] }]);
  assert.equal(await pod.kill(), 0);
  assert.equal(read(path.join(root, 'nodelet', 'podk', 'cgroup.kill')), '', 'nothing inside: nothing written');

  // The imitation has no kernel to empty cgroup.procs, so a "process" still listed keeps remove() busy.
  writeFileSync(path.join(root, 'nodelet', 'podk', 'a', 'cgroup.procs'), '999999999\n');
  await assert.rejects(pod.remove({ timeoutMs: 0 }), (e: NodeletError) => e.code === 'CgroupError' && /still busy/.test(e.message));
  assert.equal(read(path.join(root, 'nodelet', 'podk', 'cgroup.kill')), '1');

  writeFileSync(path.join(root, 'nodelet', 'podk', 'a', 'cgroup.procs'), '');
  await pod.remove();
  assert.equal(await pod.exists(), false);
  assert.deepEqual(readdirSync(path.join(root, 'nodelet')).filter((n) => n.startsWith('pod')), []);
  await pod.remove(); // already gone: fine
});
