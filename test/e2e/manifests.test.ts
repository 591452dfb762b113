import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { BIN, marker, Nodelet, pgrep, sleepPod, waitFor } from './harness.js';

function fresh(t: { after: (fn: () => Promise<void>) => void }): Nodelet {
  const n = new Nodelet();
  t.after(() => n.stop());
  return n;
}

test('a foreign kind is refused with file, line and column, and backup files never run', async (t) => {
  const n = fresh(t).start();
  const bak = n.track(marker());
  const ok = n.track(marker());
  n.write('dep.yaml', `apiVersion: apps/v1
kind: Deployment
metadata: {name: dep}
spec: {}
`);
  n.write('web.yaml.bak', sleepPod('bak', bak));
  n.write('.hidden.yaml', sleepPod('hidden', bak));
  n.write('web.yaml', sleepPod('web', ok));
  await waitFor('the good pod', () => pgrep(`sleep ${ok}`).length === 1);
  await n.waitForOutput(/dep\.yaml:2:7: kind Deployment is not supported: static pods can only be Pods/);
  await n.waitForOutput(/web\.yaml\.bak/);
  assert.equal(pgrep(`sleep ${bak}`).length, 0);
  assert.doesNotMatch(n.output, /\.hidden\.yaml/);
  assert.equal((await n.pods()).length, 1);
});

test('a bad edit keeps the running pod, and fixing the file applies it', async (t) => {
  const n = fresh(t).start();
  const [a, b] = [n.track(marker()), n.track(marker())];
  n.write('etcd.yaml', sleepPod('etcd', a));
  await waitFor('the pod', () => pgrep(`sleep ${a}`).length === 1);
  const [pid] = pgrep(`sleep ${a}`);
  n.write('etcd.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: etcd\nspec: [\n');
  await n.waitForOutput('keeping the last good pod');
  n.write('etcd.yaml', sleepPod('etcd', a).replace('containers:', 'containers: 7\n  x:'));
  await waitFor('a second error', () => n.output.split('keeping the last good pod').length >= 3);
  assert.deepEqual(pgrep(`sleep ${a}`), [pid], 'the running pod was touched by a bad edit');
  n.write('etcd.yaml', sleepPod('etcd', b));
  await waitFor('the fixed pod', () => pgrep(`sleep ${b}`).length === 1);
  await waitFor('the old pod gone', () => pgrep(`sleep ${a}`).length === 0);
});

test('a new invalid manifest starts nothing and its errors name the field', async (t) => {
  const n = fresh(t).start();
  n.write('bad.yaml', `apiVersion: v1
kind: Pod
metadata: {name: Bad_Name}
spec:
  restartPolicy: Sometimes
  containers:
  - name: c
    command: ["true"]
    ports: [{containerPort: 70000}]
`);
  await n.waitForOutput('no pod started');
  assert.match(n.output, /bad\.yaml:3:\d+: .*Bad_Name/);
  assert.match(n.output, /Sometimes/);
  assert.match(n.output, /70000/);
  assert.equal((await n.pods()).length, 0);
  const v = spawnSync(process.execPath, [BIN, 'validate', path.join(n.manifests, 'bad.yaml')], { encoding: 'utf8' });
  assert.equal(v.status, 1);
  assert.match(v.stdout, /bad\.yaml:3:\d+:/);
});

test('two files with the same pod: the first in name order wins, the other is reported', async (t) => {
  const n = fresh(t);
  const [a, b] = [n.track(marker()), n.track(marker())];
  n.write('1-first.yaml', sleepPod('same', a));
  n.write('2-second.yaml', sleepPod('same', b));
  n.start();
  await waitFor('the first', () => pgrep(`sleep ${a}`).length === 1);
  await n.waitForOutput(/Duplicate pod name.*2-second\.yaml|2-second\.yaml.*Duplicate pod name/);
  assert.equal(pgrep(`sleep ${b}`).length, 0);
  // validate says the same of the directory, and fails.
  const v = spawnSync(process.execPath, [BIN, 'validate', n.manifests], { encoding: 'utf8' });
  assert.equal(v.status, 1);
  assert.match(v.stdout, /1-first\.yaml: ok \(pod default\/same-\S+\)/);
  assert.match(v.stdout, /2-second\.yaml: duplicate pod name default\/same-\S+, already defined by \S+1-first\.yaml: nodelet runs the first in file-name order/);
  assert.equal((await n.pods()).length, 1);
});

test('renaming a manifest replaces its pod; a missing directory is picked up when it appears', async (t) => {
  const n = fresh(t);
  const later = path.join(n.dir, 'later');
  n.start([], { manifestPath: later });
  await n.waitForOutput('does not exist yet');
  const m = n.track(marker());
  mkdirSync(later);
  writeFileSync(path.join(later, 'x.yaml'), sleepPod('x', m));
  await waitFor('the pod from the new directory', () => pgrep(`sleep ${m}`).length === 1, 40_000);
  const uid = (await n.pod('x'))!.metadata!.uid;
  renameSync(path.join(later, 'x.yaml'), path.join(later, 'x.yml'));
  await waitFor('a new pod for the renamed file', async () => {
    const p = await n.pod('x');
    return p && p.metadata!.uid !== uid && p.status?.phase === 'Running';
  });
  assert.equal(pgrep(`sleep ${m}`).length, 1);
});

