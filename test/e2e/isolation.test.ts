// The process runtime's bubblewrap sandbox, end to end: volumes at their mountPath (hostPath shared by
// two pods at different paths, emptyDir shared by two containers, downwardAPI, readOnly refused),
// runAsUser and groups, a private pid namespace, the pod's hostname, exec probes inside; a kill -9 of
// nodelet leaves sandboxed containers running and they are adopted; without bwrap, a pod whose mounts
// a host process cannot honour waits with a clear CreateContainerConfigError. The sandbox tests are
// skipped, with bwrap's own reason, only where the kernel refuses to create one.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Pod } from '../../src/api/types.js';
import { probeBwrap } from '../../src/runtime/process/isolation/tools.js';
import { isAlive, marker, Nodelet, NODE, pgrep, waitFor } from './harness.js';

const support = await probeBwrap(process.env.PATH);
const skip = support.available ? false : `bwrap cannot create a sandbox here: ${support.detail}`;

function withNodelet(t: { after: (fn: () => Promise<void>) => void }, args: string[] = []): Nodelet {
  const n = new Nodelet();
  t.after(() => n.stop());
  return n.start(args);
}

/** The stdout lines a container has logged so far (attempt 0). */
function stdoutOf(n: Nodelet, pod: string, container: string): string[] {
  const podDir = existsSync(n.logsDir) ? readdirSync(n.logsDir).find((d) => d.startsWith(`default_${pod}-${NODE}_`)) : undefined;
  if (!podDir) return [];
  let text = '';
  try {
    text = readFileSync(path.join(n.logsDir, podDir, container, '0.log'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.includes(' stdout F '))
    .map((l) => l.slice(l.indexOf(' stdout F ') + 10));
}

/** Waits until a container has logged a line starting with `prefix`, and returns the rest of it. */
async function logged(n: Nodelet, pod: string, container: string, prefix: string): Promise<string> {
  const line = await waitFor(`${pod}/${container} to log ${prefix}`, () => stdoutOf(n, pod, container).find((l) => l.startsWith(prefix)));
  return line.slice(prefix.length);
}

const ready = (p: Pod | undefined) => p?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

test('volumes are mounted where the spec says, read-only ones refuse writes; runAsUser, pid namespace and hostname are the pod’s', { skip }, async (t) => {
  const n = withNodelet(t);
  const [m1, m2, m3, m4] = [n.track(marker()), n.track(marker()), n.track(marker()), n.track(marker())];
  const d = n.dir;
  // Every mountPath is under the test's own directory: a sandbox creates missing mount points in the
  // host's root (empty), and a test must not leave any elsewhere.
  n.write(
    'volumes.yaml',
    `apiVersion: v1
kind: Pod
metadata: {name: volumes, labels: {app: demo}}
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - {name: cache, emptyDir: {}}
  - name: podinfo
    downwardAPI: {items: [{path: name, fieldRef: {fieldPath: metadata.name}}, {path: app, fieldRef: {fieldPath: "metadata.labels['app']"}}]}
  - {name: shared, hostPath: {path: ${d}/shared, type: DirectoryOrCreate}}
  containers:
  - name: producer
    command: ["sh", "-c", "echo token-1 > ${d}/p-cache/token; echo from-producer > ${d}/view-w/msg; echo wrote; exec sleep ${m1}"]
    volumeMounts:
    - {name: cache, mountPath: ${d}/p-cache}
    - {name: shared, mountPath: ${d}/view-w}
  - name: consumer
    command: ["sh", "-c", "until [ -f ${d}/c-cache/token ]; do sleep 0.05; done; echo cache=$(cat ${d}/c-cache/token); echo name=$(cat ${d}/info/name) app=$(cat ${d}/info/app); exec sleep ${m2}"]
    readinessProbe: {exec: {command: [cat, "${d}/c-cache/token"]}, periodSeconds: 1}
    volumeMounts:
    - {name: cache, mountPath: ${d}/c-cache}
    - {name: podinfo, mountPath: ${d}/info, readOnly: true}
`,
  );
  n.write(
    'reader.yaml',
    `apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  terminationGracePeriodSeconds: 2
  securityContext: {supplementalGroups: [4000]}
  volumes:
  - {name: shared, hostPath: {path: ${d}/shared, type: DirectoryOrCreate}}
  containers:
  - name: main
    command: ["sh", "-c", "until [ -f ${d}/view-r/msg ]; do sleep 0.05; done; echo msg=$(cat ${d}/view-r/msg); echo x > ${d}/view-r/new || echo write=refused; exec sleep ${m3}"]
    volumeMounts:
    - {name: shared, mountPath: ${d}/view-r, readOnly: true}
  - name: whoami
    securityContext: {runAsUser: 1000, runAsGroup: 3000}
    command: ["sh", "-c", "echo id=$(id -u):$(id -g):$(id -G); echo pid=$$$$; echo host=$(hostname); exec sleep ${m4}"]
`,
  );

  await n.waitForOutput(/Process isolation: bwrap/);
  // hostPath: written by one pod at one path, read by another at another path, on the host at neither.
  assert.equal(await logged(n, 'reader', 'main', 'msg='), 'from-producer');
  assert.equal(readFileSync(path.join(d, 'shared', 'msg'), 'utf8'), 'from-producer\n');
  assert.equal(existsSync(path.join(d, 'view-w', 'msg')), false, 'the write went to the host path of the mount point');
  // readOnly: refused by the kernel, not by convention.
  await logged(n, 'reader', 'main', 'write=refused');
  assert.equal(existsSync(path.join(d, 'shared', 'new')), false);
  assert.match(readFileSync(path.join(n.logsDir, readdirSync(n.logsDir).find((x) => x.startsWith(`default_reader-${NODE}_`))!, 'main', '0.log'), 'utf8'), /Read-only file system/);

  // emptyDir shared by two containers at two paths; downwardAPI files at their mountPath.
  assert.equal(await logged(n, 'volumes', 'consumer', 'cache='), 'token-1');
  assert.equal(await logged(n, 'volumes', 'consumer', 'name='), `volumes-${NODE} app=demo`);
  // The exec readiness probe runs inside the sandbox: the token exists only at the mountPath.
  await waitFor('volumes Ready (exec probe inside the sandbox)', async () => ready(await n.pod('volumes')));

  // runAsUser/runAsGroup with the pod's supplementalGroups; pid 2 under bwrap's init ($$$$: a spec's
  // $$ is an escaped $); hostname = pod name.
  assert.equal(await logged(n, 'reader', 'whoami', 'id='), '1000:3000:3000 4000');
  assert.equal(await logged(n, 'reader', 'whoami', 'pid='), '2');
  assert.equal(await logged(n, 'reader', 'whoami', 'host='), `reader-${NODE}`);

  // The emptyDir lives under the pod's directory and goes with the pod.
  const uid = (await n.pod('volumes'))!.metadata!.uid!;
  const podDir = path.join(n.rootDir, 'pods', uid);
  assert.equal(readFileSync(path.join(podDir, 'volumes', 'kubernetes.io~empty-dir', 'cache', 'token'), 'utf8'), 'token-1\n');
  n.remove('volumes.yaml');
  await waitFor('the pod to stop', () => pgrep(`sleep ${m1}`).length + pgrep(`sleep ${m2}`).length === 0);
  await waitFor("the pod's volumes to be removed", () => !existsSync(podDir));
});

test('kill -9 of nodelet leaves sandboxed containers running and a restart adopts them; they die with their supervisor', { skip }, async (t) => {
  const n = withNodelet(t);
  const m = n.track(marker());
  const d = n.dir;
  n.write(
    'sandboxed.yaml',
    `apiVersion: v1
kind: Pod
metadata: {name: sandboxed}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: scratch, emptyDir: {}}]
  containers:
  - name: main
    command: ["sh", "-c", "touch ${d}/scratch/ready; exec sleep ${m}"]
    readinessProbe: {exec: {command: [test, -f, "${d}/scratch/ready"]}, periodSeconds: 1}
    volumeMounts: [{name: scratch, mountPath: ${d}/scratch}]
`,
  );
  const before = await waitFor('sandboxed Ready', async () => {
    const p = await n.pod('sandboxed');
    return ready(p) ? p!.status!.containerStatuses![0]! : undefined;
  });
  const [pid] = pgrep(`sleep ${m}`);
  assert.ok(pid);
  // In a pid namespace of its own: a sandbox, not a host process.
  assert.notEqual(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync('/proc/self/ns/pid'));

  await n.kill('SIGKILL');
  assert.ok(isAlive(pid), 'the container died with nodelet');
  n.start();
  const after = await waitFor('the pod to be adopted and Ready again', async () => {
    const p = await n.pod('sandboxed');
    return ready(p) ? p!.status!.containerStatuses![0]! : undefined;
  });
  assert.equal(after.containerID, before.containerID);
  assert.equal(after.restartCount, 0);
  assert.equal(after.state!.running!.startedAt, before.state!.running!.startedAt);
  assert.deepEqual(pgrep(`sleep ${m}`), [pid], 'the container was restarted or duplicated');
  assert.match(n.output, /Adopted the pod from the runtime/);

  // The supervisor is the sandboxes' parent (--die-with-parent): if it dies they go at once, and the
  // next supervisor reports them lost (ContainerStatusUnknown) and they are restarted.
  const supervisor = n.supervisorPid();
  assert.ok(supervisor);
  process.kill(supervisor, 'SIGKILL');
  await waitFor('the sandbox to die with its supervisor', () => !isAlive(pid));
  const restarted = await waitFor('the container to be restarted', async () => {
    const c = (await n.pod('sandboxed'))?.status?.containerStatuses?.[0];
    return c?.restartCount === 1 && c.state?.running ? c : undefined;
  });
  assert.equal(restarted.lastState!.terminated!.reason, 'ContainerStatusUnknown');
  assert.equal(restarted.lastState!.terminated!.exitCode, 137);
  const [again] = await waitFor('the new sandbox', () => (pgrep(`sleep ${m}`).length === 1 ? pgrep(`sleep ${m}`) : undefined));

  // Stopping it still works through the sandbox: SIGTERM reaches sleep.
  n.remove('sandboxed.yaml');
  await waitFor('the container to stop', () => !isAlive(again!));
});

test('without bwrap, a pod whose volumes a host process cannot see at their mountPath waits with CreateContainerConfigError', async (t) => {
  // A PATH with everything but bwrap: nodelet and its supervisor find no bwrap, as on a host without it.
  const n = new Nodelet();
  t.after(() => n.stop());
  const bin = path.join(n.dir, 'bin');
  mkdirSync(bin);
  for (const dir of new Set((process.env.PATH ?? '').split(':').filter(Boolean))) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name === 'bwrap' || existsSync(path.join(bin, name))) continue;
      symlinkSync(path.join(dir, name), path.join(bin, name));
    }
  }
  const savedPath = process.env.PATH;
  process.env.PATH = bin;
  try {
    n.start();
  } finally {
    process.env.PATH = savedPath;
  }
  const [plain, mounted] = [n.track(marker()), n.track(marker())];
  n.write(
    'plain.yaml',
    `apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: logs, hostPath: {path: ${n.dir}/plain-logs, type: DirectoryOrCreate}}]
  containers:
  - name: main
    command: ["sh", "-c", "exec sleep ${plain}"]
    volumeMounts: [{name: logs, mountPath: ${n.dir}/plain-logs}]
`,
  );
  n.write(
    'mounted.yaml',
    `apiVersion: v1
kind: Pod
metadata: {name: mounted}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: cache, emptyDir: {}}]
  containers:
  - name: main
    command: ["sh", "-c", "exec sleep ${mounted}"]
    volumeMounts: [{name: cache, mountPath: /cache}]
`,
  );
  await n.waitForOutput(/Process isolation: none, bwrap is not usable here/);
  // A hostPath at its own path, read-write, is what a host process sees: it runs as before.
  await waitFor('the plain pod to run', () => pgrep(`sleep ${plain}`).length === 1);
  const waiting = await waitFor('the mounted pod to wait', async () => (await n.pod('mounted'))?.status?.containerStatuses?.[0]?.state?.waiting);
  assert.equal(waiting.reason, 'CreateContainerConfigError');
  assert.match(waiting.message!, /container main: a volume mounted at \/cache is \/.*kubernetes\.io~empty-dir\/cache on this host/);
  assert.match(waiting.message!, /bwrap is not usable here: bwrap was not found in PATH/);
  assert.match(waiting.message!, /bubblewrap would mount it as asked: apt-get install bubblewrap/);
  assert.equal(pgrep(`sleep ${mounted}`).length, 0);
  assert.equal(existsSync('/cache'), false, 'a mount point was created on the host');
});
