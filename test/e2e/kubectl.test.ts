/**
 * End-to-end: the real kubectl against a lone nodelet's read-only port (`kubectl --server=http://…`),
 * with an empty kubeconfig and a private HOME so no user configuration or cache leaks in.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { freePort, marker, Nodelet, NODE, pgrep, sleepPod, waitFor } from './harness.js';

const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';

/** A nodelet with its read-only port, and kubectl pointed at it. */
interface Cluster {
  n: Nodelet;
  port: number;
  /** Runs kubectl; resolves with stdout, stderr and the exit code (never rejects on a non-zero exit). */
  kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Starts a long-running kubectl (`-w`, `-f`), killed when the test ends. */
  spawnKubectl(args: string[]): { proc: ChildProcess; out: () => string };
}

async function withCluster(t: { after: (fn: () => Promise<void> | void) => void }): Promise<Cluster> {
  const n = new Nodelet();
  t.after(() => n.stop());
  const port = await freePort();
  n.start([`--read-only-port=${port}`]);
  const kubeconfig = path.join(n.dir, 'kubeconfig');
  writeFileSync(kubeconfig, '');
  const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: n.dir };
  const base = [`--server=http://127.0.0.1:${port}`];
  const children: ChildProcess[] = [];
  t.after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  const cluster: Cluster = {
    n,
    port,
    kubectl: (args) =>
      new Promise((resolve) => {
        execFile(KUBECTL, [...base, ...args], { env, timeout: 20_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        });
      }),
    spawnKubectl(args) {
      const proc = spawn(KUBECTL, [...base, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(proc);
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      return { proc, out: () => out };
    },
  };
  await waitFor('the read-only port to answer', async () => (await cluster.kubectl(['get', '--raw', '/healthz'])).stdout === 'ok');
  return cluster;
}

/** kubectl's output as rows of whitespace-separated cells (tables are aligned with spaces). */
function rows(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));
}

async function running(c: Cluster, pod: string, ns = 'default'): Promise<void> {
  await waitFor(`${ns}/${pod} Running`, async () => {
    const r = await c.kubectl(['get', 'pod', pod, '-n', ns, '-o', 'jsonpath={.status.phase}']);
    return r.stdout === 'Running';
  });
}

