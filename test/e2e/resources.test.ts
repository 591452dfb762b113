// Resource limits on the process runtime, end to end on the host's real cgroups: CPU limits become
// CFS quotas and requests shares, in the container's cgroup and summed in its pod's; a memory hog over
// its limit ends OOMKilled (137) and is restarted; exec hooks run inside the container's cgroup;
// /stats/summary and `nodelet pods -o wide` read usage from the cgroups; everything is removed with the
// pod. Each container has the OOM score of its QoS class from its first instruction, nodelet and its
// supervisor their --oom-score-adj. A kill -9 of nodelet leaves containers in their cgroups and the next nodelet adopts them as they
// are; a new supervisor removes the cgroups of containers it no longer has.
//
// Every file is found from the container's process (/proc/<pid>/cgroup), not from where nodelet is
// supposed to put it. Skipped, with the kernel's reason, only where cgroups cannot be written (not root,
// a read-only cgroupfs); under CI=true they must run.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Pod } from '../../src/api/types.js';
import { errorMessage } from '../../src/errors.js';
import { createCgroupManager, cpuSharesToWeight, detectCgroups, parseProcCgroup, type CgroupHost } from '../../src/runtime/process/cgroups/index.js';
import type { Summary } from '../../src/metrics/stats-summary.js';
import { containerOomScoreAdj } from '../../src/container/linux-resources.js';
import { ownCapabilities } from '../../src/runtime/process/isolation/capabilities.js';
import { readOomScoreAdj } from '../../src/util/oom-score-adj.js';
import { isAlive, marker, Nodelet, NODE, pgrep, waitFor } from './harness.js';

const MiB = 2 ** 20;

// Whether this host lets us make cgroups: the same attempt the supervisor makes, on a probe parent.
const probe = await createCgroupManager({ parent: `nodelet-e2e-probe-${process.pid}` }).then(
  async (m) => {
    await m.parent.remove();
    return { host: m.host };
  },
  (err: unknown) => ({ err }),
);
if ('err' in probe && process.env.CI === 'true') throw probe.err;
const skip = 'err' in probe ? `cgroups are not writable here: ${errorMessage(probe.err)}` : false;
const host: CgroupHost | undefined = 'host' in probe ? probe.host : await detectCgroups().catch(() => undefined);

// One test runs under a --cgroup-root of its own; it is removed at the end.
const CGROUP_ROOT = `/nodelet-e2e-${process.pid}`;
after(() => {
  if (!host) return;
  for (const h of host.hierarchies) {
    const dir = path.join(h.mount, CGROUP_ROOT);
    if (existsSync(dir)) rmdirSync(dir);
  }
});

function withNodelet(t: { after: (fn: () => Promise<void>) => void }, args: string[] = []): Nodelet {
  const n = new Nodelet();
  t.after(() => n.stop());
  return n.start(args);
}

/** The cgroup directory of `pid` in the hierarchy carrying `controller`, read from /proc/<pid>/cgroup. */
function cgroupDir(pid: number, controller: 'cpu' | 'memory'): string {
  const seen = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  if (host!.version === 2) return path.join(host!.root, seen.get('')!);
  const h = host!.hierarchies.find((x) => x.controllers.includes(controller))!;
  return path.join(h.mount, seen.get(h.controllers[0]!)!);
}

const read = (dir: string, file: string) => readFileSync(path.join(dir, file), 'utf8').trim();

/** What the kernel holds for a cgroup: quota/period in µs, shares (v1; v2 weight converted back to compare), memory limit. */
function limitsIn(cpuDir: string, memDir: string): { quota: number; period: number; weight: number; memory: number } {
  if (host!.version === 2) {
    const [quota, period] = read(cpuDir, 'cpu.max').split(' ');
    const mem = read(memDir, 'memory.max');
    return { quota: quota === 'max' ? 0 : Number(quota), period: Number(period), weight: Number(read(cpuDir, 'cpu.weight')), memory: mem === 'max' ? 0 : Number(mem) };
  }
  const quota = Number(read(cpuDir, 'cpu.cfs_quota_us'));
  const mem = BigInt(read(memDir, 'memory.limit_in_bytes'));
  return {
    quota: quota < 0 ? 0 : quota,
    period: Number(read(cpuDir, 'cpu.cfs_period_us')),
    weight: Number(read(cpuDir, 'cpu.shares')),
    memory: mem >= 2n ** 62n ? 0 : Number(mem),
  };
}

