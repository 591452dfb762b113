// The cgroup module on the host's real cgroups, v1 or v2, whichever the kernel runs: limits the kernel
// takes and reads back, a memory hog OOM-killed at 32 MiB and seen as such, a CPU quota throttling a
// busy loop, plausible usage, joining before exec, and removal that leaves nothing behind.
//
// Everything is created under this test process's own cgroup (relativeToSelf), in a parent named after
// its pid that is removed at the end, so what the tests start stays inside whatever limits the test
// runner has. Where cgroups cannot be written (not root, a read-only cgroupfs in a container) the tests
// skip with the kernel's reason; under CI=true they must run, and fail instead.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, test, type TestContext } from 'node:test';
import { errorMessage } from '../../../errors.js';
import { createCgroupManager, type Cgroup, type CgroupManager } from './cgroup-manager.js';
import { wasOomKilled } from './conversions.js';
import { parseProcCgroup } from './detect.js';
import { JOIN_FAILED_EXIT_CODE, joinThenExecArgv } from './join-argv.js';
import type { CgroupLimits } from './types.js';

const MiB = 2 ** 20;
const PARENT = `nodelet-test-${process.pid}`;
const opened = await createCgroupManager({ parent: PARENT, relativeToSelf: true }).then(
  (m) => ({ m }),
  (err: unknown) => ({ err }),
);

function cgroups(t: TestContext): CgroupManager | undefined {
  if ('m' in opened) return opened.m;
  if (process.env.CI === 'true') throw opened.err;
  t.skip(errorMessage(opened.err));
  return undefined;
}

const children = new Set<ChildProcess>();
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (!('m' in opened)) return;
  await opened.m.parent.remove();
  for (const p of opened.m.parent.placements) assert.equal(existsSync(p.dir), false, `${p.dir} is left behind`);
});

interface Run {
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout: () => string;
  stderr: () => string;
}

/** Starts `command` inside `cg` from its first instruction, through the join wrapper. */
function runIn(cg: Cgroup, command: string[]): Run {
  const [file, ...args] = joinThenExecArgv(cg.procsFiles, command);
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, exit, stdout: () => out, stderr: () => err };
}

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const limits = (l: Partial<CgroupLimits>): CgroupLimits => ({ cpuShares: 2, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 0, ...l });

test('limits are written, the kernel keeps them, and an update back to none lifts them', async (t) => {
  const m = cgroups(t);
  if (!m) return;
  const pod = m.pod('limits');
  await pod.create(limits({ cpuShares: 1536, cpuQuota: 150_000, memoryLimitBytes: 96 * MiB }));
  const c = m.container('limits', 'c1');
  await c.create(limits({ cpuShares: 1024, cpuQuota: 50_000, memoryLimitBytes: 64 * MiB }));
  const read = await c.readLimits();
  assert.equal(read.cpuQuota, 50_000);
  assert.equal(read.cpuPeriod, 100_000);
  assert.equal(read.memoryLimitBytes, 64 * MiB);
  if (m.host.version === 1) assert.equal(read.cpuShares, 1024);
  else assert.equal(read.cpuWeight, 100);
  // Containers may not swap where the kernel accounts swap (the kubelet's NoSwap); pods keep theirs.
  if (read.noSwap !== undefined) assert.equal(read.noSwap, true);
  assert.equal((await pod.readLimits()).memoryLimitBytes, 96 * MiB);
  assert.equal((await pod.readLimits()).cpuQuota, 150_000);

  // A shorter period with the same quota is still written (the writes skip only what is already there).
  await c.setLimits(limits({ cpuShares: 1024, cpuQuota: 50_000, cpuPeriod: 50_000, memoryLimitBytes: 64 * MiB }));
  assert.equal((await c.readLimits()).cpuPeriod, 50_000);
  assert.equal((await c.readLimits()).cpuQuota, 50_000);

  await c.setLimits(limits({ cpuShares: 0, cpuQuota: 0, memoryLimitBytes: 0 }));
  const lifted = await c.readLimits();
  assert.equal(lifted.cpuQuota, 0);
  assert.equal(lifted.memoryLimitBytes, 0);
  await pod.remove();
});