test('kubectl get: table, -o wide, -o yaml, -o json, -A, -l and --field-selector', async (t) => {
  const c = await withCluster(t);
  const [a, b] = [c.n.track(marker()), c.n.track(marker())];
  c.n.write('web.yaml', sleepPod('web', a).replace('  name: web\n', '  name: web\n  labels: {app: web, tier: front}\n'));
  c.n.write('db.yaml', sleepPod('db', b).replace('  name: db\n', '  name: db\n  namespace: kube-system\n  labels: {app: db}\n'));
  await running(c, `web-${NODE}`);
  await running(c, `db-${NODE}`, 'kube-system');

  const get = await c.kubectl(['get', 'pods']);
  assert.equal(get.code, 0, get.stderr);
  const table = rows(get.stdout);
  assert.deepEqual(table[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  assert.deepEqual(table.slice(1).map((r) => r.slice(0, 4)), [[`web-${NODE}`, '1/1', 'Running', '0']]);

  const wide = rows((await c.kubectl(['get', 'pods', '-A', '-o', 'wide'])).stdout);
  assert.deepEqual(wide[0], ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
  assert.deepEqual(
    wide.slice(1).map((r) => [r[0], r[1], r[7]]),
    [
      ['default', `web-${NODE}`, NODE],
      ['kube-system', `db-${NODE}`, NODE],
    ],
  );

  const yaml = await c.kubectl(['get', 'pod', `web-${NODE}`, '-o', 'yaml']);
  assert.match(yaml.stdout, /^kind: Pod$/m);
  assert.match(yaml.stdout, /^ {2}resourceVersion: "\d+"$/m);
  assert.match(yaml.stdout, /^ {2}phase: Running$/m);
  const json = JSON.parse((await c.kubectl(['get', 'pods', '-A', '-o', 'json'])).stdout) as { items: { metadata: { name: string } }[] };
  assert.deepEqual(
    json.items.map((p) => p.metadata.name),
    [`web-${NODE}`, `db-${NODE}`],
  );

  const byLabel = await c.kubectl(['get', 'pods', '-A', '-l', 'app in (db,cache),!canary', '-o', 'name']);
  assert.equal(byLabel.stdout, `pod/db-${NODE}\n`);
  const notWeb = await c.kubectl(['get', 'pods', '-A', '-l', 'app!=web', '-o', 'name']);
  assert.equal(notWeb.stdout, `pod/db-${NODE}\n`);
  const byField = await c.kubectl(['get', 'pods', '-A', '--field-selector', `status.phase=Running,metadata.namespace=kube-system`, '-o', 'name']);
  assert.equal(byField.stdout, `pod/db-${NODE}\n`);
  const none = await c.kubectl(['get', 'pods', '-A', '--field-selector', 'status.phase=Failed']);
  assert.match(none.stderr, /No resources found/);
  const badField = await c.kubectl(['get', 'pods', '--field-selector', 'spec.foo=x']);
  assert.notEqual(badField.code, 0);
  assert.match(badField.stderr, /field label not supported: spec\.foo/);

  const missing = await c.kubectl(['get', 'pod', 'nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Error from server \(NotFound\): pods "nope" not found/);
});

test('kubectl get -w sees a new pod and its deletion', async (t) => {
  const c = await withCluster(t);
  const [a, b] = [c.n.track(marker()), c.n.track(marker())];
  c.n.write('first.yaml', sleepPod('first', a));
  await running(c, `first-${NODE}`);
  const w = c.spawnKubectl(['get', 'pods', '-w', '--output-watch-events']);
  await waitFor('the watch to list the first pod', () => /ADDED\s+first-/.test(w.out()));
  c.n.write('second.yaml', sleepPod('second', b));
  await waitFor('the new pod in the watch', () => new RegExp(`ADDED\\s+second-${NODE}`).test(w.out()));
  // It may already run when first seen (ADDED) or start afterwards (MODIFIED).
  await waitFor('it to run', () => new RegExp(`(ADDED|MODIFIED)\\s+second-${NODE}\\s+1/1\\s+Running`).test(w.out()));
  c.n.remove('second.yaml');
  await waitFor('the deletion in the watch', () => new RegExp(`DELETED\\s+second-${NODE}`).test(w.out()));
  assert.doesNotMatch(w.out(), /error/i);
  w.proc.kill();
});

test('kubectl describe shows the status, containers and events', async (t) => {
  const c = await withCluster(t);
  const m = c.n.track(marker());
  c.n.write('web.yaml', sleepPod('web', m));
  await running(c, `web-${NODE}`);
  const d = await c.kubectl(['describe', 'pod', `web-${NODE}`]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /^Status:\s+Running$/m);
  assert.match(d.stdout, new RegExp(`^Node:\\s+${NODE}/`, 'm'));
  assert.match(d.stdout, /^ {4}State:\s+Running$/m);
  assert.match(d.stdout, /^Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message/m);
  assert.match(d.stdout, /Normal\s+Started\s+\S+\s+kubelet\s+Started container main/);
});

test('kubectl logs: whole, --tail, -f seeing a new line, and --previous', async (t) => {
  const c = await withCluster(t);
  const m = c.n.track(marker());
  const dir = c.n.dir;
  // First attempt: one line, exit 1. Second attempt: a line, then another once `go` exists.
  c.n.write('talk.yaml', `apiVersion: v1
kind: Pod
metadata: {name: talk}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    command: ["sh", "-c", "echo run >> ${dir}/count; n=$(wc -l < ${dir}/count); echo attempt-$n; if [ $n -lt 2 ]; then exit 1; fi; echo ready; while [ ! -f ${dir}/go ]; do sleep 0.1; done; echo after-go; exec sleep ${m}"]
`);
  const pod = `talk-${NODE}`;
  await waitFor('the second attempt to say ready', async () => (await c.kubectl(['logs', pod])).stdout === 'attempt-2\nready\n');
  assert.equal((await c.kubectl(['logs', pod, '--tail=1'])).stdout, 'ready\n');
  assert.equal((await c.kubectl(['logs', pod, '-c', 'c', '--previous'])).stdout, 'attempt-1\n');
  const ts = (await c.kubectl(['logs', pod, '--timestamps', '--tail=1'])).stdout;
  assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ready\n$/);

  const f = c.spawnKubectl(['logs', '-f', pod]);
  await waitFor('the follower to print what is there', () => f.out().includes('ready\n'));
  writeFileSync(path.join(dir, 'go'), '');
  await waitFor('the new line in the follower', () => f.out().includes('after-go\n'));
  f.proc.kill();

  const wrong = await c.kubectl(['logs', pod, '-c', 'nope']);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /container nope is not valid for pod/);
});

test('kubectl get --raw /metrics, and writes refused with a 405 naming the manifest file', async (t) => {
  const c = await withCluster(t);
  const m = c.n.track(marker());
  c.n.write('web.yaml', sleepPod('web', m));
  await running(c, `web-${NODE}`);
  const metrics = await c.kubectl(['get', '--raw', '/metrics']);
  assert.match(metrics.stdout, /^kubelet_running_pods 1$/m);
  assert.match(metrics.stdout, /^kubelet_pod_start_duration_seconds_count 1$/m);
  assert.match(metrics.stdout, /^kubelet_pod_worker_duration_seconds_count\{operation_type="create"\} \d+$/m);

  const file = path.join(c.n.manifests, 'web.yaml');
  const del = await c.kubectl(['delete', 'pod', `web-${NODE}`]);
  assert.notEqual(del.code, 0);
  assert.match(del.stderr, /Error from server \(MethodNotAllowed\): static pods are managed through the manifest directory/);
  assert.ok(del.stderr.includes(file), del.stderr);
  // apply reads the pod (named `web` in the file, `web-<node>` as served) and then tries to write.
  const apply = await c.kubectl(['apply', '-f', file]);
  assert.notEqual(apply.code, 0);
  assert.match(apply.stderr, /MethodNotAllowed.*static pods are managed through the manifest directory/);
  const label = await c.kubectl(['label', 'pod', `web-${NODE}`, 'x=y']);
  assert.match(label.stderr, /MethodNotAllowed/);
  assert.equal(pgrep(`sleep ${m}`).length, 1, 'the pod still runs');
});

test('50 clients polling /pods while a pod starts: the pod still starts', async (t) => {
  const c = await withCluster(t);
  const m = c.n.track(marker());
  let stop = false;
  let polls = 0;
  const poll = () =>
    new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: c.port, path: '/pods', agent: false }, (res) => {
        res.resume();
        res.on('end', () => {
          polls++;
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end();
    });
  // Each client polls in a loop, bounded so a wedged nodelet cannot keep the test running forever.
  const clients = Array.from({ length: 50 }, async () => {
    for (let i = 0; i < 2_000 && !stop; i++) await poll();
  });
  c.n.write('busy.yaml', sleepPod('busy', m));
  await waitFor('the container under load', () => pgrep(`sleep ${m}`).length === 1);
  await waitFor('the pod Running under load', async () => (await c.n.pod('busy'))?.status?.phase === 'Running');
  stop = true;
  await Promise.all(clients);
  assert.ok(polls >= 50, `only ${polls} polls were answered`);
});

test('nodelet pods, ps -a, inspect and version agree with kubectl', async (t) => {
  const c = await withCluster(t);
  const m = c.n.track(marker());
  c.n.write('web.yaml', sleepPod('web', m));
  c.n.write('once.yaml', `apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  containers:
  - name: c
    command: ["sh", "-c", "exit 0"]
`);
  await running(c, `web-${NODE}`);
  await waitFor('once to complete', async () => (await c.n.pod('once'))?.status?.phase === 'Succeeded');
  const root = `--root-dir=${c.n.rootDir}`;
  const pods = rows(c.n.cli(['pods', root]));
  assert.deepEqual(pods[0], ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
  assert.deepEqual(
    pods.slice(1).map((r) => [r[1], r[3]]),
    [
      [`once-${NODE}`, 'Completed'],
      [`web-${NODE}`, 'Running'],
    ],
  );
  const kubectlStatus = rows((await c.kubectl(['get', 'pods'])).stdout).slice(1).map((r) => [r[0], r[2]]);
  assert.deepEqual(kubectlStatus, pods.slice(1).map((r) => [r[1], r[3]]));

  assert.doesNotMatch(c.n.cli(['ps', root]), /once-/, 'ps shows running containers only');
  assert.match(c.n.cli(['ps', '-a', root]), new RegExp(`once-${NODE}\\s+c\\s+.*Exited \\(0\\) Completed`));

  const inspect = c.n.cli(['inspect', 'web', root]);
  assert.match(inspect, /^kind: Pod$/m);
  assert.match(inspect, /^ {2}phase: Running$/m);
  assert.match(inspect, /^# {3}Normal\s+Started\s+.*Started container main$/m);
  const list = JSON.parse(c.n.cli(['inspect', 'web', '-o', 'json', root])) as { items: { kind: string }[] };
  assert.equal(list.items[0]!.kind, 'Pod');
  assert.ok(list.items.some((i) => i.kind === 'Event'));

  assert.match(c.n.cli(['version', root]), /^Client Version: v\d+\.\d+\.\d+.*\nAgent Version: v\d+\.\d+\.\d+/);
});
