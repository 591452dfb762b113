import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { marker, Nodelet, pgrep, sleepPod, waitFor } from './harness.js';

async function withNodelet(t: { after: (fn: () => Promise<void>) => void }, args: string[] = []): Promise<Nodelet> {
  const n = new Nodelet();
  t.after(() => n.stop());
  return n.start(args);
}

test('a manifest dropped in the directory runs, and deleting it stops the pod', async (t) => {
  const n = await withNodelet(t);
  const m = n.track(marker());
  n.write('web.yaml', sleepPod('web', m));
  await waitFor('the container to run', () => pgrep(`sleep ${m}`).length === 1);
  const pod = await waitFor('pod Running', async () => {
    const p = await n.pod('web');
    return p?.status?.phase === 'Running' ? p : undefined;
  });
  assert.equal(pod.metadata!.namespace, 'default');
  assert.equal(pod.spec!.nodeName, 'testnode');
  assert.equal(pod.metadata!.annotations!['kubernetes.io/config.source'], 'file');
  assert.equal(pod.metadata!.annotations!['kubernetes.io/config.hash'], pod.metadata!.uid);
  assert.equal(pod.status!.containerStatuses![0]!.state!.running !== undefined, true);

  const ps = n.cli(['ps', `--root-dir=${n.rootDir}`]);
  assert.match(ps, /CONTAINER ID\s+POD\s+CONTAINER\s+COMMAND\s+STATE\s+RESTARTS\s+AGE/);
  assert.match(ps, /web-testnode\s+main\s+.*Running\s+0/);

  n.remove('web.yaml');
  await waitFor('the container to stop', () => pgrep(`sleep ${m}`).length === 0);
  await waitFor('the pod to be gone', async () => (await n.pods()).length === 0);
});

test('an edited manifest replaces the pod, the new one starting only after the old one stopped', async (t) => {
  const n = await withNodelet(t);
  const [a, b] = [n.track(marker()), n.track(marker())];
  // The old container takes ~1 s to exit after SIGTERM, so an early start of the new one would overlap.
  const slow = `trap 'sleep 1; exit 0' TERM; sleep ${a} & wait`;
  n.write('app.yaml', `apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  terminationGracePeriodSeconds: 10
  containers:
  - name: main
    command: ["sh", "-c", ${JSON.stringify(slow)}]
`);
  await waitFor('the first version', () => pgrep(`sleep ${a}`).length === 1);
  const oldUID = (await n.pod('app'))!.metadata!.uid;
  n.write('app.yaml', sleepPod('app', b));
  let overlap = false;
  await waitFor('the second version', () => {
    const both = pgrep(`sleep ${b}`).length > 0 && pgrep(`sh -c ${slow}`).length > 0;
    overlap ||= both;
    return pgrep(`sleep ${b}`).length === 1;
  });
  assert.equal(overlap, false, 'old and new versions ran at the same time');
  const now = await n.pod('app');
  assert.notEqual(now!.metadata!.uid, oldUID);
  await waitFor('the old sleep to be gone', () => pgrep(`sleep ${a}`).length === 0);
});