/** cpu.shares on v1, the cpu.weight those shares become on v2. */
const shares = (n: number) => (host!.version === 2 ? cpuSharesToWeight(n) : n);

const running = (p: Pod | undefined, name = 'main') => p?.status?.containerStatuses?.find((c) => c.name === name)?.state?.running;

test('limits reach the kernel: CPU quota and shares per container, their sums on the pod; hooks join the cgroup; usage from the cgroups; all removed with the pod', { skip }, async (t) => {
  const n = withNodelet(t);
  const [ma, mb] = [n.track(marker()), n.track(marker())];
  const hookFile = path.join(n.dir, 'hook-cgroup');
  n.write(
    'limited.yaml',
    `apiVersion: v1
kind: Pod
metadata: {name: limited}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: a
    command: ["sh", "-c", "exec sleep ${ma}"]
    resources:
      requests: {cpu: 50m, memory: 16Mi}
      limits: {cpu: 100m, memory: 64Mi}
    lifecycle:
      postStart: {exec: {command: ["sh", "-c", "cat /proc/self/cgroup > ${hookFile}.tmp && mv ${hookFile}.tmp ${hookFile}"]}}
  - name: b
    command: ["sh", "-c", "exec sleep ${mb}"]
    resources:
      requests: {cpu: 250m}
      limits: {cpu: 500m, memory: 32Mi}
`,
  );
  await n.waitForOutput(/Resource limits: each pod and container in a cgroup of its own/);
  await waitFor('both containers to run', async () => {
    const p = await n.pod('limited');
    return running(p, 'a') && running(p, 'b');
  });
  const [pa] = pgrep(`sleep ${ma}`);
  const [pb] = pgrep(`sleep ${mb}`);
  assert.ok(pa && pb);

  // Each container: its own cgroup, the CPU limit a CFS quota (100m = 10 ms per 100 ms), the request shares.
  const a = { cpu: cgroupDir(pa, 'cpu'), mem: cgroupDir(pa, 'memory') };
  const b = { cpu: cgroupDir(pb, 'cpu'), mem: cgroupDir(pb, 'memory') };
  assert.notEqual(a.cpu, b.cpu);
  assert.deepEqual(limitsIn(a.cpu, a.mem), { quota: 10_000, period: 100_000, weight: shares(51), memory: 64 * MiB });
  assert.deepEqual(limitsIn(b.cpu, b.mem), { quota: 50_000, period: 100_000, weight: shares(256), memory: 32 * MiB });
  // The pod: the parent of both, with their sums (300m requested → 307 shares, 600m → 60 ms, 96Mi).
  assert.equal(path.dirname(a.cpu), path.dirname(b.cpu));
  assert.match(path.basename(path.dirname(a.cpu)), /^pod[0-9a-f-]+$/);
  assert.deepEqual(limitsIn(path.dirname(a.cpu), path.dirname(a.mem)), { quota: 60_000, period: 100_000, weight: shares(307), memory: 96 * MiB });
  assert.ok(read(a.cpu, 'cgroup.procs').split('\n').map(Number).includes(pa), 'the container process is in its cgroup');

  // The postStart hook ran inside container a's cgroup, as runc exec puts what it starts.
  const hook = parseProcCgroup(await waitFor('the postStart hook to write its cgroup', () => (existsSync(hookFile) ? readFileSync(hookFile, 'utf8') : undefined)));
  const own = parseProcCgroup(readFileSync(`/proc/${pa}/cgroup`, 'utf8'));
  const key = host!.version === 2 ? '' : 'memory';
  assert.equal(hook.get(key), own.get(key));

  // /stats/summary: usage read from the cgroups.
  const summary = await n.get<Summary>('/stats/summary');
  const pod = summary.pods.find((p) => p.podRef.name === `limited-${NODE}`)!;
  assert.ok(pod.memory.workingSetBytes > 0, `pod workingSetBytes ${pod.memory.workingSetBytes}`);
  assert.equal(pod.containers.length, 2);
  for (const c of pod.containers) assert.ok(c.memory.workingSetBytes > 0, `${c.name} workingSetBytes ${c.memory.workingSetBytes}`);
  // A cgroup's reading carries its limit: available = limit − working set.
  const ca = pod.containers.find((c) => c.name === 'a')!;
  assert.equal(ca.memory.availableBytes, 64 * MiB - ca.memory.workingSetBytes);
  assert.equal(pod.memory.availableBytes, 96 * MiB - pod.memory.workingSetBytes);

  // nodelet pods -o wide: CPU and MEMORY columns, as kubectl top prints them.
  const wide = n.cli(['pods', '-o', 'wide', `--root-dir=${n.rootDir}`]).split('\n');
  assert.match(wide[0]!, /\bCPU\s+MEMORY$/);
  assert.match(wide.find((l) => l.includes(`limited-${NODE}`))!, /\s\d+m\s+\d+Mi$/);

  // Removed with the pod: the containers' and the pod's cgroups, in every hierarchy.
  const podDirs = [path.dirname(a.cpu), path.dirname(a.mem)];
  n.remove('limited.yaml');
  await waitFor('the pod cgroups to be removed', () => podDirs.every((d) => !existsSync(d)));
  assert.equal(isAlive(pa), false);
});