test('a memory hog in a 32 MiB container is OOM-killed (SIGKILL) and the kill is counted in its cgroup', async (t) => {
  const m = cgroups(t);
  if (!m) return;
  const c = m.container('oom', 'hog');
  await c.create(limits({ memoryLimitBytes: 32 * MiB }));
  const hog = runIn(c, ['tail', '/dev/zero']); // reads an endless line: memory grows until something stops it
  assert.deepEqual(await hog.exit, { code: null, signal: 'SIGKILL' });
  const events = await c.oomEvents();
  assert.ok(events.oomKills === undefined || events.oomKills >= 1, `oom_kill counter: ${events.oomKills}`);
  assert.equal(wasOomKilled(events, 137), true);
  await m.pod('oom').remove();
});

test('a SIGKILL that is not the OOM killer’s is not taken for an OOM kill', async (t) => {
  const m = cgroups(t);
  if (!m) return;
  const c = m.container('notoom', 'c');
  await c.create(limits({ memoryLimitBytes: 32 * MiB }));
  const sleeper = runIn(c, ['sleep', '1000']);
  await waitUntil('sleep is in its cgroup', async () => (await c.pids()).includes(sleeper.child.pid!));
  sleeper.child.kill('SIGKILL');
  assert.equal((await sleeper.exit).signal, 'SIGKILL');
  assert.equal(wasOomKilled(await c.oomEvents(), 137), false);
  await m.pod('notoom').remove();
});

test('the pod’s memory limit OOM-kills a container without a limit of its own, and the container’s cgroup shows it', async (t) => {
  const m = cgroups(t);
  if (!m) return;
  await m.pod('podoom').create(limits({ memoryLimitBytes: 32 * MiB }));
  const c = m.container('podoom', 'unlimited');
  await c.create(limits({}));
  const hog = runIn(c, ['tail', '/dev/zero']);
  assert.equal((await hog.exit).signal, 'SIGKILL');
  const events = await c.oomEvents();
  if (events.oomKills !== undefined) assert.ok(events.oomKills >= 1, `oom_kill counter: ${events.oomKills}`);
  await m.pod('podoom').remove();
});

test('a CPU quota of 10 ms per 100 ms throttles a busy loop', async (t) => {
  const m = cgroups(t);
  if (!m) return;
  const c = m.container('quota', 'busy');
  await c.create(limits({ cpuShares: 102, cpuQuota: 10_000, cpuPeriod: 100_000 }));
  assert.equal((await c.readLimits()).cpuQuota, 10_000);
  const busy = runIn(c, ['sh', '-c', 'while :; do :; done']);
  const cpuDir = c.placements.find((p) => p.controllers.includes('cpu'))!.dir;
  // cpu.stat nr_throttled (v1 and v2 alike) counts the periods in which the quota ran out.
  const throttled = () => Number(/nr_throttled (\d+)/.exec(readFileSync(`${cpuDir}/cpu.stat`, 'utf8'))?.[1] ?? 0);
  await waitUntil('the busy loop is throttled', () => throttled() > 0);
  assert.ok((await c.usage()).cpu.usageCoreNanoSeconds > 0);
  await m.pod('quota').remove();
  assert.equal((await busy.exit).signal, 'SIGKILL', 'remove kills what still runs');
});

