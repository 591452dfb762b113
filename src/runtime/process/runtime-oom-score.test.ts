// The process runtime gives each container the OOM score of its config from its first instruction,
// without cgroups (the join wrapper with no cgroup files): a child the command forks at once has it,
// exec'd processes (probes, hooks) have it, a container whose score is the one it would inherit anyway
// is spawned plainly, and one whose score cannot be lowered (no CAP_SYS_RESOURCE) still runs, with the
// inherited score and one log line per pod. With cgroups, see runtime-cgroups.test.ts.
//
// Scores are relative to this test process's own, which the runtime (running in it) passes on.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { realClock } from '../../util/clock.js';
import { createLogger } from '../../util/log.js';
import type { ContainerConfig, PodSandboxConfig } from '../types.js';
import { ownCapabilities } from './isolation/capabilities.js';
import { readOomScoreAdj } from '../../util/oom-score-adj.js';
import { oomScorePlan } from './oom-score.js';
import { createProcessRuntime, type ProcessRuntime } from './process-runtime.js';

const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-runtime-oom-'));
const inherited = readOomScoreAdj()!;
const mayLower = ownCapabilities().has('SYS_RESOURCE');
const logged: Record<string, unknown>[] = [];
const logger = createLogger({
  format: 'json',
  verbosity: 0,
  destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } as unknown as NodeJS.WritableStream,
});
const rt: ProcessRuntime = createProcessRuntime({ clock: realClock, logger, baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
after(async () => {
  await rt.stopEverything(0);
  rmSync(dir, { recursive: true, force: true });
});

function sandbox(uid: string): PodSandboxConfig {
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
  };
}

/** A container that prints the score of a child it forks first thing, then sleeps (or only sleeps). */
function container(pod: string, name: string, oomScoreAdj: number | undefined, command = ['sh', '-c', 'cat /proc/self/oom_score_adj; exec sleep 1000']): ContainerConfig {
  return {
    name,
    attempt: 0,
    image: '',
    command,
    args: [],
    env: [],
    workingDir: '',
    logPath: `${name}/0.log`,
    labels: { 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.name': pod, 'io.kubernetes.pod.uid': pod },
    annotations: {},
    ...(oomScoreAdj === undefined ? {} : { resources: { cpuShares: 2, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitBytes: 0, oomScoreAdj } }),
  };
}

/** Starts a container; resolves with its pid and the score its first child printed. */
async function start(sb: string, config: ContainerConfig): Promise<{ id: string; pid: number; firstChild: number }> {
  const id = await rt.createContainer(sb, config);
  await rt.startContainer(id);
  const { pid, logPath } = (await rt.containerStatus(id))!;
  // The log is written by this process (the runtime runs in it): wait without blocking its event loop.
  let line: string | undefined;
  while (line === undefined) {
    line = (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '').match(/^\S+ stdout F (-?\d+)$/m)?.[1];
    if (line === undefined) await new Promise((r) => setTimeout(r, 10));
  }
  return { id, pid: pid!, firstChild: Number(line) };
}

const scoreOf = (pid: number) => Number(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8'));
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

describe('what to write (oomScorePlan)', () => {
  it('nothing when nothing is wanted or the inherited score is it; a raise always; a lowering only with CAP_SYS_RESOURCE', () => {
    assert.deepEqual(oomScorePlan(undefined, 0, false), {});
    assert.deepEqual(oomScorePlan(-999, -999, false), {});
    assert.deepEqual(oomScorePlan(1000, -999, false), { write: 1000 });
    assert.deepEqual(oomScorePlan(-997, 0, true), { write: -997 });
    assert.deepEqual(oomScorePlan(-997, 0, false), { refused: true });
    assert.deepEqual(oomScorePlan(-997, undefined, false), { write: -997 }, 'unknown: tried, the wrapper copes');
  });
});

describe('containers get their OOM score (no cgroups)', { skip: inherited === undefined && 'no /proc/self/oom_score_adj here' }, () => {
  it('a higher score is in force from the first instruction: the first child has it, and so has exec', { skip: inherited >= 1000 && 'this process already has the highest score' }, async () => {
    const want = Math.min(1000, inherited + 500);
    const sb = await rt.runPodSandbox(sandbox('raise'));
    const c = await start(sb, container('raise', 'main', want));
    assert.equal(c.firstChild, want);
    assert.equal(scoreOf(c.pid), want);
    // The container's pid, first the wrapper, is the command's in the end: no extra process.
    while (cmdline(c.pid)[0] !== 'sleep') await new Promise((r) => setTimeout(r, 10));
    const exec = await rt.execSync(c.id, ['cat', '/proc/self/oom_score_adj'], 5);
    assert.equal(Number(exec.stdout), want);
  });

  it('the inherited score, or none at all, is not written: the command is spawned without the wrapper', async () => {
    const sb = await rt.runPodSandbox(sandbox('same'));
    for (const [name, score] of [['same', inherited], ['none', undefined]] as const) {
      const id = await rt.createContainer(sb, container('same', name, score, ['sleep', '1000']));
      await rt.startContainer(id);
      const { pid } = (await rt.containerStatus(id))!;
      // A spawn returns once the child has exec'd: spawned directly, the pid is `sleep` at once;
      // through the wrapper it would be `/bin/sh -c <script> nodelet-cgroup-join …` until it execs.
      assert.deepEqual(cmdline(pid!), ['sleep', '1000', ''], name);
      assert.equal(scoreOf(pid!), inherited, name);
    }
  });

  it('a lower score is written with CAP_SYS_RESOURCE; without it the container runs with the inherited one, logged once for its pod', { skip: inherited <= -1000 && 'this process already has the lowest score' }, async () => {
    const want = Math.max(-1000, inherited - 500);
    const sb = await rt.runPodSandbox(sandbox('lower'));
    const before = logged.length;
    const a = await start(sb, container('lower', 'a', want));
    const b = await start(sb, container('lower', 'b', want));
    const warnings = logged.slice(before).filter((l) => l.level === 40);
    if (mayLower) {
      assert.deepEqual([a.firstChild, scoreOf(b.pid)], [want, want]);
      assert.deepEqual(warnings, []);
    } else {
      assert.deepEqual([a.firstChild, b.firstChild, scoreOf(a.pid)], [inherited, inherited, inherited]);
      assert.deepEqual(
        warnings.map((w) => [w.msg, w.pod, w.oomScoreAdj, w.kept]),
        [["Cannot lower this pod's OOM score without CAP_SYS_RESOURCE: its containers keep the runtime's", 'default/lower', want, inherited]],
      );
      // Nothing of the wrapper in the container's log: it was not asked to try.
      assert.doesNotMatch(readFileSync((await rt.containerStatus(a.id))!.logPath, 'utf8'), /nodelet-cgroup-join/);
    }
  });
});