test('a killed container is restarted, and one that keeps dying goes into CrashLoopBackOff', async (t) => {
  const n = await withNodelet(t);
  const m = n.track(marker());
  n.write('k.yaml', sleepPod('k', m));
  const [first] = await waitFor('the container', () => {
    const p = pgrep(`sleep ${m}`);
    return p.length === 1 ? p : undefined;
  });
  process.kill(first!, 'SIGKILL');
  await waitFor('a new container', () => {
    const p = pgrep(`sleep ${m}`);
    return p.length === 1 && p[0] !== first;
  });
  const st = await waitFor('restartCount 1 with lastState', async () => {
    const s = (await n.pod('k'))?.status?.containerStatuses?.[0];
    return s?.restartCount === 1 && s.state?.running ? s : undefined;
  });
  assert.equal(st.lastState!.terminated!.exitCode, 137);
  assert.equal(st.lastState!.terminated!.reason, 'Error');

  n.write('crash.yaml', `apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers:
  - name: c
    command: ["sh", "-c", "echo dying; exit 3"]
`);
  const crash = await waitFor('CrashLoopBackOff', async () => {
    const s = (await n.pod('crash'))?.status?.containerStatuses?.[0];
    return s?.state?.waiting?.reason === 'CrashLoopBackOff' && s.restartCount >= 2 ? s : undefined;
  });
  assert.match(crash.state!.waiting!.message!, /^back-off \d+s restarting failed container=c pod=crash-testnode_default\(/);
  assert.equal(crash.lastState!.terminated!.exitCode, 3);
  const pod = await n.pod('crash');
  assert.equal(pod!.status!.phase, 'Running'); // restartPolicy Always: the kubelet reports Running
});

test('restartPolicy Never and OnFailure decide the phase', async (t) => {
  const n = await withNodelet(t);
  const pod = (name: string, policy: string, code: number) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: ${policy}
  containers:
  - name: c
    command: ["sh", "-c", "exit ${code}"]
`;
  n.write('never-fail.yaml', pod('never-fail', 'Never', 4));
  n.write('never-ok.yaml', pod('never-ok', 'Never', 0));
  n.write('onfailure-ok.yaml', pod('onfailure-ok', 'OnFailure', 0));
  await waitFor('Failed', async () => (await n.pod('never-fail'))?.status?.phase === 'Failed');
  await waitFor('Succeeded', async () => (await n.pod('never-ok'))?.status?.phase === 'Succeeded');
  await waitFor('Succeeded', async () => (await n.pod('onfailure-ok'))?.status?.phase === 'Succeeded');
  const failed = (await n.pod('never-fail'))!.status!.containerStatuses![0]!;
  assert.equal(failed.state!.terminated!.exitCode, 4);
  assert.equal(failed.state!.terminated!.reason, 'Error');
  assert.equal(failed.restartCount, 0);
});

test('a process that ignores SIGTERM is killed with SIGKILL after the grace period', async (t) => {
  const n = await withNodelet(t);
  const m = n.track(marker());
  n.write('stubborn.yaml', `apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: c
    command: ["sh", "-c", "trap '' TERM; sleep ${m} & wait; wait"]
`);
  await waitFor('the container', () => pgrep(`sleep ${m}`).length === 1);
  const t0 = Date.now();
  n.remove('stubborn.yaml');
  await waitFor('everything in the process group to be gone', () => pgrep(`sleep ${m}`).length === 0);
  // It cannot die before the SIGKILL, which comes at the end of the 3 s grace period.
  assert.ok(Date.now() - t0 >= 2_500, `killed after ${Date.now() - t0} ms, before the grace period ended`);
});

test('init containers run one by one before the app containers', async (t) => {
  const n = await withNodelet(t);
  const out = path.join(n.dir, 'order.txt');
  n.write('init.yaml', `apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  restartPolicy: Never
  initContainers:
  - name: one
    command: ["sh", "-c", "sleep 0.2; echo one >> ${out}"]
  - name: two
    command: ["sh", "-c", "echo two >> ${out}"]
  containers:
  - name: app
    command: ["sh", "-c", "echo app >> ${out}"]
`);
  await waitFor('Succeeded', async () => (await n.pod('init'))?.status?.phase === 'Succeeded');
  const { readFileSync } = await import('node:fs');
  assert.equal(readFileSync(out, 'utf8'), 'one\ntwo\napp\n');
  const pod = (await n.pod('init'))!;
  assert.deepEqual(pod.status!.initContainerStatuses!.map((s) => s.state!.terminated!.reason), ['Completed', 'Completed']);
});

test('a failing init container is retried, and the app waits for it', async (t) => {
  const n = await withNodelet(t);
  const flag = path.join(n.dir, 'ready');
  const m = n.track(marker());
  n.write('gate.yaml', `apiVersion: v1
kind: Pod
metadata: {name: gate}
spec:
  initContainers:
  - name: wait
    command: ["sh", "-c", "test -f ${flag}"]
  containers:
  - name: app
    command: ["sleep", "${m}"]
`);
  await waitFor('the init container to have failed twice', async () => {
    const s = (await n.pod('gate'))?.status?.initContainerStatuses?.[0];
    return (s?.restartCount ?? 0) >= 1;
  });
  assert.equal(pgrep(`sleep ${m}`).length, 0);
  const pod = (await n.pod('gate'))!;
  assert.equal(pod.status!.phase, 'Pending');
  assert.equal(pod.status!.containerStatuses![0]!.state!.waiting!.reason, 'PodInitializing');
  writeFileSync(flag, '');
  await waitFor('the app container', () => pgrep(`sleep ${m}`).length === 1);
});

test('container logs are written in the CRI format and served by nodelet logs', async (t) => {
  const n = await withNodelet(t);
  const m = n.track(marker());
  n.write('talk.yaml', `apiVersion: v1
kind: Pod
metadata: {name: talk}
spec:
  containers:
  - name: c
    env:
    - {name: WHO, value: world}
    - {name: GREETING, value: "hello $(WHO) $$(WHO)"}
    - name: POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    command: ["sh", "-c", "echo \\"$GREETING\\"; echo to-stderr >&2; printf 'no newline'; echo; echo pod=$POD; exec sleep ${m}"]
`);
  await waitFor('the container', () => pgrep(`sleep ${m}`).length === 1);
  const pod = (await n.pod('talk'))!;
  const rel = `default_talk-testnode_${pod.metadata!.uid}/c/0.log`;
  const content = await waitFor('the log lines', () => {
    const c = n.readLog(rel);
    return c.includes('pod=') ? c : undefined;
  });
  const lines = content.trim().split('\n');
  for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (stdout|stderr) [FP] /);
  assert.ok(lines.some((l) => / stdout F hello world \$\(WHO\)$/.test(l)), content);
  assert.ok(lines.some((l) => / stderr F to-stderr$/.test(l)), content);
  assert.ok(lines.some((l) => / stdout F pod=talk-testnode$/.test(l)), content);
  const out = n.cli(['logs', 'talk', `--root-dir=${n.rootDir}`]);
  assert.match(out, /hello world \$\(WHO\)\n/);
  assert.match(out, /pod=talk-testnode\n/);
  // stdout and stderr are separate pipes, so only the file's own order is the truth for --tail.
  const tail = n.cli(['logs', 'talk-testnode', '--tail=1', `--root-dir=${n.rootDir}`]);
  const last = n.readLog(rel).trim().split('\n').at(-1)!;
  assert.equal(tail, last.split(' ').slice(3).join(' ') + '\n');
});

test('nodelet logs --previous shows the last terminated instance', async (t) => {
  const n = await withNodelet(t);
  const m = n.track(marker());
  const counter = path.join(n.dir, 'count');
  n.write('prev.yaml', `apiVersion: v1
kind: Pod
metadata: {name: prev}
spec:
  containers:
  - name: c
    command: ["sh", "-c", "echo run >> ${counter}; echo attempt-$(wc -l < ${counter}); if [ $(wc -l < ${counter}) -lt 2 ]; then exit 1; fi; exec sleep ${m}"]
`);
  await waitFor('the second attempt', () => pgrep(`sleep ${m}`).length === 1);
  await waitFor('the current log', () => n.cli(['logs', 'prev', `--root-dir=${n.rootDir}`]).includes('attempt-2'));
  assert.equal(n.cli(['logs', 'prev', '--previous', `--root-dir=${n.rootDir}`]), 'attempt-1\n');
});

test('container logs are rotated at --container-log-max-size, keeping --container-log-max-files', async (t) => {
  const n = new Nodelet();
  t.after(() => n.stop());
  // The rotator checks every 10 s, as the kubelet's; the test waits for the condition, not the period.
  n.start(['--container-log-max-size=2Ki', '--container-log-max-files=3']);
  const m = n.track(marker());
  n.write('chatty.yaml', `apiVersion: v1
kind: Pod
metadata: {name: chatty}
spec:
  containers:
  - name: c
    command: ["sh", "-c", "i=0; while [ $i -lt 400 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; exec sleep ${m}"]
`);
  await waitFor('the container', () => pgrep(`sleep ${m}`).length === 1);
  const pod = (await n.pod('chatty'))!;
  const dir = path.join(n.logsDir, `default_chatty-testnode_${pod.metadata!.uid}`, 'c');
  const { readdirSync } = await import('node:fs');
  const files = await waitFor('a rotated file', () => {
    const f = readdirSync(dir);
    return f.some((x) => /^0\.log\.\d{8}-\d{6}/.test(x)) ? f : undefined;
  }, 60_000);
  assert.ok(files.includes('0.log'), files.join(' '));
  assert.ok(files.length <= 3, files.join(' '));
});