test('usage is plausible: a process holding 24 MiB shows in working set and RSS, CPU time grows', async (t) => {
  const m = cgroups(t);
  if (!m) return;
  const c = m.container('usage', 'holder');
  await c.create(limits({ memoryLimitBytes: 512 * MiB }));
  const holder = runIn(c, [process.execPath, '-e', 'const b = Buffer.alloc(24 * 2 ** 20, 1); console.log("ready", b.length); setInterval(() => {}, 1e6);']);
  await waitUntil('the holder has touched its 24 MiB', () => holder.stdout().includes('ready'));
  assert.deepEqual(await c.pids(), [holder.child.pid]);
  const u = await c.usage();
  assert.ok(u.memory.workingSetBytes >= 24 * MiB, `workingSetBytes ${u.memory.workingSetBytes}`);
  assert.ok(u.memory.rssBytes >= 24 * MiB, `rssBytes ${u.memory.rssBytes}`);
  assert.ok(u.memory.usageBytes >= u.memory.workingSetBytes);
  assert.ok(u.memory.usageBytes < 512 * MiB);
  assert.equal(u.memory.availableBytes, 512 * MiB - u.memory.workingSetBytes);
  assert.ok(u.memory.pageFaults > 0);
  assert.ok(u.cpu.usageCoreNanoSeconds > 0, 'starting node took CPU time');
  await m.pod('usage').remove();
  await holder.exit;
});

test('joined before exec: the command’s own first look at /proc/self/cgroup shows its container’s cgroup', async (t) => {
  const m = cgroups(t);
  if (!m) return;
  const c = m.container('join', 'cat');
  await c.create(limits({}));
  const cat = runIn(c, ['cat', '/proc/self/cgroup']);
  assert.equal((await cat.exit).code, 0, cat.stderr());
  const seen = parseProcCgroup(cat.stdout());
  for (const p of c.placements) {
    const key: string = m.host.version === 2 ? '' : p.controllers[0]!;
    assert.equal(seen.get(key), p.path, `${p.controllers.join(',')} hierarchy`);
  }
});

test('join(pid) moves a running process into every hierarchy', async (t) => {
  const m = cgroups(t);
  if (!m) return;
  const c = m.container('join', 'late');
  await c.create(limits({}));
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  children.add(child);
  await new Promise((r) => child.once('spawn', r));
  await c.join(child.pid!);
  assert.deepEqual(await c.pids(), [child.pid]);
  const seen = parseProcCgroup(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8'));
  for (const p of c.placements) assert.equal(seen.get(m.host.version === 2 ? '' : p.controllers[0]!), p.path);
  await m.pod('join').remove();
  assert.equal(child.signalCode ?? (await new Promise((r) => child.once('exit', (_c, s) => r(s)))), 'SIGKILL');
});

test('a wrapper that cannot join exits 125 with the reason, and the command never runs', async (t) => {
  const m = cgroups(t);
  if (!m) return;
  const c = m.container('nojoin', 'c'); // never created: its cgroup.procs files do not exist
  const run = runIn(c, ['sh', '-c', 'echo ran']);
  assert.equal((await run.exit).code, JOIN_FAILED_EXIT_CODE);
  assert.match(run.stderr(), /nodelet-cgroup-join: cannot join cgroup: .*cgroup\.procs/);
  assert.equal(run.stdout(), '');
});

test('removing a pod kills what still runs in its containers, forked children too, and leaves nothing behind', async (t) => {
  const m = cgroups(t);
  if (!m) return;
  const pod = m.pod('gone');
  await pod.create(limits({}));
  const a = m.container('gone', 'a');
  await a.create(limits({}));
  await m.container('gone', 'b').create(limits({}));
  const forker = runIn(a, ['sh', '-c', 'sleep 1000 & sleep 1000; wait']);
  await waitUntil('the shell and both sleeps are in the cgroup', async () => (await a.pids()).length >= 3);
  assert.deepEqual(await m.list().then((l) => l.find((e) => e.podUID === 'gone')?.containerIds.sort()), ['a', 'b']);
  await pod.remove();
  assert.equal((await forker.exit).signal, 'SIGKILL');
  for (const p of pod.placements) assert.equal(existsSync(p.dir), false, `${p.dir} is left behind`);
  assert.equal((await m.list()).some((e) => e.podUID === 'gone'), false);
});