test('symlinked manifests and a ..data directory swap work', async (t) => {
  const n = fresh(t);
  const [a, b] = [n.track(marker()), n.track(marker())];
  const d1 = path.join(n.manifests, '..2026_1');
  const d2 = path.join(n.manifests, '..2026_2');
  mkdirSync(d1);
  mkdirSync(d2);
  writeFileSync(path.join(d1, 'cm.yaml'), sleepPod('cm', a));
  writeFileSync(path.join(d2, 'cm.yaml'), sleepPod('cm', b));
  symlinkSync('..2026_1', path.join(n.manifests, '..data'));
  symlinkSync('..data/cm.yaml', path.join(n.manifests, 'cm.yaml'));
  n.start();
  await waitFor('the pod through the symlinks', () => pgrep(`sleep ${a}`).length === 1);
  // The atomic swap of kubelet ConfigMap volumes: a new link renamed over ..data.
  symlinkSync('..2026_2', path.join(n.manifests, '..data_tmp'));
  renameSync(path.join(n.manifests, '..data_tmp'), path.join(n.manifests, '..data'));
  await waitFor('the swapped pod', () => pgrep(`sleep ${b}`).length === 1);
  await waitFor('the old one gone', () => pgrep(`sleep ${a}`).length === 0);
});

test('a file written in several chunks never yields a pod from half a file', async (t) => {
  const n = fresh(t).start();
  const m = n.track(marker());
  const full = sleepPod('chunky', m);
  // Cut where the prefix is itself a valid pod with another command: a half-read would run `sleep 1<m>`.
  const cut = full.indexOf(m) + 1;
  const fd = openSync(path.join(n.manifests, 'chunky.yaml'), 'w');
  writeSync(fd, full.slice(0, cut));
  await new Promise((r) => setImmediate(r));
  writeSync(fd, full.slice(cut));
  closeSync(fd);
  await waitFor('the pod', () => pgrep(`sleep ${m}`).length === 1);
  assert.equal(pgrep(`sleep ${m.slice(0, 1)}`).length, 0);
  assert.equal((await n.pod('chunky'))!.status!.containerStatuses![0]!.restartCount, 0);
  assert.doesNotMatch(n.output, /chunky\.yaml.*(no pod started|keeping)/);
});

test('pods beyond --max-pods are refused with OutOfpods', async (t) => {
  const n = fresh(t);
  const ms = [n.track(marker()), n.track(marker()), n.track(marker())];
  ms.forEach((m, i) => n.write(`p${i}.yaml`, sleepPod(`p${i}`, m)));
  n.start(['--max-pods=2']);
  await waitFor('two pods running', () => ms.filter((m) => pgrep(`sleep ${m}`).length === 1).length === 2);
  const rejected = await waitFor('one rejected', async () => (await n.pods()).find((p) => p.status?.reason === 'OutOfpods'));
  assert.equal(rejected.status!.phase, 'Failed');
  assert.equal(ms.filter((m) => pgrep(`sleep ${m}`).length === 1).length, 2);
  n.remove('p0.yaml');
  await waitFor('the refused pod admitted once there is room', async () => ms.filter((m) => pgrep(`sleep ${m}`).length === 1).length === 2 && !(await n.pods()).some((p) => p.status?.reason === 'OutOfpods'));
});

test('bad configuration stops start-up with one clear line', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'run', '--read-only-port=0', ...args], { encoding: 'utf8' });
  let r = run('--file-check-frequency=-5s');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--file-check-frequency/);
  r = run('--pod-manifest-pat=/tmp/x');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /did you mean --pod-manifest-path/);
  r = run('--config=/nonexistent/kubelet.yaml');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /\/nonexistent\/kubelet\.yaml/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('a kubelet.service command line starts nodelet unchanged', async (t) => {
  const n = fresh(t);
  const m = n.track(marker());
  n.write('k.yaml', sleepPod('k', m));
  n.start([
    '--container-runtime=remote',
    '--network-plugin=cni',
    '--register-node=true',
    '--v=2',
  ]);
  await waitFor('the pod', () => pgrep(`sleep ${m}`).length === 1);
  assert.match(n.output, /container-runtime/);
  assert.match(n.output, /network-plugin/);
  const cfg = execFileSync(process.execPath, [BIN, 'config', `--pod-manifest-path=${n.manifests}`, '--max-pods=7'], { encoding: 'utf8' });
  assert.match(cfg, /maxPods.*7.*--max-pods/s);
  rmSync(path.join(n.manifests, 'k.yaml'));
  await waitFor('the pod gone', () => pgrep(`sleep ${m}`).length === 0);
});

test('validate warns about an unknown field with a suggestion and still exits 0', (t) => {
  // No agent needed: only the temp directory of a Nodelet is used.
  const n = fresh(t);
  n.write('typo.yaml', sleepPod('typo', marker()).replace('    command:', '    comand:'));
  const v = spawnSync(process.execPath, [BIN, 'validate', path.join(n.manifests, 'typo.yaml')], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /typo\.yaml:11:5: warning: unknown field "spec\.containers\[0\]\.comand" \(did you mean "command"\?\)/);
  assert.match(v.stdout, /typo\.yaml: ok/);
});
