// nodelet may die (kill -9), stop (SIGTERM) or find damaged state, and the pods it ran must not notice:
// containers live in the runtime supervisor and a restarted nodelet adopts them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Pod } from '../../src/api/types.js';
import { countedLines, isAlive, marker, Nodelet, pgrep, sleepPod, waitFor } from './harness.js';

function withNodelet(t: { after: (fn: () => Promise<void>) => void }, args: string[] = []): Nodelet {
  const n = new Nodelet();
  t.after(() => n.stop());
  return n.start(args);
}

/** A pod whose container prints `n=0`, `n=1`, … every 20 ms; `mark` appears in its command line. */
function counterPod(name: string, mark: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    command: ["sh", "-c", "i=0; while :; do echo n=$i; i=$((i+1)); sleep 0.02; done", "${mark}"]
`;
}

/**
 * Pids of processes whose command line contains `text`, leaving out their own children: a fork of the
 * counter's shell (for `sleep 0.02`) shows the shell's command line until it execs.
 */
function pgrepAny(text: string): number[] {
  let pids: number[];
  try {
    pids = execFileSync('pgrep', ['-f', text], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  const parentOf = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return 0;
    }
  };
  return pids.filter((pid) => !pids.includes(parentOf(pid)));
}

function assertContiguous(numbers: number[]): void {
  assert.ok(numbers.length > 0, 'no line logged');
  const sorted = [...numbers].sort((a, b) => a - b);
  assert.deepEqual(numbers, sorted, 'log lines out of order');
  assert.equal(new Set(numbers).size, numbers.length, 'a log line was written twice');
  assert.equal(sorted.at(-1)! - sorted[0]! + 1, numbers.length, 'a log line was lost');
  assert.equal(sorted[0], 0);
}

const containerOf = (p: Pod | undefined) => p?.status?.containerStatuses?.[0];

test('kill -9 of nodelet: containers keep running and logging, a restart adopts them unchanged', async (t) => {
  const n = withNodelet(t);
  const m = n.track(marker());
  n.write('counter.yaml', counterPod('counter', m));
  const before = await waitFor('the counter to run', async () => {
    const c = containerOf(await n.pod('counter'));
    return c?.state?.running ? c : undefined;
  });
  const [pid] = pgrepAny(m);
  await n.kill('SIGKILL');
  const loggedAtKill = countedLines(n, 'counter').length;
  await waitFor('lines logged while nodelet is down', () => countedLines(n, 'counter').length > loggedAtKill + 10);
  assert.deepEqual(pgrepAny(m), [pid]);

  n.start();
  await waitFor('the pod to be reported again', async () => containerOf(await n.pod('counter'))?.state?.running);
  const after = containerOf(await n.pod('counter'))!;
  assert.equal(after.containerID, before.containerID);
  assert.equal(after.restartCount, 0);
  assert.equal(after.state!.running!.startedAt, before.state!.running!.startedAt);
  assert.deepEqual(pgrepAny(m), [pid], 'the container was restarted or duplicated');
  await waitFor('more lines', () => countedLines(n, 'counter').length > loggedAtKill + 20);
  assertContiguous(countedLines(n, 'counter'));
  assert.match(n.output, /Adopted the pod from the runtime/);
});

test('changes while nodelet was down are applied on start: deleted, edited, and a container that died', async (t) => {
  const n = withNodelet(t);
  const [gone, v1, v2, dies] = [n.track(marker()), n.track(marker()), n.track(marker()), n.track(marker())];
  n.write('gone.yaml', sleepPod('gone', gone));
  n.write('edited.yaml', sleepPod('edited', v1));
  n.write('dies.yaml', sleepPod('dies', dies));
  await waitFor('all three to run', () => [gone, v1, dies].every((m) => pgrep(`sleep ${m}`).length === 1));
  await waitFor('all three Running', async () => (await n.pods()).filter((p) => p.status?.phase === 'Running').length === 3);
  await n.kill('SIGKILL');

  n.remove('gone.yaml');
  n.write('edited.yaml', sleepPod('edited', v2));
  const [dying] = pgrep(`sleep ${dies}`);
  process.kill(dying!, 'SIGKILL');
  await waitFor('the container to die', () => !isAlive(dying!));

  n.start();
  await waitFor('the deleted pod to stop', () => pgrep(`sleep ${gone}`).length === 0);
  await waitFor('the edited pod to be replaced', () => pgrep(`sleep ${v1}`).length === 0 && pgrep(`sleep ${v2}`).length === 1);
  await waitFor('the dead container to be restarted', () => pgrep(`sleep ${dies}`).length === 1);
  const d = await waitFor('dies to report its restart', async () => {
    const c = containerOf(await n.pod('dies'));
    return c?.restartCount === 1 && c.state?.running ? c : undefined;
  });
  // The supervisor reaped it: the exit code is exact, not "unknown".
  assert.equal(d.lastState!.terminated!.exitCode, 137);
  assert.equal(d.lastState!.terminated!.reason, 'Error');
  await waitFor('exactly the two remaining pods', async () => (await n.pods()).map((p) => p.metadata!.name).sort().join() === 'dies-testnode,edited-testnode');
});

test('SIGTERM leaves pods running by default; with --stop-pods-on-exit they stop and nothing is left', async (t) => {
  const n = withNodelet(t);
  const m = n.track(marker());
  n.write('keep.yaml', sleepPod('keep', m));
  await waitFor('the pod to run', () => pgrep(`sleep ${m}`).length === 1);
  const [pid] = pgrep(`sleep ${m}`);
  await n.kill('SIGTERM');
  assert.equal(n.proc!.exitCode, 0);
  assert.deepEqual(pgrep(`sleep ${m}`), [pid]);

  n.start(['--stop-pods-on-exit']);
  await waitFor('the pod to be adopted', async () => containerOf(await n.pod('keep'))?.state?.running);
  assert.deepEqual(pgrep(`sleep ${m}`), [pid]);
  const supervisor = n.supervisorPid();
  assert.ok(supervisor);
  await n.kill('SIGTERM');
  assert.equal(n.proc!.exitCode, 0);
  assert.deepEqual(pgrep(`sleep ${m}`), []);
  // A supervisor with nothing left to supervise goes too.
  await waitFor('the supervisor to exit', () => !isAlive(supervisor));
});

test('a damaged checkpoint is reported, and nodelet recovers from what the runtime shows', async (t) => {
  const n = withNodelet(t);
  const m = n.track(marker());
  n.write('keep.yaml', sleepPod('keep', m));
  await waitFor('the pod to run', () => pgrep(`sleep ${m}`).length === 1);
  const [pid] = pgrep(`sleep ${m}`);
  await n.kill('SIGKILL');
  mkdirSync(path.join(n.rootDir, 'checkpoints'), { recursive: true });
  writeFileSync(path.join(n.rootDir, 'checkpoints', 'backoff.json'), '{"version":1,"data":{"x/main":{"durat');

  n.output = '';
  n.start();
  await waitFor('the pod to be adopted', async () => containerOf(await n.pod('keep'))?.state?.running);
  assert.match(n.output, /Checkpoint damaged: starting from what the runtime shows/);
  assert.match(n.output, /backoff\.json/);
  assert.deepEqual(pgrep(`sleep ${m}`), [pid]);
});

test('a full log disk: the pod keeps running and the error is reported', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount a small tmpfs as the log disk');
  const n = new Nodelet();
  mkdirSync(n.logsDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', n.logsDir]);
  t.after(async () => {
    // Lazy: the supervisor may still hold a log open; the mount goes once it lets go.
    execFileSync('umount', ['-l', n.logsDir]);
    await n.stop();
  });
  n.start();
  const m = n.track(marker());
  n.write('loud.yaml', `apiVersion: v1
kind: Pod
metadata: {name: loud}
spec:
  containers:
  - name: main
    command: ["sh", "-c", "while :; do head -c 1000 /dev/zero | tr '\\\\0' x; echo; sleep 0.01; done", "${m}"]
`);
  await waitFor('the log write error to be reported', () => /Cannot write container log/.test(n.output), 60_000);
  const events = await n.get<{ items: { reason: string; message: string }[] }>('/api/v1/namespaces/default/events');
  assert.ok(events.items.some((e) => e.reason === 'FailedLogWrite' && /ENOSPC/.test(e.message)), JSON.stringify(events.items.map((e) => e.reason)));
  const [pid] = pgrepAny(m);
  assert.ok(pid, 'the container died when its log disk filled up');
  const c = containerOf(await n.pod('loud'))!;
  assert.ok(c.state?.running);
  assert.equal(c.restartCount, 0);
});

test('a second nodelet on the same root dir refuses to start, and the first one is untouched', async (t) => {
  const n = withNodelet(t);
  const m = n.track(marker());
  n.write('keep.yaml', sleepPod('keep', m));
  await waitFor('the pod to run', () => pgrep(`sleep ${m}`).length === 1);
  const [pid] = pgrep(`sleep ${m}`);
  const second = new Nodelet();
  t.after(() => second.stop());
  second.start([`--root-dir=${n.rootDir}`]);
  const code = await new Promise<number | null>((resolve) => second.proc!.once('exit', (c) => resolve(c)));
  assert.equal(code, 1);
  assert.match(second.output, /another nodelet is running with --root-dir=/);
  assert.deepEqual(pgrep(`sleep ${m}`), [pid]);
  assert.ok(containerOf(await n.pod('keep'))?.state?.running);
});