test('each container has the OOM score of its QoS class from its first instruction; nodelet and its supervisor keep --oom-score-adj and pass it to none', { skip }, async (t) => {
  const n = withNodelet(t);
  const resources: Record<string, string> = {
    besteffort: '',
    burstable: 'requests: {memory: 64Mi}',
    guaranteed: 'limits: {cpu: 100m, memory: 64Mi}',
  };
  const marks: Record<string, string> = {};
  for (const [name, res] of Object.entries(resources)) {
    marks[name] = n.track(marker());
    n.write(
      `${name}.yaml`,
      `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    command: ["sh", "-c", "cat /proc/self/oom_score_adj; exec sleep ${marks[name]}"]
    resources: {${res}}
`,
    );
  }
  await waitFor('the three pods to run', async () => {
    const pods = await Promise.all(Object.keys(resources).map((name) => n.pod(name)));
    return pods.every((p) => running(p));
  });
  // What the kernel allows here: lowering a score needs CAP_SYS_RESOURCE, which nodelet has when we do.
  const mayLower = ownCapabilities().has('SYS_RESOURCE');
  const lowered = (from: number, to: number) => (mayLower || to >= from ? to : from);
  const nodeletScore = lowered(readOomScoreAdj()!, -999);
  assert.equal(readOomScoreAdj(n.proc!.pid!), nodeletScore, 'nodelet');
  if (nodeletScore !== -999) await n.waitForOutput(/Cannot set nodelet's own OOM score/);
  // The supervisor nodelet started inherited its score; containers get theirs from the wrapper.
  const supervisor = n.supervisorPid()!;
  assert.equal(readOomScoreAdj(supervisor), nodeletScore, 'the supervisor');
  const burstable = containerOomScoreAdj(
    { spec: { containers: [{ name: 'main', resources: { requests: { memory: '64Mi' } } }] } },
    { name: 'main', resources: { requests: { memory: '64Mi' } } },
    totalmem(),
  );
  const want: Record<string, number> = { besteffort: 1000, burstable, guaranteed: lowered(nodeletScore, -997) };
  for (const [name, score] of Object.entries(want)) {
    const [pid] = pgrep(`sleep ${marks[name]}`);
    assert.ok(pid, name);
    assert.equal(readOomScoreAdj(pid), score, `${name}: the container`);
    // The `cat` the command forked first thing: it had the score too.
    const dir = readdirSync(n.logsDir).find((d) => d.startsWith(`default_${name}-${NODE}_`))!;
    const first = await waitFor(`${name}'s first line`, () => /^\S+ stdout F (-?\d+)$/m.exec(n.readLog(path.join(dir, 'main', '0.log')))?.[1]);
    assert.equal(Number(first), score, `${name}: its first child`);
  }
  if (want.guaranteed !== -997) {
    const supervisorLog = path.join(n.rootDir, 'process-runtime', 'supervisor.log');
    assert.match(readFileSync(supervisorLog, 'utf8'), /Cannot lower this pod's OOM score without CAP_SYS_RESOURCE.*guaranteed/);
  }
});

test('a memory hog over its 32Mi limit ends OOMKilled with 137, and is restarted', { skip }, async (t) => {
  const n = withNodelet(t);
  n.write(
    'hog.yaml',
    `apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    command: ["tail", "/dev/zero"]
    resources:
      limits: {memory: 32Mi}
`,
  );
  const status = await waitFor(
    'the hog to be OOM-killed and restarted',
    async () => {
      const c = (await n.pod('hog'))?.status?.containerStatuses?.[0];
      return (c?.restartCount ?? 0) >= 1 && c?.lastState?.terminated ? c : undefined;
    },
    60_000,
  );
  assert.equal(status.lastState!.terminated!.reason, 'OOMKilled');
  assert.equal(status.lastState!.terminated!.exitCode, 137);
  const events = n.cli(['inspect', 'hog', `--root-dir=${n.rootDir}`]);
  assert.match(events, /OOMKilled/);
});

test('kill -9 of nodelet keeps containers in their cgroups and the next nodelet adopts them as they are; a new supervisor removes the cgroups of containers it lost', { skip }, async (t) => {
  // Under a --cgroup-root of its own: the runtime's cgroups go under it.
  const n = withNodelet(t, [`--cgroup-root=${CGROUP_ROOT}`]);
  const m = n.track(marker());
  n.write(
    'kept.yaml',
    `apiVersion: v1
kind: Pod
metadata: {name: kept}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    command: ["sh", "-c", "exec sleep ${m}"]
    resources:
      requests: {cpu: 100m}
      limits: {cpu: 200m, memory: 48Mi}
`,
  );
  const before = await waitFor('kept to run', async () => {
    const c = (await n.pod('kept'))?.status?.containerStatuses?.[0];
    return c?.state?.running ? c : undefined;
  });
  const [pid] = pgrep(`sleep ${m}`);
  assert.ok(pid);
  const cpu = cgroupDir(pid, 'cpu');
  const mem = cgroupDir(pid, 'memory');
  assert.ok(cpu.includes(`${CGROUP_ROOT}/${path.basename(n.cgroupParent())}/pod`), `${cpu} is under --cgroup-root`);
  const limits = { quota: 20_000, period: 100_000, weight: shares(102), memory: 48 * MiB };
  assert.deepEqual(limitsIn(cpu, mem), limits);

  await n.kill('SIGKILL');
  assert.ok(isAlive(pid), 'the container died with nodelet');
  n.start([`--cgroup-root=${CGROUP_ROOT}`]);
  const after = await waitFor('kept to be adopted', async () => {
    const c = (await n.pod('kept'))?.status?.containerStatuses?.[0];
    return c?.state?.running && n.output.includes('Adopted the pod from the runtime') ? c : undefined;
  });
  assert.equal(after.containerID, before.containerID);
  assert.equal(after.restartCount, 0);
  assert.deepEqual(pgrep(`sleep ${m}`), [pid]);
  assert.equal(cgroupDir(pid, 'cpu'), cpu, 'the adopted container is still in its cgroup');
  assert.deepEqual(limitsIn(cpu, mem), limits, 'the limits are unchanged');

  // The supervisor dies: its successor stops the container it cannot follow, removes its cgroup,
  // and the restarted container gets a new cgroup with the same limits.
  process.kill(n.supervisorPid()!, 'SIGKILL');
  await waitFor('the lost container’s cgroup to be removed', () => !existsSync(cpu) && !existsSync(mem));
  const restarted = await waitFor('kept to be restarted', async () => {
    const c = (await n.pod('kept'))?.status?.containerStatuses?.[0];
    return c?.restartCount === 1 && c.state?.running ? c : undefined;
  });
  assert.equal(restarted.lastState!.terminated!.reason, 'ContainerStatusUnknown');
  const [again] = await waitFor('the new container process', () => (pgrep(`sleep ${m}`).length === 1 ? pgrep(`sleep ${m}`) : undefined));
  const cpu2 = cgroupDir(again!, 'cpu');
  assert.notEqual(cpu2, cpu);
  assert.equal(path.dirname(cpu2), path.dirname(cpu), 'the pod keeps its cgroup');
  assert.deepEqual(limitsIn(cpu2, cgroupDir(again!, 'memory')), limits);
});
